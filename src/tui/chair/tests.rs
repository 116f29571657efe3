//! update() tests: feed messages, check the state and the effects.

use crossterm::event::{KeyEventState, MouseEvent};

use super::*;
use crate::client::link::LinkEvent;
use crate::domain::{self, Actor, Event, ParticipantKind, Session};
use crate::protocol::ServerFrame;
use crate::tui::keymap::Screen;
use crate::tui::live::{LinkStatus, StatusLine, Tone};
use crate::tui::testkit::*;
use crate::tui::widgets::picker::Purpose;
use chrono::Duration;
use crossterm::event::KeyEventKind;

/// An app connected to a hub, holding the session after the chair's `commands`.
fn app_with(commands: Vec<Command>) -> Chair {
    let mut app = Chair::new(Keymap::from_texts(None, Screen::Chair).expect("keys"), Vec::new(), t(100));
    connect(&mut app.live, session_after(commands));
    app
}

/// Press keys slowly: before each key, the hub has answered the commands sent so far
/// (by the real rules: their events, or their refusal).
fn press(app: &mut Chair, keys: &str) -> Vec<Effect> {
    keys.chars()
        .flat_map(|c| {
            answer_all(app);
            update(app, ch(c))
        })
        .collect()
}

/// The hub answers every command waiting for an answer, by the rules.
fn answer_all(app: &mut Chair) {
    for msg in hub_answers(&app.live) {
        update(app, msg);
    }
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
    assert_eq!(app.live.pending.values().map(|p| p.what.as_str()).collect::<Vec<_>>(), ["inscribe Peru"]);
}

#[test]
fn tab_chooses_the_kind_of_statement() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "ichile");
    update(&mut app, key(KeyCode::Tab));
    // A group statement names its group: the roster's groups of States are offered.
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    press(&mut app, "afr");
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(
        sent(&effects),
        [Command::Inscribe {
            participant: "chile".into(),
            segment: None,
            kind: Some(StatementKind::Group),
            level: None,
            on_behalf_of: Some("african-group".into()),
            language: None,
        }]
    );
    assert_eq!(
        app.live.pending.values().next().map(|p| p.what.as_str()),
        Some("inscribe Chile, on behalf of the African Group")
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
    assert_eq!(app.live.link, LinkStatus::Reconnecting { reason: "reset".into(), attempt: 1 });
    let effects = update(&mut app, key(KeyCode::Enter));
    assert!(effects.is_empty());
    let status = app.live.status.as_ref().expect("status");
    assert_eq!((status.text.as_str(), status.tone), ("not connected: floor to Peru was not sent", Tone::Error));
}

#[test]
fn the_floor_goes_to_the_selected_entry_or_the_first_by_name() {
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile")]);
    let (peru, chile) = {
        let list = &app.session().expect("state").segments[0].list;
        (list[0].id, list[1].id)
    };
    // Peru is next by the rules: the floor to Chile is out of order, and asks first.
    update(&mut app, key(KeyCode::Down));
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    let Mode::Confirm(confirm) = &app.mode else { panic!("asks first, not {:?}", app.mode) };
    assert_eq!(
        confirm.question,
        "The rules put Peru (#1) next. Give the floor to Chile (#2) out of order? (u undoes it right after)"
    );
    assert_eq!(sent(&press(&mut app, "y")), [Command::GiveFloor { entry: chile, budget: None }]);
    // To the one the rules put next: no question.
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile")]);
    assert_eq!(sent(&update(&mut app, key(KeyCode::Enter))), [Command::GiveFloor { entry: peru, budget: None }]);
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile")]);
    assert_eq!(sent(&press(&mut app, "n")), [Command::Next { turn: None, entry: peru, budget: None }]);
}

#[test]
fn enter_in_a_new_segment_starts_at_the_top_and_asks_before_passing_anyone_over() {
    // The last entry of one segment is selected; the next segment opens.
    let mut app = app_with(vec![
        open(),
        inscribe("peru"),
        inscribe("chile"),
        Command::Inscribe {
            participant: "peru".into(),
            segment: Some("alternating".into()),
            kind: None,
            level: None,
            on_behalf_of: None,
            language: None,
        },
        Command::Inscribe {
            participant: "chile".into(),
            segment: Some("alternating".into()),
            kind: None,
            level: None,
            on_behalf_of: None,
            language: None,
        },
        Command::Inscribe {
            participant: "france".into(),
            segment: Some("alternating".into()),
            kind: None,
            level: None,
            on_behalf_of: None,
            language: None,
        },
    ]);
    press(&mut app, "G");
    press(&mut app, "]");
    press(&mut app, "y");
    answer_all(&mut app);
    assert_eq!(app.view_segment(), 1, "the next segment is open");
    assert_eq!(app.selected, 0, "its list is shown from the top");
    let first = app.selectable()[0].id;
    assert_eq!(sent(&update(&mut app, key(KeyCode::Enter))), [Command::GiveFloor { entry: first, budget: None }]);
    // Whichever key gives the floor out of order, it asks.
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile"), inscribe("france")]);
    press(&mut app, "G");
    for key_name in ["\n", "f"] {
        let effects = if key_name == "\n" { update(&mut app, key(KeyCode::Enter)) } else { press(&mut app, key_name) };
        assert!(effects.is_empty(), "{key_name:?} asks first");
        assert!(matches!(&app.mode, Mode::Confirm(c) if c.question.contains("out of order")), "{:?}", app.mode);
        update(&mut app, key(KeyCode::Esc));
    }
}

