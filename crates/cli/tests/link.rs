//! `suivi link`'s CSV (subject,role,external_id) through the library into a memory store
//! holding the SIECLE and STSWeb fixtures: who each account is, read back from the read
//! models; all lines or none; a second run writes nothing.

use std::sync::Arc;
use suivi_cli::import::{Format, ImportOptions, Importer};
use suivi_cli::link::link;
use suivi_domain::Role;
use suivi_projections::gateway::Gateway;
use suivi_projections::ReadModels;
use suivi_store::memory::MemoryStore;
use suivi_store::EventStore;

const SIECLE: &[u8] = include_bytes!("../../../fixtures/formats/siecle-2025-10.xml");
const STS: &[u8] = include_bytes!("../../../fixtures/formats/STS_EMP_0691234X_2025.xml");
const ENT: &str = "https://ent.example/realms/lycee";

async fn school() -> (Arc<dyn EventStore>, Gateway) {
    let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
    let gateway = Gateway::new(store.clone()).await.expect("gateway");
    for (format, bytes) in [(Format::Siecle, SIECLE), (Format::Sts, STS)] {
        let mut importer = Importer::new(&gateway, ImportOptions::default())
            .await
            .expect("importer");
        let report = importer
            .import_bytes("roster", format, bytes)
            .await
            .expect("import");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }
    (store, gateway)
}

async fn models(store: &Arc<dyn EventStore>) -> ReadModels {
    let events = store.read_all(0, usize::MAX).await.expect("log");
    ReadModels::rebuild(events.iter())
}

#[tokio::test]
async fn accounts_are_linked_to_pupils_by_external_id_and_to_teachers_by_sts_id() {
    let (store, gateway) = school().await;
    let before = models(&store).await;
    let school = before.reference().schools()[0].school_id;
    let pupil = before
        .reference()
        .pupil_by_external_id(school, "1001")
        .expect("pupil 1001 of the SIECLE fixture")
        .pupil_id;
    let csv = b"subject,role,external_id\nent-eleve-1001,pupil,1001\nent-prof-5001,professeur_principal,5001\n";
    let report = link(&gateway, school, ENT, csv).await.expect("link");
    assert_eq!(
        (report.linked, report.already),
        (2, 0),
        "{:?}",
        report.errors
    );
    let after = models(&store).await;
    let reference = after.reference();
    let eleve = reference
        .identity_link(school, ENT, "ent-eleve-1001")
        .expect("the pupil's account");
    assert_eq!((eleve.role, eleve.person_id), (Role::Pupil, pupil.0));
    let prof = reference
        .identity_link(school, ENT, "ent-prof-5001")
        .expect("the teacher's account");
    assert_eq!(prof.role, Role::HeadTeacher);
    // STSWeb's individual 5001 is Marie DUPONT (fixtures/formats/STS_EMP_0691234X_2025.xml).
    let teacher = reference
        .teacher(suivi_domain::ids::TeacherId(prof.person_id))
        .expect("a registered teacher");
    assert!(
        teacher.display_name.contains("DUPONT"),
        "{}",
        teacher.display_name
    );
    // Another provider's account of the same subject is another account.
    assert!(reference
        .identity_link(school, "https://other.example", "ent-eleve-1001")
        .is_none());
    assert_eq!(reference.identity_links_of(ENT, "ent-eleve-1001").len(), 1);

    // The same file again: nothing written.
    let head = store.head().await.expect("head");
    let again = link(&gateway, school, ENT, csv).await.expect("link");
    assert_eq!((again.linked, again.already), (0, 2));
    assert_eq!(store.head().await.expect("head"), head);
}

#[tokio::test]
async fn one_bad_line_and_nothing_is_linked() {
    let (store, gateway) = school().await;
    let school = models(&store).await.reference().schools()[0].school_id;
    let head = store.head().await.expect("head");
    // Line 2 is good; 3: unknown external id; 4: unknown role; 5: a guardian by a
    // roster id; 6: the subject of line 2 again.
    let csv = "subject;role;external_id\n\
               ent-a;pupil;1001\n\
               ent-b;pupil;9999\n\
               ent-c;director;1002\n\
               ent-d;guardian;1003\n\
               ent-a;pupil;1002\n";
    let report = link(&gateway, school, ENT, csv.as_bytes())
        .await
        .expect("link");
    let lines: Vec<usize> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6], "{:?}", report.errors);
    assert_eq!(report.linked, 0);
    assert!(
        report.errors[0].reason.contains("9999"),
        "{}",
        report.errors[0]
    );
    assert!(
        report.errors[3].reason.contains("already on line 2"),
        "{}",
        report.errors[3]
    );
    assert_eq!(store.head().await.expect("head"), head, "nothing written");
    // A header without the contract's columns is refused at the header.
    let report = link(&gateway, school, ENT, b"login,role,id\nx,pupil,1001\n")
        .await
        .expect("link");
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 1);
    assert_eq!(store.head().await.expect("head"), head, "nothing written");
}
