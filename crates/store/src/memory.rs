//! The in-memory adapter: for tests and demos. Everything is lost when it is dropped.

use crate::rules::{check_expected, replayed, restoring, to_micros, Kept};
use crate::{AppendRequest, AppendResult, EventStore, StoreError};
use async_trait::async_trait;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use suivi_domain::identity::PupilKey;
use suivi_domain::ids::{EventId, PupilId};
use suivi_domain::{RecordedEvent, StreamName};
use tokio::sync::watch;

/// The log in a `Vec`, indexed by stream and by event id, behind one mutex.
pub struct MemoryStore {
    inner: Mutex<Inner>,
    head: watch::Sender<u64>,
}

#[derive(Default)]
struct Inner {
    /// `events[i].global_position == i + 1`.
    events: Vec<RecordedEvent>,
    /// Indexes into `events`, in stream-version order.
    streams: HashMap<StreamName, Vec<usize>>,
    ids: HashMap<EventId, usize>,
    keys: HashMap<PupilId, PupilKey>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            head: watch::channel(0).0,
        }
    }

    /// Called under the lock, so concurrent appends announce heads in order.
    fn announce(&self, inner: &Inner) {
        let head = inner.events.len() as u64;
        self.head.send_if_modified(|h| {
            let moved = head > *h;
            *h = head.max(*h);
            moved
        });
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied append: `append_all`
        // undoes its own pushes before returning an error, and pushes do not panic.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn version(&self, stream: &StreamName) -> Option<u64> {
        self.streams.get(stream).map(|v| v.len() as u64)
    }

    /// Appends one request; `kept` is what a restored request keeps from its source. The
    /// keys it carries go to `keys` to be stored with the commit (not for a retry: its keys
    /// were stored the first time).
    fn append(
        &mut self,
        request: AppendRequest,
        kept: Option<&Kept>,
        keys: &mut Vec<(PupilId, PupilKey)>,
    ) -> Result<AppendResult, StoreError> {
        let AppendRequest {
            stream,
            expected,
            events,
            keys: request_keys,
        } = request;
        let Some(first) = events.first() else {
            return Err(StoreError::EmptyAppend(stream));
        };
        if self.ids.contains_key(&first.event_id) {
            let mut stored = Vec::with_capacity(events.len());
            for event in &events {
                match self.ids.get(&event.event_id) {
                    Some(&i) => stored.push(self.events[i].clone()),
                    None => {
                        return Err(StoreError::IdempotencyMismatch {
                            event_id: event.event_id,
                        })
                    }
                }
            }
            let result = replayed(&stream, &stored, &events)?;
            if let Some(kept) = kept {
                kept.check_position(result.first_position)?;
            }
            return Ok(result);
        }
        check_expected(&stream, expected, self.version(&stream))?;
        if let Some(kept) = kept {
            kept.check_position(self.events.len() as u64 + 1)?;
        }
        let now = to_micros(Utc::now());
        let start = self.events.len();
        for (i, event) in events.into_iter().enumerate() {
            let recorded_at = kept
                .and_then(|k| k.recorded_at.get(i).copied())
                .unwrap_or(now);
            if self.ids.contains_key(&event.event_id) {
                // Part of the request is already stored, or an id repeats within it.
                self.undo_to(start);
                return Err(StoreError::IdempotencyMismatch {
                    event_id: event.event_id,
                });
            }
            let index = self.events.len();
            let versions = self.streams.entry(stream.clone()).or_default();
            versions.push(index);
            self.ids.insert(event.event_id, index);
            self.events.push(RecordedEvent {
                global_position: index as u64 + 1,
                stream: stream.clone(),
                stream_version: versions.len() as u64,
                event_id: event.event_id,
                event_type: event.event_type,
                schema_version: event.schema_version,
                occurred_at: to_micros(event.occurred_at),
                recorded_at,
                school_id: event.school_id,
                actor: event.actor,
                correlation_id: event.correlation_id,
                causation_id: event.causation_id,
                payload: event.payload,
            });
        }
        keys.extend(request_keys);
        let last = &self.events[self.events.len() - 1];
        Ok(AppendResult {
            stream_version: last.stream_version,
            first_position: start as u64 + 1,
            last_position: last.global_position,
        })
    }

    /// Removes every event from index `len` on (appends only push at the end).
    fn undo_to(&mut self, len: usize) {
        while self.events.len() > len {
            let Some(event) = self.events.pop() else {
                break;
            };
            self.ids.remove(&event.event_id);
            if let Some(versions) = self.streams.get_mut(&event.stream) {
                versions.pop();
                if versions.is_empty() {
                    self.streams.remove(&event.stream);
                }
            }
        }
    }
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn append_all(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        let mut inner = self.lock();
        let start = inner.events.len();
        let mut results = Vec::with_capacity(requests.len());
        let mut keys = Vec::new();
        for request in requests {
            match inner.append(request, None, &mut keys) {
                Ok(result) => results.push(result),
                Err(e) => {
                    inner.undo_to(start);
                    return Err(e);
                }
            }
        }
        inner.keys.extend(keys);
        self.announce(&inner);
        Ok(results)
    }

    async fn restore(&self, events: Vec<RecordedEvent>) -> Result<u64, StoreError> {
        let (requests, kept) = restoring(events)?;
        let mut inner = self.lock();
        let start = inner.events.len();
        for (request, kept) in requests.into_iter().zip(&kept) {
            // A restored log brings its keys through the key file, not its events.
            if let Err(e) = inner.append(request, Some(kept), &mut Vec::new()) {
                inner.undo_to(start);
                return Err(e);
            }
        }
        self.announce(&inner);
        Ok(inner.events.len() as u64)
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let inner = self.lock();
        let Some(versions) = inner.streams.get(stream) else {
            return Ok(Vec::new());
        };
        let skip = usize::try_from(from_version.saturating_sub(1)).unwrap_or(usize::MAX);
        Ok(versions
            .iter()
            .skip(skip)
            .map(|&i| inner.events[i].clone())
            .collect())
    }

    async fn read_all(&self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let inner = self.lock();
        let from = usize::try_from(after).unwrap_or(usize::MAX);
        Ok(inner.events.iter().skip(from).take(max).cloned().collect())
    }

    async fn head(&self) -> Result<u64, StoreError> {
        Ok(self.lock().events.len() as u64)
    }

    async fn find_event(&self, event_id: EventId) -> Result<Option<RecordedEvent>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .ids
            .get(&event_id)
            .and_then(|i| inner.events.get(*i))
            .cloned())
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    async fn put_key(&self, pupil: PupilId, key: PupilKey) -> Result<(), StoreError> {
        self.lock().keys.insert(pupil, key);
        Ok(())
    }

    async fn get_key(&self, pupil: PupilId) -> Result<Option<PupilKey>, StoreError> {
        Ok(self.lock().keys.get(&pupil).cloned())
    }

    async fn destroy_key(&self, pupil: PupilId) -> Result<bool, StoreError> {
        Ok(self.lock().keys.remove(&pupil).is_some())
    }
}