#[test]
fn thank_you_next_is_one_key_and_asks_only_when_it_passes_someone_over() {
    let entry = app_with(vec![open(), inscribe("peru")]).selectable()[0].id;
    let mut app =
        app_with(vec![open(), inscribe("peru"), inscribe("chile"), Command::GiveFloor { entry, budget: None }]);
    let turn = app.session().and_then(|s| s.floor.as_ref()).map(|t| t.id);
    let chile = app.selectable()[0].id;
    assert_eq!(sent(&press(&mut app, "n")), [Command::Next { turn, entry: chile, budget: None }]);
    // Ghana (remote) has a technical issue: "next" would pass it over, so it asks.
    let mut app = app_with(vec![
        open(),
        inscribe("ghana"),
        inscribe("chile"),
        Command::SetConnection { participant: "ghana".into(), status: ConnectionStatus::TechnicalIssue, from: None },
    ]);
    let chile = app.selectable()[1].id;
    assert!(press(&mut app, "n").is_empty());
    let Mode::Confirm(confirm) = &app.mode else { panic!("asks first") };
    assert!(confirm.question.starts_with("Ghana has a technical issue"), "{}", confirm.question);
    assert_eq!(sent(&press(&mut app, "y")), [Command::Next { turn: None, entry: chile, budget: None }]);
}

#[test]
fn turn_keys_name_the_turn_on_the_floor() {
    let mut app = app_with(vec![open(), inscribe("peru")]);
    let status_of = |app: &Chair| app.live.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(press(&mut app, "e").is_empty());
    assert_eq!(status_of(&app), "nobody holds the floor");
    let entry = app.selectable()[0].id;
    app = app_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry, budget: None }]);
    let turn = app.session().and_then(|s| s.floor.as_ref()).expect("floor").id;
    assert_eq!(sent(&press(&mut app, "+")), [Command::Extend { turn, secs: 30 }]);
    assert_eq!(sent(&press(&mut app, "-")), [Command::Cut { turn, secs: 30 }]);
    assert_eq!(sent(&press(&mut app, " ")), [Command::Pause { turn }]);
    // Paused (the hub recorded it): the same key resumes.
    assert_eq!(sent(&press(&mut app, "p")), [Command::Resume { turn }]);
    answer_all(&mut app);
    update(&mut app, Msg::Tick(t(100 + 170)));
    assert_eq!(sent(&press(&mut app, "e")), [Command::EndTurn { turn }]);
}

#[test]
fn destructive_actions_ask_first() {
    let mut app = app_with(vec![open(), inscribe("peru")]);
    let entry = app.selectable()[0].id;
    assert!(press(&mut app, "x").is_empty());
    assert!(
        matches!(&app.mode, Mode::Confirm(c) if c.question == "Withdraw Peru from the list? (u undoes it right after)")
    );
    // Esc answers no; "n" (next speaker on this screen) answers nothing.
    assert!(press(&mut app, "n").is_empty());
    assert!(matches!(app.mode, Mode::Confirm(_)));
    assert!(update(&mut app, key(KeyCode::Esc)).is_empty());
    assert_eq!(app.mode, Mode::Normal);
    press(&mut app, "x");
    assert_eq!(sent(&press(&mut app, "y")), [Command::Withdraw { entry }]);
    press(&mut app, "c");
    assert_eq!(sent(&press(&mut app, "y")), [Command::CloseList { segment: Some("general".into()) }]);
    // Ending a turn with time left asks; near the end it does not.
    let mut app = app_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry, budget: None }]);
    let turn = app.session().and_then(|s| s.floor.as_ref()).expect("floor").id;
    assert!(press(&mut app, "e").is_empty());
    assert!(
        matches!(&app.mode, Mode::Confirm(c) if c.question.starts_with("Peru still has 1:22 left")),
        "{:?}",
        app.mode
    );
    assert_eq!(sent(&press(&mut app, "y")), [Command::EndTurn { turn }]);
    let mut app = app_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry, budget: None }]);
    update(&mut app, Msg::Tick(t(100 + 170)));
    assert_eq!(sent(&press(&mut app, "e")), [Command::EndTurn { turn }]);
    press(&mut app, "Q");
    assert_eq!(sent(&press(&mut app, "y")), [Command::CloseSession]);
}

