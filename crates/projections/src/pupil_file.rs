//! Everything the school holds about one pupil, in one JSON document: the right of access
//! and portability (RGPD art. 15 and 20). `suivi export-pupil` and the administrators'
//! `exportPupil` mutation both call `pupil_file`.
//!
//! What it holds: the pupil's identity and guardians' contacts opened with the pupil's key
//! (or `"erased"` once the key is destroyed), and every event of the log that names the
//! pupil — grades, absences, deposits, attempts, answers, steps, competencies, enrolments —
//! with when it happened, who recorded it and its content. An event names the pupil when
//! its content carries the pupil's id in any field.

use chrono::{DateTime, Utc};
use serde::Serialize;
use suivi_domain::identity::{open, GuardianContact, PupilIdentity};
use suivi_domain::ids::PupilId;
use suivi_domain::Event;
use suivi_store::{EventStore, StoreError};

const BATCH: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum PupilFileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event at position {position} does not decode: {reason}")]
    Decode { position: u64, reason: String },
    #[error("no pupil {0} is registered in this store")]
    UnknownPupil(PupilId),
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Identity {
    /// Opened with the pupil's key.
    Present {
        last_name: String,
        first_name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        birth_date: Option<chrono::NaiveDate>,
    },
    /// The key was destroyed: the sealed identity can never be opened again.
    Erased,
}

#[derive(Clone, Debug, Serialize)]
pub struct Guardian {
    pub guardian_id: String,
    /// `None` once the pupil's key is destroyed.
    pub contact: Option<GuardianContact>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileEvent {
    pub global_position: u64,
    pub event_id: String,
    pub event_type: String,
    pub stream: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    /// The event's content; sealed fields stay sealed here (they are opened above).
    pub content: serde_json::Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct PupilFile {
    pub pupil_id: PupilId,
    pub external_id: String,
    pub school_id: String,
    pub exported_at: DateTime<Utc>,
    pub identity: Identity,
    pub guardians: Vec<Guardian>,
    pub events: Vec<FileEvent>,
}

/// Reads the whole log and gathers the pupil's file.
pub async fn pupil_file(
    store: &dyn EventStore,
    pupil: PupilId,
    now: DateTime<Utc>,
) -> Result<PupilFile, PupilFileError> {
    let key = store.get_key(pupil).await?;
    let needle = pupil.0.to_string();
    let mut file: Option<PupilFile> = None;
    let mut guardians = Vec::new();
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let batch = store.read_all(after, BATCH).await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.global_position;
        for recorded in &batch {
            if !recorded.payload.get().contains(&needle) {
                continue;
            }
            let event = recorded.decode().map_err(|e| PupilFileError::Decode {
                position: recorded.global_position,
                reason: e.to_string(),
            })?;
            let decode_error = |e: serde_json::Error| PupilFileError::Decode {
                position: recorded.global_position,
                reason: e.to_string(),
            };
            match &event {
                Event::PupilRegistered(registered) if registered.pupil_id == pupil => {
                    let identity = match &key {
                        Some(key) => {
                            match open::<PupilIdentity>(key, pupil, &registered.identity) {
                                Ok(id) => Identity::Present {
                                    last_name: id.last_name,
                                    first_name: id.first_name,
                                    birth_date: id.birth_date,
                                },
                                Err(_) => Identity::Erased,
                            }
                        }
                        None => Identity::Erased,
                    };
                    file = Some(PupilFile {
                        pupil_id: pupil,
                        external_id: registered.external_id.clone(),
                        school_id: recorded.school_id.to_string(),
                        exported_at: now,
                        identity,
                        guardians: Vec::new(),
                        events: Vec::new(),
                    });
                }
                Event::GuardianLinked(link) if link.pupil_id == pupil => {
                    let contact = key
                        .as_ref()
                        .and_then(|key| open::<GuardianContact>(key, pupil, &link.contact).ok());
                    guardians.push(Guardian {
                        guardian_id: link.guardian_id.to_string(),
                        contact,
                    });
                }
                _ => {}
            }
            events.push(FileEvent {
                global_position: recorded.global_position,
                event_id: recorded.event_id.to_string(),
                event_type: recorded.event_type.clone(),
                stream: recorded.stream.to_string(),
                occurred_at: recorded.occurred_at,
                recorded_at: recorded.recorded_at,
                recorded_by: recorded.actor.to_string(),
                content: serde_json::from_str(&event.payload_json()).map_err(decode_error)?,
            });
        }
    }
    let mut file = file.ok_or(PupilFileError::UnknownPupil(pupil))?;
    file.guardians = guardians;
    file.events = events;
    Ok(file)
}
