//! Bad input: every mutation with a malformed id, with an unknown id or an out-of-range
//! value, and malformed bodies, gets a clear error with a `code` and leaves the log
//! unchanged.

use super::harness::{code, message, Server};
use super::seed::{self, id};
use serde_json::{json, Value};

const BAD: &str = "pas-un-id";

/// (mutation, input type, input with a malformed id, input refused by the rules, its code)
fn cases(
    s: &seed::School,
    unknown: &str,
    attempt: &str,
) -> Vec<(&'static str, &'static str, Value, Value, &'static str)> {
    let [a, b, _] = &s.pupils;
    let today = s.today;
    let now = chrono::Utc::now();
    let quiz_input = |class: &str| json!({"classId": class, "subjectId": s.maths, "title": "Q", "questions": [{"prompt": "?", "choices": ["a", "b"], "correctChoice": 0}]});
    vec![
        (
            "defineSchoolYear",
            "DefineSchoolYearInput",
            json!({"id": BAD, "label": "x", "startsOn": "2030-09-01", "endsOn": "2031-07-01"}),
            json!({"label": "à l'envers", "startsOn": "2031-09-01", "endsOn": "2031-07-01"}),
            "INVALID_INPUT",
        ),
        (
            "definePeriod",
            "DefinePeriodInput",
            json!({"yearId": BAD, "name": "T", "kind": "TRIMESTRE", "startsOn": today, "endsOn": today}),
            json!({"yearId": unknown, "name": "T", "kind": "TRIMESTRE", "startsOn": today, "endsOn": today}),
            "NOT_FOUND",
        ),
        (
            "defineSubject",
            "DefineSubjectInput",
            json!({"id": BAD, "name": "Physique", "kind": "GENERAL"}),
            json!({"name": "Physique", "kind": "GENERAL", "coefficient": "0"}),
            "INVALID_INPUT",
        ),
        (
            "openClass",
            "OpenClassInput",
            json!({"yearId": BAD, "name": "1re A"}),
            json!({"yearId": unknown, "name": "1re A"}),
            "NOT_FOUND",
        ),
        (
            "registerTeacher",
            "RegisterTeacherInput",
            json!({"id": BAD, "displayName": "Mme X"}),
            json!({"displayName": "   "}),
            "INVALID_INPUT",
        ),
        (
            "assignTeaching",
            "AssignTeachingInput",
            json!({"teacherId": BAD, "classId": s.class, "subjectId": s.french}),
            json!({"teacherId": unknown, "classId": s.class, "subjectId": s.french}),
            "NOT_FOUND",
        ),
        (
            "assignHeadTeacher",
            "AssignHeadTeacherInput",
            json!({"teacherId": s.teacher, "classId": BAD}),
            json!({"teacherId": s.teacher, "classId": unknown}),
            "NOT_FOUND",
        ),
        (
            "registerPupil",
            "RegisterPupilInput",
            json!({"id": BAD, "externalId": "E9", "lastName": "X", "firstName": "Y"}),
            json!({"externalId": "E1", "lastName": "Doublon", "firstName": "Y"}),
            "ALREADY_EXISTS",
        ),
        (
            "enrolPupil",
            "EnrolPupilInput",
            json!({"pupilId": BAD, "classId": s.class, "on": today}),
            json!({"pupilId": a, "classId": s.other_class, "on": today}),
            "ENROLMENT",
        ),
        (
            "transferPupil",
            "TransferPupilInput",
            json!({"pupilId": a, "fromClassId": s.class, "toClassId": BAD, "on": today}),
            json!({"pupilId": a, "fromClassId": s.other_class, "toClassId": s.class, "on": today}),
            "ENROLMENT",
        ),
        (
            "linkGuardian",
            "LinkGuardianInput",
            json!({"pupilId": BAD, "name": "Mme Martin"}),
            json!({"pupilId": unknown, "name": "Mme Martin"}),
            "NOT_FOUND",
        ),
        (
            "defineFramework",
            "DefineFrameworkInput",
            json!({"id": BAD, "name": "F", "components": [{"code": "C1", "label": "c"}], "levels": ["1", "2"]}),
            json!({"name": "F", "components": [{"code": "C1", "label": "c"}], "levels": ["un seul"]}),
            "INVALID_INPUT",
        ),
        (
            "scheduleAssessment",
            "ScheduleAssessmentInput",
            json!({"classId": s.class, "subjectId": BAD, "periodId": s.period, "title": "T", "date": today}),
            json!({"classId": s.class, "subjectId": s.maths, "periodId": s.period, "title": "T", "date": today, "scale": 0}),
            "INVALID_INPUT",
        ),
        (
            "recordGrade",
            "RecordGradeInput",
            json!({"assessmentId": BAD, "pupilId": b, "score": "10"}),
            json!({"assessmentId": s.m1, "pupilId": b, "score": "20.5"}),
            "OUT_OF_RANGE",
        ),
        (
            "correctGrade",
            "CorrectGradeInput",
            json!({"assessmentId": s.m1, "pupilId": BAD, "score": "10"}),
            json!({"assessmentId": s.f1, "pupilId": s.pupils[2], "score": "10"}),
            "GRADE_CONFLICT",
        ),
        (
            "recordAbsence",
            "RecordAbsenceInput",
            json!({"pupilId": BAD, "startsAt": now, "endsAt": now + chrono::Duration::hours(2), "halfDays": 1, "lessons": 2}),
            json!({"pupilId": a, "startsAt": now, "endsAt": now - chrono::Duration::hours(2), "halfDays": 1, "lessons": 2}),
            "INVALID_INPUT",
        ),
        (
            "recordLateness",
            "RecordLatenessInput",
            json!({"pupilId": BAD, "at": now, "minutes": 5}),
            json!({"pupilId": a, "at": now, "minutes": 500}),
            "INVALID_INPUT",
        ),
        (
            "justifyAbsence",
            "JustifyAbsenceInput",
            json!({"recordId": BAD, "pupilId": a, "reason": "malade"}),
            json!({"recordId": unknown, "pupilId": a, "reason": "malade"}),
            "NOT_FOUND",
        ),
        (
            "assignHomework",
            "AssignHomeworkInput",
            json!({"classId": BAD, "subjectId": s.maths, "title": "DM", "assignedOn": today, "dueAt": now}),
            json!({"classId": s.class, "subjectId": s.maths, "title": "DM", "assignedOn": today, "dueAt": now - chrono::Duration::days(3)}),
            "INVALID_INPUT",
        ),
        (
            "depositHomework",
            "DepositHomeworkInput",
            json!({"homeworkId": BAD, "pupilId": a, "fileName": "dm.pdf", "sizeBytes": 10, "sha256": "00"}),
            json!({"homeworkId": unknown, "pupilId": a, "fileName": "dm.pdf", "sizeBytes": 10, "sha256": "0".repeat(64)}),
            "NOT_FOUND",
        ),
        (
            "publishQuiz",
            "PublishQuizInput",
            quiz_input(BAD),
            quiz_input(unknown),
            "NOT_FOUND",
        ),
        (
            "startAttempt",
            "StartAttemptInput",
            json!({"quizId": BAD, "pupilId": a}),
            json!({"quizId": unknown, "pupilId": a}),
            "NOT_FOUND",
        ),
        (
            "answerQuestion",
            "AnswerQuestionInput",
            json!({"quizId": unknown, "pupilId": a, "attemptId": BAD, "questionId": unknown, "answer": 0, "timeSpentMs": 1000}),
            json!({"quizId": unknown, "pupilId": a, "attemptId": attempt, "questionId": unknown, "answer": 0, "timeSpentMs": 1000}),
            "NOT_FOUND",
        ),
        (
            "submitAttempt",
            "SubmitAttemptInput",
            json!({"quizId": BAD, "pupilId": a, "attemptId": attempt}),
            json!({"quizId": unknown, "pupilId": a, "attemptId": attempt}),
            "NOT_FOUND",
        ),
        (
            "assessCompetency",
            "AssessCompetencyInput",
            json!({"pupilId": BAD, "component": "D1.1", "level": 3, "on": today}),
            json!({"pupilId": a, "component": "D1.1", "level": 7, "on": today}),
            "INVALID_INPUT",
        ),
        (
            "validateCompetency",
            "ValidateCompetencyInput",
            json!({"pupilId": a, "frameworkId": BAD, "component": "D1.1", "level": 3, "on": today}),
            json!({"pupilId": a, "component": "D9", "level": 3, "on": today}),
            "NOT_FOUND",
        ),
        (
            "publishParcours",
            "PublishParcoursInput",
            json!({"classId": s.class, "title": "P", "steps": [{"title": "s", "kind": "QUIZ", "quizId": BAD}]}),
            json!({"classId": s.class, "title": "P", "steps": []}),
            "INVALID_INPUT",
        ),
        (
            "startStep",
            "StartStepInput",
            json!({"parcoursId": BAD, "pupilId": a, "stepId": unknown}),
            json!({"parcoursId": unknown, "pupilId": a, "stepId": unknown}),
            "NOT_FOUND",
        ),
        (
            "failStep",
            "StepInput",
            json!({"parcoursId": unknown, "pupilId": BAD, "stepId": unknown}),
            json!({"parcoursId": unknown, "pupilId": a, "stepId": unknown}),
            "NOT_FOUND",
        ),
        (
            "completeStep",
            "StepInput",
            json!({"parcoursId": unknown, "pupilId": a, "stepId": BAD}),
            json!({"parcoursId": unknown, "pupilId": a, "stepId": unknown}),
            "NOT_FOUND",
        ),
        (
            "startSession",
            "StartSessionInput",
            json!({"classId": s.class, "teacherId": BAD}),
            json!({"classId": s.class, "teacherId": unknown}),
            "NOT_FOUND",
        ),
        (
            "endSession",
            "EndSessionInput",
            json!({"sessionId": BAD}),
            json!({"sessionId": unknown}),
            "NOT_FOUND",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_refuses_bad_ids_and_values_and_writes_nothing() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let unknown = id();
    let attempt = id();
    let all = cases(&s, &unknown, &attempt);
    assert_eq!(all.len() + 1, 33, "one case per command but registerSchool");
    let head = server.head().await;
    for (name, input_type, malformed, refused, expected) in all {
        let mutation = format!(
            "mutation($input: {input_type}!) {{ {name}(input: $input) {{ eventIds position }} }}"
        );
        let answer = server.gql(&mutation, json!({"input": malformed})).await;
        assert_eq!(code(&answer), "BAD_USER_INPUT", "{name}: {answer}");
        assert!(
            message(&answer).contains(BAD),
            "{name}: the message names the value: {answer}"
        );
        assert_eq!(answer["data"], Value::Null, "{name}");

        let answer = server.gql(&mutation, json!({"input": refused})).await;
        assert_eq!(code(&answer), expected, "{name}: {answer}");
        assert!(!message(&answer).is_empty());
        assert_eq!(server.head().await, head, "{name} wrote to the log");
    }
    // registerSchool: the school is registered already.
    let answer = server
        .gql(
            "mutation { registerSchool(input: {name: \"Encore\"}) { position } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&answer), "ALREADY_EXISTS", "{answer}");
    assert_eq!(server.head().await, head);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_and_malformed_values_name_the_value() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let head = server.head().await;
    let grade = |score: Value, mark: Value| json!({"input": {"assessmentId": s.m1, "pupilId": s.pupils[0], "score": score, "mark": mark}});
    let record = "mutation($input: RecordGradeInput!) { recordGrade(input: $input) { position } }";
    for (variables, code_expected, needle) in [
        (
            grade(json!("12.345"), Value::Null),
            "BAD_USER_INPUT",
            "12.345",
        ),
        (grade(json!("-3"), Value::Null), "BAD_USER_INPUT", "-3"),
        (
            grade(json!("douze"), Value::Null),
            "BAD_USER_INPUT",
            "douze",
        ),
        (grade(json!("12"), json!("ABS")), "BAD_USER_INPUT", "either"),
        (grade(Value::Null, Value::Null), "BAD_USER_INPUT", "score"),
        (
            grade(json!("13"), Value::Null),
            "GRADE_CONFLICT",
            &s.pupils[0],
        ),
        (
            grade(Value::Null, json!("ABSENT")),
            "BAD_USER_INPUT",
            "ABSENT",
        ),
    ] {
        let answer = server.gql(record, variables).await;
        assert_eq!(code(&answer), code_expected, "{answer}");
        assert!(message(&answer).contains(needle), "{needle} in {answer}");
    }
    let schedule = "mutation($input: ScheduleAssessmentInput!) { scheduleAssessment(input: $input) { position } }";
    let answer = server
        .gql(schedule, json!({"input": {"classId": s.class, "subjectId": s.maths, "periodId": s.period, "title": "T", "date": s.today, "scale": 70000}}))
        .await;
    assert_eq!(code(&answer), "BAD_USER_INPUT");
    assert!(message(&answer).contains("70000"), "{answer}");
    let answer = server
        .gql(schedule, json!({"input": {"classId": s.class, "subjectId": s.maths, "periodId": s.period, "title": "T", "date": s.year_start - chrono::Duration::days(3)}}))
        .await;
    assert_eq!(code(&answer), "OUT_OF_RANGE", "{answer}");
    assert_eq!(server.head().await, head);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_and_queries_get_a_code() {
    let server = Server::start().await;
    let _ = seed::school(&server).await;
    let head = server.head().await;
    let (status, answer) = server.post_raw("{not json").await;
    assert_eq!(status, 400);
    assert_eq!(code(&answer), "BAD_USER_INPUT");
    assert!(message(&answer).contains("not a GraphQL request"));
    let (_, answer) = server.post_raw(r#"{"variables": {}}"#).await;
    assert_eq!(code(&answer), "BAD_USER_INPUT");
    let (status, answer) = server.post_raw(r#"{"query": 42}"#).await;
    assert_eq!(status, 400);
    assert_eq!(code(&answer), "BAD_USER_INPUT");
    for query in [
        "mutation { recordGrade(input: {assessmentId: 1 }) { position } }",
        "{ class(name: \"2nde A\") { nope } }",
        "mutation { recordGrade(input: ",
    ] {
        let answer = server.gql(query, json!({})).await;
        assert_eq!(code(&answer), "BAD_USER_INPUT", "{query}: {answer}");
    }
    let answer = server
        .gql(
            r#"{ pupil(id: "00000000-0000-7000-8000-000000000000") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&answer), "NOT_FOUND");
    let answer = server
        .gql(
            r#"{ class(name: "2nde A", period: "Trimestre 9") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&answer), "NOT_FOUND");
    assert!(message(&answer).contains("Trimestre 9"), "{answer}");
    let answer = server
        .gql(r#"{ liveBoard(sessionId: "x") { now } }"#, json!({}))
        .await;
    assert_eq!(code(&answer), "BAD_USER_INPUT");
    assert_eq!(server.head().await, head);
    server.stop().await;
}
