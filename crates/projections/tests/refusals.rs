//! A refused command changes nothing: not the log, not the key table (and so no answer, which
//! is a function of the two). Random sequences of registrations (new ids, taken ids, erased
//! ids), enrolments (in a known or an unknown class) and grades (within the scale or over
//! it), with erasures in between, through the gateway on the memory and SQLite stores.

mod common;

use common::*;
use proptest::prelude::*;
use std::sync::Arc;
use suivi_domain::envelope::{Actor, Metadata};
use suivi_domain::events::*;
use suivi_domain::identity::{PupilIdentity, PupilKey};
use suivi_domain::ids::*;
use suivi_domain::reference::{PeriodKind, SubjectKind};
use suivi_domain::values::{Coefficient, Grade, Hundredths};
use suivi_domain::{Command as C, RecordedEvent};
use suivi_projections::gateway::Gateway;
use suivi_store::memory::MemoryStore;
use suivi_store::EventStore;

#[derive(Clone, Debug)]
enum Op {
    /// Registers pupil `n` (0 and 1 exist from the start; 2 and 3 do not).
    Register(u8),
    /// Enrols pupil `n` in class `c` (class 1 was never opened).
    Enrol(u8, u8),
    /// Grades pupil `n` with `points` hundredths on /20 (over 2000 is refused).
    Grade(u8, u32),
    /// Destroys pupil `n`'s key.
    Erase(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4).prop_map(Op::Register),
        (0u8..4, 0u8..2).prop_map(|(n, c)| Op::Enrol(n, c)),
        (0u8..4, 0u32..2600).prop_map(|(n, p)| Op::Grade(n, p)),
        (0u8..4).prop_map(Op::Erase),
    ]
}

fn pupil(n: u8) -> PupilId {
    id(0x9000 + u128::from(n))
}

fn meta() -> Metadata {
    Metadata {
        school_id: id(1),
        actor: Actor::System("refusals".into()),
        occurred_at: at(2025, 10, 1, 9, 0),
        correlation_id: None,
        causation_id: None,
    }
}

fn person(n: u8) -> PupilIdentity {
    PupilIdentity {
        last_name: format!("Nom{n}"),
        first_name: format!("Prénom{n}"),
        birth_date: None,
    }
}

async fn school(gateway: &Gateway) {
    let commands = vec![
        C::RegisterSchool(SchoolRegistered {
            school_id: id(1),
            name: "Lycée".into(),
            nr_counts_as_zero: true,
        }),
        C::DefineSchoolYear(SchoolYearDefined {
            year_id: id(2),
            label: "2025-2026".into(),
            starts_on: date(2025, 9, 1),
            ends_on: date(2026, 7, 4),
        }),
        C::DefinePeriod(PeriodDefined {
            period_id: id(3),
            year_id: id(2),
            name: "T1".into(),
            kind: PeriodKind::Trimestre,
            starts_on: date(2025, 9, 1),
            ends_on: date(2025, 11, 30),
        }),
        C::DefineSubject(SubjectDefined {
            subject_id: id(4),
            name: "Mathématiques".into(),
            kind: SubjectKind::General,
            coefficient: Coefficient(Hundredths(100)),
        }),
        C::OpenClass(ClassOpened {
            class_id: class(0),
            year_id: id(2),
            name: "2nde 1".into(),
        }),
        C::ScheduleAssessment(AssessmentScheduled {
            assessment_id: id(6),
            class_id: class(0),
            subject_id: id(4),
            period_id: id(3),
            title: "Contrôle".into(),
            date: date(2025, 10, 1),
            scale: 20,
            coefficient: Coefficient(Hundredths(100)),
        }),
    ];
    for command in commands {
        gateway.execute(&meta(), command).await.expect("the school");
    }
    for n in 0..2 {
        gateway
            .register_pupil(&meta(), pupil(n), format!("E{n}"), &person(n))
            .await
            .expect("the first pupils");
    }
}

fn class(c: u8) -> ClassId {
    id(0x5000 + u128::from(c))
}

/// Everything a refused command must leave as it was.
async fn state(store: &dyn EventStore) -> (Vec<RecordedEvent>, Vec<Option<PupilKey>>) {
    let log = store.read_all(0, 100_000).await.expect("the log");
    let mut keys = Vec::new();
    for n in 0..4 {
        keys.push(store.get_key(pupil(n)).await.expect("a key lookup"));
    }
    (log, keys)
}

async fn apply(gateway: &Gateway, store: &dyn EventStore, op: &Op) -> bool {
    let executed = match op {
        Op::Register(n) => {
            gateway
                .register_pupil(&meta(), pupil(*n), format!("E{n}-again"), &person(*n))
                .await
        }
        Op::Enrol(n, c) => {
            let command = C::EnrolPupil(PupilEnrolled {
                pupil_id: pupil(*n),
                class_id: class(*c),
                on: date(2025, 9, 1),
            });
            gateway.execute(&meta(), command).await
        }
        Op::Grade(n, points) => {
            let command = C::RecordGrade(GradeRecorded {
                assessment_id: id(6),
                pupil_id: pupil(*n),
                grade: Grade::Score(Hundredths(*points)),
            });
            gateway.execute(&meta(), command).await
        }
        Op::Erase(n) => {
            store.destroy_key(pupil(*n)).await.expect("an erasure");
            return true;
        }
    };
    executed.is_ok()
}

async fn run(store: Arc<dyn EventStore>, ops: &[Op]) -> Result<(), TestCaseError> {
    let gateway = Gateway::new(store.clone()).await.expect("gateway");
    school(&gateway).await;
    let mut erased = [false; 4];
    for op in ops {
        let before = state(&*store).await;
        let accepted = apply(&gateway, &*store, op).await;
        let after = state(&*store).await;
        // An erasure of a registered pupil (an unregistered id has no key to destroy, and
        // may be registered afterwards as a new pupil).
        if let Op::Erase(n) = op {
            erased[usize::from(*n)] |= before.1[usize::from(*n)].is_some();
        }
        if !accepted {
            prop_assert_eq!(&before.0, &after.0, "a refused {:?} changed the log", op);
            prop_assert_eq!(&before.1, &after.1, "a refused {:?} changed the keys", op);
        }
        // Erased stays erased, whatever is sent afterwards.
        for (n, gone) in erased.iter().enumerate() {
            if *gone {
                prop_assert_eq!(&after.1[n], &None, "pupil {} has a key again", n);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_refused_command_changes_nothing(ops in prop::collection::vec(op(), 1..24)) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            run(Arc::new(MemoryStore::new()), &ops).await?;
            let dir = tempfile::tempdir().expect("a temporary directory");
            let path = dir.path().join("refusals.db");
            let sqlite = tokio::task::spawn_blocking(move || suivi_store::sqlite::SqliteStore::open(path))
                .await
                .expect("open task")
                .expect("the SQLite store");
            run(Arc::new(sqlite), &ops).await
        })?;
    }
}
