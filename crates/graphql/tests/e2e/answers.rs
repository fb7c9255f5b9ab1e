//! The answer cache through the real server: a repeated query is served again, and no
//! change (a write, an erasure, another identity, the clock, the journal) is ever hidden
//! by it. The figures asserted after a write are worked out by hand from the seed school.

use super::harness::{code, Server};
use super::seed::{self, grade};
use serde_json::{json, Value};
use suivi_domain::Role;

const DASHBOARD: &str = "query($name: String!) { class(name: $name) { name \
     subjects { name mean min max gradedCount } pupils { id displayName average } } }";

async fn stats(server: &Server) -> (u64, u64, u64) {
    let (status, health) = server.request("GET", "/health", None, "").await;
    assert_eq!(status, 200, "{health}");
    let cache = &health["answerCache"];
    let n = |k: &str| {
        cache[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {health}"))
    };
    (n("hits"), n("misses"), n("kept"))
}

fn french(dashboard: &Value) -> &Value {
    dashboard["class"]["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .find(|s| s["name"] == "Français")
        .expect("Français")
}

#[tokio::test]
async fn a_repeated_query_is_served_again_and_a_write_is_seen_at_once() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let vars = json!({"name": "2nde A"});

    let first = server.ok(DASHBOARD, vars.clone()).await;
    let (hits, _, kept) = stats(&server).await;
    let again = server.ok(DASHBOARD, vars.clone()).await;
    assert_eq!(first, again);
    let (hits_after, _, kept_after) = stats(&server).await;
    assert_eq!(
        (hits_after, kept_after),
        (hits + 1, kept),
        "served, not recomputed"
    );

    // Français before C's grade: A 9, B NR (0 by default): mean of the averages 4.5.
    assert_eq!(french(&first)["mean"], json!(4.5));
    assert_eq!(french(&first)["gradedCount"], json!(2));
    grade(&server, &s.f1, &s.pupils[2], Some("14"), None).await;
    let after = server.ok(DASHBOARD, vars.clone()).await;
    // (9 + 0 + 14) / 3 = 7.666… → 7.67.
    assert_eq!(french(&after)["mean"], json!(7.67));
    assert_eq!(french(&after)["gradedCount"], json!(3));
    assert_eq!(french(&after)["max"], json!(14.0));
    server.stop().await;
}

#[tokio::test]
async fn another_identity_sending_the_same_bytes_gets_its_own_answer() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let vars = json!({"name": "2nde A"});
    let admin = server.ok(DASHBOARD, vars.clone()).await;
    server.ok(DASHBOARD, vars.clone()).await;

    // The head teacher of 2nde A sees the same figures, computed for them.
    let head = server.token(Role::HeadTeacher, &s.teacher);
    let (_, misses, _) = stats(&server).await;
    let theirs = server.gql_as(&head, DASHBOARD, vars.clone()).await;
    assert_eq!(theirs["data"], admin, "{theirs}");
    assert_eq!(
        stats(&server).await.1,
        misses + 1,
        "a miss for a new identity"
    );

    // A teacher of nothing sends the very same request: the class is not found for them.
    let stranger = server.token(Role::Teacher, seed::id());
    let refused = server.gql_as(&stranger, DASHBOARD, vars.clone()).await;
    assert_eq!(code(&refused), "NOT_FOUND", "{refused}");
    assert!(refused["data"].is_null(), "{refused}");
    server.stop().await;
}

#[tokio::test]
async fn a_served_staff_read_is_journaled_and_the_journal_is_never_served_stale() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let pupil = &s.pupils[0];
    let head = server.token(Role::HeadTeacher, &s.teacher);
    let file = "query($id: ID!) { pupil(id: $id) { displayName average } }";
    let journal = "query($p: ID) { accessJournal(pupilId: $p) { actor pupilId } }";

    let (hits, _, _) = stats(&server).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let answer = server.gql_as(&head, file, json!({"id": pupil})).await;
        assert_eq!(
            answer["data"]["pupil"]["displayName"], "MARTIN Léa",
            "{answer}"
        );
        // The journal, read after each: one more record each time, served or computed.
        let records = server.ok(journal, json!({"p": pupil})).await;
        seen.push(records["accessJournal"].as_array().expect("list").len());
    }
    assert_eq!(seen, vec![1, 2, 3]);
    // The second and third file reads were served (the journal reads never are).
    assert_eq!(stats(&server).await.0, hits + 2);
    server.stop().await;
}

#[tokio::test]
async fn an_erasure_is_seen_at_once_though_the_log_did_not_move() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let vars = json!({"name": "2nde A"});
    let name_of_c = |d: &Value| {
        d["class"]["pupils"]
            .as_array()
            .expect("pupils")
            .iter()
            .find(|p| p["id"] == json!(s.pupils[2]))
            .expect("C")["displayName"]
            .clone()
    };
    server.ok(DASHBOARD, vars.clone()).await;
    let (hits, _, _) = stats(&server).await;
    let before = server.ok(DASHBOARD, vars.clone()).await;
    assert_eq!(
        stats(&server).await.0,
        hits + 1,
        "the name was served from the cache"
    );
    assert_eq!(name_of_c(&before), "DUBOIS Chloé");
    let head = server.head().await;
    server
        .ok(
            "mutation($p: ID!) { erasePupil(pupilId: $p) { keyDestroyed } }",
            json!({"p": s.pupils[2]}),
        )
        .await;
    assert_eq!(server.head().await, head, "an erasure appends nothing");
    let after = server.ok(DASHBOARD, vars.clone()).await;
    assert_eq!(name_of_c(&after), "Élève effacé");
    assert!(!after.to_string().contains("Chloé"), "{after}");
    server.stop().await;
}

#[tokio::test]
async fn an_answer_read_at_the_instant_is_never_kept_one_read_at_a_date_is() {
    let server = Server::start().await;
    seed::school(&server).await;
    let vars = json!({"name": "2nde A"});
    // Homework lateness is computed at the instant: recomputed every time.
    let homework = "query($name: String!) { class(name: $name) { homework { title } } }";
    server.ok(homework, vars.clone()).await;
    let (hits, _, kept) = stats(&server).await;
    server.ok(homework, vars.clone()).await;
    assert_eq!(stats(&server).await.0, hits, "no hit");
    assert_eq!(stats(&server).await.2, kept, "nothing kept");
    // The same class asked as of an instant does not depend on the clock at all.
    let as_of = "query($name: String!, $at: DateTime) { class(name: $name, asOf: $at) { homework { title } } }";
    let at = json!({"name": "2nde A", "at": chrono::Utc::now().to_rfc3339()});
    server.ok(as_of, at.clone()).await;
    server.ok(as_of, at).await;
    assert_eq!(
        stats(&server).await.0,
        hits + 1,
        "the asOf answer was served"
    );
    server.stop().await;
}

#[tokio::test]
async fn mutations_and_failed_queries_are_never_kept() {
    let server = Server::start().await;
    seed::school(&server).await;
    let (_, _, kept) = stats(&server).await;
    let unknown = server.gql(DASHBOARD, json!({"name": "Terminale Z"})).await;
    assert_eq!(code(&unknown), "NOT_FOUND");
    server.gql(DASHBOARD, json!({"name": "Terminale Z"})).await;
    let register = "mutation($id: ID!) { registerTeacher(input: {id: $id, displayName: \"Mme Roux\"}) { position } }";
    let id = seed::id();
    server.ok(register, json!({"id": id})).await;
    let twice = server.gql(register, json!({"id": id})).await;
    assert_eq!(stats(&server).await.2, kept, "nothing kept: {twice}");
    server.stop().await;
}
