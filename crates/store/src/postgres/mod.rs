//! The PostgreSQL adapter: several API servers on one shared, durable log.
//!
//! Positions. A sequence would hand out positions in call order but make them visible in
//! commit order, so a reader polling `position > last` could pass over a slower transaction
//! that commits later with a smaller position. Here every appending transaction first takes
//! one transaction-scoped advisory lock, then assigns `max(position) + 1…` itself. The lock
//! is released only after the commit is visible, so commits happen in position order and
//! every reader sees a gap-free prefix of the log. The cost: appends are serialised across
//! all servers, one transaction at a time. Group commit (one writer task per process batching
//! every queued append into one transaction) wins the throughput back.
//!
//! Live delivery: `pg_notify` inside the appending transaction (delivered at commit) carries
//! the new head to every server's listener connection; a reconnecting listener re-reads the
//! head, and subscribers catch up with `read_all`, so no gap survives a reconnect.

pub mod access;
mod durability;
mod listen;
pub mod migrations;
mod writer;

use crate::{AppendRequest, AppendResult, EventStore, StoreError};
use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use suivi_domain::identity::{PupilKey, KEY_LEN};
use suivi_domain::ids::*;
use suivi_domain::{envelope::raw, RecordedEvent, StreamName};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

const READERS: usize = 4;

pub(crate) fn pg(e: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!("postgres: {e}"))
}

/// Where to connect, and in which schema (`?schema=name` in the URL, default `public`).
#[derive(Clone, Debug)]
pub struct Target {
    pub config: Config,
    pub schema: Option<String>,
    /// `?accept_unsafe_durability=true`: the operator accepts a server that may lose
    /// acknowledged commits (see `durability`).
    pub accept_unsafe_durability: bool,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let invalid = |reason: String| StoreError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut schema = None;
        let mut accept_unsafe_durability = false;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("accept_unsafe_durability", value)) => {
                    accept_unsafe_durability = match value {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(invalid(format!(
                                "accept_unsafe_durability={other:?}: say true or false"
                            )))
                        }
                    };
                }
                Some(("schema", name)) => {
                    if name.is_empty()
                        || name.len() > 63
                        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        return Err(invalid(format!(
                            "schema {name:?} must be 1 to 63 letters, digits or underscores"
                        )));
                    }
                    schema = Some(name.to_owned());
                }
                _ => kept.push(pair),
            }
        }
        let rebuilt = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: Config = rebuilt.parse().map_err(|e| invalid(format!("{e}")))?;
        // Named in `pg_stat_activity` (unless the URL names it): an operator sees which
        // connections are suivi's and for which schema.
        if config.get_application_name().is_none() {
            config.application_name(format!("suivi {}", schema.as_deref().unwrap_or("public")));
        }
        Ok(Target {
            config,
            schema,
            accept_unsafe_durability,
        })
    }

    pub(crate) fn channel(&self) -> String {
        format!(
            "suivi_events_{}",
            self.schema.as_deref().unwrap_or("public")
        )
    }

    /// A new connection, with its search path set to the target schema. Its durability
    /// settings are read back first: one that could acknowledge a commit the server may
    /// lose is refused, unless the URL accepts it (`durability`).
    pub async fn connect(&self) -> Result<Client, StoreError> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(pg)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "postgres connection closed");
            }
        });
        durability::require(&client, self.accept_unsafe_durability).await?;
        if let Some(schema) = &self.schema {
            client
                .batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET search_path TO \"{schema}\""
                ))
                .await
                .map_err(pg)?;
        }
        Ok(client)
    }
}

pub(crate) struct Job {
    pub requests: Vec<AppendRequest>,
    /// A restore: what each request keeps from its source (`EventStore::restore`).
    pub kept: Option<Vec<crate::rules::Kept>>,
    pub reply: oneshot::Sender<Result<Vec<AppendResult>, StoreError>>,
}

