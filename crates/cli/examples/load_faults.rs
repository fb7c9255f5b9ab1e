//! Under load and faults, on loopback, with the real `suivi` binary (issue 5):
//!
//! 1. **Load.** C clients send `recordLateness` mutations through GraphQL for D seconds while
//!    S subscribers listen to `events`. Afterwards the log grew by exactly the number of
//!    acknowledged mutations, and every subscriber received every new event, in order,
//!    none twice.
//! 2. **Faults.** K cycles: start the server on the same store, load it, `kill -9` it in the
//!    middle, restart. After each restart every acknowledged mutation's event is in the log,
//!    and what the restarted server serves equals an independent rebuild (`suivi query`).
//!
//! Run (release): `cargo run --release -p suivi-cli --example load_faults -- [CLIENTS SECONDS
//! SUBSCRIBERS CYCLES]` (default 64 60 4 20). Exits non-zero on any loss, duplicate or
//! difference; prints the figures for BENCHMARKS.md.

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "load-and-faults-secret-of-at-least-32-bytes";

type Failure = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, Failure>;

fn fail<T>(message: impl Into<String>) -> Res<T> {
    Err(message.into().into())
}

fn suivi_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the example's path");
    // target/<profile>/examples/load_faults → target/<profile>/suivi
    exe.parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("suivi"))
        .expect("the suivi binary beside the example")
}

fn run_suivi(args: &[&str]) -> Res<String> {
    let out = Command::new(suivi_bin())
        .args(args)
        .env("SUIVI_JWT_SECRET", SECRET)
        .env_remove("SUIVI_STORE")
        .output()?;
    if !out.status.success() {
        return fail(format!(
            "suivi {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn free_addr() -> Res<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(store: &str) -> Res<Server> {
        let addr = free_addr()?;
        let child = Command::new(suivi_bin())
            .args(["serve", "--store", store, "--addr", &addr.to_string()])
            .env("SUIVI_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(mut http) = Http::connect(addr).await {
                if http.get("/health").await.is_ok() {
                    return Ok(server);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        fail("the server did not come up within 60 s")
    }

    fn kill9(mut self) -> Res<()> {
        // SIGKILL: no shutdown hook runs.
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    fn stop(mut self) -> Res<()> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        self.child.wait()?;
        Ok(())
    }
}

/// A run that fails early (`?`) must not leave its server running: killed on drop (a
/// no-op once `stop` or `kill9` has reaped it).
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One keep-alive HTTP/1.1 connection (axum answers with a Content-Length).
struct Http {
    reader: BufReader<TcpStream>,
    addr: SocketAddr,
}

impl Http {
    async fn connect(addr: SocketAddr) -> Res<Http> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Http {
            reader: BufReader::new(stream),
            addr,
        })
    }

    async fn request(&mut self, head: String, body: &[u8]) -> Res<(u16, Vec<u8>)> {
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut status = 0;
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).await? == 0 {
                return fail("connection closed");
            }
            let text = line.trim_end();
            if text.is_empty() {
                break;
            }
            if status == 0 {
                status = text
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            } else if let Some((name, value)) = text.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse()?;
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await?;
        Ok((status, body))
    }

    async fn get(&mut self, path: &str) -> Res<Value> {
        let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr);
        let (status, body) = self.request(head, b"").await?;
        if status != 200 {
            return fail(format!("GET {path}: {status}"));
        }
        Ok(serde_json::from_slice(&body)?)
    }

    async fn graphql(&mut self, token: &str, query: &str, variables: Value) -> Res<Value> {
        let body = json!({"query": query, "variables": variables}).to_string();
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let (status, answer) = self.request(head, body.as_bytes()).await?;
        let answer: Value = serde_json::from_slice(&answer)?;
        if status != 200 || answer.get("errors").is_some() {
            return fail(format!("{status}: {answer}"));
        }
        Ok(answer["data"].clone())
    }
}

const RECORD: &str = "mutation($input: RecordLatenessInput!, $key: ID) { \
    recordLateness(input: $input, idempotencyKey: $key) { position eventIds } }";

#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    acked: AtomicU64,
    failed: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
    acked_ids: Mutex<Vec<String>>,
}

