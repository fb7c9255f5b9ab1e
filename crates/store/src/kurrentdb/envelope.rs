//! The pure mapping between suivi's envelope and a KurrentDB event: the custom metadata
//! JSON, the payload bytes, the 0-based revisions and the server's timestamp.

use crate::rules::to_micros;
use crate::{ExpectedVersion, StoreError};
use chrono::{DateTime, TimeZone, Utc};
use eventstore as es;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use suivi_domain::ids::{CorrelationId, EventId, SchoolId};
use suivi_domain::{Actor, NewEvent, RecordedEvent, StreamName};

/// What suivi keeps beside the payload, as the event's custom metadata (JSON). Correlation
/// and causation use KurrentDB's own `$correlationId` / `$causationId` names, so the
/// server's `$by_correlation_id` projection understands them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub event_type: String,
    pub schema_version: u16,
    /// Truncated to the microsecond, like every adapter.
    pub occurred_at: DateTime<Utc>,
    pub school_id: SchoolId,
    pub actor: Actor,
    #[serde(
        rename = "$correlationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub correlation_id: Option<CorrelationId>,
    #[serde(
        rename = "$causationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub causation_id: Option<EventId>,
}

impl Envelope {
    pub fn of(event: &NewEvent) -> Self {
        Envelope {
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            occurred_at: to_micros(event.occurred_at),
            school_id: event.school_id,
            actor: event.actor.clone(),
            correlation_id: event.correlation_id,
            causation_id: event.causation_id,
        }
    }
}

/// The event as KurrentDB stores it: id = suivi's event id, type = suivi's event type,
/// data = the payload's JSON text unchanged (a `RawValue` serialises verbatim), custom
/// metadata = the envelope.
pub fn event_data(event: &NewEvent) -> Result<es::EventData, StoreError> {
    let failed = |e: serde_json::Error| {
        StoreError::Backend(format!(
            "encoding event {} for KurrentDB: {e}",
            event.event_id
        ))
    };
    es::EventData::json(&event.event_type, &event.payload)
        .map_err(failed)?
        .id(event.event_id.0)
        .metadata_as_json(&Envelope::of(event))
        .map_err(failed)
}

/// A KurrentDB event of stream `stream` back into suivi's shape, at dense position
/// `global_position`.
pub fn decode(
    stream: StreamName,
    event: &es::RecordedEvent,
    global_position: u64,
) -> Result<RecordedEvent, StoreError> {
    let corrupt = |what: String| {
        StoreError::Corrupt(format!(
            "KurrentDB event {} (revision {} of stream {}): {what}",
            event.id, event.revision, event.stream_id
        ))
    };
    let envelope: Envelope = serde_json::from_slice(&event.custom_metadata)
        .map_err(|e| corrupt(format!("its metadata is not a suivi envelope: {e}")))?;
    let text = std::str::from_utf8(&event.data)
        .map_err(|e| corrupt(format!("its data is not UTF-8: {e}")))?;
    let payload = RawValue::from_string(text.to_owned())
        .map_err(|e| corrupt(format!("its data is not JSON: {e}")))?;
    let ticks = event
        .metadata
        .get("created")
        .ok_or_else(|| corrupt("it has no creation time".into()))?;
    let recorded_at = created_at(ticks)
        .ok_or_else(|| corrupt(format!("its creation time {ticks:?} is not a tick count")))?;
    Ok(RecordedEvent {
        global_position,
        stream,
        stream_version: version_of_revision(event.revision),
        event_id: EventId(event.id),
        event_type: envelope.event_type,
        schema_version: envelope.schema_version,
        occurred_at: envelope.occurred_at,
        recorded_at,
        school_id: envelope.school_id,
        actor: envelope.actor,
        correlation_id: envelope.correlation_id,
        causation_id: envelope.causation_id,
        payload,
    })
}

