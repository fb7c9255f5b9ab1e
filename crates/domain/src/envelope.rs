//! The envelope around every stored event, and stream names.

use crate::events::{DecodeError, Event};
use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A stream name: `{family}-{id}` (see ARCHITECTURE.md for why each family is a stream).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StreamName(String);

impl StreamName {
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn school(id: SchoolId) -> Self {
        Self(format!("school-{id}"))
    }
    pub fn assessment(id: AssessmentId) -> Self {
        Self(format!("assessment-{id}"))
    }
    pub fn attendance(pupil: PupilId) -> Self {
        Self(format!("attendance-{pupil}"))
    }
    pub fn homework(id: HomeworkId) -> Self {
        Self(format!("homework-{id}"))
    }
    pub fn quiz(id: QuizId) -> Self {
        Self(format!("quiz-{id}"))
    }
    pub fn attempts(quiz: QuizId, pupil: PupilId) -> Self {
        Self(format!("qcm-{quiz}-{pupil}"))
    }
    pub fn competencies(pupil: PupilId) -> Self {
        Self(format!("competencies-{pupil}"))
    }
    pub fn parcours(id: ParcoursId) -> Self {
        Self(format!("parcours-{id}"))
    }
    pub fn progress(parcours: ParcoursId, pupil: PupilId) -> Self {
        Self(format!("progress-{parcours}-{pupil}"))
    }
    pub fn session(id: SessionId) -> Self {
        Self(format!("session-{id}"))
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    /// Professeur principal.
    HeadTeacher,
    Teacher,
    Guardian,
    Pupil,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::HeadTeacher => "head_teacher",
            Role::Teacher => "teacher",
            Role::Guardian => "guardian",
            Role::Pupil => "pupil",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "head_teacher" | "professeur_principal" => Ok(Role::HeadTeacher),
            "teacher" => Ok(Role::Teacher),
            "guardian" => Ok(Role::Guardian),
            "pupil" => Ok(Role::Pupil),
            other => Err(format!(
                "unknown role {other:?}: expected admin, head_teacher, teacher, guardian or pupil"
            )),
        }
    }
}

/// Who recorded an event: a signed-in user with their role, an importer, or suivi itself.
/// Stored compactly as `role:uuid`, `importer:name` or `system:name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    User { id: Uuid, role: Role },
    Importer(String),
    System(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User { id, role } => write!(f, "{}:{id}", role.as_str()),
            Actor::Importer(name) => write!(f, "importer:{name}"),
            Actor::System(name) => write!(f, "system:{name}"),
        }
    }
}

impl FromStr for Actor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("actor {s:?} is not of the form kind:id"))?;
        match kind {
            "importer" => Ok(Actor::Importer(rest.to_owned())),
            "system" => Ok(Actor::System(rest.to_owned())),
            role => Ok(Actor::User {
                role: role.parse()?,
                id: Uuid::parse_str(rest).map_err(|e| format!("actor {s:?}: {e}"))?,
            }),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Who and why, shared by every event one request produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub school_id: SchoolId,
    pub actor: Actor,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: Option<CorrelationId>,
    pub causation_id: Option<EventId>,
}

/// An event ready to append: everything but what the store assigns.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewEvent {
    pub event_id: EventId,
    pub event_type: String,
    pub schema_version: u16,
    pub occurred_at: DateTime<Utc>,
    pub school_id: SchoolId,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<CorrelationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<EventId>,
    pub payload: Box<RawValue>,
}

impl NewEvent {
    pub fn new(event_id: EventId, event: &Event, meta: &Metadata) -> Self {
        Self {
            event_id,
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            occurred_at: meta.occurred_at,
            school_id: meta.school_id,
            actor: meta.actor.clone(),
            correlation_id: meta.correlation_id,
            causation_id: meta.causation_id,
            payload: raw(event.payload_json()),
        }
    }

    pub fn decode(&self) -> Result<Event, DecodeError> {
        Event::decode(&self.event_type, self.schema_version, self.payload.get())
    }
}

/// An event as read back from the store.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub global_position: u64,
    pub stream: StreamName,
    /// 1 for a stream's first event.
    pub stream_version: u64,
    pub event_id: EventId,
    pub event_type: String,
    pub schema_version: u16,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub school_id: SchoolId,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<CorrelationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<EventId>,
    pub payload: Box<RawValue>,
}

impl RecordedEvent {
    pub fn decode(&self) -> Result<Event, DecodeError> {
        Event::decode(&self.event_type, self.schema_version, self.payload.get())
    }

    /// The event as it would be appended again (export / import round trip).
    pub fn to_new_event(&self) -> NewEvent {
        NewEvent {
            event_id: self.event_id,
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            occurred_at: self.occurred_at,
            school_id: self.school_id,
            actor: self.actor.clone(),
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            payload: self.payload.clone(),
        }
    }
}

impl PartialEq for NewEvent {
    fn eq(&self, other: &Self) -> bool {
        self.event_id == other.event_id
            && self.event_type == other.event_type
            && self.schema_version == other.schema_version
            && self.occurred_at == other.occurred_at
            && self.school_id == other.school_id
            && self.actor == other.actor
            && self.correlation_id == other.correlation_id
            && self.causation_id == other.causation_id
            && self.payload.get() == other.payload.get()
    }
}

impl PartialEq for RecordedEvent {
    fn eq(&self, other: &Self) -> bool {
        self.global_position == other.global_position
            && self.stream == other.stream
            && self.stream_version == other.stream_version
            && self.recorded_at == other.recorded_at
            && self.to_new_event() == other.to_new_event()
    }
}

/// Wraps JSON text the caller knows is valid (it came from serde_json).
pub fn raw(json: String) -> Box<RawValue> {
    // Unreachable for serde_json output; `null` keeps the function total.
    RawValue::from_string(json).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_round_trips() {
        for text in [
            "teacher:0193a6a4-0000-7000-8000-000000000001",
            "importer:grades-csv",
            "system:demo",
        ] {
            let actor: Actor = text.parse().unwrap();
            assert_eq!(actor.to_string(), text);
        }
        assert!("wizard:0193a6a4-0000-7000-8000-000000000001"
            .parse::<Actor>()
            .unwrap_err()
            .contains("wizard"));
    }
}
