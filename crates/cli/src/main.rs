//! `suivi`: thin commands over the library (see `suivi_cli`).

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use suivi_cli::import::{ImportOptions, Importer};
use suivi_cli::{demo, export, fixtures, progress};
use suivi_projections::gateway::Gateway;

#[derive(Parser)]
#[command(
    name = "suivi",
    version,
    about = "suivi — le suivi des élèves: an event-sourced engine for French secondary schools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import event files (.jsonl: envelopes or commands) and grade exports (.csv).
    Import(ImportArgs),
    /// Write the log as JSON Lines, one recorded event per line.
    Export(ExportArgs),
    /// Generate fixture data.
    Fixtures {
        #[command(subcommand)]
        command: FixturesCommand,
    },
    /// Load the demo school (fixtures/demo) into a fresh store and summarise it.
    Demo(DemoArgs),
}

#[derive(Args)]
struct ImportArgs {
    /// Store URL: sqlite:PATH or memory:.
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// Pupils' data keys to load first (keys.jsonl from `fixtures generate`).
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Write the good lines of a file with bad ones, and list the bad ones.
    #[arg(long)]
    skip_bad: bool,
    /// Name of the school a grades CSV registers when the store has none.
    #[arg(long, default_value = "Établissement")]
    school_name: String,
    /// Files to import, in order; a refused file stops the import.
    #[arg(required_unless_present = "keys")]
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct ExportArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// First global position to export (positions start at 1).
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum FixturesCommand {
    /// A lycée polyvalent over the 2025-2026 school year: events.jsonl and keys.jsonl.
    Generate(GenerateArgs),
}

#[derive(Args)]
struct GenerateArgs {
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    seed: u64,
    #[arg(long, default_value_t = 30)]
    classes: usize,
    #[arg(long, default_value_t = 28)]
    pupils_per_class: usize,
}

#[derive(Args)]
struct DemoArgs {
    /// Store URL (default: a new SQLite file in a temporary directory).
    #[arg(long, env = "SUIVI_STORE")]
    store: Option<String>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Import(args) => import(args).await,
        Command::Export(args) => {
            let store = open(&args.store).await?;
            let count = match &args.out {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    export::export(store.as_ref(), args.from, &mut out, true).await?
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    export::export(store.as_ref(), args.from, &mut out, false).await?
                }
            };
            if let Some(path) = &args.out {
                eprintln!("{count} event(s) written to {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Fixtures {
            command: FixturesCommand::Generate(args),
        } => {
            let options = fixtures::Options {
                out: args.out,
                seed: args.seed,
                classes: args.classes,
                pupils_per_class: args.pupils_per_class,
            };
            let started = std::time::Instant::now();
            let bar = progress::bar(true, 0, "generating");
            let report = fixtures::generate(&options, &bar)?;
            println!("{}", report.summary(started.elapsed()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            let url = match args.store {
                Some(url) => url,
                None => demo::fresh_store_url()?,
            };
            let store = open(&url).await?;
            let summary = demo::load_demo(store).await?;
            println!("store: {url}\n{summary}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn suivi_store::EventStore>> {
    suivi_store::open(url)
        .await
        .with_context(|| format!("opening the store {url}"))
}

async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let store = open(&args.store).await?;
    if let Some(path) = &args.keys {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let report = suivi_cli::import::load_keys(store.as_ref(), &bytes).await?;
        if !report.errors.is_empty() {
            eprintln!("{}: {} bad line(s), no key loaded:", path.display(), report.errors.len());
            for e in &report.errors {
                eprintln!("  {e}");
            }
            return Ok(ExitCode::FAILURE);
        }
        println!(
            "{}: {} key(s) loaded, {} already present",
            path.display(),
            report.loaded,
            report.already_present
        );
    }
    let gateway = Gateway::new(store)
        .await
        .context("reading the log into the write model")?;
    let options = ImportOptions {
        skip_bad: args.skip_bad,
        school_name: args.school_name,
        progress: true,
    };
    let mut importer = Importer::new(&gateway, options).await?;
    let mut failed = false;
    for (i, path) in args.files.iter().enumerate() {
        let report = importer.import_path(path).await?;
        if !report.errors.is_empty() {
            let mut err = std::io::stderr().lock();
            for e in &report.errors {
                writeln!(err, "{}: {e}", report.name)?;
            }
        }
        println!("{}", report.summary());
        if report.refused() {
            failed = true;
            let rest = args.files.len() - i - 1;
            if rest > 0 {
                eprintln!("{rest} file(s) after it not imported");
            }
            break;
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
