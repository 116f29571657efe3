//! One websocket connection: authentication at the handshake, then one task with
//! one loop that forwards the session's events and answers the client's commands.
//! The loop's `select!` only waits; every write happens in its body.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{OwnedSemaphorePermit, broadcast};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::session::{Frame, OlderPage, SessionHandle};
use super::tokens::Credential;
use super::{Registry, Settings, log};
use crate::domain::{Actor, Role};
use crate::forum::Follower;
use crate::protocol::{ClientFrame, DecodeError, Envelope, ErrorCode, PROTOCOL_VERSION, ServerFrame, decode_client};

/// Messages above this size close the connection (1009); between
/// [`crate::protocol::MAX_CLIENT_FRAME`] and this, they get an error frame.
const HARD_MESSAGE_LIMIT: usize = 256 * 1024;

fn ws_config() -> WebSocketConfig {
    // Small buffers: thousands of observers must fit in memory. Reads of 256 bytes
    // take a pong or a command in one or a few (each read first zeroes its space).
    WebSocketConfig::default()
        .read_buffer_size(256)
        .write_buffer_size(0)
        .max_write_buffer_size(4 * 1024 * 1024)
        .max_message_size(Some(HARD_MESSAGE_LIMIT))
        .max_frame_size(Some(HARD_MESSAGE_LIMIT))
}

/// Who a connection is, established at the handshake.
struct Authed {
    /// The session's id; empty for the forum's connection (`/v1/forum`).
    session: String,
    forum: bool,
    actor: Actor,
    since: Option<u64>,
    epoch: Option<String>,
    /// `view=display`: the room screens' projection instead of the session's events.
    display: bool,
}

/// Why an upgrade request is refused: an HTTP status and a message.
type Refusal = (StatusCode, &'static str);

fn refusal(status: StatusCode, message: &'static str) -> Refusal {
    (status, message)
}

fn error_response((status, message): Refusal) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(format!("{message}\n")));
    *response.status_mut() = status;
    response
}

/// Decode `%XX` and `+` in a query value.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(value.get(i + 1..i + 3).unwrap_or(""), 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn query_params(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(pair), String::new()),
        })
        .collect()
}

/// A display name a client chose: printable, at most 40 characters.
fn clean_name(name: &str) -> Option<String> {
    let cleaned: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Check the upgrade request: path, session, token, origin. Answers with the
/// HTTP error to send instead of upgrading.
fn authorize(registry: &Registry, settings: &Settings, request: &Request) -> Result<Authed, Refusal> {
    if let Some(origin) = request.headers().get("origin") {
        let origin = origin.to_str().unwrap_or("");
        // The hub's own pages come from its own address: their origin is the Host asked for.
        let host = request.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or("");
        let own = !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"));
        // A page served by another hub of the session (etcd) follows it here.
        let sibling = || settings.etcd.as_ref().is_some_and(|e| e.serves_pages_of(origin));
        if !own && !settings.allowed_origins.iter().any(|o| o == origin) && !sibling() {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                "this origin is not allowed to connect (see the hub's --allow-origin)",
            ));
        }
    }
    let path = request.uri().path();
    let params = query_params(request.uri().query());
    let header_token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let token = header_token.or_else(|| params.get("token").map(String::as_str)).filter(|t| !t.is_empty());
    if path == "/v1/forum" {
        let role = match token {
            Some(token) => registry
                .forum_tokens
                .authenticate(token)
                .ok_or_else(|| refusal(StatusCode::UNAUTHORIZED, "invalid token for this hub's forum"))?,
            None => {
                return Err(refusal(
                    StatusCode::UNAUTHORIZED,
                    "the forum needs the secretariat's token (or the forum observer's), from forum-tokens.toml in the hub's data directory: `Authorization: Bearer TOKEN` or `?token=TOKEN`",
                ));
            }
        };
        let actor = super::tokens::forum_actor(role);
        return Ok(Authed { session: String::new(), forum: true, actor, since: None, epoch: None, display: false });
    }
    let Some(id) = path.strip_prefix("/v1/sessions/").filter(|id| !id.is_empty() && !id.contains('/')) else {
        return Err(refusal(StatusCode::NOT_FOUND, "no such path: connect to /v1/sessions/SESSION-ID or /v1/forum"));
    };
    let Some(entry) = registry.sessions.get(id) else {
        return Err(refusal(StatusCode::NOT_FOUND, "no such session on this hub"));
    };
    // A session's own tokens, else the forum's (valid in every session).
    let mut forum_actor = None;
    let credential = match token {
        Some(token) => {
            match (entry.tokens.authenticate(token, &entry.def), registry.forum_tokens.authenticate(token)) {
                (Some(credential), _) => credential,
                (None, Some(role)) => {
                    forum_actor = Some(super::tokens::forum_actor(role));
                    Credential { role, participant: None, person: None }
                }
                (None, None) => return Err(refusal(StatusCode::UNAUTHORIZED, "invalid token for this session")),
            }
        }
        None if entry.def.observers_open => Credential { role: Role::Observer, participant: None, person: None },
        None => {
            return Err(refusal(
                StatusCode::UNAUTHORIZED,
                "a token is required: `Authorization: Bearer TOKEN` or `?token=TOKEN`",
            ));
        }
    };
    let since = match params.get("since") {
        Some(s) => Some(
            s.parse::<u64>().map_err(|_| refusal(StatusCode::BAD_REQUEST, "`since` must be a whole number (a seq)"))?,
        ),
        None => None,
    };
    let name = params.get("name").and_then(|n| clean_name(n));
    // A person's own token names them; a shared role token takes the name the
    // connection declares (or the role's).
    let person = credential.person.as_deref().and_then(|id| entry.def.person(id));
    let actor = match (credential.role, person, forum_actor) {
        (_, _, Some(actor)) => actor,
        (Role::Delegate, _, _) => Actor::delegate(credential.participant.as_deref().unwrap_or_default()),
        (role, Some((_, person)), _) => Actor::person(role, person),
        (role, None, None) => {
            Actor { role, name: name.unwrap_or_else(|| role.label().to_string()), participant: None, person: None }
        }
    };
    let epoch = params.get("epoch").filter(|e| !e.is_empty()).cloned();
    let display = match params.get("view").map(String::as_str) {
        None | Some("full") => false,
        Some("display") => true,
        Some(_) => return Err(refusal(StatusCode::BAD_REQUEST, "`view` is `display` (the room screens) or absent")),
    };
    Ok(Authed { session: id.to_string(), forum: false, actor, since, epoch, display })
}

