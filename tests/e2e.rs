//! End to end: the `rostrum chair` binary in tmux, driven by keys, read from the pane.
//! Polls the pane until the expected text appears (never a bare sleep).

mod common;

use std::path::Path;

use common::tmux::Pane;
use rostrum::domain::EventKind;

/// `m:ss` used on the floor line, e.g. "used 0:03 of 3:00".
fn used_seconds(pane: &str) -> Option<u64> {
    let at = pane.find("used ")?;
    let rest = &pane[at + 5..];
    let (m, rest) = rest.split_once(':')?;
    let s = rest.get(..2)?;
    Some(m.trim().parse::<u64>().ok()? * 60 + s.parse::<u64>().ok()?)
}

#[test]
fn a_chair_inscribes_gives_the_floor_ends_the_turn_and_the_journal_holds_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let command = format!(
        "{} chair {} --data {}; echo EXITED $?; sleep 30",
        env!("CARGO_BIN_EXE_rostrum"),
        root.join("config/imrf-2022-roundtable-1.toml").display(),
        data.path().display()
    );
    let tmux = Pane::start(&format!("rostrum-e2e-{}", std::process::id()), &command);
    tmux.wait_for("● hub");
    // A new session shows its join URLs once, without the chair's own.
    let pane = tmux.wait_for("Join URLs");
    assert!(pane.contains("rapporteur") && !pane.contains("chair      ws://"), "{pane}");
    tmux.keys(&["Escape"]);
    // Escape then another key at once would read as Alt+key: wait for the panel to close.
    tmux.wait("the join panel to close", |p| !p.contains("Join URLs"));

    // Open the first segment: it asks first.
    tmux.keys(&["]"]);
    tmux.wait_for("Open \"Opening remarks\"?");
    tmux.keys(&["y"]);
    tmux.wait_for("✓ open \"Opening remarks\"");

    // Inscribe three speakers by typing part of their names.
    for (typed, name) in [("mexi", "Mexico"), ("kenya", "Kenya"), ("philip", "Philippines")] {
        tmux.keys(&["i"]);
        tmux.wait_for("Inscribe a speaker");
        tmux.text(typed);
        tmux.wait(name, |pane| pane.lines().any(|l| l.contains(&format!("│{name} "))));
        tmux.keys(&["Enter"]);
        tmux.wait_for(&format!("✓ inscribe {name}"));
    }
    let pane = tmux.wait_for("Speakers: 4");
    for name in ["Mexico", "Kenya", "Philippines"] {
        assert!(pane.contains(name), "{name} is on the list:\n{pane}");
    }

    // The last inscription is selected and its place said.
    tmux.wait_for("✓ inscribe Philippines: #4 of 4 on the list");
    // Select Mexico (second on the list, after the pre-inscribed IOM) and give it the
    // floor: out of the rules' order, so it asks first.
    tmux.keys(&["g"]);
    tmux.keys(&["Down"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("out of order?");
    tmux.keys(&["y"]);
    tmux.wait_for("✓ floor to Mexico");
    // The countdown runs: the floor line reads the time used, and it advances.
    let first = used_seconds(&tmux.wait_for("used ")).expect("a clock on the pane");
    let pane = tmux.wait("the clock to advance", |pane| used_seconds(pane).is_some_and(|s| s >= first + 2));
    assert!(pane.contains("of 3:00"), "a national statement has 3 minutes:\n{pane}");
    assert!(pane.contains(" left"), "{pane}");

    // Ending with most of the time left asks first.
    tmux.keys(&["e"]);
    tmux.wait_for("Mexico still has");
    tmux.keys(&["y"]);
    tmux.wait_for("✓ end the turn");
    tmux.wait_for("recent: Mexico 0:0");

    tmux.keys(&["q"]);
    let pane = tmux.wait_for("EXITED");
    assert!(pane.contains("EXITED 0"), "{pane}");
    assert!(pane.contains("The session's hub has stopped. Its join URLs (the same next time"), "{pane}");
    assert!(pane.contains("imrf-2022-roundtable-1/tokens.toml"), "the delegates' tokens file is named: {pane}");
    assert!(pane.contains("rapporteur  Ana Ruiz: ws://"), "a person's own URL, as the join panel shows it: {pane}");

    // The journal holds those events, in order, and its chain verifies.
    let journal = data.path().join("imrf-2022-roundtable-1/journal.jsonl");
    let contents = rostrum::journal::read_file(&journal).expect("journal verifies");
    let kinds: Vec<String> = contents
        .events
        .iter()
        .map(|e| match &e.event {
            EventKind::SegmentOpened { .. } => "opened".to_string(),
            EventKind::Inscribed { entry, .. } => format!("inscribed {}", entry.participant),
            EventKind::FloorGiven { turn } => format!("floor {}", turn.entry.participant),
            EventKind::TurnEnded { used_ms, .. } => format!("ended after {}s", used_ms / 1000),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(&kinds[..5], ["opened", "inscribed mexico", "inscribed kenya", "inscribed philippines", "floor mexico"]);
    assert!(kinds[5].starts_with("ended after"), "{kinds:?}");
    assert_eq!(kinds.len(), 6);
    let EventKind::TurnEnded { used_ms, .. } = contents.events[5].event else { unreachable!() };
    assert!(used_ms >= 2_000, "the turn lasted at least the 2 s the pane showed");
}

/// The rapporteur's URL from the embedded hub's data directory.
fn rapporteur_url(data: &Path) -> String {
    let dir = data.join("imrf-2022-roundtable-1");
    let address = std::fs::read_to_string(dir.join("address")).expect("the hub keeps its address");
    let tokens: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("tokens.toml")).expect("tokens")).expect("tokens parse");
    let token = tokens.get("rapporteur").and_then(|t| t.as_str()).expect("a rapporteur token");
    format!("ws://{}/v1/sessions/imrf-2022-roundtable-1?token={token}", address.trim())
}

#[test]
fn the_hub_comes_back_on_its_address_and_a_rapporteur_follows_again() {
    let data = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chair_command = format!(
        "{} chair {} --data {}; echo EXITED $?; sleep 30",
        env!("CARGO_BIN_EXE_rostrum"),
        root.join("config/imrf-2022-roundtable-1.toml").display(),
        data.path().display()
    );
    let id = std::process::id();
    let chair = Pane::start(&format!("rostrum-e2e-chair-{id}"), &chair_command);
    chair.wait_for("● hub");
    chair.wait_for("Join URLs");
    chair.keys(&["Escape"]);
    chair.wait("the join panel to close", |p| !p.contains("Join URLs"));
    let url = rapporteur_url(data.path());
    let rapporteur_command = format!(
        "{} rapporteur '{url}' --name Ana --outbox {}; echo EXITED $?; sleep 30",
        env!("CARGO_BIN_EXE_rostrum"),
        data.path().join("outbox.jsonl").display()
    );
    let rapporteur = Pane::start(&format!("rostrum-e2e-rapporteur-{id}"), &rapporteur_command);
    rapporteur.wait_for("● hub");

    // A wrong token ends the screen at once, with the hub's reason and a non-zero exit.
    let wrong = url.split("token=").next().map(|base| format!("{base}token=not-a-token")).expect("url");
    let refused = Pane::start(
        &format!("rostrum-e2e-refused-{id}"),
        &format!(
            "{} rapporteur '{wrong}' --outbox {}; echo EXITED $?; sleep 30",
            env!("CARGO_BIN_EXE_rostrum"),
            data.path().join("o2.jsonl").display()
        ),
    );
    let pane = refused.wait_for("EXITED");
    assert!(pane.contains("EXITED 1"), "{pane}");
    assert!(pane.contains("the hub refused this screen") && pane.contains("401"), "{pane}");

    // Quitting with the rapporteur connected asks, and says it will be cut off.
    chair.wait_for("1 other");
    chair.keys(&["q"]);
    chair.wait_for("1 other connection on this hub");
    chair.keys(&["y"]);
    chair.wait_for("EXITED 0");
    rapporteur.wait_for("RECONNECTING");

    // The chair starts again: same address, without the join panel, and the rapporteur follows within 5 s.
    let address = std::fs::read_to_string(data.path().join("imrf-2022-roundtable-1/address")).expect("address");
    let chair = Pane::start(&format!("rostrum-e2e-chair2-{id}"), &chair_command);
    chair.wait_for("● hub");
    let again = std::fs::read_to_string(data.path().join("imrf-2022-roundtable-1/address")).expect("address");
    assert_eq!(address, again, "the hub listens where it did");
    assert!(!chair.pane().contains("Join URLs"), "the join panel opens by itself only the first time");
    rapporteur.wait_within(std::time::Duration::from_secs(5), "the rapporteur to follow again", |p| {
        p.contains("● hub") && !p.contains("RECONNECTING")
    });
    // Nothing missed: what the chair does now reaches it.
    chair.keys(&["]"]);
    chair.wait_for("Open \"Opening remarks\"?");
    chair.keys(&["y"]);
    chair.wait_for("✓ open \"Opening remarks\"");
    rapporteur.wait_for("Opening remarks");
}

#[test]
fn a_delegate_inscribes_is_given_the_floor_sees_its_countdown_and_raises_a_point_of_order() {
    let data = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let id = std::process::id();
    let chair = Pane::start(
        &format!("rostrum-e2e-dchair-{id}"),
        &format!(
            "{} chair {} --data {}; echo EXITED $?; sleep 30",
            env!("CARGO_BIN_EXE_rostrum"),
            root.join("config/imrf-2022-roundtable-1.toml").display(),
            data.path().display()
        ),
    );
    chair.wait_for("Join URLs");
    chair.keys(&["Escape"]);
    chair.wait("the join panel to close", |p| !p.contains("Join URLs"));
    chair.keys(&["]"]);
    chair.wait_for("Open \"Opening remarks\"?");
    chair.keys(&["y"]);
    chair.wait_for("✓ open \"Opening remarks\"");

    // Mexico's delegate, with its own token.
    let dir = data.path().join("imrf-2022-roundtable-1");
    let address = std::fs::read_to_string(dir.join("address")).expect("address");
    let tokens: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("tokens.toml")).expect("tokens")).expect("toml");
    let token = tokens["delegates"]["mexico"].as_str().expect("Mexico's token");
    let delegate = Pane::start(
        &format!("rostrum-e2e-delegate-{id}"),
        &format!(
            "{} delegate ws://{}/v1/sessions/imrf-2022-roundtable-1 --token {token}; echo EXITED $?; sleep 30",
            env!("CARGO_BIN_EXE_rostrum"),
            address.trim()
        ),
    );
    delegate.wait_for("● hub");
    delegate.wait_for("i inscribe");
    delegate.keys(&["i"]);
    delegate.wait_for("national statement");
    delegate.keys(&["1"]);
    delegate.wait_for("✓ inscribe Mexico");
    delegate.wait_for("position 2");

    // The chair gives Mexico the floor: the delegate sees its own countdown.
    chair.wait_for("Mexico");
    chair.keys(&["g"]);
    chair.keys(&["Down"]);
    chair.keys(&["Enter"]);
    chair.wait_for("out of order?");
    chair.keys(&["y"]);
    chair.wait_for("✓ floor to Mexico");
    delegate.wait("its own countdown", |p| p.contains("YOU HAVE THE FLOOR") && p.contains(" left"));

    // Thank you, next: IOM speaks; Mexico raises a point of order during IOM's statement.
    chair.keys(&["n"]);
    chair.wait_for("✓ floor to International Organization for Migration");
    delegate.wait("IOM on the floor", |p| p.contains("IOM") && !p.contains("YOU HAVE THE FLOOR"));
    // A point of order asks first.
    delegate.keys(&["o"]);
    delegate.wait_for("Raise a point of order?");
    delegate.keys(&["y"]);
    delegate.wait_for("✓ point of order");
    chair.wait_for("POINT OF ORDER: Mexico");
    delegate.keys(&["q"]);
    delegate.wait_for("EXITED 0");
}

