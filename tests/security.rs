//! Who may do what, and what a hostile peer cannot do to the hub.

mod common;

use std::time::{Duration, Instant};

use common::*;
use proptest::prelude::*;
use rostrum::domain::{self, Actor, Command, ConnectionStatus, RejectCode, Session};
use rostrum::hub::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A session where every command has something to act on: a segment open, Chile and
/// Peru inscribed, Chile's right of reply requested, Peru on the floor, a point of
/// order pending.
fn busy_session() -> Session {
    let def = rostrum::config::parse_session(include_str!("data/small.toml")).expect("valid");
    let mut s = Session::new(def);
    let chair = Actor::chair("chair");
    let at = chrono::Utc::now();
    let run = |s: &mut Session, c: Command| {
        let events = domain::decide(s, c, &chair, at).expect("set-up");
        for e in &events {
            domain::apply(s, e);
        }
    };
    run(&mut s, Command::OpenSegment { segment: "general".into() });
    run(&mut s, inscribe("chile"));
    run(&mut s, inscribe("peru"));
    run(&mut s, inscribe("ghana"));
    run(&mut s, Command::RequestReply { participant: "chile".into(), segment: None });
    let peru = s.segments[0].list.iter().find(|e| e.participant == "peru").expect("peru").id;
    run(&mut s, Command::GiveFloor { entry: peru, budget: None });
    run(&mut s, Command::RaisePointOfOrder { by: "france".into() });
    s
}

/// Every command, each concerning Chile where it concerns a participant.
fn every_command(s: &Session) -> Vec<(&'static str, Command)> {
    let entry = |p: &str| s.segments[0].list.iter().find(|e| e.participant == p).expect("on the list").id;
    let reply = s.segments[0].replies[0].id;
    let turn = s.floor.as_ref().expect("floor").id;
    let point = s.point_of_order.as_ref().expect("point").id;
    vec![
        ("open-segment", Command::OpenSegment { segment: "alternating".into() }),
        ("close-session", Command::CloseSession),
        (
            "inscribe",
            Command::Inscribe {
                participant: "chile".into(),
                segment: Some("dialogue".into()),
                kind: None,
                level: None,
                on_behalf_of: None,
                language: None,
            },
        ),
        ("withdraw", Command::Withdraw { entry: entry("chile") }),
        ("move-up", Command::MoveUp { entry: entry("ghana") }),
        ("move-down", Command::MoveDown { entry: entry("chile") }),
        ("move-to", Command::MoveTo { entry: entry("ghana"), position: 1 }),
        ("defer", Command::Defer { entry: entry("chile"), places: None, to_end: false }),
        ("reinstate", Command::Reinstate { entry: entry("chile") }),
        ("close-list", Command::CloseList { segment: None }),
        ("reopen-list", Command::ReopenList { segment: None }),
        ("give-floor", Command::GiveFloor { entry: entry("chile"), budget: None }),
        ("end-turn", Command::EndTurn { turn }),
        ("pause", Command::Pause { turn }),
        ("resume", Command::Resume { turn }),
        ("extend", Command::Extend { turn, secs: 30 }),
        ("cut", Command::Cut { turn, secs: 30 }),
        ("raise-point-of-order", Command::RaisePointOfOrder { by: "chile".into() }),
        ("rule-point-of-order", Command::RulePointOfOrder { point, ruling: "Noted.".into(), upheld: true }),
        ("request-reply", Command::RequestReply { participant: "chile".into(), segment: None }),
        ("withdraw-reply", Command::WithdrawReply { entry: reply }),
        (
            "set-connection",
            Command::SetConnection { participant: "chile".into(), status: ConnectionStatus::Connected, from: None },
        ),
        ("undo", Command::Undo { seq: s.seq }),
        (
            "add-note",
            Command::AddNote {
                saved_at: None,
                client_id: "n".into(),
                turn: Some(turn),
                text: "t".into(),
                objectives: vec![],
                themes: vec![],
            },
        ),
        (
            "add-pledge",
            Command::AddPledge {
                saved_at: None,
                client_id: "p".into(),
                pledger: "chile".into(),
                text: "t".into(),
                objectives: vec![5],
                turn: None,
            },
        ),
    ]
}

