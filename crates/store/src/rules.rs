//! The append rules every adapter applies the same way: the expected-version check, the
//! idempotent replay of a retried request, and the precision timestamps are kept at.

use crate::{AppendRequest, AppendResult, ExpectedVersion, StoreError};
use chrono::{DateTime, SubsecRound, Utc};
use suivi_domain::{NewEvent, RecordedEvent, StreamName};

/// Timestamps are kept to the microsecond (SQLite stores integer microseconds, PostgreSQL's
/// `timestamptz` has the same precision); every adapter truncates the same way.
pub(crate) fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// `actual` is the stream's last version, `None` when the stream holds no event.
pub(crate) fn check_expected(
    stream: &StreamName,
    expected: ExpectedVersion,
    actual: Option<u64>,
) -> Result<(), StoreError> {
    let ok = match expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => actual.is_none(),
        ExpectedVersion::Exact(v) => actual == Some(v),
    };
    if ok {
        Ok(())
    } else {
        Err(StoreError::WrongExpectedVersion {
            stream: stream.clone(),
            expected,
            actual,
        })
    }
}

/// Whether a stored event is the one a request carries again (timestamps compared at the
/// stored precision).
pub(crate) fn same_event(stored: &RecordedEvent, new: &NewEvent) -> bool {
    stored.event_id == new.event_id
        && stored.event_type == new.event_type
        && stored.schema_version == new.schema_version
        && stored.occurred_at == to_micros(new.occurred_at)
        && stored.school_id == new.school_id
        && stored.actor == new.actor
        && stored.correlation_id == new.correlation_id
        && stored.causation_id == new.causation_id
        && stored.payload.get() == new.payload.get()
}

/// A retried request: `stored[i]` is what the log holds under the id of `new[i]` (every id
/// was found: a partial overlap is the caller's to refuse). It is a replay when every event is the same, in the same stream, at
/// consecutive versions in the same order; the first result is then returned. Anything
/// else reuses an id for something else.
pub(crate) fn replayed(
    stream: &StreamName,
    stored: &[RecordedEvent],
    new: &[NewEvent],
) -> Result<AppendResult, StoreError> {
    let (Some(first), Some(last)) = (stored.first(), stored.last()) else {
        return Err(StoreError::Backend(format!(
            "replay check on stream {stream} got no stored event"
        )));
    };
    if stored.len() != new.len() {
        return Err(StoreError::Backend(format!(
            "replay check on stream {stream} got {} stored events for {} new ones",
            stored.len(),
            new.len()
        )));
    }
    for (i, (old, new)) in stored.iter().zip(new).enumerate() {
        let in_place =
            old.stream == *stream && old.stream_version == first.stream_version + i as u64;
        if !in_place || !same_event(old, new) {
            return Err(StoreError::IdempotencyMismatch {
                event_id: new.event_id,
            });
        }
    }
    Ok(AppendResult {
        stream_version: last.stream_version,
        first_position: first.global_position,
        last_position: last.global_position,
    })
}

/// What a restored request keeps from the store that recorded it.
#[derive(Clone, Debug)]
pub(crate) struct Kept {
    /// The global position its first event must land at.
    pub first_position: u64,
    /// The `recorded_at` of each of its events, at the stored precision.
    pub recorded_at: Vec<DateTime<Utc>>,
}

impl Kept {
    /// Refuses a request that would land anywhere but where the source had it.
    pub fn check_position(&self, next: u64) -> Result<(), StoreError> {
        if next == self.first_position {
            Ok(())
        } else {
            Err(StoreError::Restore(format!(
                "the event recorded at position {} would land at position {next}; a restore \
                 continues the log without a gap (restore into an empty store)",
                self.first_position
            )))
        }
    }
}

/// Recorded events as append requests, one per run of one stream, each with what it keeps.
/// Positions must follow each other without a gap, and versions within a stream too.
pub(crate) fn restoring(
    events: Vec<RecordedEvent>,
) -> Result<(Vec<AppendRequest>, Vec<Kept>), StoreError> {
    let mut requests: Vec<AppendRequest> = Vec::new();
    let mut kept: Vec<Kept> = Vec::new();
    let mut previous: Option<(u64, u64)> = None;
    for event in events {
        if let Some((position, _)) = previous {
            if event.global_position != position + 1 {
                return Err(StoreError::Restore(format!(
                    "position {} follows position {position}: the events to restore have a gap",
                    event.global_position
                )));
            }
        }
        let same_run = requests
            .last()
            .is_some_and(|r: &AppendRequest| r.stream == event.stream);
        if same_run {
            let version = previous.map_or(0, |(_, v)| v);
            if event.stream_version != version + 1 {
                return Err(StoreError::Restore(format!(
                    "event {} is version {} of stream {} right after version {version}",
                    event.event_id, event.stream_version, event.stream
                )));
            }
        }
        if event.stream_version == 0 {
            return Err(StoreError::Restore(format!(
                "event {} has stream version 0; versions start at 1",
                event.event_id
            )));
        }
        previous = Some((event.global_position, event.stream_version));
        let recorded_at = to_micros(event.recorded_at);
        match (requests.last_mut(), kept.last_mut()) {
            (Some(request), Some(k)) if same_run => {
                request.events.push(event.to_new_event());
                k.recorded_at.push(recorded_at);
            }
            _ => {
                kept.push(Kept {
                    first_position: event.global_position,
                    recorded_at: vec![recorded_at],
                });
                let expected = match event.stream_version {
                    1 => ExpectedVersion::NoStream,
                    v => ExpectedVersion::Exact(v - 1),
                };
                requests.push(AppendRequest::new(
                    event.stream.clone(),
                    expected,
                    vec![event.to_new_event()],
                ));
            }
        }
    }
    Ok((requests, kept))
}
