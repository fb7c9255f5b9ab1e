//! Group commit for the PostgreSQL store: one task per process drains every queued append
//! into one transaction (one savepoint per caller, so one caller's conflict fails only that
//! caller), under the advisory lock that orders commits across servers.

use super::{pg, Job, PostgresStats};
use crate::rules::Kept;
use crate::{AppendRequest, AppendResult, ExpectedVersion, StoreError};
use chrono::Utc;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Statement, Transaction};
use uuid::Uuid;

/// Serialises appends of every server on the same database.
const APPEND_LOCK: i64 = 0x5017_1001;
const MAX_GROUP_EVENTS: usize = 20_000;

struct Statements {
    existing: Statement,
    any_existing: Statement,
    streams: Statement,
    new_streams: Statement,
    insert: Statement,
    bump: Statement,
    put_keys: Statement,
}

async fn prepare(client: &Client) -> Result<Statements, tokio_postgres::Error> {
    Ok(Statements {
        existing: client
            .prepare(
                "SELECT e.event_id, e.global_position, e.stream_version, s.name, e.payload::text \
                 FROM events e JOIN streams s ON s.id = e.stream_id \
                 WHERE e.event_id = ANY($1) ORDER BY e.global_position",
            )
            .await?,
        any_existing: client
            .prepare("SELECT 1 FROM events WHERE event_id = ANY($1) LIMIT 1")
            .await?,
        streams: client
            .prepare("SELECT name, id, version FROM streams WHERE name = ANY($1)")
            .await?,
        new_streams: client
            .prepare(
                "INSERT INTO streams (name, version) SELECT n, 0 FROM unnest($1::text[]) AS n \
                 RETURNING name, id",
            )
            .await?,
        insert: client
            .prepare(
                "INSERT INTO events (global_position, stream_id, stream_version, event_id, event_type, \
                   schema_version, occurred_at, recorded_at, school_id, actor, correlation_id, causation_id, payload) \
                 SELECT u.p, u.s, u.v, u.id, u.t, u.sv, u.oa, u.ra, u.sch, u.a, u.c, u.ca, u.pl::json \
                 FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::bigint[], \
                   $5::uuid[], $6::text[], $7::smallint[], $8::timestamptz[], $9::uuid[], \
                   $10::text[], $11::uuid[], $12::uuid[], $13::text[]) \
                   AS u(p, ra, s, v, id, t, sv, oa, sch, a, c, ca, pl)",
            )
            .await?,
        bump: client
            .prepare(
                "UPDATE streams s SET version = u.v \
                 FROM unnest($1::bigint[], $2::bigint[]) AS u(id, v) WHERE s.id = u.id",
            )
            .await?,
        put_keys: client
            .prepare(
                "INSERT INTO pupil_keys (pupil_id, key) SELECT * FROM unnest($1::uuid[], $2::bytea[]) \
                 ON CONFLICT (pupil_id) DO UPDATE SET key = EXCLUDED.key",
            )
            .await?,
    })
}

pub(super) async fn run(
    client: Client,
    mut jobs: mpsc::Receiver<Job>,
    head: Arc<watch::Sender<u64>>,
    channel: String,
    stats: Arc<PostgresStats>,
) {
    let mut client = client;
    // A prepared statement switches to a generic plan after five runs, planned with the
    // statistics of that moment. Prepared on a young log, the idempotency lookup
    // (`event_id = ANY($1)`) keeps a sequential scan for the life of the connection: the
    // batched-append bench fell to ~900 events/s at 100,000 events. A custom plan per
    // execution costs tens of microseconds and always uses the indexes.
    let statements = match async {
        client
            .batch_execute("SET plan_cache_mode = force_custom_plan")
            .await?;
        prepare(&client).await
    }
    .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "postgres writer could not prepare its statements");
            while let Some(job) = jobs.recv().await {
                let _ = job
                    .reply
                    .send(Err(StoreError::Backend(format!("postgres: {e}"))));
            }
            return;
        }
    };
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        let mut events: usize = group[0].requests.iter().map(|r| r.events.len()).sum();
        while events < MAX_GROUP_EVENTS {
            match jobs.try_recv() {
                Ok(job) => {
                    events += job.requests.iter().map(|r| r.events.len()).sum::<usize>();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        match commit_group(&mut client, &statements, &group, &channel).await {
            Ok((outcomes, new_head)) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats
                    .appends
                    .fetch_add(group.len() as u64, Ordering::Relaxed);
                head.send_if_modified(|h| {
                    if new_head > *h {
                        *h = new_head;
                        true
                    } else {
                        false
                    }
                });
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "postgres group commit failed");
                for job in group {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Backend(format!("postgres: {e}"))));
                }
            }
        }
    }
}

