//! The KurrentDB (EventStoreDB) adapter, on the `eventstore` 4 gRPC client. Built only with
//! the `kurrentdb` feature. Not run against a server yet: see "Tested" below.
//!
//! KurrentDB is an event store already, so most of the port maps onto it directly; the
//! rest is emulated, and two promises cannot be kept exactly. What maps how:
//!
//! **Streams.** suivi's stream `s` is the KurrentDB stream `{prefix}-s`. The prefix (the
//! URL's `?prefix=`, default `suivi`; letters, digits, underscores) is a namespace: several
//! suivi instances, or test cases, share a server without seeing each other's events.
//!
//! **Expected versions** map exactly: `NoStream` → `ExpectedRevision::NoStream`,
//! `Exact(n)` → `Exact(n - 1)` (KurrentDB revisions are 0-based), `Any` → `Any`.
//! KurrentDB checks them and its refusal carries the stream's current revision, which
//! becomes `WrongExpectedVersion { actual }`. `Exact(0)` names no revision (no stream is at
//! version 0) and can only conflict: it is refused after reading the actual version.
//!
//! **Envelope.** The event id is KurrentDB's event id, the event type its type, the payload
//! its data (content type JSON, the text byte for byte: a `RawValue` serialises verbatim).
//! `occurred_at`, `school_id`, `actor`, `schema_version` and the event type go into the
//! custom metadata JSON, correlation and causation as `$correlationId` / `$causationId`
//! (KurrentDB's own names, which its `$by_correlation_id` projection reads). `recorded_at`
//! is the server's `created` time, kept to the microsecond (so it is the server's clock).
//!
//! **Dense positions — emulated.** KurrentDB's `$all` positions (commit/prepare) are byte
//! offsets, sparse and shared with every other stream; the port promises 1, 2, 3… with no
//! gap. This adapter numbers the namespace's events in `$all` order in an in-process index
//! (`index`): built at connect by reading `$all` from the start, then kept up by a
//! `$all` subscription filtered on the prefix. `$all` is totally ordered, so every process
//! computes the same numbering, and a single append's events are contiguous in it. An
//! append returns once the index has numbered its events, so `head()`, `watch_head()` and
//! `AppendResult` agree with it. Costs, chosen over a `$suivi-positions` stream (a second
//! write per append that a crash could leave out of step with the first):
//! - connect reads the whole `$all` once (the `eventstore` 4 client filters subscriptions,
//!   not reads), so it takes time proportional to the server's log, other namespaces
//!   included; the index holds about 60 bytes per event in memory;
//! - an append waits for its own events to come back through the subscription (one extra
//!   round trip, a few milliseconds);
//! - `read_all(after, max)` reads `$all` forward from the position of event `after` and
//!   skips other namespaces' events on the client;
//! - `head()` is this process's index: exact after its own appends, behind another
//!   process's appends by the subscription's latency;
//! - positions are stable as long as no event of the namespace leaves `$all`. Deleting or
//!   truncating a suivi stream (`$maxAge`, `$maxCount`, a tombstone) followed by a scavenge
//!   renumbers everything after it. suivi never does; an operator must not either.
//!
//! **Subscriptions** need nothing here: `crate::subscribe` reads `read_all` and waits on
//! `watch_head`, which the index announces after each event it numbers.
//!
//! **Idempotency — emulated, exact within one process.** KurrentDB deduplicates a retried
//! append only when the same ids come back at the same expected revision, and silently
//! writes an id twice otherwise; it never refuses an id reused for other content. So the
//! adapter checks ids against the index first: a request whose events are all stored is a
//! retry (the same events, same stream, consecutive, compared by `rules::replayed`) and gets
//! the first result; a partial overlap, or other content, is `IdempotencyMismatch`. Ids in
//! flight are claimed, so two appends of one process carrying the same id run one after the
//! other. Across processes the index check can race: two processes appending the same new
//! id at the same instant may both write it (the index keeps the first position; the
//! second copy still takes a position). KurrentDB's own deduplication covers the common
//! case, a retry with `Exact`/`NoStream` of a write that already landed.
//!
//! **`append_all` of several streams — not possible.** KurrentDB ≤ 24 has no transaction
//! across streams (25.1 added multi-stream appends, which the `eventstore` 4 client does not
//! expose). A call whose requests name more than one stream is refused whole with
//! `StoreError::Backend("KurrentDB cannot append to several streams atomically…")`, before
//! anything is written; the contract case `append_all_is_all_or_nothing` therefore fails on
//! this adapter, by design. Several requests to *one* stream are exact: each is checked
//! against the stream as the earlier ones leave it, then all are written as one KurrentDB
//! append expecting the version read (re-read and re-checked if another writer moved the
//! stream in between). A call mixing retried and new requests writes only the new ones.
//!
//! **Key table — emulated, erasure deferred.** KurrentDB has no mutable rows. A pupil's key
//! is the last event of the stream `{prefix}.keys-{pupil}` (outside the events' namespace,
//! so keys never get a global position), with `$maxCount = 1` so a replaced key becomes
//! garbage. `destroy_key` tombstones the stream (a hard delete): it reads as absent at once,
//! and can never be written again, so a destroyed pupil's key cannot be put back (the other
//! adapters allow it). But the bytes stay in the database files until a **scavenge** runs
//! (and in any backup taken before it): crypto-shredding on KurrentDB is complete only after
//! the next scavenge. Schedule one after erasures.
//!
//! **Limits.** Reading and subscribing to `$all` needs a user allowed to (an admin by
//! default on a secure server). KurrentDB refuses one append larger than its
//! `MaxAppendSize` (1 MiB by default): a bulk import appends in smaller requests.
//!
//! **Tested.** The pure parts (URL, names, envelope, revisions, numbering, claims) have unit
//! tests. The contract suite (`tests/contract_kurrentdb.rs`) runs only against a server
//! named by `SUIVI_KURRENTDB_URL`; none was available when this was written, so it has
//! never run against KurrentDB.

