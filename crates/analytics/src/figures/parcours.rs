//! Parcours progress by polars: per pupil, the steps completed (a step counts from its first
//! completion), the time on them (from the latest start before the completion, capped at 30
//! minutes), when they finished, the latest progress (a start or a first completion), and
//! the failures on the step they are on (the first one not completed).

use super::{join_on, lazy, Cols};
use crate::error::Result;
use crate::log::Log;
use polars::prelude::*;
use std::collections::HashMap;

/// Time on one step counts at most this long, as on the live board.
pub const STEP_CAP_MS: i64 = 30 * 60 * 1000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgressFig {
    pub started: bool,
    pub steps_done: u32,
    pub steps_total: u32,
    pub time_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub last_progress_ms: Option<i64>,
    pub failures_on_current: u32,
}

/// Per (parcours, pupil) with any step event.
pub fn by_pupil(log: &Log) -> Result<HashMap<(u32, u32), ProgressFig>> {
    let f = &log.frames;
    let parcours = lazy(&f.parcours)
        .select([col("parcours"), col("step_count")])
        .unique(None, UniqueKeepStrategy::First);
    let steps = lazy(&f.parcours_steps).select([col("parcours"), col("step"), col("number")]);
    let events = join_on(
        lazy(&f.step_events),
        steps.clone(),
        &["parcours", "step"],
        JoinType::Inner,
    )
    .inner_join(parcours.clone(), col("parcours"), col("parcours"))
    .with_column(col("step_at").cast(DataType::Int64).alias("t"))
    .cache();
    let key3 = ["parcours", "pupil", "step"];
    let completions = events
        .clone()
        .filter(col("kind").eq(lit("completed")))
        .group_by([col("parcours"), col("pupil"), col("step")])
        .agg([
            col("pos").min().alias("done_pos"),
            col("t")
                .sort_by([col("pos")], SortMultipleOptions::default())
                .first()
                .alias("done_t"),
            col("number").first(),
        ])
        .cache();
    let starts = events
        .clone()
        .filter(col("kind").eq(lit("started")))
        .select([
            col("parcours"),
            col("pupil"),
            col("step"),
            col("pos").alias("start_pos"),
            col("t").alias("start_t"),
        ]);
    let spent = join_on(completions.clone(), starts.clone(), &key3, JoinType::Inner)
        .filter(col("start_pos").lt(col("done_pos")))
        .group_by([col("parcours"), col("pupil"), col("step")])
        .agg([col("start_t")
            .sort_by([col("start_pos")], SortMultipleOptions::default())
            .last()]);
    let spent = join_on(completions.clone(), spent, &key3, JoinType::Left)
        .with_column((col("done_t") - col("start_t")).alias("d"))
        .with_column(
            when(col("d").is_null().or(col("d").lt(lit(0i64))))
                .then(lit(0i64))
                .when(col("d").gt(lit(STEP_CAP_MS)))
                .then(lit(STEP_CAP_MS))
                .otherwise(col("d"))
                .alias("spent"),
        );
    let done = spent.group_by([col("parcours"), col("pupil")]).agg([
        len().alias("steps_done"),
        col("spent").sum().alias("time_ms"),
        col("done_t")
            .sort_by([col("done_pos")], SortMultipleOptions::default())
            .last()
            .alias("last_done_t"),
        col("done_t").max().alias("max_done_t"),
    ]);
    let pupils = events
        .clone()
        .group_by([col("parcours"), col("pupil")])
        .agg([
            col("kind")
                .eq(lit("started"))
                .cast(DataType::UInt32)
                .sum()
                .alias("starts"),
            col("t")
                .filter(col("kind").eq(lit("started")))
                .max()
                .alias("max_start_t"),
            col("step_count").first(),
        ]);
    // The current step: the first of the parcours's steps not completed.
    let not_done = join_on(
        pupils
            .clone()
            .select([col("parcours"), col("pupil")])
            .inner_join(steps, col("parcours"), col("parcours")),
        completions.select([
            col("parcours"),
            col("pupil"),
            col("step"),
            lit(true).alias("done"),
        ]),
        &key3,
        JoinType::Left,
    )
    .filter(col("done").is_null());
    let current = not_done
        .group_by([col("parcours"), col("pupil")])
        .agg([col("step")
            .sort_by([col("number")], SortMultipleOptions::default())
            .first()
            .alias("current")]);
    let failures = events
        .filter(col("kind").eq(lit("failed")))
        .group_by([col("parcours"), col("pupil"), col("step")])
        .agg([len().alias("failures")]);
    let current = join_on(
        current.with_column(col("current").alias("step")),
        failures,
        &key3,
        JoinType::Left,
    );
    let df = join_on(
        join_on(pupils, done, &["parcours", "pupil"], JoinType::Left),
        current,
        &["parcours", "pupil"],
        JoinType::Left,
    )
    .collect()?;
    let t = Cols::new(&df, "parcours");
    let (parcours, pupil, starts, total) = (
        t.ids("parcours")?,
        t.ids("pupil")?,
        t.u32("starts")?,
        t.u32("step_count")?,
    );
    let (done, time, last_done, max_done, max_start, failures) = (
        t.u32("steps_done")?,
        t.i64("time_ms")?,
        t.i64("last_done_t")?,
        t.i64("max_done_t")?,
        t.i64("max_start_t")?,
        t.u32("failures")?,
    );
    let mut out = HashMap::with_capacity(t.height());
    for i in 0..t.height() {
        let steps_done = done[i].unwrap_or(0);
        let steps_total = total[i].unwrap_or(0);
        let finished = steps_total > 0 && steps_done >= steps_total;
        out.insert(
            (parcours[i], pupil[i]),
            ProgressFig {
                started: starts[i].unwrap_or(0) > 0,
                steps_done,
                steps_total,
                time_ms: time[i].unwrap_or(0),
                finished_at_ms: if finished { last_done[i] } else { None },
                last_progress_ms: match (max_start[i], max_done[i]) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                },
                failures_on_current: if finished {
                    0
                } else {
                    failures[i].unwrap_or(0)
                },
            },
        );
    }
    Ok(out)
}
