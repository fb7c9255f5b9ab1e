//! A small class worked out by hand: 3 pupils, 2 subjects (one general, one vocational),
//! assessments on /20 and /10 with coefficients, an `Abs`, a `Disp`, an `NR` and a
//! correction. Every expected figure is computed in the comments, not by the code.

mod common;

use common::*;
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::reference::{PeriodKind, SubjectKind, SOCLE_COMMUN_ID};
use suivi_domain::values::{Coefficient, Grade, Hundredths, MasteryLevel};
use suivi_domain::Command as C;
use suivi_projections::spider::ProfileBasis;
use suivi_projections::{ProfileLabel, Ratio, ReadModels};

const SCHOOL: u128 = 1;
const YEAR: u128 = 2;
const T1: u128 = 3;
const MATHS: u128 = 10;
const ATELIER: u128 = 11;
const CLASS: u128 = 20;
const ALICE: u128 = 40;
const BRUNO: u128 = 41;
const CHLOE: u128 = 42;
const M1: u128 = 50;
const M2: u128 = 51;
const V1: u128 = 52;
const V2: u128 = 53;

fn r(num: i128, den: i128) -> Ratio {
    Ratio::new(num, den)
}

fn score(points: u32) -> Grade {
    Grade::Score(Hundredths::from_points(points))
}

fn school(nr_counts_as_zero: bool) -> Log {
    let mut log = Log::new(id(SCHOOL), at(2025, 9, 1, 8, 0));
    log.cmd(C::RegisterSchool(SchoolRegistered {
        school_id: id(SCHOOL),
        name: "Lycée professionnel Jean Moulin".into(),
        nr_counts_as_zero,
    }))
    .cmd(C::DefineSchoolYear(SchoolYearDefined {
        year_id: id(YEAR),
        label: "2025-2026".into(),
        starts_on: date(2025, 9, 1),
        ends_on: date(2026, 7, 4),
    }))
    .cmd(C::DefinePeriod(PeriodDefined {
        period_id: id(T1),
        year_id: id(YEAR),
        name: "Trimestre 1".into(),
        kind: PeriodKind::Trimestre,
        starts_on: date(2025, 9, 1),
        ends_on: date(2025, 11, 30),
    }))
    .cmd(C::DefineSubject(SubjectDefined {
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
        name: "2nde Bac Pro MELEC".into(),
    }));
    for (n, pupil) in [ALICE, BRUNO, CHLOE].into_iter().enumerate() {
        log.cmd(C::RegisterPupil(PupilRegistered {
            pupil_id: id(pupil),
            external_id: format!("E-{n}"),
            identity: sealed(),
        }))
        .cmd(C::EnrolPupil(PupilEnrolled {
            pupil_id: id(pupil),
            class_id: id(CLASS),
            on: date(2025, 9, 1),
        }));
    }
    let mut schedule = |a: u128, subject: u128, day: u32, scale: u16, coef: u32| {
        log.cmd(C::ScheduleAssessment(AssessmentScheduled {
            assessment_id: id(a),
            class_id: id(CLASS),
            subject_id: id(subject),
            period_id: id(T1),
            title: format!("Évaluation {a}"),
            date: date(2025, 10, day),
            scale,
            coefficient: Coefficient(Hundredths(coef)),
        }));
    };
    schedule(M1, MATHS, 1, 20, 100); // /20, coefficient 1
    schedule(M2, MATHS, 15, 10, 200); // /10, coefficient 2
    schedule(V1, ATELIER, 5, 20, 100); // /20, coefficient 1
    schedule(V2, ATELIER, 20, 10, 50); // /10, coefficient 0.5
    let grades = [
        (M1, ALICE, score(12)),
        (M1, BRUNO, score(8)),
        (M1, CHLOE, Grade::Absent),
        (M2, ALICE, score(7)),
        (M2, BRUNO, Grade::NotHandedIn),
        (M2, CHLOE, score(9)),
        (V1, ALICE, score(15)),
        (V1, BRUNO, score(16)),
        (V1, CHLOE, Grade::Exempted),
        (V2, ALICE, score(6)),
        (V2, BRUNO, score(9)),
        (V2, CHLOE, score(5)),
    ];
    log.at(at(2025, 10, 21, 17, 0));
    for (a, pupil, grade) in grades {
        log.cmd(C::RecordGrade(GradeRecorded {
            assessment_id: id(a),
            pupil_id: id(pupil),
            grade,
        }));
    }
    // Bruno's 16 in V1 was a slip: it is 17.
    log.cmd(C::CorrectGrade(GradeCorrected {
        assessment_id: id(V1),
        pupil_id: id(BRUNO),
        grade: score(17),
        reason: Some("erreur de saisie".into()),
    }));
    let mut assess = |pupil: u128, level: u8, on, validate: bool| {
        let command = if validate {
            C::ValidateCompetency(CompetencyValidated {
                pupil_id: id(pupil),
                framework_id: SOCLE_COMMUN_ID,
                component: "D1.1".into(),
                level: MasteryLevel(level),
                on,
            })
        } else {
            C::AssessCompetency(CompetencyAssessed {
                pupil_id: id(pupil),
                framework_id: SOCLE_COMMUN_ID,
                component: "D1.1".into(),
                level: MasteryLevel(level),
                on,
                teacher_id: None,
            })
        };
        log.cmd(command);
    };
    assess(ALICE, 2, date(2025, 10, 1), false);
    assess(ALICE, 3, date(2025, 11, 10), false);
    assess(ALICE, 4, date(2025, 11, 20), true); // a validation: not an assessment
    assess(BRUNO, 4, date(2025, 10, 5), false);
    assess(CHLOE, 1, date(2025, 12, 5), false); // after the end of T1
    log
}

