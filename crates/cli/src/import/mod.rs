//! `suivi import`: event files (JSON Lines of envelopes or commands), grade exports (CSV
//! from a vie scolaire software), rosters (SIECLE, STSWeb) and results (Moodle quiz
//! reports, Pix Orga) into the log, through the command gateway.
//!
//! A file is all or nothing: every line is read and validated against the domain first, all
//! the bad ones are reported with their line number and reason, and nothing of the file is
//! written if any is bad — unless `skip_bad`, which writes the good lines and lists the
//! others. Re-importing is idempotent: envelopes already in the log (same id, same content)
//! and grades already recorded (same pupil, assessment and grade) are counted as already
//! present and not written again.

mod catalog;
mod csv_grades;
mod csv_table;
mod grades;
mod grades_plan;
mod jsonl;
mod keys;
mod moodle_quiz;
mod moodle_report;
pub(crate) use suivi_present::paris;
mod pix_orga;
mod planner;
mod roster_diff;
mod siecle;
mod sts;
mod write;
mod xml;

pub use catalog::Catalog;
pub use csv_table::Table;
pub use grades_plan::derived_id;

/// A CSV read as a header and trimmed rows (`,`, `;` or tab, whichever the header has).
pub fn read_table(bytes: &[u8]) -> Result<Table, LineError> {
    csv_table::read(bytes, None)
}
pub use keys::{is_keys_file, load_keys, KeysReport, KEYS_FILE_GIVEN};

use crate::progress;
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::Path;
use suivi_projections::gateway::{BatchError, CommandError, Executed, Gateway};

#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Write the good lines of a file that has bad ones (default: write nothing of it).
    pub skip_bad: bool,
    /// Name of the school a grades CSV registers when the store has none.
    pub school_name: String,
    /// Show progress bars (only ever drawn when stderr is a terminal).
    pub progress: bool,
    /// Plan and report what would change, write nothing (roster and results exports).
    pub dry_run: bool,
    /// Moodle quiz reports: the quiz's title, the class it is for, the subject, and whether
    /// unknown pupils are registered in the class.
    pub quiz: Option<String>,
    pub class: Option<String>,
    pub subject: Option<String>,
    pub create_missing: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            skip_bad: false,
            school_name: "Établissement".into(),
            progress: false,
            dry_run: false,
            quiz: None,
            class: None,
            subject: None,
            create_missing: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    GradesCsv,
    /// SIECLE's pupil export (`BEE_ELEVES`).
    Siecle,
    /// STSWeb's staff and timetable export (`STS_EDT`).
    Sts,
    /// A Moodle quiz's Grades or Responses report (CSV).
    MoodleQuiz,
    /// A Pix Orga campaign's profiles collection export (CSV).
    PixOrga,
}

impl Format {
    /// The names `suivi import --format` takes (a contract: scripts use them).
    pub const NAMES: &'static [(&'static str, Format)] = &[
        ("jsonl", Format::Jsonl),
        ("grades-csv", Format::GradesCsv),
        ("siecle", Format::Siecle),
        ("sts", Format::Sts),
        ("moodle-quiz", Format::MoodleQuiz),
        ("pix-orga", Format::PixOrga),
    ];

    pub fn from_name(name: &str) -> Option<Format> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Jsonl => "JSON Lines",
            Format::GradesCsv => "grades CSV",
            Format::Siecle => "SIECLE",
            Format::Sts => "STSWeb",
            Format::MoodleQuiz => "Moodle quiz",
            Format::PixOrga => "Pix Orga",
        })
    }
}

/// A bad line: its 1-based number in the file and why it was refused.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineError {
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What importing one file did.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub name: String,
    pub format: Format,
    /// Lines holding data (header and blank lines excluded).
    pub lines: usize,
    pub events_written: usize,
    pub by_type: BTreeMap<&'static str, usize>,
    /// Lines already in the log (an envelope with the same id, a grade already recorded).
    pub already_present: usize,
    /// Bad lines, in line order: skipped under `skip_bad`, otherwise why nothing was written.
    pub errors: Vec<LineError>,
    /// Whether the file's good lines were written.
    pub written: bool,
    /// Global position of the last event written.
    pub last_position: u64,
    /// What the file changes, one line each, ids and codes only (roster and results
    /// exports; printed by `--dry-run`).
    pub changes: Vec<String>,
    /// Planned only (`--dry-run`): `by_type` counts the events it would write.
    pub dry_run: bool,
}

impl FileReport {
    fn new(name: &str, format: Format) -> Self {
        FileReport {
            name: name.to_owned(),
            format,
            lines: 0,
            events_written: 0,
            by_type: BTreeMap::new(),
            already_present: 0,
            errors: Vec::new(),
            written: false,
            last_position: 0,
            changes: Vec::new(),
            dry_run: false,
        }
    }

    /// Refused: bad lines and nothing written.
    pub fn refused(&self) -> bool {
        !self.errors.is_empty() && !self.written
    }

