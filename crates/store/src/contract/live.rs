//! Contract cases for subscriptions: catch-up then live, each event exactly once, in order,
//! while many tasks append concurrently.

use super::{event, events, ids, must_append, new_ids, stream, whole_log};
use crate::{subscribe, EventStore, ExpectedVersion, StoreError};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use suivi_domain::ids::EventId;
use suivi_domain::{RecordedEvent, StreamName};
use tokio::sync::mpsc;

/// How long a subscriber may take to deliver what is committed before the case fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// Interleavings tried by the concurrency case (seeds 0..ROUNDS, so a failure replays).
const ROUNDS: u64 = 6;

/// Forwards a subscription into a channel from a task of its own, so it keeps running
/// (and waiting on the head) while the test appends.
fn spawn_subscriber(
    store: &Arc<dyn EventStore>,
    after: u64,
) -> (
    mpsc::UnboundedReceiver<Result<RecordedEvent, StoreError>>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut events = Box::pin(subscribe(Arc::clone(store), after));
    let task = tokio::spawn(async move {
        while let Some(item) = events.next().await {
            if tx.send(item).is_err() {
                return;
            }
        }
    });
    (rx, task)
}

/// Receives the events after position `after` up to position `until`; panics on an error,
/// a timeout, or an end.
async fn receive_until(
    rx: &mut mpsc::UnboundedReceiver<Result<RecordedEvent, StoreError>>,
    after: u64,
    until: u64,
    who: &str,
) -> Vec<RecordedEvent> {
    let mut got: Vec<RecordedEvent> = Vec::new();
    while got.last().map_or(after, |e| e.global_position) < until {
        match tokio::time::timeout(PATIENCE, rx.recv()).await {
            Ok(Some(Ok(event))) => got.push(event),
            Ok(Some(Err(e))) => panic!("{who}: subscription failed: {e}"),
            Ok(None) => panic!("{who}: subscription ended after {} events", got.len()),
            Err(_) => panic!(
                "{who}: nothing for {PATIENCE:?} after position {:?}, waiting for {until}",
                got.last().map(|e| e.global_position)
            ),
        }
    }
    got
}

fn positions(events: &[RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.global_position).collect()
}

pub async fn subscription_catches_up_then_goes_live(store: Arc<dyn EventStore>) {
    let early = events(0..5);
    must_append(&*store, "a", ExpectedVersion::Any, early.clone()).await;
    let (mut from_start, t1) = spawn_subscriber(&store, 0);
    let (mut from_middle, t2) = spawn_subscriber(&store, 3);
    let caught_up = receive_until(&mut from_start, 0, 5, "from 0").await;
    assert_eq!(ids(&caught_up), new_ids(&early));
    assert_eq!(
        positions(&receive_until(&mut from_middle, 3, 5, "from 3").await),
        [4, 5]
    );

    let late = events(5..8);
    for e in &late {
        must_append(&*store, "b", ExpectedVersion::Any, vec![e.clone()]).await;
    }
    let live = receive_until(&mut from_start, 5, 8, "from 0").await;
    assert_eq!(ids(&live), new_ids(&late));
    assert_eq!(
        positions(&receive_until(&mut from_middle, 5, 8, "from 3").await),
        [6, 7, 8]
    );
    // Nothing more than what was appended.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(from_start.try_recv().is_err());
    assert!(from_middle.try_recv().is_err());
    t1.abort();
    t2.abort();
}

struct Acked {
    stream: StreamName,
    ids: Vec<EventId>,
}

/// One writer: `appends` appends of 1 to 4 events (sometimes 12), to its own stream with
/// `Any` or to a shared stream with `Exact` (re-reading and retrying on a conflict).
async fn writer(
    store: Arc<dyn EventStore>,
    seed: u64,
    who: usize,
    shared: Vec<StreamName>,
) -> Vec<Acked> {
    let mut rng = StdRng::seed_from_u64(seed);
    let appends = rng.gen_range(4..=12);
    let own = stream(&format!("writer-{seed}-{who}"));
    let mut acked = Vec::new();
    for i in 0..appends {
        let size = if rng.gen_ratio(1, 8) {
            12
        } else {
            rng.gen_range(1..=4)
        };
        let batch = events(i * 100..i * 100 + size);
        let ids = new_ids(&batch);
        if rng.gen_bool(0.5) {
            store
                .append(own.clone(), ExpectedVersion::Any, batch)
                .await
                .unwrap_or_else(|e| panic!("writer {who}: {e}"));
            acked.push(Acked {
                stream: own.clone(),
                ids,
            });
        } else {
            let target = shared[rng.gen_range(0..shared.len())].clone();
            loop {
                let version = store.read_stream(&target, 1).await.unwrap().len() as u64;
                let expected = if version == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(version)
                };
                match store.append(target.clone(), expected, batch.clone()).await {
                    Ok(_) => break,
                    Err(e) if e.is_conflict() => tokio::task::yield_now().await,
                    Err(e) => panic!("writer {who}: {e}"),
                }
            }
            acked.push(Acked {
                stream: target,
                ids,
            });
        }
        for _ in 0..rng.gen_range(0..3) {
            tokio::task::yield_now().await;
        }
    }
    acked
}

