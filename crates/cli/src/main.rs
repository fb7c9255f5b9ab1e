//! `suivi`: thin commands over the library (see `suivi_cli`).

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use suivi_cli::import::{ImportOptions, Importer};
use suivi_cli::{demo, export, fixtures, migrate, progress};
use suivi_projections::gateway::Gateway;

#[cfg(feature = "analytics")]
mod analytics_cmd;

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
    Serve(ServeArgs),
    /// Issue a bearer token (HS256) for local use and tests, signed with the server's secret.
    Token(TokenArgs),
    /// Run one GraphQL query or mutation in process and print the JSON answer.
    Query(QueryArgs),
    /// Create or upgrade a PostgreSQL store's schema, or copy a log into an empty store.
    Migrate(MigrateArgs),
    /// Write everything the school holds about one pupil as one JSON file, identity
    /// decrypted (RGPD right of access and portability).
    ExportPupil(PupilArgs),
    /// Erase a pupil: destroy their data key, so their identity can never be read again.
    /// The log itself is not rewritten; statistics keep their figures.
    ErasePupil(EraseArgs),
    /// Import event files (.jsonl: envelopes or commands) and grade exports (.csv); with
    /// --format, SIECLE and STSWeb rosters, Moodle quiz reports and Pix Orga exports.
    Import(ImportArgs),
    /// Write the log as JSON Lines, one recorded event per line.
    Export(ExportArgs),
    /// Link the identity provider's accounts to pupils, guardians and staff, from a CSV
    /// with the columns subject,role,external_id (all lines or none).
    Link(LinkArgs),
    /// Generate fixture data.
    Fixtures {
        #[command(subcommand)]
        command: FixturesCommand,
    },
    /// Load the demo school (fixtures/demo) into a fresh store and summarise it.
    Demo(DemoArgs),
    /// Documents built with polars (needs `--features analytics`).
    #[cfg(feature = "analytics")]
    Report {
        #[command(subcommand)]
        command: analytics_cmd::ReportCommand,
    },
    /// Recompute every dashboard figure with polars and compare with the projections
    /// (needs `--features analytics`); exits non-zero on any difference.
    #[cfg(feature = "analytics")]
    Check(analytics_cmd::CheckArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Store URL: sqlite:PATH, postgres://user@host/db or memory:. With --demo and no
    /// --store, a fresh SQLite file in a temporary directory.
    #[arg(long, env = "SUIVI_STORE")]
    store: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Load the demo school into an empty store and run a simulated class session.
    #[arg(long)]
    demo: bool,
    /// The school to serve when the store holds several.
    #[arg(long)]
    school: Option<uuid::Uuid>,
    #[command(flatten)]
    jwt: JwtArgs,
    /// Schema introspection on or off (default: on with --demo, off otherwise).
    #[arg(long, value_name = "on|off", value_parser = parse_switch)]
    introspection: Option<bool>,
    /// Mutations one user may send at once…
    #[arg(long, default_value_t = suivi_graphql::Limits::default().burst)]
    write_burst: u32,
    /// …and per second after that (beyond: RATE_LIMITED errors).
    #[arg(long, default_value_t = suivi_graphql::Limits::default().per_second)]
    writes_per_second: u32,
    /// Compute every query, even one repeated while nothing it reads has changed (by
    /// default such a query is answered from the answer cache).
    #[arg(long)]
    no_answer_cache: bool,
    /// Minutes without a request after which a page session ends (sign in again).
    #[arg(long, value_name = "MINUTES", default_value_t = 30)]
    session_idle: u64,
    /// Hours after sign-in at which a page session ends, whatever the activity.
    #[arg(long, value_name = "HOURS", default_value_t = 12)]
    session_max: u64,
    /// Seconds without progress after which a pupil shows as "bloqué" on the live boards.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    stall_after: u64,
    #[command(flatten)]
    oidc: OidcArgs,
    /// The address people open the pages at (e.g. https://suivi.lycee.fr), for the
    /// redirect URI registered with the identity provider: PUBLIC_URL/connexion/oidc/retour.
    /// Default: the address the browser used.
    #[arg(long, env = "SUIVI_PUBLIC_URL")]
    public_url: Option<String>,
}

