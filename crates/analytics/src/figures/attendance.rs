//! Absences and lateness per pupil and period, by polars: a record belongs to the period
//! that contains the UTC date it starts on; it is justified when a justification names it
//! (and its pupil).

use super::{cross, days, join_on, last_by_pos, lazy, Cols};
use crate::error::Result;
use crate::log::Log;
use polars::prelude::*;
use std::collections::HashMap;

/// Totals of a pupil's records in a period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttendanceFig {
    pub absences: u32,
    pub half_days: u32,
    pub half_days_justified: u32,
    pub half_days_unjustified: u32,
    pub lessons: u32,
    pub lessons_justified: u32,
    pub lessons_unjustified: u32,
    pub latenesses: u32,
    pub latenesses_justified: u32,
    pub latenesses_unjustified: u32,
    pub lateness_minutes: u32,
}

/// `[period, starts, ends]` in days, the latest definition of each period.
pub(crate) fn period_days(log: &Log) -> LazyFrame {
    lazy(&log.frames.periods)
        .group_by([col("period")])
        .agg([last_by_pos("starts_on"), last_by_pos("ends_on")])
        .select([
            col("period"),
            days(col("starts_on")).alias("starts"),
            days(col("ends_on")).alias("ends"),
        ])
}

/// `[record, pupil, day, absence, half_days, lessons, minutes, justified]`.
pub fn records(log: &Log) -> PolarsResult<LazyFrame> {
    let f = &log.frames;
    let absences = lazy(&f.absences).select([
        col("record"),
        col("pupil"),
        days(col("day")).alias("day"),
        lit(true).alias("absence"),
        col("half_days").cast(DataType::UInt32),
        col("lessons").cast(DataType::UInt32),
        lit(0u32).cast(DataType::UInt32).alias("minutes"),
    ]);
    let latenesses = lazy(&f.latenesses).select([
        col("record"),
        col("pupil"),
        days(col("day")).alias("day"),
        lit(false).alias("absence"),
        lit(0u32).cast(DataType::UInt32).alias("half_days"),
        lit(0u32).cast(DataType::UInt32).alias("lessons"),
        col("minutes").cast(DataType::UInt32),
    ]);
    let justified = lazy(&f.justifications)
        .select([col("record"), col("pupil")])
        .unique(None, UniqueKeepStrategy::First)
        .with_column(lit(true).alias("justified"));
    let all = concat([absences, latenesses], UnionArgs::default())?;
    Ok(
        join_on(all, justified, &["record", "pupil"], JoinType::Left)
            .with_column(col("justified").fill_null(lit(false))),
    )
}

/// Totals per (pupil, period), for every period whose dates contain a record, restricted
/// to `pupils` when given.
pub fn by_pupil_period(
    log: &Log,
    pupils: Option<&[u32]>,
) -> Result<HashMap<(u32, u32), AttendanceFig>> {
    let mut recs = records(log)?;
    if let Some(pupils) = pupils {
        let keep = DataFrame::new(
            pupils.len(),
            vec![Column::new("pupil".into(), pupils.to_vec())],
        )?;
        recs = recs.inner_join(keep.lazy(), col("pupil"), col("pupil"));
    }
    let j = col("justified");
    let sum_if = |value: Expr, cond: Expr| {
        when(cond)
            .then(value)
            .otherwise(lit(0u32))
            .cast(DataType::UInt32)
            .sum()
    };
    let df = cross(recs, period_days(log))
        .filter(
            col("day")
                .gt_eq(col("starts"))
                .and(col("day").lt_eq(col("ends"))),
        )
        .group_by([col("pupil"), col("period")])
        .agg([
            sum_if(lit(1u32), col("absence")).alias("absences"),
            col("half_days").sum().alias("half_days"),
            sum_if(col("half_days"), j.clone()).alias("half_days_justified"),
            sum_if(col("half_days"), j.clone().not()).alias("half_days_unjustified"),
            col("lessons").sum().alias("lessons"),
            sum_if(col("lessons"), j.clone()).alias("lessons_justified"),
            sum_if(col("lessons"), j.clone().not()).alias("lessons_unjustified"),
            sum_if(lit(1u32), col("absence").not()).alias("latenesses"),
            sum_if(lit(1u32), col("absence").not().and(j.clone())).alias("latenesses_justified"),
            sum_if(lit(1u32), col("absence").not().and(j.not())).alias("latenesses_unjustified"),
            col("minutes").sum().alias("lateness_minutes"),
        ])
        .collect()?;
    let t = Cols::new(&df, "attendance");
    let (pupil, period) = (t.ids("pupil")?, t.ids("period")?);
    let get = |name: &str| -> Result<Vec<u32>> {
        Ok(t.u32(name)?.into_iter().map(|v| v.unwrap_or(0)).collect())
    };
    let (a, h, hj, hu, l, lj, lu, n, nj, nu, m) = (
        get("absences")?,
        get("half_days")?,
        get("half_days_justified")?,
        get("half_days_unjustified")?,
        get("lessons")?,
        get("lessons_justified")?,
        get("lessons_unjustified")?,
        get("latenesses")?,
        get("latenesses_justified")?,
        get("latenesses_unjustified")?,
        get("lateness_minutes")?,
    );
    let mut out = HashMap::with_capacity(t.height());
    for i in 0..t.height() {
        out.insert(
            (pupil[i], period[i]),
            AttendanceFig {
                absences: a[i],
                half_days: h[i],
                half_days_justified: hj[i],
                half_days_unjustified: hu[i],
                lessons: l[i],
                lessons_justified: lj[i],
                lessons_unjustified: lu[i],
                latenesses: n[i],
                latenesses_justified: nj[i],
                latenesses_unjustified: nu[i],
                lateness_minutes: m[i],
            },
        );
    }
    Ok(out)
}
