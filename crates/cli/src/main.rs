//! `suivi`: thin commands over the library (see `suivi_cli`).

//! Argument parsing and dispatch only: each command's arguments and body are in
//! `commands/`.

use clap::{Parser, Subcommand};
use commands::*;
use std::process::ExitCode;

mod commands;

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
    /// Serve the GraphQL API (GraphiQL page at /, subscriptions at /graphql/ws).
    Serve(serve::ServeArgs),
    /// Issue a bearer token (HS256) for local use and tests, signed with the server's secret.
    Token(token::TokenArgs),
    /// Run one GraphQL query or mutation in process and print the JSON answer.
    Query(query::QueryArgs),
    /// Create or upgrade a PostgreSQL store's schema, or copy a log into an empty store.
    Migrate(migrate::MigrateArgs),
    /// Write everything the school holds about one pupil as one JSON file, identity
    /// decrypted (RGPD right of access and portability).
    ExportPupil(pupil::PupilArgs),
    /// Erase a pupil: destroy their data key, so their identity can never be read again.
    /// The log itself is not rewritten; statistics keep their figures.
    ErasePupil(pupil::EraseArgs),
    /// Import event files (.jsonl: envelopes or commands) and grade exports (.csv); with
    /// --format, SIECLE and STSWeb rosters, Moodle quiz reports and Pix Orga exports.
    Import(import::ImportArgs),
    /// Write the log as JSON Lines, one recorded event per line.
    Export(export::ExportArgs),
    /// Link the identity provider's accounts to pupils, guardians and staff, from a CSV
    /// with the columns subject,role,external_id (all lines or none).
    Link(link::LinkArgs),
    /// Generate fixture data.
    Fixtures {
        #[command(subcommand)]
        command: fixtures::FixturesCommand,
    },
    /// Load the demo school (fixtures/demo) into a fresh store and summarise it.
    Demo(demo::DemoArgs),
    /// Documents built with polars (needs `--features analytics`).
    #[cfg(feature = "analytics")]
    Report {
        #[command(subcommand)]
        command: analytics::ReportCommand,
    },
    /// Recompute every dashboard figure with polars and compare with the projections
    /// (needs `--features analytics`); exits non-zero on any difference.
    #[cfg(feature = "analytics")]
    Check(analytics::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server says what it does (info); one-shot commands only warn. RUST_LOG overrides.
    let default_filter = match cli.command {
        Command::Serve(_) => "warn,suivi=info,suivi_graphql=info,suivi_cli=info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
        Command::Import(args) => import::import(args).await,
        Command::Link(args) => link::link(args).await,
        Command::Serve(args) => serve::serve(args).await,
        Command::Token(args) => token::token(args).await,
        Command::Query(args) => query::run(args).await,
        Command::Migrate(args) => migrate::migrate_command(args).await,
        Command::ExportPupil(args) => pupil::export_pupil(args).await,
        Command::ErasePupil(args) => pupil::erase_pupil(args).await,
        Command::Export(args) => export::export_command(args).await,
        #[cfg(feature = "analytics")]
        Command::Report { command } => analytics::run_report(command).await,
        #[cfg(feature = "analytics")]
        Command::Check(args) => analytics::run_check(args).await,
        Command::Fixtures { command } => fixtures::run(command),
        Command::Demo(args) => demo::run(args).await,
    }
}
