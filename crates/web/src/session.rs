//! Sessions: who is signed in on this browser.
//!
//! A session is a random id held by the server with the identity it was opened for; the
//! browser holds it in a cookie signed with the deployment's session key (HMAC-SHA256), so
//! a forged or altered cookie is recognised without a lookup. The cookie is `HttpOnly`,
//! `SameSite=Lax`, `Secure` when the request came over https, and has no expiry of its own
//! (it ends with the browser). A session ends after `idle` without a request (30 min by
//! default), `absolute` after it opened whatever the activity (12 h), when the bearer token
//! it was opened with expires, at `POST /deconnexion`, and — for a sign-in through the
//! school's provider — as soon as the administrator unlinks the account (checked at every
//! request, so on every server). Every sign-in opens a new one (an id is never reused).
//!
//! Sessions are kept beside the log (`suivi_store::sessions`): in a file next to the
//! embedded store, in the PostgreSQL database otherwise, so a restart signs nobody out and
//! every server of a deployment knows every session; the table holds the SHA-256 of each
//! id, not the id. The key is kept there too, so every server signs alike. Activity is
//! written at most once a minute per session.
//!
//! Every form that writes carries the session's CSRF token, compared in constant time.
//! The sign-in forms, posted before there is a session, carry a token bound to a
//! short-lived pre-session cookie instead (login CSRF).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use suivi_domain::ids::{ClassId, PupilId, SchoolId};
use suivi_domain::Role;
use suivi_graphql::identity::Within;
use suivi_graphql::Identity;
use suivi_store::sessions::{SessionRow, SessionTable};
use suivi_store::StoreError;
use uuid::Uuid;

/// The session cookie's name.
pub const COOKIE: &str = "suivi_session";
/// The pre-session cookie the sign-in forms' CSRF token is bound to.
pub const SIGN_IN_COOKIE: &str = "suivi_connexion";
/// The default absolute lifetime of a session.
pub const DEFAULT_ABSOLUTE: Duration = Duration::from_secs(12 * 3600);
/// Activity is recorded at most this often per session.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// Ended sessions and sign-ins are swept at most this often (at a sign-in, or one starting).
const SWEEP_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// The provider account a session was opened through (OpenID Connect).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub provider: String,
    pub subject: String,
}

/// One signed-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    pub identity: Identity,
    /// What the forms of this session carry.
    pub csrf: String,
    /// When the token the session was opened with expires (none for the demo's users and
    /// the provider's sign-ins).
    pub expires: Option<DateTime<Utc>>,
    pub link: Option<Link>,
    /// The SHA-256 of the id, as the table knows it.
    key: String,
}

/// What a row's `data` holds.
#[derive(Serialize, Deserialize)]
struct Stored {
    role: String,
    subject: Uuid,
    school: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    classes: Option<Vec<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pupils: Option<Vec<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    link: Option<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires: Option<DateTime<Utc>>,
}

impl Stored {
    fn of(identity: &Identity, link: Option<Link>, expires: Option<DateTime<Utc>>) -> Stored {
        Stored {
            role: suivi_graphql::jwt::role_claim(identity.role).to_owned(),
            subject: identity.subject_id,
            school: identity.school_id.0,
            classes: identity
                .within
                .classes
                .as_ref()
                .map(|c| c.iter().map(|c| c.0).collect()),
            pupils: identity
                .within
                .pupils
                .as_ref()
                .map(|p| p.iter().map(|p| p.0).collect()),
            link,
            expires,
        }
    }

    fn identity(&self) -> Option<Identity> {
        let role: Role = suivi_graphql::jwt::parse_role(&self.role).ok()?;
        Some(Identity {
            role,
            subject_id: self.subject,
            school_id: SchoolId(self.school),
            within: Within {
                classes: self
                    .classes
                    .as_ref()
                    .map(|c| c.iter().copied().map(ClassId).collect()),
                pupils: self
                    .pupils
                    .as_ref()
                    .map(|p| p.iter().copied().map(PupilId).collect()),
            },
        })
    }
}

pub struct Sessions {
    key: [u8; 32],
    idle: Duration,
    absolute: Duration,
    table: SessionTable,
    last_sweep: AtomicI64,
}

/// 32 random bytes in hex: session ids, CSRF tokens, OpenID `state`, `nonce`, PKCE verifiers.
pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// 32 random bytes: a new deployment's session key.
pub fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    key
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 (hex) under which the store keeps a session or a sign-in under way.
pub(crate) fn digest(id: &str) -> String {
    hex(&Sha256::digest(id.as_bytes()))
}

