//! Hostile files through the whole import path (decoder, domain, atomic append): valid
//! files mutated at random — bytes flipped, inserted and deleted, lines duplicated, dropped
//! and swapped, fields replaced by awkward values. Whatever the input, the importer never
//! panics; a file with a bad line names the line (within the file) and a reason, and
//! writes nothing.
//!
//! CI runs a few hundred cases. The long run the issue asks for:
//! `PROPTEST_CASES=200000 cargo test --release -p suivi-cli --test fuzz_importers`
//! (see BENCHMARKS.md / the issue note for how long it ran and what it found).

use proptest::prelude::*;
use std::sync::Arc;
use suivi_cli::import::{Format, ImportOptions, Importer};
use suivi_projections::gateway::Gateway;
use suivi_store::memory::MemoryStore;
use suivi_store::EventStore;

const GRADES_CSV: &str = include_str!("../../../fixtures/grades-sample.csv");
const DEMO_EVENTS: &str = include_str!("../../../fixtures/demo/events.jsonl");
const SIECLE_OCTOBER: &[u8] = include_bytes!("../../../fixtures/formats/siecle-2025-10.xml");
const SIECLE_NOVEMBER: &[u8] = include_bytes!("../../../fixtures/formats/siecle-2025-11.xml");
const STS: &[u8] = include_bytes!("../../../fixtures/formats/STS_EMP_0691234X_2025.xml");
const MOODLE: &[u8] = include_bytes!("../../../fixtures/formats/moodle-quiz-grades-en.csv");
const MOODLE_FR: &[u8] = include_bytes!("../../../fixtures/formats/moodle-quiz-notes-fr.csv");
const PIX: &[u8] = include_bytes!("../../../fixtures/formats/pix-orga-profiles.csv");

