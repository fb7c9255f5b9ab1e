//! `suivi token` issues bearer tokens; `suivi serve` refuses to start without a key and,
//! with `--demo`, prints a ready token per role that the running server accepts.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use suivi_domain::Role;
use suivi_graphql::jwt::JwtVerifier;

const SECRET: &str = "cli tests: a secret of at least 32 bytes";

fn suivi_env(args: &[&str], secret: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_suivi"));
    command
        .args(args)
        .env_remove("SUIVI_STORE")
        .env_remove("RUST_LOG")
        .env_remove("SUIVI_JWT_SECRET")
        .env_remove("SUIVI_JWT_PUBLIC_KEY");
    if let Some(secret) = secret {
        command.env("SUIVI_JWT_SECRET", secret);
    }
    command.output().expect("the suivi binary runs").into()
}

#[test]
fn token_issues_a_token_the_server_accepts() {
    let subject = uuid::Uuid::now_v7();
    let school = uuid::Uuid::now_v7();
    let run = suivi_env(
        &[
            "token",
            "--role",
            "professeur_principal",
            "--subject",
            &subject.to_string(),
            "--school",
            &school.to_string(),
            "--ttl",
            "2h",
        ],
        Some(SECRET),
    );
    assert!(run.ok(), "{}", run.stderr);
    let token = run.stdout.trim();
    let verifier = JwtVerifier::hs256(SECRET.as_bytes()).expect("verifier");
    let identity = verifier.verify(token).expect("a valid token");
    assert_eq!(identity.role, Role::HeadTeacher);
    assert_eq!(identity.subject_id, subject);
    assert_eq!(identity.school_id.0, school);

    let (c1, c2) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let classes = format!("{c1},{c2}");
    let run = suivi_env(
        &[
            "token",
            "--role",
            "teacher",
            "--subject",
            &subject.to_string(),
            "--school",
            &school.to_string(),
            "--classes",
            &classes,
        ],
        Some(SECRET),
    );
    assert!(run.ok(), "{}", run.stderr);
    let narrowed = verifier.verify(run.stdout.trim()).expect("a valid token");
    assert_eq!(
        narrowed.within.classes,
        Some(vec![
            suivi_domain::ids::ClassId(c1),
            suivi_domain::ids::ClassId(c2)
        ])
    );
    assert_eq!(identity.within.classes, None);

    let no_secret = suivi_env(
        &[
            "token",
            "--role",
            "pupil",
            "--subject",
            &subject.to_string(),
            "--school",
            &school.to_string(),
        ],
        None,
    );
    assert!(!no_secret.ok());
    assert!(
        no_secret.stderr.contains("SUIVI_JWT_SECRET"),
        "{}",
        no_secret.stderr
    );
    let bad_role = suivi_env(
        &[
            "token",
            "--role",
            "janitor",
            "--subject",
            &subject.to_string(),
            "--school",
            &school.to_string(),
        ],
        Some(SECRET),
    );
    assert!(!bad_role.ok());
    assert!(
        bad_role.stderr.contains("professeur_principal"),
        "{}",
        bad_role.stderr
    );
    let no_school = suivi_env(
        &[
            "token",
            "--role",
            "pupil",
            "--subject",
            &subject.to_string(),
        ],
        Some(SECRET),
    );
    assert!(!no_school.ok());
    assert!(
        no_school.stderr.contains("--school"),
        "{}",
        no_school.stderr
    );
}

#[test]
fn token_finds_the_school_of_a_store() {
    let s = Scratch::new();
    let store = s.store("demo.db");
    let run = suivi(&["demo", "--store", &store]);
    assert!(run.ok(), "{}", run.stderr);
    let subject = uuid::Uuid::now_v7().to_string();
    let run = suivi_env(
        &[
            "token",
            "--role",
            "administrator",
            "--subject",
            &subject,
            "--store",
            &store,
        ],
        Some(SECRET),
    );
    assert!(run.ok(), "{}", run.stderr);
    let identity = JwtVerifier::hs256(SECRET.as_bytes())
        .expect("verifier")
        .verify(run.stdout.trim())
        .expect("valid");
    assert_eq!(identity.role, Role::Admin);
    let empty = s.store("empty.db");
    let run = suivi_env(
        &[
            "token",
            "--role",
            "administrator",
            "--subject",
            &subject,
            "--store",
            &empty,
        ],
        Some(SECRET),
    );
    assert!(!run.ok());
    assert!(run.stderr.contains("no school"), "{}", run.stderr);
}

