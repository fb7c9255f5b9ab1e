//! `suivi demo`: the demo school loaded into a fresh store.

use super::*;

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Store URL (default: a new SQLite file in a temporary directory).
    #[arg(long, env = "SUIVI_STORE")]
    store: Option<String>,
}

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let url = match args.store {
        Some(url) => url,
        None => suivi_cli::demo::fresh_store_url()?,
    };
    let store = open(&url).await?;
    let summary = suivi_cli::demo::load_demo(store).await?;
    println!("store: {url}\n{summary}");
    Ok(ExitCode::SUCCESS)
}
