//! The real server on a free port over a real SQLite store in a temporary directory, and
//! small HTTP and graphql-transport-ws clients. The server checks HS256 bearer tokens
//! signed with `SECRET`; the plain helpers act as the school's administrator, the `_as`
//! ones with any token.

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use suivi_domain::ids::SchoolId;
use suivi_domain::Role;
use suivi_graphql::audit::AccessJournal;
use suivi_graphql::identity::Within;
use suivi_graphql::jwt::{issue_hs256, Claims, JwtVerifier};
use suivi_graphql::{App, Identity, IdentitySource};
use suivi_store::EventStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// The secret the test servers check tokens with.
pub const SECRET: &str = "e2e tests: a secret of at least 32 bytes";

pub struct Server {
    pub addr: SocketAddr,
    pub store: Arc<dyn EventStore>,
    pub school: SchoolId,
    /// The administrator's token, sent by the plain helpers.
    pub admin: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A server checking HS256 tokens signed with `SECRET`.
    pub async fn start() -> Server {
        let verifier = JwtVerifier::hs256(SECRET.as_bytes()).expect("a long enough secret");
        Server::start_with(verifier).await
    }

    /// A server checking tokens with `verifier`.
    pub async fn start_with(verifier: JwtVerifier) -> Server {
        Server::start_limited(verifier, &suivi_graphql::Limits::default()).await
    }

    /// A server checking tokens with `verifier`, with the request limits `limits`.
    pub async fn start_limited(verifier: JwtVerifier, limits: &suivi_graphql::Limits) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("suivi.db").display());
        Server::start_at(dir, &url, verifier, limits, AccessJournal::in_memory()).await
    }

    /// A server on the store at `url` (PostgreSQL, say), journaling staff reads as `serve`
    /// does: in the journal beside that store.
    pub async fn start_on(url: &str) -> Server {
        let journal = AccessJournal::for_store(url)
            .await
            .expect("open the access journal");
        let dir = tempfile::tempdir().expect("temp dir");
        let verifier = JwtVerifier::hs256(SECRET.as_bytes()).expect("a long enough secret");
        let limits = suivi_graphql::Limits::default();
        Server::start_at(dir, url, verifier, &limits, journal).await
    }

    async fn start_at(
        dir: tempfile::TempDir,
        url: &str,
        verifier: JwtVerifier,
        limits: &suivi_graphql::Limits,
        journal: AccessJournal,
    ) -> Server {
        let store = suivi_store::open(url).await.expect("open the store");
        let school = SchoolId(uuid::Uuid::now_v7());
        let app = App::with_journal(
            store.clone(),
            IdentitySource::Jwt {
                verifier,
                school,
                provider: None,
            },
            limits,
            journal,
        )
        .await
        .expect("start the app");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let signal = async {
                let _ = stopped.await;
            };
            app.serve_on(listener, signal).await.expect("serve");
        });
        Server {
            addr,
            store,
            school,
            admin: token(&Identity::admin(school)),
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    pub async fn head(&self) -> u64 {
        self.store.head().await.expect("head")
    }

    /// A token of this school for `role` and `subject`, valid an hour.
    pub fn token(&self, role: Role, subject: impl ToString) -> String {
        token(&Identity {
            role,
            subject_id: subject.to_string().parse().expect("a uuid subject"),
            school_id: self.school,
            within: Default::default(),
        })
    }

    /// A token like `token`, narrowed to scope ids.
    pub fn token_within(&self, role: Role, subject: impl ToString, within: Within) -> String {
        token(&Identity {
            role,
            subject_id: subject.to_string().parse().expect("a uuid subject"),
            school_id: self.school,
            within,
        })
    }

    /// POSTs a raw body to /graphql as the administrator: (status, JSON answer).
    pub async fn post_raw(&self, body: &str) -> (u16, Value) {
        let bearer = format!("Bearer {}", self.admin);
        self.request("POST", "/graphql", Some(&bearer), body).await
    }

    /// A raw HTTP request with an optional `Authorization` value: (status, JSON answer or
    /// the body as a JSON string when it is not JSON).
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: &str,
    ) -> (u16, Value) {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{}",
            self.addr,
            body.len(),
            body
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("http answer");
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let body = &raw[split + 4..];
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let body = if head.contains("transfer-encoding: chunked") {
            dechunk(body)
        } else {
            body.to_vec()
        };
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        (status, value)
    }

    /// Runs a query or mutation; returns the whole GraphQL answer.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let admin = self.admin.clone();
        self.gql_as(&admin, query, variables).await
    }

    /// Runs a query or mutation with a token; returns the whole GraphQL answer.
    pub async fn gql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = json!({"query": query, "variables": variables}).to_string();
        let bearer = format!("Bearer {token}");
        let (status, answer) = self.request("POST", "/graphql", Some(&bearer), &body).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// Runs a query or mutation that must succeed; returns `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let answer = self.gql(query, variables).await;
        assert!(
            answer.get("errors").is_none(),
            "unexpected errors: {answer}"
        );
        answer["data"].clone()
    }

    /// Subscribes as the administrator (the token in the upgrade's header).
    pub async fn subscribe(&self, query: &str, variables: Value) -> Subscription {
        let admin = self.admin.clone();
        self.subscribe_as(&admin, query, variables).await
    }

    /// Subscribes with a token sent in the `connection_init` payload, as a browser does.
    pub async fn subscribe_as(&self, token: &str, query: &str, variables: Value) -> Subscription {
        let mut sub = self
            .connect(None, json!({"Authorization": format!("Bearer {token}")}))
            .await
            .expect("the socket opens");
        let ack = sub.message().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        sub.start(query, variables).await;
        sub
    }

    /// Opens a graphql-transport-ws socket (with an optional `Authorization` header) and
    /// sends `connection_init` with `payload`. `Err(status)` when the upgrade is refused.
    pub async fn connect(
        &self,
        authorization: Option<&str>,
        payload: Value,
    ) -> Result<Subscription, u16> {
        let mut request = format!("ws://{}/graphql/ws", self.addr)
            .into_client_request()
            .expect("ws request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        if let Some(value) = authorization {
            request
                .headers_mut()
                .insert("Authorization", value.parse().expect("header"));
        }
        let (mut ws, response) = match tokio_tungstenite::connect_async(request).await {
            Ok(ok) => ok,
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                return Err(response.status().as_u16())
            }
            Err(e) => panic!("ws connect: {e}"),
        };
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws")
        );
        ws.send(Message::text(
            json!({"type": "connection_init", "payload": payload}).to_string(),
        ))
        .await
        .expect("init");
        Ok(Subscription { ws })
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("the server stops in time")
                .expect("the server task ends cleanly");
        }
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

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