/// Sign-in with the school's OpenID Connect provider (ENT, académie).
#[derive(Args)]
struct OidcArgs {
    /// The provider's issuer URL (its discovery document is ISSUER/.well-known/openid-configuration).
    #[arg(long, env = "SUIVI_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret"])]
    oidc_issuer: Option<String>,
    /// The client id suivi is registered with at the provider.
    #[arg(long, env = "SUIVI_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    oidc_client_id: Option<String>,
    /// The client secret (sent with HTTP Basic authentication to the token endpoint).
    #[arg(
        long,
        env = "SUIVI_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        requires = "oidc_issuer"
    )]
    oidc_client_secret: Option<String>,
    /// The audience (`aud`) of the provider's access tokens accepted on /graphql
    /// (default: the client id).
    #[arg(long, env = "SUIVI_OIDC_AUDIENCE", requires = "oidc_issuer")]
    oidc_audience: Option<String>,
    /// The ID token claim that names the account (default: sub).
    #[arg(long, env = "SUIVI_OIDC_CLAIM", requires = "oidc_issuer")]
    oidc_claim: Option<String>,
    /// At first sign-in, link a staff member with no account yet by a verified e-mail
    /// claim equal to the e-mail the school registered for them (registerTeacher's email).
    #[arg(long, env = "SUIVI_OIDC_MATCH_EMAIL", requires = "oidc_issuer")]
    oidc_match_email: bool,
}

impl OidcArgs {
    fn config(self) -> Option<suivi_graphql::oidc::OidcConfig> {
        Some(suivi_graphql::oidc::OidcConfig {
            issuer: self.oidc_issuer?,
            client_id: self.oidc_client_id.unwrap_or_default(),
            client_secret: self.oidc_client_secret.unwrap_or_default(),
            audience: self.oidc_audience,
            claim: self.oidc_claim,
            match_email: self.oidc_match_email,
        })
    }
}

fn parse_switch(text: &str) -> Result<bool, String> {
    match text {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(format!("{other:?}: expected on or off")),
    }
}

/// How bearer tokens are checked: exactly one of the two outside `--demo`.
#[derive(Args)]
struct JwtArgs {
    /// HS256 secret (at least 32 bytes) that tokens are signed with.
    #[arg(long, env = "SUIVI_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// PEM file of the identity provider's public key (RSA: RS256, EC P-256: ES256).
    #[arg(long, env = "SUIVI_JWT_PUBLIC_KEY", conflicts_with = "jwt_secret")]
    jwt_public_key: Option<PathBuf>,
    /// The issuer (`iss`) every token must name.
    #[arg(long, env = "SUIVI_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The audience (`aud`) every token must name.
    #[arg(long, env = "SUIVI_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
}

#[derive(Args)]
struct TokenArgs {
    /// administrator, professeur_principal, teacher, guardian or pupil.
    #[arg(long, value_parser = parse_role)]
    role: suivi_domain::Role,
    /// The user: the teacher's id for staff, the guardian's or the pupil's id.
    #[arg(long)]
    subject: uuid::Uuid,
    /// The school (default: the only school of --store).
    #[arg(long)]
    school: Option<uuid::Uuid>,
    /// Store whose only school the token is for, when --school is not given.
    #[arg(long, env = "SUIVI_STORE")]
    store: Option<String>,
    /// How long the token is valid: 8h, 30m, 7d, 3600 (seconds).
    #[arg(long, default_value = "8h", value_parser = parse_ttl)]
    ttl: std::time::Duration,
    /// HS256 secret the server checks tokens with.
    #[arg(long, env = "SUIVI_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Scope ids: limit a staff token to these classes (comma-separated ids); the log's
    /// assignments still apply.
    #[arg(long, value_delimiter = ',')]
    classes: Vec<uuid::Uuid>,
    /// Scope ids: limit a guardian's token to these of their children.
    #[arg(long, value_delimiter = ',')]
    pupils: Vec<uuid::Uuid>,
}

fn parse_format(text: &str) -> Result<suivi_cli::import::Format, String> {
    suivi_cli::import::Format::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = suivi_cli::import::Format::NAMES
            .iter()
            .map(|(n, _)| *n)
            .collect();
        format!("{text:?} is not a format: {}", names.join(", "))
    })
}