#[derive(Default)]
pub struct PostgresStats {
    pub commits: AtomicU64,
    pub appends: AtomicU64,
    /// `read_all` pages read ahead, and those of them served (see `read_all`).
    pub pages_read_ahead: AtomicU64,
    pub pages_served_ahead: AtomicU64,
}

pub struct PostgresStore {
    jobs: mpsc::Sender<Job>,
    readers: Arc<Readers>,
    /// Pages of `read_all` read ahead, and where readers are expected next (see
    /// `read_all`).
    ahead: std::sync::Mutex<ReadAhead>,
    head: Arc<watch::Sender<u64>>,
    stats: Arc<PostgresStats>,
    /// Dropped with the store: the listener connection closes at once, not at the next
    /// notification.
    _listening: watch::Sender<()>,
}

/// The reader connections, each with `read_all`'s statement prepared once: a catch-up or
/// a rebuild reads in many batches, and an unprepared query costs a second round trip per
/// batch.
struct Readers {
    clients: Vec<Client>,
    read_all: Vec<Statement>,
    next: AtomicUsize,
}

impl Readers {
    fn any(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len()
    }

    async fn page(&self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let i = self.any();
        let rows = self.clients[i]
            .query(&self.read_all[i], &[&after, &limit])
            .await
            .map_err(pg)?;
        rows.iter().map(decode_row).collect()
    }
}

/// A page being read ahead on its own task.
type Ahead = tokio::task::JoinHandle<Result<Vec<RecordedEvent>, StoreError>>;

#[derive(Default)]
struct ReadAhead {
    /// (after, max, page): pages being read ahead, oldest first.
    pages: Vec<(u64, usize, Ahead)>,
    /// (after, max) where a reader that just got a full page would go next: a reader that
    /// does go there is going through the log, and gets pages read ahead from then on.
    expected: Vec<(u64, usize)>,
}

/// Pages read ahead of a reader going through the log page after page.
const PAGES_AHEAD: u64 = (READERS - 1) as u64;
const MAX_PAGES_AHEAD: usize = 2 * (READERS - 1);

const SELECT_EVENT: &str =
    "SELECT e.global_position, s.name, e.stream_version, e.event_id, e.event_type, \
     e.schema_version, e.occurred_at, e.recorded_at, e.school_id, e.actor, e.correlation_id, \
     e.causation_id, e.payload::text \
     FROM events e JOIN streams s ON s.id = e.stream_id";

impl Drop for PostgresStore {
    fn drop(&mut self) {
        let ahead = self.ahead.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, _, page) in ahead.pages.drain(..) {
            page.abort();
        }
    }
}

impl PostgresStore {
    /// Applies missing migrations (`suivi migrate`).
    pub async fn migrate(url: &str) -> Result<Vec<i32>, StoreError> {
        let target = Target::parse(url)?;
        let mut client = target.connect().await?;
        migrations::migrate(&mut client).await
    }

    /// Connects to a migrated database; refuses one that lacks migrations or is newer.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let target = Target::parse(url)?;
        let control = target.connect().await?;
        migrations::require_current(&control).await?;
        let head_now: i64 = control
            .query_one("SELECT coalesce(max(global_position), 0) FROM events", &[])
            .await
            .map_err(pg)?
            .get(0);
        let head = Arc::new(watch::channel(head_now as u64).0);
        let mut readers = Vec::with_capacity(READERS);
        readers.push(control);
        for _ in 1..READERS {
            readers.push(target.connect().await?);
        }
        let mut read_all = Vec::with_capacity(READERS);
        for reader in &readers {
            read_all.push(
                reader
                    .prepare(&format!(
                        "{SELECT_EVENT} WHERE e.global_position > $1 \
                         ORDER BY e.global_position LIMIT $2"
                    ))
                    .await
                    .map_err(pg)?,
            );
        }
        let stats = Arc::new(PostgresStats::default());
        let writer_client = target.connect().await?;
        let (jobs, rx) = mpsc::channel(4096);
        tokio::spawn(writer::run(
            writer_client,
            rx,
            head.clone(),
            target.channel(),
            stats.clone(),
        ));
        let (listening, stop) = watch::channel(());
        listen::spawn(target, &head, stop).await?;
        Ok(PostgresStore {
            jobs,
            readers: Arc::new(Readers {
                clients: readers,
                read_all,
                next: AtomicUsize::new(0),
            }),
            ahead: std::sync::Mutex::default(),
            head,
            stats,
            _listening: listening,
        })
    }

    pub fn stats(&self) -> &PostgresStats {
        &self.stats
    }

    /// Whether every page being read ahead has come back (tests wait for it).
    pub fn read_ahead_settled(&self) -> bool {
        let state = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
        state.pages.iter().all(|(_, _, page)| page.is_finished())
    }

    fn reader(&self) -> &Client {
        &self.readers.clients[self.readers.any()]
    }
}

