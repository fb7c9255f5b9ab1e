//! The access journal: who on the staff opened which pupil's individual file, and when.
//!
//! Recorded in one place, `Services::pupil_view`, the door every read of a pupil's own
//! file goes through (`pupil`, `pupilByExternalId`, `competencies`, `timeOnTask` by pupil,
//! the `gradeRecorded` subscription). Guardians and pupils reading their own file are not
//! journaled; class-level views (the conseil de classe table) are not journaled per pupil.
//!
//! It is kept beside the log, not in it: reads are not facts about a pupil's school work,
//! and the log's event families are shared with every fold and the analytics. With an
//! embedded store (`sqlite:PATH`) the journal is the append-only file `PATH.access.jsonl`
//! (one JSON object per line, read back at start); with other stores it lives in memory
//! for the life of the process. Administrators query it (`accessJournal`).

use crate::identity::Identity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use suivi_domain::ids::PupilId;
use suivi_domain::Role;

/// One read of a pupil's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    pub at: DateTime<Utc>,
    /// `role:uuid`, as events' `actor`.
    pub actor: String,
    pub pupil_id: PupilId,
}

pub struct AccessJournal {
    records: Mutex<Vec<AccessRecord>>,
    file: Option<(PathBuf, Mutex<std::fs::File>)>,
}

impl AccessJournal {
    pub fn in_memory() -> AccessJournal {
        AccessJournal {
            records: Mutex::new(Vec::new()),
            file: None,
        }
    }

    /// The journal file beside an embedded store, or in memory for other stores.
    pub fn for_store(store_url: &str) -> std::io::Result<AccessJournal> {
        match store_url.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() && path != ":memory:" => {
                AccessJournal::open(&PathBuf::from(format!("{path}.access.jsonl")))
            }
            _ => Ok(AccessJournal::in_memory()),
        }
    }

    /// Opens (or creates) a journal file and reads back what it holds. A torn last line
    /// (a crash mid-write) is skipped.
    pub fn open(path: &Path) -> std::io::Result<AccessJournal> {
        let mut records = Vec::new();
        if path.exists() {
            let reader = std::io::BufReader::new(std::fs::File::open(path)?);
            for line in reader.lines() {
                if let Ok(record) = serde_json::from_str::<AccessRecord>(&line?) {
                    records.push(record);
                }
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(AccessJournal {
            records: Mutex::new(records),
            file: Some((path.to_owned(), Mutex::new(file))),
        })
    }

    /// Records that `identity` opened `pupil`'s file, if it is staff.
    pub fn record(&self, identity: &Identity, pupil: PupilId) {
        if !matches!(
            identity.role,
            Role::Admin | Role::HeadTeacher | Role::Teacher
        ) {
            return;
        }
        let record = AccessRecord {
            at: Utc::now(),
            actor: identity.actor().to_string(),
            pupil_id: pupil,
        };
        if let Some((path, file)) = &self.file {
            let line = match serde_json::to_string(&record) {
                Ok(line) => line + "\n",
                Err(_) => return,
            };
            let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(error) = file.write_all(line.as_bytes()).and_then(|_| file.flush()) {
                tracing::error!(%error, path = %path.display(), pupil = %pupil, "the access journal could not be written");
            }
        }
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }

    /// The latest records first, of one pupil or of all, since an instant.
    pub fn query(
        &self,
        pupil: Option<PupilId>,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Vec<AccessRecord> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records
            .iter()
            .rev()
            .filter(|r| pupil.is_none_or(|p| r.pupil_id == p))
            .filter(|r| since.is_none_or(|s| r.at >= s))
            .take(limit)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suivi_domain::ids::SchoolId;
    use uuid::Uuid;

    fn who(role: Role) -> Identity {
        Identity {
            role,
            subject_id: Uuid::now_v7(),
            school_id: SchoolId(Uuid::now_v7()),
            within: Default::default(),
        }
    }

    #[test]
    fn staff_reads_are_kept_across_a_restart_and_families_are_not_journaled() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("s.db").display());
        let pupil = PupilId(Uuid::now_v7());
        let teacher = who(Role::Teacher);
        {
            let journal = AccessJournal::for_store(&url).unwrap();
            journal.record(&teacher, pupil);
            journal.record(&who(Role::Guardian), pupil);
            journal.record(&who(Role::Pupil), pupil);
        }
        let journal = AccessJournal::for_store(&url).unwrap();
        let records = journal.query(Some(pupil), None, 10);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].actor, teacher.actor().to_string());
        assert!(journal
            .query(Some(PupilId(Uuid::now_v7())), None, 10)
            .is_empty());
    }
}
