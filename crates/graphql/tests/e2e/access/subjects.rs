//! Per subject within a class: a teacher who does not lead the class sees the grades of
//! the subjects they teach there, and nothing made of the others (no general average, no
//! profile); its professeur principal sees every subject. Figures by hand from the seed.

use super::world::world;
use crate::harness::Server;
use crate::seed::{grade, run};
use serde_json::{json, Value};
use suivi_domain::Role;

const DASHBOARD: &str = "query($name: String!) { class(name: $name) { \
     subjects { name mean gradedCount } \
     pupils { id average spider { axes { subject value classMean } profile profileBasis } } } }";

fn names(subjects: &Value) -> Vec<String> {
    subjects
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[tokio::test]
async fn a_teacher_sees_the_subjects_they_teach_and_the_head_teacher_sees_all() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let vars = json!({"name": "2nde A"});
    let french = server.token(Role::Teacher, &w.french_teacher);
    let head = server.token(Role::HeadTeacher, &s.teacher);

    let theirs = server.gql_as(&french, DASHBOARD, vars.clone()).await;
    let class = &theirs["data"]["class"];
    assert_eq!(names(&class["subjects"]), vec!["Français"], "{theirs}");
    // A 9, B NR (0): the French figures are the head teacher's figures.
    assert_eq!(class["subjects"][0]["mean"], json!(4.5));
    for pupil in class["pupils"].as_array().expect("pupils") {
        assert!(pupil["average"].is_null(), "no general average: {pupil}");
        assert_eq!(pupil["spider"]["profileBasis"], "PARTIAL", "{pupil}");
        let axes: Vec<&str> = pupil["spider"]["axes"]
            .as_array()
            .expect("axes")
            .iter()
            .map(|a| a["subject"].as_str().expect("subject"))
            .collect();
        assert_eq!(axes, vec!["Français"]);
    }

    let all = server.gql_as(&head, DASHBOARD, vars).await;
    let class = &all["data"]["class"];
    let mut seen = names(&class["subjects"]);
    seen.sort();
    assert_eq!(seen, vec!["Atelier", "Français", "Mathématiques"], "{all}");
    let a = class["pupils"]
        .as_array()
        .expect("pupils")
        .iter()
        .find(|p| p["id"] == json!(s.pupils[0]))
        .expect("A");
    // A: maths (12/20 ×1, 8/10 → 16 ×2) = 44/3 = 14.666…, coefficient 2; French 9; workshop
    // 16: (14.666… × 2 + 9 + 16) / 4 = 13.583… → 13.58.
    assert_eq!(a["average"], json!(13.58), "{a}");
    assert_eq!(a["spider"]["profileBasis"], "COMPARED");
    server.stop().await;
}

#[tokio::test]
async fn a_teachers_pupil_file_and_grade_feed_hold_their_subjects_only() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let french = server.token(Role::Teacher, &w.french_teacher);
    let file = "query($id: ID!) { pupil(id: $id) { average grades { subject { name } average } } }";
    let answer = server
        .gql_as(&french, file, json!({"id": s.pupils[0]}))
        .await;
    let pupil = &answer["data"]["pupil"];
    assert!(pupil["average"].is_null(), "{answer}");
    let lines: Vec<&Value> = pupil["grades"].as_array().expect("lines").iter().collect();
    assert_eq!(lines.len(), 1, "{answer}");
    assert_eq!(lines[0]["subject"]["name"], "Français");
    assert_eq!(lines[0]["average"], json!(9.0));
    // Another subject's assessment is not found for them.
    let detail = "query($id: ID!) { assessment(id: $id) { title } }";
    let refused = server.gql_as(&french, detail, json!({"id": s.m1})).await;
    assert_eq!(crate::harness::code(&refused), "NOT_FOUND", "{refused}");

    let mut sub = server
        .subscribe_as(
            &french,
            r#"subscription($p: ID!) { gradeRecorded(pupilId: $p) { assessmentTitle score } }"#,
            json!({"p": s.pupils[2]}),
        )
        .await;
    // Live once a French probe of C's is pushed.
    sub.live(
        |_| crate::seed::probe(&server, s, &s.french, vec![&s.pupils[2]]),
        crate::seed::probe_pushed,
    )
    .await;
    // A maths correction for C is not theirs; C's French grade is (were the correction
    // pushed, it would come first).
    run(
        &server,
        "correctGrade",
        json!({"assessmentId": s.m2, "pupilId": s.pupils[2], "score": "9", "reason": "barème"}),
    )
    .await;
    grade(&server, &s.f1, &s.pupils[2], Some("13"), None).await;
    let data = sub.next_data().await;
    assert_eq!(
        data["gradeRecorded"],
        json!({"assessmentTitle": "Dissertation", "score": "13"})
    );
    server.stop().await;
}

#[tokio::test]
async fn a_teacher_sees_the_homework_quizzes_and_sessions_of_their_own_subjects_and_sessions() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    // Maths homework and a maths quiz in class A, besides the French ones of the world.
    let due = chrono::Utc::now() + chrono::Duration::days(2);
    run(&server, "assignHomework", json!({"classId": s.class, "subjectId": s.maths, "title": "DM fractions", "assignedOn": s.today, "dueAt": due})).await;
    run(&server, "publishQuiz", json!({"classId": s.class, "subjectId": s.maths, "title": "QCM fractions", "questions": [{"prompt": "1/2 + 1/2 ?", "choices": ["1", "2"], "correctChoice": 0}]})).await;
    let query = "query($name: String!) { class(name: $name) { \
         homework { title } quizzes { title } sessions { id } } }";
    let titles = |answer: &Value, field: &str| {
        let mut t: Vec<String> = answer["data"]["class"][field]
            .as_array()
            .unwrap_or_else(|| panic!("{field} in {answer}"))
            .iter()
            .map(|x| x["title"].as_str().expect("title").to_owned())
            .collect();
        t.sort();
        t
    };
    let french = server.token(Role::Teacher, &w.french_teacher);
    let theirs = server
        .gql_as(&french, query, json!({"name": "2nde A"}))
        .await;
    assert_eq!(titles(&theirs, "homework"), vec!["DM"], "{theirs}");
    assert_eq!(titles(&theirs, "quizzes"), vec!["QCM"], "{theirs}");
    assert_eq!(
        theirs["data"]["class"]["sessions"],
        json!([{"id": w.french_session}])
    );
    let head = server.token(Role::HeadTeacher, &s.teacher);
    let all = server.gql_as(&head, query, json!({"name": "2nde A"})).await;
    assert_eq!(
        titles(&all, "homework"),
        vec!["DM", "DM fractions"],
        "{all}"
    );
    assert_eq!(
        titles(&all, "quizzes"),
        vec!["QCM", "QCM fractions"],
        "{all}"
    );
    assert_eq!(
        all["data"]["class"]["sessions"].as_array().map(Vec::len),
        Some(2),
        "{all}"
    );
    server.stop().await;
}
