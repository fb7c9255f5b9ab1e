//! Test helpers: a log built through the domain's `decide` (every event is one the domain
//! accepts), with positions and `occurred_at` as a store gives them, and a small school.
#![allow(dead_code)]

pub mod school;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use suivi_domain::envelope::{raw, Actor};
use suivi_domain::identity::{seal, PupilIdentity, PupilKey, Sealed};
use suivi_domain::ids::*;
use suivi_domain::{decide, Command, DomainError, Event, RecordedEvent, SchoolState, StreamName};
use suivi_store::{EventStore, ExpectedVersion};
use uuid::Uuid;

pub fn id<T: From<Uuid>>(n: u128) -> T {
    T::from(Uuid::from_u128(n))
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

pub fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid test instant")
}

pub fn key_of(n: u128) -> PupilKey {
    PupilKey([(n % 251) as u8 + 1; 32])
}

pub fn sealed_identity(pupil: u128, last: &str, first: &str) -> Sealed {
    seal(
        &key_of(pupil),
        [(pupil % 13) as u8; 24],
        PupilId(Uuid::from_u128(pupil)),
        &PupilIdentity {
            last_name: last.into(),
            first_name: first.into(),
            birth_date: None,
        },
    )
}

/// A school's log, grown command by command.
pub struct TestLog {
    pub school: SchoolId,
    pub state: SchoolState,
    pub now: DateTime<Utc>,
    versions: HashMap<StreamName, u64>,
    pub recorded: Vec<RecordedEvent>,
    /// Pupils whose key goes to the store (the others are erased).
    pub keys: Vec<(PupilId, PupilKey)>,
}

impl TestLog {
    pub fn new(school: SchoolId, now: DateTime<Utc>) -> TestLog {
        TestLog {
            school,
            state: SchoolState::new(school),
            now,
            versions: HashMap::new(),
            recorded: Vec::new(),
            keys: Vec::new(),
        }
    }

    pub fn at(&mut self, now: DateTime<Utc>) -> &mut Self {
        self.now = now;
        self
    }

    pub fn try_cmd(&mut self, command: Command) -> Result<Vec<Event>, DomainError> {
        let events = decide(&self.state, command)?;
        for event in &events {
            self.state.evolve(event);
            let position = self.recorded.len() as u64 + 1;
            let stream = event.stream(self.school);
            let version = self.versions.entry(stream.clone()).or_insert(0);
            *version += 1;
            self.recorded.push(RecordedEvent {
                global_position: position,
                stream,
                stream_version: *version,
                event_id: EventId(Uuid::from_u128(0xe000_0000 + u128::from(position))),
                event_type: event.event_type().to_owned(),
                schema_version: event.schema_version(),
                occurred_at: self.now,
                recorded_at: self.now,
                school_id: self.school,
                actor: Actor::System("test".into()),
                correlation_id: None,
                causation_id: None,
                payload: raw(event.payload_json()),
            });
        }
        Ok(events)
    }

    pub fn cmd(&mut self, command: Command) -> &mut Self {
        if let Err(e) = self.try_cmd(command.clone()) {
            panic!("command refused: {e}\n{command:?}");
        }
        self
    }

    /// The log in a fresh in-memory store, with the pupils' keys.
    pub async fn store(&self) -> Arc<dyn EventStore> {
        let store = suivi_store::open("memory:").await.expect("memory store");
        for e in &self.recorded {
            store
                .append(
                    e.stream.clone(),
                    ExpectedVersion::Any,
                    vec![e.to_new_event()],
                )
                .await
                .expect("append");
        }
        for (pupil, key) in &self.keys {
            store.put_key(*pupil, key.clone()).await.expect("put key");
        }
        store
    }
}
