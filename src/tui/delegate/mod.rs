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
use super::widgets;
use crate::client::link::LinkEvent;
use crate::domain::{
    Command, ConnectionStatus, Entry, Move, Offer, Offers, Participant, ParticipantKind, Session, StatementKind,
    Timestamp, connection_choices,
};
use crate::protocol::ServerFrame;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    /// A question the rules ask before the move is made.
    Confirm {
        question: String,
        offer: Box<Offer>,
    },
    /// Inscribing: a national statement, or (a Member State) on behalf of a group
    /// (typed), in the language chosen with ←→ or typed.
    Inscribe {
        group: Option<String>,
        language: widgets::language::Choice,
    },
    /// Reporting the connection: 1 connected, 2 technical issue, each with the
    /// command or why it cannot be reported now.
    Connection {
        choices: Vec<(ConnectionStatus, Result<Command, crate::domain::Rejection>)>,
    },
}

pub struct Delegate {
    pub live: Live,
    /// The participant this delegate speaks for (from the hub's welcome).
    pub participant: Option<String>,
    /// Index into the open segment's list followed by its rights of reply.
    pub selected: usize,
    pub mode: Mode,
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

    /// The selected entry (anyone's).
    pub fn selected_entry(&self) -> Option<&Entry> {
        self.selectable().get(self.selected).copied()
    }

    /// This delegate's entries on the open segment's lists: (position, entry), 1-based, "R" for replies.
    pub fn own_entries(&self) -> Vec<(String, &Entry)> {
        let Some(me) = self.participant.as_deref() else { return Vec::new() };
        let Some(state) = self.session().and_then(|s| s.segments.get(self.segment())) else { return Vec::new() };
        let list = state.list.iter().enumerate().map(|(i, e)| (format!("{}", i + 1), e));
        let replies = state.replies.iter().map(|e| ("R".to_string(), e));
        list.chain(replies).filter(|(_, e)| e.participant == me).collect()
    }

    /// What the rules let this delegate do now (the domain's answer on the replica).
    pub fn offers(&self) -> Offers {
        self.live.offers(self.selected_entry().map(|e| e.id))
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
        Mode::Confirm { offer, .. } => match d.live.keymap.resolve(&key) {
            Some(Action::Yes) => {
                d.mode = Mode::Normal;
                match offer.command {
                    Some(command) => d.live.send(command, offer.what),
                    None => Vec::new(),
                }
            }
            Some(Action::No) => {
                d.mode = Mode::Normal;
                d.live.info("cancelled: nothing was sent");
                Vec::new()
            }
            _ => Vec::new(),
        },
        Mode::Inscribe { group, language } => on_inscribe_key(d, group, language, key),
        Mode::Connection { choices } => {
            let pick = match key.code {
                KeyCode::Char(c @ '1'..='9') => usize::from(c as u8 - b'1'),
                KeyCode::Esc => {
                    d.mode = Mode::Normal;
                    return Vec::new();
                }
                _ => return Vec::new(),
            };
            let Some((status, command)) = choices.get(pick).cloned() else { return Vec::new() };
            match command {
                Ok(command) => {
                    d.mode = Mode::Normal;
                    d.live.send(command, format!("report: {}", status.label()))
                }
                Err(rejection) => {
                    d.live.error(rejection.reason);
                    Vec::new()
                }
            }
        }
    }
}

