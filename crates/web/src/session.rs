//! Sessions: who is signed in on this browser.
//!
//! A session is a random id held by the server with the identity it was opened for; the
//! browser holds it in a cookie signed with the server's session key (HMAC-SHA256), so a
//! forged or altered cookie is recognised without a lookup. The cookie is `HttpOnly`,
//! `SameSite=Lax`, `Secure` when the request came over https, and has no expiry of its own
//! (it ends with the browser). A session ends after `idle` without a request (30 min by
//! default), when the bearer token it was opened with expires, and at `POST /deconnexion`;
//! every sign-in opens a new one (a session id is never reused). Sessions live in memory:
//! a restart signs everyone out.
//!
//! Every form that writes carries the session's CSRF token, compared in constant time.
//! The sign-in forms, posted before there is a session, carry a token bound to a
//! short-lived pre-session cookie instead (login CSRF).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use suivi_graphql::Identity;

/// The session cookie's name.
pub const COOKIE: &str = "suivi_session";
/// The pre-session cookie the sign-in forms' CSRF token is bound to.
pub const SIGN_IN_COOKIE: &str = "suivi_connexion";
/// At most this many sessions are held; beyond, the least recently used goes.
const MAX_SESSIONS: usize = 100_000;

/// One signed-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    pub identity: Identity,
    /// What the forms of this session carry.
    pub csrf: String,
    /// When the token the session was opened with expires (none for the demo's users).
    pub expires: Option<DateTime<Utc>>,
    last_seen: DateTime<Utc>,
}

