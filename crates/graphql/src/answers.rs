//! The answer cache: the whole JSON answer of a query, served again to the same identity
//! sending the same request while nothing it was computed from has moved.
//!
//! A query's answer is a function of the request's bytes, the identity, the read models'
//! snapshot, the pupils' keys (names) and, for some fields, the clock. An answer is kept
//! only when:
//! - the request is one operation (not a batch) and its document holds only queries;
//! - it was answered without any error;
//! - every resolver saw the same snapshot: the snapshot's position is the same before and
//!   after the execution (positions only grow, so nothing in between differed);
//! - no resolver read the clock to the instant (homework lateness, live statuses) nor read
//!   anything kept outside the snapshot (the access journal). Reading only today's date
//!   (which class year, which period) keeps the answer for that UTC day.
//!
//! It is served while the snapshot position and the key ring's generation (moved by every
//! erasure in this process) are those it was computed on, on the same UTC day for a
//! date-dependent answer, and for at most the key ring's TTL: an erasure made by another
//! process reaches cached answers when it reaches cached names. Serving an answer replays
//! the access-journal records its execution made, at the time of the hit, so a staff read
//! is journaled whether it was computed or served.
//!
//! What each resolver read is recorded in a `Trace`, a task-local set around the
//! execution (async-graphql runs every resolver of a request in the request's task). A
//! resolver reads the clock through `common::Now`, which marks the trace; the projections
//! never read the clock. Outside a traced request (subscriptions, `suivi query`) the marks
//! go nowhere.
//!
//! Bounded: at most `MAX_ENTRIES` answers and `MAX_BYTES` bytes; a newer snapshot drops
//! every answer.

use crate::identity::Identity;
use axum::body::Bytes;
use chrono::{NaiveDate, Utc};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use suivi_domain::ids::PupilId;

pub const MAX_ENTRIES: usize = 4_096;
pub const MAX_BYTES: usize = 64 << 20;

/// How finely an answer depends on the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum ClockUse {
    None = 0,
    Day = 1,
    Instant = 2,
}

/// What one request's resolvers read, beyond the snapshot.
#[derive(Default)]
pub struct Trace {
    clock: AtomicU8,
    outside: AtomicBool,
    journaled: Mutex<Vec<PupilId>>,
}

impl Trace {
    fn clock(&self) -> ClockUse {
        match self.clock.load(Ordering::Acquire) {
            0 => ClockUse::None,
            1 => ClockUse::Day,
            _ => ClockUse::Instant,
        }
    }
}

tokio::task_local! {
    static TRACE: Arc<Trace>;
}

/// Runs `work` with `trace` recording what it reads.
pub async fn traced<F: Future>(trace: Arc<Trace>, work: F) -> F::Output {
    TRACE.scope(trace, work).await
}

/// A resolver read the clock (`Day`: only today's date; `Instant`: the time of day too).
pub fn clock_read(used: ClockUse) {
    let _ = TRACE.try_with(|t| t.clock.fetch_max(used as u8, Ordering::AcqRel));
}

/// A resolver read something the snapshot does not hold (the access journal).
pub fn outside_snapshot() {
    let _ = TRACE.try_with(|t| t.outside.store(true, Ordering::Release));
}

/// A staff read of `pupil`'s file was journaled: a served copy must journal it again.
pub fn journaled(pupil: PupilId) {
    let _ = TRACE.try_with(|t| {
        t.journaled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pupil)
    });
}

/// The state an answer was computed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Basis {
    /// The read models' position.
    pub position: u64,
    /// The key ring's generation.
    pub keys: u64,
}

impl Basis {
    /// Whether `self` is a later state than `other` (a request that read its basis just
    /// before a newer one was installed must not send the cache back).
    fn is_after(self, other: Basis) -> bool {
        self.position >= other.position && self.keys >= other.keys
    }
}

#[derive(PartialEq, Eq, Hash)]
struct Key {
    who: Identity,
    body: Bytes,
}

/// A kept answer.
pub struct Answer {
    pub body: Bytes,
    /// The staff reads to journal again when it is served.
    pub journaled: Vec<PupilId>,
    /// The UTC day it holds for, when it read today's date.
    day: Option<NaiveDate>,
    made: Instant,
}

