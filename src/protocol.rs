//! The wire protocol between the hub and its clients (see docs/protocol.md).
//!
//! Every frame is one JSON object in a websocket text message, with a `type`. Frames
//! from the hub also carry `now`, the hub's clock, so clients can correct their offset.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use std::sync::Arc;

use crate::domain::{Command, Event, Note, Pledge, RejectCode, Role, Session, Timestamp};

/// Version of this protocol; the hub says it in `welcome`.
pub const PROTOCOL_VERSION: u32 = 2;
/// Largest frame a client may send, in bytes.
pub const MAX_CLIENT_FRAME: usize = 64 * 1024;
/// Most notes (and most pledges) a snapshot carries: the latest ones. The older
/// ones are fetched with `fetch-notes`, so a snapshot's size does not grow with them.
pub const SNAPSHOT_NOTES: usize = 50;
/// Most notes (and most pledges) in one `notes` page.
pub const NOTES_PAGE: usize = 500;

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
    /// Ask for the notes and pledges just before positions `notes_before` and
    /// `pledges_before` of their logs (0-based, oldest first); answered by `notes`.
    FetchNotes { id: String, notes_before: usize, pledges_before: usize },
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
}

/// A frame sent by the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum ServerFrame {
    /// First frame on every connection: who the hub thinks you are.
    Welcome {
        protocol: u32,
        session: String,
        role: Role,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<String>,
        /// The journal's identity: send it back as `epoch=` with `since=` when resuming.
        #[serde(default)]
        epoch: String,
    },
    /// The whole state as of `seq`, except older notes and pledges: `state.notes`
    /// holds the log's notes from position `notes_from` on (and `state.pledges` the
    /// pledges from `pledges_from`); `fetch-notes` gets the ones before. Events after
    /// `seq` follow as `event` frames.
    Snapshot {
        seq: u64,
        state: Box<Session>,
        #[serde(default, skip_serializing_if = "is_zero")]
        notes_from: usize,
        #[serde(default, skip_serializing_if = "is_zero")]
        pledges_from: usize,
    },
    /// A page of older notes and pledges, answering `fetch-notes` `id`: the notes at
    /// positions `notes_from` up to the `notes_before` asked (likewise pledges).
    /// Both `*_from` at 0: nothing older remains.
    Notes {
        id: String,
        notes_from: usize,
        notes: Vec<Arc<Note>>,
        pledges_from: usize,
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

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The `snapshot` frame of `state`, serialized from a borrow (the same JSON as an
/// [`Envelope`] holding [`ServerFrame::Snapshot`], without copying the state
/// first), with only the latest [`SNAPSHOT_NOTES`] notes and pledges.
pub fn snapshot_json(state: &mut Session, now: Timestamp) -> String {
    #[derive(Serialize)]
    struct Snapshot<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        seq: u64,
        state: &'a Session,
        #[serde(skip_serializing_if = "is_zero")]
        notes_from: usize,
        #[serde(skip_serializing_if = "is_zero")]
        pledges_from: usize,
        now: Timestamp,
    }
    let notes_from = state.notes.len().saturating_sub(SNAPSHOT_NOTES);
    let pledges_from = state.pledges.len().saturating_sub(SNAPSHOT_NOTES);
    // Lift the older entries out while serializing, then put them back.
    let older_notes: Vec<Arc<Note>> = state.notes.drain(..notes_from).collect();
    let older_pledges: Vec<Arc<Pledge>> = state.pledges.drain(..pledges_from).collect();
    let frame = Snapshot { kind: "snapshot", seq: state.seq, state, notes_from, pledges_from, now };
    let text = serde_json::to_string(&frame);
    state.notes.splice(..0, older_notes);
    state.pledges.splice(..0, older_pledges);
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
        "fetch-notes" => serde_json::from_value(value)
            .map_err(|e| DecodeError::Frame(ErrorCode::BadFrame, format!("invalid fetch-notes: {e}"))),
        other => Err(DecodeError::Frame(
            ErrorCode::UnknownType,
            format!(
                "unknown frame type \"{}\": expected \"command\", \"ping\" or \"fetch-notes\"",
                truncate(other, 40)
            ),
        )),
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
