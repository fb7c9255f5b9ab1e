//! Idempotent commands through the gateway: a client that retries a command with the same
//! id (its first answer was lost) gets the first answer and the log does not grow; an id
//! reused by someone else is refused.

mod common;

use common::*;
use std::sync::Arc;
use suivi_domain::envelope::{Actor, Metadata};
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::reference::SubjectKind;
use suivi_domain::values::{Coefficient, Hundredths};
use suivi_domain::Command as C;
use suivi_projections::gateway::{CommandError, Gateway};
use suivi_store::sqlite::SqliteStore;
use suivi_store::{EventStore, StoreError};
use uuid::Uuid;

fn meta(actor: Actor, minute: u32) -> Metadata {
    Metadata {
        school_id: id(1),
        actor,
        occurred_at: at(2025, 9, 1, 8, minute),
        correlation_id: None,
        causation_id: None,
    }
}

fn admin() -> Actor {
    Actor::System("test-admin".into())
}

fn register_school() -> C {
    C::RegisterSchool(SchoolRegistered {
        school_id: id(1),
        name: "Collège Lucie Aubrac".into(),
        nr_counts_as_zero: true,
    })
}

fn define_subject(n: u128, name: &str) -> C {
    C::DefineSubject(SubjectDefined {
        subject_id: id(n),
        name: name.into(),
        kind: SubjectKind::General,
        coefficient: Coefficient(Hundredths(200)),
    })
}

async fn sqlite() -> (Arc<dyn EventStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("retry.db");
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
        .await
        .expect("open task")
        .expect("open store");
    (Arc::new(store), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_command_gets_the_first_answer_and_writes_nothing() {
    let (store, _dir) = sqlite().await;
    let gateway = Gateway::new(store.clone()).await.expect("gateway");
    let school_id = EventId(Uuid::now_v7());
    let first = gateway
        .execute_with_id(&meta(admin(), 0), register_school(), school_id)
        .await
        .expect("first attempt");
    assert_eq!(first.event_ids, vec![school_id]);
    assert_eq!(first.last_position, 1);

    // The same command again, decided later: the rules refuse a second registration, and
    // the gateway answers with what the log holds under that id.
    let retried = gateway
        .execute_with_id(&meta(admin(), 5), register_school(), school_id)
        .await
        .expect("retry");
    assert_eq!(retried, first);
    assert_eq!(store.head().await.unwrap(), 1);

    // A command the rules would accept twice (two subjects): the retry under the same id
    // is still answered from the log, not written again.
    let subject_id = EventId(Uuid::now_v7());
    let subject = gateway
        .execute_with_id(
            &meta(admin(), 6),
            define_subject(10, "Histoire"),
            subject_id,
        )
        .await
        .expect("subject");
    assert_eq!(subject.last_position, 2);
    let again = gateway
        .execute_with_id(
            &meta(admin(), 9),
            define_subject(10, "Histoire"),
            subject_id,
        )
        .await
        .expect("subject retry");
    assert_eq!(again, subject);
    assert_eq!(store.head().await.unwrap(), 2);

    // A fresh id is a new command: refused by the rules (the subject exists), log unchanged.
    let refused = gateway
        .execute(&meta(admin(), 10), define_subject(10, "Histoire"))
        .await
        .unwrap_err();
    assert!(matches!(refused, CommandError::Domain(_)), "{refused:?}");
    assert_eq!(store.head().await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_reused_by_another_actor_is_refused() {
    let (store, _dir) = sqlite().await;
    let gateway = Gateway::new(store.clone()).await.expect("gateway");
    let taken = EventId(Uuid::now_v7());
    gateway
        .execute_with_id(&meta(admin(), 0), register_school(), taken)
        .await
        .expect("first");
    let intruder = Actor::System("someone-else".into());
    let err = gateway
        .execute_with_id(&meta(intruder, 1), define_subject(11, "Anglais"), taken)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CommandError::Store(StoreError::IdempotencyMismatch { event_id }) if event_id == taken
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "IDEMPOTENCY_MISMATCH");
    assert_eq!(store.head().await.unwrap(), 1);
}
