//! What the SQLite adapter promises beyond the contract: the file outlives the process,
//! group commit shares fsyncs, destroyed keys leave the file, foreign files are refused.

use std::path::Path;
use std::sync::Arc;
use suivi_domain::identity::{PupilKey, KEY_LEN};
use suivi_domain::ids::PupilId;
use suivi_store::contract::{event, events, must_append, new_ids, whole_log};
use suivi_store::sqlite::{SqliteStats, SqliteStore};
use suivi_store::{EventStore, ExpectedVersion, StoreError};
use tokio::sync::Barrier;
use uuid::Uuid;

fn store_in(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir.join("suivi.db")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_back_everything_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let pupil = PupilId(Uuid::from_u128(42));
    let key = PupilKey([7; KEY_LEN]);
    let (before, a_ids) = {
        let store = store_in(dir.path());
        let a = events(0..3);
        must_append(&store, "a", ExpectedVersion::NoStream, a.clone()).await;
        must_append(&store, "b", ExpectedVersion::NoStream, events(3..5)).await;
        must_append(&store, "a", ExpectedVersion::Exact(3), events(5..6)).await;
        store.put_key(pupil, key.clone()).await.unwrap();
        (whole_log(&store).await, new_ids(&a))
    };
    assert_eq!(before.len(), 6);

    let store = store_in(dir.path());
    assert_eq!(store.head().await.unwrap(), 6);
    assert_eq!(*store.watch_head().borrow(), 6);
    assert_eq!(whole_log(&store).await, before);
    let a = store
        .read_stream(&suivi_store::contract::stream("a"), 1)
        .await
        .unwrap();
    assert_eq!(new_ids_of(&a[..3]), a_ids);
    assert_eq!(store.get_key(pupil).await.unwrap(), Some(key));
    // Versions and positions go on where they stopped; the old ids are still known.
    let next = must_append(&store, "a", ExpectedVersion::Exact(4), vec![event(9)]).await;
    assert_eq!(next, suivi_store::contract::result(5, 7, 7));
    let err = store
        .append(
            suivi_store::contract::stream("c"),
            ExpectedVersion::Any,
            vec![before[0].to_new_event()],
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::IdempotencyMismatch {
            event_id: before[0].event_id
        }
    );
}

fn new_ids_of(events: &[suivi_domain::RecordedEvent]) -> Vec<suivi_domain::ids::EventId> {
    events.iter().map(|e| e.event_id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_shares_one_commit_among_concurrent_appends() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store_in(dir.path()));
    must_append(&*store, "warm-up", ExpectedVersion::Any, vec![event(0)]).await;
    let before = store.stats();
    assert_eq!(
        before,
        SqliteStats {
            commits: 1,
            writes: 1,
            events: 1
        }
    );

    const TASKS: usize = 64;
    let start = Arc::new(Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let (store, start) = (Arc::clone(&store), Arc::clone(&start));
            tokio::spawn(async move {
                start.wait().await;
                let name = suivi_store::contract::stream(&format!("pupil-{i}"));
                store
                    .append(name, ExpectedVersion::NoStream, vec![event(i as u64)])
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut positions = Vec::new();
    for t in tasks {
        positions.push(t.await.unwrap().first_position);
    }
    positions.sort_unstable();
    assert_eq!(positions, (2..=65).collect::<Vec<u64>>());

    let after = store.stats();
    assert_eq!(after.writes - before.writes, 64);
    assert_eq!(after.events - before.events, 64);
    let commits = after.commits - before.commits;
    assert!(
        commits <= 16,
        "64 concurrent appends took {commits} commits; group commit should share them"
    );
}

#[tokio::test]
async fn a_replayed_request_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let batch = events(0..4);
    let first = must_append(&store, "a", ExpectedVersion::NoStream, batch.clone()).await;
    let stats = store.stats();
    let again = must_append(&store, "a", ExpectedVersion::NoStream, batch).await;
    assert_eq!(again, first);
    let after = store.stats();
    assert_eq!(after.events, stats.events);
    assert_eq!(after.writes, stats.writes + 1);
    assert_eq!(store.head().await.unwrap(), 4);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every byte of the store's files (main file, WAL) as they are on disk now.
fn file_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with("-shm") {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

#[tokio::test]
async fn a_destroyed_key_leaves_no_copy_in_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let key_bytes: [u8; KEY_LEN] = std::array::from_fn(|i| 0xA0 ^ (i as u8).wrapping_mul(37));
    let doomed = PupilId(Uuid::from_u128(0xd00d));
    let kept = PupilId(Uuid::from_u128(0xcafe));
    let kept_bytes = [0x5a; KEY_LEN];
    store.put_key(doomed, PupilKey(key_bytes)).await.unwrap();
    store.put_key(kept, PupilKey(kept_bytes)).await.unwrap();
    must_append(&store, "a", ExpectedVersion::Any, events(0..50)).await;
    store.checkpoint().await.unwrap();
    assert!(
        contains(&file_bytes(dir.path()), &key_bytes),
        "the key is written before"
    );

    assert!(store.destroy_key(doomed).await.unwrap());
    let bytes = file_bytes(dir.path());
    assert!(
        !contains(&bytes, &key_bytes),
        "the destroyed key is still in the files"
    );
    assert!(contains(&bytes, &kept_bytes), "the other key must stay");
    assert_eq!(store.get_key(doomed).await.unwrap(), None);
    assert_eq!(
        store.get_key(kept).await.unwrap(),
        Some(PupilKey(kept_bytes))
    );
}

#[tokio::test]
async fn refuses_a_file_that_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE pupils (name TEXT)")
            .unwrap();
    }
    let err = SqliteStore::open(&path).err().unwrap();
    assert!(
        err.to_string().contains("not a suivi store"),
        "unexpected error: {err}"
    );

    let newer = dir.path().join("newer.db");
    drop(store_in(dir.path()));
    std::fs::rename(dir.path().join("suivi.db"), &newer).unwrap();
    {
        let conn = rusqlite::Connection::open(&newer).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteStore::open(&newer).err().unwrap();
    assert!(
        err.to_string().contains("schema version 99"),
        "unexpected error: {err}"
    );
}

#[tokio::test]
async fn opens_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("by-url.db");
    let url = format!("sqlite:{}", path.display());
    {
        let store = suivi_store::open(&url).await.unwrap();
        must_append(&*store, "a", ExpectedVersion::Any, events(0..2)).await;
    }
    assert!(path.exists());
    let store = suivi_store::open(&url).await.unwrap();
    assert_eq!(store.head().await.unwrap(), 2);

    let memory = suivi_store::open("memory:").await.unwrap();
    assert_eq!(memory.head().await.unwrap(), 0);
    let err = suivi_store::open("mysql://localhost/suivi")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::InvalidUrl { .. }), "{err}");
}
