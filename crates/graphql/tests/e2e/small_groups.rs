//! Class figures shown to families only for groups of 5 or more: in a group of two, the
//! class's lowest and highest would give a family the other pupil's grade. Staff see the
//! figures whatever the size.

use super::harness::Server;
use super::seed::{self, grade, id, run};
use chrono::Duration;
use serde_json::{json, Value};
use suivi_domain::Role;

const FILE: &str = "query($id: ID!) { pupil(id: $id) { average \
     grades { subject { name } average class { mean min max count } } \
     classAverage { mean min max count } \
     spider { axes { subject value classMean classMin classMax } \
              competencies { component value classMean classMin classMax } } } }";

async fn file(server: &Server, token: &str, pupil: &str) -> Value {
    let answer = server.gql_as(token, FILE, json!({"id": pupil})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["pupil"].clone()
}

/// The socle component D1.1 of the spider chart.
fn d11(file: &Value) -> Value {
    file["spider"]["competencies"]
        .as_array()
        .and_then(|c| c.iter().find(|x| x["component"] == "D1.1"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Registers pupils and enrols them in `class` from the year's start.
async fn pupils(
    server: &Server,
    s: &seed::School,
    class: &str,
    prefix: &str,
    n: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let pupil = id();
        run(
            server,
            "registerPupil",
            json!({"id": pupil, "externalId": format!("{prefix}{i}"),
            "lastName": format!("Nom{prefix}{i}"), "firstName": "Prénom"}),
        )
        .await;
        run(
            server,
            "enrolPupil",
            json!({"pupilId": pupil, "classId": class, "on": s.year_start}),
        )
        .await;
        ids.push(pupil);
    }
    ids
}

/// A maths test in `class`, every pupil graded (so its results reach families whole).
async fn graded_test(server: &Server, s: &seed::School, class: &str, grades: &[(&String, &str)]) {
    let test = id();
    run(server, "scheduleAssessment", json!({"id": test, "classId": class, "subjectId": s.maths,
        "periodId": s.period, "title": "Contrôle", "date": s.today - Duration::days(2), "scale": 20}))
    .await;
    for (pupil, score) in grades {
        grade(server, &test, pupil, Some(score), None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_in_a_group_of_two_gets_no_class_figure_staff_do() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    // 2nde B: two pupils, 7 and 15 in maths, levels 1 and 4 on D1.1; its maths teacher.
    let pair = pupils(&server, &s, &s.other_class, "B", 2).await;
    graded_test(
        &server,
        &s,
        &s.other_class,
        &[(&pair[0], "7"), (&pair[1], "15")],
    )
    .await;
    for (pupil, level) in [(&pair[0], 1), (&pair[1], 4)] {
        run(
            &server,
            "assessCompetency",
            json!({"pupilId": pupil, "component": "D1.1",
            "level": level, "on": s.today - Duration::days(1)}),
        )
        .await;
    }
    let teacher = id();
    run(
        &server,
        "registerTeacher",
        json!({"id": teacher, "displayName": "Mme Blanc"}),
    )
    .await;
    run(
        &server,
        "assignTeaching",
        json!({"teacherId": teacher, "classId": s.other_class,
        "subjectId": s.maths}),
    )
    .await;
    let guardian = id();
    run(
        &server,
        "linkGuardian",
        json!({"guardianId": guardian, "pupilId": pair[0],
        "name": "Mme Nom"}),
    )
    .await;

    // Staff: mean (7 + 15)/2 = 11, lowest 7, highest 15, of 2; the general average is the
    // maths one (the only subject), so the same; D1.1: (1 + 4)/2 = 2.5, 1 to 4.
    let spread = json!({"mean": 11.0, "min": 7.0, "max": 15.0, "count": 2});
    let staff = file(&server, &server.token(Role::Teacher, &teacher), &pair[0]).await;
    assert_eq!(staff["average"], 7.0, "{staff}");
    assert_eq!(staff["grades"][0]["class"], spread, "{staff}");
    assert_eq!(staff["classAverage"], spread, "{staff}");
    assert_eq!(
        staff["spider"]["axes"][0],
        json!({"subject": "Mathématiques", "value": 7.0, "classMean": 11.0, "classMin": 7.0, "classMax": 15.0})
    );
    assert_eq!(
        d11(&staff),
        json!({"component": "D1.1", "value": 1, "classMean": 2.5, "classMin": 1.0, "classMax": 4.0})
    );

    // The family: their child's own figures (the probe), no class figure anywhere.
    for token in [
        server.token(Role::Guardian, &guardian),
        server.token(Role::Pupil, &pair[0]),
    ] {
        let family = file(&server, &token, &pair[0]).await;
        assert_eq!(family["average"], 7.0, "{family}");
        assert_eq!(family["grades"][0]["average"], 7.0, "{family}");
        assert_eq!(family["grades"][0]["class"], Value::Null, "{family}");
        assert_eq!(family["classAverage"], Value::Null, "{family}");
        assert_eq!(
            family["spider"]["axes"][0],
            json!({"subject": "Mathématiques", "value": 7.0, "classMean": null, "classMin": null, "classMax": null})
        );
        assert_eq!(
            d11(&family),
            json!({"component": "D1.1", "value": 1, "classMean": null, "classMin": null, "classMax": null})
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_in_a_group_of_five_gets_the_class_figures() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let class = id();
    run(
        &server,
        "openClass",
        json!({"id": class, "yearId": s.year, "name": "2nde C"}),
    )
    .await;
    let five = pupils(&server, &s, &class, "C", 5).await;
    let scores = ["8", "10", "12", "14", "17"];
    let grades: Vec<(&String, &str)> = five.iter().zip(scores).collect();
    graded_test(&server, &s, &class, &grades).await;
    let guardian = id();
    run(
        &server,
        "linkGuardian",
        json!({"guardianId": guardian, "pupilId": five[0],
        "name": "M. NomC0"}),
    )
    .await;

    // (8 + 10 + 12 + 14 + 17)/5 = 61/5 = 12.2, lowest 8, highest 17, of 5.
    let spread = json!({"mean": 12.2, "min": 8.0, "max": 17.0, "count": 5});
    let family = file(&server, &server.token(Role::Guardian, &guardian), &five[0]).await;
    assert_eq!(family["average"], 8.0, "{family}");
    assert_eq!(family["grades"][0]["class"], spread, "{family}");
    assert_eq!(family["classAverage"], spread, "{family}");
    assert_eq!(
        family["spider"]["axes"][0],
        json!({"subject": "Mathématiques", "value": 8.0, "classMean": 12.2, "classMin": 8.0, "classMax": 17.0})
    );
    // Staff see the same.
    let staff = file(&server, &server.admin.clone(), &five[0]).await;
    assert_eq!(staff["grades"][0]["class"], spread, "{staff}");
    server.stop().await;
}
