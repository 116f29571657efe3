//! The wire protocol between the hub and its clients (see docs/protocol.md).
//!
//! Every frame is one JSON object in a websocket text message, with a `type`. Frames
//! from the hub also carry `now`, the hub's clock, so clients can correct their offset.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use std::sync::Arc;

use crate::domain::{Command, Event, Note, Pledge, RejectCode, Role, Session, Timestamp, TurnRecord};

/// Version of this protocol; the hub says it in `welcome`.
pub const PROTOCOL_VERSION: u32 = 2;
/// Largest frame a client may send, in bytes.
pub const MAX_CLIENT_FRAME: usize = 64 * 1024;
/// Most finished turns, notes and pledges (of each) a snapshot carries: the
/// latest ones. Older ones are fetched with `fetch-older`, so that a snapshot's
/// size does not grow with the session's history.
pub const SNAPSHOT_RECENT: usize = 50;
/// Most turns, notes and pledges (of each) in one `older` page.
pub const OLDER_PAGE: usize = 500;

/// Positions in the three logs of a session that only grow (finished turns,
/// notes, pledges): 0-based, the oldest entry first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Positions {
    #[serde(default)]
    pub turns: usize,
    #[serde(default)]
    pub notes: usize,
    #[serde(default)]
    pub pledges: usize,
}

impl Positions {
    /// All at the start: nothing older exists.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// A frame sent by a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum ClientFrame {
    /// Ask for a change; answered by `accepted` or `rejected` with the same `id`.
    Command { id: String, command: Command },
    /// Measure round-trip time and clock offset; answered by `pong`.
    Ping {
        #[serde(default)]
        id: String,
    },
    /// Ask for the finished turns, notes and pledges just before the positions
    /// `before` of their logs; answered by `older`.
    FetchOlder { id: String, before: Positions },
}

/// Error codes of `error` frames (problems with a frame, not with a command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// Not valid JSON, or not a JSON object with a string `type`.
    BadFrame,
    /// A `type` this hub does not know.
    UnknownType,
    /// Over the size limit.
    TooLarge,
    /// Binary messages are not part of the protocol.
    Binary,
    /// Too many frames too fast.
    RateLimited,
    /// A frame a `view=display` connection may not send: an observer's page is
    /// read-only; a delegate's page sends `command` and `ping` only.
    ReadOnly,
}

/// A frame sent by the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum ServerFrame {
    /// On a `view=display` connection (the room pages): what a room's screen shows,
    /// sent on connecting and whenever it changes.
    Display {
        state: Box<crate::web::DisplayState>,
    },
    /// On a delegate's `view=display` connection (the speaker's page opened with a
    /// delegation's token): what the delegate may do now, each move with the command
    /// to send or why not; sent on connecting and after every change.
    Moves {
        moves: Box<crate::web::DelegateMoves>,
    },
    /// On `/v1/forum` (the secretariat's console), first: who the hub thinks you
    /// are, and every session's summary, in the order the hub was given them.
    Forum {
        protocol: u32,
        role: Role,
        name: String,
        sessions: Vec<crate::forum::SessionSummary>,
        /// A forum on etcd: the forum URLs of its live hubs, this one first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        hubs: Vec<String>,
    },
    /// On `/v1/forum`: one session's summary changed (its state, or who follows it).
    ForumSession {
        session: Box<crate::forum::SessionSummary>,
    },
    /// First frame on every connection: who the hub thinks you are.
    Welcome {
        protocol: u32,
        session: String,
        role: Role,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<String>,
        /// With a person's own token: the person's id in the session file (`name`
        /// is then their name, as the record will show it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person: Option<String>,
        /// The journal's identity: send it back as `epoch=` with `since=` when resuming.
        #[serde(default)]
        epoch: String,
        /// The session's `seq` as this connection started: the events up to it
        /// (or a snapshot at it) follow, and the client is caught up once its state
        /// reaches it. 0 on a `view=display` connection.
        #[serde(default)]
        seq: u64,
        /// A session kept in etcd: the session URLs of its live hubs, this one first.
        /// A client that loses its hub resumes (`since`, `epoch`) on the next.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        hubs: Vec<String>,
    },
    /// The whole state as of `seq`, except older finished turns, notes and
    /// pledges: `state.turns` holds the turns from position `from.turns` of their
    /// log on (likewise notes and pledges); `fetch-older` gets the ones before.
    /// Events after `seq` follow as `event` frames.
    Snapshot {
        seq: u64,
        state: Box<Session>,
        #[serde(default, skip_serializing_if = "Positions::is_zero")]
        from: Positions,
    },
    /// A page answering `fetch-older` `id`: the turns at positions `from.turns` up
    /// to the `before.turns` asked, and likewise notes and pledges. `from` all 0:
    /// nothing older remains.
    Older {
        id: String,
        from: Positions,
        turns: Vec<Arc<TurnRecord>>,
        notes: Vec<Arc<Note>>,
        pledges: Vec<Arc<Pledge>>,
    },
    /// One event, in sequence order.
    Event {
        event: Box<Event>,
    },
    /// The command `id` was accepted; its events (if any) have been sent already.
    Accepted {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_seq: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<u64>,
    },
    /// The command `id` was refused; nothing changed.
    Rejected {
        id: String,
        code: RejectCode,
        reason: String,
        /// With code `standby`: the session URL of the hub that leads the session
        /// (send the command there), when this hub knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        leader: Option<String>,
    },
    Pong {
        id: String,
    },
    /// The frame just received could not be used; the connection stays open.
    Error {
        code: ErrorCode,
        reason: String,
    },
    /// The connection fell behind the live stream; a fresh snapshot follows.
    Resync {
        reason: String,
    },
}

