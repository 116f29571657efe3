//! The delegate's screen: a delegation (or organization, or stakeholder) follows
//! the session, sees its own entries, their places and why, and its own countdown
//! when it holds the floor. It offers only what the hub lets a delegate do, for
//! its own participant: inscribe (a national statement, or one on behalf of a group
//! it names), withdraw its entries, request or withdraw a right of reply, raise a
//! point of order (Member States), report its connection (remote participants).

pub mod view;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};

use super::keymap::{Action, Keymap};
use super::live::{Effect, Live, Msg};
use crate::client::link::LinkEvent;
use crate::domain::{
    Command, ConnectionStatus, Entry, Modality, Participant, ParticipantKind, Session, StatementKind, Timestamp,
};
use crate::protocol::ServerFrame;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Confirm {
        question: String,
        command: Command,
    },
    /// Inscribing a Member State: a national statement, or on behalf of a group (typed).
    Inscribe {
        group: Option<String>,
    },
    /// Reporting the connection: connected, or a technical issue.
    Connection,
}

pub struct Delegate {
    pub live: Live,
    /// The participant this delegate speaks for (from the hub's welcome).
    pub participant: Option<String>,
    /// Index into the open segment's list followed by its rights of reply.
    pub selected: usize,
    pub mode: Mode,
}

/// What this delegate may do now: the keys the screen offers, and nothing the hub would refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allowed {
    pub inscribe: bool,
    pub withdraw: bool,
    pub reply: ReplyAction,
    pub point_of_order: bool,
    pub connection: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyAction {
    #[default]
    None,
    Request,
    /// Withdraw the pending right of reply with this entry id.
    Withdraw(u64),
}

impl Delegate {
    pub fn new(keymap: Keymap, now: Timestamp) -> Self {
        Self { live: Live::new(keymap, now), participant: None, selected: 0, mode: Mode::Normal }
    }

    pub fn session(&self) -> Option<&Session> {
        self.live.session()
    }

    pub fn me(&self) -> Option<&Participant> {
        let id = self.participant.as_deref()?;
        self.session()?.def.participant(id)
    }

    /// The open segment (or the first) whose lists the screen shows.
    pub fn segment(&self) -> usize {
        self.session().and_then(|s| s.current_segment).unwrap_or(0)
    }

    pub fn selectable(&self) -> Vec<&Entry> {
        self.session()
            .and_then(|s| s.segments.get(self.segment()))
            .map(|state| state.list.iter().chain(state.replies.iter()).collect())
            .unwrap_or_default()
    }

    /// The selected entry, if it is this delegate's own.
    pub fn own_selected(&self) -> Option<&Entry> {
        let me = self.participant.as_deref()?;
        self.selectable().get(self.selected).copied().filter(|e| e.participant == me)
    }

    /// This delegate's entries on the open segment's lists: (position, entry), 1-based, "R" for replies.
    pub fn own_entries(&self) -> Vec<(String, &Entry)> {
        let Some(me) = self.participant.as_deref() else { return Vec::new() };
        let Some(state) = self.session().and_then(|s| s.segments.get(self.segment())) else { return Vec::new() };
        let list = state.list.iter().enumerate().map(|(i, e)| (format!("{}", i + 1), e));
        let replies = state.replies.iter().map(|e| ("R".to_string(), e));
        list.chain(replies).filter(|(_, e)| e.participant == me).collect()
    }

    pub fn allowed(&self) -> Allowed {
        let (Some(session), Some(me)) = (self.session(), self.me()) else { return Allowed::default() };
        if session.closed_at.is_some() {
            return Allowed::default();
        }
        let segment = self.segment();
        let state = session.segments.get(segment);
        let def = session.segment_def(segment);
        let open_list = state.is_some_and(|s| !s.closed && s.ended_at.is_none());
        let on_list = state.is_some_and(|s| s.list.iter().any(|e| e.participant == me.id));
        let multiple = def.is_some_and(|d| d.allow_multiple);
        let pending_reply = state.and_then(|s| s.replies.iter().find(|e| e.participant == me.id)).map(|e| e.id);
        let reply = match (pending_reply, me.kind.is_state(), session.current_segment) {
            (Some(entry), _, _) => ReplyAction::Withdraw(entry),
            (None, true, Some(current)) => {
                let limits = session.segment_def(current).map(|d| d.limits).unwrap_or_default();
                let taken =
                    session.segments.get(current).and_then(|s| s.replies_taken.get(&me.id)).copied().unwrap_or(0);
                if taken < limits.replies_per_delegation { ReplyAction::Request } else { ReplyAction::None }
            }
            _ => ReplyAction::None,
        };
        Allowed {
            inscribe: open_list && (!on_list || multiple),
            withdraw: self.own_selected().is_some(),
            reply,
            point_of_order: me.kind == ParticipantKind::MemberState && session.point_of_order.is_none(),
            connection: me.modality == Modality::Remote,
        }
    }

