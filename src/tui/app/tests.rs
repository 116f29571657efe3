//! update() tests: feed messages, check the state and the effects.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyEventState, MouseEvent};

use super::*;
use crate::domain::{self, Actor, Event, Session};
use crate::protocol::Envelope;
use crate::tui::keymap::Screen;

fn t(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("valid") + Duration::seconds(secs)
}

fn session() -> Session {
    Session::new(crate::config::parse_session(include_str!("../../../tests/data/small.toml")).expect("valid"))
}

/// An app connected to a hub, holding `session` after the chair's `commands`.
fn app_with(commands: Vec<Command>) -> App {
    let mut s = session();
    for (i, command) in commands.into_iter().enumerate() {
        let events = domain::decide(&s, command, &Actor::chair("chair"), t(i as i64)).expect("accepted");
        for e in &events {
            domain::apply(&mut s, e);
        }
    }
    let mut app =
        App::new(Keymap::from_texts(None, crate::tui::keymap::Screen::Chair).expect("keys"), Vec::new(), t(100));
    app.replica.state = Some(s);
    app.link = LinkStatus::Connected;
    app
}

fn inscribe(p: &str) -> Command {
    Command::Inscribe { participant: p.into(), segment: None, kind: None, level: None }
}

fn open() -> Command {
    Command::OpenSegment { segment: "general".into() }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    keys.chars().flat_map(|c| update(app, ch(c))).collect()
}

fn sent(effects: &[Effect]) -> Vec<Command> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { command, .. } => Some(command.clone()),
            _ => None,
        })
        .collect()
}

fn frame(frame: ServerFrame) -> Msg {
    Msg::Link(LinkEvent::Frame(Box::new(Envelope { frame, now: t(100) })))
}

#[test]
fn inscribing_by_typing_part_of_a_name_sends_the_best_match() {
    let mut app = app_with(vec![open()]);
    assert!(press(&mut app, "i").is_empty());
    assert!(matches!(app.mode, Mode::Picker(_)));
    assert!(press(&mut app, "pru").is_empty());
    let Mode::Picker(picker) = &app.mode else { panic!("picker") };
    let roster = &app.session().expect("state").def.participants;
    assert_eq!(roster[picker.results[0]].id, "peru");
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(sent(&effects), [inscribe("peru")]);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.pending.values().collect::<Vec<_>>(), ["inscribe Peru"]);
}

#[test]
fn tab_chooses_the_kind_of_statement() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "ichile");
    update(&mut app, key(KeyCode::Tab));
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(
        sent(&effects),
        [Command::Inscribe {
            participant: "chile".into(),
            segment: None,
            kind: Some(StatementKind::Group),
            level: None
        }]
    );
}

#[test]
fn escape_cancels_the_picker_and_sends_nothing() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "iper");
    assert!(update(&mut app, key(KeyCode::Esc)).is_empty());
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn a_command_while_disconnected_is_refused_visibly_not_dropped() {
    let mut app = app_with(vec![open(), inscribe("peru")]);
    update(
        &mut app,
        Msg::Link(LinkEvent::Disconnected { reason: "reset".into(), retry_in: std::time::Duration::from_millis(250) }),
    );
    assert_eq!(app.link, LinkStatus::Reconnecting { reason: "reset".into() });
    let effects = update(&mut app, key(KeyCode::Enter));
    assert!(effects.is_empty());
    let status = app.status.as_ref().expect("status");
    assert_eq!((status.text.as_str(), status.tone), ("not connected: floor to Peru was not sent", Tone::Error));
}

#[test]
fn the_floor_goes_to_the_selected_entry_or_the_first_by_name() {
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile")]);
    let (peru, chile) = {
        let list = &app.session().expect("state").segments[0].list;
        (list[0].id, list[1].id)
    };
    update(&mut app, key(KeyCode::Down));
    assert_eq!(sent(&update(&mut app, key(KeyCode::Enter))), [Command::GiveFloor { entry: chile }]);
    assert_eq!(sent(&press(&mut app, "n")), [Command::GiveFloor { entry: peru }]);
}

#[test]
fn turn_keys_name_the_turn_on_the_floor() {
    let mut app = app_with(vec![open(), inscribe("peru")]);
    let status_of = |app: &App| app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(press(&mut app, "e").is_empty());
    assert_eq!(status_of(&app), "nobody holds the floor");
    let entry = app.selectable()[0].id;
    app = app_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry }]);
    let turn = app.session().and_then(|s| s.floor.as_ref()).expect("floor").id;
    assert_eq!(sent(&press(&mut app, " ")), [Command::Pause { turn }]);
    assert_eq!(sent(&press(&mut app, "+")), [Command::Extend { turn, secs: 30 }]);
    assert_eq!(sent(&press(&mut app, "-")), [Command::Cut { turn, secs: 30 }]);
    assert_eq!(sent(&press(&mut app, "e")), [Command::EndTurn { turn }]);
    app = app_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry }, Command::Pause { turn }]);
    assert_eq!(sent(&press(&mut app, "p")), [Command::Resume { turn }]);
}

