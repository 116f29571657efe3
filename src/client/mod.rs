//! The client side of the protocol: connect to a hub, send commands, and keep a
//! replica of the session state from its snapshot and events.

pub mod link;
pub mod outbox;

use std::fmt;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::domain::{self, Command, Session};
use crate::protocol::{ClientFrame, Envelope, Positions, ServerFrame};

#[derive(Debug)]
pub enum ClientError {
    /// The hub refused the connection (HTTP status and its message).
    Refused {
        status: u16,
        message: String,
    },
    Connect(String),
    /// A frame from the hub that does not decode.
    BadFrame(String),
    /// The connection closed.
    Closed(Option<String>),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused { status, message } => write!(f, "refused by the hub ({status}): {message}"),
            Self::Connect(e) => write!(f, "cannot connect: {e}"),
            Self::BadFrame(e) => write!(f, "bad frame from the hub: {e}"),
            Self::Closed(Some(reason)) => write!(f, "connection closed: {reason}"),
            Self::Closed(None) => write!(f, "connection closed"),
        }
    }
}

impl std::error::Error for ClientError {}

/// One websocket connection to a session on a hub.
pub struct Connection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

/// Add `since=SEQ` (and the journal's `epoch`, when known) to a session URL.
fn with_since(url: &str, since: Option<u64>, epoch: Option<&str>) -> String {
    let Some(seq) = since else { return url.to_string() };
    let sep = if url.contains('?') { '&' } else { '?' };
    match epoch {
        Some(epoch) if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("{url}{sep}since={seq}&epoch={epoch}")
        }
        _ => format!("{url}{sep}since={seq}"),
    }
}

impl Connection {
    /// Connect to `ws://HOST:PORT/v1/sessions/ID`, with a token (sent as a bearer
    /// header) and, to resume, the seq of the last event already held.
    pub async fn connect(url: &str, token: Option<&str>, since: Option<u64>) -> Result<Self, ClientError> {
        Self::resume(url, token, since, None).await
    }

    /// Connect and resume after `since` in the journal identified by `epoch` (from
    /// `welcome`): a hub with another history answers with a snapshot instead.
    pub async fn resume(
        url: &str,
        token: Option<&str>,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> Result<Self, ClientError> {
        let mut request =
            with_since(url, since, epoch).into_client_request().map_err(|e| ClientError::Connect(e.to_string()))?;
        if let Some(token) = token {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| ClientError::Connect("the token has characters a header cannot carry".into()))?;
            request.headers_mut().insert("authorization", value);
        }
        let connector = if url.starts_with("wss://") {
            Some(tokio_tungstenite::Connector::Rustls(crate::tls::client().map_err(ClientError::Connect)?))
        } else {
            None
        };
        match tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector).await {
            Ok((ws, _)) => Ok(Self { ws, next_id: 1 }),
            Err(tungstenite::Error::Http(response)) => Err(ClientError::Refused {
                status: response.status().as_u16(),
                message: response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).trim().to_string())
                    .unwrap_or_default(),
            }),
            Err(e) => Err(ClientError::Connect(e.to_string())),
        }
    }

    pub async fn send(&mut self, frame: &ClientFrame) -> Result<(), ClientError> {
        let text = serde_json::to_string(frame).map_err(|e| ClientError::BadFrame(e.to_string()))?;
        self.send_text(text).await
    }

    /// Send raw text (for tools and tests that speak the protocol by hand).
    pub async fn send_text(&mut self, text: String) -> Result<(), ClientError> {
        self.ws.send(Message::Text(text.into())).await.map_err(|e| ClientError::Closed(Some(e.to_string())))
    }

    /// Ask for the turns, notes and pledges before these positions (an `older`
    /// frame answers); returns the id it will carry.
    pub async fn fetch_older(&mut self, before: Positions) -> Result<String, ClientError> {
        let id = format!("older-{}", self.next_id);
        self.next_id += 1;
        self.send(&ClientFrame::FetchOlder { id: id.clone(), before }).await?;
        Ok(id)
    }

    /// Send a command; returns the id its `accepted` or `rejected` will carry.
    pub async fn command(&mut self, command: Command) -> Result<String, ClientError> {
        let id = format!("c{}", self.next_id);
        self.next_id += 1;
        self.send(&ClientFrame::Command { id: id.clone(), command }).await?;
        Ok(id)
    }

    /// The next frame from the hub; `Err(Closed)` when the connection ends.
    pub async fn recv(&mut self) -> Result<Envelope, ClientError> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()) {
                    Ok(envelope) => return Ok(envelope),
                    // A frame type from a newer hub: skip it rather than fail.
                    Err(_) if is_unknown_type(text.as_str()) => continue,
                    Err(e) => return Err(ClientError::BadFrame(e.to_string())),
                },
                Some(Ok(Message::Close(frame))) => {
                    return Err(ClientError::Closed(frame.map(|f| format!("{} ({})", f.reason, u16::from(f.code)))));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(ClientError::Closed(Some(e.to_string()))),
                None => return Err(ClientError::Closed(None)),
            }
        }
    }

    /// Close the connection politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A JSON object whose `type` this client does not know.
