//! Pix Orga and Moodle quiz exports imported through the library into a memory store that
//! holds the SIECLE roster of fixtures/formats, the results read back from the read models.
//! Expected figures are worked out by hand from the fixtures.

use std::collections::BTreeMap;
use std::sync::Arc;
use suivi_cli::import::{FileReport, Format, ImportOptions, Importer};
use suivi_domain::ids::{PupilId, SchoolId};
use suivi_domain::reference::CRCN_ID;
use suivi_projections::gateway::Gateway;
use suivi_projections::ReadModels;
use suivi_store::memory::MemoryStore;
use suivi_store::EventStore;

const OCTOBER: &[u8] = include_bytes!("../../../fixtures/formats/siecle-2025-10.xml");
const STS: &[u8] = include_bytes!("../../../fixtures/formats/STS_EMP_0691234X_2025.xml");
const PIX: &[u8] = include_bytes!("../../../fixtures/formats/pix-orga-profiles.csv");

struct School {
    store: Arc<dyn EventStore>,
    gateway: Gateway,
}

impl School {
    /// The October roster and the STS services.
    async fn new() -> School {
        let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
        let gateway = Gateway::new(store.clone()).await.expect("gateway");
        let school = School { store, gateway };
        for (format, bytes) in [(Format::Siecle, OCTOBER), (Format::Sts, STS)] {
            let report = school.import(format, bytes, ImportOptions::default()).await;
            assert!(report.errors.is_empty(), "{:?}", report.errors);
        }
        school
    }

    async fn import(&self, format: Format, bytes: &[u8], options: ImportOptions) -> FileReport {
        let mut importer = Importer::new(&self.gateway, options)
            .await
            .expect("importer");
        importer
            .import_bytes("file", format, bytes)
            .await
            .expect("import")
    }

    async fn models(&self) -> ReadModels {
        let events = self.store.read_all(0, usize::MAX).await.expect("log");
        ReadModels::rebuild(events.iter())
    }

    async fn head(&self) -> u64 {
        self.store.head().await.expect("head")
    }
}

fn school_id(models: &ReadModels) -> SchoolId {
    models.reference().schools()[0].school_id
}

fn pupil(models: &ReadModels, external_id: &str) -> PupilId {
    models
        .reference()
        .pupil_by_external_id(school_id(models), external_id)
        .unwrap_or_else(|| panic!("no pupil {external_id}"))
        .pupil_id
}

#[tokio::test]
async fn pix_profiles_become_crcn_levels_on_the_day_they_were_sent() {
    let school = School::new().await;
    let report = school
        .import(Format::PixOrga, PIX, ImportOptions::default())
        .await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // By hand: 3 participants, Hugo (1002) did not send; Léa 16 levels, Chloé 16 minus 2 NA.
    assert_eq!(report.lines, 3);
    assert_eq!(
        report.by_type,
        BTreeMap::from([("FrameworkDefined", 1), ("CompetencyAssessed", 30)])
    );
    let models = school.models().await;
    let framework = models.reference().framework(CRCN_ID).expect("CRCN");
    assert_eq!(
        (framework.components.len(), framework.levels.len()),
        (16, 9)
    );
    let level =
        |p: &str, code: &str| models.competency_level(pupil(&models, p), CRCN_ID, code, None);
    // Pix level n is the framework's level n + 1.
    assert_eq!(level("1001", "1.1"), Some(4)); // Pix 3
    assert_eq!(level("1001", "2.3"), Some(1)); // Pix 0
    assert_eq!(level("1001", "5.2"), Some(2)); // Pix 1
    assert_eq!(level("1003", "3.1"), Some(4)); // Pix 3
    assert_eq!(level("1003", "1.3"), None); // NA
    assert_eq!(level("1002", "1.1"), None); // not sent
                                            // On the day of sending (14 November), not before.
    let day = |d| chrono::NaiveDate::from_ymd_opt(2025, 11, d);
    assert_eq!(
        models.competency_level(pupil(&models, "1001"), CRCN_ID, "1.1", day(13)),
        None
    );
    assert_eq!(
        models.competency_level(pupil(&models, "1001"), CRCN_ID, "1.1", day(14)),
        Some(4)
    );

    let head = school.head().await;
    let again = school
        .import(Format::PixOrga, PIX, ImportOptions::default())
        .await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!((again.events_written, again.already_present), (0, 30));
    assert_eq!(school.head().await, head);
}

