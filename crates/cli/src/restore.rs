//! `suivi import --restore FILE…`: `suivi export` files back into an empty store, exactly.
//!
//! A plain import records the events anew: the importing store gives them its positions
//! and its own `recorded_at` (when *it* recorded them). A restore is a backup coming back:
//! every event keeps its global position, stream version and `recorded_at`, so exporting
//! the restored store gives the same bytes as the export it was restored from. Each event
//! is still checked by the domain rules, through the gateway, before anything is written;
//! a file is written whole or not at all.

use crate::import::LineError;
use anyhow::bail;
use suivi_domain::RecordedEvent;
use suivi_projections::gateway::{CommandError, Gateway};
use suivi_store::EventStore;

/// What restoring one file did.
#[derive(Debug)]
pub struct RestoreReport {
    pub name: String,
    /// Events written (0 when refused).
    pub events: usize,
    /// The position of the last event written.
    pub last_position: u64,
    /// Why nothing of the file was written.
    pub errors: Vec<LineError>,
}

impl RestoreReport {
    pub fn summary(&self) -> String {
        if self.errors.is_empty() {
            format!(
                "{}: {} event(s) restored with their positions and recorded_at, up to position {}",
                self.name, self.events, self.last_position
            )
        } else {
            format!(
                "{}: {} bad line(s): nothing of this file was restored",
                self.name,
                self.errors.len()
            )
        }
    }
}

/// Refuses a store whose log is not empty: a restore puts events back where they were.
pub async fn require_empty(store: &dyn EventStore, store_url: &str) -> anyhow::Result<()> {
    let head = store.head().await?;
    if head != 0 {
        bail!(
            "the store {store_url} is not empty (its log ends at position {head}); \
             --restore restores into an empty store only (a plain import records the events \
             anew instead)"
        );
    }
    Ok(())
}

/// Restores one exported file (JSON Lines of `RecordedEvent`s, in log order).
pub async fn restore(gateway: &Gateway, name: &str, bytes: &[u8]) -> anyhow::Result<RestoreReport> {
    let mut report = RestoreReport {
        name: name.to_owned(),
        events: 0,
        last_position: 0,
        errors: Vec::new(),
    };
    let mut events = Vec::new();
    let mut lines = Vec::new();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        let Ok(text) = std::str::from_utf8(raw) else {
            report.errors.push(LineError {
                line,
                reason: "is not valid UTF-8".into(),
            });
            continue;
        };
        let text = text.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<RecordedEvent>(text) {
            Ok(event) => {
                events.push(event);
                lines.push(line);
            }
            Err(e) => report.errors.push(LineError {
                line,
                reason: format!(
                    "not an event as `suivi export` writes it (with global_position, \
                     stream_version and recorded_at): {e}"
                ),
            }),
        }
    }
    if !report.errors.is_empty() || events.is_empty() {
        return Ok(report);
    }
    let count = events.len();
    match gateway.restore_events(events).await {
        Ok(last) => {
            report.events = count;
            report.last_position = last;
        }
        Err(failure) => match failure.error {
            CommandError::Store(e) if !matches!(e, suivi_store::StoreError::Restore(_)) => {
                return Err(anyhow::Error::new(e).context("writing to the store"))
            }
            other => report.errors.push(LineError {
                line: lines.get(failure.index).copied().unwrap_or(0),
                reason: other.to_string(),
            }),
        },
    }
    Ok(report)
}
