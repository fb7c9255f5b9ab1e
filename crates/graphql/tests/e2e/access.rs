//! The access matrix: every query, mutation and subscription × every role × a target in
//! scope and out of it (another class, another family, another school, a guessed id).
//! A refusal must leak nothing: no data, and the very answer an unknown id gets
//! (`NOT_FOUND`, same message but for the id), or `FORBIDDEN` whatever the arguments.

use super::harness::{code, message, Server};
use super::seed::{self, id, School};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use suivi_domain::events::{ClassOpened, PupilEnrolled, SchoolRegistered, SchoolYearDefined};
use suivi_domain::identity::PupilIdentity;
use suivi_domain::ids::*;
use suivi_domain::{Actor, Command, Metadata, Role};
use suivi_projections::gateway::Gateway;

/// The seeded school (class A: its professeur principal teaches maths there; pupils a, b,
/// c), plus a French teacher of class A, a class B with its own teacher and pupil d, a
/// guardian for a and one for d, work in both classes, and another school with a class
/// and a pupil.
pub struct World {
    pub s: School,
    pub french_teacher: String,
    pub b_teacher: String,
    pub d: String,
    pub guardian_a: String,
    pub guardian_d: String,
    pub assessment_b: String,
    pub homework: [String; 2],
    pub quiz: [String; 2],
    pub question: [String; 2],
    pub parcours: [String; 2],
    pub step: [String; 2],
    pub session: [String; 2],
    pub other_class: String,
    pub other_pupil: String,
}

async fn run(server: &Server, name: &str, input: Value) {
    seed::run(server, name, input).await;
}

pub async fn world(server: &Server) -> World {
    let s = seed::school(server).await;
    let w = World {
        french_teacher: id(),
        b_teacher: id(),
        d: id(),
        guardian_a: id(),
        guardian_d: id(),
        assessment_b: id(),
        homework: [id(), id()],
        quiz: [id(), id()],
        question: [id(), id()],
        parcours: [id(), id()],
        step: [id(), id()],
        session: [id(), id()],
        other_class: id(),
        other_pupil: id(),
        s,
    };
    let s = &w.s;
    let (a, today) = (&s.pupils[0], s.today);
    run(
        server,
        "registerTeacher",
        json!({"id": w.french_teacher, "displayName": "Mme Roux"}),
    )
    .await;
    run(
        server,
        "assignTeaching",
        json!({"teacherId": w.french_teacher, "classId": s.class, "subjectId": s.french}),
    )
    .await;
    run(
        server,
        "registerTeacher",
        json!({"id": w.b_teacher, "displayName": "M. Petit"}),
    )
    .await;
    run(
        server,
        "assignHeadTeacher",
        json!({"teacherId": w.b_teacher, "classId": s.other_class}),
    )
    .await;
    run(
        server,
        "assignTeaching",
        json!({"teacherId": w.b_teacher, "classId": s.other_class, "subjectId": s.maths}),
    )
    .await;
    run(
        server,
        "registerPupil",
        json!({"id": w.d, "externalId": "E4", "lastName": "Moreau", "firstName": "Inès"}),
    )
    .await;
    run(
        server,
        "enrolPupil",
        json!({"pupilId": w.d, "classId": s.other_class, "on": s.year_start}),
    )
    .await;
    run(
        server,
        "linkGuardian",
        json!({"guardianId": w.guardian_a, "pupilId": a, "name": "Mme Martin"}),
    )
    .await;
    run(
        server,
        "linkGuardian",
        json!({"guardianId": w.guardian_d, "pupilId": w.d, "name": "M. Moreau"}),
    )
    .await;
    run(server, "scheduleAssessment", json!({"id": w.assessment_b, "classId": s.other_class, "subjectId": s.maths, "periodId": s.period, "title": "Contrôle B", "date": today - Duration::days(3), "scale": 20})).await;
    seed::grade(server, &w.assessment_b, &w.d, Some("10"), None).await;
    let classes = [(&s.class, &s.french), (&s.other_class, &s.maths)];
    let teachers = [&s.teacher, &w.b_teacher];
    for i in 0..2 {
        let (class, subject) = classes[i];
        run(server, "assignHomework", json!({"id": w.homework[i], "classId": class, "subjectId": subject, "title": "DM", "assignedOn": today, "dueAt": Utc::now() + Duration::days(3)})).await;
        run(server, "publishQuiz", json!({"id": w.quiz[i], "classId": class, "subjectId": subject, "title": "QCM", "maxAttempts": 2, "questions": [
            {"id": w.question[i], "prompt": "1 + 1 ?", "choices": ["1", "2"], "correctChoice": 1}
        ]})).await;
        run(
            server,
            "publishParcours",
            json!({"id": w.parcours[i], "classId": class, "title": "Parcours", "steps": [
                {"id": w.step[i], "title": "Vidéo", "kind": "RESOURCE"}
            ]}),
        )
        .await;
        run(server, "startSession", json!({"id": w.session[i], "classId": class, "teacherId": teachers[i], "quizId": w.quiz[i], "parcoursId": w.parcours[i]})).await;
    }
    other_school(server, &w).await;
    w
}

