//! What one request may cost, and how fast one identity may write.
//!
//! Queries: a depth and a complexity limit (every field, aliased or not, counts one, so
//! a thousand aliases of one field cost a thousand), at most `MAX_BATCH` operations in a
//! batched request, a body of at most `MAX_BODY_BYTES`, and `REQUEST_TIMEOUT` to answer.
//! Introspection is off unless the server runs in demo mode or is told otherwise.
//!
//! Mutations: a token bucket per identity (subject and school): `burst` writes at once,
//! refilled at `per_second`. An importer of a whole school uses `suivi import`, not the API.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use suivi_domain::ids::SchoolId;
use uuid::Uuid;

pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 1_000;
pub const MAX_BATCH: usize = 16;
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest name, external id or contact field a mutation takes (in characters): names
/// are sealed before they reach the domain, so their length is checked here.
pub const MAX_NAME_CHARS: usize = 200;

/// `BAD_USER_INPUT` when `value` is longer than `max` characters (the message gives the
/// length, never the value).
pub fn text_within(field: &str, value: &str, max: usize) -> Result<(), async_graphql::Error> {
    let length = value.chars().count();
    if length > max {
        return Err(crate::errors::bad_input(format!(
            "{field} is {length} characters long; at most {max}"
        )));
    }
    Ok(())
}

/// How the server limits requests; `Limits::default()` is what `suivi serve` uses.
#[derive(Clone, Debug)]
pub struct Limits {
    pub introspection: bool,
    /// Mutations one identity may send at once…
    pub burst: u32,
    /// …and per second after that.
    pub per_second: u32,
    /// Serve a repeated query from the answer cache (`crate::answers`) while nothing it
    /// was computed from has moved. Off: every query is computed.
    pub answer_cache: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            introspection: true,
            burst: 200,
            per_second: 100,
            answer_cache: true,
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by identity.
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<(Uuid, SchoolId), Bucket>>,
}

/// The identity spent its budget: retry after this long.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limited {
    pub retry_after: Duration,
}

impl RateLimiter {
    pub fn new(burst: u32, per_second: u32) -> Self {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_second.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `who` at `now`.
    pub fn take(&self, who: (Uuid, SchoolId), now: Instant) -> Result<(), Limited> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget identities idle long enough to be full again, so the map stays small.
        if buckets.len() > 10_000 {
            let full_after = Duration::from_secs_f64(self.burst / self.per_second);
            buckets.retain(|_, b| now.duration_since(b.at) < full_after);
        }
        let bucket = buckets.entry(who).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err(Limited {
                retry_after: Duration::from_secs_f64(missing / self.per_second),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(n: u128) -> (Uuid, SchoolId) {
        (Uuid::from_u128(n), SchoolId(Uuid::from_u128(1)))
    }

    #[test]
    fn a_burst_then_the_refill_rate() {
        let limiter = RateLimiter::new(3, 2);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(who(1), t0), Ok(()));
        }
        let refused = limiter.take(who(1), t0).unwrap_err();
        // One token at 2 per second: half a second.
        assert!((refused.retry_after.as_secs_f64() - 0.5).abs() < 1e-9);
        // Another identity has its own bucket.
        assert_eq!(limiter.take(who(2), t0), Ok(()));
        // After 0.5 s exactly one more write is allowed.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(limiter.take(who(1), t1), Ok(()));
        assert!(limiter.take(who(1), t1).is_err());
        // Idle long enough, the bucket is full again but never above the burst.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.take(who(1), t2), Ok(()));
        }
        assert!(limiter.take(who(1), t2).is_err());
    }
}
