//! The conseil de classe report: a French HTML page to print and a CSV of the per-pupil
//! figures, both from polars over the log as it stood at the requested instant.

mod csv;
pub mod data;
pub use suivi_present::format;
mod html;
pub mod names;
pub mod risk;

pub use data::{ConseilData, ConseilRequest, PupilSheet, SubjectLine};
pub use names::{pupil_names, PupilNames, ERASED};

use crate::error::Result;
use crate::figures::catalog::Catalog;
use crate::figures::enrolments::Enrolments;
use crate::log::Log;
use suivi_domain::ids::PupilId;
use suivi_store::EventStore;

/// The rendered report, and the figures it shows.
#[derive(Clone, Debug)]
pub struct Report {
    pub html: String,
    pub csv: String,
    pub data: ConseilData,
}

impl Report {
    /// `conseil-<class>-<period>` with the names made safe for a file name.
    pub fn file_stem(&self) -> String {
        let safe = |s: &str| {
            s.chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        };
        format!(
            "conseil-{}-{}",
            safe(&self.data.class_name),
            safe(&self.data.period_name)
        )
    }
}

fn cut(log: &Log, req: &ConseilRequest) -> Result<Option<Log>> {
    req.as_of.map(|t| log.as_of(t)).transpose()
}

/// The pupils of the class during the period (whose names the report needs).
pub fn report_pupils(log: &Log, req: &ConseilRequest) -> Result<Vec<PupilId>> {
    let cut = cut(log, req)?;
    let log = cut.as_ref().unwrap_or(log);
    let r = data::resolve(log, &Catalog::of(log)?, &Enrolments::of(log)?, req)?;
    Ok(r.pupils.into_iter().map(|u| log.pupil_id(u)).collect())
}

/// Computes and renders the report. `names` holds the pupils' opened names (a pupil
/// missing from it shows as erased).
pub fn conseil_report(log: &Log, req: &ConseilRequest, names: &PupilNames) -> Result<Report> {
    let started = std::time::Instant::now();
    let cut = cut(log, req)?;
    let data = data::gather(cut.as_ref().unwrap_or(log), req, names)?;
    let report = Report {
        html: html::render(&data),
        csv: csv::render(&data),
        data,
    };
    tracing::info!(
        class = %report.data.class_id,
        period = %report.data.period_id,
        pupils = report.data.pupils.len(),
        ms = started.elapsed().as_millis() as u64,
        "conseil de classe report computed"
    );
    Ok(report)
}

/// Reads the log, opens the class's names with their keys, and renders the report.
pub async fn conseil_report_from_store(
    store: &dyn EventStore,
    req: &ConseilRequest,
) -> Result<Report> {
    let log = crate::log::load_log(store).await?;
    let pupils = report_pupils(&log, req)?;
    let names = pupil_names(store, &log, &pupils).await?;
    conseil_report(&log, req, &names)
}
