//! Opening a store from a URL: `memory:`, `sqlite:PATH` or `postgres://…`.

use crate::memory::MemoryStore;
use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;
use crate::{EventStore, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

/// Opens the store a URL names:
/// - `memory:` — an empty in-memory store;
/// - `sqlite:PATH` — the SQLite file at PATH, created if missing (`sqlite:suivi.db`,
///   `sqlite:/var/lib/suivi/suivi.db`; `sqlite://` followed by the path is accepted too);
/// - `postgres://user@host/db` (or `postgresql://`, with an optional `?schema=name`) — a
///   PostgreSQL database whose schema `suivi migrate` has created; a database without it, or
///   with a newer one, is refused with the reason.
pub async fn open(url: &str) -> Result<Arc<dyn EventStore>, StoreError> {
    match parse(url)? {
        Target::Memory => Ok(Arc::new(MemoryStore::new())),
        Target::Postgres => Ok(Arc::new(PostgresStore::connect(url).await?)),
        #[cfg(feature = "kurrentdb")]
        Target::KurrentDb => Ok(Arc::new(
            crate::kurrentdb::KurrentDbStore::connect(url).await?,
        )),
        Target::Sqlite(path) => {
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
                .await
                .map_err(|e| StoreError::Backend(format!("opening the SQLite store: {e}")))??;
            Ok(Arc::new(store))
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Target {
    Memory,
    Sqlite(PathBuf),
    Postgres,
    #[cfg(feature = "kurrentdb")]
    KurrentDb,
}

fn parse(url: &str) -> Result<Target, StoreError> {
    let invalid = |reason: &str| StoreError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(invalid(
            "expected a scheme: memory: or sqlite:PATH (e.g. sqlite:suivi.db)",
        ));
    };
    match scheme {
        "memory" if rest.is_empty() || rest == "//" => Ok(Target::Memory),
        "memory" => Err(invalid("memory: takes no path")),
        "sqlite" => {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                Err(invalid(
                    "sqlite: needs a file path, e.g. sqlite:suivi.db or sqlite:/var/lib/suivi/suivi.db",
                ))
            } else {
                Ok(Target::Sqlite(PathBuf::from(path)))
            }
        }
        "postgres" | "postgresql" => Ok(Target::Postgres),
        #[cfg(feature = "kurrentdb")]
        "kurrentdb" | "esdb" => Ok(Target::KurrentDb),
        #[cfg(not(feature = "kurrentdb"))]
        "kurrentdb" | "esdb" => Err(invalid(
            "this binary was built without KurrentDB support; rebuild with `--features kurrentdb`",
        )),
        other => Err(invalid(&format!(
            "unknown scheme {other:?}; expected memory:, sqlite:PATH (e.g. sqlite:suivi.db) \
             or postgres://user@host/db"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(url: &str) -> String {
        match parse(url) {
            Err(StoreError::InvalidUrl { url: u, reason }) => {
                assert_eq!(u, url);
                reason
            }
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_supported_urls() {
        assert_eq!(parse("memory:").unwrap(), Target::Memory);
        assert_eq!(
            parse("sqlite:suivi.db").unwrap(),
            Target::Sqlite(PathBuf::from("suivi.db"))
        );
        assert_eq!(
            parse("sqlite:/tmp/x.db").unwrap(),
            Target::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(
            parse("sqlite:///tmp/x.db").unwrap(),
            Target::Sqlite(PathBuf::from("/tmp/x.db"))
        );
    }

    #[test]
    fn parses_postgres_and_refuses_the_others_with_a_reason() {
        assert_eq!(
            parse("postgres://u@localhost/suivi").unwrap(),
            Target::Postgres
        );
        assert_eq!(
            parse("postgresql://localhost/suivi").unwrap(),
            Target::Postgres
        );
        assert!(reason("sqlite:").contains("needs a file path"));
        assert!(reason("mysql://x").contains("unknown scheme \"mysql\""));
        assert!(reason("suivi.db").contains("expected a scheme"));
        assert!(reason("memory:/x").contains("takes no path"));
    }
}
