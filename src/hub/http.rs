//! Plain HTTP before the websocket: the hub reads a connection's request head
//! itself, serves the room pages (static files compiled in) and the session's
//! report (made from its journal at each request) to a browser's `GET`, and hands
//! an upgrade request on to the websocket layer with the bytes it read.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::{Registry, SessionEntry};
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
    /// The token of an `Authorization: Bearer TOKEN` header.
    pub bearer: Option<String>,
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
                let bearer = request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("authorization"))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                    .map(|t| t.trim().to_string());
                return Some(Head { bytes, upgrade, method, path, bearer });
            }
            Ok(httparse::Status::Partial) if bytes.len() < MAX_HEAD => {}
            // Too long, or not HTTP: let the websocket layer answer it as it would.
            _ => {
                return Some(Head { bytes, upgrade: true, method: String::new(), path: String::new(), bearer: None });
            }
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

/// Reports made at once: making one reads and replays the whole journal, so a
/// room of observers reloading the page wait their turn rather than take every core.
static REPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// An HTTP response with these headers (a `HEAD` gets no body).
fn response(method: &str, status: &str, content_type: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        out.extend_from_slice(body);
    }
    out
}

/// The response to a browser's plain request: the session's report, a room page, or why not.
pub(super) async fn answer(registry: &Registry, head: &Head, hubs: &[String]) -> Vec<u8> {
    let (path, query) = head.path.split_once('?').unwrap_or((&head.path, ""));
    let report = path.strip_prefix("/v1/sessions/").and_then(|p| p.strip_suffix("/report"));
    match report.and_then(|id| registry.sessions.get(id)) {
        Some(entry) if head.method == "GET" || head.method == "HEAD" => {
            report_page(entry, &registry.forum_tokens, head, query).await
        }
        _ => page(&registry.sessions, &head.method, &head.path, hubs),
    }
}

/// The session's report as a page, made from its journal as it is on disk now
/// (everything the hub has acknowledged): reloading shows the session so far.
/// Public on a session open to observers; else any of the session's tokens (the
/// observer's is the one to give out), as `?token=` or `Authorization: Bearer`.
async fn report_page(entry: &SessionEntry, forum: &super::ForumTokens, head: &Head, query: &str) -> Vec<u8> {
    let text = "text/plain; charset=utf-8";
    let params = super::conn::query_params(Some(query));
    let token = head.bearer.as_deref().or_else(|| params.get("token").map(String::as_str)).filter(|t| !t.is_empty());
    let refused = |why: &str| {
        let headers = format!("WWW-Authenticate: Bearer realm=\"rostrum\"\r\n{}", web::SECURITY_HEADERS);
        response(&head.method, "401 Unauthorized", text, &headers, why.as_bytes())
    };
    match token {
        Some(token)
            if entry.tokens.authenticate(token, &entry.def).is_none() && forum.authenticate(token).is_none() =>
        {
            return refused("invalid token for this session\n");
        }
        None if !entry.def.observers_open => {
            return refused(
                "the report needs a token: add ?token=TOKEN (the observer's) to the address, or send `Authorization: Bearer TOKEN`\n",
            );
        }
        _ => {}
    }
    let Ok(_permit) = REPORTS.acquire().await else {
        return response(
            &head.method,
            "503 Service Unavailable",
            text,
            web::SECURITY_HEADERS,
            b"the hub is stopping\n",
        );
    };
    let source = entry.journal.clone();
    let made = match source.read().await {
        Ok(contents) => tokio::task::spawn_blocking(move || crate::report::html::from_journal(&contents))
            .await
            .unwrap_or_else(|e| Err(format!("the report stopped ({e})"))),
        Err(e) => Err(e),
    };
    match made {
        Ok(html) => {
            response(&head.method, "200 OK", "text/html; charset=utf-8", &web::report_headers(), html.as_bytes())
        }
        Err(e) => {
            super::log(&format!("session {}: no report: {e}", entry.def.id));
            let body: &[u8] = b"the report could not be made from the session's journal; the hub's log says why\n";
            response(&head.method, "500 Internal Server Error", text, web::SECURITY_HEADERS, body)
        }
    }
}

/// The response to a browser's request for a room page: the page, or why not.
/// `hubs`: the other hubs that serve the session (etcd), which the page may reach.
pub fn page(
    registry: &std::collections::HashMap<String, SessionEntry>,
    method: &str,
    path: &str,
    hubs: &[String],
) -> Vec<u8> {
    let path = path.split('?').next().unwrap_or_default();
    let headers = web::security_headers(hubs);
    let reply = |status: &str, content_type: &str, body: &[u8], extra: &str| {
        response(method, status, content_type, &format!("{headers}{extra}"), body)
    };
    let text = "text/plain; charset=utf-8";
    if method != "GET" && method != "HEAD" {
        return reply("405 Method Not Allowed", text, b"only GET: the pages are read-only\n", "Allow: GET, HEAD\r\n");
    }
    let Some((id, rest)) = path.strip_prefix("/v1/sessions/").and_then(|p| p.split_once('/')) else {
        return reply(
            "404 Not Found",
            text,
            b"no such page: the hall display is /v1/sessions/SESSION-ID/display, the speaker's timer /v1/sessions/SESSION-ID/speaker, the report /v1/sessions/SESSION-ID/report\n",
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
        None => reply("404 Not Found", text, b"no such page: display, speaker or report\n", ""),
    }
}

/// Write a page's response and close.
pub async fn respond<S: AsyncWrite + Unpin>(stream: &mut S, response: &[u8]) {
    let _ = stream.write_all(response).await;
    let _ = stream.shutdown().await;
}
