//! Contract cases for `restore`: a log copied from another store lands exactly where the
//! source had it, `recorded_at` included, or not at all.

use super::{event, instant, must_append, stream, whole_log};
use crate::{EventStore, ExpectedVersion, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use suivi_domain::RecordedEvent;

/// The events another store recorded: `(stream, version)` at positions `first..`, each
/// recorded at its own instant, long before the test runs.
fn recorded(first: u64, places: &[(&str, u64)]) -> Vec<RecordedEvent> {
    places
        .iter()
        .zip(first..)
        .map(|(&(name, version), position)| {
            let new = event(position);
            RecordedEvent {
                global_position: position,
                stream: stream(name),
                stream_version: version,
                event_id: new.event_id,
                event_type: new.event_type,
                schema_version: new.schema_version,
                occurred_at: new.occurred_at,
                // Not in position order, and with microseconds: kept as they are.
                recorded_at: instant(7_000_003 - 1_000_001 * position as i64),
                school_id: new.school_id,
                actor: new.actor,
                correlation_id: new.correlation_id,
                causation_id: new.causation_id,
                payload: new.payload,
            }
        })
        .collect()
}

/// Every field, `recorded_at` included, as a comparable string.
fn fields(events: &[RecordedEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| serde_json::to_string(e).expect("an event serialises"))
        .collect()
}

pub async fn restore_keeps_positions_versions_and_recorded_at(store: Arc<dyn EventStore>) {
    let source = recorded(1, &[("a", 1), ("a", 2), ("b", 1), ("a", 3), ("b", 2)]);
    let head = store.restore(source.clone()).await.expect("restore");
    assert_eq!(head, 5);
    assert_eq!(store.head().await.expect("head"), 5);
    assert_eq!(fields(&whole_log(&*store).await), fields(&source));
    let a = store.read_stream(&stream("a"), 1).await.expect("read a");
    assert_eq!(
        a.iter().map(|e| e.global_position).collect::<Vec<_>>(),
        vec![1, 2, 4]
    );

    // Restoring the same events again is a retry: nothing is written twice.
    assert_eq!(store.restore(source.clone()).await.expect("again"), 5);
    assert_eq!(fields(&whole_log(&*store).await), fields(&source));

    // The log goes on: an append after a restore is recorded now, at the next version.
    let before: DateTime<Utc> = crate::rules::to_micros(Utc::now());
    let next = must_append(&*store, "a", ExpectedVersion::Exact(3), vec![event(9)]).await;
    assert_eq!((next.first_position, next.stream_version), (6, 4));
    let log = whole_log(&*store).await;
    assert!(log[5].recorded_at >= before, "{:?}", log[5].recorded_at);
    assert_eq!(fields(&log[..5]), fields(&source));

    // So does a restore that continues it.
    let more = recorded(7, &[("c", 1), ("a", 5)]);
    assert_eq!(store.restore(more.clone()).await.expect("continue"), 8);
    assert_eq!(fields(&whole_log(&*store).await[6..]), fields(&more));
}

pub async fn restore_refuses_what_would_not_land_in_place(store: Arc<dyn EventStore>) {
    must_append(&*store, "a", ExpectedVersion::NoStream, vec![event(1)]).await;
    let log = fields(&whole_log(&*store).await);
    let refused = |result: Result<u64, StoreError>, what: &str| match result {
        Err(StoreError::Restore(reason)) => reason,
        other => panic!("{what}: expected a refused restore, got {other:?}"),
    };
    // Position 1 is taken: the event would land at 2.
    let reason = refused(
        store.restore(recorded(1, &[("b", 1)])).await,
        "a taken position",
    );
    assert!(
        reason.contains("position 1") && reason.contains("position 2"),
        "{reason}"
    );
    // A gap after the head.
    refused(store.restore(recorded(3, &[("b", 1)])).await, "after a gap");
    // A gap among the events themselves: nothing of them is written, not even the first.
    let mut gapped = recorded(2, &[("b", 1), ("b", 2)]);
    gapped[1].global_position = 4;
    refused(store.restore(gapped).await, "a gap among them");
    // A version that skips one.
    let mut skipped = recorded(2, &[("b", 1), ("b", 2)]);
    skipped[1].stream_version = 3;
    refused(store.restore(skipped).await, "a skipped version");
    // A stream's version that does not follow the store's: a conflict, nothing written.
    let err = store
        .restore(recorded(2, &[("a", 3)]))
        .await
        .expect_err("a version the stream is not at");
    assert!(err.is_conflict(), "{err}");
    assert_eq!(fields(&whole_log(&*store).await), log);
    assert_eq!(store.head().await.expect("head"), 1);
}
