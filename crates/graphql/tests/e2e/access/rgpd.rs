//! The RGPD mutations: only an administrator exports or erases a pupil, only in their own
//! school; erasure destroys the key and nothing else.

use super::world::*;
use crate::harness::{code, message, Server};
use serde_json::json;

const EXPORT: &str = "mutation($id: ID!) { exportPupil(pupilId: $id) }";
const ERASE: &str = "mutation($id: ID!) { erasePupil(pupilId: $id) { pupilId keyDestroyed } }";

#[tokio::test]
async fn only_an_administrator_exports_or_erases_and_erasure_keeps_history() {
    let server = Server::start().await;
    let w = world(&server).await;
    let tokens: std::collections::HashMap<&str, String> = tokens(&server, &w).into_iter().collect();
    let a = w.s.pupils[0].clone();
    let pupil_id: suivi_domain::ids::PupilId = a.parse().expect("uuid");
    let head = server.head().await;

    // Every other role is refused, whatever the pupil (their own child, themselves).
    for role in ["pp", "teacher", "guardian", "pupil"] {
        for mutation in [EXPORT, ERASE] {
            let answer = server
                .gql_as(&tokens[role], mutation, json!({"id": a}))
                .await;
            assert_eq!(code(&answer), "FORBIDDEN", "{role}: {answer}");
            assert!(answer["data"].is_null(), "{role}: {answer}");
        }
    }
    // Another school's pupil and a guessed id get the same NOT_FOUND.
    let guessed = uuid::Uuid::now_v7().to_string();
    for target in [&w.other_pupil, &guessed] {
        for mutation in [EXPORT, ERASE] {
            let answer = server.gql(mutation, json!({"id": target})).await;
            assert_eq!(code(&answer), "NOT_FOUND", "{answer}");
            assert_eq!(message(&answer), format!("unknown pupil {target}"));
        }
    }
    let other: suivi_domain::ids::PupilId = w.other_pupil.parse().expect("uuid");
    assert!(server.store.get_key(other).await.expect("key").is_some());
    assert!(server.store.get_key(pupil_id).await.expect("key").is_some());
    assert_eq!(server.head().await, head);

    // The administrator's export: identity opened, and every event naming the pupil —
    // counted here from the store itself.
    let file = server.ok(EXPORT, json!({"id": a})).await["exportPupil"].clone();
    assert_eq!(file["identity"]["status"], "present");
    assert_eq!(file["identity"]["last_name"], "Martin");
    assert_eq!(file["identity"]["first_name"], "Léa");
    let log = server.store.read_all(0, 100_000).await.expect("log");
    let naming = log.iter().filter(|e| e.payload.get().contains(&a)).count();
    assert_eq!(file["events"].as_array().map(Vec::len), Some(naming));
    assert!(naming >= 3, "registered, enrolled, graded: {naming}");

    // Erasure: the key goes, the log stays, the class's figures stay.
    let class_query = json!({"id": w.s.class});
    let figures = "query($id: String!) { class(name: $id) { subjects { name mean min max gradedCount } pupils { id average } } }";
    let before = server.ok(figures, class_query.clone()).await;
    let erased = server.ok(ERASE, json!({"id": a})).await;
    assert_eq!(erased["erasePupil"]["keyDestroyed"], true);
    assert!(server.store.get_key(pupil_id).await.expect("key").is_none());
    assert_eq!(server.head().await, head);
    assert_eq!(server.store.read_all(0, 100_000).await.expect("log"), log);
    assert_eq!(server.ok(figures, class_query).await, before);
    let name = server
        .ok(
            "query($id: ID!) { pupil(id: $id) { displayName } }",
            json!({"id": a}),
        )
        .await;
    assert_eq!(
        name["pupil"]["displayName"],
        suivi_projections::names::ERASED_PUPIL
    );
    let file = server.ok(EXPORT, json!({"id": a})).await["exportPupil"].clone();
    assert_eq!(file["identity"]["status"], "erased");
    assert!(!file.to_string().contains("Martin"));
    // Again: nothing more to destroy, and it says so.
    let again = server.ok(ERASE, json!({"id": a})).await;
    assert_eq!(again["erasePupil"]["keyDestroyed"], false);
    server.stop().await;
}
