//! `decide(state, command) -> events` and `check(state, event)`: the one place where what
//! enters the log is validated. A command is an intent; most map to one event whose fields
//! they carry, a few derive fields (an attempt's number, an answer's correctness) from the
//! state. Every event, whether decided here or imported as an envelope, passes `check`.

mod learning;
mod reference;
mod school_work;

use crate::error::DomainError;
use crate::events::*;
use crate::ids::*;
use crate::state::SchoolState;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartAttempt {
    pub quiz_id: QuizId,
    pub pupil_id: PupilId,
    pub attempt_id: AttemptId,
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub session_id: Option<SessionId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnswerQuestion {
    pub quiz_id: QuizId,
    pub pupil_id: PupilId,
    pub attempt_id: AttemptId,
    pub question_id: QuestionId,
    pub answer: u16,
    pub time_spent_ms: u32,
    pub answered_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmitAttempt {
    pub quiz_id: QuizId,
    pub pupil_id: PupilId,
    pub attempt_id: AttemptId,
    pub submitted_at: DateTime<Utc>,
}

/// Every write suivi accepts. JSON Lines command files use the tagged form
/// `{"command": "RecordGrade", …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command")]
pub enum Command {
    RegisterSchool(SchoolRegistered),
    DefineSchoolYear(SchoolYearDefined),
    DefinePeriod(PeriodDefined),
    DefineSubject(SubjectDefined),
    OpenClass(ClassOpened),
    RegisterTeacher(TeacherRegistered),
    AssignTeaching(TeachingAssigned),
    AssignHeadTeacher(HeadTeacherAssigned),
    RegisterPupil(PupilRegistered),
    EnrolPupil(PupilEnrolled),
    TransferPupil(PupilTransferred),
    EndEnrolment(EnrolmentEnded),
    LinkGuardian(GuardianLinked),
    DefineFramework(FrameworkDefined),
    LinkIdentity(IdentityLinked),
    UnlinkIdentity(IdentityUnlinked),
    ScheduleAssessment(AssessmentScheduled),
    RecordGrade(GradeRecorded),
    CorrectGrade(GradeCorrected),
    WithholdResults(ResultsWithheld),
    PublishResults(ResultsPublished),
    RecordAbsence(AbsenceRecorded),
    RecordLateness(LatenessRecorded),
    JustifyAbsence(AbsenceJustified),
    AssignHomework(HomeworkAssigned),
    DepositHomework(HomeworkDeposited),
    PublishQuiz(QuizPublished),
    StartAttempt(StartAttempt),
    AnswerQuestion(AnswerQuestion),
    SubmitAttempt(SubmitAttempt),
    AssessCompetency(CompetencyAssessed),
    ValidateCompetency(CompetencyValidated),
    PublishParcours(ParcoursPublished),
    StartStep(StepStarted),
    FailStep(StepFailed),
    CompleteStep(StepCompleted),
    StartSession(SessionStarted),
    EndSession(SessionEnded),
}

/// Decides which events a command produces, or why it is refused. Pure.
pub fn decide(state: &SchoolState, command: Command) -> Result<Vec<Event>, DomainError> {
    use Command as C;
    let event = match command {
        C::RegisterSchool(e) => Event::SchoolRegistered(e),
        C::DefineSchoolYear(e) => Event::SchoolYearDefined(e),
        C::DefinePeriod(e) => Event::PeriodDefined(e),
        C::DefineSubject(e) => Event::SubjectDefined(e),
        C::OpenClass(e) => Event::ClassOpened(e),
        C::RegisterTeacher(e) => Event::TeacherRegistered(e),
        C::AssignTeaching(e) => Event::TeachingAssigned(e),
        C::AssignHeadTeacher(e) => Event::HeadTeacherAssigned(e),
        C::RegisterPupil(e) => Event::PupilRegistered(e),
        C::EnrolPupil(e) => Event::PupilEnrolled(e),
        C::TransferPupil(e) => Event::PupilTransferred(e),
        C::EndEnrolment(e) => Event::EnrolmentEnded(e),
        C::LinkGuardian(e) => Event::GuardianLinked(e),
        C::DefineFramework(e) => Event::FrameworkDefined(e),
        C::LinkIdentity(e) => Event::IdentityLinked(e),
        C::UnlinkIdentity(e) => Event::IdentityUnlinked(e),
        C::ScheduleAssessment(e) => Event::AssessmentScheduled(e),
        C::RecordGrade(e) => Event::GradeRecorded(e),
        C::CorrectGrade(e) => Event::GradeCorrected(e),
        C::WithholdResults(e) => Event::ResultsWithheld(e),
        C::PublishResults(e) => Event::ResultsPublished(e),
        C::RecordAbsence(e) => Event::AbsenceRecorded(e),
        C::RecordLateness(e) => Event::LatenessRecorded(e),
        C::JustifyAbsence(e) => Event::AbsenceJustified(e),
        C::AssignHomework(e) => Event::HomeworkAssigned(e),
        C::DepositHomework(e) => Event::HomeworkDeposited(e),
        C::PublishQuiz(e) => Event::QuizPublished(e),
        C::StartAttempt(c) => Event::AttemptStarted(learning::start_attempt(state, c)?),
        C::AnswerQuestion(c) => Event::QuestionAnswered(learning::answer(state, c)?),
        C::SubmitAttempt(c) => Event::AttemptSubmitted(learning::submit(state, c)?),
        C::AssessCompetency(e) => Event::CompetencyAssessed(e),
        C::ValidateCompetency(e) => Event::CompetencyValidated(e),
        C::PublishParcours(e) => Event::ParcoursPublished(e),
        C::StartStep(e) => Event::StepStarted(e),
        C::FailStep(e) => Event::StepFailed(e),
        C::CompleteStep(e) => Event::StepCompleted(e),
        C::StartSession(e) => Event::SessionStarted(e),
        C::EndSession(e) => Event::SessionEnded(e),
    };
    check(state, &event)?;
    Ok(vec![event])
}

/// Validates one event against the state of its school. Every event entering the log,
/// decided or imported, goes through here.
pub fn check(state: &SchoolState, event: &Event) -> Result<(), DomainError> {
    if !state.registered && !matches!(event, Event::SchoolRegistered(_)) {
        return Err(DomainError::SchoolNotRegistered(state.school_id));
    }
    reference::check(state, event)
        .or_else(|| school_work::check(state, event))
        .or_else(|| learning::check(state, event))
        .unwrap_or(Ok(()))
}

// Small shared rules.

pub(crate) fn in_school_year(state: &SchoolState, date: NaiveDate) -> Result<(), DomainError> {
    state
        .year_of(date)
        .map(|_| ())
        .ok_or(DomainError::OutsideSchoolYear { date })
}

pub(crate) fn known_pupil(
    state: &SchoolState,
    pupil: PupilId,
) -> Result<&crate::state::Pupil, DomainError> {
    state
        .pupils
        .get(&pupil)
        .ok_or_else(|| DomainError::unknown("pupil", pupil))
}

pub(crate) fn enrolled_on(
    state: &SchoolState,
    pupil: PupilId,
    class: ClassId,
    date: NaiveDate,
) -> Result<(), DomainError> {
    let record = known_pupil(state, pupil)?;
    if record.class_on(date) == Some(class) {
        Ok(())
    } else {
        Err(DomainError::NotEnrolled { pupil, class, date })
    }
}

pub(crate) fn not_blank(field: &'static str, text: &str) -> Result<(), DomainError> {
    if text.trim().is_empty() {
        Err(DomainError::invalid(field, "must not be empty"))
    } else if text.len() > 500 {
        Err(DomainError::invalid(
            field,
            format!("is {} bytes long; at most 500", text.len()),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
