//! Why a command or an event was refused. Every message names the offending value.

use crate::ids::*;
use crate::values::Hundredths;
use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("school {0} is not registered")]
    SchoolNotRegistered(SchoolId),
    #[error("school {0} is already registered")]
    SchoolAlreadyRegistered(SchoolId),
    #[error("unknown {kind} {id}")]
    Unknown { kind: &'static str, id: String },
    #[error("{kind} {id} already exists")]
    AlreadyExists { kind: &'static str, id: String },
    #[error("a {kind} named {name:?} already exists")]
    DuplicateName { kind: &'static str, name: String },
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("date {date} is outside every school year")]
    OutsideSchoolYear { date: NaiveDate },
    #[error("date {date} is outside period {period} ({starts_on} to {ends_on})")]
    OutsidePeriod {
        date: NaiveDate,
        period: String,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    },
    #[error("grade {score} exceeds the scale /{scale} of assessment {assessment}")]
    ScoreOutOfScale {
        score: Hundredths,
        scale: u16,
        assessment: AssessmentId,
    },
    #[error("pupil {pupil} already has a grade for assessment {assessment}; record a correction instead")]
    AlreadyGraded {
        pupil: PupilId,
        assessment: AssessmentId,
    },
    #[error("pupil {pupil} has no grade for assessment {assessment} to correct")]
    NotGraded {
        pupil: PupilId,
        assessment: AssessmentId,
    },
    #[error("pupil {pupil} is not enrolled in class {class} on {date}")]
    NotEnrolled {
        pupil: PupilId,
        class: ClassId,
        date: NaiveDate,
    },
    #[error("pupil {pupil} is already enrolled in class {class}; record a transfer instead")]
    AlreadyEnrolled { pupil: PupilId, class: ClassId },
    #[error("pupil {pupil} has used all {max} attempts allowed on quiz {quiz}")]
    AttemptsExhausted {
        pupil: PupilId,
        quiz: QuizId,
        max: u16,
    },
    #[error("pupil {pupil} still has attempt {attempt} open on quiz {quiz}; submit it first")]
    AttemptStillOpen {
        pupil: PupilId,
        quiz: QuizId,
        attempt: AttemptId,
    },
    #[error("attempt {attempt} is not open for pupil {pupil} on quiz {quiz}")]
    NoOpenAttempt {
        pupil: PupilId,
        quiz: QuizId,
        attempt: AttemptId,
    },
    #[error("{field} is {recorded} but the quiz's answer key gives {derived}")]
    Inconsistent {
        field: &'static str,
        recorded: String,
        derived: String,
    },
    #[error("step {step} of parcours {parcours} was not started by pupil {pupil}")]
    StepNotStarted {
        pupil: PupilId,
        parcours: ParcoursId,
        step: StepId,
    },
    #[error("step {step} of parcours {parcours} is already completed by pupil {pupil}")]
    StepAlreadyCompleted {
        pupil: PupilId,
        parcours: ParcoursId,
        step: StepId,
    },
    #[error("pupil {pupil} must complete step {previous} of parcours {parcours} before starting step {step}")]
    StepOutOfOrder {
        pupil: PupilId,
        parcours: ParcoursId,
        step: StepId,
        previous: StepId,
    },
    #[error("{kind} {id} is already justified")]
    AlreadyJustified {
        kind: &'static str,
        id: AttendanceId,
    },
    #[error("session {0} has already ended")]
    SessionEnded(SessionId),
}

impl DomainError {
    /// A stable code for clients (GraphQL `extensions.code`, importer reports).
    pub fn code(&self) -> &'static str {
        use DomainError::*;
        match self {
            SchoolNotRegistered(_) | Unknown { .. } => "NOT_FOUND",
            SchoolAlreadyRegistered(_) | AlreadyExists { .. } | DuplicateName { .. } => {
                "ALREADY_EXISTS"
            }
            Invalid { .. } | Inconsistent { .. } => "INVALID_INPUT",
            OutsideSchoolYear { .. } | OutsidePeriod { .. } => "OUT_OF_RANGE",
            ScoreOutOfScale { .. } => "OUT_OF_RANGE",
            AlreadyGraded { .. } | NotGraded { .. } => "GRADE_CONFLICT",
            NotEnrolled { .. } | AlreadyEnrolled { .. } => "ENROLMENT",
            AttemptsExhausted { .. } | AttemptStillOpen { .. } | NoOpenAttempt { .. } => {
                "ATTEMPT_RULE"
            }
            StepNotStarted { .. } | StepAlreadyCompleted { .. } | StepOutOfOrder { .. } => {
                "STEP_RULE"
            }
            AlreadyJustified { .. } => "ALREADY_JUSTIFIED",
            SessionEnded(_) => "SESSION_ENDED",
        }
    }

    pub(crate) fn unknown(kind: &'static str, id: impl ToString) -> Self {
        DomainError::Unknown {
            kind,
            id: id.to_string(),
        }
    }

    pub(crate) fn exists(kind: &'static str, id: impl ToString) -> Self {
        DomainError::AlreadyExists {
            kind,
            id: id.to_string(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
