//! The forum on the hub: one task keeps the latest summary of every session (each
//! session's task sends its own after each change, [`crate::forum::summarize`])
//! and who follows each (every connection counts itself in and out), and
//! broadcasts a session's summary, serialized once, whenever it changes. The
//! secretariat's consoles connect at `/v1/forum`: each gets every summary and its
//! live receiver in one step, so no change falls between them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::Settings;
use crate::domain::Actor;
use crate::forum::{Follower, Presence, SessionSummary};
use crate::protocol::{ClientFrame, ErrorCode, PROTOCOL_VERSION, ServerFrame, decode_client};

/// Summaries kept for consoles a little behind; further behind, a console is sent
/// every summary again.
const CAPACITY: usize = 1024;

enum Input {
    State { index: usize, summary: Box<SessionSummary> },
    Presence { index: usize, who: Follower, delta: isize },
    Subscribe { reply: oneshot::Sender<Subscription> },
    Stop,
}

/// What a console gets on connecting: every session's summary (a JSON array) and
/// the stream of the summaries that change after it.
pub struct Subscription {
    pub sessions: Utf8Bytes,
    pub live: broadcast::Receiver<Utf8Bytes>,
}

/// A cheap handle to the forum's task.
#[derive(Debug, Clone)]
pub struct ForumHub {
    tx: mpsc::UnboundedSender<Input>,
}

/// Counts a connection as following a session while it is held.
pub struct Present {
    hub: ForumHub,
    index: usize,
    who: Follower,
}

impl Drop for Present {
    fn drop(&mut self) {
        let _ = self.hub.tx.send(Input::Presence { index: self.index, who: self.who, delta: -1 });
    }
}

impl ForumHub {
    /// Start the task for a hub serving `sessions` sessions.
    pub fn spawn(sessions: usize) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(rx, sessions));
        (Self { tx }, task)
    }

    /// A session's state changed: its new summary (from the session's own task).
    pub fn publish(&self, index: usize, summary: SessionSummary) {
        let _ = self.tx.send(Input::State { index, summary: Box::new(summary) });
    }

    /// Count a connection in until the returned guard is dropped.
    pub fn present(&self, index: usize, who: Follower) -> Present {
        let _ = self.tx.send(Input::Presence { index, who, delta: 1 });
        Present { hub: self.clone(), index, who }
    }

    pub async fn subscribe(&self) -> Option<Subscription> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Input::Subscribe { reply }).ok()?;
        rx.await.ok()
    }

    /// End the task: every console's stream ends, and it is closed as the hub stops.
    pub fn stop(&self) {
        let _ = self.tx.send(Input::Stop);
    }
}

fn json(summary: &SessionSummary) -> Utf8Bytes {
    serde_json::to_string(summary).unwrap_or_else(|_| "{}".to_string()).into()
}

async fn run(mut rx: mpsc::UnboundedReceiver<Input>, sessions: usize) {
    let (live, _) = broadcast::channel(CAPACITY);
    let mut summaries: Vec<Option<SessionSummary>> = vec![None; sessions];
    let mut presence: Vec<Presence> = vec![Presence::default(); sessions];
    while let Some(input) = rx.recv().await {
        let changed = match input {
            Input::Stop => break,
            Input::Subscribe { reply } => {
                let all: Vec<&SessionSummary> = summaries.iter().flatten().collect();
                let sessions = serde_json::to_string(&all).unwrap_or_else(|_| "[]".to_string()).into();
                let _ = reply.send(Subscription { sessions, live: live.subscribe() });
                continue;
            }
            Input::State { index, mut summary } => {
                let Some(slot) = summaries.get_mut(index) else { continue };
                summary.connected = presence.get(index).copied().unwrap_or_default();
                *slot = Some(*summary);
                index
            }
            Input::Presence { index, who, delta } => {
                let Some(counts) = presence.get_mut(index) else { continue };
                counts.add(who, delta);
                let counts = *counts;
                match summaries.get_mut(index).and_then(Option::as_mut) {
                    Some(summary) => summary.connected = counts,
                    None => continue,
                }
                index
            }
        };
        if let Some(Some(summary)) = summaries.get(changed) {
            // No console connected is fine.
            let _ = live.send(json(summary));
        }
    }
}