fn envelope(frame: ServerFrame, clock: &super::Clock) -> Message {
    Message::Text(Envelope { frame, now: clock.now() }.to_json().into())
}

/// The connection is too slow to take what it is sent, or gone.
struct Gone;

/// A token bucket: `per_sec` sustained, `burst` at once.
struct RateLimit {
    tokens: f64,
    per_sec: f64,
    burst: f64,
    last: Instant,
    warned: Option<Instant>,
}

impl RateLimit {
    fn new(per_sec: u32, burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            per_sec: f64::from(per_sec),
            burst: f64::from(burst),
            last: Instant::now(),
            warned: None,
        }
    }

    fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.per_sec).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Say so at most once a second.
    fn should_warn(&mut self) -> bool {
        let now = Instant::now();
        if self.warned.is_some_and(|w| now.duration_since(w).as_secs() < 1) {
            return false;
        }
        self.warned = Some(now);
        true
    }
}

/// One connection's state. A single task owns it, its socket and its live
/// receiver: frames are written from the loop's body, never from inside a
/// `select!` branch, and there is no second task or queue between the session's
/// broadcast and the socket.
struct Connection<S> {
    ws: WebSocketStream<S>,
    handle: SessionHandle,
    live: broadcast::Receiver<Frame>,
    /// Seq of the last event this client has been sent.
    forwarded: u64,
    settings: Arc<Settings>,
    /// Whether the websocket layer has nothing of its own left to write: event
    /// frames go to the socket directly, and must not land inside one of its frames.
    /// False after it was given a message or read (a read may queue a pong), true
    /// after it flushed.
    clean: bool,
}

