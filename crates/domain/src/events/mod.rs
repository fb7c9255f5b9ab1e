//! Every fact suivi knows, as an event. Events are versioned data: the stored payload is the
//! variant's struct as JSON (without the tag, which the envelope carries as `event_type`),
//! and `schema_version` says which shape it has. Older shapes are upcast on read
//! (see `upcast`). A name is never reused for a different meaning.

mod attendance;
mod competencies;
mod grades;
mod homework;
mod parcours;
mod qcm;
mod reference;
mod upcast;

pub use attendance::*;
pub use competencies::*;
pub use grades::*;
pub use homework::*;
pub use parcours::*;
pub use qcm::*;
pub use reference::*;

use crate::envelope::StreamName;
use crate::ids::SchoolId;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("event type {event_type} has no schema version {version} (current is {current})")]
    UnknownVersion {
        event_type: String,
        version: u16,
        current: u16,
    },
    #[error("payload of {event_type} v{version} does not decode: {reason}")]
    Payload {
        event_type: String,
        version: u16,
        reason: String,
    },
}

macro_rules! events {
    ($( $variant:ident = $version:literal ),* $(,)?) => {
        /// The tagged form (`{"type": "GradeRecorded", …}`) is what JSON Lines command files
        /// and GraphQL clients see; the store keeps the untagged payload beside `event_type`.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum Event {
            $( $variant($variant), )*
        }

        impl Event {
            /// Every event type with its current schema version.
            pub const TYPES: &'static [(&'static str, u16)] = &[ $( (stringify!($variant), $version), )* ];

            pub fn event_type(&self) -> &'static str {
                match self { $( Event::$variant(_) => stringify!($variant), )* }
            }

            pub fn schema_version(&self) -> u16 {
                match self { $( Event::$variant(_) => $version, )* }
            }

            /// The payload as stored: the variant's fields, without the tag.
            pub fn payload_json(&self) -> String {
                let encoded = match self { $( Event::$variant(e) => serde_json::to_string(e), )* };
                // Plain structs of strings, numbers and ids always serialise.
                encoded.unwrap_or_default()
            }

            fn decode_current(event_type: &str, payload: &str) -> Result<Event, DecodeError> {
                match event_type {
                    $( stringify!($variant) => serde_json::from_str::<$variant>(payload)
                        .map(Event::$variant)
                        .map_err(|e| DecodeError::Payload {
                            event_type: event_type.to_owned(),
                            version: $version,
                            reason: e.to_string(),
                        }), )*
                    other => Err(DecodeError::UnknownType(other.to_owned())),
                }
            }
        }
    };
}

events!(
    SchoolRegistered = 1,
    SchoolYearDefined = 1,
    PeriodDefined = 1,
    SubjectDefined = 1,
    ClassOpened = 1,
    TeacherRegistered = 1,
    TeachingAssigned = 1,
    HeadTeacherAssigned = 1,
    PupilRegistered = 1,
    PupilEnrolled = 1,
    PupilTransferred = 1,
    EnrolmentEnded = 1,
    GuardianLinked = 1,
    FrameworkDefined = 1,
    IdentityLinked = 1,
    IdentityUnlinked = 1,
    AssessmentScheduled = 1,
    GradeRecorded = 2,
    GradeCorrected = 1,
    ResultsWithheld = 1,
    ResultsPublished = 1,
    AbsenceRecorded = 1,
    LatenessRecorded = 1,
    AbsenceJustified = 1,
    HomeworkAssigned = 1,
    HomeworkDeposited = 1,
    QuizPublished = 1,
    AttemptStarted = 1,
    QuestionAnswered = 1,
    AttemptSubmitted = 1,
    CompetencyAssessed = 1,
    CompetencyValidated = 1,
    ParcoursPublished = 1,
    StepStarted = 1,
    StepFailed = 1,
    StepCompleted = 1,
    SessionStarted = 1,
    SessionEnded = 1,
);

impl Event {
    pub fn current_version(event_type: &str) -> Option<u16> {
        Self::TYPES
            .iter()
            .find(|(name, _)| *name == event_type)
            .map(|(_, v)| *v)
    }

