//! The WebSocket held to what HTTP is held to: a socket closes (4403) when its token
//! expires; the graphql-transport-ws close codes; the size limit per message; errors that do
//! not echo a large input (over HTTP too); every staff read of a pupil's data journaled.

use crate::access::world;
use crate::harness::{Server, SECRET};
use chrono::{Duration, Utc};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use suivi_domain::Role;
use suivi_graphql::jwt::{issue_hs256, Claims};
use suivi_graphql::Identity;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws socket on which the test sends every message itself.
async fn raw(server: &Server) -> Ws {
    let mut request = format!("ws://{}/graphql/ws", server.addr)
        .into_client_request()
        .expect("a request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("a header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade")
        .0
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string()))
        .await
        .expect("sent");
}

/// The next text message, as JSON (pings answered).
async fn next(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(15), ws.next())
            .await
            .expect("a message within 15 s")
            .expect("the socket is open")
            .expect("a message");
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(text.as_str()).expect("JSON");
                if value["type"] == "ping" {
                    send(ws, json!({"type": "pong"})).await;
                    continue;
                }
                return value;
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => continue,
        }
    }
}

/// The close frame (code, reason) the server ends the socket with, within 15 s.
async fn closed(ws: &mut Ws) -> (u16, String) {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(15), ws.next())
            .await
            .expect("a close within 15 s");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (frame.code.into(), frame.reason.to_string())
            }
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return (0, String::new()),
            Some(Ok(_)) => continue,
        }
    }
}

fn init(token: &str) -> Value {
    json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})
}

#[tokio::test]
async fn an_open_socket_closes_when_its_token_expires() {
    let server = Server::start().await;
    let admin = Identity::admin(server.school);
    // Expired 18 s ago: still inside the 30 s leeway for about 12 s (room for a loaded
    // machine to open the socket; `closed` then waits up to 15 s for the close).
    let issued = Utc::now() - Duration::minutes(10);
    let ttl = std::time::Duration::from_secs(10 * 60 - 18);
    let token = issue_hs256(SECRET.as_bytes(), &Claims::new(&admin, issued, ttl)).expect("a token");
    let mut ws = raw(&server).await;
    send(&mut ws, init(&token)).await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    // The socket serves while the token holds (an administrator's query)…
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {"query": "{ accessJournal { pupilId } }"}}),
    )
    .await;
    let first = next(&mut ws).await;
    assert_eq!(first["type"], "next", "{first}");
    assert_eq!(
        first["payload"]["data"]["accessJournal"],
        json!([]),
        "{first}"
    );
    assert_eq!(next(&mut ws).await["type"], "complete");
    send(
        &mut ws,
        json!({"id": "2", "type": "subscribe", "payload": {"query": "subscription { events { position } }"}}),
    )
    .await;
    // …until the token expires: the socket closes, with the reason.
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
    // An expired token is refused at once on a new socket.
    let mut late = raw(&server).await;
    send(&mut late, init(&token)).await;
    let (code, reason) = closed(&mut late).await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
    server.stop().await;
}

#[tokio::test]
async fn protocol_faults_close_with_the_protocols_codes() {
    let server = Server::start().await;
    let subscribe = |id: &str| json!({"id": id, "type": "subscribe", "payload": {"query": "subscription { events { position } }"}});
    // Before connection_init: 4401.
    let mut ws = raw(&server).await;
    send(&mut ws, subscribe("1")).await;
    assert_eq!(closed(&mut ws).await.0, 4401);
    // Not JSON, or no type: 4400.
    for bad in [Message::text("{not json"), Message::text(r#"{"id":"1"}"#)] {
        let mut ws = raw(&server).await;
        ws.send(bad).await.expect("sent");
        assert_eq!(closed(&mut ws).await.0, 4400);
    }
    // Two subscribers under one id: 4409; a second connection_init: 4429.
    let mut ws = raw(&server).await;
    send(&mut ws, init(&server.admin)).await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    send(&mut ws, subscribe("same")).await;
    send(&mut ws, subscribe("same")).await;
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 4409, "{reason}");
    assert!(reason.contains("same"), "{reason}");
    let mut ws = raw(&server).await;
    send(&mut ws, init(&server.admin)).await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    send(&mut ws, init(&server.admin)).await;
    assert_eq!(closed(&mut ws).await.0, 4429);
    server.stop().await;
}