impl<S> Connection<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    /// A hub frame stamped with the hub's clock.
    fn frame(&self, frame: ServerFrame) -> Message {
        envelope(frame, &self.settings.clock)
    }

    /// Write a message (a large one in fragments) without flushing. A client that
    /// stops reading fills its socket: give up on it after the write timeout.
    async fn feed(&mut self, message: Message) -> Result<(), Gone> {
        self.clean = false;
        let limit = self.settings.write_timeout;
        match message {
            Message::Text(text) if text.len() > FRAGMENT => {
                for part in fragments(text) {
                    bounded(limit, self.ws.feed(part)).await?;
                }
                Ok(())
            }
            message => bounded(limit, self.ws.feed(message)).await,
        }
    }

    async fn flush(&mut self) -> Result<(), Gone> {
        bounded(self.settings.write_timeout, self.ws.flush()).await?;
        self.clean = true;
        Ok(())
    }

    async fn send(&mut self, message: Message) -> Result<(), Gone> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Say why, with a close frame; the closing handshake is finished after the loop.
    async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Gone> {
        self.send(close(code, reason)).await
    }

    /// Write an event frame unless the client has it already. The frame was encoded
    /// once for every connection: its bytes go to the socket as they are, in one
    /// write, with no copy into the websocket layer's buffer (which is flushed
    /// first if it holds anything).
    async fn forward(&mut self, frame: Frame) -> Result<(), Gone> {
        use tokio::io::AsyncWriteExt;
        if frame.seq > self.forwarded {
            self.forwarded = frame.seq;
            let (clean, ws) = (self.clean, &mut self.ws);
            // One limit for the whole write, the websocket layer's flush included.
            bounded(self.settings.write_timeout, async {
                if !clean {
                    ws.flush().await.map_err(|_| ())?;
                }
                // The stream's own flush: nothing on TCP; over TLS, the records still buffered.
                let socket = ws.get_mut();
                socket.write_all(&frame.wire).await.map_err(|_| ())?;
                socket.flush().await.map_err(|_| ())
            })
            .await?;
            self.clean = true;
        }
        Ok(())
    }

    /// Fell behind the broadcast: send what was missed (or a fresh snapshot) and
    /// continue on a new live receiver, so the client is never left silently deaf.
    async fn resync(&mut self) -> Result<(), Gone> {
        let Some(sub) = self.handle.subscribe(Some(self.forwarded), None).await else {
            return Err(Gone);
        };
        let snapshot = sub.initial.len() == 1 && sub.initial[0].as_str().starts_with(r#"{"type":"snapshot""#);
        if snapshot {
            let reason = format!("fell behind the live stream after seq {}: a fresh snapshot follows", self.forwarded);
            self.feed(self.frame(ServerFrame::Resync { reason })).await?;
        }
        for text in sub.initial {
            self.feed(Message::Text(text)).await?;
        }
        self.flush().await?;
        self.forwarded = sub.seq;
        self.live = sub.live;
        Ok(())
    }

    /// Forward live events up to `seq` (those of an accepted command), so that a
    /// client always has a command's events before its `accepted`.
    async fn catch_up(&mut self, seq: u64) -> Result<(), Gone> {
        while self.forwarded < seq {
            match self.live.recv().await {
                Ok(frame) => self.forward(frame).await?,
                Err(RecvError::Lagged(_)) => self.resync().await?,
                Err(RecvError::Closed) => return Err(Gone),
            }
        }
        Ok(())
    }

    /// A frame over the rate limit is dropped; a command still gets its answer
    /// (so no client waits forever), and the connection is told once a second.
    async fn over_limit(&mut self, text: &str, limit: &mut RateLimit) -> Result<(), Gone> {
        let reason = format!("more than {} frames a second: frames are being dropped", self.settings.frames_per_sec);
        match decode_client(text) {
            Ok(ClientFrame::Command { id, .. }) | Err(DecodeError::Command { id, .. }) => {
                let code = crate::domain::RejectCode::RateLimited;
                self.send(self.frame(ServerFrame::rejected(id, code, reason))).await
            }
            _ if limit.should_warn() => {
                self.send(self.frame(ServerFrame::Error { code: ErrorCode::RateLimited, reason })).await
            }
            _ => Ok(()),
        }
    }

    async fn on_text(&mut self, actor: &Actor, text: &str) -> Result<(), Gone> {
        match decode_client(text) {
            Ok(ClientFrame::Command { id, command }) => match self.handle.command(actor.clone(), command).await {
                Ok(accepted) => {
                    if let Some(last) = accepted.last_seq {
                        self.catch_up(last).await?;
                    }
                    self.send(self.frame(ServerFrame::Accepted {
                        id,
                        first_seq: accepted.first_seq,
                        last_seq: accepted.last_seq,
                    }))
                    .await
                }
                Err(rejection) => self.send(self.frame(rejected_frame(id, rejection, &self.handle))).await,
            },
            Ok(ClientFrame::Ping { id }) => self.send(self.frame(ServerFrame::Pong { id })).await,
            Ok(ClientFrame::FetchOlder { id, before }) => {
                let Some(page) = self.handle.older(before).await else {
                    return Err(Gone);
                };
                let OlderPage { from, turns, notes, pledges } = page;
                self.send(self.frame(ServerFrame::Older { id, from, turns, notes, pledges })).await
            }
            Err(DecodeError::Frame(code, reason)) => self.send(self.frame(ServerFrame::Error { code, reason })).await,
            Err(DecodeError::Command { id, reason }) => {
                self.send(self.frame(ServerFrame::rejected(id, crate::domain::RejectCode::Invalid, reason))).await
            }
        }
    }
}

/// A source of wake-ups (the socket's read side, the heartbeat's timer) polled
/// only when it woke the connection (or after it gave something: more may be
/// ready). The loop is woken by each event for its live stream; without the gate
/// every such pass polled the others again for nothing: the socket's read side
/// (a waker registered under its lock, tungstenite zeroing its read space before
/// finding nothing to read) and the timer (its waker registered again).
struct Gate {
    inner: Arc<GateInner>,
    waker: std::task::Waker,
}

struct GateInner {
    woken: std::sync::atomic::AtomicBool,
    task: futures_util::task::AtomicWaker,
}

impl std::task::Wake for GateInner {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, std::sync::atomic::Ordering::Release);
        self.task.wake();
    }
}

impl Gate {
    fn new() -> Self {
        let inner = Arc::new(GateInner {
            woken: std::sync::atomic::AtomicBool::new(true),
            task: futures_util::task::AtomicWaker::new(),
        });
        Self { waker: std::task::Waker::from(inner.clone()), inner }
    }

