//! The hub over real websocket connections on 127.0.0.1.

mod common;

use common::*;
use futures_util::future::join_all;
use rostrum::client::{Connection, Replica};
use rostrum::domain::{Actor, Command, Event, EventKind, RejectCode, Role};
use rostrum::hub::Settings;
use rostrum::protocol::{ErrorCode, ServerFrame};

/// Read event frames until `seq` is reached.
async fn events_until(conn: &mut Connection, seq: u64) -> Vec<Event> {
    let mut events = Vec::new();
    while events.last().is_none_or(|e: &Event| e.seq < seq) {
        if let ServerFrame::Event { event } = recv(conn).await.frame {
            events.push(*event);
        }
    }
    events
}

#[tokio::test]
async fn chair_delegate_and_observer_see_the_same_event_sequence() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let tokens = hub.tokens(SESSION).expect("session").clone();
    let mut chair = connect(&hub, &tokens.chair).await;
    let mut delegate = connect(&hub, &tokens.delegates["chile"]).await;
    let mut observer = connect(&hub, &tokens.observer).await;
    for conn in [&mut chair, &mut delegate, &mut observer] {
        assert_eq!(handshake(conn).await, 0);
    }
    // Each connection records every event it is sent, including those that
    // arrive while it waits for its own command's answer.
    let mut seen = [Vec::new(), Vec::new()];
    let steps: [(usize, Command); 4] = [
        (0, Command::OpenSegment { segment: "general".into() }),
        (1, inscribe("chile")),
        (0, inscribe("peru")),
        (0, Command::GiveFloor { entry: 4, budget: None }), // ids 1-2: the dialogue's pre-inscribed; 3: Chile
    ];
    let mut conns = [chair, delegate];
    let mut last = 0;
    for (who, cmd) in steps {
        match command(&mut conns[who], cmd).await {
            Outcome::Accepted { last: Some(l), events, .. } => {
                seen[who].extend(events);
                last = l;
            }
            _ => panic!("refused"),
        }
    }
    assert_eq!(last, 4);
    for (who, conn) in conns.iter_mut().enumerate() {
        let have = seen[who].last().map_or(0, |e| e.seq);
        if have < last {
            seen[who].extend(events_until(conn, last).await);
        }
    }
    let seen_by_observer = events_until(&mut observer, last).await;
    assert_eq!(seen_by_observer.len(), 4);
    assert_eq!(seen[0], seen_by_observer, "chair");
    assert_eq!(seen[1], seen_by_observer, "delegate");
    assert_eq!(seen_by_observer[1].actor, Actor::delegate("chile"));
    assert!(matches!(seen_by_observer[3].event, EventKind::FloorGiven { .. }));
    hub.shutdown().await;
}

