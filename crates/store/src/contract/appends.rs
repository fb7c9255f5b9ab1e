//! Contract cases for the write side: envelopes kept whole, expected versions, atomicity,
//! idempotency.

use super::{
    event, event_with, events, ids, instant, must_append, new_ids, result, stream, whole_log,
};
use crate::{AppendRequest, EventStore, ExpectedVersion, StoreError};
use chrono::Utc;
use std::sync::Arc;
use suivi_domain::envelope::raw;
use suivi_domain::ids::{CorrelationId, EventId, SchoolId};
use suivi_domain::{Actor, NewEvent, RecordedEvent, Role};
use uuid::Uuid;

fn request(name: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest::new(stream(name), expected, events)
}

fn conflict(name: &str, expected: ExpectedVersion, actual: Option<u64>) -> StoreError {
    StoreError::WrongExpectedVersion {
        stream: stream(name),
        expected,
        actual,
    }
}

pub async fn round_trip_keeps_every_field(store: Arc<dyn EventStore>) {
    let user = Uuid::from_u128(0x0193_a6a4_0000_7000_8000_0000_0000_0001);
    let mut first = event_with(
        1,
        r#"{ "pupil_id" : "0193a6a4-0000-7000-8000-000000000002",  "points":15.50, "note":"très bien ✓", "list":[1,2 ,3]}"#,
    );
    first.event_type = "GradeRecorded".into();
    first.schema_version = 3;
    first.actor = Actor::User {
        id: user,
        role: Role::HeadTeacher,
    };
    first.correlation_id = Some(CorrelationId(Uuid::from_u128(0xc0)));
    let mut second = event_with(2, r#"{"a":null}"#);
    second.actor = Actor::Importer("grades-csv".into());
    second.causation_id = Some(first.event_id);
    second.school_id = SchoolId(Uuid::from_u128(0x5c02));
    second.occurred_at = instant(-1_234_567);
    let third = event_with(3, "[]");
    let sent = vec![first, second, third];

    let before = crate::rules::to_micros(Utc::now());
    let appended = must_append(
        &*store,
        "assessment-1",
        ExpectedVersion::NoStream,
        sent.clone(),
    )
    .await;
    let after = Utc::now();
    assert_eq!(appended, result(3, 1, 3));

    let read = store.read_stream(&stream("assessment-1"), 1).await.unwrap();
    assert_eq!(read.len(), 3);
    for (i, (got, new)) in read.iter().zip(&sent).enumerate() {
        assert!(
            before <= got.recorded_at && got.recorded_at <= after,
            "recorded_at {} outside the append's window {before}..{after}",
            got.recorded_at
        );
        let expected = RecordedEvent {
            global_position: i as u64 + 1,
            stream: stream("assessment-1"),
            stream_version: i as u64 + 1,
            event_id: new.event_id,
            event_type: new.event_type.clone(),
            schema_version: new.schema_version,
            occurred_at: new.occurred_at,
            recorded_at: got.recorded_at,
            school_id: new.school_id,
            actor: new.actor.clone(),
            correlation_id: new.correlation_id,
            causation_id: new.causation_id,
            payload: new.payload.clone(),
        };
        assert_eq!(got, &expected, "event {i}");
        assert_eq!(
            got.payload.get(),
            new.payload.get(),
            "payload text of event {i}"
        );
    }
    assert_eq!(whole_log(&*store).await, read);
}

pub async fn timestamps_are_kept_to_the_microsecond(store: Arc<dyn EventStore>) {
    let mut precise = event(1);
    precise.occurred_at = instant(0) + chrono::Duration::nanoseconds(123_456_789);
    let first = must_append(&*store, "s", ExpectedVersion::Any, vec![precise.clone()]).await;
    let read = store.read_stream(&stream("s"), 1).await.unwrap();
    assert_eq!(read[0].occurred_at, instant(123_456));
    assert_eq!(read[0].recorded_at.timestamp_subsec_nanos() % 1000, 0);
    // The retry carries the full precision again: it is the same event.
    let again = must_append(&*store, "s", ExpectedVersion::Any, vec![precise]).await;
    assert_eq!(again, first);
    assert_eq!(store.head().await.unwrap(), 1);
}

pub async fn no_stream_accepts_only_a_new_stream(store: Arc<dyn EventStore>) {
    let first = must_append(&*store, "a", ExpectedVersion::NoStream, events(0..2)).await;
    assert_eq!(first, result(2, 1, 2));
    let err = store
        .append(stream("a"), ExpectedVersion::NoStream, vec![event(2)])
        .await
        .unwrap_err();
    assert_eq!(err, conflict("a", ExpectedVersion::NoStream, Some(2)));
    assert!(err.is_conflict());
    // Another stream is still new.
    let other = must_append(&*store, "b", ExpectedVersion::NoStream, vec![event(3)]).await;
    assert_eq!(other, result(1, 3, 3));
}

pub async fn exact_accepts_only_the_current_version(store: Arc<dyn EventStore>) {
    let err = store
        .append(stream("a"), ExpectedVersion::Exact(1), vec![event(0)])
        .await
        .unwrap_err();
    assert_eq!(err, conflict("a", ExpectedVersion::Exact(1), None));
    must_append(&*store, "a", ExpectedVersion::NoStream, events(0..2)).await;
    let third = must_append(&*store, "a", ExpectedVersion::Exact(2), vec![event(2)]).await;
    assert_eq!(third, result(3, 3, 3));
    for stale in [2, 4, 0] {
        let err = store
            .append(stream("a"), ExpectedVersion::Exact(stale), vec![event(9)])
            .await
            .unwrap_err();
        assert_eq!(err, conflict("a", ExpectedVersion::Exact(stale), Some(3)));
    }
    let fourth = must_append(&*store, "a", ExpectedVersion::Exact(3), events(3..5)).await;
    assert_eq!(fourth, result(5, 4, 5));
}

pub async fn any_accepts_every_version(store: Arc<dyn EventStore>) {
    assert_eq!(
        must_append(&*store, "a", ExpectedVersion::Any, vec![event(0)]).await,
        result(1, 1, 1)
    );
    assert_eq!(
        must_append(&*store, "b", ExpectedVersion::Any, vec![event(1)]).await,
        result(1, 2, 2)
    );
    assert_eq!(
        must_append(&*store, "a", ExpectedVersion::Any, events(2..4)).await,
        result(3, 3, 4)
    );
}

pub async fn a_conflict_leaves_the_log_unchanged(store: Arc<dyn EventStore>) {
    must_append(&*store, "a", ExpectedVersion::NoStream, events(0..3)).await;
    must_append(&*store, "b", ExpectedVersion::NoStream, events(3..4)).await;
    let before = whole_log(&*store).await;
    let mut watch = store.watch_head();
    watch.borrow_and_update();
    let refused = events(10..13);
    let err = store
        .append(stream("a"), ExpectedVersion::Exact(1), refused.clone())
        .await
        .unwrap_err();
    assert_eq!(err, conflict("a", ExpectedVersion::Exact(1), Some(3)));
    assert_eq!(store.head().await.unwrap(), 4);
    assert_eq!(whole_log(&*store).await, before);
    assert_eq!(store.read_stream(&stream("a"), 1).await.unwrap().len(), 3);
    assert!(
        !watch.has_changed().unwrap(),
        "a refused append announced a head"
    );
    // The refused ids were not consumed, nor were positions: the same events now land next.
    let landed = must_append(&*store, "a", ExpectedVersion::Exact(3), refused.clone()).await;
    assert_eq!(landed, result(6, 5, 7));
    assert_eq!(ids(&whole_log(&*store).await)[4..], new_ids(&refused)[..]);
}

pub async fn append_all_is_all_or_nothing(store: Arc<dyn EventStore>) {
    must_append(&*store, "c", ExpectedVersion::NoStream, vec![event(0)]).await;
    let err = store
        .append_all(vec![
            request("a", ExpectedVersion::NoStream, events(1..3)),
            request("b", ExpectedVersion::Any, events(3..4)),
            request("c", ExpectedVersion::NoStream, events(4..5)),
        ])
        .await
        .unwrap_err();
    assert_eq!(err, conflict("c", ExpectedVersion::NoStream, Some(1)));
    assert_eq!(store.head().await.unwrap(), 1);
    assert!(store.read_stream(&stream("a"), 1).await.unwrap().is_empty());
    assert!(store.read_stream(&stream("b"), 1).await.unwrap().is_empty());
    assert_eq!(whole_log(&*store).await.len(), 1);

    let results = store
        .append_all(vec![
            request("a", ExpectedVersion::NoStream, events(1..3)),
            request("b", ExpectedVersion::Any, events(3..4)),
            request("c", ExpectedVersion::Exact(1), events(4..6)),
        ])
        .await
        .unwrap();
    assert_eq!(
        results,
        vec![result(2, 2, 3), result(1, 4, 4), result(3, 5, 6)]
    );
    let log = whole_log(&*store).await;
    let streams: Vec<&str> = log.iter().map(|e| e.stream.as_str()).collect();
    assert_eq!(streams, ["c", "a", "a", "b", "c", "c"]);
}

pub async fn append_all_sees_its_own_earlier_requests(store: Arc<dyn EventStore>) {
    let results = store
        .append_all(vec![
            request("a", ExpectedVersion::NoStream, events(0..2)),
            request("a", ExpectedVersion::Exact(2), events(2..3)),
        ])
        .await
        .unwrap();
    assert_eq!(results, vec![result(2, 1, 2), result(3, 3, 3)]);
    let err = store
        .append_all(vec![
            request("b", ExpectedVersion::NoStream, events(3..4)),
            request("b", ExpectedVersion::NoStream, events(4..5)),
        ])
        .await
        .unwrap_err();
    assert_eq!(err, conflict("b", ExpectedVersion::NoStream, Some(1)));
    assert_eq!(store.head().await.unwrap(), 3);
}

pub async fn empty_appends_are_refused(store: Arc<dyn EventStore>) {
    let err = store
        .append(stream("a"), ExpectedVersion::Any, Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::EmptyAppend(stream("a")));
    let err = store
        .append_all(vec![
            request("b", ExpectedVersion::Any, events(0..2)),
            request("c", ExpectedVersion::Any, Vec::new()),
        ])
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::EmptyAppend(stream("c")));
    assert_eq!(store.head().await.unwrap(), 0);
    assert!(whole_log(&*store).await.is_empty());
}