#[derive(Default)]
struct Entries {
    basis: Option<Basis>,
    answers: HashMap<Key, Arc<Answer>>,
    bytes: usize,
}

/// Counts since the server started.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerStats {
    pub hits: u64,
    pub misses: u64,
    pub kept: u64,
}

pub struct AnswerCache {
    enabled: bool,
    max_age: Duration,
    entries: Mutex<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
    kept: AtomicU64,
}

impl AnswerCache {
    /// A cache whose answers live at most `max_age` (the key ring's TTL); `enabled: false`
    /// keeps nothing (`suivi serve --no-answer-cache`, and the cold-path benchmark).
    pub fn new(enabled: bool, max_age: Duration) -> AnswerCache {
        AnswerCache {
            enabled,
            max_age,
            entries: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            kept: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn stats(&self) -> AnswerStats {
        AnswerStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            kept: self.kept.load(Ordering::Relaxed),
        }
    }

    /// The kept answer to `body` from `who`, if it still holds on `basis`.
    pub fn get(&self, who: &Identity, body: &Bytes, basis: Basis) -> Option<Arc<Answer>> {
        if !self.enabled {
            return None;
        }
        let found = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if entries.basis != Some(basis) {
                if entries.basis.is_none_or(|kept| basis.is_after(kept)) {
                    // Everything kept was computed on an older state.
                    *entries = Entries {
                        basis: Some(basis),
                        ..Entries::default()
                    };
                }
                None
            } else {
                // The key borrows nothing: building it clones an Arc'd body and the
                // identity's few ids.
                let key = Key {
                    who: who.clone(),
                    body: body.clone(),
                };
                entries.answers.get(&key).cloned()
            }
        };
        let fresh = found.filter(|a| {
            a.made.elapsed() < self.max_age && a.day.is_none_or(|d| d == Utc::now().date_naive())
        });
        match fresh {
            Some(_) => &self.hits,
            None => &self.misses,
        }
        .fetch_add(1, Ordering::Relaxed);
        fresh
    }

