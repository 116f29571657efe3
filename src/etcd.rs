//! A small client of etcd's v3 API through its JSON gateway (HTTP/1.1 on the
//! client URL: `POST /v3/kv/range`, `/v3/kv/txn`, `/v3/lease/grant`, …).
//!
//! Why not the gRPC client crate: it needs `protoc` to build, a prerequisite for
//! every newcomer, for the handful of calls the journal makes. The gateway is part
//! of every etcd 3.4 server, speaks JSON (keys and values base64, 64-bit integers
//! as strings), and this client needs nothing beyond tokio, httparse and serde_json.
//!
//! Each call opens a connection to one endpoint, sends one request and reads one
//! response. An endpoint that does not answer within the call's timeout is left
//! for the next one; the last endpoint that answered is tried first next time. A
//! call that timed out may still have been applied: callers that write decide
//! what happened by reading back (see `journal::etcd`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response read (a range page of the journal is well below it).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtcdError {
    /// No endpoint answered in time (or none could be reached): the outcome of a
    /// write is unknown.
    Unavailable(String),
    /// An endpoint answered with an error (etcd's own words: "etcdserver: request
    /// timed out", "etcdserver: requested lease not found", …).
    Server(String),
}

impl std::fmt::Display for EtcdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(e) => write!(f, "etcd is unreachable ({e})"),
            Self::Server(e) => write!(f, "etcd refused ({e})"),
        }
    }
}

impl std::error::Error for EtcdError {}

/// One key as etcd holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Kv {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub lease: i64,
}

/// A condition of a transaction.
#[derive(Debug, Clone)]
pub enum Compare {
    /// The key holds exactly this value.
    Value(Vec<u8>, Vec<u8>),
    /// The key exists and is attached to this lease.
    Lease(Vec<u8>, i64),
    /// The key does not exist.
    Missing(Vec<u8>),
}

/// A write in a transaction.
#[derive(Debug, Clone)]
pub enum Op {
    Put {
        key: Vec<u8>,
        value: Vec<u8>,
        lease: i64,
    },
    Delete {
        key: Vec<u8>,
    },
    /// The keys from `key` up to `range_end` (exclusive).
    DeleteRange {
        key: Vec<u8>,
        range_end: Vec<u8>,
    },
}

/// A range's result: the keys and the store's revision it was read at.
#[derive(Debug, Clone, Default)]
pub struct Range {
    pub kvs: Vec<Kv>,
    pub revision: i64,
    pub more: bool,
}

/// The endpoints of one etcd cluster.
#[derive(Debug)]
pub struct Etcd {
    endpoints: Vec<String>,
    preferred: AtomicUsize,
    timeout: Duration,
}

fn int(v: &Value) -> i64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    v.as_str().and_then(|s| B64.decode(s).ok()).unwrap_or_default()
}

fn kv_of(v: &Value) -> Kv {
    Kv {
        key: bytes(&v["key"]),
        value: bytes(&v["value"]),
        create_revision: int(&v["create_revision"]),
        mod_revision: int(&v["mod_revision"]),
        lease: int(&v["lease"]),
    }
}

/// The key just after every key that starts with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

