//! The WebSocket endpoint: `graphql-transport-ws` (and the legacy `graphql-ws` protocol of
//! subscriptions-transport-ws), written here rather than taken from async-graphql-axum so
//! that a socket is held to what an HTTP request is held to:
//!
//! - the identity comes from the upgrade's `Authorization` header or the `connection_init`
//!   payload, checked by the same `IdentitySource`; the socket closes (4403) the moment its
//!   token expires, and every operation is refused once it has;
//! - a message is at most `MAX_BODY_BYTES` (the socket closes with 1009 beyond), each
//!   operation runs through the same schema (depth, complexity, the write budget, name
//!   lengths) and its errors are trimmed as HTTP's are (`crate::server::tidy`);
//! - a subscription whose identity lost the scope of what it follows ends with a
//!   `SCOPE_LOST` error, and the socket closes with 4403 and the reason;
//! - the close codes are the protocol's: 4400 for a malformed message, 4401 for an
//!   operation before the acknowledgement, 4403 for a refused identity, 4408 when no
//!   `connection_init` came in time, 4409 for a second subscriber under one id, 4429 for a
//!   second `connection_init`.

use crate::errors::SCOPE_LOST;
use crate::identity::{init_authorization, Identity};
use crate::limits::REQUEST_TIMEOUT;
use crate::server::{tidy, AppState};
use async_graphql::http::WebSocketProtocols;
use async_graphql::{Request, Response};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long a client has to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// An identity and the instant its token expires.
pub type Bearer = (Identity, DateTime<Utc>);

/// Operations one socket may run at once.
pub const MAX_OPERATIONS: usize = 32;

/// What a running operation tells the socket: its id and the serial number of its start
/// (an id the client completed and reused names another operation, whose messages only
/// count).
enum Out {
    Next(String, u64, Box<Response>),
    Done(String, u64),
}

/// Why the server closes a socket: the code and the reason (at most 123 bytes).
struct Close(u16, String);

impl Close {
    fn frame(self) -> Message {
        let mut reason = self.1;
        if reason.len() > 123 {
            let mut cut = 120;
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            reason.truncate(cut);
            reason.push('…');
        }
        Message::Close(Some(CloseFrame {
            code: self.0,
            reason: Utf8Bytes::from(reason),
        }))
    }
}

/// The names a protocol gives its messages.
struct Names {
    subscribe: &'static str,
    stop: &'static str,
    next: &'static str,
}

fn names(protocol: WebSocketProtocols) -> Names {
    match protocol {
        WebSocketProtocols::GraphQLWS => Names {
            subscribe: "subscribe",
            stop: "complete",
            next: "next",
        },
        // The legacy subscriptions-transport-ws protocol.
        _ => Names {
            subscribe: "start",
            stop: "stop",
            next: "data",
        },
    }
}

struct Connection {
    state: AppState,
    names: Names,
    bearer: Option<Bearer>,
    /// A header identity is known before `connection_init`, but operations still wait for
    /// the acknowledgement.
    acknowledged: bool,
    operations: HashMap<String, (u64, JoinHandle<()>)>,
    started: u64,
    out: mpsc::Sender<Out>,
}

