//! Subscriptions over graphql-transport-ws: the live board pushed on events and when time
//! alone turns a pupil STALLED; new grades of a pupil.

use super::harness::Server;
use super::seed::{self, grade, id, run};
use chrono::{Duration as ChronoDuration, Utc};
use serde_json::json;
use std::time::{Duration, Instant};

const BOARD: &str = r#"subscription($s: ID!) {
  liveBoard(sessionId: $s) {
    counts { notStarted progressing stalled finished finishedEarly }
    rows { pupil { externalId } status parcours { stepsDone stallReason } qcm { answers attemptsUsed } }
    stalled { pupil { externalId } }
  }
}"#;

struct Live {
    session: String,
    parcours: String,
    steps: [String; 2],
    quiz: String,
    questions: [String; 2],
}

async fn session(server: &Server, s: &seed::School) -> Live {
    let live = Live {
        session: id(),
        parcours: id(),
        steps: [id(), id()],
        quiz: id(),
        questions: [id(), id()],
    };
    run(server, "publishQuiz", json!({"id": live.quiz, "classId": s.class, "subjectId": s.maths, "title": "QCM", "maxAttempts": 2, "questions": [
        {"id": live.questions[0], "prompt": "1/2 + 1/2 ?", "choices": ["1", "2"], "correctChoice": 0},
        {"id": live.questions[1], "prompt": "2 × 3 ?", "choices": ["5", "6", "7"], "correctChoice": 1}
    ]})).await;
    run(
        server,
        "publishParcours",
        json!({"id": live.parcours, "classId": s.class, "title": "Parcours", "steps": [
            {"id": live.steps[0], "title": "Vidéo", "kind": "RESOURCE"},
            {"id": live.steps[1], "title": "QCM", "kind": "QUIZ", "quizId": live.quiz}
        ]}),
    )
    .await;
    run(server, "startSession", json!({"id": live.session, "classId": s.class, "teacherId": s.teacher, "quizId": live.quiz, "parcoursId": live.parcours})).await;
    live
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_board_is_pushed_on_events_and_when_time_alone_stalls_a_pupil() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let live = session(&server, &s).await;

    let mut sub = server.subscribe(BOARD, json!({"s": live.session})).await;
    let first = sub.next_data().await;
    assert_eq!(
        first["liveBoard"]["counts"],
        json!({"notStarted": 3, "progressing": 0, "stalled": 0, "finished": 0, "finishedEarly": 0})
    );

    // Pupil A started the first step 4 min 57 s ago: progressing now, stalled in 3 s.
    let started = Utc::now() - ChronoDuration::seconds(5 * 60 - 3);
    run(&server, "startStep", json!({"parcoursId": live.parcours, "pupilId": s.pupils[0], "stepId": live.steps[0], "at": started, "sessionId": live.session})).await;
    let pushed = sub.next_data().await;
    assert_eq!(pushed["liveBoard"]["counts"]["progressing"], 1);
    assert_eq!(pushed["liveBoard"]["rows"][0]["status"], "PROGRESSING");
    let head = server.head().await;
    let waiting = Instant::now();

    let flipped = sub.next_data().await;
    assert!(
        waiting.elapsed() >= Duration::from_secs(1),
        "pushed too early"
    );
    assert_eq!(
        server.head().await,
        head,
        "no event was written: time alone flipped the status"
    );
    assert_eq!(flipped["liveBoard"]["counts"]["stalled"], 1);
    assert_eq!(flipped["liveBoard"]["rows"][0]["status"], "STALLED");
    assert_eq!(
        flipped["liveBoard"]["rows"][0]["parcours"]["stallReason"],
        "NO_PROGRESS"
    );
    assert_eq!(
        flipped["liveBoard"]["stalled"],
        json!([{"pupil": {"externalId": "E1"}}])
    );

    // Progress un-stalls A; the QCM shows attempts and answers.
    run(
        &server,
        "completeStep",
        json!({"parcoursId": live.parcours, "pupilId": s.pupils[0], "stepId": live.steps[0]}),
    )
    .await;
    let board = sub.next_data().await;
    assert_eq!(board["liveBoard"]["rows"][0]["status"], "PROGRESSING");
    assert_eq!(board["liveBoard"]["rows"][0]["parcours"]["stepsDone"], 1);
    let attempt = id();
    run(&server, "startAttempt", json!({"quizId": live.quiz, "pupilId": s.pupils[1], "attemptId": attempt, "sessionId": live.session})).await;
    let board = sub.next_data().await;
    assert_eq!(board["liveBoard"]["rows"][1]["qcm"]["attemptsUsed"], 1);
    run(&server, "answerQuestion", json!({"quizId": live.quiz, "pupilId": s.pupils[1], "attemptId": attempt, "questionId": live.questions[0], "answer": 1, "timeSpentMs": 4200})).await;
    let board = sub.next_data().await;
    assert_eq!(board["liveBoard"]["rows"][1]["qcm"]["answers"], 1);

    // The query gives the same board.
    let data = server
        .ok(r#"query($s: ID!) { liveBoard(sessionId: $s) { counts { progressing notStarted } quiz { questions { answers correctAnswers pupilsAnswered medianTimeMs } } } }"#, json!({"s": live.session}))
        .await;
    assert_eq!(
        data["liveBoard"]["counts"],
        json!({"progressing": 1, "notStarted": 2})
    );
    assert_eq!(
        data["liveBoard"]["quiz"]["questions"][0],
        json!({"answers": 1, "correctAnswers": 0, "pupilsAnswered": 1, "medianTimeMs": 4200})
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pupils_new_grades_are_pushed() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let mut sub = server
        .subscribe(
            r#"subscription($p: ID!) { gradeRecorded(pupilId: $p) { assessment { id title } pupil { externalId } score mark corrected } }"#,
            json!({"p": s.pupils[2]}),
        )
        .await;
    // Live once a probe grade of C's is pushed: then A's correction, if it were pushed,
    // would come before C's grade.
    sub.live(
        |_| seed::probe(&server, &s, &s.french, vec![&s.pupils[2]]),
        seed::probe_pushed,
    )
    .await;
    // A grade of another pupil is not pushed; C's is.
    run(&server, "correctGrade", json!({"assessmentId": s.m1, "pupilId": s.pupils[0], "score": "13", "reason": "erreur de report"})).await;
    grade(&server, &s.f1, &s.pupils[2], Some("14.25"), None).await;
    let data = sub.next_data().await;
    assert_eq!(
        data["gradeRecorded"],
        json!({"assessment": {"id": s.f1, "title": "Dissertation"}, "pupil": {"externalId": "E3"}, "score": "14.25", "mark": null, "corrected": false})
    );
    run(
        &server,
        "correctGrade",
        json!({"assessmentId": s.m1, "pupilId": s.pupils[2], "mark": "DISP"}),
    )
    .await;
    let data = sub.next_data().await;
    assert_eq!(data["gradeRecorded"]["mark"], "DISP");
    assert_eq!(data["gradeRecorded"]["corrected"], true);
    server.stop().await;
}

/// Scope is checked per event, not only at subscribe time: a professeur principal replaced
/// mid-subscription stops receiving the pupil's grades at once, and the stream ends
/// without pushing the grade recorded after the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_who_loses_the_pupil_mid_stream_receives_nothing_more() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let interim = seed::id();
    run(
        &server,
        "registerTeacher",
        json!({"id": interim, "displayName": "Mme Caron"}),
    )
    .await;
    run(
        &server,
        "assignHeadTeacher",
        json!({"teacherId": interim, "classId": s.class}),
    )
    .await;
    let token = server.token(suivi_domain::Role::HeadTeacher, &interim);
    let mut sub = server
        .subscribe_as(
            &token,
            r#"subscription($p: ID!) { gradeRecorded(pupilId: $p) { assessment { id title } score } }"#,
            json!({"p": s.pupils[2]}),
        )
        .await;
    sub.live(
        |_| seed::probe(&server, &s, &s.french, vec![&s.pupils[2]]),
        seed::probe_pushed,
    )
    .await;
    grade(&server, &s.f1, &s.pupils[2], Some("14"), None).await;
    let data = sub.next_data().await;
    assert_eq!(
        data["gradeRecorded"],
        json!({"assessment": {"id": s.f1, "title": "Dissertation"}, "score": "14"})
    );

    // The class gets its professeur principal back; the interim teaches nothing there.
    run(
        &server,
        "assignHeadTeacher",
        json!({"teacherId": s.teacher, "classId": s.class}),
    )
    .await;
    run(
        &server,
        "correctGrade",
        json!({"assessmentId": s.f1, "pupilId": s.pupils[2], "score": "15", "reason": "barème"}),
    )
    .await;
    // Nothing of the grade: the subscription ends with the reason, the socket with 4403.
    let last = sub.message().await;
    assert_eq!(last["type"], "next", "{last}");
    assert!(
        last["payload"]["data"].is_null(),
        "nothing pushed after the scope was lost: {last}"
    );
    assert_eq!(
        last["payload"]["errors"][0]["extensions"]["code"], "SCOPE_LOST",
        "{last}"
    );
    assert!(!last.to_string().contains("15"), "{last}");
    let (code, reason) = sub.closed().await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.starts_with("Forbidden"), "{reason}");
    // And subscribing again is refused like an unknown pupil.
    let mut again = server
        .subscribe_as(
            &token,
            r#"subscription($p: ID!) { gradeRecorded(pupilId: $p) { score } }"#,
            json!({"p": s.pupils[2]}),
        )
        .await;
    let refused = again.message().await;
    assert!(refused["payload"]["data"].is_null(), "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    server.stop().await;
}
