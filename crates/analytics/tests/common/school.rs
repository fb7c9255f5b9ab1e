//! A small lycée built by a deterministic generator: two classes of eight pupils over the
//! 2025-2026 year, a transfer, an erased pupil, grades with every mark and corrections,
//! absences and lateness (some justified), homework deposited on time, late or not at all,
//! QCM attempts, a parcours with failures, competencies of the socle commun.

use super::*;
use chrono::Duration;
use suivi_domain::decide::{AnswerQuestion, StartAttempt, SubmitAttempt};
use suivi_domain::events::*;
use suivi_domain::reference::{PeriodKind, SubjectKind, SOCLE_COMMUN_COMPONENTS, SOCLE_COMMUN_ID};
use suivi_domain::values::{Coefficient, Grade, Hundredths, MasteryLevel};
use suivi_domain::Command as C;

pub const SCHOOL: u128 = 1;
pub const YEAR: u128 = 2;
pub const T1: u128 = 3;
pub const T2: u128 = 4;
pub const T3: u128 = 5;
pub const CLASS_A: u128 = 20;
pub const CLASS_B: u128 = 21;
pub const SUBJECTS: [(u128, &str, SubjectKind, u32); 5] = [
    (10, "Français", SubjectKind::General, 300),
    (11, "Mathématiques", SubjectKind::General, 300),
    (12, "Anglais", SubjectKind::General, 200),
    (13, "Atelier électrotechnique", SubjectKind::Vocational, 400),
    (14, "Technologie", SubjectKind::Vocational, 200),
];
pub const FIRST_PUPIL: u128 = 100;
pub const PUPILS: u128 = 16;
/// Moves from class A to class B on 2025-11-03.
pub const TRANSFERRED: u128 = 103;
/// Their key is never stored: erased.
pub const ERASED: u128 = 107;

