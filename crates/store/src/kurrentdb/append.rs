//! Appends on KurrentDB: the checks KurrentDB does not make (idempotency on ids, several
//! requests in one call), then one KurrentDB append per call, numbered by the index.

use super::envelope::{
    actual_version, event_data, expected_revision, revision_at, version_of_revision,
};
use super::index::backend;
use super::{KurrentDbStore, INDEX_PATIENCE};
use crate::rules::{check_expected, replayed};
use crate::{AppendRequest, AppendResult, EventStore, StoreError};
use eventstore as es;
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use suivi_domain::ids::EventId;
use suivi_domain::StreamName;
use tokio::sync::Notify;
use uuid::Uuid;

/// How often a call of several requests re-reads the stream when another writer moved it
/// between the read and the write, before it reports the conflict.
const RACE_RETRIES: usize = 3;

impl KurrentDbStore {
    pub(super) async fn append_requests(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        for r in &requests {
            if r.events.is_empty() {
                return Err(StoreError::EmptyAppend(r.stream.clone()));
            }
        }
        let Some(first) = requests.first() else {
            return Ok(Vec::new());
        };
        let stream = first.stream.clone();
        if let Some(other) = requests.iter().find(|r| r.stream != stream) {
            return Err(StoreError::Backend(format!(
                "KurrentDB cannot append to several streams atomically: this call appends to \
                 stream {stream} and stream {}; append to one stream per call",
                other.stream
            )));
        }
        let ids: Vec<Uuid> = requests
            .iter()
            .flat_map(|r| &r.events)
            .map(|e| e.event_id.0)
            .collect();
        let mut seen = HashSet::with_capacity(ids.len());
        if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
            return Err(StoreError::IdempotencyMismatch {
                event_id: EventId(*twice),
            });
        }
        // From here until the append is numbered, no other append of this process may carry
        // these ids: the index check below would not see it.
        let _claim = self.claims.claim(&ids).await;