    /// Keeps `answer` to `body` from `who`, computed on `basis` with `trace`, if it may be
    /// kept (see the module's rules; the caller checked the request's shape and errors).
    pub fn keep(&self, who: &Identity, body: Bytes, basis: Basis, trace: &Trace, answer: Bytes) {
        if !self.enabled || trace.outside.load(Ordering::Acquire) {
            return;
        }
        let day = match trace.clock() {
            ClockUse::None => None,
            ClockUse::Day => Some(Utc::now().date_naive()),
            ClockUse::Instant => return,
        };
        let size = body.len() + answer.len();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.basis != Some(basis)
            || entries.answers.len() >= MAX_ENTRIES
            || entries.bytes + size > MAX_BYTES
        {
            return;
        }
        let journaled =
            std::mem::take(&mut *trace.journaled.lock().unwrap_or_else(|e| e.into_inner()));
        entries.bytes += size;
        entries.answers.insert(
            Key {
                who: who.clone(),
                body,
            },
            Arc::new(Answer {
                body: answer,
                journaled,
                day,
                made: Instant::now(),
            }),
        );
        drop(entries);
        self.kept.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whether a request's document holds only queries. Parsed through the request, which
/// keeps the document for its execution: a query is parsed once either way.
pub fn only_queries(request: &mut async_graphql::Request) -> bool {
    use async_graphql::parser::types::OperationType;
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    document
        .operations
        .iter()
        .all(|(_, op)| op.node.ty == OperationType::Query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use suivi_domain::Role;
    use uuid::Uuid;

    fn who(role: Role) -> Identity {
        Identity::fresh(role)
    }

    fn basis(position: u64) -> Basis {
        Basis { position, keys: 0 }
    }

    #[test]
    fn an_answer_is_served_to_its_identity_on_its_basis_only() {
        let cache = AnswerCache::new(true, Duration::from_secs(60));
        let (admin, other) = (who(Role::Admin), who(Role::Admin));
        let body = Bytes::from_static(b"{\"query\":\"{ school { id } }\"}");
        let trace = Trace::default();
        assert!(cache.get(&admin, &body, basis(7)).is_none());
        cache.keep(
            &admin,
            body.clone(),
            basis(7),
            &trace,
            Bytes::from_static(b"A"),
        );
        let hit = cache.get(&admin, &body, basis(7)).expect("kept");
        assert_eq!(&hit.body[..], b"A");
        // Another user, another body, another position, another key generation: missed.
        assert!(cache.get(&other, &body, basis(7)).is_none());
        let other_body = Bytes::from_static(b"{\"query\":\"{ school { name } }\"}");
        assert!(cache.get(&admin, &other_body, basis(7)).is_none());
        let erased = Basis {
            position: 7,
            keys: 1,
        };
        assert!(cache.get(&admin, &body, erased).is_none());
        // The basis moved: what was kept on 7 is gone even back on 7.
        assert!(cache.get(&admin, &body, basis(7)).is_none());
        assert_eq!(
            cache.stats(),
            AnswerStats {
                hits: 1,
                misses: 5,
                kept: 1
            }
        );
    }

    #[test]
    fn clock_and_journal_reads_decide_what_is_kept() {
        let cache = AnswerCache::new(true, Duration::from_secs(60));
        let admin = who(Role::Admin);
        let body = |n: u8| Bytes::from(vec![n]);
        let pupil = PupilId(Uuid::now_v7());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let trace_of = |reads: &dyn Fn()| {
            let trace = Arc::new(Trace::default());
            runtime.block_on(traced(trace.clone(), async { reads() }));
            trace
        };
        let day = trace_of(&|| clock_read(ClockUse::Day));
        let instant = trace_of(&|| {
            clock_read(ClockUse::Instant);
            clock_read(ClockUse::Day)
        });
        let journal = trace_of(&|| outside_snapshot());
        let staff_read = trace_of(&|| journaled(pupil));
        for (n, trace) in [&day, &instant, &journal, &staff_read]
            .into_iter()
            .enumerate()
        {
            cache.get(&admin, &body(n as u8), basis(1));
            cache.keep(
                &admin,
                body(n as u8),
                basis(1),
                trace,
                Bytes::from_static(b"x"),
            );
        }
        assert!(
            cache.get(&admin, &body(0), basis(1)).is_some(),
            "a date read is kept for the day"
        );
        assert!(
            cache.get(&admin, &body(1), basis(1)).is_none(),
            "an instant read is never kept"
        );
        assert!(
            cache.get(&admin, &body(2), basis(1)).is_none(),
            "a journal read is never kept"
        );
        let served = cache
            .get(&admin, &body(3), basis(1))
            .expect("a staff read is kept");
        assert_eq!(served.journaled, vec![pupil]);
        // Marks outside a traced task go nowhere (and do not panic).
        clock_read(ClockUse::Instant);
        journaled(pupil);
    }

    #[test]
    fn answers_expire_and_a_disabled_cache_keeps_nothing() {
        let admin = who(Role::Admin);
        let body = Bytes::from_static(b"q");
        let expiring = AnswerCache::new(true, Duration::ZERO);
        expiring.get(&admin, &body, basis(1));
        expiring.keep(
            &admin,
            body.clone(),
            basis(1),
            &Trace::default(),
            body.clone(),
        );
        assert!(expiring.get(&admin, &body, basis(1)).is_none());
        let off = AnswerCache::new(false, Duration::from_secs(60));
        off.get(&admin, &body, basis(1));
        off.keep(
            &admin,
            body.clone(),
            basis(1),
            &Trace::default(),
            body.clone(),
        );
        assert!(off.get(&admin, &body, basis(1)).is_none());
        assert_eq!(off.stats(), AnswerStats::default());
    }

    #[test]
    fn only_query_documents_may_be_kept() {
        let q = |s: &str| async_graphql::Request::new(s);
        assert!(only_queries(&mut q("{ school { id } }")));
        assert!(only_queries(&mut q(
            "query A { school { id } } query B { classes { id } }"
        )));
        assert!(!only_queries(&mut q(
            "mutation { erasePupil(pupilId: \"x\") { keyDestroyed } }"
        )));
        assert!(!only_queries(&mut q(
            "query A { school { id } } mutation B { x }"
        )));
        assert!(!only_queries(&mut q(
            "subscription { events { position } }"
        )));
        assert!(!only_queries(&mut q("{ unclosed")));
    }
}
