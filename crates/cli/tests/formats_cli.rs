//! `suivi import --format …` with the real binary and a real SQLite store: the flags, the
//! dry run, and the roster read back through `suivi query` (GraphQL), as a user would.

mod common;
use common::*;

fn roster_query(store: &str, at: &str) -> serde_json::Value {
    let query =
        format!(r#"{{ classes(asOf: "{at}") {{ name pupils {{ externalId displayName }} }} }}"#);
    let run = suivi(&["query", "--store", store, &query]);
    assert!(run.ok(), "{}\n{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON answer")
}

/// Class name → (external id, display name) of its pupils, as GraphQL answers them.
fn rosters(answer: &serde_json::Value) -> Vec<(String, Vec<(String, String)>)> {
    answer["data"]["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| {
            let pupils = c["pupils"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["externalId"].as_str().unwrap().to_owned(),
                        p["displayName"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (c["name"].as_str().unwrap().to_owned(), pupils)
        })
        .collect()
}

fn ids(rosters: &[(String, Vec<(String, String)>)], class: &str) -> Vec<String> {
    rosters
        .iter()
        .find(|(name, _)| name == class)
        .map(|(_, pupils)| pupils.iter().map(|(id, _)| id.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn siecle_dry_run_import_and_next_month_through_the_binary() {
    let s = Scratch::new();
    let store = s.store("s.db");
    let october = repo_file("fixtures/formats/siecle-2025-10.xml");
    let november = repo_file("fixtures/formats/siecle-2025-11.xml");
    let october = october.to_str().unwrap();
    let november = november.to_str().unwrap();

    let dry = suivi(&[
        "import",
        "--store",
        &store,
        "--format",
        "siecle",
        "--dry-run",
        october,
    ]);
    assert!(dry.ok(), "{}\n{}", dry.stdout, dry.stderr);
    // School, year, 3 divisions, 9 pupils.
    assert!(
        dry.stdout
            .contains("dry run: 14 change(s), nothing written"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("  new pupil 1001 in 2NDE1 from 2025-09-01"),
        "{}",
        dry.stdout
    );
    assert!(
        !dry.stdout.contains("Léa"),
        "a name in the dry run: {}",
        dry.stdout
    );
    assert!(export(&store).is_empty());

    let run = suivi(&["import", "--store", &store, "--format", "siecle", october]);
    assert!(run.ok(), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("23 event(s) written"), "{}", run.stdout);
    let run = suivi(&["import", "--store", &store, "--format", "siecle", november]);
    assert!(run.ok(), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("4 event(s) written, 7 already present"),
        "{}",
        run.stdout
    );

    let before = rosters(&roster_query(&store, "2025-10-15T12:00:00Z"));
    assert_eq!(ids(&before, "2NDE2"), ["1004", "1005", "1006"]);
    let after = rosters(&roster_query(&store, "2025-11-10T12:00:00Z"));
    assert_eq!(ids(&after, "2NDE1"), ["1001", "1002", "1003", "1004"]);
    assert_eq!(ids(&after, "2NDE2"), ["1005", "1006"]);
    assert_eq!(ids(&after, "1G1"), ["1007", "1008", "1011"]);
    let names: Vec<&str> = after
        .iter()
        .find(|(n, _)| n == "1G1")
        .unwrap()
        .1
        .iter()
        .map(|(_, name)| name.as_str())
        .collect();
    assert_eq!(
        names,
        ["DURAND Maëlys", "LEROY-FAURE Éloïse", "FOURNIER Anaïs"]
    );

    let wrong = suivi(&["import", "--store", &store, "--format", "siecles", november]);
    assert!(!wrong.ok());
    assert!(
        wrong.stderr.contains(
            "\"siecles\" is not a format: jsonl, grades-csv, siecle, sts, moodle-quiz, pix-orga"
        ),
        "{}",
        wrong.stderr
    );
}
