//! RGPD with the real binary on a real SQLite file: a pupil's file is exported whole and
//! decrypted; erasure destroys the key and nothing else — the log is unchanged byte for
//! byte, past class statistics keep their figures — and afterwards no query, export or
//! copy of the database reveals the pupil's name or key.

mod common;
use common::*;
use serde_json::Value;

const CLASSES: [&str; 3] = ["2nde 1", "1re G1", "1re MELEC"];
const PERIODS: [&str; 3] = ["T1", "T2", "T3"];

/// The first pupil of the demo keys file: id and key bytes.
fn first_pupil() -> (String, Vec<u8>) {
    let keys = std::fs::read_to_string(repo_file("fixtures/demo/keys.jsonl")).expect("keys");
    let line: Value = serde_json::from_str(keys.lines().next().expect("a key")).expect("JSON");
    let id = line["pupil_id"].as_str().expect("id").to_owned();
    let hex = line["key"].as_str().expect("key");
    let key = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    (id, key)
}

fn demo_store(s: &Scratch) -> String {
    let store = s.store("rgpd.db");
    let run = suivi(&[
        "import",
        "--store",
        &store,
        "--keys",
        repo_file("fixtures/demo/keys.jsonl")
            .to_str()
            .expect("path"),
        repo_file("fixtures/demo/events.jsonl")
            .to_str()
            .expect("path"),
    ]);
    assert!(run.ok(), "{}", run.stderr);
    store
}

/// Every class's figures for every period, as the dashboards serve them.
fn statistics(store: &str) -> String {
    let mut out = String::new();
    for class in CLASSES {
        for period in PERIODS {
            let query = format!(
                r#"{{ class(name: "{class}", period: "{period}") {{ name subjects {{ name mean min max gradedCount }} pupils {{ id average }} }} }}"#
            );
            let run = suivi(&["query", "--store", store, &query]);
            assert!(run.ok(), "{}\n{}", run.stdout, run.stderr);
            out.push_str(&run.stdout);
        }
    }
    out
}

fn class_names(store: &str) -> String {
    let run = suivi(&[
        "query",
        "--store",
        store,
        "{ classes { name pupils { id displayName } } }",
    ]);
    assert!(run.ok(), "{}\n{}", run.stdout, run.stderr);
    run.stdout
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn export_then_erasure_forgets_the_name_and_keeps_the_history() {
    let s = Scratch::new();
    let store = demo_store(&s);
    let (pupil, key) = first_pupil();

    // The pupil's file: identity opened, and every event naming the pupil — counted here
    // straight from the fixture file, a second method.
    let file_path = s.path("pupil.json");
    let run = suivi(&[
        "export-pupil",
        "--store",
        &store,
        &pupil,
        "--out",
        file_path.to_str().expect("path"),
    ]);
    assert!(run.ok(), "{}", run.stderr);
    let file: Value =
        serde_json::from_slice(&std::fs::read(&file_path).expect("file")).expect("JSON");
    assert_eq!(file["pupil_id"], pupil.as_str());
    assert_eq!(file["identity"]["status"], "present");
    let last = file["identity"]["last_name"]
        .as_str()
        .expect("last name")
        .to_owned();
    let first = file["identity"]["first_name"]
        .as_str()
        .expect("first name")
        .to_owned();
    let display = format!("{} {first}", last.to_uppercase());
    let fixture = std::fs::read_to_string(repo_file("fixtures/demo/events.jsonl")).expect("events");
    let naming: Vec<&str> = fixture.lines().filter(|l| l.contains(&pupil)).collect();
    assert_eq!(
        file["events"].as_array().expect("events").len(),
        naming.len()
    );
    let guardians = naming
        .iter()
        .filter(|l| l.contains("\"GuardianLinked\""))
        .count();
    assert_eq!(
        file["guardians"].as_array().expect("guardians").len(),
        guardians
    );
    assert!(guardians > 0, "the demo links guardians to every pupil");
    assert!(file["guardians"][0]["contact"]["name"].is_string());

    // Before erasure the name is served (the checks below can see it).
    let names_before = class_names(&store);
    assert!(
        names_before.contains(&display),
        "{display} not in {names_before}"
    );
    let stats_before = statistics(&store);
    let log_before = suivi(&["export", "--store", &store]).stdout;
    assert!(!log_before.is_empty());
    // The log never held the name in clear: it is sealed.
    assert!(!log_before.contains(&display));

    // The key is in the database file now: the check after erasure can fail.
    let db_bytes = std::fs::read(s.path("rgpd.db")).expect("db file");
    let wal_bytes = std::fs::read(s.path("rgpd.db-wal")).unwrap_or_default();
    assert!(contains(&db_bytes, &key) || contains(&wal_bytes, &key));

    // Without --yes nothing happens.
    let refused = suivi(&["erase-pupil", "--store", &store, &pupil]);
    assert!(!refused.ok());
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(class_names(&store).contains(&display));
    // An unknown pupil is refused, not "erased".
    let unknown = suivi(&[
        "erase-pupil",
        "--store",
        &store,
        "0198ef79-0000-7000-8000-000000000000",
        "--yes",
    ]);
    assert!(!unknown.ok());
    assert!(unknown.stderr.contains("no pupil"), "{}", unknown.stderr);

    let erased = suivi(&["erase-pupil", "--store", &store, &pupil, "--yes"]);
    assert!(erased.ok(), "{}", erased.stderr);

    // The log is unchanged byte for byte; past statistics keep their figures.
    let log_after = suivi(&["export", "--store", &store]).stdout;
    assert_eq!(log_after, log_before);
    assert_eq!(statistics(&store), stats_before);

    // Every output made after erasure: no name.
    let names_after = class_names(&store);
    assert!(!names_after.contains(&display), "{names_after}");
    assert!(
        names_after.contains(&pupil),
        "the pupil is still listed, as erased"
    );
    let run = suivi(&["export-pupil", "--store", &store, &pupil]);
    assert!(run.ok(), "{}", run.stderr);
    let after: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(after["identity"]["status"], "erased");
    assert!(after["guardians"][0]["contact"].is_null());
    assert_eq!(after["events"], file["events"]);
    for output in [&run.stdout, &names_after, &log_after] {
        assert!(!output.contains(&display));
    }
    assert!(!run.stdout.contains(&format!("\"{last}\"")));

    // The database files (a backup would copy them): neither the name nor the key.
    for entry in std::fs::read_dir(s.dir.path()).expect("dir") {
        let path = entry.expect("entry").path();
        if !path.to_string_lossy().contains("rgpd.db") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("db file");
        assert!(!contains(&bytes, display.as_bytes()), "{}", path.display());
        assert!(
            !contains(&bytes, &key),
            "the key survives in {}",
            path.display()
        );
    }
}
