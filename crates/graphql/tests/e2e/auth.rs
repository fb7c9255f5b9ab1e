//! Who may talk to the server at all: 401 with a clear reason and a GraphQL-style body for
//! no token, a forged, expired or malformed one, another algorithm, another school; the
//! GraphiQL page and /health without a token; tokens on the WebSocket (header or
//! `connection_init` payload); RS256 and ES256 with a public key.

use super::harness::{token, Server, SECRET};
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use suivi_domain::ids::SchoolId;
use suivi_domain::Role;
use suivi_graphql::jwt::{Claims, JwtVerifier};
use suivi_graphql::Identity;

const QUERY: &str = r#"{"query": "{ position }"}"#;

fn keys(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn claims(server: &Server, role: &str, exp_from_now: i64) -> Value {
    json!({
        "sub": uuid::Uuid::now_v7(),
        "role": role,
        "school": server.school.0,
        "exp": Utc::now().timestamp() + exp_from_now,
    })
}

fn sign(alg: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).expect("sign")
}

fn hs(alg: Algorithm, secret: &str, claims: &Value) -> String {
    sign(
        alg,
        &EncodingKey::from_secret(secret.as_bytes()).expect("key"),
        claims,
    )
}

/// A 401 whose body is a GraphQL error `UNAUTHENTICATED` whose message contains `reason`.
fn assert_401((status, body): (u16, Value), reason: &str) {
    assert_eq!(status, 401, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(reason),
        "{message:?} should say {reason:?}"
    );
    assert!(body.get("data").is_none(), "{body}");
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_with_the_reason() {
    let server = Server::start().await;
    let before = server.head().await;
    let post = |auth: Option<String>| {
        let server = &server;
        async move {
            server
                .request("POST", "/graphql", auth.as_deref(), QUERY)
                .await
        }
    };
    assert_401(post(None).await, "no bearer token");
    assert_401(
        post(Some("Basic dXNlcjpwdw==".into())).await,
        "Bearer <token>",
    );
    assert_401(
        post(Some("Bearer not-a-jwt".into())).await,
        "not a well-formed JWT",
    );
    let forged = hs(
        Algorithm::HS256,
        "another secret that is long enough!!",
        &claims(&server, "administrator", 600),
    );
    assert_401(
        post(Some(format!("Bearer {forged}"))).await,
        "signature does not verify",
    );
    let expired = hs(
        Algorithm::HS256,
        SECRET,
        &claims(&server, "administrator", -3600),
    );
    assert_401(post(Some(format!("Bearer {expired}"))).await, "expired");
    let hs384 = hs(
        Algorithm::HS384,
        SECRET,
        &claims(&server, "administrator", 600),
    );
    assert_401(
        post(Some(format!("Bearer {hs384}"))).await,
        "signed with HS384; this server accepts only HS256",
    );
    let rsa = EncodingKey::from_rsa_pem(&keys("rsa_private.pem")).expect("rsa key");
    let rs256 = sign(
        Algorithm::RS256,
        &rsa,
        &claims(&server, "administrator", 600),
    );
    assert_401(
        post(Some(format!("Bearer {rs256}"))).await,
        "signed with RS256",
    );
    let unknown_role = hs(Algorithm::HS256, SECRET, &claims(&server, "janitor", 600));
    assert_401(
        post(Some(format!("Bearer {unknown_role}"))).await,
        "unknown role \"janitor\"",
    );
    let no_exp = hs(
        Algorithm::HS256,
        SECRET,
        &json!({"sub": uuid::Uuid::now_v7(), "role": "pupil", "school": server.school.0}),
    );
    assert_401(post(Some(format!("Bearer {no_exp}"))).await, "exp");
    let elsewhere = token(&Identity::admin(SchoolId(uuid::Uuid::now_v7())));
    assert_401(
        post(Some(format!("Bearer {elsewhere}"))).await,
        "not the one this server serves",
    );
    // A refused request changed nothing; the right token works.
    assert_eq!(server.head().await, before);
    let (status, body) = post(Some(format!("Bearer {}", server.admin))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["position"].is_u64(), "{body}");

    // The GraphiQL page and /health load without a token.
    for path in ["/", "/graphql", "/health"] {
        let (status, body) = server.request("GET", path, None, "").await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn websockets_take_the_token_in_the_header_or_the_init_payload() {
    let server = Server::start().await;
    let sub = "subscription { changes { position } }";
    // A bad header is refused at the upgrade.
    let expired = hs(
        Algorithm::HS256,
        SECRET,
        &claims(&server, "administrator", -3600),
    );
    let refused = server
        .connect(Some(&format!("Bearer {expired}")), json!({}))
        .await;
    assert_eq!(refused.err(), Some(401));
    // A good header: the init needs nothing more.
    let mut ok = server
        .connect(Some(&format!("Bearer {}", server.admin)), json!({}))
        .await
        .expect("upgrade");
    assert_eq!(ok.message().await["type"], "connection_ack");
    // No header: the init payload carries it, as a browser does.
    let mut ok = server
        .connect(
            None,
            json!({"Authorization": format!("Bearer {}", server.admin)}),
        )
        .await
        .expect("upgrade");
    assert_eq!(ok.message().await["type"], "connection_ack");
    ok.start(sub, json!({})).await;
    // No header and no token, or a bad one: the socket is closed with the reason.
    for (payload, reason) in [
        (json!({}), "no bearer token"),
        (
            json!({"Authorization": format!("Bearer {expired}")}),
            "expired",
        ),
        (json!({"authorization": "Bearer nope"}), "well-formed"),
    ] {
        let mut socket = server.connect(None, payload).await.expect("upgrade");
        let (_, why) = socket.closed().await;
        assert!(why.starts_with("UNAUTHENTICATED"), "{why:?}");
        assert!(why.contains(reason), "{why:?} should say {reason:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn an_identity_provider_signs_with_rs256_or_es256() {
    for (public, private, alg) in [
        ("rsa_public.pem", "rsa_private.pem", Algorithm::RS256),
        ("ec_public.pem", "ec_private.pem", Algorithm::ES256),
    ] {
        let verifier = JwtVerifier::public_key_pem(&keys(public)).expect("public key");
        assert_eq!(verifier.algorithm(), alg);
        let server = Server::start_with(verifier).await;
        let key = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&keys(private)),
            _ => EncodingKey::from_ec_pem(&keys(private)),
        }
        .expect("private key");
        let who = Identity {
            role: Role::Admin,
            subject_id: uuid::Uuid::now_v7(),
            school_id: server.school,
            within: Default::default(),
        };
        let good = Claims::new(&who, Utc::now(), std::time::Duration::from_secs(600));
        let signed = jsonwebtoken::encode(&Header::new(alg), &good, &key).expect("sign");
        let (status, body) = server
            .request("POST", "/graphql", Some(&format!("Bearer {signed}")), QUERY)
            .await;
        assert_eq!(status, 200, "{alg:?}: {body}");
        // An HS256 token, even one signed with the public key's bytes, is refused.
        let hs256 = hs(
            Algorithm::HS256,
            SECRET,
            &claims(&server, "administrator", 600),
        );
        assert_401(
            server
                .request("POST", "/graphql", Some(&format!("Bearer {hs256}")), QUERY)
                .await,
            "this server accepts only",
        );
        let public_as_secret = hs(
            Algorithm::HS256,
            &String::from_utf8_lossy(&keys(public)),
            &claims(&server, "administrator", 600),
        );
        assert_401(
            server
                .request(
                    "POST",
                    "/graphql",
                    Some(&format!("Bearer {public_as_secret}")),
                    QUERY,
                )
                .await,
            "this server accepts only",
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn serve_refuses_to_start_without_a_key_outside_the_demo() {
    let config = suivi_graphql::ServeConfig {
        store_url: "memory:".to_owned(),
        addr: "127.0.0.1:0".parse().expect("addr"),
        ..Default::default()
    };
    let error = suivi_graphql::serve(config.clone(), None)
        .await
        .expect_err("no key, no server");
    assert!(error.to_string().contains("SUIVI_JWT_SECRET"), "{error}");
    let mut short = config;
    short.auth.jwt_secret = Some("too short".to_owned());
    let error = suivi_graphql::serve(short, None)
        .await
        .expect_err("short secret");
    assert!(error.to_string().contains("at least 32"), "{error}");
}
