//! The conseil de classe report: its figures against the projections (as of the day of the
//! conseil), names opened with the store's keys, the French HTML and CSV forms.

mod common;

use common::school::{self, CLASS_A, ERASED, T1, TRANSFERRED};
use common::*;
use suivi_analytics::figures::hundredths;
use suivi_analytics::report::format::points;
use suivi_analytics::{conseil_report_from_store, ConseilRequest};
use suivi_domain::ids::*;
use suivi_projections::time_on_task::Activity;
use suivi_projections::{ReadModels, TimeQuery};

fn h(r: suivi_projections::Ratio) -> i64 {
    r.hundredths() as i64
}

#[tokio::test(flavor = "multi_thread")]
async fn report_figures_match_the_projections_as_of_the_conseil() {
    let school = school::build(7, date(2026, 1, 20));
    let store = school.store().await;
    let as_of = at(2025, 12, 4, 18, 0);
    let req = ConseilRequest {
        class: "2nde melec a".into(),
        period: "Trimestre 1".into(),
        as_of: Some(as_of),
        now: at(2026, 1, 20, 12, 0),
    };
    let report = conseil_report_from_store(store.as_ref(), &req)
        .await
        .expect("report");
    let d = &report.data;
    assert_eq!(d.class_name, "2nde MELEC A");

    let class: ClassId = id(CLASS_A);
    let period: PeriodId = id(T1);
    // The whole school as of the conseil: a class-only view (`as_of_class`) leaves out
    // the homework a transferred pupil had in their other class.
    let view = ReadModels::rebuild(&school.recorded).as_of_all(as_of);
    let expected = view.class_report(class, period);

    // Subjects and the class figures.
    assert_eq!(d.subjects.len(), expected.subjects.len());
    for s in &d.subjects {
        let e = expected
            .subject(s.subject_id)
            .expect("subject in the projection");
        let (a, b) = (
            s.class.expect("batch spread"),
            e.class.expect("projected spread"),
        );
        assert_eq!(hundredths(a.mean), h(b.mean), "{} mean", s.name);
        assert_eq!(hundredths(a.min), h(b.min), "{} min", s.name);
        assert_eq!(hundredths(a.max), h(b.max), "{} max", s.name);
        assert_eq!(a.count, b.count);
    }
    let gc = d.general_class.expect("class general");
    assert_eq!(
        hundredths(gc.mean),
        h(expected.general_class.expect("general").mean)
    );

    // Every pupil of the period, the transferred one included; the erased one unnamed.
    let info = view.reference().period(period).expect("period");
    let members = view
        .reference()
        .members_during(class, info.starts_on, info.ends_on);
    assert_eq!(d.pupils.len(), members.len());
    assert!(d.pupils.iter().any(|p| p.pupil_id == id(TRANSFERRED)));
    let erased = d
        .pupils
        .iter()
        .find(|p| p.pupil_id == id(ERASED))
        .expect("erased pupil");
    assert_eq!(erased.name, "Élève effacé");
    assert!(d.pupils.iter().any(|p| p.name == "MARTIN Léa"));

    let qcm_time = view.time_on_task(
        class,
        &TimeQuery {
            from: Some(at(2025, 9, 1, 0, 0)),
            to: Some(at(2025, 12, 1, 0, 0)),
            ..TimeQuery::default()
        },
    );
    for p in &d.pupils {
        for (s, a) in d.subjects.iter().zip(&p.averages) {
            let e = view.pupil_average(class, p.pupil_id, s.subject_id, period);
            assert_eq!(
                a.map(hundredths),
                e.map(h),
                "average of {} in {}",
                p.pupil_id,
                s.name
            );
        }
        assert_eq!(
            p.general.map(hundredths),
            expected.general.get(&p.pupil_id).map(|r| h(*r))
        );
        let att = view.pupil_attendance(p.pupil_id, period);
        assert_eq!(
            (
                p.attendance.half_days,
                p.attendance.half_days_unjustified,
                p.attendance.latenesses,
                p.attendance.lateness_minutes
            ),
            (
                att.half_days,
                att.half_days_unjustified,
                att.latenesses,
                att.lateness_minutes
            )
        );
        let hw = view.pupil_homework_summary(p.pupil_id, period, as_of);
        assert_eq!(
            (
                p.homework.on_time,
                p.homework.late,
                p.homework.missing,
                p.homework.pending
            ),
            (hw.on_time, hw.late, hw.missing, hw.pending)
        );
        let ms: u64 = qcm_time
            .entries
            .iter()
            .filter(|e| e.pupil_id == p.pupil_id && matches!(e.activity, Activity::Question { .. }))
            .map(|e| e.ms)
            .sum();
        assert_eq!(p.qcm.time_ms as u64, ms, "QCM time of {}", p.pupil_id);
        let chart = view.spider(class, p.pupil_id, period);
        for c in &p.competencies {
            let axis = chart
                .competencies
                .iter()
                .find(|a| a.component == c.code)
                .expect("axis");
            assert_eq!(c.level, axis.pupil.map(u32::from));
        }
        // The page shows the figures with decimal commas.
        if let Some(g) = p.general {
            assert!(
                report.html.contains(&points(g)),
                "general average {} missing from the page",
                points(g)
            );
        }
    }

    // The page is self-contained and French; the CSV opens in a French spreadsheet.
    assert!(report.html.starts_with("<!DOCTYPE html><html lang=\"fr\">"));
    assert!(report.html.contains("<svg"));
    assert!(
        !report.html.contains(" src=") && !report.html.contains(" href="),
        "the page fetches something"
    );
    assert!(!report.html.contains("<script"));
    assert!(!report.html.contains("<link"));
    assert!(report.html.contains("Tableau récapitulatif"));
    let lines: Vec<&str> = report.csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), d.pupils.len() + 1);
    assert!(lines[0].starts_with("\u{feff}Élève;Identifiant;Moyenne générale;"));
    assert!(
        lines[1..]
            .iter()
            .all(|l| !l.contains('.') || l.contains("Exercices")),
        "decimal points in the CSV"
    );
    assert_eq!(report.file_stem(), "conseil-2nde_MELEC_A-Trimestre_1");

    // Kept for the screenshot (see BENCHMARKS.md / the crate's README).
    let dir = std::env::temp_dir().join("suivi-conseil");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join(format!("{}.html", report.file_stem())),
        &report.html,
    )
    .expect("write");
    std::fs::write(dir.join(format!("{}.csv", report.file_stem())), &report.csv).expect("write");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_names_are_refused_with_the_known_ones() {
    let school = school::build(7, date(2025, 10, 1));
    let store = school.store().await;
    let mut req = ConseilRequest {
        class: "3e B".into(),
        period: "Trimestre 1".into(),
        as_of: None,
        now: at(2025, 10, 2, 12, 0),
    };
    let err = conseil_report_from_store(store.as_ref(), &req)
        .await
        .expect_err("unknown class")
        .to_string();
    assert!(
        err.contains("\"3e B\"") && err.contains("2nde MELEC A"),
        "{err}"
    );
    req.class = "2nde MELEC B".into();
    req.period = "Semestre 9".into();
    let err = conseil_report_from_store(store.as_ref(), &req)
        .await
        .expect_err("unknown period")
        .to_string();
    assert!(
        err.contains("Semestre 9") && err.contains("Trimestre 2"),
        "{err}"
    );
}
