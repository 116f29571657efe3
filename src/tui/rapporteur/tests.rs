//! update() tests: feed messages, check the state and the effects.

use super::*;
use crate::domain;
use crate::tui::keymap::Screen;
use crate::tui::testkit::*;
use chrono::Duration;
use crossterm::event::KeyCode;

/// An app connected to a hub, holding the session after the chair's `commands`.
fn app_with(commands: Vec<Command>) -> Rapporteur {
    let mut app = Rapporteur::new(Keymap::from_texts(None, Screen::Rapporteur).expect("keys"), t(100));
    connect(&mut app.live, session_after(commands));
    app
}

fn press(app: &mut Rapporteur, keys: &str) -> Vec<Effect> {
    keys.chars().flat_map(|c| update(app, ch(c))).collect()
}

fn rapporteur_with(commands: Vec<Command>) -> Rapporteur {
    let mut app = app_with(commands);
    app.client_prefix = "r1".into();
    app
}

fn first_entry(commands: Vec<Command>) -> u64 {
    let app = app_with(commands);
    app.session().and_then(|s| s.segments[0].list.first()).expect("an entry").id
}

#[test]
fn a_note_is_written_tagged_saved_then_sent() {
    let entry = first_entry(vec![open(), inscribe("peru")]);
    let mut app = rapporteur_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry, budget: None }]);
    let turn = app.session().and_then(|s| s.floor.as_ref()).expect("floor").id;
    press(&mut app, "n");
    assert_eq!(app.mode, Mode::Editing);
    press(&mut app, "Calls for regular pathways.");
    update(&mut app, key(KeyCode::Tab));
    press(&mut app, "5 6, care work");
    let effects = update(&mut app, ctrl('s'));
    let expected = Saved {
        client_id: "r1-1".into(),
        command: Command::AddNote {
            // When it was written, on the hub's clock (the app's clock here: no offset).
            saved_at: Some(t(100)),
            client_id: "r1-1".into(),
            turn: Some(turn),
            text: "Calls for regular pathways.".into(),
            objectives: vec![5, 6],
            themes: vec!["care work".into()],
        },
    };
    assert_eq!(effects, [Effect::Save(expected.clone())]);
    assert_eq!(app.mode, Mode::Editing, "the editor stays until the outbox has it");
    // Saved on disk: the editor closes, and the note goes to the hub.
    let effects = update(&mut app, Msg::Saved(expected.clone()));
    assert_eq!(effects, [Effect::Send { id: "r1-1".into(), command: expected.command.clone() }]);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.editor.is_none());
    assert_eq!(app.outbox.len(), 1);
    // The hub has it: acknowledged, out of the outbox.
    let effects =
        update(&mut app, frame(ServerFrame::Accepted { id: "r1-1".into(), first_seq: Some(9), last_seq: Some(9) }));
    assert_eq!(effects, [Effect::Ack("r1-1".into())]);
    assert!(app.outbox.is_empty());
}

#[test]
fn notes_saved_while_disconnected_wait_and_go_out_on_reconnect() {
    let mut app = rapporteur_with(vec![open()]);
    update(
        &mut app,
        Msg::Link(LinkEvent::Disconnected { reason: "reset".into(), retry_in: std::time::Duration::from_secs(1) }),
    );
    let mut saved = Vec::new();
    for text in ["first", "second"] {
        press(&mut app, "n");
        press(&mut app, text);
        let effects = update(&mut app, ctrl('s'));
        let Effect::Save(s) = &effects[0] else { panic!("save") };
        assert!(update(&mut app, Msg::Saved(s.clone())).is_empty(), "not connected: nothing sent");
        saved.push(s.clone());
    }
    assert_eq!(app.live.status.clone().expect("status").text, "saved on this machine (2 waiting to be sent)");
    let effects = update(&mut app, Msg::Link(LinkEvent::Connected));
    let sent: Vec<&str> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(sent, ["r1-1", "r1-2"]);
}

#[test]
fn a_failed_save_keeps_the_text_in_the_editor() {
    let mut app = rapporteur_with(vec![open()]);
    press(&mut app, "nkeep me");
    update(&mut app, ctrl('s'));
    update(&mut app, Msg::SaveFailed("No space left on device".into()));
    assert_eq!(app.mode, Mode::Editing);
    assert_eq!(app.editor.as_ref().map(|e| e.text.lines().join("")), Some("keep me".into()));
    assert!(app.live.status.clone().expect("status").text.starts_with("NOT saved: No space left on device"));
}

#[test]
fn escape_asks_before_discarding_a_note() {
    let mut app = rapporteur_with(vec![open()]);
    press(&mut app, "ndraft");
    update(&mut app, key(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Confirm { on_yes: OnYes::Discard, .. }));
    press(&mut app, "n");
    assert_eq!(app.mode, Mode::Editing, "back to the note");
    update(&mut app, key(KeyCode::Esc));
    press(&mut app, "y");
    assert!(app.editor.is_none());
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn a_pledge_names_its_pledger_and_needs_objectives() {
    let mut app = rapporteur_with(vec![open()]);
    press(&mut app, "p");
    press(&mut app, "chile");
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::Editing);
    press(&mut app, "Five thousand visas.");
    assert!(update(&mut app, ctrl('s')).is_empty());
    assert!(
        app.live.status.clone().expect("status").text.starts_with("a pledge needs the numbers of the GCM objectives")
    );
    update(&mut app, key(KeyCode::Tab));
    press(&mut app, "6 5");
    let effects = update(&mut app, ctrl('s'));
    assert!(matches!(
        &effects[..],
        [Effect::Save(Saved { command: Command::AddPledge { pledger, objectives, turn: None, .. }, .. })]
            if pledger == "chile" && objectives == &vec![6, 5]
    ));
}

