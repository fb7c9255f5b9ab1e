//! A fresh PostgreSQL schema per test on the machine's server (`SUIVI_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped when the guard goes.
#![allow(dead_code)]

pub fn base_url() -> String {
    std::env::var("SUIVI_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A schema name no other test uses, and its store URL; dropped (with everything in it)
/// when the test ends, even when it fails.
pub struct Schema {
    pub name: String,
    pub url: String,
}

impl Schema {
    pub fn fresh() -> Schema {
        let name = format!("suivi_cli_test_{}", uuid::Uuid::now_v7().simple());
        let url = format!("{}?schema={name}", base_url());
        Schema { name, url }
    }

    /// Runs SQL on the server (outside any suivi code), on its own thread and runtime so
    /// that it works from sync and async tests alike.
    pub fn execute(&self, sql: &str) {
        execute(sql.to_owned()).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

fn execute(sql: String) -> Result<(), String> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            client.batch_execute(&sql).await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "the SQL thread panicked".to_owned())?
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Err(e) = execute(format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name)) {
            eprintln!("could not drop schema {}: {e}", self.name);
        }
    }
}
