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