#[test]
fn quitting_asks_only_while_a_turn_runs() {
    let mut app = app_with(vec![open(), inscribe("peru")]);
    assert_eq!(press(&mut app, "q"), [Effect::Quit]);
    let entry = app.selectable()[0].id;
    let mut app = app_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry, budget: None }]);
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
        frame(ServerFrame::rejected(
            id.clone(),
            domain::RejectCode::Refused,
            "the list of speakers of \"General debate\" is closed: no new inscriptions",
        )),
    );
    let status = app.live.status.clone().expect("status");
    assert_eq!(status.tone, Tone::Error);
    assert_eq!(
        status.text,
        "✗ inscribe Peru: the list of speakers of \"General debate\" is closed: no new inscriptions"
    );
    assert!(app.live.pending.is_empty());
    // The refused inscription's picker is back with its query, to try again.
    assert!(matches!(&app.mode, Mode::Picker(p) if p.query == "peru"));
    let effects = update(&mut app, key(KeyCode::Enter));
    let Effect::Send { id, .. } = &effects[0] else { panic!("sent") };
    update(&mut app, frame(ServerFrame::Accepted { id: id.clone(), first_seq: Some(2), last_seq: Some(2) }));
    assert_eq!(app.live.status.clone().expect("status").text, "✓ inscribe Peru");
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
    assert!(app.live.pending.is_empty());
    assert_eq!(
        app.live.status.clone().expect("status").text,
        "hub unreachable (connection reset); attempt 1, retrying in 500 ms; unanswered: inscribe Peru"
    );
    update(&mut app, Msg::Link(LinkEvent::Connected));
    assert_eq!(app.live.link, LinkStatus::Connected);
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
    // The dialog names who raised it; neither verdict is chosen for the chair.
    let Mode::Ruling(ruling) = &app.mode else { panic!("ruling") };
    assert_eq!(ruling.upheld, None);
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty(), "no verdict yet: nothing sent");
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Tab));
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty(), "an empty ruling is not sent");
    assert!(app.live.status.as_ref().is_some_and(|s| s.text.starts_with("write the ruling first")));
    press(&mut app, "Out of order.");
    assert_eq!(
        sent(&update(&mut app, key(KeyCode::Enter))),
        [Command::RulePointOfOrder { point, ruling: "Out of order.".into(), upheld: false }]
    );
}

#[test]
fn list_actions_act_on_the_selected_entry() {
    let commands = || vec![open(), inscribe("peru"), inscribe("chile"), inscribe("ghana")];
    let app = app_with(commands());
    let ids: Vec<u64> = app.selectable().iter().map(|e| e.id).collect();
    for (keys, command) in [
        ("K", Command::MoveUp { entry: ids[1] }),
        ("J", Command::MoveDown { entry: ids[1] }),
        ("d", Command::Defer { entry: ids[1], places: None, to_end: false }),
        ("D", Command::Defer { entry: ids[1], places: None, to_end: true }),
    ] {
        let mut app = app_with(commands());
        update(&mut app, key(KeyCode::Down));
        assert_eq!(sent(&press(&mut app, keys)), [command]);
    }
    // Moved (the hub recorded it): now it can be put back where the rules place it.
    let mut app = app_with(commands());
    update(&mut app, key(KeyCode::Down));
    assert!(press(&mut app, "r").is_empty(), "Chile is where the rules place it");
    press(&mut app, "J");
    answer_all(&mut app);
    assert_eq!(app.selected_entry().map(|e| e.id), Some(ids[1]), "the selection followed Chile");
    assert_eq!(sent(&press(&mut app, "r")), [Command::Reinstate { entry: ids[1] }]);
    // Connection status: only for remote speakers, and the rules say why.
    let mut app = app_with(commands());
    update(&mut app, key(KeyCode::Down));
    assert!(press(&mut app, "s").is_empty());
    assert_eq!(
        app.live.status.clone().expect("status").text,
        "Chile takes part in the room: only remote participants have a connection status"
    );
}

#[test]
fn connection_status_is_chosen_not_cycled_so_fast_presses_cannot_overshoot() {
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile"), inscribe("ghana")]);
    update(&mut app, key(KeyCode::End));
    // Three quick presses of s: one picker, nothing sent.
    assert!(press(&mut app, "sss").is_empty());
    assert!(matches!(&app.mode, Mode::Status(c) if c.participant == "ghana" && c.from == ConnectionStatus::Unknown));
    assert_eq!(
        sent(&press(&mut app, "4")),
        [Command::SetConnection {
            participant: "ghana".into(),
            status: ConnectionStatus::TechnicalIssue,
            from: Some(ConnectionStatus::Unknown)
        }]
    );
    assert_eq!(app.mode, Mode::Normal);
    // Choosing the status it already has sends nothing.
    press(&mut app, "s");
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
}