    /// `poll` the source with the gate's own waker if it woke since it was last
    /// pending; otherwise pending at once.
    fn poll<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        poll: impl FnOnce(&mut std::task::Context<'_>) -> std::task::Poll<T>,
    ) -> std::task::Poll<T> {
        use std::sync::atomic::Ordering;
        // Registered on every pass, before the flag is read: a wake-up takes the
        // task's waker out, and one racing with this pass (its flag set before it
        // takes the waker) must find the waker registered now, or the next wake-up
        // finds none and the connection goes deaf. (`register` does not clone a
        // waker that would wake the same task.)
        self.inner.task.register(cx.waker());
        // Read before writing: a swap on every pass is a locked write to a line the
        // other worker thread may hold, and it showed in profiles; a load is not.
        let woken = self.inner.woken.load(Ordering::Acquire) && self.inner.woken.swap(false, Ordering::AcqRel);
        if !woken {
            return std::task::Poll::Pending;
        }
        let polled = poll(&mut std::task::Context::from_waker(&self.waker));
        if polled.is_ready() {
            self.inner.woken.store(true, Ordering::Release);
        }
        polled
    }
}

/// What woke a connection other than its live stream.
enum Woke {
    /// The client sent something (or its socket closed).
    Heard(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    /// The heartbeat is due.
    Beat,
}

/// Whether the session's live stream goes on.
enum Flow {
    Continue,
    /// The session stopped (the hub is shutting down).
    Stopped,
}

/// When a connection's first heartbeat is due: somewhere in the first period,
/// spread by the peer's port, so that thousands of connections made in the same
/// second do not all ping in the same second ever after.
pub(super) fn first_heartbeat(peer: SocketAddr, period: Duration) -> tokio::time::Instant {
    let spread = u32::from(peer.port()) % 1000;
    tokio::time::Instant::now() + period.mul_f64(f64::from(spread + 1) / 1000.0)
}

/// A `display` frame: the projection's JSON (serialized once by the session) with
/// the hub's time now, from which the page keeps its clock.
fn display_message(state: &Utf8Bytes, clock: &super::Clock) -> Message {
    let now = clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Message::Text(format!("{{\"type\":\"display\",\"state\":{},\"now\":\"{now}\"}}", state.as_str()).into())
}

/// A room screen's connection: the welcome, the projection, then each change of it.
/// An observer's page is read-only (frames other than `ping` are answered with an
/// error); a delegate's page (the speaker's page opened with a delegation's token)
/// also gets its `moves` after each change and may send `command` frames, decided
/// as any delegate's. Pings and the idle close as for any connection.
async fn serve_display<S>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    peer: SocketAddr,
    session: String,
    actor: Actor,
    (handle, tokens): (SessionHandle, Arc<super::TokenStore>),
    settings: Arc<Settings>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut display = handle.display();
    let mut recorded = handle.recorded();
    let delegate = actor.role == crate::domain::Role::Delegate;
    let welcome = envelope(
        ServerFrame::Welcome {
            protocol: PROTOCOL_VERSION,
            session: session.clone(),
            role: actor.role,
            name: actor.name.clone(),
            participant: actor.participant.clone(),
            person: actor.person.clone(),
            epoch: String::new(),
            seq: 0,
            hubs: settings.etcd.as_ref().map(|e| e.session_urls(&session)).unwrap_or_default(),
        },
        &settings.clock,
    );
    let mut start = vec![welcome, display_message(&display.borrow_and_update(), &settings.clock)];
    recorded.borrow_and_update();
    if delegate && let Some(moves) = handle.moves(actor.clone()).await {
        start.push(Message::Text(moves));
    }
    for message in start {
        if timeout(settings.write_timeout, ws.send(message)).await.map_or(true, |r| r.is_err()) {
            return;
        }
    }
    let mut limit = RateLimit::new(settings.frames_per_sec, settings.frame_burst);
    let period = settings.idle_timeout / 3;
    let mut heartbeat = tokio::time::interval_at(first_heartbeat(peer, period), period);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_heard = Instant::now();
    loop {
        let messages = tokio::select! {
            changed = display.changed() => match changed {
                Ok(()) => vec![display_message(&display.borrow_and_update(), &settings.clock)],
                // The session stopped: the hub is shutting down.
                Err(_) => vec![close(CloseCode::Away, "the hub is shutting down")],
            },
            // A delegate's moves after every recorded change, shown on the display or not
            // (its own connection status, say).
            changed = recorded.changed(), if delegate => match changed {
                Ok(()) => {
                    recorded.borrow_and_update();
                    handle.moves(actor.clone()).await.map(Message::Text).into_iter().collect()
                }
                Err(_) => vec![close(CloseCode::Away, "the hub is shutting down")],
            },
            incoming = ws.next() => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) if limit.allow() => {
                        vec![display_answer((&handle, &tokens), &actor, text.as_str(), &settings).await]
                    }
                    Some(Ok(Message::Text(_))) => vec![envelope(
                        ServerFrame::Error {
                            code: ErrorCode::RateLimited,
                            reason: format!("too many frames: at most {} a second", settings.frames_per_sec),
                        },
                        &settings.clock,
                    )],
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= settings.idle_timeout {
                    vec![close(CloseCode::Away, "nothing heard")]
                } else {
                    vec![Message::Ping(Default::default())]
                }
            }
        };
        for message in messages {
            let closing = matches!(message, Message::Close(_));
            if timeout(settings.write_timeout, ws.send(message)).await.map_or(true, |r| r.is_err()) || closing {
                let _ = timeout(settings.write_timeout, ws.close(None)).await;
                return;
            }
        }
    }
    let _ = timeout(settings.write_timeout, ws.close(None)).await;
}