#[test]
fn destructive_actions_ask_first() {
    let mut app = app_with(vec![open(), inscribe("peru")]);
    let entry = app.selectable()[0].id;
    assert!(press(&mut app, "x").is_empty());
    assert!(matches!(&app.mode, Mode::Confirm(c) if c.question == "Withdraw Peru from the list?"));
    assert!(press(&mut app, "n").is_empty());
    assert_eq!(app.mode, Mode::Normal);
    press(&mut app, "x");
    assert_eq!(sent(&press(&mut app, "y")), [Command::Withdraw { entry }]);
    press(&mut app, "c");
    assert_eq!(sent(&update(&mut app, key(KeyCode::Enter))), [Command::CloseList { segment: Some("general".into()) }]);
    press(&mut app, "Q");
    assert_eq!(sent(&press(&mut app, "y")), [Command::CloseSession]);
}

#[test]
fn quitting_asks_only_while_a_turn_runs() {
    let mut app = app_with(vec![open(), inscribe("peru")]);
    assert_eq!(press(&mut app, "q"), [Effect::Quit]);
    let entry = app.selectable()[0].id;
    let mut app = app_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry }]);
    assert!(press(&mut app, "q").is_empty());
    assert!(matches!(app.mode, Mode::Confirm(Confirm { on_yes: OnYes::Quit, .. })));
    assert_eq!(press(&mut app, "y"), [Effect::Quit]);
    // Ctrl+C is a key in raw mode; it quits the same way.
    let mut app = app_with(vec![open()]);
    assert_eq!(update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))), [Effect::Quit]);
}

#[test]
fn key_releases_are_ignored() {
    let mut app = app_with(vec![open()]);
    let release = KeyEvent {
        code: KeyCode::Char('q'),
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Release,
        state: KeyEventState::NONE,
    };
    assert!(update(&mut app, Msg::Key(release)).is_empty());
}

#[test]
fn the_hubs_answer_shows_in_the_status_line() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "iperu");
    let effects = update(&mut app, key(KeyCode::Enter));
    let Effect::Send { id, .. } = &effects[0] else { panic!("sent") };
    update(
        &mut app,
        frame(ServerFrame::Rejected {
            id: id.clone(),
            code: domain::RejectCode::Refused,
            reason: "the list of speakers of \"General debate\" is closed: no new inscriptions".into(),
        }),
    );
    let status = app.status.clone().expect("status");
    assert_eq!(status.tone, Tone::Error);
    assert_eq!(
        status.text,
        "✗ inscribe Peru: the list of speakers of \"General debate\" is closed: no new inscriptions"
    );
    assert!(app.pending.is_empty());
    press(&mut app, "iperu");
    let effects = update(&mut app, key(KeyCode::Enter));
    let Effect::Send { id, .. } = &effects[0] else { panic!("sent") };
    update(&mut app, frame(ServerFrame::Accepted { id: id.clone(), first_seq: Some(2), last_seq: Some(2) }));
    assert_eq!(app.status.clone().expect("status").text, "✓ inscribe Peru");
}

#[test]
fn events_update_the_replica_and_the_selection_follows_its_entry() {
    let mut app = app_with(vec![open(), inscribe("chile")]);
    let chile = app.selectable()[0].id;
    let mut next = app.session().expect("state").clone();
    let events = domain::decide(&next, inscribe("peru"), &Actor::chair("other chair"), t(50)).expect("ok");
    domain::apply(&mut next, &events[0]);
    update(&mut app, frame(ServerFrame::Event { event: Box::new(events[0].clone()) }));
    assert_eq!(app.session(), Some(&next));
    assert_eq!(app.selected_entry().map(|e| e.id), Some(chile), "Peru went before Chile; Chile stays selected");
    // A gap asks the link to resync.
    let mut gap: Event = events[0].clone();
    gap.seq += 5;
    assert_eq!(
        update(&mut app, frame(ServerFrame::Event { event: Box::new(gap) })),
        [Effect::Resync { since: Some(3) }]
    );
}

