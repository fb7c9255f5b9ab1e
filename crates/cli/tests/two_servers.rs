//! Two real `suivi serve` processes on one PostgreSQL schema: a mutation sent to server A
//! reaches a subscriber of server B (every event once, in order; the delay from A's answer
//! to B's push is printed as p50/p99), and after the same position both answer the same
//! class dashboard.
//!
//! `cargo test -p suivi-cli --test two_servers -- --nocapture` prints the figures
//! (BENCHMARKS.md, "Two servers on one PostgreSQL log", gives them for a release build:
//! `cargo test --release …`). Servers, clients and the bearer token: `serve/mod.rs`
//! (`auth` is the one place that knows how requests authenticate).

mod common;
mod pg;
mod serve;

use pg::Schema;
use serde_json::json;
use serve::{auth, Server};
use std::time::{Duration, Instant};

/// Grades sent to A while B's subscriber listens.
const N: usize = 200;

fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The sample's value at quantile `q` (nearest rank), in milliseconds.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

const GRADES: &str = r#"subscription($p: ID!) {
  gradeRecorded(pupilId: $p) { assessment { id } score position }
}"#;

const CLASS: &str = r#"query($name: String!, $period: String) {
  class(name: $name, period: $period) {
    id name period { name }
    subjects { name kind mean min max gradedCount }
    pupils { id externalId average
      spider { axes { subject value classMean classMin classMax } profile } }
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_server_reaches_a_subscriber_of_the_other() {
    let schema = Schema::fresh();
    let migrate = tokio::task::spawn_blocking({
        let url = schema.url.clone();
        move || common::suivi(&["migrate", "--store", &url])
    })
    .await
    .expect("suivi migrate runs");
    assert!(migrate.ok(), "{}", migrate.stderr);

    let school = uuid::Uuid::now_v7();
    let auth = auth(school);
    let a = Server::start("A", &schema.url, school, &auth);
    let b = Server::start("B", &schema.url, school, &auth);

    // A small school written through A: one class, three pupils, N + 1 assessments.
    let today = chrono::Utc::now().date_naive();
    let (year_start, year_end) = (
        today - chrono::Duration::days(200),
        today + chrono::Duration::days(160),
    );
    let (year, period, maths, french, class) = (id(), id(), id(), id(), id());
    a.ok(
        "mutation { registerSchool(input: {name: \"Lycée Jean Moulin\"}) { position } }",
        json!({}),
    )
    .await;
    a.mutate(
        "defineSchoolYear",
        json!({"id": year, "label": "année en cours", "startsOn": year_start, "endsOn": year_end}),
    )
    .await;
    a.mutate("definePeriod", json!({"id": period, "yearId": year, "name": "Année", "kind": "SEMESTRE", "startsOn": year_start, "endsOn": year_end})).await;
    a.mutate(
        "defineSubject",
        json!({"id": maths, "name": "Mathématiques", "kind": "GENERAL", "coefficient": "2"}),
    )
    .await;
    a.mutate(
        "defineSubject",
        json!({"id": french, "name": "Français", "kind": "GENERAL"}),
    )
    .await;
    a.mutate(
        "openClass",
        json!({"id": class, "yearId": year, "name": "2nde A"}),
    )
    .await;
    let pupils = [id(), id(), id()];
    for (i, pupil) in pupils.iter().enumerate() {
        a.mutate("registerPupil", json!({"id": pupil, "externalId": format!("E{}", i + 1), "lastName": format!("Élève{i}"), "firstName": "Test"})).await;
        a.mutate(
            "enrolPupil",
            json!({"pupilId": pupil, "classId": class, "on": year_start}),
        )
        .await;
    }
    let assessments: Vec<String> = (0..=N).map(|_| id()).collect();
    let date = today - chrono::Duration::days(1);
    let mut seeded = 0;
    for (i, assessment) in assessments.iter().enumerate() {
        let subject = if i % 2 == 0 { &maths } else { &french };
        seeded = a.mutate("scheduleAssessment", json!({"id": assessment, "classId": class, "subjectId": subject, "periodId": period, "title": format!("Évaluation {i}"), "date": date, "scale": 20, "coefficient": "1"})).await;
    }
    // The other pupils' grades give the dashboard something to compare.
    for (i, assessment) in assessments.iter().enumerate().take(20) {
        for (p, pupil) in pupils.iter().enumerate().skip(1) {
            let score = ((i * 7 + p * 5) % 21).to_string();
            seeded = a
                .mutate(
                    "recordGrade",
                    json!({"assessmentId": assessment, "pupilId": pupil, "score": score}),
                )
                .await;
        }
    }
    b.reach(seeded).await;

    // B's subscriber is live once a warm-up grade (assessment 0) reaches it: recorded,
    // then corrected to another score until one is pushed, and read up to the last one
    // (no fixed wait: a warm-up lost before the subscription started is followed by
    // another).
    let mut pushed = b.subscribe(GRADES, json!({"p": pupils[0]})).await;
    let grade = |i: usize| json!({"assessmentId": assessments[i], "pupilId": pupils[0], "score": (i % 21).to_string()});
    let warm_up = |k: usize| json!({"assessmentId": assessments[0], "pupilId": pupils[0], "score": k.to_string()});
    let mut last_warm_up = None;
    for k in 0..=20 {
        let name = if k == 0 {
            "recordGrade"
        } else {
            "correctGrade"
        };
        a.mutate(name, warm_up(k)).await;
        last_warm_up = Some(k.to_string());
        if let Ok(Some((_, first))) =
            tokio::time::timeout(Duration::from_millis(250), pushed.recv()).await
        {
            let mut change = first;
            loop {
                let pushed_grade = &change["data"]["gradeRecorded"];
                assert_eq!(
                    pushed_grade["assessment"]["id"],
                    json!(assessments[0]),
                    "{change}"
                );
                if pushed_grade["score"].as_str() == last_warm_up.as_deref() {
                    break;
                }
                change = tokio::time::timeout(Duration::from_secs(15), pushed.recv())
                    .await
                    .expect("the last warm-up grade reaches B")
                    .expect("the subscription stays open")
                    .1;
            }
            last_warm_up = None;
            break;
        }
    }
    assert!(last_warm_up.is_none(), "no warm-up grade reached B");

    // N grades to A, one after the other; each is on its own assessment, so B pushes it once.
    let mut sent = Vec::with_capacity(N);
    for i in 1..=N {
        let before = Instant::now();
        let position = a.mutate("recordGrade", grade(i)).await;
        sent.push((before, Instant::now(), position));
    }
    let mut received = Vec::with_capacity(N);
    while received.len() < N {
        match tokio::time::timeout(Duration::from_secs(15), pushed.recv()).await {
            Ok(Some(message)) => received.push(message),
            _ => panic!(
                "B pushed {} of {N} grades:\nA:\n{}\nB:\n{}",
                received.len(),
                a.log(),
                b.log()
            ),
        }
    }
    // Nothing twice: a last correction written now is the next push.
    let last = a
        .mutate(
            "correctGrade",
            json!({"assessmentId": assessments[N], "pupilId": pupils[0], "score": "19.5"}),
        )
        .await;
    let (_, next) = tokio::time::timeout(Duration::from_secs(15), pushed.recv())
        .await
        .expect("the last correction reaches B")
        .expect("the subscription stays open");
    assert_eq!(
        next["data"]["gradeRecorded"]["score"],
        json!("19.5"),
        "B pushed a grade twice: {next}"
    );

    let mut from_ack = Vec::with_capacity(N);
    let mut from_send = Vec::with_capacity(N);
    let mut before_ack = 0;
    for (i, ((at, payload), (send, ack, position))) in received.iter().zip(&sent).enumerate() {
        let change = &payload["data"]["gradeRecorded"];
        assert!(payload.get("errors").is_none(), "{payload}");
        assert_eq!(
            change["assessment"]["id"],
            json!(assessments[i + 1]),
            "grade {} pushed in order",
            i + 1
        );
        assert_eq!(change["score"], json!(((i + 1) % 21).to_string()));
        assert!(
            change["position"].as_u64() >= Some(*position),
            "pushed after B folded position {position}: {change}"
        );
        // B may push before A's answer is back: that counts as no delay.
        if at < ack {
            before_ack += 1;
        }
        from_ack.push(at.saturating_duration_since(*ack).as_secs_f64() * 1e3);
        from_send.push(at.duration_since(*send).as_secs_f64() * 1e3);
    }
    from_ack.sort_by(f64::total_cmp);
    from_send.sort_by(f64::total_cmp);
    println!(
        "delivery A → B over {N} grades: from A's answer p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms \
         ({before_ack} pushed before A answered); from sending the mutation p50 {:.1} ms, \
         p99 {:.1} ms",
        quantile(&from_ack, 0.5),
        quantile(&from_ack, 0.99),
        from_ack[N - 1],
        quantile(&from_send, 0.5),
        quantile(&from_send, 0.99),
    );
    // Timings are reported (BENCHMARKS.md), not asserted: CI machines are shared.

    // Same position, same dashboard.
    a.reach(last).await;
    b.reach(last).await;
    assert_eq!(a.position().await, b.position().await);
    let variables = json!({"name": "2nde A", "period": "Année"});
    let on_a = a.ok(CLASS, variables.clone()).await;
    let on_b = b.ok(CLASS, variables).await;
    assert_eq!(on_a, on_b, "both servers answer the same dashboard");
    let class_view = &on_a["class"];
    assert_eq!(class_view["id"], json!(class));
    assert_eq!(class_view["pupils"].as_array().map(Vec::len), Some(3));
    let graded: u64 = class_view["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .filter_map(|s| s["gradedCount"].as_u64())
        .sum();
    assert!(graded > 0, "the dashboard shows grades: {class_view}");
    drop(a);
    drop(b);
}
