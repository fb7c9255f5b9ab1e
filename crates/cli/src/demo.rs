//! The demo school: `fixtures/demo`, embedded in the binary so that `suivi demo` (and the
//! server's `--demo`) work from anywhere. `load_demo` imports it like `suivi import --keys
//! keys.jsonl events.jsonl` would — keys first, then the events through the gateway's
//! domain-checked import — and summarises what the store then holds, without a name.

use crate::import::{load_keys, Format, ImportOptions, Importer};
use anyhow::Context;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use suivi_domain::ids::SchoolId;
use suivi_projections::gateway::Gateway;
use suivi_store::EventStore;

/// `fixtures/demo/events.jsonl`: generated with
/// `suivi fixtures generate --out fixtures/demo --seed 42 --classes 3 --pupils-per-class 24`.
pub const DEMO_EVENTS: &str = include_str!("../../../fixtures/demo/events.jsonl");
/// `fixtures/demo/keys.jsonl`: the demo pupils' data keys (fixture only).
pub const DEMO_KEYS: &str = include_str!("../../../fixtures/demo/keys.jsonl");

#[derive(Clone, Debug)]
pub struct ClassSummary {
    pub name: String,
    /// Pupils enrolled at the end of the year.
    pub pupils: usize,
}

#[derive(Clone, Debug)]
pub struct DemoSummary {
    pub school_id: Option<SchoolId>,
    pub events_written: usize,
    pub already_present: usize,
    pub keys_loaded: usize,
    /// Every event of the log by type.
    pub by_type: BTreeMap<String, u64>,
    pub classes: Vec<ClassSummary>,
    pub pupils: usize,
    /// The log's last global position.
    pub head: u64,
    /// The last few events: position, when, type, stream.
    pub latest: Vec<(u64, String, String, String)>,
}

/// Loads the demo school into a store (idempotent: a second load writes nothing).
pub async fn load_demo(store: Arc<dyn EventStore>) -> anyhow::Result<DemoSummary> {
    let gateway = Gateway::new(store)
        .await
        .context("reading the log into the write model")?;
    load_demo_into(&gateway).await
}

/// As `load_demo`, through a gateway the caller keeps using (the server's).
pub async fn load_demo_into(gateway: &Gateway) -> anyhow::Result<DemoSummary> {
    let store = gateway.store().clone();
    let keys = load_keys(store.as_ref(), DEMO_KEYS.as_bytes()).await?;
    if let Some(e) = keys.errors.first() {
        anyhow::bail!("the demo keys do not load: {e}");
    }
    let mut importer = Importer::new(gateway, ImportOptions::default()).await?;
    let report = importer
        .import_bytes(
            "fixtures/demo/events.jsonl",
            Format::Jsonl,
            DEMO_EVENTS.as_bytes(),
        )
        .await?;
    if let Some(e) = report.errors.first() {
        anyhow::bail!(
            "the demo events do not import ({} bad lines), first: {e}",
            report.errors.len()
        );
    }
    let mut summary = summarise(store.as_ref()).await?;
    summary.events_written = report.events_written;
    summary.already_present = report.already_present;
    summary.keys_loaded = keys.loaded;
    if let Some(school) = summary.school_id {
        let (classes, pupils) = gateway
            .with_state(school, |state| {
                let mut classes: Vec<ClassSummary> = state
                    .classes
                    .iter()
                    .map(|(id, class)| ClassSummary {
                        name: class.name.clone(),
                        pupils: state
                            .pupils
                            .values()
                            .filter(|p| p.current_class() == Some(*id))
                            .count(),
                    })
                    .collect();
                classes.sort_by(|a, b| a.name.cmp(&b.name));
                (classes, state.pupils.len())
            })
            .await
            .map_err(|e| anyhow::anyhow!("reading the demo school: {e}"))?;
        summary.classes = classes;
        summary.pupils = pupils;
    }
    Ok(summary)
}

async fn summarise(store: &dyn EventStore) -> anyhow::Result<DemoSummary> {
    let mut summary = DemoSummary {
        school_id: None,
        events_written: 0,
        already_present: 0,
        keys_loaded: 0,
        by_type: BTreeMap::new(),
        classes: Vec::new(),
        pupils: 0,
        head: 0,
        latest: Vec::new(),
    };
    let mut after = 0;
    loop {
        let batch = store.read_all(after, 10_000).await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.global_position;
        for event in &batch {
            if event.event_type == "SchoolRegistered" && summary.school_id.is_none() {
                summary.school_id = Some(event.school_id);
            }
            *summary.by_type.entry(event.event_type.clone()).or_default() += 1;
        }
        let tail = batch.len().saturating_sub(5);
        let latest = batch.get(tail..).unwrap_or_default().iter().map(|e| {
            (
                e.global_position,
                e.occurred_at.to_rfc3339(),
                e.event_type.clone(),
                e.stream.to_string(),
            )
        });
        summary.latest.extend(latest);
        let keep = summary.latest.len().saturating_sub(5);
        summary.latest.drain(..keep);
    }
    summary.head = store.head().await?;
    Ok(summary)
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "demo school loaded: {} event(s) written, {} already present, {} key(s) loaded",
            self.events_written, self.already_present, self.keys_loaded
        )?;
        if let Some(school) = self.school_id {
            writeln!(f, "school {school}")?;
        }
        writeln!(
            f,
            "{} pupils in {} classes:",
            self.pupils,
            self.classes.len()
        )?;
        for class in &self.classes {
            writeln!(f, "  {:<16} {:>3} pupils", class.name, class.pupils)?;
        }
        let total: u64 = self.by_type.values().sum();
        writeln!(f, "{total} events in the log, by type:")?;
        for (event_type, n) in &self.by_type {
            writeln!(f, "  {event_type:<22} {n:>8}")?;
        }
        writeln!(f, "log head: position {}; latest events:", self.head)?;
        for (position, at, event_type, stream) in &self.latest {
            writeln!(f, "  {position:>7}  {at}  {event_type:<18} {stream}")?;
        }
        Ok(())
    }
}

/// A new SQLite store in a fresh temporary directory (kept, so it can be explored after).
pub fn fresh_store_url() -> anyhow::Result<String> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("suivi-demo-{}-{stamp}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(format!("sqlite:{}", dir.join("suivi.db").display()))
}
