//! What the benchmarks over loopback share: one HTTP/1.1 exchange per connection, cookies,
//! the server's CPU time from `/proc`, percentiles. Included by `pages_bench` and
//! `signin_bench` (`#[path]`); not an example of its own.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

pub fn suivi_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the example's path");
    exe.parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("suivi"))
        .expect("the suivi binary beside the example")
}

/// One HTTP/1.1 exchange on a fresh connection: (status, headers, body).
pub fn http(addr: &str, request: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head, body)
}

pub fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(at) = body.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&body[..at]).trim(), 16).unwrap_or(0);
        if size == 0 || body.len() < at + 2 + size {
            break;
        }
        out.extend_from_slice(&body[at + 2..at + 2 + size]);
        body = &body[(at + 4 + size).min(body.len())..];
    }
    out
}

pub fn get(addr: &str, path: &str, cookie: &str) -> (u16, Vec<u8>) {
    let (status, _, body) = http(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    );
    (status, body)
}

pub fn graphql(addr: &str, token: &str, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let (_, _, answer) = http(
        addr,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    serde_json::from_slice(&answer).expect("a JSON answer")
}

pub fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
}

/// Signs a token in through `POST /connexion`: the session cookie.
pub fn sign_in(addr: &str, token: &str) -> String {
    let (_, head, body) = http(
        addr,
        &format!("GET /connexion HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    let pre = set_cookie(&head, "suivi_connexion").expect("a pre-session cookie");
    let html = String::from_utf8_lossy(&body);
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF token");
    let form = format!("csrf={csrf}&token={token}");
    let (status, head, _) = http(
        addr,
        &format!(
            "POST /connexion HTTP/1.1\r\nHost: {addr}\r\nCookie: {pre}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert_eq!(status, 303, "sign-in refused");
    set_cookie(&head, "suivi_session").expect("a session cookie")
}

pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
