//! The access journal: who on the staff opened which pupil's individual file, and when.
//!
//! Recorded in one place, `Services::pupil_view`, the door every read of a pupil's own
//! file goes through (`pupil`, `pupilByExternalId`, `competencies`, `timeOnTask` by pupil,
//! the `gradeRecorded` subscription); an answer served again from the answer cache records
//! its reads again. Guardians and pupils reading their own file are not journaled;
//! class-level views (the conseil de classe table) are not journaled per pupil.
//!
//! It is kept beside the log, not in it: reads are not facts about a pupil's school work,
//! and the log's event families are shared with every fold and the analytics. Where:
//! - embedded store (`sqlite:PATH`): the append-only file `PATH.access.jsonl` (one JSON
//!   object per line, read back at start), synced to disk before `record` returns;
//! - PostgreSQL (`postgres://…`): the `access_journal` table of the same database
//!   (migration 2), so that every server of the school writes one journal and queries
//!   read what all of them wrote. A record is handed to one writer task, which inserts
//!   what is waiting in order, in one statement, and acknowledges each record once its
//!   insert has committed; a query first waits for what this process queued before it;
//! - otherwise (`memory:`): in memory, for the life of the process.
//!
//! `record` returns once the record is durable (or fails): the door that journals a read
//! awaits it, so no answer showing a pupil's file leaves before its journal row is written,
//! and a journal that cannot be written withholds the answer (`UNAVAILABLE`) rather than
//! let a read go unrecorded.
//!
//! Administrators query it (`accessJournal`).

use crate::identity::Identity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use suivi_domain::ids::PupilId;
use suivi_domain::Role;
use suivi_store::postgres::access::{AccessRow, AccessTable};
use tokio::sync::{mpsc, oneshot};

/// One read of a pupil's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    pub at: DateTime<Utc>,
    /// `role:uuid`, as events' `actor`.
    pub actor: String,
    pub pupil_id: PupilId,
}

/// A staff read that could not be journaled.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the access journal could not be written: {0}")]
pub struct JournalError(String);

enum Queued {
    /// Answered once the row's insert has committed, or has finally failed.
    Row(AccessRow, oneshot::Sender<Result<(), String>>),
    /// Answered once every row queued before it is written.
    Flush(oneshot::Sender<()>),
}

enum Keep {
    Memory,
    File(PathBuf, Arc<Mutex<std::fs::File>>),
    Postgres {
        writes: mpsc::UnboundedSender<Queued>,
        table: Arc<AccessTable>,
    },
}

pub struct AccessJournal {
    /// What this process recorded (and, for a file, read back): the journal itself for
    /// memory and file journals; unused with PostgreSQL, whose table is the journal.
    records: Mutex<Vec<AccessRecord>>,
    keep: Keep,
}

impl AccessJournal {
    pub fn in_memory() -> AccessJournal {
        AccessJournal {
            records: Mutex::new(Vec::new()),
            keep: Keep::Memory,
        }
    }