/// The answer to a frame from a room's page: a `pong` (the page measures its
/// clock's offset as the terminal clients do), a delegate's command decided, or
/// why the frame is not for this page.
async fn display_answer(
    (handle, tokens): (&SessionHandle, &super::TokenStore),
    actor: &Actor,
    text: &str,
    settings: &Settings,
) -> Message {
    let clock = &settings.clock;
    let frame = match decode_client(text) {
        Ok(ClientFrame::Ping { id }) => ServerFrame::Pong { id },
        Ok(ClientFrame::Command { id, command }) if actor.role == crate::domain::Role::Delegate => {
            match handle.command(actor.clone(), command.clone()).await {
                Ok(accepted) => {
                    ServerFrame::Accepted { id, first_seq: accepted.first_seq, last_seq: accepted.last_seq }
                }
                // A page cannot reach another hub (its security policy allows only its
                // own): a standby sends its delegate's command to the leader itself.
                Err(rejection) if rejection.code == crate::domain::RejectCode::Standby => {
                    let token = actor.participant.as_ref().and_then(|p| tokens.get().delegates.get(p).cloned());
                    match (handle.leader(), token) {
                        (Some(leader), Some(token)) => match forward(&leader, &token, command).await {
                            Ok(answer) => answer,
                            // Not sent: nothing was decided anywhere.
                            Err(Forwarded::NotSent(why)) => ServerFrame::Rejected {
                                id: String::new(),
                                code: rejection.code,
                                reason: format!("{} (the leading hub could not be reached: {why})", rejection.reason),
                                leader: Some(leader),
                            },
                            // Sent, and no answer: it may have been recorded.
                            Err(Forwarded::NoAnswer(why)) => ServerFrame::rejected(
                                String::new(),
                                crate::domain::RejectCode::Refused,
                                format!(
                                    "sent on to the leading hub at {leader}, which did not answer ({why}): whether it was recorded is not known; look at the list before asking again"
                                ),
                            ),
                        },
                        _ => rejected_frame(String::new(), rejection, handle),
                    }
                    .with_id(id)
                }
                Err(rejection) => rejected_frame(id, rejection, handle),
            }
        }
        Ok(ClientFrame::Command { .. }) => ServerFrame::Error {
            code: ErrorCode::ReadOnly,
            reason: format!(
                "this page has {}'s token and is read-only (only a delegate's page gives commands, its own): connect without view=display to give others",
                actor.role.with_article()
            ),
        },
        Ok(ClientFrame::FetchOlder { .. }) => ServerFrame::Error {
            code: ErrorCode::ReadOnly,
            reason:
                "a display connection follows the display projection: connect without view=display to fetch older turns"
                    .to_string(),
        },
        Err(DecodeError::Frame(code, reason)) => ServerFrame::Error { code, reason },
        Err(DecodeError::Command { id, reason }) => {
            ServerFrame::rejected(id, crate::domain::RejectCode::Invalid, reason)
        }
    };
    envelope(frame, clock)
}

/// How long a standby waits for the leading hub's answer to a page's command
/// (the page's projection waits meanwhile).
const FORWARD_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a command sent on to the leading hub got no answer from it.
enum Forwarded {
    /// It never reached the leader: nothing was decided.
    NotSent(String),
    /// It was sent, and no answer came: it may have been recorded.
    NoAnswer(String),
}

/// A delegate's command sent on to the session's leading hub, with the delegate's
/// own token (so the record names the delegate): the leader's answer, or why
/// there was none within [`FORWARD_LIMIT`]. Nothing is logged of the token.
async fn forward(leader: &str, token: &str, command: crate::domain::Command) -> Result<ServerFrame, Forwarded> {
    let deadline = tokio::time::Instant::now() + FORWARD_LIMIT;
    let late = || format!("no answer within {} s", FORWARD_LIMIT.as_secs());
    let connected = tokio::time::timeout_at(deadline, crate::client::Connection::connect(leader, Some(token), None));
    let mut conn = match connected.await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return Err(Forwarded::NotSent(e.to_string())),
        Err(_) => return Err(Forwarded::NotSent(late())),
    };
    let sent = match conn.command(command).await {
        Ok(id) => id,
        Err(e) => return Err(Forwarded::NotSent(e.to_string())),
    };
    let answer = async {
        loop {
            let frame = conn.recv().await.map_err(|e| e.to_string())?.frame;
            if let ServerFrame::Accepted { id, .. } | ServerFrame::Rejected { id, .. } = &frame
                && *id == sent
            {
                return Ok::<_, String>(frame);
            }
        }
    };
    let answer = match tokio::time::timeout_at(deadline, answer).await {
        Ok(Ok(frame)) => frame,
        Ok(Err(e)) => return Err(Forwarded::NoAnswer(e)),
        Err(_) => return Err(Forwarded::NoAnswer(late())),
    };
    conn.close().await;
    Ok(answer)
}