        let mut results: Vec<Option<AppendResult>> = vec![None; requests.len()];
        for (slot, request) in results.iter_mut().zip(&requests) {
            let known: Vec<Option<u64>> = {
                let numbering = self.index.read();
                request
                    .events
                    .iter()
                    .map(|e| numbering.of_id(&e.event_id.0))
                    .collect()
            };
            if known.iter().all(Option::is_none) {
                continue;
            }
            let Some(known) = known.iter().copied().collect::<Option<Vec<u64>>>() else {
                // Part of the request is stored: name the first stored id.
                let stored = request
                    .events
                    .iter()
                    .zip(&known)
                    .find(|(_, k)| k.is_some())
                    .map_or(request.events[0].event_id, |(e, _)| e.event_id);
                return Err(StoreError::IdempotencyMismatch { event_id: stored });
            };
            *slot = Some(self.replay(request, &known).await?);
        }
        let fresh: Vec<&AppendRequest> = requests
            .iter()
            .zip(&results)
            .filter(|(_, done)| done.is_none())
            .map(|(r, _)| r)
            .collect();
        let mut written = if fresh.is_empty() {
            Vec::new()
        } else {
            self.write(&stream, &fresh).await?
        }
        .into_iter();
        // KurrentDB has no transaction over two streams: a fresh request's keys are stored
        // after its events, never before (a refused append must not replace a key). A crash
        // in between leaves the new pupil's identity unreadable, never another's.
        for request in &fresh {
            for (pupil, key) in &request.keys {
                self.put_key(*pupil, key.clone()).await?;
            }
        }
        results
            .into_iter()
            .map(|done| {
                done.or_else(|| written.next()).ok_or_else(|| {
                    StoreError::Backend(format!(
                        "append to stream {stream} returned fewer results than requests"
                    ))
                })
            })
            .collect()
    }

    /// A retried request: its events are at `known`; the first result if they are the same
    /// events, in the same stream, consecutive.
    async fn replay(
        &self,
        request: &AppendRequest,
        known: &[u64],
    ) -> Result<AppendResult, StoreError> {
        let first = known.first().copied().unwrap_or(0);
        if let Some(i) = (0..known.len()).find(|&i| known[i] != first + i as u64) {
            return Err(StoreError::IdempotencyMismatch {
                event_id: request.events[i].event_id,
            });
        }
        let stored = self
            .read_range(first.saturating_sub(1), known.len())
            .await?;
        replayed(&request.stream, &stored, &request.events)
    }

    /// Writes the requests (all to `stream`, none stored yet) as one KurrentDB append.
    async fn write(
        &self,
        stream: &StreamName,
        requests: &[&AppendRequest],
    ) -> Result<Vec<AppendResult>, StoreError> {
        let name = self.target.stream(stream);
        let single = match requests {
            [only] => expected_revision(only.expected).map(|revision| (only, revision)),
            _ => None,
        };
        let written = if let Some((only, revision)) = single {
            // KurrentDB checks the expected version itself.
            match self.send(stream, &name, revision, requests).await? {
                Ok(written) => written,
                Err(current) => {
                    return Err(StoreError::WrongExpectedVersion {
                        stream: stream.clone(),
                        expected: only.expected,
                        actual: actual_version(current),
                    })
                }
            }
        } else {
            // Each request is checked against the stream as the earlier ones leave it, then
            // all are written at once, expecting the version read.
            let mut tries = 0;
            loop {
                let current = self.current_version(stream, &name).await?;
                let mut version = current;
                for r in requests {
                    check_expected(stream, r.expected, version)?;
                    version = Some(version.unwrap_or(0) + r.events.len() as u64);
                }
                match self
                    .send(stream, &name, revision_at(current), requests)
                    .await?
                {
                    Ok(written) => break written,
                    Err(_) if tries < RACE_RETRIES => tries += 1,
                    Err(moved) => {
                        return Err(StoreError::WrongExpectedVersion {
                            stream: stream.clone(),
                            expected: requests[0].expected,
                            actual: actual_version(moved),
                        })
                    }
                }
            }
        };
        self.numbered(stream, requests, &written).await
    }

    /// One KurrentDB append; `Err(current)` when KurrentDB refused the expected revision.
    async fn send(
        &self,
        stream: &StreamName,
        name: &str,
        revision: es::ExpectedRevision,
        requests: &[&AppendRequest],
    ) -> Result<Result<es::WriteResult, es::CurrentRevision>, StoreError> {
        let events = requests
            .iter()
            .flat_map(|r| &r.events)
            .map(event_data)
            .collect::<Result<Vec<_>, _>>()?;
        let options = es::AppendToStreamOptions::default().expected_revision(revision);
        match self.client.append_to_stream(name, &options, events).await {
            Ok(written) => Ok(Ok(written)),
            Err(es::Error::WrongExpectedVersion { current, .. }) => Ok(Err(current)),
            Err(es::Error::ResourceDeleted) => Err(deleted(stream, name)),
            Err(e) => Err(backend(&format!("appending to stream {stream}"), e)),
        }
    }

    /// The results of a write, once the index has numbered its events.
    async fn numbered(
        &self,
        stream: &StreamName,
        requests: &[&AppendRequest],
        written: &es::WriteResult,
    ) -> Result<Vec<AppendResult>, StoreError> {
        let bounds: Vec<(Uuid, Uuid)> = requests
            .iter()
            .filter_map(|r| Some((r.events.first()?.event_id.0, r.events.last()?.event_id.0)))
            .collect();
        let positions = self
            .index
            .wait_until(INDEX_PATIENCE, |numbering| {
                bounds
                    .iter()
                    .map(|(first, last)| Some((numbering.of_id(first)?, numbering.of_id(last)?)))
                    .collect::<Option<Vec<(u64, u64)>>>()
            })
            .await
            .ok_or_else(|| {
                StoreError::Backend(format!(
                    "KurrentDB took the append to stream {stream} (revision {}, $all position \
                     {}) but the position index did not see it within {INDEX_PATIENCE:?}",
                    written.next_expected_version, written.position
                ))
            })?;
        let total: u64 = requests.iter().map(|r| r.events.len() as u64).sum();
        let mut version = version_of_revision(written.next_expected_version).saturating_sub(total);
        let mut results = Vec::with_capacity(requests.len());
        for (request, (first, last)) in requests.iter().zip(positions) {
            let n = request.events.len() as u64;
            version += n;
            if last + 1 != first + n {
                tracing::warn!(stream = %stream, first, last, events = n, "an append's events are not contiguous in the position index");
            }
            results.push(AppendResult {
                stream_version: version,
                first_position: first,
                last_position: last,
            });
        }
        Ok(results)
    }

    /// The stream's version (its last event's), `None` when it does not exist.
    async fn current_version(
        &self,
        stream: &StreamName,
        name: &str,
    ) -> Result<Option<u64>, StoreError> {
        let doing = || format!("reading the version of stream {stream}");
        let options = es::ReadStreamOptions::default()
            .position(es::StreamPosition::End)
            .backwards()
            .max_count(1);
        let mut read = match self.client.read_stream(name, &options).await {
            Ok(read) => read,
            Err(es::Error::ResourceNotFound) => return Ok(None),
            Err(es::Error::ResourceDeleted) => return Err(deleted(stream, name)),
            Err(e) => return Err(backend(&doing(), e)),
        };
        match read.next().await {
            Ok(Some(resolved)) => Ok(resolved.event.map(|e| version_of_revision(e.revision))),
            Ok(None) | Err(es::Error::ResourceNotFound) => Ok(None),
            Err(es::Error::ResourceDeleted) => Err(deleted(stream, name)),
            Err(e) => Err(backend(&doing(), e)),
        }
    }
}

/// suivi never deletes an event stream: one that is deleted was deleted behind its back.
pub(super) fn deleted(stream: &StreamName, name: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "stream {stream} (KurrentDB stream {name}) was deleted in KurrentDB; suivi never \
         deletes a stream"
    ))
}

/// The event ids of the appends in flight in this process.
#[derive(Default)]
pub(super) struct Claims {
    held: Mutex<HashSet<Uuid>>,
    released: Notify,
}

pub(super) struct Claim<'a> {
    claims: &'a Claims,
    ids: Vec<Uuid>,
}

impl Claims {
    /// Waits until no append in flight carries any of `ids`, then holds them.
    pub async fn claim(&self, ids: &[Uuid]) -> Claim<'_> {
        loop {
            // Registered before looking, so a release in between still wakes it.
            let released = self.released.notified();
            {
                let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
                if ids.iter().all(|id| !held.contains(id)) {
                    held.extend(ids.iter().copied());
                    return Claim {
                        claims: self,
                        ids: ids.to_vec(),
                    };
                }
            }
            released.await;
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut held = self
            .claims
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for id in &self.ids {
            held.remove(id);
        }
        drop(held);
        self.claims.released.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn an_append_waits_for_another_carrying_the_same_id() {
        let claims = Arc::new(Claims::default());
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let first = claims.claim(&[a, b]).await;
        // A disjoint claim goes through at once.
        drop(claims.claim(&[Uuid::from_u128(3)]).await);
        let waiter = {
            let claims = Arc::clone(&claims);
            tokio::spawn(async move {
                let _second = claims.claim(&[b]).await;
            })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!waiter.is_finished(), "the second claim did not wait");
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the second claim was not woken")
            .unwrap();
        assert!(claims.held.lock().unwrap().is_empty());
    }
}