#[tokio::test]
async fn every_role_violation_is_rejected_and_names_who_may() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let tokens = hub.tokens(SESSION).expect("session").clone();
    let mut chair = connect(&hub, &tokens.chair).await;
    let mut rapporteur = connect(&hub, &tokens.rapporteur).await;
    let mut chile = connect(&hub, &tokens.delegates["chile"]).await;
    let mut observer = connect(&hub, &tokens.observer).await;
    for conn in [&mut chair, &mut rapporteur, &mut chile, &mut observer] {
        handshake(conn).await;
    }
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    accepted(&mut chair, inscribe("peru")).await;

    let mut conns = [rapporteur, observer, chile];
    let (rapporteur, observer, chile) = (0, 1, 2);
    let cases = [
        (
            rapporteur,
            Command::GiveFloor { entry: 3, budget: None },
            "a rapporteur may not give the floor: only the chair may",
        ),
        (
            observer,
            inscribe("chile"),
            "an observer may not inscribe a speaker: only the chair or the delegate concerned may",
        ),
        (chile, inscribe("peru"), "only the chair or the delegate of Peru may do this"),
        (chile, Command::Withdraw { entry: 3 }, "only the chair or the delegate of Peru may do this"),
        (
            chile,
            Command::CloseList { segment: None },
            "a delegate may not close the list of speakers: only the chair may",
        ),
        (rapporteur, Command::CloseSession, "only the chair may"),
    ];
    for (who, cmd, expected) in cases {
        let (code, reason) = rejected(&mut conns[who], cmd).await;
        assert_eq!(code, RejectCode::Forbidden);
        assert!(reason.contains(expected), "{reason}");
    }
    let [mut rapporteur, _, mut chile] = conns;
    // A delegate acts for itself; a rapporteur records notes.
    accepted(&mut chile, inscribe("chile")).await;
    let note = Command::AddNote {
        saved_at: None,
        client_id: "n1".into(),
        turn: None,
        text: "Opening remarks stress regular pathways.".into(),
        objectives: vec![5],
        themes: vec![],
    };
    accepted(&mut rapporteur, note).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn a_client_that_drops_and_resumes_misses_nothing_and_duplicates_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let tokens = hub.tokens(SESSION).expect("session").clone();
    let mut chair = connect(&hub, &tokens.chair).await;
    handshake(&mut chair).await;
    let mut observer = connect(&hub, &tokens.observer).await;
    let mut replica = Replica::default();
    let welcome = recv(&mut observer).await;
    assert!(matches!(welcome.frame, ServerFrame::Welcome { role: Role::Observer, .. }));
    replica.apply(&recv(&mut observer).await).expect("snapshot");

    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    accepted(&mut chair, inscribe("chile")).await;
    for e in events_until(&mut observer, 2).await {
        replica
            .apply(&rostrum::protocol::Envelope {
                frame: ServerFrame::Event { event: Box::new(e) },
                now: chrono::Utc::now(),
            })
            .expect("in order");
    }
    let held = replica.seq().expect("state");
    assert_eq!(held, 2);
    observer.close().await;

    // While the observer is away, the session goes on.
    accepted(&mut chair, inscribe("peru")).await;
    accepted(&mut chair, inscribe("france")).await;
    let last = accepted(&mut chair, Command::GiveFloor { entry: 4, budget: None }).await;

    let mut back = Connection::connect(&url(&hub), Some(&tokens.observer), Some(held)).await.expect("resumes");
    // The welcome says where the replay ends: the client is caught up at seq 5.
    let welcome = recv(&mut back).await;
    assert!(matches!(welcome.frame, ServerFrame::Welcome { seq: 5, .. }), "{:?}", welcome.frame);
    let missed = events_until(&mut back, last).await;
    assert_eq!(missed.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5], "exactly the missed events");
    for e in missed {
        let changed = replica
            .apply(&rostrum::protocol::Envelope {
                frame: ServerFrame::Event { event: Box::new(e) },
                now: chrono::Utc::now(),
            })
            .expect("no gap");
        assert!(changed);
    }
    // The resumed replica equals a fresh snapshot.
    let mut fresh = connect(&hub, &tokens.observer).await;
    recv(&mut fresh).await;
    let mut fresh_replica = Replica::default();
    fresh_replica.apply(&recv(&mut fresh).await).expect("snapshot");
    assert_eq!(replica.state, fresh_replica.state);
    hub.shutdown().await;
}

