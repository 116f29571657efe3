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

/// A screen's link, connected to a hub that holds `session`.
pub fn connect(live: &mut Live, session: Session) {
    live.replica.state = Some(session);
    live.link = LinkStatus::Connected;
}

pub fn inscribe(p: &str) -> Command {
    Command::Inscribe { participant: p.into(), segment: None, kind: None, level: None, on_behalf_of: None }
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
