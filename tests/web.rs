//! The room pages in a real browser (headless Chromium over the DevTools protocol)
//! against a real hub: what a person in the room sees, within a second of the
//! chair's action; reconnecting after the hub restarts; refused origins; headers.
//! Screenshots at 1920x1080 and 1280x720 go to target/web-screenshots.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::browser::Browser;
use common::{SESSION, session_file};
use rostrum::domain::{Actor, Command, ConnectionStatus};
use rostrum::hub::{Hub, Settings};

const SECOND: Duration = Duration::from_secs(1);

use common::inscribe;

async fn chair(hub: &Hub, command: Command) {
    let handle = hub.session(SESSION).expect("session");
    let shown = format!("{command:?}");
    handle.command(Actor::chair("chair"), command).await.unwrap_or_else(|r| panic!("{shown}: {}", r.reason));
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots")
}

fn page_url(hub: &Hub, page: &str) -> String {
    let observer = &hub.tokens(SESSION).expect("tokens").observer;
    format!("http://{}/v1/sessions/{SESSION}/{page}?token={observer}", hub.addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hall_display_follows_the_floor_the_clock_and_points_of_order() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    for p in ["peru", "ghana", "chile", "holy-see", "ngo-b", "france"] {
        chair(&hub, inscribe(p)).await;
    }
    let mut browser = Browser::start().await;
    let page = browser.open(&page_url(&hub, "display"), 1920, 1080).await;
    browser.wait_text(&page, "the list", 5 * SECOND, |t| t.contains("Next speakers") && t.contains("Ghana")).await;
    // The token was taken out of the address bar.
    let address = browser.eval(&page, "location.href").await;
    assert!(!address.as_str().unwrap_or_default().contains("token"), "{address}");

    // The chair gives the floor: the name within a second, and the countdown going down.
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    // Two entries inscribed in advance (ids 1, 2), six here (3 to 8): the turn is 9.
    let turn = 9;
    let text = browser
        .wait_text(&page, "Peru on the floor", SECOND, |t| {
            t.contains("Peru") && t.contains("3:00") || t.contains("2:5")
        })
        .await;
    assert!(text.contains("national statement · in room"), "{text}");
    let first = browser.eval(&page, "document.getElementById('countdown').textContent").await;
    let first = first.as_str().unwrap_or_default().to_string();
    browser
        .wait_text(&page, "the countdown to go down", 3 * SECOND, |t| {
            t.lines().any(|l| l.starts_with("2:5") && l != first)
        })
        .await;
    browser.screenshot(&page, &screenshots().join("display-speaking-1920x1080.png")).await;

    // Warning, then overrun: the chair cuts the time.
    chair(&hub, Command::Cut { turn, secs: 160 }).await;
    browser.wait_text(&page, "the warning", SECOND, |t| t.contains("time almost up")).await;
    let class = browser.eval(&page, "document.getElementById('countdown').className").await;
    assert_eq!(class, "countdown warning");
    chair(&hub, Command::Cut { turn, secs: 30 }).await;
    browser.wait_text(&page, "the overrun", SECOND, |t| t.contains("OVERRUN") && t.contains("+0:")).await;
    browser.resize(&page, 1280, 720).await;
    browser.screenshot(&page, &screenshots().join("display-overrun-1280x720.png")).await;

    // A point of order: the banner, and the clock stopped.
    chair(&hub, Command::RaisePointOfOrder { by: "france".into() }).await;
    browser.wait_text(&page, "the banner", SECOND, |t| t.contains("Point of order raised by France")).await;
    let class = browser.eval(&page, "document.getElementById('countdown').className").await;
    assert_eq!(class, "countdown stopped");
    browser.resize(&page, 1920, 1080).await;
    browser.screenshot(&page, &screenshots().join("display-point-of-order-1920x1080.png")).await;
    browser.resize(&page, 1280, 720).await;
    browser.screenshot(&page, &screenshots().join("display-point-of-order-1280x720.png")).await;

    // Nothing overlaps or is cut at either size: every box fits the window.
    for (w, h) in [(1920, 1080), (1280, 720)] {
        browser.resize(&page, w, h).await;
        let overflow = browser
            .eval(
                &page,
                "[...document.querySelectorAll('header > *, .speaker, .detail, .countdown, .next li')]\
                 .filter(e => e.offsetParent && (e.getBoundingClientRect().right > innerWidth + 1 || e.getBoundingClientRect().bottom > innerHeight + 1))\
                 .map(e => e.id || e.className)",
            )
            .await;
        assert_eq!(overflow, serde_json::json!([]), "{w}x{h}: boxes out of the window");
    }
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speakers_timer_shows_its_own_countdown_only_when_it_speaks() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    chair(&hub, inscribe("peru")).await;
    chair(&hub, inscribe("ghana")).await;
    chair(
        &hub,
        Command::SetConnection { participant: "ghana".into(), status: ConnectionStatus::Connected, from: None },
    )
    .await;
    let ghana = hub.tokens(SESSION).expect("tokens").delegates["ghana"].clone();
    let mut browser = Browser::start().await;
    let url = format!("http://{}/v1/sessions/{SESSION}/speaker?token={ghana}", hub.addr);
    let page = browser.open(&url, 1280, 720).await;
    let text = browser.wait_text(&page, "Ghana's place", 5 * SECOND, |t| t.contains("You are number 2")).await;
    assert!(text.contains("after Peru"), "the reason for its place: {text}");
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    browser.wait_text(&page, "Peru speaking", SECOND, |t| t.contains("Peru") && t.contains("number 1")).await;
    let hidden = browser.eval(&page, "document.getElementById('countdown').hidden").await;
    assert_eq!(hidden, serde_json::json!(true), "no countdown while someone else speaks");
    chair(&hub, Command::EndTurn { turn: 5 }).await;
    chair(&hub, Command::GiveFloor { entry: 4, budget: None }).await;
    browser.wait_text(&page, "its own floor", SECOND, |t| t.contains("You have the floor")).await;
    let hidden = browser.eval(&page, "document.getElementById('countdown').hidden").await;
    assert_eq!(hidden, serde_json::json!(false), "its own countdown");
    browser.screenshot(&page, &screenshots().join("speaker-own-floor-1280x720.png")).await;
    browser.resize(&page, 1920, 1080).await;
    browser.screenshot(&page, &screenshots().join("speaker-own-floor-1920x1080.png")).await;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_display_reconnects_after_the_hub_restarts_on_the_same_address() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    let addr = hub.addr;
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    chair(&hub, inscribe("peru")).await;
    let mut browser = Browser::start().await;
    let page = browser.open(&page_url(&hub, "display"), 1280, 720).await;
    browser.wait_text(&page, "the list", 5 * SECOND, |t| t.contains("Peru") && t.contains("live")).await;
    hub.shutdown().await;
    browser.wait_text(&page, "the page to say it is reconnecting", 5 * SECOND, |t| t.contains("reconnecting")).await;
    let hub =
        Hub::start(&addr.to_string(), data.path(), &[session_file()], Settings::default()).await.expect("restarts");
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    browser
        .wait_text(&page, "the page to follow again", 5 * SECOND, |t| {
            t.contains("live") && t.contains("national statement")
        })
        .await;
    hub.shutdown().await;
}

/// A raw HTTP request to the hub; the response's head only (an accepted upgrade stays open).
fn http_head(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    stream.write_all(request.as_bytes()).expect("writes");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A raw HTTP request to the hub; the whole response.
fn http(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    stream.write_all(request.as_bytes()).expect("writes");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_security_headers_and_other_origins_are_refused() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    let addr = hub.addr;
    let page = tokio::task::spawn_blocking(move || {
        http(addr, &format!("GET /v1/sessions/{SESSION}/display HTTP/1.1\r\nHost: {addr}\r\n\r\n"))
    })
    .await
    .expect("request");
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(page.contains("Content-Security-Policy: default-src 'none'; script-src 'self'"), "{page}");
    assert!(page.contains("<script src=\"web/room.js\" defer></script>"), "{page}");
    assert!(!page.contains("<script>"), "no inline script");
    let missing = tokio::task::spawn_blocking(move || {
        http(addr, &format!("GET /v1/sessions/{SESSION}/nothing HTTP/1.1\r\nHost: {addr}\r\n\r\n"))
    })
    .await
    .expect("request");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

    // A websocket from the hub's own pages is accepted; from another origin, refused.
    let observer = hub.tokens(SESSION).expect("tokens").observer.clone();
    let upgrade = |origin: String| {
        let observer = observer.clone();
        move || {
            http_head(
                addr,
                &format!(
                    "GET /v1/sessions/{SESSION}?view=display&token={observer} HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
                     Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                ),
            )
        }
    };
    let own = tokio::task::spawn_blocking(upgrade(format!("http://{addr}"))).await.expect("request");
    assert!(own.starts_with("HTTP/1.1 101"), "{own}");
    let other = tokio::task::spawn_blocking(upgrade("http://evil.example".to_string())).await.expect("request");
    assert!(other.starts_with("HTTP/1.1 403"), "{other}");
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_display_connection_gets_every_change_of_the_room_and_gives_no_commands() {
    use futures_util::{SinkExt, StreamExt};
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    chair(&hub, inscribe("peru")).await;
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    let observer = hub.tokens(SESSION).expect("tokens").observer.clone();
    let url = format!("ws://{}/v1/sessions/{SESSION}?view=display&token={observer}", hub.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("connects");
    let mut next = async || loop {
        let message = tokio::time::timeout(common::DEADLINE, ws.next()).await.expect("a frame in time");
        if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = message {
            return serde_json::from_str::<serde_json::Value>(text.as_str()).expect("json");
        }
    };
    assert_eq!(next().await["type"], "welcome");
    let first = next().await;
    assert_eq!(first["state"]["floor"]["speaker"], "Peru");
    for i in 0..6u64 {
        let command =
            if i % 2 == 0 { Command::Extend { turn: 4, secs: 30 } } else { Command::Cut { turn: 4, secs: 30 } };
        chair(&hub, command).await;
        let frame = next().await;
        let expected = if i % 2 == 0 { 210_000 } else { 180_000 };
        assert_eq!(frame["state"]["floor"]["allotted_ms"], expected, "change {i}: {frame}");
    }
    // A note changes nothing on a room's screen: no frame for it.
    let rapporteur = Actor::rapporteur("Ana");
    let note = Command::AddNote {
        saved_at: None,
        client_id: "n1".into(),
        turn: None,
        text: "a note".into(),
        objectives: vec![],
        themes: vec![],
    };
    hub.session(SESSION).expect("session").command(rapporteur, note).await.expect("note");
    chair(&hub, Command::Pause { turn: 4 }).await;
    let frame = next().await;
    assert_eq!(frame["state"]["floor"]["paused"], true, "the next frame is the pause, not the note");
    ws.send(tokio_tungstenite::tungstenite::Message::Text(r#"{"type":"ping","id":"x"}"#.into())).await.expect("sends");
    loop {
        let message = tokio::time::timeout(common::DEADLINE, ws.next()).await.expect("an answer");
        if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = message {
            assert!(text.as_str().contains("\"code\":\"read-only\""), "{text}");
            break;
        }
    }
    hub.shutdown().await;
}

/// The room's pages count as connections of the session (the chair's quit question
/// says they will be cut off), from their welcome until they close.
#[tokio::test]
async fn the_rooms_pages_count_as_connections_while_they_are_open() {
    use futures_util::StreamExt;
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    let handle = hub.session(SESSION).expect("session");
    let before = handle.connections();
    let observer = hub.tokens(SESSION).expect("tokens").observer.clone();
    let url = format!("ws://{}/v1/sessions/{SESSION}?view=display&token={observer}", hub.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("connects");
    let welcome = tokio::time::timeout(common::DEADLINE, ws.next()).await.expect("a frame in time");
    assert!(welcome.is_some());
    assert_eq!(handle.connections(), before + 1, "the page is counted");
    drop(ws);
    let deadline = std::time::Instant::now() + common::DEADLINE;
    while handle.connections() != before {
        assert!(std::time::Instant::now() < deadline, "the closed page is no longer counted");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
