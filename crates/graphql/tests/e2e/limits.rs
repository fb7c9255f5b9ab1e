//! Hostile requests: too big, too deep, too costly, too many at once, too fast. Each gets
//! a clear error with a stable code, and the log does not change.

use crate::harness::{code, message, Server, SECRET};
use crate::seed;
use serde_json::json;
use suivi_graphql::jwt::JwtVerifier;
use suivi_graphql::limits::{MAX_BATCH, MAX_BODY_BYTES, MAX_COMPLEXITY, MAX_DEPTH};
use suivi_graphql::Limits;

fn verifier() -> JwtVerifier {
    JwtVerifier::hs256(SECRET.as_bytes()).expect("a long enough secret")
}

#[tokio::test]
async fn oversized_deep_costly_and_batched_requests_are_refused() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let head = server.head().await;

    // A body over the limit: 413 before any parsing.
    let padding = "x".repeat(MAX_BODY_BYTES + 1);
    let body = json!({"query": "{ school { name } }", "variables": {"pad": padding}}).to_string();
    let (status, answer) = server.post_raw(&body).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(code(&answer), "PAYLOAD_TOO_LARGE");
    assert!(message(&answer).contains(&MAX_BODY_BYTES.to_string()));

    // Too many operations in one batch.
    let one = json!({"query": "{ school { name } }"});
    let batch = serde_json::Value::Array(vec![one.clone(); MAX_BATCH + 1]).to_string();
    let (status, answer) = server.post_raw(&batch).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(code(&answer), "BAD_USER_INPUT");
    assert!(
        message(&answer).contains(&format!("at most {MAX_BATCH}")),
        "{answer}"
    );
    // A batch within the limit is answered item by item.
    let batch = serde_json::Value::Array(vec![one; 2]).to_string();
    let (status, answer) = server.post_raw(&batch).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer.as_array().map(Vec::len), Some(2), "{answer}");

    // Nesting beyond the depth limit (the introspection type tree nests freely).
    let mut deep = String::from("name");
    for _ in 0..MAX_DEPTH + 2 {
        deep = format!("ofType {{ {deep} }}");
    }
    let answer = server
        .gql(
            &format!("{{ __type(name: \"Class\") {{ {deep} }} }}"),
            json!({}),
        )
        .await;
    assert!(answer["data"].is_null(), "{answer}");
    assert!(message(&answer).contains("nested too deep"), "{answer}");

    // An alias bomb: the same costly field thousands of times.
    let aliases: String = (0..MAX_COMPLEXITY)
        .map(|i| format!("a{i}: class(name: \"{}\") {{ name }} ", s.class))
        .collect();
    let answer = server.gql(&format!("{{ {aliases} }}"), json!({})).await;
    assert!(answer["data"].is_null(), "the alias bomb was served");
    assert!(
        message(&answer).to_lowercase().contains("complex"),
        "{}",
        message(&answer)
    );

    assert_eq!(server.head().await, head, "refused requests wrote nothing");
    server.stop().await;
}

#[tokio::test]
async fn introspection_is_off_in_production_and_on_when_asked() {
    let probe = "{ __schema { queryType { name } } }";
    let production = Limits {
        introspection: false,
        ..Limits::default()
    };
    let server = Server::start_limited(verifier(), &production).await;
    // Disabled, the introspection fields answer nothing.
    let answer = server.gql(probe, json!({})).await;
    assert!(answer["data"]["__schema"].is_null(), "{answer}");
    server.stop().await;

    let demo = Limits::default();
    assert!(demo.introspection);
    let server = Server::start_limited(verifier(), &demo).await;
    let data = server.ok(probe, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "QueryRoot");
    server.stop().await;
}

#[tokio::test]
async fn one_user_writing_too_fast_is_told_to_wait_and_nothing_is_written() {
    let tight = Limits {
        burst: 3,
        per_second: 1,
        ..Limits::default()
    };
    let server = Server::start_limited(verifier(), &tight).await;
    let head = server.head().await;
    let mutation =
        "mutation($input: DefineSubjectInput!) { defineSubject(input: $input) { position } }";
    let input = |n: usize| json!({"input": {"id": seed::id(), "name": format!("Option {n}"), "kind": "GENERAL", "coefficient": "1"}});
    // The budget is per user: the school's registration spends one write of three.
    let registered = server
        .gql(
            "mutation { registerSchool(input: {name: \"Lycée Marie Curie\"}) { position } }",
            json!({}),
        )
        .await;
    assert!(registered.get("errors").is_none(), "{registered}");
    let mut accepted = 1;
    let mut refused = None;
    for n in 0..5 {
        let answer = server.gql(mutation, input(n)).await;
        if answer.get("errors").is_none() {
            accepted += 1;
        } else {
            refused = Some(answer);
            break;
        }
    }
    // A burst of three passes, the fourth is refused.
    assert_eq!(accepted, 3, "{refused:?}");
    let answer = refused.expect("the fourth write is refused");
    assert_eq!(code(&answer), "RATE_LIMITED", "{answer}");
    let wait = answer["errors"][0]["extensions"]["retryAfterMs"]
        .as_u64()
        .expect("retryAfterMs");
    assert!(wait > 0 && wait <= 1_000, "{wait}");
    assert_eq!(server.head().await, head + 3);
    // Another user has a budget of their own.
    let other = server.token(suivi_domain::Role::Admin, uuid::Uuid::now_v7());
    let answer = server.gql_as(&other, mutation, input(9)).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(server.head().await, head + 4);
    server.stop().await;
}
