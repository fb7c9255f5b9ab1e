//! The contract suite against the in-memory adapter.

use std::sync::Arc;
use suivi_store::memory::MemoryStore;
use suivi_store::EventStore;

async fn fresh() -> (Arc<dyn EventStore>, ()) {
    (Arc::new(MemoryStore::new()), ())
}

suivi_store::contract_tests!(fresh);