/// One client: lateness after lateness for pupils of the demo school, until `stop`.
async fn client(
    addr: SocketAddr,
    token: String,
    pupils: Arc<Vec<String>>,
    n: usize,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let mut http = None;
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        if http.is_none() {
            match Http::connect(addr).await {
                Ok(h) => http = Some(h),
                Err(_) => {
                    tally.failed.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            }
        }
        let Some(conn) = http.as_mut() else { continue };
        i += 1;
        let pupil = &pupils[(n * 7919 + i) % pupils.len()];
        let minute = (i % 59) + 1;
        let variables = json!({
            "input": {
                "pupilId": pupil,
                "at": format!("2026-03-{:02}T08:{minute:02}:00Z", 2 + (n % 25)),
                "minutes": 1 + (i % 30),
            },
            "key": uuid::Uuid::now_v7().to_string(),
        });
        tally.sent.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        match conn.graphql(&token, RECORD, variables).await {
            Ok(data) => {
                let elapsed = started.elapsed().as_micros() as u64;
                tally.acked.fetch_add(1, Ordering::Relaxed);
                tally.latencies_us.lock().expect("tally").push(elapsed);
                if let Some(id) = data["recordLateness"]["eventIds"][0].as_str() {
                    tally.acked_ids.lock().expect("tally").push(id.to_owned());
                }
            }
            Err(_) => {
                tally.failed.fetch_add(1, Ordering::Relaxed);
                http = None;
            }
        }
    }
}

/// A subscriber to `events(after)`: the positions it received, in arrival order.
async fn subscriber(
    addr: SocketAddr,
    token: String,
    after: u64,
    until: u64,
    deadline: Duration,
) -> Res<Vec<u64>> {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})
            .to_string(),
    ))
    .await?;
    ws.send(Message::text(
        json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($after: Int!) { events(after: $after) { position eventId } }",
            "variables": {"after": after}}})
        .to_string(),
    ))
    .await?;
    let mut positions = Vec::new();
    let end = Instant::now() + deadline;
    while positions.last().copied().unwrap_or(after) < until {
        let left = end.saturating_duration_since(Instant::now());
        let Ok(Some(message)) = tokio::time::timeout(left, ws.next()).await else {
            break;
        };
        let text = match message? {
            Message::Text(t) => t.to_string(),
            Message::Ping(p) => {
                ws.send(Message::Pong(p)).await?;
                continue;
            }
            _ => continue,
        };
        let value: Value = serde_json::from_str(&text)?;
        match value["type"].as_str() {
            Some("next") => {
                if let Some(p) = value["payload"]["data"]["events"]["position"].as_u64() {
                    positions.push(p);
                }
            }
            Some("error") | Some("complete") => return fail(format!("subscription: {value}")),
            _ => {}
        }
    }
    let _ = ws.close(None).await;
    Ok(positions)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

struct Fixture {
    school: String,
    pupils: Vec<String>,
}

fn demo_fixture(root: &Path) -> Res<Fixture> {
    let keys = std::fs::read_to_string(root.join("fixtures/demo/keys.jsonl"))?;
    let pupils = keys
        .lines()
        .map(|l| -> Res<String> {
            let v: Value = serde_json::from_str(l)?;
            Ok(v["pupil_id"].as_str().unwrap_or_default().to_owned())
        })
        .collect::<Res<Vec<_>>>()?;
    let events = std::fs::read_to_string(root.join("fixtures/demo/events.jsonl"))?;
    let first: Value = serde_json::from_str(events.lines().next().unwrap_or("{}"))?;
    let school = first["school_id"].as_str().unwrap_or_default().to_owned();
    Ok(Fixture { school, pupils })
}

fn log_ids(store: &str) -> Res<(u64, HashSet<String>)> {
    let out = run_suivi(&["export", "--store", store])?;
    let mut ids = HashSet::new();
    let mut count = 0;
    for line in out.lines() {
        let v: Value = serde_json::from_str(line)?;
        ids.insert(v["event_id"].as_str().unwrap_or_default().to_owned());
        count += 1;
    }
    Ok((count, ids))
}