#[test]
fn the_connection_popup_shows_every_status_whatever_the_name_wraps() {
    let mut app = app_with(vec![open(), inscribe("ghana")]);
    // A long name: the popup's first line wraps at 80 columns.
    if let Some(s) = app.live.replica.state.as_mut() {
        let def = std::sync::Arc::make_mut(&mut s.def);
        if let Some(p) = def.participants.iter_mut().find(|p| p.id == "ghana") {
            p.name = "Ghana, speaking for the Permanent Mission of the Republic of Ghana to the United Nations".into();
        }
        def.roster = Default::default();
    }
    press(&mut app, "s");
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).expect("terminal");
    terminal.draw(|f| super::view::render(&app, f)).expect("draws");
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("4 technical issue"), "option 4 is visible:\n{screen}");
    press(&mut app, "jjj");
    let Mode::Status(choice) = &app.mode else { panic!("popup") };
    assert_eq!(choice.choices[choice.selected].0, ConnectionStatus::TechnicalIssue);
}

#[test]
fn undo_names_the_action_it_undoes() {
    let mut app = app_with(vec![open(), inscribe("peru")]);
    let seq = app.session().expect("state").seq;
    assert_eq!(sent(&press(&mut app, "u")), [Command::Undo { seq }]);
    assert_eq!(app.live.pending.values().next().map(|p| p.what.as_str()), Some("undo the inscription of Peru"));
}

#[test]
fn next_segment_asks_first_and_says_who_will_not_be_heard() {
    let mut app = app_with(vec![]);
    assert!(press(&mut app, "]").is_empty());
    assert_eq!(sent(&press(&mut app, "y")), [Command::OpenSegment { segment: "general".into() }]);
    let mut app = app_with(vec![
        open(),
        inscribe("peru"),
        inscribe("chile"),
        Command::RequestReply { participant: "france".into(), segment: None },
    ]);
    // Fast presses: the first asks, the second is answered "no" by nothing.
    assert!(press(&mut app, "]]").is_empty());
    let Mode::Confirm(confirm) = &app.mode else { panic!("asks first") };
    assert!(
        confirm.question.starts_with("2 speakers and 1 right of reply on \"General debate\" will not be heard. Open"),
        "{}",
        confirm.question
    );
    assert_eq!(sent(&press(&mut app, "y")), [Command::OpenSegment { segment: "alternating".into() }]);
}

#[test]
fn a_mouse_click_selects_the_row_under_it() {
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile"), inscribe("ghana")]);
    update(&mut app, Msg::Resize(80, 24));
    let rows = view::layout(&app, ratatui::layout::Rect::new(0, 0, 80, 24)).list_rows;
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
    let mut app = app_with(vec![open(), inscribe("peru"), Command::GiveFloor { entry, budget: None }]);
    let started = app.session().and_then(|s| s.floor.as_ref()).expect("floor").started_at;
    // Our clock is 7 s behind the hub's.
    update(&mut app, Msg::Link(LinkEvent::Clock { rtt_ms: 4, offset_ms: 7_000 }));
    update(&mut app, Msg::Tick(started + Duration::seconds(10)));
    let reading = app.session().and_then(|s| s.floor.as_ref()).expect("floor").reading(app.live.hub_now(), 30);
    assert_eq!(reading.used_ms, 17_000);
    assert_eq!(app.live.rtt_ms, Some(4));
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
    app.live.link = LinkStatus::Connecting;
    app.live.status = Some(StatusLine { text: "warning: journal tail cut".into(), tone: Tone::Error });
    update(&mut app, Msg::Link(LinkEvent::Connected));
    assert_eq!(app.live.status.as_ref().map(|s| s.text.as_str()), Some("warning: journal tail cut"));
}

// ---- The rapporteur ----

#[test]
fn quitting_while_others_follow_the_hub_asks_and_says_how_many() {
    let mut app = app_with(vec![open()]);
    app.join_urls = vec![crate::hub::JoinUrl {
        session: "s".into(),
        role: "rapporteur".into(),
        url: "ws://x".into(),
        person: None,
    }];
    update(&mut app, Msg::Peers(2));
    assert!(press(&mut app, "q").is_empty());
    let Mode::Confirm(confirm) = &app.mode else { panic!("asks first") };
    assert_eq!(
        confirm.question,
        "Quit? 2 other connections on this hub (screens, pages and co-chairs) will be cut off until you start it again."
    );
    assert_eq!(press(&mut app, "y"), [Effect::Quit]);
}

#[test]
fn a_refused_handshake_ends_the_screen_with_the_hubs_reason() {
    let mut app = app_with(vec![]);
    let effects = update(&mut app, Msg::Link(LinkEvent::Refused { reason: "unknown token (HTTP 401)".into() }));
    assert_eq!(effects, [Effect::Fail("the hub refused this screen: unknown token (HTTP 401)".into())]);
}

