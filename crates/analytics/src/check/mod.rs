//! The cross-check: every figure the dashboards serve, recomputed by polars over the whole
//! log (`figures`), compared with the incremental projections (`ReadModels`).
//!
//! Averages and means are compared as the dashboards serve them: in hundredths, rounded half
//! away from zero. Counts, levels and milliseconds are compared exactly. A figure present on
//! one side only is a difference too. Time-dependent figures (homework pending or missing,
//! parcours status) are evaluated at the same `now` on both sides.

mod grades;
mod learning;
mod risk;
mod run;
mod school_work;

pub use run::{check_store, CheckTimings};

use crate::error::Result;
use crate::figures::enrolments::Enrolments;
use crate::log::Log;
use chrono::{DateTime, Utc};
use std::fmt;
use suivi_projections::ReadModels;

/// One figure on which the two methods disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Which figure: `subject average`, `class subject mean`, `absences half-days`…
    pub figure: &'static str,
    /// Where: class, period, subject, pupil id… (names of classes and subjects, ids of pupils).
    pub at: String,
    /// What the projections serve (`—` for nothing).
    pub projection: String,
    /// What polars computed from the log (`—` for nothing).
    pub batch: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}]: projection {} ≠ batch {}",
            self.figure, self.at, self.projection, self.batch
        )
    }
}

/// What a check compared and found.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    /// Figures compared.
    pub compared: u64,
    /// Figures compared, by kind.
    pub by_figure: std::collections::BTreeMap<&'static str, u64>,
    /// Time polars spent recomputing the figures (the rest of a check is the projections'
    /// queries and the comparison).
    pub batch_time: std::time::Duration,
    pub differences: Vec<Difference>,
    /// Events read, and the log's last position.
    pub events: u64,
    pub head: u64,
}

impl CheckReport {
    pub fn is_consistent(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Collects comparisons.
pub(crate) struct Diffs {
    compared: u64,
    batch_time: std::time::Duration,
    by_figure: std::collections::BTreeMap<&'static str, u64>,
    list: Vec<Difference>,
}

fn show<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "—".to_owned(), |v| v.to_string())
}

/// Hundredths as a number with two decimals.
pub(crate) fn show_h(h: Option<i64>) -> String {
    h.map_or_else(
        || "—".to_owned(),
        |h| {
            let sign = if h < 0 { "-" } else { "" };
            format!("{sign}{}.{:02}", h.abs() / 100, h.abs() % 100)
        },
    )
}

impl Diffs {
    fn new() -> Diffs {
        Diffs {
            compared: 0,
            batch_time: std::time::Duration::ZERO,
            by_figure: Default::default(),
            list: Vec::new(),
        }
    }

    /// Runs a polars computation, timing it.
    pub(crate) fn batch<T>(&mut self, compute: impl FnOnce() -> Result<T>) -> Result<T> {
        let started = std::time::Instant::now();
        let out = compute();
        self.batch_time += started.elapsed();
        out
    }

    /// Compares two optional values of any comparable kind.
    pub(crate) fn same<T: PartialEq + fmt::Display>(
        &mut self,
        figure: &'static str,
        at: impl FnOnce() -> String,
        projection: Option<T>,
        batch: Option<T>,
    ) {
        self.compared += 1;
        *self.by_figure.entry(figure).or_default() += 1;
        if projection != batch {
            self.list.push(Difference {
                figure,
                at: at(),
                projection: show(&projection),
                batch: show(&batch),
            });
        }
    }

    /// Compares two figures in hundredths.
    pub(crate) fn hundredths(
        &mut self,
        figure: &'static str,
        at: impl FnOnce() -> String,
        projection: Option<i64>,
        batch: Option<i64>,
    ) {
        self.compared += 1;
        *self.by_figure.entry(figure).or_default() += 1;
        if projection != batch {
            self.list.push(Difference {
                figure,
                at: at(),
                projection: show_h(projection),
                batch: show_h(batch),
            });
        }
    }
}

/// The shared context of the comparisons.
pub(crate) struct Ctx<'a> {
    pub log: &'a Log,
    pub models: &'a ReadModels,
    pub enrolments: Enrolments,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    pub(crate) fn class_name(&self, class: suivi_domain::ids::ClassId) -> String {
        self.models
            .reference()
            .class(class)
            .map_or_else(|| class.to_string(), |c| c.name.clone())
    }

    pub(crate) fn period_name(&self, period: suivi_domain::ids::PeriodId) -> String {
        self.models
            .reference()
            .period(period)
            .map_or_else(|| period.to_string(), |p| p.name.clone())
    }

    pub(crate) fn subject_name(&self, subject: suivi_domain::ids::SubjectId) -> String {
        self.models
            .reference()
            .subject(subject)
            .map_or_else(|| subject.to_string(), |s| s.name.clone())
    }

    pub(crate) fn key(&self, id: &uuid::Uuid) -> u32 {
        // An id the log never mentions gets a key no table holds.
        self.log.key(id).unwrap_or(u32::MAX)
    }
}

/// Recomputes every dashboard figure from `log` and compares it with `models` (folded from
/// the same log), at `now`.
pub fn check(log: &Log, models: &ReadModels, now: DateTime<Utc>) -> Result<CheckReport> {
    let started = std::time::Instant::now();
    let ctx = Ctx {
        log,
        models,
        enrolments: Enrolments::of(log)?,
        now,
    };
    let mut diffs = Diffs::new();
    grades::compare(&ctx, &mut diffs)?;
    school_work::compare(&ctx, &mut diffs)?;
    learning::compare(&ctx, &mut diffs)?;
    risk::compare(&ctx, &mut diffs)?;
    tracing::info!(
        compared = diffs.compared,
        differences = diffs.list.len(),
        ms = started.elapsed().as_millis() as u64,
        "cross-check done"
    );
    Ok(CheckReport {
        compared: diffs.compared,
        by_figure: diffs.by_figure,
        batch_time: diffs.batch_time,
        differences: diffs.list,
        events: log.events,
        head: log.head,
    })
}

/// Every (class, period) of every school, as the projections know them.
pub(crate) fn class_periods(
    models: &ReadModels,
) -> Vec<(suivi_domain::ids::ClassId, suivi_domain::ids::PeriodId)> {
    let reference = models.reference();
    let mut out = Vec::new();
    for school in reference.schools() {
        let periods = reference.periods_of(school.school_id);
        for class in reference.classes_of(school.school_id) {
            for period in periods.iter().filter(|p| p.year_id == class.year_id) {
                out.push((class.class_id, period.period_id));
            }
        }
    }
    out
}
