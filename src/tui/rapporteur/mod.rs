//! The rapporteur's screen: follows the session live, and writes notes and pledges
//! attached to each statement. A saved note goes to the outbox file (fsync'd)
//! before the screen says "saved", and to the hub when it is reachable.

pub mod view;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use ratatui_textarea::{TextArea, WrapMode};

use super::keymap::{Action, Keymap};
use super::live::{Effect, LinkStatus, Live, Msg};
use super::widgets::picker::{self, Outcome, Picker, Purpose};
use crate::client::link::LinkEvent;
use crate::client::outbox::Saved;
use crate::domain::{Command, ParticipantId, RejectCode, Role, Session, Timestamp, TurnId};
use crate::protocol::ServerFrame;

/// What a note or pledge being written is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteTarget {
    Note { turn: Option<TurnId> },
    Pledge { pledger: ParticipantId, turn: Option<TurnId> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Text,
    Tags,
}

/// The note (or pledge) editor.
pub struct Editor {
    pub target: NoteTarget,
    pub text: TextArea<'static>,
    /// GCM objective numbers and free themes, comma separated: "5 6, care work".
    pub tags: String,
    pub focus: Field,
    /// The client id under which it is being saved, once Ctrl+S was pressed.
    pub saving: Option<String>,
}

/// What answering yes does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnYes {
    Quit,
    /// Throw away the note being written.
    Discard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Picker(Picker),
    Confirm {
        question: String,
        on_yes: OnYes,
    },
    /// Writing a note or a pledge (in `editor`).
    Editing,
}

pub struct Rapporteur {
    pub live: Live,
    pub mode: Mode,
    /// Index into `turn_choices`.
    pub turn_selected: usize,
    pub editor: Option<Editor>,
    /// Saved on this machine, not yet acknowledged by the hub.
    pub outbox: Vec<Saved>,
    /// Makes client ids unique across restarts (chosen at start by the run loop).
    pub client_prefix: String,
    pub next_note: u64,
    /// The role the hub gave this connection (an observer's token cannot write notes).
    pub role: Option<Role>,
    /// Items the hub's rate limiter dropped (client ids), to send again from `resend_at`,
    /// a few a second.
    pub resend: std::collections::VecDeque<String>,
    pub resend_at: Option<Timestamp>,
}

/// What a note can be attached to: a turn, or (`id: None`) the session as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnChoice {
    pub id: Option<TurnId>,
    pub participant: Option<ParticipantId>,
    pub current: bool,
    pub started_at: Option<Timestamp>,
}

/// The current turn first, then finished turns, most recent first, then the session.
pub fn turn_choices(session: &Session) -> Vec<TurnChoice> {
    let current = session.floor.iter().map(|t| TurnChoice {
        id: Some(t.id),
        participant: Some(t.entry.participant.clone()),
        current: true,
        started_at: Some(t.started_at),
    });
    let finished = session.turns.iter().rev().map(|t| TurnChoice {
        id: Some(t.id),
        participant: Some(t.participant.clone()),
        current: false,
        started_at: Some(t.started_at),
    });
    let whole = std::iter::once(TurnChoice { id: None, participant: None, current: false, started_at: None });
    current.chain(finished).chain(whole).collect()
}

/// Split a tags line into GCM objectives (numbers) and free themes: parts are
/// separated by commas; a part made only of numbers gives objectives.
pub fn parse_tags(line: &str) -> (Vec<u8>, Vec<String>) {
    let mut objectives = Vec::new();
    let mut themes = Vec::new();
    for part in line.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let numbers: Option<Vec<u8>> =
            part.split_whitespace().map(|w| w.trim_start_matches('#').parse().ok()).collect();
        match numbers {
            Some(numbers) => objectives.extend(numbers),
            None => themes.push(part.to_string()),
        }
    }
    (objectives, themes)
}

