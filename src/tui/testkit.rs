//! What the screens' update() tests share: the test session, the chair's
//! commands that set it up, keys and hub frames as messages.

use chrono::{Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::client::link::LinkEvent;
use crate::domain::{self, Actor, Command, Session, Timestamp};
use crate::protocol::{Envelope, ServerFrame};
use crate::tui::live::{LinkStatus, Live, Msg};

/// `secs` after the test session's start (10:00 in New York).
pub fn t(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("valid") + Duration::seconds(secs)
}

pub fn session() -> Session {
    Session::new(crate::config::parse_session(include_str!("../../tests/data/small.toml")).expect("valid"))
}

/// The test session after the chair's `commands`, one a second.
pub fn session_after(commands: Vec<Command>) -> Session {
    let mut s = session();
    for (i, command) in commands.into_iter().enumerate() {
        for e in &domain::decide(&s, command, &Actor::chair("chair"), t(i as i64)).expect("accepted") {
            domain::apply(&mut s, e);
        }
    }
    s
}

/// A screen's link, connected to a hub that holds `session`, as the chair
/// with the shared token.
pub fn connect(live: &mut Live, session: Session) {
    connect_as(live, session, Actor::chair("chair"));
}

/// A screen's link, connected to a hub that holds `session`, as `actor`.
pub fn connect_as(live: &mut Live, session: Session, actor: Actor) {
    live.replica.state = Some(session);
    live.link = LinkStatus::Connected;
    live.role = Some(actor.role);
    live.actor = Some(actor);
}

/// What a hub answers to the commands a screen has sent and not had answered:
/// the real [`domain::decide`] on the session the screen holds (the hub's, in
/// these tests), each accepted command's events as frames, then its `accepted`,
/// or its `rejected` with the rules' reason. A screen that offers what the rules
/// refuse shows it in its test.
pub fn hub_answers(live: &Live) -> Vec<Msg> {
    let Some(state) = live.session() else { return Vec::new() };
    let mut state = state.clone();
    let actor = live.actor.clone().unwrap_or_else(|| Actor::chair("chair"));
    let now = live.hub_now();
    let mut msgs = Vec::new();
    for pending in live.pending.values() {
        match domain::decide(&state, pending.command.clone(), &actor, now) {
            Ok(events) => {
                for event in &events {
                    domain::apply(&mut state, event);
                    msgs.push(frame(ServerFrame::Event { event: Box::new(event.clone()) }));
                }
                msgs.push(frame(ServerFrame::Accepted {
                    id: pending.id.clone(),
                    first_seq: events.first().map(|e| e.seq),
                    last_seq: events.last().map(|e| e.seq),
                }));
            }
            Err(rejection) => {
                msgs.push(frame(ServerFrame::rejected(pending.id.clone(), rejection.code, rejection.reason)))
            }
        }
    }
    msgs
}

pub fn inscribe(p: &str) -> Command {
    Command::inscribe(p)
}

pub fn open() -> Command {
    Command::OpenSegment { segment: "general".into() }
}

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// A frame from the hub, sent at `t(100)`.
pub fn frame(frame: ServerFrame) -> Msg {
    Msg::Link(LinkEvent::Frame(Box::new(Envelope { frame, now: t(100) })))
}
