//! Store benchmarks: batched appends, concurrent durable single appends against the disk's
//! raw fsync rate, global-log reads, and bytes on disk per event — for the embedded SQLite
//! store, then the same workloads (but bytes on disk) against PostgreSQL in the same run
//! (`postgres.rs`; skipped when the server is not reachable).
//!
//! `cargo bench -p suivi-store --bench store` (`RUNS=n` to change the number of runs; the
//! median is reported). Results and the machine go to BENCHMARKS.md.

#[path = "store/postgres.rs"]
mod postgres;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use suivi_domain::envelope::raw;
use suivi_domain::ids::{CorrelationId, EventId, SchoolId};
use suivi_domain::{Actor, NewEvent, Role, StreamName};
use suivi_store::sqlite::SqliteStore;
use suivi_store::{AppendRequest, EventStore, ExpectedVersion};
use uuid::Uuid;

/// (a) and (c): 100 batches of 1,000 events.
const BATCHES: usize = 100;
const BATCH: usize = 1_000;
/// Grades of one assessment: a class of 30.
const STREAM_LEN: usize = 30;
/// (b): 64 tasks, each this many durable single-event appends.
const TASKS: usize = 64;
const APPENDS_PER_TASK: usize = 100;

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!("suivi-store sqlite benchmarks, {runs} runs each, medians");

    let mut batched = Vec::new();
    let mut reads = Vec::new();
    let mut sizes = Vec::new();
    for run in 0..runs {
        let path = dir.path().join(format!("batched-{run}.db"));
        let (rate, store) = runtime.block_on(batched_appends(&path));
        batched.push(rate);
        reads.push(runtime.block_on(read_all(&store)));
        runtime
            .block_on(store.checkpoint())
            .expect("checkpoint before measuring the file");
        drop(store);
        sizes.push(bytes_on_disk(&path) as f64 / (BATCHES * BATCH) as f64);
        if run + 1 == runs {
            size_breakdown(&path);
        }
    }
    report(
        "(a) batched append, 1,000 events per append_all",
        "events/s",
        &mut batched,
    );
    report("(c) read_all in batches of 1,000", "events/s", &mut reads);
    report(
        "(d) bytes on disk per event (GradeRecorded-like, 30 per stream)",
        "bytes",
        &mut sizes,
    );

    let mut concurrent = Vec::new();
    let mut commits = Vec::new();
    let mut fsyncs = Vec::new();
    for run in 0..runs {
        let path = dir.path().join(format!("concurrent-{run}.db"));
        let (rate, per_commit) = runtime.block_on(concurrent_appends(&path));
        concurrent.push(rate);
        commits.push(per_commit);
        fsyncs.push(fsync_rate(&dir.path().join(format!("fsync-{run}"))));
    }
    let appends = report(
        "(b) 64 tasks, durable single-event appends",
        "events/s",
        &mut concurrent,
    );
    report("(b) events per commit", "events", &mut commits);
    let raw_fsync = report(
        "(b) raw disk: 4 KiB append + fsync",
        "fsyncs/s",
        &mut fsyncs,
    );
    println!(
        "(b) ratio acknowledged appends / raw fsyncs: {:.1}",
        appends / raw_fsync
    );

    if let Some(pg) = postgres::run(&runtime, runs) {
        println!(
            "(b) 64 writers, acknowledged events/s: sqlite {appends:.0}, postgres {:.0} \
             (postgres / sqlite = {:.2})",
            pg.concurrent,
            pg.concurrent / appends
        );
    }
}

fn report(what: &str, unit: &str, samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    let all: Vec<String> = samples.iter().map(|s| format!("{s:.0}")).collect();
    println!(
        "{what}: median {median:.1} {unit} (runs: {})",
        all.join(", ")
    );
    median
}

fn grade(assessment: Uuid, pupil: u64, teacher: Uuid, correlation: Uuid) -> NewEvent {
    let pupil_id = Uuid::now_v7();
    NewEvent {
        event_id: EventId::new_v7(),
        event_type: "GradeRecorded".into(),
        schema_version: 1,
        occurred_at: chrono::Utc::now(),
        school_id: SchoolId(Uuid::from_u128(0x5c01)),
        actor: Actor::User {
            id: teacher,
            role: Role::Teacher,
        },
        correlation_id: Some(CorrelationId(correlation)),
        causation_id: None,
        payload: raw(format!(
            r#"{{"assessment_id":"{assessment}","pupil_id":"{pupil_id}","grade":{}}}"#,
            500 + (pupil * 37) % 1500
        )),
    }
}

