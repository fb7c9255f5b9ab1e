//! A small class worked out by hand: every expected figure is computed in the comments,
//! not by the code under test.

mod common;

use chrono::Duration;
use common::*;
use suivi_analytics::figures::grades::{profile_of, GradeFigures, Profile, Scope};
use suivi_analytics::figures::{attendance, homework, hundredths};
use suivi_analytics::Log;
use suivi_domain::events::*;
use suivi_domain::reference::{PeriodKind, SubjectKind};
use suivi_domain::values::{Coefficient, Grade, Hundredths};
use suivi_domain::Command as C;

const SCHOOL: u128 = 1;
const YEAR: u128 = 2;
const T1: u128 = 3;
const T2: u128 = 4;
const MATHS: u128 = 10;
const ATELIER: u128 = 11;
const CLASS: u128 = 20;
const A: u128 = 40;
const B: u128 = 41;
const CC: u128 = 42;

fn pts(p: u32) -> Grade {
    Grade::Score(Hundredths::from_points(p))
}

fn school(nr_counts_as_zero: bool) -> TestLog {
    let mut log = TestLog::new(id(SCHOOL), at(2025, 9, 1, 8, 0));
    log.cmd(C::RegisterSchool(SchoolRegistered {
        school_id: id(SCHOOL),
        name: "Lycée Jean Moulin".into(),
        nr_counts_as_zero,
    }))
    .cmd(C::DefineSchoolYear(SchoolYearDefined {
        year_id: id(YEAR),
        label: "2025-2026".into(),
        starts_on: date(2025, 9, 1),
        ends_on: date(2026, 7, 4),
    }));
    for (p, name, from, to) in [
        (T1, "Trimestre 1", date(2025, 9, 1), date(2025, 11, 30)),
        (T2, "Trimestre 2", date(2025, 12, 1), date(2026, 2, 28)),
    ] {
        log.cmd(C::DefinePeriod(PeriodDefined {
            period_id: id(p),
            year_id: id(YEAR),
            name: name.into(),
            kind: PeriodKind::Trimestre,
            starts_on: from,
            ends_on: to,
        }));
    }
    log.cmd(C::DefineSubject(SubjectDefined {
        subject_id: id(MATHS),
        name: "Mathématiques".into(),
        kind: SubjectKind::General,
        coefficient: Coefficient(Hundredths(300)),
    }))
    .cmd(C::DefineSubject(SubjectDefined {
        subject_id: id(ATELIER),
        name: "Atelier".into(),
        kind: SubjectKind::Vocational,
        coefficient: Coefficient(Hundredths(200)),
    }))
    .cmd(C::OpenClass(ClassOpened {
        class_id: id(CLASS),
        year_id: id(YEAR),
        name: "1re Bac Pro".into(),
    }));
    for p in [A, B, CC] {
        log.cmd(C::RegisterPupil(PupilRegistered {
            pupil_id: id(p),
            external_id: format!("E{p}"),
            identity: sealed_identity(p, "Nom", "Prénom"),
        }))
        .cmd(C::EnrolPupil(PupilEnrolled {
            pupil_id: id(p),
            class_id: id(CLASS),
            on: date(2025, 9, 1),
        }));
    }
    let assess = |log: &mut TestLog,
                  a: u128,
                  subject: u128,
                  period: u128,
                  day: u32,
                  month: u32,
                  scale: u16,
                  coef: u32,
                  grades: &[(u128, Grade)]| {
        log.cmd(C::ScheduleAssessment(AssessmentScheduled {
            assessment_id: id(a),
            class_id: id(CLASS),
            subject_id: id(subject),
            period_id: id(period),
            title: format!("Devoir {a}"),
            date: date(2025, month, day),
            scale,
            coefficient: Coefficient(Hundredths(coef)),
        }));
        for (p, g) in grades {
            log.cmd(C::RecordGrade(GradeRecorded {
                assessment_id: id(a),
                pupil_id: id(*p),
                grade: *g,
            }));
        }
    };
    // M1 Maths /20 coef 1: A 12, B 8, C Abs.
    assess(
        &mut log,
        50,
        MATHS,
        T1,
        1,
        10,
        20,
        100,
        &[(A, pts(12)), (B, pts(8)), (CC, Grade::Absent)],
    );
    // M2 Maths /10 coef 2: A 7 (14/20), B NR, C 9 (18/20).
    assess(
        &mut log,
        51,
        MATHS,
        T1,
        8,
        10,
        10,
        200,
        &[(A, pts(7)), (B, Grade::NotHandedIn), (CC, pts(9))],
    );
    // V1 Atelier /20 coef 1: A 15 then corrected to 11, B 16, C Disp.
    assess(
        &mut log,
        52,
        ATELIER,
        T1,
        2,
        10,
        20,
        100,
        &[(A, pts(15)), (B, pts(16)), (CC, Grade::Exempted)],
    );
    log.cmd(C::CorrectGrade(GradeCorrected {
        assessment_id: id(52),
        pupil_id: id(A),
        grade: pts(11),
        reason: Some("erreur de report".into()),
    }));
    // V2 Atelier /20 coef 0.5: A 10, B 20, C 14.
    assess(
        &mut log,
        53,
        ATELIER,
        T1,
        9,
        10,
        20,
        50,
        &[(A, pts(10)), (B, pts(20)), (CC, pts(14))],
    );
    // T2: A gets 12.34 and 12.35 in Maths: 12.345, shown 12.35 (half away from zero).
    assess(
        &mut log,
        54,
        MATHS,
        T2,
        2,
        12,
        20,
        100,
        &[(A, Grade::Score(Hundredths(1234)))],
    );
    assess(
        &mut log,
        55,
        MATHS,
        T2,
        9,
        12,
        20,
        100,
        &[(A, Grade::Score(Hundredths(1235)))],
    );
    log
}

