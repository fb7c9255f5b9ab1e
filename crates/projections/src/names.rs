//! Pupils' names, opened at read time.
//!
//! Read models hold a pupil's external id and their `Sealed` identity, never the name in
//! clear. `KeyRing` fetches the pupil's key from the store's key table (`get_key`), keeps it
//! in a small cache, and opens the identity when a dashboard is rendered. A pupil whose key
//! was destroyed (erasure under the RGPD) shows as "Élève effacé". Names are never logged,
//! and `PupilName`'s `Debug` does not print them.
//!
//! Cached keys expire after `ttl` (60 s by default) so that an erasure done through another
//! server is seen within that time; `forget` drops a pupil's key at once.

use crate::model::ReadModels;
use crate::reference::PupilInfo;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use suivi_domain::identity::{open, PupilIdentity, PupilKey};
use suivi_domain::ids::PupilId;
use suivi_store::{EventStore, StoreError};

/// What a dashboard shows for a pupil whose key was destroyed.
pub const ERASED_PUPIL: &str = "Élève effacé";
/// What it shows when the identity does not open with the pupil's key (tampered data).
pub const UNREADABLE_PUPIL: &str = "Identité illisible";

#[derive(Clone, PartialEq, Eq)]
pub enum PupilName {
    Known(PupilIdentity),
    /// The key is gone: the identity can never be opened again.
    Erased,
    /// The key does not open the identity.
    Unreadable,
}

impl PupilName {
    /// "NOM Prénom", or "Élève effacé".
    pub fn display(&self) -> String {
        match self {
            PupilName::Known(identity) => identity.display_name(),
            PupilName::Erased => ERASED_PUPIL.to_owned(),
            PupilName::Unreadable => UNREADABLE_PUPIL.to_owned(),
        }
    }

    pub fn identity(&self) -> Option<&PupilIdentity> {
        match self {
            PupilName::Known(identity) => Some(identity),
            _ => None,
        }
    }
}

impl fmt::Debug for PupilName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PupilName::Known(_) => f.write_str("PupilName::Known(…)"),
            PupilName::Erased => f.write_str("PupilName::Erased"),
            PupilName::Unreadable => f.write_str("PupilName::Unreadable"),
        }
    }
}

/// Opens a sealed identity with a key (or none). Pure.
pub fn open_name(pupil: &PupilInfo, key: Option<&PupilKey>) -> PupilName {
    match key {
        None => PupilName::Erased,
        Some(key) => match open::<PupilIdentity>(key, pupil.pupil_id, &pupil.identity) {
            Ok(identity) => PupilName::Known(identity),
            Err(_) => PupilName::Unreadable,
        },
    }
}

struct Cached {
    key: Option<PupilKey>,
    fetched: Instant,
}

/// Resolves pupils' names with their keys from the store, cached.
pub struct KeyRing {
    store: Arc<dyn EventStore>,
    ttl: Duration,
    cache: Mutex<HashMap<PupilId, Cached>>,
    /// How many keys this process has forgotten: whatever was derived from a name before
    /// the last `forget` (a cached answer, say) is stale when this has moved.
    forgotten: AtomicU64,
}

impl KeyRing {
    pub fn new(store: Arc<dyn EventStore>) -> KeyRing {
        KeyRing::with_ttl(store, Duration::from_secs(60))
    }

    pub fn with_ttl(store: Arc<dyn EventStore>, ttl: Duration) -> KeyRing {
        KeyRing {
            store,
            ttl,
            cache: Mutex::new(HashMap::new()),
            forgotten: AtomicU64::new(0),
        }
    }

    /// How long a key read from the store is trusted: an erasure made by another process
    /// reaches this one's names within this time.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Moves each time a key is forgotten (see the field).
    pub fn generation(&self) -> u64 {
        self.forgotten.load(Ordering::Acquire)
    }

    fn cached(&self, pupil: PupilId) -> Option<Option<PupilKey>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&pupil)
            .filter(|c| c.fetched.elapsed() < self.ttl)
            .map(|c| c.key.clone())
    }

    /// The pupil's key (`None` when destroyed or never stored).
    pub async fn key(&self, pupil: PupilId) -> Result<Option<PupilKey>, StoreError> {
        if let Some(key) = self.cached(pupil) {
            return Ok(key);
        }
        let key = self.store.get_key(pupil).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(
            pupil,
            Cached {
                key: key.clone(),
                fetched: Instant::now(),
            },
        );
        Ok(key)
    }

    /// Drops a pupil's cached key (after erasing them, for instance).
    pub fn forget(&self, pupil: PupilId) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.remove(&pupil);
        self.forgotten.fetch_add(1, Ordering::AcqRel);
    }

    /// The name of a pupil of the read models; `None` for an unknown pupil.
    pub async fn name(
        &self,
        models: &ReadModels,
        pupil: PupilId,
    ) -> Result<Option<PupilName>, StoreError> {
        let Some(info) = models.reference().pupil(pupil) else {
            return Ok(None);
        };
        let key = self.key(pupil).await?;
        Ok(Some(open_name(info, key.as_ref())))
    }

    /// The names of several pupils (unknown pupils are left out).
    pub async fn names(
        &self,
        models: &ReadModels,
        pupils: &[PupilId],
    ) -> Result<HashMap<PupilId, PupilName>, StoreError> {
        let mut names = HashMap::with_capacity(pupils.len());
        for pupil in pupils {
            if let Some(name) = self.name(models, *pupil).await? {
                names.insert(*pupil, name);
            }
        }
        Ok(names)
    }
}