    fn move_selection(&mut self, delta: isize) {
        let len = self.selectable().len();
        self.selected = if len == 0 { 0 } else { self.selected.saturating_add_signed(delta).min(len - 1) };
    }
}

pub fn update(d: &mut Delegate, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) if key.kind == KeyEventKind::Press => on_key(d, key),
        Msg::Key(_) | Msg::Peers(_) | Msg::Saved(_) | Msg::SaveFailed(_) => Vec::new(),
        Msg::Mouse(mouse) => {
            match mouse.kind {
                MouseEventKind::ScrollDown => d.move_selection(1),
                MouseEventKind::ScrollUp => d.move_selection(-1),
                _ => {}
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            d.live.size = (w, h);
            Vec::new()
        }
        Msg::Tick(now) => {
            d.live.local_now = now;
            Vec::new()
        }
        Msg::Link(event) => {
            if let LinkEvent::Frame(envelope) = &event
                && let ServerFrame::Welcome { participant, .. } = &envelope.frame
            {
                d.participant = participant.clone();
            }
            let (effects, _) = d.live.on_link(event);
            if let Some(role) = d.live.role
                && role != crate::domain::Role::Delegate
            {
                return vec![Effect::Fail(format!(
                    "this token is {}'s, not a delegate's: the delegates' tokens are in the session's tokens.toml ([delegates])",
                    role.with_article()
                ))];
            }
            let len = d.selectable().len();
            d.selected = d.selected.min(len.saturating_sub(1));
            effects
        }
    }
}

fn on_key(d: &mut Delegate, key: KeyEvent) -> Vec<Effect> {
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl_c {
        return vec![Effect::Quit];
    }
    match d.mode.clone() {
        Mode::Normal => match d.live.keymap.resolve(&key) {
            Some(action) => on_action(d, action),
            None => Vec::new(),
        },
        Mode::Help => {
            d.mode = Mode::Normal;
            Vec::new()
        }
        Mode::Confirm { command, .. } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                d.mode = Mode::Normal;
                let what = describe(d, &command);
                d.live.send(command, what)
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                d.mode = Mode::Normal;
                d.live.info("cancelled: nothing was sent");
                Vec::new()
            }
            _ => Vec::new(),
        },
        Mode::Inscribe { group } => on_inscribe_key(d, group, key),
        Mode::Connection => {
            let status = match key.code {
                KeyCode::Char('1') | KeyCode::Char('c') => ConnectionStatus::Connected,
                KeyCode::Char('2') | KeyCode::Char('t') => ConnectionStatus::TechnicalIssue,
                KeyCode::Esc => {
                    d.mode = Mode::Normal;
                    return Vec::new();
                }
                _ => return Vec::new(),
            };
            d.mode = Mode::Normal;
            let (Some(me), Some(session)) = (d.participant.clone(), d.session()) else { return Vec::new() };
            let from = session.connection(&me);
            if from == status {
                d.live.info(format!("already marked {}", status.label()));
                return Vec::new();
            }
            d.live.send(
                Command::SetConnection { participant: me, status, from: Some(from) },
                format!("report: {}", status.label()),
            )
        }
    }
}

/// Inscribing: Enter a national statement (or the participant's own kind); `g`
/// then a group's name for a statement on behalf of that group.
fn on_inscribe_key(d: &mut Delegate, group: Option<String>, key: KeyEvent) -> Vec<Effect> {
    let Some(me) = d.me().cloned() else {
        d.mode = Mode::Normal;
        return Vec::new();
    };
    match (group, key.code) {
        (_, KeyCode::Esc) => {
            d.mode = Mode::Normal;
            Vec::new()
        }
        (None, KeyCode::Char('1') | KeyCode::Enter) => {
            d.mode = Mode::Normal;
            inscribe(d, &me, None)
        }
        (None, KeyCode::Char('2') | KeyCode::Char('g')) if me.kind == ParticipantKind::MemberState => {
            d.mode = Mode::Inscribe { group: Some(String::new()) };
            Vec::new()
        }
        (Some(mut text), KeyCode::Char(c)) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            text.push(c);
            d.mode = Mode::Inscribe { group: Some(text) };
            Vec::new()
        }
        (Some(mut text), KeyCode::Backspace) => {
            text.pop();
            d.mode = Mode::Inscribe { group: Some(text) };
            Vec::new()
        }
        (Some(text), KeyCode::Enter) if !text.trim().is_empty() => {
            d.mode = Mode::Normal;
            // A group of the roster, found by its name or id; else the name as typed.
            let group = d
                .session()
                .and_then(|s| {
                    s.def.participants.iter().find(|p| {
                        p.kind == ParticipantKind::GroupOfStates
                            && (p.id == text.trim()
                                || p.name.eq_ignore_ascii_case(text.trim())
                                || p.short.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(text.trim())))
                    })
                })
                .map_or_else(|| text.trim().to_string(), |g| g.id.clone());
            inscribe(d, &me, Some(group))
        }
        (group, _) => {
            d.mode = Mode::Inscribe { group };
            Vec::new()
        }
    }
}

