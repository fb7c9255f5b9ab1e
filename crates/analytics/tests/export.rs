//! Exports read back: by polars (Parquet and CSV), and by pandas when python3 has it.

mod common;

use common::school;
use common::*;
use polars::prelude::*;
use std::collections::HashMap;
use suivi_analytics::report::pupil_names;
use suivi_analytics::{export, load_log, Format, Identities};

fn read(path: &std::path::Path, format: Format) -> DataFrame {
    match format {
        Format::Parquet => ParquetReader::new(std::fs::File::open(path).expect("open"))
            .finish()
            .expect("parquet"),
        Format::Csv => CsvReadOptions::default()
            .with_has_header(true)
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .expect("csv reader")
            .finish()
            .expect("csv"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pseudonymised_exports_read_back_typed_and_without_names() {
    let school = school::build(7, date(2025, 12, 20));
    let store = school.store().await;
    let log = load_log(store.as_ref()).await.expect("load");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rows: HashMap<(&str, Format), usize> = HashMap::new();
    for format in [Format::Parquet, Format::Csv] {
        let out = dir.path().join(format.extension());
        let tables = export(
            &log,
            format,
            &out,
            Identities::Pseudonymised {
                key: b"cle du lycee",
            },
            at(2025, 12, 20, 12, 0),
        )
        .expect("export");
        let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        for wanted in [
            "grades",
            "absences",
            "homework",
            "deposits",
            "answers",
            "step_events",
            "competencies",
            "model_subject_averages",
            "model_attendance",
            "model_qcm",
        ] {
            assert!(names.contains(&wanted), "{wanted} not exported: {names:?}");
        }
        assert!(!names.contains(&"pupils") && !names.contains(&"guardians"));
        for t in &tables {
            let df = read(&t.path, format);
            assert_eq!(df.height(), t.rows, "{}", t.name);
            rows.insert((t.name, format), t.rows);
            assert!(
                df.column("reason").is_err() && df.column("file_name").is_err(),
                "{} keeps free text",
                t.name
            );
            if let Ok(pupil) = df.column("pupil") {
                let pupil = pupil.cast(&DataType::String).expect("string");
                assert!(
                    pupil
                        .str()
                        .expect("str")
                        .iter()
                        .all(|p| p.is_some_and(|p| p.starts_with("P-") && p.len() == 14)),
                    "{}",
                    t.name
                );
            }
        }
        let grades = read(&out.join(format!("grades.{}", format.extension())), format);
        assert_eq!(
            grades.height(),
            school
                .recorded
                .iter()
                .filter(|e| e.event_type.starts_with("Grade"))
                .count()
        );
        if format == Format::Parquet {
            assert_eq!(
                grades.column("points").expect("points").dtype(),
                &DataType::UInt32
            );
            assert!(matches!(
                grades.column("at").expect("at").dtype(),
                DataType::Datetime(_, _)
            ));
            let absences = read(&out.join("absences.parquet"), format);
            assert_eq!(
                absences.column("day").expect("day").dtype(),
                &DataType::Date
            );
        }
        // No name in clear anywhere.
        for t in &tables {
            let bytes = std::fs::read(&t.path).expect("read");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("Martin") && !text.contains("INE4"),
                "{} leaks identity",
                t.name
            );
        }
    }
    // Same tables, same sizes, in both formats; pseudonyms stable across formats.
    for ((name, format), n) in &rows {
        if *format == Format::Csv {
            assert_eq!(rows.get(&(*name, Format::Parquet)), Some(n), "{name}");
        }
    }

    // pandas, when python3 has it (pip install pandas pyarrow).
    let has_pandas = std::process::Command::new("python3")
        .args(["-c", "import pandas, pyarrow"])
        .status()
        .is_ok_and(|s| s.success());
    if has_pandas {
        let script = r#"
import json, pathlib, sys, pandas as pd
root = pathlib.Path(sys.argv[1])
out = {}
for p in sorted(root.glob("parquet/*.parquet")):
    out["parquet/" + p.stem] = len(pd.read_parquet(p))
for p in sorted(root.glob("csv/*.csv")):
    try:
        out["csv/" + p.stem] = len(pd.read_csv(p))
    except pd.errors.EmptyDataError:
        out["csv/" + p.stem] = 0
g = pd.read_parquet(root / "parquet/grades.parquet")
assert str(g["at"].dtype).startswith("datetime64"), g["at"].dtype
print(json.dumps(out))
"#;
        let output = std::process::Command::new("python3")
            .args(["-c", script, &dir.path().display().to_string()])
            .output()
            .expect("python3");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let counts: HashMap<String, usize> = serde_json::from_slice(&output.stdout).expect("json");
        for ((name, format), n) in &rows {
            assert_eq!(
                counts.get(&format!("{}/{name}", format.extension())),
                Some(n),
                "pandas reads {name}"
            );
        }
    } else {
        eprintln!("pandas not installed: read back by polars only");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_export_opens_names_for_the_administrator() {
    let school = school::build(7, date(2025, 10, 1));
    let store = school.store().await;
    let log = load_log(store.as_ref()).await.expect("load");
    let pupils: Vec<_> = (school::FIRST_PUPIL..school::FIRST_PUPIL + school::PUPILS)
        .map(id)
        .collect();
    let names = pupil_names(store.as_ref(), &log, &pupils)
        .await
        .expect("names");
    let dir = tempfile::tempdir().expect("tempdir");
    export(
        &log,
        Format::Parquet,
        dir.path(),
        Identities::Named(&names),
        at(2025, 10, 1, 12, 0),
    )
    .expect("export");
    let grades = read(&dir.path().join("grades.parquet"), Format::Parquet);
    let named = grades
        .column("pupil_name")
        .expect("pupil_name")
        .cast(&DataType::String)
        .expect("string");
    let named: Vec<String> = named
        .str()
        .expect("str")
        .iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    assert!(named.iter().any(|n| n == "MARTIN Léa"));
    assert!(named.iter().any(|n| n == "Élève effacé"));
    assert!(dir.path().join("pupils.parquet").exists());
}
