//! Importing grade exports (CSV) with the real binary into real SQLite stores.

mod common;
use common::*;

const HEADER: &str =
    "class;pupil_id;last_name;first_name;subject;subject_kind;assessment;date;period;score;scale;coefficient\n";
const GOOD: &str = "2nde 3;E1001;Martin;Léa;Mathématiques;general;DS 1;09/10/2025;T1;14,5;20;2\n";
const GOOD_2: &str = "2nde 3;E1002;Bernard;Hugo;Mathématiques;general;DS 1;09/10/2025;T1;9;20;2\n";

/// Counted by hand from fixtures/grades-sample.csv: one school, one year (all dates in
/// 2025-2026), periods T1 and T2, subjects Mathématiques, Français and Atelier, classes
/// 2nde 3 and 1re MELEC, pupils E1001-E1003 and E2001-E2002 (each enrolled once),
/// assessments DS 1, Commentaire, Interrogation 3, TP câblage, Évaluation 2, 12 grades.
fn sample_counts() -> std::collections::BTreeMap<String, usize> {
    counts(&[
        ("SchoolRegistered", 1),
        ("SchoolYearDefined", 1),
        ("PeriodDefined", 2),
        ("SubjectDefined", 3),
        ("ClassOpened", 2),
        ("PupilRegistered", 5),
        ("PupilEnrolled", 5),
        ("AssessmentScheduled", 5),
        ("GradeRecorded", 12),
    ])
}