/// The `rejected` frame of a refused command: a standby's names the leading hub.
fn rejected_frame(id: String, rejection: crate::domain::Rejection, handle: &SessionHandle) -> ServerFrame {
    let leader = (rejection.code == crate::domain::RejectCode::Standby).then(|| handle.leader()).flatten();
    ServerFrame::Rejected { id, code: rejection.code, reason: rejection.reason, leader }
}

pub(super) fn close(code: CloseCode, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from(reason.to_string()) }))
}

pub(super) async fn serve<S>(
    mut stream: S,
    peer: SocketAddr,
    registry: Arc<Registry>,
    settings: Arc<Settings>,
    permit: Option<OwnedSemaphorePermit>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // A browser's plain GET is for a room page or the report; anything else goes to the websocket layer.
    let head = match timeout(settings.handshake_timeout, super::http::read_head(&mut stream)).await {
        Ok(Some(head)) => head,
        _ => return,
    };
    if !head.upgrade {
        // Boxed: answering a page (the report reads a whole journal) is a large future,
        // and inline it would be part of every websocket connection's task too.
        // The other hubs of a session kept in etcd: a page may follow it there.
        let hubs = settings.etcd.as_ref().map(|e| e.hub_origins()).unwrap_or_default();
        let response = Box::pin(super::http::answer(&registry, &head, &hubs)).await;
        let _ = timeout(settings.write_timeout, super::http::respond(&mut stream, &response)).await;
        return;
    }
    let stream = super::http::Prefixed::new(head.bytes, stream);
    let mut authed: Option<Authed> = None;
    // tungstenite's callback type fixes the error type.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        if permit.is_none() {
            return Err(error_response((StatusCode::SERVICE_UNAVAILABLE, "the hub is at its connection limit")));
        }
        authed = Some(authorize(&registry, &settings, request).map_err(error_response)?);
        Ok(response)
    };
    // Boxed (like the rarely taken branches below), so that its buffers are not
    // part of every connection's long-lived task.
    let handshake = Box::pin(tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config())));
    let mut ws = match timeout(settings.handshake_timeout, handshake).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(_)) | Err(_) => return, // refused, malformed or too slow: nothing to serve
    };
    let Some(Authed { session, forum, actor, since, epoch, display }) = authed else {
        return;
    };
    if forum {
        return Box::pin(super::forum::serve(ws, peer, actor, registry.forum.clone(), settings)).await;
    }
    let Some(entry) = registry.sessions.get(&session) else {
        return;
    };
    if display {
        let _counted = entry.handle.count_display();
        let _present = registry.forum.present(entry.index, Follower::Display);
        let serving = (entry.handle.clone(), entry.tokens.clone());
        return Box::pin(serve_display(ws, peer, session, actor, serving, settings)).await;
    }
    // Who follows the session, for the forum's console; counted out when the connection ends.
    let _present = registry.forum.present(entry.index, Follower::Role(actor.role));
    let Some(sub) = entry.handle.subscribe(since, epoch).await else {
        let _ = timeout(settings.write_timeout, ws.send(close(CloseCode::Away, "session is shutting down"))).await;
        return;
    };
    let welcome = envelope(
        ServerFrame::Welcome {
            protocol: PROTOCOL_VERSION,
            session: session.clone(),
            role: actor.role,
            name: actor.name.clone(),
            participant: actor.participant.clone(),
            person: actor.person.clone(),
            epoch: sub.epoch.clone(),
            seq: sub.seq,
            hubs: settings.etcd.as_ref().map(|e| e.session_urls(&session)).unwrap_or_default(),
        },
        &settings.clock,
    );
    let mut conn = Connection {
        ws,
        handle: entry.handle.clone(),
        live: sub.live,
        forwarded: sub.seq,
        settings: settings.clone(),
        clean: false,
    };
    let mut start = vec![welcome];
    start.extend(sub.initial.into_iter().map(Message::Text));
    for message in start {
        if conn.feed(message).await.is_err() {
            return;
        }
    }
    if conn.flush().await.is_err() {
        return;
    }

    let mut limit = RateLimit::new(settings.frames_per_sec, settings.frame_burst);
    let period = settings.idle_timeout / 3;
    let mut heartbeat = tokio::time::interval_at(first_heartbeat(peer, period), period);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_heard = Instant::now();
    // The socket's read side and the heartbeat wake the connection rarely (a pong,
    // a command, once a period): both are behind one gate, off the events' path.
    let mut gate = Gate::new();
    // The hub shuts down by stopping its sessions: their live stream ends, which
    // every connection is already waiting on, so no shutdown signal is polled here.
    let outcome: Result<(), Gone> = loop {
        tokio::select! {
            // Events first: under load they are what is ready, and the branch
            // after them is not polled when an event is.
            biased;
            frame = conn.live.recv() => {
                let result = match frame {
                    Ok(frame) => conn.forward(frame).await.map(|()| Flow::Continue),
                    Err(RecvError::Lagged(_)) => Box::pin(conn.resync()).await.map(|()| Flow::Continue),
                    Err(RecvError::Closed) => Ok(Flow::Stopped),
                };
                match result {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Stopped) => break conn.close(CloseCode::Away, "the hub is shutting down").await,
                    Err(gone) => break Err(gone),
                }
            }
            woke = std::future::poll_fn(|cx| gate.poll(cx, |cx| {
                // A read may have the websocket layer write (a pong).
                conn.clean = false;
                if let std::task::Poll::Ready(incoming) = conn.ws.poll_next_unpin(cx) {
                    return std::task::Poll::Ready(Woke::Heard(incoming));
                }
                heartbeat.poll_tick(cx).map(|_| Woke::Beat)
            })) => {
                let result = match woke {
                    Woke::Heard(incoming) => {
                        last_heard = Instant::now();
                        match incoming {
                            Some(Ok(message)) => match message {
                                Message::Text(text) => {
                                    if limit.allow() {
                                        Box::pin(conn.on_text(&actor, text.as_str())).await
                                    } else {
                                        Box::pin(conn.over_limit(text.as_str(), &mut limit)).await
                                    }
                                }
                                Message::Binary(_) => conn.send(conn.frame(ServerFrame::Error {
                                    code: ErrorCode::Binary,
                                    reason: "binary messages are not part of the protocol: send JSON text".to_string(),
                                })).await,
                                Message::Close(_) => break Ok(()),
                                // Pings are answered by the websocket layer, on the next write or flush.
                                Message::Ping(_) => conn.flush().await,
                                _ => Ok(()),
                            },
                            Some(Err(e)) => {
                                // Over the hard size limit, bad masking, reset: tell the client if we can.
                                let reason = e.to_string();
                                let code = if reason.contains("too long") || reason.contains("Space limit") {
                                    CloseCode::Size
                                } else {
                                    CloseCode::Protocol
                                };
                                break conn.close(code, &reason.chars().take(100).collect::<String>()).await;
                            }
                            None => break Ok(()),
                        }
                    }
                    Woke::Beat => {
                        // A peer that answers nothing, not even pings, is gone: free its place.
                        if last_heard.elapsed() >= settings.idle_timeout {
                            let reason = format!("nothing heard for {} s", settings.idle_timeout.as_secs());
                            break conn.close(CloseCode::Away, &reason).await;
                        }
                        conn.send(Message::Ping(Default::default())).await
                    }
                };
                if result.is_err() {
                    break result;
                }
            }
        }
    };
    match outcome {
        // Finish the closing handshake (answering the client's close frame, if it sent one).
        Ok(()) => {
            let _ = timeout(settings.write_timeout, conn.ws.close(None)).await;
        }
        Err(Gone) => {
            log(&format!("closed connection from {peer} ({}): too slow to receive its frames", actor.role.label()));
        }
    }
}