pub async fn subscriptions_see_every_event_once_under_concurrent_appends(
    store: Arc<dyn EventStore>,
) {
    for seed in 0..ROUNDS {
        let mut rng = StdRng::seed_from_u64(seed);
        let start = store.head().await.unwrap();
        let shared: Vec<StreamName> = (0..3)
            .map(|s| stream(&format!("shared-{seed}-{s}")))
            .collect();
        let mut subscribers = vec![
            (0, spawn_subscriber(&store, 0)),
            (start, spawn_subscriber(&store, start)),
        ];
        let some = rng.gen_range(0..=start);
        subscribers.push((some, spawn_subscriber(&store, some)));

        let writers: Vec<_> = (0..rng.gen_range(2..=6))
            .map(|who| {
                let seed = seed * 100 + who as u64;
                tokio::spawn(writer(Arc::clone(&store), seed, who, shared.clone()))
            })
            .collect();
        // One more joins while the writers run.
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..5))).await;
        let middle = store.head().await.unwrap();
        subscribers.push((middle, spawn_subscriber(&store, middle)));

        let mut acked = Vec::new();
        for w in writers {
            acked.extend(w.await.expect("writer task"));
        }
        let end = store.head().await.unwrap();
        let written: u64 = acked.iter().map(|a| a.ids.len() as u64).sum();
        assert_eq!(
            end - start,
            written,
            "round {seed}: head moved by other than what was acknowledged"
        );

        // The log itself: every acknowledged id once, in its stream, versions contiguous.
        let log = whole_log(&*store).await;
        assert_eq!(
            positions(&log),
            (1..=end).collect::<Vec<u64>>(),
            "round {seed}"
        );
        let by_id: HashMap<EventId, &RecordedEvent> = log.iter().map(|e| (e.event_id, e)).collect();
        assert_eq!(by_id.len(), log.len(), "round {seed}: an id appears twice");
        let mut per_stream: BTreeMap<&str, u64> = BTreeMap::new();
        for a in &acked {
            *per_stream.entry(a.stream.as_str()).or_default() += a.ids.len() as u64;
            let mut previous: Option<&RecordedEvent> = None;
            for id in &a.ids {
                let Some(e) = by_id.get(id) else {
                    panic!("round {seed}: acknowledged event {id} is missing");
                };
                assert_eq!(e.stream, a.stream, "round {seed}: event {id}");
                if let Some(p) = previous {
                    assert_eq!(
                        e.global_position,
                        p.global_position + 1,
                        "a request is contiguous"
                    );
                    assert_eq!(e.stream_version, p.stream_version + 1);
                }
                previous = Some(e);
            }
        }
        for (name, count) in per_stream {
            let versions: Vec<u64> = store
                .read_stream(&stream(name), 1)
                .await
                .unwrap()
                .iter()
                .map(|e| e.stream_version)
                .collect();
            assert_eq!(
                versions,
                (1..=count).collect::<Vec<u64>>(),
                "round {seed}: stream {name}"
            );
        }

        // Every subscriber: exactly after+1..=end, in order, the log's own events.
        for (after, (mut rx, task)) in subscribers {
            let who = format!("round {seed}, subscriber after {after}");
            let got = receive_until(&mut rx, after, end, &who).await;
            assert_eq!(
                positions(&got),
                (after + 1..=end).collect::<Vec<u64>>(),
                "{who}"
            );
            let from = usize::try_from(after).unwrap();
            assert_eq!(ids(&got), ids(&log[from..]), "{who}");
            task.abort();
        }
    }
    // Quiet after the last round: a new subscriber at the head waits without delivering.
    let head = store.head().await.unwrap();
    let (mut idle, task) = spawn_subscriber(&store, head);
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(idle.try_recv().is_err());
    let last = event(0);
    must_append(&*store, "late", ExpectedVersion::Any, vec![last.clone()]).await;
    let got = receive_until(&mut idle, head, head + 1, "idle subscriber").await;
    assert_eq!(ids(&got), [last.event_id]);
    task.abort();
}
