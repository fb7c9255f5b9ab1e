//! Catch-up then live delivery of the global log, written once on top of the port.

use crate::{EventStore, StoreError};
use futures::Stream;
use std::collections::VecDeque;
use std::sync::Arc;
use suivi_domain::RecordedEvent;
use tokio::sync::watch;

/// How many events one catch-up read asks for.
const BATCH: usize = 1000;

struct State {
    store: Arc<dyn EventStore>,
    head: watch::Receiver<u64>,
    /// The last position handed out.
    position: u64,
    buffer: VecDeque<RecordedEvent>,
    done: bool,
}

/// Every event with a position greater than `after`, in order, each exactly once: first
/// what the log already holds (read in batches), then each new commit as its head is
/// announced. Waits on `watch_head` when caught up, never polls.
///
/// The stream ends after yielding an error (a failed read, a position out of sequence) or
/// `StoreError::Closed` when the store shuts down; resubscribe from the last position seen.
pub fn subscribe(
    store: Arc<dyn EventStore>,
    after: u64,
) -> impl Stream<Item = Result<RecordedEvent, StoreError>> + Send + 'static {
    let head = store.watch_head();
    let state = State {
        store,
        head,
        position: after,
        buffer: VecDeque::new(),
        done: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let item = state.next().await;
        if item.is_err() {
            state.done = true;
        }
        Some((item, state))
    })
}

impl State {
    async fn next(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                // Positions have no gaps: anything but the next one is a broken store.
                if event.global_position != self.position + 1 {
                    return Err(StoreError::Corrupt(format!(
                        "subscription got position {} right after position {}",
                        event.global_position, self.position
                    )));
                }
                self.position = event.global_position;
                return Ok(event);
            }
            // Marked seen before reading: a head announced from here on wakes the wait
            // below, and whatever was announced before is visible to this read (heads are
            // announced after their commit).
            self.head.borrow_and_update();
            let batch = self.store.read_all(self.position, BATCH).await?;
            if batch.is_empty() {
                if self.head.changed().await.is_err() {
                    return Err(StoreError::Closed);
                }
            } else {
                self.buffer.extend(batch);
            }
        }
    }
}