#[test]
fn the_sample_imports_into_an_empty_store_then_reimports_as_a_no_op() {
    let s = Scratch::new();
    let store = s.store("s.db");
    let sample = repo_file("fixtures/grades-sample.csv");
    let run = suivi(&["import", "--store", &store, sample.to_str().unwrap()]);
    assert!(run.ok(), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("36 event(s) written"), "{}", run.stdout);
    let log = export(&store);
    assert_eq!(count_by_type(&log), sample_counts());
    // Names are sealed: never in the log in clear.
    let text = serde_json::to_string(&log).unwrap();
    for name in ["Martin", "Léa", "Bernard", "Chloé", "Faure"] {
        assert!(!text.contains(name), "{name} leaked into the log");
    }
    // The marks are kept as marks, decimal commas as hundredths.
    let grades: Vec<&serde_json::Value> = log
        .iter()
        .filter(|e| e["event_type"] == "GradeRecorded")
        .map(|e| &e["payload"]["grade"])
        .collect();
    for expected in [
        serde_json::json!("Abs"),
        serde_json::json!("Disp"),
        serde_json::json!("NR"),
        serde_json::json!(1450),
        serde_json::json!(1575),
        serde_json::json!(825),
    ] {
        assert!(grades.contains(&&expected), "{expected} missing");
    }

    let again = suivi(&["import", "--store", &store, sample.to_str().unwrap()]);
    assert!(again.ok(), "{}", again.stderr);
    assert!(
        again
            .stdout
            .contains("0 event(s) written, 12 already present"),
        "{}",
        again.stdout
    );
    assert_eq!(export(&store).len(), 36);

    // The same grade with another value is refused, naming the line and the conflict.
    let changed = s.write(
        "changed.csv",
        format!("{HEADER}2nde 3;E1001;Martin;Léa;Mathématiques;general;DS 1 - Fonctions;09/10/2025;T1;15;20;2\n").as_bytes(),
    );
    let run = suivi(&["import", "--store", &store, changed.to_str().unwrap()]);
    assert!(!run.ok());
    assert!(
        run.stderr.contains("line 2: pupil E1001 already has 14.5"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("record a correction instead"),
        "{}",
        run.stderr
    );
    assert_eq!(export(&store).len(), 36);
}

/// Each malformed file: non-zero exit, the line and the reason, and not one event written.
#[test]
fn malformed_files_are_refused_whole_with_line_and_reason() {
    let s = Scratch::new();
    let store = s.store("s.db");
    let seed = s.write("seed.csv", format!("{HEADER}{GOOD}").as_bytes());
    assert!(suivi(&["import", "--store", &store, seed.to_str().unwrap()]).ok());
    let before = export(&store).len();
    assert_eq!(before, 9);

    let bom_header = format!("\u{feff}{HEADER}");
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "bad score",
            format!("{HEADER}{GOOD_2}2nde 3;E1003;Petit;Chloé;Mathématiques;general;DS 1;09/10/2025;T1;douze;20;2\n").into_bytes(),
            "line 3:",
            "score \"douze\" is not a number nor Abs/Disp/NR",
        ),
        (
            "score above the scale",
            format!("{HEADER}{GOOD_2}2nde 3;E1003;Petit;Chloé;Mathématiques;general;DS 1;09/10/2025;T1;23;20;2\n").into_bytes(),
            "line 3:",
            "score 23 is above the scale /20",
        ),
        (
            "negative score",
            format!("{HEADER}{GOOD_2}2nde 3;E1003;Petit;Chloé;Mathématiques;general;DS 1;09/10/2025;T1;-2;20;2\n").into_bytes(),
            "line 3:",
            "score -2 is below 0",
        ),
        (
            "score above the scale, with decimals",
            format!("{HEADER}{GOOD_2}2nde 3;E1003;Petit;Chloé;Mathématiques;general;DS 1;09/10/2025;T1;20,5;20;2\n").into_bytes(),
            "line 3:",
            "score 20,5 is above the scale /20",
        ),
        (
            "unknown subject kind",
            format!("{bom_header}2nde 3;E1003;Petit;Chloé;Mathématiques;technique;DS 1;09/10/2025;T1;12;20;2\n").into_bytes(),
            "line 2:",
            "subject_kind \"technique\" is neither general nor vocational",
        ),
        (
            "bad date",
            format!("{HEADER}{GOOD_2}\n2nde 3;E1003;Petit;Chloé;Mathématiques;general;DS 1;31/02/2026;T1;12;20;2\n").into_bytes(),
            "line 4:",
            "date \"31/02/2026\" is not a date",
        ),
        (
            "missing column",
            "class;pupil_id;last_name;first_name;subject;subject_kind;assessment;date;period;scale;coefficient\n2nde 3;E1003;Petit;Chloé;Maths;general;DS 1;09/10/2025;T1;20;2\n".as_bytes().to_vec(),
            "line 1:",
            "lacks column(s) score",
        ),
        (
            "wrong column count",
            format!("{HEADER}{GOOD_2}2nde 3;E1003;Petit;Chloé;Mathématiques;general;DS 1;09/10/2025;T1;12;20\n").into_bytes(),
            "line 3:",
            "11 field(s) where the header has 12",
        ),
        ("empty file", Vec::new(), "line 1:", "the file is empty"),
        (
            "not UTF-8",
            [HEADER.as_bytes(), GOOD_2.as_bytes(), b"2nde 3;E1003;P\xe9tit;Chlo\xe9;Math\xe9matiques;general;DS 1;09/10/2025;T1;12;20;2\n"].concat(),
            "line 3:",
            "is not valid UTF-8",
        ),
        (
            "period outside every convention",
            format!("{HEADER}{GOOD_2}2nde 3;E1003;Petit;Chloé;Mathématiques;general;DS 1;09/10/2025;P4;12;20;2\n").into_bytes(),
            "line 3:",
            "period \"P4\" is unknown",
        ),
        (
            "date in the summer holidays",
            format!("{HEADER}{GOOD_2}2nde 3;E1003;Petit;Chloé;Mathématiques;general;DS 9;20/07/2026;T3;12;20;2\n").into_bytes(),
            "line 3:",
            "date 2026-07-20 is outside every school year",
        ),
        (
            "subject of another kind",
            format!("{HEADER}{GOOD_2}2nde 3;E1003;Petit;Chloé;Mathématiques;vocational;DS 2;10/10/2025;T1;12;20;2\n").into_bytes(),
            "line 3:",
            "subject \"Mathématiques\" is general in the school, not vocational",
        ),
    ];
    for (what, bytes, line, reason) in cases {
        let file = s.write(&format!("{}.csv", what.replace(' ', "-")), &bytes);
        let run = suivi(&["import", "--store", &store, file.to_str().unwrap()]);
        assert!(!run.ok(), "{what}: accepted\n{}", run.stdout);
        let wanted = format!("{line} ");
        let hit = run
            .stderr
            .lines()
            .any(|l| l.contains(&wanted) && l.contains(reason));
        assert!(hit, "{what}: expected {line} {reason:?} in\n{}", run.stderr);
        assert!(
            run.stdout.contains("nothing of this file was written"),
            "{what}: {}",
            run.stdout
        );
        assert_eq!(export(&store).len(), before, "{what}: the log changed");
    }
}