#[test]
fn losing_the_hub_marks_unanswered_commands() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "iperu");
    update(&mut app, key(KeyCode::Enter));
    update(
        &mut app,
        Msg::Link(LinkEvent::Disconnected {
            reason: "connection reset".into(),
            retry_in: std::time::Duration::from_millis(500),
        }),
    );
    assert!(app.pending.is_empty());
    assert_eq!(
        app.status.clone().expect("status").text,
        "hub unreachable (connection reset); retrying in 500 ms; unanswered: inscribe Peru"
    );
    update(&mut app, Msg::Link(LinkEvent::Connected));
    assert_eq!(app.link, LinkStatus::Connected);
}

#[test]
fn points_of_order_pick_a_member_state_and_rulings_are_typed() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "o");
    let Mode::Picker(picker) = &app.mode else { panic!("picker") };
    let roster = &app.session().expect("state").def.participants;
    assert!(picker.results.iter().all(|i| roster[*i].kind == ParticipantKind::MemberState));
    press(&mut app, "france");
    assert_eq!(sent(&update(&mut app, key(KeyCode::Enter))), [Command::RaisePointOfOrder { by: "france".into() }]);
    let mut app = app_with(vec![open(), Command::RaisePointOfOrder { by: "france".into() }]);
    let point = app.session().and_then(|s| s.point_of_order.as_ref()).expect("pending").id;
    press(&mut app, "R");
    press(&mut app, "Out of order.");
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(
        sent(&update(&mut app, key(KeyCode::Enter))),
        [Command::RulePointOfOrder { point, ruling: "Out of order.".into(), upheld: false }]
    );
}

#[test]
fn list_actions_act_on_the_selected_entry() {
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile"), inscribe("ghana")]);
    let ids: Vec<u64> = app.selectable().iter().map(|e| e.id).collect();
    update(&mut app, key(KeyCode::Down));
    assert_eq!(sent(&press(&mut app, "K")), [Command::MoveUp { entry: ids[1] }]);
    assert_eq!(sent(&press(&mut app, "J")), [Command::MoveDown { entry: ids[1] }]);
    assert_eq!(sent(&press(&mut app, "d")), [Command::Defer { entry: ids[1], places: None, to_end: false }]);
    assert_eq!(sent(&press(&mut app, "D")), [Command::Defer { entry: ids[1], places: None, to_end: true }]);
    assert_eq!(sent(&press(&mut app, "r")), [Command::Reinstate { entry: ids[1] }]);
    // Connection status: only for remote speakers, cycling.
    assert!(press(&mut app, "s").is_empty());
    assert_eq!(app.status.clone().expect("status").text, "Chile is not a remote participant");
    update(&mut app, key(KeyCode::Down));
    assert_eq!(
        sent(&press(&mut app, "s")),
        [Command::SetConnection { participant: "ghana".into(), status: ConnectionStatus::Connected }]
    );
}

#[test]
fn undo_names_the_action_it_undoes() {
    let mut app = app_with(vec![open(), inscribe("peru")]);
    let seq = app.session().expect("state").seq;
    assert_eq!(sent(&press(&mut app, "u")), [Command::Undo { seq }]);
    assert_eq!(app.pending.values().next().map(String::as_str), Some("undo the inscription of Peru"));
}

#[test]
fn next_segment_opens_the_one_after_the_current() {
    let mut app = app_with(vec![]);
    assert_eq!(sent(&press(&mut app, "]")), [Command::OpenSegment { segment: "general".into() }]);
    let mut app = app_with(vec![open()]);
    assert_eq!(sent(&press(&mut app, "]")), [Command::OpenSegment { segment: "alternating".into() }]);
}

#[test]
fn a_mouse_click_selects_the_row_under_it() {
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile"), inscribe("ghana")]);
    update(&mut app, Msg::Resize(80, 24));
    let rows = super::super::view::layout(ratatui::layout::Rect::new(0, 0, 80, 24)).list_rows;
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: rows.x + 3,
        row: rows.y + 2,
        modifiers: KeyModifiers::NONE,
    };
    update(&mut app, Msg::Mouse(click));
    assert_eq!(app.selected, 2);
    assert_eq!(app.selected_entry().map(|e| e.participant.as_str()), Some("ghana"));
}

#[test]
fn the_countdown_reads_hub_time_corrected_by_the_offset() {
    let entry_app = app_with(vec![open(), inscribe("peru")]);
    let entry = entry_app.selectable()[0].id;
    let mut app = app_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry }]);
    let started = app.session().and_then(|s| s.floor.as_ref()).expect("floor").started_at;
    // Our clock is 7 s behind the hub's.
    update(&mut app, Msg::Link(LinkEvent::Clock { rtt_ms: 4, offset_ms: 7_000 }));
    update(&mut app, Msg::Tick(started + Duration::seconds(10)));
    let reading = app.session().and_then(|s| s.floor.as_ref()).expect("floor").reading(app.hub_now(), 30);
    assert_eq!(reading.used_ms, 17_000);
    assert_eq!(app.rtt_ms, Some(4));
}

