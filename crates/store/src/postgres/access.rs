//! The access journal's table (migration 2): staff reads of pupils' files, kept in the
//! same database as the log so that every server of a school writes and reads one journal
//! and it survives restarts. Not an event stream: see `suivi_graphql::audit`.

use super::{pg, Target};
use crate::StoreError;
use chrono::{DateTime, Utc};
use suivi_domain::ids::PupilId;
use tokio::sync::RwLock;
use tokio_postgres::Client;

/// One row: `actor` read `pupil`'s file at `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRow {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub pupil: PupilId,
}

/// A connection to the journal table of a migrated database, opened again when it was
/// lost (a restarted server, a network cut): a journal must not stop recording.
pub struct AccessTable {
    target: Target,
    client: RwLock<Client>,
}

impl AccessTable {
    /// Connects to `url` (`postgres://…[?schema=…]`), which must be migrated.
    pub async fn connect(url: &str) -> Result<AccessTable, StoreError> {
        let target = Target::parse(url)?;
        let client = target.connect().await?;
        super::migrations::require_current(&client).await?;
        Ok(AccessTable {
            target,
            client: RwLock::new(client),
        })
    }

    /// The connection, opened again first if it was closed.
    async fn client(&self) -> Result<tokio::sync::RwLockReadGuard<'_, Client>, StoreError> {
        {
            let client = self.client.read().await;
            if !client.is_closed() {
                return Ok(client);
            }
        }
        let mut client = self.client.write().await;
        if client.is_closed() {
            *client = self.target.connect().await?;
        }
        Ok(client.downgrade())
    }

    /// Appends rows in one statement.
    pub async fn append(&self, rows: &[AccessRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let at: Vec<DateTime<Utc>> = rows.iter().map(|r| r.at).collect();
        let actor: Vec<&str> = rows.iter().map(|r| r.actor.as_str()).collect();
        let pupil: Vec<uuid::Uuid> = rows.iter().map(|r| r.pupil.0).collect();
        self.client()
            .await?
            .execute(
                "INSERT INTO access_journal (at, actor, pupil_id) \
                 SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::uuid[])",
                &[&at, &actor, &pupil],
            )
            .await
            .map_err(pg)?;
        Ok(())
    }

    /// The latest rows first, of one pupil or of all, since an instant.
    pub async fn query(
        &self,
        pupil: Option<PupilId>,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<AccessRow>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                "SELECT at, actor, pupil_id FROM access_journal \
                 WHERE ($1::uuid IS NULL OR pupil_id = $1) AND ($2::timestamptz IS NULL OR at >= $2) \
                 ORDER BY at DESC, id DESC LIMIT $3",
                &[&pupil.map(|p| p.0), &since, &limit],
            )
            .await
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|row| AccessRow {
                at: row.get(0),
                actor: row.get(1),
                pupil: PupilId(row.get(2)),
            })
            .collect())
    }
}