fn models(log: &Log) -> ReadModels {
    ReadModels::rebuild(log.recorded())
}

#[test]
fn pupil_and_class_averages() {
    let m = models(&school(true));
    let report = m.class_report(id(CLASS), id(T1));
    let maths = report.subject(id(MATHS)).expect("maths has grades");
    // Alice: M1 12/20 ×1, M2 7/10 = 14/20 ×2 → (12 + 28) / 3 = 40/3 = 13.33
    // Bruno: M1 8/20 ×1, M2 NR = 0 ×2       → (8 + 0) / 3 = 8/3 = 2.67
    // Chloé: M1 Abs (left out), M2 9/10 = 18/20 ×2 → 36 / 2 = 18
    assert_eq!(maths.pupils[&id(ALICE)], r(40, 3));
    assert_eq!(maths.pupils[&id(BRUNO)], r(8, 3));
    assert_eq!(maths.pupils[&id(CHLOE)], r(18, 1));
    assert_eq!(maths.pupils[&id(ALICE)].to_string(), "13.33");
    assert_eq!(maths.pupils[&id(BRUNO)].to_string(), "2.67");
    // Class mean: (40/3 + 8/3 + 18) / 3 = (16 + 18) / 3 = 34/3 = 11.33; min 8/3, max 18.
    let class = maths.class.expect("class figures");
    assert_eq!(
        (class.mean, class.min, class.max, class.count),
        (r(34, 3), r(8, 3), r(18, 1), 3)
    );
    assert_eq!(class.mean.display_fr(), "11,33");

    let atelier = report.subject(id(ATELIER)).expect("atelier has grades");
    // Alice: V1 15 ×1, V2 6/10 = 12/20 ×0.5 → (15 + 6) / 1.5 = 14
    // Bruno: V1 corrected to 17 ×1, V2 9/10 = 18 ×0.5 → (17 + 9) / 1.5 = 52/3 = 17.33
    // Chloé: V1 Disp (left out), V2 5/10 = 10 ×0.5 → 10
    assert_eq!(atelier.pupils[&id(ALICE)], r(14, 1));
    assert_eq!(atelier.pupils[&id(BRUNO)], r(52, 3));
    assert_eq!(atelier.pupils[&id(CHLOE)], r(10, 1));
    // Class mean: (14 + 52/3 + 10) / 3 = 124/9 = 13.78; min 10, max 17.33.
    let class = atelier.class.expect("class figures");
    assert_eq!(
        (class.mean, class.min, class.max),
        (r(124, 9), r(10, 1), r(52, 3))
    );
    assert_eq!(class.mean.to_string(), "13.78");

    // General averages, maths ×3, atelier ×2:
    // Alice: (40/3·3 + 14·2) / 5 = 68/5 = 13.60
    // Bruno: (8/3·3 + 52/3·2) / 5 = (8 + 104/3) / 5 = 128/15 = 8.53
    // Chloé: (18·3 + 10·2) / 5 = 74/5 = 14.80
    assert_eq!(report.general[&id(ALICE)], r(68, 5));
    assert_eq!(report.general[&id(BRUNO)], r(128, 15));
    assert_eq!(report.general[&id(CHLOE)], r(74, 5));
    assert_eq!(report.general[&id(BRUNO)].to_string(), "8.53");
    // Class general mean: (204 + 128 + 222) / 15 / 3 = 554/45 = 12.31.
    let general = report.general_class.expect("general figures");
    assert_eq!(
        (general.mean, general.min, general.max),
        (r(554, 45), r(128, 15), r(74, 5))
    );
    assert_eq!(general.mean.to_string(), "12.31");

    assert_eq!(
        m.pupil_average(id(CLASS), id(ALICE), id(MATHS), id(T1)),
        Some(r(40, 3))
    );
    let alice = m.pupil_report(id(CLASS), id(ALICE), id(T1));
    assert_eq!(alice.general_average, Some(r(68, 5)));
    let bruno = m.pupil_report(id(CLASS), id(BRUNO), id(T1));
    let v1 = bruno.subjects[0]
        .grades
        .iter()
        .find(|g| g.assessment_id == id(V1))
        .expect("V1 line");
    assert_eq!((v1.grade, v1.corrections), (score(17), 1));
}