/// The server's `created` metadata: 100 ns ticks since the Unix epoch. The crate's own
/// `RecordedEvent::created` keeps whole seconds only, so it is parsed here, to the
/// microsecond every adapter keeps.
pub fn created_at(ticks: &str) -> Option<DateTime<Utc>> {
    let ticks: i64 = ticks.parse().ok()?;
    Utc.timestamp_micros(ticks.checked_div(10)?).single()
}

/// suivi's versions are 1-based, KurrentDB's revisions 0-based.
pub fn version_of_revision(revision: u64) -> u64 {
    revision.saturating_add(1)
}

/// The revision KurrentDB checks for an expected version. `None` for `Exact(0)`: no stream
/// is ever at version 0 (an empty stream does not exist), so it can only conflict, and
/// KurrentDB has no revision to say it.
pub fn expected_revision(expected: ExpectedVersion) -> Option<es::ExpectedRevision> {
    match expected {
        ExpectedVersion::Any => Some(es::ExpectedRevision::Any),
        ExpectedVersion::NoStream => Some(es::ExpectedRevision::NoStream),
        ExpectedVersion::Exact(0) => None,
        ExpectedVersion::Exact(v) => Some(es::ExpectedRevision::Exact(v - 1)),
    }
}

/// The revision to expect for a stream known to be at `version` (`None`: no stream).
pub fn revision_at(version: Option<u64>) -> es::ExpectedRevision {
    match version {
        None | Some(0) => es::ExpectedRevision::NoStream,
        Some(v) => es::ExpectedRevision::Exact(v - 1),
    }
}

