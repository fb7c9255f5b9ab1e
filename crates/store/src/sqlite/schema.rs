//! The file's layout, its pragmas, and the check that a file is a suivi store of a schema
//! this build knows.

use super::rows::db;
use crate::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// `PRAGMA application_id`: "SUIV", so a stray SQLite file is not taken for a store.
const APPLICATION_ID: i64 = 0x5355_4956;
/// `PRAGMA user_version`: bumped with a migration whenever the layout below changes.
pub(super) const SCHEMA_VERSION: i64 = 1;
/// 8 KiB pages were measured: no smaller per event, and each commit rewrites whole pages.
const PAGE_SIZE: i64 = 4096;
/// How long a connection waits on another's lock (a checkpoint waiting for readers).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Stream, type and actor names and school ids repeat from event to event: each is stored
/// once and referenced by integer id. The other UUIDs are 16-byte blobs, times integer
/// microseconds: a typical event row is its payload + ~75 bytes, + ~45 in the two indexes.
const LAYOUT: &str = "
CREATE TABLE streams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL
);
CREATE TABLE event_types (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE actors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE schools (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE
);
CREATE TABLE events (
    global_position INTEGER PRIMARY KEY,
    stream_id INTEGER NOT NULL,
    stream_version INTEGER NOT NULL,
    event_id BLOB NOT NULL,
    type_id INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    school INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    correlation_id BLOB,
    causation_id BLOB,
    payload TEXT NOT NULL
);
CREATE UNIQUE INDEX events_by_id ON events (event_id);
CREATE UNIQUE INDEX events_by_stream ON events (stream_id, stream_version);
CREATE TABLE pupil_keys (
    pupil_id BLOB PRIMARY KEY,
    key BLOB NOT NULL
) WITHOUT ROWID;
";

fn at(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("sqlite {}: {e}", path.display()))
}

/// Opens the writer's connection: creates the file and its layout if missing, checks an
/// existing file's identity and schema version.
pub(super) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| at(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| at(path, e))?;
    // Only takes effect on a new, empty file (before WAL mode and the first table).
    conn.pragma_update(None, "page_size", PAGE_SIZE)
        .map_err(|e| at(path, e))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| at(path, e))?;
    // FULL: a commit fsyncs the WAL, so an acknowledged append survives a power cut.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| at(path, e))?;
    require_durable(&conn, path)?;
    // A destroyed pupil key is overwritten with zeros, not merely unlinked.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(|e| at(path, e))?;
    conn.set_prepared_statement_cache_capacity(32);
    migrate(&conn, path)?;
    Ok(conn)
}

/// `PRAGMA synchronous` values at least as safe as FULL: FULL (2) syncs the WAL at every
/// commit, EXTRA (3) also the directory. NORMAL (1) and OFF (0) acknowledge commits the
/// disk may not hold yet.
const DURABLE_SYNCHRONOUS: [i64; 2] = [2, 3];

/// Reads back what an acknowledged append's durability rests on, rather than trusting the
/// PRAGMAs set just before (a build option, a read-only or in-memory file, a future
/// default can each leave them otherwise): WAL journal and `synchronous` FULL or EXTRA.
pub(super) fn require_durable(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .map_err(|e| at(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Durability(format!(
            "sqlite {}: journal_mode reads back {mode:?}; the store needs WAL",
            path.display()
        )));
    }
    let synchronous: i64 = conn
        .pragma_query_value(None, "synchronous", |row| row.get(0))
        .map_err(|e| at(path, e))?;
    if !DURABLE_SYNCHRONOUS.contains(&synchronous) {
        return Err(StoreError::Durability(format!(
            "sqlite {}: synchronous reads back {synchronous}, not FULL (2): a commit would be \
             acknowledged before the WAL is on disk",
            path.display()
        )));
    }
    Ok(())
}

/// A reader's connection: never writes, waits rather than fails on a checkpoint's lock.
pub(super) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| at(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| at(path, e))?;
    // A reader never commits, but every connection to the file is held to the same rule.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| at(path, e))?;
    require_durable(&conn, path)?;
    conn.pragma_update(None, "query_only", "ON")
        .map_err(|e| at(path, e))?;
    conn.set_prepared_statement_cache_capacity(16);
    Ok(conn)
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let pragma = |name: &str| -> Result<i64, StoreError> {
        conn.pragma_query_value(None, name, |row| row.get(0))
            .map_err(|e| at(path, e))
    };
    let (application, version) = (pragma("application_id")?, pragma("user_version")?);
    match (application, version) {
        (APPLICATION_ID, SCHEMA_VERSION) => Ok(()),
        (0, 0) => {
            let tables: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
                .map_err(|e| at(path, e))?;
            if tables > 0 {
                return Err(StoreError::Backend(format!(
                    "sqlite {}: the file holds {tables} schema objects but is not a suivi store",
                    path.display()
                )));
            }
            conn.execute_batch(&format!(
                "BEGIN; {LAYOUT} PRAGMA application_id = {APPLICATION_ID}; \
                 PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(|e| at(path, e))?;
            tracing::info!(path = %path.display(), schema = SCHEMA_VERSION, "created the SQLite store");
            Ok(())
        }
        (APPLICATION_ID, newer) if newer > SCHEMA_VERSION => Err(StoreError::Backend(format!(
            "sqlite {}: schema version {newer} was written by a newer suivi; this build reads up to {SCHEMA_VERSION}",
            path.display()
        ))),
        (APPLICATION_ID, older) => Err(StoreError::Corrupt(format!(
            "sqlite {}: schema version {older} is unknown (this build starts at 1)",
            path.display()
        ))),
        (other, _) => Err(StoreError::Backend(format!(
            "sqlite {}: application id {other:#x} is not suivi's ({APPLICATION_ID:#x})",
            path.display()
        ))),
    }
}

/// Merges the WAL into the main file and truncates it (after a key is destroyed, so no old
/// copy of the page survives in the WAL). False when a reader kept it from completing.
pub(super) fn checkpoint(conn: &Connection) -> Result<bool, StoreError> {
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
        .map_err(db)?;
    Ok(busy == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(result: Result<(), StoreError>) -> String {
        match result {
            Err(StoreError::Durability(reason)) => reason,
            other => panic!("expected a durability refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_connection_that_would_not_sync_every_commit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let writer = open_writer(&path).unwrap();
        assert!(require_durable(&writer, &path).is_ok());
        for (level, read_back) in [("NORMAL", 1), ("OFF", 0)] {
            writer.pragma_update(None, "synchronous", level).unwrap();
            let reason = reason(require_durable(&writer, &path));
            assert!(
                reason.contains(&format!("synchronous reads back {read_back}, not FULL (2)")),
                "{reason}"
            );
        }
        writer.pragma_update(None, "synchronous", "EXTRA").unwrap();
        assert!(require_durable(&writer, &path).is_ok());

        // A file in another journal mode.
        let other = dir.path().join("rollback.db");
        let conn = Connection::open(&other).unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        let reason = reason(require_durable(&conn, &other));
        assert!(
            reason.contains("journal_mode reads back \"delete\"; the store needs WAL"),
            "{reason}"
        );
    }
}
