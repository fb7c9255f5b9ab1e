//! The polars commands (cargo feature `analytics`): `suivi report conseil`,
//! `suivi export --format parquet|csv` and `suivi check`. Thin: parse, call
//! `suivi_analytics`, write files, say what was done.

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use suivi_analytics::report::{pupil_names, report_pupils};
use suivi_analytics::{ConseilRequest, Format, Identities};

#[derive(Subcommand)]
pub enum ReportCommand {
    /// The conseil de classe of a class and period: an HTML page to print and a CSV.
    Conseil(ConseilArgs),
}

#[derive(Args)]
pub struct ConseilArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    pub store: String,
    /// The class's name (e.g. "2nde MELEC A") or id.
    #[arg(long)]
    pub class: String,
    /// The period's name (e.g. "Trimestre 1") or id.
    #[arg(long)]
    pub period: String,
    /// The log as it stood then: a date (its end, UTC) or an RFC 3339 instant.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Directory for conseil-<class>-<period>.html and .csv.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct TableExportArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    pub store: String,
    /// parquet or csv.
    #[arg(long)]
    pub format: String,
    /// Directory for the tables.
    #[arg(long)]
    pub out: PathBuf,
    /// Write pupils' ids, external ids and names instead of pseudonyms (administrators only).
    #[arg(long)]
    pub with_names: bool,
    /// Key of the pseudonyms: the same key gives the same pseudonyms in every export. A
    /// random one (exports that cannot be linked) when absent.
    #[arg(long, env = "SUIVI_PSEUDONYM_KEY", hide_env_values = true)]
    pub pseudonym_key: Option<String>,
}

#[derive(Args)]
pub struct CheckArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    pub store: String,
    /// The instant homework and parcours status are judged at (default: now).
    #[arg(long)]
    pub now: Option<String>,
    /// Differences printed at most (all are counted).
    #[arg(long, default_value_t = 100)]
    pub show: usize,
}

/// A date (its last instant, UTC) or an RFC 3339 instant.
pub fn parse_instant(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").with_context(|| {
        format!("{text:?} is neither a date (2025-12-04) nor an RFC 3339 instant")
    })?;
    day.and_hms_milli_opt(23, 59, 59, 999)
        .map(|t| t.and_utc())
        .with_context(|| format!("{text:?} has no end of day"))
}

async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn suivi_store::EventStore>> {
    suivi_store::open(url)
        .await
        .with_context(|| format!("opening the store {url}"))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

pub async fn run_report(command: ReportCommand) -> anyhow::Result<ExitCode> {
    let ReportCommand::Conseil(args) = command;
    let store = open(&args.store).await?;
    let req = ConseilRequest {
        class: args.class,
        period: args.period,
        as_of: args.as_of.as_deref().map(parse_instant).transpose()?,
        now: Utc::now(),
    };
    let log = suivi_analytics::load_log(store.as_ref()).await?;
    let pupils = report_pupils(&log, &req)?;
    let names = pupil_names(store.as_ref(), &log, &pupils).await?;
    let report =
        tokio::task::spawn_blocking(move || suivi_analytics::conseil_report(&log, &req, &names))
            .await
            .context("the report's computation stopped")??;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let html = args.out.join(format!("{}.html", report.file_stem()));
    let csv = args.out.join(format!("{}.csv", report.file_stem()));
    write(&html, &report.html)?;
    write(&csv, &report.csv)?;
    println!(
        "{} — {}: {} élèves\n  {}\n  {}",
        report.data.class_name,
        report.data.period_name,
        report.data.pupils.len(),
        html.display(),
        csv.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `suivi export --format parquet|csv`: `format` is what `--format` held.
pub async fn run_table_export(args: TableExportArgs) -> anyhow::Result<ExitCode> {
    let format: Format = args.format.parse().map_err(anyhow::Error::msg)?;
    let store = open(&args.store).await?;
    let log = suivi_analytics::load_log(store.as_ref()).await?;
    let names = if args.with_names {
        let pupils: Vec<_> = log.pupils();
        Some(pupil_names(store.as_ref(), &log, &pupils).await?)
    } else {
        None
    };
    let key: Vec<u8> = match args.pseudonym_key {
        Some(k) if k.is_empty() => bail!("--pseudonym-key is empty"),
        Some(k) => k.into_bytes(),
        None => rand::random::<[u8; 32]>().to_vec(),
    };
    let out = args.out.clone();
    let tables = tokio::task::spawn_blocking(move || {
        let who = match &names {
            Some(names) => Identities::Named(names),
            None => Identities::Pseudonymised { key: &key },
        };
        suivi_analytics::export(&log, format, &out, who, Utc::now())
    })
    .await
    .context("the export stopped")??;
    for t in &tables {
        println!("{:>9} rows  {}", t.rows, t.path.display());
    }
    if args.with_names {
        eprintln!("warning: this export holds pupils' names; keep it within the administration");
    }
    Ok(ExitCode::SUCCESS)
}

/// Exits 1 when the projections and the batch recomputation disagree.
pub async fn run_check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let store = open(&args.store).await?;
    let now = match args.now.as_deref() {
        Some(t) => parse_instant(t)?,
        None => Utc::now(),
    };
    let started = std::time::Instant::now();
    let (report, t) = suivi_analytics::check_store(store.as_ref(), now).await?;
    for d in report.differences.iter().take(args.show) {
        println!("{d}");
    }
    if report.differences.len() > args.show {
        println!("… and {} more", report.differences.len() - args.show);
    }
    let batch = t.flatten + report.batch_time;
    let ratio = if t.fold.as_millis() > 0 {
        format!("{:.2}", batch.as_secs_f64() / t.fold.as_secs_f64())
    } else {
        "—".to_owned()
    };
    println!(
        "{} events (head {}), {} figures compared, {} differences",
        report.events,
        report.head,
        report.compared,
        report.differences.len()
    );
    println!(
        "time: read {:.2} s · batch (flatten {:.2} s + polars {:.2} s) {:.2} s · incremental fold {:.2} s · batch/incremental {ratio} · queries and comparison {:.2} s · total {:.2} s",
        t.read.as_secs_f64(),
        t.flatten.as_secs_f64(),
        report.batch_time.as_secs_f64(),
        batch.as_secs_f64(),
        t.fold.as_secs_f64(),
        t.compare.saturating_sub(report.batch_time).as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(if report.is_consistent() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