impl Etcd {
    /// `endpoints`: comma-separated `http://HOST:PORT` (or `HOST:PORT`) client URLs.
    pub fn new(endpoints: &str) -> Result<Self, String> {
        let list: Vec<String> = endpoints
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| e.trim_start_matches("http://").trim_end_matches('/').to_string())
            .collect();
        if list.is_empty() {
            return Err("--etcd needs at least one endpoint: http://HOST:PORT[,http://HOST:PORT…]".to_string());
        }
        if let Some(bad) = list.iter().find(|e| e.contains("://") || !e.contains(':')) {
            return Err(format!(
                "etcd endpoint \"{bad}\": give http://HOST:PORT (Rostrum speaks plain HTTP to etcd's gateway)"
            ));
        }
        Ok(Self { endpoints: list, preferred: AtomicUsize::new(0), timeout: Duration::from_millis(1500) })
    }

    /// The same cluster with another per-endpoint timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// POST `body` to `path` on the first endpoint that answers.
    async fn call(&self, path: &str, body: &Value) -> Result<Value, EtcdError> {
        let body = body.to_string();
        let start = self.preferred.load(Ordering::Relaxed);
        let mut last = EtcdError::Unavailable("no endpoint".to_string());
        for i in 0..self.endpoints.len() {
            let index = (start + i) % self.endpoints.len();
            let endpoint = &self.endpoints[index];
            match tokio::time::timeout(self.timeout, request(endpoint, path, &body)).await {
                Ok(Ok((200, value))) => {
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok(value);
                }
                Ok(Ok((status, value))) => {
                    let message = value["error"].as_str().or(value["message"].as_str()).unwrap_or("no reason given");
                    last = EtcdError::Server(format!("{endpoint}: HTTP {status}: {message}"));
                    // A member cut off from the others says so; another may have quorum.
                }
                Ok(Err(e)) => last = EtcdError::Unavailable(format!("{endpoint}: {e}")),
                Err(_) => last = EtcdError::Unavailable(format!("{endpoint}: no answer in {:?}", self.timeout)),
            }
        }
        Err(last)
    }

    /// Keys from `key` up to `range_end` (exclusive; empty: `key` alone), at most
    /// `limit` (0: all), at `revision` (0: the latest).
    pub async fn range(&self, key: &[u8], range_end: &[u8], limit: i64, revision: i64) -> Result<Range, EtcdError> {
        let mut body = json!({ "key": B64.encode(key), "limit": limit.to_string(), "revision": revision.to_string() });
        if !range_end.is_empty() {
            body["range_end"] = json!(B64.encode(range_end));
        }
        let value = self.call("/v3/kv/range", &body).await?;
        Ok(Range {
            kvs: value["kvs"].as_array().map(|a| a.iter().map(kv_of).collect()).unwrap_or_default(),
            revision: int(&value["header"]["revision"]),
            more: value["more"].as_bool().unwrap_or(false),
        })
    }

    /// One key, if it exists.
    pub async fn get(&self, key: &[u8]) -> Result<Option<Kv>, EtcdError> {
        Ok(self.range(key, &[], 0, 0).await?.kvs.into_iter().next())
    }

    pub async fn put(&self, key: &[u8], value: &[u8]) -> Result<(), EtcdError> {
        self.call("/v3/kv/put", &json!({ "key": B64.encode(key), "value": B64.encode(value) })).await.map(|_| ())
    }

    /// Apply `ops` if every comparison holds; returns whether they held.
    pub async fn txn(&self, compare: &[Compare], ops: &[Op]) -> Result<bool, EtcdError> {
        let compare: Vec<Value> = compare
            .iter()
            .map(|c| match c {
                Compare::Value(key, value) => json!({
                    "key": B64.encode(key), "target": "VALUE", "result": "EQUAL", "value": B64.encode(value)
                }),
                Compare::Lease(key, lease) => json!({
                    "key": B64.encode(key), "target": "LEASE", "result": "EQUAL", "lease": lease.to_string()
                }),
                Compare::Missing(key) => json!({
                    "key": B64.encode(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"
                }),
            })
            .collect();
        let success: Vec<Value> = ops
            .iter()
            .map(|op| match op {
                Op::Put { key, value, lease } => json!({ "request_put": {
                    "key": B64.encode(key), "value": B64.encode(value), "lease": lease.to_string()
                }}),
                Op::Delete { key } => json!({ "request_delete_range": { "key": B64.encode(key) } }),
                Op::DeleteRange { key, range_end } => json!({ "request_delete_range": {
                    "key": B64.encode(key), "range_end": B64.encode(range_end)
                }}),
            })
            .collect();
        let value = self.call("/v3/kv/txn", &json!({ "compare": compare, "success": success })).await?;
        Ok(value["succeeded"].as_bool().unwrap_or(false))
    }

    /// The member that answered and the member that leads the Raft group now (ids).
    pub async fn status(&self) -> Result<(u64, u64), EtcdError> {
        let value = self.call("/v3/maintenance/status", &json!({})).await?;
        let id = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        Ok((id(&value["header"]["member_id"]), id(&value["leader"])))
    }

    /// A new lease of `ttl` seconds; returns its id and the TTL granted.
    pub async fn grant(&self, ttl: i64) -> Result<(i64, i64), EtcdError> {
        let value = self.call("/v3/lease/grant", &json!({ "TTL": ttl.to_string() })).await?;
        let id = int(&value["ID"]);
        if id == 0 {
            return Err(EtcdError::Server(format!("no lease granted: {value}")));
        }
        Ok((id, int(&value["TTL"])))
    }

    /// Renew a lease once; returns the TTL it has again (0 or less: the lease is gone).
    pub async fn keepalive(&self, id: i64) -> Result<i64, EtcdError> {
        let value = self.call("/v3/lease/keepalive", &json!({ "ID": id.to_string() })).await?;
        Ok(int(&value["result"]["TTL"]))
    }

    /// Give a lease up: keys attached to it are deleted at once.
    pub async fn revoke(&self, id: i64) -> Result<(), EtcdError> {
        self.call("/v3/lease/revoke", &json!({ "ID": id.to_string() })).await.map(|_| ())
    }
}

