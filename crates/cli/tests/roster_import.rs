//! SIECLE and STSWeb exports imported through the library into a memory store, the
//! results read back from the read models. Expected figures are counted by hand from the
//! fixtures in fixtures/formats/.

use std::collections::BTreeMap;
use std::sync::Arc;
use suivi_cli::import::{FileReport, Format, ImportOptions, Importer};
use suivi_domain::ids::ClassId;
use suivi_projections::gateway::Gateway;
use suivi_projections::names::open_name;
use suivi_projections::reference::PupilInfo;
use suivi_projections::ReadModels;
use suivi_store::memory::MemoryStore;
use suivi_store::EventStore;

const OCTOBER: &[u8] = include_bytes!("../../../fixtures/formats/siecle-2025-10.xml");
const NOVEMBER: &[u8] = include_bytes!("../../../fixtures/formats/siecle-2025-11.xml");

pub struct School {
    pub store: Arc<dyn EventStore>,
    pub gateway: Gateway,
}

impl School {
    pub async fn new() -> School {
        let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
        let gateway = Gateway::new(store.clone()).await.expect("gateway");
        School { store, gateway }
    }

    pub async fn import(&self, format: Format, bytes: &[u8], options: ImportOptions) -> FileReport {
        let mut importer = Importer::new(&self.gateway, options)
            .await
            .expect("importer");
        importer
            .import_bytes("file", format, bytes)
            .await
            .expect("import")
    }

    pub async fn models(&self) -> ReadModels {
        let events = self.store.read_all(0, usize::MAX).await.expect("log");
        ReadModels::rebuild(events.iter())
    }

    pub async fn head(&self) -> u64 {
        self.store.head().await.expect("head")
    }
}

fn by_type(report: &FileReport) -> BTreeMap<&'static str, usize> {
    report.by_type.clone()
}

fn class(models: &ReadModels, name: &str) -> ClassId {
    models
        .reference()
        .classes_of(school_id(models))
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.class_id)
        .unwrap_or_else(|| panic!("no class {name}"))
}

pub fn school_id(models: &ReadModels) -> suivi_domain::ids::SchoolId {
    models.reference().schools()[0].school_id
}

pub fn pupil<'a>(models: &'a ReadModels, external_id: &str) -> &'a PupilInfo {
    models
        .reference()
        .pupil_by_external_id(school_id(models), external_id)
        .unwrap_or_else(|| panic!("no pupil {external_id}"))
}

fn roster(models: &ReadModels, name: &str, on: (i32, u32, u32)) -> Vec<String> {
    let date = chrono::NaiveDate::from_ymd_opt(on.0, on.1, on.2).unwrap();
    models
        .reference()
        .roster(class(models, name), date)
        .into_iter()
        .map(|p| models.reference().pupil(p).unwrap().external_id.clone())
        .collect()
}

#[tokio::test]
async fn a_siecle_export_registers_and_enrols_then_reimports_as_nothing() {
    let school = School::new().await;
    let report = school
        .import(Format::Siecle, OCTOBER, ImportOptions::default())
        .await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // By hand: 10 ELEVE and 10 STRUCTURES_ELEVE; 1010 left on 26/09 and is not registered;
    // 9 pupils in 3 divisions, groups left out.
    assert_eq!(report.lines, 20);
    assert_eq!(
        by_type(&report),
        BTreeMap::from([
            ("SchoolRegistered", 1),
            ("SchoolYearDefined", 1),
            ("ClassOpened", 3),
            ("PupilRegistered", 9),
            ("PupilEnrolled", 9),
        ])
    );
    let models = school.models().await;
    assert_eq!(
        roster(&models, "2NDE1", (2025, 9, 1)),
        ["1001", "1002", "1003"]
    );
    assert_eq!(
        roster(&models, "2NDE2", (2025, 9, 1)),
        ["1004", "1005", "1006"]
    );
    assert_eq!(
        roster(&models, "1G1", (2025, 10, 6)),
        ["1007", "1008", "1009"]
    );

    // Identities are sealed: no name in the log, and the key opens NOM_USAGE + PRENOM.
    let log = school.store.read_all(0, usize::MAX).await.unwrap();
    let text: String = log.iter().map(|e| e.payload.get().to_owned()).collect();
    for name in ["MARTIN", "Léa", "LEROY", "Éloïse", "070123456AB"] {
        assert!(!text.contains(name), "{name} is in the log in clear");
    }
    let eloise = pupil(&models, "1008");
    let key = school.store.get_key(eloise.pupil_id).await.unwrap();
    let name = open_name(eloise, key.as_ref());
    assert_eq!(name.display(), "LEROY-FAURE Éloïse");
    assert_eq!(
        name.identity().and_then(|i| i.birth_date),
        chrono::NaiveDate::from_ymd_opt(2008, 12, 25)
    );

    let head = school.head().await;
    let again = school
        .import(Format::Siecle, OCTOBER, ImportOptions::default())
        .await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!((again.events_written, again.already_present), (0, 9));
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert_eq!(school.head().await, head);
}

