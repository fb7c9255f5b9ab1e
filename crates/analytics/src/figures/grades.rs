//! Averages, by polars: per pupil and subject, the class figures per subject, the general
//! average, and the profile read-out's means.
//!
//! The bulletin's rules, restated here from the school's practice rather than from the
//! folds: a grade is brought to /20 and weighted by its assessment's coefficient; `Abs` and
//! `Disp` are left out; `NR` counts as 0 where the school says so (the default) and is left
//! out otherwise; a correction replaces the grade; a pupil's average in a class and period
//! comes from that class's assessments; the class figures of a subject are the mean, lowest
//! and highest of the pupils' averages; the general average weights the subject averages by
//! the subjects' coefficients.

use super::{last_by_pos, lazy, Cols, Spread};
use crate::error::Result;
use crate::log::Log;
use polars::prelude::*;
use std::collections::HashMap;

/// Restricts the figures to one class and/or one period (the report asks for one of each;
/// the cross-check for all).
#[derive(Clone, Copy, Debug, Default)]
pub struct Scope {
    pub class: Option<u32>,
    pub period: Option<u32>,
}

impl Scope {
    pub(crate) fn keep(&self, class: Expr, period: Expr) -> Expr {
        let mut keep = lit(true);
        if let Some(c) = self.class {
            keep = keep.and(class.eq(lit(c)));
        }
        if let Some(p) = self.period {
            keep = keep.and(period.eq(lit(p)));
        }
        keep
    }
}

/// `[class, nr_zero]`: the `NR` setting of each class's school (true when unknown).
fn nr_setting(log: &Log) -> LazyFrame {
    let f = &log.frames;
    let classes = lazy(&f.classes)
        .group_by([col("class")])
        .agg([last_by_pos("school")]);
    let schools = lazy(&f.schools)
        .group_by([col("school")])
        .agg([last_by_pos("nr_zero")]);
    classes
        .left_join(schools, col("school"), col("school"))
        .select([col("class"), col("nr_zero").fill_null(lit(true))])
}

/// The current grade of each pupil on each assessment: `[assessment, pupil, points, mark,
/// corrections]`.
pub fn current_grades(log: &Log) -> LazyFrame {
    lazy(&log.frames.grades)
        .group_by([col("assessment"), col("pupil")])
        .agg([
            last_by_pos("points"),
            last_by_pos("mark"),
            col("corrected")
                .cast(DataType::UInt32)
                .sum()
                .alias("corrections"),
        ])
}

/// `[class, period, subject, pupil, average]`, average on /20.
pub fn subject_averages(log: &Log, scope: Scope) -> LazyFrame {
    let assessments = lazy(&log.frames.assessments)
        .filter(scope.keep(col("class"), col("period")))
        .select([
            col("assessment"),
            col("class"),
            col("subject"),
            col("period"),
            col("scale"),
            col("coefficient"),
        ]);
    let counted = when(col("mark").is_null())
        .then(col("points").cast(DataType::Float64))
        .when(col("mark").eq(lit("NR")).and(col("nr_zero")))
        .then(lit(0.0))
        .otherwise(lit(NULL).cast(DataType::Float64));
    current_grades(log)
        .inner_join(assessments, col("assessment"), col("assessment"))
        .left_join(nr_setting(log), col("class"), col("class"))
        .with_columns([col("nr_zero").fill_null(lit(true))])
        .with_column(counted.alias("counted"))
        .filter(col("counted").is_not_null())
        .with_columns([
            // hundredths of a point on /scale → points on /20
            (col("counted") / (col("scale").cast(DataType::Float64) * lit(5.0))).alias("on20"),
            col("coefficient").cast(DataType::Float64).alias("w"),
        ])
        .group_by([col("class"), col("period"), col("subject"), col("pupil")])
        .agg([
            (col("on20") * col("w")).sum().alias("sum"),
            col("w").sum().alias("weight"),
        ])
        .filter(col("weight").gt(lit(0.0)))
        .select([
            col("class"),
            col("period"),
            col("subject"),
            col("pupil"),
            (col("sum") / col("weight")).alias("average"),
        ])
}

/// Subjects' kind and coefficient: `[subject, kind, subject_coefficient]`.
fn subject_info(log: &Log) -> LazyFrame {
    lazy(&log.frames.subjects)
        .group_by([col("subject")])
        .agg([last_by_pos("kind"), last_by_pos("coefficient")])
        .select([
            col("subject"),
            col("kind"),
            col("coefficient").alias("subject_coefficient"),
        ])
}

/// `[class, period, pupil, general]`: subject averages weighted by the subjects'
/// coefficients (1 for a subject never defined).
pub fn general_averages(averages: LazyFrame, log: &Log) -> LazyFrame {
    averages
        .left_join(subject_info(log), col("subject"), col("subject"))
        .with_column(
            col("subject_coefficient")
                .fill_null(lit(100u32))
                .cast(DataType::Float64)
                .alias("sw"),
        )
        .group_by([col("class"), col("period"), col("pupil")])
        .agg([
            (col("average") * col("sw")).sum().alias("sum"),
            col("sw").sum().alias("weight"),
        ])
        .filter(col("weight").gt(lit(0.0)))
        .select([
            col("class"),
            col("period"),
            col("pupil"),
            (col("sum") / col("weight")).alias("general"),
        ])
}

/// `[class, period, pupil, general_mean, vocational_mean]`: unweighted means of the
/// pupil's averages in each kind of subject (null when they have none in that kind).
pub fn profile_means(averages: LazyFrame, log: &Log) -> LazyFrame {
    averages
        .left_join(subject_info(log), col("subject"), col("subject"))
        .group_by([col("class"), col("period"), col("pupil")])
        .agg([
            col("average")
                .filter(col("kind").eq(lit("general")))
                .mean()
                .alias("general_mean"),
            col("average")
                .filter(col("kind").eq(lit("vocational")))
                .mean()
                .alias("vocational_mean"),
        ])
}

