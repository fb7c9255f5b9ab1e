//! Sign-in through the school's OpenID provider, measured on loopback (issue 15), with
//! the real test provider (`crates/web/tests/browser/oidc-provider.mjs`, node) and the
//! real `suivi serve` on the embedded store.
//!
//! The demo school is loaded first (`serve --demo`), then the server is started again
//! without the demo's simulation, so its CPU time is only what the requests cost. Every
//! pupil of the school gets an account at the provider and a link (`linkIdentity`): each
//! sign-in below is a distinct identity, each request a fresh connection.
//!
//! 1. **Sign-in CPU.** Each account signs in through the whole flow (suivi's
//!    `/connexion/oidc`, the provider's login page, back on `/connexion/oidc/retour`:
//!    code exchange, ID token check, link lookup, session written). The server's CPU time
//!    (from `/proc`) over all sign-ins, per sign-in; beside it, in the same run, the CPU of
//!    a sign-in with a pasted bearer token (`POST /connexion`) for the same people.
//! 2. **Cookie against bearer.** One request that only identifies its sender: `GET /` with
//!    the session cookie (signature, session row, the link still there) against `POST
//!    /graphql { __typename }` with the person's HS256 token and with the provider's own
//!    RS256 access token (JWKS key, link lookup). CPU per request over R rounds of every
//!    person, and the median wall time.
//!
//! Run: `cargo build --release -p suivi-cli --example signin_bench --bin suivi &&
//! target/release/examples/signin_bench [ROUNDS]` (default 20).

#[path = "bench_http/mod.rs"]
mod bench_http;
use bench_http::{cpu_seconds, graphql, http, percentile, set_cookie, suivi_bin};

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use suivi_domain::ids::SchoolId;
use suivi_domain::Role;
use suivi_graphql::jwt::{issue_hs256, Claims};
use suivi_graphql::Identity;

const SECRET: &str = "signin-bench-secret-of-at-least-32-bytes";
const CLIENT_SECRET: &str = "bench:secret/+1";
const API_AUDIENCE: &str = "https://suivi.test/api";