#[tokio::test]
async fn malformed_pix_files_are_refused_whole_naming_the_line_and_value() {
    let school = School::new().await;
    let text = std::str::from_utf8(PIX).unwrap();
    let cases = [
        (
            text.replace("\"Envoi (O/N)\"", "\"Partage (O/N)\""),
            "line 1: the header has no column \"Envoi (O/N)\"",
        ),
        (
            text.replace("14/11/2025 10:32", "31/11/2025 10:32"),
            "line 2: participant \"1001\": Date et heure de l'envoi (Europe/Paris) \"31/11/2025 10:32\" is not a date",
        ),
        (
            text.replace("\"1003\";\"O\";\"18/11/2025 16:05\";98,5;\"N\";1;2;", "\"1003\";\"O\";\"18/11/2025 16:05\";98,5;\"N\";1;9;"),
            "line 4: participant \"1003\": the level of competence 1.1 is \"9\", not 0 to 8",
        ),
        (
            text.replace("\"1003\"", "\"4242\""),
            "line 4: no pupil has external id \"4242\" in suivi",
        ),
    ];
    for (bytes, expected) in cases {
        let report = school
            .import(Format::PixOrga, bytes.as_bytes(), ImportOptions::default())
            .await;
        assert!(report.refused(), "accepted; expected {expected}");
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.to_string().starts_with(expected)),
            "{expected:?} not in {:?}",
            report.errors
        );
    }
    // Nothing of any of them was written: the framework neither.
    let models = school.models().await;
    assert!(models.reference().framework(CRCN_ID).is_none());
}

const MOODLE_EN: &[u8] = include_bytes!("../../../fixtures/formats/moodle-quiz-grades-en.csv");
const MOODLE_FR: &[u8] = include_bytes!("../../../fixtures/formats/moodle-quiz-notes-fr.csv");

fn quiz_options(title: &str, subject: &str) -> ImportOptions {
    ImportOptions {
        quiz: Some(title.into()),
        class: Some("2NDE1".into()),
        subject: Some(subject.into()),
        ..ImportOptions::default()
    }
}

/// (attempts used, best score as correct/out of, time on task in ms) of a pupil.
fn result(models: &ReadModels, title: &str, external_id: &str) -> (u16, Option<(u16, u16)>, u64) {
    let class = models
        .reference()
        .classes_of(school_id(models))
        .into_iter()
        .find(|c| c.name == "2NDE1")
        .unwrap()
        .class_id;
    let quiz = models
        .quizzes_of(class)
        .into_iter()
        .find(|q| q.title == title)
        .unwrap_or_else(|| panic!("no quiz {title}"))
        .quiz_id;
    let r = models
        .pupil_quiz(quiz, pupil(models, external_id))
        .expect("result");
    (
        r.attempts_used,
        r.best.map(|s| (s.correct, s.out_of)),
        r.time_ms,
    )
}

#[tokio::test]
async fn a_moodle_grades_report_becomes_attempts_scores_and_times() {
    let school = School::new().await;
    let options = quiz_options("Fonctions affines", "MATHEMATIQUES");
    let report = school
        .import(Format::MoodleQuiz, MOODLE_EN, options.clone())
        .await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // By hand: 4 attempts (the overall average is no attempt), Chloé's in progress;
    // answers: Léa 4 + 4, Hugo 3 (Q. 4 is "-").
    assert_eq!(report.lines, 4);
    assert_eq!(
        report.by_type,
        BTreeMap::from([
            ("QuizPublished", 1),
            ("AttemptStarted", 4),
            ("QuestionAnswered", 11),
            ("AttemptSubmitted", 3),
        ])
    );
    let models = school.models().await;
    // Léa: 3/4 then 4/4; 12 min 5 s + 7 min = 725 000 + 420 000 ms.
    assert_eq!(
        result(&models, "Fonctions affines", "1001"),
        (2, Some((4, 4)), 1_145_000)
    );
    // Hugo: full marks on Q. 1 and Q. 3, half on Q. 2 (not right); 17 min 30 s.
    assert_eq!(
        result(&models, "Fonctions affines", "1002"),
        (1, Some((2, 4)), 1_050_000)
    );
    // Chloé: started, not submitted.
    assert_eq!(result(&models, "Fonctions affines", "1003"), (1, None, 0));

    let head = school.head().await;
    let again = school
        .import(Format::MoodleQuiz, MOODLE_EN, options.clone())
        .await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!((again.events_written, again.already_present), (0, 4));
    assert_eq!(school.head().await, head);

    // The next download: Chloé has finished her attempt, which is answered and submitted.
    let text = std::str::from_utf8(MOODLE_EN).unwrap().replace(
        "In progress,12 November 2025  9:05 AM,-,-,-,-,-,-,-",
        "Finished,12 November 2025  9:05 AM,12 November 2025  9:25 AM,20 mins,5.00,2.50,2.50,0.00,0.00",
    );
    let later = school
        .import(Format::MoodleQuiz, text.as_bytes(), options)
        .await;
    assert!(later.errors.is_empty(), "{:?}", later.errors);
    assert_eq!(
        later.by_type,
        BTreeMap::from([("QuestionAnswered", 4), ("AttemptSubmitted", 1)])
    );
    let models = school.models().await;
    assert_eq!(
        result(&models, "Fonctions affines", "1003"),
        (1, Some((2, 4)), 1_200_000)
    );
}

