//! Subscriptions: checked at subscribe time and for every event.

use super::world::*;
use crate::harness::Server;
use crate::seed;
use serde_json::json;

#[tokio::test]
async fn subscriptions_are_checked_when_they_start_and_for_every_event() {
    let server = Server::start().await;
    let w = world(&server).await;
    let tokens: std::collections::HashMap<&str, String> = tokens(&server, &w).into_iter().collect();
    let board = "subscription($id: ID!) { liveBoard(sessionId: $id) { session { id } } }";
    let grades = "subscription($id: ID!) { gradeRecorded(pupilId: $id) { assessmentTitle score } }";

    // At subscribe time: in scope a first board; out of scope the error an unknown id gets.
    for (role, session) in [
        ("admin", &w.session[0]),
        ("pp", &w.session[0]),
        ("teacher", &w.french_session),
    ] {
        let mut sub = server
            .subscribe_as(&tokens[role], board, json!({"id": session}))
            .await;
        let data = sub.next_data().await;
        assert_eq!(data["liveBoard"]["session"]["id"], json!(session), "{role}");
    }
    for (role, session, expected) in [
        ("pp", &w.session[1], "NOT_FOUND"),
        // Another teacher's session in their class.
        ("teacher", &w.session[0], "NOT_FOUND"),
        ("teacher", &w.session[1], "NOT_FOUND"),
        ("guardian", &w.session[0], "FORBIDDEN"),
        ("pupil", &w.session[0], "FORBIDDEN"),
    ] {
        let mut sub = server
            .subscribe_as(&tokens[role], board, json!({"id": session}))
            .await;
        let error = sub_error(&sub.message().await);
        assert_eq!(error["extensions"]["code"], expected, "{role}: {error}");
        if expected == "NOT_FOUND" {
            assert_eq!(error["message"], format!("unknown session {session}"));
        }
    }
    for (role, pupil) in [
        ("guardian", &w.s.pupils[1]),
        ("guardian", &w.d),
        ("pupil", &w.s.pupils[1]),
        ("teacher", &w.d),
        ("admin", &w.other_pupil),
    ] {
        let mut sub = server
            .subscribe_as(&tokens[role], grades, json!({"id": pupil}))
            .await;
        let error = sub_error(&sub.message().await);
        assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{role}: {error}");
        assert_eq!(error["message"], format!("unknown pupil {pupil}"), "{role}");
    }

    // Per event: the guardian of a hears a's grades, and nothing of b's.
    let mut mine = server
        .subscribe_as(&tokens["guardian"], grades, json!({"id": w.s.pupils[0]}))
        .await;
    // Live once a probe reaches them: for the family, a maths assessment every pupil is
    // exempted from (no figure moves); for the teacher's feed, a lateness of b's.
    let everyone: Vec<&String> = w.s.pupils.iter().collect();
    mine.live(
        |_| seed::probe(&server, &w.s, &w.s.maths, everyone.clone()),
        seed::probe_pushed,
    )
    .await;
    let mut changes = server
        .subscribe_as(
            &tokens["teacher"],
            "subscription { changes { position classIds pupilIds } }",
            json!({}),
        )
        .await;
    changes
        .live(
            |i| {
                let input = json!({"pupilId": w.s.pupils[1], "at": chrono::Utc::now(), "minutes": i % 50 + 1});
                let server = &server;
                async move { seed::run(server, "recordLateness", input).await["position"].clone() }
            },
            |msg, position| msg["payload"]["data"]["changes"]["position"].as_u64() >= position.as_u64(),
        )
        .await;
    run(
        &server,
        "correctGrade",
        json!({"assessmentId": w.assessment_b, "pupilId": w.d, "score": "3"}),
    )
    .await;
    seed::grade(&server, &w.s.f1, &w.s.pupils[2], Some("13"), None).await;
    run(
        &server,
        "correctGrade",
        json!({"assessmentId": w.s.m2, "pupilId": w.s.pupils[0], "score": "9"}),
    )
    .await;
    // C's grade completes the dissertation: its results reach a's family as a whole (a's
    // 9 was not theirs to see while classmates were still being graded).
    let data = mine.next_data().await;
    assert_eq!(
        data["gradeRecorded"]["assessmentTitle"], "Dissertation",
        "{data}"
    );
    assert_eq!(data["gradeRecorded"]["score"], "9");
    let data = mine.next_data().await;
    assert_eq!(
        data["gradeRecorded"]["assessmentTitle"], "Interrogation",
        "{data}"
    );
    assert_eq!(data["gradeRecorded"]["score"], "9");
    // The teacher of class A hears of class A, never of class B or its pupil.
    let first = changes.next_data().await;
    let text = first.to_string();
    assert!(text.contains(&w.s.class), "{text}");
    assert!(
        !text.contains(&w.s.other_class) && !text.contains(&w.d),
        "{text}"
    );
    // A guardian may not open the whole assessment from a grade change.
    let mut nosy = server
        .subscribe_as(&tokens["guardian"], "subscription($id: ID!) { gradeRecorded(pupilId: $id) { assessment { grades { score } } } }", json!({"id": w.s.pupils[0]}))
        .await;
    // Corrections of a's grade until one is pushed: each push must hold none of the
    // assessment, only FORBIDDEN for it.
    nosy.live(
        |i| {
            let score = ["9.5", "9.25"][i % 2];
            let input = json!({"assessmentId": w.s.m2, "pupilId": w.s.pupils[0], "score": score});
            let server = &server;
            async move {
                seed::run(server, "correctGrade", input).await;
                json!(null)
            }
        },
        |msg, _| {
            msg["type"] == "next"
                && msg["payload"]["data"]["gradeRecorded"]["assessment"].is_null()
                && msg["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
                && !msg.to_string().contains("\"score\"")
        },
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn the_event_feed_is_the_administrators_every_event_once_in_order() {
    let server = Server::start().await;
    let w = world(&server).await;
    let tokens: std::collections::HashMap<&str, String> = tokens(&server, &w).into_iter().collect();
    let feed =
        "subscription($after: Int!) { events(after: $after) { position eventId eventType actor } }";
    for role in ["pp", "teacher", "guardian", "pupil"] {
        let mut sub = server
            .subscribe_as(&tokens[role], feed, json!({"after": 0}))
            .await;
        let error = sub_error(&sub.message().await);
        assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{role}: {error}");
    }

    // The school's own events after a position in the middle, from the store itself;
    // the world writes another school too, whose events never reach this feed.
    let log = server.store.read_all(0, 100_000).await.expect("log");
    let ours: Vec<u64> = log
        .iter()
        .filter(|e| e.school_id == server.school)
        .map(|e| e.global_position)
        .collect();
    assert!(ours.len() < log.len(), "the world writes another school");
    let after = ours[ours.len() - 6];
    let mut sub = server
        .subscribe_as(&tokens["admin"], feed, json!({"after": after}))
        .await;
    let mut positions = Vec::new();
    for _ in 0..5 {
        positions.push(
            sub.next_data().await["events"]["position"]
                .as_u64()
                .expect("position"),
        );
    }
    assert_eq!(positions, ours[ours.len() - 5..].to_vec());
    // Then live: a new event arrives once, and nothing else.
    let written = seed::run(
        &server,
        "defineSubject",
        json!({"id": seed::id(), "name": "Latin", "kind": "GENERAL"}),
    )
    .await;
    let live = sub.next_data().await;
    assert_eq!(live["events"]["position"], written["position"]);
    assert_eq!(live["events"]["eventType"], "SubjectDefined");
    assert!(live["events"]["actor"]
        .as_str()
        .unwrap_or_default()
        .starts_with("admin:"));
    // And nothing else: the next event written is the next pushed.
    let probe = seed::run(
        &server,
        "defineSubject",
        json!({"id": seed::id(), "name": "Grec", "kind": "GENERAL"}),
    );
    sub.quiet(
        async { probe.await["position"].clone() },
        |msg, position| msg["payload"]["data"]["events"]["position"] == *position,
    )
    .await;
    server.stop().await;
}
