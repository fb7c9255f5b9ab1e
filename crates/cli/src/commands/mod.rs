//! One module per command: its arguments (clap) beside its body. `main` parses and
//! dispatches; the work itself is in the library (`suivi_cli`) and the crates below it.

#[cfg(feature = "analytics")]
pub(crate) mod analytics;
pub(crate) mod demo;
pub(crate) mod export;
pub(crate) mod fixtures;
pub(crate) mod import;
pub(crate) mod link;
pub(crate) mod migrate;
pub(crate) mod pupil;
pub(crate) mod query;
pub(crate) mod serve;
pub(crate) mod token;

pub(crate) use anyhow::Context;
pub(crate) use clap::{Args, Subcommand};
pub(crate) use std::io::Write;
pub(crate) use std::path::{Path, PathBuf};
pub(crate) use std::process::ExitCode;
pub(crate) use suivi_cli::import::{ImportOptions, Importer};
pub(crate) use suivi_cli::progress;
pub(crate) use suivi_projections::gateway::Gateway;

/// The only registered school of a store.
pub(crate) async fn only_school(store: &str) -> anyhow::Result<uuid::Uuid> {
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

/// Drops a store off the runtime's threads: the embedded store's writer finishes what is
/// queued and fsyncs before the process exits.
pub(crate) async fn close(store: std::sync::Arc<dyn suivi_store::EventStore>) {
    let _ = tokio::task::spawn_blocking(move || drop(store)).await;
}

pub(crate) async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn suivi_store::EventStore>> {
    suivi_store::open(url)
        .await
        .with_context(|| format!("opening the store {url}"))
}

/// `FILE: N bad line(s), OUTCOME:` and each bad line, on stderr.
pub(crate) fn bad_lines(path: &Path, errors: &[suivi_cli::import::LineError], outcome: &str) {
    eprintln!(
        "{}: {} bad line(s), {outcome}:",
        path.display(),
        errors.len()
    );
    for e in errors {
        eprintln!("  {e}");
    }
}
