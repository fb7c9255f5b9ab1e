//! The differencing attack on class figures: a family asks `pupil(child, asOf: tᵢ)` at the
//! instants between which each classmate's grade was typed in, and reads each new grade
//! off the class's count and mean. Results reach families as a whole (once every pupil on
//! the roster is graded, or when published) and a withhold applies to every instant: the
//! attack recovers nothing (and a group this small shows families no class figure at all). Staff, who see grades as they are typed, see every step — the
//! same queries as a teacher show the attack would work without the rule.

use super::world::world;
use crate::harness::Server;
use crate::seed::{grade, id, run};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use suivi_domain::Role;

const MATHS: &str = "query($id: ID!, $at: DateTime) { pupil(id: $id, asOf: $at) { \
     grades { subject { name } average class { mean min max count } grades { score } } } }";

/// The maths line of the answer (its class figures and the child's own grades).
fn maths(answer: &Value) -> Value {
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["pupil"]["grades"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["subject"]["name"] == "Mathématiques")
        .cloned()
        .unwrap_or(Value::Null)
}

async fn at(server: &Server, token: &str, pupil: &str, instant: DateTime<Utc>) -> Value {
    maths(
        &server
            .gql_as(
                token,
                MATHS,
                json!({"id": pupil, "at": instant.to_rfc3339()}),
            )
            .await,
    )
}

#[tokio::test]
async fn a_family_cannot_difference_class_figures_down_to_one_grade() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let [a, b, c] = &s.pupils;
    let guardian = server.token(Role::Guardian, &w.guardian_a);
    let head = server.token(Role::HeadTeacher, &s.teacher);

    let quiz = id();
    run(
        &server,
        "scheduleAssessment",
        json!({"id": quiz, "classId": s.class, "subjectId": s.maths, "periodId": s.period,
               "title": "Contrôle surprise", "date": s.today, "scale": 20, "coefficient": "1"}),
    )
    .await;
    let t0 = Utc::now();
    // Typed in one by one, roster order: A (the family's child) first, then B, then C.
    grade(&server, &quiz, a, Some("6.25"), None).await;
    let t1 = Utc::now();
    grade(&server, &quiz, b, Some("13"), None).await;
    let t2 = Utc::now();
    grade(&server, &quiz, c, Some("12"), None).await;
    let t3 = Utc::now();

    let family: Vec<Value> = {
        let mut seen = Vec::new();
        for t in [t0, t1, t2, t3] {
            seen.push(at(&server, &guardian, a, t).await);
        }
        seen
    };
    let staff: Vec<Value> = {
        let mut seen = Vec::new();
        for t in [t0, t1, t2, t3] {
            seen.push(at(&server, &head, a, t).await);
        }
        seen
    };
    // Staff see each grade arrive: the count grows 0 → … and the figures move each time.
    assert_ne!(staff[0]["class"], staff[1]["class"], "{staff:?}");
    assert_ne!(staff[1]["class"], staff[2]["class"], "{staff:?}");
    assert_ne!(staff[2]["class"], staff[3]["class"], "{staff:?}");
    // The family sees nothing move until the whole assessment is graded: not A's own 6.25,
    // not B's 13 through the mean — then all of it at once.
    assert_eq!(family[0], family[1], "{family:?}");
    assert_eq!(family[1], family[2], "{family:?}");
    assert!(!family[2].to_string().contains("6.25"), "{family:?}");
    // Complete: the family sees the child's grades and average as staff do — but no class
    // figure, the class being a group of three (fewer than 5 graded: small_groups.rs).
    assert_eq!(family[3]["grades"], staff[3]["grades"], "{family:?}");
    assert_eq!(family[3]["average"], staff[3]["average"], "{family:?}");
    assert!(family[3].to_string().contains("6.25"), "{family:?}");
    assert!(!staff[3]["class"].is_null(), "{staff:?}");
    assert_eq!(family[3]["class"], Value::Null, "{family:?}");

    // Withheld afterwards: hidden at every instant, the earlier ones included.
    run(&server, "withholdResults", json!({"assessmentId": quiz})).await;
    assert_eq!(
        at(&server, &guardian, a, t3).await,
        family[0],
        "asOf before the withhold"
    );
    assert_eq!(at(&server, &guardian, a, Utc::now()).await, family[0]);
    server.stop().await;
}

/// Records an absence of `pupil` today: a change every family of the pupil may see, used as
/// the probe that proves a feed is live before a negative check.
async fn absence(server: &Server, pupil: &str) -> Value {
    let start = Utc::now() - chrono::Duration::hours(2);
    run(
        server,
        "recordAbsence",
        json!({"pupilId": pupil, "startsAt": start.to_rfc3339(),
               "endsAt": (start + chrono::Duration::hours(1)).to_rfc3339(),
               "halfDays": 1, "lessons": 1}),
    )
    .await
}

/// The notices up to the one at `probe`'s position (which is last), failing on any past it.
async fn until(feed: &mut crate::harness::Subscription, probe: &Value) -> Vec<Value> {
    let wanted = probe["position"].as_u64().expect("a position");
    let mut seen = Vec::new();
    loop {
        let notice = feed.next_data().await["changes"].clone();
        let position = notice["position"].as_u64().expect("a position");
        assert!(position <= wanted, "past the probe: {notice}");
        seen.push(notice);
        if position == wanted {
            return seen;
        }
    }
}

#[tokio::test]
async fn a_pupils_changes_feed_says_nothing_of_a_withheld_grade() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let [a, _, c] = &s.pupils;
    // The dissertation fully graded: its results are the family's to see.
    grade(&server, &s.f1, c, Some("13"), None).await;
    let token = server.token(Role::Pupil, a);
    let mut feed = server
        .subscribe_as(
            &token,
            "subscription { changes { position pupilIds } }",
            json!({}),
        )
        .await;
    // The probe: the feed is live and names the pupil (notices of what was folded before
    // the subscription started may come first).
    let probe = absence(&server, a).await;
    let notices = until(&mut feed, &probe).await;
    assert_eq!(notices.last().expect("the probe")["pupilIds"], json!([a]));

    // Withheld (the dissertation leaves the pupil's view: they may hear of that), then
    // corrected: nothing for the pupil to hear of.
    run(&server, "withholdResults", json!({"assessmentId": s.f1})).await;
    let probe = absence(&server, a).await;
    until(&mut feed, &probe).await;
    let corrected = run(
        &server,
        "correctGrade",
        json!({"assessmentId": s.f1, "pupilId": a, "score": "17", "reason": "relecture"}),
    )
    .await;
    // The next notice is the next probe: none for the correction.
    let probe = absence(&server, a).await;
    let notices = until(&mut feed, &probe).await;
    assert_eq!(notices.len(), 1, "only the probe: {notices:?}");
    assert_ne!(notices[0]["position"], corrected["position"]);
    // Published: now the pupil hears of it.
    let published = run(&server, "publishResults", json!({"assessmentId": s.f1})).await;
    let notice = feed.next_data().await;
    assert_eq!(
        notice["changes"]["position"], published["position"],
        "{notice}"
    );
    assert_eq!(notice["changes"]["pupilIds"], json!([a]), "{notice}");
    server.stop().await;
}
