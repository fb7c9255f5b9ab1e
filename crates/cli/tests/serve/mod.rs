//! `suivi serve` as a child process on a port the OS picks, with small HTTP and
//! graphql-transport-ws clients and the bearer token every request carries.
#![allow(dead_code)]

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// How the test authenticates: the one place to change if the way `suivi serve` checks
/// requests changes. Both servers check HS256 tokens with the same secret
/// (`SUIVI_JWT_SECRET`); every HTTP and WebSocket request carries an administrator's token
/// for the school, issued by `suivi token`.
pub struct Auth {
    /// Extra environment of the server processes.
    pub env: Vec<(String, String)>,
    /// `Authorization: Bearer …` on every request.
    pub bearer: Option<String>,
}

pub fn auth(school: uuid::Uuid) -> Auth {
    let secret = format!("two-servers-test-{}", uuid::Uuid::new_v4().simple());
    let subject = uuid::Uuid::now_v7().to_string();
    let school = school.to_string();
    let issued = std::process::Command::new(env!("CARGO_BIN_EXE_suivi"))
        .args(["token", "--role", "administrator", "--subject", &subject])
        .args(["--school", &school, "--ttl", "1h"])
        .env("SUIVI_JWT_SECRET", &secret)
        .env_remove("SUIVI_STORE")
        .output()
        .expect("suivi token runs");
    assert!(
        issued.status.success(),
        "suivi token: {}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let token = String::from_utf8_lossy(&issued.stdout).trim().to_owned();
    Auth {
        env: vec![("SUIVI_JWT_SECRET".to_owned(), secret)],
        bearer: Some(token),
    }
}

/// A `suivi serve` child process, killed when dropped.
pub struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    bearer: Option<String>,
}

impl Server {
    /// Starts `suivi serve` on a port the OS picks; the address comes from its log line.
    pub fn start(name: &str, store: &str, school: uuid::Uuid, auth: &Auth) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_suivi"))
            .args(["serve", "--store", store, "--addr", "127.0.0.1:0"])
            .args(["--school", &school.to_string()])
            .env_remove("SUIVI_STORE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .envs(auth.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start suivi serve");
        let stderr = child.stderr.take().expect("the child's stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (found, addr) = mpsc::channel();
        {
            let log = Arc::clone(&log);
            // Keeps draining the log so the child never blocks on a full pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("open http://").nth(1) {
                        if let Some(addr) = rest
                            .split('/')
                            .next()
                            .and_then(|a| a.parse::<SocketAddr>().ok())
                        {
                            let _ = found.send(addr);
                        }
                    }
                    log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        let addr = addr.recv_timeout(Duration::from_secs(60));
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            bearer: auth.bearer.clone(),
        };
        match addr {
            Ok(addr) => server.addr = addr,
            Err(_) => panic!("server {name} did not come up:\n{}", server.log()),
        }
        server
    }

    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    pub async fn http(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        let auth = match &self.bearer {
            Some(token) => format!("Authorization: Bearer {token}\r\n"),
            None => String::new(),
        };
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len(),
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP answer");
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status");
        let body = if head.contains("transfer-encoding: chunked") {
            dechunk(&raw[split + 4..])
        } else {
            raw[split + 4..].to_vec()
        };
        (status, serde_json::from_slice(&body).expect("a JSON body"))
    }

    /// A query or mutation that must succeed: its `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = json!({"query": query, "variables": variables}).to_string();
        let (status, answer) = self.http("POST", "/graphql", &body).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("errors").is_none(), "errors: {answer}");
        answer["data"].clone()
    }

    /// A mutation whose input type is `{Name}Input`; returns its global position.
    pub async fn mutate(&self, name: &str, input: Value) -> u64 {
        let mut chars = name.chars();
        let capital: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        let mutation =
            format!("mutation($input: {capital}Input!) {{ {name}(input: $input) {{ position }} }}");
        let data = self.ok(&mutation, json!({"input": input})).await;
        data[name]["position"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} answered no position: {data}"))
    }

    pub async fn position(&self) -> u64 {
        let (status, health) = self.http("GET", "/health", "").await;
        assert_eq!(status, 200, "{health}");
        health["position"].as_u64().expect("a position")
    }

    /// Waits until this server's projections have folded `position`.
    pub async fn reach(&self, position: u64) {
        let started = Instant::now();
        loop {
            let now = self.position().await;
            if now >= position {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "stuck at {now}, waiting for {position}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A graphql-transport-ws subscription; every `next` payload goes to the returned
    /// channel with the instant it arrived.
    pub async fn subscribe(
        &self,
        query: &str,
        variables: Value,
    ) -> tokio::sync::mpsc::UnboundedReceiver<(Instant, Value)> {
        let mut request = format!("ws://{}/graphql/ws", self.addr)
            .into_client_request()
            .expect("a ws request");
        let headers = request.headers_mut();
        headers.insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("a header"),
        );
        if let Some(token) = &self.bearer {
            headers.insert(
                "Authorization",
                format!("Bearer {token}").parse().expect("a header"),
            );
        }
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("ws connect");
        ws.send(Message::text(
            json!({"type": "connection_init"}).to_string(),
        ))
        .await
        .expect("connection_init");
        ws.send(Message::text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
                .to_string(),
        ))
        .await
        .expect("subscribe");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(message)) = ws.next().await {
                let at = Instant::now();
                let Message::Text(text) = message else {
                    continue;
                };
                let value: Value = serde_json::from_str(text.as_str()).expect("a JSON message");
                match value["type"].as_str() {
                    Some("ping") => {
                        let _ = ws
                            .send(Message::text(json!({"type": "pong"}).to_string()))
                            .await;
                    }
                    Some("connection_ack") | Some("pong") => {}
                    Some("next") => {
                        if tx.send((at, value["payload"].clone())).is_err() {
                            break;
                        }
                    }
                    _ => panic!("unexpected subscription message: {value}"),
                }
            }
        });
        rx
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let chunk = &rest[eol + 2..];
        out.extend_from_slice(&chunk[..size]);
        rest = chunk[size..]
            .strip_prefix(b"\r\n")
            .unwrap_or(&chunk[size..]);
    }
    out
}
