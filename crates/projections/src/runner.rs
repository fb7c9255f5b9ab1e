//! The projection runner: catches up from the store, then follows it live.
//!
//! One task owns the working `ReadModels` and is the only writer. It reads the global log
//! in batches (`read_all`) from its position, folds each batch, and publishes a snapshot:
//! `Arc<ReadModels>` in an `ArcSwap` (readers load it without a lock and never wait for the
//! fold), then the new position on a `watch` channel (for `wait_for`, to read one's own
//! write), then an `Applied` notice on a `broadcast` channel (for GraphQL subscriptions).
//! Once the log is drained it follows `suivi_store::subscribe` from the last position it
//! folded, publishing after every group of events that arrived together: a catch-up
//! subscription that neither skips nor repeats an event. On a store error it waits a
//! little and subscribes again from its own position.
//!
//! While catching up on a long log, snapshots are published at most every
//! `publish_every` (250 ms) so that copy-on-write copies stay rare; once caught up, every
//! batch is published at once.
//!
//! While catching up, a second task reads the next batch and decodes its payloads (on a
//! blocking thread) while the runner folds the current one: reading and decoding cost
//! more than folding, and on two cores the two halves overlap. At most two decoded batches
//! wait for the fold.

use crate::journal::Logged;
use crate::model::{ReadModels, Target};
use arc_swap::ArcSwap;
use futures::StreamExt;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use suivi_domain::ids::{ClassId, PupilId};
use suivi_domain::RecordedEvent;
use suivi_store::EventStore;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

#[derive(Clone, Copy, Debug)]
pub struct RunnerOptions {
    /// Events read per `read_all`.
    pub batch_size: usize,
    /// While catching up, the longest time between two published snapshots.
    pub publish_every: Duration,
    /// Capacity of the change notices channel (a slow subscriber misses older notices and
    /// is told it lagged).
    pub notices: usize,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            batch_size: 5_000,
            publish_every: Duration::from_millis(250),
            notices: 1_024,
        }
    }
}

/// "Applied up to `position`, touching these classes and pupils".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub position: u64,
    /// Reference data changed (a period, subject, pupil, enrolment…).
    pub reference: bool,
    pub classes: Arc<[ClassId]>,
    pub pupils: Arc<[PupilId]>,
}

impl Applied {
    pub fn touches_class(&self, class: ClassId) -> bool {
        self.classes.binary_search(&class).is_ok()
    }

    pub fn touches_pupil(&self, pupil: PupilId) -> bool {
        self.pupils.binary_search(&pupil).is_ok()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("the projection runner has stopped")]
    Stopped,
    #[error(transparent)]
    Store(#[from] suivi_store::StoreError),
}

struct Shared {
    snapshot: ArcSwap<ReadModels>,
    position: watch::Receiver<u64>,
    changes: broadcast::Sender<Applied>,
}

/// A running projection: the latest snapshot, its position, and change notices.
/// Dropping it stops the task.
pub struct Projections {
    shared: Arc<Shared>,
    store: Arc<dyn EventStore>,
    task: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
struct Pending {
    reference: bool,
    classes: BTreeSet<ClassId>,
    pupils: BTreeSet<PupilId>,
}

impl Projections {
    /// Starts folding the store's log in a task of the current tokio runtime.
    pub fn start(store: Arc<dyn EventStore>) -> Projections {
        Projections::start_with(store, RunnerOptions::default())
    }

    pub fn start_with(store: Arc<dyn EventStore>, options: RunnerOptions) -> Projections {
        let (position_tx, position_rx) = watch::channel(0);
        let (changes, _) = broadcast::channel(options.notices.max(1));
        let shared = Arc::new(Shared {
            snapshot: ArcSwap::from_pointee(ReadModels::new()),
            position: position_rx,
            changes,
        });
        let task = tokio::spawn(run(store.clone(), shared.clone(), position_tx, options));
        Projections {
            shared,
            store,
            task: Mutex::new(Some(task)),
        }
    }

