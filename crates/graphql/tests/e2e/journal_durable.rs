//! The access journal on PostgreSQL is durable before the answer leaves: at the moment a
//! staff read's GraphQL answer arrives, its row is in the `access_journal` table, read
//! through a connection of the test's own (not the server's, which could see its own
//! uncommitted work). Computed and served-again answers alike.

use super::harness::Server;
use super::seed;
use serde_json::json;
use suivi_store::postgres::PostgresStore;

fn base_url() -> String {
    std::env::var("SUIVI_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn connect() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_read_is_in_the_table_when_its_answer_arrives() {
    let schema = format!("suivi_test_{}", uuid::Uuid::now_v7().simple());
    let url = format!("{}?schema={schema}", base_url());
    PostgresStore::migrate(&url).await.expect("migrate");
    let server = Server::start_on(&url).await;
    let s = seed::school(&server).await;
    let pupil = &s.pupils[0];
    let watcher = connect().await;
    let rows = || async {
        let count: i64 = watcher
            .query_one(
                &format!(
                    "SELECT count(*) FROM \"{schema}\".access_journal WHERE pupil_id = $1::uuid"
                ),
                &[&uuid::Uuid::parse_str(pupil).expect("a uuid")],
            )
            .await
            .expect("count the journal's rows")
            .get(0);
        count
    };
    assert_eq!(rows().await, 0, "no read yet");

    let file = "query($id: ID!) { pupil(id: $id) { id } }";
    for read in 1..=10 {
        let answer = server.ok(file, json!({"id": pupil})).await;
        assert_eq!(answer["pupil"]["id"], json!(pupil));
        // No wait: the row must already be there.
        assert_eq!(rows().await, read, "after read {read}");
    }
    // From the second read on, the answer was served from the answer cache: journaled too.
    let (_, health) = server.request("GET", "/health", None, "").await;
    assert!(
        health["answerCache"]["hits"].as_u64().unwrap_or(0) >= 9,
        "{health}"
    );
    server.stop().await;
    watcher
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await
        .expect("drop the schema");
}

/// What the durable write costs a staff read: the latency of 300 reads of one pupil's file
/// in a row (served from the answer cache after the first, so the journal is most of the
/// work), with the journal in PostgreSQL and in the file beside an SQLite store. Numbers in
/// BENCHMARKS.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: cargo test -p suivi-graphql --test e2e -- --ignored staff_read_latency --nocapture"]
async fn staff_read_latency() {
    let schema = format!("suivi_test_{}", uuid::Uuid::now_v7().simple());
    let postgres = format!("{}?schema={schema}", base_url());
    PostgresStore::migrate(&postgres).await.expect("migrate");
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite:{}", dir.path().join("suivi.db").display());
    for (name, url) in [("postgres", &postgres), ("sqlite", &sqlite)] {
        let server = Server::start_on(url).await;
        let s = seed::school(&server).await;
        let file = "query($id: ID!) { pupil(id: $id) { id } }";
        let variables = json!({"id": s.pupils[0]});
        for _ in 0..20 {
            server.ok(file, variables.clone()).await;
        }
        let mut took = Vec::with_capacity(300);
        for _ in 0..300 {
            let start = std::time::Instant::now();
            server.ok(file, variables.clone()).await;
            took.push(start.elapsed());
        }
        took.sort();
        println!(
            "{name}: staff read p50 {:?} p90 {:?} p99 {:?}",
            took[took.len() / 2],
            took[took.len() * 9 / 10],
            took[took.len() * 99 / 100]
        );
        server.stop().await;
    }
    connect()
        .await
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await
        .expect("drop the schema");
}
