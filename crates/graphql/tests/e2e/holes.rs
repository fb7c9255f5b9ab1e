//! Regressions for holes found in review: a refused registration that replaced or revived a
//! pupil's key, a colleague ending someone else's session, a teacher's time on task summing
//! other subjects' quizzes, staff reach kept after a transfer, an idempotency key that
//! answered another command with the first one's result, client clocks trusted for
//! pupils' deposits and answers, lax JWT checks (nbf, padded role, iss/aud), names of
//! any length sealed into the log, and a retry naming an entity that was never created.

use crate::access::world::{assert_refused, world};
use crate::harness::{code, message, Server, SECRET};
use crate::seed::{self, capitalise, id};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::Arc;
use suivi_domain::events::PupilEnrolled;
use suivi_domain::identity::{open, PupilIdentity};
use suivi_domain::ids::{ClassId, PupilId};
use suivi_domain::{Actor, Command, Event, Metadata, Role};
use suivi_graphql::jwt::JwtVerifier;
use suivi_graphql::limits::{MAX_BODY_BYTES, MAX_NAME_CHARS};
use suivi_projections::gateway::Gateway;

const RESULT: &str = "eventIds position id";

/// Runs mutation `name` (input type `{Name}Input`) with `token`: the whole answer.
async fn mutate(server: &Server, token: &str, name: &str, input: Value) -> Value {
    let query = format!(
        "mutation($input: {}Input!) {{ {name}(input: $input) {{ {RESULT} }} }}",
        capitalise(name)
    );
    server.gql_as(token, &query, json!({"input": input})).await
}

/// As `mutate`, with an idempotency key.
async fn mutate_keyed(server: &Server, token: &str, name: &str, input: Value, key: &str) -> Value {
    let query = format!(
        "mutation($input: {}Input!, $key: ID) {{ {name}(input: $input, idempotencyKey: $key) {{ {RESULT} }} }}",
        capitalise(name)
    );
    server
        .gql_as(token, &query, json!({"input": input, "key": key}))
        .await
}

/// Erases pupil `pupil` (as the administrator): their key is destroyed.
async fn erase(server: &Server, pupil: &str) {
    let erased = server
        .ok(
            "mutation($p: ID!) { erasePupil(pupilId: $p) { keyDestroyed } }",
            json!({"p": pupil}),
        )
        .await;
    assert_eq!(erased["erasePupil"]["keyDestroyed"], true, "{erased}");
}

/// The mutation's result, which must have no error.
fn accepted(answer: &Value, name: &str) -> Value {
    assert!(answer.get("errors").is_none(), "{name}: {answer}");
    answer["data"][name].clone()
}

fn instant(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not an RFC 3339 instant: {value}"))
}

/// Whether `at` lies in `[from, to]`, a second of slack each side (stored precision).
fn within(at: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    from - Duration::seconds(1) <= at && at <= to + Duration::seconds(1)
}

async fn key_bytes(server: &Server, pupil: PupilId) -> Option<Vec<u8>> {
    server
        .store
        .get_key(pupil)
        .await
        .expect("the key table answers")
        .map(|key| key.0.to_vec())
}

/// The pupil's name as a fresh server would read it, with no key cache in between: the
/// registration in the log opened with the key now in the key table. `None` without a
/// key; "unreadable" when the key does not open the registration.
async fn name_in_store(server: &Server, pupil: PupilId) -> Option<String> {
    let key = server.store.get_key(pupil).await.expect("the key table")?;
    let mut after = 0;
    loop {
        let batch = server.store.read_all(after, 1000).await.expect("the log");
        let last = batch.last()?.global_position;
        for recorded in &batch {
            if let Ok(Event::PupilRegistered(e)) = recorded.decode() {
                if e.pupil_id == pupil {
                    return Some(match open::<PupilIdentity>(&key, pupil, &e.identity) {
                        Ok(identity) => identity.display_name(),
                        Err(_) => "unreadable".to_owned(),
                    });
                }
            }
        }
        after = last;
    }
}

async fn display_name(server: &Server, pupil: &str) -> Value {
    let answer = server
        .ok(
            "query($id: ID!) { pupil(id: $id) { displayName } }",
            json!({"id": pupil}),
        )
        .await;
    answer["pupil"]["displayName"].clone()
}