#[tokio::test]
async fn the_handshake_refuses_bad_tokens_paths_and_origins_before_upgrading() {
    let data = tempfile::tempdir().expect("temp dir");
    let settings = Settings { allowed_origins: vec!["https://rostrum.example".into()], ..Settings::default() };
    let hub = start_hub(data.path(), settings).await;
    let base = url(&hub);
    let (status, message) = refused_status(Connection::connect(&base, None, None).await);
    assert_eq!(
        (status, message.as_str()),
        (401, "a token is required: `Authorization: Bearer TOKEN` or `?token=TOKEN`")
    );
    let (status, message) = refused_status(Connection::connect(&base, Some("not-a-token"), None).await);
    assert_eq!((status, message.as_str()), (401, "invalid token for this session"));
    let chair = chair_token(&hub);
    let other = base.replace(SESSION, "no-such-session");
    assert_eq!(refused_status(Connection::connect(&other, Some(&chair), None).await).0, 404);
    let bad_path = format!("ws://{}/elsewhere", hub.addr);
    assert_eq!(refused_status(Connection::connect(&bad_path, Some(&chair), None).await).0, 404);
    let bad_since = format!("{base}?since=yesterday");
    assert_eq!(refused_status(Connection::connect(&bad_since, Some(&chair), None).await).0, 400);
    // The token may also come in the query string.
    let mut by_query = Connection::connect(&format!("{base}?token={chair}"), None, None).await.expect("query token");
    handshake(&mut by_query).await;

    // A browser page from another origin is refused; an allowed one connects.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    for (origin, ok) in [("https://evil.example", false), ("https://rostrum.example", true)] {
        let mut request = format!("{base}?token={chair}").into_client_request().expect("request");
        request.headers_mut().insert("origin", origin.parse().expect("header"));
        match tokio_tungstenite::connect_async(request).await {
            Ok(_) => assert!(ok, "{origin} should be refused"),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert!(!ok, "{origin} should connect");
                assert_eq!(response.status().as_u16(), 403);
            }
            Err(e) => panic!("{e}"),
        }
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_hub_keeps_serving_everyone() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let chair_token = chair_token(&hub);
    let mut hostile = connect(&hub, &chair_token).await;
    let mut chair = connect(&hub, &chair_token).await;
    handshake(&mut hostile).await;
    handshake(&mut chair).await;

    let huge = format!("{{\"type\":\"ping\",\"id\":\"{}\"}}", "x".repeat(70 * 1024));
    let cases: Vec<(String, ErrorCode, &str)> = vec![
        ("{not json".into(), ErrorCode::BadFrame, "invalid JSON"),
        ("[1,2,3]".into(), ErrorCode::BadFrame, "a frame is a JSON object with a string \"type\""),
        ("{\"type\":\"dance\"}".into(), ErrorCode::UnknownType, "unknown frame type \"dance\""),
        (huge, ErrorCode::TooLarge, "over the limit of 65536 bytes"),
        ("{\"type\":\"command\"}".into(), ErrorCode::BadFrame, "a command frame needs a string \"id\""),
    ];
    for (text, code, expected) in cases {
        hostile.send_text(text).await.expect("sends");
        let (frame, _) = until(&mut hostile, |f| matches!(f, ServerFrame::Error { .. })).await;
        let ServerFrame::Error { code: got, reason } = frame else { unreachable!() };
        assert_eq!(got, code);
        assert!(reason.contains(expected), "{reason}");
    }
    // A command that does not parse is rejected with its id.
    hostile.send_text(r#"{"type":"command","id":"x1","command":{"type":"give-floor"}}"#.into()).await.expect("sends");
    let (frame, _) = until(&mut hostile, |f| matches!(f, ServerFrame::Rejected { .. })).await;
    assert!(
        matches!(frame, ServerFrame::Rejected { code: RejectCode::Invalid, ref id, .. } if id == "x1"),
        "{frame:?}"
    );

    // A flood of garbage from one connection: others are still served.
    for i in 0..500 {
        hostile.send_text(format!("garbage {i}")).await.expect("sends");
    }
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    // The flooding connection was rate limited, not dropped.
    let (frame, _) =
        until(&mut hostile, |f| matches!(f, ServerFrame::Error { code: ErrorCode::RateLimited, .. })).await;
    assert!(matches!(frame, ServerFrame::Error { .. }));
    // Commands over the limit are answered with their own code: sending again later is safe.
    for i in 0..300 {
        let text = format!(r#"{{"type":"command","id":"f{i}","command":{{"type":"close-list"}}}}"#);
        hostile.send_text(text).await.expect("sends");
    }
    let (frame, _) =
        until(&mut hostile, |f| matches!(f, ServerFrame::Rejected { code: RejectCode::RateLimited, .. })).await;
    let ServerFrame::Rejected { reason, .. } = frame else { unreachable!() };
    assert!(reason.contains("frames are being dropped"), "{reason}");
    hub.shutdown().await;
}

#[tokio::test]
async fn a_connection_that_falls_behind_is_resynced_not_left_deaf() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings { broadcast_capacity: 2, ..Settings::default() }).await;
    let tokens = hub.tokens(SESSION).expect("session").clone();
    let mut observer = connect(&hub, &tokens.observer).await;
    handshake(&mut observer).await;
    // Many commands at once from inside the hub's process: decided in one batch,
    // broadcast in one burst, far more than the tiny broadcast buffer holds.
    let session = hub.session(SESSION).expect("session");
    let chair = Actor::chair("chair");
    session.command(chair.clone(), Command::OpenSegment { segment: "general".into() }).await.expect("opens");
    let people = ["chile", "peru", "france", "ghana", "fiji", "african-group", "holy-see", "iom", "ngo-a", "ngo-b"];
    let results = join_all(people.iter().map(|p| session.command(chair.clone(), inscribe(p)))).await;
    assert!(results.iter().all(Result::is_ok));
    let seqs: Vec<u64> = events_until(&mut observer, 11).await.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=11).collect::<Vec<_>>(), "every event, once, in order");
    hub.shutdown().await;
}

