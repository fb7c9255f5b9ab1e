//! `suivi export --format parquet|csv`: the events flattened per family and the main read
//! models, as typed tables that pandas and polars read.
//!
//! Ids are written as UUID strings, except pupils': by default a pupil is a stable
//! pseudonym (`pseudonym`), free text that may identify someone (justification reasons,
//! deposited file names, correction reasons) is left out, and so are the pupils' external
//! ids and the guardians. With names (an administrator's explicit choice) the pupil's UUID,
//! external id and "NOM Prénom" are written instead.

mod models;
pub mod pseudonym;

use crate::error::{AnalyticsError, Result};
use crate::log::Log;
use crate::report::names::{PupilNames, ERASED};
use chrono::{DateTime, Utc};
use polars::prelude::*;
use pseudonym::Pseudonymiser;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Parquet,
    Csv,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "parquet" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "unknown export format {other:?}: expected parquet or csv"
            )),
        }
    }
}

/// How pupils appear in the export.
pub enum Identities<'a> {
    /// A keyed pseudonym per pupil (the default).
    Pseudonymised { key: &'a [u8] },
    /// UUID, external id and name: for an administrator only.
    Named(&'a PupilNames),
}

#[derive(Clone, Debug)]
pub struct ExportedTable {
    pub name: &'static str,
    pub rows: usize,
    pub path: PathBuf,
}

/// Columns holding ids other than pupils'.
const ID_COLUMNS: &[&str] = &[
    "school",
    "year",
    "period",
    "subject",
    "class",
    "from_class",
    "teacher",
    "guardian",
    "assessment",
    "record",
    "homework",
    "quiz",
    "question",
    "attempt",
    "framework",
    "parcours",
    "step",
    "session",
];
/// Free text that may carry personal data: never in a pseudonymised export.
const FREE_TEXT: &[&str] = &["reason", "file_name"];
/// Tables that identify pupils or their families: only in a named export.
const IDENTIFYING: &[&str] = &["pupils", "guardians"];

fn strings(df: &DataFrame, name: &str, f: impl Fn(u32) -> String) -> Result<Column> {
    let keys = df.column(name)?.cast(&DataType::UInt32)?;
    let values: Vec<Option<String>> = keys.u32()?.iter().map(|k| k.map(&f)).collect();
    Ok(Column::new(name.into(), values))
}

fn externalise(
    df: &DataFrame,
    log: &Log,
    who: &Identities,
    pseudo: &Option<Pseudonymiser>,
) -> Result<DataFrame> {
    let mut columns: Vec<Column> = Vec::with_capacity(df.width() + 2);
    for column in df.columns() {
        let name = column.name().as_str();
        if name == "pupil" {
            match (who, pseudo) {
                (Identities::Named(names), _) => {
                    columns.push(strings(df, name, |k| log.ids.uuid(k).to_string())?);
                    columns.push(
                        strings(df, name, |k| {
                            names
                                .get(&log.pupil_id(k))
                                .cloned()
                                .unwrap_or_else(|| ERASED.to_owned())
                        })?
                        .with_name("pupil_name".into()),
                    );
                }
                (_, Some(p)) => columns.push(strings(df, name, |k| p.pseudonym(&log.ids.uuid(k)))?),
                (_, None) => {}
            }
        } else if ID_COLUMNS.contains(&name) {
            columns.push(strings(df, name, |k| log.ids.uuid(k).to_string())?);
        } else if FREE_TEXT.contains(&name) && matches!(who, Identities::Pseudonymised { .. }) {
            continue;
        } else {
            columns.push(column.clone());
        }
    }
    Ok(DataFrame::new(df.height(), columns)?)
}

fn write(df: &mut DataFrame, path: &Path, format: Format) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| AnalyticsError::io(path, e))?;
    match format {
        Format::Parquet => {
            ParquetWriter::new(file).finish(df)?;
        }
        Format::Csv => CsvWriter::new(file).include_header(true).finish(df)?,
    }
    Ok(())
}

/// Writes every table into `out_dir` as `<table>.<parquet|csv>`. `now` is when homework
/// status is judged.
pub fn export(
    log: &Log,
    format: Format,
    out_dir: &Path,
    who: Identities,
    now: DateTime<Utc>,
) -> Result<Vec<ExportedTable>> {
    std::fs::create_dir_all(out_dir).map_err(|e| AnalyticsError::io(out_dir, e))?;
    let pseudo = match &who {
        Identities::Pseudonymised { key } => Some(Pseudonymiser::new(key)),
        Identities::Named(_) => None,
    };
    let mut tables: Vec<(&'static str, DataFrame)> = log
        .frames
        .tables()
        .into_iter()
        .filter(|(name, _)| matches!(who, Identities::Named(_)) || !IDENTIFYING.contains(name))
        .map(|(name, df)| (name, df.clone()))
        .collect();
    tables.extend(models::tables(log, now)?);
    let mut written = Vec::with_capacity(tables.len());
    for (name, df) in tables {
        let mut out = externalise(&df, log, &who, &pseudo)?;
        let path = out_dir.join(format!("{name}.{}", format.extension()));
        write(&mut out, &path, format)?;
        written.push(ExportedTable {
            name,
            rows: out.height(),
            path,
        });
    }
    tracing::info!(
        tables = written.len(),
        format = format.extension(),
        named = matches!(who, Identities::Named(_)),
        "export written"
    );
    Ok(written)
}
