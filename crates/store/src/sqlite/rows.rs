//! How an event is laid out in a row: UUIDs as 16-byte blobs, timestamps as integer
//! microseconds, stream, type, actor and school as ids into their own tables, payload as
//! JSON text.

use crate::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};
use serde_json::value::RawValue;
use std::collections::HashMap;
use suivi_domain::ids::{CorrelationId, EventId, SchoolId};
use suivi_domain::{Actor, RecordedEvent, StreamName};
use uuid::Uuid;

/// Columns in the order `decode` reads them. Stream, type, actor and school come as ids,
/// resolved through `Names` rather than joined: each is looked up once per connection, not
/// once per row.
pub(super) const SELECT_EVENT: &str = "SELECT global_position, stream_id, stream_version, \
     event_id, type_id, schema_version, occurred_at, recorded_at, school, actor_id, \
     correlation_id, causation_id, payload FROM events";

/// A reader's memory of interned values. Rows of those tables are never updated or deleted
/// and a reader only sees committed ones, so an id always means the same value.
#[derive(Default)]
pub(super) struct Names {
    streams: HashMap<i64, StreamName>,
    types: HashMap<i64, String>,
    actors: HashMap<i64, Actor>,
    schools: HashMap<i64, SchoolId>,
}

/// Past this many streams remembered, the stream cache starts over (bounded memory).
const MAX_STREAMS: usize = 100_000;

impl Names {
    fn stream(&mut self, conn: &Connection, id: i64) -> Result<StreamName, StoreError> {
        if self.streams.len() > MAX_STREAMS {
            self.streams.clear();
        }
        remember(&mut self.streams, conn, "streams", "name", id, |v| {
            Ok(StreamName::new(v.as_str().map_err(|e| e.to_string())?))
        })
    }

    fn event_type(&mut self, conn: &Connection, id: i64) -> Result<String, StoreError> {
        remember(&mut self.types, conn, "event_types", "name", id, |v| {
            Ok(v.as_str().map_err(|e| e.to_string())?.to_owned())
        })
    }

    fn actor(&mut self, conn: &Connection, id: i64) -> Result<Actor, StoreError> {
        remember(&mut self.actors, conn, "actors", "name", id, |v| {
            v.as_str().map_err(|e| e.to_string())?.parse()
        })
    }

    fn school(&mut self, conn: &Connection, id: i64) -> Result<SchoolId, StoreError> {
        remember(&mut self.schools, conn, "schools", "uuid", id, |v| {
            let bytes = v.as_blob().map_err(|e| e.to_string())?;
            Uuid::from_slice(bytes)
                .map(SchoolId)
                .map_err(|_| format!("{} bytes are not a UUID", bytes.len()))
        })
    }
}

fn remember<T: Clone>(
    cache: &mut HashMap<i64, T>,
    conn: &Connection,
    table: &str,
    column: &str,
    id: i64,
    parse: impl FnOnce(ValueRef<'_>) -> Result<T, String>,
) -> Result<T, StoreError> {
    if let Some(value) = cache.get(&id) {
        return Ok(value.clone());
    }
    let mut select = conn
        .prepare_cached(&format!("SELECT {column} FROM {table} WHERE id = ?1"))
        .map_err(db)?;
    let mut rows = select.query([id]).map_err(db)?;
    let Some(row) = rows.next().map_err(db)? else {
        return Err(StoreError::Corrupt(format!(
            "id {id} is not in table {table}"
        )));
    };
    let value = parse(row.get_ref(0).map_err(db)?)
        .map_err(|e| StoreError::Corrupt(format!("{table} row {id}: {e}")))?;
    cache.insert(id, value.clone());
    Ok(value)
}

pub(super) fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("sqlite: {e}"))
}

/// Integers in SQLite are signed; values past `i64::MAX` cannot occur in a log.
pub(super) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(super) fn decode(
    row: &Row<'_>,
    conn: &Connection,
    names: &mut Names,
) -> Result<RecordedEvent, StoreError> {
    let position: i64 = row.get(0).map_err(db)?;
    let at = |column: &str, what: String| {
        StoreError::Corrupt(format!(
            "event at position {position}: column {column} {what}"
        ))
    };
    let value = |i: usize, column: &str| row.get_ref(i).map_err(|e| at(column, e.to_string()));
    let text = |i: usize, column: &str| -> Result<&str, StoreError> {
        value(i, column)?
            .as_str()
            .map_err(|e| at(column, e.to_string()))
    };
    let unsigned = |i: usize, column: &str| -> Result<u64, StoreError> {
        let v = value(i, column)?
            .as_i64()
            .map_err(|e| at(column, e.to_string()))?;
        u64::try_from(v).map_err(|_| at(column, format!("holds the negative {v}")))
    };
    let uuid = |i: usize, column: &str| -> Result<Option<Uuid>, StoreError> {
        match value(i, column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(bytes) => Uuid::from_slice(bytes)
                .map(Some)
                .map_err(|_| at(column, format!("holds {} bytes, not a UUID", bytes.len()))),
            other => Err(at(column, format!("holds a {:?}", other.data_type()))),
        }
    };
    let required = |i: usize, column: &str| -> Result<Uuid, StoreError> {
        uuid(i, column)?.ok_or_else(|| at(column, "is null".into()))
    };
    let time = |i: usize, column: &str| -> Result<DateTime<Utc>, StoreError> {
        let v = value(i, column)?
            .as_i64()
            .map_err(|e| at(column, e.to_string()))?;
        DateTime::from_timestamp_micros(v).ok_or_else(|| at(column, format!("holds {v}")))
    };
    let id = |i: usize, column: &str| -> Result<i64, StoreError> {
        value(i, column)?
            .as_i64()
            .map_err(|e| at(column, e.to_string()))
    };
    let schema_version = unsigned(5, "schema_version")?;
    Ok(RecordedEvent {
        global_position: unsigned(0, "global_position")?,
        stream: names.stream(conn, id(1, "stream_id")?)?,
        stream_version: unsigned(2, "stream_version")?,
        event_id: EventId(required(3, "event_id")?),
        event_type: names.event_type(conn, id(4, "type_id")?)?,
        schema_version: u16::try_from(schema_version)
            .map_err(|_| at("schema_version", format!("holds {schema_version}")))?,
        occurred_at: time(6, "occurred_at")?,
        recorded_at: time(7, "recorded_at")?,
        school_id: names.school(conn, id(8, "school")?)?,
        actor: names.actor(conn, id(9, "actor_id")?)?,
        correlation_id: uuid(10, "correlation_id")?.map(CorrelationId),
        causation_id: uuid(11, "causation_id")?.map(EventId),
        payload: RawValue::from_string(text(12, "payload")?.to_owned())
            .map_err(|e| at("payload", format!("is not JSON: {e}")))?,
    })
}
