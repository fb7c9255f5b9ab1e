//! Rules for QCM attempts, competencies, parcours and class sessions.

use super::{
    enrolled_on, in_school_year, known_pupil, not_blank, AnswerQuestion, StartAttempt,
    SubmitAttempt,
};
use crate::error::DomainError;
use crate::events::*;
use crate::ids::*;
use crate::state::{OpenAttempt, Quiz, SchoolState};
use std::collections::HashSet;

pub(super) fn check(state: &SchoolState, event: &Event) -> Option<Result<(), DomainError>> {
    Some(match event {
        Event::QuizPublished(e) => publish_quiz(state, e),
        Event::AttemptStarted(e) => attempt_started(state, e),
        Event::QuestionAnswered(e) => answered(state, e),
        Event::AttemptSubmitted(e) => submitted(state, e),
        Event::CompetencyAssessed(e) => competency(
            state,
            e.pupil_id,
            e.framework_id,
            &e.component,
            e.level.0,
            e.on,
        ),
        Event::CompetencyValidated(e) => competency(
            state,
            e.pupil_id,
            e.framework_id,
            &e.component,
            e.level.0,
            e.on,
        ),
        Event::ParcoursPublished(e) => publish_parcours(state, e),
        Event::StepStarted(e) => step_started(state, e),
        Event::StepFailed(e) => step_in_progress(state, e.parcours_id, e.pupil_id, e.step_id, e.at),
        Event::StepCompleted(e) => {
            step_in_progress(state, e.parcours_id, e.pupil_id, e.step_id, e.at)
        }
        Event::SessionStarted(e) => session_started(state, e),
        Event::SessionEnded(e) => session_ended(state, e),
        _ => return None,
    })
}

fn quiz(state: &SchoolState, id: QuizId) -> Result<&Quiz, DomainError> {
    state
        .quizzes
        .get(&id)
        .ok_or_else(|| DomainError::unknown("quiz", id))
}

fn open_attempt(
    state: &SchoolState,
    quiz: QuizId,
    pupil: PupilId,
    attempt: AttemptId,
) -> Result<&OpenAttempt, DomainError> {
    state
        .attempts
        .get(&(quiz, pupil))
        .and_then(|a| a.open.as_ref())
        .filter(|open| open.attempt_id == attempt)
        .ok_or(DomainError::NoOpenAttempt {
            pupil,
            quiz,
            attempt,
        })
}

pub(super) fn start_attempt(
    state: &SchoolState,
    c: StartAttempt,
) -> Result<AttemptStarted, DomainError> {
    let used = state
        .attempts
        .get(&(c.quiz_id, c.pupil_id))
        .map_or(0, |a| a.started);
    Ok(AttemptStarted {
        quiz_id: c.quiz_id,
        pupil_id: c.pupil_id,
        attempt_id: c.attempt_id,
        attempt_no: used.saturating_add(1),
        started_at: c.started_at,
        session_id: c.session_id,
    })
}

pub(super) fn answer(
    state: &SchoolState,
    c: AnswerQuestion,
) -> Result<QuestionAnswered, DomainError> {
    let quiz = quiz(state, c.quiz_id)?;
    let correct = quiz
        .key
        .iter()
        .find(|(q, _, _)| *q == c.question_id)
        .is_some_and(|(_, _, right)| *right == c.answer);
    Ok(QuestionAnswered {
        quiz_id: c.quiz_id,
        pupil_id: c.pupil_id,
        attempt_id: c.attempt_id,
        question_id: c.question_id,
        answer: c.answer,
        correct,
        time_spent_ms: c.time_spent_ms,
        answered_at: c.answered_at,
    })
}

pub(super) fn submit(
    state: &SchoolState,
    c: SubmitAttempt,
) -> Result<AttemptSubmitted, DomainError> {
    let quiz = quiz(state, c.quiz_id)?;
    let open = open_attempt(state, c.quiz_id, c.pupil_id, c.attempt_id)?;
    let correct = open.last_correct.values().filter(|ok| **ok).count();
    Ok(AttemptSubmitted {
        quiz_id: c.quiz_id,
        pupil_id: c.pupil_id,
        attempt_id: c.attempt_id,
        submitted_at: c.submitted_at,
        correct_count: correct.min(u16::MAX as usize) as u16,
        question_count: quiz.key.len().min(u16::MAX as usize) as u16,
    })
}

