//! Rules for grades, attendance and homework.

use super::{enrolled_on, in_school_year, known_pupil, not_blank};
use crate::error::DomainError;
use crate::events::*;
use crate::state::SchoolState;
use crate::values::Grade;

pub(super) fn check(state: &SchoolState, event: &Event) -> Option<Result<(), DomainError>> {
    Some(match event {
        Event::AssessmentScheduled(e) => schedule(state, e),
        Event::GradeRecorded(e) => grade(state, e.assessment_id, e.pupil_id, &e.grade, false),
        Event::GradeCorrected(e) => grade(state, e.assessment_id, e.pupil_id, &e.grade, true),
        Event::ResultsWithheld(e) => visibility(state, e.assessment_id, true),
        Event::ResultsPublished(e) => visibility(state, e.assessment_id, false),
        Event::AbsenceRecorded(e) => absence(state, e),
        Event::LatenessRecorded(e) => lateness(state, e),
        Event::AbsenceJustified(e) => justify(state, e),
        Event::HomeworkAssigned(e) => assign_homework(state, e),
        Event::HomeworkDeposited(e) => deposit(state, e),
        _ => return None,
    })
}

/// Withholding withheld results, or publishing published ones, is refused: the request
/// was probably meant for another assessment.
fn visibility(
    state: &SchoolState,
    assessment_id: crate::ids::AssessmentId,
    withhold: bool,
) -> Result<(), DomainError> {
    let assessment = state
        .assessments
        .get(&assessment_id)
        .ok_or_else(|| DomainError::unknown("assessment", assessment_id))?;
    match (withhold, assessment.withheld) {
        (true, true) => Err(DomainError::invalid(
            "assessmentId",
            format!("the results of assessment {assessment_id} are already withheld"),
        )),
        (false, false) => Err(DomainError::invalid(
            "assessmentId",
            format!("the results of assessment {assessment_id} are already published"),
        )),
        _ => Ok(()),
    }
}

fn schedule(state: &SchoolState, e: &AssessmentScheduled) -> Result<(), DomainError> {
    if state.assessments.contains_key(&e.assessment_id) {
        return Err(DomainError::exists("assessment", e.assessment_id));
    }
    not_blank("assessment title", &e.title)?;
    if !state.classes.contains_key(&e.class_id) {
        return Err(DomainError::unknown("class", e.class_id));
    }
    if !state.subjects.contains_key(&e.subject_id) {
        return Err(DomainError::unknown("subject", e.subject_id));
    }
    let period = state
        .periods
        .get(&e.period_id)
        .ok_or_else(|| DomainError::unknown("period", e.period_id))?;
    if e.date < period.starts_on || e.date > period.ends_on {
        return Err(DomainError::OutsidePeriod {
            date: e.date,
            period: period.name.clone(),
            starts_on: period.starts_on,
            ends_on: period.ends_on,
        });
    }
    if e.scale == 0 || e.scale > 1000 {
        return Err(DomainError::invalid(
            "scale",
            format!("/{} is not between /1 and /1000", e.scale),
        ));
    }
    if e.coefficient.0 .0 == 0 || e.coefficient.0 .0 > 10_000 {
        return Err(DomainError::invalid(
            "coefficient",
            format!("{} is not between 0.01 and 100", e.coefficient.0),
        ));
    }
    Ok(())
}

fn grade(
    state: &SchoolState,
    assessment_id: crate::ids::AssessmentId,
    pupil: crate::ids::PupilId,
    grade: &Grade,
    correction: bool,
) -> Result<(), DomainError> {
    let assessment = state
        .assessments
        .get(&assessment_id)
        .ok_or_else(|| DomainError::unknown("assessment", assessment_id))?;
    if let Grade::Score(points) = grade {
        if points.0 > u32::from(assessment.scale) * 100 {
            return Err(DomainError::ScoreOutOfScale {
                score: *points,
                scale: assessment.scale,
                assessment: assessment_id,
            });
        }
    }
    enrolled_on(state, pupil, assessment.class_id, assessment.date)?;
    match (correction, assessment.graded.contains(&pupil)) {
        (false, true) => Err(DomainError::AlreadyGraded {
            pupil,
            assessment: assessment_id,
        }),
        (true, false) => Err(DomainError::NotGraded {
            pupil,
            assessment: assessment_id,
        }),
        _ => Ok(()),
    }
}

