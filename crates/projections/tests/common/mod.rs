//! Test helpers: a log built through the domain's `decide`, so every event is one the
//! domain accepts, with positions and `occurred_at` as a store would give them.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::collections::HashMap;
use suivi_domain::envelope::{raw, Actor};
use suivi_domain::identity::Sealed;
use suivi_domain::ids::*;
use suivi_domain::{decide, Command, DomainError, Event, RecordedEvent, SchoolState, StreamName};
use suivi_projections::Logged;
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

pub fn sealed() -> Sealed {
    Sealed {
        nonce: "00".repeat(24),
        ciphertext: "ab".repeat(20),
    }
}

/// A school's log, grown command by command.
pub struct Log {
    pub school: SchoolId,
    pub state: SchoolState,
    pub now: DateTime<Utc>,
    pub events: Vec<Logged>,
    versions: HashMap<StreamName, u64>,
    recorded: Vec<RecordedEvent>,
}

impl Log {
    pub fn new(school: SchoolId, now: DateTime<Utc>) -> Log {
        Log {
            school,
            state: SchoolState::new(school),
            now,
            events: Vec::new(),
            versions: HashMap::new(),
            recorded: Vec::new(),
        }
    }

    /// Sets `occurred_at` for the next commands.
    pub fn at(&mut self, now: DateTime<Utc>) -> &mut Self {
        self.now = now;
        self
    }

    pub fn try_cmd(&mut self, command: Command) -> Result<Vec<Event>, DomainError> {
        let events = decide(&self.state, command)?;
        for event in &events {
            self.state.evolve(event);
            let position = self.events.len() as u64 + 1;
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
            self.events.push(Logged {
                position,
                occurred_at: self.now,
                school_id: self.school,
                event: event.clone(),
            });
        }
        Ok(events)
    }

    /// Runs a command the test expects to be accepted.
    pub fn cmd(&mut self, command: Command) -> &mut Self {
        if let Err(e) = self.try_cmd(command.clone()) {
            panic!("command refused: {e}\n{command:?}");
        }
        self
    }

    pub fn recorded(&self) -> &[RecordedEvent] {
        &self.recorded
    }
}