#[test]
fn the_floor_offers_only_what_the_hub_would_accept() {
    // Ghana (remote) has a technical issue: no hint gives it the floor.
    let app = app_with(vec![
        open(),
        inscribe("ghana"),
        Command::SetConnection { participant: "ghana".into(), status: ConnectionStatus::TechnicalIssue, from: None },
    ]);
    let hints = view::floor_hints(&app).join("\n");
    assert!(!hints.contains("Ghana"), "{hints}");
    assert!(!view::footer_hints(&app).iter().any(|(_, what)| what == "floor" || what == "next"));
    // A point of order pending: only the ruling is offered, never R otherwise.
    let app = app_with(vec![open(), inscribe("peru"), Command::RaisePointOfOrder { by: "france".into() }]);
    assert_eq!(view::floor_hints(&app), ["R: rule on the point of order"]);
    assert!(view::footer_hints(&app).iter().any(|(k, _)| k == "R"));
    let app = app_with(vec![open(), inscribe("peru")]);
    assert!(!view::footer_hints(&app).iter().any(|(k, _)| k == "R"));
}

#[test]
fn a_lost_speaker_is_interrupted_with_one_key_from_the_floor() {
    let entry = app_with(vec![open(), inscribe("ghana")]).selectable()[0].id;
    let mut app = app_with(vec![open(), inscribe("ghana"), Command::GiveFloor { entry, budget: None }]);
    let turn = app.session().and_then(|s| s.floor.as_ref()).expect("floor").id;
    let hints = view::floor_hints(&app).join("\n");
    assert!(
        hints.contains("S: lost? interrupt, continue later") && hints.contains("s: connection (unknown)"),
        "{hints}"
    );
    assert_eq!(sent(&press(&mut app, "S")), [Command::SuspendTurn { turn, places: None }]);
    // The connection status of the speaker on the floor is set from the floor too.
    press(&mut app, "s");
    assert!(matches!(&app.mode, Mode::Status(c) if c.participant == "ghana"));
}

#[test]
fn a_group_statement_asks_for_whom_and_takes_a_name_not_in_the_roster() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "ighana");
    update(&mut app, key(KeyCode::Tab)); // national → group
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    let Mode::Picker(picker) = &app.mode else { panic!("the group picker") };
    assert_eq!(picker.purpose, Purpose::OnBehalfOf);
    press(&mut app, "Andean Community");
    assert_eq!(
        sent(&update(&mut app, key(KeyCode::Enter))),
        [Command::Inscribe {
            participant: "ghana".into(),
            segment: None,
            kind: Some(StatementKind::Group),
            level: None,
            on_behalf_of: Some("Andean Community".into()),
            language: None,
        }]
    );
}

#[test]
fn a_name_not_in_the_roster_is_registered_then_inscribed() {
    let mut app = app_with(vec![open()]);
    app.delegate_tokens = Some("sessions/s/tokens.toml".into());
    press(&mut app, "iMigrant Voices Network");
    let Mode::Picker(picker) = &app.mode else { panic!("picker") };
    // The last row takes the name as typed.
    assert!(picker.offers_typed());
    let rows = picker.results.len() + 1;
    for _ in 0..rows {
        update(&mut app, key(KeyCode::Down));
    }
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    let Mode::Register(form) = &app.mode else { panic!("the registration form") };
    assert_eq!(form.name, "Migrant Voices Network");
    // Typing goes to the name first; a stakeholder by default; the constituency: migrant organization.
    for _ in 0..3 {
        update(&mut app, key(KeyCode::Down)); // name → short name → kind → constituency
    }
    update(&mut app, key(KeyCode::Right));
    let effects = update(&mut app, key(KeyCode::Enter));
    let commands = sent(&effects);
    let [Command::RegisterParticipant { participant }] = commands.as_slice() else { panic!("{effects:?}") };
    assert_eq!(participant.id, "migrant-voices-network");
    assert_eq!(participant.kind, ParticipantKind::Stakeholder);
    assert_eq!(participant.constituency, Some(crate::domain::Constituency::MigrantOrganization));
    // Its event, then accepted: the picker opens on the name, to inscribe them.
    let state = app.live.replica.state.clone().expect("state");
    let command = Command::RegisterParticipant { participant: participant.clone() };
    let events = domain::decide(&state, command, &Actor::chair("chair"), t(5)).expect("accepted");
    update(&mut app, frame(ServerFrame::Event { event: Box::new(events[0].clone()) }));
    let Effect::Send { id, .. } = &effects[0] else { panic!("sent") };
    update(&mut app, frame(ServerFrame::Accepted { id: id.clone(), first_seq: Some(2), last_seq: Some(2) }));
    assert!(matches!(&app.mode, Mode::Picker(p) if p.query == "Migrant Voices Network"));
    // Now in the roster: typing its name again offers no second registration.
    let Mode::Picker(picker) = &app.mode else { panic!("picker") };
    assert!(picker.named && !picker.offers_typed(), "{picker:?}");
    // And where its delegate token is (a hub run by this screen).
    assert_eq!(
        app.live.status.clone().expect("status").text,
        "Migrant Voices Network registered: its delegate token is in sessions/s/tokens.toml"
    );
}