#[tokio::test]
async fn a_french_report_registers_unknown_pupils_only_when_asked() {
    let school = School::new().await;
    let options = quiz_options("Vocabulaire", "ANGLAIS LV1");
    let refused = school
        .import(Format::MoodleQuiz, MOODLE_FR, options.clone())
        .await;
    assert!(refused.refused());
    assert_eq!(refused.errors.len(), 1, "{:?}", refused.errors);
    assert!(
        refused.errors[0]
            .to_string()
            .starts_with("line 3: pupil \"E-NL-77\" is unmatched"),
        "{}",
        refused.errors[0]
    );
    let head = school.head().await;
    let report = school
        .import(
            Format::MoodleQuiz,
            MOODLE_FR,
            ImportOptions {
                create_missing: true,
                ..options
            },
        )
        .await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        report.by_type,
        BTreeMap::from([
            ("PupilRegistered", 1),
            ("PupilEnrolled", 1),
            ("QuizPublished", 1),
            ("AttemptStarted", 2),
            ("QuestionAnswered", 4),
            ("AttemptSubmitted", 2),
        ])
    );
    assert_eq!(school.head().await, head + 11);
    let models = school.models().await;
    // Chloé, matched by name: 16 days 14 hours over 2 answers, each capped at 6 hours.
    assert_eq!(
        result(&models, "Vocabulaire", "1003"),
        (1, Some((1, 2)), 43_200_000)
    );
    // Nina, registered with her ID number, enrolled from her attempt's day: 1 h 5 min.
    assert_eq!(
        result(&models, "Vocabulaire", "E-NL-77"),
        (1, Some((2, 2)), 3_900_000)
    );
    let nina = models
        .reference()
        .pupil_by_external_id(school_id(&models), "E-NL-77")
        .unwrap();
    assert_eq!(
        nina.class_on(chrono::NaiveDate::from_ymd_opt(2025, 11, 20).unwrap()),
        Some(
            models
                .reference()
                .classes_of(school_id(&models))
                .into_iter()
                .find(|c| c.name == "2NDE1")
                .unwrap()
                .class_id
        )
    );
}

#[tokio::test]
async fn malformed_moodle_reports_are_refused_whole_naming_the_line_and_value() {
    let school = School::new().await;
    let text = std::str::from_utf8(MOODLE_EN).unwrap();
    let cases = [
        (
            text.replace("State,", "Status,"),
            "line 1: the header has no column \"State\" or \"État\"",
        ),
        (
            text.replace("12 November 2025  9:14 AM", "31 November 2025  9:14 AM"),
            "line 2: attempt of lea.martin@eleve.example.org: completed \"31 November 2025  9:14 AM\" is not a date",
        ),
        (
            text.replace("17 mins 30 secs", "17 minutes and a half"),
            "line 3: attempt of hugo.bernard@eleve.example.org: time taken \"17 minutes and a half\" is not a duration",
        ),
        (
            text.replace("6.25,2.50,1.25", "6.25,2.50,3.75"),
            "line 3: attempt of hugo.bernard@eleve.example.org: Q. 2 /2.50 is \"3.75\", not a mark out of 2.50",
        ),
    ];
    let head = school.head().await;
    for (bytes, expected) in cases {
        let report = school
            .import(
                Format::MoodleQuiz,
                bytes.as_bytes(),
                quiz_options("Fonctions affines", "MATHEMATIQUES"),
            )
            .await;
        assert!(report.refused(), "accepted; expected {expected}");
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.to_string().starts_with(expected)),
            "{expected:?} not in {:?}",
            report.errors
        );
        assert_eq!(school.head().await, head);
    }
}

#[tokio::test]
async fn a_pupil_known_by_e_mail_only_is_registered_under_a_pseudonym() {
    let school = School::new().await;
    let text = std::str::from_utf8(MOODLE_EN)
        .unwrap()
        .replace("Dubois,Chloé", "Girard,Lucas")
        .replace("chloe.dubois@", "Lucas.Girard@");
    let report = school
        .import(
            Format::MoodleQuiz,
            text.as_bytes(),
            ImportOptions {
                create_missing: true,
                ..quiz_options("Fonctions affines", "MATHEMATIQUES")
            },
        )
        .await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.by_type.get("PupilRegistered"), Some(&1));
    // The pseudonym, recomputed here: SHA-256 of the lowercased address, 16 bytes in hex.
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(b"lucas.girard@eleve.example.org");
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let models = school.models().await;
    assert_eq!(
        result(&models, "Fonctions affines", &format!("moodle-email:{hex}")),
        (1, None, 0)
    );
    let log = school.store.read_all(0, usize::MAX).await.unwrap();
    let text: String = log.iter().map(|e| e.payload.get().to_owned()).collect();
    for clear in ["girard", "Girard", "Lucas", "eleve.example.org"] {
        assert!(!text.contains(clear), "{clear} is in the log in clear");
    }
}