pub struct Sessions {
    key: [u8; 32],
    idle: Duration,
    held: Mutex<HashMap<String, Session>>,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equality that takes the same time wherever the first difference lies.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Sessions {
    /// Sessions signed with a fresh random key, ending after `idle` without a request.
    pub fn new(idle: Duration) -> Sessions {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Sessions {
            key,
            idle,
            held: Mutex::new(HashMap::new()),
        }
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    fn mac(&self, purpose: &str, value: &str) -> String {
        // A key of any length is accepted by HMAC.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// `value.signature`, for a cookie.
    fn sign(&self, purpose: &str, value: &str) -> String {
        format!("{value}.{}", self.mac(purpose, value))
    }

    /// The value of a signed cookie, if its signature is ours.
    fn verify<'a>(&self, purpose: &str, signed: &'a str) -> Option<&'a str> {
        let (value, signature) = signed.rsplit_once('.')?;
        same(signature, &self.mac(purpose, value)).then_some(value)
    }

    /// Opens a session for `identity`: the cookie value to set.
    pub fn open(
        &self,
        identity: Identity,
        expires: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> String {
        let id = random_hex();
        let session = Session {
            identity,
            csrf: random_hex(),
            expires,
            last_seen: now,
        };
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.len() >= MAX_SESSIONS {
            self.sweep(&mut held, now);
            if held.len() >= MAX_SESSIONS {
                if let Some(oldest) = held
                    .iter()
                    .min_by_key(|(_, s)| s.last_seen)
                    .map(|(k, _)| k.clone())
                {
                    held.remove(&oldest);
                }
            }
        }
        held.insert(id.clone(), session);
        self.sign("session", &id)
    }

    fn alive(&self, session: &Session, now: DateTime<Utc>) -> bool {
        let idle = chrono::Duration::from_std(self.idle).unwrap_or(chrono::Duration::MAX);
        now - session.last_seen < idle && session.expires.is_none_or(|e| now < e)
    }

    fn sweep(&self, held: &mut HashMap<String, Session>, now: DateTime<Utc>) {
        held.retain(|_, s| self.alive(s, now));
    }

    /// The session a cookie names, if it is alive; a request through it counts as activity.
    pub fn get(&self, cookie: &str, now: DateTime<Utc>) -> Option<Session> {
        let id = self.verify("session", cookie)?;
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let session = held.get_mut(id)?;
        if !self.alive(session, now) {
            held.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    /// Ends the session a cookie names (whatever its state).
    pub fn close(&self, cookie: &str) {
        if let Some(id) = self.verify("session", cookie) {
            self.held
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(id);
        }
    }

    /// A pre-session: the cookie to set and the token its sign-in forms carry.
    pub fn sign_in_token(&self) -> (String, String) {
        let nonce = random_hex();
        let token = self.mac("sign-in", &nonce);
        (self.sign("pre-session", &nonce), token)
    }

    /// Whether a sign-in form's token matches its pre-session cookie.
    pub fn sign_in_token_matches(&self, cookie: &str, token: &str) -> bool {
        self.verify("pre-session", cookie)
            .is_some_and(|nonce| same(token, &self.mac("sign-in", nonce)))
    }

    /// How many sessions are held (alive or not yet swept).
    pub fn len(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, Secure over https.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut out = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        out.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        out.push_str("; Secure");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use suivi_domain::Role;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).expect("a valid instant")
    }

    #[test]
    fn a_session_ends_after_its_idle_time_and_at_sign_out() {
        let sessions = Sessions::new(Duration::from_secs(30 * 60));
        let cookie = sessions.open(Identity::fresh(Role::Teacher), None, at(0));
        assert!(sessions.get(&cookie, at(29)).is_some());
        // Activity at 29 min keeps it for 30 more.
        assert!(sessions.get(&cookie, at(58)).is_some());
        assert!(sessions.get(&cookie, at(89)).is_none());
        let cookie = sessions.open(Identity::fresh(Role::Teacher), None, at(0));
        sessions.close(&cookie);
        assert!(sessions.get(&cookie, at(1)).is_none());
    }

    #[test]
    fn a_session_ends_with_its_token() {
        let sessions = Sessions::new(Duration::from_secs(30 * 60));
        let cookie = sessions.open(Identity::fresh(Role::Guardian), Some(at(5)), at(0));
        assert!(sessions.get(&cookie, at(4)).is_some());
        assert!(sessions.get(&cookie, at(5)).is_none());
    }

    #[test]
    fn an_altered_cookie_opens_nothing() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let cookie = sessions.open(Identity::fresh(Role::Pupil), None, at(0));
        let (id, mac) = cookie.rsplit_once('.').expect("signed");
        let mut forged = id.to_owned();
        forged.replace_range(0..1, if id.starts_with('0') { "1" } else { "0" });
        assert!(sessions.get(&format!("{forged}.{mac}"), at(0)).is_none());
        assert!(sessions.get(id, at(0)).is_none());
        // Another server's key does not verify ours.
        let other = Sessions::new(Duration::from_secs(60));
        assert!(other.get(&cookie, at(0)).is_none());
        assert!(sessions.get(&cookie, at(0)).is_some());
    }

    #[test]
    fn every_sign_in_gets_a_new_id() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let identity = Identity::fresh(Role::Admin);
        let a = sessions.open(identity.clone(), None, at(0));
        let b = sessions.open(identity, None, at(0));
        assert_ne!(a, b);
        assert_eq!(sessions.len(), 2);
    }

    #[test]
    fn the_sign_in_token_is_bound_to_its_cookie() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let (cookie, token) = sessions.sign_in_token();
        let (other_cookie, other_token) = sessions.sign_in_token();
        assert!(sessions.sign_in_token_matches(&cookie, &token));
        assert!(!sessions.sign_in_token_matches(&cookie, &other_token));
        assert!(!sessions.sign_in_token_matches(&other_cookie, &token));
        assert!(!sessions.sign_in_token_matches(&cookie, ""));
    }

    #[test]
    fn cookies_are_read_and_written() {
        assert_eq!(cookie("a=1; suivi_session=x.y; b=2", COOKIE), Some("x.y"));
        assert_eq!(cookie("a=1", COOKIE), None);
        assert_eq!(
            set_cookie(COOKIE, "v", true, None),
            "suivi_session=v; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
    }
}
