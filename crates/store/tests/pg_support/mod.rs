//! A PostgreSQL schema per test on the machine's server (`SUIVI_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped when the test ends.
#![allow(dead_code)]

use std::sync::Arc;
use suivi_store::postgres::PostgresStore;
use suivi_store::EventStore;

pub fn base_url() -> String {
    std::env::var("SUIVI_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Drops the case's schema when the case ends.
pub struct Schema {
    pub name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
                        .await
                        .unwrap();
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .await
                    .unwrap();
            });
        })
        .join();
    }
}

pub async fn fresh() -> (Arc<dyn EventStore>, Schema) {
    let name = format!("suivi_test_{}", uuid::Uuid::now_v7().simple());
    let url = format!("{}?schema={name}", base_url());
    let guard = Schema { name };
    PostgresStore::migrate(&url).await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    (Arc::new(store), guard)
}