/// The first frame of a console: who it is and every summary.
fn forum_message(actor: &Actor, sessions: &Utf8Bytes, hubs: &[String], now: &str) -> Message {
    let name = serde_json::to_string(&actor.name).unwrap_or_else(|_| "\"\"".to_string());
    // A forum on etcd: its live hubs' forum URLs, for the console to follow the forum.
    let hubs = if hubs.is_empty() {
        String::new()
    } else {
        format!(",\"hubs\":{}", serde_json::to_string(hubs).unwrap_or_else(|_| "[]".to_string()))
    };
    Message::Text(
        format!(
            "{{\"type\":\"forum\",\"protocol\":{PROTOCOL_VERSION},\"role\":\"{}\",\"name\":{name},\"sessions\":{}{hubs},\"now\":\"{now}\"}}",
            actor.role.label(),
            sessions.as_str()
        )
        .into(),
    )
}

fn session_message(summary: &Utf8Bytes, now: &str) -> Message {
    Message::Text(format!("{{\"type\":\"forum-session\",\"session\":{},\"now\":\"{now}\"}}", summary.as_str()).into())
}

fn now_text(settings: &Settings) -> String {
    settings.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A console's connection: every summary, then each change; `ping` is answered
/// (the console keeps its clock by it), anything else is read-only. Pings and the
/// idle close as for every connection.
pub(super) async fn serve<S>(
    mut ws: WebSocketStream<S>,
    peer: SocketAddr,
    actor: Actor,
    forum: ForumHub,
    settings: Arc<Settings>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let envelope = |frame: ServerFrame| {
        Message::Text(crate::protocol::Envelope { frame, now: settings.clock.now() }.to_json().into())
    };
    let Some(Subscription { sessions, mut live }) = forum.subscribe().await else {
        let _ =
            timeout(settings.write_timeout, ws.send(super::conn::close(CloseCode::Away, "the hub is shutting down")))
                .await;
        return;
    };
    let hubs = settings.etcd.as_ref().map(super::EtcdSettings::forum_urls).unwrap_or_default();
    if timeout(settings.write_timeout, ws.send(forum_message(&actor, &sessions, &hubs, &now_text(&settings))))
        .await
        .map_or(true, |r| r.is_err())
    {
        return;
    }
    let period = settings.idle_timeout / 3;
    let mut heartbeat = tokio::time::interval_at(super::conn::first_heartbeat(peer, period), period);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_heard = Instant::now();
    loop {
        let message = tokio::select! {
            summary = live.recv() => match summary {
                Ok(summary) => session_message(&summary, &now_text(&settings)),
                // Too far behind: every summary again, from a new receiver.
                Err(RecvError::Lagged(_)) => match forum.subscribe().await {
                    Some(again) => {
                        live = again.live;
                        forum_message(&actor, &again.sessions, &hubs, &now_text(&settings))
                    }
                    None => super::conn::close(CloseCode::Away, "the hub is shutting down"),
                },
                Err(RecvError::Closed) => super::conn::close(CloseCode::Away, "the hub is shutting down"),
            },
            incoming = ws.next() => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) => match decode_client(text.as_str()) {
                        Ok(ClientFrame::Ping { id }) => envelope(ServerFrame::Pong { id }),
                        _ => envelope(ServerFrame::Error {
                            code: ErrorCode::ReadOnly,
                            reason: "the forum's connection only follows: open a session (/v1/sessions/ID) to give commands"
                                .to_string(),
                        }),
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= settings.idle_timeout {
                    let reason = format!("nothing heard for {} s", settings.idle_timeout.as_secs());
                    super::conn::close(CloseCode::Away, &reason)
                } else {
                    Message::Ping(Default::default())
                }
            }
        };
        let closing = matches!(message, Message::Close(_));
        if timeout(settings.write_timeout, ws.send(message)).await.map_or(true, |r| r.is_err()) || closing {
            break;
        }
    }
    let _ = timeout(settings.write_timeout, ws.close(None)).await;
}