    /// The latest published read models. Never blocks.
    pub fn snapshot(&self) -> Arc<ReadModels> {
        self.shared.snapshot.load_full()
    }

    /// The global position of the latest published snapshot.
    pub fn position(&self) -> u64 {
        *self.shared.position.borrow()
    }

    /// Waits until a snapshot at `position` or later is published, and returns it. Use it
    /// after a write (with the write's `last_position`) to read one's own write.
    pub async fn wait_for(&self, position: u64) -> Result<Arc<ReadModels>, ProjectionError> {
        let mut rx = self.shared.position.clone();
        rx.wait_for(|p| *p >= position)
            .await
            .map_err(|_| ProjectionError::Stopped)?;
        Ok(self.snapshot())
    }

    /// Waits until everything the store held when called is folded.
    pub async fn caught_up(&self) -> Result<Arc<ReadModels>, ProjectionError> {
        let head = self.store.head().await?;
        self.wait_for(head).await
    }

    /// Change notices, one per published snapshot.
    pub fn changes(&self) -> broadcast::Receiver<Applied> {
        self.shared.changes.subscribe()
    }

    /// The published position, as a `watch` channel.
    pub fn watch_position(&self) -> watch::Receiver<u64> {
        self.shared.position.clone()
    }

    /// Stops the task; the last snapshot stays readable.
    pub fn stop(&self) {
        let mut task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = task.take() {
            task.abort();
        }
    }
}

impl Drop for Projections {
    fn drop(&mut self) {
        self.stop();
    }
}

fn publish(
    models: &ReadModels,
    shared: &Shared,
    position_tx: &watch::Sender<u64>,
    pending: &mut Pending,
) {
    shared.snapshot.store(Arc::new(models.clone()));
    position_tx.send_replace(models.position());
    let done = std::mem::take(pending);
    let _ = shared.changes.send(Applied {
        position: models.position(),
        reference: done.reference,
        classes: done.classes.into_iter().collect(),
        pupils: done.pupils.into_iter().collect(),
    });
}

fn note(pending: &mut Pending, touch: &crate::model::Touch) {
    pending.reference |= touch.target == Target::Reference;
    pending.classes.extend(touch.classes.iter().flatten());
    pending.pupils.extend(touch.pupil);
}

fn apply(models: &mut ReadModels, pending: &mut Pending, recorded: &RecordedEvent) {
    match models.apply_recorded(recorded) {
        Ok(touch) => note(pending, &touch),
        Err(error) => warn_undecodable(recorded, &error.error),
    }
}

fn warn_undecodable(recorded: &RecordedEvent, error: &suivi_domain::DecodeError) {
    tracing::warn!(
        position = recorded.global_position,
        event_type = %recorded.event_type,
        event_id = %recorded.event_id,
        error = %error,
        "projections: skipping an event that does not decode"
    );
}

/// A batch read and decoded ahead of the fold: each event decoded, or the event that
/// did not decode and why.
struct Decoded {
    events: Vec<Result<Logged, Box<(RecordedEvent, suivi_domain::DecodeError)>>>,
    /// The batch was as large as asked: there may be more to read.
    full: bool,
}

/// Reads the log from `after` in batches of `batch_size`, decoding each on a blocking
/// thread, until a batch comes back short or the runner stops listening.
async fn read_ahead(
    store: Arc<dyn EventStore>,
    mut after: u64,
    batch_size: usize,
    ahead: mpsc::Sender<Decoded>,
) {
    let mut failures = 0;
    loop {
        let batch = match store.read_all(after, batch_size).await {
            Ok(batch) => batch,
            Err(error) => {
                failures += 1;
                tracing::warn!(%error, position = after, "projections: reading the log failed; retrying");
                tokio::time::sleep(backoff(failures)).await;
                continue;
            }
        };
        failures = 0;
        let full = batch.len() >= batch_size;
        if let Some(last) = batch.last() {
            after = last.global_position;
        }
        let decoding = tokio::task::spawn_blocking(move || Decoded {
            events: batch
                .into_iter()
                .map(|recorded| Logged::decode(&recorded).map_err(|e| Box::new((recorded, e))))
                .collect(),
            full,
        });
        let Ok(decoded) = decoding.await else { return };
        if ahead.send(decoded).await.is_err() || !full {
            return;
        }
    }
}

fn backoff(failures: u32) -> Duration {
    Duration::from_millis(50 * u64::from(failures.clamp(1, 100)))
}

struct Runner {
    store: Arc<dyn EventStore>,
    shared: Arc<Shared>,
    position_tx: watch::Sender<u64>,
    options: RunnerOptions,
    models: ReadModels,
    pending: Pending,
}

impl Runner {
    fn publish_if_behind(&mut self) {
        if self.models.position() > *self.position_tx.borrow() {
            publish(
                &self.models,
                &self.shared,
                &self.position_tx,
                &mut self.pending,
            );
        }
    }

