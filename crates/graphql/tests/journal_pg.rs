//! The access journal on PostgreSQL: what one server records, another reads, and it
//! outlives both (the real server on 127.0.0.1, `SUIVI_PG_URL` to point elsewhere).

use suivi_domain::ids::PupilId;
use suivi_domain::Role;
use suivi_graphql::audit::AccessJournal;
use suivi_graphql::Identity;
use uuid::Uuid;

fn base_url() -> String {
    std::env::var("SUIVI_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn drop_schema(name: &str) {
    let (client, connection) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
        .await
        .expect("drop the schema");
}

fn who(role: Role) -> Identity {
    Identity::fresh(role)
}

#[tokio::test]
async fn one_servers_reads_are_seen_by_another_and_kept_after_both_stop() {
    let name = format!("suivi_test_{}", Uuid::now_v7().simple());
    let url = format!("{}?schema={name}", base_url());
    suivi_store::postgres::PostgresStore::migrate(&url)
        .await
        .expect("migrate");
    let (pupil, other) = (PupilId(Uuid::now_v7()), PupilId(Uuid::now_v7()));
    let (teacher, head) = (who(Role::Teacher), who(Role::HeadTeacher));
    {
        let a = AccessJournal::for_store(&url).await.expect("journal A");
        let b = AccessJournal::for_store(&url).await.expect("journal B");
        a.record(&teacher, pupil).await.expect("record");
        a.record(&who(Role::Guardian), pupil).await.expect("record");
        // A query waits for its own server's queue: A's teacher read is there, the
        // guardian's read was never journaled.
        let from_a = a.query(Some(pupil), None, 10).await.expect("query A");
        assert_eq!(from_a.len(), 1, "{from_a:?}");
        assert_eq!(from_a[0].actor, teacher.actor().to_string());
        // B's reads come after (a later `at`, whichever server writes first).
        b.record(&head, pupil).await.expect("record");
        b.record(&head, other).await.expect("record");
        // Now both queues are written.
        let from_b = b.query(Some(pupil), None, 10).await.expect("query B");
        let actors: Vec<&str> = from_b.iter().map(|r| r.actor.as_str()).collect();
        // Latest first.
        assert_eq!(
            actors,
            vec![head.actor().to_string(), teacher.actor().to_string()]
        );
        let all = b.query(None, None, 10).await.expect("all");
        assert_eq!(all.len(), 3);
        let since = b.query(None, Some(from_b[0].at), 10).await.expect("since");
        assert!(since.iter().all(|r| r.at >= from_b[0].at) && !since.is_empty());
        assert_eq!(b.query(None, None, 2).await.expect("limit").len(), 2);
    }
    // Both stopped: a new server reads the same journal.
    let c = AccessJournal::for_store(&url).await.expect("journal C");
    assert_eq!(c.query(None, None, 10).await.expect("query C").len(), 3);

    // Its connection is cut (a database restart, say): it connects again and records on.
    let (admin, connection) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let cut: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = $1",
            &[&format!("suivi {name}")],
        )
        .await
        .expect("terminate")
        .get(0);
    assert_eq!(cut, 1, "the journal's one connection");
    c.record(&teacher, other).await.expect("record");
    let mut seen = None;
    for _ in 0..50 {
        if let Ok(all) = c.query(None, None, 10).await {
            seen = Some(all.len());
            if all.len() == 4 {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen, Some(4), "recorded after the connection was cut");
    drop(c);
    drop_schema(&name).await;
}

#[tokio::test]
async fn an_unmigrated_database_is_refused_with_the_way_out() {
    let name = format!("suivi_test_{}", Uuid::now_v7().simple());
    let url = format!("{}?schema={name}", base_url());
    let error = AccessJournal::for_store(&url)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("suivi migrate"), "{error}");
    drop_schema(&name).await;
}
