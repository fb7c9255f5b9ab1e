//! A small school written through the GraphQL mutations: one year around today, one
//! period, three subjects, one class of three pupils, four assessments with hand-picked
//! grades (the expected figures are worked out by hand in `dashboards.rs`).

use super::harness::Server;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};

pub fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub struct School {
    pub year: String,
    pub period: String,
    pub maths: String,
    pub french: String,
    pub workshop: String,
    pub class: String,
    pub other_class: String,
    pub teacher: String,
    /// Pupils A, B, C.
    pub pupils: [String; 3],
    pub m1: String,
    pub m2: String,
    pub f1: String,
    pub w1: String,
    pub today: NaiveDate,
    pub year_start: NaiveDate,
}

const RESULT: &str = "eventIds position id";

/// Runs a mutation whose input type is `{Mutation}Input` (FailStep and CompleteStep share
/// `StepInput`).
pub async fn run(server: &Server, name: &str, input: Value) -> Value {
    let input_type = match name {
        "failStep" | "completeStep" => "StepInput".to_owned(),
        _ => format!("{}Input", capitalise(name)),
    };
    let mutation =
        format!("mutation($input: {input_type}!) {{ {name}(input: $input) {{ {RESULT} }} }}");
    server.ok(&mutation, json!({"input": input})).await[name].clone()
}

pub fn capitalise(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub async fn grade(
    server: &Server,
    assessment: &str,
    pupil: &str,
    score: Option<&str>,
    mark: Option<&str>,
) -> Value {
    run(
        server,
        "recordGrade",
        json!({"assessmentId": assessment, "pupilId": pupil, "score": score, "mark": mark}),
    )
    .await
}

/// Everything but the last grade (F1 for pupil C), which tests record themselves.
pub async fn school(server: &Server) -> School {
    let today = Utc::now().date_naive();
    let year_start = today - Duration::days(200);
    let year_end = today + Duration::days(160);
    let s = School {
        year: id(),
        period: id(),
        maths: id(),
        french: id(),
        workshop: id(),
        class: id(),
        other_class: id(),
        teacher: id(),
        pupils: [id(), id(), id()],
        m1: id(),
        m2: id(),
        f1: id(),
        w1: id(),
        today,
        year_start,
    };
    server
        .ok(
            "mutation { registerSchool(input: {name: \"Lycée Jean Moulin\"}) { position } }",
            json!({}),
        )
        .await;
    run(server, "defineSchoolYear", json!({"id": s.year, "label": "année en cours", "startsOn": year_start, "endsOn": year_end})).await;
    run(server, "definePeriod", json!({"id": s.period, "yearId": s.year, "name": "Année", "kind": "SEMESTRE", "startsOn": year_start, "endsOn": year_end})).await;
    run(
        server,
        "defineSubject",
        json!({"id": s.maths, "name": "Mathématiques", "kind": "GENERAL", "coefficient": "2"}),
    )
    .await;
    run(
        server,
        "defineSubject",
        json!({"id": s.french, "name": "Français", "kind": "GENERAL"}),
    )
    .await;
    run(
        server,
        "defineSubject",
        json!({"id": s.workshop, "name": "Atelier", "kind": "VOCATIONAL"}),
    )
    .await;
    run(
        server,
        "openClass",
        json!({"id": s.class, "yearId": s.year, "name": "2nde A"}),
    )
    .await;
    run(
        server,
        "openClass",
        json!({"id": s.other_class, "yearId": s.year, "name": "2nde B"}),
    )
    .await;
    run(
        server,
        "registerTeacher",
        json!({"id": s.teacher, "displayName": "M. Lefèvre"}),
    )
    .await;
    run(
        server,
        "assignHeadTeacher",
        json!({"teacherId": s.teacher, "classId": s.class}),
    )
    .await;
    run(
        server,
        "assignTeaching",
        json!({"teacherId": s.teacher, "classId": s.class, "subjectId": s.maths}),
    )
    .await;
    let names = [("Martin", "Léa"), ("Bernard", "Hugo"), ("Dubois", "Chloé")];
    for (i, (pupil, (last, first))) in s.pupils.iter().zip(names).enumerate() {
        run(server, "registerPupil", json!({"id": pupil, "externalId": format!("E{}", i + 1), "lastName": last, "firstName": first})).await;
        run(
            server,
            "enrolPupil",
            json!({"pupilId": pupil, "classId": s.class, "on": year_start}),
        )
        .await;
    }
    let date = today - Duration::days(10);
    for (id, subject, title, scale, coefficient) in [
        (&s.m1, &s.maths, "Contrôle fractions", 20, "1"),
        (&s.m2, &s.maths, "Interrogation", 10, "2"),
        (&s.f1, &s.french, "Dissertation", 20, "1"),
        (&s.w1, &s.workshop, "Atelier câblage", 20, "1"),
    ] {
        run(server, "scheduleAssessment", json!({"id": id, "classId": s.class, "subjectId": subject, "periodId": s.period, "title": title, "date": date, "scale": scale, "coefficient": coefficient})).await;
    }
    let [a, b, c] = &s.pupils;
    grade(server, &s.m1, a, Some("12"), None).await;
    grade(server, &s.m1, b, Some("15,5"), None).await;
    grade(server, &s.m1, c, None, Some("ABS")).await;
    grade(server, &s.m2, a, Some("8"), None).await;
    grade(server, &s.m2, b, Some("5"), None).await;
    grade(server, &s.m2, c, Some("7"), None).await;
    grade(server, &s.f1, a, Some("9"), None).await;
    grade(server, &s.f1, b, None, Some("NR")).await;
    grade(server, &s.w1, a, Some("16"), None).await;
    grade(server, &s.w1, b, Some("11"), None).await;
    grade(server, &s.w1, c, Some("15"), None).await;
    s
}

/// A probe for a grade feed: a new assessment "Sonde n" (n unique in the test run) of
/// `subject` in class A, with DISP (exempted: left out of every average and figure) for
/// `pupils`. Returns its title, which its push carries.
pub async fn probe(server: &Server, s: &School, subject: &str, pupils: Vec<&String>) -> Value {
    static PROBES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let assessment = id();
    let title = format!("Sonde {n}");
    run(server, "scheduleAssessment", json!({"id": assessment, "classId": s.class, "subjectId": subject, "periodId": s.period, "title": title, "date": s.today - Duration::days(1), "scale": 20})).await;
    for pupil in pupils {
        grade(server, &assessment, pupil, None, Some("DISP")).await;
    }
    json!(title)
}

/// Whether `msg` is the push of the grade probe titled `tag` (`assessmentTitle`, or
/// `assessment { title }`).
pub fn probe_pushed(msg: &Value, tag: &Value) -> bool {
    let change = &msg["payload"]["data"]["gradeRecorded"];
    msg["type"] == "next"
        && (change["assessmentTitle"] == *tag || change["assessment"]["title"] == *tag)
}