pub async fn a_retry_returns_the_first_result(store: Arc<dyn EventStore>) {
    must_append(&*store, "other", ExpectedVersion::Any, events(0..2)).await;
    let batch = events(2..5);
    let first = must_append(&*store, "a", ExpectedVersion::NoStream, batch.clone()).await;
    assert_eq!(first, result(3, 3, 5));
    // The retry states the version it was first decided against: it would now conflict,
    // but it is the same request, so the first answer comes back.
    let again = must_append(&*store, "a", ExpectedVersion::NoStream, batch.clone()).await;
    assert_eq!(again, first);
    must_append(&*store, "a", ExpectedVersion::Exact(3), events(5..6)).await;
    let late = store
        .append_all(vec![request("a", ExpectedVersion::Exact(0), batch.clone())])
        .await
        .unwrap();
    assert_eq!(late, vec![first]);
    let log = whole_log(&*store).await;
    assert_eq!(log.len(), 6);
    assert_eq!(ids(&log)[2..5], new_ids(&batch)[..]);
    assert_eq!(store.head().await.unwrap(), 6);
}

pub async fn reusing_an_id_is_refused(store: Arc<dyn EventStore>) {
    let stored = events(0..2);
    must_append(&*store, "a", ExpectedVersion::Any, stored.clone()).await;
    let mismatch = |id: EventId| StoreError::IdempotencyMismatch { event_id: id };

    let mut other_payload = stored[0].clone();
    other_payload.payload = raw(r#"{"n":99}"#.into());
    let err = store
        .append(stream("a"), ExpectedVersion::Any, vec![other_payload])
        .await
        .unwrap_err();
    assert_eq!(err, mismatch(stored[0].event_id));

    let err = store
        .append(stream("b"), ExpectedVersion::Any, vec![stored[0].clone()])
        .await
        .unwrap_err();
    assert_eq!(err, mismatch(stored[0].event_id));

    // Part of a request already stored: which id is named depends on the adapter.
    let fresh = event(5);
    let err = store
        .append(
            stream("a"),
            ExpectedVersion::Any,
            vec![stored[1].clone(), fresh.clone()],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IdempotencyMismatch { event_id } if event_id == stored[1].event_id || event_id == fresh.event_id),
        "{err:?}"
    );
    let err = store
        .append(
            stream("a"),
            ExpectedVersion::Any,
            vec![fresh.clone(), stored[1].clone()],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IdempotencyMismatch { event_id } if event_id == stored[1].event_id || event_id == fresh.event_id),
        "{err:?}"
    );

    let twice = event(6);
    let err = store
        .append(
            stream("c"),
            ExpectedVersion::Any,
            vec![twice.clone(), twice.clone()],
        )
        .await
        .unwrap_err();
    assert_eq!(err, mismatch(twice.event_id));

    assert_eq!(store.head().await.unwrap(), 2);
    assert_eq!(ids(&whole_log(&*store).await), new_ids(&stored));
    assert!(store.read_stream(&stream("b"), 1).await.unwrap().is_empty());
}
