//! Replay: the shipped sample log comes from a real scripted session; replaying it
//! ends where the hub ended; the screen replays it in tmux.

mod common;

use std::path::Path;

use common::script::{Scripted, scripted};
use common::tmux::Pane;
use rostrum::replay::Player;

const SAMPLE: &str = "tests/data/sample-session.jsonl";

fn sample() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE)
}

#[tokio::test]
async fn the_shipped_sample_is_what_its_script_produces() {
    let data = tempfile::tempdir().expect("temp dir");
    let made = std::fs::read(scripted(data.path()).await).expect("journal");
    if std::env::var_os("ROSTRUM_WRITE_SAMPLE").is_some() {
        std::fs::write(sample(), &made).expect("write the sample");
    }
    let shipped = std::fs::read(sample()).expect("the sample is shipped");
    assert!(
        made == shipped,
        "tests/data/sample-session.jsonl differs from what the script makes now; \
        regenerate it with ROSTRUM_WRITE_SAMPLE=1 cargo test --test replay"
    );
}

#[tokio::test]
async fn replaying_a_scripted_session_ends_in_the_hubs_final_state() {
    let data = tempfile::tempdir().expect("temp dir");
    let s = Scripted::start(data.path(), &common::session_file()).await;
    let chair = rostrum::domain::Actor::chair("chair");
    s.at(0, &chair, rostrum::domain::Command::OpenSegment { segment: "general".into() }).await;
    for (i, p) in ["chile", "peru", "ghana", "ngo-a", "holy-see"].iter().enumerate() {
        s.at(10 + i as i64, &chair, common::inscribe(p)).await;
    }
    let peru = s.entry(0, "peru").await;
    s.at(30, &chair, rostrum::domain::Command::GiveFloor { entry: peru, budget: None }).await;
    let turn = s.turn().await;
    s.at(100, &chair, rostrum::domain::Command::Pause { turn }).await;
    s.at(130, &chair, rostrum::domain::Command::Resume { turn }).await;
    let hub_state = s.state().await;
    s.stop().await;
    let player = Player::open(&data.path().join("test-session/journal.jsonl"), true).expect("opens");
    assert_eq!(player.state_at(player.len()), hub_state);
}

#[test]
fn a_log_with_a_broken_chain_is_refused_unless_no_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("edited.jsonl");
    let text = std::fs::read_to_string(sample()).expect("sample");
    std::fs::write(&path, text.replacen("\"used_ms\":210000", "\"used_ms\":110000", 1)).expect("edit");
    let err = Player::open(&path, true).err().expect("refused");
    assert!(err.contains("hash chain broken"), "{err}");
    assert!(err.contains(": line "), "names the line: {err}");
    let player = Player::open(&path, false).expect("opens unverified");
    assert!(!player.verified);

    // A torn tail (a crash mid-write) opens, and says so.
    let torn = dir.path().join("torn.jsonl");
    std::fs::write(&torn, format!("{text}{{\"seq\":99,\"at\"")).expect("write");
    let player = Player::open(&torn, true).expect("opens");
    assert!(player.torn.is_some());
}

#[test]
fn the_replay_screen_plays_steps_and_seeks_the_sample() {
    let name = format!("rostrum-replay-{}", std::process::id());
    let command = format!("{} replay {}; echo EXITED $?; sleep 30", env!("CARGO_BIN_EXE_rostrum"), sample().display());
    let pane = Pane::start(&name, &command);
    pane.wait_for("REPLAY");
    pane.wait_for("10:00:00");

    // Step to the first turn: Peru at 10:01:00.
    pane.keys(&["]"]);
    pane.wait("10:01:00 with Peru on the floor", |s| {
        s.contains("10:01:00") && s.contains("Peru") && s.contains("used 0:00 of 3:00")
    });
    // One event forward: the rapporteur's note at 10:02:00, Peru 60 s in.
    pane.keys(&["Right"]);
    // Wait for the whole redraw, not only its first line (tmux may show a frame half drawn).
    pane.wait("10:02:00 with Peru 60 s in", |s| s.contains("10:02:00") && s.contains("used 1:00 of 3:00"));
    // Seek to 10:06:10: Chile has the floor, stopped by France's point of order at 60 s.
    pane.keys(&["t"]);
    pane.text("10:06:10");
    pane.keys(&["Enter"]);
    pane.wait("10:06:10 with Chile stopped by France's point of order", |s| {
        s.contains("10:06:10")
            && s.contains("Chile")
            && s.contains("POINT OF ORDER: France")
            && s.contains("used 1:00 of 3:00")
    });
    // Play at 60x from there: the clock on screen advances.
    for _ in 0..5 {
        pane.keys(&[">"]);
    }
    pane.keys(&["Space"]);
    pane.wait_for("60x ▶");
    pane.wait_for("10:07");
    pane.keys(&["q"]);
    pane.wait_for("EXITED 0");
}