#[tokio::test]
async fn a_socket_message_is_held_to_the_body_limit_and_writes_nothing() {
    let server = Server::start().await;
    let head = server.head().await;
    let mut ws = raw(&server).await;
    send(&mut ws, init(&server.admin)).await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    // A registration whose name is 1 MB: over the 256 KB a message may hold.
    let name = "x".repeat(1024 * 1024);
    let mutation = json!({"id": "1", "type": "subscribe", "payload": {
        "query": "mutation($n: String!) { registerPupil(input: {externalId: \"E9\", lastName: $n, firstName: \"A\"}) { id } }",
        "variables": {"n": name}}});
    send(&mut ws, mutation).await;
    let (code, _) = closed(&mut ws).await;
    assert_eq!(code, 1009);
    assert_eq!(server.head().await, head, "nothing written");
    server.stop().await;
}

#[tokio::test]
async fn an_error_does_not_echo_a_large_argument() {
    let server = Server::start().await;
    let huge = "0".repeat(200 * 1024);
    let query = "query($id: ID!) { pupil(id: $id) { id } }";
    let answer = server.gql(query, json!({"id": huge})).await;
    let body = answer.to_string();
    assert!(body.len() < 2_000, "{} bytes", body.len());
    assert_eq!(answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .expect("a message")
            .starts_with("id \"000"),
        "{answer}"
    );
    // The same over the socket.
    let mut ws = raw(&server).await;
    send(&mut ws, init(&server.admin)).await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": huge}}}),
    )
    .await;
    let refused = next(&mut ws).await;
    assert!(refused.to_string().len() < 2_000, "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    server.stop().await;
}

const JOURNAL: &str = "query($p: ID) { accessJournal(pupilId: $p) { actor pupilId } }";

#[tokio::test]
async fn every_staff_read_of_a_pupils_data_is_journaled() {
    let server = Server::start().await;
    let w = world(&server).await;
    let s = &w.s;
    let teacher = server.token(Role::Teacher, &w.french_teacher);
    let head = server.token(Role::HeadTeacher, &s.teacher);
    for pupil in &s.pupils {
        let before = server.ok(JOURNAL, json!({"p": pupil})).await;
        assert_eq!(before["accessJournal"], json!([]), "{pupil}");
    }
    // One pupil's time in the class: that pupil's read.
    let time = "query($c: ID!, $p: ID!) { timeOnTask(classId: $c, pupilId: $p) { totalMs } }";
    let answer = server
        .gql_as(&teacher, time, json!({"c": s.class, "p": s.pupils[1]}))
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let journal = server.ok(JOURNAL, json!({"p": s.pupils[1]})).await;
    assert_eq!(
        journal["accessJournal"],
        json!([{"actor": format!("teacher:{}", w.french_teacher), "pupilId": s.pupils[1]}])
    );
    // The class's pupil rows: a read of each pupil listed.
    let rows = "query($c: String!) { class(name: $c) { pupils { average } } }";
    let answer = server.gql_as(&head, rows, json!({"c": "2nde A"})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    for pupil in &s.pupils {
        let journal = server.ok(JOURNAL, json!({"p": pupil})).await;
        let actors: Vec<&Value> = journal["accessJournal"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|r| &r["actor"])
            .collect();
        assert!(
            actors.contains(&&json!(format!("head_teacher:{}", s.teacher))),
            "{pupil}: {journal}"
        );
    }
    // A board's rows too: the dissertation's grades are a's and b's (c is not graded yet).
    let grades = "query($id: ID!) { assessment(id: $id) { grades { score } } }";
    let answer = server.gql_as(&teacher, grades, json!({"id": s.f1})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let french = json!(format!("teacher:{}", w.french_teacher));
    let by_french = |journal: &Value| {
        journal["accessJournal"]
            .as_array()
            .expect("a list")
            .iter()
            .filter(|r| r["actor"] == french)
            .count()
    };
    let [a, b, c] = &s.pupils;
    assert_eq!(by_french(&server.ok(JOURNAL, json!({"p": a})).await), 1);
    // b: the time on task read above, and the grade row.
    assert_eq!(by_french(&server.ok(JOURNAL, json!({"p": b})).await), 2);
    assert_eq!(by_french(&server.ok(JOURNAL, json!({"p": c})).await), 0);
    server.stop().await;
}