impl Rapporteur {
    pub fn new(keymap: Keymap, now: Timestamp) -> Self {
        Self {
            live: Live::new(keymap, now),
            mode: Mode::Normal,
            turn_selected: 0,
            editor: None,
            outbox: Vec::new(),
            client_prefix: String::new(),
            next_note: 0,
            role: None,
            resend: std::collections::VecDeque::new(),
            resend_at: None,
        }
    }

    pub fn session(&self) -> Option<&Session> {
        self.live.session()
    }

    /// May this connection write notes? Unknown until the hub's welcome.
    fn may_write(&self) -> Result<(), String> {
        if let Some(closed) = self.session().and_then(|s| s.closed_at) {
            let at = super::widgets::time_of_day(self.session(), closed);
            return Err(format!("the session was closed at {at}: nothing more can be recorded"));
        }
        match self.role {
            Some(Role::Chair | Role::Rapporteur) | None => Ok(()),
            Some(role) => Err(format!(
                "this token is {}'s: it cannot write notes or pledges (ask the chair for a rapporteur's URL)",
                role.with_article()
            )),
        }
    }
}

pub fn update(r: &mut Rapporteur, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) if key.kind == KeyEventKind::Press => on_key(r, key),
        Msg::Key(_) | Msg::Peers(_) => Vec::new(),
        Msg::Mouse(mouse) => {
            let count = r.session().map_or(0, |s| turn_choices(s).len());
            match mouse.kind {
                MouseEventKind::ScrollDown => r.turn_selected = (r.turn_selected + 1).min(count.saturating_sub(1)),
                MouseEventKind::ScrollUp => r.turn_selected = r.turn_selected.saturating_sub(1),
                _ => {}
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            r.live.size = (w, h);
            Vec::new()
        }
        Msg::Tick(now) => {
            r.live.local_now = now;
            match r.resend_at {
                Some(at) if at <= now && r.live.link == LinkStatus::Connected => resend_some(r, now),
                _ => Vec::new(),
            }
        }
        Msg::Link(event) => on_link(r, event),
        Msg::Saved(saved) => {
            if r.editor.as_ref().and_then(|e| e.saving.as_deref()) == Some(saved.client_id.as_str()) {
                r.editor = None;
                r.mode = Mode::Normal;
            }
            r.outbox.push(saved.clone());
            let waiting = r.outbox.len();
            r.live.ok(format!("saved on this machine ({waiting} waiting to be sent)"));
            if r.live.link == LinkStatus::Connected {
                vec![Effect::Send { id: saved.client_id.clone(), command: saved.command }]
            } else {
                Vec::new()
            }
        }
        Msg::SaveFailed(reason) => {
            if let Some(editor) = r.editor.as_mut() {
                editor.saving = None;
            }
            r.live.error(format!("NOT saved: {reason}; the note is still in the editor"));
            Vec::new()
        }
    }
}

/// Send every note and pledge the outbox holds (on connecting; the hub ignores repeats).
fn send_outbox(r: &Rapporteur) -> Vec<Effect> {
    r.outbox.iter().map(|s| Effect::Send { id: s.client_id.clone(), command: s.command.clone() }).collect()
}

/// At most this many dropped items go again each second: well under the hub's limit.
const RESEND_PER_SEC: usize = 40;

/// Send again the next few items the rate limiter dropped; the rest a second later.
fn resend_some(r: &mut Rapporteur, now: Timestamp) -> Vec<Effect> {
    let mut effects = Vec::new();
    while effects.len() < RESEND_PER_SEC
        && let Some(id) = r.resend.pop_front()
    {
        if let Some(saved) = r.outbox.iter().find(|s| s.client_id == id) {
            effects.push(Effect::Send { id, command: saved.command.clone() });
        }
    }
    r.resend_at = (!r.resend.is_empty()).then(|| now + chrono::TimeDelta::seconds(1));
    effects
}