/// Two people at the chair, each with their own credential: the co-chair is not
/// offered the other's undo, its `u` changes nothing and says whose action it is,
/// and the journal, the replay and the report name each person.
#[test]
fn two_chairs_with_their_own_credentials_undo_only_their_own_and_the_record_names_each() {
    let data = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let id = std::process::id();
    let bin = env!("CARGO_BIN_EXE_rostrum");
    // The first chair runs the hub, as the session file's first co-chair.
    let amara = Pane::start_sized(
        &format!("rostrum-e2e-amara-{id}"),
        &format!(
            "{bin} chair {} --data {} --as amara-diallo-mensah; echo EXITED $?; sleep 30",
            root.join("config/imrf-2022-roundtable-1.toml").display(),
            data.path().display()
        ),
        160,
        40,
    );
    amara.wait_for("Join URLs");
    amara.keys(&["Escape"]);
    amara.wait("the join panel to close", |p| !p.contains("Join URLs"));
    // The co-chair joins from elsewhere with the token the session file gave him.
    let dir = data.path().join("imrf-2022-roundtable-1");
    let address = std::fs::read_to_string(dir.join("address")).expect("address");
    let tokens: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("tokens.toml")).expect("tokens")).expect("toml");
    let token = tokens["people"]["henrik-solberg-lund"].as_str().expect("Henrik's own token");
    let henrik = Pane::start_sized(
        &format!("rostrum-e2e-henrik-{id}"),
        &format!(
            "{bin} chair ws://{}/v1/sessions/imrf-2022-roundtable-1 --token {token}; echo EXITED $?; sleep 30",
            address.trim()
        ),
        160,
        40,
    );
    henrik.wait_for("● hub");

    amara.keys(&["]"]);
    amara.wait_for("Open \"Opening remarks\"?");
    amara.keys(&["y"]);
    amara.wait_for("✓ open \"Opening remarks\"");
    // The co-chair is told who did it.
    henrik.wait_for("Amara Diallo-Mensah: the opening of \"Opening remarks\"");
    amara.keys(&["i"]);
    amara.wait_for("Inscribe a speaker");
    amara.text("mexi");
    amara.wait("Mexico", |pane| pane.lines().any(|l| l.contains("│Mexico ")));
    amara.keys(&["Enter"]);
    amara.wait_for("✓ inscribe Mexico");
    // Thank you, next: the floor to IOM, by Amara.
    amara.keys(&["n"]);
    amara.wait_for("✓ floor to International Organization for Migration");
    let footer = |pane: &str| pane.lines().rev().find(|l| l.contains("? help")).unwrap_or_default().to_string();
    let pane = amara.wait("Amara's undo offered", |p| footer(p).contains("u undo"));
    assert!(footer(&pane).contains("u undo"), "{pane}");
    // Henrik sees the floor, and is not offered Amara's undo.
    let pane = henrik.wait("the floor on the co-chair's screen", |p| {
        p.contains("Amara Diallo-Mensah: the floor given to International Organization")
    });
    assert!(!footer(&pane).contains("undo"), "the co-chair is not offered the other's undo:\n{pane}");
    // His u changes nothing, and says whose action it is.
    henrik.keys(&["u"]);
    henrik.wait_for("was Amara Diallo-Mensah's action: only Amara Diallo-Mensah may undo it");
    // Henrik gives the next floor: then Amara is the one not offered undo.
    henrik.keys(&["n"]);
    henrik.wait_for("✓ floor to Mexico");
    let pane = amara.wait("Henrik's action on Amara's screen", |p| {
        p.contains("Henrik Solberg-Lund: \"next\" (the floor back to International Organization")
    });
    assert!(!footer(&pane).contains("undo"), "{pane}");
    amara.keys(&["u"]);
    amara.wait_for("was Henrik Solberg-Lund's action");
    // Henrik's own undo works: IOM has the floor again.
    henrik.keys(&["u"]);
    henrik.wait_for("✓ undo \"next\"");
    // A turn runs: quitting asks, on either screen.
    henrik.keys(&["q"]);
    henrik.wait_for("Quit?");
    henrik.keys(&["y"]);
    henrik.wait_for("EXITED 0");
    amara.keys(&["q"]);
    amara.wait_for("Quit?");
    amara.keys(&["y"]);
    amara.wait_for("EXITED 0");

    // The journal names each person, from their credentials.
    let journal = dir.join("journal.jsonl");
    let contents = rostrum::journal::read_file(&journal).expect("journal verifies");
    let by: Vec<(String, Option<String>, String)> = contents
        .events
        .iter()
        .map(|e| {
            let what = match &e.event {
                EventKind::SegmentOpened { .. } => "opened".to_string(),
                EventKind::Inscribed { entry, .. } => format!("inscribed {}", entry.participant),
                EventKind::FloorGiven { turn } => format!("floor {}", turn.entry.participant),
                EventKind::TurnEnded { .. } => "ended".to_string(),
                EventKind::FloorRevoked { .. } => "revoked".to_string(),
                other => format!("{other:?}"),
            };
            (e.actor.name.clone(), e.actor.person.clone(), what)
        })
        .collect();
    let a = || ("Amara Diallo-Mensah".to_string(), Some("amara-diallo-mensah".to_string()));
    let h = || ("Henrik Solberg-Lund".to_string(), Some("henrik-solberg-lund".to_string()));
    let expected: Vec<(String, Option<String>, String)> = [
        (a(), "opened"),
        (a(), "inscribed mexico"),
        (a(), "floor iom"),
        (h(), "ended"),
        (h(), "floor mexico"),
        (h(), "revoked"),
    ]
    .into_iter()
    .map(|((name, person), what)| (name, person, what.to_string()))
    .collect();
    assert_eq!(by, expected);
    assert_eq!(contents.events[5].undoes, Some(5), "Henrik's undo of his own \"next\"");

    // The report names who was at the chair, and who gave each floor.
    let out = std::process::Command::new(bin).args(["report"]).arg(&journal).output().expect("report runs");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("- Amara Diallo-Mensah (own credential): 3 actions, gave the floor 1 time"), "{md}");
    assert!(md.contains("- Henrik Solberg-Lund (own credential): 3 actions, gave the floor 1 time, 1 undone"), "{md}");
    // The replay's event list names them too.
    let replay = Pane::start_sized(
        &format!("rostrum-e2e-replay2-{id}"),
        &format!("{bin} replay {}; echo EXITED $?; sleep 30", journal.display()),
        200,
        50,
    );
    replay.keys(&["G"]);
    let pane = replay
        .wait("the replay at the end", |p| p.contains("Henrik Solberg-Lund") && p.contains("Amara Diallo-Mensah"));
    assert!(pane.contains("Henrik Solberg-Lund"), "{pane}");
}

