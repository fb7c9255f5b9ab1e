//! The contract suite against the SQLite adapter, each case on its own file in its own
//! temporary directory (removed when the case ends).

use std::sync::Arc;
use suivi_store::sqlite::SqliteStore;
use suivi_store::EventStore;
use tempfile::TempDir;

async fn fresh() -> (Arc<dyn EventStore>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("suivi.db")).unwrap();
    (Arc::new(store), dir)
}

suivi_store::contract_tests!(fresh);
