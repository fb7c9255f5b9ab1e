//! Queries × roles × in and out of scope.

use super::world::*;
use crate::harness::{message, Server};
use crate::seed::id;
use serde_json::{json, Value};

/// Class-level reads: (name, query taking `$id`, the in-scope id (class A's), the
/// out-of-scope id (class B's)).
fn class_reads(w: &World) -> Vec<(&'static str, &'static str, String, String)> {
    let s = &w.s;
    vec![
        (
            "class",
            "query($id: String!) { class(name: $id) { id name pupils { id average } } }",
            s.class.clone(),
            s.other_class.clone(),
        ),
        (
            "assessments",
            "query($id: ID!) { assessments(classId: $id) { id } }",
            s.class.clone(),
            s.other_class.clone(),
        ),
        (
            "classHomework",
            "query($id: ID!) { classHomework(classId: $id) { id } }",
            s.class.clone(),
            s.other_class.clone(),
        ),
        (
            "sessions",
            "query($id: ID!) { sessions(classId: $id) { id } }",
            s.class.clone(),
            s.other_class.clone(),
        ),
        (
            "timeOnTask(classId)",
            "query($id: ID!) { timeOnTask(classId: $id) { totalMs } }",
            s.class.clone(),
            s.other_class.clone(),
        ),
        (
            "assessment",
            "query($id: ID!) { assessment(id: $id) { id title } }",
            // French: the teacher's subject in the class (maths is checked apart below).
            s.f1.clone(),
            w.assessment_b.clone(),
        ),
        (
            "homework",
            "query($id: ID!) { homework(id: $id) { id } }",
            w.homework[0].clone(),
            w.homework[1].clone(),
        ),
        (
            "quiz",
            "query($id: ID!) { quiz(id: $id) { id } }",
            w.quiz[0].clone(),
            w.quiz[1].clone(),
        ),
        (
            "parcoursBoard",
            "query($id: ID!) { parcoursBoard(id: $id) { title } }",
            w.parcours[0].clone(),
            w.parcours[1].clone(),
        ),
        (
            "liveBoard",
            "query($id: ID!) { liveBoard(sessionId: $id) { session { id } } }",
            w.french_session.clone(),
            w.session[1].clone(),
        ),
    ]
}

/// Pupil-level reads: (name, query taking `$id`).
const PUPIL_READS: [(&str, &str); 3] = [
    ("pupil", "query($id: ID!) { pupil(id: $id) { id displayName grades { average } absences { halfDays } } }"),
    ("competencies", "query($id: ID!) { competencies(pupilId: $id) { component } }"),
    ("timeOnTask(pupilId)", "query($id: ID!) { timeOnTask(pupilId: $id) { totalMs } }"),
];

