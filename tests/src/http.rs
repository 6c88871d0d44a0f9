//! A minimal HTTP/1.1 client for the web app's tests: one request per
//! connection (`Connection: close`), the whole response read back. Enough to
//! check statuses, headers and bodies; the browser tests drive real pages.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response: status, headers (names lowercased) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, &format!("GET {path} HTTP/1.1\r\n"), b"", "")
}

/// Posts `fields` as `application/x-www-form-urlencoded`.
pub fn post_form(addr: SocketAddr, path: &str, fields: &[(&str, &str)]) -> Response {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    post_raw(addr, path, FORM, body.as_bytes())
}

/// The content type of a form post.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// Posts raw bytes (for malformed and oversized forms).
pub fn post_raw(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Response {
    request(
        addr,
        &format!("POST {path} HTTP/1.1\r\n"),
        body,
        &format!("Content-Type: {content_type}\r\n"),
    )
}

fn request(addr: SocketAddr, start: &str, body: &[u8], extra: &str) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect to the web app");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let head = format!(
        "{start}Host: {addr}\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send head");
    // The server may answer (413) before reading a large body: a failed
    // write is fine, the answer is what is checked.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse(&raw)
}

fn parse(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
