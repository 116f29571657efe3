//! The secretariat's console: every session a hub serves on one screen, from the
//! hub's forum connection (`/v1/forum`, docs/protocol.md §13): each session's
//! state, who holds the floor with the clock, the list and its forecast, points of
//! order, remote speakers lost, who follows it, and the alerts that need the
//! secretariat's eye ([`crate::forum::alerts`]). State, messages and the pure
//! `update`; `Enter` asks the run loop to open the selected session (as chair with
//! the secretariat's credential, read-only with the forum observer's), and the
//! run loop brings the console back when that screen is left.

pub mod view;

use crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};

use super::keymap::{Action, Keymap};
use super::live::{LinkStatus, Msg, StatusLine, Tone};
use crate::client::link::LinkEvent;
use crate::domain::{Role, Timestamp};
use crate::forum::SessionSummary;
use crate::protocol::ServerFrame;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    /// Quitting stops the hub this console runs: asked first while others follow it.
    ConfirmQuit(String),
}

/// What the run loop does for the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Open a session's screen: the chair's (`chair`), else a read-only one.
    Open {
        session: String,
        chair: bool,
    },
}

pub struct Console {
    pub keymap: Keymap,
    /// The forum's URL, as given (the sessions' URLs are made from it).
    pub url: String,
    pub link: LinkStatus,
    pub rtt_ms: Option<u64>,
    /// The hub's clock minus ours, in milliseconds.
    pub offset_ms: i64,
    pub local_now: Timestamp,
    pub status: Option<StatusLine>,
    /// The credential the hub recognised (from the `forum` frame).
    pub role: Option<Role>,
    pub name: String,
    /// Every session, in the hub's order.
    pub sessions: Vec<SessionSummary>,
    pub selected: usize,
    pub mode: Mode,
    pub size: (u16, u16),
    pub no_color: bool,
    /// The hub refused the console (no token, a wrong one): why.
    pub refused: Option<String>,
    /// The console runs the hub in its own process (`rostrum forum FILE…`): quitting stops it.
    pub embedded: bool,
}

impl Console {
    pub fn new(keymap: Keymap, url: &str, now: Timestamp) -> Self {
        Self {
            keymap,
            url: url.to_string(),
            link: LinkStatus::Connecting,
            rtt_ms: None,
            offset_ms: 0,
            local_now: now,
            status: None,
            role: None,
            name: String::new(),
            sessions: Vec::new(),
            selected: 0,
            mode: Mode::Normal,
            size: (80, 24),
            no_color: false,
            refused: None,
            embedded: false,
        }
    }

    /// The hub's time now, as best we know it.
    pub fn hub_now(&self) -> Timestamp {
        self.local_now + chrono::Duration::milliseconds(self.offset_ms)
    }

    pub fn selected_session(&self) -> Option<&SessionSummary> {
        self.sessions.get(self.selected)
    }

    /// Whether Enter opens sessions as chair (the secretariat) or read-only.
    pub fn chairs(&self) -> bool {
        self.role == Some(Role::Chair)
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), tone: Tone::Info });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), tone: Tone::Error });
    }

    /// Say something on the status line (the run loop, coming back from a session).
    pub fn say(&mut self, text: impl Into<String>, error: bool) {
        if error { self.error(text) } else { self.info(text) }
    }

    fn keep_selection(&mut self, id: Option<String>) {
        if let Some(i) = id.and_then(|id| self.sessions.iter().position(|s| s.id == id)) {
            self.selected = i;
        }
        self.selected = self.selected.min(self.sessions.len().saturating_sub(1));
    }

    fn move_selection(&mut self, delta: isize) {
        let last = self.sessions.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }
}

/// A session's URL on the hub, from the forum's (`…/v1/forum?token=T` → `…/v1/sessions/ID?token=T`).
pub fn session_url(forum_url: &str, session: &str) -> String {
    let (base, query) = forum_url.split_once('?').map_or((forum_url, None), |(b, q)| (b, Some(q)));
    let root = base.strip_suffix("/v1/forum").or_else(|| base.strip_suffix("/v1/forum/")).unwrap_or(base);
    match query {
        Some(q) => format!("{root}/v1/sessions/{session}?{q}"),
        None => format!("{root}/v1/sessions/{session}"),
    }
}

pub fn update(c: &mut Console, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) if key.kind == KeyEventKind::Press => on_key(c, key),
        Msg::Key(_) | Msg::Saved(_) | Msg::SaveFailed(_) | Msg::Peers(_) => Vec::new(),
        Msg::Mouse(mouse) => {
            on_mouse(c, mouse);
            Vec::new()
        }
        Msg::Resize(w, h) => {
            c.size = (w, h);
            Vec::new()
        }
        Msg::Tick(now) => {
            c.local_now = now;
            Vec::new()
        }
        Msg::Link(event) => {
            on_link(c, event);
            Vec::new()
        }
    }
}

