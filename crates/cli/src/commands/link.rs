//! `suivi link`: the identity provider's accounts linked from a CSV.

use super::*;

#[derive(Args)]
pub(crate) struct LinkArgs {
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

pub(crate) async fn link(args: LinkArgs) -> anyhow::Result<ExitCode> {
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
