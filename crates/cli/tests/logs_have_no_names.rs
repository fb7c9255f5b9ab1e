//! Logs never hold a pupil's name or a grade. A full demo run — the school loaded, the
//! simulated class working, every role reading its views, writes, refused requests, a
//! graceful stop — with logging at `debug`; then every line the process wrote is searched
//! for every name the fixture holds, opened here with the fixture's keys (not by the code
//! under test).

mod common;
use common::demo_server::DemoServer;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use suivi_domain::identity::{open, GuardianContact, PupilIdentity, PupilKey, Sealed};
use suivi_domain::ids::PupilId;

/// Every personal string of the fixture: pupils' names (as the dashboards show them and
/// as written), guardians' names, e-mails and phones.
fn fixture_names() -> Vec<String> {
    let keys_text = std::fs::read_to_string(repo_file("fixtures/demo/keys.jsonl")).expect("keys");
    let mut keys: HashMap<String, PupilKey> = HashMap::new();
    for line in keys_text.lines() {
        let v: Value = serde_json::from_str(line).expect("JSON");
        let hex = v["key"].as_str().expect("key");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        let key: [u8; 32] = bytes.try_into().expect("32 bytes");
        keys.insert(
            v["pupil_id"].as_str().expect("id").to_owned(),
            PupilKey(key),
        );
    }
    let events = std::fs::read_to_string(repo_file("fixtures/demo/events.jsonl")).expect("events");
    let mut names = BTreeSet::new();
    for line in events.lines() {
        let v: Value = serde_json::from_str(line).expect("JSON");
        let (field, kind) = match v["event_type"].as_str() {
            Some("PupilRegistered") => ("identity", "pupil"),
            Some("GuardianLinked") => ("contact", "guardian"),
            _ => continue,
        };
        let pupil_text = v["payload"]["pupil_id"].as_str().expect("pupil id");
        let pupil = PupilId(pupil_text.parse().expect("uuid"));
        let sealed: Sealed = serde_json::from_value(v["payload"][field].clone()).expect("sealed");
        let key = &keys[pupil_text];
        if kind == "pupil" {
            let id: PupilIdentity = open(key, pupil, &sealed).expect("the fixture's key opens it");
            names.insert(id.display_name());
            names.insert(format!("{} {}", id.first_name, id.last_name));
            names.insert(format!("\"{}\"", id.last_name));
            names.insert(format!("={}", id.last_name));
        } else {
            let contact: GuardianContact = open(key, pupil, &sealed).expect("opens");
            names.insert(contact.name.clone());
            names.extend(contact.email.clone());
            names.extend(contact.phone.clone());
        }
    }
    assert!(
        names.len() > 100,
        "the fixture holds names: {}",
        names.len()
    );
    names.into_iter().collect()
}

#[test]
fn a_full_demo_run_logs_no_name_and_no_grade() {
    let names = fixture_names();
    let s = Scratch::new();
    let log_path = s.path("server.log");
    let demo = DemoServer::start(&s.store("demo.db"), Some("debug"), Some(&log_path));
    let admin = demo.user("administrator").token.clone();

    // Every role reads what it may (and is refused the rest); the answers carry names, so
    // the search below is able to find them.
    let mut answers = String::new();
    let classes = demo
        .post(
            &admin,
            "{ classes { name pupils { id displayName average } } }",
        )
        .1;
    answers.push_str(&classes.to_string());
    let first_class = classes["data"]["classes"][0]["name"]
        .as_str()
        .expect("a class")
        .to_owned();
    let pupil = classes["data"]["classes"][0]["pupils"][0]["id"]
        .as_str()
        .expect("a pupil")
        .to_owned();
    for user in &demo.users {
        for query in [
            format!(
                r#"{{ class(name: "{first_class}") {{ name subjects {{ name mean }} pupils {{ displayName average spider {{ profile }} }} }} }}"#
            ),
            format!(
                r#"{{ pupil(id: "{pupil}") {{ displayName average attendanceRecords {{ minutes }} }} }}"#
            ),
            format!(r#"{{ pupil(id: "{}") {{ displayName }} }}"#, user.subject),
            "{ sessions { id } }".to_owned(),
        ] {
            answers.push_str(&demo.post(&user.token, &query).1.to_string());
        }
    }
    assert!(
        names.iter().any(|n| answers.contains(n.as_str())),
        "the answers show names, so a search for them is meaningful"
    );
    // Writes, accepted and refused (a wrong id, an out-of-range value).
    let lateness = "mutation($p: ID!, $m: Int!) { recordLateness(input: {pupilId: $p, at: \"2026-03-10T08:05:00Z\", minutes: $m}) { position } }";
    let (_, ok) =
        common::demo_server::post(&demo.addr, &admin, lateness, json!({"p": pupil, "m": 7}));
    assert!(ok.get("errors").is_none(), "{ok}");
    let (_, bad) =
        common::demo_server::post(&demo.addr, &admin, lateness, json!({"p": pupil, "m": 999}));
    assert!(bad.get("errors").is_some());
    let (_, unknown) = common::demo_server::post(
        &demo.addr,
        &admin,
        lateness,
        json!({"p": uuid::Uuid::now_v7().to_string(), "m": 5}),
    );
    assert!(unknown.get("errors").is_some());
    // Let the simulated class work for a while, then stop gracefully.
    std::thread::sleep(std::time::Duration::from_secs(4));
    let printed = demo.stdout.join("\n");
    let status = demo.terminate();
    assert!(status.success(), "{status}");

    let logs = std::fs::read_to_string(&log_path).expect("the server's log");
    assert!(
        logs.lines().count() > 10,
        "logging ran: {}",
        logs.lines().count()
    );
    assert!(logs.contains("DEBUG"), "debug lines are in the log");
    for output in [&logs, &printed] {
        for name in &names {
            assert!(
                !output.contains(name.as_str()),
                "a name ({name}) is in the server's output"
            );
        }
        for line in output.lines() {
            let lower = line.to_lowercase();
            for field in ["score=", "score:", "grade=", "average=", "mark="] {
                assert!(
                    !lower.contains(field),
                    "a grade field in a log line: {line}"
                );
            }
        }
    }
}
