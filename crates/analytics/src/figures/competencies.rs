//! Competencies by polars: per pupil and component, the latest level assessed (the latest
//! `on` date, the later in the log among the same day; validations apart), optionally up to
//! a date (a period's last day, for the spider chart), and how many assessments and
//! validations there were.

use super::attendance::period_days;
use super::{cross, days, lazy, Cols};
use crate::error::Result;
use crate::log::Log;
use polars::prelude::*;
use std::collections::HashMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComponentFig {
    pub latest: Option<u32>,
    pub assessed: u32,
    pub validated: u32,
}

fn latest_level() -> Expr {
    col("level")
        .sort_by([col("on"), col("pos")], SortMultipleOptions::default())
        .last()
}

/// Per (pupil, framework, component), over the whole log.
pub fn by_component(log: &Log) -> Result<HashMap<(u32, u32, String), ComponentFig>> {
    let c = lazy(&log.frames.competencies);
    let df = c
        .group_by([col("pupil"), col("framework"), col("component")])
        .agg([
            col("validated")
                .not()
                .cast(DataType::UInt32)
                .sum()
                .alias("assessed"),
            col("validated")
                .cast(DataType::UInt32)
                .sum()
                .alias("validated"),
        ]);
    let latest = lazy(&log.frames.competencies)
        .filter(col("validated").not())
        .group_by([col("pupil"), col("framework"), col("component")])
        .agg([latest_level().alias("latest")]);
    let df = df
        .join(
            latest,
            [col("pupil"), col("framework"), col("component")],
            [col("pupil"), col("framework"), col("component")],
            JoinArgs::new(JoinType::Left),
        )
        .collect()?;
    let t = Cols::new(&df, "competencies");
    let (pupil, framework, component, latest, assessed, validated) = (
        t.ids("pupil")?,
        t.ids("framework")?,
        t.str("component")?,
        t.u32("latest")?,
        t.u32("assessed")?,
        t.u32("validated")?,
    );
    let mut out = HashMap::with_capacity(t.height());
    for i in 0..t.height() {
        out.insert(
            (
                pupil[i],
                framework[i],
                component[i].clone().unwrap_or_default(),
            ),
            ComponentFig {
                latest: latest[i],
                assessed: assessed[i].unwrap_or(0),
                validated: validated[i].unwrap_or(0),
            },
        );
    }
    Ok(out)
}

/// Per (pupil, period, component) of `framework`: the latest level assessed on or before
/// the period's last day.
pub fn levels_by_period(log: &Log, framework: u32) -> Result<HashMap<(u32, u32, String), u32>> {
    let assessed = lazy(&log.frames.competencies)
        .filter(
            col("validated")
                .not()
                .and(col("framework").eq(lit(framework))),
        )
        .with_column(days(col("on")).alias("on_day"));
    let df = cross(assessed, period_days(log))
        .filter(col("on_day").lt_eq(col("ends")))
        .group_by([col("pupil"), col("period"), col("component")])
        .agg([latest_level().alias("level")])
        .collect()?;
    let t = Cols::new(&df, "levels");
    let (pupil, period, component, level) = (
        t.ids("pupil")?,
        t.ids("period")?,
        t.str("component")?,
        t.u32("level")?,
    );
    let mut out = HashMap::with_capacity(t.height());
    for i in 0..t.height() {
        if let Some(level) = level[i] {
            out.insert(
                (
                    pupil[i],
                    period[i],
                    component[i].clone().unwrap_or_default(),
                ),
                level,
            );
        }
    }
    Ok(out)
}
