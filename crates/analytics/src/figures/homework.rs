//! Homework status by polars: the first deposit in log order decides (on time when made by
//! the due time, late after); without a deposit a pupil is missing once the due time has
//! passed and pending before. Who is expected: a pupil enrolled in the class on the due
//! date (on `now`'s date while the due time is ahead), and anyone who deposited.

use super::attendance::period_days;
use super::enrolments::{covers, intervals};
use super::{cross, day_of, first_by_pos, join_on, lazy, Cols};
use crate::error::Result;
use crate::log::Log;
use chrono::{DateTime, Utc};
use polars::prelude::*;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HomeworkFig {
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
    pub pending: u32,
}

impl HomeworkFig {
    fn add(&mut self, status: &str) {
        match status {
            "on_time" => self.on_time += 1,
            "late" => self.late += 1,
            "missing" => self.missing += 1,
            _ => self.pending += 1,
        }
    }

    pub fn expected(&self) -> u32 {
        self.on_time + self.late + self.missing + self.pending
    }
}

/// `[homework, class, subject, due_ms, day]`: `day` decides who is expected.
fn assignments(log: &Log, now_ms: i64) -> LazyFrame {
    lazy(&log.frames.homework)
        .group_by([col("homework")])
        .agg([
            first_by_pos("class"),
            first_by_pos("subject"),
            first_by_pos("due_at"),
        ])
        .select([
            col("homework"),
            col("class"),
            col("subject"),
            col("due_at").cast(DataType::Int64).alias("due_ms"),
        ])
        .with_column(
            day_of(
                when(col("due_ms").lt(lit(now_ms)))
                    .then(col("due_ms"))
                    .otherwise(lit(now_ms)),
            )
            .alias("day"),
        )
}

/// `[homework, pupil, first_ms]`: each pupil's first deposit.
fn first_deposits(log: &Log) -> LazyFrame {
    lazy(&log.frames.deposits)
        .group_by([col("homework"), col("pupil")])
        .agg([first_by_pos("deposited_at")])
        .select([
            col("homework"),
            col("pupil"),
            col("deposited_at").cast(DataType::Int64).alias("first_ms"),
        ])
}

fn status(now_ms: i64) -> Expr {
    when(
        col("first_ms")
            .is_not_null()
            .and(col("first_ms").lt_eq(col("due_ms"))),
    )
    .then(lit("on_time"))
    .when(col("first_ms").is_not_null())
    .then(lit("late"))
    .when(lit(now_ms).gt(col("due_ms")))
    .then(lit("missing"))
    .otherwise(lit("pending"))
    .alias("status")
}

/// `[pupil, homework, class, subject, due_ms, status]`: every homework of every class a
/// pupil has been in, that they were expected to hand in or deposited.
pub fn pupil_lines(log: &Log, now: DateTime<Utc>) -> Result<LazyFrame> {
    let now_ms = now.timestamp_millis();
    let enrolments = intervals(log)?.cache();
    let rows = enrolments
        .clone()
        .select([col("pupil"), col("class")])
        .unique(None, UniqueKeepStrategy::First)
        .inner_join(assignments(log, now_ms), col("class"), col("class"));
    let covered = join_on(
        rows.clone(),
        enrolments,
        &["pupil", "class"],
        JoinType::Inner,
    )
    .filter(covers(col("day")))
    .select([col("pupil"), col("homework")])
    .unique(None, UniqueKeepStrategy::First)
    .with_column(lit(true).alias("covered"));
    let rows = join_on(
        rows,
        first_deposits(log),
        &["homework", "pupil"],
        JoinType::Left,
    );
    Ok(
        join_on(rows, covered, &["pupil", "homework"], JoinType::Left)
            .filter(
                col("first_ms")
                    .is_not_null()
                    .or(col("covered").fill_null(lit(false))),
            )
            .select([
                col("pupil"),
                col("homework"),
                col("class"),
                col("subject"),
                col("due_ms"),
                status(now_ms),
            ]),
    )
}

/// Counts by status per (pupil, period) of the homework due in the period.
pub fn by_pupil_period(log: &Log, now: DateTime<Utc>) -> Result<HashMap<(u32, u32), HomeworkFig>> {
    let df = cross(pupil_lines(log, now)?, period_days(log))
        .with_column(day_of(col("due_ms")).alias("due_day"))
        .filter(
            col("due_day")
                .gt_eq(col("starts"))
                .and(col("due_day").lt_eq(col("ends"))),
        )
        .group_by([col("pupil"), col("period"), col("status")])
        .agg([len().alias("n")])
        .collect()?;
    let t = Cols::new(&df, "homework");
    let (pupil, period, status, n) = (
        t.ids("pupil")?,
        t.ids("period")?,
        t.str("status")?,
        t.u32("n")?,
    );
    let mut out: HashMap<(u32, u32), HomeworkFig> = HashMap::new();
    for i in 0..t.height() {
        let fig = out.entry((pupil[i], period[i])).or_default();
        for _ in 0..n[i].unwrap_or(0) {
            fig.add(status[i].as_deref().unwrap_or_default());
        }
    }
    Ok(out)
}

/// Counts by status per homework, over the pupils expected (the roster on the due date, or
/// on `now`'s date while it is ahead) and those who deposited.
pub fn by_homework(log: &Log, now: DateTime<Utc>) -> Result<HashMap<u32, HomeworkFig>> {
    let now_ms = now.timestamp_millis();
    let hw = assignments(log, now_ms).cache();
    let roster = hw
        .clone()
        .inner_join(intervals(log)?, col("class"), col("class"))
        .filter(covers(col("day")))
        .select([col("homework"), col("pupil")]);
    let depositors = lazy(&log.frames.deposits).select([col("homework"), col("pupil")]);
    let expected = concat([roster, depositors], UnionArgs::default())?
        .unique(None, UniqueKeepStrategy::First)
        .inner_join(hw, col("homework"), col("homework"));
    let df = join_on(
        expected,
        first_deposits(log),
        &["homework", "pupil"],
        JoinType::Left,
    )
    .with_column(status(now_ms))
    .group_by([col("homework"), col("status")])
    .agg([len().alias("n")])
    .collect()?;
    let t = Cols::new(&df, "homework");
    let (homework, status, n) = (t.ids("homework")?, t.str("status")?, t.u32("n")?);
    let mut out: HashMap<u32, HomeworkFig> = HashMap::new();
    for i in 0..t.height() {
        let fig = out.entry(homework[i]).or_default();
        for _ in 0..n[i].unwrap_or(0) {
            fig.add(status[i].as_deref().unwrap_or_default());
        }
    }
    Ok(out)
}
