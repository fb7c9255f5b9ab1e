//! Writing a planned file: the one place where importers turn their plan into commands and
//! send them through the gateway in one atomic batch. New pupils are registered here, by
//! `register_pupils`, and nowhere else: how a data key is minted and stored before the
//! `PupilRegistered` event changes in one place.

use super::{batch_failure, FileReport};
use anyhow::Context;
use chrono::{DateTime, Utc};
use suivi_domain::events::PupilRegistered;
use suivi_domain::identity::{seal, PupilIdentity, Sealed};
use suivi_domain::ids::{CorrelationId, PupilId, SchoolId};
use suivi_domain::{Actor, Command, Metadata};
use suivi_projections::gateway::{fresh_key_material, Gateway};
use suivi_store::EventStore;

/// What to do for an item of a file, in order.
pub enum Step {
    Command(Command),
    /// Register a pupil: `register_pupils` mints their key and seals the identity.
    NewPupil {
        pupil_id: PupilId,
        external_id: String,
        identity: PupilIdentity,
    },
}

/// One planned write and the line of the file it comes from.
pub struct Planned {
    pub line: usize,
    pub occurred_at: DateTime<Utc>,
    pub step: Step,
}

/// A seal to decide `RegisterPupil` with while planning: the real one needs the key, which
/// is only minted once the whole file is known to be good.
pub fn stand_in_seal() -> Sealed {
    Sealed {
        nonce: "00".repeat(24),
        ciphertext: "00".repeat(16),
    }
}

/// A pupil to register, identity in clear (it is sealed here, never written so).
pub struct NewPupil {
    pub pupil_id: PupilId,
    pub external_id: String,
    pub identity: PupilIdentity,
}

/// The `RegisterPupil` commands of new pupils: mints each one's data key, stores the keys
/// in the key table (concurrently, so the store commits them together), and seals each
/// identity with its key.
pub async fn register_pupils(
    store: &dyn EventStore,
    pupils: Vec<NewPupil>,
) -> anyhow::Result<Vec<Command>> {
    let keyed: Vec<_> = pupils
        .into_iter()
        .map(|p| (p, fresh_key_material()))
        .collect();
    futures::future::try_join_all(
        keyed
            .iter()
            .map(|(p, (key, _))| store.put_key(p.pupil_id, key.clone())),
    )
    .await
    .context("storing the data keys of new pupils")?;
    Ok(keyed
        .into_iter()
        .map(|(p, (key, nonce))| {
            Command::RegisterPupil(PupilRegistered {
                pupil_id: p.pupil_id,
                external_id: p.external_id,
                identity: seal(&key, nonce, p.pupil_id, &p.identity),
            })
        })
        .collect())
}

/// Writes the planned items as one batch, all or nothing, and records the outcome in
/// `report` (a batch refused because the log changed meanwhile names the item's line).
pub async fn write_plan(
    gateway: &Gateway,
    school_id: SchoolId,
    actor: &str,
    items: Vec<Planned>,
    report: &mut FileReport,
) -> anyhow::Result<()> {
    if items.is_empty() {
        report.written = true;
        return Ok(());
    }
    let new_pupils: Vec<NewPupil> = items
        .iter()
        .filter_map(|item| match &item.step {
            Step::NewPupil {
                pupil_id,
                external_id,
                identity,
            } => Some(NewPupil {
                pupil_id: *pupil_id,
                external_id: external_id.clone(),
                identity: identity.clone(),
            }),
            Step::Command(_) => None,
        })
        .collect();
    let mut registrations = register_pupils(gateway.store().as_ref(), new_pupils)
        .await?
        .into_iter();
    let correlation = CorrelationId(uuid::Uuid::now_v7());
    let mut batch = Vec::with_capacity(items.len());
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let command = match item.step {
            Step::Command(command) => command,
            Step::NewPupil { pupil_id, .. } => registrations
                .next()
                .with_context(|| format!("no registration for pupil {pupil_id}"))?,
        };
        let meta = Metadata {
            school_id,
            actor: Actor::Importer(actor.into()),
            occurred_at: item.occurred_at,
            correlation_id: Some(correlation),
            causation_id: None,
        };
        lines.push(item.line);
        batch.push((meta, command));
    }
    match gateway.execute_batch(batch).await {
        Ok(executed) => report.record(&executed),
        Err(error) => report.errors.push(batch_failure(error, &lines)?),
    }
    Ok(())
}