async fn load(
    addr: SocketAddr,
    tokens: &[String],
    pupils: &Arc<Vec<String>>,
    clients: usize,
) -> (
    Arc<AtomicBool>,
    Arc<Tally>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let tasks = (0..clients)
        .map(|n| {
            tokio::spawn(client(
                addr,
                tokens[n % tokens.len()].clone(),
                pupils.clone(),
                n,
                stop.clone(),
                tally.clone(),
            ))
        })
        .collect();
    (stop, tally, tasks)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Res<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let clients = args.first().copied().unwrap_or(64);
    let seconds = args.get(1).copied().unwrap_or(60) as u64;
    let subscribers = args.get(2).copied().unwrap_or(4);
    let cycles = args.get(3).copied().unwrap_or(20);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixture = demo_fixture(&root)?;
    let dir = tempfile::tempdir()?;
    let store = format!("sqlite:{}", dir.path().join("load.db").display());
    run_suivi(&[
        "import",
        "--store",
        &store,
        "--keys",
        &root.join("fixtures/demo/keys.jsonl").display().to_string(),
        &root
            .join("fixtures/demo/events.jsonl")
            .display()
            .to_string(),
    ])?;
    // One user per client: the per-user write budget applies to each on its own.
    let mut tokens = Vec::new();
    for _ in 0..clients.max(1) {
        tokens.push(
            run_suivi(&[
                "token",
                "--role",
                "administrator",
                "--subject",
                &uuid::Uuid::now_v7().to_string(),
                "--school",
                &fixture.school,
                "--ttl",
                "2h",
            ])?
            .trim()
            .to_owned(),
        );
    }
    let token = tokens[0].clone();
    let pupils = Arc::new(fixture.pupils);

    // 1. Load.
    let server = Server::start(&store).await?;
    let mut http = Http::connect(server.addr).await?;
    let start_head = http.get("/health").await?["position"].as_u64().unwrap_or(0);
    let subs: Vec<_> = (0..subscribers)
        .map(|_| {
            let token = token.clone();
            let addr = server.addr;
            tokio::spawn(async move {
                // `until` is set high; the subscriber stops at its deadline.
                subscriber(
                    addr,
                    token,
                    start_head,
                    u64::MAX,
                    Duration::from_secs(seconds + 20),
                )
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (stop, tally, tasks) = load(server.addr, &tokens, &pupils, clients).await;
    let began = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let elapsed = began.elapsed().as_secs_f64();
    let end_head = http.get("/health").await?["position"].as_u64().unwrap_or(0);
    let acked = tally.acked.load(Ordering::Relaxed);
    let mut received = Vec::new();
    for s in subs {
        received.push(s.await??);
    }
    server.stop()?;
    let (log_len, _) = log_ids(&store)?;
    let mut lat = tally.latencies_us.lock().expect("tally").clone();
    lat.sort_unstable();
    println!(
        "load: {clients} clients, {elapsed:.1} s: {} sent, {acked} acknowledged ({:.0}/s), {} failed; \
         latency p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
        tally.sent.load(Ordering::Relaxed),
        acked as f64 / elapsed,
        tally.failed.load(Ordering::Relaxed),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
    );
    let failed = tally.failed.load(Ordering::Relaxed);
    if failed > 0 {
        return fail(format!(
            "{failed} requests failed under load without a fault"
        ));
    }
    let grown = log_len - start_head;
    println!("log grew by {grown} events (head {start_head} -> {log_len}); acknowledged {acked}");
    if grown != acked || end_head != log_len {
        return fail(format!(
            "the log grew by {grown} (served head {end_head}) but {acked} mutations were acknowledged"
        ));
    }
    let wanted: Vec<u64> = (start_head + 1..=log_len).collect();
    for (i, got) in received.iter().enumerate() {
        if *got != wanted {
            let dupes = got.len() - got.iter().collect::<HashSet<_>>().len();
            return fail(format!(
                "subscriber {i} received {} events ({dupes} twice), expected {} in order",
                got.len(),
                wanted.len()
            ));
        }
    }
    println!(
        "{subscribers} subscribers each received all {} new events in order, none twice",
        wanted.len()
    );

    // 2. Faults.
    let mut all_acked: Vec<String> = tally.acked_ids.lock().expect("tally").clone();
    let mut per_cycle = BTreeMap::new();
    for cycle in 1..=cycles {
        let server = Server::start(&store).await?;
        // The restarted server's projections against an independent rebuild.
        let mut http = Http::connect(server.addr).await?;
        let probe = &pupils[cycle % pupils.len()];
        let query =
            format!("{{ pupil(id: \"{probe}\") {{ attendanceRecords {{ id minutes }} }} }}");
        let served = http.graphql(&token, &query, json!({})).await?;
        let rebuilt: Value =
            serde_json::from_str(&run_suivi(&["query", "--store", &store, &query])?)?;
        if served != rebuilt["data"] {
            return fail(format!(
                "cycle {cycle}: served {served} but a rebuild gives {}",
                rebuilt["data"]
            ));
        }
        let (stop, tally, tasks) = load(server.addr, &tokens, &pupils, clients.min(16)).await;
        let run_for = Duration::from_millis(1500 + (cycle as u64 * 397) % 2000);
        tokio::time::sleep(run_for).await;
        server.kill9()?;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await?;
        }
        let acked_now = tally.acked_ids.lock().expect("tally").clone();
        all_acked.extend(acked_now.iter().cloned());
        let (_, ids) = log_ids(&store)?;
        let lost: Vec<&String> = all_acked.iter().filter(|id| !ids.contains(*id)).collect();
        if !lost.is_empty() {
            return fail(format!(
                "cycle {cycle}: {} acknowledged events lost",
                lost.len()
            ));
        }
        per_cycle.insert(cycle, acked_now.len());
    }
    println!(
        "faults: {cycles} kill -9 cycles, {} mutations acknowledged in them, 0 lost; \
         the restarted server matched a rebuild every time",
        per_cycle.values().sum::<usize>()
    );
    Ok(())
}
