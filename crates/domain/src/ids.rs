//! Typed ids. Every id is a UUID (v7 when minted by suivi, so ids sort by creation time);
//! the newtypes keep a pupil id from being passed where a class id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    )*};
}

id_type!(
    SchoolId,
    SchoolYearId,
    PeriodId,
    ClassId,
    SubjectId,
    TeacherId,
    PupilId,
    GuardianId,
    AssessmentId,
    /// An absence or a lateness: both can be justified.
    AttendanceId,
    HomeworkId,
    QuizId,
    QuestionId,
    AttemptId,
    FrameworkId,
    ParcoursId,
    StepId,
    /// A class session: a lesson during which pupils work on a quiz or a parcours live.
    SessionId,
    EventId,
    /// Groups the events one request or one imported file produced.
    CorrelationId,
);

impl EventId {
    /// Event ids are the idempotency key; they are minted by the caller (the edge), never
    /// by the domain, so a retried request carries the same id.
    pub fn new_v7() -> Self {
        Self(Uuid::now_v7())
    }
}
