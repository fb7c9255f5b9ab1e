//! Export → import → export gives the same log (all but `recorded_at`, which is each store's
//! own time by design), export → `import --restore` → export the same bytes, and the
//! generated fixture imports into the log it describes.

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

/// `import --restore` puts an export back exactly: exporting the restored store gives the
/// same bytes, `recorded_at` included. It restores into an empty store only.
#[test]
fn a_restored_export_exports_the_same_bytes() {
    let s = Scratch::new();
    let first = s.store("first.db");
    // Two imports, so the source's events carry more than one `recorded_at`.
    let csv = repo_file("fixtures/grades-sample.csv");
    assert!(suivi(&["import", "--store", &first, csv.to_str().unwrap()]).ok());
    let more = s.write(
        "more.csv",
        "class;pupil_id;last_name;first_name;subject;subject_kind;assessment;date;period;score;scale;coefficient\n\
         2nde 3;E1001;Martin;Léa;Mathématiques;general;DS 2;16/10/2025;T1;12;20;1\n"
            .as_bytes(),
    );
    let run = suivi(&["import", "--store", &first, more.to_str().unwrap()]);
    assert!(run.ok(), "{}", run.stderr);
    let a = s.path("a.jsonl");
    assert!(suivi(&["export", "--store", &first, "--out", a.to_str().unwrap()]).ok());
    let source = read(&a);
    let instants: std::collections::BTreeSet<&str> =
        source.iter().map(|e| e.recorded_at.as_str()).collect();
    assert!(instants.len() >= 2, "{instants:?}");

    let restored = s.store("restored.db");
    let run = suivi(&[
        "import",
        "--restore",
        "--store",
        &restored,
        a.to_str().unwrap(),
    ]);
    assert!(run.ok(), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("{} event(s) restored", source.len())),
        "{}",
        run.stdout
    );
    let b = s.path("b.jsonl");
    assert!(suivi(&["export", "--store", &restored, "--out", b.to_str().unwrap()]).ok());
    let (a_bytes, b_bytes) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(!a_bytes.is_empty());
    assert!(a_bytes == b_bytes, "the restored store exports other bytes");

    // Into a store that is not empty: refused, and nothing changes.
    let again = suivi(&[
        "import",
        "--restore",
        "--store",
        &restored,
        a.to_str().unwrap(),
    ]);
    assert!(!again.ok(), "{}", again.stdout);
    assert!(
        again.stderr.contains(&format!(
            "is not empty (its log ends at position {})",
            source.len()
        )) && again
            .stderr
            .contains("--restore restores into an empty store only"),
        "{}",
        again.stderr
    );
    let c = s.path("c.jsonl");
    assert!(suivi(&["export", "--store", &restored, "--out", c.to_str().unwrap()]).ok());
    assert!(
        std::fs::read(&c).unwrap() == a_bytes,
        "the refused restore wrote"
    );

    // A plain import keeps its meaning: the importing store's clock.
    let plain = s.store("plain.db");
    assert!(suivi(&["import", "--store", &plain, a.to_str().unwrap()]).ok());
    let d = s.path("d.jsonl");
    assert!(suivi(&["export", "--store", &plain, "--out", d.to_str().unwrap()]).ok());
    let imported = read(&d);
    assert_eq!(imported.len(), source.len());
    for (x, y) in source.iter().zip(&imported) {
        assert_eq!(x.key(), y.key());
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap();
        assert!(
            at(&y.recorded_at) > at(&x.recorded_at),
            "{} is not later than {}",
            y.recorded_at,
            x.recorded_at
        );
    }
}