#[tokio::test]
async fn a_follower_reads_what_the_hub_appends_and_refuses_an_edited_journal() {
    use rostrum::domain::{Actor, Command};
    let data = tempfile::tempdir().expect("temp dir");
    let s = Scripted::start(data.path(), &common::session_file()).await;
    let chair = Actor::chair("chair");
    s.at(0, &chair, Command::OpenSegment { segment: "general".into() }).await;
    let path = data.path().join("test-session/journal.jsonl");
    let contents = rostrum::journal::read_file(&path).expect("reads");
    let mut follower = rostrum::journal::Follower::after(&path, &contents);
    assert!(follower.poll().expect("polls").is_empty(), "nothing new yet");
    let mut player = Player::new(contents, true).expect("player");
    let inscribe = common::inscribe;
    s.at(5, &chair, inscribe("peru")).await;
    s.at(6, &chair, inscribe("chile")).await;
    let new = follower.poll().expect("polls");
    assert_eq!(new.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
    player.extend(new);
    assert_eq!(player.state_at(player.len()), s.state().await, "the followed replay is the hub's state");
    // A half-written line waits; an edited one stops the follower with its line.
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    std::io::Write::write_all(&mut file, b"{\"seq\":4,").expect("write");
    assert!(follower.poll().expect("a torn tail waits").is_empty());
    s.stop().await;
    let text = std::fs::read_to_string(&path).expect("journal");
    let edited = text.trim_end_matches("{\"seq\":4,").to_string() + "{\"seq\":4}\n";
    std::fs::write(&path, edited).expect("edit");
    let err = follower.poll().expect_err("not a sealed line");
    assert!(err.to_string().starts_with("line 5:"), "{err}");
}

/// `replay --follow` opens the journal as any replay does (keeping no events)
/// and follows it from the end of what it read.
#[tokio::test]
async fn a_replay_opened_from_the_file_follows_it_from_where_it_ends() {
    use rostrum::domain::{Actor, Command};
    let data = tempfile::tempdir().expect("temp dir");
    let s = Scripted::start(data.path(), &common::session_file()).await;
    let chair = Actor::chair("chair");
    s.at(0, &chair, Command::OpenSegment { segment: "general".into() }).await;
    s.at(1, &chair, common::inscribe("peru")).await;
    let path = data.path().join("test-session/journal.jsonl");
    let mut player = Player::open_live(&path).expect("opens");
    let end = player.end_of_file().expect("a verified journal's end");
    let mut follower = rostrum::journal::Follower::at(&path, end, player.len());
    assert!(follower.poll().expect("polls").is_empty(), "nothing new yet");
    s.at(5, &chair, common::inscribe("chile")).await;
    let new = follower.poll().expect("polls");
    assert_eq!(new.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
    player.extend(new);
    assert_eq!(player.end_of_file(), None, "extended: its end is the follower's now");
    assert_eq!(player.state_at(player.len()), s.state().await, "the followed replay is the hub's state");
    assert_eq!(player.events_between(0, 3).len(), 3, "read again from the file, and the one appended");
    s.stop().await;
}

#[tokio::test]
async fn replay_follow_shows_new_events_live_in_the_terminal() {
    use rostrum::domain::{Actor, Command};
    let data = tempfile::tempdir().expect("temp dir");
    let s = Scripted::start(data.path(), &common::session_file()).await;
    let chair = Actor::chair("chair");
    s.at(0, &chair, Command::OpenSegment { segment: "general".into() }).await;
    let path = data.path().join("test-session/journal.jsonl");
    let pane = Pane::start(
        &format!("rostrum-follow-{}", std::process::id()),
        &format!("{} replay --follow {}; sleep 30", env!("CARGO_BIN_EXE_rostrum"), path.display()),
    );
    pane.wait_for("LIVE (following the journal)");
    // Not "1x ⏸": the clock runs with the session.
    pane.wait_for("as it happens · event 1/1");
    s.at(5, &chair, Command::inscribe("peru")).await;
    pane.wait("Peru on the followed list", |p| p.contains("Speakers: 1") && p.contains("Peru"));
    let peru = s.entry(0, "peru").await;
    s.at(6, &chair, Command::GiveFloor { entry: peru, budget: None }).await;
    pane.wait("Peru on the floor", |p| p.contains("national statement") && p.contains("Peru"));
    pane.keys(&["q"]);
    s.stop().await;
}

/// A participant registered later, and an entry that has since spoken, read by
/// name at every position of the replay, not by id.
#[tokio::test]
async fn event_lines_name_participants_the_same_at_every_position() {
    use rostrum::domain::{Actor, Command};
    use rostrum::tui::replay::view::describe_event;
    let data = tempfile::tempdir().expect("temp dir");
    let s = Scripted::start(data.path(), &common::session_file()).await;
    let chair = Actor::chair("chair");
    let inscribe = common::inscribe;
    s.at(0, &chair, Command::OpenSegment { segment: "general".into() }).await;
    s.at(1, &chair, inscribe("chile")).await;
    s.at(2, &chair, inscribe("ghana")).await;
    let chile = s.entry(0, "chile").await;
    s.at(3, &chair, Command::Defer { entry: chile, places: Some(1), to_end: false }).await;
    let participant: rostrum::domain::Participant =
        serde_json::from_str(r#"{"id":"atlantis","name":"Atlantis Federation","kind":"igo","modality":"remote"}"#)
            .expect("participant");
    s.at(4, &chair, Command::RegisterParticipant { participant }).await;
    s.at(5, &chair, inscribe("atlantis")).await;
    // Chile speaks: its entry leaves the list.
    s.at(6, &chair, Command::GiveFloor { entry: chile, budget: None }).await;
    s.stop().await;
    let player = Player::open(&data.path().join("test-session/journal.jsonl"), true).expect("opens");
    let lines: Vec<String> =
        player.events_between(0, player.len()).iter().map(|e| describe_event(&player, e)).collect();
    assert!(lines.contains(&"defers Chile".to_string()), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("inscribes Atlantis Federation")), "{lines:?}");
}

/// The replay shows a statement's language as the chair's screen does: on the
/// floor, in the list's column, and in the event's line.
#[tokio::test]
async fn the_replay_shows_the_language_of_each_statement() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::{Terminal, backend::TestBackend};
    use rostrum::domain::{Actor, Command};
    use rostrum::tui::replay::view::describe_event;
    let data = tempfile::tempdir().expect("temp dir");
    let s = Scripted::start(data.path(), &common::session_file()).await;
    let chair = Actor::chair("chair");
    let inscribe_in = |p: &str, language: &str| Command::inscribe_in(p, language);
    s.at(0, &chair, Command::OpenSegment { segment: "general".into() }).await;
    s.at(1, &chair, inscribe_in("peru", "ES")).await;
    s.at(2, &chair, inscribe_in("chile", "fr")).await;
    let peru = s.entry(0, "peru").await;
    s.at(3, &chair, Command::GiveFloor { entry: peru, budget: None }).await;
    s.stop().await;
    let player = Player::open(&data.path().join("test-session/journal.jsonl"), true).expect("opens");
    let lines: Vec<String> =
        player.events_between(0, player.len()).iter().map(|e| describe_event(&player, e)).collect();
    assert!(lines.contains(&"inscribes Peru (national statement, in Spanish)".to_string()), "{lines:?}");
    let keymap = rostrum::tui::keymap::Keymap::from_texts(None, rostrum::tui::keymap::Screen::Replay).expect("keys");
    let mut app = rostrum::tui::replay::ReplayApp::new(player, keymap, chrono::Utc::now());
    // To the first turn: Peru on the floor.
    let key = KeyEvent::new(KeyCode::Char(']'), KeyModifiers::NONE);
    rostrum::tui::replay::update(&mut app, rostrum::tui::live::Msg::Key(key));
    for (w, h) in [(80, 24), (120, 40), (200, 50)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        terminal.draw(|frame| rostrum::tui::replay::view::render(&app, frame)).expect("draws");
        let screen = terminal.backend().to_string();
        assert!(screen.contains("Peru · in Spanish"), "{w}x{h}: the floor says it:\n{screen}");
        let chile = screen.lines().find(|l| l.contains("Chile") && l.contains("national")).expect("Chile is listed");
        assert!(chile.contains(" FR "), "{w}x{h}: the list says it: {chile}");
    }
}

/// A synthetic session of `n` events (inscriptions, turns, notes) with the checkpoint
/// the hub would write beside it after event `at`.
fn with_checkpoint(dir: &Path, n: usize, at: usize) -> (std::path::PathBuf, Vec<rostrum::domain::Event>) {
    use rostrum::journal;
    let path = rostrum::bench::synthetic_journal(dir, n).expect("journal");
    let contents = journal::read_file(&path).expect("reads");
    let def = rostrum::config::parse_session(&contents.header.config).expect("session file");
    let state = rostrum::domain::Session::replay(def, &contents.events[..at]);
    let index = journal::Index::open(&path, true).expect("opens");
    let (offset, hash) = index.head_after(at as u64).expect("a line");
    let head = journal::Head { seq: at as u64, hash, offset };
    journal::write_checkpoint(path.parent().expect("dir"), &index.header_hash, &head, &state).expect("checkpoint");
    (path, contents.events)
}

/// The state after each prefix of `events`, one `apply` at a time, against the player's.
fn same_at_every_seq(player: &Player, events: &[rostrum::domain::Event]) {
    let mut expected = player.state_at(0);
    assert_eq!(expected.seq, 0);
    for (i, event) in events.iter().enumerate() {
        rostrum::domain::apply(&mut expected, event);
        assert_eq!(player.state_at(i + 1), expected, "the state after event {}", i + 1);
    }
}

#[test]
fn replay_from_the_hubs_checkpoint_shows_every_seq_as_a_full_refold() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, events) = with_checkpoint(dir.path(), 1500, 1234);
    let player = Player::open(&path, true).expect("opens");
    assert_eq!(player.warning, None);
    assert_eq!(player.opened_at, 1234, "opened from the checkpoint");
    assert_eq!(player.len(), 1500);
    // Backwards first: the states before the checkpoint are folded when first asked.
    for i in [1500, 1499, 1234, 1233, 700, 99, 0] {
        let expected = rostrum::domain::Session::replay(player.state_at(0).def.as_ref().clone(), &events[..i]);
        assert_eq!(player.state_at(i), expected, "the state after event {i}");
    }
    same_at_every_seq(&player, &events);
    // Folded ahead first (as the screen does on its ticks), the same.
    let warmed = Player::open(&path, true).expect("opens");
    let mut steps = 0;
    while warmed.warm() {
        steps += 1;
    }
    assert_eq!(steps, 1, "the kept checkpoint at 1,000 (before the hub's, at 1,234)");
    same_at_every_seq(&warmed, &events);
    let whole = Player::new(rostrum::journal::read_file(&path).expect("reads"), true).expect("player");
    assert_eq!(player.roster(), whole.roster());
    assert_eq!(player.events_between(0, 1500), events);
}