/// Another school in the same log, written through the domain like an importer would.
async fn other_school(server: &Server, w: &World) {
    let gateway = Gateway::new(Arc::clone(&server.store))
        .await
        .expect("a gateway");
    let school = SchoolId(uuid::Uuid::now_v7());
    let meta = Metadata {
        school_id: school,
        actor: Actor::System("access-test".to_owned()),
        occurred_at: Utc::now(),
        correlation_id: None,
        causation_id: None,
    };
    let year = SchoolYearId(uuid::Uuid::now_v7());
    let class: ClassId = w.other_class.parse().expect("uuid");
    let pupil: PupilId = w.other_pupil.parse().expect("uuid");
    for command in [
        Command::RegisterSchool(SchoolRegistered {
            school_id: school,
            name: "Collège Voisin".to_owned(),
            nr_counts_as_zero: true,
        }),
        Command::DefineSchoolYear(SchoolYearDefined {
            year_id: year,
            label: "année".to_owned(),
            starts_on: w.s.year_start,
            ends_on: w.s.today + Duration::days(100),
        }),
        Command::OpenClass(ClassOpened {
            class_id: class,
            year_id: year,
            name: "2nde A".to_owned(),
        }),
    ] {
        gateway.execute(&meta, command).await.expect("other school");
    }
    let person = PupilIdentity {
        last_name: "Voisin".to_owned(),
        first_name: "Paul".to_owned(),
        birth_date: None,
    };
    gateway
        .register_pupil(&meta, pupil, "E1".to_owned(), &person)
        .await
        .expect("other pupil");
    let executed = gateway
        .execute(
            &meta,
            Command::EnrolPupil(PupilEnrolled {
                pupil_id: pupil,
                class_id: class,
                on: w.s.year_start,
            }),
        )
        .await
        .expect("enrol other pupil");
    // The server's projections must have folded it before the matrix runs.
    for _ in 0..100 {
        let answer = server.gql("{ position }", json!({})).await;
        if answer["data"]["position"].as_u64() >= Some(executed.last_position) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the projections did not fold the other school");
}

/// The five roles' tokens: administrator, professeur principal of A, French teacher of A,
/// guardian of a, pupil a.
pub fn tokens(server: &Server, w: &World) -> Vec<(&'static str, String)> {
    vec![
        ("admin", server.admin.clone()),
        ("pp", server.token(Role::HeadTeacher, &w.s.teacher)),
        ("teacher", server.token(Role::Teacher, &w.french_teacher)),
        ("guardian", server.token(Role::Guardian, &w.guardian_a)),
        ("pupil", server.token(Role::Pupil, &w.s.pupils[0])),
    ]
}

/// The first error of a subscription's answer: an `error` message, or a `next` whose
/// payload has errors.
fn sub_error(msg: &Value) -> Value {
    match msg["type"].as_str() {
        Some("error") => msg["payload"][0].clone(),
        Some("next") => {
            assert!(
                msg["payload"]["data"].is_null(),
                "a refusal carries no data: {msg}"
            );
            msg["payload"]["errors"][0].clone()
        }
        _ => panic!("not a refusal: {msg}"),
    }
}

/// A refusal: no data, one error with `code`; for `NOT_FOUND`, the message an unknown
/// id gets, the id aside.
fn assert_refused(
    answer: &Value,
    expected: &str,
    target: &str,
    guess: Option<(&Value, &str)>,
    what: &str,
) {
    assert!(
        answer["data"].is_null(),
        "{what}: a refusal carries no data: {answer}"
    );
    assert_eq!(
        answer["errors"].as_array().map(Vec::len),
        Some(1),
        "{what}: {answer}"
    );
    assert_eq!(code(answer), expected, "{what}: {answer}");
    if let Some((guessed, guess_id)) = guess {
        assert_eq!(
            message(answer).replace(target, "<id>"),
            message(guessed).replace(guess_id, "<id>"),
            "{what}: an id out of scope is answered like an unknown id"
        );
    }
}

fn assert_allowed(answer: &Value, what: &str) {
    assert!(answer.get("errors").is_none(), "{what}: {answer}");
    assert!(!answer["data"].is_null(), "{what}: {answer}");
}

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
            s.m1.clone(),
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
            w.session[0].clone(),
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
    assert_eq!(sessions["data"]["sessions"], json!([{"id": w.session[0]}]));
    // The school's reference data and the log position are everyone's.
    for (role, token) in &tokens {
        let answer = server
            .gql_as(token, "{ school { name } position }", json!({}))
            .await;
        assert_allowed(&answer, role);
    }
    server.stop().await;
}

