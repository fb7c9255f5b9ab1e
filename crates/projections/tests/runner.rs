//! The runner against the in-memory store: catch-up, then live; reading one's own write;
//! change notices; names opened with the pupil's key, and "Élève effacé" once it is gone.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::sync::Arc;
use std::time::Duration;
use suivi_domain::envelope::{Actor, Metadata};
use suivi_domain::events::*;
use suivi_domain::identity::PupilIdentity;
use suivi_domain::reference::{PeriodKind, SubjectKind};
use suivi_domain::values::{Coefficient, Grade, Hundredths};
use suivi_domain::Command as C;
use suivi_projections::gateway::Gateway;
use suivi_projections::{KeyRing, Projections, PupilName, Ratio, ReadModels, ERASED_PUPIL};
use suivi_store::memory::MemoryStore;
use suivi_store::EventStore;
use uuid::Uuid;

fn id<T: From<Uuid>>(n: u128) -> T {
    T::from(Uuid::from_u128(n))
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, d).expect("valid date")
}

fn instant(m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, m, d, 9, 0, 0)
        .single()
        .expect("valid instant")
}

fn meta(occurred_at: DateTime<Utc>) -> Metadata {
    Metadata {
        school_id: id(1),
        actor: Actor::System("test".into()),
        occurred_at,
        correlation_id: None,
        causation_id: None,
    }
}

const CLASS: u128 = 20;
const MATHS: u128 = 10;
const T1: u128 = 3;
const LEA: u128 = 40;

async fn school(gateway: &Gateway) -> u64 {
    let m = meta(instant(9, 1));
    let commands = vec![
        C::RegisterSchool(SchoolRegistered {
            school_id: id(1),
            name: "Collège Jean Jaurès".into(),
            nr_counts_as_zero: true,
        }),
        C::DefineSchoolYear(SchoolYearDefined {
            year_id: id(2),
            label: "2025-2026".into(),
            starts_on: day(9, 1),
            ends_on: NaiveDate::from_ymd_opt(2026, 7, 4).expect("date"),
        }),
        C::DefinePeriod(PeriodDefined {
            period_id: id(T1),
            year_id: id(2),
            name: "T1".into(),
            kind: PeriodKind::Trimestre,
            starts_on: day(9, 1),
            ends_on: day(11, 30),
        }),
        C::DefineSubject(SubjectDefined {
            subject_id: id(MATHS),
            name: "Mathématiques".into(),
            kind: SubjectKind::General,
            coefficient: Coefficient(Hundredths(100)),
        }),
        C::OpenClass(ClassOpened {
            class_id: id(CLASS),
            year_id: id(2),
            name: "3e B".into(),
        }),
    ];
    for command in commands {
        gateway.execute(&m, command).await.expect("accepted");
    }
    let identity = PupilIdentity {
        last_name: "Martin".into(),
        first_name: "Léa".into(),
        birth_date: None,
    };
    gateway
        .register_pupil(&m, id(LEA), "E-001".into(), &identity)
        .await
        .expect("registered");
    gateway
        .execute(
            &m,
            C::EnrolPupil(PupilEnrolled {
                pupil_id: id(LEA),
                class_id: id(CLASS),
                on: day(9, 1),
            }),
        )
        .await
        .expect("enrolled")
        .last_position
}

async fn grade(gateway: &Gateway, assessment: u128, points: u32) -> u64 {
    let m = meta(instant(10, 2));
    gateway
        .execute(
            &m,
            C::ScheduleAssessment(AssessmentScheduled {
                assessment_id: id(assessment),
                class_id: id(CLASS),
                subject_id: id(MATHS),
                period_id: id(T1),
                title: "Contrôle".into(),
                date: day(10, 1),
                scale: 20,
                coefficient: Coefficient::ONE,
            }),
        )
        .await
        .expect("scheduled");
    gateway
        .execute(
            &m,
            C::RecordGrade(GradeRecorded {
                assessment_id: id(assessment),
                pupil_id: id(LEA),
                grade: Grade::Score(Hundredths::from_points(points)),
            }),
        )
        .await
        .expect("graded")
        .last_position
}

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("in time")
}

