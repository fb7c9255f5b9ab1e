//! `suivi serve --demo` as a child process: where it listens, the tokens it prints, and a
//! small HTTP client to query it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A demo user as the server prints it: role, subject, token, and the line saying whom
/// they see.
pub struct DemoUser {
    pub role: String,
    pub subject: String,
    pub token: String,
    pub sees: String,
}

pub struct DemoServer {
    child: std::process::Child,
    pub addr: String,
    pub users: Vec<DemoUser>,
    /// Every line the server printed on stdout up to the last token.
    pub stdout: Vec<String>,
}

impl DemoServer {
    /// Starts `suivi serve --demo --store STORE` on a free port with `RUST_LOG=rust_log`
    /// (unset when `None`), its stderr written to `stderr_to` (discarded when `None`), and
    /// waits for the five tokens.
    pub fn start(store: &str, rust_log: Option<&str>, stderr_to: Option<&Path>) -> DemoServer {
        DemoServer::start_signed(store, rust_log, stderr_to, None, &[])
    }

    /// As `start`, signing tokens with `secret` when given (so that a test can issue its
    /// own) rather than with a random one, with `more` arguments to `serve`.
    pub fn start_signed(
        store: &str,
        rust_log: Option<&str>,
        stderr_to: Option<&Path>,
        secret: Option<&str>,
        more: &[&str],
    ) -> DemoServer {
        let mut command = Command::new(env!("CARGO_BIN_EXE_suivi"));
        command
            .args(["serve", "--demo", "--store", store, "--addr", "127.0.0.1:0"])
            .args(more)
            .env_remove("SUIVI_JWT_SECRET")
            .env_remove("SUIVI_JWT_PUBLIC_KEY")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        DemoServer::spawn_demo(command, rust_log, stderr_to, secret)
    }

    /// Starts `suivi serve --store STORE --addr ADDR` (with `--demo` when `demo`, then
    /// waiting for its tokens as `start` does; otherwise until ADDR answers HTTP), tokens
    /// signed with `secret`, `more` arguments to `serve`, stderr written to `stderr_to`.
    /// For tests that must know the port before the server starts (a redirect URI
    /// registered at an identity provider) or restart a server where it was; none of the
    /// `SUIVI_OIDC_*` or `SUIVI_PUBLIC_URL` settings of the test's environment leak in.
    pub fn start_at(
        store: &str,
        addr: &str,
        demo: bool,
        secret: &str,
        more: &[&str],
        stderr_to: Option<&Path>,
    ) -> DemoServer {
        let mut command = Command::new(env!("CARGO_BIN_EXE_suivi"));
        command.args(["serve", "--store", store, "--addr", addr]);
        if demo {
            command.arg("--demo");
        }
        command.args(more).env_remove("SUIVI_JWT_PUBLIC_KEY");
        for name in [
            "SUIVI_OIDC_ISSUER",
            "SUIVI_OIDC_CLIENT_ID",
            "SUIVI_OIDC_CLIENT_SECRET",
            "SUIVI_OIDC_AUDIENCE",
            "SUIVI_OIDC_CLAIM",
            "SUIVI_OIDC_MATCH_EMAIL",
            "SUIVI_PUBLIC_URL",
            "SUIVI_STORE",
        ] {
            command.env_remove(name);
        }
        command
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        if demo {
            let server = DemoServer::spawn_demo(command, None, stderr_to, Some(secret));
            assert_eq!(server.addr, addr, "the demo listens where it was told");
            return server;
        }
        command.env("SUIVI_JWT_SECRET", secret);
        match stderr_to {
            Some(path) => {
                command.stderr(std::fs::File::create(path).expect("stderr file"));
            }
            None => {
                command.stderr(Stdio::null());
            }
        }
        let mut child = command.spawn().expect("start suivi serve");
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("suivi serve on {addr} exited before listening: {status}");
            }
            if TcpStream::connect(addr).is_ok() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(240),
                "suivi serve did not listen on {addr} in time"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        DemoServer {
            child,
            addr: addr.to_owned(),
            users: Vec::new(),
            stdout: Vec::new(),
        }
    }

    fn spawn_demo(
        mut command: Command,
        rust_log: Option<&str>,
        stderr_to: Option<&Path>,
        secret: Option<&str>,
    ) -> DemoServer {
        if let Some(filter) = rust_log {
            command.env("RUST_LOG", filter);
        }
        if let Some(secret) = secret {
            command.env("SUIVI_JWT_SECRET", secret);
        }
        match stderr_to {
            Some(path) => {
                command.stderr(std::fs::File::create(path).expect("stderr file"));
            }
            None => {
                command.stderr(Stdio::null());
            }
        }
        let mut child = command.spawn().expect("start suivi serve --demo");
        let stdout = child.stdout.take().expect("stdout");
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
        let mut server = DemoServer {
            child,
            addr: String::new(),
            users: Vec::new(),
            stdout: Vec::new(),
        };
        let mut last_header = String::new();
        while server.users.len() < 5 {
            let left = Duration::from_secs(240).saturating_sub(started.elapsed());
            let line = rx
                .recv_timeout(left)
                .expect("the demo prints its tokens in time");
            server.stdout.push(line.clone());
            if let Some(rest) = line.strip_prefix("suivi demo on http://") {
                server.addr = rest.trim_end_matches('/').to_owned();
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
                server.users.push(DemoUser {
                    role,
                    subject,
                    token,
                    sees: last_header.clone(),
                });
            } else if !line.starts_with(' ') {
                last_header = line;
            }
        }
        assert!(!server.addr.is_empty(), "the demo says where it listens");
        server
    }

    pub fn user(&self, role: &str) -> &DemoUser {
        self.users
            .iter()
            .find(|u| u.role == role)
            .unwrap_or_else(|| panic!("no demo {role}"))
    }

    /// POSTs a GraphQL request with a bearer token: (status, JSON body).
    pub fn post(&self, token: &str, query: &str) -> (u16, serde_json::Value) {
        post(&self.addr, token, query, serde_json::json!({}))
    }

    /// Stops the server with SIGTERM (a graceful shutdown) and waits for it.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("wait for the server")
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs a GraphQL request to `addr` with a bearer token: (status, JSON body).
pub fn post(
    addr: &str,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> (u16, serde_json::Value) {
    let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let raw = String::from_utf8_lossy(&raw);
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
        dechunk(body)
    } else {
        body.to_owned()
    };
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