/// Inscribing: Enter a national statement (or the participant's own kind); `g`
/// then a group's name for a statement on behalf of that group; ←→ the language.
fn on_inscribe_key(
    d: &mut Delegate,
    group: Option<String>,
    mut language: widgets::language::Choice,
    key: KeyEvent,
) -> Vec<Effect> {
    let Some(me) = d.me().cloned() else {
        d.mode = Mode::Normal;
        return Vec::new();
    };
    if language.on_key(&key) {
        d.mode = Mode::Inscribe { group, language };
        return Vec::new();
    }
    match (group, key.code) {
        (_, KeyCode::Esc) => {
            d.mode = Mode::Normal;
            Vec::new()
        }
        (None, KeyCode::Char('1') | KeyCode::Enter) => {
            d.mode = Mode::Normal;
            inscribe(d, &me, None, language.code())
        }
        (None, KeyCode::Char('2') | KeyCode::Char('g')) if me.kind == ParticipantKind::MemberState => {
            d.mode = Mode::Inscribe { group: Some(String::new()), language };
            Vec::new()
        }
        (Some(mut text), KeyCode::Char(c)) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            text.push(c);
            d.mode = Mode::Inscribe { group: Some(text), language };
            Vec::new()
        }
        (Some(mut text), KeyCode::Backspace) => {
            text.pop();
            d.mode = Mode::Inscribe { group: Some(text), language };
            Vec::new()
        }
        (Some(text), KeyCode::Enter) if !text.trim().is_empty() => {
            d.mode = Mode::Normal;
            let group = roster_group(d, text.trim()).unwrap_or_else(|| text.trim().to_string());
            inscribe(d, &me, Some(group), language.code())
        }
        (group, _) => {
            d.mode = Mode::Inscribe { group, language };
            Vec::new()
        }
    }
}

/// A group of the roster, found by its name, short name or id.
fn roster_group(d: &Delegate, text: &str) -> Option<String> {
    let session = d.session()?;
    let group = session.def.participants.iter().find(|p| {
        p.kind == ParticipantKind::GroupOfStates
            && (p.id == text
                || p.name.eq_ignore_ascii_case(text)
                || p.short.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(text)))
    })?;
    Some(group.id.clone())
}

fn inscribe(d: &mut Delegate, me: &Participant, group: Option<String>, language: Option<String>) -> Vec<Effect> {
    let kind = group.as_ref().map(|_| StatementKind::Group);
    let what = match (&group, d.session()) {
        (Some(g), Some(s)) => format!("inscribe {}, on behalf of {}", me.name, s.group_name(g)),
        _ => format!("inscribe {}", me.name),
    };
    let what = format!("{what}{}", widgets::language::clause(language.as_deref()));
    d.live.send(
        Command::Inscribe {
            participant: me.id.clone(),
            segment: None,
            kind,
            level: None,
            on_behalf_of: group,
            language,
        },
        what,
    )
}

/// A key that acts on the session: the rules' answer for its move decides.
fn perform(d: &mut Delegate, m: Move) -> Vec<Effect> {
    let offer = match d.offers().get(m) {
        Some(Ok(offer)) => offer.clone(),
        Some(Err(rejection)) => {
            d.live.error(rejection.reason.clone());
            return Vec::new();
        }
        None => {
            d.live.error("waiting for the hub: nothing to act on yet");
            return Vec::new();
        }
    };
    match (&offer.command, m) {
        // A Member State says whether it speaks for itself or for a group.
        (None, Move::Inscribe) => d.mode = Mode::Inscribe { group: None, language: Default::default() },
        (None, Move::Connection) => {
            let (Some(session), Some(actor), Some(me)) = (d.session(), d.live.actor.clone(), d.participant.clone())
            else {
                return Vec::new();
            };
            // What a delegate reports: connected (also once fixed) or a technical issue.
            let choices = connection_choices(session, &actor, d.live.hub_now(), &me)
                .into_iter()
                .filter(|(s, _)| matches!(s, ConnectionStatus::Connected | ConnectionStatus::TechnicalIssue))
                .collect();
            d.mode = Mode::Connection { choices };
        }
        (None, _) => {}
        (Some(_), _) if offer.question.is_some() => {
            let question = offer.question.clone().unwrap_or_default();
            d.mode = Mode::Confirm { question, offer: Box::new(offer) };
        }
        (Some(command), _) => return d.live.send(command.clone(), offer.what),
    }
    Vec::new()
}

fn on_action(d: &mut Delegate, action: Action) -> Vec<Effect> {
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
        Action::Inscribe => perform(d, Move::Inscribe),
        Action::Withdraw => {
            let own = d.selected_entry().is_some_and(|e| d.participant.as_deref() == Some(e.participant.as_str()));
            if own {
                perform(d, Move::Withdraw)
            } else {
                d.live.error("select one of your own entries (marked ▶) first");
                Vec::new()
            }
        }
        Action::RightOfReply => perform(d, Move::RightOfReply),
        Action::PointOfOrder => {
            let m = d.offers().point_of_order_move();
            perform(d, m)
        }
        Action::Connection => perform(d, Move::Connection),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