#[tokio::test]
async fn catches_up_then_follows_and_reads_its_own_writes() {
    let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
    let gateway = Gateway::new(store.clone()).await.expect("gateway");
    let before = school(&gateway).await;
    grade(&gateway, 50, 12).await;

    let projections = Projections::start(store.clone());
    let caught_up = within(projections.caught_up()).await.expect("running");
    assert!(caught_up.position() >= before);
    assert_eq!(
        caught_up.reference().roster(id(CLASS), day(10, 1)),
        vec![id(LEA)]
    );

    let mut changes = projections.changes();
    // A write after the catch-up: wait for its position, then read it.
    let written = grade(&gateway, 51, 15).await;
    let snapshot = within(projections.wait_for(written))
        .await
        .expect("running");
    assert!(snapshot.position() >= written);
    // (12 + 15) / 2 = 13.5
    assert_eq!(
        snapshot.pupil_average(id(CLASS), id(LEA), id(MATHS), id(T1)),
        Some(Ratio::new(27, 2))
    );
    assert!(projections.position() >= written);

    // The notices name the class and the pupil touched, up to the write.
    let mut seen_class = false;
    let mut seen_pupil = false;
    while !(seen_class && seen_pupil) {
        let applied = within(changes.recv()).await.expect("a notice");
        seen_class |= applied.touches_class(id(CLASS));
        seen_pupil |= applied.touches_pupil(id(LEA));
        assert!(applied.position <= written);
    }

    // The live snapshot equals a rebuild from the store.
    let all = store.read_all(0, 10_000).await.expect("log");
    let rebuilt = ReadModels::rebuild(&all);
    assert_eq!(rebuilt.position(), snapshot.position());
    assert_eq!(
        rebuilt.class_report(id(CLASS), id(T1)),
        snapshot.class_report(id(CLASS), id(T1))
    );
    projections.stop();
}

#[tokio::test]
async fn names_open_with_the_key_and_erasure_shows_an_erased_pupil() {
    let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
    let gateway = Gateway::new(store.clone()).await.expect("gateway");
    let position = school(&gateway).await;
    let projections = Projections::start(store.clone());
    let models = within(projections.wait_for(position))
        .await
        .expect("running");
    let ring = KeyRing::new(store.clone());

    let name = ring
        .name(&models, id(LEA))
        .await
        .expect("store")
        .expect("known");
    assert_eq!(name.display(), "MARTIN Léa");
    assert!(!format!("{name:?}").contains("Martin"));
    assert_eq!(ring.name(&models, id(999)).await.expect("store"), None);

    assert!(store.destroy_key(id(LEA)).await.expect("store"));
    ring.forget(id(LEA));
    let name = ring
        .name(&models, id(LEA))
        .await
        .expect("store")
        .expect("known");
    assert_eq!(name, PupilName::Erased);
    assert_eq!(name.display(), ERASED_PUPIL);
    assert_eq!(ERASED_PUPIL, "Élève effacé");
    let names = ring.names(&models, &[id(LEA)]).await.expect("store");
    assert_eq!(names.get(&id(LEA)), Some(&PupilName::Erased));
}

#[tokio::test]
async fn a_catch_up_over_many_small_batches_equals_a_rebuild_and_skips_what_does_not_decode() {
    // The school written through the gateway (which refuses a log it cannot read)…
    let source: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
    let gateway = Gateway::new(source.clone()).await.expect("gateway");
    school(&gateway).await;
    grade(&gateway, 50, 12).await;
    grade(&gateway, 51, 15).await;
    grade(&gateway, 52, 7).await;
    // …copied into the store under test with, mid-log, an event this version cannot read
    // (a type from a newer version).
    let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
    let written = source.read_all(0, 10_000).await.expect("log");
    let odd = suivi_domain::NewEvent {
        event_id: id(900),
        event_type: "LessonPlanned".into(),
        schema_version: 1,
        payload: suivi_domain::envelope::raw("{\"lesson\":\"fractions\"}".to_owned()),
        ..written[0].to_new_event()
    };
    for (i, recorded) in written.iter().enumerate() {
        let mut events = vec![recorded.to_new_event()];
        if i == 10 {
            events.push(odd.clone());
        }
        store
            .append_all(vec![suivi_store::AppendRequest::new(
                recorded.stream.clone(),
                suivi_store::ExpectedVersion::Any,
                events,
            )])
            .await
            .expect("copied");
    }
    let head = store.head().await.expect("head");

    // Batches of 3: the read-ahead hands over many batches, the last one short.
    let options = suivi_projections::RunnerOptions {
        batch_size: 3,
        ..Default::default()
    };
    let projections = Projections::start_with(store.clone(), options);
    let snapshot = within(projections.caught_up()).await.expect("running");
    assert_eq!(snapshot.position(), head);

    // The second method: every event decoded and folded one at a time.
    let all = store.read_all(0, 10_000).await.expect("log");
    let mut one_by_one = ReadModels::new();
    let mut skipped = 0;
    for recorded in &all {
        skipped += u64::from(one_by_one.apply_recorded(recorded).is_err());
    }
    assert_eq!(skipped, 1);
    assert_eq!(snapshot.stats(), one_by_one.stats());
    assert_eq!(snapshot.stats().undecodable, 1);
    assert_eq!(
        snapshot.stats().applied + snapshot.stats().undecodable,
        head,
        "every event folded or skipped once"
    );
    // (12 + 15 + 7) / 3 = 34 / 3
    assert_eq!(
        snapshot.pupil_average(id(CLASS), id(LEA), id(MATHS), id(T1)),
        Some(Ratio::new(34, 3))
    );
    assert_eq!(
        snapshot.class_report(id(CLASS), id(T1)),
        one_by_one.class_report(id(CLASS), id(T1))
    );
    projections.stop();
}
