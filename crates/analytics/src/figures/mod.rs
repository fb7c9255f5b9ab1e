//! The figures the dashboards serve, recomputed by polars from the flattened log.
//!
//! Each module turns tables into a lazy frame of figures and collects it into plain maps
//! keyed by the tables' dense ids; the report and the cross-check read those maps.
//! Figures are `f64` here (polars' native type); they are rounded to hundredths, half away
//! from zero, only when shown or compared (see `hundredths`).

pub mod attendance;
pub mod catalog;
pub mod competencies;
pub mod enrolments;
pub mod grades;
pub mod homework;
pub mod parcours;
pub mod qcm;

use crate::error::{AnalyticsError, Result};
use polars::prelude::*;

pub const DAY_MS: i64 = 86_400_000;

/// A frame of the log as a lazy frame.
pub(crate) fn lazy(df: &DataFrame) -> LazyFrame {
    df.clone().lazy()
}

/// An instant (a `Datetime`, or milliseconds as `Int64`) as whole UTC days since
/// 1970-01-01 (`Int64`). Through the `Date` cast: integer floor division needs a polars
/// feature this crate does not build.
pub(crate) fn day_of(instant: Expr) -> Expr {
    days(
        instant
            .cast(DataType::Int64)
            .cast(crate::log::DATETIME)
            .cast(DataType::Date),
    )
}

/// A date column as days since 1970-01-01 (`Int64`).
pub(crate) fn days(date: Expr) -> Expr {
    date.cast(DataType::Int32).cast(DataType::Int64)
}

/// The value of `value` on the last row of a group in log order.
pub(crate) fn last_by_pos(value: &str) -> Expr {
    col(value)
        .sort_by([col("pos")], SortMultipleOptions::default())
        .last()
}

/// The value of `value` on the first row of a group in log order.
pub(crate) fn first_by_pos(value: &str) -> Expr {
    col(value)
        .sort_by([col("pos")], SortMultipleOptions::default())
        .first()
}

/// Joins `right` to every row of `left` (a Cartesian product, through a constant key:
/// polars' `cross_join` feature is not built).
pub(crate) fn cross(left: LazyFrame, right: LazyFrame) -> LazyFrame {
    left.with_column(lit(1u8).alias("__k"))
        .inner_join(
            right.with_column(lit(1u8).alias("__k")),
            col("__k"),
            col("__k"),
        )
        .drop(cols(["__k"]))
}

pub(crate) fn join_on(left: LazyFrame, right: LazyFrame, on: &[&str], how: JoinType) -> LazyFrame {
    let keys: Vec<Expr> = on.iter().map(|c| col(*c)).collect();
    left.join(right, keys.clone(), keys, JoinArgs::new(how))
}

/// Rounds to hundredths, half away from zero. Figures are exact fractions with small
/// denominators computed in `f64`: a value within 1e-9 hundredth of a half is that half
/// (12.345 may come out of a division as 12.3449999…; the projections, which keep exact
/// fractions, round it up to 12.35, and so does this). The one rounding the pages and
/// the report show too.
pub use suivi_present::format::hundredths;

/// Typed access to a collected column.
pub(crate) struct Cols<'a> {
    df: &'a DataFrame,
    table: &'static str,
}

impl<'a> Cols<'a> {
    pub(crate) fn new(df: &'a DataFrame, table: &'static str) -> Self {
        Cols { df, table }
    }

    fn column(&self, name: &str) -> Result<&'a Column> {
        self.df.column(name).map_err(|e| AnalyticsError::Table {
            table: self.table,
            reason: e.to_string(),
        })
    }

    pub(crate) fn u32(&self, name: &str) -> Result<Vec<Option<u32>>> {
        let s = self.column(name)?.cast(&DataType::UInt32)?;
        Ok(s.u32()?.iter().collect())
    }

    pub(crate) fn ids(&self, name: &str) -> Result<Vec<u32>> {
        Ok(self
            .u32(name)?
            .into_iter()
            .map(|v| v.unwrap_or(u32::MAX))
            .collect())
    }

    pub(crate) fn i64(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let s = self.column(name)?.cast(&DataType::Int64)?;
        Ok(s.i64()?.iter().collect())
    }

    pub(crate) fn f64(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let s = self.column(name)?.cast(&DataType::Float64)?;
        Ok(s.f64()?.iter().collect())
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Vec<Option<bool>>> {
        let s = self.column(name)?.cast(&DataType::Boolean)?;
        Ok(s.bool()?.iter().collect())
    }

    pub(crate) fn str(&self, name: &str) -> Result<Vec<Option<String>>> {
        let s = self.column(name)?.cast(&DataType::String)?;
        Ok(s.str()?.iter().map(|v| v.map(str::to_owned)).collect())
    }

    pub(crate) fn height(&self) -> usize {
        self.df.height()
    }
}

/// Mean, lowest, highest and count of a set of pupils' figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub count: u32,
}

impl Cols<'_> {
    pub(crate) fn date(&self, name: &str) -> Result<Vec<Option<chrono::NaiveDate>>> {
        let s = self.column(name)?.cast(&DataType::Int32)?;
        Ok(s.i32()?
            .iter()
            .map(|d| d.and_then(from_epoch_days))
            .collect())
    }
}

pub fn from_epoch_days(days: i32) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::default().checked_add_signed(chrono::Duration::days(i64::from(days)))
}

#[cfg(test)]
mod tests {
    use super::hundredths;

    #[test]
    fn rounds_half_away_from_zero_despite_binary_fractions() {
        assert_eq!(hundredths(12.345), 1235);
        assert_eq!(hundredths((12.34 + 12.35) / 2.0), 1235);
        assert_eq!(hundredths(12.344), 1234);
        assert_eq!(hundredths(37.0 / 3.0), 1233);
        assert_eq!(hundredths(-0.125), -13);
        assert_eq!(hundredths(20.0), 2000);
    }
}