/// A frame answering an outbox item: acknowledge it either way, and say so.
fn outbox_answer(r: &mut Rapporteur, frame: &ServerFrame) -> Option<Vec<Effect>> {
    let (id, rejected) = match frame {
        ServerFrame::Accepted { id, .. } => (id, None),
        ServerFrame::Rejected { id, code: RejectCode::RateLimited, .. } => {
            // Dropped unread by the hub's rate limiter: it stays in the outbox and goes again.
            r.outbox.iter().position(|s| &s.client_id == id)?;
            if !r.resend.contains(id) {
                r.resend.push_back(id.clone());
            }
            r.resend_at.get_or_insert(r.live.local_now + chrono::TimeDelta::seconds(1));
            let waiting = r.outbox.len();
            r.live.error(format!("the hub is busy: {waiting} waiting here, sending again in 1 s"));
            return Some(Vec::new());
        }
        ServerFrame::Rejected { id, reason, .. } => (id, Some(reason)),
        _ => return None,
    };
    let at = r.outbox.iter().position(|s| &s.client_id == id)?;
    let saved = r.outbox.remove(at);
    let waiting = r.outbox.len();
    match rejected {
        None => r.live.ok(format!("✓ delivered to the hub ({waiting} waiting)")),
        Some(reason) => {
            // Nothing typed is lost: the note comes back into the editor to be put right.
            if r.editor.is_none() {
                reopen(r, &saved.command);
                r.live.error(format!("✗ not recorded by the hub: {reason}; the note is back in the editor"));
            } else {
                r.live.error(format!("✗ not recorded by the hub: {reason}"));
            }
        }
    }
    Some(vec![Effect::Ack(saved.client_id)])
}

/// Open the editor on a note or pledge the hub refused, its text and tags as they were.
fn reopen(r: &mut Rapporteur, command: &Command) {
    let (target, text, tags) = match command {
        Command::AddNote { turn, text, objectives, themes, .. } => {
            let mut tags: Vec<String> = Vec::new();
            if !objectives.is_empty() {
                tags.push(objectives.iter().map(u8::to_string).collect::<Vec<_>>().join(" "));
            }
            tags.extend(themes.iter().cloned());
            (NoteTarget::Note { turn: *turn }, text.clone(), tags.join(", "))
        }
        Command::AddPledge { pledger, turn, text, objectives, .. } => (
            NoteTarget::Pledge { pledger: pledger.clone(), turn: *turn },
            text.clone(),
            objectives.iter().map(u8::to_string).collect::<Vec<_>>().join(" "),
        ),
        _ => return,
    };
    open_editor(r, target);
    if let Some(editor) = r.editor.as_mut() {
        editor.text = TextArea::from(text.lines().map(str::to_string).collect::<Vec<_>>());
        editor.text.set_wrap_mode(WrapMode::WordOrGlyph);
        editor.tags = tags;
    }
}

fn on_link(r: &mut Rapporteur, event: LinkEvent) -> Vec<Effect> {
    match &event {
        LinkEvent::NotSent { id, reason } if r.outbox.iter().any(|s| &s.client_id == id) => {
            let waiting = r.outbox.len();
            r.live.info(format!("not connected ({reason}): {waiting} waiting, sent when the hub is back"));
            return Vec::new();
        }
        LinkEvent::Frame(envelope) => {
            if let Some(effects) = outbox_answer(r, &envelope.frame) {
                return effects;
            }
            if let ServerFrame::Welcome { role, .. } = &envelope.frame {
                r.role = Some(*role);
            }
        }
        _ => {}
    }
    let connected = matches!(event, LinkEvent::Connected);
    if matches!(event, LinkEvent::Connected | LinkEvent::Disconnected { .. }) {
        // A new connection sends the whole outbox: nothing is left to resend.
        r.resend.clear();
        r.resend_at = None;
    }
    let (mut effects, _) = r.live.on_link(event);
    if connected {
        effects.extend(send_outbox(r));
    }
    if let Err(why) = r.may_write() {
        r.live.error(why);
    }
    effects
}