#[tokio::test]
async fn a_refused_registration_neither_replaces_nor_revives_a_key() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let admin = server.admin.clone();
    let (a, b) = (&s.pupils[0], &s.pupils[1]);
    let pa: PupilId = a.parse().expect("uuid");
    let pb: PupilId = b.parse().expect("uuid");
    let key_a = key_bytes(&server, pa).await;
    assert!(key_a.is_some(), "a registered pupil has a key");
    assert_eq!(display_name(&server, a).await, "MARTIN Léa");

    // Registering again under an existing pupil's id is refused and writes nothing, not
    // even a new key beside the log.
    let head = server.head().await;
    let again = mutate(
        &server,
        &admin,
        "registerPupil",
        json!({"id": a, "externalId": "E99", "lastName": "Intrus", "firstName": "Jean"}),
    )
    .await;
    assert_refused(
        &again,
        "ALREADY_EXISTS",
        a,
        None,
        "registerPupil over pupil a",
    );
    assert!(message(&again).contains(a.as_str()), "{again}");
    assert_eq!(
        server.head().await,
        head,
        "the refused registration appended nothing"
    );
    assert_eq!(
        key_bytes(&server, pa).await,
        key_a,
        "pupil a's key is the one it had"
    );
    assert_eq!(
        name_in_store(&server, pa).await.as_deref(),
        Some("MARTIN Léa"),
        "a fresh server would still open pupil a's name"
    );
    assert_eq!(display_name(&server, a).await, "MARTIN Léa");

    // An erased pupil stays erased: a refused registration under their id brings no key
    // back, so nothing new can be sealed for them.
    erase(&server, b).await;
    assert_eq!(server.head().await, head, "an erasure appends nothing");
    assert_eq!(key_bytes(&server, pb).await, None);
    let revive = mutate(
        &server,
        &admin,
        "registerPupil",
        json!({"id": b, "externalId": "E98", "lastName": "Bernard", "firstName": "Hugo"}),
    )
    .await;
    assert_refused(
        &revive,
        "ALREADY_EXISTS",
        b,
        None,
        "registerPupil over erased pupil b",
    );
    assert_eq!(key_bytes(&server, pb).await, None, "no key came back for b");
    let guardian = mutate(
        &server,
        &admin,
        "linkGuardian",
        json!({"pupilId": b, "name": "M. Bernard"}),
    )
    .await;
    assert_refused(&guardian, "NOT_FOUND", b, None, "linkGuardian for erased b");
    assert_eq!(
        server.head().await,
        head,
        "the refused commands appended nothing"
    );
    assert_eq!(key_bytes(&server, pb).await, None);
    assert_eq!(display_name(&server, b).await, "Élève effacé");
    server.stop().await;
}

const BOARD: &str = "query($s: ID!) { liveBoard(sessionId: $s) { session { id active endedAt } } }";

#[tokio::test]
async fn a_colleague_of_the_class_cannot_end_a_session_they_do_not_run() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let owner = server.token(Role::HeadTeacher, &s.teacher);
    let colleague = server.token(Role::Teacher, &w.french_teacher);
    let session = &w.session[0];
    let head = server.head().await;

    // The French teacher teaches class A but neither runs session[0] nor leads the class:
    // the session is answered like an unknown one.
    let guess = id();
    let guessed = mutate(
        &server,
        &colleague,
        "endSession",
        json!({"sessionId": guess}),
    )
    .await;
    let refused = mutate(
        &server,
        &colleague,
        "endSession",
        json!({"sessionId": session}),
    )
    .await;
    assert_refused(
        &refused,
        "NOT_FOUND",
        session,
        Some((&guessed, &guess)),
        "French teacher ends the head teacher's session",
    );
    assert_eq!(
        server.head().await,
        head,
        "the refused end appended nothing"
    );
    let board = server.gql_as(&owner, BOARD, json!({"s": session})).await;
    assert_eq!(
        board["data"]["liveBoard"]["session"]["active"], true,
        "{board}"
    );
    assert!(
        board["data"]["liveBoard"]["session"]["endedAt"].is_null(),
        "{board}"
    );
    let running = server
        .gql_as(
            &owner,
            "query($c: ID!) { sessions(classId: $c, active: true) { id } }",
            json!({"c": s.class}),
        )
        .await;
    let ids: Vec<&Value> = running["data"]["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("{running}"))
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert!(ids.contains(&&json!(session)), "still running: {running}");

    // The French teacher ends their own session; the owner ends theirs.
    let own = mutate(
        &server,
        &colleague,
        "endSession",
        json!({"sessionId": w.french_session}),
    )
    .await;
    accepted(&own, "endSession");
    let before = Utc::now();
    let ended = mutate(&server, &owner, "endSession", json!({"sessionId": session})).await;
    accepted(&ended, "endSession");
    let after = Utc::now();
    assert_eq!(server.head().await, head + 2, "two ends, two events");
    let board = server.gql_as(&owner, BOARD, json!({"s": session})).await;
    let view = &board["data"]["liveBoard"]["session"];
    assert_eq!(view["active"], false, "{board}");
    assert!(within(instant(&view["endedAt"]), before, after), "{board}");
    server.stop().await;
}

/// A pupil's attempt at `quiz` with one answer that took `ms`.
async fn answer_quiz(server: &Server, pupil: &str, quiz: &str, question: &str, ms: u64) {
    let token = server.token(Role::Pupil, pupil);
    let attempt = id();
    let started = mutate(
        server,
        &token,
        "startAttempt",
        json!({"quizId": quiz, "pupilId": pupil, "attemptId": attempt}),
    )
    .await;
    accepted(&started, "startAttempt");
    let answered = mutate(server, &token, "answerQuestion", json!({"quizId": quiz, "pupilId": pupil, "attemptId": attempt, "questionId": question, "answer": 1, "timeSpentMs": ms})).await;
    accepted(&answered, "answerQuestion");
}

