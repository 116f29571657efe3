//! Helpers shared by the integration tests: a hub on 127.0.0.1 and a client that
//! waits for frames with a deadline (never a bare sleep).
#![allow(dead_code)]

pub mod browser;
pub mod etcd;
pub mod script;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rostrum::client::{ClientError, Connection};
use rostrum::domain::{Command, Event, RejectCode};
use rostrum::hub::{Hub, Settings};
use rostrum::protocol::{Envelope, ServerFrame};

pub const SESSION: &str = "test-session";
pub const DEADLINE: Duration = Duration::from_secs(10);

pub fn session_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/small.toml")
}

pub async fn start_hub(data: &Path, settings: Settings) -> Hub {
    Hub::start("127.0.0.1:0", data, &[session_file()], settings).await.expect("hub starts")
}

pub fn url(hub: &Hub) -> String {
    format!("ws://{}/v1/sessions/{SESSION}", hub.addr)
}

pub async fn connect(hub: &Hub, token: &str) -> Connection {
    Connection::connect(&url(hub), Some(token), None).await.expect("connects")
}

pub fn chair_token(hub: &Hub) -> String {
    hub.tokens(SESSION).expect("session").chair.clone()
}

pub async fn recv(conn: &mut Connection) -> Envelope {
    match tokio::time::timeout(DEADLINE, conn.recv()).await {
        Ok(Ok(frame)) => frame,
        Ok(Err(e)) => panic!("connection ended: {e}"),
        Err(_) => panic!("no frame within {DEADLINE:?}"),
    }
}

/// Read frames until one matches; return it and the events seen on the way.
pub async fn until(conn: &mut Connection, mut matches: impl FnMut(&ServerFrame) -> bool) -> (ServerFrame, Vec<Event>) {
    let mut events = Vec::new();
    loop {
        let envelope = recv(conn).await;
        if matches(&envelope.frame) {
            return (envelope.frame, events);
        }
        if let ServerFrame::Event { event } = envelope.frame {
            events.push(*event);
        }
    }
}

/// Read the welcome and the initial snapshot; returns the snapshot's seq.
pub async fn handshake(conn: &mut Connection) -> u64 {
    let welcome = recv(conn).await;
    assert!(matches!(welcome.frame, ServerFrame::Welcome { .. }), "{welcome:?}");
    match recv(conn).await.frame {
        ServerFrame::Snapshot { seq, .. } => seq,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

pub enum Outcome {
    Accepted { first: Option<u64>, last: Option<u64>, events: Vec<Event> },
    Rejected { code: RejectCode, reason: String },
}

/// Send a command and wait for its answer; the command's own events must arrive
/// before its `accepted`.
pub async fn command(conn: &mut Connection, command: Command) -> Outcome {
    let id = conn.command(command).await.expect("sends");
    let (frame, events) = until(conn, |f| match f {
        ServerFrame::Accepted { id: got, .. } | ServerFrame::Rejected { id: got, .. } => *got == id,
        _ => false,
    })
    .await;
    match frame {
        ServerFrame::Accepted { first_seq, last_seq, .. } => {
            if let Some(last) = last_seq {
                assert!(events.iter().any(|e| e.seq == last), "events of {id} arrive before its acceptance");
            }
            Outcome::Accepted { first: first_seq, last: last_seq, events }
        }
        ServerFrame::Rejected { code, reason, .. } => Outcome::Rejected { code, reason },
        _ => unreachable!(),
    }
}

pub async fn accepted(conn: &mut Connection, cmd: Command) -> u64 {
    match command(conn, cmd).await {
        Outcome::Accepted { last: Some(last), .. } => last,
        Outcome::Accepted { last: None, .. } => panic!("accepted without events"),
        Outcome::Rejected { reason, .. } => panic!("rejected: {reason}"),
    }
}

pub async fn rejected(conn: &mut Connection, cmd: Command) -> (RejectCode, String) {
    match command(conn, cmd).await {
        Outcome::Rejected { code, reason } => (code, reason),
        Outcome::Accepted { .. } => panic!("accepted, expected a rejection"),
    }
}

pub fn inscribe(participant: &str) -> Command {
    Command::inscribe(participant)
}

/// A rapporteur's note on no particular turn, with its client id.
pub fn note(client_id: String, text: String) -> Command {
    Command::AddNote { saved_at: None, client_id, turn: None, text, objectives: vec![], themes: vec![] }
}

pub fn refused_status(result: Result<Connection, ClientError>) -> (u16, String) {
    match result {
        Err(ClientError::Refused { status, message }) => (status, message),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected an HTTP refusal, got a connection"),
    }
}
