//! The forum on a hub: its tokens, `/v1/forum` with a summary per session updated
//! as sessions change (real websockets on 127.0.0.1), and the secretariat chairing
//! any session with the forum's credential.

mod common;

use std::path::{Path, PathBuf};

use chrono::Offset;

use common::*;
use rostrum::client::Connection;
use rostrum::domain::{Command, ConnectionStatus, Role};
use rostrum::forum::SessionSummary;
use rostrum::hub::{Hub, Settings};
use rostrum::protocol::{ClientFrame, ServerFrame};

fn hearing() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/imrf-2022-hearing.toml")
}

async fn two_sessions(data: &Path) -> Hub {
    Hub::start("127.0.0.1:0", data, &[session_file(), hearing()], Settings::default()).await.expect("hub starts")
}

fn forum_url(hub: &Hub) -> String {
    format!("ws://{}/v1/forum", hub.addr)
}

/// The next summary of `session` on a forum connection.
async fn next_summary(conn: &mut Connection, session: &str) -> SessionSummary {
    loop {
        match recv(conn).await.frame {
            ServerFrame::ForumSession { session: s } if s.id == session => return *s,
            _ => {}
        }
    }
}

/// Summaries of `session` until one satisfies `test`.
async fn summary_until(conn: &mut Connection, session: &str, test: impl Fn(&SessionSummary) -> bool) -> SessionSummary {
    loop {
        let s = next_summary(conn, session).await;
        if test(&s) {
            return s;
        }
    }
}

#[tokio::test]
async fn the_forum_lists_every_session_and_follows_each_as_it_changes() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = two_sessions(data.path()).await;
    // The forum's tokens are beside the sessions' folders, private.
    let path = data.path().join("forum-tokens.toml");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).expect("forum tokens").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let tokens = hub.forum_tokens();
    assert!(
        hub.banner(data.path())
            .contains(&format!("forum       ws://{}/v1/forum?token={}", hub.addr, tokens.secretariat))
    );

    let mut console = Connection::connect(&forum_url(&hub), Some(&tokens.secretariat), None).await.expect("connects");
    let ServerFrame::Forum { role, name, sessions, .. } = recv(&mut console).await.frame else {
        panic!("the forum frame first")
    };
    assert_eq!((role, name.as_str()), (Role::Chair, "secretariat"));
    assert_eq!(sessions.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["test-session", "imrf-2022-hearing"]);
    assert!(sessions.iter().all(|s| s.segment.is_none() && s.floor.is_none() && s.closed_at.is_none()));

    // The secretariat chairs a session with the forum's token: recorded as itself.
    let mut chair = Connection::connect(&url(&hub), Some(&tokens.secretariat), None).await.expect("connects");
    let ServerFrame::Welcome { role, name, person, .. } = recv(&mut chair).await.frame else { panic!("welcome") };
    assert_eq!((role, name.as_str(), person.as_deref()), (Role::Chair, "secretariat", Some("secretariat")));
    let _ = recv(&mut chair).await; // snapshot
    let s = summary_until(&mut console, SESSION, |s| s.connected.chairs == 1).await;
    assert_eq!(s.connected.rapporteurs, 0);

    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    accepted(&mut chair, inscribe("peru")).await;
    accepted(&mut chair, inscribe("ghana")).await;
    let last = accepted(&mut chair, Command::GiveFloor { entry: 3, budget: None }).await;
    let s = summary_until(&mut console, SESSION, |s| s.seq == last).await;
    let floor = s.floor.as_ref().expect("Peru has the floor");
    assert_eq!((floor.speaker.as_str(), floor.allotted_ms, floor.paused), ("Peru", 180_000, false));
    assert!(floor.running_since.is_some());
    let segment = s.segment.as_ref().expect("open");
    assert_eq!((segment.number, s.segments, segment.speakers, segment.list_secs), (1, 3, 1, 180));
    // The record names the secretariat.
    let state = rostrum::journal::read_file(&data.path().join(SESSION).join("journal.jsonl")).expect("journal");
    assert!(state.events.iter().all(|e| e.actor.person.as_deref() == Some("secretariat")));
    let md = rostrum::report::to_markdown(&rostrum::report::build(&state).expect("a report"), chrono::Utc.fix());
    assert!(
        md.contains("- secretariat (the forum's secretariat credential): 4 actions, gave the floor 1 time"),
        "{md}"
    );

    // A remote speaker lost, a point of order, a rapporteur and a note: each in the summary.
    let status = ConnectionStatus::TechnicalIssue;
    accepted(&mut chair, Command::SetConnection { participant: "ghana".into(), status, from: None }).await;
    let s = summary_until(&mut console, SESSION, |s| !s.lost.is_empty()).await;
    assert_eq!(s.lost, ["Ghana"]);
    accepted(&mut chair, Command::RaisePointOfOrder { by: "france".into() }).await;
    let s = summary_until(&mut console, SESSION, |s| s.point_of_order.is_some()).await;
    assert_eq!(s.point_of_order.as_deref(), Some("France"));
    let rapporteur_token = hub.tokens(SESSION).expect("session").rapporteur;
    let mut rapporteur = connect(&hub, &rapporteur_token).await;
    handshake(&mut rapporteur).await;
    summary_until(&mut console, SESSION, |s| s.connected.rapporteurs == 1).await;
    let note = Command::AddNote {
        client_id: "n1".into(),
        saved_at: None,
        turn: None,
        text: "A note.".into(),
        objectives: vec![],
        themes: vec![],
    };
    accepted(&mut rapporteur, note).await;
    summary_until(&mut console, SESSION, |s| s.notes == 1).await;
    rapporteur.close().await;
    summary_until(&mut console, SESSION, |s| s.connected.rapporteurs == 0).await;

    // The other session is as it was; the console only follows.
    let _ = console.send(&ClientFrame::Ping { id: "p1".into() }).await;
    let (frame, _) = until(&mut console, |f| matches!(f, ServerFrame::Pong { .. })).await;
    assert_eq!(frame, ServerFrame::Pong { id: "p1".into() });
    console.send_text(r#"{"type":"command","id":"c1","command":{"type":"close-session"}}"#.into()).await.expect("sent");
    let (frame, _) = until(&mut console, |f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(matches!(frame, ServerFrame::Error { code: rostrum::protocol::ErrorCode::ReadOnly, .. }), "{frame:?}");

    // A new console gets every session as it is now.
    let mut again = Connection::connect(&forum_url(&hub), Some(&tokens.observer), None).await.expect("connects");
    let ServerFrame::Forum { role, sessions, .. } = recv(&mut again).await.frame else { panic!("forum") };
    assert_eq!(role, Role::Observer);
    assert_eq!(sessions[0].floor.as_ref().map(|f| f.speaker.as_str()), Some("Peru"));
    assert!(sessions[1].floor.is_none());
    hub.shutdown().await;
}

#[tokio::test]
async fn without_the_forums_token_the_forum_says_what_it_needs() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = two_sessions(data.path()).await;
    let (status, message) = refused_status(Connection::connect(&forum_url(&hub), None, None).await);
    assert_eq!(status, 401);
    assert!(message.contains("the forum needs the secretariat's token"), "{message}");
    assert!(message.contains("forum-tokens.toml"), "{message}");
    // A session's own chair token is not the forum's.
    let chair = chair_token(&hub);
    let (status, message) = refused_status(Connection::connect(&forum_url(&hub), Some(&chair), None).await);
    assert_eq!((status, message.trim()), (401, "invalid token for this hub's forum"));
    // The forum observer follows any session read-only.
    let observer = hub.forum_tokens().observer;
    let mut conn = Connection::connect(&url(&hub), Some(&observer), None).await.expect("connects");
    let ServerFrame::Welcome { role, .. } = recv(&mut conn).await.frame else { panic!("welcome") };
    assert_eq!(role, Role::Observer);
    let _ = recv(&mut conn).await;
    let (code, _) = rejected(&mut conn, Command::OpenSegment { segment: "general".into() }).await;
    assert_eq!(code, rostrum::domain::RejectCode::Forbidden);
    hub.shutdown().await;
    // The tokens stay from run to run.
    let again = two_sessions(data.path()).await;
    assert_eq!(again.forum_tokens(), hub_tokens(data.path()));
    again.shutdown().await;
}