const LAST: [&str; 16] = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
];
const FIRST: [&str; 16] = [
    "Léa", "Hugo", "Chloé", "Lucas", "Emma", "Nathan", "Inès", "Louis", "Jade", "Adam", "Manon",
    "Yanis", "Sarah", "Enzo", "Camille", "Noah",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub fn class_of(pupil: u128, on: NaiveDate) -> u128 {
    if pupil == TRANSFERRED && on >= date(2025, 11, 3) {
        CLASS_B
    } else if pupil < FIRST_PUPIL + PUPILS / 2 {
        CLASS_A
    } else {
        CLASS_B
    }
}

fn pupils_of(class: u128, on: NaiveDate) -> Vec<u128> {
    (FIRST_PUPIL..FIRST_PUPIL + PUPILS)
        .filter(|p| class_of(*p, on) == class)
        .collect()
}

fn period_of(d: NaiveDate) -> u128 {
    if d <= date(2025, 11, 30) {
        T1
    } else if d <= date(2026, 2, 28) {
        T2
    } else {
        T3
    }
}

fn setup(log: &mut TestLog) {
    log.at(at(2025, 8, 28, 8, 0));
    log.cmd(C::RegisterSchool(SchoolRegistered {
        school_id: id(SCHOOL),
        name: "Lycée polyvalent Jean Jaurès".into(),
        nr_counts_as_zero: true,
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
        (T3, "Trimestre 3", date(2026, 3, 1), date(2026, 7, 4)),
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
    for (s, name, kind, coef) in SUBJECTS {
        log.cmd(C::DefineSubject(SubjectDefined {
            subject_id: id(s),
            name: name.into(),
            kind,
            coefficient: Coefficient(Hundredths(coef)),
        }));
    }
    for (c, name) in [(CLASS_A, "2nde MELEC A"), (CLASS_B, "2nde MELEC B")] {
        log.cmd(C::OpenClass(ClassOpened {
            class_id: id(c),
            year_id: id(YEAR),
            name: name.into(),
        }));
    }
    let teachers = [
        "Mme Lambert",
        "M. Fontaine",
        "Mme Chevalier",
        "M. Roussel",
        "Mme Blanc",
    ];
    for (i, (s, ..)) in SUBJECTS.iter().enumerate() {
        let t = 30 + i as u128;
        log.cmd(C::RegisterTeacher(TeacherRegistered {
            teacher_id: id(t),
            display_name: teachers[i].into(),
            email: None,
        }));
        for c in [CLASS_A, CLASS_B] {
            log.cmd(C::AssignTeaching(TeachingAssigned {
                teacher_id: id(t),
                class_id: id(c),
                subject_id: id(*s),
            }));
        }
    }
    log.cmd(C::AssignHeadTeacher(HeadTeacherAssigned {
        teacher_id: id(33),
        class_id: id(CLASS_A),
    }))
    .cmd(C::AssignHeadTeacher(HeadTeacherAssigned {
        teacher_id: id(31),
        class_id: id(CLASS_B),
    }));
    for (n, p) in (FIRST_PUPIL..FIRST_PUPIL + PUPILS).enumerate() {
        log.cmd(C::RegisterPupil(PupilRegistered {
            pupil_id: id(p),
            external_id: format!("INE{:05}", 40_000 + n),
            identity: sealed_identity(p, LAST[n], FIRST[n]),
        }))
        .cmd(C::EnrolPupil(PupilEnrolled {
            pupil_id: id(p),
            class_id: id(class_of(p, date(2025, 9, 1))),
            on: date(2025, 9, 1),
        }));
        if p != ERASED {
            log.keys.push((id(p), key_of(p)));
        }
    }
}

/// The whole year, up to `until` (inclusive).
pub fn build(seed: u64, until: NaiveDate) -> TestLog {
    let mut log = TestLog::new(id(SCHOOL), at(2025, 8, 28, 8, 0));
    setup(&mut log);
    let mut rng = Rng(seed | 1);
    let mut n: u128 = 0;
    let mut next = || {
        n += 1;
        n
    };
    let mut open_records: Vec<(u128, u128)> = Vec::new();
    let mut day = date(2025, 9, 8);
    let mut week = 0usize;
    while day <= until {
        let noon = |d: NaiveDate, h: u32| d.and_hms_opt(h, 0, 0).expect("valid hour").and_utc();
        if day == date(2025, 10, 27) {
            log.at(noon(day, 10))
                .cmd(C::TransferPupil(PupilTransferred {
                    pupil_id: id(TRANSFERRED),
                    from_class_id: id(CLASS_A),
                    to_class_id: id(CLASS_B),
                    on: date(2025, 11, 3),
                }));
        }
        for class in [CLASS_A, CLASS_B] {
            let pupils = pupils_of(class, day);
            // An assessment, and its grades a few days later.
            let (subject, ..) = SUBJECTS[(week + class as usize) % SUBJECTS.len()];
            let assessment = 1000 + next();
            let scale: u16 = if week.is_multiple_of(3) { 10 } else { 20 };
            let coefficient = [100, 200, 50][week % 3];
            log.at(noon(day, 9))
                .cmd(C::ScheduleAssessment(AssessmentScheduled {
                    assessment_id: id(assessment),
                    class_id: id(class),
                    subject_id: id(subject),
                    period_id: id(period_of(day)),
                    title: format!("Évaluation {}", week + 1),
                    date: day,
                    scale,
                    coefficient: Coefficient(Hundredths(coefficient)),
                }));
            log.at(noon(day + Duration::days(2), 17));
            for p in &pupils {
                let grade = match rng.below(100) {
                    0..=4 => Grade::Absent,
                    5..=7 => Grade::Exempted,
                    8..=11 => Grade::NotHandedIn,
                    _ => Grade::Score(Hundredths(rng.below(u64::from(scale) * 4 + 1) as u32 * 25)),
                };
                log.cmd(C::RecordGrade(GradeRecorded {
                    assessment_id: id(assessment),
                    pupil_id: id(*p),
                    grade,
                }));
                if rng.chance(4) {
                    log.cmd(C::CorrectGrade(GradeCorrected {
                        assessment_id: id(assessment),
                        pupil_id: id(*p),
                        grade: Grade::Score(Hundredths(u32::from(scale) * 50)),
                        reason: Some("erreur de saisie".into()),
                    }));
                }
            }
            // Absences and lateness.
            for p in &pupils {
                if rng.chance(12) {
                    let r = 5000 + next();
                    let start = noon(day + Duration::days(1), 8);
                    log.at(start + Duration::hours(4))
                        .cmd(C::RecordAbsence(AbsenceRecorded {
                            absence_id: id(r),
                            pupil_id: id(*p),
                            starts_at: start,
                            ends_at: start + Duration::hours(4),
                            half_days: 1 + rng.below(2) as u16,
                            lessons: 2 + rng.below(3) as u16,
                        }));
                    open_records.push((r, *p));
                }
                if rng.chance(10) {
                    let r = 5000 + next();
                    let when = noon(day + Duration::days(2), 8);
                    log.at(when).cmd(C::RecordLateness(LatenessRecorded {
                        lateness_id: id(r),
                        pupil_id: id(*p),
                        at: when,
                        minutes: 5 + rng.below(20) as u16,
                    }));
                    open_records.push((r, *p));
                }
            }
            // Homework every other week.
            if week.is_multiple_of(2) {
                let hw = 2000 + next();
                let due = noon(day + Duration::days(7), 8);
                log.at(noon(day, 12))
                    .cmd(C::AssignHomework(HomeworkAssigned {
                        homework_id: id(hw),
                        class_id: id(class),
                        subject_id: id(subject),
                        title: format!("Exercices semaine {}", week + 1),
                        assigned_on: day,
                        due_at: due,
                    }));
                for p in &pupils {
                    let when = match rng.below(10) {
                        0..=5 => Some(due - Duration::hours(10)),
                        6..=7 => Some(due + Duration::hours(26)),
                        _ => None,
                    };
                    if let Some(when) = when {
                        let _ = log.at(when).try_cmd(C::DepositHomework(HomeworkDeposited {
                            homework_id: id(hw),
                            pupil_id: id(*p),
                            deposited_at: when,
                            file_name: format!("devoir-{p}.pdf"),
                            size_bytes: 1000 + rng.below(100_000),
                            sha256: "ab".repeat(32),
                        }));
                    }
                }
            }
            // A QCM every fourth week.
            if week % 4 == 1 {
                let quiz = 3000 + next();
                let questions: Vec<u128> = (0..3).map(|_| 3100 + next()).collect();
                let start = noon(day + Duration::days(1), 10);
                log.at(start).cmd(C::PublishQuiz(QuizPublished {
                    quiz_id: id(quiz),
                    class_id: id(class),
                    subject_id: id(subject),
                    title: format!("QCM {}", week + 1),
                    max_attempts: 2,
                    questions: questions
                        .iter()
                        .map(|q| QuizQuestion {
                            question_id: id(*q),
                            prompt: "Quelle est la bonne réponse ?".into(),
                            choices: vec!["A".into(), "B".into(), "C".into()],
                            correct_choice: 1,
                        })
                        .collect(),
                }));
                for p in &pupils {
                    let tries = rng.below(3);
                    for t in 0..tries {
                        let attempt = 3500 + next();
                        let mut clock = start + Duration::minutes(5 + 20 * t as i64);
                        let _ = log.at(clock).try_cmd(C::StartAttempt(StartAttempt {
                            quiz_id: id(quiz),
                            pupil_id: id(*p),
                            attempt_id: id(attempt),
                            started_at: clock,
                            session_id: None,
                        }));
                        for q in &questions {
                            let ms = 3_000 + rng.below(60_000) as u32;
                            clock += Duration::milliseconds(i64::from(ms));
                            let _ = log.at(clock).try_cmd(C::AnswerQuestion(AnswerQuestion {
                                quiz_id: id(quiz),
                                pupil_id: id(*p),
                                attempt_id: id(attempt),
                                question_id: id(*q),
                                answer: rng.below(3) as u16,
                                time_spent_ms: ms,
                                answered_at: clock,
                            }));
                        }
                        if rng.chance(85) {
                            let _ = log.at(clock).try_cmd(C::SubmitAttempt(SubmitAttempt {
                                quiz_id: id(quiz),
                                pupil_id: id(*p),
                                attempt_id: id(attempt),
                                submitted_at: clock,
                            }));
                        }
                    }
                }
            }
            // A parcours of three steps in the fifth week.
            if week == 4 || week == 20 {
                let parcours = 4000 + next();
                let steps: Vec<u128> = (0..3).map(|_| 4100 + next()).collect();
                let start = noon(day + Duration::days(2), 14);
                log.at(start).cmd(C::PublishParcours(ParcoursPublished {
                    parcours_id: id(parcours),
                    class_id: id(class),
                    title: format!("Parcours loi d'Ohm {}", week + 1),
                    steps: steps
                        .iter()
                        .enumerate()
                        .map(|(i, s)| ParcoursStep {
                            step_id: id(*s),
                            title: format!("Étape {}", i + 1),
                            kind: StepKind::Resource,
                        })
                        .collect(),
                }));
                for p in &pupils {
                    let mut clock = start + Duration::minutes(rng.below(10) as i64);
                    let reach = rng.below(4) as usize;
                    for (i, s) in steps.iter().enumerate() {
                        if i > reach {
                            break;
                        }
                        let _ = log.at(clock).try_cmd(C::StartStep(StepStarted {
                            parcours_id: id(parcours),
                            pupil_id: id(*p),
                            step_id: id(*s),
                            at: clock,
                            session_id: None,
                        }));
                        for _ in 0..rng.below(4) {
                            clock += Duration::minutes(2);
                            let _ = log.at(clock).try_cmd(C::FailStep(StepFailed {
                                parcours_id: id(parcours),
                                pupil_id: id(*p),
                                step_id: id(*s),
                                at: clock,
                            }));
                        }
                        clock += Duration::minutes(3 + rng.below(40) as i64);
                        if i < reach {
                            let _ = log.at(clock).try_cmd(C::CompleteStep(StepCompleted {
                                parcours_id: id(parcours),
                                pupil_id: id(*p),
                                step_id: id(*s),
                                at: clock,
                            }));
                        }
                    }
                }
            }
        }
        // Some justifications arrive the next week.
        let keep = open_records.len() / 2;
        for (r, p) in open_records.drain(..).skip(keep) {
            if rng.chance(50) {
                log.at(noon(day + Duration::days(4), 11))
                    .cmd(C::JustifyAbsence(AbsenceJustified {
                        record_id: id(r),
                        pupil_id: id(p),
                        reason: "certificat médical".into(),
                    }));
            }
        }
        // Competencies at the end of each term.
        if [date(2025, 11, 24), date(2026, 2, 23), date(2026, 6, 15)].contains(&day) {
            for p in FIRST_PUPIL..FIRST_PUPIL + PUPILS {
                for (code, _) in SOCLE_COMMUN_COMPONENTS.iter().take(4 + (p % 4) as usize) {
                    log.at(noon(day, 16))
                        .cmd(C::AssessCompetency(CompetencyAssessed {
                            pupil_id: id(p),
                            framework_id: SOCLE_COMMUN_ID,
                            component: (*code).into(),
                            level: MasteryLevel(1 + rng.below(4) as u8),
                            on: day,
                            teacher_id: Some(id(33)),
                        }));
                }
            }
            log.cmd(C::ValidateCompetency(CompetencyValidated {
                pupil_id: id(FIRST_PUPIL),
                framework_id: SOCLE_COMMUN_ID,
                component: "D2".into(),
                level: MasteryLevel(3),
                on: day,
            }));
        }
        day += Duration::days(7);
        week += 1;
    }
    log
}