/// One mutation attempt: (role, mutation, input, expected code or None for allowed).
type Attempt = (&'static str, &'static str, Value, Option<&'static str>);

fn attempts(w: &World) -> Vec<Attempt> {
    let s = &w.s;
    let [a, b, c] = &s.pupils;
    let now = Utc::now();
    let absence = |p: &String| json!({"pupilId": p, "startsAt": now - Duration::hours(3), "endsAt": now - Duration::hours(1), "halfDays": 1, "lessons": 2});
    let homework = |class: &String, subject: &String| json!({"classId": class, "subjectId": subject, "title": "DM", "assignedOn": s.today, "dueAt": now + Duration::days(2)});
    let assessment = |class: &String, subject: &String| json!({"classId": class, "subjectId": subject, "periodId": s.period, "title": "T", "date": s.today, "scale": 20});
    let quiz = |class: &String, subject: &String| json!({"classId": class, "subjectId": subject, "title": "Q", "questions": [{"prompt": "?", "choices": ["a", "b"], "correctChoice": 0}]});
    let parcours = |class: &String| json!({"classId": class, "title": "P", "steps": [{"title": "s", "kind": "RESOURCE"}]});
    let deposit = |p: &String| json!({"homeworkId": w.homework[0], "pupilId": p, "fileName": "dm.pdf", "sizeBytes": 10, "sha256": "0".repeat(64)});
    let attempt = |p: &String| json!({"quizId": w.quiz[0], "pupilId": p});
    let step = |p: &String| json!({"parcoursId": w.parcours[0], "pupilId": p, "stepId": w.step[0]});
    let open_class = json!({"yearId": s.year, "name": "2nde C"});
    let guardian = |p: &String| json!({"pupilId": p, "name": "X"});
    let nf = Some("NOT_FOUND");
    let fb = Some("FORBIDDEN");
    vec![
        // The French teacher of class A.
        (
            "teacher",
            "scheduleAssessment",
            assessment(&s.class, &s.french),
            None,
        ),
        (
            "teacher",
            "scheduleAssessment",
            assessment(&s.class, &s.maths),
            nf,
        ),
        (
            "teacher",
            "scheduleAssessment",
            assessment(&s.other_class, &s.french),
            nf,
        ),
        (
            "teacher",
            "recordGrade",
            json!({"assessmentId": s.f1, "pupilId": c, "score": "11"}),
            None,
        ),
        (
            "teacher",
            "correctGrade",
            json!({"assessmentId": s.m1, "pupilId": a, "score": "11"}),
            nf,
        ),
        (
            "teacher",
            "recordGrade",
            json!({"assessmentId": w.assessment_b, "pupilId": w.d, "score": "11"}),
            nf,
        ),
        ("teacher", "recordAbsence", absence(a), None),
        ("teacher", "recordAbsence", absence(&w.d), nf),
        ("teacher", "recordAbsence", absence(&w.other_pupil), nf),
        (
            "teacher",
            "recordLateness",
            json!({"pupilId": w.d, "at": now, "minutes": 5}),
            nf,
        ),
        (
            "teacher",
            "assignHomework",
            homework(&s.class, &s.french),
            None,
        ),
        (
            "teacher",
            "assignHomework",
            homework(&s.other_class, &s.maths),
            nf,
        ),
        ("teacher", "publishQuiz", quiz(&s.class, &s.french), None),
        ("teacher", "publishQuiz", quiz(&s.other_class, &s.maths), nf),
        ("teacher", "publishParcours", parcours(&s.class), None),
        ("teacher", "publishParcours", parcours(&s.other_class), nf),
        (
            "teacher",
            "startSession",
            json!({"classId": s.class, "teacherId": w.french_teacher}),
            None,
        ),
        (
            "teacher",
            "startSession",
            json!({"classId": s.class, "teacherId": s.teacher}),
            fb,
        ),
        (
            "teacher",
            "startSession",
            json!({"classId": s.other_class, "teacherId": w.french_teacher}),
            nf,
        ),
        (
            "teacher",
            "endSession",
            json!({"sessionId": w.session[1]}),
            nf,
        ),
        (
            "teacher",
            "assessCompetency",
            json!({"pupilId": w.d, "component": "D1.1", "level": 3, "on": s.today}),
            nf,
        ),
        ("teacher", "depositHomework", deposit(a), fb),
        ("teacher", "startAttempt", attempt(a), fb),
        ("teacher", "startStep", step(a), fb),
        ("teacher", "openClass", open_class.clone(), fb),
        ("teacher", "linkGuardian", guardian(a), fb),
        (
            "teacher",
            "registerPupil",
            json!({"externalId": "E9", "lastName": "X", "firstName": "Y"}),
            fb,
        ),
        (
            "teacher",
            "validateCompetency",
            json!({"pupilId": w.d, "component": "D1.1", "level": 3, "on": s.today}),
            nf,
        ),
        (
            "teacher",
            "justifyAbsence",
            json!({"recordId": id(), "pupilId": w.d, "reason": "malade"}),
            nf,
        ),
        (
            "teacher",
            "answerQuestion",
            json!({"quizId": w.quiz[0], "pupilId": a, "attemptId": id(), "questionId": w.question[0], "answer": 1, "timeSpentMs": 1000}),
            fb,
        ),
        (
            "teacher",
            "submitAttempt",
            json!({"quizId": w.quiz[0], "pupilId": a, "attemptId": id()}),
            fb,
        ),
        ("teacher", "failStep", step(a), fb),
        ("teacher", "completeStep", step(a), fb),
        ("teacher", "registerSchool", json!({"name": "X"}), fb),
        (
            "teacher",
            "defineSchoolYear",
            json!({"label": "x", "startsOn": s.today, "endsOn": s.today}),
            fb,
        ),
        (
            "teacher",
            "definePeriod",
            json!({"yearId": s.year, "name": "T9", "kind": "TRIMESTRE", "startsOn": s.today, "endsOn": s.today}),
            fb,
        ),
        (
            "teacher",
            "defineSubject",
            json!({"name": "Latin", "kind": "GENERAL"}),
            fb,
        ),
        (
            "teacher",
            "registerTeacher",
            json!({"displayName": "X"}),
            fb,
        ),
        (
            "teacher",
            "assignTeaching",
            json!({"teacherId": w.french_teacher, "classId": s.other_class, "subjectId": s.french}),
            fb,
        ),
        (
            "teacher",
            "assignHeadTeacher",
            json!({"teacherId": w.french_teacher, "classId": s.class}),
            fb,
        ),
        (
            "teacher",
            "transferPupil",
            json!({"pupilId": w.d, "fromClassId": s.other_class, "toClassId": s.class, "on": s.today}),
            fb,
        ),
        (
            "teacher",
            "defineFramework",
            json!({"name": "F", "components": [{"code": "C1", "label": "c"}], "levels": ["1", "2"]}),
            fb,
        ),
        // The professeur principal of class A (maths there).
        (
            "pp",
            "correctGrade",
            json!({"assessmentId": s.m1, "pupilId": a, "score": "12.5"}),
            None,
        ),
        (
            "pp",
            "recordGrade",
            json!({"assessmentId": w.assessment_b, "pupilId": w.d, "score": "11"}),
            nf,
        ),
        ("pp", "recordAbsence", absence(b), None),
        ("pp", "recordAbsence", absence(&w.d), nf),
        ("pp", "endSession", json!({"sessionId": w.session[1]}), nf),
        (
            "pp",
            "enrolPupil",
            json!({"pupilId": w.d, "classId": s.class, "on": s.today}),
            fb,
        ),
        // The guardian of a: reads only.
        ("guardian", "recordAbsence", absence(a), fb),
        ("guardian", "depositHomework", deposit(a), fb),
        ("guardian", "startAttempt", attempt(a), fb),
        (
            "guardian",
            "recordGrade",
            json!({"assessmentId": s.f1, "pupilId": c, "score": "11"}),
            fb,
        ),
        ("guardian", "openClass", open_class.clone(), fb),
        ("guardian", "linkGuardian", guardian(a), fb),
        // Pupil a: their own work only.
        ("pupil", "depositHomework", deposit(b), nf),
        ("pupil", "depositHomework", deposit(&w.d), nf),
        ("pupil", "depositHomework", deposit(a), None),
        ("pupil", "startAttempt", attempt(b), nf),
        ("pupil", "startAttempt", attempt(a), None),
        ("pupil", "startStep", step(b), nf),
        ("pupil", "startStep", step(a), None),
        (
            "pupil",
            "answerQuestion",
            json!({"quizId": w.quiz[0], "pupilId": b, "attemptId": id(), "questionId": w.question[0], "answer": 1, "timeSpentMs": 1000}),
            nf,
        ),
        (
            "pupil",
            "submitAttempt",
            json!({"quizId": w.quiz[0], "pupilId": b, "attemptId": id()}),
            nf,
        ),
        ("pupil", "failStep", step(b), nf),
        ("pupil", "completeStep", step(b), nf),
        ("pupil", "completeStep", step(a), None),
        (
            "pupil",
            "assessCompetency",
            json!({"pupilId": a, "component": "D1.1", "level": 4, "on": s.today}),
            fb,
        ),
        (
            "pupil",
            "endSession",
            json!({"sessionId": w.session[0]}),
            fb,
        ),
        (
            "pupil",
            "recordGrade",
            json!({"assessmentId": s.f1, "pupilId": a, "score": "20"}),
            fb,
        ),
        ("pupil", "recordAbsence", absence(b), fb),
        ("pupil", "assignHomework", homework(&s.class, &s.french), fb),
        ("pupil", "openClass", open_class.clone(), fb),
        // The administrator: everything in the school.
        (
            "admin",
            "correctGrade",
            json!({"assessmentId": w.assessment_b, "pupilId": w.d, "score": "14"}),
            None,
        ),
        ("admin", "recordAbsence", absence(&w.d), None),
        ("admin", "openClass", open_class, None),
    ]
}

#[tokio::test]
async fn every_mutation_is_allowed_in_scope_only_and_a_refusal_writes_nothing() {
    let server = Server::start().await;
    let w = world(&server).await;
    let tokens: std::collections::HashMap<&str, String> = tokens(&server, &w).into_iter().collect();
    let subjects: std::collections::HashMap<&str, (String, &str)> = [
        (
            "admin",
            (
                suivi_graphql::identity::CONFIGURED_ADMIN.to_string(),
                "admin",
            ),
        ),
        ("pp", (w.s.teacher.clone(), "head_teacher")),
        ("teacher", (w.french_teacher.clone(), "teacher")),
        ("guardian", (w.guardian_a.clone(), "guardian")),
        ("pupil", (w.s.pupils[0].clone(), "pupil")),
    ]
    .into_iter()
    .collect();
    let attempts = attempts(&w);
    // Every mutation of the schema is in the matrix.
    let sdl = suivi_graphql::sdl();
    let mutations = sdl
        .split("type MutationRoot {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("the mutation type");
    for line in mutations.lines() {
        let Some((name, _)) = line.trim().split_once('(') else {
            continue;
        };
        if name.starts_with('"') || name.is_empty() {
            continue;
        }
        assert!(
            attempts.iter().any(|(_, n, _, _)| *n == name),
            "mutation {name} is missing from the access matrix"
        );
    }
    for (role, name, input, expected) in attempts {
        let input_type = match name {
            "failStep" | "completeStep" => "StepInput".to_owned(),
            _ => format!("{}Input", seed::capitalise(name)),
        };
        let mutation =
            format!("mutation($input: {input_type}!) {{ {name}(input: $input) {{ position }} }}");
        let before = server.head().await;
        let answer = server
            .gql_as(&tokens[role], &mutation, json!({"input": input}))
            .await;
        let what = format!("{role} {name} {input}");
        match expected {
            None => {
                assert_allowed(&answer, &what);
                // The actor comes from the token, never from the request.
                let written = server
                    .store
                    .read_all(before, 10)
                    .await
                    .expect("read the log");
                let (subject, role_name) = &subjects[role];
                assert!(!written.is_empty(), "{what}: nothing written");
                for event in written {
                    assert_eq!(
                        event.actor.to_string(),
                        format!("{role_name}:{subject}"),
                        "{what}"
                    );
                }
            }
            Some(code) => {
                assert_refused(&answer, code, "", None, &what);
                assert_eq!(
                    server.head().await,
                    before,
                    "{what}: a refused command writes nothing"
                );
            }
        }
    }
    // Guessed ids are refused like ids out of scope, with the same message.
    let teacher = &tokens["teacher"];
    let grade = "mutation($input: RecordGradeInput!) { recordGrade(input: $input) { position } }";
    let guess = id();
    let guessed = server
        .gql_as(
            teacher,
            grade,
            json!({"input": {"assessmentId": guess, "pupilId": w.d, "score": "1"}}),
        )
        .await;
    let other = server
        .gql_as(
            teacher,
            grade,
            json!({"input": {"assessmentId": w.assessment_b, "pupilId": w.d, "score": "1"}}),
        )
        .await;
    assert_refused(
        &other,
        "NOT_FOUND",
        &w.assessment_b,
        Some((&guessed, &guess)),
        "grade in class B",
    );
    let pupil = &tokens["pupil"];
    let deposit =
        "mutation($input: DepositHomeworkInput!) { depositHomework(input: $input) { position } }";
    let input = |p: &str| json!({"input": {"homeworkId": w.homework[0], "pupilId": p, "fileName": "x", "sizeBytes": 1, "sha256": "0".repeat(64)}});
    let guessed = server.gql_as(pupil, deposit, input(&guess)).await;
    let sibling = server.gql_as(pupil, deposit, input(&w.s.pupils[1])).await;
    assert_refused(
        &sibling,
        "NOT_FOUND",
        &w.s.pupils[1],
        Some((&guessed, &guess)),
        "deposit for another pupil",
    );
    server.stop().await;
}

#[tokio::test]
async fn subscriptions_are_checked_when_they_start_and_for_every_event() {
    let server = Server::start().await;
    let w = world(&server).await;
    let tokens: std::collections::HashMap<&str, String> = tokens(&server, &w).into_iter().collect();
    let board = "subscription($id: ID!) { liveBoard(sessionId: $id) { session { id } } }";
    let grades = "subscription($id: ID!) { gradeRecorded(pupilId: $id) { assessmentTitle score } }";

    // At subscribe time: in scope a first board; out of scope the error an unknown id gets.
    for role in ["admin", "pp", "teacher"] {
        let mut sub = server
            .subscribe_as(&tokens[role], board, json!({"id": w.session[0]}))
            .await;
        let data = sub.next_data().await;
        assert_eq!(
            data["liveBoard"]["session"]["id"],
            json!(w.session[0]),
            "{role}"
        );
    }
    for (role, session, expected) in [
        ("pp", &w.session[1], "NOT_FOUND"),
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
    let mut changes = server
        .subscribe_as(
            &tokens["teacher"],
            "subscription { changes { position classIds pupilIds } }",
            json!({}),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
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
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    run(
        &server,
        "correctGrade",
        json!({"assessmentId": w.s.m2, "pupilId": w.s.pupils[0], "score": "9.5"}),
    )
    .await;
    let msg = nosy.message().await;
    assert_eq!(msg["type"], "next", "{msg}");
    assert!(msg["payload"]["data"]["gradeRecorded"].is_null(), "{msg}");
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{msg}"
    );
    server.stop().await;
}
