//! Batch analytics over the log, with polars: the conseil de classe report, exports, and the
//! cross-check of the incremental projections. The only crate of the workspace that
//! depends on polars (and is not a default member), so the rest builds fast.
//!
//! - `log`: the log read once from the store (`load_log`) and flattened into one polars
//!   table per family of events, with typed columns (`Log`, `Frames`); `Log::as_of` cuts it
//!   at an instant as the projections' *as of* views do;
//! - `figures`: every figure the dashboards serve, recomputed by polars lazy frames from
//!   those tables — independently of the folds, from the rules as schools state them;
//! - `report`: the conseil de classe page (HTML with an SVG spider chart) and CSV;
//! - `export`: the tables and the main read models as Parquet or CSV, pupils pseudonymised
//!   unless an administrator asks for names;
//! - `check`: the figures compared with `suivi_projections::ReadModels`, difference by
//!   difference.
//!
//! Polars runs its own thread pool and, inside a Tokio runtime, blocks with
//! `block_in_place`: call the computing functions outside a runtime, from a multi-threaded
//! runtime, or in `spawn_blocking` — never from a current-thread runtime.
//! Tracing carries ids and counts, never a name or a grade.

pub mod check;
pub mod error;
pub mod export;
pub mod figures;
pub mod log;
pub mod report;

pub use check::{check, check_store, CheckReport, CheckTimings, Difference};
pub use error::{AnalyticsError, Result};
pub use export::{export, Format, Identities};
pub use log::{load_log, Log, LogBuilder};
pub use report::{conseil_report, conseil_report_from_store, ConseilRequest, Report};