#[tokio::test]
async fn every_query_answers_in_scope_and_refuses_out_of_scope_without_a_hint() {
    let server = Server::start().await;
    let w = world(&server).await;
    let tokens = tokens(&server, &w);
    let guess = id();

    for (name, query, inside, outside) in class_reads(&w) {
        for (role, token) in &tokens {
            let guessed = server.gql_as(token, query, json!({"id": guess})).await;
            let in_scope = server.gql_as(token, query, json!({"id": inside})).await;
            let out_scope = server.gql_as(token, query, json!({"id": outside})).await;
            let what = format!("{role} {name}");
            match *role {
                "guardian" | "pupil" => {
                    for answer in [&guessed, &in_scope, &out_scope] {
                        assert_refused(answer, "FORBIDDEN", "", None, &what);
                    }
                    assert_eq!(message(&in_scope), message(&guessed), "{what}");
                }
                _ => {
                    assert_refused(&guessed, "NOT_FOUND", &guess, None, &what);
                    assert_allowed(&in_scope, &format!("{what} in scope"));
                    if *role == "admin" {
                        assert_allowed(&out_scope, &format!("{what} class B"));
                    } else {
                        assert_refused(
                            &out_scope,
                            "NOT_FOUND",
                            &outside,
                            Some((&guessed, &guess)),
                            &format!("{what} class B"),
                        );
                    }
                }
            }
        }
    }
    // Another school's class: unknown to everyone here, the administrator too.
    for (role, token) in &tokens[..3] {
        let query = "query($id: ID!) { assessments(classId: $id) { id } }";
        let guessed = server.gql_as(token, query, json!({"id": guess})).await;
        let other = server
            .gql_as(token, query, json!({"id": w.other_class}))
            .await;
        assert_refused(
            &other,
            "NOT_FOUND",
            &w.other_class,
            Some((&guessed, &guess)),
            &format!("{role} other school's class"),
        );
    }
    // A class by name: one out of reach is "no class named" like a name that does not exist.
    let teacher = &tokens[2].1;
    let by_name = "query($id: String!) { class(name: $id) { id } }";
    let b = server
        .gql_as(teacher, by_name, json!({"id": "2nde B"}))
        .await;
    let z = server
        .gql_as(teacher, by_name, json!({"id": "2nde Z"}))
        .await;
    assert_refused(
        &b,
        "NOT_FOUND",
        "2nde B",
        Some((&z, "2nde Z")),
        "class by name out of reach",
    );

    // Pupil-level reads.
    let [a, b, _] = &w.s.pupils;
    for (name, query) in PUPIL_READS {
        for (role, token) in &tokens {
            let outsiders: Vec<&String> = match *role {
                "admin" => vec![&w.other_pupil],
                "pp" | "teacher" => vec![&w.d, &w.other_pupil],
                "guardian" => vec![b, &w.d, &w.other_pupil],
                _ => vec![b, &w.d],
            };
            let what = format!("{role} {name}");
            let in_scope = server.gql_as(token, query, json!({"id": a})).await;
            assert_allowed(&in_scope, &format!("{what} pupil a"));
            let guessed = server.gql_as(token, query, json!({"id": guess})).await;
            assert_refused(&guessed, "NOT_FOUND", &guess, None, &what);
            for outsider in outsiders {
                let answer = server.gql_as(token, query, json!({"id": outsider})).await;
                assert_refused(
                    &answer,
                    "NOT_FOUND",
                    outsider,
                    Some((&guessed, &guess)),
                    &format!("{what} {outsider}"),
                );
            }
        }
    }
    // By external id: another family's is "no pupil with external id" like a made-up one.
    let by_external = "query($id: String!) { pupilByExternalId(externalId: $id) { id } }";
    let guardian = &tokens[3].1;
    let mine = server
        .gql_as(guardian, by_external, json!({"id": "E1"}))
        .await;
    assert_allowed(&mine, "guardian E1");
    let theirs = server
        .gql_as(guardian, by_external, json!({"id": "E2"}))
        .await;
    let made_up = server
        .gql_as(guardian, by_external, json!({"id": "E99"}))
        .await;
    assert_refused(
        &theirs,
        "NOT_FOUND",
        "E2",
        Some((&made_up, "E99")),
        "guardian E2",
    );

    // Lists show only what is in reach.
    let classes = "{ classes { name } }";
    let names = |answer: &Value| -> Vec<String> {
        answer["data"]["classes"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|c| c["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        names(&server.gql_as(&tokens[0].1, classes, json!({})).await),
        ["2nde A", "2nde B"]
    );
    assert_eq!(
        names(&server.gql_as(&tokens[1].1, classes, json!({})).await),
        ["2nde A"]
    );
    assert_eq!(
        names(&server.gql_as(teacher, classes, json!({})).await),
        ["2nde A"]
    );
    for (_, token) in &tokens[3..] {
        assert_refused(
            &server.gql_as(token, classes, json!({})).await,
            "FORBIDDEN",
            "",
            None,
            "classes",
        );
    }
    let sessions = server
        .gql_as(teacher, "{ sessions { id } }", json!({}))
        .await;
    // Their own session only, not the head teacher's in the same class.
    assert_eq!(
        sessions["data"]["sessions"],
        json!([{"id": w.french_session}])
    );
    // The school's reference data and the log position are everyone's.
    for (role, token) in &tokens {
        let answer = server
            .gql_as(token, "{ school { name } position }", json!({}))
            .await;
        assert_allowed(&answer, role);
    }
    server.stop().await;
}

#[tokio::test]
async fn scope_ids_in_a_token_narrow_the_scope_and_never_widen_it() {
    use suivi_domain::ids::{ClassId, PupilId};
    use suivi_domain::Role;
    use suivi_graphql::identity::Within;
    let server = Server::start().await;
    let w = world(&server).await;
    let class = |id: &String| -> ClassId { id.parse().expect("uuid") };
    let pupil = |id: &String| -> PupilId { id.parse().expect("uuid") };
    let query = "query($id: ID!) { assessments(classId: $id) { id } }";
    let only = |classes: Vec<ClassId>| Within {
        classes: Some(classes),
        pupils: None,
    };
    // The professeur principal of A limited to A sees A; limited to B (which the log does
    // not grant) sees neither.
    let a_only = server.token_within(
        Role::HeadTeacher,
        &w.s.teacher,
        only(vec![class(&w.s.class)]),
    );
    assert_allowed(
        &server
            .gql_as(&a_only, query, json!({"id": w.s.class}))
            .await,
        "A in A",
    );
    let b_only = server.token_within(
        Role::HeadTeacher,
        &w.s.teacher,
        only(vec![class(&w.s.other_class)]),
    );
    for target in [&w.s.class, &w.s.other_class] {
        let answer = server.gql_as(&b_only, query, json!({"id": target})).await;
        assert_refused(&answer, "NOT_FOUND", target, None, "pp limited to B");
    }
    let listed = server
        .gql_as(&b_only, "{ classes { name } }", json!({}))
        .await;
    assert_eq!(listed["data"]["classes"], json!([]), "{listed}");
    // A guardian limited to another family's pupil sees nobody.
    let narrowed = server.token_within(
        Role::Guardian,
        &w.guardian_a,
        Within {
            classes: None,
            pupils: Some(vec![pupil(&w.d)]),
        },
    );
    let file = "query($id: ID!) { pupil(id: $id) { id } }";
    for target in [&w.s.pupils[0], &w.d] {
        let answer = server.gql_as(&narrowed, file, json!({"id": target})).await;
        assert_refused(&answer, "NOT_FOUND", target, None, "guardian limited to d");
    }
    server.stop().await;
}

/// One assessment's detail is for its subject's teachers (and the class's professeur
/// principal): a teacher of another subject in the same class gets the answer an unknown
/// id gets.
#[tokio::test]
async fn a_teacher_reads_only_the_assessments_of_their_subject() {
    let server = Server::start().await;
    let w = world(&server).await;
    let tokens: std::collections::HashMap<&str, String> = tokens(&server, &w).into_iter().collect();
    let query = "query($id: ID!) { assessment(id: $id) { id title } }";
    let maths = &w.s.m1;
    let french = &w.s.f1;
    let ok = |answer: &serde_json::Value, id: &str| {
        assert!(answer.get("errors").is_none(), "{answer}");
        assert_eq!(answer["data"]["assessment"]["id"], serde_json::json!(id));
    };
    ok(
        &server
            .gql_as(&tokens["teacher"], query, json!({"id": french}))
            .await,
        french,
    );
    ok(
        &server
            .gql_as(&tokens["pp"], query, json!({"id": maths}))
            .await,
        maths,
    );
    ok(
        &server
            .gql_as(&tokens["admin"], query, json!({"id": maths}))
            .await,
        maths,
    );
    let refused = server
        .gql_as(&tokens["teacher"], query, json!({"id": maths}))
        .await;
    assert!(refused["data"].is_null(), "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(
        refused["errors"][0]["message"],
        format!("unknown assessment {maths}")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_teacher_watches_the_live_board_of_their_own_sessions_only() {
    let server = Server::start().await;
    let w = world(&server).await;
    let tokens: std::collections::HashMap<&str, String> = tokens(&server, &w).into_iter().collect();
    let query = "query($id: ID!) { liveBoard(sessionId: $id) { session { id } } }";
    // The head teacher's session in class A: theirs, and the administrator's; the French
    // teacher of the class gets what an unknown session gets.
    for role in ["pp", "admin"] {
        let answer = server
            .gql_as(&tokens[role], query, json!({"id": w.session[0]}))
            .await;
        assert_allowed(&answer, role);
    }
    let guess = id();
    let guessed = server
        .gql_as(&tokens["teacher"], query, json!({"id": guess}))
        .await;
    let refused = server
        .gql_as(&tokens["teacher"], query, json!({"id": w.session[0]}))
        .await;
    assert_refused(
        &refused,
        "NOT_FOUND",
        &w.session[0],
        Some((&guessed, &guess)),
        "teacher liveBoard of the head teacher's session",
    );
    // The head teacher leads class A: the French teacher's session there is theirs to see.
    let answer = server
        .gql_as(&tokens["pp"], query, json!({"id": w.french_session}))
        .await;
    assert_allowed(&answer, "pp liveBoard of the French teacher's session");
    server.stop().await;
}
