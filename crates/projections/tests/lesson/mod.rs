//! The lesson of `parcours_live` and `school_life`, worked out by hand: a class of four
//! (and a late comer), a session with a 3-step parcours and a 2-question quiz on Monday
//! 6 October 2025 from 10:00.
#![allow(dead_code)]

use crate::common::*;
use suivi_domain::decide::{AnswerQuestion, StartAttempt, SubmitAttempt};
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::reference::{PeriodKind, SubjectKind};
use suivi_domain::values::{Coefficient, Hundredths};
use suivi_domain::Command as C;
use suivi_projections::{ParcoursConfig, ParcoursStatus as S, ReadModels};

pub const SCHOOL: u128 = 1;
pub const YEAR: u128 = 2;
pub const T1: u128 = 3;
pub const T2: u128 = 4;
pub const MATHS: u128 = 10;
pub const CLASS: u128 = 20;
pub const OTHER: u128 = 21;
pub const PROF: u128 = 30;
pub const P1: u128 = 41;
pub const P2: u128 = 42;
pub const P3: u128 = 43;
pub const P4: u128 = 44;
pub const LATE_COMER: u128 = 45;
pub const QUIZ: u128 = 60;
pub const Q1: u128 = 61;
pub const Q2: u128 = 62;
pub const PARCOURS: u128 = 70;
pub const S1: u128 = 71;
pub const S2: u128 = 72;
pub const S3: u128 = 73;
pub const SESSION: u128 = 80;
pub const HW: u128 = 90;

pub fn ten(min: u32) -> chrono::DateTime<chrono::Utc> {
    at(2025, 10, 6, 10, min)
}

pub fn school() -> Log {
    let mut log = Log::new(id(SCHOOL), at(2025, 9, 1, 8, 0));
    log.cmd(C::RegisterSchool(SchoolRegistered {
        school_id: id(SCHOOL),
        name: "Collège Lucie Aubrac".into(),
        nr_counts_as_zero: true,
    }))
    .cmd(C::DefineSchoolYear(SchoolYearDefined {
        year_id: id(YEAR),
        label: "2025-2026".into(),
        starts_on: date(2025, 9, 1),
        ends_on: date(2026, 7, 4),
    }));
    for (p, name, from, to) in [
        (T1, "T1", date(2025, 9, 1), date(2025, 11, 30)),
        (T2, "T2", date(2025, 12, 1), date(2026, 3, 15)),
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
        coefficient: Coefficient(Hundredths(100)),
    }));
    for (c, name) in [(CLASS, "4e A"), (OTHER, "4e B")] {
        log.cmd(C::OpenClass(ClassOpened {
            class_id: id(c),
            year_id: id(YEAR),
            name: name.into(),
        }));
    }
    log.cmd(C::RegisterTeacher(TeacherRegistered {
        teacher_id: id(PROF),
        display_name: "Mme Curie".into(),
        email: None,
    }));
    for (n, p) in [P1, P2, P3, P4, LATE_COMER].into_iter().enumerate() {
        log.cmd(C::RegisterPupil(PupilRegistered {
            pupil_id: id(p),
            external_id: format!("E-{n}"),
            identity: sealed(),
        }));
        // The late comer joins the class on 13 October: not on the roster of the 6th.
        let on = if p == LATE_COMER {
            date(2025, 10, 13)
        } else {
            date(2025, 9, 1)
        };
        log.cmd(C::EnrolPupil(PupilEnrolled {
            pupil_id: id(p),
            class_id: id(CLASS),
            on,
        }));
    }
    log.cmd(C::PublishQuiz(QuizPublished {
        quiz_id: id(QUIZ),
        class_id: id(CLASS),
        subject_id: id(MATHS),
        title: "Fractions".into(),
        max_attempts: 2,
        questions: [Q1, Q2]
            .map(|q| QuizQuestion {
                question_id: id(q),
                prompt: format!("Question {q}"),
                choices: vec!["a".into(), "b".into()],
                correct_choice: 0,
            })
            .to_vec(),
    }))
    .cmd(C::PublishParcours(ParcoursPublished {
        parcours_id: id(PARCOURS),
        class_id: id(CLASS),
        title: "Les fractions".into(),
        steps: vec![
            ParcoursStep {
                step_id: id(S1),
                title: "Cours".into(),
                kind: StepKind::Resource,
            },
            ParcoursStep {
                step_id: id(S2),
                title: "QCM".into(),
                kind: StepKind::Quiz { quiz_id: id(QUIZ) },
            },
            ParcoursStep {
                step_id: id(S3),
                title: "Synthèse".into(),
                kind: StepKind::Resource,
            },
        ],
    }));
    log.at(ten(0)).cmd(C::StartSession(SessionStarted {
        session_id: id(SESSION),
        class_id: id(CLASS),
        teacher_id: id(PROF),
        quiz_id: Some(id(QUIZ)),
        parcours_id: Some(id(PARCOURS)),
        started_at: ten(0),
    }));
    lesson(&mut log);
    log
}