fn k(log: &Log, n: u128) -> u32 {
    log.key(&uuid::Uuid::from_u128(n)).expect("known id")
}

#[test]
fn averages_class_figures_and_profiles_by_hand() {
    let school = school(true);
    let log = Log::from_events(&school.recorded).expect("flatten");
    let g = GradeFigures::compute(&log, Scope::default()).expect("figures");
    let (c, t1, t2, m, v) = (
        k(&log, CLASS),
        k(&log, T1),
        k(&log, T2),
        k(&log, MATHS),
        k(&log, ATELIER),
    );
    let (a, b, cc) = (k(&log, A), k(&log, B), k(&log, CC));
    let avg = |s, p| g.pupil_subject.get(&(c, t1, s, p)).map(|x| hundredths(*x));
    // A Maths (12×1 + 14×2)/3 = 40/3; B (8 + 0×2)/3 = 8/3; C 18×2/2 = 18 (Abs left out).
    assert_eq!(
        (avg(m, a), avg(m, b), avg(m, cc)),
        (Some(1333), Some(267), Some(1800))
    );
    // A Atelier (11×1 + 10×0.5)/1.5 = 32/3; B (16 + 10)/1.5 = 52/3; C 14 (Disp left out).
    assert_eq!(
        (avg(v, a), avg(v, b), avg(v, cc)),
        (Some(1067), Some(1733), Some(1400))
    );
    // Class Maths: mean (40/3 + 8/3 + 18)/3 = 34/3, min 8/3, max 18.
    let s = g.class_subject[&(c, t1, m)];
    assert_eq!(
        (
            hundredths(s.mean),
            hundredths(s.min),
            hundredths(s.max),
            s.count
        ),
        (1133, 267, 1800, 3)
    );
    // Class Atelier: mean (32/3 + 52/3 + 14)/3 = 14, min 32/3, max 52/3.
    let s = g.class_subject[&(c, t1, v)];
    assert_eq!(
        (hundredths(s.mean), hundredths(s.min), hundredths(s.max)),
        (1400, 1067, 1733)
    );
    // General: A (40/3×3 + 32/3×2)/5 = 184/15; B (8 + 104/3)/5 = 128/15; C (54 + 28)/5 = 16.4.
    let gen = |p| g.general.get(&(c, t1, p)).map(|x| hundredths(*x));
    assert_eq!(
        (gen(a), gen(b), gen(cc)),
        (Some(1227), Some(853), Some(1640))
    );
    // Class general: (184 + 128 + 246)/45 = 12.4.
    let s = g.general_class[&(c, t1)];
    assert_eq!(
        (hundredths(s.mean), hundredths(s.min), hundredths(s.max)),
        (1240, 853, 1640)
    );
    // Profiles: A gap 32/3 − 40/3 = −2.67 balanced; B 52/3 − 8/3 = +14.67 vocational; C −4 general.
    let profile = |p| {
        let (gm, vm) = g.profile[&(c, t1, p)];
        profile_of(gm, vm)
    };
    assert_eq!(profile(a), Profile::Balanced);
    assert_eq!(profile(b), Profile::VocationalStrong);
    assert_eq!(profile(cc), Profile::GeneralStrong);
    // T2: (12.34 + 12.35)/2 = 12.345 → 12.35; no vocational average: nothing to compare.
    assert_eq!(
        g.pupil_subject.get(&(c, t2, m, a)).map(|x| hundredths(*x)),
        Some(1235)
    );
    let (gm, vm) = g.profile[&(c, t2, a)];
    assert_eq!(profile_of(gm, vm), Profile::NotEnoughData);
}

