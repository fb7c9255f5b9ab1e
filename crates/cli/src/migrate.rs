//! `suivi migrate --from URL --to URL`: copies a log into an empty store (typically the
//! embedded SQLite file into PostgreSQL) keeping event ids, streams, stream versions, order
//! and global positions, copies the key table of every pupil the log registers, then proves
//! the copy with a checksum computed over both stores.
//!
//! The events are written with `EventStore::restore`, so each keeps the `recorded_at` the
//! source gave it: a migrated log says when the school recorded each fact, not when it was
//! moved. The checksum is SHA-256 over every event in log order: position, id, stream,
//! version, type, schema version, `occurred_at` and `recorded_at` (µs), school, actor,
//! correlation, causation and the payload bytes.

use crate::progress;
use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use std::fmt;
use suivi_domain::events::PupilRegistered;
use suivi_domain::{Event, RecordedEvent};
use suivi_store::EventStore;

const BATCH: usize = 5_000;

/// What a checksum covers: how many events, up to which position, and their digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogChecksum {
    pub events: u64,
    pub head: u64,
    pub sha256: String,
}

impl fmt::Display for LogChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} events, head {}, sha256 {}",
            self.events, self.head, self.sha256
        )
    }
}

fn feed(hash: &mut Sha256, event: &RecordedEvent) {
    let opt = |id: Option<String>| id.unwrap_or_default();
    let line = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}",
        event.global_position,
        event.event_id,
        event.stream,
        event.stream_version,
        event.event_type,
        event.schema_version,
        event.occurred_at.timestamp_micros(),
        event.recorded_at.timestamp_micros(),
        event.school_id,
        event.actor,
        opt(event.correlation_id.map(|c| c.to_string())),
        opt(event.causation_id.map(|c| c.to_string())),
    );
    hash.update(line.as_bytes());
    hash.update(event.payload.get().as_bytes());
    hash.update(b"\n");
}

/// The checksum of a whole log, read in batches from the start.
pub async fn log_checksum(store: &dyn EventStore) -> anyhow::Result<LogChecksum> {
    let mut hash = Sha256::new();
    let mut after = 0;
    let mut events = 0;
    loop {
        let batch = store.read_all(after, BATCH).await?;
        if batch.is_empty() {
            break;
        }
        for event in &batch {
            if event.global_position != after + 1 {
                bail!(
                    "the log has a gap: position {} follows {after}",
                    event.global_position
                );
            }
            feed(&mut hash, event);
            after = event.global_position;
        }
        events += batch.len() as u64;
    }
    Ok(LogChecksum {
        events,
        head: after,
        sha256: format!("{:x}", hash.finalize()),
    })
}

#[derive(Clone, Debug)]
pub struct CopyReport {
    pub events: u64,
    pub keys: u64,
    /// Pupils the log registers whose key the source no longer holds (erased).
    pub erased: u64,
    pub checksum: LogChecksum,
}

impl fmt::Display for CopyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "copied {} events and {} pupil keys ({} pupils erased: no key to copy)\n\
             checksum of both logs: {}",
            self.events, self.keys, self.erased, self.checksum
        )
    }
}

/// Copies `from` into the empty store `to`, then checks both checksums are equal.
pub async fn copy_log(
    from: &dyn EventStore,
    to: &dyn EventStore,
    show_progress: bool,
) -> anyhow::Result<CopyReport> {
    let target_head = to.head().await?;
    if target_head != 0 {
        bail!(
            "the target store is not empty (its log ends at position {target_head}); \
             migrate copies into an empty store only"
        );
    }
    let head = from.head().await?;
    let bar = progress::bar(show_progress, head, "copying");
    let mut after = 0;
    let mut pupils = Vec::new();
    loop {
        let batch = from.read_all(after, BATCH).await?;
        let Some(last) = batch.last() else {
            break;
        };
        for event in &batch {
            if event.event_type == "PupilRegistered" {
                match event.decode() {
                    Ok(Event::PupilRegistered(PupilRegistered { pupil_id, .. })) => {
                        pupils.push(pupil_id)
                    }
                    Ok(_) => {}
                    Err(e) => bail!(
                        "event at position {} does not decode: {e}",
                        event.global_position
                    ),
                }
            }
        }
        let last_position = last.global_position;
        let written = to
            .restore(batch)
            .await
            .with_context(|| format!("writing the events after position {after} to the target"))?;
        if written != last_position {
            bail!(
                "the target placed the events after position {after} up to {written}, not \
                 up to {last_position}"
            );
        }
        after = last_position;
        bar.set_position(after);
    }
    bar.finish_and_clear();

    let mut keys = 0;
    let mut erased = 0;
    for pupil in pupils {
        match from.get_key(pupil).await? {
            Some(key) => {
                to.put_key(pupil, key).await?;
                keys += 1;
            }
            None => erased += 1,
        }
    }

    let source = log_checksum(from).await?;
    let target = log_checksum(to).await?;
    if source != target {
        bail!("the copy differs from the source:\n  source: {source}\n  target: {target}");
    }
    Ok(CopyReport {
        events: target.events,
        keys,
        erased,
        checksum: target,
    })
}
