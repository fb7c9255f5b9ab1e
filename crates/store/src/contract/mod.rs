//! The contract every `EventStore` adapter passes, written once.
//!
//! Each case is a `pub async fn(Arc<dyn EventStore>)` that panics on a broken promise; it
//! must be given a fresh, empty store. `contract_tests!` stamps one `#[tokio::test]` per
//! case, so a failure names the promise broken:
//!
//! ```ignore
//! async fn fresh() -> (Arc<dyn EventStore>, tempfile::TempDir) { /* a new store */ }
//! suivi_store::contract_tests!(fresh);
//! ```
//!
//! The factory is an async function (or closure) returning the store and a guard kept
//! alive until the case ends (a temporary directory, a database schema, or `()`). The
//! calling crate needs `tokio` (with `macros` and `rt-multi-thread`) among its
//! dev-dependencies.

mod appends;
mod live;
mod reads;
mod restore;

pub use appends::*;
pub use live::*;
pub use reads::*;
pub use restore::*;

use crate::{AppendResult, EventStore, ExpectedVersion};
use chrono::{DateTime, TimeZone, Utc};
use suivi_domain::envelope::raw;
use suivi_domain::ids::{EventId, SchoolId};
use suivi_domain::{Actor, NewEvent, RecordedEvent, StreamName};
use uuid::Uuid;

/// Stamps one `#[tokio::test]` per contract case; see the module documentation.
#[macro_export]
macro_rules! contract_tests {
    ($factory:expr) => {
        $crate::contract_tests!(@cases $factory;
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
            restore_keeps_positions_versions_and_recorded_at,
            restore_refuses_what_would_not_land_in_place,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (store, _guard) = ($factory)().await;
                $crate::contract::$case(store).await;
            }
        )*
    };
}

/// A fixed instant with microsecond precision (what every adapter keeps).
pub fn instant(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_757_000_000, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::microseconds(micros)
}

pub fn school() -> SchoolId {
    SchoolId(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_5c01))
}

/// An event with a fresh id and a small JSON payload `{"n":n}`.
pub fn event(n: u64) -> NewEvent {
    event_with(n, &format!(r#"{{"n":{n}}}"#))
}

pub fn event_with(n: u64, payload: &str) -> NewEvent {
    NewEvent {
        event_id: EventId::new_v7(),
        event_type: "ContractChecked".into(),
        schema_version: 1,
        occurred_at: instant(i64::try_from(n).unwrap_or(0)),
        school_id: school(),
        actor: Actor::System("contract".into()),
        correlation_id: None,
        causation_id: None,
        payload: raw(payload.to_owned()),
    }
}

pub fn events(range: std::ops::Range<u64>) -> Vec<NewEvent> {
    range.map(event).collect()
}

pub fn stream(name: &str) -> StreamName {
    StreamName::new(name)
}

pub fn result(stream_version: u64, first_position: u64, last_position: u64) -> AppendResult {
    AppendResult {
        stream_version,
        first_position,
        last_position,
    }
}

/// Every event of the log, read one by one from the start (not the code under test's
/// batching).
pub async fn whole_log(store: &dyn EventStore) -> Vec<RecordedEvent> {
    let mut all = Vec::new();
    loop {
        let batch = store
            .read_all(all.len() as u64, 500)
            .await
            .expect("read_all");
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

/// The ids of the events, in order.
pub fn ids(events: &[RecordedEvent]) -> Vec<EventId> {
    events.iter().map(|e| e.event_id).collect()
}

pub fn new_ids(events: &[NewEvent]) -> Vec<EventId> {
    events.iter().map(|e| e.event_id).collect()
}

/// Appends and unwraps, naming the stream on failure.
pub async fn must_append(
    store: &dyn EventStore,
    name: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> AppendResult {
    match store.append(stream(name), expected, events).await {
        Ok(result) => result,
        Err(e) => panic!("append to {name} expecting {expected}: {e}"),
    }
}
