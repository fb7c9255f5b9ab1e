//! Pupils' names for the report, opened with their keys from the store. A pupil whose key
//! was destroyed shows as "Élève effacé". Names are never logged.

use crate::error::Result;
use crate::log::Log;
use std::collections::HashMap;
use suivi_domain::identity::{open, PupilIdentity};
use suivi_domain::ids::PupilId;
use suivi_store::EventStore;

pub const ERASED: &str = "Élève effacé";
pub const UNREADABLE: &str = "Identité illisible";

/// "NOM Prénom" by pupil.
pub type PupilNames = HashMap<PupilId, String>;

/// Opens the names of `pupils`.
pub async fn pupil_names(
    store: &dyn EventStore,
    log: &Log,
    pupils: &[PupilId],
) -> Result<PupilNames> {
    let mut names = HashMap::with_capacity(pupils.len());
    for pupil in pupils {
        let name = match (store.get_key(*pupil).await?, log.identity(*pupil)) {
            (Some(key), Some(sealed)) => match open::<PupilIdentity>(&key, *pupil, sealed) {
                Ok(identity) => identity.display_name(),
                Err(_) => UNREADABLE.to_owned(),
            },
            (None, _) => ERASED.to_owned(),
            (Some(_), None) => UNREADABLE.to_owned(),
        };
        names.insert(*pupil, name);
    }
    Ok(names)
}