fn absence(state: &SchoolState, e: &AbsenceRecorded) -> Result<(), DomainError> {
    if state.attendance.contains_key(&e.absence_id) {
        return Err(DomainError::exists("absence", e.absence_id));
    }
    known_pupil(state, e.pupil_id)?;
    if e.ends_at <= e.starts_at {
        return Err(DomainError::invalid(
            "absence",
            format!("ends at {} before it starts at {}", e.ends_at, e.starts_at),
        ));
    }
    if e.half_days == 0 && e.lessons == 0 {
        return Err(DomainError::invalid(
            "absence",
            "misses neither a half-day nor a lesson",
        ));
    }
    in_school_year(state, e.starts_at.date_naive())?;
    in_school_year(state, e.ends_at.date_naive())
}

fn lateness(state: &SchoolState, e: &LatenessRecorded) -> Result<(), DomainError> {
    if state.attendance.contains_key(&e.lateness_id) {
        return Err(DomainError::exists("lateness", e.lateness_id));
    }
    known_pupil(state, e.pupil_id)?;
    if e.minutes == 0 || e.minutes > 240 {
        return Err(DomainError::invalid(
            "lateness",
            format!("{} minutes is not between 1 and 240", e.minutes),
        ));
    }
    in_school_year(state, e.at.date_naive())
}

fn justify(state: &SchoolState, e: &AbsenceJustified) -> Result<(), DomainError> {
    let record = state
        .attendance
        .get(&e.record_id)
        .filter(|r| r.pupil_id == e.pupil_id)
        .ok_or_else(|| DomainError::unknown("absence or lateness", e.record_id))?;
    not_blank("justification", &e.reason)?;
    if record.justified {
        return Err(DomainError::AlreadyJustified {
            kind: if record.is_absence {
                "absence"
            } else {
                "lateness"
            },
            id: e.record_id,
        });
    }
    Ok(())
}

fn assign_homework(state: &SchoolState, e: &HomeworkAssigned) -> Result<(), DomainError> {
    if state.homework.contains_key(&e.homework_id) {
        return Err(DomainError::exists("homework", e.homework_id));
    }
    not_blank("homework title", &e.title)?;
    if !state.classes.contains_key(&e.class_id) {
        return Err(DomainError::unknown("class", e.class_id));
    }
    if !state.subjects.contains_key(&e.subject_id) {
        return Err(DomainError::unknown("subject", e.subject_id));
    }
    in_school_year(state, e.assigned_on)?;
    if e.due_at.date_naive() < e.assigned_on {
        return Err(DomainError::invalid(
            "due date",
            format!(
                "{} is before the homework was assigned on {}",
                e.due_at, e.assigned_on
            ),
        ));
    }
    Ok(())
}

fn deposit(state: &SchoolState, e: &HomeworkDeposited) -> Result<(), DomainError> {
    let homework = state
        .homework
        .get(&e.homework_id)
        .ok_or_else(|| DomainError::unknown("homework", e.homework_id))?;
    enrolled_on(
        state,
        e.pupil_id,
        homework.class_id,
        e.deposited_at.date_naive(),
    )?;
    not_blank("file name", &e.file_name)?;
    if e.size_bytes == 0 {
        return Err(DomainError::invalid(
            "deposit",
            format!("{} is empty", e.file_name),
        ));
    }
    if e.sha256.len() != 64 || !e.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DomainError::invalid(
            "sha256",
            format!("{:?} is not 64 hex digits", e.sha256),
        ));
    }
    Ok(())
}
