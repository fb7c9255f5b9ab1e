//! The contract suite against the KurrentDB adapter, when a server is at hand.
//!
//! Without one (the usual case: none can be installed on the development machines) the
//! cases are **ignored**, not passed: `cargo test` lists each as `ignored` and
//! `kurrentdb_contract_skipped_without_server` says why. To run them:
//!
//! ```text
//! SUIVI_KURRENTDB_URL='kurrentdb://localhost:2113?tls=false' \
//!   cargo test -p suivi-store --features kurrentdb --test contract_kurrentdb -- --include-ignored
//! ```
//!
//! Each case gets a namespace of its own (`?prefix=t<uuid>`), so cases run in parallel on
//! one server. Their streams stay on the server (KurrentDB has no cheap drop): point the
//! suite at a disposable server. Every store reads the server's whole `$all` at connect,
//! so a server that kept many runs makes the suite slower.
//!
//! Expected on KurrentDB: `append_all_is_all_or_nothing` fails, because a call appending to
//! several streams is refused (KurrentDB has no transaction across streams; see the
//! adapter's documentation); and the two `restore_…` cases fail with `Unsupported`: a
//! KurrentDB server sets its own positions and creation times.
#![cfg(feature = "kurrentdb")]

use std::sync::Arc;
use suivi_store::kurrentdb::KurrentDbStore;
use suivi_store::EventStore;

const URL_VAR: &str = "SUIVI_KURRENTDB_URL";

/// A store on a namespace no other case uses.
async fn fresh() -> (Arc<dyn EventStore>, ()) {
    let Ok(base) = std::env::var(URL_VAR) else {
        panic!("{URL_VAR} not set: the KurrentDB contract cases need a server");
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}prefix=t{}", uuid::Uuid::now_v7().simple());
    match KurrentDbStore::connect(&url).await {
        Ok(store) => (Arc::new(store), ()),
        // Not the URL itself: it may carry a password.
        Err(e) => panic!("connecting to the KurrentDB server {URL_VAR} names: {e}"),
    }
}

/// Stamps each contract case, ignored unless asked for (`--include-ignored`), and the list
/// of names stamped (checked against the contract's own list below).
macro_rules! kurrentdb_cases {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs a KurrentDB server: set SUIVI_KURRENTDB_URL and pass --include-ignored"]
            async fn $case() {
                let (store, _guard) = fresh().await;
                suivi_store::contract::$case(store).await;
            }
        )*
        const STAMPED: &[&str] = &[$(stringify!($case)),*];
    };
}

kurrentdb_cases!(
    round_trip_keeps_every_field,
    timestamps_are_kept_to_the_microsecond,
    no_stream_accepts_only_a_new_stream,
    exact_accepts_only_the_current_version,
    any_accepts_every_version,
    a_conflict_leaves_the_log_unchanged,
    append_all_is_all_or_nothing,
    append_all_sees_its_own_earlier_requests,
    empty_appends_are_refused,
    a_retry_returns_the_first_result,
    reusing_an_id_is_refused,
    positions_are_contiguous_from_one,
    read_all_pages_with_after_and_max,
    read_stream_starts_at_a_version,
    head_and_watch_follow_commits,
    subscription_catches_up_then_goes_live,
    subscriptions_see_every_event_once_under_concurrent_appends,
    keys_are_put_read_and_destroyed,
    keys_travel_with_their_append_only,
    find_event_answers_by_id,
);

/// Passes either way; its name and output say the suite did not run without a server.
#[test]
fn kurrentdb_contract_skipped_without_server() {
    if std::env::var_os(URL_VAR).is_none() {
        eprintln!("{URL_VAR} not set: KurrentDB contract suite NOT run");
    } else {
        eprintln!(
            "{URL_VAR} is set: run with --include-ignored to run the KurrentDB contract suite"
        );
    }
}

/// The cases stamped above are the ones `contract_tests!` stamps for every other adapter,
/// read from the contract's source, so a case added there is not silently missing here.
#[test]
fn every_contract_case_is_stamped() {
    let source = include_str!("../src/contract/mod.rs");
    let Some((_, list)) = source.split_once("$crate::contract_tests!(@cases $factory;") else {
        panic!("contract/mod.rs no longer stamps its cases with `@cases $factory;`");
    };
    let Some((list, _)) = list.split_once(");") else {
        panic!("contract/mod.rs: the list of cases has no end");
    };
    let contract: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|case| !case.is_empty())
        .collect();
    assert_eq!(STAMPED, contract.as_slice());
}
