//! What can go wrong in a batch run, with the value that was wrong.

use suivi_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("reading the log: {0}")]
    Store(#[from] StoreError),
    #[error("batch computation failed: {0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("no class named {name:?}; the classes are: {known}")]
    UnknownClass { name: String, known: String },
    #[error("no period named {name:?} for class {class}; its periods are: {known}")]
    UnknownPeriod {
        name: String,
        class: String,
        known: String,
    },
    #[error("writing {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("the flattened table {table} is malformed: {reason}")]
    Table { table: &'static str, reason: String },
}

pub type Result<T, E = AnalyticsError> = std::result::Result<T, E>;

impl AnalyticsError {
    pub(crate) fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        AnalyticsError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}