/// The first lines of the demo log: a school, its year, periods, subjects, classes, pupils.
fn demo_head(lines: usize) -> String {
    let mut out = String::new();
    for line in DEMO_EVENTS.lines().take(lines) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

const AWKWARD: &[&str] = &[
    "",
    ";",
    ",",
    "\"",
    "\"\"",
    "-1",
    "20,0001",
    "1e309",
    "99999999999999999999999",
    "NaN",
    "abs",
    "Abs",
    "NR",
    "31/02/2026",
    "2026-13-01",
    "\u{0}",
    "é",
    "\u{feff}",
    "{",
    "}",
    "null",
    "[]",
    "\\u0000",
    "0193a6a4-0000-7000-8000-000000000001",
    "GradeRecorded",
    "\r",
    "<",
    "</ELEVE>",
    "<ELEVE ELEVE_ID=\"1001\">",
    "&amp;",
    "&#0;",
    "NA",
    "'=",
    "-",
    "99 days",
    "31 February 2025  9:02 AM",
];

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Delete { at: usize, len: usize },
    DuplicateLine { line: usize },
    DropLine { line: usize },
    SwapLines { a: usize, b: usize },
    Replace { at: usize, len: usize, with: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        (at, 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        at.prop_map(|line| Mutation::DuplicateLine { line }),
        at.prop_map(|line| Mutation::DropLine { line }),
        (at, any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (at, 0usize..12, 0..AWKWARD.len()).prop_map(|(at, len, with)| Mutation::Replace {
            at,
            len,
            with
        }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let n = bytes.len().max(1);
    match *mutation {
        Mutation::Flip { at, byte } => {
            if !bytes.is_empty() {
                bytes[at % n] = byte;
            }
        }
        Mutation::Insert { at, byte } => bytes.insert(at % (bytes.len() + 1), byte),
        Mutation::Delete { at, len } => {
            let start = at % n;
            let end = (start + len).min(bytes.len());
            if start < end {
                bytes.drain(start..end);
            }
        }
        Mutation::Replace { at, len, with } => {
            let start = (at % n).min(bytes.len());
            let end = (start + len).min(bytes.len());
            bytes.splice(start..end, AWKWARD[with].bytes());
        }
        Mutation::DuplicateLine { line } | Mutation::DropLine { line } => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let i = line % lines.len();
            if matches!(mutation, Mutation::DuplicateLine { .. }) {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            } else {
                lines.remove(i);
            }
            *bytes = lines.join(&b'\n');
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let len = lines.len();
            lines.swap(a % len, b % len);
            *bytes = lines.join(&b'\n');
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Imports `bytes` into a store that already holds `base` (imported the same way), and
/// checks the promises: no panic, bad lines named within the file, nothing written then.
fn check(base: Option<(&str, Format)>, format: Format, bytes: &[u8], skip_bad: bool) {
    let base: Vec<(&[u8], Format)> = base
        .map(|(text, f)| (text.as_bytes(), f))
        .into_iter()
        .collect();
    let options = ImportOptions {
        skip_bad,
        ..ImportOptions::default()
    };
    check_with(&base, options, format, bytes);
}

/// `check` with any number of base files and the options of the fuzzed import.
fn check_with(base: &[(&[u8], Format)], options: ImportOptions, format: Format, bytes: &[u8]) {
    let skip_bad = options.skip_bad;
    runtime().block_on(async {
        let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
        let gateway = Gateway::new(store.clone()).await.expect("gateway");
        for (base_bytes, base_format) in base {
            let mut importer = Importer::new(&gateway, ImportOptions::default())
                .await
                .expect("importer");
            let report = importer
                .import_bytes("base", *base_format, base_bytes)
                .await
                .expect("base import");
            assert!(
                report.errors.is_empty(),
                "the base does not import: {:?}",
                report.errors
            );
        }
        let before = store.head().await.expect("head");
        let mut importer = Importer::new(&gateway, options).await.expect("importer");
        let report = match importer.import_bytes("fuzzed", format, bytes).await {
            Ok(report) => report,
            // A failure of the import machinery itself (not a bad line) must still change
            // nothing.
            Err(_) => {
                assert_eq!(store.head().await.expect("head"), before);
                return;
            }
        };
        let after = store.head().await.expect("head");
        let lines = bytes.split(|b| *b == b'\n').count().max(1);
        for error in &report.errors {
            assert!(
                error.line >= 1 && error.line <= lines,
                "line {} outside a file of {lines} lines: {}",
                error.line,
                error.reason
            );
            assert!(!error.reason.trim().is_empty(), "an error without a reason");
        }
        if !report.errors.is_empty() && !skip_bad {
            assert!(!report.written);
            assert_eq!(
                after, before,
                "a refused file wrote events: {:?}",
                report.errors
            );
        }
        if !report.written {
            assert_eq!(after, before);
        } else {
            assert_eq!(after - before, report.events_written as u64);
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn mutated_grades_csv_never_panics_and_is_all_or_nothing(
        mutations in proptest::collection::vec(mutation(), 1..6),
        skip_bad in any::<bool>(),
    ) {
        let mut bytes = GRADES_CSV.as_bytes().to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check(None, Format::GradesCsv, &bytes, skip_bad);
    }

    #[test]
    fn mutated_event_lines_never_panic_and_are_all_or_nothing(
        mutations in proptest::collection::vec(mutation(), 1..6),
        skip_bad in any::<bool>(),
    ) {
        let base = demo_head(40);
        let mut bytes = DEMO_EVENTS
            .lines()
            .skip(40)
            .take(60)
            .flat_map(|l| l.bytes().chain(std::iter::once(b'\n')))
            .collect::<Vec<u8>>();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check(Some((&base, Format::Jsonl)), Format::Jsonl, &bytes, skip_bad);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        csv in any::<bool>(),
    ) {
        let format = if csv { Format::GradesCsv } else { Format::Jsonl };
        check(None, format, &bytes, false);
    }
}

fn mutated(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for m in mutations {
        apply(&mut bytes, m);
    }
    bytes
}

fn moodle_options(skip_bad: bool, create_missing: bool) -> ImportOptions {
    ImportOptions {
        skip_bad,
        quiz: Some("Fonctions affines".into()),
        class: Some("2NDE1".into()),
        subject: Some("MATHEMATIQUES".into()),
        create_missing,
        ..ImportOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    /// Next month's SIECLE file, mutated, against October's roster: the diff path
    /// (transfers, departures) as well as the parser.
    #[test]
    fn mutated_siecle_never_panics_and_is_all_or_nothing(
        mutations in proptest::collection::vec(mutation(), 1..6),
        skip_bad in any::<bool>(),
    ) {
        let options = ImportOptions { skip_bad, ..ImportOptions::default() };
        let base: [(&[u8], Format); 1] = [(SIECLE_OCTOBER, Format::Siecle)];
        check_with(&base, options, Format::Siecle, &mutated(SIECLE_NOVEMBER, &mutations));
    }

    #[test]
    fn mutated_sts_never_panics_and_is_all_or_nothing(
        mutations in proptest::collection::vec(mutation(), 1..6),
        skip_bad in any::<bool>(),
    ) {
        let options = ImportOptions { skip_bad, ..ImportOptions::default() };
        let base: [(&[u8], Format); 1] = [(SIECLE_OCTOBER, Format::Siecle)];
        check_with(&base, options, Format::Sts, &mutated(STS, &mutations));
    }

    #[test]
    fn mutated_moodle_reports_never_panic_and_are_all_or_nothing(
        mutations in proptest::collection::vec(mutation(), 1..6),
        skip_bad in any::<bool>(),
        create_missing in any::<bool>(),
        french in any::<bool>(),
    ) {
        let base: [(&[u8], Format); 2] = [(SIECLE_OCTOBER, Format::Siecle), (STS, Format::Sts)];
        let seed = if french { MOODLE_FR } else { MOODLE };
        check_with(
            &base,
            moodle_options(skip_bad, create_missing),
            Format::MoodleQuiz,
            &mutated(seed, &mutations),
        );
    }

    #[test]
    fn mutated_pix_exports_never_panic_and_are_all_or_nothing(
        mutations in proptest::collection::vec(mutation(), 1..6),
        skip_bad in any::<bool>(),
    ) {
        let options = ImportOptions { skip_bad, ..ImportOptions::default() };
        let base: [(&[u8], Format); 1] = [(SIECLE_OCTOBER, Format::Siecle)];
        check_with(&base, options, Format::PixOrga, &mutated(PIX, &mutations));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_export_readers(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        which in 0usize..4,
    ) {
        let format = [Format::Siecle, Format::Sts, Format::MoodleQuiz, Format::PixOrga][which];
        check_with(&[], moodle_options(false, true), format, &bytes);
    }
}

/// The export seeds import cleanly (the fuzz starts from valid files).
#[test]
fn the_export_seeds_are_valid() {
    let base: [(&[u8], Format); 2] = [(SIECLE_OCTOBER, Format::Siecle), (STS, Format::Sts)];
    for (format, seed, options) in [
        (Format::Siecle, SIECLE_NOVEMBER, ImportOptions::default()),
        (Format::MoodleQuiz, MOODLE, moodle_options(false, false)),
        (Format::MoodleQuiz, MOODLE_FR, moodle_options(false, true)),
        (Format::PixOrga, PIX, ImportOptions::default()),
    ] {
        runtime().block_on(async {
            let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
            let gateway = Gateway::new(store.clone()).await.expect("gateway");
            for (bytes, f) in base {
                let mut importer = Importer::new(&gateway, ImportOptions::default())
                    .await
                    .expect("importer");
                importer.import_bytes("base", f, bytes).await.expect("base");
            }
            let mut importer = Importer::new(&gateway, options).await.expect("importer");
            let report = importer
                .import_bytes("seed", format, seed)
                .await
                .expect("seed");
            assert!(report.errors.is_empty(), "{format}: {:?}", report.errors);
            assert!(report.events_written > 0, "{format} wrote nothing");
        });
    }
}

/// The unmutated inputs import cleanly: the fuzz starts from valid files.
#[test]
fn the_seeds_are_valid() {
    runtime().block_on(async {
        let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
        let gateway = Gateway::new(store.clone()).await.expect("gateway");
        let mut importer = Importer::new(&gateway, ImportOptions::default())
            .await
            .expect("importer");
        let report = importer
            .import_bytes("csv", Format::GradesCsv, GRADES_CSV.as_bytes())
            .await
            .expect("csv");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.lines, 12);
        let jsonl = demo_head(100);
        let report = importer
            .import_bytes("jsonl", Format::Jsonl, jsonl.as_bytes())
            .await
            .expect("jsonl");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.events_written, 100);
    });
}