#[test]
fn fast_keys_wait_for_the_answer_and_act_as_slow_ones_would() {
    let mut app = app_with(vec![open(), inscribe("peru"), inscribe("chile"), inscribe("holy-see")]);
    let ids: Vec<u64> = app.selectable().iter().map(|e| e.id).collect();
    // n n, fast: the first goes out, the second waits (it must see the first's result).
    let effects: Vec<Effect> = "nn".chars().flat_map(|c| update(&mut app, ch(c))).collect();
    assert_eq!(sent(&effects), [Command::Next { turn: None, entry: ids[0], budget: None }]);
    assert_eq!(app.live.queued.len(), 1);
    // The hub accepts and records: the waiting key acts on the new state.
    let Effect::Send { id, command } = &effects[0] else { panic!("sent") };
    let mut hub = app.session().expect("state").clone();
    let events = domain::decide(&hub, command.clone(), &Actor::chair("chair"), t(100)).expect("accepted");
    for e in &events {
        domain::apply(&mut hub, e);
    }
    let last = events.last().map(|e| e.seq);
    assert!(
        update(&mut app, frame(ServerFrame::Accepted { id: id.clone(), first_seq: last, last_seq: last })).is_empty()
    );
    assert_eq!(app.live.queued.len(), 1, "still waiting for the events");
    let mut effects = Vec::new();
    for e in events {
        effects.extend(update(&mut app, frame(ServerFrame::Event { event: Box::new(e) })));
    }
    let turn = hub.floor.as_ref().map(|t| t.id);
    assert_eq!(sent(&effects), [Command::Next { turn, entry: ids[1], budget: None }]);
    assert!(app.live.queued.is_empty());
}

fn budgeted(commands: Vec<Command>) -> Chair {
    let mut def = crate::config::parse_session(include_str!("../../../tests/data/small.toml")).expect("valid");
    def.segments[0].budgets = vec![crate::domain::Budget {
        per: crate::domain::BudgetPer::RegionalGroup,
        secs: 300,
        kinds: vec![],
        replies: false,
    }];
    let mut s = Session::new(def);
    for (i, command) in commands.into_iter().enumerate() {
        for e in &domain::decide(&s, command, &Actor::chair("chair"), t(i as i64 * 100)).expect("accepted") {
            domain::apply(&mut s, e);
        }
    }
    let mut app = Chair::new(Keymap::from_texts(None, Screen::Chair).expect("keys"), Vec::new(), t(1000));
    connect(&mut app.live, s);
    app
}

#[test]
fn a_statement_over_budget_asks_the_chair_time_left_or_full_time_with_a_reason() {
    // Peru (GRULAC) spoke 4:00 of the group's 5:00; Chile (GRULAC) would need 3:00.
    let mut app =
        budgeted(vec![open(), inscribe("peru"), inscribe("chile"), Command::GiveFloor { entry: 3, budget: None }]);
    let turn = app.session().and_then(|s| s.floor.as_ref()).expect("floor").id;
    let mut s = app.session().expect("state").clone();
    let ended = domain::decide(&s, Command::EndTurn { turn }, &Actor::chair("chair"), t(540)).expect("ends");
    domain::apply(&mut s, &ended[0]);
    let before = s.clone();
    app.live.replica.state = Some(s);
    let chile = app.selectable()[0].id;
    assert!(press(&mut app, "n").is_empty(), "asks first");
    let Mode::Budget(ask) = &app.mode else { panic!("the budget question") };
    assert_eq!(
        ask.question,
        "Chile has 1:00 left of the Latin American and Caribbean States budget (5:00 in this segment) for a 3:00 statement."
    );
    assert_eq!(
        sent(&press(&mut app, "t")),
        [Command::Next { turn: None, entry: chile, budget: Some(domain::BudgetChoice::TimeLeft) }]
    );
    // The other choice, from the same point: the full time, with a reason.
    let mut app = budgeted(vec![open()]);
    app.live.replica.state = Some(before);
    press(&mut app, "nf");
    let effects = press(&mut app, "no other speaker from the region\n".trim_end());
    assert!(effects.is_empty());
    assert_eq!(
        sent(&update(&mut app, key(KeyCode::Enter))),
        [Command::Next {
            turn: None,
            entry: chile,
            budget: Some(domain::BudgetChoice::FullTime { reason: "no other speaker from the region".into() })
        }]
    );
}

