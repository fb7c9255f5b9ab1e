//! The embedded default: the whole log in one SQLite file (WAL, `synchronous=FULL`), written
//! by one thread with group commit, read through a small pool of read connections. Every
//! connection reads both PRAGMAs back when it opens and refuses to run otherwise
//! (`StoreError::Durability`); `tests/durability.rs` watches the writer's syscalls to show
//! that each acknowledged append followed a sync of the WAL.
//!
//! One process owns a store file at a time: the writer keeps the head in memory.

mod readers;
mod rows;
mod schema;
mod writer;

use crate::rules::restoring;
use crate::{AppendRequest, AppendResult, EventStore, StoreError};
use async_trait::async_trait;
use readers::Readers;
use rows::{db, decode, int, SELECT_EVENT};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use suivi_domain::identity::{PupilKey, KEY_LEN};
use suivi_domain::ids::{EventId, PupilId};
use suivi_domain::{RecordedEvent, StreamName};
use tokio::sync::{mpsc, oneshot, watch};
use writer::{Job, Writer};

/// Jobs waiting for the writer before callers wait to enqueue (backpressure).
const QUEUE: usize = 4096;

/// What the writer did since the store was opened. `commits` far below `writes` is group
/// commit at work: several callers' appends shared one transaction and one fsync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SqliteStats {
    /// Transactions committed (each one fsync of the WAL).
    pub commits: u64,
    /// Calls served by the writer: `append_all` (and `append`), `put_key`, `destroy_key`.
    pub writes: u64,
    /// Events written (a replayed, idempotent request writes none).
    pub events: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    commits: AtomicU64,
    writes: AtomicU64,
    events: AtomicU64,
}

pub struct SqliteStore {
    path: PathBuf,
    /// `None` only while dropping: closing the queue stops the writer.
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    readers: Arc<Readers>,
    head: watch::Receiver<u64>,
    counters: Arc<Counters>,
}

