//! The two ways to drive the server.
//!
//! Closed loop: `connections` clients, each sending its next request as soon as the last
//! answer is in; the throughput is what the server sustains at that concurrency.
//!
//! Open loop: requests are due at a fixed rate whatever the server does, and a request's
//! latency runs from the instant it was *due*, not from when a connection was free to send
//! it; a slow answer therefore shows in the latency of the requests queued behind it (no
//! coordinated omission, as wrk2 does it).

use crate::http::{Conn, Request};
use crate::stats::Latencies;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinSet;
use tokio::time::Instant;

#[derive(Default)]
pub struct Outcome {
    pub ok: u64,
    pub failed: u64,
    /// Requests due in an open-loop run that were not answered by the end.
    pub unfinished: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
    pub first_error: Option<String>,
}

impl Outcome {
    fn merge(&mut self, other: Outcome) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.latencies.extend(other.latencies);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn failure(&mut self, error: String) {
        self.failed += 1;
        if self.first_error.is_none() {
            self.first_error = Some(error);
        }
    }
}

/// Sends one request on `conn` (reconnecting after an error) and records the outcome.
async fn exchange(
    addr: SocketAddr,
    conn: &mut Option<Conn>,
    request: &Request,
    since: Instant,
    out: &mut Outcome,
) {
    if conn.is_none() {
        match Conn::connect(addr).await {
            Ok(c) => *conn = Some(c),
            Err(e) => return out.failure(format!("connect: {e}")),
        }
    }
    let Some(c) = conn.as_mut() else { return };
    let result = match c.send(request).await {
        Ok(response) if response.graphql_ok() => Ok(()),
        Ok(response) => Err(format!(
            "status {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body[..response.body.len().min(300)])
        )),
        Err(e) => {
            *conn = None;
            Err(format!("io: {e}"))
        }
    };
    match result {
        Ok(()) => {
            out.ok += 1;
            out.latencies.record(since.elapsed());
        }
        Err(e) => out.failure(e),
    }
}

pub async fn closed_loop(
    addr: SocketAddr,
    request: Request,
    connections: usize,
    duration: Duration,
) -> Outcome {
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = JoinSet::new();
    for _ in 0..connections {
        let request = request.clone();
        workers.spawn(async move {
            let mut out = Outcome::default();
            let mut conn = None;
            while Instant::now() < deadline {
                exchange(addr, &mut conn, &request, Instant::now(), &mut out).await;
            }
            out
        });
    }
    let mut total = Outcome::default();
    while let Some(done) = workers.join_next().await {
        if let Ok(out) = done {
            total.merge(out);
        }
    }
    total.elapsed = start.elapsed();
    total
}

/// Requests due at `rate` per second for `duration`, sent over up to `connections`
/// keep-alive connections. Answers still missing `grace` after the last one was due count
/// as unfinished.
pub async fn open_loop(
    addr: SocketAddr,
    request: Request,
    rate: f64,
    connections: usize,
    duration: Duration,
) -> Outcome {
    let grace = Duration::from_secs(5);
    let (due_tx, due_rx) = mpsc::unbounded_channel::<Instant>();
    let due_rx = Arc::new(Mutex::new(due_rx));
    let mut workers = JoinSet::new();
    let start = Instant::now();
    let end = start + duration + grace;
    for _ in 0..connections {
        let (request, due_rx) = (request.clone(), due_rx.clone());
        workers.spawn(async move {
            let mut out = Outcome::default();
            let mut conn = None;
            loop {
                let next = async { due_rx.lock().await.recv().await };
                let Ok(Some(due)) = tokio::time::timeout_at(end, next).await else {
                    break;
                };
                let sent = exchange(addr, &mut conn, &request, due, &mut out);
                if tokio::time::timeout_at(end, sent).await.is_err() {
                    break;
                }
            }
            out
        });
    }
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total_due = (rate * duration.as_secs_f64()).round() as u64;
    let mut sent = 0u64;
    while sent < total_due {
        let now = Instant::now();
        // Everything due by now, then sleep until the next one (the timer's granularity
        // is a millisecond, so at 1,000/s and more requests leave in small bursts).
        while sent < total_due && start + interval.mul_f64(sent as f64) <= now {
            let _ = due_tx.send(start + interval.mul_f64(sent as f64));
            sent += 1;
        }
        if sent < total_due {
            tokio::time::sleep_until(start + interval.mul_f64(sent as f64)).await;
        }
    }
    drop(due_tx);
    let mut total = Outcome::default();
    while let Some(done) = workers.join_next().await {
        if let Ok(out) = done {
            total.merge(out);
        }
    }
    total.unfinished = total_due.saturating_sub(total.ok + total.failed);
    // Answers that came in after the last request was due count over the time they took.
    total.elapsed = start.elapsed().max(duration);
    total
}
