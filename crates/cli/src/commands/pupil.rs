//! `suivi export-pupil` and `suivi erase-pupil`: a pupil's RGPD rights.

use super::*;

#[derive(Args)]
pub(crate) struct PupilArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// The pupil's id.
    pupil_id: uuid::Uuid,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct EraseArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// The pupil's id.
    pupil_id: uuid::Uuid,
    /// Confirm: erasure cannot be undone.
    #[arg(long)]
    yes: bool,
}

pub(crate) async fn export_pupil(args: PupilArgs) -> anyhow::Result<ExitCode> {
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

pub(crate) async fn erase_pupil(args: EraseArgs) -> anyhow::Result<ExitCode> {
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