    fn record(&mut self, executed: &Executed) {
        self.written = true;
        self.events_written = executed.events.len();
        self.last_position = executed.last_position;
        for event in &executed.events {
            *self.by_type.entry(event.event_type()).or_default() += 1;
        }
    }

    /// The summary printed at the end of an import (no personal data: counts and reasons).
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} ({}): {} line(s), {} event(s) written",
            self.name, self.format, self.lines, self.events_written
        );
        if self.already_present > 0 {
            out += &format!(", {} already present", self.already_present);
        }
        if self.dry_run {
            out += &format!(
                ", dry run: {} change(s), nothing written; it would write",
                self.changes.len()
            );
        }
        if !self.errors.is_empty() {
            if self.written {
                out += &format!(", {} bad line(s) skipped", self.errors.len());
            } else {
                out += &format!(
                    ", {} bad line(s): nothing of this file was written",
                    self.errors.len()
                );
            }
        }
        for (event_type, n) in &self.by_type {
            out += &format!("\n  {event_type:<22} {n:>9}");
        }
        out
    }
}

/// Imports files into the store behind a gateway, one file at a time.
pub struct Importer<'g> {
    gateway: &'g Gateway,
    catalog: Catalog,
    options: ImportOptions,
}

impl<'g> Importer<'g> {
    /// Reads the log once to learn which events, schools and grades it already holds.
    pub async fn new(gateway: &'g Gateway, options: ImportOptions) -> anyhow::Result<Self> {
        let mut catalog = Catalog::default();
        let spinner = progress::spinner(options.progress, "reading the log");
        catalog
            .refresh(gateway.store().as_ref())
            .await
            .context("reading the log")?;
        spinner.finish_and_clear();
        Ok(Importer {
            gateway,
            catalog,
            options,
        })
    }

    pub fn gateway(&self) -> &Gateway {
        self.gateway
    }

    /// Imports a file in `format`, or the format its name and content suggest.
    pub async fn import_path(
        &mut self,
        path: &Path,
        format: Option<Format>,
    ) -> anyhow::Result<FileReport> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        let format = format.unwrap_or_else(|| format_of(path, &bytes));
        self.import_bytes(&name, format, &bytes).await
    }

    /// Imports one file's content. `name` is only used in the report.
    pub async fn import_bytes(
        &mut self,
        name: &str,
        format: Format,
        bytes: &[u8],
    ) -> anyhow::Result<FileReport> {
        if self.options.dry_run && matches!(format, Format::Jsonl | Format::GradesCsv) {
            anyhow::bail!("{name}: --dry-run plans roster and results exports only (siecle, sts, moodle-quiz, pix-orga), not {format}");
        }
        let mut report = FileReport::new(name, format);
        let first_line = bytes
            .split(|b| *b == b'\n')
            .map(String::from_utf8_lossy)
            .find(|line| !line.trim().trim_start_matches('\u{feff}').is_empty());
        if format == Format::Jsonl && first_line.is_some_and(|line| keys::is_key_line(&line)) {
            report.errors.push(LineError {
                line: 1,
                reason: KEYS_FILE_GIVEN.to_owned(),
            });
            return Ok(report);
        }
        tracing::info!(file = name, %format, bytes = bytes.len(), "importing");
        match format {
            Format::Jsonl => jsonl::import(self, bytes, &mut report).await?,
            Format::GradesCsv => grades::import(self, bytes, &mut report).await?,
            Format::Siecle => roster_diff::import(self, bytes, &mut report).await?,
            Format::Sts => sts::import(self, bytes, &mut report).await?,
            Format::MoodleQuiz => moodle_quiz::import(self, bytes, &mut report).await?,
            Format::PixOrga => pix_orga::import(self, bytes, &mut report).await?,
        }
        report.errors.sort();
        self.catalog
            .refresh(self.gateway.store().as_ref())
            .await
            .context("reading the log back")?;
        tracing::info!(
            file = name,
            events = report.events_written,
            bad_lines = report.errors.len(),
            already = report.already_present,
            written = report.written,
            "imported"
        );
        Ok(report)
    }
}

/// `.csv` is a grades export; `.jsonl`, `.ndjson` and `.json` are event files; otherwise a
/// file starting with `{` is JSON Lines and anything else CSV.
pub fn format_of(path: &Path, bytes: &[u8]) -> Format {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Format::GradesCsv,
        Some("jsonl" | "ndjson" | "json") => Format::Jsonl,
        _ => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            match body.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') => Format::Jsonl,
                _ => Format::GradesCsv,
            }
        }
    }
}

/// Maps a refused batch back to the line that caused it. `lines[i]` is the line of item `i`.
fn batch_failure(error: BatchError, lines: &[usize]) -> anyhow::Result<LineError> {
    match error.error {
        // The store itself failed: not a line's fault.
        CommandError::Store(e) => Err(anyhow::Error::new(e).context("writing to the store")),
        CommandError::Decode { .. } => {
            Err(anyhow::Error::new(error.error).context("reading the log"))
        }
        other => Ok(LineError {
            line: lines.get(error.index).copied().unwrap_or(0),
            reason: format!("{other} (the log changed while the file was being checked)"),
        }),
    }
}
