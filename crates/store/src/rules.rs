//! The append rules every adapter applies the same way: the expected-version check, the
//! idempotent replay of a retried request, and the precision timestamps are kept at.

use crate::{AppendResult, ExpectedVersion, StoreError};
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
