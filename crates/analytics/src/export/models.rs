//! The main read models as tables (keys still dense ids; `export` turns them into UUIDs or
//! pseudonyms): averages, class figures, attendance, homework, QCM, parcours, competencies.

use crate::error::Result;
use crate::figures::grades::{GradeFigures, Scope};
use crate::figures::{attendance, competencies, homework, hundredths, parcours, qcm};
use crate::log::{Log, DATETIME};
use chrono::{DateTime, Utc};
use polars::prelude::*;

fn round2(v: f64) -> f64 {
    hundredths(v) as f64 / 100.0
}

fn id_col(name: &str, v: Vec<u32>) -> Column {
    Column::new(name.into(), v)
}

pub fn tables(log: &Log, now: DateTime<Utc>) -> Result<Vec<(&'static str, DataFrame)>> {
    let g = GradeFigures::compute(log, Scope::default())?;
    let mut out = Vec::new();

    let mut rows: Vec<_> = g.pupil_subject.iter().collect();
    rows.sort_by_key(|(k, _)| **k);
    out.push((
        "model_subject_averages",
        DataFrame::new(
            rows.len(),
            vec![
                id_col("class", rows.iter().map(|(k, _)| k.0).collect()),
                id_col("period", rows.iter().map(|(k, _)| k.1).collect()),
                id_col("subject", rows.iter().map(|(k, _)| k.2).collect()),
                id_col("pupil", rows.iter().map(|(k, _)| k.3).collect()),
                Column::new(
                    "average".into(),
                    rows.iter().map(|(_, v)| round2(**v)).collect::<Vec<f64>>(),
                ),
            ],
        )?,
    ));

    let mut rows: Vec<_> = g.class_subject.iter().collect();
    rows.sort_by_key(|(k, _)| **k);
    out.push((
        "model_class_subjects",
        DataFrame::new(
            rows.len(),
            vec![
                id_col("class", rows.iter().map(|(k, _)| k.0).collect()),
                id_col("period", rows.iter().map(|(k, _)| k.1).collect()),
                id_col("subject", rows.iter().map(|(k, _)| k.2).collect()),
                Column::new(
                    "mean".into(),
                    rows.iter()
                        .map(|(_, s)| round2(s.mean))
                        .collect::<Vec<f64>>(),
                ),
                Column::new(
                    "min".into(),
                    rows.iter()
                        .map(|(_, s)| round2(s.min))
                        .collect::<Vec<f64>>(),
                ),
                Column::new(
                    "max".into(),
                    rows.iter()
                        .map(|(_, s)| round2(s.max))
                        .collect::<Vec<f64>>(),
                ),
                Column::new(
                    "pupils".into(),
                    rows.iter().map(|(_, s)| s.count).collect::<Vec<u32>>(),
                ),
            ],
        )?,
    ));

    let mut rows: Vec<_> = g.general.iter().collect();
    rows.sort_by_key(|(k, _)| **k);
    out.push((
        "model_general_averages",
        DataFrame::new(
            rows.len(),
            vec![
                id_col("class", rows.iter().map(|(k, _)| k.0).collect()),
                id_col("period", rows.iter().map(|(k, _)| k.1).collect()),
                id_col("pupil", rows.iter().map(|(k, _)| k.2).collect()),
                Column::new(
                    "general_average".into(),
                    rows.iter().map(|(_, v)| round2(**v)).collect::<Vec<f64>>(),
                ),
            ],
        )?,
    ));

    let att = attendance::by_pupil_period(log, None)?;
    let mut rows: Vec<_> = att.iter().collect();
    rows.sort_by_key(|(k, _)| **k);
    let u = |f: fn(&attendance::AttendanceFig) -> u32| {
        rows.iter().map(|(_, a)| f(a)).collect::<Vec<u32>>()
    };
    out.push((
        "model_attendance",
        DataFrame::new(
            rows.len(),
            vec![
                id_col("pupil", rows.iter().map(|(k, _)| k.0).collect()),
                id_col("period", rows.iter().map(|(k, _)| k.1).collect()),
                Column::new("absences".into(), u(|a| a.absences)),
                Column::new("half_days".into(), u(|a| a.half_days)),
                Column::new(
                    "half_days_unjustified".into(),
                    u(|a| a.half_days_unjustified),
                ),
                Column::new("lessons".into(), u(|a| a.lessons)),
                Column::new("lessons_unjustified".into(), u(|a| a.lessons_unjustified)),
                Column::new("latenesses".into(), u(|a| a.latenesses)),
                Column::new("lateness_minutes".into(), u(|a| a.lateness_minutes)),
            ],
        )?,
    ));

    let hw = homework::by_pupil_period(log, now)?;
    let mut rows: Vec<_> = hw.iter().collect();
    rows.sort_by_key(|(k, _)| **k);
    let u =
        |f: fn(&homework::HomeworkFig) -> u32| rows.iter().map(|(_, a)| f(a)).collect::<Vec<u32>>();
    out.push((
        "model_homework",
        DataFrame::new(
            rows.len(),
            vec![
                id_col("pupil", rows.iter().map(|(k, _)| k.0).collect()),
                id_col("period", rows.iter().map(|(k, _)| k.1).collect()),
                Column::new("on_time".into(), u(|h| h.on_time)),
                Column::new("late".into(), u(|h| h.late)),
                Column::new("missing".into(), u(|h| h.missing)),
                Column::new("pending".into(), u(|h| h.pending)),
            ],
        )?,
    ));

    let q = qcm::by_pupil_quiz(log)?;
    let mut rows: Vec<_> = q.iter().collect();
    rows.sort_by_key(|(k, _)| **k);
    out.push((
        "model_qcm",
        DataFrame::new(
            rows.len(),
            vec![
                id_col("quiz", rows.iter().map(|(k, _)| k.0).collect()),
                id_col("pupil", rows.iter().map(|(k, _)| k.1).collect()),
                Column::new(
                    "attempts_used".into(),
                    rows.iter()
                        .map(|(_, f)| f.attempts_used)
                        .collect::<Vec<u32>>(),
                ),
                Column::new(
                    "best_correct".into(),
                    rows.iter()
                        .map(|(_, f)| f.best)
                        .collect::<Vec<Option<u32>>>(),
                ),
                Column::new(
                    "last_correct".into(),
                    rows.iter()
                        .map(|(_, f)| f.last)
                        .collect::<Vec<Option<u32>>>(),
                ),
                Column::new(
                    "answers".into(),
                    rows.iter().map(|(_, f)| f.answers).collect::<Vec<u32>>(),
                ),
                Column::new(
                    "time_ms".into(),
                    rows.iter().map(|(_, f)| f.time_ms).collect::<Vec<i64>>(),
                ),
            ],
        )?,
    ));

    let p = parcours::by_pupil(log)?;
    let mut rows: Vec<_> = p.iter().collect();
    rows.sort_by_key(|(k, _)| **k);
    out.push((
        "model_parcours",
        DataFrame::new(
            rows.len(),
            vec![
                id_col("parcours", rows.iter().map(|(k, _)| k.0).collect()),
                id_col("pupil", rows.iter().map(|(k, _)| k.1).collect()),
                Column::new(
                    "steps_done".into(),
                    rows.iter().map(|(_, f)| f.steps_done).collect::<Vec<u32>>(),
                ),
                Column::new(
                    "steps_total".into(),
                    rows.iter()
                        .map(|(_, f)| f.steps_total)
                        .collect::<Vec<u32>>(),
                ),
                Column::new(
                    "time_ms".into(),
                    rows.iter().map(|(_, f)| f.time_ms).collect::<Vec<i64>>(),
                ),
                Series::new(
                    "finished_at".into(),
                    rows.iter()
                        .map(|(_, f)| f.finished_at_ms)
                        .collect::<Vec<Option<i64>>>(),
                )
                .cast(&DATETIME)?
                .into(),
            ],
        )?,
    ));

    let c = competencies::by_component(log)?;
    let mut rows: Vec<_> = c.iter().collect();
    rows.sort_by(|a, b| a.0.cmp(b.0));
    out.push((
        "model_competencies",
        DataFrame::new(
            rows.len(),
            vec![
                id_col("pupil", rows.iter().map(|(k, _)| k.0).collect()),
                id_col("framework", rows.iter().map(|(k, _)| k.1).collect()),
                Column::new(
                    "component".into(),
                    rows.iter()
                        .map(|(k, _)| k.2.clone())
                        .collect::<Vec<String>>(),
                ),
                Column::new(
                    "latest_level".into(),
                    rows.iter()
                        .map(|(_, f)| f.latest)
                        .collect::<Vec<Option<u32>>>(),
                ),
                Column::new(
                    "assessed".into(),
                    rows.iter().map(|(_, f)| f.assessed).collect::<Vec<u32>>(),
                ),
                Column::new(
                    "validated".into(),
                    rows.iter().map(|(_, f)| f.validated).collect::<Vec<u32>>(),
                ),
            ],
        )?,
    ));
    Ok(out)
}