fn is_unknown_type(text: &str) -> bool {
    const KNOWN: [&str; 10] =
        ["welcome", "snapshot", "event", "accepted", "rejected", "pong", "error", "resync", "older", "display"];
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(|t| !KNOWN.contains(&t)))
        .unwrap_or(false)
}

/// What a client knows of the session: a snapshot and every event after it, and
/// the older turns, notes and pledges as their pages arrive.
#[derive(Debug, Default, Clone)]
pub struct Replica {
    pub state: Option<Session>,
    /// Positions in the session's logs of `state.turns[0]`, `state.notes[0]` and
    /// `state.pledges[0]`: the entries before them were left out of the snapshot
    /// and are not held (yet).
    pub from: Positions,
}

/// Put `page`, which starts at position `from`, in front of `held`, which starts at
/// `*held_from`, if it ends exactly there (otherwise it is stale: ignored).
fn prepend<T: Clone>(held: &mut Vec<T>, held_from: &mut usize, page: &[T], from: usize) -> bool {
    if page.is_empty() || from + page.len() != *held_from {
        return false;
    }
    held.splice(..0, page.iter().cloned());
    *held_from = from;
    true
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicaError {
    /// An event arrived before any snapshot.
    NoSnapshot,
    /// An event skipped some seqs: the client must resume from `have`.
    Gap { have: u64, got: u64 },
}

impl Replica {
    /// Fold a frame into the replica. Snapshots replace the state; events apply in
    /// order; an event already held (a resume overlap) is ignored. Returns whether
    /// the state changed.
    pub fn apply(&mut self, envelope: &Envelope) -> Result<bool, ReplicaError> {
        match &envelope.frame {
            ServerFrame::Snapshot { state, from, .. } => {
                self.state = Some((**state).clone());
                self.from = *from;
                Ok(true)
            }
            ServerFrame::Older { from, turns, notes, pledges, .. } => {
                let Some(state) = self.state.as_mut() else {
                    return Err(ReplicaError::NoSnapshot);
                };
                let turns = prepend(&mut state.turns, &mut self.from.turns, turns, from.turns);
                let notes = prepend(&mut state.notes, &mut self.from.notes, notes, from.notes);
                let pledges = prepend(&mut state.pledges, &mut self.from.pledges, pledges, from.pledges);
                Ok(turns || notes || pledges)
            }
            ServerFrame::Event { event } => {
                let Some(state) = self.state.as_mut() else {
                    return Err(ReplicaError::NoSnapshot);
                };
                if event.seq <= state.seq {
                    return Ok(false);
                }
                if event.seq != state.seq + 1 {
                    return Err(ReplicaError::Gap { have: state.seq, got: event.seq });
                }
                domain::apply(state, event);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    pub fn seq(&self) -> Option<u64> {
        self.state.as_ref().map(|s| s.seq)
    }

    /// Whether turns, notes or pledges left out of the snapshot are still missing.
    pub fn missing_older(&self) -> bool {
        self.state.is_some() && !self.from.is_zero()
    }
}
