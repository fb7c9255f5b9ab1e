//! The fixture generator: deterministic per seed, every event accepted by the domain on
//! import, `fixtures/demo` up to date, and results that look like a French lycée — checked
//! here by recomputing from the events, independently of the generator's model.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

fn generate(dir: &Path, seed: &str, classes: &str, pupils: &str) {
    let run = suivi(&[
        "fixtures",
        "generate",
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        seed,
        "--classes",
        classes,
        "--pupils-per-class",
        pupils,
    ]);
    assert!(run.ok(), "{}", run.stderr);
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn same_seed_same_bytes_and_the_demo_fixture_is_what_seed_42_gives() {
    let s = Scratch::new();
    let (a, b, c) = (s.path("a"), s.path("b"), s.path("c"));
    generate(&a, "42", "3", "24");
    generate(&b, "42", "3", "24");
    generate(&c, "43", "3", "24");
    for file in ["events.jsonl", "keys.jsonl"] {
        let (x, y, z) = (
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            std::fs::read(c.join(file)).unwrap(),
        );
        assert!(x == y, "{file} differs between two runs of seed 42");
        assert!(x != z, "{file} is the same for seeds 42 and 43");
        let demo = std::fs::read(repo_file("fixtures/demo").join(file)).unwrap();
        assert!(
            x == demo,
            "fixtures/demo/{file} is stale: regenerate it with \
             `suivi fixtures generate --out fixtures/demo --seed 42 --classes 3 --pupils-per-class 24`"
        );
    }
}

#[test]
fn every_generated_event_passes_the_domain_on_import() {
    let s = Scratch::new();
    let dir = s.path("gen");
    generate(&dir, "11", "4", "15");
    let generated = lines(&dir.join("events.jsonl"));
    let store = s.store("s.db");
    let keys = dir.join("keys.jsonl");
    let events = dir.join("events.jsonl");
    let run = suivi(&[
        "import",
        "--store",
        &store,
        "--keys",
        keys.to_str().unwrap(),
        events.to_str().unwrap(),
    ]);
    assert!(run.ok(), "{}", run.stderr);
    assert!(run.stdout.contains("60 key(s) loaded"), "{}", run.stdout);
    let log = export(&store);
    assert_eq!(count_by_type(&log), count_by_type(&generated));
    for family in [
        "GradeRecorded",
        "GradeCorrected",
        "AbsenceRecorded",
        "AbsenceJustified",
        "LatenessRecorded",
        "HomeworkDeposited",
        "QuestionAnswered",
        "AttemptSubmitted",
        "StepFailed",
        "StepCompleted",
        "CompetencyAssessed",
        "CompetencyValidated",
        "PupilTransferred",
        "GuardianLinked",
    ] {
        assert!(
            count_by_type(&log).get(family).is_some_and(|n| *n > 0),
            "no {family}"
        );
    }
}

struct Grades {
    /// pupil → (general /20 scores, vocational /20 scores)
    by_pupil: BTreeMap<String, (Vec<f64>, Vec<f64>)>,
    all: Vec<f64>,
    marks: BTreeMap<String, usize>,
}

/// Grades normalised to /20, from the events alone (a correction replaces the grade).
fn grades(events: &[Value]) -> Grades {
    let mut kind_of_subject = HashMap::new();
    let mut assessments = HashMap::new();
    let mut latest: BTreeMap<(String, String), Value> = BTreeMap::new();
    for e in events {
        let p = &e["payload"];
        match e["event_type"].as_str().unwrap() {
            "SubjectDefined" => {
                kind_of_subject.insert(
                    p["subject_id"].to_string(),
                    p["kind"].as_str().unwrap().to_owned(),
                );
            }
            "AssessmentScheduled" => {
                assessments.insert(
                    p["assessment_id"].to_string(),
                    (p["subject_id"].to_string(), p["scale"].as_f64().unwrap()),
                );
            }
            "GradeRecorded" | "GradeCorrected" => {
                latest.insert(
                    (p["assessment_id"].to_string(), p["pupil_id"].to_string()),
                    p["grade"].clone(),
                );
            }
            _ => {}
        }
    }
    let mut out = Grades {
        by_pupil: BTreeMap::new(),
        all: Vec::new(),
        marks: BTreeMap::new(),
    };
    for ((assessment, pupil), grade) in latest {
        let (subject, scale) = &assessments[&assessment];
        match grade {
            Value::Number(n) => {
                let on_twenty = n.as_f64().unwrap() / 100.0 * 20.0 / scale;
                out.all.push(on_twenty);
                let entry = out.by_pupil.entry(pupil).or_default();
                if kind_of_subject[subject] == "vocational" {
                    entry.1.push(on_twenty);
                } else {
                    entry.0.push(on_twenty);
                }
            }
            Value::String(mark) => *out.marks.entry(mark).or_default() += 1,
            other => panic!("grade {other}"),
        }
    }
    out
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn the_generated_school_looks_like_a_lycee() {
    let s = Scratch::new();
    let dir = s.path("gen");
    generate(&dir, "5", "6", "22");
    let events = lines(&dir.join("events.jsonl"));

    let g = grades(&events);
    let m = mean(&g.all);
    let sd = (g.all.iter().map(|x| (x - m).powi(2)).sum::<f64>() / g.all.len() as f64).sqrt();
    assert!((10.0..=13.0).contains(&m), "mean {m}");
    assert!((2.5..=4.5).contains(&sd), "sd {sd}");
    for mark in ["Abs", "Disp", "NR"] {
        assert!(g.marks.get(mark).is_some_and(|n| *n > 0), "no {mark}");
    }
    // Profiles: some pupils much stronger in vocational subjects, some in general ones.
    let gaps: Vec<f64> = g
        .by_pupil
        .values()
        .filter(|(gen, voc)| gen.len() >= 5 && voc.len() >= 5)
        .map(|(gen, voc)| mean(voc) - mean(gen))
        .collect();
    assert!(gaps.len() >= 20, "{} pupils with both kinds", gaps.len());
    assert!(
        gaps.iter().any(|g| *g >= 3.0),
        "no vocational-strong pupil: {gaps:?}"
    );
    assert!(
        gaps.iter().any(|g| *g <= -3.0),
        "no general-strong pupil: {gaps:?}"
    );
    assert!(
        gaps.iter().any(|g| g.abs() < 1.0),
        "no balanced pupil: {gaps:?}"
    );

    // QCM: attempts never exceed the maximum, and some pupils retried.
    let mut max = HashMap::new();
    let mut attempts: HashMap<(String, String), u64> = HashMap::new();
    for e in &events {
        let p = &e["payload"];
        match e["event_type"].as_str().unwrap() {
            "QuizPublished" => {
                max.insert(
                    p["quiz_id"].to_string(),
                    p["max_attempts"].as_u64().unwrap(),
                );
            }
            "AttemptStarted" => {
                *attempts
                    .entry((p["quiz_id"].to_string(), p["pupil_id"].to_string()))
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    assert!(attempts.iter().all(|((quiz, _), n)| *n <= max[quiz]));
    assert!(attempts.values().any(|n| *n >= 2));

    // Parcours: some pupils stall (three failures on a step in a session), some finish.
    let mut steps: HashMap<String, usize> = HashMap::new();
    let mut completed: HashMap<(String, String), HashSet<String>> = HashMap::new();
    let mut failures: HashMap<(String, String, String), usize> = HashMap::new();
    for e in &events {
        let p = &e["payload"];
        let key = (p["parcours_id"].to_string(), p["pupil_id"].to_string());
        match e["event_type"].as_str().unwrap() {
            "ParcoursPublished" => {
                steps.insert(
                    p["parcours_id"].to_string(),
                    p["steps"].as_array().unwrap().len(),
                );
            }
            "StepCompleted" => {
                completed
                    .entry(key)
                    .or_default()
                    .insert(p["step_id"].to_string());
            }
            "StepFailed" => {
                *failures
                    .entry((key.0, key.1, p["step_id"].to_string()))
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    assert!(
        completed
            .iter()
            .any(|((parcours, _), done)| done.len() == steps[parcours]),
        "nobody finished a parcours"
    );
    assert!(failures.values().any(|n| *n >= 3), "nobody stalled");

    // Attendance clusters: the most absent pupil misses far more than the median pupil.
    let mut absences: HashMap<String, usize> = HashMap::new();
    for e in events
        .iter()
        .filter(|e| e["event_type"] == "AbsenceRecorded")
    {
        *absences
            .entry(e["payload"]["pupil_id"].to_string())
            .or_default() += 1;
    }
    let mut counts: Vec<usize> = absences.values().copied().collect();
    counts.sort();
    assert!(counts.last().copied().unwrap_or(0) >= 4 * counts[counts.len() / 2].max(1));

    // The log follows the school calendar, in order.
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = events
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["occurred_at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "occurred_at goes back in time"
    );
    assert_eq!(times[0].date_naive().to_string(), "2025-08-28");
    assert!(times.last().unwrap().date_naive().to_string().as_str() <= "2026-07-04");
}

/// `suivi import DIR/*` on a generated directory lists `keys.jsonl` among the files to
/// import: it is named for what it is, and nothing is written, not even `events.jsonl`
/// listed before it.
#[test]
fn a_keys_file_given_as_a_file_to_import_is_named_and_nothing_is_imported() {
    let s = Scratch::new();
    let dir = s.path("gen");
    generate(&dir, "5", "1", "3");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path().display().to_string())
        .collect();
    // The shell's order for DIR/*.
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].ends_with("events.jsonl") && files[1].ends_with("keys.jsonl"));
    let store = s.store("s.db");
    let mut args = vec!["import".to_owned(), "--store".to_owned(), store.clone()];
    args.extend(files.iter().cloned());
    let run = suivi(&args);
    assert!(!run.ok(), "accepted: {}", run.stdout);
    let wanted = format!("{}: this is a keys file: pass it with --keys", files[1]);
    assert!(run.stderr.contains(&wanted), "{}", run.stderr);
    assert!(export(&store).is_empty(), "the store was written");

    // The same directory the right way round imports.
    let run = suivi(&["import", "--store", &store, "--keys", &files[1], &files[0]]);
    assert!(run.ok(), "{}", run.stderr);
    assert_eq!(export(&store).len(), lines(&dir.join("events.jsonl")).len());
}
