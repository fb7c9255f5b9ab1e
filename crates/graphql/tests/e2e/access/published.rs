//! Published results: a teacher withholds an assessment's results; the family's file,
//! averages and grade feed leave it out until it is published, staff see it throughout.
//! Figures by hand from the seed school.

use super::world::world;
use crate::harness::Server;
use crate::seed::run;
use serde_json::{json, Value};
use suivi_domain::Role;

const FILE: &str = "query($id: ID!) { pupil(id: $id) { average \
     grades { subject { name } average class { mean } grades { score } } } }";

fn subject<'a>(file: &'a Value, name: &str) -> Option<&'a Value> {
    file["data"]["pupil"]["grades"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["subject"]["name"] == name)
}

#[tokio::test]
async fn withheld_results_reach_families_only_once_published() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let a = &s.pupils[0];
    let guardian = server.token(Role::Guardian, &w.guardian_a);
    let pupil = server.token(Role::Pupil, a);
    let teacher = server.token(Role::Teacher, &w.french_teacher);
    // C's grade completes the dissertation: its results reach families as a whole.
    crate::seed::grade(&server, &s.f1, &s.pupils[2], Some("13"), None).await;

    // French was published: A has 9 there.
    let before = server.gql_as(&guardian, FILE, json!({"id": a})).await;
    assert_eq!(
        subject(&before, "Français").expect("French")["average"],
        json!(9.0)
    );
    // A: maths 14.666… (coefficient 2), French 9, workshop 16: 13.58 (as the head teacher).
    assert_eq!(before["data"]["pupil"]["average"], json!(13.58), "{before}");

    let mut feed = server
        .subscribe_as(
            &guardian,
            r#"subscription($p: ID!) { gradeRecorded(pupilId: $p) { assessmentTitle score position } }"#,
            json!({"p": a}),
        )
        .await;
    // Live once a probe (a maths assessment every pupil is exempted from: no figure
    // moves) reaches the family.
    let everyone = [a, &s.pupils[1], &s.pupils[2]];
    let probe = || crate::seed::probe(&server, s, &s.maths, everyone.to_vec());
    feed.live(|_| probe(), crate::seed::probe_pushed).await;

    // The French teacher withholds the dissertation, then corrects A's grade to 11.
    run(&server, "withholdResults", json!({"assessmentId": s.f1})).await;
    run(
        &server,
        "correctGrade",
        json!({"assessmentId": s.f1, "pupilId": a, "score": "11", "reason": "relecture"}),
    )
    .await;
    for token in [&guardian, &pupil] {
        let file = server.gql_as(token, FILE, json!({"id": a})).await;
        assert!(subject(&file, "Français").is_none(), "withheld: {file}");
        // Without French: (14.666… × 2 + 16) / 3 = 15.111… → 15.11.
        assert_eq!(file["data"]["pupil"]["average"], json!(15.11), "{file}");
        assert!(!file.to_string().contains("\"11\""), "{file}");
    }
    // Staff see it throughout, the teacher's own view included.
    let staff = server.gql(FILE, json!({"id": a})).await;
    assert_eq!(
        subject(&staff, "Français").expect("French")["average"],
        json!(11.0)
    );
    let theirs = server.gql_as(&teacher, FILE, json!({"id": a})).await;
    assert_eq!(
        subject(&theirs, "Français").expect("French")["average"],
        json!(11.0)
    );
    let detail = "query($id: ID!) { assessment(id: $id) { published } }";
    assert_eq!(
        server.ok(detail, json!({"id": s.f1})).await["assessment"]["published"],
        false
    );
    // The correction was not pushed to the family: the next push is a probe's.
    feed.quiet(probe(), crate::seed::probe_pushed).await;

    // Published: the family sees 11, the feed pushes it, the average comes back.
    let published = run(&server, "publishResults", json!({"assessmentId": s.f1})).await;
    let data = feed.next_data().await;
    // Pushed at the publication, not at the correction (a leak would carry the same
    // title and score, at the correction's position).
    assert_eq!(
        data["gradeRecorded"],
        json!({"assessmentTitle": "Dissertation", "score": "11", "position": published["position"]})
    );
    let after = server.gql_as(&guardian, FILE, json!({"id": a})).await;
    assert_eq!(
        subject(&after, "Français").expect("French")["average"],
        json!(11.0)
    );
    // (14.666… × 2 + 11 + 16) / 4 = 14.083… → 14.08.
    assert_eq!(after["data"]["pupil"]["average"], json!(14.08), "{after}");
    server.stop().await;
}