    /// The journal of a store: a file beside an embedded store, the table of a PostgreSQL
    /// store, memory otherwise.
    pub async fn for_store(store_url: &str) -> std::io::Result<AccessJournal> {
        if store_url.starts_with("postgres://") || store_url.starts_with("postgresql://") {
            let table = AccessTable::connect(store_url)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            return Ok(AccessJournal::postgres(table));
        }
        match store_url.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() && path != ":memory:" => {
                AccessJournal::open(&PathBuf::from(format!("{path}.access.jsonl")))
            }
            _ => Ok(AccessJournal::in_memory()),
        }
    }

    /// A journal in a PostgreSQL table; starts its writer task.
    pub fn postgres(table: AccessTable) -> AccessJournal {
        let table = Arc::new(table);
        let (writes, queued) = mpsc::unbounded_channel();
        tokio::spawn(write_rows(table.clone(), queued));
        AccessJournal {
            records: Mutex::new(Vec::new()),
            keep: Keep::Postgres { writes, table },
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
            keep: Keep::File(path.to_owned(), Arc::new(Mutex::new(file))),
        })
    }

    /// Records that `identity` opened `pupil`'s file, if it is staff; returns once the
    /// record is durable.
    pub async fn record(&self, identity: &Identity, pupil: PupilId) -> Result<(), JournalError> {
        self.record_all(identity, &[pupil]).await
    }

    /// Records that `identity` read the data of each of `pupils` (a board's rows), if it is
    /// staff: one record per pupil, durable together (one write and one sync for a file,
    /// one commit for PostgreSQL) before this returns.
    pub async fn record_all(
        &self,
        identity: &Identity,
        pupils: &[PupilId],
    ) -> Result<(), JournalError> {
        if pupils.is_empty()
            || !matches!(
                identity.role,
                Role::Admin | Role::HeadTeacher | Role::Teacher
            )
        {
            return Ok(());
        }
        let at = Utc::now();
        let actor = identity.actor().to_string();
        let records: Vec<AccessRecord> = pupils
            .iter()
            .map(|pupil| AccessRecord {
                at,
                actor: actor.clone(),
                pupil_id: *pupil,
            })
            .collect();
        match &self.keep {
            Keep::Memory => {}
            Keep::File(path, file) => {
                let mut line = String::new();
                for record in &records {
                    line += &serde_json::to_string(record)
                        .map_err(|e| JournalError(format!("a record as JSON: {e}")))?;
                    line.push('\n');
                }
                let file = Arc::clone(file);
                let written = tokio::task::spawn_blocking(move || {
                    let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                    file.write_all(line.as_bytes())?;
                    file.sync_data()
                })
                .await
                .map_err(|e| JournalError(format!("the journal's write task: {e}")))?;
                if let Err(error) = written {
                    tracing::error!(%error, path = %path.display(), pupils = records.len(), "the access journal could not be written");
                    return Err(JournalError(format!("{}: {error}", path.display())));
                }
            }
            Keep::Postgres { writes, .. } => {
                let stopped = || JournalError("its writer has stopped".into());
                let mut pending = Vec::with_capacity(records.len());
                for record in records {
                    let row = AccessRow {
                        at: record.at,
                        actor: record.actor,
                        pupil: record.pupil_id,
                    };
                    let (done, written) = oneshot::channel();
                    if writes.send(Queued::Row(row, done)).is_err() {
                        tracing::error!("the access journal's writer has stopped");
                        return Err(stopped());
                    }
                    pending.push(written);
                }
                // Queued together, the writer commits them together.
                for written in pending {
                    written
                        .await
                        .map_err(|_| stopped())?
                        .map_err(JournalError)?;
                }
                return Ok(());
            }
        }
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(records);
        Ok(())
    }

    /// The latest records first, of one pupil or of all, since an instant.
    pub async fn query(
        &self,
        pupil: Option<PupilId>,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<AccessRecord>, String> {
        if let Keep::Postgres { writes, table } = &self.keep {
            let (flushed, done) = oneshot::channel();
            writes
                .send(Queued::Flush(flushed))
                .map_err(|_| "the access journal's writer has stopped".to_owned())?;
            done.await
                .map_err(|_| "the access journal's writer has stopped".to_owned())?;
            let rows = table
                .query(pupil, since, limit)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(rows
                .into_iter()
                .map(|r| AccessRecord {
                    at: r.at,
                    actor: r.actor,
                    pupil_id: r.pupil,
                })
                .collect());
        }
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        Ok(records
            .iter()
            .rev()
            .filter(|r| pupil.is_none_or(|p| r.pupil_id == p))
            .filter(|r| since.is_none_or(|s| r.at >= s))
            .take(limit)
            .cloned()
            .collect())
    }
}

/// Writes queued rows in order, in batches of what is waiting, retrying a failed batch.
async fn write_rows(table: Arc<AccessTable>, mut queued: mpsc::UnboundedReceiver<Queued>) {
    while let Some(first) = queued.recv().await {
        let mut rows = Vec::new();
        let mut waiting = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(write) = next {
            match write {
                Queued::Row(row, done) => {
                    rows.push(row);
                    waiting.push(done);
                }
                Queued::Flush(done) => flushes.push(done),
            }
            next = queued.try_recv().ok();
        }
        let mut attempt = 0;
        let outcome = loop {
            match table.append(&rows).await {
                Ok(()) => break Ok(()),
                Err(error) => {
                    attempt += 1;
                    if attempt == 5 {
                        tracing::error!(%error, rows = rows.len(), "the access journal could not be written");
                        break Err(error.to_string());
                    }
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
            }
        };
        // A reader that gave up waiting dropped its receiver; nothing to tell it.
        for done in waiting {
            let _ = done.send(outcome.clone());
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn who(role: Role) -> Identity {
        Identity::fresh(role)
    }

    #[tokio::test]
    async fn staff_reads_are_kept_across_a_restart_and_families_are_not_journaled() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("s.db").display());
        let pupil = PupilId(Uuid::now_v7());
        let teacher = who(Role::Teacher);
        {
            let journal = AccessJournal::for_store(&url).await.unwrap();
            journal.record(&teacher, pupil).await.unwrap();
            journal.record(&who(Role::Guardian), pupil).await.unwrap();
            journal.record(&who(Role::Pupil), pupil).await.unwrap();
        }
        let journal = AccessJournal::for_store(&url).await.unwrap();
        let records = journal.query(Some(pupil), None, 10).await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].actor, teacher.actor().to_string());
        assert!(journal
            .query(Some(PupilId(Uuid::now_v7())), None, 10)
            .await
            .unwrap()
            .is_empty());
    }
}
