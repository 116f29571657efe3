use super::*;
use crate::client::link::LinkEvent;
use crate::domain::{Command, ConnectionStatus};
use crate::forum::{Alert, alerts, summarize};
use crate::protocol::ServerFrame;
use crate::tui::keymap::Screen;
use crate::tui::testkit::{ch, frame, inscribe, key, open, session_after, t};
use crossterm::event::KeyCode;

fn console() -> Console {
    let keymap = Keymap::from_texts(None, Screen::Forum).expect("keys");
    let mut c = Console::new(keymap, "ws://127.0.0.1:7878/v1/forum?token=abc", t(0));
    update(&mut c, Msg::Link(LinkEvent::Connected));
    c
}

/// The test session with Peru on the floor since t(4), Ghana lost on the list.
fn running() -> SessionSummary {
    summarize(&session_after(vec![
        open(),
        inscribe("peru"),
        inscribe("ghana"),
        Command::GiveFloor { entry: 3, budget: None },
    ]))
}

fn forum_frame(role: Role, sessions: Vec<SessionSummary>) -> Msg {
    frame(ServerFrame::Forum { protocol: 2, role, name: "secretariat".into(), sessions, hubs: Vec::new() })
}

#[test]
fn the_forum_frame_lists_the_sessions_and_a_summary_replaces_its_own() {
    let mut c = console();
    let mut other = running();
    other.id = "other".into();
    other.title = "Another session".into();
    update(&mut c, forum_frame(Role::Chair, vec![running(), other.clone()]));
    assert_eq!(c.sessions.len(), 2);
    // The second session selected stays selected when the first changes.
    update(&mut c, key(KeyCode::Down));
    assert_eq!(c.selected_session().map(|s| s.id.as_str()), Some("other"));
    let mut changed = running();
    changed.floor = None;
    update(&mut c, frame(ServerFrame::ForumSession { session: Box::new(changed) }));
    assert!(c.sessions[0].floor.is_none());
    assert_eq!(c.selected, 1);
    // A session the console did not know joins the list.
    let mut third = running();
    third.id = "third".into();
    update(&mut c, frame(ServerFrame::ForumSession { session: Box::new(third) }));
    assert_eq!(c.sessions.len(), 3);
}

#[test]
fn enter_opens_the_selected_session_as_the_credential_allows() {
    let mut c = console();
    // Before the hub says who we are, nothing opens.
    assert!(update(&mut c, key(KeyCode::Enter)).is_empty());
    update(&mut c, forum_frame(Role::Chair, vec![running()]));
    assert_eq!(update(&mut c, key(KeyCode::Enter)), [Effect::Open { session: "test-session".into(), chair: true }]);
    let mut c = console();
    update(&mut c, forum_frame(Role::Observer, vec![running()]));
    assert_eq!(update(&mut c, ch('o')), [Effect::Open { session: "test-session".into(), chair: false }]);
    assert_eq!(update(&mut c, ch('q')), [Effect::Quit]);
    // Help opens and any key closes it, doing nothing else.
    update(&mut c, ch('?'));
    assert_eq!(c.mode, Mode::Help);
    assert!(update(&mut c, ch('q')).is_empty());
    assert_eq!(c.mode, Mode::Normal);
}

#[test]
fn a_refusal_is_kept_and_said_not_fatal() {
    let mut c = console();
    let reason = "the forum needs the secretariat's token (HTTP 401)".to_string();
    assert!(update(&mut c, Msg::Link(LinkEvent::Refused { reason: reason.clone() })).is_empty());
    assert_eq!(c.refused.as_deref(), Some(reason.as_str()));
    assert!(c.status.as_ref().is_some_and(|s| s.text.contains("refused")));
    assert!(update(&mut c, key(KeyCode::Enter)).is_empty());
    assert_eq!(update(&mut c, ch('q')), [Effect::Quit]);
}

#[test]
fn a_sessions_url_is_made_from_the_forums() {
    assert_eq!(
        session_url("ws://h:1/v1/forum?token=abc", "imrf-2022-hearing"),
        "ws://h:1/v1/sessions/imrf-2022-hearing?token=abc"
    );
    assert_eq!(session_url("wss://h/v1/forum", "x"), "wss://h/v1/sessions/x");
}

#[test]
fn alerts_follow_the_hubs_clock_and_the_lists() {
    let summary = summarize(&session_after(vec![
        open(),
        inscribe("peru"),
        inscribe("ghana"),
        Command::GiveFloor { entry: 3, budget: None },
        Command::SetConnection { participant: "ghana".into(), status: ConnectionStatus::TechnicalIssue, from: None },
    ]));
    // Peru was given the floor at t(3) with 3:00: at t(200) it is 17 s over, no alert for it.
    assert_eq!(alerts(&summary, t(200)), [Alert::Lost { names: vec!["Ghana".into()] }]);
    let later = alerts(&summary, t(3 + 180 + 61));
    assert!(matches!(later[0], Alert::Overrun { over_ms: 61_000, .. }), "{later:?}");
    // An hour on, the list (Ghana's 3:00 after Peru's) runs past the segment's hour.
    let late = alerts(&summary, t(3600));
    assert!(late.iter().any(|a| matches!(a, Alert::Late { .. })), "{late:?}");
}

#[test]
fn a_row_that_does_not_fit_ends_in_an_ellipsis_and_keeps_its_first_pieces() {
    use ratatui::style::Style;
    let pieces = || {
        vec![("OVERRUN +1:15 ".to_string(), Style::new()), ("Mexico · national statement".to_string(), Style::new())]
    };
    let text = |line: ratatui::text::Line| line.spans.iter().map(|s| s.content.to_string()).collect::<String>();
    assert_eq!(text(view::fit(pieces(), 80)), "OVERRUN +1:15 Mexico · national statement");
    assert_eq!(text(view::fit(pieces(), 22)), "OVERRUN +1:15 Mexico…");
    assert_eq!(text(view::fit(pieces(), 10)), "OVERRUN +…");
    assert_eq!(text(view::fit(pieces(), 1)), "…");
}

#[test]
fn quitting_the_console_that_runs_the_hub_asks_while_others_follow_it() {
    let mut c = console();
    c.embedded = true;
    let mut followed = running();
    followed.connected.rapporteurs = 1;
    update(&mut c, forum_frame(Role::Chair, vec![followed]));
    assert!(update(&mut c, ch('q')).is_empty());
    assert!(matches!(&c.mode, Mode::ConfirmQuit(q) if q.contains("1 connection")), "{:?}", c.mode);
    assert!(update(&mut c, ch('q')).is_empty(), "only y answers yes");
    update(&mut c, key(KeyCode::Esc));
    assert_eq!(c.mode, Mode::Normal);
    update(&mut c, ch('q'));
    assert_eq!(update(&mut c, ch('y')), [Effect::Quit]);
    // With no one else following, it quits at once.
    let mut c = console();
    c.embedded = true;
    update(&mut c, forum_frame(Role::Chair, vec![running()]));
    assert_eq!(update(&mut c, ch('q')), [Effect::Quit]);
}