enum JobFailure {
    Refused(StoreError),
    Database(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for JobFailure {
    fn from(e: tokio_postgres::Error) -> Self {
        JobFailure::Database(e)
    }
}

type Outcome = Result<Vec<AppendResult>, StoreError>;

async fn commit_group(
    client: &mut Client,
    st: &Statements,
    group: &[Job],
    channel: &str,
) -> Result<(Vec<Outcome>, u64), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
        .await?;
    let start: i64 = tx
        .query_one("SELECT coalesce(max(global_position), 0) FROM events", &[])
        .await?
        .get(0);
    let mut position = start;
    let recorded_at = Utc::now();
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group {
        tx.batch_execute("SAVEPOINT job").await?;
        let mut local = position;
        let kept = job.kept.as_deref();
        match append_job(&tx, st, &job.requests, kept, &mut local, recorded_at).await {
            Ok(results) => {
                tx.batch_execute("RELEASE SAVEPOINT job").await?;
                position = local;
                outcomes.push(Ok(results));
            }
            Err(failure) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT job").await?;
                outcomes.push(Err(match failure {
                    JobFailure::Refused(e) => e,
                    JobFailure::Database(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                        StoreError::IdempotencyMismatch {
                            event_id: job
                                .requests
                                .first()
                                .and_then(|r| r.events.first())
                                .map(|e| e.event_id)
                                .unwrap_or(suivi_domain::ids::EventId(Uuid::nil())),
                        }
                    }
                    JobFailure::Database(e) => pg(e),
                }));
            }
        }
    }
    if position > start {
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&channel, &position.to_string()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok((outcomes, position as u64))
}

async fn append_job(
    tx: &Transaction<'_>,
    st: &Statements,
    requests: &[AppendRequest],
    kept: Option<&[Kept]>,
    position: &mut i64,
    recorded_at: chrono::DateTime<Utc>,
) -> Result<Vec<AppendResult>, JobFailure> {
    let mut results = Vec::with_capacity(requests.len());
    // Round trips are what a group commit spends its time on, so a caller's streams are
    // read in one query, its new streams created in one (a refused request rolls the
    // caller's savepoint back, creations included), its events inserted in one and the
    // streams' versions set in one at the end. When it appends to several streams one query tells whether any of its ids is
    // already stored; when none is (and no id repeats within the caller), no request can
    // be a retry and the per-request replay check is skipped.
    let ids: Vec<Uuid> = requests
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.event_id.0))
        .collect();
    let none_stored = requests.len() > 1
        && ids.iter().collect::<HashSet<_>>().len() == ids.len()
        && tx.query_opt(&st.any_existing, &[&ids]).await?.is_none();
    let names: Vec<&str> = requests.iter().map(|r| r.stream.as_str()).collect();
    let mut streams: HashMap<String, (i64, i64)> = tx
        .query(&st.streams, &[&names])
        .await?
        .iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2))))
        .collect();
    let mut missing: Vec<&str> = Vec::new();
    for name in &names {
        if !streams.contains_key(*name) && !missing.contains(name) {
            missing.push(name);
        }
    }
    let created: HashMap<String, i64> = if missing.is_empty() {
        HashMap::new()
    } else {
        tx.query(&st.new_streams, &[&missing])
            .await?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
    };
    let mut bumps: HashMap<i64, i64> = HashMap::new();
    let mut rows = Rows::default();
    // Keys of the requests written (not of retries), stored in the caller's savepoint.
    let mut key_pupils: Vec<Uuid> = Vec::new();
    let mut key_bytes: Vec<&[u8]> = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        let kept = kept.and_then(|k| k.get(index));
        if !none_stored {
            if let Some(result) = replayed(tx, st, request).await? {
                if let Some(kept) = kept {
                    kept.check_position(result.first_position)
                        .map_err(JobFailure::Refused)?;
                }
                results.push(result);
                continue;
            }
        }
        let row = streams.get(request.stream.as_str()).copied();
        let (stream_id, version): (i64, i64) = row.unwrap_or((-1, 0));
        let actual = row.map(|_| version as u64);
        let ok = match request.expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual.is_none(),
            ExpectedVersion::Exact(v) => actual == Some(v),
        };
        if !ok {
            return Err(JobFailure::Refused(StoreError::WrongExpectedVersion {
                stream: request.stream.clone(),
                expected: request.expected,
                actual,
            }));
        }
        let stream_id = match row {
            Some(_) => stream_id,
            None => *created.get(request.stream.as_str()).ok_or_else(|| {
                JobFailure::Refused(StoreError::Backend(format!(
                    "postgres: stream {} was not created",
                    request.stream
                )))
            })?,
        };
        if let Some(kept) = kept {
            kept.check_position((*position + 1) as u64)
                .map_err(JobFailure::Refused)?;
        }
        let n = request.events.len() as i64;
        rows.push(request, stream_id, version, *position);
        match kept {
            Some(kept) => rows.recorded.extend(&kept.recorded_at),
            None => rows
                .recorded
                .extend(std::iter::repeat_n(recorded_at, request.events.len())),
        }
        if !none_stored {
            // A later request of this caller may be a retry of this one: it must be stored.
            rows.flush(tx, st).await?;
        }
        bumps.insert(stream_id, version + n);
        streams.insert(request.stream.as_str().to_owned(), (stream_id, version + n));
        for (pupil, key) in &request.keys {
            key_pupils.push(pupil.0);
            key_bytes.push(&key.0);
        }
        results.push(AppendResult {
            stream_version: (version + n) as u64,
            first_position: (*position + 1) as u64,
            last_position: (*position + n) as u64,
        });
        *position += n;
    }
    rows.flush(tx, st).await?;
    if !bumps.is_empty() {
        let (ids, versions): (Vec<i64>, Vec<i64>) = bumps.into_iter().unzip();
        tx.execute(&st.bump, &[&ids, &versions]).await?;
    }
    if !key_pupils.is_empty() {
        tx.execute(&st.put_keys, &[&key_pupils, &key_bytes]).await?;
    }
    Ok(results)
}