/// Await a write under `limit`, arming the timer only if the write does not
/// complete at once: most do, and a timer per write per connection is measurable
/// when one event goes to thousands of connections.
async fn bounded<F, E>(limit: Duration, write: F) -> Result<(), Gone>
where
    F: std::future::Future<Output = Result<(), E>>,
{
    let mut write = std::pin::pin!(write);
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(write.as_mut().poll(cx))).await;
    let result = match first {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => timeout(limit, write).await.map_err(|_| Gone)?,
    };
    result.map_err(|_| Gone)
}

/// Largest piece of a text message written at once. A connection's write buffer
/// keeps the capacity of the largest frame it ever wrote (tungstenite does not
/// shrink it): at 4 KiB every observer kept 4 KiB after its snapshot, and an idle
/// observer cost more than on a bare relay (10.3 KiB against 8.1); at 1 KiB, 7.9.
const FRAGMENT: usize = 1024;

/// Split a large text message (a snapshot) into websocket fragments, so that the
/// connection's write buffer never grows past [`FRAGMENT`]: thousands of observers
/// each keeping a snapshot-sized buffer would not fit in memory.
fn fragments(text: Utf8Bytes) -> Vec<Message> {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    // Pieces are slices of the shared frame: no copy.
    let bytes = tokio_tungstenite::tungstenite::Bytes::from(text.clone());
    let text = text.as_str();
    let mut parts = Vec::with_capacity(text.len() / FRAGMENT + 1);
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + FRAGMENT).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let opcode = if start == 0 { OpCode::Data(Data::Text) } else { OpCode::Data(Data::Continue) };
        parts.push(Message::Frame(Frame::message(bytes.slice(start..end), opcode, end == text.len())));
        start = end;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every connection's task holds its `serve` future for the connection's life:
    /// thousands of observers must each cost a few KiB, so the rarely taken paths
    /// (a page, the report, a resync) are boxed rather than inline. (The report
    /// inline made every connection's task 16 KiB larger.)
    #[tokio::test]
    async fn a_connections_task_is_small() {
        let (stream, _other) = tokio::io::duplex(64);
        let (forum, _task) = super::super::forum::ForumHub::spawn(0);
        let registry = Arc::new(Registry {
            sessions: Default::default(),
            forum,
            forum_tokens: crate::hub::ForumTokens { secretariat: "s".into(), observer: "o".into() },
        });
        let future =
            serve(stream, SocketAddr::from(([127, 0, 0, 1], 1)), registry, Arc::new(Settings::default()), None);
        let size = std::mem::size_of_val(&future);
        assert!(size < 4 * 1024, "the serve future is {size} bytes");
    }

    /// A source that keeps the waker it was polled with, and is ready when told.
    #[derive(Default)]
    struct Source {
        waker: std::sync::Mutex<Option<std::task::Waker>>,
        ready: std::sync::atomic::AtomicBool,
        polls: std::sync::atomic::AtomicUsize,
    }

    impl Source {
        fn poll(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
            use std::sync::atomic::Ordering;
            self.polls.fetch_add(1, Ordering::SeqCst);
            if self.ready.swap(false, Ordering::SeqCst) {
                return std::task::Poll::Ready(());
            }
            *self.waker.lock().expect("unpoisoned") = Some(cx.waker().clone());
            std::task::Poll::Pending
        }
        fn fire(&self, ready: bool) {
            self.ready.store(ready, std::sync::atomic::Ordering::SeqCst);
            if let Some(waker) = self.waker.lock().expect("unpoisoned").take() {
                waker.wake();
            }
        }
        fn polls(&self) -> usize {
            self.polls.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    /// Counts the wake-ups of the task.
    #[derive(Default)]
    struct Task(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Task {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The gate polls its source only after the source woke it (or gave something),
    /// however often the task is polled for something else, and passes every one
    /// of the source's wake-ups on to the task (each takes the task's waker out of
    /// the gate, so it is registered again after each).
    #[test]
    fn a_gated_source_is_polled_after_it_woke_and_every_wake_up_reaches_the_task() {
        use std::sync::atomic::Ordering;
        let task = Arc::new(Task::default());
        let waker = std::task::Waker::from(task.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let source = Source::default();
        let mut gate = Gate::new();
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_pending(), "polled once at first");
        // The task polled a hundred times for its other work: the source is not.
        for _ in 0..100 {
            assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_pending());
        }
        assert_eq!(source.polls(), 1);
        // A wake-up with nothing to give (spurious), then another: both reach the task.
        source.fire(false);
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_pending());
        assert_eq!(source.polls(), 2);
        source.fire(true);
        assert_eq!(task.0.load(Ordering::SeqCst), 2, "the second wake-up reached the task");
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_ready());
        // After it gave something, it is polled again (more may be there), then not.
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_pending());
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_pending());
        assert_eq!(source.polls(), 4);
        source.fire(true);
        assert_eq!(task.0.load(Ordering::SeqCst), 3);
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_ready());
    }

    /// A wake-up racing with a pass of the loop: its flag is set before the pass
    /// reads it, and it takes the task's waker after the pass registered it. The
    /// next wake-up must still reach the task (the waker is registered on every pass).
    #[test]
    fn a_wake_up_racing_with_a_pass_does_not_leave_the_gate_deaf() {
        use std::sync::atomic::Ordering;
        let task = Arc::new(Task::default());
        let waker = std::task::Waker::from(task.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let source = Source::default();
        let mut gate = Gate::new();
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_pending());
        // The first half of a wake-up (its flag), then a pass, then its second half.
        gate.inner.woken.store(true, Ordering::Release);
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_pending());
        gate.inner.task.wake();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        // The task runs again for it, finds nothing; then the source really wakes.
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_pending());
        source.fire(true);
        assert_eq!(task.0.load(Ordering::SeqCst), 2, "the next wake-up reached the task");
        assert!(gate.poll(&mut cx, |cx| source.poll(cx)).is_ready());
    }

    #[test]
    fn a_snapshot_goes_out_in_pieces_of_at_most_a_kib_whole_characters_each() {
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        let text: String = "Côte d'Ivoire, 中国 ".repeat(400);
        let parts = fragments(Utf8Bytes::from(text.clone()));
        let mut joined = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let Message::Frame(frame) = part else { panic!("a frame") };
            assert!(frame.payload().len() <= 1024, "piece {i}: {} bytes", frame.payload().len());
            assert!(std::str::from_utf8(frame.payload()).is_ok(), "piece {i} splits a character");
            let first = if i == 0 { OpCode::Data(Data::Text) } else { OpCode::Data(Data::Continue) };
            assert_eq!(frame.header().opcode, first);
            assert_eq!(frame.header().is_final, i + 1 == parts.len());
            joined.extend_from_slice(frame.payload());
        }
        assert_eq!(joined, text.as_bytes(), "nothing lost or repeated");
    }

    #[test]
    fn first_heartbeats_are_spread_over_the_period() {
        let period = Duration::from_secs(15);
        let now = tokio::time::Instant::now();
        let due: Vec<Duration> = (40_000..40_100u16)
            .map(|port| first_heartbeat(SocketAddr::from(([127, 0, 0, 1], port)), period) - now)
            .collect();
        assert!(due.iter().all(|d| *d > Duration::ZERO && *d <= period + Duration::from_millis(100)));
        let mut seconds: Vec<u64> = due.iter().map(Duration::as_secs).collect();
        seconds.dedup();
        assert!(seconds.len() >= 2, "100 connections made together do not all ping in the same second");
    }
}