mod append;
mod envelope;
mod index;
mod keys;
mod target;

pub use target::{Target, DEFAULT_PREFIX};

use crate::{AppendRequest, AppendResult, EventStore, StoreError};
use append::{deleted, Claims};
use async_trait::async_trait;
use eventstore as es;
use index::{backend, Index};
use std::sync::Arc;
use std::time::Duration;
use suivi_domain::identity::PupilKey;
use suivi_domain::ids::PupilId;
use suivi_domain::{RecordedEvent, StreamName};
use tokio::sync::watch;

/// How long an append or a read waits for the index to number an event KurrentDB has.
const INDEX_PATIENCE: Duration = Duration::from_secs(30);

pub struct KurrentDbStore {
    client: es::Client,
    target: Target,
    index: Arc<Index>,
    claims: Claims,
    follower: tokio::task::JoinHandle<()>,
}

impl KurrentDbStore {
    /// Connects (`kurrentdb://host:2113?tls=false&prefix=name`, see `Target::parse`),
    /// numbers the namespace's events already stored, and starts following `$all`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let target = Target::parse(url)?;
        let client = es::Client::new(target.settings.clone())
            .map_err(|e| backend("creating the client", e))?;
        let index = Index::new();
        let events_prefix = target.events_prefix();
        let from = index::catch_up(&client, &events_prefix, &index).await?;
        let follower = tokio::spawn(index::follow(
            client.clone(),
            events_prefix,
            Arc::clone(&index),
            from,
        ));
        tracing::info!(prefix = %target.prefix, head = index.read().head(), "connected to KurrentDB");
        Ok(KurrentDbStore {
            client,
            target,
            index,
            claims: Claims::default(),
            follower,
        })
    }

    /// The namespace this store's streams live in.
    pub fn prefix(&self) -> &str {
        &self.target.prefix
    }

    /// Events `after + 1 ..= after + max` (as far as the index goes), read from `$all`.
    async fn read_range(&self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let (from, wanted) = {
            let numbering = self.index.read();
            let wanted = numbering.range(after, u64::try_from(max).unwrap_or(u64::MAX));
            (numbering.position(after), wanted)
        };
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let doing = || format!("reading $all after global position {after}");
        // From event `after` itself: whether a read includes its start position or not,
        // skipping what is not after it is right.
        let options = es::ReadAllOptions::default()
            .position(from.map_or(es::StreamPosition::Start, es::StreamPosition::Position))
            .forwards();
        let mut read = self
            .client
            .read_all(&options)
            .await
            .map_err(|e| backend(&doing(), e))?;
        let mut events = Vec::with_capacity(wanted.len());
        while let Some(&expected) = wanted.get(events.len()) {
            let Some(resolved) = read.next().await.map_err(|e| backend(&doing(), e))? else {
                break;
            };
            let Some(event) = resolved.event else {
                continue;
            };
            if from.is_some_and(|f| event.position <= f) {
                continue;
            }
            let Some(stream) = self.target.suivi_stream(&event.stream_id) else {
                continue;
            };
            let n = after + events.len() as u64 + 1;
            if event.position != expected {
                return Err(StoreError::Corrupt(format!(
                    "global position {n} is $all position {expected} in the index, but the next \
                     event of the namespace in $all is at {} (event {} of stream {stream})",
                    event.position, event.id
                )));
            }
            events.push(envelope::decode(stream, &event, n)?);
        }
        if events.len() < wanted.len() {
            return Err(StoreError::Corrupt(format!(
                "$all after global position {after} holds {} of the {} events the index \
                 numbered: were events of the namespace deleted and scavenged?",
                events.len(),
                wanted.len()
            )));
        }
        Ok(events)
    }
}

