//! `suivi export`: the log as JSON Lines.

use super::*;

#[derive(Args)]
pub(crate) struct ExportArgs {
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

pub(crate) async fn export_command(args: ExportArgs) -> anyhow::Result<ExitCode> {
    match args.format.as_str() {
        "jsonl" => {}
        #[cfg(feature = "analytics")]
        "parquet" | "csv" => {
            let Some(out) = args.out else {
                anyhow::bail!("--format {} needs --out DIR", args.format);
            };
            return super::analytics::run_table_export(super::analytics::TableExportArgs {
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
            suivi_cli::export::export(store.as_ref(), args.from, &mut out, true).await?
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            suivi_cli::export::export(store.as_ref(), args.from, &mut out, false).await?
        }
    };
    if let Some(path) = &args.out {
        eprintln!("{count} event(s) written to {}", path.display());
    }
    close(store).await;
    Ok(ExitCode::SUCCESS)
}