pub(crate) fn decode_row(row: &Row) -> Result<RecordedEvent, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("row has a bad {what}"));
    let position: i64 = row.try_get(0).map_err(pg)?;
    let version: i64 = row.try_get(2).map_err(pg)?;
    let schema_version: i16 = row.try_get(5).map_err(pg)?;
    let actor: String = row.try_get(9).map_err(pg)?;
    let payload: String = row.try_get(12).map_err(pg)?;
    Ok(RecordedEvent {
        global_position: u64::try_from(position).map_err(|_| corrupt("position"))?,
        stream: StreamName::new(row.try_get::<_, String>(1).map_err(pg)?),
        stream_version: u64::try_from(version).map_err(|_| corrupt("stream version"))?,
        event_id: EventId(row.try_get(3).map_err(pg)?),
        event_type: row.try_get(4).map_err(pg)?,
        schema_version: u16::try_from(schema_version).map_err(|_| corrupt("schema version"))?,
        occurred_at: row.try_get(6).map_err(pg)?,
        recorded_at: row.try_get(7).map_err(pg)?,
        school_id: SchoolId(row.try_get(8).map_err(pg)?),
        actor: actor.parse().map_err(|e: String| StoreError::Corrupt(e))?,
        correlation_id: row
            .try_get::<_, Option<uuid::Uuid>>(10)
            .map_err(pg)?
            .map(CorrelationId),
        causation_id: row
            .try_get::<_, Option<uuid::Uuid>>(11)
            .map_err(pg)?
            .map(EventId),
        payload: raw(payload),
    })
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn append_all(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        for r in &requests {
            if r.events.is_empty() {
                return Err(StoreError::EmptyAppend(r.stream.clone()));
            }
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                requests,
                kept: None,
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn restore(&self, events: Vec<RecordedEvent>) -> Result<u64, StoreError> {
        let (requests, kept) = crate::rules::restoring(events)?;
        if requests.is_empty() {
            return self.head().await;
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                requests,
                kept: Some(kept),
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        let results = answer.await.map_err(|_| StoreError::Closed)??;
        Ok(results.iter().map(|r| r.last_position).max().unwrap_or(0))
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let from = i64::try_from(from_version).unwrap_or(i64::MAX);
        let rows = self
            .reader()
            .query(
                &format!("{SELECT_EVENT} WHERE s.name = $1 AND e.stream_version >= $2 ORDER BY e.stream_version"),
                &[&stream.as_str(), &from],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(decode_row).collect()
    }

    /// A reader going through the log page after page (a catch-up, a rebuild) gets its
    /// next pages read ahead, in parallel on the reader connections: a reader whose call
    /// starts where its last full page ended is going through the log, and the pages after
    /// this one are read as it folds this one (positions have no gap, so they start after
    /// `last`, `last + max`…). A single lookup (a full page and no next call) costs no
    /// extra query. A page read ahead is served only if it came back full: then it is
    /// exactly what a query now would return, the log below the head never changing. A
    /// short one (near the head) is dropped and the page read again.
    async fn read_all(&self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let (ahead, going_through) = {
            let mut state = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
            let page = state
                .pages
                .iter()
                .position(|(a, m, _)| *a == after && *m == max)
                .map(|i| state.pages.remove(i).2);
            let expected = state
                .expected
                .iter()
                .position(|e| *e == (after, max))
                .map(|i| state.expected.remove(i))
                .is_some();
            let going_through = page.is_some() || expected;
            (page, going_through)
        };
        let read_ahead = match ahead {
            Some(page) => page.await.ok().and_then(Result::ok),
            None => None,
        };
        let page = match read_ahead {
            Some(page) if page.len() == max => {
                self.stats
                    .pages_served_ahead
                    .fetch_add(1, Ordering::Relaxed);
                page
            }
            _ => self.readers.page(after, max).await?,
        };
        let Some(last) = page.last().map(|e| e.global_position) else {
            return Ok(page);
        };
        if page.len() < max {
            return Ok(page);
        }
        let mut state = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
        if !going_through {
            state.expected.push((last, max));
            if state.expected.len() > MAX_PAGES_AHEAD {
                state.expected.remove(0);
            }
            return Ok(page);
        }
        let step = max as u64;
        for k in 0..PAGES_AHEAD {
            let from = last + k * step;
            if state.pages.iter().any(|(a, m, _)| *a == from && *m == max) {
                continue;
            }
            let readers = self.readers.clone();
            let task = tokio::spawn(async move { readers.page(from, max).await });
            state.pages.push((from, max, task));
            self.stats.pages_read_ahead.fetch_add(1, Ordering::Relaxed);
        }
        // Two readings at once (the gateway and the projections at start) each keep
        // theirs; pages of a reading that stopped are dropped, oldest first.
        while state.pages.len() > MAX_PAGES_AHEAD {
            state.pages.remove(0).2.abort();
        }
        Ok(page)
    }

    async fn find_event(&self, event_id: EventId) -> Result<Option<RecordedEvent>, StoreError> {
        let row = self
            .reader()
            .query_opt(
                &format!("{SELECT_EVENT} WHERE e.event_id = $1"),
                &[&event_id.0],
            )
            .await
            .map_err(pg)?;
        row.as_ref().map(decode_row).transpose()
    }

    async fn head(&self) -> Result<u64, StoreError> {
        let row = self
            .reader()
            .query_one("SELECT coalesce(max(global_position), 0) FROM events", &[])
            .await
            .map_err(pg)?;
        let head: i64 = row.get(0);
        Ok(head as u64)
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    async fn put_key(&self, pupil: PupilId, key: PupilKey) -> Result<(), StoreError> {
        self.reader()
            .execute(
                "INSERT INTO pupil_keys (pupil_id, key) VALUES ($1, $2) \
                 ON CONFLICT (pupil_id) DO UPDATE SET key = EXCLUDED.key",
                &[&pupil.0, &key.0.as_slice()],
            )
            .await
            .map_err(pg)?;
        Ok(())
    }

    async fn get_key(&self, pupil: PupilId) -> Result<Option<PupilKey>, StoreError> {
        let row = self
            .reader()
            .query_opt(
                "SELECT key FROM pupil_keys WHERE pupil_id = $1",
                &[&pupil.0],
            )
            .await
            .map_err(pg)?;
        match row {
            None => Ok(None),
            Some(row) => {
                let bytes: Vec<u8> = row.get(0);
                let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
                    StoreError::Corrupt(format!("key of pupil {pupil} has a bad length"))
                })?;
                Ok(Some(PupilKey(key)))
            }
        }
    }

    async fn destroy_key(&self, pupil: PupilId) -> Result<bool, StoreError> {
        let n = self
            .reader()
            .execute("DELETE FROM pupil_keys WHERE pupil_id = $1", &[&pupil.0])
            .await
            .map_err(pg)?;
        Ok(n > 0)
    }
}