fn hub_tokens(data: &Path) -> rostrum::hub::ForumTokens {
    toml::from_str(&std::fs::read_to_string(data.join("forum-tokens.toml")).expect("reads")).expect("parses")
}

#[tokio::test]
async fn a_summary_does_not_grow_with_the_sessions_history() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = two_sessions(data.path()).await;
    let handle = hub.session(SESSION).expect("session");
    let mut console =
        Connection::connect(&forum_url(&hub), Some(&hub.forum_tokens().secretariat), None).await.expect("connects");
    let _ = recv(&mut console).await;
    let rapporteur = rostrum::domain::Actor::rapporteur("Ana");
    let note = |n: usize| Command::AddNote {
        client_id: format!("n{n}"),
        saved_at: None,
        turn: None,
        text: "A long note on the session as a whole, the same each time.".into(),
        objectives: vec![5],
        themes: vec!["pathways".into()],
    };
    handle.command(rapporteur.clone(), note(0)).await.expect("recorded");
    let first = serde_json::to_string(&next_summary(&mut console, SESSION).await).expect("json").len();
    for n in 1..400 {
        handle.command(rapporteur.clone(), note(n)).await.expect("recorded");
    }
    let last = summary_until(&mut console, SESSION, |s| s.notes == 400).await;
    let size = serde_json::to_string(&last).expect("json").len();
    // Only the counts' digits differ: 400 notes cost what one did.
    assert!(size <= first + 6, "a summary grew from {first} to {size} bytes");
    hub.shutdown().await;
}