#[test]
fn every_command_against_every_role() {
    let s = busy_session();
    let own = ["inscribe", "withdraw", "raise-point-of-order", "request-reply", "withdraw-reply", "set-connection"];
    let notes = ["add-note", "add-pledge"];
    type Allowed<'a> = &'a dyn Fn(&str) -> bool;
    let roles: [(&str, Actor, Allowed); 5] = [
        ("chair", Actor::chair("chair"), &|_| true),
        ("rapporteur", Actor::rapporteur("r"), &|c| notes.contains(&c)),
        ("delegate of Chile", Actor::delegate("chile"), &|c| own.contains(&c)),
        ("delegate of Peru", Actor::delegate("peru"), &|_| false),
        ("observer", Actor::observer("o"), &|_| false),
    ];
    let mut checked = 0;
    for (name, actor, allowed) in &roles {
        for (command_name, command) in every_command(&s) {
            let result = domain::decide(&s, command, actor, chrono::Utc::now());
            let forbidden = matches!(&result, Err(r) if r.code == RejectCode::Forbidden);
            assert_eq!(forbidden, !allowed(command_name), "{name} / {command_name}: {result:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * 25, "every command of the protocol is in the matrix");
}

#[tokio::test]
async fn a_silent_or_bloated_handshake_cannot_hold_the_hub() {
    let data = tempfile::tempdir().expect("temp dir");
    let settings = Settings { handshake_timeout: Duration::from_millis(300), ..Settings::default() };
    let hub = start_hub(data.path(), settings).await;
    // Connects and says nothing.
    let mut silent = tokio::net::TcpStream::connect(hub.addr).await.expect("connects");
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf)).await.expect("closed in time");
    assert_eq!(n.expect("read"), 0, "the hub hung up");
    assert!(started.elapsed() < Duration::from_secs(2));
    // Sends endless headers.
    let mut bloated = tokio::net::TcpStream::connect(hub.addr).await.expect("connects");
    bloated.write_all(b"GET /v1/sessions/test-session HTTP/1.1\r\nHost: x\r\n").await.expect("writes");
    let header = format!("X-Padding: {}\r\n", "a".repeat(8 * 1024));
    let started = Instant::now();
    let mut cut_off = false;
    for _ in 0..1000 {
        if bloated.write_all(header.as_bytes()).await.is_err() {
            cut_off = true;
            break;
        }
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let n = tokio::time::timeout(Duration::from_secs(5), bloated.read(&mut buf)).await;
    assert!(cut_off || matches!(n, Ok(Ok(0)) | Ok(Err(_))), "the hub refused the endless headers");
    // Meanwhile, a real client is served.
    let mut chair = connect(&hub, &chair_token(&hub)).await;
    handshake(&mut chair).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_get_503() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings { max_connections: 2, ..Settings::default() }).await;
    let token = chair_token(&hub);
    let mut a = connect(&hub, &token).await;
    let mut b = connect(&hub, &token).await;
    handshake(&mut a).await;
    handshake(&mut b).await;
    let (status, message) = refused_status(rostrum::client::Connection::connect(&url(&hub), Some(&token), None).await);
    assert_eq!((status, message.as_str()), (503, "the hub is at its connection limit"));
    b.close().await;
    // The place is given back once a connection ends.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match rostrum::client::Connection::connect(&url(&hub), Some(&token), None).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("{e}"),
        }
    }
    hub.shutdown().await;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any text at all: the decoder answers, it never panics.
    #[test]
    fn the_frame_decoder_never_panics(text in ".{0,300}") {
        let _ = rostrum::protocol::decode_client(&text);
    }

    /// Valid frames, mutated byte by byte.
    #[test]
    fn mutated_frames_never_panic(cut in 0usize..200, byte in any::<u8>(), at in 0usize..200) {
        let valid = r#"{"type":"command","id":"c1","command":{"type":"inscribe","participant":"chile","level":"minister"}}"#;
        let mut bytes = valid.as_bytes().to_vec();
        let at = at % bytes.len();
        bytes[at] = byte;
        bytes.truncate(cut.max(1).min(bytes.len()));
        let text = String::from_utf8_lossy(&bytes);
        let _ = rostrum::protocol::decode_client(&text);
    }

    /// Arbitrary journal lines: read as damage at a line, or a torn tail; never a panic.
    #[test]
    fn the_journal_reader_never_panics(lines in prop::collection::vec(".{0,200}", 0..6), tail in ".{0,40}") {
        let mut text = String::new();
        for line in &lines {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&tail);
        let _ = rostrum::journal::read(text.as_bytes());
    }
}

#[test]
fn a_real_journal_mutated_anywhere_never_panics_the_reader() {
    let sample = std::fs::read("tests/data/sample-session.jsonl").expect("sample");
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..3000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut bytes = sample.clone();
        let at = (x as usize) % bytes.len();
        bytes[at] = (x >> 32) as u8;
        match rostrum::journal::read(bytes.as_slice()) {
            Ok(contents) => assert!(contents.events.len() <= 21),
            Err(rostrum::journal::JournalError::Damaged { line, .. }) => assert!((1..=22).contains(&line)),
            Err(e) => panic!("{e}"),
        }
    }
}