#[test]
fn every_bad_line_is_listed_and_skip_bad_writes_exactly_the_good_rows() {
    let s = Scratch::new();
    let store = s.store("s.db");
    let text = format!(
        "{HEADER}{GOOD}\
         2nde 3;E1002;Bernard;Hugo;Mathématiques;general;DS 1;09/10/2025;T1;douze;20;2\n\
         2nde 3;E1003;Petit;Chloé;Mathématiques;general;DS 1;09/10/2025;T1;12,5;20;2\n\
         2nde 3;E1004;Roux;Nathan;Mathématiques;general;DS 1;09/10/2025;T1;21;20;2\n\
         2nde 3;E1005;;;Mathématiques;general;DS 1;09/10/2025;T1;10;20;2\n\
         2nde 3;E1006;Faure;Inès;Mathématiques;general;DS 1;09/10/2025;T1;Abs;20;2\n"
    );
    let file = s.write("mixed.csv", text.as_bytes());
    let run = suivi(&["import", "--store", &store, file.to_str().unwrap()]);
    assert!(!run.ok());
    for line in ["line 3:", "line 5:", "line 6:"] {
        assert!(
            run.stderr.contains(line),
            "{line} missing from\n{}",
            run.stderr
        );
    }
    assert!(run
        .stderr
        .contains("pupil E1005 is new: last_name and first_name are needed"));
    assert_eq!(export(&store).len(), 0);

    let run = suivi(&[
        "import",
        "--store",
        &store,
        "--skip-bad",
        file.to_str().unwrap(),
    ]);
    assert!(run.ok(), "{}", run.stderr);
    assert!(
        run.stdout.contains("3 bad line(s) skipped"),
        "{}",
        run.stdout
    );
    let log = export(&store);
    // Three good rows: E1001, E1003, E1006. Nothing of the bad ones, not even their pupils.
    assert_eq!(
        count_by_type(&log),
        counts(&[
            ("SchoolRegistered", 1),
            ("SchoolYearDefined", 1),
            ("PeriodDefined", 1),
            ("SubjectDefined", 1),
            ("ClassOpened", 1),
            ("PupilRegistered", 3),
            ("PupilEnrolled", 3),
            ("AssessmentScheduled", 1),
            ("GradeRecorded", 3),
        ])
    );
}

#[test]
fn a_comma_separated_file_with_iso_dates_joins_the_school_already_there() {
    let s = Scratch::new();
    let store = s.store("s.db");
    let sample = repo_file("fixtures/grades-sample.csv");
    assert!(suivi(&["import", "--store", &store, sample.to_str().unwrap()]).ok());
    let text = "class,pupil_id,last_name,first_name,subject,subject_kind,assessment,date,period,score,scale,coefficient\n\
                2nde 3,E1001,Martin,Léa,SVT,general,TP 1,2026-03-12,T3,\"13,5\",20,1\n\
                2nde 3,E1004,Durand,Zoé,SVT,general,TP 1,2026-03-12,T3,17.25,20,1\n";
    let file = s.write("more.csv", text.as_bytes());
    let run = suivi(&[
        "import",
        "--store",
        &store,
        "--school-name",
        "Autre",
        file.to_str().unwrap(),
    ]);
    assert!(run.ok(), "{}", run.stderr);
    let log = export(&store);
    let added = count_by_type(&log[36..]);
    assert_eq!(
        added,
        counts(&[
            ("PeriodDefined", 1),
            ("SubjectDefined", 1),
            ("PupilRegistered", 1),
            ("PupilEnrolled", 1),
            ("AssessmentScheduled", 1),
            ("GradeRecorded", 2),
        ])
    );
    assert_eq!(
        log[36]["stream"], log[0]["stream"],
        "the same school's stream"
    );
}