fn on_link(c: &mut Console, event: LinkEvent) {
    match event {
        LinkEvent::Connecting { .. } | LinkEvent::NotSent { .. } => {}
        LinkEvent::Connected => {
            c.link = LinkStatus::Connected;
            let hub = c.url.split("/v1/forum").next().unwrap_or_default().to_string();
            if c.embedded {
                c.info(format!("this console runs the hub at {hub}: quitting stops it"));
            } else {
                c.info(format!("connected to the forum of the hub at {hub}"));
            }
        }
        LinkEvent::Clock { rtt_ms, offset_ms } => {
            c.rtt_ms = Some(rtt_ms);
            c.offset_ms = offset_ms;
        }
        LinkEvent::Disconnected { reason, retry_in } => {
            let attempt = match &c.link {
                LinkStatus::Reconnecting { attempt, .. } => attempt + 1,
                _ => 1,
            };
            c.link = LinkStatus::Reconnecting { reason: reason.clone(), attempt };
            c.rtt_ms = None;
            c.error(format!(
                "hub unreachable ({reason}); attempt {attempt}, retrying in {} ms: the sessions shown are as they were",
                retry_in.as_millis()
            ));
        }
        LinkEvent::Refused { reason } => {
            c.link = LinkStatus::Refused { reason: reason.clone() };
            c.refused = Some(reason.clone());
            c.error(format!("the hub refused the console: {reason}"));
        }
        LinkEvent::Frame(envelope) => {
            let selected = c.selected_session().map(|s| s.id.clone());
            match envelope.frame {
                ServerFrame::Forum { role, name, sessions, .. } => {
                    c.role = Some(role);
                    c.name = name;
                    c.sessions = sessions;
                }
                ServerFrame::ForumSession { session } => match c.sessions.iter_mut().find(|s| s.id == session.id) {
                    Some(held) => *held = *session,
                    None => c.sessions.push(*session),
                },
                ServerFrame::Error { reason, .. } => c.error(format!("hub: {reason}")),
                _ => {}
            }
            c.keep_selection(selected);
        }
    }
}

fn on_key(c: &mut Console, key: KeyEvent) -> Vec<Effect> {
    match &c.mode {
        Mode::Help => {
            c.mode = Mode::Normal;
            return Vec::new();
        }
        Mode::ConfirmQuit(_) => {
            let ctrl_c = key.code == crossterm::event::KeyCode::Char('c')
                && key.modifiers.contains(crossterm::event::KeyModifiers::CONTROL);
            match key.code {
                crossterm::event::KeyCode::Char('y') => return vec![Effect::Quit],
                crossterm::event::KeyCode::Esc => {
                    c.mode = Mode::Normal;
                    c.info("cancelled: the hub goes on");
                }
                _ if ctrl_c => return vec![Effect::Quit],
                // Any other key answers nothing.
                _ => {}
            }
            return Vec::new();
        }
        Mode::Normal => {}
    }
    let Some(action) = c.keymap.resolve(&key) else { return Vec::new() };
    match action {
        Action::Quit => {
            // Everyone following a session of this hub: screens, pages, co-chairs.
            let others: usize = c
                .sessions
                .iter()
                .map(|s| {
                    let p = s.connected;
                    p.chairs + p.rapporteurs + p.delegates + p.observers + p.displays
                })
                .sum();
            if c.embedded && others > 0 {
                let them = if others == 1 { "1 connection" } else { &format!("{others} connections") };
                c.mode = Mode::ConfirmQuit(format!(
                    "Quit? This console runs the hub: {them} to its sessions (screens, pages and co-chairs) will be cut off until you start it again."
                ));
                return Vec::new();
            }
            return vec![Effect::Quit];
        }
        Action::Help => c.mode = Mode::Help,
        Action::Up => c.move_selection(-1),
        Action::Down => c.move_selection(1),
        Action::PageUp => c.move_selection(-5),
        Action::PageDown => c.move_selection(5),
        Action::Top => c.selected = 0,
        Action::Bottom => c.selected = c.sessions.len().saturating_sub(1),
        Action::Open => {
            let Some(session) = c.selected_session().map(|s| s.id.clone()) else {
                let why = if c.refused.is_some() { "the hub refused the console" } else { "no session yet" };
                c.error(format!("nothing to open: {why}"));
                return Vec::new();
            };
            if c.role.is_none() {
                c.error("waiting for the hub: nothing to open yet");
                return Vec::new();
            }
            return vec![Effect::Open { session, chair: c.chairs() }];
        }
        _ => {}
    }
    Vec::new()
}

fn on_mouse(c: &mut Console, mouse: MouseEvent) {
    match mouse.kind {
        MouseEventKind::ScrollDown => c.move_selection(1),
        MouseEventKind::ScrollUp => c.move_selection(-1),
        MouseEventKind::Down(MouseButton::Left) if c.mode == Mode::Normal => {
            let area = ratatui::layout::Rect::new(0, 0, c.size.0, c.size.1);
            if let Some(i) = view::session_at(c, area, mouse.row) {
                c.selected = i;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
