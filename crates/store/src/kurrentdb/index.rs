//! The dense position index: suivi's global positions 1..n over KurrentDB's sparse `$all`
//! positions.
//!
//! Position n is the n-th event of this namespace in `$all` order. `$all` is one totally
//! ordered log, so every process that follows it computes the same numbering. The index is
//! rebuilt at connect (a forward read of `$all`) and then follows a filtered `$all`
//! subscription; it keeps per event its `$all` position (to number and to find events) and
//! its id (for idempotency), about 60 bytes an event.

use crate::StoreError;
use eventstore as es;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

/// Events read per page while catching up at connect.
const CATCH_UP_PAGE: usize = 4096;

/// The numbering itself: no IO.
#[derive(Default)]
pub struct Numbering {
    /// `positions[n - 1]` is the `$all` position of global position n; strictly increasing.
    positions: Vec<es::Position>,
    /// The first global position each event id got.
    ids: HashMap<Uuid, u64>,
}

impl Numbering {
    /// Numbers the next event of the namespace; an event at or before the last one seen
    /// (a resubscription's overlap) is skipped. Returns the global position given, if any.
    pub fn push(&mut self, id: Uuid, position: es::Position) -> Option<u64> {
        if self.positions.last().is_some_and(|last| position <= *last) {
            return None;
        }
        self.positions.push(position);
        let n = self.positions.len() as u64;
        if let Some(first) = self.ids.get(&id) {
            // Only a write racing another process's write of the same id gets here.
            tracing::warn!(event_id = %id, first = first, again = n, "event id stored twice in KurrentDB");
        } else {
            self.ids.insert(id, n);
        }
        Some(n)
    }

    pub fn head(&self) -> u64 {
        self.positions.len() as u64
    }

    pub fn of_id(&self, id: &Uuid) -> Option<u64> {
        self.ids.get(id).copied()
    }

    /// The `$all` position of global position `n` (1-based).
    pub fn position(&self, n: u64) -> Option<es::Position> {
        let i = usize::try_from(n.checked_sub(1)?).ok()?;
        self.positions.get(i).copied()
    }

    /// The global position of the event at `$all` position `position`.
    pub fn numbered(&self, position: es::Position) -> Option<u64> {
        self.positions
            .binary_search(&position)
            .ok()
            .map(|i| i as u64 + 1)
    }

    /// The `$all` positions of global positions `after + 1 ..= after + count`.
    pub fn range(&self, after: u64, count: u64) -> Vec<es::Position> {
        let from = usize::try_from(after).unwrap_or(usize::MAX);
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        self.positions
            .iter()
            .skip(from)
            .take(count)
            .copied()
            .collect()
    }
}

/// The numbering shared by the store and the task that follows `$all`.
pub struct Index {
    numbering: RwLock<Numbering>,
    head: watch::Sender<u64>,
}

