//! Enrolment intervals from the placements: a pupil is in `class` from `from` (inclusive)
//! until `until` (exclusive; null while open). An enrolment or a transfer *to* a class opens
//! one; a transfer *from* the class, or a departure from it, closes the pupil's open one
//! there, on that date. Days are counted from 1970-01-01.

use super::{days, join_on, lazy, Cols};
use crate::error::Result;
use crate::log::Log;
use polars::prelude::*;
use std::collections::HashMap;

/// `[pupil, class, from, until, start_pos]`.
pub fn intervals(log: &Log) -> Result<LazyFrame> {
    let f = &log.frames;
    let registered = lazy(&f.pupils)
        .select([col("pupil")])
        .unique(None, UniqueKeepStrategy::First);
    let starts = lazy(&f.placements)
        .select([
            col("pupil"),
            col("class"),
            days(col("on")).alias("from"),
            col("pos").alias("start_pos"),
        ])
        .inner_join(registered, col("pupil"), col("pupil"));
    let transfers = lazy(&f.placements)
        .filter(col("from_class").is_not_null())
        .select([
            col("pupil"),
            col("from_class").alias("class"),
            days(col("on")).alias("end"),
            col("pos").alias("end_pos"),
        ]);
    let departures = lazy(&f.departures).select([
        col("pupil"),
        col("class"),
        days(col("on")).alias("end"),
        col("pos").alias("end_pos"),
    ]);
    let ends = concat([transfers, departures], UnionArgs::default())?;
    let closing = join_on(starts.clone(), ends, &["pupil", "class"], JoinType::Inner)
        .filter(col("end_pos").gt(col("start_pos")))
        .group_by([col("pupil"), col("class"), col("start_pos")])
        .agg([col("end")
            .sort_by([col("end_pos")], SortMultipleOptions::default())
            .first()
            .alias("until")]);
    Ok(join_on(
        starts,
        closing,
        &["pupil", "class", "start_pos"],
        JoinType::Left,
    )
    .select([
        col("pupil"),
        col("class"),
        col("from"),
        col("until"),
        col("start_pos"),
    ]))
}

/// Keeps the intervals that cover some day of `[from, to]` (days, both included).
pub fn overlapping(intervals: LazyFrame, from: Expr, to: Expr) -> LazyFrame {
    intervals.filter(
        col("from")
            .lt_eq(to)
            .and(col("until").is_null().or(from.lt(col("until")))),
    )
}

/// Whether an interval covers `day`.
pub fn covers(day: Expr) -> Expr {
    col("from")
        .lt_eq(day.clone())
        .and(col("until").is_null().or(day.lt(col("until"))))
}

/// The enrolments, collected: pupil → (class, from, until) in log order.
#[derive(Clone, Debug, Default)]
pub struct Enrolments {
    pub by_pupil: HashMap<u32, Vec<(u32, i64, Option<i64>)>>,
    /// class → pupils in the order they first joined it.
    pub members: HashMap<u32, Vec<u32>>,
}

impl Enrolments {
    pub fn of(log: &Log) -> Result<Enrolments> {
        let df = intervals(log)?
            .sort(["start_pos"], SortMultipleOptions::default())
            .collect()?;
        let t = Cols::new(&df, "enrolments");
        let (pupils, classes, froms, untils) = (
            t.ids("pupil")?,
            t.ids("class")?,
            t.i64("from")?,
            t.i64("until")?,
        );
        let mut out = Enrolments::default();
        for i in 0..t.height() {
            let from = froms[i].unwrap_or(i64::MAX);
            out.by_pupil
                .entry(pupils[i])
                .or_default()
                .push((classes[i], from, untils[i]));
            let members = out.members.entry(classes[i]).or_default();
            if !members.contains(&pupils[i]) {
                members.push(pupils[i]);
            }
        }
        Ok(out)
    }

    /// Pupils in `class` on some day of `[from, to]`, in the order they joined it.
    pub fn members_during(&self, class: u32, from: i64, to: i64) -> Vec<u32> {
        self.members
            .get(&class)
            .map(|pupils| {
                pupils
                    .iter()
                    .copied()
                    .filter(|p| {
                        self.by_pupil.get(p).is_some_and(|list| {
                            list.iter().any(|(c, f, u)| {
                                *c == class && *f <= to && u.is_none_or(|u| from < u)
                            })
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
