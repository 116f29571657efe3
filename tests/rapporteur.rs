//! A rapporteur's notes survive a lost hub and a killed client, and arrive once.

mod common;

use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use common::tmux::Pane;
use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rostrum::client::outbox::Outbox;
use rostrum::domain::{Command, EventKind};
use rostrum::hub::{Hub, Settings};
use rostrum::tui::Runner;
use rostrum::tui::keymap::{Keymap, Screen};
use rostrum::tui::live::{LinkStatus, Msg};
use rostrum::tui::rapporteur::Rapporteur;

/// Feed the runner the link's events until `done` holds.
async fn pump(runner: &mut Runner<Rapporteur>, what: &str, done: impl Fn(&Runner<Rapporteur>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(runner) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, runner.next_link()).await {
            Ok(Some(msg)) => {
                runner.handle(msg).await.expect("handled");
            }
            Ok(None) => panic!("the link stopped while waiting for {what}"),
            Err(_) => panic!("waited 20 s for {what}"),
        }
    }
}

async fn type_note(runner: &mut Runner<Rapporteur>, text: &str) {
    let key = |code| Msg::Key(KeyEvent::new(code, KeyModifiers::NONE));
    runner.handle(key(KeyCode::Char('n'))).await.expect("opens the editor");
    for c in text.chars() {
        runner.handle(key(KeyCode::Char(c))).await.expect("types");
    }
    runner.handle(Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))).await.expect("saves");
}

fn notes_in_journal(data: &Path) -> Vec<String> {
    let contents = rostrum::journal::read_file(&data.join(SESSION).join("journal.jsonl")).expect("journal");
    contents
        .events
        .iter()
        .filter_map(|e| match &e.event {
            EventKind::NoteAdded { note } => Some(note.text.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn notes_saved_while_the_hub_is_away_arrive_exactly_once_when_it_returns() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = start_hub(data.path(), Settings::default()).await;
    let addr = hub.addr;
    let token = hub.tokens(SESSION).expect("session").rapporteur.clone();
    let outbox_path = data.path().join("outbox.jsonl");
    let keymap = Keymap::from_texts(None, Screen::Rapporteur).expect("keys");
    let outbox = Outbox::open(&outbox_path).expect("outbox");
    let mut runner = Runner::rapporteur(keymap, &url(&hub), Some(token), "Ana", outbox).expect("runner");
    pump(&mut runner, "the first snapshot", |r| r.app.live.link == LinkStatus::Connected && r.app.session().is_some())
        .await;

    // The connection drops.
    hub.shutdown().await;
    pump(&mut runner, "the link to notice", |r| matches!(r.app.live.link, LinkStatus::Reconnecting { .. })).await;
    type_note(&mut runner, "first note, written offline").await;
    type_note(&mut runner, "second note, written offline").await;
    assert_eq!(runner.app.outbox.len(), 2);
    let on_disk = std::fs::read_to_string(&outbox_path).expect("outbox file");
    assert_eq!(on_disk.lines().filter(|l| l.starts_with("{\"add\"")).count(), 2, "saved on disk before 'saved'");

    // The hub comes back on the same address.
    let hub =
        Hub::start(&addr.to_string(), data.path(), &[session_file()], Settings::default()).await.expect("restarts");
    pump(&mut runner, "the outbox to empty", |r| r.app.outbox.is_empty()).await;
    assert_eq!(std::fs::metadata(&outbox_path).expect("outbox").len(), 0, "acknowledged notes leave the outbox");

    // Sending the same note again (an acknowledgement lost in a crash) records nothing new.
    let mut raw = connect(&hub, &hub.tokens(SESSION).expect("session").rapporteur).await;
    handshake(&mut raw).await;
    let again = Command::AddNote {
        saved_at: None,
        client_id: format!("{}-1", runner.app.client_prefix),
        turn: None,
        text: "first note, written offline".into(),
        objectives: vec![],
        themes: vec![],
    };
    match command(&mut raw, again).await {
        Outcome::Accepted { first: None, last: None, .. } => {}
        _ => panic!("a repeated note is accepted and records nothing"),
    }
    hub.shutdown().await;
    assert_eq!(notes_in_journal(data.path()), ["first note, written offline", "second note, written offline"]);
}

/// `rostrum hub` on the test session in `data`, listening on `listen`.
fn hub_process(data: &Path, listen: &str) -> rostrum::bench::HubProcess {
    let binary = Path::new(env!("CARGO_BIN_EXE_rostrum"));
    rostrum::bench::start_hub_on(binary, &session_file(), data, listen, &[]).expect("the hub starts")
}

#[test]
fn a_killed_rapporteur_sends_its_outbox_when_restarted() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut hub = hub_process(data.path(), "127.0.0.1:0");
    let addr = hub.addr.clone();
    let tokens: rostrum::hub::Tokens =
        toml::from_str(&std::fs::read_to_string(data.path().join(SESSION).join("tokens.toml")).expect("tokens"))
            .expect("parse");
    let outbox = data.path().join("outbox.jsonl");
    let command = format!(
        "{} rapporteur ws://{addr}/v1/sessions/{SESSION} --token {} --name Ana --outbox {}; echo EXITED $?; sleep 30",
        env!("CARGO_BIN_EXE_rostrum"),
        tokens.rapporteur,
        outbox.display()
    );
    let name = format!("rostrum-rapporteur-{}", std::process::id());
    let pane = Pane::start(&name, &command);
    pane.wait_for("● hub");

    // The hub goes away; two notes are saved into the outbox.
    hub.child.kill().expect("kill hub");
    hub.child.wait().expect("reaped");
    pane.wait_for("RECONNECTING");
    for (i, text) in ["kept through a crash", "also kept"].iter().enumerate() {
        pane.keys(&["n"]);
        pane.wait_for("Ctrl+S save");
        pane.text(text);
        pane.keys(&["C-s"]);
        pane.wait_for(&format!("saved on this machine ({} waiting to be sent)", i + 1));
    }
    // kill -9 the client (the pane's shell's child) with its notes in the outbox.
    let client = pane.program_pid();
    assert!(!client.is_empty(), "the client runs under the pane's shell");
    assert!(Process::new("kill").args(["-9", &client]).status().expect("kill runs").success());
    pane.wait_for("EXITED 137");
    drop(pane);
    assert_eq!(Outbox::open(&outbox).expect("outbox").pending().len(), 2);

    // Hub back, client restarted: the outbox goes out.
    let hub = hub_process(data.path(), &addr);
    let pane = Pane::start(&name, &command);
    pane.wait_for("delivered to the hub (0 waiting)");
    drop(pane);
    let mut hub = hub;
    let _ = Process::new("kill").args(["-TERM", &hub.child.id().to_string()]).status();
    let _ = hub.child.wait();
    assert_eq!(notes_in_journal(data.path()), ["kept through a crash", "also kept"]);
}