#[test]
fn a_damaged_or_stale_checkpoint_is_ignored_with_a_warning_and_the_journal_refolded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, events) = with_checkpoint(dir.path(), 600, 450);
    let checkpoint = path.with_file_name(rostrum::journal::CHECKPOINT_FILE);
    let good = std::fs::read_to_string(&checkpoint).expect("checkpoint");
    let (binding, state) = good.split_once('\n').expect("two lines");
    let edits = [
        // Its state edited: its own hash no longer matches.
        format!("{binding}\n{}", state.replacen("\"seq\":450", "\"seq\":449", 1)),
        // Bound to another line of the journal (its state is another moment's).
        format!("{}\n{state}", binding.replacen("\"seq\":450", "\"seq\":449", 1)),
        // Made for another journal.
        format!("{}\n{state}", binding.replacen("\"epoch\":\"", "\"epoch\":\"0", 1)),
        // Cut short.
        good[..good.len() / 2].to_string(),
    ];
    for edited in edits {
        std::fs::write(&checkpoint, &edited).expect("edit");
        let player = Player::open(&path, true).expect("opens");
        let warning = player.warning.clone().expect("a warning");
        assert!(warning.contains("ignored") && warning.contains("checkpoint.json"), "{warning}");
        assert_eq!(player.opened_at, 0, "refolded from the start");
        same_at_every_seq(&player, &events);
    }
    // The journal edited under a good checkpoint: the journal does not verify at all.
    std::fs::write(&checkpoint, &good).expect("restore");
    let text = std::fs::read_to_string(&path).expect("journal");
    std::fs::write(&path, text.replacen("\"n3\"", "\"n4\"", 1)).expect("edit");
    assert!(Player::open(&path, true).err().expect("refused").contains("hash chain broken"));
}
