//! The analytics commands exactly as `suivi` runs them with `--features analytics`
//! (the same `commands::analytics` module), without building the whole CLI: for benchmarks and
//! for trying the commands while polars is built in its own target directory.
//!
//! cargo run --release -p suivi-analytics --example suivi_analytics -- check --store sqlite:school.db

#[path = "../../cli/src/commands/analytics.rs"]
mod analytics_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "suivi-analytics")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reports.
    Report {
        #[command(subcommand)]
        command: analytics_cmd::ReportCommand,
    },
    /// Tables as Parquet or CSV.
    Export(analytics_cmd::TableExportArgs),
    /// Recompute every dashboard figure with polars and compare with the projections.
    Check(analytics_cmd::CheckArgs),
    /// Load events.jsonl (envelopes) and keys.jsonl into a store, for benchmarks.
    Load {
        #[arg(long)]
        store: String,
        #[arg(long)]
        events: std::path::PathBuf,
        #[arg(long)]
        keys: Option<std::path::PathBuf>,
    },
}

async fn load(
    store: &str,
    events: &std::path::Path,
    keys: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    use std::io::BufRead;
    use suivi_domain::identity::PupilKey;
    use suivi_store::{AppendRequest, ExpectedVersion};
    let store = suivi_store::open(store).await?;
    let file = std::io::BufReader::new(std::fs::File::open(events)?);
    let mut batch: Vec<AppendRequest> = Vec::new();
    let mut n = 0u64;
    for line in file.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let event: suivi_domain::NewEvent = serde_json::from_str(&line)?;
        let stream = event.decode()?.stream(event.school_id);
        batch.push(AppendRequest::new(
            stream,
            ExpectedVersion::Any,
            vec![event],
        ));
        n += 1;
        if batch.len() >= 5_000 {
            store.append_all(std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        store.append_all(batch).await?;
    }
    if let Some(keys) = keys {
        for line in std::io::BufReader::new(std::fs::File::open(keys)?).lines() {
            let v: serde_json::Value = serde_json::from_str(&line?)?;
            let pupil = v["pupil_id"].as_str().unwrap_or_default().parse()?;
            let hex = v["key"].as_str().unwrap_or_default();
            let mut key = [0u8; 32];
            for (i, k) in key.iter_mut().enumerate() {
                *k = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16)?;
            }
            store.put_key(pupil, PupilKey(key)).await?;
        }
    }
    println!("{n} events loaded");
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Report { command } => analytics_cmd::run_report(command).await,
            Command::Export(args) => analytics_cmd::run_table_export(args).await,
            Command::Check(args) => analytics_cmd::run_check(args).await,
            Command::Load {
                store,
                events,
                keys,
            } => load(&store, &events, keys.as_deref()).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