/// The stream's actual version from KurrentDB's answer to a refused append.
pub fn actual_version(current: es::CurrentRevision) -> Option<u64> {
    match current {
        es::CurrentRevision::Current(revision) => Some(version_of_revision(revision)),
        es::CurrentRevision::NoStream => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{event_with, instant, stream};
    use std::collections::HashMap;
    use suivi_domain::envelope::raw;
    use suivi_domain::Role;
    use uuid::Uuid;

    /// What KurrentDB would hand back for `event`, built the way `event_data` writes it
    /// (`EventData::json` serialises the payload with `serde_json::to_vec`).
    fn stored(event: &NewEvent, revision: u64, created_ticks: &str) -> es::RecordedEvent {
        let mut metadata = HashMap::new();
        metadata.insert("type".to_owned(), event.event_type.clone());
        metadata.insert("content-type".to_owned(), "application/json".to_owned());
        metadata.insert("created".to_owned(), created_ticks.to_owned());
        es::RecordedEvent {
            stream_id: "test123-assessment-1".into(),
            id: event.event_id.0,
            revision,
            event_type: event.event_type.clone(),
            data: serde_json::to_vec(&*event.payload).unwrap().into(),
            metadata,
            custom_metadata: serde_json::to_vec(&Envelope::of(event)).unwrap().into(),
            is_json: true,
            position: es::Position {
                commit: 4096,
                prepare: 4096,
            },
            created: Utc::now(),
        }
    }

    fn rich_event() -> NewEvent {
        let mut e = event_with(
            1,
            r#"{ "points" : 15.50, "note":"très bien ✓", "list":[1,2 ,3]}"#,
        );
        e.event_type = "GradeRecorded".into();
        e.schema_version = 3;
        e.occurred_at = instant(-1_234_567) + chrono::Duration::nanoseconds(789);
        e.actor = Actor::User {
            id: Uuid::from_u128(1),
            role: Role::HeadTeacher,
        };
        e.correlation_id = Some(CorrelationId(Uuid::from_u128(0xc0)));
        e.causation_id = Some(EventId(Uuid::from_u128(0xca)));
        e
    }

    #[test]
    fn the_payload_text_is_kept_byte_for_byte() {
        let text = r#"{ "b" : 1.50,"a":[1 ,2], "é":"✓" }"#;
        let payload = raw(text.to_owned());
        assert_eq!(serde_json::to_vec(&*payload).unwrap(), text.as_bytes());
    }

    #[test]
    fn an_event_round_trips_through_the_metadata() {
        let sent = rich_event();
        // 2025-09-04T15:33:20.1234567Z in ticks: 1_757_000_000.1234567 s.
        let back = decode(
            stream("assessment-1"),
            &stored(&sent, 4, "17570000001234567"),
            9,
        )
        .unwrap();
        assert_eq!(back.global_position, 9);
        assert_eq!(back.stream, stream("assessment-1"));
        assert_eq!(back.stream_version, 5);
        assert_eq!(back.recorded_at, instant(123_456));
        assert_eq!(back.payload.get(), sent.payload.get());
        let mut expected = sent.clone();
        expected.occurred_at = instant(-1_234_567);
        assert_eq!(back.to_new_event(), expected);
        assert!(crate::rules::same_event(&back, &sent));
    }

    #[test]
    fn the_envelope_uses_kurrentdb_names_and_skips_absent_ids() {
        let e = rich_event();
        let json = serde_json::to_value(Envelope::of(&e)).unwrap();
        assert_eq!(
            json["$correlationId"],
            "00000000-0000-0000-0000-0000000000c0"
        );
        assert_eq!(json["$causationId"], "00000000-0000-0000-0000-0000000000ca");
        assert_eq!(
            json["actor"],
            "head_teacher:00000000-0000-0000-0000-000000000001"
        );
        assert_eq!(json["occurred_at"], "2025-09-04T15:33:18.765433Z");
        assert_eq!(json["schema_version"], 3);
        let plain = serde_json::to_value(Envelope::of(&event_with(2, "{}"))).unwrap();
        assert!(plain.get("$correlationId").is_none());
        assert!(plain.get("$causationId").is_none());
    }

    #[test]
    fn a_foreign_event_is_reported_as_corrupt() {
        let sent = rich_event();
        let mut foreign = stored(&sent, 0, "17570000000000000");
        foreign.custom_metadata = br#"{"note":"not ours"}"#.to_vec().into();
        let err = decode(stream("assessment-1"), &foreign, 1).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("not a suivi envelope") && m.contains(&sent.event_id.to_string())),
            "{err:?}"
        );
        let mut no_time = stored(&sent, 0, "soon");
        let err = decode(stream("assessment-1"), &no_time, 1).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("\"soon\"")),
            "{err:?}"
        );
        no_time.metadata.remove("created");
        assert!(decode(stream("assessment-1"), &no_time, 1).is_err());
        let mut binary = stored(&sent, 0, "17570000000000000");
        binary.data = vec![0xff, 0xfe].into();
        assert!(decode(stream("assessment-1"), &binary, 1).is_err());
    }

    #[test]
    fn expected_versions_map_to_zero_based_revisions() {
        assert_eq!(
            expected_revision(ExpectedVersion::Any),
            Some(es::ExpectedRevision::Any)
        );
        assert_eq!(
            expected_revision(ExpectedVersion::NoStream),
            Some(es::ExpectedRevision::NoStream)
        );
        assert_eq!(
            expected_revision(ExpectedVersion::Exact(1)),
            Some(es::ExpectedRevision::Exact(0))
        );
        assert_eq!(
            expected_revision(ExpectedVersion::Exact(3)),
            Some(es::ExpectedRevision::Exact(2))
        );
        assert_eq!(expected_revision(ExpectedVersion::Exact(0)), None);
        assert_eq!(revision_at(None), es::ExpectedRevision::NoStream);
        assert_eq!(revision_at(Some(3)), es::ExpectedRevision::Exact(2));
        assert_eq!(actual_version(es::CurrentRevision::Current(2)), Some(3));
        assert_eq!(actual_version(es::CurrentRevision::NoStream), None);
        assert_eq!(version_of_revision(0), 1);
    }

    #[test]
    fn creation_ticks_are_kept_to_the_microsecond() {
        assert_eq!(created_at("17570000000000000"), Some(instant(0)));
        assert_eq!(created_at("17570000000000019"), Some(instant(1)));
        assert_eq!(created_at("0"), Utc.timestamp_micros(0).single());
        assert_eq!(created_at("-5"), Utc.timestamp_micros(0).single());
        assert_eq!(created_at("12a"), None);
        assert_eq!(created_at(""), None);
    }
}
