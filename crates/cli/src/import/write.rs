//! Writing a planned file: the one place where importers turn their plan into commands and
//! send them through the gateway in one atomic batch. New pupils are registered here and
//! nowhere else: each one's data key is minted here and stored by the gateway in the same
//! commit as the batch (`execute_batch_keyed`), so a refused file leaves no key behind.

use super::{batch_failure, FileReport};
use chrono::{DateTime, Utc};
use suivi_domain::identity::{PupilIdentity, Sealed};
use suivi_domain::ids::{CorrelationId, PupilId, SchoolId};
use suivi_domain::{Actor, Command, Metadata};
use suivi_projections::gateway::{sealed_registration, Gateway};

/// What to do for an item of a file, in order.
pub enum Step {
    Command(Command),
    /// Register a pupil: `write_plan` mints their key and seals the identity.
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
    let correlation = CorrelationId(uuid::Uuid::now_v7());
    let mut batch = Vec::with_capacity(items.len());
    let mut lines = Vec::with_capacity(items.len());
    let mut keys = Vec::new();
    for item in items {
        let command = match item.step {
            Step::Command(command) => command,
            Step::NewPupil {
                pupil_id,
                external_id,
                identity,
            } => {
                let (command, key) = sealed_registration(pupil_id, external_id, &identity);
                keys.push((pupil_id, key));
                command
            }
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
    match gateway.execute_batch_keyed(batch, keys).await {
        Ok(executed) => report.record(&executed),
        Err(error) => report.errors.push(batch_failure(error, &lines)?),
    }
    Ok(())
}