fn spread_by(frame: LazyFrame, keys: &[&str], value: &str) -> LazyFrame {
    let by: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    frame.group_by(by).agg([
        col(value).mean().alias("mean"),
        col(value).min().alias("min"),
        col(value).max().alias("max"),
        col(value).count().alias("count"),
    ])
}

/// The unweighted means of a pupil's averages in general and in vocational subjects.
pub type KindMeans = (Option<f64>, Option<f64>);

/// Every grade figure of a scope, collected.
#[derive(Clone, Debug, Default)]
pub struct GradeFigures {
    /// (class, period, subject, pupil) → average on /20.
    pub pupil_subject: HashMap<(u32, u32, u32, u32), f64>,
    /// (class, period, subject) → the pupils' averages' spread.
    pub class_subject: HashMap<(u32, u32, u32), Spread>,
    /// (class, period, pupil) → general average.
    pub general: HashMap<(u32, u32, u32), f64>,
    /// (class, period) → the general averages' spread.
    pub general_class: HashMap<(u32, u32), Spread>,
    /// (class, period, pupil) → (general mean, vocational mean).
    pub profile: HashMap<(u32, u32, u32), KindMeans>,
}

pub(crate) fn collect_spreads(df: &DataFrame, keys: &[&str]) -> Result<Vec<(Vec<u32>, Spread)>> {
    let t = Cols::new(df, "spread");
    let key_cols: Vec<Vec<u32>> = keys.iter().map(|k| t.ids(k)).collect::<Result<_>>()?;
    let (mean, min, max, count) = (
        t.f64("mean")?,
        t.f64("min")?,
        t.f64("max")?,
        t.u32("count")?,
    );
    let mut out = Vec::with_capacity(t.height());
    for i in 0..t.height() {
        let (Some(mean), Some(min), Some(max)) = (mean[i], min[i], max[i]) else {
            continue;
        };
        out.push((
            key_cols.iter().map(|c| c[i]).collect(),
            Spread {
                mean,
                min,
                max,
                count: count[i].unwrap_or(0),
            },
        ));
    }
    Ok(out)
}

impl GradeFigures {
    pub fn compute(log: &Log, scope: Scope) -> Result<GradeFigures> {
        let averages = subject_averages(log, scope).cache();
        let general = general_averages(averages.clone(), log).cache();
        let frames = collect_all([
            averages.clone(),
            spread_by(averages.clone(), &["class", "period", "subject"], "average"),
            general.clone(),
            spread_by(general, &["class", "period"], "general"),
            profile_means(averages, log),
        ])?;
        let mut out = GradeFigures::default();
        let [averages, class_subject, general, general_class, profile] = frames;

        let t = Cols::new(&averages, "averages");
        let (c, p, s, u, a) = (
            t.ids("class")?,
            t.ids("period")?,
            t.ids("subject")?,
            t.ids("pupil")?,
            t.f64("average")?,
        );
        for i in 0..t.height() {
            if let Some(a) = a[i] {
                out.pupil_subject.insert((c[i], p[i], s[i], u[i]), a);
            }
        }
        for (k, spread) in collect_spreads(&class_subject, &["class", "period", "subject"])? {
            out.class_subject.insert((k[0], k[1], k[2]), spread);
        }
        let t = Cols::new(&general, "general");
        let (c, p, u, g) = (
            t.ids("class")?,
            t.ids("period")?,
            t.ids("pupil")?,
            t.f64("general")?,
        );
        for i in 0..t.height() {
            if let Some(g) = g[i] {
                out.general.insert((c[i], p[i], u[i]), g);
            }
        }
        for (k, spread) in collect_spreads(&general_class, &["class", "period"])? {
            out.general_class.insert((k[0], k[1]), spread);
        }
        let t = Cols::new(&profile, "profile");
        let (c, p, u, gm, vm) = (
            t.ids("class")?,
            t.ids("period")?,
            t.ids("pupil")?,
            t.f64("general_mean")?,
            t.f64("vocational_mean")?,
        );
        for i in 0..t.height() {
            out.profile.insert((c[i], p[i], u[i]), (gm[i], vm[i]));
        }
        Ok(out)
    }
}

/// Collects several lazy frames in one go (shared sub-plans are computed once).
pub(crate) fn collect_all<const N: usize>(frames: [LazyFrame; N]) -> Result<[DataFrame; N]> {
    let mut out = Vec::with_capacity(N);
    for f in frames {
        out.push(f.collect()?);
    }
    out.try_into()
        .map_err(|_| crate::error::AnalyticsError::Table {
            table: "collect",
            reason: "a frame went missing".into(),
        })
}

/// The gap (in points on /20) between the vocational and general means from which one side
/// is called strong; the same threshold the dashboards use.
pub const PROFILE_GAP: f64 = 3.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Balanced,
    VocationalStrong,
    GeneralStrong,
    /// One kind of subject has no average: nothing to compare.
    NotEnoughData,
}

/// The read-out from the two means (a gap within 1e-9 of the threshold is the threshold).
pub fn profile_of(general: Option<f64>, vocational: Option<f64>) -> Profile {
    match (general, vocational) {
        (Some(g), Some(v)) => {
            let gap = v - g;
            if gap >= PROFILE_GAP - 1e-9 {
                Profile::VocationalStrong
            } else if gap <= -PROFILE_GAP + 1e-9 {
                Profile::GeneralStrong
            } else {
                Profile::Balanced
            }
        }
        _ => Profile::NotEnoughData,
    }
}
