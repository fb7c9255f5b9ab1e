//! The contract suite against the PostgreSQL adapter. Each case runs in a schema of its
//! own, dropped when the case ends, so cases run in parallel.

mod pg_support;

use pg_support::fresh;

suivi_store::contract_tests!(fresh);