/// The turn a `give-floor` made, from its events.
async fn floor(conn: &mut rostrum::client::Connection, entry: u64) -> u64 {
    match common::command(conn, rostrum::domain::Command::GiveFloor { entry, budget: None }).await {
        common::Outcome::Accepted { events, .. } => events
            .iter()
            .find_map(|e| match &e.event {
                EventKind::FloorGiven { turn } => Some(turn.id),
                _ => None,
            })
            .expect("the floor given"),
        common::Outcome::Rejected { reason, .. } => panic!("refused: {reason}"),
    }
}

#[test]
fn the_forums_console_follows_two_sessions_raises_an_overrun_and_opens_one_as_chair() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    let data = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    // The hub's clock is the wall clock, until the test moves it on.
    let ahead = Arc::new(AtomicI64::new(0));
    let clock = {
        let ahead = ahead.clone();
        rostrum::hub::Clock::new(move || chrono::Utc::now() + chrono::Duration::seconds(ahead.load(Ordering::SeqCst)))
    };
    let files = [root.join("config/imrf-2022-roundtable-1.toml"), root.join("config/imrf-2022-hearing.toml")];
    let settings = rostrum::hub::Settings { clock, ..Default::default() };
    let hub = runtime.block_on(rostrum::hub::Hub::start("127.0.0.1:0", data.path(), &files, settings)).expect("hub");
    let chair_of = |session: &str| {
        let url = format!("ws://{}/v1/sessions/{session}", hub.addr);
        let token = hub.tokens(session).expect("session").chair;
        async move {
            let mut conn = rostrum::client::Connection::connect(&url, Some(&token), None).await.expect("connects");
            common::handshake(&mut conn).await;
            conn
        }
    };
    let open = |segment: &str| rostrum::domain::Command::OpenSegment { segment: segment.into() };
    // Through the protocol: each session opens and a speaker has the floor (IOM in the
    // roundtable, the Global Coalition on Migration in the hearing).
    let (roundtable, mut hearing, hearing_turn) = runtime.block_on(async {
        let mut roundtable = chair_of("imrf-2022-roundtable-1").await;
        common::accepted(&mut roundtable, open("opening")).await;
        floor(&mut roundtable, 1).await;
        let mut hearing = chair_of("imrf-2022-hearing").await;
        common::accepted(&mut hearing, open("opening")).await;
        let turn = floor(&mut hearing, 2).await;
        (roundtable, hearing, turn)
    });

    let command = format!("{} forum '{}'; echo EXITED $?; sleep 30", env!("CARGO_BIN_EXE_rostrum"), hub.forum_url());
    let console = Pane::start(&format!("rostrum-e2e-forum-{}", std::process::id()), &command);
    // Both speakers, each with their clock.
    let pane = console.wait("both speakers with their clocks", |p| {
        p.lines().any(|l| l.contains("left of 3:00 · International Organization for Migration"))
            && p.lines().any(|l| l.contains("left of 3:00 · Global Coalition on Migration"))
    });
    assert!(pane.contains("segment 1 of 4: Opening remarks"), "{pane}");
    assert!(pane.contains("segment 1 of 4: Opening of the hearing"), "{pane}");
    assert!(!pane.contains("ALERT"), "no alert yet:\n{pane}");

    // The hearing's clock paused; four minutes and more pass: the roundtable's speaker
    // is over by more than a minute, and that alert is raised, only there.
    runtime.block_on(common::accepted(&mut hearing, rostrum::domain::Command::Pause { turn: hearing_turn }));
    console.wait_for("paused, ");
    ahead.store(250, Ordering::SeqCst);
    let pane = console.wait_for("OVERRUN +1:");
    assert!(pane.contains("1 ALERT"), "{pane}");
    let overrun = pane.lines().position(|l| l.contains("OVERRUN +1:")).expect("the alert's row");
    let roundtable_row = pane.lines().position(|l| l.contains("IMRF 2022, Roundtable 1")).expect("the roundtable");
    let hearing_row = pane.lines().position(|l| l.contains("informal multi-stakeholder hearing")).expect("the hearing");
    assert!(roundtable_row < overrun && overrun < hearing_row, "the alert is the roundtable's:\n{pane}");

    // Enter opens the roundtable as its chair (the secretariat); Esc comes back.
    console.keys(&["Enter"]);
    // The chair's screen says how to go back at once, and shows the session once its
    // snapshot is in: wait for both, not the first.
    let pane = console.wait("the chair's screen with the session", |p| {
        p.contains("Esc goes back to the forum's console") && p.contains("Speakers") && p.contains("Opening remarks")
    });
    assert!(pane.contains("Opening remarks"), "the chair's screen:\n{pane}");
    console.keys(&["Escape"]);
    let pane = console.wait_for("back from IMRF 2022, Roundtable 1");
    assert!(pane.contains("Forum: 2 sessions") && pane.contains("OVERRUN +1:"), "{pane}");
    console.keys(&["q"]);
    assert!(console.wait_for("EXITED").contains("EXITED 0"));

    runtime.block_on(async {
        roundtable.close().await;
        hearing.close().await;
        hub.shutdown().await;
    });
}