#[tokio::test]
async fn a_teacher_times_only_the_quizzes_of_their_subject() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let (a, b) = (&s.pupils[0], &s.pupils[1]);
    // Class A: the world's French quiz, and a maths quiz of the head teacher's.
    let (maths_quiz, maths_question) = (id(), id());
    seed::run(&server, "publishQuiz", json!({"id": maths_quiz, "classId": s.class, "subjectId": s.maths, "title": "QCM maths", "questions": [
        {"id": maths_question, "prompt": "2 × 3 ?", "choices": ["5", "6"], "correctChoice": 1}
    ]})).await;
    answer_quiz(&server, a, &w.quiz[0], &w.question[0], 1_200).await;
    answer_quiz(&server, b, &w.quiz[0], &w.question[0], 3_400).await;
    answer_quiz(&server, a, &maths_quiz, &maths_question, 5_000).await;
    answer_quiz(&server, b, &maths_quiz, &maths_question, 7_000).await;
    let french_ms = 1_200 + 3_400;
    let all_ms = french_ms + 5_000 + 7_000;

    let query =
        "query($c: ID!) { timeOnTask(classId: $c) { totalMs entries { quizId ms count } } }";
    let vars = json!({"c": s.class});
    // The head teacher leads class A: every answer is theirs to see (the maths answers
    // were recorded).
    let pp = server.token(Role::HeadTeacher, &s.teacher);
    let led = server.gql_as(&pp, query, vars.clone()).await;
    assert_eq!(led["data"]["timeOnTask"]["totalMs"], all_ms, "{led}");

    // The French teacher: their quiz's answers only.
    let teacher = server.token(Role::Teacher, &w.french_teacher);
    let theirs = server.gql_as(&teacher, query, vars).await;
    assert!(theirs.get("errors").is_none(), "{theirs}");
    assert_eq!(
        theirs["data"]["timeOnTask"]["totalMs"], french_ms,
        "{theirs}"
    );
    let entries = theirs["data"]["timeOnTask"]["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{theirs}"));
    assert_eq!(entries.len(), 2, "one entry per pupil: {theirs}");
    assert!(
        entries.iter().all(|e| e["quizId"] == json!(w.quiz[0])),
        "no other subject's quiz: {theirs}"
    );
    // The class view's time on task is narrowed the same way.
    let class = server
        .gql_as(
            &teacher,
            "query($n: String!) { class(name: $n) { timeOnTask { totalMs } } }",
            json!({"n": "2nde A"}),
        )
        .await;
    assert_eq!(
        class["data"]["class"]["timeOnTask"]["totalMs"], french_ms,
        "{class}"
    );
    server.stop().await;
}

const ABSENCE_RESULT: &str =
    "query($id: ID!) { pupil(id: $id) { attendanceRecords { id halfDays lessons at } } }";

#[tokio::test]
async fn a_transferred_pupil_is_reached_only_as_of_the_days_they_were_in_the_class() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let today = s.today;
    let teacher = server.token(Role::Teacher, &w.french_teacher);
    // Pupil P has been in class A for a month (written as the importer would, dated a
    // month ago, so that a view as of three weeks ago holds them), and leaves for class B
    // five days ago.
    let pupil = id();
    let pupil_id: PupilId = pupil.parse().expect("uuid");
    let class_a: ClassId = s.class.parse().expect("uuid");
    let gateway = Gateway::new(Arc::clone(&server.store))
        .await
        .expect("a gateway");
    let meta = Metadata {
        school_id: server.school,
        actor: Actor::System("holes-test".to_owned()),
        occurred_at: Utc::now() - Duration::days(30),
        correlation_id: None,
        causation_id: None,
    };
    let person = PupilIdentity {
        last_name: "Roussel".to_owned(),
        first_name: "Manon".to_owned(),
        birth_date: None,
    };
    gateway
        .register_pupil(&meta, pupil_id, "E7".to_owned(), &person)
        .await
        .expect("register P");
    gateway
        .execute(
            &meta,
            Command::EnrolPupil(PupilEnrolled {
                pupil_id,
                class_id: class_a,
                on: s.year_start,
            }),
        )
        .await
        .expect("enrol P in class A");
    let left_on = today - Duration::days(5);
    seed::run(&server, "transferPupil", json!({"pupilId": pupil, "fromClassId": s.class, "toClassId": s.other_class, "on": left_on})).await;

    // Today P is no pupil of the French teacher's: answered like an unknown pupil.
    let read =
        "query($id: ID!, $at: DateTime) { pupil(id: $id, asOf: $at) { externalId displayName } }";
    let guess = id();
    let guessed = server.gql_as(&teacher, read, json!({"id": guess})).await;
    let now = server.gql_as(&teacher, read, json!({"id": pupil})).await;
    assert_refused(
        &now,
        "NOT_FOUND",
        &pupil,
        Some((&guessed, &guess)),
        "teacher reads P today",
    );
    // As of three weeks ago P was in class A: the teacher reads P as they stood then.
    let then = Utc::now() - Duration::days(21);
    let past = server
        .gql_as(&teacher, read, json!({"id": pupil, "at": then}))
        .await;
    assert!(past.get("errors").is_none(), "{past}");
    assert_eq!(past["data"]["pupil"]["externalId"], "E7", "{past}");
    assert_eq!(
        past["data"]["pupil"]["displayName"], "ROUSSEL Manon",
        "{past}"
    );

    // Writes follow the enrolment on the fact's date: today's absence is refused like an
    // unknown pupil's, one three weeks ago (a correction of a day P was theirs) is taken.
    let head = server.head().await;
    let at = Utc::now();
    let absence = |p: &str, starts: DateTime<Utc>| json!({"id": id(), "pupilId": p, "startsAt": starts, "endsAt": starts + Duration::minutes(55), "halfDays": 1, "lessons": 1});
    let guessed = mutate(
        &server,
        &teacher,
        "recordAbsence",
        absence(&guess, at - Duration::minutes(60)),
    )
    .await;
    let refused = mutate(
        &server,
        &teacher,
        "recordAbsence",
        absence(&pupil, at - Duration::minutes(60)),
    )
    .await;
    assert_refused(
        &refused,
        "NOT_FOUND",
        &pupil,
        Some((&guessed, &guess)),
        "teacher records P absent today",
    );
    assert_eq!(
        server.head().await,
        head,
        "the refused absence appended nothing"
    );
    let day_in_a: NaiveDate = today - Duration::days(21);
    let starts = day_in_a.and_hms_opt(8, 0, 0).expect("8:00").and_utc();
    let input = absence(&pupil, starts);
    let taken = mutate(&server, &teacher, "recordAbsence", input.clone()).await;
    let taken = accepted(&taken, "recordAbsence");
    assert_eq!(taken["id"], input["id"], "{taken}");
    assert_eq!(server.head().await, head + 1);
    let records = server.ok(ABSENCE_RESULT, json!({"id": pupil})).await;
    let records = records["pupil"]["attendanceRecords"]
        .as_array()
        .unwrap_or_else(|| panic!("{records}"))
        .clone();
    assert_eq!(
        records.len(),
        1,
        "only the absence of the day in class A: {records:?}"
    );
    assert_eq!(records[0]["id"], input["id"]);
    assert_eq!(instant(&records[0]["at"]), starts);
    assert_eq!(records[0]["halfDays"], 1);
    server.stop().await;
}

