//! `suivi demo`: the embedded demo school into a real SQLite store, summarised without a name.

mod common;
use common::*;
use suivi_domain::identity::{open, PupilIdentity, PupilKey, Sealed};
use suivi_domain::ids::PupilId;

/// The demo pupils' names, opened with the demo keys — to check the summary shows none.
fn demo_names() -> Vec<String> {
    let keys: std::collections::HashMap<String, String> =
        std::fs::read_to_string(repo_file("fixtures/demo/keys.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["pupil_id"].as_str().unwrap().to_owned(),
                    v["key"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    let mut names = Vec::new();
    for line in std::fs::read_to_string(repo_file("fixtures/demo/events.jsonl"))
        .unwrap()
        .lines()
    {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["event_type"] != "PupilRegistered" {
            continue;
        }
        let pupil: PupilId = v["payload"]["pupil_id"].as_str().unwrap().parse().unwrap();
        let sealed: Sealed = serde_json::from_value(v["payload"]["identity"].clone()).unwrap();
        let hex = &keys[&pupil.to_string()];
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        let identity: PupilIdentity = open(&PupilKey(key), pupil, &sealed).unwrap();
        names.push(identity.last_name);
        names.push(identity.first_name);
    }
    names
}

#[test]
fn the_demo_loads_into_a_fresh_store_and_shows_no_name() {
    let s = Scratch::new();
    let store = s.store("demo.db");
    let run = suivi(&["demo", "--store", &store]);
    assert!(run.ok(), "{}", run.stderr);
    assert!(
        run.stdout.contains("72 pupils in 3 classes"),
        "{}",
        run.stdout
    );
    for class in ["2nde 1", "1re G1", "1re MELEC"] {
        assert!(
            run.stdout.contains(class),
            "{class} missing:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("log head: position"));
    let names = demo_names();
    assert_eq!(names.len(), 144);
    let words: std::collections::HashSet<&str> =
        run.stdout.split(|c: char| !c.is_alphanumeric()).collect();
    for name in &names {
        assert!(
            !words.contains(name.as_str()),
            "{name} shown:\n{}",
            run.stdout
        );
    }
    let log = export(&store);
    let events = std::fs::read_to_string(repo_file("fixtures/demo/events.jsonl")).unwrap();
    assert_eq!(log.len(), events.lines().count());

    // Loading again writes nothing.
    let run = suivi(&["demo", "--store", &store]);
    assert!(run.ok(), "{}", run.stderr);
    assert!(run.stdout.contains("0 event(s) written"), "{}", run.stdout);
    assert_eq!(export(&store).len(), log.len());
}
