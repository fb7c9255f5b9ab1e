//! The access journal: a staff member opening a pupil's file is recorded; a family
//! reading its own file and a refused read are not; only an administrator reads it.

use super::access::world;
use super::harness::{code, Server};
use serde_json::json;
use suivi_domain::Role;

const JOURNAL: &str = "query($p: ID) { accessJournal(pupilId: $p) { actor pupilId at } }";

#[tokio::test]
async fn staff_reads_of_a_pupil_file_are_journaled_for_the_administrator() {
    let server = Server::start().await;
    let w = world(&server).await;
    let a = &w.s.pupils[0];
    let teacher = server.token(Role::Teacher, &w.french_teacher);
    let guardian = server.token(Role::Guardian, &w.guardian_a);
    let pupil = server.token(Role::Pupil, a);
    let file = "query($id: ID!) { pupil(id: $id) { id } }";
    let competencies = "query($id: ID!) { competencies(pupilId: $id) { component } }";

    let before = server.ok(JOURNAL, json!({"p": a})).await;
    assert_eq!(before["accessJournal"], json!([]));
    server.gql_as(&teacher, file, json!({"id": a})).await;
    server
        .gql_as(&teacher, competencies, json!({"id": a}))
        .await;
    // Refused (out of scope) and family reads are not journaled.
    let refused = server.gql_as(&teacher, file, json!({"id": w.d})).await;
    assert_eq!(code(&refused), "NOT_FOUND");
    server.gql_as(&guardian, file, json!({"id": a})).await;
    server.gql_as(&pupil, file, json!({"id": a})).await;

    let journal = server.ok(JOURNAL, json!({"p": a})).await;
    let records = journal["accessJournal"].as_array().expect("a list");
    assert_eq!(records.len(), 2, "{journal}");
    for record in records {
        assert_eq!(record["actor"], format!("teacher:{}", w.french_teacher));
        assert_eq!(record["pupilId"], json!(a));
    }
    let of_d = server.ok(JOURNAL, json!({"p": w.d})).await;
    assert_eq!(of_d["accessJournal"], json!([]));

    for token in [
        &teacher,
        &guardian,
        &pupil,
        &server.token(Role::HeadTeacher, &w.s.teacher),
    ] {
        let answer = server.gql_as(token, JOURNAL, json!({"p": a})).await;
        assert_eq!(code(&answer), "FORBIDDEN", "{answer}");
        assert!(answer["data"].is_null(), "{answer}");
    }
    server.stop().await;
}