fn absence_of(p: &str, absence: &str, half_days: u16) -> Value {
    let starts = Utc::now() - Duration::hours(2);
    // Whole seconds: the retry below must send byte for byte the same request.
    let starts = DateTime::<Utc>::from_timestamp(starts.timestamp(), 0).expect("an instant");
    json!({"id": absence, "pupilId": p, "startsAt": starts, "endsAt": starts + Duration::hours(1), "halfDays": half_days, "lessons": 1})
}

async fn records_of(server: &Server, pupil: &str) -> usize {
    let answer = server.ok(ABSENCE_RESULT, json!({"id": pupil})).await;
    answer["pupil"]["attendanceRecords"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .len()
}

#[tokio::test]
async fn an_idempotency_key_names_one_command_only() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let (a, b) = (&s.pupils[0], &s.pupils[1]);
    let pp = server.token(Role::HeadTeacher, &s.teacher);
    let key = id();
    let first_input = absence_of(a, &id(), 1);
    let first = mutate_keyed(&server, &pp, "recordAbsence", first_input.clone(), &key).await;
    let first = accepted(&first, "recordAbsence");
    assert_eq!(first["eventIds"], json!([key]), "the key is the event's id");
    let head = server.head().await;
    assert_eq!(first["position"], head);

    // The same key with another pupil is another command: refused, nothing written.
    let other = mutate_keyed(&server, &pp, "recordAbsence", absence_of(b, &id(), 1), &key).await;
    assert!(other["data"].is_null(), "{other}");
    assert_eq!(code(&other), "IDEMPOTENCY_MISMATCH", "{other}");
    // Nor with the same pupil and other figures.
    let mut changed = first_input.clone();
    changed["halfDays"] = json!(2);
    let changed = mutate_keyed(&server, &pp, "recordAbsence", changed, &key).await;
    assert_eq!(code(&changed), "IDEMPOTENCY_MISMATCH", "{changed}");
    assert_eq!(server.head().await, head, "the reused key wrote nothing");
    assert_eq!(records_of(&server, b).await, 0, "nothing recorded for b");

    // The very same request again is a retry: the first answer, nothing written twice.
    let retry = mutate_keyed(&server, &pp, "recordAbsence", first_input.clone(), &key).await;
    let retry = accepted(&retry, "recordAbsence");
    assert_eq!(retry["eventIds"], json!([key]), "{retry}");
    assert_eq!(retry["position"], first["position"], "{retry}");
    assert_eq!(retry["id"], first_input["id"], "{retry}");
    assert_eq!(server.head().await, head, "the retry wrote nothing");
    assert_eq!(records_of(&server, a).await, 1, "one absence for a");
    server.stop().await;
}

