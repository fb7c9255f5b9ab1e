//! Several servers on one PostgreSQL log: two store instances (each with its own writer
//! task, readers and listener, as two `suivi serve` processes would have) append
//! concurrently while subscribers on both follow. Every subscriber must see positions
//! 1..=head exactly once, in order, and every acknowledged event. Also: the migration
//! guards (a newer schema and an edited migration are refused).

mod pg_support;

use futures::StreamExt;
use pg_support::{base_url, Schema};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use suivi_store::contract::{event, stream};
use suivi_store::postgres::PostgresStore;
use suivi_store::{subscribe, EventStore, ExpectedVersion};

async fn two_servers() -> (Arc<dyn EventStore>, Arc<dyn EventStore>, Schema) {
    let name = format!("suivi_test_{}", uuid::Uuid::now_v7().simple());
    let url = format!("{}?schema={name}", base_url());
    let guard = Schema { name };
    PostgresStore::migrate(&url).await.unwrap();
    let a = PostgresStore::connect(&url).await.unwrap();
    let b = PostgresStore::connect(&url).await.unwrap();
    (Arc::new(a), Arc::new(b), guard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscribers_on_either_server_see_every_event_once() {
    let (a, b, _guard) = two_servers().await;
    for round in 0..4u64 {
        let mut rng = StdRng::seed_from_u64(round);
        let start = a.head().await.unwrap();
        let mut subscribers = Vec::new();
        for (i, server) in [&a, &b, &a, &b].into_iter().enumerate() {
            let from = if i < 2 { 0 } else { start };
            let sub = subscribe(Arc::clone(server), from);
            subscribers.push((from, tokio::spawn(collect(sub))));
        }
        let mut writers = Vec::new();
        for w in 0..8u64 {
            let server = if w % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            let batches: Vec<usize> = (0..20).map(|_| rng.gen_range(1..=5)).collect();
            writers.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for (i, size) in batches.into_iter().enumerate() {
                    let events: Vec<_> = (0..size as u64).map(event).collect();
                    let ids: Vec<_> = events.iter().map(|e| e.event_id).collect();
                    server
                        .append(
                            stream(&format!("r{round}-w{w}-{}", i % 3)),
                            ExpectedVersion::Any,
                            events,
                        )
                        .await
                        .unwrap();
                    acked.extend(ids);
                }
                acked
            }));
        }
        let mut acked = Vec::new();
        for w in writers {
            acked.extend(w.await.unwrap());
        }
        let head = a.head().await.unwrap();
        assert_eq!(head - start, acked.len() as u64, "round {round}");
        assert_eq!(b.head().await.unwrap(), head);
        for (from, sub) in subscribers {
            let seen = tokio::time::timeout(Duration::from_secs(20), async {
                sub.await.unwrap()(head).await
            })
            .await
            .expect("subscriber reached the head");
            let positions: Vec<u64> = seen.iter().map(|(p, _)| *p).collect();
            assert_eq!(
                positions,
                ((from + 1)..=head).collect::<Vec<_>>(),
                "round {round}"
            );
            let seen_ids: std::collections::HashSet<_> = seen.iter().map(|(_, id)| *id).collect();
            for id in &acked {
                assert!(seen_ids.contains(id), "round {round}: {id} not delivered");
            }
        }
    }
}

type Seen = Vec<(u64, suivi_domain::ids::EventId)>;

/// Starts collecting now; the returned closure waits until the head is reached.
async fn collect(
    sub: impl futures::Stream<Item = Result<suivi_domain::RecordedEvent, suivi_store::StoreError>>
        + Send
        + 'static,
) -> impl FnOnce(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = Seen> + Send>> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut sub = Box::pin(sub);
        while let Some(e) = sub.next().await {
            let e = e.unwrap();
            if tx.send((e.global_position, e.event_id)).is_err() {
                break;
            }
        }
    });
    move |head: u64| {
        Box::pin(async move {
            let mut rx = rx;
            let mut seen = Vec::new();
            while seen.last().is_none_or(|(p, _): &(u64, _)| *p < head) {
                match rx.recv().await {
                    Some(item) => seen.push(item),
                    None => break,
                }
            }
            seen
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = Seen> + Send>>
    }
}

#[tokio::test]
async fn a_schema_newer_than_this_binary_is_refused() {
    let name = format!("suivi_test_{}", uuid::Uuid::now_v7().simple());
    let url = format!("{}?schema={name}", base_url());
    let _guard = Schema { name: name.clone() };
    assert_eq!(PostgresStore::migrate(&url).await.unwrap(), vec![1, 2, 3]);
    assert_eq!(
        PostgresStore::migrate(&url).await.unwrap(),
        Vec::<i32>::new()
    );
    let (client, connection) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            &format!("INSERT INTO \"{name}\".suivi_migrations (version, name, checksum) VALUES (99, 'future', 'x')"),
            &[],
        )
        .await
        .unwrap();
    let err = PostgresStore::connect(&url)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("version 99, newer than this suivi knows (up to 3)"),
        "{err}"
    );
    let err = PostgresStore::migrate(&url).await.unwrap_err().to_string();
    assert!(err.contains("version 99"), "{err}");
}