impl SqliteStore {
    /// Opens the store file at `path`, creating it (and its layout) if missing. Blocks for
    /// the time it takes to open the file and start the writer thread.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        Self::open_tuned(path.as_ref(), |_| Ok(()))
    }

    /// Test only (feature `test-knobs`, never in a release build): opens the store, then
    /// sets `PRAGMA synchronous` to `level` on the writer's connection behind the check
    /// every open makes, so that a test can show what it would catch.
    #[cfg(feature = "test-knobs")]
    #[doc(hidden)]
    pub fn open_with_synchronous_lowered_for_tests(
        path: impl AsRef<Path>,
        level: &str,
    ) -> Result<SqliteStore, StoreError> {
        Self::open_tuned(path.as_ref(), |conn| {
            conn.pragma_update(None, "synchronous", level).map_err(db)
        })
    }

    fn open_tuned(
        path: &Path,
        tune: impl FnOnce(&rusqlite::Connection) -> Result<(), StoreError>,
    ) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        let conn = schema::open_writer(&path)?;
        tune(&conn)?;
        let head: i64 = conn
            .query_row(
                "SELECT coalesce(max(global_position), 0) FROM events",
                [],
                |row| row.get(0),
            )
            .map_err(db)?;
        let head = u64::try_from(head).map_err(|_| {
            StoreError::Corrupt(format!("{}: negative head {head}", path.display()))
        })?;
        let (announce, head_rx) = watch::channel(head);
        let counters = Arc::new(Counters::default());
        let (jobs, queue) = mpsc::channel(QUEUE);
        let writer = Writer::new(conn, head, announce, Arc::clone(&counters));
        let handle = std::thread::Builder::new()
            .name("suivi-sqlite-writer".into())
            .spawn(move || writer.run(queue))
            .map_err(|e| StoreError::Backend(format!("starting the sqlite writer: {e}")))?;
        let readers = Arc::new(Readers::new(path.clone())?);
        tracing::info!(path = %path.display(), head, "opened the SQLite store");
        Ok(SqliteStore {
            path,
            jobs: Some(jobs),
            writer: Some(handle),
            readers,
            head: head_rx,
            counters,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn stats(&self) -> SqliteStats {
        SqliteStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
            events: self.counters.events.load(Ordering::Relaxed),
        }
    }

    /// Merges the WAL into the main file and truncates it (before a backup or a size
    /// measurement). Fails if a reader keeps it from completing.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        self.ask(|reply| Job::Checkpoint { reply }).await
    }

    async fn ask<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Job,
    ) -> Result<T, StoreError> {
        let jobs = self.jobs.as_ref().ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        jobs.send(job(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what is queued and stop; joining it
        // closes the write connection before the file may be opened again.
        self.jobs.take();
        if let Some(handle) = self.writer.take() {
            if handle.join().is_err() {
                tracing::error!(path = %self.path.display(), "the sqlite writer thread panicked");
            }
        }
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn append_all(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        if let Some(empty) = requests.iter().find(|r| r.events.is_empty()) {
            return Err(StoreError::EmptyAppend(empty.stream.clone()));
        }
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        self.ask(|reply| Job::Append {
            requests,
            kept: None,
            reply,
        })
        .await
    }

    async fn restore(&self, events: Vec<RecordedEvent>) -> Result<u64, StoreError> {
        let (requests, kept) = restoring(events)?;
        if requests.is_empty() {
            return self.head().await;
        }
        let results = self
            .ask(|reply| Job::Append {
                requests,
                kept: Some(kept),
                reply,
            })
            .await?;
        Ok(results.iter().map(|r| r.last_position).max().unwrap_or(0))
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let name = stream.as_str().to_owned();
        let from = int(from_version);
        self.readers
            .run(move |reader| {
                let mut select = reader
                    .conn
                    .prepare_cached(&format!(
                        "{SELECT_EVENT} WHERE stream_id = \
                         (SELECT id FROM streams WHERE name = ?1) \
                         AND stream_version >= ?2 ORDER BY stream_version"
                    ))
                    .map_err(db)?;
                let mut rows = select.query(rusqlite::params![name, from]).map_err(db)?;
                let mut events = Vec::new();
                while let Some(row) = rows.next().map_err(db)? {
                    events.push(decode(row, &reader.conn, &mut reader.names)?);
                }
                Ok(events)
            })
            .await
    }

    async fn read_all(&self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let after = int(after);
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        self.readers
            .run(move |reader| {
                let mut select = reader
                    .conn
                    .prepare_cached(&format!(
                        "{SELECT_EVENT} WHERE global_position > ?1 \
                         ORDER BY global_position LIMIT ?2"
                    ))
                    .map_err(db)?;
                let mut rows = select.query([after, limit]).map_err(db)?;
                let mut events = Vec::with_capacity(max.min(4096));
                while let Some(row) = rows.next().map_err(db)? {
                    events.push(decode(row, &reader.conn, &mut reader.names)?);
                }
                Ok(events)
            })
            .await
    }

    async fn find_event(&self, event_id: EventId) -> Result<Option<RecordedEvent>, StoreError> {
        self.readers
            .run(move |reader| {
                let mut select = reader
                    .conn
                    .prepare_cached(&format!("{SELECT_EVENT} WHERE event_id = ?1"))
                    .map_err(db)?;
                let mut rows = select.query([event_id.0.as_bytes()]).map_err(db)?;
                match rows.next().map_err(db)? {
                    Some(row) => Ok(Some(decode(row, &reader.conn, &mut reader.names)?)),
                    None => Ok(None),
                }
            })
            .await
    }

    async fn head(&self) -> Result<u64, StoreError> {
        Ok(*self.head.borrow())
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.clone()
    }

    async fn put_key(&self, pupil: PupilId, key: PupilKey) -> Result<(), StoreError> {
        self.ask(|reply| Job::PutKey { pupil, key, reply }).await
    }

    async fn get_key(&self, pupil: PupilId) -> Result<Option<PupilKey>, StoreError> {
        self.readers
            .run(move |reader| {
                let mut select = reader
                    .conn
                    .prepare_cached("SELECT key FROM pupil_keys WHERE pupil_id = ?1")
                    .map_err(db)?;
                let mut rows = select.query([pupil.0.as_bytes()]).map_err(db)?;
                let Some(row) = rows.next().map_err(db)? else {
                    return Ok(None);
                };
                let bytes: Vec<u8> = row.get(0).map_err(db)?;
                let key: [u8; KEY_LEN] = bytes.try_into().map_err(|b: Vec<u8>| {
                    StoreError::Corrupt(format!(
                        "the key of pupil {pupil} holds {} bytes, not {KEY_LEN}",
                        b.len()
                    ))
                })?;
                Ok(Some(PupilKey(key)))
            })
            .await
    }

    async fn destroy_key(&self, pupil: PupilId) -> Result<bool, StoreError> {
        self.ask(|reply| Job::DestroyKey { pupil, reply }).await
    }
}