/// The events of a caller's requests, inserted with one statement.
#[derive(Default)]
struct Rows<'a> {
    positions: Vec<i64>,
    /// The group's time, or what a restored request keeps.
    recorded: Vec<chrono::DateTime<Utc>>,
    streams: Vec<i64>,
    versions: Vec<i64>,
    ids: Vec<Uuid>,
    types: Vec<&'a str>,
    schema: Vec<i16>,
    occurred: Vec<chrono::DateTime<Utc>>,
    schools: Vec<Uuid>,
    actors: Vec<String>,
    correlations: Vec<Option<Uuid>>,
    causations: Vec<Option<Uuid>>,
    payloads: Vec<&'a str>,
}

impl<'a> Rows<'a> {
    fn push(&mut self, request: &'a AppendRequest, stream_id: i64, version: i64, position: i64) {
        for (i, e) in (1..).zip(&request.events) {
            self.positions.push(position + i);
            self.streams.push(stream_id);
            self.versions.push(version + i);
            self.ids.push(e.event_id.0);
            self.types.push(e.event_type.as_str());
            self.schema
                .push(i16::try_from(e.schema_version).unwrap_or(i16::MAX));
            self.occurred.push(e.occurred_at);
            self.schools.push(e.school_id.0);
            self.actors.push(e.actor.to_string());
            self.correlations.push(e.correlation_id.map(|c| c.0));
            self.causations.push(e.causation_id.map(|c| c.0));
            self.payloads.push(e.payload.get());
        }
    }

    async fn flush(
        &mut self,
        tx: &Transaction<'_>,
        st: &Statements,
    ) -> Result<(), tokio_postgres::Error> {
        if self.positions.is_empty() {
            return Ok(());
        }
        tx.execute(
            &st.insert,
            &[
                &self.positions,
                &self.recorded,
                &self.streams,
                &self.versions,
                &self.ids,
                &self.types,
                &self.schema,
                &self.occurred,
                &self.schools,
                &self.actors,
                &self.correlations,
                &self.causations,
                &self.payloads,
            ],
        )
        .await?;
        *self = Rows::default();
        Ok(())
    }
}

/// A retried request: every id already stored, in this stream, in this order, with this
/// payload → the first result. A partial or different match is refused.
async fn replayed(
    tx: &Transaction<'_>,
    st: &Statements,
    request: &AppendRequest,
) -> Result<Option<AppendResult>, JobFailure> {
    let ids: Vec<Uuid> = request.events.iter().map(|e| e.event_id.0).collect();
    let distinct: HashSet<&Uuid> = ids.iter().collect();
    if distinct.len() != ids.len() {
        return Err(JobFailure::Refused(StoreError::IdempotencyMismatch {
            event_id: request.events[0].event_id,
        }));
    }
    let rows = tx.query(&st.existing, &[&ids]).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mismatch = |id: Uuid| {
        JobFailure::Refused(StoreError::IdempotencyMismatch {
            event_id: suivi_domain::ids::EventId(id),
        })
    };
    if rows.len() != ids.len() {
        return Err(mismatch(rows[0].get(0)));
    }
    for (row, new) in rows.iter().zip(&request.events) {
        let id: Uuid = row.get(0);
        let stream: String = row.get(3);
        let payload: String = row.get(4);
        if id != new.event_id.0 || stream != request.stream.as_str() || payload != new.payload.get()
        {
            return Err(mismatch(new.event_id.0));
        }
    }
    let first: i64 = rows[0].get(1);
    let last: i64 = rows[rows.len() - 1].get(1);
    let version: i64 = rows[rows.len() - 1].get(2);
    Ok(Some(AppendResult {
        stream_version: version as u64,
        first_position: first as u64,
        last_position: last as u64,
    }))
}
