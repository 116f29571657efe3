//! The wire protocol between the hub and its clients (see docs/protocol.md).
//!
//! Every frame is one JSON object in a websocket text message, with a `type`. Frames
//! from the hub also carry `now`, the hub's clock, so clients can correct their offset.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{Command, Event, RejectCode, Role, Session, Timestamp};

/// Version of this protocol; the hub says it in `welcome`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest frame a client may send, in bytes.
pub const MAX_CLIENT_FRAME: usize = 64 * 1024;

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
    /// The whole state as of `seq`; events after it follow as `event` frames.
    Snapshot {
        seq: u64,
        state: Box<Session>,
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

/// The `snapshot` frame of `state`, serialized from a borrow: the same JSON as an
/// [`Envelope`] holding [`ServerFrame::Snapshot`], without copying the state first.
pub fn snapshot_json(state: &Session, now: Timestamp) -> String {
    #[derive(Serialize)]
    struct Snapshot<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        seq: u64,
        state: &'a Session,
        now: Timestamp,
    }
    let frame = Snapshot { kind: "snapshot", seq: state.seq, state, now };
    serde_json::to_string(&frame).unwrap_or_else(|e| {
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
        other => Err(DecodeError::Frame(
            ErrorCode::UnknownType,
            format!("unknown frame type \"{}\": expected \"command\" or \"ping\"", truncate(other, 40)),
        )),
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