#[tokio::test]
async fn a_month_later_one_pupil_moves_one_arrives_one_leaves() {
    let school = School::new().await;
    school
        .import(Format::Siecle, OCTOBER, ImportOptions::default())
        .await;
    let before = school.head().await;

    // A dry run says what would change and writes nothing.
    let dry = school
        .import(
            Format::Siecle,
            NOVEMBER,
            ImportOptions {
                dry_run: true,
                ..ImportOptions::default()
            },
        )
        .await;
    assert!(dry.errors.is_empty(), "{:?}", dry.errors);
    assert_eq!(
        dry.changes,
        [
            "pupil 1004 moves from 2NDE2 to 2NDE1 on 2025-11-03",
            "new pupil 1011 in 1G1 from 2025-11-03",
            "pupil 1009 leaves 1G1 on 2025-11-03",
        ]
    );
    assert_eq!(school.head().await, before);

    let report = school
        .import(Format::Siecle, NOVEMBER, ImportOptions::default())
        .await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.changes.len(), 3);
    assert_eq!(
        by_type(&report),
        BTreeMap::from([
            ("PupilTransferred", 1),
            ("PupilRegistered", 1),
            ("PupilEnrolled", 1),
            ("EnrolmentEnded", 1),
        ])
    );
    assert_eq!(school.head().await, before + 4);
    // 8 pupils of October still in the file, 1004 among them but moved.
    assert_eq!(report.already_present, 7);

    let models = school.models().await;
    // The class as it stood in October, and after the 3 November export.
    assert_eq!(
        roster(&models, "2NDE2", (2025, 11, 2)),
        ["1004", "1005", "1006"]
    );
    assert_eq!(
        roster(&models, "2NDE1", (2025, 11, 3)),
        ["1001", "1002", "1003", "1004"]
    );
    assert_eq!(roster(&models, "2NDE2", (2025, 11, 3)), ["1005", "1006"]);
    assert_eq!(
        roster(&models, "1G1", (2025, 11, 2)),
        ["1007", "1008", "1009"]
    );
    assert_eq!(
        roster(&models, "1G1", (2025, 11, 3)),
        ["1007", "1008", "1011"]
    );

    let head = school.head().await;
    let again = school
        .import(Format::Siecle, NOVEMBER, ImportOptions::default())
        .await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!(again.events_written, 0);
    assert_eq!(school.head().await, head);
}

#[tokio::test]
async fn malformed_siecle_files_are_refused_whole_naming_where() {
    let school = School::new().await;
    // The fixture is ISO-8859-1: one char per byte, and back.
    let text: String = OCTOBER.iter().map(|b| char::from(*b)).collect();
    let cases: Vec<(String, &str)> = vec![
        // Truncated in the middle of the pupils.
        (
            text[..text[..text.len() / 2].rfind('\n').unwrap()].to_owned(),
            "line 108: the file ends inside <ELEVE> opened on line 107: it is truncated",
        ),
        // Cut inside a tag.
        (
            text[..text.len() / 2].to_owned(),
            "line 109: the XML is not well-formed",
        ),
        // A birth date that is not a date.
        (
            text.replace("<DATE_NAISS>02/07/2010", "<DATE_NAISS>31/02/2010"),
            "ELEVE_ID=\"1002\"> line 29: <DATE_NAISS> \"31/02/2010\" is not a date",
        ),
        // Another root element.
        (
            text.replace("BEE_ELEVES", "STS_EDT"),
            "not a SIECLE pupil export",
        ),
        // A structure of an unknown type.
        (
            text.replacen(
                "<TYPE_STRUCTURE>G</TYPE_STRUCTURE>",
                "<TYPE_STRUCTURE>X</TYPE_STRUCTURE>",
                1,
            ),
            "<TYPE_STRUCTURE> \"X\" is neither D",
        ),
    ];
    for (bytes, expected) in cases {
        let bytes: Vec<u8> = bytes.chars().map(|c| c as u32 as u8).collect();
        let report = school
            .import(Format::Siecle, &bytes, ImportOptions::default())
            .await;
        assert!(report.refused(), "accepted; expected {expected}");
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.to_string().contains(expected)),
            "{expected:?} not in {:?}",
            report.errors
        );
        assert_eq!(school.head().await, 0, "a refused file wrote events");
    }
}

const STS: &[u8] = include_bytes!("../../../fixtures/formats/STS_EMP_0691234X_2025.xml");