/// Serves one upgraded socket until the client leaves, the token expires, the server shuts
/// down or the protocol is broken.
pub async fn serve(mut socket: WebSocket, state: AppState, from_header: Option<Bearer>) {
    // The protocol the upgrade agreed on (none named: graphql-transport-ws).
    let protocol = socket
        .protocol()
        .and_then(|p| p.to_str().ok())
        .and_then(|p| p.parse().ok())
        .unwrap_or(WebSocketProtocols::GraphQLWS);
    let (out, mut results) = mpsc::channel(64);
    let mut shutdown = state.services.shutdown.clone();
    let mut connection = Connection {
        names: names(protocol),
        state,
        bearer: from_header,
        acknowledged: false,
        operations: HashMap::new(),
        started: 0,
        out,
    };
    let init_deadline = tokio::time::Instant::now() + INIT_TIMEOUT;
    let close = loop {
        let expiry = connection.bearer.as_ref().map(|(_, until)| *until);
        let expired = async {
            match expiry {
                Some(until) => {
                    let wait = (until - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                    tokio::time::sleep(wait).await
                }
                None => std::future::pending().await,
            }
        };
        let init_late = async {
            if connection.acknowledged {
                std::future::pending().await
            } else {
                tokio::time::sleep_until(init_deadline).await
            }
        };
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    match connection.handle(text.as_str(), &mut socket).await {
                        Ok(()) => continue,
                        Err(close) => break Some(close),
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    break Some(Close(4400, "messages are JSON text frames".into()))
                }
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Ok(_)) => continue,
                // Over the size limit, or a broken frame.
                Some(Err(error)) => {
                    tracing::debug!(%error, "websocket read failed");
                    break Some(Close(1009, format!(
                        "a message is at most {} bytes", crate::limits::MAX_BODY_BYTES
                    )));
                }
            },
            Some(result) = results.recv() => match result {
                Out::Next(id, serial, response) => {
                    if !connection.runs(&id, serial) {
                        continue;
                    }
                    let lost = scope_lost(&response);
                    let message = connection.result_message(&id, response);
                    if socket.send(message).await.is_err() {
                        break None;
                    }
                    if let Some(reason) = lost {
                        break Some(Close(4403, format!("Forbidden: {reason}")));
                    }
                }
                Out::Done(id, serial) => {
                    if connection.runs(&id, serial) {
                        connection.operations.remove(&id);
                        let complete = json!({"type": "complete", "id": id}).to_string();
                        if socket.send(Message::text(complete)).await.is_err() {
                            break None;
                        }
                    }
                }
            },
            () = expired => break Some(Close(4403, "Forbidden: the token has expired".into())),
            () = init_late => break Some(Close(4408, "Connection initialisation timeout".into())),
            () = stopped(&mut shutdown) => break Some(Close(1001, "the server is shutting down".into())),
        }
    };
    for (_, (_, operation)) in connection.operations.drain() {
        operation.abort();
    }
    if let Some(close) = close {
        let _ = socket.send(close.frame()).await;
    }
}

async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The reason a subscription ended because its identity lost the scope, if it did.
fn scope_lost(response: &Response) -> Option<String> {
    response.errors.iter().find_map(|error| {
        let code = error.extensions.as_ref()?.get("code")?;
        (code == &async_graphql::Value::from(SCOPE_LOST)).then(|| error.message.clone())
    })
}

