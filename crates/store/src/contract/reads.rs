//! Contract cases for the read side and the key table: positions, paging, stream reads,
//! the head, keys.

use super::{event, events, ids, must_append, new_ids, result, stream, whole_log};
use crate::{AppendRequest, EventStore, ExpectedVersion, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use suivi_domain::identity::{PupilKey, KEY_LEN};
use suivi_domain::ids::{EventId, PupilId};
use suivi_domain::{NewEvent, StreamName};
use uuid::Uuid;

pub async fn positions_are_contiguous_from_one(store: Arc<dyn EventStore>) {
    // Batch sizes and streams chosen by hand, with refused appends in between.
    let plan: [(&str, u64); 9] = [
        ("a", 1),
        ("b", 3),
        ("a", 2),
        ("c", 7),
        ("b", 1),
        ("a", 4),
        ("d", 1),
        ("c", 2),
        ("b", 5),
    ];
    let mut next = 0;
    let mut expected_log = Vec::new();
    let mut versions: HashMap<&str, u64> = HashMap::new();
    for (name, size) in plan {
        let batch = events(next..next + size);
        let version = versions.entry(name).or_default();
        let appended = must_append(&*store, name, ExpectedVersion::Any, batch.clone()).await;
        assert_eq!(appended, result(*version + size, next + 1, next + size));
        *version += size;
        next += size;
        expected_log.extend(new_ids(&batch));
        let refused = store
            .append(stream(name), ExpectedVersion::NoStream, events(100..102))
            .await;
        assert!(refused.unwrap_err().is_conflict());
    }
    let log = whole_log(&*store).await;
    let positions: Vec<u64> = log.iter().map(|e| e.global_position).collect();
    assert_eq!(positions, (1..=26).collect::<Vec<u64>>());
    assert_eq!(ids(&log), expected_log);
    for (name, last) in versions {
        let read = store.read_stream(&stream(name), 1).await.unwrap();
        let got: Vec<u64> = read.iter().map(|e| e.stream_version).collect();
        assert_eq!(
            got,
            (1..=last).collect::<Vec<u64>>(),
            "versions of stream {name}"
        );
    }
    assert_eq!(store.head().await.unwrap(), 26);
}

pub async fn read_all_pages_with_after_and_max(store: Arc<dyn EventStore>) {
    let sent = events(0..25);
    for chunk in sent.chunks(5) {
        must_append(&*store, "a", ExpectedVersion::Any, chunk.to_vec()).await;
    }
    let all = new_ids(&sent);
    let page = |after: u64, max: usize| {
        let store = Arc::clone(&store);
        async move { ids(&store.read_all(after, max).await.unwrap()) }
    };
    assert_eq!(page(0, 10).await, all[0..10]);
    assert_eq!(page(10, 10).await, all[10..20]);
    assert_eq!(page(20, 10).await, all[20..25]);
    assert_eq!(page(7, 1).await, all[7..8]);
    assert_eq!(page(0, 1000).await, all);
    assert!(page(25, 10).await.is_empty());
    assert!(page(3, 0).await.is_empty());
    assert!(page(1_000, 5).await.is_empty());
    assert!(page(u64::MAX, 5).await.is_empty());
    let positions: Vec<u64> = store
        .read_all(12, 3)
        .await
        .unwrap()
        .iter()
        .map(|e| e.global_position)
        .collect();
    assert_eq!(positions, [13, 14, 15]);
}

pub async fn read_stream_starts_at_a_version(store: Arc<dyn EventStore>) {
    let mut mine = Vec::new();
    for i in 0..5 {
        let own = event(i);
        mine.push(own.event_id);
        must_append(&*store, "mine", ExpectedVersion::Any, vec![own]).await;
        must_append(&*store, "theirs", ExpectedVersion::Any, vec![event(10 + i)]).await;
    }
    let from = |version: u64| {
        let store = Arc::clone(&store);
        async move { store.read_stream(&stream("mine"), version).await.unwrap() }
    };
    assert_eq!(ids(&from(1).await), mine);
    assert_eq!(ids(&from(0).await), mine);
    let tail = from(3).await;
    assert_eq!(ids(&tail), mine[2..]);
    let versions: Vec<u64> = tail.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, [3, 4, 5]);
    let positions: Vec<u64> = tail.iter().map(|e| e.global_position).collect();
    assert_eq!(positions, [5, 7, 9]);
    assert!(from(6).await.is_empty());
    assert!(from(u64::MAX).await.is_empty());
    assert!(store
        .read_stream(&stream("nobody"), 1)
        .await
        .unwrap()
        .is_empty());
}

pub async fn head_and_watch_follow_commits(store: Arc<dyn EventStore>) {
    assert_eq!(store.head().await.unwrap(), 0);
    let mut watch = store.watch_head();
    assert_eq!(*watch.borrow_and_update(), 0);
    let first = must_append(&*store, "a", ExpectedVersion::Any, events(0..3)).await;
    assert_eq!(store.head().await.unwrap(), first.last_position);
    // Announced by the time the append returns.
    assert!(watch.has_changed().unwrap());
    assert_eq!(*watch.borrow_and_update(), 3);
    let second = must_append(&*store, "b", ExpectedVersion::Any, vec![event(3)]).await;
    assert_eq!(second.last_position, 4);
    assert_eq!(*store.watch_head().borrow(), 4);
    assert_eq!(store.head().await.unwrap(), 4);
}