struct Server {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn spawn(mut command: Command) -> Server {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Server { child, lines }
}

fn wait_for(server: &Server, what: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let line = server
            .lines
            .recv_timeout(Duration::from_secs(240))
            .unwrap_or_else(|_| panic!("waiting for {what:?}; saw {seen:?}"));
        let done = line.contains(what);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

/// Waits until `addr` answers `GET /health`.
fn wait_up(addr: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if std::net::TcpStream::connect(addr).is_ok() {
            let (status, _, _) = http(
                addr,
                &format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
            );
            if status == 200 {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not come up on {addr}");
}

fn serve(store: &str, port: u16, issuer: &str, demo: bool) -> Server {
    let mut command = Command::new(suivi_bin());
    command
        .args([
            "serve",
            "--store",
            store,
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--oidc-issuer", issuer, "--oidc-client-id", "suivi"])
        .args(["--oidc-client-secret", CLIENT_SECRET])
        .args(["--oidc-audience", API_AUDIENCE])
        .env("SUIVI_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        // Every probe is computed: none is answered from the API's answer cache.
        .arg("--no-answer-cache");
    if demo {
        command.arg("--demo");
    }
    spawn(command)
}

/// The cookies a response sets, merged into `jar` (name → value).
fn keep_cookies(head: &str, jar: &mut HashMap<String, String>) {
    for line in head.lines() {
        let Some(cookie) = line
            .strip_prefix("set-cookie: ")
            .or_else(|| line.strip_prefix("Set-Cookie: "))
        else {
            continue;
        };
        if let Some((name, value)) = cookie.split(';').next().and_then(|c| c.split_once('=')) {
            jar.insert(name.to_owned(), value.to_owned());
        }
    }
}

fn jar_header(jar: &HashMap<String, String>) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn location(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .unwrap_or_else(|| panic!("a redirect: {head}"))
        .trim()
        .to_owned()
}

/// Splits `http://host:port/path?q` into (`host:port`, `/path?q`).
fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    (host.to_owned(), format!("/{path}"))
}

fn get_with(url: &str, jar: &mut HashMap<String, String>) -> (u16, String) {
    let (host, path) = split_url(url);
    let (status, head, _) = http(
        &host,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {}\r\nConnection: close\r\n\r\n",
            jar_header(jar)
        ),
    );
    keep_cookies(&head, jar);
    (status, head)
}

/// The provider's part of a sign-in, from its authorization URL to the redirect back
/// (the URL carrying `code`, `state` and `iss`).
fn at_provider(authorize: &str, login: &str) -> String {
    let mut op = HashMap::new();
    let (status, head) = get_with(authorize, &mut op);
    assert_eq!(status, 303, "{head}");
    let interaction = location(&head);
    let base = authorize.split("/auth").next().expect("the issuer");
    let form = format!("login={login}&action=login");
    let (host, path) = split_url(&format!("{base}{interaction}/login"));
    let (status, head, _) = http(
        &host,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            jar_header(&op),
            form.len()
        ),
    );
    assert!(status == 303 || status == 302, "login: {head}");
    keep_cookies(&head, &mut op);
    let mut next = location(&head);
    // Back through the provider's resume step to the redirect URI.
    for _ in 0..4 {
        if !next.starts_with("http") {
            next = format!("{base}{next}");
        }
        if !next.starts_with(base) {
            return next;
        }
        let (status, head) = get_with(&next, &mut op);
        assert!(status == 303 || status == 302, "resume: {head}");
        next = location(&head);
    }
    panic!("the provider did not send the browser back")
}

/// A whole sign-in through suivi: the session cookie, and the wall time.
fn sign_in_oidc(addr: &str, login: &str) -> (String, Duration) {
    let started = Instant::now();
    let mut jar = HashMap::new();
    let (status, head) = get_with(&format!("http://{addr}/connexion/oidc"), &mut jar);
    assert_eq!(status, 303, "{head}");
    let back = at_provider(&location(&head), login);
    let (status, head) = get_with(&back, &mut jar);
    assert_eq!(status, 303, "the callback: {head}");
    let session = set_cookie(&head, "suivi_session").expect("a session cookie");
    (session, started.elapsed())
}

/// An access token from the provider for `login`, obtained as an ENT's back end would
/// (the `api-client` client, its own redirect URI, PKCE).
fn access_token(issuer: &str, login: &str) -> String {
    let verifier = format!("{login}-verifier-of-enough-length-for-pkce-0123456789");
    let challenge = suivi_web::pkce_challenge(&verifier);
    let redirect = "http://127.0.0.1:9/retour";
    let authorize = format!(
        "{issuer}/auth?response_type=code&client_id=api-client&redirect_uri={}&scope=openid&state=s&nonce=n&code_challenge={challenge}&code_challenge_method=S256",
        suivi_graphql::oidc::form_encode(redirect)
    );
    let back = at_provider(&authorize, login);
    let code = back
        .split("code=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("a code");
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={verifier}&client_id=api-client&client_secret=api-secret",
        suivi_graphql::oidc::form_encode(redirect)
    );
    let (host, _) = split_url(issuer);
    let (status, _, body) = http(
        &host,
        &format!(
            "POST /token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    let answer: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 200, "{answer}");
    answer["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

fn hs256(role: Role, subject: &str, school: SchoolId) -> String {
    let identity = Identity {
        role,
        subject_id: subject.parse().expect("a uuid"),
        school_id: school,
        within: Default::default(),
    };
    let claims = Claims::new(&identity, chrono::Utc::now(), Duration::from_secs(3600));
    issue_hs256(SECRET.as_bytes(), &claims).expect("a token")
}

fn ms(d: f64) -> String {
    format!("{:.3} ms", d * 1000.0)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = format!("sqlite:{}", dir.path().join("signin.db").display());
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");

    // The demo school, loaded once, to learn who is in it.
    let admin = {
        let provisional = serve(&store, port, "http://127.0.0.1:9", true);
        let lines = wait_for(&provisional, "(subject 0");
        let rest = wait_for(&provisional, "\"Authorization\"");
        let _ = lines;
        let token = rest
            .last()
            .and_then(|l| l.split("Bearer ").nth(1))
            .map(|t| t.trim_end_matches("\"}").to_owned())
            .expect("the administrator's token");
        drop(provisional);
        token
    };

    // Start the provider with an account per pupil.
    let quiet = serve(&store, port, "http://127.0.0.1:9", false);
    wait_up(&addr);
    let school: SchoolId = SchoolId(
        graphql(&addr, &admin, "{ school { id } }", json!({}))["data"]["school"]["id"]
            .as_str()
            .expect("school id")
            .parse()
            .expect("uuid"),
    );
    let pupils: Vec<String> = graphql(&addr, &admin, "{ classes { pupils { id } } }", json!({}))
        ["data"]["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .flat_map(|c| c["pupils"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    drop(quiet);
    let users: serde_json::Map<String, Value> = (0..pupils.len())
        .map(|i| {
            (
                format!("eleve-{i}"),
                json!({ "name": format!("Élève {i}") }),
            )
        })
        .collect();
    let config = json!({
        "port": 0,
        "clients": [
            { "client_id": "suivi", "client_secret": CLIENT_SECRET,
              "redirect_uris": [format!("http://{addr}/connexion/oidc/retour")],
              "post_logout_redirect_uris": [format!("http://{addr}/connexion")] },
            { "client_id": "api-client", "client_secret": "api-secret",
              "token_endpoint_auth_method": "client_secret_post",
              "redirect_uris": ["http://127.0.0.1:9/retour"] }
        ],
        "users": users,
        "apiAudience": API_AUDIENCE,
    });
    let config_path = dir.path().join("op.json");
    std::fs::write(&config_path, config.to_string()).expect("provider config");
    let harness = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../web/tests/browser/oidc-provider.mjs"
    );
    let mut node = Command::new("node");
    node.arg(harness).arg(&config_path);
    let provider = spawn(node);
    let ready: Value = serde_json::from_str(
        &provider
            .lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the provider's ready line"),
    )
    .expect("JSON");
    let issuer = ready["issuer"].as_str().expect("issuer").to_owned();

    let server = serve(&store, port, &issuer, false);
    wait_up(&addr);
    let pid = server.child.id();
    for (i, pupil) in pupils.iter().enumerate() {
        let answer = graphql(
            &addr,
            &admin,
            "mutation($i: LinkIdentityInput!) { linkIdentity(input: $i) { position } }",
            json!({ "i": { "provider": issuer, "subject": format!("eleve-{i}"), "role": "PUPIL", "personId": pupil } }),
        );
        assert!(answer["errors"].is_null(), "{answer}");
    }
    let n = pupils.len();
    println!("signin_bench: {n} pupils, each with an account at the provider and a link; {rounds} rounds for part 2");

    // 1. Sign-in CPU: the provider's flow, then a pasted token, for the same people.
    // Each person signs in `SIGN_INS` times (a new session each time), so the CPU sum
    // spans many of /proc's 10 ms ticks.
    const SIGN_INS: usize = 3;
    let before = cpu_seconds(pid);
    let mut walls = Vec::new();
    let mut cookies = vec![String::new(); n];
    for _ in 0..SIGN_INS {
        for (i, cookie) in cookies.iter_mut().enumerate() {
            let (opened, wall) = sign_in_oidc(&addr, &format!("eleve-{i}"));
            walls.push(wall.as_secs_f64());
            *cookie = opened;
        }
    }
    let oidc_cpu = (cpu_seconds(pid) - before) / (n * SIGN_INS) as f64;
    walls.sort_by(f64::total_cmp);
    let tokens: Vec<String> = pupils
        .iter()
        .map(|p| hs256(Role::Pupil, p, school))
        .collect();
    let before = cpu_seconds(pid);
    for _ in 0..SIGN_INS {
        for token in &tokens {
            bench_http::sign_in(&addr, token);
        }
    }
    let token_cpu = (cpu_seconds(pid) - before) / (n * SIGN_INS) as f64;
    println!(
        "\n1. sign-in, server CPU per sign-in ({n} distinct people, {SIGN_INS} sign-ins each):"
    );
    println!(
        "   through the provider   {}  (whole flow wall time: median {}, p95 {})",
        ms(oidc_cpu),
        ms(percentile(&walls, 50.0)),
        ms(percentile(&walls, 95.0))
    );
    println!(
        "   with a pasted token    {}  (baseline: HMAC token, same session write)",
        ms(token_cpu)
    );
    println!(
        "   the provider's sign-in adds {} of CPU over the baseline",
        ms(oidc_cpu - token_cpu)
    );

    // 2. One identifying request: cookie, HS256 bearer, provider access token.
    let access: Vec<String> = (0..n)
        .map(|i| access_token(&issuer, &format!("eleve-{i}")))
        .collect();
    let probe = r#"{"query":"{ __typename }"}"#;
    let bearer_request = |token: &str| {
        format!(
            "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{probe}",
            probe.len()
        )
    };
    let cookie_request = |cookie: &str| {
        format!("GET / HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
    };
    type Kind<'a> = (&'a str, Box<dyn Fn(usize) -> String + 'a>, u16);
    let kinds: Vec<Kind> = vec![
        (
            "session cookie (GET /)",
            Box::new(|i| cookie_request(&cookies[i])),
            303,
        ),
        (
            "HS256 bearer (POST /graphql)",
            Box::new(|i| bearer_request(&tokens[i])),
            200,
        ),
        (
            "provider access token",
            Box::new(|i| bearer_request(&access[i])),
            200,
        ),
    ];
    println!("\n2. one request that only identifies its sender ({n} people × {rounds} rounds, interleaved):");
    let mut cpu = vec![0.0; kinds.len()];
    let mut wall: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
    for _ in 0..rounds {
        for (k, (_, request, expected)) in kinds.iter().enumerate() {
            let before = cpu_seconds(pid);
            for i in 0..n {
                let started = Instant::now();
                let (status, head, body) = http(&addr, &request(i));
                wall[k].push(started.elapsed().as_secs_f64());
                assert_eq!(
                    status,
                    *expected,
                    "{head} {}",
                    String::from_utf8_lossy(&body)
                );
                if *expected == 200 {
                    assert!(String::from_utf8_lossy(&body).contains("Query"), "answered");
                }
            }
            cpu[k] += cpu_seconds(pid) - before;
        }
    }
    let per = |k: usize| cpu[k] / (n * rounds) as f64;
    for (k, (name, _, _)) in kinds.iter().enumerate() {
        wall[k].sort_by(f64::total_cmp);
        println!(
            "   {name:<30} CPU {}  wall median {}  ({:.2}× the HS256 bearer's CPU)",
            ms(per(k)),
            ms(percentile(&wall[k], 50.0)),
            per(k) / per(1)
        );
    }
    drop(server);
    drop(provider);
}