fn on_key(r: &mut Rapporteur, key: KeyEvent) -> Vec<Effect> {
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    match r.mode.clone() {
        Mode::Normal => match r.live.keymap.resolve(&key) {
            Some(action) => on_action(r, action),
            None => Vec::new(),
        },
        Mode::Help => {
            r.mode = Mode::Normal;
            if ctrl_c { on_action(r, Action::Quit) } else { Vec::new() }
        }
        Mode::Confirm { on_yes, .. } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                r.mode = Mode::Normal;
                match on_yes {
                    OnYes::Quit => vec![Effect::Quit],
                    OnYes::Discard => {
                        r.editor = None;
                        r.live.info("note discarded");
                        Vec::new()
                    }
                }
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                // Back to the note being written, if that is what was asked about.
                r.mode = if on_yes == OnYes::Discard { Mode::Editing } else { Mode::Normal };
                r.live.info("cancelled");
                Vec::new()
            }
            _ if ctrl_c && on_yes == OnYes::Quit => vec![Effect::Quit],
            _ => Vec::new(),
        },
        Mode::Picker(mut p) => {
            let roster = r.session().map(|s| s.def.participants.clone()).unwrap_or_default();
            match picker::on_key(&mut p, &roster, key) {
                Outcome::Open => r.mode = Mode::Picker(p),
                Outcome::Cancelled => r.mode = Mode::Normal,
                Outcome::NoMatch => {
                    r.live.error(format!("no participant matches \"{}\"", p.query));
                    r.mode = Mode::Picker(p);
                }
                Outcome::Chosen(i) => {
                    if let Some(pledger) = roster.get(i) {
                        let turn = selected_turn(r);
                        open_editor(r, NoteTarget::Pledge { pledger: pledger.id.clone(), turn });
                    }
                }
            }
            Vec::new()
        }
        Mode::Editing => on_editor_key(r, key),
    }
}

/// The turn a new note attaches to: the one selected in the history (the current
/// turn first), or none before any turn.
fn selected_turn(r: &Rapporteur) -> Option<TurnId> {
    let choices = r.session().map(turn_choices).unwrap_or_default();
    choices.get(r.turn_selected).or(choices.first()).and_then(|c| c.id)
}

fn open_editor(r: &mut Rapporteur, target: NoteTarget) {
    let mut text = TextArea::default();
    // Long notes wrap at word boundaries: the start of every line stays in sight.
    text.set_wrap_mode(WrapMode::WordOrGlyph);
    let what = if matches!(target, NoteTarget::Pledge { .. }) { "pledge" } else { "note" };
    // The keys are in the footer; the placeholder only says what to write, so it fits any width.
    text.set_placeholder_text(format!("Write the {what}…"));
    r.editor = Some(Editor { target, text, tags: String::new(), focus: Field::Text, saving: None });
    r.mode = Mode::Editing;
}