pub struct Subscription {
    ws: Ws,
}

impl Subscription {
    /// Sends `subscribe` (id "1").
    pub async fn start(&mut self, query: &str, variables: Value) {
        self.ws
            .send(Message::text(
                json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
                    .to_string(),
            ))
            .await
            .expect("subscribe");
    }

    /// The next protocol message (pings are answered and skipped).
    pub async fn message(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(15), self.ws.next())
                .await
                .expect("a message within 15 s")
                .expect("the socket stays open")
                .expect("a websocket message");
            match msg {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(text.as_str()).expect("JSON message");
                    if value["type"] == "ping" {
                        let _ = self
                            .ws
                            .send(Message::text(json!({"type": "pong"}).to_string()))
                            .await;
                        continue;
                    }
                    return value;
                }
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next `next` payload's data.
    pub async fn next_data(&mut self) -> Value {
        let msg = self.message().await;
        assert_eq!(msg["type"], "next", "{msg}");
        assert!(msg["payload"].get("errors").is_none(), "{msg}");
        msg["payload"]["data"].clone()
    }

    /// Waits up to `within` for a message; `None` if none came.
    pub async fn maybe_message(&mut self, within: Duration) -> Option<Value> {
        tokio::time::timeout(within, self.message()).await.ok()
    }
}

/// Proving a subscription live, so that "this was not pushed" means something.
impl Subscription {
    /// Writes probes (`probe(i)` writes the i-th and returns what its push carries) until
    /// one is pushed, then reads on to the push of the last probe written: from then on
    /// the subscription is live, and every later push is in order. Each message on the
    /// way must be a probe's (`pushed(message, tag)`). A probe lost because the
    /// subscription was not live yet is followed by another, not by a fixed wait.
    pub async fn live<F, Fut>(&mut self, mut probe: F, pushed: impl Fn(&Value, &Value) -> bool)
    where
        F: FnMut(usize) -> Fut,
        Fut: std::future::Future<Output = Value>,
    {
        let mut tags: Vec<Value> = Vec::new();
        for i in 0..60 {
            tags.push(probe(i).await);
            let Some(mut msg) = self.maybe_message(Duration::from_millis(250)).await else {
                continue;
            };
            loop {
                assert!(
                    tags.iter().any(|t| pushed(&msg, t)),
                    "only probes are pushed before the check: {msg}"
                );
                if tags.last().is_some_and(|t| pushed(&msg, t)) {
                    return;
                }
                msg = self.message().await;
            }
        }
        panic!("no probe reached the subscription in 60 tries");
    }

    /// On a live subscription: nothing was pushed since the last message read, for the
    /// probe written now (`probe` returns what its push carries) is the next message.
    /// Returns that message.
    pub async fn quiet(
        &mut self,
        probe: impl std::future::Future<Output = Value>,
        pushed: impl Fn(&Value, &Value) -> bool,
    ) -> Value {
        let tag = probe.await;
        let msg = self.message().await;
        assert!(
            pushed(&msg, &tag),
            "nothing but the probe was to be pushed: {msg}"
        );
        msg
    }
}

/// The close frame the server ends the socket with (code, reason), within 15 s.
impl Subscription {
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(15), self.ws.next())
                .await
                .expect("a message within 15 s");
            match msg {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (frame.code.into(), frame.reason.to_string())
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return (0, String::new()),
                Some(Ok(_)) => continue,
            }
        }
    }
}

/// A token signed with `SECRET`, valid an hour.
pub fn token(identity: &Identity) -> String {
    let claims = Claims::new(identity, chrono::Utc::now(), Duration::from_secs(3600));
    issue_hs256(SECRET.as_bytes(), &claims).expect("sign a token")
}

/// The `code` extension of the first error.
pub fn code(answer: &Value) -> String {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {answer}"))
        .to_owned()
}

pub fn message(answer: &Value) -> String {
    answer["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {answer}"))
        .to_owned()
}
