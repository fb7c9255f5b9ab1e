//! Export → import → export gives the same log (all but `recorded_at`, which is each store's
//! own time by design), and the generated fixture imports into the log it describes.

mod common;
use common::*;
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Exported {
    global_position: u64,
    stream: String,
    stream_version: u64,
    event_id: String,
    event_type: String,
    schema_version: u16,
    occurred_at: String,
    recorded_at: String,
    school_id: String,
    actor: String,
    correlation_id: Option<String>,
    causation_id: Option<String>,
    payload: Box<RawValue>,
}

impl Exported {
    /// Every field but `recorded_at`, payload as its exact text.
    fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}|{:?}|{:?}|{}",
            self.global_position,
            self.stream,
            self.stream_version,
            self.event_id,
            self.event_type,
            self.schema_version,
            self.occurred_at,
            self.school_id,
            self.actor,
            self.correlation_id,
            self.causation_id,
            self.payload.get()
        )
    }
}

fn read(path: &std::path::Path) -> Vec<Exported> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[derive(Deserialize)]
struct Generated {
    event_id: String,
    event_type: String,
    occurred_at: String,
    actor: String,
    payload: Box<RawValue>,
}

#[test]
fn export_import_export_is_identical_but_for_recorded_at() {
    let s = Scratch::new();
    let dir = s.path("gen");
    let run = suivi(&[
        "fixtures",
        "generate",
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        "7",
        "--classes",
        "2",
        "--pupils-per-class",
        "10",
    ]);
    assert!(run.ok(), "{}", run.stderr);
    let (events, keys) = (dir.join("events.jsonl"), dir.join("keys.jsonl"));

    let first = s.store("first.db");
    let run = suivi(&[
        "import",
        "--store",
        &first,
        "--keys",
        keys.to_str().unwrap(),
        events.to_str().unwrap(),
    ]);
    assert!(run.ok(), "{}", run.stderr);
    let a = s.path("a.jsonl");
    assert!(suivi(&["export", "--store", &first, "--out", a.to_str().unwrap()]).ok());

    let second = s.store("second.db");
    assert!(suivi(&["import", "--store", &second, a.to_str().unwrap()]).ok());
    let b = s.path("b.jsonl");
    assert!(suivi(&["export", "--store", &second, "--out", b.to_str().unwrap()]).ok());

    let (a, b) = (read(&a), read(&b));
    assert!(a.len() > 1_000, "{}", a.len());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.key(), y.key());
        assert!(!x.recorded_at.is_empty() && !y.recorded_at.is_empty());
    }
    // Positions are 1..=n without a gap.
    for (i, e) in a.iter().enumerate() {
        assert_eq!(e.global_position, i as u64 + 1);
    }

    // The log is the generated file, in its order, with its ids and exact payloads.
    let generated: Vec<Generated> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(generated.len(), a.len());
    for (g, e) in generated.iter().zip(&a) {
        assert_eq!(g.event_id, e.event_id);
        assert_eq!(g.event_type, e.event_type);
        assert_eq!(g.actor, e.actor);
        assert_eq!(g.payload.get(), e.payload.get());
        let (g_at, e_at) = (
            chrono::DateTime::parse_from_rfc3339(&g.occurred_at).unwrap(),
            chrono::DateTime::parse_from_rfc3339(&e.occurred_at).unwrap(),
        );
        assert_eq!(g_at, e_at);
    }

    // Export from a position.
    let tail = suivi(&["export", "--store", &second, "--from", "11"]);
    assert!(tail.ok());
    let tail: Vec<Exported> = tail
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(tail.len(), a.len() - 10);
    assert_eq!(tail[0].global_position, 11);
}
