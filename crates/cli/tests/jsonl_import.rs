//! Importing JSON Lines event files: envelopes, commands, a mix, and broken lines.

mod common;
use common::*;

const SCHOOL: &str = "0193a6a4-0000-7000-8000-000000000001";
const YEAR: &str = "0193a6a4-0000-7000-8000-000000000002";
const CLASS: &str = "0193a6a4-0000-7000-8000-000000000003";
const PUPIL: &str = "0193a6a4-0000-7000-8000-000000000004";

fn commands() -> String {
    [
        format!(r#"{{"command":"RegisterSchool","school_id":"{SCHOOL}","name":"Lycée d'essai","occurred_at":"2025-08-28T08:00:00Z"}}"#),
        format!(r#"{{"command":"DefineSchoolYear","year_id":"{YEAR}","label":"2025-2026","starts_on":"2025-09-01","ends_on":"2026-07-04"}}"#),
        String::new(),
        format!(r#"{{"command":"OpenClass","class_id":"{CLASS}","year_id":"{YEAR}","name":"2nde 1"}}"#),
        format!(r#"{{"command":"RegisterPupil","pupil_id":"{PUPIL}","external_id":"E1","identity":{{"nonce":"00","ciphertext":"ab"}}}}"#),
        format!(r#"{{"command":"EnrolPupil","pupil_id":"{PUPIL}","class_id":"{CLASS}","on":"2025-09-01"}}"#),
        format!(r#"{{"command":"RecordLateness","lateness_id":"0193a6a4-0000-7000-8000-000000000005","pupil_id":"{PUPIL}","at":"2025-10-02T06:05:00Z","minutes":5,"occurred_at":"2025-10-02T06:06:00Z"}}"#),
    ]
    .join("\n")
}

#[test]
fn a_command_file_is_decided_and_recorded_by_the_importer() {
    let s = Scratch::new();
    let store = s.store("s.db");
    let file = s.write("commands.jsonl", commands().as_bytes());
    let run = suivi(&["import", "--store", &store, file.to_str().unwrap()]);
    assert!(run.ok(), "{}", run.stderr);
    let log = export(&store);
    assert_eq!(log.len(), 6);
    assert!(log.iter().all(|e| e["actor"] == "importer:jsonl"));
    assert!(log.iter().all(|e| e["school_id"] == SCHOOL));
    assert_eq!(log[0]["occurred_at"], "2025-08-28T08:00:00Z");
    assert_eq!(log[5]["occurred_at"], "2025-10-02T06:06:00Z");
    assert_eq!(log[5]["stream"], format!("attendance-{PUPIL}"));
    // A second run re-decides the commands: the domain refuses them, nothing is written.
    let run = suivi(&["import", "--store", &store, file.to_str().unwrap()]);
    assert!(!run.ok());
    assert!(
        run.stderr
            .contains("line 1: school 0193a6a4-0000-7000-8000-000000000001 is already registered"),
        "{}",
        run.stderr
    );
    assert_eq!(export(&store).len(), 6);
}

#[test]
fn envelopes_keep_their_ids_and_a_reimport_writes_nothing() {
    let s = Scratch::new();
    let first = s.store("first.db");
    let file = s.write("commands.jsonl", commands().as_bytes());
    assert!(suivi(&["import", "--store", &first, file.to_str().unwrap()]).ok());
    let exported = s.path("export.jsonl");
    assert!(suivi(&[
        "export",
        "--store",
        &first,
        "--out",
        exported.to_str().unwrap()
    ])
    .ok());

    let second = s.store("second.db");
    let run = suivi(&["import", "--store", &second, exported.to_str().unwrap()]);
    assert!(run.ok(), "{}", run.stderr);
    let run = suivi(&["import", "--store", &second, exported.to_str().unwrap()]);
    assert!(run.ok(), "{}", run.stderr);
    assert!(
        run.stdout.contains("0 event(s) written, 6 already present"),
        "{}",
        run.stdout
    );
    let (a, b) = (export(&first), export(&second));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x["event_id"], y["event_id"]);
        assert_eq!(x["global_position"], y["global_position"]);
    }
}

#[test]
fn a_mixed_file_and_commands_after_envelopes_of_the_same_school() {
    let s = Scratch::new();
    let first = s.store("first.db");
    let file = s.write("commands.jsonl", commands().as_bytes());
    assert!(suivi(&["import", "--store", &first, file.to_str().unwrap()]).ok());
    let exported = suivi(&["export", "--store", &first]).stdout;
    let mixed = format!(
        "{exported}{}\n",
        format_args!(
            r#"{{"command":"RecordLateness","lateness_id":"0193a6a4-0000-7000-8000-000000000006","pupil_id":"{PUPIL}","at":"2025-10-03T06:10:00Z","minutes":10}}"#
        )
    );
    let file = s.write("mixed.jsonl", mixed.as_bytes());
    let second = s.store("second.db");
    let run = suivi(&["import", "--store", &second, file.to_str().unwrap()]);
    assert!(run.ok(), "{}", run.stderr);
    let log = export(&second);
    assert_eq!(log.len(), 7);
    assert_eq!(log[6]["event_type"], "LatenessRecorded");
    assert_eq!(log[6]["stream_version"], 2);
}

#[test]
fn broken_lines_are_named_and_nothing_is_written() {
    let s = Scratch::new();
    let store = s.store("s.db");
    let file = s.write("commands.jsonl", commands().as_bytes());
    assert!(suivi(&["import", "--store", &store, file.to_str().unwrap()]).ok());
    let exported = suivi(&["export", "--store", &store]).stdout;
    let mut lines: Vec<String> = exported.lines().map(str::to_owned).collect();
    let lateness = lines.pop().unwrap();
    let wrong_stream = lateness.replace(
        &format!("attendance-{PUPIL}"),
        &format!("attendance-{CLASS}"),
    );
    let bad = [
        r#"{"command":"RecordLateness","pupil_id": oops}"#.to_owned(),
        r#"{"hello":"world"}"#.to_owned(),
        r#"{"command":"FlyToTheMoon"}"#.to_owned(),
        wrong_stream,
        format!(
            r#"{{"command":"RecordLateness","lateness_id":"0193a6a4-0000-7000-8000-000000000009","pupil_id":"{PUPIL}","at":"2025-10-02T06:05:00Z","minutes":500,"school_id":"{SCHOOL}"}}"#
        ),
    ];
    let file = s.write("bad.jsonl", bad.join("\n").as_bytes());
    let run = suivi(&["import", "--store", &store, file.to_str().unwrap()]);
    assert!(!run.ok());
    for expected in [
        "line 1: not JSON",
        "line 2: is neither an event envelope",
        "line 3: not a valid command: unknown variant `FlyToTheMoon`",
        "line 4: LatenessRecorded",
        "belongs in stream attendance-0193a6a4-0000-7000-8000-000000000004",
        "line 5: invalid lateness: 500 minutes is not between 1 and 240",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} missing from\n{}",
            run.stderr
        );
    }
    assert_eq!(export(&store).len(), 6);
    let junk = s.write("junk.jsonl", b"\xff\xfe{\n{\"command\":\n");
    let run = suivi(&["import", "--store", &store, junk.to_str().unwrap()]);
    assert!(!run.ok());
    assert!(
        run.stderr.contains("line 1: is not valid UTF-8"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("line 2: not JSON"), "{}", run.stderr);
    assert_eq!(export(&store).len(), 6);
}