impl Connection {
    async fn handle(&mut self, text: &str, socket: &mut WebSocket) -> Result<(), Close> {
        let message: Value = serde_json::from_str(text)
            .map_err(|_| Close(4400, "the message is not JSON".into()))?;
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| Close(4400, "the message has no type".into()))?;
        match kind {
            "connection_init" => {
                if self.acknowledged {
                    return Err(Close(4429, "Too many initialisation requests".into()));
                }
                if self.bearer.is_none() {
                    let payload = message.get("payload").cloned().unwrap_or(Value::Null);
                    let bearer = self
                        .state
                        .identities
                        .identify_bearer(init_authorization(&payload))
                        .await
                        .map_err(|e| Close(4403, format!("UNAUTHENTICATED: {e}")))?;
                    self.bearer = Some(bearer);
                }
                self.acknowledged = true;
                let ack = json!({"type": "connection_ack"}).to_string();
                socket
                    .send(Message::text(ack))
                    .await
                    .map_err(|_| Close(1011, "the socket failed".into()))
            }
            "ping" => {
                let pong = json!({"type": "pong"}).to_string();
                socket
                    .send(Message::text(pong))
                    .await
                    .map_err(|_| Close(1011, "the socket failed".into()))
            }
            "pong" => Ok(()),
            "connection_terminate" => Err(Close(1000, "terminated by the client".into())),
            kind if kind == self.names.subscribe => self.subscribe(&message),
            kind if kind == self.names.stop => {
                let id = operation_id(&message)?;
                if let Some((_, operation)) = self.operations.remove(id) {
                    operation.abort();
                }
                Ok(())
            }
            other => Err(Close(4400, format!("unknown message type {:.40?}", other))),
        }
    }

    /// Whether `id` is the operation started as `serial` (not one completed since).
    fn runs(&self, id: &str, serial: u64) -> bool {
        self.operations.get(id).is_some_and(|(s, _)| *s == serial)
    }

    fn subscribe(&mut self, message: &Value) -> Result<(), Close> {
        if !self.acknowledged {
            return Err(Close(4401, "Unauthorized".into()));
        }
        let id = operation_id(message)?.to_owned();
        if self.operations.contains_key(&id) {
            return Err(Close(
                4409,
                format!("Subscriber for {id:.60} already exists"),
            ));
        }
        if self.operations.len() >= MAX_OPERATIONS {
            return Err(Close(
                4429,
                format!("at most {MAX_OPERATIONS} operations at once on one socket"),
            ));
        }
        let Some((identity, until)) = self.bearer.clone() else {
            return Err(Close(4401, "Unauthorized".into()));
        };
        if until <= Utc::now() {
            return Err(Close(4403, "Forbidden: the token has expired".into()));
        }
        let request: Request = message
            .get("payload")
            .cloned()
            .and_then(|p| serde_json::from_value(p).ok())
            .ok_or_else(|| Close(4400, format!("operation {id:.60} has no valid payload")))?;
        let schema = self.state.schema.clone();
        let out = self.out.clone();
        let task_id = id.clone();
        self.started += 1;
        let serial = self.started;
        // A query or a mutation has HTTP's time limit; a subscription lives on.
        let single = !is_subscription(&request);
        let operation = tokio::spawn(async move {
            use futures::StreamExt as _;
            let mut stream = schema.execute_stream(request.data(identity));
            loop {
                let next = if single {
                    match tokio::time::timeout(REQUEST_TIMEOUT, stream.next()).await {
                        Ok(next) => next,
                        Err(_) => Some(timed_out()),
                    }
                } else {
                    stream.next().await
                };
                let Some(response) = next else { break };
                let message = Out::Next(task_id.clone(), serial, Box::new(response));
                if out.send(message).await.is_err() {
                    return;
                }
                if single {
                    break;
                }
            }
            let _ = out.send(Out::Done(task_id, serial)).await;
        });
        self.operations.insert(id, (serial, operation));
        Ok(())
    }

    /// A result as the protocol sends it: `next` (or `data`) with the data and the errors,
    /// a refusal included (`{"data": null, "errors": […]}`), then `complete`.
    fn result_message(&self, id: &str, mut response: Box<Response>) -> Message {
        tidy(&mut response);
        let text = json!({"type": self.names.next, "id": id, "payload": response});
        Message::text(text.to_string())
    }
}

/// Whether the operation the request runs is a subscription (unparsable: not one; the
/// schema reports the syntax error).
fn is_subscription(request: &Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let wanted = request.operation_name.as_deref();
    match &document.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Subscription,
        DocumentOperations::Multiple(ops) => ops.iter().any(|(name, op)| {
            wanted.is_none_or(|w| w == name.as_str()) && op.node.ty == OperationType::Subscription
        }),
    }
}

fn timed_out() -> Response {
    Response::from_errors(vec![async_graphql::ServerError::new(
        format!(
            "the operation took longer than {} s and was abandoned",
            REQUEST_TIMEOUT.as_secs()
        ),
        None,
    )])
}

fn operation_id(message: &Value) -> Result<&str, Close> {
    message
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Close(4400, "the message has no id".into()))
}