#[tokio::test]
async fn an_edited_migration_is_refused_and_an_unmigrated_database_too() {
    let name = format!("suivi_test_{}", uuid::Uuid::now_v7().simple());
    let url = format!("{}?schema={name}", base_url());
    let _guard = Schema { name: name.clone() };
    let err = PostgresStore::connect(&url)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("run `suivi migrate"), "{err}");
    PostgresStore::migrate(&url).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            &format!(
                "UPDATE \"{name}\".suivi_migrations SET checksum = 'edited' WHERE version = 1"
            ),
            &[],
        )
        .await
        .unwrap();
    let err = PostgresStore::connect(&url)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("applied with checksum edited"), "{err}");
}

/// The connections `pg_stat_activity` shows for a schema's stores.
async fn connections_of(schema: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&format!("suivi {schema}")],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_store_closes_every_connection_it_opened_listener_included() {
    let name = format!("suivi_test_{}", uuid::Uuid::now_v7().simple());
    let url = format!("{}?schema={name}", base_url());
    let _guard = Schema { name: name.clone() };
    PostgresStore::migrate(&url).await.unwrap();
    // The migration's own connection closes as its task ends: on a busy machine the server
    // may still list it for a moment.
    assert_eq!(
        settled(&name, 0).await,
        0,
        "the migration's connection is still open 5 s later"
    );
    let store = PostgresStore::connect(&url).await.unwrap();
    store
        .append(stream("s"), ExpectedVersion::Any, vec![event(1)])
        .await
        .unwrap();
    // Four readers, the writer and the listener.
    assert_eq!(connections_of(&name).await, 6);
    drop(store);
    // No notification comes: the listener must notice the drop by itself.
    assert_eq!(
        settled(&name, 0).await,
        0,
        "connections still open 5 s after the store was dropped"
    );
}

/// The schema's connections once they reach `wanted`, or after 5 s.
async fn settled(schema: &str, wanted: i64) -> i64 {
    let mut left = connections_of(schema).await;
    for _ in 0..100 {
        if left == wanted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = connections_of(schema).await;
    }
    left
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_read_ahead_are_served_only_when_a_query_now_would_return_them() {
    let name = format!("suivi_test_{}", uuid::Uuid::now_v7().simple());
    let url = format!("{}?schema={name}", base_url());
    let _guard = Schema { name };
    PostgresStore::migrate(&url).await.unwrap();
    let store = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let positions = |page: &[suivi_domain::RecordedEvent]| -> Vec<u64> {
        page.iter().map(|e| e.global_position).collect()
    };
    let counts = |s: &PostgresStore| {
        (
            s.stats().pages_read_ahead.load(Ordering::Relaxed),
            s.stats().pages_served_ahead.load(Ordering::Relaxed),
        )
    };
    let settled = |s: Arc<PostgresStore>| async move {
        for _ in 0..200 {
            if s.read_ahead_settled() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("pages read ahead did not come back within 2 s");
    };
    store
        .append(
            stream("a"),
            ExpectedVersion::Any,
            suivi_store::contract::events(0..14),
        )
        .await
        .unwrap();
    // One full page: a lookup, nothing read ahead.
    assert_eq!(
        positions(&store.read_all(0, 4).await.unwrap()),
        vec![1, 2, 3, 4]
    );
    assert_eq!(counts(&store), (0, 0));
    // The next page: the reader is going through the log; the pages after 8, 12 and 16
    // are read ahead ([9..12], [13, 14] and nothing) and come back.
    assert_eq!(
        positions(&store.read_all(4, 4).await.unwrap()),
        vec![5, 6, 7, 8]
    );
    assert_eq!(counts(&store), (3, 0));
    settled(store.clone()).await;
    // Served: the page after 8 came back full.
    assert_eq!(
        positions(&store.read_all(8, 4).await.unwrap()),
        vec![9, 10, 11, 12]
    );
    assert_eq!(counts(&store).1, 1);
    // Three more events arrive; the page after 12 came back short ([13, 14]): it is read
    // again, now full.
    store
        .append(
            stream("b"),
            ExpectedVersion::Any,
            suivi_store::contract::events(14..17),
        )
        .await
        .unwrap();
    settled(store.clone()).await;
    assert_eq!(
        positions(&store.read_all(12, 4).await.unwrap()),
        vec![13, 14, 15, 16]
    );
    assert_eq!(counts(&store).1, 1, "the short page was not served");
    assert_eq!(positions(&store.read_all(16, 4).await.unwrap()), vec![17]);

    // Two readers going through the log at once, in steps of 2 and 3, each see every
    // position once, in order.
    let store: Arc<dyn EventStore> = store;
    let (one, two) = tokio::join!(read_through(&store, 2), read_through(&store, 3));
    let all: Vec<u64> = (1..=17).collect();
    assert_eq!((one, two), (all.clone(), all));
}

async fn read_through(store: &Arc<dyn EventStore>, max: usize) -> Vec<u64> {
    let mut seen = Vec::new();
    loop {
        let page = store
            .read_all(seen.last().copied().unwrap_or(0), max)
            .await
            .unwrap();
        if page.is_empty() {
            return seen;
        }
        seen.extend(page.iter().map(|e| e.global_position));
    }
}