pub fn step(log: &mut Log, kind: &str, pupil: u128, s: u128, when: chrono::DateTime<chrono::Utc>) {
    let (parcours_id, pupil_id, step_id) = (id(PARCOURS), id(pupil), id(s));
    let command = match kind {
        "start" => C::StartStep(StepStarted {
            parcours_id,
            pupil_id,
            step_id,
            at: when,
            session_id: Some(id(SESSION)),
        }),
        "fail" => C::FailStep(StepFailed {
            parcours_id,
            pupil_id,
            step_id,
            at: when,
        }),
        _ => C::CompleteStep(StepCompleted {
            parcours_id,
            pupil_id,
            step_id,
            at: when,
        }),
    };
    log.at(when).cmd(command);
}

pub fn answer(
    log: &mut Log,
    pupil: u128,
    attempt: u128,
    q: u128,
    choice: u16,
    ms: u32,
    when: chrono::DateTime<chrono::Utc>,
) {
    log.at(when).cmd(C::AnswerQuestion(AnswerQuestion {
        quiz_id: id(QUIZ),
        pupil_id: id(pupil),
        attempt_id: id(attempt),
        question_id: id(q),
        answer: choice,
        time_spent_ms: ms,
        answered_at: when,
    }));
}

/// P1 goes straight through (finished 10:08); P2 fails the quiz step three times
/// (10:05, 10:06, 10:07); P3 reads the first step from 10:02 and is idle until 10:10, then
/// finishes at 10:12; P4 only comes the next day, for one step left open an hour.
pub fn lesson(log: &mut Log) {
    step(log, "start", P1, S1, ten(1));
    step(log, "start", P2, S1, ten(2));
    step(log, "start", P3, S1, ten(2));
    step(log, "complete", P1, S1, ten(3));
    step(log, "start", P1, S2, ten(3));
    log.at(ten(3)).cmd(C::StartAttempt(StartAttempt {
        quiz_id: id(QUIZ),
        pupil_id: id(P1),
        attempt_id: id(501),
        started_at: ten(3),
        session_id: Some(id(SESSION)),
    }));
    answer(log, P1, 501, Q1, 0, 30_000, ten(4)); // right, 30 s
    answer(log, P1, 501, Q2, 1, 40_000, ten(4)); // wrong, 40 s
    step(log, "complete", P2, S1, ten(4));
    step(log, "start", P2, S2, ten(4));
    log.at(ten(4)).cmd(C::StartAttempt(StartAttempt {
        quiz_id: id(QUIZ),
        pupil_id: id(P2),
        attempt_id: id(502),
        started_at: ten(4),
        session_id: Some(id(SESSION)),
    }));
    answer(log, P1, 501, Q2, 0, 20_000, ten(5)); // right this time, 20 s
    log.at(ten(5)).cmd(C::SubmitAttempt(SubmitAttempt {
        quiz_id: id(QUIZ),
        pupil_id: id(P1),
        attempt_id: id(501),
        submitted_at: ten(5),
    }));
    answer(log, P2, 502, Q1, 1, 50_000, ten(5)); // wrong, 50 s
    step(log, "fail", P2, S2, ten(5));
    step(log, "fail", P2, S2, ten(6));
    step(log, "complete", P1, S2, ten(6));
    step(log, "start", P1, S3, ten(6));
    step(log, "fail", P2, S2, ten(7));
    step(log, "complete", P1, S3, ten(8));
    step(log, "complete", P3, S1, ten(10));
    step(log, "start", P3, S2, ten(10));
    step(log, "complete", P3, S2, ten(11));
    step(log, "start", P3, S3, ten(11));
    step(log, "complete", P3, S3, ten(12));
    step(log, "start", P4, S1, at(2025, 10, 7, 11, 0));
    step(log, "complete", P4, S1, at(2025, 10, 7, 12, 0));
}

pub fn live() -> ReadModels {
    ReadModels::rebuild(school().recorded())
}

pub fn statuses(m: &ReadModels, now: chrono::DateTime<chrono::Utc>) -> Vec<(PupilId, S)> {
    let board = m
        .parcours_board(id(PARCOURS), now, &ParcoursConfig::default())
        .expect("parcours");
    board.rows.iter().map(|r| (r.pupil_id, r.status)).collect()
}
