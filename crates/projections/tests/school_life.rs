//! School life worked out by hand: homework on time, late, missing or pending, and
//! absences by period and class, also *as of* earlier instants.

mod common;
mod lesson;

use common::*;
use lesson::*;
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::Command as C;
use suivi_projections::homework::HomeworkStatus;
use suivi_projections::ReadModels;

#[test]
fn homework_on_time_late_missing_pending() {
    let mut log = school();
    log.at(at(2025, 10, 3, 9, 0))
        .cmd(C::AssignHomework(HomeworkAssigned {
            homework_id: id(HW),
            class_id: id(CLASS),
            subject_id: id(MATHS),
            title: "Exercices 3 à 7 p. 42".into(),
            assigned_on: date(2025, 10, 3),
            due_at: at(2025, 10, 10, 18, 0),
        }));
    let deposit = |log: &mut Log, pupil: u128, when| {
        log.at(when).cmd(C::DepositHomework(HomeworkDeposited {
            homework_id: id(HW),
            pupil_id: id(pupil),
            deposited_at: when,
            file_name: "devoir.pdf".into(),
            size_bytes: 1_234,
            sha256: "ab".repeat(32),
        }));
    };
    deposit(&mut log, P1, at(2025, 10, 9, 20, 0));
    deposit(&mut log, P2, at(2025, 10, 11, 9, 0));
    deposit(&mut log, P2, at(2025, 10, 11, 10, 0));
    let m = ReadModels::rebuild(log.recorded());
    let report = m
        .homework_report(id(HW), at(2025, 10, 14, 8, 0))
        .expect("homework");
    let statuses: Vec<(PupilId, HomeworkStatus)> = report
        .pupils
        .iter()
        .map(|p| (p.pupil_id, p.status))
        .collect();
    // Expected: the roster on the due date (the late comer joins on the 13th: not expected).
    // P2's first deposit decides: 15 hours late = 54 000 s.
    assert_eq!(
        statuses,
        vec![
            (
                id(P1),
                HomeworkStatus::OnTime {
                    deposited_at: at(2025, 10, 9, 20, 0)
                }
            ),
            (
                id(P2),
                HomeworkStatus::Late {
                    deposited_at: at(2025, 10, 11, 9, 0),
                    late_by_seconds: 54_000
                }
            ),
            (id(P3), HomeworkStatus::Missing),
            (id(P4), HomeworkStatus::Missing),
        ]
    );
    assert_eq!(
        (report.on_time, report.late, report.missing, report.pending),
        (1, 1, 2, 0)
    );
    assert_eq!(report.pupils[1].deposits, 2);
    // As it stood on the 10th at noon: P2 had not deposited, and the due time was ahead.
    let noon = at(2025, 10, 10, 12, 0);
    let before = m
        .as_of_class(id(CLASS), noon)
        .homework_report(id(HW), noon)
        .expect("homework");
    assert_eq!(
        (before.on_time, before.late, before.missing, before.pending),
        (1, 0, 0, 3)
    );
    let summary = m.pupil_homework_summary(id(P3), id(T1), at(2025, 10, 14, 8, 0));
    assert_eq!((summary.missing, summary.on_time), (1, 0));
}

#[test]
fn absences_by_period_and_class() {
    let mut log = school();
    let absence = |log: &mut Log, n: u128, pupil: u128, from, to, half_days, lessons| {
        log.at(to).cmd(C::RecordAbsence(AbsenceRecorded {
            absence_id: id(n),
            pupil_id: id(pupil),
            starts_at: from,
            ends_at: to,
            half_days,
            lessons,
        }));
    };
    absence(
        &mut log,
        901,
        P1,
        at(2025, 10, 2, 8, 0),
        at(2025, 10, 2, 12, 0),
        1,
        4,
    );
    absence(
        &mut log,
        902,
        P1,
        at(2025, 12, 1, 8, 0),
        at(2025, 12, 1, 17, 0),
        2,
        7,
    );
    log.at(at(2025, 10, 3, 9, 0))
        .cmd(C::JustifyAbsence(AbsenceJustified {
            record_id: id(901),
            pupil_id: id(P1),
            reason: "rendez-vous médical".into(),
        }));
    for (n, day, minutes) in [(903, 3, 10), (904, 4, 5)] {
        log.at(at(2025, 10, day, 8, 15))
            .cmd(C::RecordLateness(LatenessRecorded {
                lateness_id: id(n),
                pupil_id: id(P1),
                at: at(2025, 10, day, 8, 10),
                minutes,
            }));
    }
    log.cmd(C::JustifyAbsence(AbsenceJustified {
        record_id: id(904),
        pupil_id: id(P1),
        reason: "bus en retard".into(),
    }));
    // P2 misses a morning in 4e A, moves to 4e B on 1 November, misses a day there.
    absence(
        &mut log,
        905,
        P2,
        at(2025, 10, 20, 8, 0),
        at(2025, 10, 20, 12, 0),
        1,
        3,
    );
    log.cmd(C::TransferPupil(PupilTransferred {
        pupil_id: id(P2),
        from_class_id: id(CLASS),
        to_class_id: id(OTHER),
        on: date(2025, 11, 1),
    }));
    absence(
        &mut log,
        906,
        P2,
        at(2025, 11, 5, 8, 0),
        at(2025, 11, 5, 17, 0),
        2,
        6,
    );
    let m = ReadModels::rebuild(log.recorded());

    // P1 in T1: the absence of 2 October (1 half-day, 4 lessons, justified), lateness of 10
    // and 5 minutes (the second justified). The absence of 1 December is in T2.
    let t1 = m.pupil_attendance(id(P1), id(T1));
    assert_eq!(
        (
            t1.absences,
            t1.half_days,
            t1.half_days_justified,
            t1.half_days_unjustified,
            t1.lessons
        ),
        (1, 1, 1, 0, 4)
    );
    assert_eq!(
        (
            t1.latenesses,
            t1.lateness_minutes,
            t1.latenesses_justified,
            t1.latenesses_unjustified
        ),
        (2, 15, 1, 1)
    );
    let t2 = m.pupil_attendance(id(P1), id(T2));
    assert_eq!(
        (
            t2.half_days,
            t2.half_days_unjustified,
            t2.lessons_unjustified,
            t2.latenesses
        ),
        (2, 2, 7, 0)
    );
    // P2: both absences in T1 overall, one in each class's table.
    assert_eq!(m.pupil_attendance(id(P2), id(T1)).half_days, 3);
    assert_eq!(m.class_attendance(id(CLASS), id(T1))[&id(P2)].half_days, 1);
    assert_eq!(m.class_attendance(id(OTHER), id(T1))[&id(P2)].half_days, 2);
    assert!(!m.class_attendance(id(OTHER), id(T1)).contains_key(&id(P1)));
    // As of 3 October 09:00: the justification of the 2nd and the lateness of the 3rd are
    // in, the lateness of the 4th is not.
    let early = m
        .as_of_pupil(id(P1), at(2025, 10, 3, 9, 0))
        .pupil_attendance(id(P1), id(T1));
    assert_eq!((early.half_days_justified, early.latenesses), (1, 1));
}
