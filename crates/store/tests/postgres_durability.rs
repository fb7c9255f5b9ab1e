//! The PostgreSQL adapter reads its connections' durability settings back and refuses a
//! server, role or URL that would acknowledge commits it may lose, unless the URL accepts
//! it. `synchronous_commit=off` is set for this test's connections only, through the URL's
//! `options`, so the other tests running on the same server are not touched.

mod pg_support;

use pg_support::{base_url, Schema};
use suivi_store::contract::{event, stream};
use suivi_store::postgres::PostgresStore;
use suivi_store::{EventStore, ExpectedVersion, StoreError};

/// `options=-c synchronous_commit=off`, percent-encoded as a URL parameter.
const COMMITS_OFF: &str = "options=-c%20synchronous_commit%3Doff";

async fn setting(url: &str, name: &str) -> String {
    let target = suivi_store::postgres::Target::parse(url).unwrap();
    let (client, connection) = target
        .config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .query_one(&format!("SELECT current_setting('{name}')"), &[])
        .await
        .expect("read the setting")
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_with_synchronous_commit_off_is_refused_unless_accepted() {
    let name = format!("suivi_test_{}", uuid::Uuid::now_v7().simple());
    let _guard = Schema { name: name.clone() };
    let url = format!("{}?schema={name}", base_url());
    PostgresStore::migrate(&url).await.expect("migrate");

    // The probe: the URL's options do reach the server, for that connection only.
    let off = format!("{url}&{COMMITS_OFF}");
    assert_eq!(setting(&off, "synchronous_commit").await, "off");
    assert_eq!(setting(&url, "synchronous_commit").await, "on");
    assert!(PostgresStore::connect(&url).await.is_ok());

    let refused = PostgresStore::connect(&off).await.err();
    match refused {
        Some(StoreError::Durability(reason)) => {
            assert!(
                reason.contains("synchronous_commit is \"off\"")
                    && reason.contains("accept_unsafe_durability=true"),
                "{reason}"
            );
        }
        other => panic!("expected a durability refusal, got {other:?}"),
    }
    // The access journal's connection is held to the same rule.
    assert!(matches!(
        suivi_store::postgres::access::AccessTable::connect(&off).await,
        Err(StoreError::Durability(_))
    ));

    // The operator's explicit opt-in: the store starts and appends.
    let accepted = PostgresStore::connect(&format!("{off}&accept_unsafe_durability=true"))
        .await
        .expect("accepted by the URL");
    let result = accepted
        .append(stream("s"), ExpectedVersion::NoStream, vec![event(1)])
        .await
        .expect("append");
    assert_eq!(result.last_position, 1);
    assert!(matches!(
        PostgresStore::connect(&format!("{url}&accept_unsafe_durability=yes")).await,
        Err(StoreError::InvalidUrl { .. })
    ));
}