#[tokio::test]
async fn every_frame_carries_the_hub_clock_and_pings_are_answered() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let mut conn = connect(&hub, &chair_token(&hub)).await;
    let before = chrono::Utc::now();
    let welcome = recv(&mut conn).await;
    assert!(welcome.now >= before - chrono::Duration::seconds(1));
    recv(&mut conn).await;
    conn.send_text(r#"{"type":"ping","id":"p1"}"#.into()).await.expect("sends");
    let pong = recv(&mut conn).await;
    assert_eq!(pong.frame, ServerFrame::Pong { id: "p1".into() });
    assert!(pong.now >= welcome.now);
    hub.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_connections_with_going_away() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let mut conn = connect(&hub, &chair_token(&hub)).await;
    handshake(&mut conn).await;
    let stopping = tokio::spawn(hub.shutdown());
    let closed = tokio::time::timeout(DEADLINE, conn.recv()).await.expect("closes in time");
    match closed {
        Err(rostrum::client::ClientError::Closed(Some(reason))) => {
            assert_eq!(reason, "the hub is shutting down (1001)");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    tokio::time::timeout(DEADLINE, stopping).await.expect("stops").expect("joins");
}

#[tokio::test]
async fn tokens_never_reach_the_journal() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let tokens = hub.tokens(SESSION).expect("session").clone();
    let mut chile = connect(&hub, &tokens.delegates["chile"]).await;
    handshake(&mut chile).await;
    accepted(&mut chile, inscribe("chile")).await;
    hub.shutdown().await;
    let dir = data.path().join(SESSION);
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    for token in [&tokens.chair, &tokens.rapporteur, &tokens.observer, &tokens.delegates["chile"]] {
        assert!(!journal.contains(token.as_str()));
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("tokens.toml")).expect("tokens file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // Restarting reuses the same tokens.
    let again = start_hub(data.path(), Settings::default()).await;
    assert_eq!(again.tokens(SESSION), Some(tokens.clone()));
    again.shutdown().await;
}

#[tokio::test]
async fn two_chairs_acting_at_once_stay_consistent_and_the_late_one_is_told_why() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let token = chair_token(&hub);
    let mut first = connect(&hub, &token).await;
    let mut second = connect(&hub, &token).await;
    handshake(&mut first).await;
    handshake(&mut second).await;
    accepted(&mut first, Command::OpenSegment { segment: "general".into() }).await;
    let peru = match command(&mut first, inscribe("peru")).await {
        Outcome::Accepted { events, .. } => match &events.last().expect("event").event {
            EventKind::Inscribed { entry, .. } => entry.id,
            other => panic!("{other:?}"),
        },
        Outcome::Rejected { reason, .. } => panic!("{reason}"),
    };
    // Both chairs press "give the floor to Peru" at the same moment.
    let a = first.command(Command::GiveFloor { entry: peru, budget: None }).await.expect("sends");
    let b = second.command(Command::GiveFloor { entry: peru, budget: None }).await.expect("sends");
    let answer = |id: String| move |f: &ServerFrame| matches!(f, ServerFrame::Accepted { id: got, .. } | ServerFrame::Rejected { id: got, .. } if *got == id);
    let (fa, _) = until(&mut first, answer(a)).await;
    let (fb, _) = until(&mut second, answer(b)).await;
    let outcomes = [&fa, &fb];
    let accepted_count = outcomes.iter().filter(|f| matches!(f, ServerFrame::Accepted { .. })).count();
    assert_eq!(accepted_count, 1, "exactly one wins: {outcomes:?}");
    let reason = outcomes
        .iter()
        .find_map(|f| match f {
            ServerFrame::Rejected { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .expect("the other is refused");
    assert_eq!(reason, "Peru holds the floor: end the turn first");
    hub.shutdown().await;
}

#[tokio::test]
async fn a_second_process_cannot_open_the_same_session() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let second = rostrum::hub::Hub::start("127.0.0.1:0", data.path(), &[session_file()], Settings::default()).await;
    let err = second.err().expect("refused");
    assert!(err.contains("is open in another Rostrum process"), "{err}");
    hub.shutdown().await;
    // Once the first has stopped, the session opens again.
    let again = start_hub(data.path(), Settings::default()).await;
    again.shutdown().await;
}

#[tokio::test]
async fn resuming_against_another_history_gets_a_snapshot() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let token = chair_token(&hub);
    let mut chair = connect(&hub, &token).await;
    let welcome = recv(&mut chair).await;
    let ServerFrame::Welcome { epoch, .. } = welcome.frame else { panic!("welcome") };
    assert_eq!(epoch.len(), 64);
    recv(&mut chair).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    accepted(&mut chair, inscribe("chile")).await;
    // Same journal: the events after seq 1.
    let mut same = Connection::resume(&url(&hub), Some(&token), Some(1), Some(&epoch)).await.expect("connects");
    recv(&mut same).await;
    assert!(matches!(recv(&mut same).await.frame, ServerFrame::Event { ref event } if event.seq == 2));
    // A seq from another journal (a restored or recreated data directory): a snapshot.
    let other = "ab".repeat(32);
    let mut stranger = Connection::resume(&url(&hub), Some(&token), Some(1), Some(&other)).await.expect("connects");
    recv(&mut stranger).await;
    assert!(matches!(recv(&mut stranger).await.frame, ServerFrame::Snapshot { seq: 2, .. }));
    hub.shutdown().await;
}

#[tokio::test]
async fn the_session_clock_never_goes_back_when_the_wall_clock_does() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    let data = tempfile::tempdir().expect("temp dir");
    let offset = Arc::new(AtomicI64::new(0));
    let base = chrono::Utc::now();
    let clock = {
        let offset = offset.clone();
        rostrum::hub::Clock::new(move || base + chrono::Duration::seconds(offset.load(Ordering::SeqCst)))
    };
    let hub = start_hub(data.path(), Settings { clock, ..Settings::default() }).await;
    let mut chair = connect(&hub, &chair_token(&hub)).await;
    handshake(&mut chair).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    offset.store(100, Ordering::SeqCst);
    accepted(&mut chair, inscribe("chile")).await;
    offset.store(-3600, Ordering::SeqCst); // NTP steps the clock back an hour
    accepted(&mut chair, inscribe("peru")).await;
    hub.shutdown().await;
    let journal = rostrum::journal::read_file(&data.path().join(SESSION).join("journal.jsonl")).expect("reads");
    let times: Vec<_> = journal.events.iter().map(|e| e.at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(times[2], times[1]);
}

#[tokio::test]
async fn a_hub_opened_on_a_long_journal_resumes_recent_clients_and_snapshots_the_rest() {
    let data = tempfile::tempdir().expect("temp dir");
    // 9,000 events: more than the hub keeps frames for (8,192).
    let journal = rostrum::bench::synthetic_journal(data.path(), 9_000).expect("journal written");
    let contents = rostrum::journal::read_file(&journal).expect("reads");
    let old_note = contents
        .events
        .iter()
        .find_map(|e| match &e.event {
            EventKind::NoteAdded { note } => Some(note.client_id.clone()),
            _ => None,
        })
        .expect("the journal has notes");
    let file = rostrum::bench::session_file();
    let hub =
        rostrum::hub::Hub::start("127.0.0.1:0", data.path(), &[file], Settings::default()).await.expect("hub starts");
    let id = "imrf-2022-roundtable-1";
    let tokens = hub.tokens(id).expect("session").clone();
    let url = format!("ws://{}/v1/sessions/{id}", hub.addr);
    // A client 5 events behind gets those 5 events.
    let mut recent = Connection::resume(&url, Some(&tokens.observer), Some(8_995), None).await.expect("connects");
    recv(&mut recent).await;
    for seq in 8_996..=9_000 {
        assert!(matches!(recv(&mut recent).await.frame, ServerFrame::Event { ref event } if event.seq == seq));
    }
    // A client further behind than the frames kept gets a snapshot.
    let mut old = Connection::resume(&url, Some(&tokens.observer), Some(100), None).await.expect("connects");
    recv(&mut old).await;
    assert!(matches!(recv(&mut old).await.frame, ServerFrame::Snapshot { seq: 9_000, .. }));
    // A note recorded before the hub opened is still recognised by its client id.
    let mut rapporteur = Connection::connect(&url, Some(&tokens.rapporteur), None).await.expect("connects");
    let again = Command::AddNote {
        saved_at: None,
        client_id: old_note,
        turn: None,
        text: "again".into(),
        objectives: vec![],
        themes: vec![],
    };
    match command(&mut rapporteur, again).await {
        Outcome::Accepted { first, events, .. } => assert!(first.is_none() && events.is_empty(), "recorded twice"),
        Outcome::Rejected { reason, .. } => panic!("refused: {reason}"),
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn heartbeats_keep_a_reading_client_and_close_a_silent_one() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let data = tempfile::tempdir().expect("temp dir");
    let settings = Settings { idle_timeout: Duration::from_millis(1500), ..Settings::default() };
    let hub = start_hub(data.path(), settings).await;
    let token = hub.tokens(SESSION).expect("session").observer.clone();
    // A client that upgrades and then never reads nor answers: raw bytes on a socket.
    let mut silent = tokio::net::TcpStream::connect(hub.addr).await.expect("connects");
    let request = format!(
        "GET /v1/sessions/{SESSION}?token={token} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        hub.addr
    );
    silent.write_all(request.as_bytes()).await.expect("writes");
    let mut reading = connect(&hub, &token).await;
    handshake(&mut reading).await;
    // The reading client answers pings while it reads: nothing arrives, and it stays open.
    let quiet = tokio::time::timeout(Duration::from_secs(4), reading.recv()).await;
    assert!(quiet.is_err(), "the reading client got {quiet:?}");
    // The silent one was pinged (opcode 0x9), then closed (0x8) with a reason, then hung up.
    let mut bytes = Vec::new();
    tokio::time::timeout(DEADLINE, silent.read_to_end(&mut bytes)).await.expect("hung up in time").expect("reads");
    let reason = b"nothing heard for 1 s";
    let at = bytes.windows(reason.len()).position(|w| w == reason).expect("a close frame with the reason");
    let close = bytes[..at].iter().rposition(|b| *b == 0x88).expect("a close frame");
    assert!(bytes[..close].windows(2).any(|w| w == [0x89, 0x00]), "pinged before being closed");
    // The reading client is still served.
    reading.send_text(r#"{"type":"ping","id":"still"}"#.into()).await.expect("sends");
    assert_eq!(recv(&mut reading).await.frame, ServerFrame::Pong { id: "still".into() });
    hub.shutdown().await;
}

/// 60 finished turns, 600 notes and 60 pledges (the notes and pledges given from
/// inside the hub's process, many at once, so they are written in few batches);
/// the ids of the turns and the client ids of the notes and pledges, in the order recorded.
async fn long_history(hub: &rostrum::hub::Hub, data: &std::path::Path) -> (Vec<u64>, Vec<String>, Vec<String>) {
    let mut chair = connect(hub, &chair_token(hub)).await;
    handshake(&mut chair).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    for _ in 0..60 {
        let Outcome::Accepted { events, .. } = command(&mut chair, inscribe("chile")).await else { panic!("inscribe") };
        let Some(EventKind::Inscribed { entry, .. }) = events.last().map(|e| &e.event) else { panic!("inscribed") };
        let entry = entry.id;
        let Outcome::Accepted { events, .. } = command(&mut chair, Command::GiveFloor { entry, budget: None }).await
        else {
            panic!("floor")
        };
        let Some(EventKind::FloorGiven { turn }) = events.last().map(|e| &e.event) else { panic!("floor given") };
        accepted(&mut chair, Command::EndTurn { turn: turn.id }).await;
    }
    let session = hub.session(SESSION).expect("session");
    let rapporteur = Actor::rapporteur("Ana");
    let notes = (0..600).map(|n| note(format!("n{n}"), format!("note {n}")));
    let pledges = (0..60).map(|n| Command::AddPledge {
        saved_at: None,
        client_id: format!("p{n}"),
        pledger: "chile".into(),
        text: format!("pledge {n}"),
        objectives: vec![5],
        turn: None,
    });
    let results = join_all(notes.chain(pledges).map(|c| session.command(rapporteur.clone(), c))).await;
    assert!(results.iter().all(Result::is_ok));
    let journal = rostrum::journal::read_file(&hub_journal(data)).expect("journal reads");
    let (mut t, mut n, mut p) = (Vec::new(), Vec::new(), Vec::new());
    for e in journal.events {
        match e.event {
            EventKind::TurnEnded { turn, .. } => t.push(turn),
            EventKind::NoteAdded { note } => n.push(note.client_id),
            EventKind::PledgeAdded { pledge } => p.push(pledge.client_id),
            _ => {}
        }
    }
    (t, n, p)
}

fn hub_journal(data: &std::path::Path) -> std::path::PathBuf {
    data.join(SESSION).join(rostrum::journal::FILE_NAME)
}

#[tokio::test]
async fn a_snapshot_carries_only_recent_history_and_older_entries_come_in_pages() {
    use rostrum::protocol::{Positions, SNAPSHOT_RECENT};
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let (turns, notes, pledges) = long_history(&hub, data.path()).await;
    let token = hub.tokens(SESSION).expect("session").observer.clone();
    let mut observer = connect(&hub, &token).await;
    recv(&mut observer).await;
    let snapshot = recv(&mut observer).await;
    let ServerFrame::Snapshot { state, from, .. } = &snapshot.frame else { panic!("snapshot") };
    let left_out = |n: usize| n - SNAPSHOT_RECENT;
    assert_eq!(*from, Positions { turns: left_out(60), notes: left_out(600), pledges: left_out(60) });
    assert_eq!(state.turns.len(), SNAPSHOT_RECENT, "only the latest turns");
    assert_eq!(state.notes.len(), SNAPSHOT_RECENT, "only the latest notes");
    assert_eq!(state.pledges.len(), SNAPSHOT_RECENT);
    let mut replica = Replica::default();
    replica.apply(&snapshot).expect("snapshot");
    // Page back until nothing older remains: two pages (500 notes, then the last 50).
    let mut pages = 0;
    while replica.missing_older() {
        let id = observer.fetch_older(replica.from).await.expect("sends");
        let page = recv(&mut observer).await;
        assert!(matches!(&page.frame, ServerFrame::Older { id: got, .. } if *got == id), "{page:?}");
        assert!(replica.apply(&page).expect("page"), "each page adds entries");
        pages += 1;
    }
    assert_eq!(pages, 2);
    let state = replica.state.as_ref().expect("state");
    assert_eq!(state.turns.iter().map(|t| t.id).collect::<Vec<_>>(), turns, "every turn, once, in order");
    let held: Vec<&str> = state.notes.iter().map(|n| n.client_id.as_str()).collect();
    assert_eq!(held, notes.iter().map(String::as_str).collect::<Vec<_>>(), "every note, once, in order");
    let held: Vec<&str> = state.pledges.iter().map(|p| p.client_id.as_str()).collect();
    assert_eq!(held, pledges.iter().map(String::as_str).collect::<Vec<_>>());
    // The replica now equals the hub's whole state, as a full copy would have had it.
    let journal = rostrum::journal::read_file(&hub_journal(data.path())).expect("journal reads");
    let def = rostrum::config::parse_session(&journal.header.config).expect("session file");
    assert_eq!(state, &rostrum::domain::Session::replay(def, &journal.events));
    hub.shutdown().await;
}

#[tokio::test]
async fn a_link_fetches_the_history_a_snapshot_left_out() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let (turns, notes, pledges) = long_history(&hub, data.path()).await;
    let token = hub.tokens(SESSION).expect("session").rapporteur.clone();
    let mut link = rostrum::client::link::spawn(url(&hub), Some(token));
    let mut replica = Replica::default();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while replica.state.is_none() || replica.missing_older() {
        let event = tokio::time::timeout_at(deadline, link.events.recv()).await.expect("in time").expect("link runs");
        if let rostrum::client::link::LinkEvent::Frame(envelope) = event {
            replica.apply(&envelope).expect("applies");
        }
    }
    let state = replica.state.as_ref().expect("state");
    assert_eq!(state.turns.len(), turns.len());
    assert_eq!(state.notes.len(), notes.len());
    assert_eq!(state.pledges.len(), pledges.len());
    assert_eq!(state.notes[0].client_id, notes[0]);
    hub.shutdown().await;
}

#[tokio::test]
async fn a_participant_registered_in_the_session_can_join_as_a_delegate_at_once() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let mut chair = connect(&hub, &chair_token(&hub)).await;
    handshake(&mut chair).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    let participant: rostrum::domain::Participant = serde_json::from_str(
        r#"{"id":"migrant-voices","name":"Migrant Voices Network","kind":"stakeholder","constituency":"migrant-organization","modality":"remote"}"#,
    )
    .expect("participant");
    accepted(&mut chair, Command::RegisterParticipant { participant }).await;

    // The token exists as soon as the registration is acknowledged, in memory and on disk.
    let token = hub.tokens(SESSION).expect("session").delegates.get("migrant-voices").cloned().expect("a token");
    let file = std::fs::read_to_string(data.path().join(SESSION).join("tokens.toml")).expect("tokens file");
    assert!(file.contains(&token));
    let mut delegate = connect(&hub, &token).await;
    let welcome = recv(&mut delegate).await;
    assert!(
        matches!(&welcome.frame, ServerFrame::Welcome { role: Role::Delegate, participant: Some(p), .. } if p == "migrant-voices"),
        "{:?}",
        welcome.frame
    );
    recv(&mut delegate).await; // snapshot
    accepted(&mut delegate, inscribe("migrant-voices")).await;
    hub.shutdown().await;

    // After a restart the same token still works.
    let again = start_hub(data.path(), Settings::default()).await;
    assert_eq!(again.tokens(SESSION).expect("session").delegates.get("migrant-voices"), Some(&token));
    again.shutdown().await;
}

/// A long session opens from a checkpoint of its state beside the journal, bound to
/// the journal's line it covers; a damaged, edited or stale one is detected, said,
/// and the whole journal is read instead. Either way the state is the journal's.
#[tokio::test]
async fn a_checkpoint_opens_a_session_and_a_damaged_one_is_ignored_and_the_journal_refolded() {
    use rostrum::domain::Session;
    let data = tempfile::tempdir().expect("temp dir");
    let settings = || Settings { checkpoint_every: 5, ..Settings::default() };
    let hub = start_hub(data.path(), settings()).await;
    let mut chair = connect(&hub, &chair_token(&hub)).await;
    handshake(&mut chair).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    for p in ["peru", "chile", "france", "ghana", "fiji", "holy-see", "iom", "ngo-a", "ngo-b"] {
        accepted(&mut chair, inscribe(p)).await;
    }
    let last = accepted(&mut chair, Command::CloseList { segment: None }).await;
    drop(chair);
    hub.shutdown().await;
    let dir = data.path().join(SESSION);
    let checkpoint = dir.join(rostrum::journal::CHECKPOINT_FILE);
    let text = std::fs::read_to_string(&checkpoint).expect("a checkpoint was written");
    let binding: serde_json::Value = serde_json::from_str(text.lines().next().expect("binding")).expect("json");
    // One every 5 events at most (one is skipped while the one before is still being written).
    let seq = binding["seq"].as_u64().expect("seq");
    assert!((5..=last).contains(&seq), "a checkpoint at {seq} of {last}");
    // What the whole journal folds to.
    let contents = rostrum::journal::read_file(&dir.join(rostrum::journal::FILE_NAME)).expect("journal");
    let def = rostrum::config::parse_session(&contents.header.config).expect("def");
    let expected = Session::replay(def, &contents.events);
    let opened_state = async |data: &std::path::Path| {
        let hub = start_hub(data, settings()).await;
        let warnings = hub.reports[0].warnings.clone();
        let mut observer = connect(&hub, &hub.tokens(SESSION).expect("tokens").observer).await;
        let (frame, _) = until(&mut observer, |f| matches!(f, ServerFrame::Snapshot { .. })).await;
        let ServerFrame::Snapshot { state, .. } = frame else { unreachable!() };
        drop(observer);
        hub.shutdown().await;
        (*state, warnings)
    };
    let (state, warnings) = opened_state(data.path()).await;
    assert!(warnings.is_empty(), "the checkpoint fits: {warnings:?}");
    assert_eq!(state, expected, "from the checkpoint, the state the whole journal gives");

    // Damage: the state edited (the binding's hash no longer matches), the binding
    // pointing at another line, a checkpoint of another journal.
    let mut edited = text.clone();
    edited = edited.replacen("\"closed\":false", "\"closed\":true", 1);
    assert_ne!(edited, text, "the test edits something");
    let moved = text.replacen(&format!("\"seq\":{seq}"), &format!("\"seq\":{}", seq - 1), 1);
    let foreign = text.replacen(binding["epoch"].as_str().expect("epoch"), &"0".repeat(64), 1);
    for (what, damaged, says) in [
        ("an edited state", edited, "its state is not the one it was written with"),
        ("a moved binding", moved, "the line it points at is event"),
        ("another journal's", foreign, "another journal"),
        ("a cut file", text[..text.len() / 2].to_string(), "ignored"),
    ] {
        std::fs::write(&checkpoint, &damaged).expect("write");
        let (state, warnings) = opened_state(data.path()).await;
        assert!(
            warnings.iter().any(|w| w.contains("checkpoint.json: ignored") && w.contains(says)),
            "{what}: {warnings:?}"
        );
        assert_eq!(state, expected, "{what}: the journal refolded");
    }
}

/// Event frames are encoded once and written to each socket as they are, beside
/// what the websocket layer writes itself (pongs, answers): a client that pings
/// while events pour in gets every event whole and in order, and every pong.
#[tokio::test]
async fn pings_answered_in_the_middle_of_a_stream_of_events_leave_every_frame_whole() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let token = hub.tokens(SESSION).expect("session").observer.clone();
    let (ws, _) = tokio_tungstenite::connect_async(format!("{}?token={token}", url(&hub))).await.expect("connects");
    let (mut sink, mut stream) = ws.split();
    let session = hub.session(SESSION).expect("session");
    let chair = Actor::chair("chair");
    session.command(chair.clone(), Command::OpenSegment { segment: "general".into() }).await.expect("opens");
    let pings = 300usize;
    let pinging = tokio::spawn(async move {
        for n in 0..pings {
            sink.send(Message::Ping(format!("ping {n} {}", "x".repeat(n % 100)).into_bytes().into()))
                .await
                .expect("pings");
            tokio::task::yield_now().await;
        }
        sink
    });
    let rapporteur = Actor::rapporteur("Ana");
    for round in 0..20 {
        let notes = (0..10).map(|n| note(format!("n{round}-{n}"), format!("note {n} of round {round}")));
        let results = join_all(notes.map(|c| session.command(rapporteur.clone(), c))).await;
        assert!(results.iter().all(Result::is_ok), "round {round}");
    }
    let last = 1 + 20 * 10;
    let (mut seqs, mut pongs) = (Vec::new(), Vec::new());
    while seqs.last().is_none_or(|s| *s < last) || pongs.len() < pings {
        let message = tokio::time::timeout(DEADLINE, stream.next()).await.expect("in time").expect("open");
        match message.expect("a whole websocket frame") {
            Message::Text(text) => {
                let envelope: rostrum::protocol::Envelope = serde_json::from_str(text.as_str()).expect("a whole frame");
                if let ServerFrame::Event { event } = envelope.frame {
                    seqs.push(event.seq);
                }
            }
            Message::Pong(payload) => pongs.push(String::from_utf8(payload.to_vec()).expect("text")),
            _ => {}
        }
    }
    let _sink = pinging.await.expect("pinged");
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "every event, once, in order");
    let expected: Vec<String> = (0..pings).map(|n| format!("ping {n} {}", "x".repeat(n % 100))).collect();
    assert_eq!(pongs, expected, "every ping answered, in order");
    hub.shutdown().await;
}