fn parse_role(text: &str) -> Result<suivi_domain::Role, String> {
    suivi_graphql::jwt::parse_role(text)
}

fn parse_ttl(text: &str) -> Result<std::time::Duration, String> {
    suivi_graphql::jwt::parse_ttl(text)
}

#[derive(Args)]
struct PupilArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// The pupil's id.
    pupil_id: uuid::Uuid,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct EraseArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// The pupil's id.
    pupil_id: uuid::Uuid,
    /// Confirm: erasure cannot be undone.
    #[arg(long)]
    yes: bool,
}

#[derive(Args)]
struct QueryArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// The GraphQL document, e.g. '{ classes { name } }'.
    query: String,
    /// Variables as a JSON object.
    #[arg(long)]
    variables: Option<String>,
}

#[derive(Args)]
struct MigrateArgs {
    /// The PostgreSQL store whose schema to create or upgrade.
    #[arg(long, env = "SUIVI_STORE", conflicts_with_all = ["from", "to"], required_unless_present_all = ["from", "to"])]
    store: Option<String>,
    /// Copy this log (e.g. sqlite:suivi.db)…
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// …into this empty store (e.g. postgres://postgres@127.0.0.1/test), migrated first if
    /// it is PostgreSQL.
    #[arg(long, requires = "from")]
    to: Option<String>,
}

#[derive(Args)]
struct LinkArgs {
    /// Store URL: sqlite:PATH, postgres://user@host/db or memory:.
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// The identity provider's issuer URL, as its discovery document names it.
    #[arg(long, env = "SUIVI_OIDC_ISSUER")]
    provider: String,
    /// The school, when the store holds several.
    #[arg(long)]
    school: Option<uuid::Uuid>,
    /// The CSV file: subject,role,external_id.
    file: PathBuf,
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
    /// Name of the school a grades CSV, SIECLE or STS file registers when the store has
    /// none (and which school to import into when it has several).
    #[arg(long, default_value = "Établissement")]
    school_name: String,
    /// Restore `suivi export` files exactly, into an empty store only: every event keeps
    /// its global position, stream version and `recorded_at`. Without it, an import
    /// records the events anew (this store's positions and clock).
    #[arg(long, conflicts_with_all = ["skip_bad"])]
    restore: bool,
    /// jsonl, grades-csv, siecle, sts, moodle-quiz or pix-orga (default: from the file's
    /// extension and content: jsonl or grades-csv).
    #[arg(long, value_parser = parse_format)]
    format: Option<suivi_cli::import::Format>,
    /// Print what the files would change and write nothing (siecle, sts, moodle-quiz,
    /// pix-orga).
    #[arg(long)]
    dry_run: bool,
    /// moodle-quiz: the quiz's title in suivi.
    #[arg(long)]
    quiz: Option<String>,
    /// moodle-quiz: the class the quiz is for (pupils are matched by name within it).
    #[arg(long)]
    class: Option<String>,
    /// moodle-quiz: the quiz's subject (default: the one subject taught in --class, else
    /// the school's only subject).
    #[arg(long)]
    subject: Option<String>,
    /// moodle-quiz: register pupils the report has and suivi lacks, in --class.
    #[arg(long)]
    create_missing: bool,
    /// Files to import, in order; a refused file stops the import.
    #[arg(required_unless_present = "keys")]
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct ExportArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// jsonl (the log, which `import` reads back), or parquet / csv (tables per event
    /// family and read model, with `--features analytics`; `--out` is then a directory).
    #[arg(long, default_value = "jsonl")]
    format: String,
    /// First global position to export (positions start at 1; jsonl only).
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// Output file for jsonl (default: standard output); directory for parquet and csv.
    #[arg(long)]
    out: Option<PathBuf>,
    /// parquet/csv: pupils' ids and names instead of pseudonyms (administrators only).
    #[arg(long)]
    with_names: bool,
    /// parquet/csv: the key of the pseudonyms (same key, same pseudonyms).
    #[arg(long, env = "SUIVI_PSEUDONYM_KEY", hide_env_values = true)]
    pseudonym_key: Option<String>,
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
        Command::Import(args) => import(args).await,
        Command::Link(args) => link(args).await,
        Command::Serve(args) => serve(args).await,
        Command::Token(args) => token(args).await,
        Command::Query(args) => {
            let variables = match &args.variables {
                Some(text) => Some(
                    serde_json::from_str::<serde_json::Value>(text)
                        .context("--variables is not a JSON object")?,
                ),
                None => None,
            };
            let answer = suivi_graphql::query_once(&args.store, &args.query, variables).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            let failed = answer
                .get("errors")
                .and_then(|e| e.as_array())
                .is_some_and(|e| !e.is_empty());
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Migrate(args) => migrate_command(args).await,
        Command::ExportPupil(args) => export_pupil(args).await,
        Command::ErasePupil(args) => erase_pupil(args).await,
        Command::Export(args) => export_command(args).await,
        #[cfg(feature = "analytics")]
        Command::Report { command } => analytics_cmd::run_report(command).await,
        #[cfg(feature = "analytics")]
        Command::Check(args) => analytics_cmd::run_check(args).await,
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

async fn export_command(args: ExportArgs) -> anyhow::Result<ExitCode> {
    match args.format.as_str() {
        "jsonl" => {}
        #[cfg(feature = "analytics")]
        "parquet" | "csv" => {
            let Some(out) = args.out else {
                anyhow::bail!("--format {} needs --out DIR", args.format);
            };
            return analytics_cmd::run_table_export(analytics_cmd::TableExportArgs {
                store: args.store,
                format: args.format,
                out,
                with_names: args.with_names,
                pseudonym_key: args.pseudonym_key,
            })
            .await;
        }
        #[cfg(not(feature = "analytics"))]
        "parquet" | "csv" => anyhow::bail!(
            "--format {} is built with polars: build with `--features analytics` \
             (cargo run --release --features analytics --bin suivi -- export …)",
            args.format
        ),
        other => anyhow::bail!("unknown --format {other:?}: jsonl, parquet or csv"),
    }
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
    close(store).await;
    Ok(ExitCode::SUCCESS)
}

async fn export_pupil(args: PupilArgs) -> anyhow::Result<ExitCode> {
    let store = open(&args.store).await?;
    let pupil = suivi_domain::ids::PupilId(args.pupil_id);
    let file = suivi_projections::pupil_file::pupil_file(store.as_ref(), pupil, chrono::Utc::now())
        .await?;
    let json = serde_json::to_string_pretty(&file)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, json + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "pupil {pupil}: {} event(s) written to {}",
                file.events.len(),
                path.display()
            );
        }
        None => println!("{json}"),
    }
    close(store).await;
    Ok(ExitCode::SUCCESS)
}

