//! A minimal HTTP/1.1 keep-alive client: one request in flight per connection, the request
//! bytes built once and resent. Lean on purpose: the generator shares the machine's two
//! cores with the server, so every microsecond it spends is one the server does not get.

use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A complete request, ready to write.
#[derive(Clone)]
pub struct Request(pub std::sync::Arc<Vec<u8>>);

impl Request {
    pub fn post_json(addr: SocketAddr, path: &str, token: Option<&str>, body: &str) -> Request {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Accept: application/json\r\n{auth}Content-Length: {}\r\n\r\n",
            body.len()
        );
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        Request(std::sync::Arc::new(bytes))
    }

    pub fn get(addr: SocketAddr, path: &str) -> Request {
        let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        Request(std::sync::Arc::new(head.into_bytes()))
    }
}

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed by the previous response.
    consumed: usize,
}

pub struct Response<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

impl Response<'_> {
    /// A GraphQL answer with data and no error: `{"data":{…}}` (async-graphql writes
    /// `errors` after `data`, so an answer with errors ends in `]}`).
    pub fn graphql_ok(&self) -> bool {
        self.status == 200 && self.body.starts_with(b"{\"data\":{") && self.body.ends_with(b"}}")
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
            consumed: 0,
        })
    }

    async fn fill(&mut self) -> io::Result<()> {
        if self.buf.len() == self.buf.capacity() {
            self.buf.reserve(self.buf.len());
        }
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        Ok(())
    }

    /// Sends `request` and reads the whole response.
    pub async fn send(&mut self, request: &Request) -> io::Result<Response<'_>> {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        self.stream.write_all(&request.0).await?;
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| invalid("response head is not UTF-8"))?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("bad status line in {head:?}")))?;
        let mut length = None;
        let mut chunked = false;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.trim().eq_ignore_ascii_case("chunked");
            }
        }
        if chunked {
            return self.read_chunked(status, head_end).await;
        }
        let length = length.ok_or_else(|| invalid("response without a length"))?;
        while self.buf.len() < head_end + length {
            self.fill().await?;
        }
        self.consumed = head_end + length;
        Ok(Response {
            status,
            body: &self.buf[head_end..head_end + length],
        })
    }

    /// Chunked bodies are de-chunked in place, after the head.
    async fn read_chunked(&mut self, status: u16, head_end: usize) -> io::Result<Response<'_>> {
        let mut body = Vec::new();
        let mut at = head_end;
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf[at..], b"\r\n") {
                    break at + i;
                }
                self.fill().await?;
            };
            let size = std::str::from_utf8(&self.buf[at..line_end])
                .ok()
                .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
                .ok_or_else(|| invalid("bad chunk size"))?;
            while self.buf.len() < line_end + 2 + size + 2 {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
            at = line_end + 2 + size + 2;
            if size == 0 {
                break;
            }
        }
        self.buf.truncate(head_end);
        self.buf.extend_from_slice(&body);
        self.consumed = self.buf.len();
        Ok(Response {
            status,
            body: &self.buf[head_end..],
        })
    }
}
