//! The log, read once from the store and flattened into polars tables (`Frames`).
//!
//! Reading and decoding is the only step shared with the projections (both go through
//! `suivi_domain`'s decoder and upcasters); every figure is then computed by polars from
//! these tables, independently of the folds.

mod flatten;
mod frames;
mod ids;
mod table;

pub use flatten::subject_kind;
pub use frames::Frames;
pub use ids::Ids;
pub use table::{epoch_days, millis, DATETIME};

use crate::error::Result;
use chrono::{DateTime, Utc};
use polars::prelude::*;
use std::collections::HashMap;
use suivi_domain::identity::Sealed;
use suivi_domain::ids::PupilId;
use suivi_domain::RecordedEvent;
use suivi_store::EventStore;

/// Events read from the store per `read_all` call.
const BATCH: usize = 20_000;

/// The flattened log.
#[derive(Clone, Debug)]
pub struct Log {
    pub frames: Frames,
    pub ids: Ids,
    identities: HashMap<PupilId, Sealed>,
    /// Position of the last event read.
    pub head: u64,
    /// Events read, and those that did not decode (skipped, like the projections do).
    pub events: u64,
    pub undecodable: u64,
    /// Set on a view cut with `as_of`.
    pub as_of: Option<DateTime<Utc>>,
}

/// Accumulates events into a `Log`.
pub struct LogBuilder {
    flat: flatten::Flattener,
    head: u64,
    events: u64,
    undecodable: u64,
}

impl Default for LogBuilder {
    fn default() -> Self {
        LogBuilder {
            flat: flatten::Flattener::new(),
            head: 0,
            events: 0,
            undecodable: 0,
        }
    }
}

impl LogBuilder {
    pub fn push(&mut self, recorded: &RecordedEvent) {
        self.events += 1;
        self.head = self.head.max(recorded.global_position);
        match recorded.decode() {
            Ok(event) => self.flat.push(
                recorded.global_position,
                recorded.occurred_at,
                &recorded.school_id.0,
                &event,
            ),
            Err(_) => {
                // The decoder's message may quote the payload: log the position and type only.
                self.undecodable += 1;
                tracing::warn!(
                    position = recorded.global_position,
                    event_type = %recorded.event_type,
                    "skipping an undecodable event"
                );
            }
        }
    }

    pub fn finish(self) -> Result<Log> {
        Ok(Log {
            frames: self.flat.b.finish()?,
            ids: self.flat.ids,
            identities: self.flat.identities,
            head: self.head,
            events: self.events,
            undecodable: self.undecodable,
            as_of: None,
        })
    }
}

impl Log {
    /// Flattens events already in memory (tests, or a log read for another purpose too).
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> Result<Log> {
        let mut builder = LogBuilder::default();
        for e in events {
            builder.push(e);
        }
        builder.finish()
    }

    /// The log as it stood at `at`: the events with `occurred_at <= at`, as the projections'
    /// *as of* views see it.
    pub fn as_of(&self, at: DateTime<Utc>) -> Result<Log> {
        let limit = millis(at);
        let frames = self.frames.try_map(|df| {
            df.clone()
                .lazy()
                .filter(col("at").cast(DataType::Int64).lt_eq(lit(limit)))
                .collect()
        })?;
        Ok(Log {
            frames,
            as_of: Some(at),
            ..self.clone()
        })
    }

    /// The sealed identity of a pupil (to open with their key).
    pub fn identity(&self, pupil: PupilId) -> Option<&Sealed> {
        self.identities.get(&pupil)
    }

    /// The key of a UUID in the tables, if the log mentions it.
    pub fn key(&self, id: &uuid::Uuid) -> Option<u32> {
        self.ids.get(id)
    }

    /// Every pupil registered in the log.
    pub fn pupils(&self) -> Vec<PupilId> {
        let mut pupils: Vec<PupilId> = self.identities.keys().copied().collect();
        pupils.sort();
        pupils
    }

    pub fn pupil_id(&self, key: u32) -> PupilId {
        PupilId(self.ids.uuid(key))
    }
}

/// Reads the whole log from the store and flattens it.
pub async fn load_log(store: &dyn EventStore) -> Result<Log> {
    let started = std::time::Instant::now();
    let mut builder = LogBuilder::default();
    let mut after = 0;
    loop {
        let batch = store.read_all(after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.global_position;
        for e in &batch {
            builder.push(e);
        }
    }
    let log = builder.finish()?;
    tracing::info!(
        events = log.events,
        undecodable = log.undecodable,
        head = log.head,
        ms = started.elapsed().as_millis() as u64,
        "log flattened"
    );
    Ok(log)
}