fn teaching(models: &ReadModels, class_name: &str) -> Vec<(String, String)> {
    let reference = models.reference();
    let mut pairs: Vec<(String, String)> = reference
        .class(class(models, class_name))
        .unwrap()
        .teaching
        .iter()
        .map(|(t, s)| {
            (
                reference.teacher(*t).unwrap().display_name.clone(),
                reference.subject(*s).unwrap().name.clone(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn an_sts_export_adds_teachers_subjects_and_services_as_a_diff() {
    let school = School::new().await;
    school
        .import(Format::Siecle, OCTOBER, ImportOptions::default())
        .await;
    let report = school
        .import(Format::Sts, STS, ImportOptions::default())
        .await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // By hand: the 3 divisions exist (from SIECLE); 3 matières taught of the 4 listed;
    // the 4 ENS (5004 is DIR), 5005 without a service; 3 + 2 + 2 services.
    assert_eq!(
        report.by_type,
        BTreeMap::from([
            ("SubjectDefined", 3),
            ("TeacherRegistered", 4),
            ("TeachingAssigned", 7),
        ])
    );
    let models = school.models().await;
    assert_eq!(
        teaching(&models, "2NDE1"),
        [
            ("Anne NGUYEN".into(), "ANGLAIS LV1".into()),
            ("Karim LAMBERT".into(), "FRANCAIS".into()),
            ("Marie DUPONT".into(), "MATHEMATIQUES".into()),
        ]
    );
    assert_eq!(
        teaching(&models, "1G1"),
        [
            ("Anne NGUYEN".into(), "ANGLAIS LV1".into()),
            ("Karim LAMBERT".into(), "FRANCAIS".into()),
        ]
    );
    let log = school.store.read_all(0, usize::MAX).await.unwrap();
    let teachers: std::collections::BTreeSet<String> = log
        .iter()
        .filter(|e| e.event_type == "TeacherRegistered")
        .map(|e| {
            let payload: serde_json::Value = serde_json::from_str(e.payload.get()).unwrap();
            payload["display_name"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        teachers,
        [
            "Anne NGUYEN",
            "Karim LAMBERT",
            "Marie DUPONT",
            "Sophie COLIN"
        ]
        .map(String::from)
        .into()
    );

    let head = school.head().await;
    let again = school
        .import(Format::Sts, STS, ImportOptions::default())
        .await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!((again.events_written, again.already_present), (0, 7));
    assert_eq!(school.head().await, head);

    // Next month: a new colleague teaches SES in 1G1.
    let text: String = STS.iter().map(|b| char::from(*b)).collect();
    let text = text
        .replacen(
            "    </INDIVIDUS>",
            "      <INDIVIDU ID=\"5006\" TYPE=\"epp\">\n        <NOM_USAGE>BLANC</NOM_USAGE>\n        <PRENOM>Yanis</PRENOM>\n        <FONCTION>ENS</FONCTION>\n      </INDIVIDU>\n    </INDIVIDUS>",
            1,
        )
        .replacen(
            "        <DIVISION CODE=\"1G1\">\n          <LIBELLE_LONG>1G1</LIBELLE_LONG>\n          <EFFECTIF_PREVU>35</EFFECTIF_PREVU>\n          <SERVICES>\n",
            "        <DIVISION CODE=\"1G1\">\n          <LIBELLE_LONG>1G1</LIBELLE_LONG>\n          <EFFECTIF_PREVU>35</EFFECTIF_PREVU>\n          <SERVICES>\n            <SERVICE CODE_MATIERE=\"072600\">\n              <ENSEIGNANTS>\n                <ENSEIGNANT ID=\"5006\" TYPE=\"epp\"/>\n              </ENSEIGNANTS>\n            </SERVICE>\n",
            1,
        );
    let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    let next = school
        .import(Format::Sts, &bytes, ImportOptions::default())
        .await;
    assert!(next.errors.is_empty(), "{:?}", next.errors);
    assert_eq!(
        next.changes,
        [
            "new subject 072600 (SCIENCES ECONOMIQUES ET SOCIALES)",
            "new teacher 5006",
            "teacher 5006 teaches 072600 in 1G1",
        ]
    );
    assert_eq!(next.events_written, 3);

    // A service naming a teacher the file does not list is refused, naming the line.
    let broken = text.replacen("<ENSEIGNANT ID=\"5006\"", "<ENSEIGNANT ID=\"9999\"", 1);
    let bytes: Vec<u8> = broken.chars().map(|c| c as u32 as u8).collect();
    let head = school.head().await;
    let refused = school
        .import(Format::Sts, &bytes, ImportOptions::default())
        .await;
    assert!(refused.refused());
    assert_eq!(
        refused.errors[0].to_string(),
        "line 153: <ENSEIGNANT ID=\"9999\"> of division 1G1: no <INDIVIDU ID=\"9999\">"
    );
    assert_eq!(school.head().await, head);
}