impl ServerFrame {
    /// This answer (`accepted` or `rejected`) as the answer to the command `id`;
    /// any other frame unchanged.
    pub fn with_id(self, id: String) -> Self {
        match self {
            Self::Accepted { first_seq, last_seq, .. } => Self::Accepted { id, first_seq, last_seq },
            Self::Rejected { code, reason, leader, .. } => Self::Rejected { id, code, reason, leader },
            other => other,
        }
    }

    /// The command `id` refused, for `reason` (no leader named).
    pub fn rejected(id: String, code: RejectCode, reason: impl Into<String>) -> Self {
        Self::Rejected { id, code, reason: reason.into(), leader: None }
    }
}

/// A hub frame with the hub's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(flatten)]
    pub frame: ServerFrame,
    pub now: Timestamp,
}

impl Envelope {
    pub fn to_json(&self) -> String {
        // Our own types serialize without error (all map keys are strings).
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                r#"{{"type":"error","code":"bad-frame","reason":"cannot encode frame: {e}","now":"{}"}}"#,
                self.now.to_rfc3339()
            )
        })
    }
}

/// The `snapshot` frame of `state`, serialized from a borrow (the same JSON as an
/// [`Envelope`] holding [`ServerFrame::Snapshot`], without copying the state
/// first), with only the latest [`SNAPSHOT_RECENT`] turns, notes and pledges.
pub fn snapshot_json(state: &mut Session, now: Timestamp) -> String {
    #[derive(Serialize)]
    struct Snapshot<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        seq: u64,
        state: &'a Session,
        #[serde(skip_serializing_if = "Positions::is_zero")]
        from: Positions,
        now: Timestamp,
    }
    let from = Positions {
        turns: state.turns.len().saturating_sub(SNAPSHOT_RECENT),
        notes: state.notes.len().saturating_sub(SNAPSHOT_RECENT),
        pledges: state.pledges.len().saturating_sub(SNAPSHOT_RECENT),
    };
    // Lift the older entries out while serializing, then put them back.
    let turns: Vec<Arc<TurnRecord>> = state.turns.drain(..from.turns).collect();
    let notes: Vec<Arc<Note>> = state.notes.drain(..from.notes).collect();
    let pledges: Vec<Arc<Pledge>> = state.pledges.drain(..from.pledges).collect();
    let text = serde_json::to_string(&Snapshot { kind: "snapshot", seq: state.seq, state, from, now });
    state.turns.splice(..0, turns);
    state.notes.splice(..0, notes);
    state.pledges.splice(..0, pledges);
    text.unwrap_or_else(|e| {
        format!(
            r#"{{"type":"error","code":"bad-frame","reason":"cannot encode frame: {e}","now":"{}"}}"#,
            now.to_rfc3339()
        )
    })
}

/// Why a client frame could not be decoded: the `error` or `rejected` frame to answer with.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeError {
    /// Answer with an `error` frame.
    Frame(ErrorCode, String),
    /// A `command` frame whose command does not parse: answer `rejected` to its id.
    Command { id: String, reason: String },
}

/// Decode one text frame from a client.
pub fn decode_client(text: &str) -> Result<ClientFrame, DecodeError> {
    if text.len() > MAX_CLIENT_FRAME {
        return Err(DecodeError::Frame(
            ErrorCode::TooLarge,
            format!("frame of {} bytes is over the limit of {MAX_CLIENT_FRAME} bytes", text.len()),
        ));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| DecodeError::Frame(ErrorCode::BadFrame, format!("invalid JSON: {e}")))?;
    let Some(kind) = value.get("type").and_then(Value::as_str) else {
        return Err(DecodeError::Frame(
            ErrorCode::BadFrame,
            "a frame is a JSON object with a string \"type\"".to_string(),
        ));
    };
    match kind {
        "command" => {
            let Some(id) = value.get("id").and_then(Value::as_str) else {
                return Err(DecodeError::Frame(
                    ErrorCode::BadFrame,
                    "a command frame needs a string \"id\"".to_string(),
                ));
            };
            let id = id.to_string();
            let command = value.get("command").cloned().unwrap_or(Value::Null);
            serde_json::from_value(command)
                .map(|command| ClientFrame::Command { id: id.clone(), command })
                .map_err(|e| DecodeError::Command { id, reason: format!("invalid command: {e}") })
        }
        "ping" => serde_json::from_value(value)
            .map_err(|e| DecodeError::Frame(ErrorCode::BadFrame, format!("invalid ping: {e}"))),
        "fetch-older" => serde_json::from_value(value)
            .map_err(|e| DecodeError::Frame(ErrorCode::BadFrame, format!("invalid fetch-older: {e}"))),
        other => Err(DecodeError::Frame(
            ErrorCode::UnknownType,
            format!(
                "unknown frame type \"{}\": expected \"command\", \"ping\" or \"fetch-older\"",
                truncate(other, 40)
            ),
        )),
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
