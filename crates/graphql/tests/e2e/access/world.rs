//! The world the access matrix runs in, and the assertions that a refusal leaks nothing.

use crate::harness::{code, message, Server};
use crate::seed::{self, id, School};
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
    /// A session the French teacher runs in class A (session[0] is the head teacher's).
    pub french_session: String,
    pub other_class: String,
    pub other_pupil: String,
}

pub async fn run(server: &Server, name: &str, input: Value) {
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
        french_session: id(),
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
    run(server, "startSession", json!({"id": w.french_session, "classId": s.class, "teacherId": w.french_teacher, "quizId": w.quiz[0]})).await;
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
pub fn sub_error(msg: &Value) -> Value {
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
pub fn assert_refused(
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

pub fn assert_allowed(answer: &Value, what: &str) {
    assert!(answer.get("errors").is_none(), "{what}: {answer}");
    assert!(!answer["data"].is_null(), "{what}: {answer}");
}
