//! What an acknowledged append's durability rests on, read back from the server on every
//! connection rather than assumed: `fsync` must be `on`, and `synchronous_commit` `on` or
//! stronger (`remote_write`, `remote_apply`; `local` is `on` without waiting for standbys,
//! as safe for this server's own disk). `off` acknowledges a commit before its WAL is
//! flushed, so a crash can lose appends the callers were told are done; `fsync = off` can
//! lose or corrupt anything. Such a server is refused, unless the store URL says the
//! operator accepts it: `?accept_unsafe_durability=true` (a benchmark, a throwaway demo).
//! A connection's settings can come from the server's configuration, the role, the
//! database or the URL's `options=-c …`; reading them back sees all of these.

use super::pg;
use crate::StoreError;
use tokio_postgres::Client;

const DURABLE_COMMITS: [&str; 4] = ["on", "remote_apply", "remote_write", "local"];

pub(super) async fn require(client: &Client, accept_unsafe: bool) -> Result<(), StoreError> {
    let row = client
        .query_one(
            "SELECT current_setting('synchronous_commit'), current_setting('fsync')",
            &[],
        )
        .await
        .map_err(pg)?;
    let (synchronous_commit, fsync): (String, String) = (row.get(0), row.get(1));
    let mut unsafe_settings = Vec::new();
    if !DURABLE_COMMITS.contains(&synchronous_commit.as_str()) {
        unsafe_settings.push(format!(
            "synchronous_commit is {synchronous_commit:?} (a commit is acknowledged before its \
             WAL is flushed; it must be on, remote_write or remote_apply)"
        ));
    }
    if fsync != "on" {
        unsafe_settings.push(format!(
            "fsync is {fsync:?} (the server does not force its writes to disk; it must be on)"
        ));
    }
    if unsafe_settings.is_empty() {
        return Ok(());
    }
    let settings = unsafe_settings.join("; ");
    if accept_unsafe {
        tracing::warn!(
            %settings,
            "postgres may lose acknowledged appends; accepted by ?accept_unsafe_durability=true"
        );
        return Ok(());
    }
    Err(StoreError::Durability(format!(
        "postgres: {settings}. An acknowledged append could be lost in a crash; fix the \
         server or role setting, or add accept_unsafe_durability=true to the store URL to \
         accept that"
    )))
}