fn publish_quiz(state: &SchoolState, e: &QuizPublished) -> Result<(), DomainError> {
    if state.quizzes.contains_key(&e.quiz_id) {
        return Err(DomainError::exists("quiz", e.quiz_id));
    }
    not_blank("quiz title", &e.title)?;
    if !state.classes.contains_key(&e.class_id) {
        return Err(DomainError::unknown("class", e.class_id));
    }
    if !state.subjects.contains_key(&e.subject_id) {
        return Err(DomainError::unknown("subject", e.subject_id));
    }
    if e.max_attempts == 0 || e.max_attempts > 100 {
        return Err(DomainError::invalid(
            "max_attempts",
            format!("{} is not between 1 and 100", e.max_attempts),
        ));
    }
    if e.questions.is_empty() || e.questions.len() > 200 {
        return Err(DomainError::invalid(
            "questions",
            format!("a quiz has 1 to 200 questions, not {}", e.questions.len()),
        ));
    }
    let mut seen = HashSet::new();
    for q in &e.questions {
        if !seen.insert(q.question_id) {
            return Err(DomainError::exists("question", q.question_id));
        }
        if q.choices.len() < 2 || usize::from(q.correct_choice) >= q.choices.len() {
            return Err(DomainError::invalid(
                "question",
                format!(
                    "{} has {} choices and right choice {}",
                    q.question_id,
                    q.choices.len(),
                    q.correct_choice
                ),
            ));
        }
    }
    Ok(())
}

fn attempt_started(state: &SchoolState, e: &AttemptStarted) -> Result<(), DomainError> {
    let quiz = quiz(state, e.quiz_id)?;
    enrolled_on(state, e.pupil_id, quiz.class_id, e.started_at.date_naive())?;
    in_school_year(state, e.started_at.date_naive())?;
    if let Some(session) = e.session_id {
        known_open_session(state, session)?;
    }
    let attempts = state.attempts.get(&(e.quiz_id, e.pupil_id));
    if let Some(open) = attempts.and_then(|a| a.open.as_ref()) {
        return Err(DomainError::AttemptStillOpen {
            pupil: e.pupil_id,
            quiz: e.quiz_id,
            attempt: open.attempt_id,
        });
    }
    let used = attempts.map_or(0, |a| a.started);
    if used >= quiz.max_attempts {
        return Err(DomainError::AttemptsExhausted {
            pupil: e.pupil_id,
            quiz: e.quiz_id,
            max: quiz.max_attempts,
        });
    }
    if e.attempt_no != used + 1 {
        return Err(DomainError::Inconsistent {
            field: "attempt_no",
            recorded: e.attempt_no.to_string(),
            derived: (used + 1).to_string(),
        });
    }
    Ok(())
}

fn answered(state: &SchoolState, e: &QuestionAnswered) -> Result<(), DomainError> {
    let quiz = quiz(state, e.quiz_id)?;
    open_attempt(state, e.quiz_id, e.pupil_id, e.attempt_id)?;
    let (_, choices, right) = quiz
        .key
        .iter()
        .find(|(q, _, _)| *q == e.question_id)
        .ok_or_else(|| DomainError::unknown("question", e.question_id))?;
    if e.answer >= *choices {
        return Err(DomainError::invalid(
            "answer",
            format!(
                "choice {} does not exist; question {} has {choices}",
                e.answer, e.question_id
            ),
        ));
    }
    if e.time_spent_ms > 6 * 3600 * 1000 {
        return Err(DomainError::invalid(
            "time_spent_ms",
            format!("{} is more than six hours", e.time_spent_ms),
        ));
    }
    if e.correct != (e.answer == *right) {
        return Err(DomainError::Inconsistent {
            field: "correct",
            recorded: e.correct.to_string(),
            derived: (e.answer == *right).to_string(),
        });
    }
    Ok(())
}

fn submitted(state: &SchoolState, e: &AttemptSubmitted) -> Result<(), DomainError> {
    let derived = submit(
        state,
        SubmitAttempt {
            quiz_id: e.quiz_id,
            pupil_id: e.pupil_id,
            attempt_id: e.attempt_id,
            submitted_at: e.submitted_at,
        },
    )?;
    if (derived.correct_count, derived.question_count) != (e.correct_count, e.question_count) {
        return Err(DomainError::Inconsistent {
            field: "score",
            recorded: format!("{}/{}", e.correct_count, e.question_count),
            derived: format!("{}/{}", derived.correct_count, derived.question_count),
        });
    }
    Ok(())
}

fn competency(
    state: &SchoolState,
    pupil: PupilId,
    framework: FrameworkId,
    component: &str,
    level: u8,
    on: chrono::NaiveDate,
) -> Result<(), DomainError> {
    known_pupil(state, pupil)?;
    let fw = state
        .frameworks
        .get(&framework)
        .ok_or_else(|| DomainError::unknown("framework", framework))?;
    if !fw.components.contains(component) {
        return Err(DomainError::unknown("component", component));
    }
    if level == 0 || level > fw.levels {
        return Err(DomainError::invalid(
            "level",
            format!("{level} is not between 1 and {}", fw.levels),
        ));
    }
    in_school_year(state, on)
}