    /// Decodes a stored payload, upcasting an older schema version to the current shape.
    pub fn decode(event_type: &str, version: u16, payload: &str) -> Result<Event, DecodeError> {
        let current = Self::current_version(event_type)
            .ok_or_else(|| DecodeError::UnknownType(event_type.to_owned()))?;
        if version == current {
            return Self::decode_current(event_type, payload);
        }
        if version == 0 || version > current {
            return Err(DecodeError::UnknownVersion {
                event_type: event_type.to_owned(),
                version,
                current,
            });
        }
        let upgraded = upcast::upcast(event_type, version, payload)?;
        Self::decode_current(event_type, &upgraded)
    }

    /// The stream whose invariants this event is decided against (see ARCHITECTURE.md).
    pub fn stream(&self, school: SchoolId) -> StreamName {
        use Event::*;
        match self {
            SchoolRegistered(_)
            | SchoolYearDefined(_)
            | PeriodDefined(_)
            | SubjectDefined(_)
            | ClassOpened(_)
            | TeacherRegistered(_)
            | TeachingAssigned(_)
            | HeadTeacherAssigned(_)
            | PupilRegistered(_)
            | PupilEnrolled(_)
            | PupilTransferred(_)
            | EnrolmentEnded(_)
            | GuardianLinked(_)
            | FrameworkDefined(_)
            | IdentityLinked(_)
            | IdentityUnlinked(_) => StreamName::school(school),
            AssessmentScheduled(e) => StreamName::assessment(e.assessment_id),
            GradeRecorded(e) => StreamName::assessment(e.assessment_id),
            GradeCorrected(e) => StreamName::assessment(e.assessment_id),
            ResultsWithheld(e) => StreamName::assessment(e.assessment_id),
            ResultsPublished(e) => StreamName::assessment(e.assessment_id),
            AbsenceRecorded(e) => StreamName::attendance(e.pupil_id),
            LatenessRecorded(e) => StreamName::attendance(e.pupil_id),
            AbsenceJustified(e) => StreamName::attendance(e.pupil_id),
            HomeworkAssigned(e) => StreamName::homework(e.homework_id),
            HomeworkDeposited(e) => StreamName::homework(e.homework_id),
            QuizPublished(e) => StreamName::quiz(e.quiz_id),
            AttemptStarted(e) => StreamName::attempts(e.quiz_id, e.pupil_id),
            QuestionAnswered(e) => StreamName::attempts(e.quiz_id, e.pupil_id),
            AttemptSubmitted(e) => StreamName::attempts(e.quiz_id, e.pupil_id),
            CompetencyAssessed(e) => StreamName::competencies(e.pupil_id),
            CompetencyValidated(e) => StreamName::competencies(e.pupil_id),
            ParcoursPublished(e) => StreamName::parcours(e.parcours_id),
            StepStarted(e) => StreamName::progress(e.parcours_id, e.pupil_id),
            StepFailed(e) => StreamName::progress(e.parcours_id, e.pupil_id),
            StepCompleted(e) => StreamName::progress(e.parcours_id, e.pupil_id),
            SessionStarted(e) => StreamName::session(e.session_id),
            SessionEnded(e) => StreamName::session(e.session_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::*;
    use crate::values::{Grade, Hundredths};
    use uuid::Uuid;

    #[test]
    fn stored_payload_round_trips_for_every_shape() {
        let e = Event::GradeRecorded(GradeRecorded {
            assessment_id: AssessmentId(Uuid::from_u128(1)),
            pupil_id: PupilId(Uuid::from_u128(2)),
            grade: Grade::Score(Hundredths(1450)),
        });
        let payload = e.payload_json();
        assert!(!payload.contains("\"type\""));
        assert_eq!(Event::decode("GradeRecorded", 2, &payload).unwrap(), e);
        assert_eq!(
            Event::decode("GradeRecorded", 3, &payload),
            Err(DecodeError::UnknownVersion {
                event_type: "GradeRecorded".into(),
                version: 3,
                current: 2
            })
        );
        assert!(matches!(
            Event::decode("GradeErased", 1, &payload),
            Err(DecodeError::UnknownType(t)) if t == "GradeErased"
        ));
    }

    #[test]
    fn tagged_form_names_the_type() {
        let json = r#"{"type":"LatenessRecorded","lateness_id":"00000000-0000-0000-0000-000000000001","pupil_id":"00000000-0000-0000-0000-000000000002","at":"2025-10-02T08:05:00Z","minutes":5}"#;
        let e: Event = serde_json::from_str(json).unwrap();
        assert_eq!(e.event_type(), "LatenessRecorded");
        assert_eq!(
            e.stream(SchoolId(Uuid::nil())).as_str(),
            "attendance-00000000-0000-0000-0000-000000000002"
        );
    }
}