#[test]
fn assessment_statistics() {
    let m = models(&school(true));
    let stats = |a: u128| m.assessment_stats(id(a)).expect("known assessment");
    // M1: 12, 8 (Chloé Abs) → count 2, min 8, max 12, mean 10, median 10.
    let s = stats(M1);
    assert_eq!(
        (s.count, s.absent, s.min, s.max, s.mean, s.median),
        (
            2,
            1,
            Some(r(8, 1)),
            Some(r(12, 1)),
            Some(r(10, 1)),
            Some(r(10, 1))
        )
    );
    // M2 (/10): 7, NR = 0, 9 → count 3, min 0, max 9, mean 16/3 = 5.33, median 7.
    let s = stats(M2);
    assert_eq!(
        (s.count, s.not_handed_in, s.min, s.max, s.mean, s.median),
        (
            3,
            1,
            Some(r(0, 1)),
            Some(r(9, 1)),
            Some(r(16, 3)),
            Some(r(7, 1))
        )
    );
    // V1: 15, 17 (corrected from 16), Disp → mean 16, median 16.
    let s = stats(V1);
    assert_eq!(
        (s.count, s.exempted, s.mean, s.median, s.max),
        (2, 1, Some(r(16, 1)), Some(r(16, 1)), Some(r(17, 1)))
    );
    // V2 (/10): 6, 9, 5 → mean 20/3 = 6.67, median 6.
    let s = stats(V2);
    assert_eq!((s.mean, s.median), (Some(r(20, 3)), Some(r(6, 1))));
}

#[test]
fn nr_left_out_when_the_school_says_so() {
    let m = models(&school(false));
    // Bruno's maths: M2 NR left out → 8/20 ×1 alone = 8.
    assert_eq!(
        m.pupil_average(id(CLASS), id(BRUNO), id(MATHS), id(T1)),
        Some(r(8, 1))
    );
    // General: (8·3 + 52/3·2) / 5 = (72/3 + 104/3) / 5 = 176/15 = 11.73.
    let report = m.class_report(id(CLASS), id(T1));
    assert_eq!(report.general[&id(BRUNO)], r(176, 15));
    assert_eq!(report.general[&id(BRUNO)].to_string(), "11.73");
    // M2 statistics: 7 and 9 only → mean 8.
    let s = m.assessment_stats(id(M2)).expect("M2");
    assert_eq!((s.count, s.not_handed_in, s.mean), (2, 1, Some(r(8, 1))));
}