fn inscribe(d: &mut Delegate, me: &Participant, group: Option<String>) -> Vec<Effect> {
    let kind = group.as_ref().map(|_| StatementKind::Group);
    let what = match (&group, d.session()) {
        (Some(g), Some(s)) => format!("inscribe {}, on behalf of {}", me.name, s.group_name(g)),
        _ => format!("inscribe {}", me.name),
    };
    d.live.send(
        Command::Inscribe { participant: me.id.clone(), segment: None, kind, level: None, on_behalf_of: group },
        what,
    )
}

fn describe(d: &Delegate, command: &Command) -> String {
    match command {
        Command::Withdraw { .. } => "withdraw my entry".to_string(),
        Command::WithdrawReply { .. } => "withdraw my right of reply".to_string(),
        Command::RaisePointOfOrder { .. } => "point of order".to_string(),
        other => {
            let _ = d;
            other.name().to_string()
        }
    }
}

fn on_action(d: &mut Delegate, action: Action) -> Vec<Effect> {
    let allowed = d.allowed();
    let refuse = |d: &mut Delegate, why: &str| {
        d.live.error(why.to_string());
        Vec::new()
    };
    match action {
        Action::Quit => vec![Effect::Quit],
        Action::Help => {
            d.mode = Mode::Help;
            Vec::new()
        }
        Action::Up => {
            d.move_selection(-1);
            Vec::new()
        }
        Action::Down => {
            d.move_selection(1);
            Vec::new()
        }
        Action::PageUp => {
            d.move_selection(-10);
            Vec::new()
        }
        Action::PageDown => {
            d.move_selection(10);
            Vec::new()
        }
        Action::Top => {
            d.selected = 0;
            Vec::new()
        }
        Action::Bottom => {
            d.selected = d.selectable().len().saturating_sub(1);
            Vec::new()
        }
        Action::Inscribe if allowed.inscribe => {
            let member_state = d.me().is_some_and(|p| p.kind == ParticipantKind::MemberState);
            if member_state {
                d.mode = Mode::Inscribe { group: None };
                Vec::new()
            } else {
                let Some(me) = d.me().cloned() else { return Vec::new() };
                inscribe(d, &me, None)
            }
        }
        Action::Inscribe => refuse(d, "you cannot inscribe now: the list is closed, or you are on it already"),
        Action::Withdraw => match d.own_selected().cloned() {
            Some(e) => {
                let command = if e.kind == StatementKind::Reply {
                    Command::WithdrawReply { entry: e.id }
                } else {
                    Command::Withdraw { entry: e.id }
                };
                d.mode = Mode::Confirm { question: "Withdraw your entry from the list?".to_string(), command };
                Vec::new()
            }
            None => refuse(d, "select one of your own entries (marked ▶) first"),
        },
        Action::RightOfReply => match allowed.reply {
            ReplyAction::Request => {
                let Some(me) = d.participant.clone() else { return Vec::new() };
                d.live.send(Command::RequestReply { participant: me, segment: None }, "request a right of reply".into())
            }
            ReplyAction::Withdraw(entry) => {
                d.mode = Mode::Confirm {
                    question: "Withdraw your right of reply?".to_string(),
                    command: Command::WithdrawReply { entry },
                };
                Vec::new()
            }
            ReplyAction::None => refuse(d, "no right of reply can be requested now"),
        },
        Action::PointOfOrder if allowed.point_of_order => {
            let Some(me) = d.participant.clone() else { return Vec::new() };
            d.live.send(Command::RaisePointOfOrder { by: me }, "point of order".into())
        }
        Action::PointOfOrder => {
            let why = match d.session().and_then(|s| s.point_of_order.as_ref().map(|p| s.name_of(&p.by).to_string())) {
                Some(by) => format!("a point of order by {by} is pending: the chair rules on it first"),
                None => "only a Member State may raise a point of order".to_string(),
            };
            refuse(d, &why)
        }
        Action::Connection if allowed.connection => {
            d.mode = Mode::Connection;
            Vec::new()
        }
        Action::Connection => refuse(d, "you take part in the room: there is no connection to report"),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