/// Equality that takes the same time wherever the first difference lies.
pub fn same(a: &str, b: &str) -> bool {
    suivi_graphql::oidc::same(a, b)
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Sessions {
    /// Sessions kept in `table`, signed with `key`.
    pub fn new(table: SessionTable, key: [u8; 32], idle: Duration, absolute: Duration) -> Sessions {
        Sessions {
            key,
            idle,
            absolute,
            table,
            last_sweep: AtomicI64::new(0),
        }
    }

    /// Sessions in memory with a fresh random key (tests, `memory:` stores).
    pub fn in_memory(idle: Duration) -> Sessions {
        Sessions::new(
            SessionTable::in_memory(),
            random_key(),
            idle,
            DEFAULT_ABSOLUTE,
        )
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    pub fn table(&self) -> &SessionTable {
        &self.table
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
    pub(crate) fn sign(&self, purpose: &str, value: &str) -> String {
        format!("{value}.{}", self.mac(purpose, value))
    }

    /// The value of a signed cookie, if its signature is ours.
    pub(crate) fn verify<'a>(&self, purpose: &str, signed: &'a str) -> Option<&'a str> {
        let (value, signature) = signed.rsplit_once('.')?;
        same(signature, &self.mac(purpose, value)).then_some(value)
    }

    /// Opens a session for `identity`: the cookie value to set.
    pub async fn open(
        &self,
        identity: Identity,
        link: Option<Link>,
        expires: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let id = random_hex();
        let data = serde_json::to_string(&Stored::of(&identity, link, expires))
            .map_err(|e| StoreError::Backend(format!("a session: {e}")))?;
        let ends_at = now + to_chrono(self.absolute);
        self.table
            .insert(&SessionRow {
                id: digest(&id),
                data,
                csrf: random_hex(),
                created_at: now,
                last_seen: now,
                ends_at: expires.map_or(ends_at, |e| e.min(ends_at)),
            })
            .await?;
        self.sweep_if_due(now).await;
        Ok(self.sign("session", &id))
    }

    /// Deletes ended sessions and sign-ins under way that ended, at most once a minute: the
    /// table stays the size of what is alive, even when sign-ins are started and never
    /// finished.
    pub async fn sweep_if_due(&self, now: DateTime<Utc>) {
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.timestamp() - last < SWEEP_EVERY.num_seconds()
            || self
                .last_sweep
                .compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Err(error) = self.table.sweep(now - to_chrono(self.idle), now).await {
            tracing::warn!(%error, "sweeping ended sessions failed");
        }
    }

    /// The session a cookie names, if it is alive; a request through it counts as activity.
    pub async fn get(&self, cookie: &str, now: DateTime<Utc>) -> Option<Session> {
        let id = self.verify("session", cookie)?;
        let key = digest(id);
        let row = match self.table.get(&key).await {
            Ok(row) => row?,
            Err(error) => {
                tracing::error!(%error, "reading a session failed: treated as signed out");
                return None;
            }
        };
        let alive = now - row.last_seen < to_chrono(self.idle) && now < row.ends_at;
        let stored: Option<Stored> = serde_json::from_str(&row.data).ok();
        let Some((stored, identity)) =
            stored.and_then(|s| s.identity().map(|identity| (s, identity)))
        else {
            self.end(&key).await;
            return None;
        };
        if !alive {
            self.end(&key).await;
            return None;
        }
        if now - row.last_seen >= TOUCH_EVERY {
            if let Err(error) = self.table.touch(&key, now).await {
                tracing::warn!(%error, "recording a session's activity failed");
            }
        }
        Some(Session {
            identity,
            csrf: row.csrf,
            expires: stored.expires,
            link: stored.link,
            key,
        })
    }

    async fn end(&self, key: &str) {
        if let Err(error) = self.table.remove(key).await {
            tracing::error!(%error, "ending a session failed");
        }
    }

    /// Ends the session a cookie names (whatever its state).
    pub async fn close(&self, cookie: &str) {
        if let Some(id) = self.verify("session", cookie) {
            self.end(&digest(id)).await;
        }
    }

    /// Ends a session found by `get` (an unlinked account's).
    pub async fn close_session(&self, session: &Session) {
        self.end(&session.key).await;
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

    /// How many sessions are kept (alive or not yet swept).
    pub async fn count(&self) -> u64 {
        self.table.count().await.unwrap_or(0)
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

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).expect("a valid instant")
    }

    async fn open(
        sessions: &Sessions,
        identity: Identity,
        expires: Option<DateTime<Utc>>,
    ) -> String {
        sessions
            .open(identity, None, expires, at(0))
            .await
            .expect("a session")
    }

    #[tokio::test]
    async fn a_session_ends_after_its_idle_time_and_at_sign_out() {
        let sessions = Sessions::in_memory(Duration::from_secs(30 * 60));
        let cookie = open(&sessions, Identity::fresh(Role::Teacher), None).await;
        assert!(sessions.get(&cookie, at(29)).await.is_some());
        // Activity at 29 min keeps it for 30 more.
        assert!(sessions.get(&cookie, at(58)).await.is_some());
        assert!(sessions.get(&cookie, at(89)).await.is_none());
        let cookie = open(&sessions, Identity::fresh(Role::Teacher), None).await;
        sessions.close(&cookie).await;
        assert!(sessions.get(&cookie, at(1)).await.is_none());
    }

    #[tokio::test]
    async fn a_session_ends_after_twelve_hours_whatever_the_activity() {
        let sessions = Sessions::in_memory(Duration::from_secs(30 * 60));
        let cookie = open(&sessions, Identity::fresh(Role::Guardian), None).await;
        for minute in (20..720).step_by(20) {
            assert!(
                sessions.get(&cookie, at(minute)).await.is_some(),
                "{minute}"
            );
        }
        assert!(sessions.get(&cookie, at(720)).await.is_none());
    }

    #[tokio::test]
    async fn a_session_ends_with_its_token() {
        let sessions = Sessions::in_memory(Duration::from_secs(30 * 60));
        let cookie = open(&sessions, Identity::fresh(Role::Guardian), Some(at(5))).await;
        assert!(sessions.get(&cookie, at(4)).await.is_some());
        assert!(sessions.get(&cookie, at(5)).await.is_none());
    }

    #[tokio::test]
    async fn an_altered_cookie_opens_nothing() {
        let sessions = Sessions::in_memory(Duration::from_secs(60));
        let cookie = open(&sessions, Identity::fresh(Role::Pupil), None).await;
        let (id, mac) = cookie.rsplit_once('.').expect("signed");
        let mut forged = id.to_owned();
        forged.replace_range(0..1, if id.starts_with('0') { "1" } else { "0" });
        assert!(sessions
            .get(&format!("{forged}.{mac}"), at(0))
            .await
            .is_none());
        assert!(sessions.get(id, at(0)).await.is_none());
        // Another deployment's key does not verify ours.
        let other = Sessions::in_memory(Duration::from_secs(60));
        assert!(other.get(&cookie, at(0)).await.is_none());
        assert!(sessions.get(&cookie, at(0)).await.is_some());
    }

    #[tokio::test]
    async fn every_sign_in_gets_a_new_id() {
        let sessions = Sessions::in_memory(Duration::from_secs(60));
        let identity = Identity::fresh(Role::Admin);
        let a = open(&sessions, identity.clone(), None).await;
        let b = open(&sessions, identity, None).await;
        assert_ne!(a, b);
        assert_eq!(sessions.count().await, 2);
    }

    #[tokio::test]
    async fn the_table_holds_digests_and_two_servers_share_it() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.db.sessions");
        let table = SessionTable::open(&path).expect("table");
        let key = table.key_or(random_key()).await.expect("key");
        let first = Sessions::new(table, key, Duration::from_secs(60), DEFAULT_ABSOLUTE);
        let mut identity = Identity::fresh(Role::Teacher);
        identity.within.classes = Some(vec![ClassId(Uuid::now_v7())]);
        let link = Link {
            provider: "https://ent.test".to_owned(),
            subject: "prof-1".to_owned(),
        };
        let cookie = first
            .open(identity.clone(), Some(link.clone()), None, at(0))
            .await
            .expect("open");
        let id = cookie.rsplit_once('.').expect("signed").0;
        // The row is found by the id's digest; the id itself is nowhere in the table.
        assert!(first.table().get(id).await.expect("get").is_none());
        assert!(first.table().get(&digest(id)).await.expect("get").is_some());
        // A second server on the same file, keeping the key it finds there.
        let table = SessionTable::open(&path).expect("table");
        let key = table.key_or(random_key()).await.expect("key");
        let second = Sessions::new(table, key, Duration::from_secs(60), DEFAULT_ABSOLUTE);
        let session = second.get(&cookie, at(0)).await.expect("the same session");
        assert_eq!(session.identity, identity);
        assert_eq!(session.link, Some(link));
        second.close(&cookie).await;
        assert!(first.get(&cookie, at(0)).await.is_none());
    }

    #[tokio::test]
    async fn the_sign_in_token_is_bound_to_its_cookie() {
        let sessions = Sessions::in_memory(Duration::from_secs(60));
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