pub async fn keys_are_put_read_and_destroyed(store: Arc<dyn EventStore>) {
    let lea = PupilId(Uuid::from_u128(0x1ea));
    let tom = PupilId(Uuid::from_u128(0x70));
    let key = |seed: u8| {
        let mut bytes = [0u8; KEY_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = seed.wrapping_mul(31).wrapping_add(i as u8);
        }
        PupilKey(bytes)
    };
    assert_eq!(store.get_key(lea).await.unwrap(), None);
    assert!(!store.destroy_key(lea).await.unwrap());
    store.put_key(lea, key(1)).await.unwrap();
    store.put_key(tom, key(2)).await.unwrap();
    assert_eq!(store.get_key(lea).await.unwrap(), Some(key(1)));
    assert_eq!(store.get_key(tom).await.unwrap(), Some(key(2)));
    assert!(store.destroy_key(lea).await.unwrap());
    assert_eq!(store.get_key(lea).await.unwrap(), None);
    assert!(!store.destroy_key(lea).await.unwrap());
    assert_eq!(store.get_key(tom).await.unwrap(), Some(key(2)));
    // Keys live beside the log, not in it.
    assert_eq!(store.head().await.unwrap(), 0);
}

pub async fn find_event_answers_by_id(store: Arc<dyn EventStore>) {
    let sent = events(0..12);
    for (i, chunk) in sent.chunks(4).enumerate() {
        let name = ["a", "b", "c"][i];
        must_append(&*store, name, ExpectedVersion::Any, chunk.to_vec()).await;
    }
    let log = whole_log(&*store).await;
    // Every event is found by its id, equal to what a global read returns.
    for recorded in &log {
        let found = store
            .find_event(recorded.event_id)
            .await
            .expect("find_event");
        assert_eq!(found.as_ref(), Some(recorded));
    }
    // An id never appended, and the id of a refused append, are not found.
    assert_eq!(store.find_event(EventId::new_v7()).await.unwrap(), None);
    let refused = events(50..51);
    let err = store
        .append(stream("a"), ExpectedVersion::NoStream, refused.clone())
        .await
        .unwrap_err();
    assert!(err.is_conflict());
    assert_eq!(store.find_event(refused[0].event_id).await.unwrap(), None);
}

/// Keys carried by an append are stored in its commit, and only then: a refused append
/// (a conflict, or an id reused) writes no key and leaves an existing one as it was; a
/// retried append does not store its keys again.
pub async fn keys_travel_with_their_append_only(store: Arc<dyn EventStore>) {
    let lea = PupilId(Uuid::from_u128(0x1ea));
    let tom = PupilId(Uuid::from_u128(0x70));
    let key = |seed: u8| PupilKey([seed; KEY_LEN]);
    let keyed = |name: &str, expected, sent: Vec<NewEvent>, keys: Vec<(PupilId, PupilKey)>| {
        let mut request = AppendRequest::new(StreamName::new(name), expected, sent);
        request.keys = keys;
        request
    };
    let sent = events(0..2);
    store
        .append_all(vec![keyed(
            "school-1",
            ExpectedVersion::NoStream,
            sent[..1].to_vec(),
            vec![(lea, key(1))],
        )])
        .await
        .expect("the first registration is written");
    assert_eq!(store.get_key(lea).await.unwrap(), Some(key(1)));
    // A conflict: neither the event nor the key that came with it.
    let refused = store
        .append_all(vec![keyed(
            "school-1",
            ExpectedVersion::NoStream,
            sent[1..].to_vec(),
            vec![(lea, key(9)), (tom, key(2))],
        )])
        .await;
    assert!(
        matches!(refused, Err(StoreError::WrongExpectedVersion { .. })),
        "{refused:?}"
    );
    assert_eq!(
        store.get_key(lea).await.unwrap(),
        Some(key(1)),
        "lea's key kept"
    );
    assert_eq!(
        store.get_key(tom).await.unwrap(),
        None,
        "no key for a refused append"
    );
    // The first append again (a retry): answered from the log, its keys not stored again.
    let retried = store
        .append_all(vec![keyed(
            "school-1",
            ExpectedVersion::NoStream,
            sent[..1].to_vec(),
            vec![(lea, key(7))],
        )])
        .await
        .expect("a retry is answered");
    assert_eq!(retried[0].last_position, 1);
    assert_eq!(
        store.get_key(lea).await.unwrap(),
        Some(key(1)),
        "a retry stores no key"
    );
    // An erased pupil stays erased: a refused append carrying their key puts nothing back.
    assert!(store.destroy_key(lea).await.unwrap());
    let refused = store
        .append_all(vec![keyed(
            "school-1",
            ExpectedVersion::NoStream,
            sent[1..].to_vec(),
            vec![(lea, key(3))],
        )])
        .await;
    assert!(refused.is_err());
    assert_eq!(
        store.get_key(lea).await.unwrap(),
        None,
        "erased stays erased"
    );
    assert_eq!(store.head().await.unwrap(), 1);
}