#[test]
fn b_opens_the_fairness_panel_and_any_key_closes_it() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "b");
    assert_eq!(app.mode, Mode::Balance { scroll: 0 });
    assert!(press(&mut app, "x").is_empty());
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn after_a_resume_the_header_says_catching_up_until_the_welcome_seq_is_reached() {
    let mut app = app_with(vec![open()]);
    let header = |app: &Chair| {
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 24)).expect("terminal");
        terminal.draw(|f| super::view::render(app, f)).expect("draws");
        let buffer = terminal.backend().buffer().clone();
        (0..100).map(|x| buffer[(x, 0)].symbol().to_string()).collect::<String>()
    };
    update(
        &mut app,
        frame(ServerFrame::Welcome {
            protocol: 2,
            session: "test-session".into(),
            role: crate::domain::Role::Chair,
            name: "chair".into(),
            participant: None,
            person: None,
            epoch: String::new(),
            seq: 2,
            hubs: Vec::new(),
        }),
    );
    assert!(header(&app).contains("catching up 1/2"), "{}", header(&app));
    // The missed event arrives: live again.
    let s = app.live.replica.state.clone().expect("state");
    let events = domain::decide(&s, inscribe("chile"), &Actor::chair("chair"), t(5)).expect("accepted");
    update(&mut app, frame(ServerFrame::Event { event: Box::new(events[0].clone()) }));
    assert_eq!(app.live.catch_up_to, None);
    assert!(header(&app).contains("● hub"), "{}", header(&app));
}

#[test]
fn a_state_registered_late_has_its_level_of_representation() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "iAtlantis Federation");
    let Mode::Picker(picker) = &app.mode else { panic!("picker") };
    for _ in 0..picker.results.len() + 1 {
        update(&mut app, key(KeyCode::Down));
    }
    update(&mut app, key(KeyCode::Enter));
    let Mode::Register(form) = &app.mode else { panic!("the registration form") };
    assert_eq!(form.name, "Atlantis Federation");
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Down)); // name → short name → kind
    update(&mut app, key(KeyCode::Right)); // stakeholder → Member State
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Down)); // → regional group → level (head of delegation)
    update(&mut app, key(KeyCode::Left));
    update(&mut app, key(KeyCode::Left)); // → vice-minister → minister
    let effects = update(&mut app, key(KeyCode::Enter));
    let commands = sent(&effects);
    let [Command::RegisterParticipant { participant }] = commands.as_slice() else { panic!("{effects:?}") };
    assert_eq!(participant.kind, ParticipantKind::MemberState);
    assert_eq!(participant.level, Some(crate::domain::Level::Minister));
    assert!(participant.regional_group.is_some());
}

#[test]
fn a_habitual_yes_after_a_refused_key_does_nothing() {
    // A turn runs: `]` is refused (no question opens), and the `y` that would have
    // answered it answers nothing: it is no action's key.
    let entry = app_with(vec![open(), inscribe("peru")]).selectable()[0].id;
    let mut app =
        app_with(vec![open(), inscribe("peru"), inscribe("chile"), Command::GiveFloor { entry, budget: None }]);
    assert!(press(&mut app, "]").is_empty());
    assert_eq!(app.mode, Mode::Normal, "refused: no question");
    assert!(app.live.status.as_ref().is_some_and(|s| s.text.contains("holds the floor: end the turn first")));
    assert!(press(&mut app, "y").is_empty());
    assert_eq!(app.mode, Mode::Normal, "no right-of-reply picker, no question");
    // The right of reply has a key of its own.
    press(&mut app, "a");
    assert!(matches!(&app.mode, Mode::Picker(p) if p.purpose == Purpose::RightOfReply));
}

#[test]
fn a_co_chair_is_not_offered_the_other_chairs_undo() {
    let amara = Actor::person(
        crate::domain::Role::Chair,
        &crate::domain::Person { id: "amara".into(), name: "Amara".into(), title: None },
    );
    let mut s = session_after(vec![open()]);
    for e in &domain::decide(&s, inscribe("peru"), &amara, t(5)).expect("inscribed") {
        domain::apply(&mut s, e);
    }
    let henrik = Actor::person(
        crate::domain::Role::Chair,
        &crate::domain::Person { id: "henrik".into(), name: "Henrik".into(), title: None },
    );
    let mut app = Chair::new(Keymap::from_texts(None, Screen::Chair).expect("keys"), Vec::new(), t(100));
    connect_as(&mut app.live, s.clone(), henrik);
    let footer: Vec<String> = view::footer_hints(&app).into_iter().map(|(_, what)| what).collect();
    assert!(!footer.contains(&"undo".to_string()), "{footer:?}");
    assert!(press(&mut app, "u").is_empty(), "nothing is sent");
    assert_eq!(
        app.live.status.as_ref().map(|s| s.text.as_str()),
        Some(
            "The inscription of Peru was Amara's action: only Amara may undo it (undo takes back your own last action)"
        )
    );
    let mut app = Chair::new(Keymap::from_texts(None, Screen::Chair).expect("keys"), Vec::new(), t(100));
    connect_as(&mut app.live, s, amara);
    let footer: Vec<String> = view::footer_hints(&app).into_iter().map(|(_, what)| what).collect();
    assert!(footer.contains(&"undo".to_string()), "her own: {footer:?}");
}