#[tokio::test]
async fn a_retry_that_leaves_the_id_to_the_server_is_still_a_retry() {
    // A client that lets the server mint the absence's id sends the very same request
    // again when the first answer was lost: that is a retry, not another command.
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let a = &s.pupils[0];
    let pp = server.token(Role::HeadTeacher, &s.teacher);
    let key = id();
    let mut input = absence_of(a, "unused", 1);
    input.as_object_mut().expect("an object").remove("id");
    let first = mutate_keyed(&server, &pp, "recordAbsence", input.clone(), &key).await;
    let first = accepted(&first, "recordAbsence");
    let head = server.head().await;
    let retry = mutate_keyed(&server, &pp, "recordAbsence", input, &key).await;
    let retry = accepted(&retry, "recordAbsence");
    assert_eq!(retry["eventIds"], json!([key]), "{retry}");
    assert_eq!(retry["position"], first["position"], "{retry}");
    assert_eq!(server.head().await, head, "the retry wrote nothing");
    assert_eq!(records_of(&server, a).await, 1, "one absence for a");
    server.stop().await;
}

#[tokio::test]
async fn a_pupils_retry_that_leaves_the_time_to_the_server_is_still_a_retry() {
    // A pupil's answer sent without answeredAt (the server dates it), sent again with the
    // same key when the answer was lost: a retry.
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let a = &s.pupils[0];
    let (quiz, question, attempt) = (id(), id(), id());
    seed::run(
        &server,
        "publishQuiz",
        json!({"id": quiz, "classId": s.class, "subjectId": s.maths, "title": "QCM", "questions": [
            {"id": question, "prompt": "1 + 1 ?", "choices": ["1", "2"], "correctChoice": 1}
        ]}),
    )
    .await;
    let token = server.token(Role::Pupil, a);
    let started = mutate(
        &server,
        &token,
        "startAttempt",
        json!({"quizId": quiz, "pupilId": a, "attemptId": attempt}),
    )
    .await;
    accepted(&started, "startAttempt");
    let key = id();
    let input = json!({"quizId": quiz, "pupilId": a, "attemptId": attempt, "questionId": question, "answer": 1, "timeSpentMs": 2_000});
    let first = mutate_keyed(&server, &token, "answerQuestion", input.clone(), &key).await;
    let first = accepted(&first, "answerQuestion");
    let head = server.head().await;
    let retry = mutate_keyed(&server, &token, "answerQuestion", input, &key).await;
    let retry = accepted(&retry, "answerQuestion");
    assert_eq!(retry["eventIds"], json!([key]), "{retry}");
    assert_eq!(retry["position"], first["position"], "{retry}");
    assert_eq!(server.head().await, head, "the retry wrote nothing");
    server.stop().await;
}

const HOMEWORK: &str = "query($id: ID!) { homework(id: $id) { pupils { pupil { id } status depositedAt lateBySeconds } } }";

/// Pupil `pupil`'s line of the homework's report.
async fn deposit_line(server: &Server, homework: &str, pupil: &str) -> Value {
    let answer = server.ok(HOMEWORK, json!({"id": homework})).await;
    answer["homework"]["pupils"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .find(|line| line["pupil"]["id"] == json!(pupil))
        .unwrap_or_else(|| panic!("no line for {pupil}: {answer}"))
        .clone()
}

#[tokio::test]
async fn a_pupils_deposit_and_answer_are_dated_by_the_server() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let a = &s.pupils[0];
    let token = server.token(Role::Pupil, a);
    let now = Utc::now();
    let (overdue, upcoming) = (id(), id());
    let due_yesterday = now - Duration::days(1);
    seed::run(&server, "assignHomework", json!({"id": overdue, "classId": s.class, "subjectId": s.maths, "title": "DM en retard", "assignedOn": s.today - Duration::days(3), "dueAt": due_yesterday})).await;
    seed::run(&server, "assignHomework", json!({"id": upcoming, "classId": s.class, "subjectId": s.maths, "title": "DM à venir", "assignedOn": s.today, "dueAt": now + Duration::days(3)})).await;
    let deposit = |homework: &str, at: DateTime<Utc>| json!({"homeworkId": homework, "pupilId": a, "depositedAt": at, "fileName": "dm.pdf", "sizeBytes": 1024, "sha256": "ab".repeat(32)});

    // Handed in a day late, claiming two days ago: late by about a day.
    let before = Utc::now();
    let sent = mutate(
        &server,
        &token,
        "depositHomework",
        deposit(&overdue, now - Duration::days(2)),
    )
    .await;
    accepted(&sent, "depositHomework");
    let after = Utc::now();
    let line = deposit_line(&server, &overdue, a).await;
    assert_eq!(line["status"], "LATE", "{line}");
    let deposited = instant(&line["depositedAt"]);
    assert!(within(deposited, before, after), "dated on arrival: {line}");
    let late = line["lateBySeconds"]
        .as_i64()
        .unwrap_or_else(|| panic!("{line}"));
    let (least, most) = (
        (before - due_yesterday).num_seconds() - 1,
        (after - due_yesterday).num_seconds() + 1,
    );
    assert!(
        (least..=most).contains(&late),
        "late by {late} s, not in {least}..={most}"
    );

    // Handed in on time, claiming a year from now: on time, dated now.
    let before = Utc::now();
    let sent = mutate(
        &server,
        &token,
        "depositHomework",
        deposit(&upcoming, now + Duration::days(365)),
    )
    .await;
    accepted(&sent, "depositHomework");
    let after = Utc::now();
    let line = deposit_line(&server, &upcoming, a).await;
    assert_eq!(line["status"], "ON_TIME", "{line}");
    assert!(
        within(instant(&line["depositedAt"]), before, after),
        "{line}"
    );

    // A QCM answer claiming next month is dated on arrival: in the log and in the pupil's
    // time on task per day.
    let (quiz, question, attempt) = (id(), id(), id());
    seed::run(
        &server,
        "publishQuiz",
        json!({"id": quiz, "classId": s.class, "subjectId": s.maths, "title": "QCM", "questions": [
            {"id": question, "prompt": "1 + 1 ?", "choices": ["1", "2"], "correctChoice": 1}
        ]}),
    )
    .await;
    let started = mutate(
        &server,
        &token,
        "startAttempt",
        json!({"quizId": quiz, "pupilId": a, "attemptId": attempt}),
    )
    .await;
    accepted(&started, "startAttempt");
    let head = server.head().await;
    let before = Utc::now();
    let answered = mutate(&server, &token, "answerQuestion", json!({"quizId": quiz, "pupilId": a, "attemptId": attempt, "questionId": question, "answer": 1, "timeSpentMs": 4_200, "answeredAt": now + Duration::days(30)})).await;
    accepted(&answered, "answerQuestion");
    let after = Utc::now();
    let written = server.store.read_all(head, 10).await.expect("the log");
    assert_eq!(written.len(), 1, "one answer event");
    assert!(
        within(written[0].occurred_at, before, after),
        "occurred on arrival: {:?}",
        written[0].occurred_at
    );
    match written[0].decode().expect("an event") {
        Event::QuestionAnswered(e) => assert!(
            within(e.answered_at, before, after),
            "answered at {}",
            e.answered_at
        ),
        other => panic!("not an answer: {other:?}"),
    }
    let time = server
        .ok(
            "query($p: ID!) { timeOnTask(pupilId: $p, bucket: DAY) { perBucket { bucketStart ms } } }",
            json!({"p": a}),
        )
        .await;
    let buckets = time["timeOnTask"]["perBucket"]
        .as_array()
        .unwrap_or_else(|| panic!("{time}"))
        .clone();
    let days = [before.date_naive(), after.date_naive()].map(|d| json!(d));
    assert_eq!(buckets.len(), 1, "{time}");
    assert!(
        days.contains(&buckets[0]["bucketStart"]),
        "counted on the day it came: {time}"
    );
    assert_eq!(buckets[0]["ms"], 4_200, "{time}");
    server.stop().await;
}

