//! Random logs of valid events: random commands run through the domain's `decide`, the
//! refused ones dropped. Some events are given an `occurred_at` in the past (recorded late,
//! or imported), so that *as of* views meet events out of time order.
#![allow(dead_code)]

use crate::common::*;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use suivi_domain::decide::{AnswerQuestion, StartAttempt, SubmitAttempt};
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::reference::{PeriodKind, SubjectKind, SOCLE_COMMUN_ID};
use suivi_domain::values::{Coefficient, Grade, Hundredths, MasteryLevel};
use suivi_domain::Command as C;
use suivi_projections::Logged;

pub const SCHOOL: u128 = 1;
pub const YEAR: u128 = 2;
pub const PERIODS: [u128; 2] = [3, 4];
pub const SUBJECTS: [u128; 3] = [10, 11, 12];
pub const CLASSES: [u128; 2] = [20, 21];
pub const PROF: u128 = 30;
pub const PUPILS: [u128; 5] = [40, 41, 42, 43, 44];
pub const QUIZZES: [u128; 2] = [60, 65];
pub const PARCOURS: [u128; 2] = [70, 75];
pub const HOMEWORK: [u128; 2] = [90, 91];
pub const COMPONENTS: [&str; 3] = ["D1.1", "D2", "D3"];

#[derive(Clone, Debug)]
pub enum Op {
    Schedule {
        class: usize,
        subject: usize,
        period: usize,
        scale: usize,
        coef: usize,
        day: u8,
    },
    Grade {
        assessment: usize,
        pupil: usize,
        kind: u8,
        raw: u32,
        correct: bool,
    },
    Transfer {
        pupil: usize,
    },
    /// The pupil leaves (`EnrolmentEnded`); a transfer of a pupil who left enrols them again.
    Leave {
        pupil: usize,
    },
    Absence {
        pupil: usize,
        day: u16,
        half_days: u8,
        lessons: u8,
    },
    Lateness {
        pupil: usize,
        day: u16,
        minutes: u8,
    },
    Justify {
        record: usize,
    },
    Deposit {
        homework: usize,
        pupil: usize,
        offset: i16,
    },
    Quiz {
        quiz: usize,
        pupil: usize,
        action: u8,
        question: usize,
        answer: u16,
        ms: u32,
    },
    Competency {
        pupil: usize,
        component: usize,
        level: u8,
        day: u16,
        validated: bool,
    },
    Step {
        parcours: usize,
        pupil: usize,
        action: u8,
    },
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..2usize, 0..3usize, 0..2usize, 0..4usize, 0..4usize, 0..60u8)
            .prop_map(|(class, subject, period, scale, coef, day)| Op::Schedule { class, subject, period, scale, coef, day }),
        4 => (0..12usize, 0..5usize, 0..6u8, any::<u32>(), any::<bool>())
            .prop_map(|(assessment, pupil, kind, raw, correct)| Op::Grade { assessment, pupil, kind, raw, correct }),
        1 => (0..5usize).prop_map(|pupil| Op::Transfer { pupil }),
        1 => (0..5usize).prop_map(|pupil| Op::Leave { pupil }),
        1 => (0..5usize, 0..200u16, 0..3u8, 0..8u8).prop_map(|(pupil, day, half_days, lessons)| Op::Absence { pupil, day, half_days, lessons }),
        1 => (0..5usize, 0..200u16, 1..60u8).prop_map(|(pupil, day, minutes)| Op::Lateness { pupil, day, minutes }),
        1 => (0..8usize).prop_map(|record| Op::Justify { record }),
        2 => (0..2usize, 0..5usize, -3000..3000i16).prop_map(|(homework, pupil, offset)| Op::Deposit { homework, pupil, offset }),
        4 => (0..2usize, 0..5usize, 0..5u8, 0..3usize, 0..2u16, 0..200_000u32)
            .prop_map(|(quiz, pupil, action, question, answer, ms)| Op::Quiz { quiz, pupil, action, question, answer, ms }),
        1 => (0..5usize, 0..3usize, 1..5u8, 0..200u16, any::<bool>())
            .prop_map(|(pupil, component, level, day, validated)| Op::Competency { pupil, component, level, day, validated }),
        6 => (0..2usize, 0..5usize, 0..6u8).prop_map(|(parcours, pupil, action)| Op::Step { parcours, pupil, action }),
    ]
}

/// An op, the minutes the clock advances before it, and how far back its `occurred_at` is
/// set (an event recorded late, or imported).
pub fn step_of_log() -> impl Strategy<Value = (Op, u16, Option<u16>)> {
    (op(), 0..1500u16, prop::option::weighted(0.2, 0..3000u16))
}

