//! `suivi migrate`, the real binary against the machine's PostgreSQL: the demo school copied
//! from an SQLite file keeps every position, id, stream, version and `recorded_at`, and
//! every pupil key (both stores export the same bytes);
//! a second copy into the now non-empty target is refused and changes nothing; a schema
//! migrated by a newer suivi is refused. Each test uses its own schema and drops it.

mod common;
mod pg;

use common::{suivi, Scratch};
use pg::Schema;
use std::sync::Arc;
use suivi_domain::{Event, RecordedEvent};
use suivi_store::EventStore;

async fn whole_log(store: &dyn EventStore) -> Vec<RecordedEvent> {
    let mut all = Vec::new();
    loop {
        let batch = store
            .read_all(all.len() as u64, 2_000)
            .await
            .expect("read_all");
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

/// Field by field, `recorded_at` included (the source's, not the time of the copy).
fn assert_same_event(source: &RecordedEvent, target: &RecordedEvent) {
    let at = source.global_position;
    assert_eq!(source.global_position, target.global_position);
    assert_eq!(
        source.recorded_at, target.recorded_at,
        "recorded_at at {at}"
    );
    assert_eq!(source.event_id, target.event_id, "event id at {at}");
    assert_eq!(source.stream, target.stream, "stream at {at}");
    assert_eq!(
        source.stream_version, target.stream_version,
        "stream version at {at}"
    );
    assert_eq!(source.event_type, target.event_type, "type at {at}");
    assert_eq!(
        source.schema_version, target.schema_version,
        "schema version at {at}"
    );
    assert_eq!(
        source.occurred_at, target.occurred_at,
        "occurred_at at {at}"
    );
    assert_eq!(source.school_id, target.school_id, "school at {at}");
    assert_eq!(source.actor, target.actor, "actor at {at}");
    assert_eq!(
        source.correlation_id, target.correlation_id,
        "correlation at {at}"
    );
    assert_eq!(
        source.causation_id, target.causation_id,
        "causation at {at}"
    );
    assert_eq!(
        source.payload.get(),
        target.payload.get(),
        "payload bytes at {at}"
    );
}

async fn close(store: Arc<dyn EventStore>) {
    // The SQLite writer finishes and fsyncs on drop, off the runtime's threads.
    tokio::task::spawn_blocking(move || drop(store))
        .await
        .expect("closing the store");
}

async fn run(args: Vec<String>) -> common::Run {
    tokio::task::spawn_blocking(move || suivi(&args))
        .await
        .expect("the suivi binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_school_is_copied_into_postgres_with_its_positions_and_keys() {
    let schema = Schema::fresh();
    let scratch = Scratch::new();
    let sqlite = scratch.store("demo.db");
    let source = suivi_store::open(&sqlite).await.expect("open sqlite");
    let summary = suivi_cli::demo::load_demo(source.clone())
        .await
        .expect("load the demo school");
    assert!(summary.events_written > 1_000, "{}", summary.events_written);
    close(source).await;

    let copy = run(vec![
        "migrate".into(),
        "--from".into(),
        sqlite.clone(),
        "--to".into(),
        schema.url.clone(),
    ])
    .await;
    assert!(
        copy.ok(),
        "migrate failed: {}\n{}",
        copy.stdout,
        copy.stderr
    );

    let source = suivi_store::open(&sqlite).await.expect("reopen sqlite");
    let target = suivi_store::open(&schema.url).await.expect("open postgres");
    let from = whole_log(source.as_ref()).await;
    let to = whole_log(target.as_ref()).await;
    assert_eq!(from.len() as u64, source.head().await.unwrap());
    assert_eq!(to.len(), from.len(), "as many events in both");
    for (position, (a, b)) in (1u64..).zip(from.iter().zip(&to)) {
        assert_eq!(a.global_position, position, "the source has no gap");
        assert_same_event(a, b);
    }
    assert!(
        copy.stdout
            .contains(&format!("{} events, head {}", from.len(), from.len())),
        "the report gives the checksum's coverage: {}",
        copy.stdout
    );
    // What an operator compares: both stores export the same bytes.
    let export = |url: String, out: std::path::PathBuf| async move {
        let run = run(vec![
            "export".into(),
            "--store".into(),
            url,
            "--out".into(),
            out.display().to_string(),
        ])
        .await;
        assert!(run.ok(), "{}", run.stderr);
        std::fs::read(out).expect("the export file")
    };
    let from_sqlite = export(sqlite.clone(), scratch.path("sqlite.jsonl")).await;
    let from_postgres = export(schema.url.clone(), scratch.path("postgres.jsonl")).await;
    assert!(from_sqlite.len() > 100_000, "{}", from_sqlite.len());
    assert!(
        from_sqlite == from_postgres,
        "the two stores export different bytes"
    );

    // Every pupil the log registers has the same key in both stores.
    let mut pupils = 0;
    for event in from.iter().filter(|e| e.event_type == "PupilRegistered") {
        let Ok(Event::PupilRegistered(registered)) = event.decode() else {
            panic!(
                "PupilRegistered at {} does not decode",
                event.global_position
            );
        };
        let pupil = registered.pupil_id;
        let key = source.get_key(pupil).await.unwrap();
        assert!(key.is_some(), "the demo holds the key of {pupil}");
        assert!(
            target.get_key(pupil).await.unwrap() == key,
            "the key of {pupil} was copied"
        );
        pupils += 1;
    }
    assert_eq!(pupils, summary.pupils, "every demo pupil checked");

    // A second copy into the now non-empty target is refused and writes nothing.
    let again = run(vec![
        "migrate".into(),
        "--from".into(),
        sqlite.clone(),
        "--to".into(),
        schema.url.clone(),
    ])
    .await;
    assert!(!again.ok(), "a second copy must fail: {}", again.stdout);
    assert!(
        again.stderr.contains("not empty")
            && again.stderr.contains(&format!("position {}", to.len())),
        "{}",
        again.stderr
    );
    let after = whole_log(target.as_ref()).await;
    assert_eq!(after.len(), to.len());
    for (a, b) in to.iter().zip(&after) {
        assert_same_event(a, b);
        assert_eq!(a.recorded_at, b.recorded_at, "nothing rewritten");
    }
    close(source).await;
    close(target).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_the_schema_once_and_refuses_a_newer_one() {
    let schema = Schema::fresh();
    let scratch = Scratch::new();
    let store = |url: &str| vec!["migrate".to_owned(), "--store".to_owned(), url.to_owned()];

    let first = run(store(&schema.url)).await;
    assert!(first.ok(), "{}", first.stderr);
    assert!(
        first.stdout.contains("applied migration(s) [1, 2, 3]"),
        "{}",
        first.stdout
    );
    assert!(
        !first.stdout.contains(&schema.name),
        "the URL's query (schema, options) is not echoed: {}",
        first.stdout
    );
    let second = run(store(&schema.url)).await;
    assert!(second.ok(), "{}", second.stderr);
    assert!(
        second.stdout.contains("already at version 3"),
        "{}",
        second.stdout
    );

    // A later suivi recorded migration 99: this one must neither upgrade nor use it.
    schema.execute(&format!(
        "INSERT INTO \"{}\".suivi_migrations (version, name, checksum) VALUES (99, 'future', 'x')",
        schema.name
    ));
    let refused = run(store(&schema.url)).await;
    assert!(!refused.ok(), "{}", refused.stdout);
    assert!(refused.stderr.contains("version 99"), "{}", refused.stderr);

    let sqlite = scratch.store("empty.db");
    let copy = run(vec![
        "migrate".into(),
        "--from".into(),
        sqlite,
        "--to".into(),
        schema.url.clone(),
    ])
    .await;
    assert!(!copy.ok(), "{}", copy.stdout);
    assert!(copy.stderr.contains("version 99"), "{}", copy.stderr);

    // Not PostgreSQL: nothing to migrate, and the reason is given.
    let not_pg = run(store(&scratch.store("x.db"))).await;
    assert!(!not_pg.ok());
    assert!(
        not_pg.stderr.contains("only a PostgreSQL store"),
        "{}",
        not_pg.stderr
    );
}