fn hs256(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()).expect("key"),
    )
    .expect("sign")
}

/// Claims for `role` in the server's school, valid an hour, with `extra` fields.
fn claims(server: &Server, role: &str, extra: Value) -> Value {
    let mut claims = json!({
        "sub": uuid::Uuid::now_v7(),
        "role": role,
        "school": server.school.0,
        "exp": Utc::now().timestamp() + 3600,
    });
    if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        claims.extend(extra.clone());
    }
    claims
}

/// POSTs `{ position }` with `token`: (status, answer).
async fn ask(server: &Server, token: &str) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    server
        .request(
            "POST",
            "/graphql",
            Some(&bearer),
            r#"{"query": "{ position }"}"#,
        )
        .await
}

/// A 401 `UNAUTHENTICATED` whose message contains `reason`.
fn assert_unauthenticated((status, body): (u16, Value), reason: &str, what: &str) {
    assert_eq!(status, 401, "{what}: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{what}: {body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(reason),
        "{what}: {message:?} should say {reason:?}"
    );
}

fn assert_served((status, body): (u16, Value), what: &str) {
    assert_eq!(status, 200, "{what}: {body}");
    assert!(body["data"]["position"].is_u64(), "{what}: {body}");
}

#[tokio::test]
async fn a_token_not_valid_yet_or_with_a_padded_role_is_refused() {
    let server = Server::start().await;
    let head = server.head().await;
    let later = Utc::now().timestamp() + 3600;
    let early = hs256(&claims(&server, "admin", json!({"nbf": later})));
    assert_unauthenticated(
        ask(&server, &early).await,
        "not valid yet",
        "nbf in an hour",
    );
    let padded = hs256(&claims(&server, " admin ", json!({})));
    assert_unauthenticated(
        ask(&server, &padded).await,
        "\" admin \"",
        "role \" admin \"",
    );
    // The same claims, valid now and with the role as written, are served.
    let valid = hs256(&claims(
        &server,
        "admin",
        json!({"nbf": Utc::now().timestamp() - 60}),
    ));
    assert_served(ask(&server, &valid).await, "nbf a minute ago");
    assert_eq!(server.head().await, head);
    server.stop().await;
}

