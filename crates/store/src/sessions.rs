//! Where the pages' sign-in sessions are kept, beside the log (not in it: a session is not a
//! fact about a pupil's school work, and it must be deletable at once):
//! - embedded store (`sqlite:PATH`): the SQLite file `PATH.sessions`, so a restart signs
//!   nobody out (WAL, `synchronous=NORMAL`: a crash of the process loses nothing, a power cut
//!   may sign the last few people out — never corrupts);
//! - PostgreSQL: the `web_sessions`, `sign_in_flows` and `session_key` tables of the same
//!   database (migration 3), so every server of a deployment shares sessions and their key;
//! - otherwise (`memory:`): in memory, for the life of the process.
//!
//! Rows are opaque here: the pages decide what a session holds (`data`, JSON). A row is found
//! by the SHA-256 of the session id (`id`), never by the id itself: a copy of the table opens
//! no session. The cookie-signing key lives here too, so that every server signs alike.

use crate::postgres::{pg, Target};
use crate::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::sync::RwLock;
use tokio_postgres::Client;

/// One signed-in browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// The SHA-256 (hex) of the session id.
    pub id: String,
    /// What the session stands for, as the pages wrote it (JSON).
    pub data: String,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The session ends then whatever the activity (absolute timeout, token expiry).
    pub ends_at: DateTime<Utc>,
}

#[derive(Default)]
struct Held {
    sessions: HashMap<String, SessionRow>,
    flows: HashMap<String, (String, DateTime<Utc>)>,
    key: Option<[u8; 32]>,
}

enum Keep {
    Memory(Mutex<Held>),
    Sqlite(Mutex<Connection>),
    Postgres(Box<Pg>),
}

struct Pg {
    target: Target,
    client: RwLock<Client>,
}

pub struct SessionTable {
    keep: Keep,
}

const SQLITE_LAYOUT: &str = "
CREATE TABLE IF NOT EXISTS web_sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    ends_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sign_in_flows (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    ends_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS session_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB NOT NULL
);
";

fn sqlite(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("session table {}: {e}", path.display()))
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn instant(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn lite(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("session table: {e}"))
}

impl SessionTable {
    pub fn in_memory() -> SessionTable {
        SessionTable {
            keep: Keep::Memory(Mutex::new(Held::default())),
        }
    }