/// One batch: 1,000 grades laid out as requests of up to 30 per assessment stream.
fn batch(first: usize) -> Vec<AppendRequest> {
    let teacher = Uuid::from_u128(0x7e);
    let correlation = Uuid::now_v7();
    let mut requests: Vec<AppendRequest> = Vec::new();
    for n in first..first + BATCH {
        let assessment = Uuid::from_u128((n / STREAM_LEN) as u128 + 1);
        let stream = StreamName::new(format!("assessment-{assessment}"));
        let event = grade(assessment, n as u64, teacher, correlation);
        match requests.last_mut() {
            Some(last) if last.stream == stream => last.events.push(event),
            _ => requests.push(AppendRequest::new(
                stream,
                ExpectedVersion::Any,
                vec![event],
            )),
        }
    }
    requests
}

async fn batched_appends(path: &Path) -> (f64, SqliteStore) {
    let store = SqliteStore::open(path).expect("open the store");
    let batches: Vec<Vec<AppendRequest>> = (0..BATCHES).map(|b| batch(b * BATCH)).collect();
    let started = Instant::now();
    for requests in batches {
        store.append_all(requests).await.expect("append a batch");
    }
    let elapsed = started.elapsed();
    ((BATCHES * BATCH) as f64 / elapsed.as_secs_f64(), store)
}

async fn read_all(store: &SqliteStore) -> f64 {
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

fn bytes_on_disk(db: &Path) -> u64 {
    let mut total = 0;
    for suffix in ["", "-wal"] {
        let file = format!("{}{suffix}", db.display());
        total += std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    }
    total
}

/// Where the bytes go: pages per table and index (SQLite's `dbstat`), per event.
fn size_breakdown(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open the measured file");
    let mut select = conn
        .prepare("SELECT name, sum(pgsize), sum(unused) FROM dbstat GROUP BY name ORDER BY 2 DESC")
        .expect("dbstat is compiled in");
    let rows = select
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .expect("dbstat query");
    let events = (BATCHES * BATCH) as f64;
    for row in rows {
        let (name, bytes, unused) = row.expect("dbstat row");
        println!(
            "    {name}: {:.1} bytes/event ({:.0}% of its pages unused)",
            bytes as f64 / events,
            100.0 * unused as f64 / bytes.max(1) as f64
        );
    }
}

/// `TASKS` tasks, each appending `APPENDS_PER_TASK` single events to its own stream (one
/// pupil's quiz attempt), each append acknowledged before the next; how long they took.
/// Every adapter's 64-writer figure comes from this one loop.
async fn concurrent_writers(store: Arc<dyn EventStore>) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let stream = StreamName::new(format!("qcm-bench-{t}"));
                let (teacher, assessment) = (Uuid::from_u128(0x7e), Uuid::from_u128(0xa55));
                for i in 0..APPENDS_PER_TASK {
                    let expected = match i {
                        0 => ExpectedVersion::NoStream,
                        n => ExpectedVersion::Exact(n as u64),
                    };
                    let event = grade(assessment, i as u64, teacher, Uuid::now_v7());
                    store
                        .append(stream.clone(), expected, vec![event])
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("append task");
    }
    started.elapsed()
}

/// 64 tasks, each appending single events to its own stream (one pupil's quiz attempt),
/// each append durable before the next. Returns events/s and events per commit.
async fn concurrent_appends(path: &Path) -> (f64, f64) {
    let store = Arc::new(SqliteStore::open(path).expect("open the store"));
    let before = store.stats();
    let elapsed = concurrent_writers(store.clone()).await;
    let stats = store.stats();
    let events = (stats.events - before.events) as f64;
    let commits = (stats.commits - before.commits) as f64;
    (events / elapsed.as_secs_f64(), events / commits)
}

/// Appends 4 KiB and fsyncs (the call SQLite makes at each commit), for about 2 s: how
/// many durable writes the disk does.
fn fsync_rate(path: &Path) -> f64 {
    let mut file = std::fs::File::create(path).expect("create the fsync probe");
    let block = [0x5au8; 4096];
    let started = Instant::now();
    let mut syncs = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        file.write_all(&block).expect("write");
        file.sync_all().expect("fsync");
        syncs += 1;
    }
    syncs as f64 / started.elapsed().as_secs_f64()
}