#[tokio::test]
async fn a_server_expecting_an_issuer_and_audience_refuses_other_tokens() {
    let (iss, aud) = ("https://ent.example.fr", "suivi");
    let verifier = JwtVerifier::hs256(SECRET.as_bytes())
        .expect("a long enough secret")
        .expecting(Some(iss.to_owned()), Some(aud.to_owned()));
    let server = Server::start_with(verifier).await;
    let head = server.head().await;
    let wrong_iss = hs256(&claims(
        &server,
        "admin",
        json!({"iss": "https://other.example", "aud": aud}),
    ));
    assert_unauthenticated(ask(&server, &wrong_iss).await, "issuer", "another iss");
    let wrong_aud = hs256(&claims(
        &server,
        "admin",
        json!({"iss": iss, "aud": "another-app"}),
    ));
    assert_unauthenticated(ask(&server, &wrong_aud).await, "audience", "another aud");
    let right = hs256(&claims(&server, "admin", json!({"iss": iss, "aud": aud})));
    assert_served(ask(&server, &right).await, "the expected iss and aud");
    // Identity providers often send several audiences: one of them is ours.
    let several = hs256(&claims(
        &server,
        "admin",
        json!({"iss": iss, "aud": ["account", aud]}),
    ));
    assert_served(ask(&server, &several).await, "an aud array naming ours");
    let none_ours = hs256(&claims(
        &server,
        "admin",
        json!({"iss": iss, "aud": ["account", "another-app"]}),
    ));
    assert_unauthenticated(
        ask(&server, &none_ours).await,
        "audience",
        "an aud array without ours",
    );
    // A token that does not name the issuer or the audience is no token of theirs.
    let mut served = Vec::new();
    for (extra, what) in [
        (json!({}), "neither iss nor aud"),
        (json!({"aud": aud}), "no iss"),
        (json!({"iss": iss}), "no aud"),
    ] {
        let token = hs256(&claims(&server, "admin", extra));
        let (status, body) = ask(&server, &token).await;
        if status != 401 || body["errors"][0]["extensions"]["code"] != "UNAUTHENTICATED" {
            served.push(format!("{what}: {status} {body}"));
        }
    }
    assert!(
        served.is_empty(),
        "tokens without the expected claims were served: {served:#?}"
    );
    assert_eq!(server.head().await, head);
    server.stop().await;
}

/// The answer's size as sent back, in bytes.
fn size(answer: &Value) -> usize {
    answer.to_string().len()
}

