//! Versioned, checksummed schema migrations for the PostgreSQL store.
//!
//! Each migration is applied once, in its own transaction, and recorded with the SHA-256 of
//! its SQL. A database whose recorded checksum differs from ours (someone edited a shipped
//! migration) or whose schema is newer than this binary knows is refused.

use crate::StoreError;
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "event log, streams and key table",
        sql: r#"
CREATE TABLE streams (
    id      BIGSERIAL PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL
);
CREATE TABLE events (
    global_position BIGINT PRIMARY KEY,
    stream_id       BIGINT NOT NULL REFERENCES streams (id),
    stream_version  BIGINT NOT NULL,
    event_id        UUID NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    schema_version  SMALLINT NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    school_id       UUID NOT NULL,
    actor           TEXT NOT NULL,
    correlation_id  UUID,
    causation_id    UUID,
    -- json (not jsonb) keeps the payload's text byte for byte.
    payload         JSON NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE TABLE pupil_keys (
    pupil_id UUID PRIMARY KEY,
    key      BYTEA NOT NULL
);
"#,
    },
    Migration {
        version: 2,
        name: "access journal",
        sql: r#"
-- Who on the staff opened which pupil's file, and when (kept beside the log, not in it).
CREATE TABLE access_journal (
    id       BIGSERIAL PRIMARY KEY,
    at       TIMESTAMPTZ NOT NULL,
    actor    TEXT NOT NULL,
    pupil_id UUID NOT NULL
);
CREATE INDEX access_journal_pupil ON access_journal (pupil_id, at);
"#,
    },
    Migration {
        version: 3,
        name: "sign-in sessions",
        sql: r#"
-- The pages' sessions, shared by every server (see suivi_store::sessions). `id` is the
-- SHA-256 of the session id the cookie carries.
CREATE TABLE web_sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE sign_in_flows (
    id      TEXT PRIMARY KEY,
    data    TEXT NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE session_key (
    id  SMALLINT PRIMARY KEY CHECK (id = 1),
    key BYTEA NOT NULL
);
"#,
    },
];

pub fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn backend(e: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!("postgres: {e}"))
}

/// The schema version this binary needs.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

async fn ensure_table(client: &Client) -> Result<(), StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS suivi_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                checksum   TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(backend)
}

/// The versions recorded in the database, checked against the migrations we ship.
pub async fn applied(client: &Client) -> Result<Vec<i32>, StoreError> {
    ensure_table(client).await?;
    let rows = client
        .query(
            "SELECT version, checksum FROM suivi_migrations ORDER BY version",
            &[],
        )
        .await
        .map_err(backend)?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in rows {
        let version: i32 = row.get(0);
        let recorded: String = row.get(1);
        match MIGRATIONS.iter().find(|m| m.version == version) {
            None => {
                return Err(StoreError::Backend(format!(
                    "the database schema is at version {version}, newer than this suivi knows (up to {}); upgrade suivi",
                    latest()
                )))
            }
            Some(m) if checksum(m.sql) != recorded => {
                return Err(StoreError::Corrupt(format!(
                    "migration {version} ({}) was applied with checksum {recorded} but this suivi ships {}",
                    m.name,
                    checksum(m.sql)
                )))
            }
            Some(_) => versions.push(version),
        }
    }
    Ok(versions)
}

/// Applies every missing migration; returns the versions applied now.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>, StoreError> {
    // One migrator at a time across servers.
    client
        .batch_execute("SELECT pg_advisory_lock(7346291)")
        .await
        .map_err(backend)?;
    let result = apply_missing(client).await;
    let unlock = client
        .batch_execute("SELECT pg_advisory_unlock(7346291)")
        .await
        .map_err(backend);
    let done = result?;
    unlock?;
    Ok(done)
}

async fn apply_missing(client: &mut Client) -> Result<Vec<i32>, StoreError> {
    let applied = applied(client).await?;
    let mut done = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let tx = client.transaction().await.map_err(backend)?;
        tx.batch_execute(m.sql).await.map_err(backend)?;
        tx.execute(
            "INSERT INTO suivi_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[&m.version, &m.name, &checksum(m.sql)],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        done.push(m.version);
    }
    Ok(done)
}

/// Refuses to run against a schema that is missing migrations (run `suivi migrate`).
pub async fn require_current(client: &Client) -> Result<(), StoreError> {
    let applied = applied(client).await?;
    let missing: Vec<i32> = MIGRATIONS
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "the database schema lacks migrations {missing:?}; run `suivi migrate --store <url>` first"
        )))
    }
}
