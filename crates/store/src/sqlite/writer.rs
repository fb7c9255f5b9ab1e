//! Group commit: one thread owns the write connection. It drains every queued job into one
//! transaction, one savepoint per job (so one caller's conflict fails only that caller),
//! commits once (one fsync), announces the new head, then answers each caller.

use super::rows::{db, decode, int, micros, Names as ReadNames, SELECT_EVENT};
use super::schema::checkpoint;
use super::Counters;
use crate::rules::{check_expected, replayed, to_micros, Kept};
use crate::{AppendRequest, AppendResult, StoreError};
use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension, ToSql, TransactionBehavior};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::Hash;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use suivi_domain::identity::PupilKey;
use suivi_domain::ids::PupilId;
use suivi_domain::Actor;
use tokio::sync::{mpsc, oneshot, watch};

/// A group stops taking queued jobs once it holds this many events.
const MAX_GROUP_EVENTS: usize = 4096;

pub(super) enum Job {
    Append {
        requests: Vec<AppendRequest>,
        /// A restore: what each request keeps from its source (`EventStore::restore`).
        kept: Option<Vec<Kept>>,
        reply: oneshot::Sender<Result<Vec<AppendResult>, StoreError>>,
    },
    PutKey {
        pupil: PupilId,
        key: PupilKey,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    DestroyKey {
        pupil: PupilId,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
    Checkpoint {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

enum Done {
    Appended(Vec<AppendResult>),
    Put,
    Destroyed(bool),
    Checkpointed,
}

type Outcome = Result<Done, StoreError>;

impl Job {
    fn events(&self) -> usize {
        match self {
            Job::Append { requests, .. } => requests.iter().map(|r| r.events.len()).sum(),
            _ => 1,
        }
    }

    fn answer(self, outcome: Outcome) {
        let unexpected = || StoreError::Backend("sqlite writer answered another job".into());
        // A caller that gave up waiting dropped its receiver; nothing to tell it.
        let _ = match self {
            Job::Append { reply, .. } => reply
                .send(outcome.and_then(|d| match d {
                    Done::Appended(results) => Ok(results),
                    _ => Err(unexpected()),
                }))
                .is_ok(),
            Job::PutKey { reply, .. } => reply
                .send(outcome.and_then(|d| match d {
                    Done::Put => Ok(()),
                    _ => Err(unexpected()),
                }))
                .is_ok(),
            Job::DestroyKey { reply, .. } => reply
                .send(outcome.and_then(|d| match d {
                    Done::Destroyed(found) => Ok(found),
                    _ => Err(unexpected()),
                }))
                .is_ok(),
            Job::Checkpoint { reply } => reply
                .send(outcome.and_then(|d| match d {
                    Done::Checkpointed => Ok(()),
                    _ => Err(unexpected()),
                }))
                .is_ok(),
        };
    }
}

/// Why a job failed: refused by the rules (only its savepoint is rolled back), or the
/// database failed (the whole group is rolled back: the transaction may be unusable).
enum Failure {
    Refused(StoreError),
    Db(rusqlite::Error),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Db(e)
    }
}

pub(super) struct Writer {
    pub conn: Connection,
    /// The last committed position.
    pub head: u64,
    pub announce: watch::Sender<u64>,
    pub counters: Arc<Counters>,
    types: Names<String>,
    actors: Names<String>,
    schools: Names<[u8; 16]>,
    /// Set by a destroyed key (its old page may still sit in the WAL) or a checkpoint
    /// request; cleared when a checkpoint completes.
    checkpoint_pending: bool,
}

impl Writer {
    pub fn new(
        conn: Connection,
        head: u64,
        announce: watch::Sender<u64>,
        counters: Arc<Counters>,
    ) -> Self {
        Writer {
            conn,
            head,
            announce,
            counters,
            types: Names::new("event_types", "name"),
            actors: Names::new("actors", "name"),
            schools: Names::new("schools", "uuid"),
            checkpoint_pending: false,
        }
    }

    /// Serves jobs until every sender is dropped (the store is dropped).
    pub fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        while let Some(first) = jobs.blocking_recv() {
            let mut events = first.events();
            let mut group = vec![first];
            while events < MAX_GROUP_EVENTS {
                match jobs.try_recv() {
                    Ok(job) => {
                        events += job.events();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            self.commit(group);
        }
        tracing::debug!(head = self.head, "sqlite writer stopped");
    }

    fn commit(&mut self, group: Vec<Job>) {
        let before = self.head;
        match self.run_group(&group) {
            Ok((outcomes, head)) => {
                self.types.commit();
                self.actors.commit();
                self.schools.commit();
                self.head = head;
                self.counters.commits.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .writes
                    .fetch_add(group.len() as u64, Ordering::Relaxed);
                self.counters
                    .events
                    .fetch_add(head - before, Ordering::Relaxed);
                tracing::trace!(
                    jobs = group.len(),
                    events = head - before,
                    head,
                    "group committed"
                );
                let checkpointed = !self.checkpoint_pending || self.checkpoint_wal();
                if head > before {
                    self.announce.send_replace(head);
                }
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    let outcome = match outcome {
                        Ok(Done::Checkpointed) if !checkpointed => Err(StoreError::Backend(
                            "sqlite checkpoint did not complete: a reader held the WAL".into(),
                        )),
                        other => other,
                    };
                    job.answer(outcome);
                }
            }
            Err(e) => {
                self.types.abort();
                self.actors.abort();
                self.schools.abort();
                tracing::error!(error = %e, jobs = group.len(), "sqlite group commit failed");
                let failure = db(e);
                for job in group {
                    job.answer(Err(failure.clone()));
                }
            }
        }
    }

    /// Checkpoints the WAL; true when it completed.
    fn checkpoint_wal(&mut self) -> bool {
        match checkpoint(&self.conn) {
            Ok(true) => {
                self.checkpoint_pending = false;
                true
            }
            Ok(false) => {
                tracing::warn!(
                    "WAL checkpoint blocked by a reader; retrying after the next commit"
                );
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed; retrying after the next commit");
                false
            }
        }
    }

    /// Runs every job in one transaction. Returns each job's outcome and the new head.
    fn run_group(&mut self, group: &[Job]) -> rusqlite::Result<(Vec<Outcome>, u64)> {
        let recorded_at = micros(to_micros(Utc::now()));
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut position = self.head;
        let mut outcomes = Vec::with_capacity(group.len());
        for job in group {
            let marks = (self.types.mark(), self.actors.mark(), self.schools.mark());
            tx.execute_batch("SAVEPOINT job")?;
            let mut next = position;
            let result = match job {
                Job::Append { requests, kept, .. } => {
                    let names = (&mut self.types, &mut self.actors, &mut self.schools);
                    let kept = kept.as_deref();
                    append(&tx, requests, kept, &mut next, recorded_at, names).map(Done::Appended)
                }
                Job::PutKey { pupil, key, .. } => put_key(&tx, *pupil, key).map(|()| Done::Put),
                Job::DestroyKey { pupil, .. } => destroy_key(&tx, *pupil).map(Done::Destroyed),
                // Run after the commit; nothing to do inside the transaction.
                Job::Checkpoint { .. } => Ok(Done::Checkpointed),
            };
            match result {
                Ok(done) => {
                    tx.execute_batch("RELEASE job")?;
                    if matches!(done, Done::Destroyed(true) | Done::Checkpointed) {
                        self.checkpoint_pending = true;
                    }
                    position = next;
                    outcomes.push(Ok(done));
                }
                Err(Failure::Refused(e)) => {
                    tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
                    self.types.rollback_to(marks.0);
                    self.actors.rollback_to(marks.1);
                    self.schools.rollback_to(marks.2);
                    outcomes.push(Err(e));
                }
                Err(Failure::Db(e)) => return Err(e),
            }
        }
        tx.commit()?;
        Ok((outcomes, position))
    }
}

fn append(
    conn: &Connection,
    requests: &[AppendRequest],
    kept: Option<&[Kept]>,
    position: &mut u64,
    recorded_at: i64,
    (types, actors, schools): (&mut Names<String>, &mut Names<String>, &mut Names<[u8; 16]>),
) -> Result<Vec<AppendResult>, Failure> {
    let mut results = Vec::with_capacity(requests.len());
    for (index, request) in requests.iter().enumerate() {
        let Some(first) = request.events.first() else {
            return Err(Failure::Refused(StoreError::EmptyAppend(
                request.stream.clone(),
            )));
        };
        let kept = kept.and_then(|k| k.get(index));
        let mut exists = conn.prepare_cached("SELECT 1 FROM events WHERE event_id = ?1")?;
        if exists.exists([first.event_id.0.as_bytes()])? {
            let result = replay(conn, request)?;
            if let Some(kept) = kept {
                kept.check_position(result.first_position)
                    .map_err(Failure::Refused)?;
            }
            results.push(result);
            continue;
        }
        let stream = request.stream.as_str();
        let found: Option<(i64, i64)> = conn
            .prepare_cached("SELECT id, version FROM streams WHERE name = ?1")?
            .query_row([stream], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let actual = found.map(|(_, v)| u64::try_from(v).unwrap_or(0));
        check_expected(&request.stream, request.expected, actual).map_err(Failure::Refused)?;
        if let Some(kept) = kept {
            kept.check_position(*position + 1)
                .map_err(Failure::Refused)?;
        }
        let stream_id = match found {
            Some((id, _)) => id,
            None => {
                conn.prepare_cached("INSERT INTO streams (name, version) VALUES (?1, 0)")?
                    .execute([stream])?;
                conn.last_insert_rowid()
            }
        };
        let start_version = actual.unwrap_or(0);
        let mut insert = conn.prepare_cached(
            "INSERT INTO events (global_position, stream_id, stream_version, event_id, type_id, \
             schema_version, occurred_at, recorded_at, school, actor_id, correlation_id, \
             causation_id, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut actor_text = String::new();
        // The events of one request nearly always share their actor: format it once.
        let mut last_actor: Option<(&Actor, i64)> = None;
        for (i, event) in request.events.iter().enumerate() {
            let n = i as u64 + 1;
            let type_id = types.id(conn, &event.event_type)?;
            let actor_id = match last_actor {
                Some((actor, id)) if *actor == event.actor => id,
                _ => {
                    actor_text.clear();
                    // Writing into a String cannot fail.
                    let _ = write!(actor_text, "{}", event.actor);
                    let id = actors.id(conn, &actor_text)?;
                    last_actor = Some((&event.actor, id));
                    id
                }
            };
            let school_id = schools.id(conn, event.school_id.0.as_bytes())?;
            let inserted = insert.execute(params![
                int(*position + n),
                stream_id,
                int(start_version + n),
                event.event_id.0.as_bytes(),
                type_id,
                event.schema_version,
                micros(event.occurred_at),
                kept.and_then(|k| k.recorded_at.get(i))
                    .map_or(recorded_at, |at| micros(*at)),
                school_id,
                actor_id,
                event.correlation_id.map(|c| *c.0.as_bytes()),
                event.causation_id.map(|c| *c.0.as_bytes()),
                event.payload.get(),
            ]);
            match inserted {
                Ok(_) => {}
                // Part of the request is already stored, or an id repeats within it.
                Err(e) if is_duplicate_event_id(&e) => {
                    return Err(Failure::Refused(StoreError::IdempotencyMismatch {
                        event_id: event.event_id,
                    }))
                }
                Err(e) => return Err(Failure::Db(e)),
            }
        }
        let n = request.events.len() as u64;
        conn.prepare_cached("UPDATE streams SET version = ?2 WHERE id = ?1")?
            .execute(params![stream_id, int(start_version + n)])?;
        // In the caller's savepoint: a refused request rolls its keys back with its events.
        for (pupil, key) in &request.keys {
            put_key(conn, *pupil, key)?;
        }
        results.push(AppendResult {
            stream_version: start_version + n,
            first_position: *position + 1,
            last_position: *position + n,
        });
        *position += n;
    }
    Ok(results)
}

/// The request's first id is stored: either it is a retry of the very same request, or an
/// id is being reused.
fn replay(conn: &Connection, request: &AppendRequest) -> Result<AppendResult, Failure> {
    let mut select = conn.prepare_cached(&format!("{SELECT_EVENT} WHERE event_id = ?1"))?;
    // Fresh for this lookup: inside the transaction, ids of rolled-back rows may be reused.
    let mut names = ReadNames::default();
    let mut stored = Vec::with_capacity(request.events.len());
    for event in &request.events {
        let mut rows = select.query([event.event_id.0.as_bytes()])?;
        match rows.next()? {
            Some(row) => stored.push(decode(row, conn, &mut names).map_err(Failure::Refused)?),
            None => {
                return Err(Failure::Refused(StoreError::IdempotencyMismatch {
                    event_id: event.event_id,
                }))
            }
        }
    }
    replayed(&request.stream, &stored, &request.events).map_err(Failure::Refused)
}

fn is_duplicate_event_id(e: &rusqlite::Error) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(code, Some(message)) => {
            code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                && message.contains("events.event_id")
        }
        _ => false,
    }
}

fn put_key(conn: &Connection, pupil: PupilId, key: &PupilKey) -> Result<(), Failure> {
    conn.prepare_cached(
        "INSERT INTO pupil_keys (pupil_id, key) VALUES (?1, ?2) \
         ON CONFLICT (pupil_id) DO UPDATE SET key = excluded.key",
    )?
    .execute(params![pupil.0.as_bytes(), &key.0[..]])?;
    Ok(())
}

fn destroy_key(conn: &Connection, pupil: PupilId) -> Result<bool, Failure> {
    let deleted = conn
        .prepare_cached("DELETE FROM pupil_keys WHERE pupil_id = ?1")?
        .execute([pupil.0.as_bytes()])?;
    Ok(deleted > 0)
}

/// Interned values (event types, actors, schools): the ids known committed, plus those
/// inserted by the open transaction, dropped again if their savepoint or transaction is
/// rolled back.
struct Names<K> {
    select: String,
    insert: String,
    committed: HashMap<K, i64>,
    fresh: Vec<(K, i64)>,
}

impl<K: Hash + Eq + Clone + ToSql> Names<K> {
    fn new(table: &str, column: &str) -> Self {
        Names {
            select: format!("SELECT id FROM {table} WHERE {column} = ?1"),
            insert: format!("INSERT INTO {table} ({column}) VALUES (?1)"),
            committed: HashMap::new(),
            fresh: Vec::new(),
        }
    }

    fn id(&mut self, conn: &Connection, key: &K) -> rusqlite::Result<i64> {
        if let Some(&id) = self.committed.get(key) {
            return Ok(id);
        }
        if let Some((_, id)) = self.fresh.iter().find(|(k, _)| k == key) {
            return Ok(*id);
        }
        let found: Option<i64> = conn
            .prepare_cached(&self.select)?
            .query_row([key], |row| row.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                conn.prepare_cached(&self.insert)?.execute([key])?;
                conn.last_insert_rowid()
            }
        };
        self.fresh.push((key.clone(), id));
        Ok(id)
    }

    fn mark(&self) -> usize {
        self.fresh.len()
    }

    fn rollback_to(&mut self, mark: usize) {
        self.fresh.truncate(mark);
    }

    fn commit(&mut self) {
        self.committed.extend(self.fresh.drain(..));
    }

    fn abort(&mut self) {
        self.fresh.clear();
    }
}