#[test]
fn spider_axes_and_profiles() {
    let m = models(&school(true));
    let alice = m.spider(id(CLASS), id(ALICE), id(T1));
    // Axes by subject name: Atelier, then Mathématiques.
    let axes: Vec<SubjectId> = alice.subjects.iter().map(|a| a.subject_id).collect();
    assert_eq!(axes, vec![id(ATELIER), id(MATHS)]);
    let atelier = &alice.subjects[0];
    let class = atelier.class.expect("class figures");
    assert_eq!(
        (atelier.pupil, class.mean, class.min, class.max),
        (Some(r(14, 1)), r(124, 9), r(10, 1), r(52, 3))
    );
    let maths = &alice.subjects[1];
    let class = maths.class.expect("class figures");
    assert_eq!(
        (maths.pupil, class.mean, class.min, class.max),
        (Some(r(40, 3)), r(34, 3), r(8, 3), r(18, 1))
    );

    // Alice: general 40/3, vocational 14 → gap 14 − 40/3 = 2/3 (0.67) < 3 → BALANCED.
    let p = alice.profile;
    assert_eq!(
        (p.label, p.basis),
        (ProfileLabel::Balanced, ProfileBasis::Compared)
    );
    assert_eq!(
        (p.general_mean, p.vocational_mean, p.gap),
        (Some(r(40, 3)), Some(r(14, 1)), Some(r(2, 3)))
    );
    // Bruno: general 8/3, vocational 52/3 → gap 44/3 = 14.67 ≥ 3 → VOCATIONAL_STRONG.
    let p = m.spider(id(CLASS), id(BRUNO), id(T1)).profile;
    assert_eq!(
        (p.label, p.gap),
        (ProfileLabel::VocationalStrong, Some(r(44, 3)))
    );
    // Chloé: general 18, vocational 10 → gap −8 → GENERAL_STRONG.
    let p = m.spider(id(CLASS), id(CHLOE), id(T1)).profile;
    assert_eq!(
        (p.label, p.gap),
        (ProfileLabel::GeneralStrong, Some(r(-8, 1)))
    );
    assert_eq!(p.threshold, r(3, 1));

    // Socle commun D1.1 on or before 30 November: Alice 3 (her 2 of October was replaced on
    // 10 November; the validation at 4 is not an assessment), Bruno 4, Chloé none (5
    // December). Class: mean 3.5, min 3, max 4.
    let d11 = alice
        .competencies
        .iter()
        .find(|a| a.component == "D1.1")
        .expect("D1.1 axis");
    let class = d11.class.expect("class levels");
    assert_eq!(
        (d11.pupil, class.mean, class.min, class.max, class.count),
        (Some(3), r(7, 2), r(3, 1), r(4, 1), 2)
    );
    assert_eq!(alice.competencies.len(), 8);
    assert!(alice
        .competencies
        .iter()
        .filter(|a| a.component != "D1.1")
        .all(|a| a.pupil.is_none()));

    let views = m.competencies(id(ALICE));
    assert_eq!(views.len(), 1);
    let latest = views[0].latest.expect("assessed");
    assert_eq!(
        (
            latest.level,
            views[0].history.len(),
            views[0].validations.len()
        ),
        (3, 2, 1)
    );
    assert_eq!(views[0].validations[0].level, 4);
}

#[test]
fn a_pupil_without_a_vocational_average_is_balanced_for_want_of_data() {
    let mut log = school(true);
    log.at(at(2025, 11, 2, 9, 0)).cmd(C::OpenClass(ClassOpened {
        class_id: id(21),
        year_id: id(YEAR),
        name: "2nde générale".into(),
    }));
    let m = models(&log);
    let p = m.spider(id(21), id(ALICE), id(T1)).profile;
    assert_eq!(
        (p.label, p.basis, p.gap),
        (ProfileLabel::Balanced, ProfileBasis::NoAverage, None)
    );
    let p = suivi_projections::spider::profile(&[r(12, 1)], &[]);
    assert_eq!(
        (p.label, p.basis, p.general_mean),
        (
            ProfileLabel::Balanced,
            ProfileBasis::NoVocationalAverage,
            Some(r(12, 1))
        )
    );
}