pub fn setup(nr_counts_as_zero: bool) -> Log {
    let mut log = Log::new(id(SCHOOL), at(2025, 9, 1, 7, 0));
    log.cmd(C::RegisterSchool(SchoolRegistered {
        school_id: id(SCHOOL),
        name: "Lycée polyvalent".into(),
        nr_counts_as_zero,
    }))
    .cmd(C::DefineSchoolYear(SchoolYearDefined {
        year_id: id(YEAR),
        label: "2025-2026".into(),
        starts_on: date(2025, 9, 1),
        ends_on: date(2026, 7, 4),
    }));
    for (p, name, from, to) in [
        (PERIODS[0], "T1", date(2025, 9, 1), date(2025, 11, 30)),
        (PERIODS[1], "T2", date(2025, 12, 1), date(2026, 3, 15)),
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
    for (s, name, kind, coef) in [
        (SUBJECTS[0], "Français", SubjectKind::General, 300),
        (SUBJECTS[1], "Histoire", SubjectKind::General, 100),
        (SUBJECTS[2], "Atelier", SubjectKind::Vocational, 250),
    ] {
        log.cmd(C::DefineSubject(SubjectDefined {
            subject_id: id(s),
            name: name.into(),
            kind,
            coefficient: Coefficient(Hundredths(coef)),
        }));
    }
    for (c, name) in [(CLASSES[0], "1re A"), (CLASSES[1], "1re B")] {
        log.cmd(C::OpenClass(ClassOpened {
            class_id: id(c),
            year_id: id(YEAR),
            name: name.into(),
        }));
    }
    log.cmd(C::RegisterTeacher(TeacherRegistered {
        teacher_id: id(PROF),
        display_name: "M. Prof".into(),
        email: None,
    }));
    for (n, p) in PUPILS.into_iter().enumerate() {
        log.cmd(C::RegisterPupil(PupilRegistered {
            pupil_id: id(p),
            external_id: format!("E{n}"),
            identity: sealed(),
        }))
        .cmd(C::EnrolPupil(PupilEnrolled {
            pupil_id: id(p),
            class_id: id(CLASSES[n / 3]),
            on: date(2025, 9, 1),
        }));
    }
    for (i, c) in CLASSES.into_iter().enumerate() {
        log.cmd(C::PublishQuiz(QuizPublished {
            quiz_id: id(QUIZZES[i]),
            class_id: id(c),
            subject_id: id(SUBJECTS[0]),
            title: format!("QCM {i}"),
            max_attempts: 2,
            questions: (1..=3)
                .map(|q| QuizQuestion {
                    question_id: id(QUIZZES[i] + q),
                    prompt: "?".into(),
                    choices: vec!["oui".into(), "non".into()],
                    correct_choice: (q % 2) as u16,
                })
                .collect(),
        }))
        .cmd(C::PublishParcours(ParcoursPublished {
            parcours_id: id(PARCOURS[i]),
            class_id: id(c),
            title: format!("Parcours {i}"),
            steps: (1..=(3 - i as u128))
                .map(|s| ParcoursStep {
                    step_id: id(PARCOURS[i] + s),
                    title: format!("Étape {s}"),
                    kind: StepKind::Resource,
                })
                .collect(),
        }))
        .cmd(C::AssignHomework(HomeworkAssigned {
            homework_id: id(HOMEWORK[i]),
            class_id: id(c),
            subject_id: id(SUBJECTS[1]),
            title: "Dissertation".into(),
            assigned_on: date(2025, 9, 2),
            due_at: at(2025, 9, 20 + 10 * i as u32, 18, 0),
        }));
    }
    log
}

pub struct Gen {
    log: Log,
    clock: DateTime<Utc>,
    assessments: Vec<AssessmentId>,
    records: Vec<(AttendanceId, PupilId)>,
    next_id: u128,
}

impl Gen {
    fn fresh(&mut self) -> u128 {
        self.next_id += 1;
        self.next_id
    }

    fn day(&self, offset: u16) -> chrono::NaiveDate {
        date(2025, 9, 1) + Duration::days(i64::from(offset))
    }

    /// The index of the class a pupil is in now (ops on quizzes, parcours and homework go
    /// to the pupil's class, or they would mostly be refused).
    fn class_of(&self, pupil: usize, fallback: usize) -> usize {
        let class = self
            .log
            .state
            .pupils
            .get(&id(PUPILS[pupil]))
            .and_then(|p| p.current_class());
        CLASSES
            .iter()
            .position(|c| class == Some(id(*c)))
            .unwrap_or(fallback)
    }

    fn command(&mut self, op: &Op) -> Option<C> {
        let clock = self.clock;
        Some(match *op {
            Op::Schedule {
                class,
                subject,
                period,
                scale,
                coef,
                day,
            } => {
                let a = self.fresh();
                self.assessments.push(id(a));
                let starts = if period == 0 {
                    date(2025, 9, 1)
                } else {
                    date(2025, 12, 1)
                };
                C::ScheduleAssessment(AssessmentScheduled {
                    assessment_id: id(a),
                    class_id: id(CLASSES[class]),
                    subject_id: id(SUBJECTS[subject]),
                    period_id: id(PERIODS[period]),
                    title: format!("Devoir {a}"),
                    date: starts + Duration::days(i64::from(day)),
                    scale: [5, 10, 20, 100][scale],
                    coefficient: Coefficient(Hundredths([50, 100, 200, 300][coef])),
                })
            }
            Op::Grade {
                assessment,
                pupil,
                kind,
                raw,
                correct,
            } => {
                let assessment_id = *self
                    .assessments
                    .get(assessment % self.assessments.len().max(1))?;
                let scale = self.log.state.assessments.get(&assessment_id)?.scale;
                let grade = match kind {
                    0 => Grade::Absent,
                    1 => Grade::Exempted,
                    2 => Grade::NotHandedIn,
                    _ => Grade::Score(Hundredths(raw % (u32::from(scale) * 100 + 1))),
                };
                let pupil_id = id(PUPILS[pupil]);
                if correct {
                    C::CorrectGrade(GradeCorrected {
                        assessment_id,
                        pupil_id,
                        grade,
                        reason: None,
                    })
                } else {
                    C::RecordGrade(GradeRecorded {
                        assessment_id,
                        pupil_id,
                        grade,
                    })
                }
            }
            Op::Leave { pupil } => {
                let class = self
                    .log
                    .state
                    .pupils
                    .get(&id(PUPILS[pupil]))?
                    .current_class()?;
                C::EndEnrolment(EnrolmentEnded {
                    pupil_id: id(PUPILS[pupil]),
                    class_id: class,
                    on: clock.date_naive() + Duration::days(1),
                })
            }
            Op::Transfer { pupil } => {
                let current = self
                    .log
                    .state
                    .pupils
                    .get(&id(PUPILS[pupil]))?
                    .current_class();
                let Some(from) = current else {
                    return Some(C::EnrolPupil(PupilEnrolled {
                        pupil_id: id(PUPILS[pupil]),
                        class_id: id(CLASSES[0]),
                        on: clock.date_naive() + Duration::days(1),
                    }));
                };
                let to = if from == id(CLASSES[0]) {
                    id(CLASSES[1])
                } else {
                    id(CLASSES[0])
                };
                C::TransferPupil(PupilTransferred {
                    pupil_id: id(PUPILS[pupil]),
                    from_class_id: from,
                    to_class_id: to,
                    on: clock.date_naive() + Duration::days(1),
                })
            }
            Op::Absence {
                pupil,
                day,
                half_days,
                lessons,
            } => {
                let n = self.fresh();
                self.records.push((id(n), id(PUPILS[pupil])));
                let starts_at = self.day(day).and_hms_opt(8, 0, 0)?.and_utc();
                C::RecordAbsence(AbsenceRecorded {
                    absence_id: id(n),
                    pupil_id: id(PUPILS[pupil]),
                    starts_at,
                    ends_at: starts_at + Duration::hours(4),
                    half_days: u16::from(half_days),
                    lessons: u16::from(lessons),
                })
            }
            Op::Lateness {
                pupil,
                day,
                minutes,
            } => {
                let n = self.fresh();
                self.records.push((id(n), id(PUPILS[pupil])));
                C::RecordLateness(LatenessRecorded {
                    lateness_id: id(n),
                    pupil_id: id(PUPILS[pupil]),
                    at: self.day(day).and_hms_opt(8, 5, 0)?.and_utc(),
                    minutes: u16::from(minutes),
                })
            }
            Op::Justify { record } => {
                let (record_id, pupil_id) =
                    *self.records.get(record % self.records.len().max(1))?;
                C::JustifyAbsence(AbsenceJustified {
                    record_id,
                    pupil_id,
                    reason: "mot des parents".into(),
                })
            }
            Op::Deposit {
                homework,
                pupil,
                offset,
            } => {
                let homework = self.class_of(pupil, homework);
                let due = at(2025, 9, 20 + 10 * homework as u32, 18, 0);
                C::DepositHomework(HomeworkDeposited {
                    homework_id: id(HOMEWORK[homework]),
                    pupil_id: id(PUPILS[pupil]),
                    deposited_at: due + Duration::minutes(i64::from(offset)),
                    file_name: "copie.pdf".into(),
                    size_bytes: 10,
                    sha256: "0".repeat(64),
                })
            }
            Op::Quiz {
                quiz,
                pupil,
                action,
                question,
                answer,
                ms,
            } => {
                let quiz = self.class_of(pupil, quiz);
                let (quiz_id, pupil_id) = (id(QUIZZES[quiz]), id(PUPILS[pupil]));
                let open = self
                    .log
                    .state
                    .attempts
                    .get(&(quiz_id, pupil_id))
                    .and_then(|a| a.open.as_ref())
                    .map(|o| o.attempt_id);
                match (open, action) {
                    (None, _) => C::StartAttempt(StartAttempt {
                        quiz_id,
                        pupil_id,
                        attempt_id: id(self.fresh()),
                        started_at: clock,
                        session_id: None,
                    }),
                    (Some(attempt_id), 0) => C::SubmitAttempt(SubmitAttempt {
                        quiz_id,
                        pupil_id,
                        attempt_id,
                        submitted_at: clock,
                    }),
                    (Some(attempt_id), _) => C::AnswerQuestion(AnswerQuestion {
                        quiz_id,
                        pupil_id,
                        attempt_id,
                        question_id: id(QUIZZES[quiz] + 1 + question as u128),
                        answer,
                        time_spent_ms: ms,
                        answered_at: clock,
                    }),
                }
            }
            Op::Competency {
                pupil,
                component,
                level,
                day,
                validated,
            } => {
                let (pupil_id, framework_id, component, level, on) = (
                    id(PUPILS[pupil]),
                    SOCLE_COMMUN_ID,
                    COMPONENTS[component].to_owned(),
                    MasteryLevel(level),
                    self.day(day),
                );
                if validated {
                    C::ValidateCompetency(CompetencyValidated {
                        pupil_id,
                        framework_id,
                        component,
                        level,
                        on,
                    })
                } else {
                    C::AssessCompetency(CompetencyAssessed {
                        pupil_id,
                        framework_id,
                        component,
                        level,
                        on,
                        teacher_id: None,
                    })
                }
            }
            Op::Step {
                parcours,
                pupil,
                action,
            } => {
                let parcours = self.class_of(pupil, parcours);
                let (parcours_id, pupil_id) = (id(PARCOURS[parcours]), id(PUPILS[pupil]));
                let steps = self.log.state.parcours.get(&parcours_id)?.steps.clone();
                let progress = self.log.state.progress.get(&(parcours_id, pupil_id));
                let done = |s: &StepId| progress.is_some_and(|p| p.completed.contains(s));
                let open = steps
                    .iter()
                    .find(|s| progress.is_some_and(|p| p.started.contains(s)) && !done(s));
                match open {
                    Some(step_id) if action == 0 => C::FailStep(StepFailed {
                        parcours_id,
                        pupil_id,
                        step_id: *step_id,
                        at: clock,
                    }),
                    Some(step_id) if action == 1 => C::StartStep(StepStarted {
                        parcours_id,
                        pupil_id,
                        step_id: *step_id,
                        at: clock,
                        session_id: None,
                    }),
                    Some(step_id) => C::CompleteStep(StepCompleted {
                        parcours_id,
                        pupil_id,
                        step_id: *step_id,
                        at: clock,
                    }),
                    None => {
                        let step_id = *steps.iter().find(|s| !done(s))?;
                        C::StartStep(StepStarted {
                            parcours_id,
                            pupil_id,
                            step_id,
                            at: clock,
                            session_id: None,
                        })
                    }
                }
            }
        })
    }
}

pub fn generate(nr_counts_as_zero: bool, ops: &[(Op, u16, Option<u16>)]) -> Vec<Logged> {
    let mut gen = Gen {
        log: setup(nr_counts_as_zero),
        clock: at(2025, 9, 2, 8, 0),
        assessments: Vec::new(),
        records: Vec::new(),
        next_id: 1_000,
    };
    let last_day = at(2026, 6, 30, 8, 0);
    for (op, advance, late) in ops {
        gen.clock = (gen.clock + Duration::minutes(i64::from(*advance))).min(last_day);
        let occurred = gen.clock - Duration::minutes(i64::from(late.unwrap_or(0)));
        gen.log.at(occurred);
        if let Some(command) = gen.command(op) {
            let _ = gen.log.try_cmd(command);
        }
    }
    gen.log.events
}
