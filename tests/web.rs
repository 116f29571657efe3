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

/// The labels of the pages in `lang` (the files the hub serves).
fn labels(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("src/web/static/i18n/{lang}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("labels are JSON")
}

/// A label with its placeholders filled in.
fn label(labels: &serde_json::Map<String, serde_json::Value>, key: &str, vars: &[(&str, &str)]) -> String {
    let mut text = labels.get(key).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("label {key}")).to_string();
    for (k, v) in vars {
        text = text.replace(&format!("{{{k}}}"), v);
    }
    text
}

fn lang_url(hub: &Hub, page: &str, lang: &str) -> String {
    format!("{}&lang={lang}", page_url(hub, page))
}

/// Nothing overlaps or is cut at either size: every box fits the window.
async fn assert_nothing_overflows(browser: &mut Browser, page: &common::browser::Page, what: &str) {
    for (w, h) in [(1920, 1080), (1280, 720)] {
        browser.resize(page, w, h).await;
        // Names are fitted on the next draw (a quarter of a second).
        tokio::time::sleep(Duration::from_millis(400)).await;
        let overflow = browser
            .eval(
                page,
                "[...document.querySelectorAll('header > *, .speaker, .detail, .state, .countdown, .next li, .more, .mine-text, .actions, .follow')]\
                 .filter(e => e.offsetParent && (e.getBoundingClientRect().right > innerWidth + 1 || e.getBoundingClientRect().left < -1 || e.getBoundingClientRect().bottom > innerHeight + 1 || (e.classList.contains('speaker') && e.scrollHeight > e.clientHeight + 1)))\
                 .map(e => (e.id || e.className) + (e.classList.contains('speaker') ? ` ${e.scrollHeight}/${e.clientHeight} ${e.style.fontSize} ${e.textContent}` : ''))",
            )
            .await;
        assert_eq!(overflow, serde_json::json!([]), "{what} at {w}x{h}: boxes out of the window");
    }
}

