//! Plain HTTP before the websocket: the hub reads a connection's request head
//! itself, serves the room pages (static files compiled in) to a browser's `GET`,
//! and hands an upgrade request on to the websocket layer with the bytes it read.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::SessionEntry;
use crate::web;

/// Longest request head read (the websocket layer's own limit is the same order).
const MAX_HEAD: usize = 8 * 1024;

/// What a request head asked for.
pub struct Head {
    /// The bytes read so far (the head, and perhaps more), to replay to the websocket layer.
    pub bytes: Vec<u8>,
    pub upgrade: bool,
    pub method: String,
    pub path: String,
}

/// Read a request head: up to the blank line, or `None` if the peer sent no HTTP.
pub async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Head> {
    let mut bytes = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&bytes) {
            Ok(httparse::Status::Complete(_)) => {
                let upgrade = request.headers.iter().any(|h| {
                    h.name.eq_ignore_ascii_case("upgrade")
                        && std::str::from_utf8(h.value).is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
                });
                let method = request.method.unwrap_or_default().to_string();
                let path = request.path.unwrap_or_default().to_string();
                return Some(Head { bytes, upgrade, method, path });
            }
            Ok(httparse::Status::Partial) if bytes.len() < MAX_HEAD => {}
            // Too long, or not HTTP: let the websocket layer answer it as it would.
            _ => return Some(Head { bytes, upgrade: true, method: String::new(), path: String::new() }),
        }
    }
}

/// A stream that first gives back bytes already read from it.
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Self { prefix, at: 0, inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if self.at < self.prefix.len() {
            let n = buf.remaining().min(self.prefix.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.prefix[at..at + n]);
            self.at += n;
            if self.at == self.prefix.len() {
                // Read once: its memory is not kept for the connection's life.
                self.prefix = Vec::new();
                self.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The response to a browser's request for a page: the page, or why not.
pub fn page(registry: &std::collections::HashMap<String, SessionEntry>, method: &str, path: &str) -> Vec<u8> {
    let path = path.split('?').next().unwrap_or_default();
    let reply = |status: &str, content_type: &str, body: &[u8], extra: &str| {
        let mut out = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{}{extra}Connection: close\r\n\r\n",
            body.len(),
            web::SECURITY_HEADERS
        )
        .into_bytes();
        if method != "HEAD" {
            out.extend_from_slice(body);
        }
        out
    };
    let text = "text/plain; charset=utf-8";
    if method != "GET" && method != "HEAD" {
        return reply("405 Method Not Allowed", text, b"only GET: the pages are read-only\n", "Allow: GET, HEAD\r\n");
    }
    let Some((id, rest)) = path.strip_prefix("/v1/sessions/").and_then(|p| p.split_once('/')) else {
        return reply(
            "404 Not Found",
            text,
            b"no such page: the hall display is /v1/sessions/SESSION-ID/display, the speaker's timer /v1/sessions/SESSION-ID/speaker\n",
            "",
        );
    };
    let Some(entry) = registry.get(id) else {
        return reply("404 Not Found", text, b"no such session on this hub\n", "");
    };
    if rest == "web/access" {
        let body = format!("{{\"public\":{}}}\n", entry.def.observers_open);
        return reply("200 OK", "application/json", body.as_bytes(), "");
    }
    match web::asset(rest) {
        Some(asset) => reply("200 OK", asset.content_type, asset.body, ""),
        None => reply("404 Not Found", text, b"no such page: display or speaker\n", ""),
    }
}

/// Write a page's response and close.
pub async fn respond<S: AsyncWrite + Unpin>(stream: &mut S, response: &[u8]) {
    let _ = stream.write_all(response).await;
    let _ = stream.shutdown().await;
}