    /// Reads the log in large batches until it is drained, publishing now and then. The
    /// next batch is read and decoded (`read_ahead`) while this one is folded.
    async fn catch_up(&mut self) {
        let batch_size = self.options.batch_size.max(1);
        let (ahead, mut decoded) = mpsc::channel(2);
        let reader = tokio::spawn(read_ahead(
            self.store.clone(),
            self.models.position(),
            batch_size,
            ahead,
        ));
        let mut last_publish = Instant::now();
        // Ends with the short batch, or early if the reader died: `follow` then reads on
        // from the position folded.
        while let Some(batch) = decoded.recv().await {
            for event in batch.events {
                match event {
                    Ok(logged) => {
                        let touch = self.models.apply(logged);
                        note(&mut self.pending, &touch);
                    }
                    Err(skipped) => {
                        let (recorded, error) = *skipped;
                        self.models.skip_undecodable(recorded.global_position);
                        warn_undecodable(&recorded, &error);
                    }
                }
            }
            if !batch.full {
                break;
            }
            if last_publish.elapsed() >= self.options.publish_every {
                self.publish_if_behind();
                last_publish = Instant::now();
            }
            // Folding a batch is CPU work: let other tasks of this worker run.
            tokio::task::yield_now().await;
        }
        reader.abort();
        self.publish_if_behind();
    }

    /// Follows the store's subscription from the last folded position, publishing after
    /// every batch of events that arrived together. Resubscribes after an error.
    async fn follow(&mut self) {
        let mut failures = 0;
        loop {
            let stream = suivi_store::subscribe(self.store.clone(), self.models.position())
                .ready_chunks(self.options.batch_size.max(1));
            let mut stream = std::pin::pin!(stream);
            let mut failed = None;
            while let Some(chunk) = stream.next().await {
                for item in chunk {
                    match item {
                        Ok(recorded) => apply(&mut self.models, &mut self.pending, &recorded),
                        Err(error) => failed = Some(error),
                    }
                }
                self.publish_if_behind();
                if failed.is_some() {
                    break;
                }
                failures = 0;
            }
            failures += 1;
            match failed {
                Some(error) => {
                    tracing::warn!(%error, position = self.models.position(), "projections: subscription failed; resubscribing")
                }
                None => tracing::warn!(
                    position = self.models.position(),
                    "projections: subscription ended; resubscribing"
                ),
            }
            tokio::time::sleep(backoff(failures)).await;
        }
    }
}

async fn run(
    store: Arc<dyn EventStore>,
    shared: Arc<Shared>,
    position_tx: watch::Sender<u64>,
    options: RunnerOptions,
) {
    let started = Instant::now();
    let mut runner = Runner {
        store,
        shared,
        position_tx,
        options,
        models: ReadModels::new(),
        pending: Pending::default(),
    };
    runner.catch_up().await;
    tracing::info!(
        position = runner.models.position(),
        events = runner.models.stats().applied,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "projections caught up"
    );
    runner.follow().await;
}
