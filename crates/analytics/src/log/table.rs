//! A column-wise builder for one flattened table: every event of a family appends one row,
//! cell by cell, in the order of the table's schema. The first two columns of every table
//! are the event's `pos` (global position) and `at` (`occurred_at`), so that any table can
//! be ordered as the log and cut *as of* an instant.

use crate::error::AnalyticsError;
use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A UUID, as its dense key (`UInt32`).
    Id,
    /// An optional UUID.
    OptId,
    Str,
    OptStr,
    U32,
    OptU32,
    I64,
    Bool,
    Date,
    Time,
}

enum Buf {
    U32(Vec<Option<u32>>),
    I64(Vec<i64>),
    Str(Vec<Option<String>>),
    Bool(Vec<bool>),
    Date(Vec<i32>),
    Time(Vec<i64>),
}

pub struct Table {
    name: &'static str,
    names: Vec<&'static str>,
    kinds: Vec<Kind>,
    pos: Vec<u64>,
    at: Vec<i64>,
    cols: Vec<Buf>,
    cursor: usize,
}

pub fn epoch_days(date: NaiveDate) -> i32 {
    (date - NaiveDate::default()).num_days() as i32
}

pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub const DATETIME: DataType = DataType::Datetime(TimeUnit::Milliseconds, None);

impl Table {
    pub fn new(name: &'static str, schema: &[(&'static str, Kind)]) -> Table {
        Table {
            name,
            names: schema.iter().map(|(n, _)| *n).collect(),
            kinds: schema.iter().map(|(_, k)| *k).collect(),
            pos: Vec::new(),
            at: Vec::new(),
            cols: schema
                .iter()
                .map(|(_, k)| match k {
                    Kind::Id | Kind::OptId | Kind::U32 | Kind::OptU32 => Buf::U32(Vec::new()),
                    Kind::I64 => Buf::I64(Vec::new()),
                    Kind::Str | Kind::OptStr => Buf::Str(Vec::new()),
                    Kind::Bool => Buf::Bool(Vec::new()),
                    Kind::Date => Buf::Date(Vec::new()),
                    Kind::Time => Buf::Time(Vec::new()),
                })
                .collect(),
            cursor: 0,
        }
    }

    /// Starts a row for the event at `pos` that occurred at `at`.
    pub fn row(&mut self, pos: u64, at: DateTime<Utc>) -> &mut Self {
        self.pos.push(pos);
        self.at.push(millis(at));
        self.cursor = 0;
        self
    }

    fn next(&mut self) -> Option<&mut Buf> {
        let buf = self.cols.get_mut(self.cursor);
        self.cursor += 1;
        buf
    }

    pub fn u32(&mut self, v: impl Into<Option<u32>>) -> &mut Self {
        if let Some(Buf::U32(b)) = self.next() {
            b.push(v.into());
        }
        self
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        if let Some(Buf::I64(b)) = self.next() {
            b.push(v);
        }
        self
    }

    pub fn str(&mut self, v: impl Into<String>) -> &mut Self {
        if let Some(Buf::Str(b)) = self.next() {
            b.push(Some(v.into()));
        }
        self
    }

    pub fn opt_str(&mut self, v: Option<&str>) -> &mut Self {
        if let Some(Buf::Str(b)) = self.next() {
            b.push(v.map(str::to_owned));
        }
        self
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        if let Some(Buf::Bool(b)) = self.next() {
            b.push(v);
        }
        self
    }

    pub fn date(&mut self, v: NaiveDate) -> &mut Self {
        if let Some(Buf::Date(b)) = self.next() {
            b.push(epoch_days(v));
        }
        self
    }

    pub fn time(&mut self, v: DateTime<Utc>) -> &mut Self {
        if let Some(Buf::Time(b)) = self.next() {
            b.push(millis(v));
        }
        self
    }

    /// The table as a `DataFrame`; a row left incomplete (a bug) is an error, not a panic.
    pub fn finish(self) -> Result<DataFrame, AnalyticsError> {
        let height = self.pos.len();
        let mut columns: Vec<Column> = Vec::with_capacity(self.cols.len() + 2);
        columns.push(Column::new("pos".into(), self.pos));
        columns.push(Series::new("at".into(), self.at).cast(&DATETIME)?.into());
        for ((name, kind), buf) in self.names.iter().zip(&self.kinds).zip(self.cols) {
            let name: PlSmallStr = (*name).into();
            let series = match buf {
                Buf::U32(v) => Series::new(name, v),
                Buf::I64(v) => Series::new(name, v),
                Buf::Str(v) => Series::new(name, v),
                Buf::Bool(v) => Series::new(name, v),
                Buf::Date(v) => Series::new(name, v).cast(&DataType::Date)?,
                Buf::Time(v) => Series::new(name, v).cast(&DATETIME)?,
            };
            if series.len() != height {
                return Err(AnalyticsError::Table {
                    table: self.name,
                    reason: format!(
                        "column {} ({kind:?}) has {} cells for {height} rows",
                        series.name(),
                        series.len()
                    ),
                });
            }
            columns.push(series.into());
        }
        Ok(DataFrame::new(height, columns)?)
    }
}