#[test]
fn a_rejected_note_leaves_the_outbox_and_says_why() {
    let mut app = rapporteur_with(vec![open()]);
    let saved = Saved {
        client_id: "r1-7".into(),
        command: Command::AddNote {
            saved_at: None,
            client_id: "r1-7".into(),
            turn: Some(99),
            text: "lost turn".into(),
            objectives: vec![],
            themes: vec![],
        },
    };
    app.outbox.push(saved);
    let effects = update(
        &mut app,
        frame(ServerFrame::rejected("r1-7".into(), domain::RejectCode::NotFound, "no turn #99 in this session")),
    );
    assert_eq!(effects, [Effect::Ack("r1-7".into())]);
    assert_eq!(
        app.live.status.clone().expect("status").text,
        "✗ not recorded by the hub: no turn #99 in this session; the note is back in the editor"
    );
    // Nothing typed is lost: the text is in the editor, to put right or discard.
    assert_eq!(app.mode, Mode::Editing);
    assert_eq!(app.editor.as_ref().map(|e| e.text.lines().join("\n")), Some("lost turn".to_string()));
}

#[test]
fn quitting_with_notes_waiting_asks_first() {
    let mut app = rapporteur_with(vec![open()]);
    assert_eq!(press(&mut app, "q"), [Effect::Quit]);
    let mut app = rapporteur_with(vec![open()]);
    app.outbox.push(Saved { client_id: "x".into(), command: Command::CloseSession });
    assert!(press(&mut app, "q").is_empty());
    assert_eq!(press(&mut app, "y"), [Effect::Quit]);
}

#[test]
fn tags_split_into_objectives_and_themes() {
    assert_eq!(parse_tags("5 6, care work, #7"), (vec![5, 6, 7], vec!["care work".to_string()]));
    assert_eq!(parse_tags(""), (vec![], vec![]));
    assert_eq!(parse_tags("5 six"), (vec![], vec!["5 six".to_string()]));
}

#[test]
fn a_note_dropped_by_the_rate_limiter_stays_and_goes_again() {
    let mut app = rapporteur_with(vec![open()]);
    app.live.local_now = t(100);
    let saved = Saved {
        client_id: "r1-8".into(),
        command: Command::AddNote {
            saved_at: None,
            client_id: "r1-8".into(),
            turn: None,
            text: "busy hub".into(),
            objectives: vec![],
            themes: vec![],
        },
    };
    app.outbox.push(saved);
    let effects = update(
        &mut app,
        frame(ServerFrame::rejected(
            "r1-8".into(),
            domain::RejectCode::RateLimited,
            "more than 50 frames a second: frames are being dropped",
        )),
    );
    // Not acknowledged: the note is still waiting, and nothing is thrown away.
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(app.outbox.len(), 1);
    assert_eq!(app.live.status.clone().expect("status").text, "the hub is busy: 1 waiting here, sending again in 1 s");
    assert!(update(&mut app, Msg::Tick(t(100) + Duration::milliseconds(500))).is_empty(), "not before 1 s");
    let effects = update(&mut app, Msg::Tick(t(101)));
    assert!(matches!(&effects[..], [Effect::Send { id, .. }] if id == "r1-8"), "{effects:?}");
    assert!(update(&mut app, Msg::Tick(t(102))).is_empty(), "sent once");
}

#[test]
fn many_dropped_notes_go_again_a_few_a_second_and_a_reconnect_cancels_the_resend() {
    let mut app = rapporteur_with(vec![open()]);
    app.live.local_now = t(100);
    for i in 0..100 {
        let id = format!("r1-{i}");
        let command = Command::AddNote {
            saved_at: None,
            client_id: id.clone(),
            turn: None,
            text: format!("note {i}"),
            objectives: vec![],
            themes: vec![],
        };
        app.outbox.push(Saved { client_id: id.clone(), command });
        update(&mut app, frame(ServerFrame::rejected(id, domain::RejectCode::RateLimited, "dropped")));
    }
    let sends = |effects: &[Effect]| effects.iter().filter(|e| matches!(e, Effect::Send { .. })).count();
    assert_eq!(sends(&update(&mut app, Msg::Tick(t(101)))), 40);
    assert_eq!(sends(&update(&mut app, Msg::Tick(t(101) + Duration::milliseconds(100)))), 0, "one batch a second");
    assert_eq!(sends(&update(&mut app, Msg::Tick(t(102)))), 40);
    // Reconnecting sends the whole outbox once; the pending resend is dropped.
    update(
        &mut app,
        Msg::Link(LinkEvent::Disconnected { reason: "reset".into(), retry_in: std::time::Duration::from_secs(1) }),
    );
    assert_eq!(sends(&update(&mut app, Msg::Link(LinkEvent::Connected))), 100);
    assert_eq!(sends(&update(&mut app, Msg::Tick(t(110)))), 0);
}
