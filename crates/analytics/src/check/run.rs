//! `suivi check` against a store: one pass over the log feeds both methods (the polars
//! tables and the incremental fold), then every figure is compared. Timings say what each
//! method cost in the same run.

use super::{check, CheckReport};
use crate::error::Result;
use crate::log::LogBuilder;
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};
use suivi_projections::ReadModels;
use suivi_store::EventStore;

const BATCH: usize = 20_000;

#[derive(Clone, Copy, Debug, Default)]
pub struct CheckTimings {
    /// Reading the store.
    pub read: Duration,
    /// Decoding and flattening into polars tables.
    pub flatten: Duration,
    /// The incremental projections folding the same events (decoding included).
    pub fold: Duration,
    /// Recomputing the figures with polars and comparing them with the projections'.
    pub compare: Duration,
}

/// Reads the whole log once and checks the projections folded from it against polars.
pub async fn check_store(
    store: &dyn EventStore,
    now: DateTime<Utc>,
) -> Result<(CheckReport, CheckTimings)> {
    let mut t = CheckTimings::default();
    let mut builder = LogBuilder::default();
    let mut models = ReadModels::new();
    let mut after = 0;
    loop {
        let started = Instant::now();
        let batch = store.read_all(after, BATCH).await?;
        t.read += started.elapsed();
        let Some(last) = batch.last() else { break };
        after = last.global_position;
        let started = Instant::now();
        for e in &batch {
            builder.push(e);
        }
        t.flatten += started.elapsed();
        let started = Instant::now();
        for e in &batch {
            // Undecodable events are counted in the fold's stats; the batch side counts its own.
            let _ = models.apply_recorded(e);
        }
        t.fold += started.elapsed();
    }
    let started = Instant::now();
    let log = builder.finish()?;
    t.flatten += started.elapsed();
    let started = Instant::now();
    let report = check(&log, &models, now)?;
    t.compare += started.elapsed();
    Ok((report, t))
}
