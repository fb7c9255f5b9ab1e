//! From an acknowledged write to a subscriber's receipt.
//!
//! One subscriber follows `gradeRecorded(pupilId)` over graphql-transport-ws; one writer
//! corrects that pupil's grade on a fresh assessment `writes` times a second, one mutation
//! at a time, each with a score not used in the last 2,000 writes, so a receipt is matched
//! to its write by the score. For each write: `sent` (mutation sent), `acked` (its answer
//! in), `received` (the subscriber's message in). The server answers a mutation only once
//! its projections show it, so the subscriber often has the news before the writer has its
//! answer: `received − acked` is then negative. `received − sent` bounds the delay from the
//! store's acknowledgement (which happens between the two) from above.

use crate::http::{Conn, Request};
use crate::stats::Latencies;
use crate::Target;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub struct NotifyOutcome {
    pub writes: u64,
    pub write_errors: u64,
    pub first_error: Option<String>,
    pub missed: u64,
    /// received − sent.
    pub from_send: Latencies,
    /// received − acked, negative values counted as 0 (`early` says how many).
    pub from_ack: Latencies,
    pub early: u64,
    /// acked − sent: the mutation's own latency.
    pub write_latency: Latencies,
}

const SUBSCRIPTION: &str =
    "subscription($p: ID!) { gradeRecorded(pupilId: $p) { score corrected position } }";

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        let message = ws
            .next()
            .await
            .ok_or_else(|| anyhow::anyhow!("the subscription socket closed"))??;
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str())?;
            if value["type"] == "ping" {
                ws.send(Message::text(json!({"type": "pong"}).to_string()))
                    .await?;
                continue;
            }
            return Ok(value);
        }
    }
}

async fn subscribe(target: &Target, pupil: &str) -> anyhow::Result<Ws> {
    let mut request = format!("ws://{}/graphql/ws", target.addr).into_client_request()?;
    let headers = request.headers_mut();
    headers.insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    if let Some(token) = &target.token {
        headers.insert("Authorization", format!("Bearer {token}").parse()?);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    let init = match &target.token {
        Some(token) => {
            json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})
        }
        None => json!({"type": "connection_init"}),
    };
    ws.send(Message::text(init.to_string())).await?;
    let ack = next_json(&mut ws).await?;
    anyhow::ensure!(ack["type"] == "connection_ack", "no connection_ack: {ack}");
    let subscribe = json!({"id": "1", "type": "subscribe",
        "payload": {"query": SUBSCRIPTION, "variables": {"p": pupil}}});
    ws.send(Message::text(subscribe.to_string())).await?;
    Ok(ws)
}

fn hundredths(score: &str) -> Option<i64> {
    let value: f64 = score.parse().ok()?;
    Some((value * 100.0).round() as i64)
}

fn score_text(h: i64) -> String {
    format!("{}.{:02}", h / 100, h % 100)
}

/// The subscriber: every grade change with the instant it came in.
fn listen(mut ws: Ws) -> mpsc::UnboundedReceiver<(Instant, i64)> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let message = match next_json(&mut ws).await {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("subscription ended: {e}");
                    return;
                }
            };
            let at = Instant::now();
            if message["type"] != "next" {
                eprintln!("subscription message: {message}");
                return;
            }
            let score = message["payload"]["data"]["gradeRecorded"]["score"]
                .as_str()
                .and_then(hundredths);
            if let Some(h) = score {
                if tx.send((at, h)).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Prepares a fresh assessment with a first grade, subscribes, then writes for `duration`.
pub async fn run(
    target: &Target,
    setup: &crate::Setup,
    writes_per_second: f64,
    duration: Duration,
) -> anyhow::Result<NotifyOutcome> {
    let mut conn = Conn::connect(target.addr).await?;
    let assessment = uuid::Uuid::now_v7().to_string();
    target
        .gql_ok(
            &mut conn,
            "mutation($i: ScheduleAssessmentInput!) { scheduleAssessment(input: $i) { position } }",
            json!({"i": {"id": assessment, "classId": setup.class_id, "subjectId": setup.subject_id,
                "periodId": setup.period_id, "title": "load test", "date": setup.period_starts_on}}),
        )
        .await?;
    target
        .gql_ok(
            &mut conn,
            "mutation($i: RecordGradeInput!) { recordGrade(input: $i) { position } }",
            json!({"i": {"assessmentId": assessment, "pupilId": setup.pupil_id, "score": "20"}}),
        )
        .await?;
    let ws = subscribe(target, &setup.pupil_id).await?;
    // The subscription starts from the state when it is set up: give it a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut receipts = listen(ws);

    let mut pending: HashMap<i64, (Instant, Instant)> = HashMap::new();
    let mut out = NotifyOutcome {
        writes: 0,
        write_errors: 0,
        first_error: None,
        missed: 0,
        from_send: Latencies::default(),
        from_ack: Latencies::default(),
        early: 0,
        write_latency: Latencies::default(),
    };
    let interval = Duration::from_secs_f64(1.0 / writes_per_second);
    let start = Instant::now();
    let mut k: i64 = 0;
    while start.elapsed() < duration {
        let due = start + interval.mul_f64(k as f64);
        tokio::time::sleep_until(due).await;
        k += 1;
        let h = k % 2000; // 0.01 … 19.99, never the first grade (20)
        let body = json!({
            "query": "mutation($i: CorrectGradeInput!) { correctGrade(input: $i) { position } }",
            "variables": {"i": {"assessmentId": assessment, "pupilId": setup.pupil_id, "score": score_text(h)}},
        });
        let request = Request::post_json(
            target.addr,
            "/graphql",
            target.token.as_deref(),
            &body.to_string(),
        );
        let sent = Instant::now();
        let answer = conn.send(&request).await.map(|r| {
            (
                r.graphql_ok(),
                r.status,
                String::from_utf8_lossy(r.body).into_owned(),
            )
        });
        let acked = Instant::now();
        out.writes += 1;
        match answer {
            Ok((true, _, _)) => {
                out.write_latency.record(acked - sent);
                pending.insert(h, (sent, acked));
            }
            Ok((false, status, text)) => {
                out.write_errors += 1;
                out.first_error
                    .get_or_insert_with(|| format!("status {status}: {text}"));
            }
            Err(e) => {
                out.write_errors += 1;
                out.first_error.get_or_insert_with(|| format!("io: {e}"));
                conn = Conn::connect(target.addr).await?;
            }
        }
        while let Ok((at, h)) = receipts.try_recv() {
            settle(&mut out, &mut pending, at, h);
        }
    }
    let end = Instant::now() + Duration::from_secs(2);
    while !pending.is_empty() {
        match tokio::time::timeout_at(end, receipts.recv()).await {
            Ok(Some((at, h))) => settle(&mut out, &mut pending, at, h),
            _ => break,
        }
    }
    out.missed = pending.len() as u64;
    Ok(out)
}

fn settle(
    out: &mut NotifyOutcome,
    pending: &mut HashMap<i64, (Instant, Instant)>,
    at: Instant,
    h: i64,
) {
    if let Some((sent, acked)) = pending.remove(&h) {
        out.from_send.record(at.saturating_duration_since(sent));
        if at < acked {
            out.early += 1;
        }
        out.from_ack.record(at.saturating_duration_since(acked));
    }
}