#[tokio::test]
async fn an_overlong_name_is_refused_without_being_echoed() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let admin = server.admin.clone();
    let head = server.head().await;

    // A 1 MB name does not get past the body limit; the answer is small.
    let huge = "Dupont".repeat(1024 * 1024 / 6);
    let body = json!({"query": format!("mutation($input: RegisterPupilInput!) {{ registerPupil(input: $input) {{ {RESULT} }} }}"),
        "variables": {"input": {"externalId": "E50", "lastName": huge, "firstName": "Jean"}}})
    .to_string();
    let started = std::time::Instant::now();
    let (status, answer) = server.post_raw(&body).await;
    assert_eq!(
        status,
        413,
        "{}",
        &answer.to_string()[..answer.to_string().len().min(300)]
    );
    assert_eq!(code(&answer), "PAYLOAD_TOO_LARGE");
    assert!(size(&answer) < 2048, "{} bytes", size(&answer));

    // Names that fit in a body but not in a name: BAD_USER_INPUT naming the field and its
    // length, never the value.
    let long = "Dupont".repeat((MAX_BODY_BYTES - 16 * 1024) / 6);
    let chars = long.chars().count();
    for (name, input, field) in [
        (
            "registerPupil",
            json!({"externalId": "E51", "lastName": long, "firstName": "Jean"}),
            "lastName",
        ),
        (
            "registerPupil",
            json!({"externalId": "E52", "lastName": "Dupont", "firstName": long}),
            "firstName",
        ),
        (
            "linkGuardian",
            json!({"pupilId": s.pupils[0], "name": long}),
            "name",
        ),
        (
            "linkGuardian",
            json!({"pupilId": s.pupils[0], "name": "M. Martin", "email": long}),
            "email",
        ),
    ] {
        let answer = mutate(&server, &admin, name, input).await;
        let shown = &answer.to_string()[..size(&answer).min(300)];
        assert!(answer["data"].is_null(), "{name} {field}: {shown}");
        assert_eq!(code(&answer), "BAD_USER_INPUT", "{name} {field}: {shown}");
        assert!(
            size(&answer) < 2048,
            "{name} {field}: {} bytes: {shown}",
            size(&answer)
        );
        let text = message(&answer);
        assert!(text.contains(field), "{name}: {text}");
        assert!(text.contains(&chars.to_string()), "{name}: {text}");
        assert!(
            !text.contains("DupontDupont"),
            "{name}: the value is echoed"
        );
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "refused in {:?}",
        started.elapsed()
    );
    assert_eq!(server.head().await, head, "no refused name reached the log");

    // The limit counts characters, not bytes: as many "é" as allowed are taken, one more
    // is refused.
    let at_limit = "é".repeat(MAX_NAME_CHARS);
    let taken = mutate(
        &server,
        &admin,
        "registerPupil",
        json!({"externalId": "E53", "lastName": at_limit, "firstName": "Jean"}),
    )
    .await;
    accepted(&taken, "registerPupil");
    let over = "é".repeat(MAX_NAME_CHARS + 1);
    let refused = mutate(
        &server,
        &admin,
        "registerPupil",
        json!({"externalId": "E54", "lastName": over, "firstName": "Jean"}),
    )
    .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert!(
        message(&refused).contains(&(MAX_NAME_CHARS + 1).to_string()),
        "{refused}"
    );
    assert_eq!(
        server.head().await,
        head + 1,
        "only the name at the limit was written"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_teacher_does_not_time_a_new_pupils_parcours_in_their_old_class() {
    // Pupil d worked through class B's parcours (5 minutes on its step), then moved to
    // class A today: class A's French teacher reaches d now, but not what d did in class B.
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let now = Utc::now();
    seed::run(
        &server,
        "startStep",
        json!({"parcoursId": w.parcours[1], "pupilId": w.d, "stepId": w.step[1],
               "at": (now - Duration::minutes(10)).to_rfc3339()}),
    )
    .await;
    seed::run(
        &server,
        "completeStep",
        json!({"parcoursId": w.parcours[1], "pupilId": w.d, "stepId": w.step[1],
               "at": (now - Duration::minutes(5)).to_rfc3339()}),
    )
    .await;
    seed::run(
        &server,
        "transferPupil",
        json!({"pupilId": w.d, "fromClassId": s.other_class, "toClassId": s.class, "on": s.today}),
    )
    .await;
    let time = "query($p: ID!) { timeOnTask(pupilId: $p) { totalMs entries { parcoursId ms } } }";
    let admin = server.gql(time, json!({"p": w.d})).await;
    assert_eq!(admin["data"]["timeOnTask"]["totalMs"], 300_000, "{admin}");
    let teacher = server.token(Role::Teacher, &w.french_teacher);
    let theirs = server.gql_as(&teacher, time, json!({"p": w.d})).await;
    assert!(theirs.get("errors").is_none(), "{theirs}");
    assert_eq!(theirs["data"]["timeOnTask"]["totalMs"], 0, "{theirs}");
    assert!(!theirs.to_string().contains(&w.parcours[1]), "{theirs}");
    server.stop().await;
}

#[tokio::test]
async fn a_retry_names_what_the_first_request_created() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let admin = server.token(Role::Admin, suivi_graphql::identity::CONFIGURED_ADMIN);
    let now = Utc::now();
    // No `id` in the input: the server mints one. The retry, answered from the log, must
    // name the same homework, one that exists.
    let input = json!({"classId": s.class, "subjectId": s.maths, "title": "DM 4", "assignedOn": s.today, "dueAt": now + Duration::days(2)});
    let key = id();
    let first = mutate_keyed(&server, &admin, "assignHomework", input.clone(), &key).await;
    let first = accepted(&first, "assignHomework");
    let head = server.head().await;
    let retry = mutate_keyed(&server, &admin, "assignHomework", input.clone(), &key).await;
    let retry = accepted(&retry, "assignHomework");
    assert_eq!(retry["id"], first["id"], "{first} then {retry}");
    assert_eq!(server.head().await, head, "the retry wrote nothing");
    let read = server
        .gql_as(
            &admin,
            "query($id: ID!) { homework(id: $id) { id title } }",
            json!({"id": first["id"]}),
        )
        .await;
    assert_eq!(read["data"]["homework"]["title"], json!("DM 4"), "{read}");
    // Another key is another homework, with another id.
    let other = mutate_keyed(&server, &admin, "assignHomework", input, &id()).await;
    let other = accepted(&other, "assignHomework");
    assert_ne!(other["id"], first["id"]);
    // The same for a quiz published twice under one key: the retry names the quiz that
    // exists.
    let quiz = json!({"classId": s.class, "subjectId": s.maths, "title": "QCM", "questions": [{"prompt": "1 + 1 ?", "choices": ["1", "2"], "correctChoice": 1}]});
    let key = id();
    let first = accepted(
        &mutate_keyed(&server, &admin, "publishQuiz", quiz.clone(), &key).await,
        "publishQuiz",
    );
    let retry = accepted(
        &mutate_keyed(&server, &admin, "publishQuiz", quiz, &key).await,
        "publishQuiz",
    );
    assert_eq!(retry["id"], first["id"], "{first} then {retry}");
    let read = server
        .gql_as(
            &admin,
            "query($id: ID!) { quiz(id: $id) { id } }",
            json!({"id": retry["id"]}),
        )
        .await;
    assert_eq!(read["data"]["quiz"]["id"], retry["id"], "{read}");
    server.stop().await;
}

#[tokio::test]
async fn nobody_is_linked_to_an_erased_pupil() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let admin = server.token(Role::Admin, suivi_graphql::identity::CONFIGURED_ADMIN);
    let link = |pupil: &String, subject: &str| json!({"provider": "https://ent.example", "subject": subject, "role": "PUPIL", "personId": pupil});
    let (a, b) = (&s.pupils[0], &s.pupils[1]);
    accepted(
        &mutate(&server, &admin, "linkIdentity", link(a, "eleve-a")).await,
        "linkIdentity",
    );
    erase(&server, b).await;
    let head = server.head().await;
    let refused = mutate(&server, &admin, "linkIdentity", link(b, "eleve-b")).await;
    assert_eq!(code(&refused), "NOT_FOUND", "{refused}");
    assert!(message(&refused).contains("erased"), "{refused}");
    assert_eq!(server.head().await, head, "nothing written");
    server.stop().await;
}