async fn erase_pupil(args: EraseArgs) -> anyhow::Result<ExitCode> {
    if !args.yes {
        anyhow::bail!(
            "erasing pupil {} cannot be undone: their identity and guardians' contacts become \
             unreadable everywhere. Run again with --yes to confirm",
            args.pupil_id
        );
    }
    let store = open(&args.store).await?;
    let pupil = suivi_domain::ids::PupilId(args.pupil_id);
    // Refuse an id the log does not register: a typo must not look like a success.
    suivi_projections::pupil_file::pupil_file(store.as_ref(), pupil, chrono::Utc::now()).await?;
    let destroyed = store.destroy_key(pupil).await?;
    if destroyed {
        println!("pupil {pupil}: key destroyed; the identity now reads as erased");
    } else {
        println!("pupil {pupil}: already erased (no key held)");
    }
    tracing::info!(pupil = %pupil, destroyed, "pupil erased");
    close(store).await;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store_url = match args.store {
        Some(url) => url,
        None if args.demo => demo::fresh_store_url()?,
        None => "sqlite:suivi.db".to_owned(),
    };
    let loader: suivi_graphql::DemoLoader = Box::new(|store| {
        Box::pin(async move {
            let summary = demo::load_demo(store)
                .await
                .map_err(|e| -> suivi_graphql::BoxError { e.to_string().into() })?;
            tracing::info!(
                events = summary.events_written,
                pupils = summary.pupils,
                classes = summary.classes.len(),
                "demo school loaded"
            );
            Ok(())
        })
    });
    let config = suivi_graphql::ServeConfig {
        store_url,
        addr: args.addr,
        demo: args.demo,
        school: args.school.map(suivi_domain::ids::SchoolId),
        auth: suivi_graphql::AuthConfig {
            jwt_secret: args.jwt.jwt_secret,
            jwt_public_key: args.jwt.jwt_public_key,
            jwt_issuer: args.jwt.jwt_issuer,
            jwt_audience: args.jwt.jwt_audience,
        },
        introspection: args.introspection,
        write_burst: args.write_burst,
        writes_per_second: args.writes_per_second,
        answer_cache: !args.no_answer_cache,
        stall_after: Some(std::time::Duration::from_secs(args.stall_after)),
        oidc: args.oidc.config(),
    };
    let idle = std::time::Duration::from_secs(args.session_idle.max(1) * 60);
    let absolute = std::time::Duration::from_secs(args.session_max.max(1) * 3600);
    let public_url = args.public_url;
    let pages: suivi_graphql::PagesFactory = Box::new(move |setup| {
        let sessions =
            suivi_web::session::Sessions::new(setup.sessions, setup.session_key, idle, absolute);
        let options = suivi_web::PageOptions {
            demo_users: setup.demo_users,
            idle,
            absolute,
            public_url,
        };
        suivi_web::router(setup.state, options, sessions)
    });
    // The demo's ready tokens go to stdout, for the person who just started it.
    suivi_graphql::serve_pages(config, Some(loader), Some(pages), |text| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

async fn token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    use suivi_graphql::jwt::{issue_hs256, Claims};
    let Some(secret) = args.jwt_secret else {
        anyhow::bail!(
            "no secret to sign with: set SUIVI_JWT_SECRET (or --jwt-secret) to the secret \
             the server checks tokens with"
        );
    };
    let school = match (args.school, &args.store) {
        (Some(school), _) => school,
        (None, Some(store)) => only_school(store).await?,
        (None, None) => anyhow::bail!("say which school the token is for: --school ID, or --store URL of a store with one school"),
    };
    let identity = suivi_graphql::Identity {
        role: args.role,
        subject_id: args.subject,
        school_id: suivi_domain::ids::SchoolId(school),
        within: suivi_graphql::identity::Within {
            classes: (!args.classes.is_empty()).then(|| {
                args.classes
                    .iter()
                    .map(|c| suivi_domain::ids::ClassId(*c))
                    .collect()
            }),
            pupils: (!args.pupils.is_empty()).then(|| {
                args.pupils
                    .iter()
                    .map(|p| suivi_domain::ids::PupilId(*p))
                    .collect()
            }),
        },
    };
    let claims = Claims::new(&identity, chrono::Utc::now(), args.ttl);
    let token = issue_hs256(secret.as_bytes(), &claims)?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

/// The only registered school of a store.
async fn only_school(store: &str) -> anyhow::Result<uuid::Uuid> {
    let answer = suivi_graphql::query_once(store, "{ school { id registered } }", None)
        .await
        .with_context(|| format!("finding the school of {store}"))?;
    let school = &answer["data"]["school"];
    if school["registered"] != serde_json::Value::Bool(true) {
        anyhow::bail!("{store} holds no school yet: give --school ID");
    }
    school["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("reading the school of {store}: {answer}"))
}

async fn migrate_command(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    if let (Some(from), Some(to)) = (&args.from, &args.to) {
        if is_postgres(to) {
            let applied = suivi_store::postgres::PostgresStore::migrate(to).await?;
            report_migrations(to, &applied);
        }
        let source = open(from).await?;
        let target = open(to).await?;
        let report = migrate::copy_log(source.as_ref(), target.as_ref(), true).await?;
        println!("{from} -> {to}\n{report}");
        close(source).await;
        close(target).await;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(url) = args.store else {
        anyhow::bail!("say which store: --store postgres://… or --from URL --to URL");
    };
    if !is_postgres(&url) {
        anyhow::bail!(
            "{url}: only a PostgreSQL store has a schema to migrate (SQLite files are created \
             and upgraded when opened)"
        );
    }
    let applied = suivi_store::postgres::PostgresStore::migrate(&url).await?;
    report_migrations(&url, &applied);
    Ok(ExitCode::SUCCESS)
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn report_migrations(url: &str, applied: &[i32]) {
    let redacted = url.split('?').next().unwrap_or(url);
    if applied.is_empty() {
        println!(
            "{redacted}: schema already at version {}",
            suivi_store::postgres::migrations::latest()
        );
    } else {
        println!("{redacted}: applied migration(s) {applied:?}");
    }
}

/// Drops a store off the runtime's threads: the embedded store's writer finishes what is
/// queued and fsyncs before the process exits.
async fn close(store: std::sync::Arc<dyn suivi_store::EventStore>) {
    let _ = tokio::task::spawn_blocking(move || drop(store)).await;
}

async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn suivi_store::EventStore>> {
    suivi_store::open(url)
        .await
        .with_context(|| format!("opening the store {url}"))
}

async fn restore_files(gateway: &Gateway, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    for (i, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        let report = suivi_cli::restore::restore(gateway, &name, &bytes).await?;
        for e in &report.errors {
            eprintln!("{name}: {e}");
        }
        println!("{}", report.summary());
        if !report.errors.is_empty() {
            let rest = files.len() - i - 1;
            if rest > 0 {
                eprintln!("{rest} file(s) after it not restored");
            }
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `FILE: N bad line(s), OUTCOME:` and each bad line, on stderr.
fn bad_lines(path: &Path, errors: &[suivi_cli::import::LineError], outcome: &str) {
    eprintln!(
        "{}: {} bad line(s), {outcome}:",
        path.display(),
        errors.len()
    );
    for e in errors {
        eprintln!("  {e}");
    }
}

async fn link(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let store = open(&args.store).await?;
    let school = match args.school {
        Some(id) => suivi_domain::ids::SchoolId(id),
        None => {
            let mut catalog = suivi_cli::import::Catalog::default();
            catalog.refresh(store.as_ref()).await?;
            catalog
                .only_school()
                .context("the store holds no school or several: name one with --school")?
        }
    };
    let gateway = Gateway::new(store)
        .await
        .context("reading the log into the write model")?;
    let report = suivi_cli::link::link(&gateway, school, &args.provider, &bytes).await?;
    if !report.errors.is_empty() {
        bad_lines(&args.file, &report.errors, "nothing linked");
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "{}: {} account(s) linked, {} already linked",
        args.file.display(),
        report.linked,
        report.already
    );
    Ok(ExitCode::SUCCESS)
}

async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    // Before anything is written: `suivi import DIR/*` on a generated directory names the
    // keys file among the files, and importing the others first would be a half import.
    for path in &args.files {
        if suivi_cli::import::is_keys_file(path)
            .with_context(|| format!("reading {}", path.display()))?
        {
            anyhow::bail!(
                "{}: {}; nothing was imported",
                path.display(),
                suivi_cli::import::KEYS_FILE_GIVEN
            );
        }
    }
    let store = open(&args.store).await?;
    if args.restore {
        // Checked before the keys are loaded: a refused restore changes nothing.
        suivi_cli::restore::require_empty(store.as_ref(), &args.store).await?;
    }
    if let Some(path) = &args.keys {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let report = suivi_cli::import::load_keys(store.as_ref(), &bytes).await?;
        if !report.errors.is_empty() {
            bad_lines(path, &report.errors, "no key loaded");
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
    if args.restore {
        return restore_files(&gateway, &args.files).await;
    }
    let options = ImportOptions {
        skip_bad: args.skip_bad,
        school_name: args.school_name,
        progress: true,
        dry_run: args.dry_run,
        quiz: args.quiz,
        class: args.class,
        subject: args.subject,
        create_missing: args.create_missing,
    };
    let mut importer = Importer::new(&gateway, options).await?;
    let mut failed = false;
    for (i, path) in args.files.iter().enumerate() {
        let report = importer.import_path(path, args.format).await?;
        if !report.errors.is_empty() {
            let mut err = std::io::stderr().lock();
            for e in &report.errors {
                writeln!(err, "{}: {e}", report.name)?;
            }
        }
        println!("{}", report.summary());
        if report.dry_run {
            for change in &report.changes {
                println!("  {change}");
            }
        }
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