#[test]
fn serve_refuses_to_start_without_a_key() {
    let s = Scratch::new();
    let store = s.store("s.db");
    let run = suivi_env(&["serve", "--store", &store, "--addr", "127.0.0.1:0"], None);
    assert!(!run.ok());
    assert!(
        run.stderr.contains("SUIVI_JWT_SECRET") && run.stderr.contains("--demo"),
        "{}",
        run.stderr
    );
    let run = suivi_env(
        &["serve", "--store", &store, "--addr", "127.0.0.1:0"],
        Some("short"),
    );
    assert!(!run.ok());
    assert!(run.stderr.contains("at least 32"), "{}", run.stderr);
}

/// POSTs a query with a bearer token: (status, JSON body).
fn post(addr: &str, token: &str, query: &str) -> (u16, serde_json::Value) {
    let body = serde_json::json!({ "query": query }).to_string();
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // One chunk is enough for these small answers.
        body.split_once("\r\n")
            .map(|(_, rest)| rest)
            .unwrap_or(body)
    } else {
        body
    };
    let end = body.rfind('}').map_or(body.len(), |i| i + 1);
    (
        status,
        serde_json::from_str(&body[..end]).unwrap_or(serde_json::Value::Null),
    )
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_demo_prints_a_working_token_per_role() {
    let s = Scratch::new();
    let store = s.store("demo.db");
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_suivi"))
            .args([
                "serve",
                "--demo",
                "--store",
                &store,
                "--addr",
                "127.0.0.1:0",
            ])
            .env_remove("SUIVI_JWT_SECRET")
            .env_remove("SUIVI_JWT_PUBLIC_KEY")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start suivi serve --demo"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut addr = None;
    let mut users: Vec<(String, String, String, String)> = Vec::new();
    let mut last_header = String::new();
    while users.len() < 5 {
        let left = Duration::from_secs(240).saturating_sub(started.elapsed());
        let line = rx
            .recv_timeout(left)
            .expect("the demo prints its tokens in time");
        if let Some(rest) = line.strip_prefix("suivi demo on http://") {
            addr = Some(rest.trim_end_matches('/').to_owned());
        } else if let Some(token) = line
            .trim()
            .strip_prefix("{\"Authorization\": \"Bearer ")
            .filter(|_| last_header.contains("(subject "))
        {
            let token = token.trim_end_matches("\"}").to_owned();
            let role = last_header
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned();
            let subject = last_header
                .split("(subject ")
                .nth(1)
                .and_then(|r| r.split(')').next())
                .unwrap_or("")
                .to_owned();
            users.push((role, subject, token, last_header.clone()));
        } else if !line.starts_with(' ') {
            last_header = line;
        }
    }
    let addr = addr.expect("the demo says where it listens");
    let roles: Vec<&str> = users.iter().map(|(r, _, _, _)| r.as_str()).collect();
    assert_eq!(
        roles,
        [
            "administrator",
            "professeur_principal",
            "teacher",
            "guardian",
            "pupil"
        ]
    );
    for (role, subject, token, sees) in &users {
        let (status, body) = post(&addr, token, "{ school { name } }");
        assert_eq!(status, 200, "{role}: {body}");
        assert!(body["data"]["school"]["name"].is_string(), "{role}: {body}");
        let classes = post(&addr, token, "{ classes { name } }").1;
        let pupil = users
            .last()
            .map(|(_, p, _, _)| p.clone())
            .unwrap_or_default();
        let file = post(
            &addr,
            token,
            &format!("{{ pupil(id: \"{pupil}\") {{ id }} }}"),
        )
        .1;
        match role.as_str() {
            "administrator" => {
                assert!(
                    classes["data"]["classes"].as_array().map_or(0, Vec::len) >= 3,
                    "{classes}"
                )
            }
            "professeur_principal" | "teacher" => {
                // Exactly the classes the printed line says they lead or teach in.
                let names = classes["data"]["classes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert!(!names.is_empty(), "{role}: {classes}");
                for name in names {
                    let name = name["name"].as_str().unwrap_or("?");
                    assert!(sees.contains(name), "{role} sees {name}, not in {sees:?}");
                }
            }
            _ => {
                assert_eq!(
                    classes["errors"][0]["extensions"]["code"], "FORBIDDEN",
                    "{classes}"
                );
                assert_eq!(
                    file["data"]["pupil"]["id"],
                    serde_json::json!(pupil),
                    "{role}: {file}"
                );
            }
        }
        if role == "pupil" {
            assert_eq!(subject, &pupil);
        }
    }
    // Without a token: 401.
    let (status, _) = post(&addr, "nope", "{ position }");
    assert_eq!(status, 401);
    drop(child);
}
