//! Mutations × roles × in and out of scope; the actor comes from the token.

use super::world::*;
use crate::harness::Server;
use crate::seed::{self, id};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

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
    let link = |subject: &str| json!({"provider": "https://ent.example", "subject": subject, "role": "TEACHER", "personId": w.french_teacher});
    let unlink = |subject: &str| json!({"provider": "https://ent.example", "subject": subject});
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
        // Who decides when families see results: whoever may grade the assessment.
        (
            "teacher",
            "withholdResults",
            json!({"assessmentId": s.f1}),
            None,
        ),
        (
            "teacher",
            "withholdResults",
            json!({"assessmentId": s.m1}),
            nf,
        ),
        (
            "teacher",
            "publishResults",
            json!({"assessmentId": w.assessment_b}),
            nf,
        ),
        (
            "guardian",
            "publishResults",
            json!({"assessmentId": s.f1}),
            fb,
        ),
        ("pupil", "publishResults", json!({"assessmentId": s.f1}), fb),
        // As grades: the teachers of the subject, not the class's professeur principal.
        ("pp", "publishResults", json!({"assessmentId": s.f1}), nf),
        (
            "admin",
            "publishResults",
            json!({"assessmentId": s.f1}),
            None,
        ),
        // The administrator: everything in the school.
        (
            "admin",
            "correctGrade",
            json!({"assessmentId": w.assessment_b, "pupilId": w.d, "score": "14"}),
            None,
        ),
        ("admin", "recordAbsence", absence(&w.d), None),
        ("admin", "openClass", open_class, None),
        // Who signs in as whom: administrators only.
        ("teacher", "linkIdentity", link("ent-1"), fb),
        ("pp", "linkIdentity", link("ent-1"), fb),
        ("guardian", "linkIdentity", link("ent-1"), fb),
        ("pupil", "linkIdentity", link("ent-1"), fb),
        ("admin", "linkIdentity", link("ent-1"), None),
        ("teacher", "unlinkIdentity", unlink("ent-1"), fb),
        ("pp", "unlinkIdentity", unlink("ent-1"), fb),
        ("admin", "unlinkIdentity", unlink("ent-1"), None),
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
    let mut in_doc = false;
    for line in mutations.lines() {
        // Descriptions: `"one line"` or a `"""` block over several lines.
        let line = line.trim();
        if line.starts_with("\"\"\"") {
            in_doc = !(in_doc || line.len() > 3 && line.ends_with("\"\"\""));
            continue;
        }
        if in_doc || line.starts_with('"') {
            continue;
        }
        let Some((name, _)) = line.split_once('(') else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        // Their own matrix, in `rgpd.rs` (they take a pupil id, not an input object).
        if name == "exportPupil" || name == "erasePupil" {
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
