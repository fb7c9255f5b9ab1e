//! `check` finds no difference on a consistent log, and finds a planted one.

mod common;

use common::school;
use common::*;
use suivi_analytics::{check, load_log, Log};
use suivi_domain::envelope::raw;
use suivi_projections::ReadModels;

#[tokio::test(flavor = "multi_thread")]
async fn a_consistent_log_has_no_difference() {
    let school = school::build(7, date(2026, 6, 30));
    let store = school.store().await;
    let log = load_log(store.as_ref()).await.expect("load");
    assert_eq!(log.events as usize, school.recorded.len());
    let models = ReadModels::rebuild(&school.recorded);
    for now in [at(2025, 10, 15, 14, 30), at(2026, 7, 1, 12, 0)] {
        let report = check(&log, &models, now).expect("check");
        for d in report.differences.iter().take(30) {
            eprintln!("{d}");
        }
        assert!(
            report.is_consistent(),
            "{} differences",
            report.differences.len()
        );
        eprintln!("{:#?}", report.by_figure);
        assert!(
            report.compared > 3_000,
            "only {} figures compared",
            report.compared
        );
        for figure in [
            "subject average",
            "class subject mean",
            "general average",
            "profile",
            "spider competency level",
            "absence half-days",
            "homework missing",
            "homework report late",
            "quiz time ms",
            "question median time ms",
            "parcours status",
            "competency latest level",
            "risk level",
            "risk score",
            "risk factor",
        ] {
            assert!(
                report.by_figure.get(figure).copied().unwrap_or(0) > 0,
                "{figure} never compared"
            );
        }
    }
}

#[test]
fn as_of_views_agree_too() {
    let school = school::build(11, date(2026, 6, 30));
    let full = ReadModels::rebuild(&school.recorded);
    let log = Log::from_events(&school.recorded).expect("flatten");
    let instant = at(2025, 11, 28, 18, 0);
    let view = full.as_of_all(instant);
    let report = check(&log.as_of(instant).expect("cut"), &view, instant).expect("check");
    for d in report.differences.iter().take(30) {
        eprintln!("{d}");
    }
    assert!(report.is_consistent());
}

#[test]
fn a_planted_difference_is_reported() {
    let school = school::build(7, date(2025, 12, 20));
    let log = Log::from_events(&school.recorded).expect("flatten");
    // The projections are folded from a log where one grade was altered.
    let mut altered = school.recorded.clone();
    let grade = altered
        .iter_mut()
        .find(|e| e.event_type == "GradeRecorded" && e.payload.get().contains("\"grade\":"))
        .expect("a grade");
    let mut payload: serde_json::Value = serde_json::from_str(grade.payload.get()).expect("json");
    let before = payload["grade"].clone();
    payload["grade"] = if before == serde_json::json!(0) {
        serde_json::json!(100)
    } else {
        serde_json::json!(0)
    };
    grade.payload = raw(payload.to_string());
    let models = ReadModels::rebuild(&altered);
    let report = check(&log, &models, at(2026, 1, 5, 12, 0)).expect("check");
    assert!(!report.is_consistent());
    let figures: Vec<&str> = report.differences.iter().map(|d| d.figure).collect();
    assert!(figures.contains(&"subject average"), "{figures:?}");
    assert!(report.differences.iter().all(|d| !d.at.is_empty()));
}