fn on_action(r: &mut Rapporteur, action: Action) -> Vec<Effect> {
    let count = r.session().map_or(0, |s| turn_choices(s).len());
    match action {
        Action::Up => r.turn_selected = r.turn_selected.saturating_sub(1),
        Action::Down => r.turn_selected = (r.turn_selected + 1).min(count.saturating_sub(1)),
        Action::PageUp => r.turn_selected = r.turn_selected.saturating_sub(10),
        Action::PageDown => r.turn_selected = (r.turn_selected + 10).min(count.saturating_sub(1)),
        Action::Top => r.turn_selected = 0,
        Action::Bottom => r.turn_selected = count.saturating_sub(1),
        Action::Help => r.mode = Mode::Help,
        Action::NewNote | Action::NewPledge => {
            if let Err(why) = r.may_write() {
                r.live.error(why);
                return Vec::new();
            }
            if action == Action::NewNote {
                let turn = selected_turn(r);
                open_editor(r, NoteTarget::Note { turn });
            } else {
                let Some(session) = r.session() else { return Vec::new() };
                // The speaker of the selected turn is the likeliest pledger.
                let choices = turn_choices(session);
                let speaker = choices.get(r.turn_selected).and_then(|c| c.participant.clone());
                let roster = &session.def.participants;
                r.mode = Mode::Picker(Picker::new(Purpose::Pledger, roster, "").preselect(roster, speaker.as_deref()));
            }
        }
        Action::Quit if !r.outbox.is_empty() => {
            let waiting = r.outbox.len();
            r.mode = Mode::Confirm {
                question: format!(
                    "{waiting} saved notes are not yet on the hub; they stay in the outbox and go out next time. Quit?"
                ),
                on_yes: OnYes::Quit,
            };
        }
        Action::Quit => return vec![Effect::Quit],
        _ => {}
    }
    Vec::new()
}

fn on_editor_key(r: &mut Rapporteur, key: KeyEvent) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let Some(editor) = r.editor.as_mut() else {
        r.mode = Mode::Normal;
        return Vec::new();
    };
    let discard = || Mode::Confirm { question: "Discard this note?".to_string(), on_yes: OnYes::Discard };
    match key.code {
        KeyCode::Esc => {
            if editor.text.is_empty() && editor.tags.is_empty() {
                r.editor = None;
                r.mode = Mode::Normal;
            } else {
                r.mode = discard();
            }
        }
        KeyCode::Tab | KeyCode::BackTab => {
            editor.focus = if editor.focus == Field::Text { Field::Tags } else { Field::Text };
        }
        KeyCode::Char('s') if ctrl => return save_note(r),
        KeyCode::Char('c') if ctrl => r.mode = discard(),
        _ if editor.focus == Field::Tags => match key.code {
            KeyCode::Backspace => {
                editor.tags.pop();
            }
            KeyCode::Char(c) if !ctrl => editor.tags.push(c),
            KeyCode::Enter => editor.focus = Field::Text,
            _ => {}
        },
        _ => {
            editor.text.input(key);
        }
    }
    Vec::new()
}

fn save_note(r: &mut Rapporteur) -> Vec<Effect> {
    let Some(editor) = r.editor.as_mut() else { return Vec::new() };
    if editor.saving.is_some() {
        return Vec::new(); // already being saved
    }
    let text = editor.text.lines().join("\n");
    if text.trim().is_empty() {
        r.live.error("the note is empty: nothing saved");
        return Vec::new();
    }
    let (objectives, themes) = parse_tags(&editor.tags);
    // Checked here too, so a note the hub would refuse never leaves the editor.
    if let Some(bad) = objectives.iter().find(|o| crate::domain::gcm_objective(**o).is_none()) {
        r.live.error(format!("GCM objective {bad} does not exist (1 to 23): correct the tags (Tab), nothing saved"));
        return Vec::new();
    }
    // When it was written, on the hub's clock: the hub may be reached only later.
    let saved_at = Some(r.live.hub_now());
    r.next_note += 1;
    let client_id = format!("{}-{}", r.client_prefix, r.next_note);
    let command = match editor.target.clone() {
        NoteTarget::Note { turn } => {
            Command::AddNote { saved_at, client_id: client_id.clone(), turn, text, objectives, themes }
        }
        NoteTarget::Pledge { pledger, turn } => {
            if !themes.is_empty() || objectives.is_empty() {
                r.live.error("a pledge needs the numbers of the GCM objectives it serves (1 to 23), e.g. \"5 6\"");
                return Vec::new();
            }
            Command::AddPledge { saved_at, client_id: client_id.clone(), pledger, text, objectives, turn }
        }
    };
    editor.saving = Some(client_id.clone());
    vec![Effect::Save(Saved { client_id, command })]
}

#[cfg(test)]
mod tests;
