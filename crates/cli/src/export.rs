//! `suivi export`: the log as JSON Lines, one `RecordedEvent` per line, in log order.
//!
//! `suivi import` reads it back into an identical log: same event ids, streams, stream
//! versions and payloads (byte for byte), and — when imported into an empty store — the same
//! global positions. `recorded_at` is the importing store's own time, by design: it says when
//! *that* store recorded the event. `suivi import --restore` instead puts the file back as
//! it is, `recorded_at` included, into an empty store (`crate::restore`). The export carries
//! no keys: sealed identities stay sealed, and can only be opened where the key table is.

use crate::progress;
use std::io::Write;
use suivi_store::EventStore;

const BATCH: usize = 10_000;

/// Writes the events from position `from` (inclusive; positions start at 1) to the head.
/// Returns how many were written.
pub async fn export(
    store: &dyn EventStore,
    from: u64,
    out: &mut impl Write,
    show_progress: bool,
) -> anyhow::Result<u64> {
    let head = store.head().await?;
    let mut after = from.saturating_sub(1);
    let bar = progress::bar(show_progress, head.saturating_sub(after), "exporting");
    let mut written = 0u64;
    let mut line = Vec::with_capacity(1024);
    loop {
        let batch = store.read_all(after, BATCH).await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.global_position;
        for event in &batch {
            line.clear();
            serde_json::to_writer(&mut line, event)?;
            line.push(b'\n');
            out.write_all(&line)?;
        }
        written += batch.len() as u64;
        bar.set_position(written);
    }
    out.flush()?;
    bar.finish_and_clear();
    tracing::info!(events = written, from, "exported");
    Ok(written)
}