impl Drop for KurrentDbStore {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

#[async_trait]
impl EventStore for KurrentDbStore {
    async fn append_all(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        self.append_requests(requests).await
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let name = self.target.stream(stream);
        let doing = || format!("reading stream {stream}");
        let options = es::ReadStreamOptions::default()
            .position(es::StreamPosition::Position(from_version.saturating_sub(1)))
            .forwards();
        let mut read = match self.client.read_stream(name.as_str(), &options).await {
            Ok(read) => read,
            Err(es::Error::ResourceNotFound) => return Ok(Vec::new()),
            Err(es::Error::ResourceDeleted) => return Err(deleted(stream, &name)),
            Err(e) => return Err(backend(&doing(), e)),
        };
        let mut events = Vec::new();
        loop {
            let event = match read.next().await {
                Ok(Some(resolved)) => match resolved.event {
                    Some(event) => event,
                    None => continue,
                },
                Ok(None) | Err(es::Error::ResourceNotFound) => break,
                Err(es::Error::ResourceDeleted) => return Err(deleted(stream, &name)),
                Err(e) => return Err(backend(&doing(), e)),
            };
            let position = event.position;
            let numbered = self.index.read().numbered(position);
            let n = match numbered {
                Some(n) => n,
                // Appended by another process a moment ago: the subscription brings it.
                None => self
                    .index
                    .wait_until(INDEX_PATIENCE, |numbering| numbering.numbered(position))
                    .await
                    .ok_or_else(|| {
                        StoreError::Backend(format!(
                            "event {} of stream {stream} (at $all position {position}) was not \
                             numbered by the position index within {INDEX_PATIENCE:?}",
                            event.id
                        ))
                    })?,
            };
            events.push(envelope::decode(stream.clone(), &event, n)?);
        }
        Ok(events)
    }

    async fn read_all(&self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.read_range(after, max).await
    }

    async fn head(&self) -> Result<u64, StoreError> {
        Ok(self.index.read().head())
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.index.watch()
    }

    async fn put_key(&self, pupil: PupilId, key: PupilKey) -> Result<(), StoreError> {
        keys::put(&self.client, self.target.key_stream(pupil), pupil, &key).await
    }

    async fn get_key(&self, pupil: PupilId) -> Result<Option<PupilKey>, StoreError> {
        keys::get(&self.client, self.target.key_stream(pupil), pupil).await
    }

    async fn destroy_key(&self, pupil: PupilId) -> Result<bool, StoreError> {
        keys::destroy(&self.client, self.target.key_stream(pupil), pupil).await
    }
}