fn publish_parcours(state: &SchoolState, e: &ParcoursPublished) -> Result<(), DomainError> {
    if state.parcours.contains_key(&e.parcours_id) {
        return Err(DomainError::exists("parcours", e.parcours_id));
    }
    not_blank("parcours title", &e.title)?;
    if !state.classes.contains_key(&e.class_id) {
        return Err(DomainError::unknown("class", e.class_id));
    }
    if e.steps.is_empty() || e.steps.len() > 200 {
        return Err(DomainError::invalid(
            "steps",
            format!("a parcours has 1 to 200 steps, not {}", e.steps.len()),
        ));
    }
    let mut seen = HashSet::new();
    for step in &e.steps {
        if !seen.insert(step.step_id) {
            return Err(DomainError::exists("step", step.step_id));
        }
        not_blank("step title", &step.title)?;
        match &step.kind {
            StepKind::Resource => {}
            StepKind::Quiz { quiz_id } => {
                quiz(state, *quiz_id)?;
            }
            StepKind::Homework { homework_id } => {
                if !state.homework.contains_key(homework_id) {
                    return Err(DomainError::unknown("homework", homework_id));
                }
            }
        }
    }
    Ok(())
}

fn step_started(state: &SchoolState, e: &StepStarted) -> Result<(), DomainError> {
    let parcours = state
        .parcours
        .get(&e.parcours_id)
        .ok_or_else(|| DomainError::unknown("parcours", e.parcours_id))?;
    let index = parcours
        .steps
        .iter()
        .position(|s| *s == e.step_id)
        .ok_or_else(|| DomainError::unknown("step", e.step_id))?;
    enrolled_on(state, e.pupil_id, parcours.class_id, e.at.date_naive())?;
    if let Some(session) = e.session_id {
        known_open_session(state, session)?;
    }
    let progress = state.progress.get(&(e.parcours_id, e.pupil_id));
    if progress.is_some_and(|p| p.completed.contains(&e.step_id)) {
        return Err(DomainError::StepAlreadyCompleted {
            pupil: e.pupil_id,
            parcours: e.parcours_id,
            step: e.step_id,
        });
    }
    if index > 0 {
        let previous = parcours.steps[index - 1];
        if !progress.is_some_and(|p| p.completed.contains(&previous)) {
            return Err(DomainError::StepOutOfOrder {
                pupil: e.pupil_id,
                parcours: e.parcours_id,
                step: e.step_id,
                previous,
            });
        }
    }
    Ok(())
}

fn step_in_progress(
    state: &SchoolState,
    parcours: ParcoursId,
    pupil: PupilId,
    step: StepId,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DomainError> {
    let definition = state
        .parcours
        .get(&parcours)
        .ok_or_else(|| DomainError::unknown("parcours", parcours))?;
    if !definition.steps.contains(&step) {
        return Err(DomainError::unknown("step", step));
    }
    known_pupil(state, pupil)?;
    in_school_year(state, at.date_naive())?;
    let progress = state.progress.get(&(parcours, pupil));
    if !progress.is_some_and(|p| p.started.contains(&step)) {
        return Err(DomainError::StepNotStarted {
            pupil,
            parcours,
            step,
        });
    }
    if progress.is_some_and(|p| p.completed.contains(&step)) {
        return Err(DomainError::StepAlreadyCompleted {
            pupil,
            parcours,
            step,
        });
    }
    Ok(())
}

fn known_open_session(state: &SchoolState, session: SessionId) -> Result<(), DomainError> {
    match state.sessions.get(&session) {
        None => Err(DomainError::unknown("session", session)),
        Some((_, true)) => Err(DomainError::SessionEnded(session)),
        Some(_) => Ok(()),
    }
}

fn session_started(state: &SchoolState, e: &SessionStarted) -> Result<(), DomainError> {
    if state.sessions.contains_key(&e.session_id) {
        return Err(DomainError::exists("session", e.session_id));
    }
    if !state.classes.contains_key(&e.class_id) {
        return Err(DomainError::unknown("class", e.class_id));
    }
    if !state.teachers.contains(&e.teacher_id) {
        return Err(DomainError::unknown("teacher", e.teacher_id));
    }
    if let Some(q) = e.quiz_id {
        quiz(state, q)?;
    }
    if let Some(p) = e.parcours_id {
        if !state.parcours.contains_key(&p) {
            return Err(DomainError::unknown("parcours", p));
        }
    }
    in_school_year(state, e.started_at.date_naive())
}

fn session_ended(state: &SchoolState, e: &SessionEnded) -> Result<(), DomainError> {
    known_open_session(state, e.session_id)
}