impl Index {
    pub fn new() -> Arc<Self> {
        Arc::new(Index {
            numbering: RwLock::new(Numbering::default()),
            head: watch::channel(0).0,
        })
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Numbering> {
        // Writers only push whole entries; a panic elsewhere cannot leave one half-made.
        self.numbering
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, id: Uuid, position: es::Position) {
        let mut numbering = self
            .numbering
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Announced under the lock: whoever sees the event numbered sees its head announced.
        if let Some(n) = numbering.push(id, position) {
            self.head.send_replace(n);
        }
    }

    pub fn watch(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// Waits until `ready` holds for the numbering, or `patience` runs out (`None`).
    pub async fn wait_until<T>(
        &self,
        patience: Duration,
        ready: impl Fn(&Numbering) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + patience;
        let mut head = self.watch();
        loop {
            // Marked seen before looking: a record from here on wakes the wait below.
            head.borrow_and_update();
            if let Some(found) = ready(&self.read()) {
                return Some(found);
            }
            match tokio::time::timeout_at(deadline, head.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return None,
            }
        }
    }
}

/// Numbers every event of the namespace already in `$all` (a paged forward read of the
/// whole `$all`: this client can filter subscriptions, not reads). Returns the last `$all`
/// position read, where the live subscription takes over.
pub async fn catch_up(
    client: &es::Client,
    events_prefix: &str,
    index: &Index,
) -> Result<Option<es::Position>, StoreError> {
    let mut last: Option<es::Position> = None;
    loop {
        let options = es::ReadAllOptions::default()
            .position(last.map_or(es::StreamPosition::Start, es::StreamPosition::Position))
            .forwards()
            .max_count(CATCH_UP_PAGE);
        let mut page = client
            .read_all(&options)
            .await
            .map_err(|e| backend("reading $all to build the position index", e))?;
        let mut read = 0;
        let mut advanced = false;
        while let Some(resolved) = page
            .next()
            .await
            .map_err(|e| backend("reading $all to build the position index", e))?
        {
            read += 1;
            let Some(event) = resolved.event else {
                continue;
            };
            // A read from a position may or may not include it: skip what was seen.
            if last.is_some_and(|l| event.position <= l) {
                continue;
            }
            last = Some(event.position);
            advanced = true;
            if event.stream_id.starts_with(events_prefix) {
                index.record(event.id, event.position);
            }
        }
        if read < CATCH_UP_PAGE || !advanced {
            tracing::debug!(
                head = index.read().head(),
                "KurrentDB position index caught up"
            );
            return Ok(last);
        }
    }
}

/// Follows `$all` (filtered on the namespace) from `from` for as long as the store lives,
/// resubscribing after a failure from the last event seen.
pub async fn follow(
    client: es::Client,
    events_prefix: String,
    index: Arc<Index>,
    mut from: Option<es::Position>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let options = es::SubscribeToAllOptions::default()
            .position(from.map_or(es::StreamPosition::Start, es::StreamPosition::Position))
            .filter(es::SubscriptionFilter::on_stream_name().add_prefix(&events_prefix));
        let mut subscription = client.subscribe_to_all(&options).await;
        loop {
            match subscription.next_subscription_event().await {
                Ok(es::SubscriptionEvent::EventAppeared(resolved)) => {
                    backoff = Duration::from_millis(200);
                    let Some(event) = resolved.event else {
                        continue;
                    };
                    from = Some(event.position);
                    if event.stream_id.starts_with(&events_prefix) {
                        index.record(event.id, event.position);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "KurrentDB $all subscription dropped");
                    break;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

pub fn backend(doing: &str, e: es::Error) -> StoreError {
    StoreError::Backend(format!("KurrentDB, {doing}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(commit: u64, prepare: u64) -> es::Position {
        es::Position { commit, prepare }
    }

    #[test]
    fn numbers_events_densely_in_all_order() {
        let mut n = Numbering::default();
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        assert_eq!(n.push(a, at(100, 100)), Some(1));
        // Two events of one write share a commit position and differ by prepare position.
        assert_eq!(n.push(b, at(900, 700)), Some(2));
        assert_eq!(n.push(c, at(900, 800)), Some(3));
        // A resubscription's overlap is skipped.
        assert_eq!(n.push(c, at(900, 800)), None);
        assert_eq!(n.push(b, at(900, 700)), None);
        assert_eq!(n.head(), 3);
        assert_eq!(n.of_id(&b), Some(2));
        assert_eq!(n.of_id(&Uuid::from_u128(9)), None);
        assert_eq!(n.position(1), Some(at(100, 100)));
        assert_eq!(n.position(0), None);
        assert_eq!(n.position(4), None);
        assert_eq!(n.numbered(at(900, 700)), Some(2));
        assert_eq!(n.numbered(at(900, 750)), None);
        assert_eq!(n.range(1, 5), [at(900, 700), at(900, 800)]);
        assert!(n.range(3, 5).is_empty());
        assert!(n.range(u64::MAX, 5).is_empty());
    }

    #[test]
    fn a_duplicated_id_keeps_its_first_position_but_still_counts() {
        let mut n = Numbering::default();
        let a = Uuid::from_u128(1);
        n.push(a, at(1, 1));
        assert_eq!(n.push(a, at(2, 2)), Some(2));
        assert_eq!(n.of_id(&a), Some(1));
        assert_eq!(n.head(), 2);
    }

    #[tokio::test]
    async fn waiting_ends_when_the_index_gets_there_or_patience_runs_out() {
        let index = Index::new();
        let id = Uuid::from_u128(7);
        let later = Arc::clone(&index);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            later.record(id, at(5, 5));
        });
        let found = index
            .wait_until(Duration::from_secs(5), |n| n.of_id(&id))
            .await;
        assert_eq!(found, Some(1));
        assert_eq!(*index.watch().borrow(), 1);
        let missing = index
            .wait_until(Duration::from_millis(30), |n| n.of_id(&Uuid::from_u128(8)))
            .await;
        assert_eq!(missing, None);
    }
}