#[test]
fn ctrl_c_quits_from_a_popup_too() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "i");
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut app, ctrl_c), [Effect::Quit]);
    let mut app = app_with(vec![open()]);
    press(&mut app, "?");
    assert_eq!(app.mode, Mode::Help);
    assert_eq!(update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))), [Effect::Quit]);
}

#[test]
fn a_warning_shown_at_start_survives_the_first_connection() {
    let mut app = app_with(vec![]);
    app.link = LinkStatus::Connecting;
    app.status = Some(StatusLine { text: "warning: journal tail cut".into(), tone: Tone::Error });
    update(&mut app, Msg::Link(LinkEvent::Connected));
    assert_eq!(app.status.as_ref().map(|s| s.text.as_str()), Some("warning: journal tail cut"));
}

// ---- The rapporteur ----

fn rapporteur_with(commands: Vec<Command>) -> App {
    let mut app = app_with(commands);
    app.keymap = Keymap::from_texts(None, Screen::Rapporteur).expect("keys");
    app.screen = Screen::Rapporteur;
    app.rapporteur.client_prefix = "r1".into();
    app
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

#[test]
fn a_note_is_written_tagged_saved_then_sent() {
    let entry = app_with(vec![open(), inscribe("peru")]).selectable()[0].id;
    let mut app = rapporteur_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry }]);
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
    assert!(app.rapporteur.editor.is_none());
    assert_eq!(app.rapporteur.outbox.len(), 1);
    // The hub has it: acknowledged, out of the outbox.
    let effects =
        update(&mut app, frame(ServerFrame::Accepted { id: "r1-1".into(), first_seq: Some(9), last_seq: Some(9) }));
    assert_eq!(effects, [Effect::Ack("r1-1".into())]);
    assert!(app.rapporteur.outbox.is_empty());
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
    assert_eq!(app.status.clone().expect("status").text, "saved on this machine (2 waiting to be sent)");
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
    assert_eq!(app.rapporteur.editor.as_ref().map(|e| e.text.lines().join("")), Some("keep me".into()));
    assert!(app.status.clone().expect("status").text.starts_with("NOT saved: No space left on device"));
}

#[test]
fn escape_asks_before_discarding_a_note() {
    let mut app = rapporteur_with(vec![open()]);
    press(&mut app, "ndraft");
    update(&mut app, key(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Confirm(Confirm { on_yes: OnYes::Discard, .. })));
    press(&mut app, "n");
    assert_eq!(app.mode, Mode::Editing, "back to the note");
    update(&mut app, key(KeyCode::Esc));
    press(&mut app, "y");
    assert!(app.rapporteur.editor.is_none());
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
    assert!(app.status.clone().expect("status").text.starts_with("a pledge needs the numbers of the GCM objectives"));
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
            client_id: "r1-7".into(),
            turn: Some(99),
            text: "lost turn".into(),
            objectives: vec![],
            themes: vec![],
        },
    };
    app.rapporteur.outbox.push(saved);
    let effects = update(
        &mut app,
        frame(ServerFrame::Rejected {
            id: "r1-7".into(),
            code: domain::RejectCode::NotFound,
            reason: "no turn #99 in this session".into(),
        }),
    );
    assert_eq!(effects, [Effect::Ack("r1-7".into())]);
    assert_eq!(
        app.status.clone().expect("status").text,
        "✗ not recorded by the hub: no turn #99 in this session («lost turn…»)"
    );
}

#[test]
fn quitting_with_notes_waiting_asks_first() {
    let mut app = rapporteur_with(vec![open()]);
    assert_eq!(press(&mut app, "q"), [Effect::Quit]);
    let mut app = rapporteur_with(vec![open()]);
    app.rapporteur.outbox.push(Saved { client_id: "x".into(), command: Command::CloseSession });
    assert!(press(&mut app, "q").is_empty());
    assert_eq!(press(&mut app, "y"), [Effect::Quit]);
}

#[test]
fn tags_split_into_objectives_and_themes() {
    assert_eq!(parse_tags("5 6, care work, #7"), (vec![5, 6, 7], vec!["care work".to_string()]));
    assert_eq!(parse_tags(""), (vec![], vec![]));
    assert_eq!(parse_tags("5 six"), (vec![], vec!["5 six".to_string()]));
}