#[test]
fn nr_is_left_out_where_the_school_says_so() {
    let school = school(false);
    let log = Log::from_events(&school.recorded).expect("flatten");
    let g = GradeFigures::compute(&log, Scope::default()).expect("figures");
    let key = (k(&log, CLASS), k(&log, T1), k(&log, MATHS), k(&log, B));
    // B Maths: 8×1/1 = 8 (the NR of M2 is not counted).
    assert_eq!(g.pupil_subject.get(&key).map(|x| hundredths(*x)), Some(800));
}

#[test]
fn attendance_and_homework_by_hand() {
    let mut school = school(true);
    let start = at(2025, 10, 6, 8, 0);
    school
        .at(start)
        .cmd(C::RecordAbsence(AbsenceRecorded {
            absence_id: id(60),
            pupil_id: id(A),
            starts_at: start,
            ends_at: start + Duration::hours(8),
            half_days: 2,
            lessons: 4,
        }))
        .cmd(C::RecordLateness(LatenessRecorded {
            lateness_id: id(61),
            pupil_id: id(A),
            at: at(2025, 10, 7, 8, 10),
            minutes: 10,
        }))
        .cmd(C::RecordAbsence(AbsenceRecorded {
            absence_id: id(62),
            pupil_id: id(B),
            starts_at: at(2025, 12, 2, 8, 0),
            ends_at: at(2025, 12, 2, 12, 0),
            half_days: 1,
            lessons: 2,
        }))
        .cmd(C::JustifyAbsence(AbsenceJustified {
            record_id: id(60),
            pupil_id: id(A),
            reason: "rendez-vous médical".into(),
        }))
        .cmd(C::AssignHomework(HomeworkAssigned {
            homework_id: id(70),
            class_id: id(CLASS),
            subject_id: id(MATHS),
            title: "Exercices 1 à 5".into(),
            assigned_on: date(2025, 10, 3),
            due_at: at(2025, 10, 10, 8, 0),
        }));
    for (p, when) in [(A, at(2025, 10, 9, 20, 0)), (B, at(2025, 10, 11, 9, 0))] {
        school.at(when).cmd(C::DepositHomework(HomeworkDeposited {
            homework_id: id(70),
            pupil_id: id(p),
            deposited_at: when,
            file_name: "devoir.pdf".into(),
            size_bytes: 1234,
            sha256: "00".repeat(32),
        }));
    }
    let log = Log::from_events(&school.recorded).expect("flatten");
    let (a, b, cc, t1, t2) = (
        k(&log, A),
        k(&log, B),
        k(&log, CC),
        k(&log, T1),
        k(&log, T2),
    );
    let att = attendance::by_pupil_period(&log, None).expect("attendance");
    let a1 = att[&(a, t1)];
    // A in T1: one absence of 2 half-days (justified), one lateness of 10 minutes.
    assert_eq!(
        (
            a1.absences,
            a1.half_days,
            a1.half_days_justified,
            a1.half_days_unjustified
        ),
        (1, 2, 2, 0)
    );
    assert_eq!(
        (
            a1.lessons,
            a1.latenesses,
            a1.latenesses_unjustified,
            a1.lateness_minutes
        ),
        (4, 1, 1, 10)
    );
    // B's absence is on 2 December: T2, unjustified.
    assert!(!att.contains_key(&(b, t1)));
    assert_eq!(att[&(b, t2)].half_days_unjustified, 1);

    // Before the due time C's homework is pending; after, missing.
    let hw = homework::by_pupil_period(&log, at(2025, 10, 9, 22, 0)).expect("homework");
    assert_eq!(hw[&(cc, t1)].pending, 1);
    let hw = homework::by_pupil_period(&log, at(2025, 10, 12, 12, 0)).expect("homework");
    assert_eq!(
        (
            hw[&(a, t1)].on_time,
            hw[&(b, t1)].late,
            hw[&(cc, t1)].missing
        ),
        (1, 1, 1)
    );
    let per = homework::by_homework(&log, at(2025, 10, 12, 12, 0)).expect("per homework");
    let h = per[&k(&log, 70)];
    assert_eq!((h.on_time, h.late, h.missing, h.pending), (1, 1, 1, 0));
}