    /// The session table of a store: the file beside an embedded store, the tables of a
    /// PostgreSQL store (which must be migrated), memory otherwise.
    pub async fn for_store(store_url: &str) -> Result<SessionTable, StoreError> {
        if store_url.starts_with("postgres://") || store_url.starts_with("postgresql://") {
            let target = Target::parse(store_url)?;
            let client = target.connect().await?;
            crate::postgres::migrations::require_current(&client).await?;
            return Ok(SessionTable {
                keep: Keep::Postgres(Box::new(Pg {
                    target,
                    client: RwLock::new(client),
                })),
            });
        }
        match store_url.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() && path != ":memory:" => {
                SessionTable::open(&PathBuf::from(format!("{path}.sessions")))
            }
            _ => Ok(SessionTable::in_memory()),
        }
    }

    /// Opens (or creates) a session file.
    pub fn open(path: &Path) -> Result<SessionTable, StoreError> {
        let conn = Connection::open(path).map_err(|e| sqlite(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| sqlite(path, e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| sqlite(path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| sqlite(path, e))?;
        conn.execute_batch(SQLITE_LAYOUT)
            .map_err(|e| sqlite(path, e))?;
        Ok(SessionTable {
            keep: Keep::Sqlite(Mutex::new(conn)),
        })
    }

    async fn client(&self) -> Result<tokio::sync::RwLockReadGuard<'_, Client>, StoreError> {
        let Keep::Postgres(pg) = &self.keep else {
            unreachable!("only the PostgreSQL table has a client")
        };
        {
            let held = pg.client.read().await;
            if !held.is_closed() {
                return Ok(held);
            }
        }
        let mut held = pg.client.write().await;
        if held.is_closed() {
            *held = pg.target.connect().await?;
        }
        Ok(held.downgrade())
    }

    /// The key every server of this store signs cookies with: the one already kept, else
    /// `candidate`, kept from now on.
    pub async fn key_or(&self, candidate: [u8; 32]) -> Result<[u8; 32], StoreError> {
        let kept: Vec<u8> = match &self.keep {
            Keep::Memory(held) => {
                let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
                return Ok(*held.key.get_or_insert(candidate));
            }
            Keep::Sqlite(conn) => {
                let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                conn.execute(
                    "INSERT INTO session_key (id, key) VALUES (1, ?1) ON CONFLICT DO NOTHING",
                    params![candidate.as_slice()],
                )
                .map_err(lite)?;
                conn.query_row("SELECT key FROM session_key WHERE id = 1", [], |r| r.get(0))
                    .map_err(lite)?
            }
            Keep::Postgres(_) => {
                let client = self.client().await?;
                client
                    .execute(
                        "INSERT INTO session_key (id, key) VALUES (1, $1) ON CONFLICT DO NOTHING",
                        &[&candidate.as_slice()],
                    )
                    .await
                    .map_err(pg)?;
                client
                    .query_one("SELECT key FROM session_key WHERE id = 1", &[])
                    .await
                    .map_err(pg)?
                    .get(0)
            }
        };
        kept.try_into()
            .map_err(|_| StoreError::Corrupt("the session key is not 32 bytes".to_owned()))
    }

    pub async fn insert(&self, row: &SessionRow) -> Result<(), StoreError> {
        match &self.keep {
            Keep::Memory(held) => {
                held.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .sessions
                    .insert(row.id.clone(), row.clone());
            }
            Keep::Sqlite(conn) => {
                conn.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .prepare_cached(
                        "INSERT INTO web_sessions (id, data, csrf, created_at, last_seen, ends_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            row.id,
                            row.data,
                            row.csrf,
                            micros(row.created_at),
                            micros(row.last_seen),
                            micros(row.ends_at)
                        ])
                    })
                    .map_err(lite)?;
            }
            Keep::Postgres(_) => {
                self.client()
                    .await?
                    .execute(
                        "INSERT INTO web_sessions (id, data, csrf, created_at, last_seen, ends_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                        &[
                            &row.id,
                            &row.data,
                            &row.csrf,
                            &row.created_at,
                            &row.last_seen,
                            &row.ends_at,
                        ],
                    )
                    .await
                    .map_err(pg)?;
            }
        }
        Ok(())
    }

    /// The row with this id, whatever its state.
    pub async fn get(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        match &self.keep {
            Keep::Memory(held) => Ok(held
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .sessions
                .get(id)
                .cloned()),
            Keep::Sqlite(conn) => conn
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .prepare_cached(
                    "SELECT data, csrf, created_at, last_seen, ends_at FROM web_sessions \
                     WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.query_row(params![id], |r| {
                        Ok(SessionRow {
                            id: id.to_owned(),
                            data: r.get(0)?,
                            csrf: r.get(1)?,
                            created_at: instant(r.get(2)?),
                            last_seen: instant(r.get(3)?),
                            ends_at: instant(r.get(4)?),
                        })
                    })
                    .optional()
                })
                .map_err(lite),
            Keep::Postgres(_) => Ok(self
                .client()
                .await?
                .query_opt(
                    "SELECT data, csrf, created_at, last_seen, ends_at FROM web_sessions \
                     WHERE id = $1",
                    &[&id],
                )
                .await
                .map_err(pg)?
                .map(|r| SessionRow {
                    id: id.to_owned(),
                    data: r.get(0),
                    csrf: r.get(1),
                    created_at: r.get(2),
                    last_seen: r.get(3),
                    ends_at: r.get(4),
                })),
        }
    }

    /// Records activity on a session.
    pub async fn touch(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        match &self.keep {
            Keep::Memory(held) => {
                if let Some(row) = held
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .sessions
                    .get_mut(id)
                {
                    row.last_seen = row.last_seen.max(at);
                }
            }
            Keep::Sqlite(conn) => {
                conn.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .prepare_cached(
                        "UPDATE web_sessions SET last_seen = max(last_seen, ?2) WHERE id = ?1",
                    )
                    .and_then(|mut s| s.execute(params![id, micros(at)]))
                    .map_err(lite)?;
            }
            Keep::Postgres(_) => {
                self.client()
                    .await?
                    .execute(
                        "UPDATE web_sessions SET last_seen = greatest(last_seen, $2) WHERE id = $1",
                        &[&id, &at],
                    )
                    .await
                    .map_err(pg)?;
            }
        }
        Ok(())
    }

    /// Ends a session (nothing if it is gone already).
    pub async fn remove(&self, id: &str) -> Result<(), StoreError> {
        match &self.keep {
            Keep::Memory(held) => {
                held.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .sessions
                    .remove(id);
            }
            Keep::Sqlite(conn) => {
                conn.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .execute("DELETE FROM web_sessions WHERE id = ?1", params![id])
                    .map_err(lite)?;
            }
            Keep::Postgres(_) => {
                self.client()
                    .await?
                    .execute("DELETE FROM web_sessions WHERE id = $1", &[&id])
                    .await
                    .map_err(pg)?;
            }
        }
        Ok(())
    }

    /// Deletes the sessions idle since before `idle_since` or ended by `now`, and the
    /// sign-in flows ended by `now`: how many sessions went.
    pub async fn sweep(
        &self,
        idle_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        match &self.keep {
            Keep::Memory(held) => {
                let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
                let before = held.sessions.len();
                held.sessions
                    .retain(|_, s| s.last_seen >= idle_since && s.ends_at > now);
                held.flows.retain(|_, (_, ends)| *ends > now);
                Ok((before - held.sessions.len()) as u64)
            }
            Keep::Sqlite(conn) => {
                let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                let gone = conn
                    .execute(
                        "DELETE FROM web_sessions WHERE last_seen < ?1 OR ends_at <= ?2",
                        params![micros(idle_since), micros(now)],
                    )
                    .map_err(lite)?;
                conn.execute(
                    "DELETE FROM sign_in_flows WHERE ends_at <= ?1",
                    params![micros(now)],
                )
                .map_err(lite)?;
                Ok(gone as u64)
            }
            Keep::Postgres(_) => {
                let client = self.client().await?;
                let gone = client
                    .execute(
                        "DELETE FROM web_sessions WHERE last_seen < $1 OR ends_at <= $2",
                        &[&idle_since, &now],
                    )
                    .await
                    .map_err(pg)?;
                client
                    .execute("DELETE FROM sign_in_flows WHERE ends_at <= $1", &[&now])
                    .await
                    .map_err(pg)?;
                Ok(gone)
            }
        }
    }

    /// How many sessions are kept (alive or not yet swept).
    pub async fn count(&self) -> Result<u64, StoreError> {
        match &self.keep {
            Keep::Memory(held) => Ok(held
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .sessions
                .len() as u64),
            Keep::Sqlite(conn) => conn
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .query_row("SELECT count(*) FROM web_sessions", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n as u64)
                .map_err(lite),
            Keep::Postgres(_) => Ok(self
                .client()
                .await?
                .query_one("SELECT count(*) FROM web_sessions", &[])
                .await
                .map_err(pg)?
                .get::<_, i64>(0) as u64),
        }
    }

    /// Keeps a sign-in under way (an OpenID Connect `state`) until `ends_at`.
    pub async fn put_flow(
        &self,
        id: &str,
        data: &str,
        ends_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match &self.keep {
            Keep::Memory(held) => {
                held.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .flows
                    .insert(id.to_owned(), (data.to_owned(), ends_at));
            }
            Keep::Sqlite(conn) => {
                conn.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .execute(
                        "INSERT INTO sign_in_flows (id, data, ends_at) VALUES (?1, ?2, ?3)",
                        params![id, data, micros(ends_at)],
                    )
                    .map_err(lite)?;
            }
            Keep::Postgres(_) => {
                self.client()
                    .await?
                    .execute(
                        "INSERT INTO sign_in_flows (id, data, ends_at) VALUES ($1, $2, $3)",
                        &[&id, &data, &ends_at],
                    )
                    .await
                    .map_err(pg)?;
            }
        }
        Ok(())
    }

    /// Takes a sign-in under way: its data if it was kept and has not ended, and it is
    /// gone either way — a `state` is used once, by whichever server gets it first.
    pub async fn take_flow(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let taken = match &self.keep {
            Keep::Memory(held) => held
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .flows
                .remove(id),
            Keep::Sqlite(conn) => conn
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .query_row(
                    "DELETE FROM sign_in_flows WHERE id = ?1 RETURNING data, ends_at",
                    params![id],
                    |r| Ok((r.get::<_, String>(0)?, instant(r.get(1)?))),
                )
                .optional()
                .map_err(lite)?,
            Keep::Postgres(_) => self
                .client()
                .await?
                .query_opt(
                    "DELETE FROM sign_in_flows WHERE id = $1 RETURNING data, ends_at",
                    &[&id],
                )
                .await
                .map_err(pg)?
                .map(|r| (r.get(0), r.get(1))),
        };
        Ok(taken.and_then(|(data, ends_at)| (ends_at > now).then_some(data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).expect("a valid instant")
    }

    fn row(id: &str) -> SessionRow {
        SessionRow {
            id: id.to_owned(),
            data: format!("{{\"who\":\"{id}\"}}"),
            csrf: format!("csrf-{id}"),
            created_at: at(0),
            last_seen: at(0),
            ends_at: at(720),
        }
    }

    async fn behaves(table: &SessionTable) {
        let key = table.key_or([7; 32]).await.expect("key");
        assert_eq!(key, [7; 32]);
        assert_eq!(table.key_or([9; 32]).await.expect("key"), [7; 32]);
        table.insert(&row("a")).await.expect("insert");
        table.insert(&row("b")).await.expect("insert");
        assert_eq!(table.get("a").await.expect("get"), Some(row("a")));
        table.touch("a", at(20)).await.expect("touch");
        // An older instant never moves the activity back.
        table.touch("a", at(10)).await.expect("touch");
        assert_eq!(
            table.get("a").await.expect("get").map(|r| r.last_seen),
            Some(at(20))
        );
        // Idle since before minute 15: b goes, a stays.
        assert_eq!(table.sweep(at(15), at(21)).await.expect("sweep"), 1);
        assert_eq!(table.get("b").await.expect("get"), None);
        assert_eq!(table.count().await.expect("count"), 1);
        table.remove("a").await.expect("remove");
        assert_eq!(table.get("a").await.expect("get"), None);
        // A flow is taken once, and not after it ended.
        table.put_flow("s1", "{}", at(10)).await.expect("flow");
        table.put_flow("s2", "{}", at(10)).await.expect("flow");
        assert_eq!(
            table.take_flow("s1", at(5)).await.expect("take"),
            Some("{}".to_owned())
        );
        assert_eq!(table.take_flow("s1", at(5)).await.expect("take"), None);
        assert_eq!(table.take_flow("s2", at(10)).await.expect("take"), None);
    }

    #[tokio::test]
    async fn the_memory_table_keeps_sessions_and_flows() {
        behaves(&SessionTable::in_memory()).await;
    }

    #[tokio::test]
    async fn the_session_file_keeps_them_across_opens() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.db.sessions");
        behaves(&SessionTable::open(&path).expect("open")).await;
        let table = SessionTable::open(&path).expect("open");
        table.insert(&row("c")).await.expect("insert");
        drop(table);
        let again = SessionTable::open(&path).expect("open again");
        assert_eq!(again.get("c").await.expect("get"), Some(row("c")));
        assert_eq!(again.key_or([1; 32]).await.expect("key"), [7; 32]);
    }
}