/// The hall display in `lang`: the floor, the clock, the warning, the overrun and
/// a point of order, each within a second of the chair's action, in the page's words.
async fn hall_display_follows_the_room(lang: &str) {
    let words = labels(lang);
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    for p in ["peru", "ghana", "chile", "holy-see", "ngo-b", "france"] {
        chair(&hub, inscribe(p)).await;
    }
    let mut browser = Browser::start().await;
    let page = browser.open(&lang_url(&hub, "display", lang), 1920, 1080).await;
    let next = label(&words, "next_speakers", &[]);
    browser.wait_text(&page, "the list", 5 * SECOND, |t| t.contains(&next) && t.contains("Ghana")).await;
    // The token was taken out of the address bar; the language stays.
    let address = browser.eval(&page, "location.href").await;
    let address = address.as_str().unwrap_or_default();
    assert!(!address.contains("token") && address.ends_with(&format!("?lang={lang}")), "{address}");

    // The chair gives the floor: the name within a second, and the countdown going down.
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    // Two entries inscribed in advance (ids 1, 2), six here (3 to 8): the turn is 9.
    let turn = 9;
    // The roster's name in the page's language (tests/data/small.toml gives Peru's in six).
    let peru = if lang == "fr" { "Pérou" } else { "Peru" };
    let text = browser
        .wait_text(&page, "Peru on the floor", SECOND, |t| {
            t.contains(peru) && (t.contains("3:00") || t.contains("2:5"))
        })
        .await;
    let detail = format!("{} · {}", label(&words, "kind_national", &[]), label(&words, "modality_in_room", &[]));
    assert!(text.contains(&detail), "{detail} in {text}");
    let first = browser.eval(&page, "document.getElementById('countdown').textContent").await;
    let first = first.as_str().unwrap_or_default().to_string();
    browser
        .wait_text(&page, "the countdown to go down", 3 * SECOND, |t| {
            t.lines().any(|l| l.starts_with("2:5") && l != first)
        })
        .await;
    browser.screenshot(&page, &screenshots().join(format!("display-{lang}-speaking-1920x1080.png"))).await;

    // Warning, then overrun: the chair cuts the time.
    chair(&hub, Command::Cut { turn, secs: 160 }).await;
    let almost = label(&words, "state_almost_up", &[]);
    browser.wait_text(&page, "the warning", SECOND, |t| t.contains(&almost)).await;
    let class = browser.eval(&page, "document.getElementById('countdown').className").await;
    assert_eq!(class, "countdown warning");
    chair(&hub, Command::Cut { turn, secs: 30 }).await;
    let overrun = label(&words, "state_overrun", &[]);
    browser.wait_text(&page, "the overrun", SECOND, |t| t.contains(&overrun) && t.contains("+0:")).await;
    browser.resize(&page, 1280, 720).await;
    browser.screenshot(&page, &screenshots().join(format!("display-{lang}-overrun-1280x720.png"))).await;

    // A point of order: the banner, and the clock stopped.
    chair(&hub, Command::RaisePointOfOrder { by: "france".into() }).await;
    let banner = label(&words, "point_of_order_by", &[("name", "France")]);
    browser.wait_text(&page, "the banner", SECOND, |t| t.contains(&banner)).await;
    let class = browser.eval(&page, "document.getElementById('countdown').className").await;
    assert_eq!(class, "countdown stopped");
    browser.resize(&page, 1920, 1080).await;
    browser.screenshot(&page, &screenshots().join(format!("display-{lang}-point-of-order-1920x1080.png"))).await;
    browser.resize(&page, 1280, 720).await;
    browser.screenshot(&page, &screenshots().join(format!("display-{lang}-point-of-order-1280x720.png"))).await;
    assert_nothing_overflows(&mut browser, &page, "the display").await;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hall_display_follows_the_floor_the_clock_and_points_of_order() {
    hall_display_follows_the_room("en").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hall_display_follows_the_room_in_french_too() {
    hall_display_follows_the_room("fr").await;
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
    // In French: the place, the reason and Peru's name in French.
    let french = browser.open(&format!("{url}&lang=fr"), 1280, 720).await;
    let text =
        browser.wait_text(&french, "Ghana's place in French", 5 * SECOND, |t| t.contains("Vous êtes numéro 2")).await;
    assert!(text.contains("après Pérou : ministre a préséance sur chef de délégation"), "{text}");
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
    async fn next_frame<
        S: futures_util::Stream<Item = Result<tokio_tungstenite::tungstenite::Message, E>> + Unpin,
        E,
    >(
        ws: &mut S,
    ) -> serde_json::Value {
        loop {
            let message = tokio::time::timeout(common::DEADLINE, ws.next()).await.expect("a frame in time");
            if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = message {
                return serde_json::from_str::<serde_json::Value>(text.as_str()).expect("json");
            }
        }
    }
    let mut next = async || next_frame(&mut ws).await;
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
    // A ping is answered (the pages measure their clock's offset); a command from
    // an observer's page is refused as read-only.
    ws.send(tokio_tungstenite::tungstenite::Message::Text(r#"{"type":"ping","id":"x"}"#.into())).await.expect("sends");
    let pong = next_frame(&mut ws).await;
    assert_eq!((pong["type"].as_str(), pong["id"].as_str()), (Some("pong"), Some("x")), "{pong}");
    let command = r#"{"type":"command","id":"c1","command":{"type":"pause","turn":4}}"#;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(command.into())).await.expect("sends");
    let refused = next_frame(&mut ws).await;
    assert_eq!(refused["code"], "read-only", "{refused}");
    assert!(
        refused["reason"].as_str().unwrap_or_default().contains("an observer's token and is read-only"),
        "{refused}"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_display_and_the_timer_speak_the_six_official_languages() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    chair(&hub, Command::inscribe_in("peru", "fr")).await;
    chair(&hub, inscribe("ghana")).await;
    chair(&hub, inscribe("chile")).await;
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    let mut browser = Browser::start().await;
    for lang in ["ar", "zh", "en", "fr", "ru", "es"] {
        let words = labels(lang);
        let page = browser.open(&lang_url(&hub, "display", lang), 1920, 1080).await;
        let next = label(&words, "next_speakers", &[]);
        let national = label(&words, "kind_national", &[]);
        let text = browser
            .wait_text(&page, "the display's labels", 5 * SECOND, |t| t.contains(&next) && t.contains(&national))
            .await;
        // Every label of the page in its language: the list's heading, the kind and
        // modality of the statement, and its language named in the page's language.
        for key in ["kind_national", "modality_in_room"] {
            assert!(text.contains(&label(&words, key, &[])), "{lang}: {key} in {text}");
        }
        let language =
            browser.eval(&page, &format!("new Intl.DisplayNames(['{lang}'], {{type: 'language'}}).of('fr')")).await;
        let in_french = label(&words, "in_language", &[("language", language.as_str().unwrap_or_default())]);
        assert!(text.contains(&in_french), "{lang}: {in_french} in {text}");
        // Peru's name in the page's language, from the roster.
        let peru = ["بيرو", "秘鲁", "Peru", "Pérou", "Перу", "Perú"]
            [["ar", "zh", "en", "fr", "ru", "es"].iter().position(|l| *l == lang).unwrap_or(2)];
        assert!(text.contains(peru), "{lang}: {peru} in {text}");
        let dir = browser.eval(&page, "document.documentElement.dir + ' ' + document.documentElement.lang").await;
        let expected = if lang == "ar" { format!("rtl {lang}") } else { format!("ltr {lang}") };
        assert_eq!(dir, serde_json::json!(expected), "{lang}");
        let title = browser.eval(&page, "document.title").await;
        assert_eq!(title, serde_json::json!(label(&words, "title_display", &[])), "{lang}");
        if lang == "ar" {
            // Mirrored: the floor on the right, the list of speakers on its left.
            let sides = browser
                .eval(
                    &page,
                    "document.querySelector('.floor').getBoundingClientRect().left > document.querySelector('.next').getBoundingClientRect().left",
                )
                .await;
            assert_eq!(sides, serde_json::json!(true), "the Arabic display is laid out right to left");
        }
        if lang == "ar" || lang == "zh" {
            for (w, h) in [(1920, 1080), (1280, 720)] {
                browser.resize(&page, w, h).await;
                tokio::time::sleep(Duration::from_millis(400)).await;
                browser.screenshot(&page, &screenshots().join(format!("display-{lang}-{w}x{h}.png"))).await;
            }
            assert_nothing_overflows(&mut browser, &page, &format!("the {lang} display")).await;
        }
        let timer = browser.open(&lang_url(&hub, "speaker", lang), 1280, 720).await;
        let on_floor = label(&words, "on_the_floor", &[]);
        let choose = label(&words, "choose_whom", &[]);
        browser
            .wait_text(&timer, "the timer's labels", 5 * SECOND, |t| t.contains(&on_floor) && t.contains(&choose))
            .await;
        let dir = browser.eval(&timer, "document.documentElement.dir").await;
        assert_eq!(dir, serde_json::json!(if lang == "ar" { "rtl" } else { "ltr" }), "{lang} timer");
        if lang == "ar" || lang == "zh" {
            browser.screenshot(&timer, &screenshots().join(format!("speaker-{lang}-1280x720.png"))).await;
        }
    }
    hub.shutdown().await;
}

/// A hub on the test session with `from` replaced by `to` in its file, Peru on the floor.
async fn peru_speaking_in(data: &Path, from: &str, to: &str) -> (Hub, PathBuf) {
    let source = std::fs::read_to_string(session_file()).expect("session file");
    let file = data.join("edited.toml");
    std::fs::write(&file, source.replacen(from, to, 1)).expect("writes");
    let hub = Hub::start("127.0.0.1:0", data, std::slice::from_ref(&file), Settings::default()).await.expect("starts");
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    chair(&hub, inscribe("peru")).await;
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    (hub, file)
}

/// Session files may ask for Arabic-Indic digits on the Arabic pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arabic_pages_write_the_digits_the_session_file_chooses() {
    let data = tempfile::tempdir().expect("temp dir");
    let (hub, _) =
        peru_speaking_in(data.path(), "observers_open = false\n", "observers_open = false\nnumerals = \"arab\"\n")
            .await;
    let mut browser = Browser::start().await;
    let page = browser.open(&lang_url(&hub, "display", "ar"), 1280, 720).await;
    let text = browser
        .wait_text(&page, "the clock in Arabic digits", 5 * SECOND, |t| t.contains("٢:٥") || t.contains("٣:٠٠"))
        .await;
    assert!(!text.contains("2:5"), "{text}");
    // The English page of the same session keeps 0123.
    let page = browser.open(&lang_url(&hub, "display", "en"), 1280, 720).await;
    browser
        .wait_text(&page, "the clock in Western digits", 5 * SECOND, |t| t.contains("2:5") || t.contains("3:00"))
        .await;
    hub.shutdown().await;
}

/// Click the button whose text is `text` on `page`; false if there is none.
async fn click(browser: &mut Browser, page: &common::browser::Page, text: &str) -> bool {
    let found = browser
        .eval(
            page,
            &format!(
                "(() => {{ const b = [...document.querySelectorAll('button')].find(b => b.offsetParent && b.textContent === {text:?}); if (b) b.click(); return !!b; }})()"
            ),
        )
        .await;
    found == serde_json::json!(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_delegate_requests_the_floor_from_the_speakers_page_with_a_click() {
    let words = labels("en");
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    chair(&hub, inscribe("peru")).await;
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    let ghana = hub.tokens(SESSION).expect("tokens").delegates["ghana"].clone();
    let mut browser = Browser::start().await;
    let url = format!("http://{}/v1/sessions/{SESSION}/speaker?token={ghana}", hub.addr);
    let page = browser.open(&url, 1280, 720).await;
    // Whom the page follows, from the first frames: before Ghana is on any list.
    browser.wait_text(&page, "whom it follows", 5 * SECOND, |t| t.contains("Following Ghana")).await;
    let request = label(&words, "request_floor", &[]);
    browser.wait_text(&page, "the request", 5 * SECOND, |t| t.contains(&request)).await;
    // A Member State of the African Group may speak for it; in the language it says.
    let options =
        browser.eval(&page, "[...document.querySelectorAll('#statement-for option')].map(o => o.textContent)").await;
    assert_eq!(options, serde_json::json!(["National statement", "On behalf of the African Group"]));
    browser.eval(&page, "document.getElementById('statement-language').value = 'fr'; document.getElementById('statement-language').dispatchEvent(new Event('change'))").await;
    browser.screenshot(&page, &screenshots().join("speaker-delegate-1280x720.png")).await;
    assert!(click(&mut browser, &page, &request).await, "the request is offered");
    browser.wait_text(&page, "the hub's answer", 5 * SECOND, |t| t.contains(&label(&words, "done", &[]))).await;
    browser.wait_text(&page, "its place", 5 * SECOND, |t| t.contains("You are number 1 on the list")).await;
    let handle = hub.session(SESSION).expect("session");
    let entry = handle_list(&handle).await;
    assert_eq!(entry, [("ghana".to_string(), Some("fr".to_string()))], "on the list, in French");
    // The display shows it: Ghana, remote, in French.
    let display = browser.open(&page_url(&hub, "display"), 1280, 720).await;
    browser
        .wait_text(&display, "Ghana on the display", 5 * SECOND, |t| t.contains("Ghana") && t.contains("French"))
        .await;

    // Its own entry may be withdrawn (asks first); a point of order asks first too.
    // The connection as it stands, and the two reports a remote delegate may make.
    browser.wait_text(&page, "its connection", 5 * SECOND, |t| t.contains("Your connection, now: unknown")).await;
    assert!(click(&mut browser, &page, "Connected").await, "a remote delegate reports its connection");
    browser.wait_text(&page, "connected", 5 * SECOND, |t| t.contains("Your connection, now: connected")).await;
    let withdraw = label(&words, "withdraw_entry", &[("n", "1")]);
    browser.wait_text(&page, "the withdrawal", 5 * SECOND, |t| t.contains(&withdraw)).await;
    let point = label(&words, "raise_point", &[]);
    assert!(click(&mut browser, &page, &point).await, "a point of order is offered");
    let open = browser.eval(&page, "document.getElementById('confirm').open").await;
    assert_eq!(open, serde_json::json!(true), "the page asks first");
    assert!(click(&mut browser, &page, "Cancel").await);
    assert!(handle_point(&handle).await.is_none(), "cancelled: nothing was sent");
    assert!(click(&mut browser, &page, &point).await);
    assert!(click(&mut browser, &page, "Yes").await);
    browser.wait_text(&page, "the point of order", 5 * SECOND, |t| t.contains("Point of order raised by Ghana")).await;
    let (by, point) = handle_point(&handle).await.expect("a point of order");
    assert_eq!(by, "ghana");
    let withdraw_point = label(&words, "withdraw_point", &[]);
    browser.wait_text(&page, "its withdrawal offered", 5 * SECOND, |t| t.contains(&withdraw_point)).await;
    assert!(click(&mut browser, &page, &withdraw_point).await);
    assert!(click(&mut browser, &page, "Yes").await);
    browser.wait_text(&page, "the point withdrawn", 5 * SECOND, |t| !t.contains("Point of order raised")).await;
    assert!(handle_point(&handle).await.is_none(), "point {point} withdrawn from the page");

    // A refusal is shown with the hub's reason: a language that is not one.
    let ghana_entry = session_state(&handle).await.segments[0].list[0].id;
    chair(&hub, Command::Withdraw { entry: ghana_entry }).await;
    // Off the list, and the hub's moves offer the request again (they follow the display frame).
    let refused = format!("{request} — Not possible now");
    browser
        .wait_text(&page, "the request offered again", 5 * SECOND, |t| {
            t.contains("not on the list") && !t.contains(&refused)
        })
        .await;
    browser.eval(&page, "document.getElementById('statement-language').value = 'other'; document.getElementById('statement-language').dispatchEvent(new Event('change')); const code = document.getElementById('statement-language-code'); code.value = 'xx'; code.dispatchEvent(new Event('input'));").await;
    assert!(click(&mut browser, &page, &request).await);
    browser
        .wait_text(&page, "the refusal", 5 * SECOND, |t| {
            t.contains("Refused: \"xx\" is not an ISO 639-1 language code")
        })
        .await;

    // The chair closes the list: the request is not offered, and the page says why.
    chair(&hub, Command::CloseList { segment: None }).await;
    let text = browser.wait_text(&page, "why not", 5 * SECOND, |t| t.contains(&refused)).await;
    let line = text.lines().find(|l| l.contains(&refused)).unwrap_or_default();
    assert!(line.contains("closed"), "{line}");
    assert!(!click(&mut browser, &page, &request).await, "no request button with the list closed");
    browser.screenshot(&page, &screenshots().join("speaker-delegate-list-closed-1280x720.png")).await;
    assert_nothing_overflows(&mut browser, &page, "the delegate's page").await;
    // On a phone: one column, nothing wider than the screen.
    browser.resize(&page, 390, 844).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let wide = browser
        .eval(&page, "[...document.querySelectorAll('button, select, .mine-text, legend')].filter(e => e.offsetParent && e.getBoundingClientRect().right > innerWidth + 1).map(e => e.textContent)")
        .await;
    assert_eq!(wide, serde_json::json!([]), "the delegate's page on a phone");
    browser.screenshot(&page, &screenshots().join("speaker-delegate-390x844.png")).await;
    // A language written as a browser writes it: "FR-ca" is French.
    let french = browser.open(&format!("{}&lang=FR-ca", page_url(&hub, "display")), 1280, 720).await;
    browser.wait_text(&french, "the French page", 5 * SECOND, |t| t.contains("Prochains orateurs")).await;
    hub.shutdown().await;
}

/// The open segment's speakers list as (participant, language), from a fresh subscription.
async fn handle_list(handle: &rostrum::hub::SessionHandle) -> Vec<(String, Option<String>)> {
    let state = session_state(handle).await;
    let current = state.current_segment.unwrap_or(0);
    state.segments[current].list.iter().map(|e| (e.participant.clone(), e.language.clone())).collect()
}

/// Who raised the pending point of order, and its id.
async fn handle_point(handle: &rostrum::hub::SessionHandle) -> Option<(String, u64)> {
    session_state(handle).await.point_of_order.map(|p| (p.by, p.id))
}

async fn session_state(handle: &rostrum::hub::SessionHandle) -> rostrum::domain::Session {
    let sub = handle.subscribe(None, None).await.expect("subscribes");
    let snapshot = sub.initial.last().expect("a snapshot").clone();
    let envelope: rostrum::protocol::Envelope = serde_json::from_str(snapshot.as_str()).expect("a frame");
    match envelope.frame {
        rostrum::protocol::ServerFrame::Snapshot { state, .. } => *state,
        other => panic!("not a snapshot: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speakers_timer_warns_with_a_tone_and_a_pulse_when_asked_and_shows_its_clock_offset() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    chair(&hub, inscribe("ghana")).await;
    let ghana = hub.tokens(SESSION).expect("tokens").delegates["ghana"].clone();
    let mut browser = Browser::start().await;
    let url = format!("http://{}/v1/sessions/{SESSION}/speaker?token={ghana}", hub.addr);
    let page = browser.open(&url, 1280, 720).await;
    browser.wait_text(&page, "the page", 5 * SECOND, |t| t.contains("You are number 1")).await;
    // Off by default; chosen once, remembered by the page.
    let boxes = browser
        .eval(&page, "[document.getElementById('alert-sound').checked, document.getElementById('alert-flash').checked]")
        .await;
    assert_eq!(boxes, serde_json::json!([false, false]));
    browser
        .eval(&page, "document.getElementById('alert-sound').click(); document.getElementById('alert-flash').click()")
        .await;
    let page = browser.open(&url, 1280, 720).await;
    browser.wait_text(&page, "the page again", 5 * SECOND, |t| t.contains("You are number 1")).await;
    let boxes = browser
        .eval(&page, "[document.getElementById('alert-sound').checked, document.getElementById('alert-flash').checked]")
        .await;
    assert_eq!(boxes, serde_json::json!([true, true]), "remembered");
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    browser.wait_text(&page, "its own floor", 2 * SECOND, |t| t.contains("You have the floor")).await;
    let alerted = "[document.getElementById('countdown').dataset.alerted || '', document.body.dataset.beeps || '0', document.getElementById('countdown').classList.contains('pulse')]";
    assert_eq!(browser.eval(&page, alerted).await, serde_json::json!(["", "0", false]), "no alert before the warning");
    chair(&hub, Command::Cut { turn: 4, secs: 160 }).await;
    browser.wait_text(&page, "the warning", 2 * SECOND, |t| t.contains("time almost up")).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(browser.eval(&page, alerted).await, serde_json::json!(["warning", "1", true]), "one tone and a pulse");
    chair(&hub, Command::Cut { turn: 4, secs: 30 }).await;
    browser.wait_text(&page, "the end", 2 * SECOND, |t| t.contains("OVERRUN")).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(browser.eval(&page, alerted).await, serde_json::json!(["end", "2", true]), "the end's tones");
    // The technician's corner: the offset measured by a ping, as the terminal clients measure it.
    let offset = browser.eval(&page, "document.getElementById('offset').textContent").await;
    assert!(offset.as_str().unwrap_or_default().starts_with("clock offset "), "{offset}");
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_never_lose_a_name_and_show_a_resumed_statements_part() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    let long = "Platform for International Cooperation on Undocumented Migrants, a network of organisations working to ensure social justice and human rights for undocumented migrants (PICUM)";
    let participant = rostrum::domain::Participant {
        id: "picum".into(),
        name: long.into(),
        short: Some("PICUM".into()),
        kind: rostrum::domain::ParticipantKind::Stakeholder,
        regional_group: None,
        region: None,
        constituency: Some(rostrum::domain::Constituency::CivilSociety),
        level: None,
        modality: rostrum::domain::Modality::Remote,
        recording_secs: None,
        members: Vec::new(),
        names: Default::default(),
    };
    chair(&hub, Command::RegisterParticipant { participant }).await;
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    chair(&hub, inscribe("picum")).await;
    chair(&hub, inscribe("peru")).await;
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    let mut browser = Browser::start().await;
    let page = browser.open(&page_url(&hub, "display"), 1280, 720).await;
    browser.wait_text(&page, "the long name", 5 * SECOND, |t| t.contains("PICUM")).await;
    for (w, h) in [(1280, 720), (1920, 1080)] {
        browser.resize(&page, w, h).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let shown = browser
            .eval(&page, "[document.getElementById('speaker').textContent, document.getElementById('speaker').title]")
            .await;
        // The whole name does not fit in three lines: the short name is used, the whole one kept in the tooltip.
        assert_eq!(shown, serde_json::json!(["PICUM", long]), "{w}x{h}");
    }
    assert_nothing_overflows(&mut browser, &page, "a long name").await;
    // Interrupted, then heard again: "part 2".
    chair(&hub, Command::SuspendTurn { turn: 5, places: None }).await;
    let back = Command::SetConnection { participant: "picum".into(), status: ConnectionStatus::Connected, from: None };
    chair(&hub, back).await;
    chair(&hub, Command::GiveFloor { entry: 6, budget: None }).await;
    browser.wait_text(&page, "part 2", 5 * SECOND, |t| t.contains("stakeholder intervention · remote · part 2")).await;
    hub.shutdown().await;
}

/// Issue 18: a public display whose hub goes away says so and greys its clock; it
/// never asks the room for a token (it used to, after two failed attempts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_display_waits_for_its_hub_without_asking_for_a_token() {
    let data = tempfile::tempdir().expect("temp dir");
    let (hub, file) = peru_speaking_in(data.path(), "observers_open = false", "observers_open = true").await;
    let addr = hub.addr;
    let mut browser = Browser::start().await;
    let page = browser.open(&format!("http://{addr}/v1/sessions/{SESSION}/display"), 1280, 720).await;
    browser.wait_text(&page, "the floor", 5 * SECOND, |t| t.contains("Peru") && t.contains("live")).await;
    hub.shutdown().await;
    browser.wait_text(&page, "the page to say the hub is away", 5 * SECOND, |t| t.contains("cannot be reached")).await;
    // Several attempts later: still waiting, clock greyed, no token asked for.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let shown = browser
        .eval(&page, "[document.getElementById('token-form').hidden, document.getElementById('countdown').className]")
        .await;
    assert_eq!(shown, serde_json::json!([true, "countdown stopped"]));
    browser.screenshot(&page, &screenshots().join("display-hub-away-1280x720.png")).await;
    let hub = Hub::start(&addr.to_string(), data.path(), &[file], Settings::default()).await.expect("restarts");
    browser
        .wait_text(&page, "the page to follow again", 5 * SECOND, |t| t.contains("live") && t.contains("Peru"))
        .await;
    let class = browser.eval(&page, "document.getElementById('countdown').className").await;
    assert_ne!(class, serde_json::json!("countdown stopped"), "the clock runs again");
    hub.shutdown().await;
}