#[test]
fn the_join_panel_offers_the_rooms_pages_in_the_six_languages() {
    let mut app = app_with(vec![open()]);
    app.join_urls = vec![crate::hub::JoinUrl {
        session: "s".into(),
        role: "display".into(),
        url: "http://x/v1/sessions/s/display?token=t".into(),
        person: None,
    }];
    let lines: Vec<String> = super::view::join_lines(&app, false).iter().map(|l| l.to_string()).collect();
    assert!(
        lines.contains(&"languages  add &lang=ar|zh|en|fr|ru|es to the display's or speaker's address".to_string()),
        "{lines:?}"
    );
}

#[test]
fn the_arrows_give_the_statements_language_and_the_list_shows_it() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "ipe");
    // ← from none is the last official language; → four times from none is French.
    update(&mut app, key(KeyCode::Left));
    let Mode::Picker(picker) = &app.mode else { panic!("picker") };
    assert_eq!(picker.language.code.as_deref(), Some("es"));
    for _ in 0..5 {
        update(&mut app, key(KeyCode::Right));
    }
    // Typing more of the name keeps the language chosen.
    press(&mut app, "r");
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(sent(&effects), [Command::inscribe_in("peru", "fr")]);
    assert_eq!(app.live.pending.values().next().map(|p| p.what.as_str()), Some("inscribe Peru, in French"));
    answer_all(&mut app);
    assert_eq!(app.selected_entry().and_then(|e| e.language.as_deref()), Some("fr"));
}

#[test]
fn a_group_statement_keeps_the_language_chosen_before_its_group() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "ichile");
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Right));
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    press(&mut app, "afr");
    let effects = update(&mut app, key(KeyCode::Enter));
    let sent = sent(&effects);
    let [Command::Inscribe { on_behalf_of, language, .. }] = sent.as_slice() else { panic!("one inscription") };
    assert_eq!((on_behalf_of.as_deref(), language.as_deref()), (Some("african-group"), Some("ar")));
    assert_eq!(
        app.live.pending.values().next().map(|p| p.what.as_str()),
        Some("inscribe Chile, on behalf of the African Group, in Arabic")
    );
}

#[test]
fn another_language_is_typed_and_a_code_the_rules_refuse_is_said() {
    let mut app = app_with(vec![open()]);
    press(&mut app, "ipe");
    update(&mut app, ctrl('l'));
    // While the code is typed, letters are the code's, not the search's.
    press(&mut app, "pt");
    let Mode::Picker(picker) = &app.mode else { panic!("picker") };
    assert_eq!((picker.query.as_str(), picker.language.typing.as_deref()), ("pe", Some("pt")));
    assert!(view::footer_hints(&app).iter().any(|(_, what)| what == "the ISO 639-1 code"));
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty(), "Enter chooses the code, and sends nothing");
    let effects = update(&mut app, key(KeyCode::Enter));
    let commands = sent(&effects);
    let [Command::Inscribe { language, .. }] = commands.as_slice() else { panic!("one inscription") };
    assert_eq!(language.as_deref(), Some("pt"));
    assert_eq!(app.live.pending.values().next().map(|p| p.what.as_str()), Some("inscribe Peru, in Portuguese"));

    // A code that is no language: the screen sends it, the rules refuse it, and
    // the picker comes back with the query and the code, the refusal said.
    let mut app = app_with(vec![open()]);
    press(&mut app, "ichile");
    update(&mut app, ctrl('l'));
    press(&mut app, "xx");
    update(&mut app, key(KeyCode::Enter));
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(sent(&effects).len(), 1);
    answer_all(&mut app);
    let status = app.live.status.as_ref().expect("a status");
    assert_eq!(status.tone, Tone::Error);
    assert!(status.text.contains("\"xx\" is not an ISO 639-1 language code"), "{}", status.text);
    let Mode::Picker(picker) = &app.mode else { panic!("the picker is back: {:?}", app.mode) };
    assert_eq!((picker.query.as_str(), picker.language.code.as_deref()), ("chile", Some("xx")));
}

#[test]
fn the_chair_is_told_when_a_delegation_acts_for_itself() {
    let mut app = app_with(vec![open()]);
    let s = app.live.replica.state.clone().expect("state");
    let ghana = Actor::delegate("ghana");
    let events = domain::decide(&s, Command::inscribe_in("ghana", "fr"), &ghana, t(5)).expect("inscribed");
    for event in events {
        update(&mut app, frame(ServerFrame::Event { event: Box::new(event) }));
    }
    assert_eq!(app.live.status.as_ref().map(|s| s.text.as_str()), Some("Ghana asks for the floor (in French)"));
}
