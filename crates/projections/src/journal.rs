//! Journals: the decoded events that concern one class, one pupil, or the reference data,
//! kept so that a dashboard can be re-folded *as of* an instant without reading the store
//! again, and so that time on task can be summed over any date range.
//!
//! A journal is append-only and copy-on-write: full chunks of `CHUNK` events are frozen
//! behind an `Arc<[Logged]>`, and only the open tail (fewer than `CHUNK` events) is copied
//! when a published snapshot still shares it. Cloning a journal costs two `Arc` clones.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use suivi_domain::ids::SchoolId;
use suivi_domain::{Event, RecordedEvent};

const CHUNK: usize = 256;

/// An event decoded once, with the envelope fields the projections read.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    pub position: u64,
    pub occurred_at: DateTime<Utc>,
    pub school_id: SchoolId,
    pub event: Event,
}

impl Logged {
    /// Decodes a stored event (upcasting older shapes).
    pub fn decode(recorded: &RecordedEvent) -> Result<Logged, suivi_domain::DecodeError> {
        Ok(Logged {
            position: recorded.global_position,
            occurred_at: recorded.occurred_at,
            school_id: recorded.school_id,
            event: recorded.decode()?,
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Journal {
    sealed: Arc<Vec<Arc<[Logged]>>>,
    tail: Arc<Vec<Logged>>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            sealed: Arc::new(Vec::new()),
            tail: Arc::new(Vec::new()),
        }
    }
}

impl Journal {
    pub(crate) fn push(&mut self, logged: Logged) {
        let tail = Arc::make_mut(&mut self.tail);
        tail.push(logged);
        if tail.len() >= CHUNK {
            let full: Arc<[Logged]> = std::mem::take(tail).into();
            Arc::make_mut(&mut self.sealed).push(full);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.sealed.len() * CHUNK + self.tail.len()
    }

    /// Events in log order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Logged> + '_ {
        self.sealed
            .iter()
            .flat_map(|chunk| chunk.iter())
            .chain(self.tail.iter())
    }

    /// Events in log order that had occurred by `as_of` (all of them for `None`).
    pub(crate) fn visible(&self, as_of: Option<DateTime<Utc>>) -> impl Iterator<Item = &Logged> {
        self.iter()
            .filter(move |l| as_of.is_none_or(|t| l.occurred_at <= t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suivi_domain::events::SessionEnded;
    use suivi_domain::ids::SessionId;
    use uuid::Uuid;

    fn logged(position: u64) -> Logged {
        Logged {
            position,
            occurred_at: DateTime::<Utc>::from_timestamp(position as i64, 0).unwrap_or_default(),
            school_id: SchoolId(Uuid::nil()),
            event: Event::SessionEnded(SessionEnded {
                session_id: SessionId(Uuid::nil()),
                ended_at: DateTime::<Utc>::UNIX_EPOCH,
            }),
        }
    }

    #[test]
    fn shared_snapshots_keep_their_view() {
        let mut journal = Journal::default();
        let mut snapshots = Vec::new();
        for p in 1..=600 {
            journal.push(logged(p));
            if p % 97 == 0 {
                snapshots.push((p, journal.clone()));
            }
        }
        assert_eq!(journal.len(), 600);
        let positions: Vec<u64> = journal.iter().map(|l| l.position).collect();
        assert_eq!(positions, (1..=600).collect::<Vec<_>>());
        for (p, snapshot) in snapshots {
            assert_eq!(snapshot.len() as u64, p);
            assert_eq!(snapshot.iter().last().map(|l| l.position), Some(p));
        }
        let as_of = DateTime::<Utc>::from_timestamp(300, 0);
        assert_eq!(journal.visible(as_of).count(), 300);
    }
}
