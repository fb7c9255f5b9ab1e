//! `suivi migrate`: a PostgreSQL schema created or upgraded, or a log copied.

use super::*;

#[derive(Args)]
pub(crate) struct MigrateArgs {
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

pub(crate) async fn migrate_command(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    if let (Some(from), Some(to)) = (&args.from, &args.to) {
        if is_postgres(to) {
            let applied = suivi_store::postgres::PostgresStore::migrate(to).await?;
            report_migrations(to, &applied);
        }
        let source = open(from).await?;
        let target = open(to).await?;
        let report = suivi_cli::migrate::copy_log(source.as_ref(), target.as_ref(), true).await?;
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

pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

pub(crate) fn report_migrations(url: &str, applied: &[i32]) {
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
