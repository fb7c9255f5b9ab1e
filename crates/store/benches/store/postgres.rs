//! The same workloads against PostgreSQL (`SUIVI_PG_URL`, default the machine's
//! `postgres://postgres@127.0.0.1:5432/test`): each run in a fresh schema, dropped after.
//! Skipped, with the reason, when the server cannot be reached.

use super::{batch, concurrent_writers, report, APPENDS_PER_TASK, BATCH, BATCHES, TASKS};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use suivi_store::postgres::PostgresStore;
use suivi_store::{AppendRequest, EventStore};
use uuid::Uuid;

fn base_url() -> String {
    std::env::var("SUIVI_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The medians the embedded store's figures are set beside.
pub struct Medians {
    pub concurrent: f64,
}

/// A schema of its own, dropped when the run ends (or panics).
struct Schema {
    name: String,
    url: String,
}

impl Schema {
    fn fresh() -> Schema {
        let name = format!("suivi_bench_{}", Uuid::now_v7().simple());
        let url = format!("{}?schema={name}", base_url());
        Schema { name, url }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        // Its own thread and runtime: drop may run inside the benchmark's runtime.
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
                        .await
                        .map_err(|e| e.to_string())?;
                tokio::spawn(connection);
                client.batch_execute(&sql).await.map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the bench schema {}: {dropped:?}", self.name);
        }
    }
}

async fn open(schema: &Schema) -> PostgresStore {
    PostgresStore::migrate(&schema.url)
        .await
        .expect("migrate the bench schema");
    PostgresStore::connect(&schema.url)
        .await
        .expect("connect to the bench schema")
}

/// `None` when PostgreSQL is not reachable (the bench then only measures SQLite).
pub fn run(runtime: &tokio::runtime::Runtime, runs: usize) -> Option<Medians> {
    let reachable = runtime.block_on(async {
        tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
            .await
            .map(|_| ())
    });
    if let Err(e) = reachable {
        println!("postgres: skipped, {} not reachable: {e}", base_url());
        return None;
    }
    println!(
        "suivi-store postgres benchmarks ({}), {runs} runs each, medians",
        base_url()
    );

    let mut batched = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..runs {
        let schema = Schema::fresh();
        let (rate, read) = runtime.block_on(async {
            let store = open(&schema).await;
            let rate = batched_appends(&store).await;
            (rate, read_all(&store).await)
        });
        batched.push(rate);
        reads.push(read);
    }
    report(
        "(a) postgres batched append, 1,000 events per append_all",
        "events/s",
        &mut batched,
    );
    report(
        "(c) postgres read_all in batches of 1,000",
        "events/s",
        &mut reads,
    );

    let mut concurrent = Vec::new();
    let mut commits = Vec::new();
    for _ in 0..runs {
        let schema = Schema::fresh();
        let (rate, per_commit) = runtime.block_on(async {
            let store = Arc::new(open(&schema).await);
            concurrent_appends(store).await
        });
        concurrent.push(rate);
        commits.push(per_commit);
    }
    let concurrent = report(
        "(b) postgres 64 tasks, acknowledged single-event appends",
        "events/s",
        &mut concurrent,
    );
    report("(b) postgres events per commit", "events", &mut commits);
    Some(Medians { concurrent })
}

async fn batched_appends(store: &PostgresStore) -> f64 {
    let batches: Vec<Vec<AppendRequest>> = (0..BATCHES).map(|b| batch(b * BATCH)).collect();
    let started = Instant::now();
    for requests in batches {
        store.append_all(requests).await.expect("append a batch");
    }
    (BATCHES * BATCH) as f64 / started.elapsed().as_secs_f64()
}

async fn read_all(store: &PostgresStore) -> f64 {
    let started = Instant::now();
    let mut position = 0;
    loop {
        let events = store.read_all(position, 1_000).await.expect("read_all");
        let Some(last) = events.last() else { break };
        position = last.global_position;
    }
    assert_eq!(position, (BATCHES * BATCH) as u64);
    position as f64 / started.elapsed().as_secs_f64()
}

/// As the SQLite case: 64 tasks, each awaiting its single-event append before the next.
async fn concurrent_appends(store: Arc<PostgresStore>) -> (f64, f64) {
    let (commits_before, appends_before) = (
        store.stats().commits.load(Ordering::Relaxed),
        store.stats().appends.load(Ordering::Relaxed),
    );
    let elapsed = concurrent_writers(store.clone()).await;
    let commits = store.stats().commits.load(Ordering::Relaxed) - commits_before;
    let appends = store.stats().appends.load(Ordering::Relaxed) - appends_before;
    assert_eq!(appends, (TASKS * APPENDS_PER_TASK) as u64);
    (
        appends as f64 / elapsed.as_secs_f64(),
        appends as f64 / commits.max(1) as f64,
    )
}
