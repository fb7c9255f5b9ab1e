//! The event store port and its adapters.
//!
//! One async port (`EventStore`), several adapters: `memory` (tests), `sqlite` (the embedded
//! default, one file, group commit), `postgres` (several servers on one database) and
//! `kurrentdb` (cargo feature). Every adapter passes the same contract suite
//! (`contract`). Subscriptions are written once, on top of the port (`subscription`).
//! Beside the log: the pages' sign-in sessions (`sessions`).

#[cfg(feature = "contract")]
pub mod contract;
#[cfg(feature = "kurrentdb")]
pub mod kurrentdb;
pub mod memory;
pub mod postgres;
mod rules;
pub mod sessions;
pub mod sqlite;
mod subscription;
mod url;

pub use subscription::subscribe;
pub use url::open;

use async_trait::async_trait;
use suivi_domain::identity::PupilKey;
use suivi_domain::ids::{EventId, PupilId};
use suivi_domain::{NewEvent, RecordedEvent, StreamName};
use tokio::sync::watch;

/// What the writer believes the stream's version is (optimistic concurrency).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have this version (1 for a stream of one event).
    Exact(u64),
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct AppendRequest {
    pub stream: StreamName,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    /// Pupils' data keys stored in the key table in the same commit as these events (a
    /// registration's key): written only if the events are, never by a refused or a
    /// retried (already stored) request.
    pub keys: Vec<(PupilId, PupilKey)>,
}

impl AppendRequest {
    pub fn new(stream: StreamName, expected: ExpectedVersion, events: Vec<NewEvent>) -> Self {
        AppendRequest {
            stream,
            expected,
            events,
            keys: Vec::new(),
        }
    }
}

/// Where an append landed. A retried append (same event ids) returns the first result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendResult {
    /// Version of the last event appended (the next `Exact` to expect).
    pub stream_version: u64,
    pub first_position: u64,
    pub last_position: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("stream {stream} expected {expected} but is at {}", actual.map_or("no stream".to_string(), |v| format!("version {v}")))]
    WrongExpectedVersion {
        stream: StreamName,
        expected: ExpectedVersion,
        actual: Option<u64>,
    },
    #[error("event {event_id} was already appended with other content or to another place; an id is used once")]
    IdempotencyMismatch { event_id: EventId },
    #[error("an append request to stream {0} holds no event")]
    EmptyAppend(StreamName),
    #[error("store URL {url:?} is not understood: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("store failure: {0}")]
    Backend(String),
    #[error("the store's data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is shut down")]
    Closed,
    #[error("restoring: {0}")]
    Restore(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("unsafe durability: {0}")]
    Durability(String),
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::WrongExpectedVersion { .. })
    }
}

/// The log of events: append with optimistic concurrency, read by stream or globally.
///
/// Positions: `global_position` starts at 1 and has no gaps; `read_all(after, max)` returns
/// events with position > `after` in order. `head()` is the last committed position and
/// `watch_head()` announces every new head.
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends every request atomically: all are written, or none is. Each request is
    /// checked against its expected version, and is idempotent on its event ids.
    async fn append_all(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<AppendResult>, StoreError>;

    async fn append(
        &self,
        stream: StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        let mut results = self
            .append_all(vec![AppendRequest::new(stream, expected, events)])
            .await?;
        results
            .pop()
            .ok_or(StoreError::Backend("append returned no result".into()))
    }

    /// Appends events another store recorded, keeping what that store gave them: global
    /// positions, stream versions and `recorded_at` (`suivi migrate`, `suivi import
    /// --restore`). The events must follow the head without a gap (the first at `head + 1`)
    /// and each at its stream's next version; otherwise nothing is written. All or nothing,
    /// and idempotent like `append_all`. Returns the new head. Adapters that cannot set
    /// `recorded_at` refuse with `Unsupported`.
    async fn restore(&self, events: Vec<RecordedEvent>) -> Result<u64, StoreError> {
        let _ = events;
        Err(StoreError::Unsupported(
            "this store cannot restore events with their recorded_at".into(),
        ))
    }

    /// Events of one stream with version >= `from_version` (1-based), in order.
    async fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Up to `max` events of the global log with position > `after`, in order.
    async fn read_all(&self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The last committed global position (0 when empty).
    async fn head(&self) -> Result<u64, StoreError>;

    /// The event with this id, if the log holds it: how a retried command whose first
    /// attempt was committed finds its answer. Adapters with an index on event ids override
    /// this scan of the whole log.
    async fn find_event(&self, event_id: EventId) -> Result<Option<RecordedEvent>, StoreError> {
        let mut after = 0;
        loop {
            let batch = self.read_all(after, 10_000).await?;
            let Some(last) = batch.last() else {
                return Ok(None);
            };
            after = last.global_position;
            if let Some(found) = batch.into_iter().find(|e| e.event_id == event_id) {
                return Ok(Some(found));
            }
        }
    }

    /// Announces the head after every commit; subscriptions wait on it instead of polling.
    fn watch_head(&self) -> watch::Receiver<u64>;

    /// The key table beside the log: per-pupil data keys. `put_key` is durable on return.
    async fn put_key(&self, pupil: PupilId, key: PupilKey) -> Result<(), StoreError>;
    async fn get_key(&self, pupil: PupilId) -> Result<Option<PupilKey>, StoreError>;
    /// Crypto-shredding: after this the pupil's sealed identity can never be opened.
    async fn destroy_key(&self, pupil: PupilId) -> Result<bool, StoreError>;
}
