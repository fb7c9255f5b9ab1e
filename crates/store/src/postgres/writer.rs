//! Group commit for the PostgreSQL store: one task per process drains every queued append
//! into one transaction (one savepoint per caller, so one caller's conflict fails only that
//! caller), under the advisory lock that orders commits across servers.

use super::{pg, Job, PostgresStats};
use crate::{AppendRequest, AppendResult, ExpectedVersion, StoreError};
use chrono::Utc;
use std::collections::HashSet;
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
    stream: Statement,
    new_stream: Statement,
    insert: Statement,
    bump: Statement,
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
        stream: client
            .prepare("SELECT id, version FROM streams WHERE name = $1")
            .await?,
        new_stream: client
            .prepare("INSERT INTO streams (name, version) VALUES ($1, 0) RETURNING id")
            .await?,
        insert: client
            .prepare(
                "INSERT INTO events (global_position, stream_id, stream_version, event_id, event_type, \
                   schema_version, occurred_at, recorded_at, school_id, actor, correlation_id, causation_id, payload) \
                 SELECT u.p, $2, u.v, u.id, u.t, u.sv, u.oa, $3, u.sch, u.a, u.c, u.ca, u.pl::json \
                 FROM unnest($1::bigint[], $4::bigint[], $5::uuid[], $6::text[], $7::smallint[], \
                   $8::timestamptz[], $9::uuid[], $10::text[], $11::uuid[], $12::uuid[], $13::text[]) \
                   AS u(p, v, id, t, sv, oa, sch, a, c, ca, pl)",
            )
            .await?,
        bump: client
            .prepare("UPDATE streams SET version = $2 WHERE id = $1")
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
        match append_job(&tx, st, &job.requests, &mut local, recorded_at).await {
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
    position: &mut i64,
    recorded_at: chrono::DateTime<Utc>,
) -> Result<Vec<AppendResult>, JobFailure> {
    let mut results = Vec::with_capacity(requests.len());
    for request in requests {
        if let Some(result) = replayed(tx, st, request).await? {
            results.push(result);
            continue;
        }
        let row = tx
            .query_opt(&st.stream, &[&request.stream.as_str()])
            .await?;
        let (stream_id, version): (i64, i64) = match &row {
            Some(r) => (r.get(0), r.get(1)),
            None => (-1, 0),
        };
        let actual = row.as_ref().map(|_| version as u64);
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
        let stream_id = if row.is_some() {
            stream_id
        } else {
            tx.query_one(&st.new_stream, &[&request.stream.as_str()])
                .await?
                .get(0)
        };
        let n = request.events.len() as i64;
        let positions: Vec<i64> = (1..=n).map(|i| *position + i).collect();
        let versions: Vec<i64> = (1..=n).map(|i| version + i).collect();
        let ids: Vec<Uuid> = request.events.iter().map(|e| e.event_id.0).collect();
        let types: Vec<&str> = request
            .events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        let schema: Vec<i16> = request
            .events
            .iter()
            .map(|e| i16::try_from(e.schema_version).unwrap_or(i16::MAX))
            .collect();
        let occurred: Vec<chrono::DateTime<Utc>> =
            request.events.iter().map(|e| e.occurred_at).collect();
        let schools: Vec<Uuid> = request.events.iter().map(|e| e.school_id.0).collect();
        let actors: Vec<String> = request.events.iter().map(|e| e.actor.to_string()).collect();
        let correlations: Vec<Option<Uuid>> = request
            .events
            .iter()
            .map(|e| e.correlation_id.map(|c| c.0))
            .collect();
        let causations: Vec<Option<Uuid>> = request
            .events
            .iter()
            .map(|e| e.causation_id.map(|c| c.0))
            .collect();
        let payloads: Vec<&str> = request.events.iter().map(|e| e.payload.get()).collect();
        tx.execute(
            &st.insert,
            &[
                &positions,
                &stream_id,
                &recorded_at,
                &versions,
                &ids,
                &types,
                &schema,
                &occurred,
                &schools,
                &actors,
                &correlations,
                &causations,
                &payloads,
            ],
        )
        .await?;
        tx.execute(&st.bump, &[&stream_id, &(version + n)]).await?;
        results.push(AppendResult {
            stream_version: (version + n) as u64,
            first_position: (*position + 1) as u64,
            last_position: (*position + n) as u64,
        });
        *position += n;
    }
    Ok(results)
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
