//! The décrochage risk indicator over HTTP: a pupil built to trip two rules gets exactly
//! those reasons, their points and the level they add up to, in the class board and in
//! their file, as of an earlier instant too; families get none (a conseil tool).

use super::harness::Server;
use super::seed::{self, id, run};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use suivi_domain::Role;

const RISK: &str = "risk { level label score factors { points reason } }";

/// Each pupil's risk in the class board, by external id.
async fn board(server: &Server, token: &str, as_of: Option<String>) -> Value {
    let query = format!(
        "query($asOf: DateTime) {{ class(name: \"2nde A\", period: \"Année\", asOf: $asOf) \
         {{ pupils {{ externalId {RISK} }} }} }}"
    );
    let answer = server.gql_as(token, &query, json!({"asOf": as_of})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let mut by_pupil = serde_json::Map::new();
    for row in answer["data"]["class"]["pupils"]
        .as_array()
        .expect("pupil rows")
    {
        let external = row["externalId"].as_str().expect("an external id");
        by_pupil.insert(external.to_owned(), row["risk"].clone());
    }
    Value::Object(by_pupil)
}

async fn pupil_file(server: &Server, token: &str, pupil: &str, as_of: Option<String>) -> Value {
    let query = format!(
        "query($id: ID!, $asOf: DateTime) {{ pupil(id: $id, asOf: $asOf) {{ \
         absences {{ halfDaysUnjustified }} {RISK} }} }}"
    );
    let answer = server
        .gql_as(token, &query, json!({"id": pupil, "asOf": as_of}))
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["pupil"].clone()
}

/// `pupil` starts `n` attempts at `quiz` (each submitted before the next).
async fn attempts(server: &Server, pupil: &str, quiz: &str, n: usize) {
    let token = server.token(Role::Pupil, pupil);
    for _ in 0..n {
        let attempt = id();
        for (name, input) in [
            (
                "startAttempt",
                json!({"quizId": quiz, "pupilId": pupil, "attemptId": attempt}),
            ),
            (
                "submitAttempt",
                json!({"quizId": quiz, "pupilId": pupil, "attemptId": attempt}),
            ),
        ] {
            let mutation = format!(
                "mutation($input: {}Input!) {{ {name}(input: $input) {{ position }} }}",
                seed::capitalise(name)
            );
            let answer = server
                .gql_as(&token, &mutation, json!({"input": input}))
                .await;
            assert!(answer.get("errors").is_none(), "{name}: {answer}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pupil_built_to_trip_two_rules_gets_exactly_those_reasons() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let [a, b, c] = &s.pupils;
    // C (E3): 4 unjustified half-days, three days ago.
    let start = Utc::now() - Duration::days(3);
    run(
        &server,
        "recordAbsence",
        json!({"pupilId": c, "startsAt": start.to_rfc3339(),
               "endsAt": (start + Duration::hours(30)).to_rfc3339(),
               "halfDays": 4, "lessons": 12}),
    )
    .await;
    let guardian = id();
    run(
        &server,
        "linkGuardian",
        json!({"guardianId": guardian, "pupilId": c, "name": "M. Dubois"}),
    )
    .await;
    let before_the_quiz = Utc::now().to_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // A QCM that A tries once and B twice; C never: the class's median is 1.
    let (quiz, question) = (id(), id());
    run(
        &server,
        "publishQuiz",
        json!({"id": quiz, "classId": s.class, "subjectId": s.maths,
        "title": "QCM fractions", "maxAttempts": 3, "questions": [
            {"id": question, "prompt": "1/2 + 1/4 ?", "choices": ["3/4", "2/6"], "correctChoice": 0}
        ]}),
    )
    .await;
    attempts(&server, a, &quiz, 1).await;
    attempts(&server, b, &quiz, 2).await;

    let head = server.token(Role::HeadTeacher, &s.teacher);
    let rows = board(&server, &head, None).await;
    // C: 4 half-days (2 points) + no attempt against a median of 1 (1 point) = 3: to watch.
    let c_risk = json!({"level": "WATCH", "label": "à surveiller", "score": 3, "factors": [
        {"points": 2, "reason": "4 demi-journées d'absence non justifiées (seuil 4)"},
        {"points": 1, "reason": "aucune tentative de QCM (médiane de la classe : 1,0)"},
    ]});
    assert_eq!(rows["E3"], c_risk, "{rows}");
    // B: general average (2×35.5/3 + 0 + 11)/4 = 8.67 (dashboards.rs), below 10: 1 point.
    // One subject below 8 only (Français 0), 2 attempts.
    assert_eq!(
        rows["E2"],
        json!({"level": "LOW", "label": "faible", "score": 1, "factors": [
            {"points": 1, "reason": "moyenne générale 8,67 < 10"}
        ]}),
        "{rows}"
    );
    // A: 13.58, one attempt, nothing else: no factor.
    assert_eq!(
        rows["E1"],
        json!({"level": "LOW", "label": "faible", "score": 0, "factors": []}),
        "{rows}"
    );
    // The same in C's file, for the class's period.
    let file = pupil_file(&server, &head, c, None).await;
    assert_eq!(file["risk"], c_risk, "{file}");
    assert_eq!(file["absences"]["halfDaysUnjustified"], 4);

    // As of before the quiz: the absence (dated three days ago) counts, the QCM did not
    // exist yet, so C has the absence's 2 points only.
    let then = board(&server, &head, Some(before_the_quiz.clone())).await;
    let c_then = json!({"level": "WATCH", "label": "à surveiller", "score": 2, "factors": [
        {"points": 2, "reason": "4 demi-journées d'absence non justifiées (seuil 4)"},
    ]});
    assert_eq!(then["E3"], c_then, "{then}");
    let file_then = pupil_file(&server, &head, c, Some(before_the_quiz)).await;
    assert_eq!(file_then["risk"], c_then, "{file_then}");

    // Families: the guardian and the pupil read C's file (the probe: the absences are
    // there) but no risk indicator.
    for token in [
        server.token(Role::Guardian, &guardian),
        server.token(Role::Pupil, c),
    ] {
        let file = pupil_file(&server, &token, c, None).await;
        assert_eq!(file["absences"]["halfDaysUnjustified"], 4, "{file}");
        assert_eq!(file["risk"], Value::Null, "{file}");
    }
    server.stop().await;
}