/// One request on a fresh connection: the status and the first JSON document of
/// the body (a streaming call such as keepalive answers with a stream of them).
async fn request(endpoint: &str, path: &str, body: &str) -> std::io::Result<(u16, Value)> {
    let mut stream = TcpStream::connect(endpoint).await?;
    let _ = stream.set_nodelay(true);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {endpoint}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    stream.write_all(&out).await?;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 16 * 1024];
    // The head.
    let (status, body_start, length, chunked) = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("the connection closed before a response"));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf).map_err(|e| bad(&format!("not an HTTP response: {e}")))? {
            httparse::Status::Partial => {
                if buf.len() > 64 * 1024 {
                    return Err(bad("response head too long"));
                }
            }
            httparse::Status::Complete(at) => {
                let mut length = None;
                let mut chunked = false;
                for h in response.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        length = std::str::from_utf8(h.value).ok().and_then(|v| v.trim().parse::<usize>().ok());
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        chunked = String::from_utf8_lossy(h.value).to_ascii_lowercase().contains("chunked");
                    }
                }
                break (response.code.unwrap_or(0), at, length, chunked);
            }
        }
    };
    let mut data = buf.split_off(body_start);
    let body: Vec<u8> = if chunked {
        // The first chunk holds one whole JSON document (one message of a stream).
        loop {
            if let Some(line_end) = memchr::memmem::find(&data, b"\r\n") {
                let size = std::str::from_utf8(&data[..line_end])
                    .ok()
                    .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
                    .ok_or_else(|| bad("bad chunk size"))?;
                if size > MAX_RESPONSE {
                    return Err(bad("response too large"));
                }
                if data.len() >= line_end + 2 + size {
                    break data[line_end + 2..line_end + 2 + size].to_vec();
                }
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(bad("the connection closed in a chunk"));
            }
            data.extend_from_slice(&chunk[..n]);
        }
    } else {
        let want = length.unwrap_or(MAX_RESPONSE);
        if want > MAX_RESPONSE {
            return Err(bad("response too large"));
        }
        while data.len() < want {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                if length.is_none() {
                    break;
                }
                return Err(bad("the connection closed in the body"));
            }
            data.extend_from_slice(&chunk[..n]);
        }
        data.truncate(want);
        data
    };
    let value = serde_json::from_slice(&body).map_err(|e| bad(&format!("not JSON: {e}")))?;
    Ok((status, value))
}

/// A lease this process holds and keeps alive on a task of its own.
///
/// It counts as held only until half its TTL after the last renewal was *sent*:
/// etcd keeps it at least a whole TTL after receiving that renewal, so a holder
/// that stops believing early never writes after another process could hold it.
#[derive(Debug)]
pub struct Lease {
    pub id: i64,
    pub ttl: Duration,
    /// Until when the lease may be used, as an offset from `origin`.
    valid_until: std::sync::Mutex<tokio::time::Instant>,
    /// Set for good once etcd says the lease is gone.
    lost: std::sync::atomic::AtomicBool,
}

impl Lease {
    /// Grant a lease of `ttl` seconds and keep it alive until it is lost or `revoke`d.
    pub async fn grant(etcd: std::sync::Arc<Etcd>, ttl: i64) -> Result<std::sync::Arc<Self>, EtcdError> {
        let sent = tokio::time::Instant::now();
        let (id, granted) = etcd.grant(ttl).await?;
        let ttl = Duration::from_secs(granted.max(1) as u64);
        let lease = std::sync::Arc::new(Self {
            id,
            ttl,
            valid_until: std::sync::Mutex::new(sent + ttl / 2),
            lost: std::sync::atomic::AtomicBool::new(false),
        });
        tokio::spawn(keep_alive(etcd, std::sync::Arc::downgrade(&lease)));
        Ok(lease)
    }

    /// Whether this process may still act as the lease's holder.
    pub fn held(&self) -> bool {
        !self.lost.load(Ordering::Relaxed)
            && tokio::time::Instant::now() < *self.valid_until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether etcd has said the lease is gone (for good).
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Stop using the lease (a store said it no longer holds).
    pub fn mark_lost(&self) {
        self.lost.store(true, Ordering::Relaxed);
    }
}

/// Renew the lease every quarter of its TTL, as long as anyone holds it.
async fn keep_alive(etcd: std::sync::Arc<Etcd>, lease: std::sync::Weak<Lease>) {
    loop {
        let Some(held) = lease.upgrade() else { return };
        if held.lost() {
            return;
        }
        let (id, ttl) = (held.id, held.ttl);
        drop(held);
        let sent = tokio::time::Instant::now();
        let renewed = tokio::time::timeout(ttl / 2, etcd.keepalive(id)).await;
        let Some(held) = lease.upgrade() else { return };
        match renewed {
            Ok(Ok(left)) if left > 0 => {
                *held.valid_until.lock().unwrap_or_else(|e| e.into_inner()) = sent + ttl / 2;
            }
            Ok(Ok(_)) => {
                held.mark_lost();
                return;
            }
            // Unreachable for now: the lease lapses in `held` by itself if this goes on.
            _ => {}
        }
        drop(held);
        tokio::time::sleep_until(sent + ttl / 4).await;
    }
}
