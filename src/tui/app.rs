//! The chair screen's state and its pure `update(&mut App, Msg) -> Vec<Effect>`.
//! Every input (key, mouse, network, tick) becomes a [`Msg`]; the run loop performs
//! the [`Effect`]s. Rules of procedure are never decided here: commands go to the
//! hub, and its answer (accepted, or rejected with a reason) is shown.

use std::collections::BTreeMap;

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::keymap::{Action, Keymap};
use crate::client::Replica;
use crate::client::link::LinkEvent;
use ratatui_textarea::TextArea;

use super::keymap::Screen;
use crate::client::outbox::Saved;
use crate::domain::{
    Command, ConnectionStatus, Entry, Modality, Participant, ParticipantId, ParticipantKind, Session, StatementKind,
    Timestamp, TurnId,
};
use crate::hub::JoinUrl;
use crate::protocol::ServerFrame;

/// Seconds added or taken by one press of extend or cut.
pub const TIME_STEP: u32 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    Connecting,
    Connected,
    Reconnecting { reason: String },
    Refused { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub tone: Tone,
}

/// What a participant picker is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Inscribe,
    PointOfOrder,
    RightOfReply,
    Pledger,
}

impl Purpose {
    pub fn title(self) -> &'static str {
        match self {
            Self::Inscribe => "Inscribe a speaker",
            Self::PointOfOrder => "Point of order raised by",
            Self::RightOfReply => "Right of reply for",
            Self::Pledger => "Pledge made by",
        }
    }

    fn admits(self, p: &Participant) -> bool {
        match self {
            Self::Inscribe | Self::Pledger => true,
            Self::PointOfOrder => p.kind == ParticipantKind::MemberState,
            Self::RightOfReply => p.kind.is_state(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub purpose: Purpose,
    pub query: String,
    /// Indices into the roster, best match first.
    pub results: Vec<usize>,
    pub selected: usize,
    /// Statement kind chosen with Tab (inscription only); None = the participant's default.
    pub kind: Option<StatementKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruling {
    pub point: u64,
    pub text: String,
    pub upheld: bool,
}

/// What answering yes does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnYes {
    Quit,
    Send(Command),
    /// Throw away the note being written.
    Discard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub question: String,
    pub on_yes: OnYes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Picker(Picker),
    Ruling(Ruling),
    Confirm(Confirm),
    /// Writing a note or a pledge (the editor is in `App::rapporteur`).
    Editing,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick(Timestamp),
    Link(LinkEvent),
    /// The outbox has this note on disk.
    Saved(Saved),
    /// The outbox could not be written.
    SaveFailed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send {
        id: String,
        command: Command,
    },
    Resync {
        since: Option<u64>,
    },
    /// Write a note or pledge to the outbox (fsync), then report `Msg::Saved`.
    Save(Saved),
    /// The hub has it: remove it from the outbox.
    Ack(String),
    Quit,
}

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

/// A rapporteur's part of the screen state.
#[derive(Default)]
pub struct Rapporteur {
    /// Index into `turn_choices`.
    pub turn_selected: usize,
    pub editor: Option<Editor>,
    /// Saved on this machine, not yet acknowledged by the hub.
    pub outbox: Vec<Saved>,
    /// Makes client ids unique across restarts (chosen at start by the run loop).
    pub client_prefix: String,
    pub next_note: u64,
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

pub struct App {
    pub replica: Replica,
    pub link: LinkStatus,
    pub rtt_ms: Option<u64>,
    /// The hub's clock minus ours, in milliseconds.
    pub offset_ms: i64,
    /// Our clock, as of the last tick.
    pub local_now: Timestamp,
    /// Index into the selectable entries: the list, then the rights of reply.
    pub selected: usize,
    pub mode: Mode,
    pub status: Option<StatusLine>,
    /// Commands sent and not yet answered: id → what it was.
    pub pending: BTreeMap<String, String>,
    next_id: u64,
    pub join_urls: Vec<JoinUrl>,
    pub show_join: bool,
    pub keymap: Keymap,
    /// Terminal size, for mapping mouse clicks to rows.
    pub size: (u16, u16),
    pub no_color: bool,
    pub screen: Screen,
    pub rapporteur: Rapporteur,
}

impl App {
    pub fn new(keymap: Keymap, join_urls: Vec<JoinUrl>, now: Timestamp) -> Self {
        Self {
            replica: Replica::default(),
            link: LinkStatus::Connecting,
            rtt_ms: None,
            offset_ms: 0,
            local_now: now,
            selected: 0,
            mode: Mode::Normal,
            status: None,
            pending: BTreeMap::new(),
            next_id: 1,
            show_join: !join_urls.is_empty(),
            join_urls,
            keymap,
            size: (80, 24),
            no_color: false,
            screen: Screen::Chair,
            rapporteur: Rapporteur::default(),
        }
    }

    pub fn session(&self) -> Option<&Session> {
        self.replica.state.as_ref()
    }

    /// The hub's time now, as best we know it.
    pub fn hub_now(&self) -> Timestamp {
        self.local_now + Duration::milliseconds(self.offset_ms)
    }

    /// The segment whose lists the screen shows: the open one, or the first.
    pub fn view_segment(&self) -> usize {
        self.session().and_then(|s| s.current_segment).unwrap_or(0)
    }

    /// Entries the selection moves over: the speakers list, then the rights of reply.
    pub fn selectable(&self) -> Vec<&Entry> {
        let segment = self.view_segment();
        self.session()
            .and_then(|s| s.segments.get(segment))
            .map(|state| state.list.iter().chain(state.replies.iter()).collect())
            .unwrap_or_default()
    }

    pub fn selected_entry(&self) -> Option<&Entry> {
        self.selectable().get(self.selected).copied()
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), tone: Tone::Info });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), tone: Tone::Error });
    }

    /// Send a command to the hub, or say at once that it cannot be sent.
    fn send(&mut self, command: Command, what: String) -> Vec<Effect> {
        if self.link != LinkStatus::Connected {
            self.error(format!("not connected: {what} was not sent"));
            return Vec::new();
        }
        let id = format!("c{}", self.next_id);
        self.next_id += 1;
        self.pending.insert(id.clone(), what.clone());
        self.info(format!("{what}…"));
        vec![Effect::Send { id, command }]
    }

    fn name(&self, participant: &str) -> String {
        self.session().map_or_else(|| participant.to_string(), |s| s.name_of(participant).to_string())
    }

    fn clamp_selection(&mut self) {
        let len = self.selectable().len();
        self.selected = self.selected.min(len.saturating_sub(1));
    }

    /// Keep the same entry selected when the list changes under it.
    fn follow(&mut self, entry: Option<u64>) {
        if let Some(id) = entry
            && let Some(i) = self.selectable().iter().position(|e| e.id == id)
        {
            self.selected = i;
        }
        self.clamp_selection();
    }
}

/// Indices of roster participants matching `query` (fuzzy), best first.
pub fn search_roster(roster: &[Participant], query: &str, purpose: Purpose) -> Vec<usize> {
    let candidates = roster.iter().enumerate().filter(|(_, p)| purpose.admits(p));
    if query.trim().is_empty() {
        return candidates.map(|(i, _)| i).collect();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, usize)> = candidates
        .filter_map(|(i, p)| {
            let haystack = format!("{} {}", p.name, p.id);
            pattern.score(Utf32Str::new(&haystack, &mut buf), &mut matcher).map(|score| (score, i))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| i).collect()
}

/// The statement kinds a participant can make, for Tab in the inscription picker.
pub fn kinds_for(kind: ParticipantKind) -> &'static [StatementKind] {
    match kind {
        ParticipantKind::MemberState => &[StatementKind::National, StatementKind::Group],
        ParticipantKind::ObserverState => &[StatementKind::National],
        ParticipantKind::GroupOfStates => &[StatementKind::Group],
        ParticipantKind::UnEntity | ParticipantKind::Igo => &[StatementKind::Organization],
        ParticipantKind::Stakeholder => &[StatementKind::Stakeholder],
    }
}

pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) if key.kind == KeyEventKind::Press => on_key(app, key),
        Msg::Key(_) => Vec::new(), // act on presses only: some terminals report releases
        Msg::Mouse(mouse) => on_mouse(app, mouse),
        Msg::Resize(w, h) => {
            app.size = (w, h);
            Vec::new()
        }
        Msg::Tick(now) => {
            app.local_now = now;
            Vec::new()
        }
        Msg::Link(event) => on_link(app, event),
        Msg::Saved(saved) => {
            if app.rapporteur.editor.as_ref().and_then(|e| e.saving.as_deref()) == Some(saved.client_id.as_str()) {
                app.rapporteur.editor = None;
                app.mode = Mode::Normal;
            }
            app.rapporteur.outbox.push(saved.clone());
            let waiting = app.rapporteur.outbox.len();
            app.status = Some(StatusLine {
                text: format!("saved on this machine ({waiting} waiting to be sent)"),
                tone: Tone::Ok,
            });
            if app.link == LinkStatus::Connected {
                vec![Effect::Send { id: saved.client_id.clone(), command: saved.command }]
            } else {
                Vec::new()
            }
        }
        Msg::SaveFailed(reason) => {
            if let Some(editor) = app.rapporteur.editor.as_mut() {
                editor.saving = None;
            }
            app.error(format!("NOT saved: {reason}; the note is still in the editor"));
            Vec::new()
        }
    }
}

/// Send every note and pledge the outbox holds (on connecting; the hub ignores repeats).
fn send_outbox(app: &App) -> Vec<Effect> {
    app.rapporteur.outbox.iter().map(|s| Effect::Send { id: s.client_id.clone(), command: s.command.clone() }).collect()
}

/// A frame answering an outbox item: acknowledge it either way, and say so.
fn outbox_answer(app: &mut App, frame: &ServerFrame) -> Option<Vec<Effect>> {
    let (id, rejected) = match frame {
        ServerFrame::Accepted { id, .. } => (id, None),
        ServerFrame::Rejected { id, reason, .. } => (id, Some(reason)),
        _ => return None,
    };
    let at = app.rapporteur.outbox.iter().position(|s| &s.client_id == id)?;
    let saved = app.rapporteur.outbox.remove(at);
    let waiting = app.rapporteur.outbox.len();
    match rejected {
        None => {
            app.status =
                Some(StatusLine { text: format!("✓ delivered to the hub ({waiting} waiting)"), tone: Tone::Ok })
        }
        Some(reason) => {
            let text = match &saved.command {
                Command::AddNote { text, .. } | Command::AddPledge { text, .. } => text.chars().take(40).collect(),
                _ => String::new(),
            };
            app.error(format!("✗ not recorded by the hub: {reason} («{text}…»)"));
        }
    }
    Some(vec![Effect::Ack(saved.client_id)])
}

fn on_link(app: &mut App, event: LinkEvent) -> Vec<Effect> {
    match event {
        LinkEvent::Connecting { .. } => Vec::new(),
        LinkEvent::Connected => {
            // Keep a warning shown at start (from the hub's opening) until something replaces it.
            let first = app.link == LinkStatus::Connecting;
            let warning = matches!(&app.status, Some(StatusLine { tone: Tone::Error, .. }));
            app.link = LinkStatus::Connected;
            if !(first && warning) {
                app.info("connected to the hub");
            }
            send_outbox(app)
        }
        LinkEvent::Clock { rtt_ms, offset_ms } => {
            app.rtt_ms = Some(rtt_ms);
            app.offset_ms = offset_ms;
            Vec::new()
        }
        LinkEvent::Disconnected { reason, retry_in } => {
            app.link = LinkStatus::Reconnecting { reason: reason.clone() };
            app.rtt_ms = None;
            let lost: Vec<String> = std::mem::take(&mut app.pending).into_values().collect();
            let unanswered = if lost.is_empty() { String::new() } else { format!("; unanswered: {}", lost.join(", ")) };
            app.error(format!("hub unreachable ({reason}); retrying in {} ms{unanswered}", retry_in.as_millis()));
            Vec::new()
        }
        LinkEvent::Refused { reason } => {
            app.link = LinkStatus::Refused { reason: reason.clone() };
            app.error(format!("the hub refused this screen: {reason}"));
            Vec::new()
        }
        LinkEvent::NotSent { id, reason } if app.rapporteur.outbox.iter().any(|s| s.client_id == id) => {
            let waiting = app.rapporteur.outbox.len();
            app.info(format!("not connected ({reason}): {waiting} waiting, sent when the hub is back"));
            Vec::new()
        }
        LinkEvent::NotSent { id, reason } => {
            let what = app.pending.remove(&id).unwrap_or_else(|| "the command".to_string());
            app.error(format!("{what} was not sent: {reason}"));
            Vec::new()
        }
        LinkEvent::Frame(envelope) => {
            let selected = app.selected_entry().map(|e| e.id);
            if let Some(effects) = outbox_answer(app, &envelope.frame) {
                return effects;
            }
            let mut effects = Vec::new();
            match &envelope.frame {
                ServerFrame::Accepted { id, .. } => {
                    if let Some(what) = app.pending.remove(id) {
                        app.status = Some(StatusLine { text: format!("✓ {what}"), tone: Tone::Ok });
                    }
                }
                ServerFrame::Rejected { id, reason, .. } => {
                    let what = app.pending.remove(id).unwrap_or_else(|| "command".to_string());
                    app.error(format!("✗ {what}: {reason}"));
                }
                ServerFrame::Error { reason, .. } => app.error(format!("hub: {reason}")),
                ServerFrame::Resync { reason } => app.info(reason.clone()),
                _ => match app.replica.apply(&envelope) {
                    Ok(_) => {}
                    Err(_) => effects.push(Effect::Resync { since: app.replica.seq() }),
                },
            }
            app.follow(selected);
            effects
        }
    }
}

fn on_mouse(app: &mut App, mouse: MouseEvent) -> Vec<Effect> {
    match mouse.kind {
        MouseEventKind::ScrollDown => move_selection(app, 1),
        MouseEventKind::ScrollUp => move_selection(app, -1),
        MouseEventKind::Down(MouseButton::Left) if app.mode == Mode::Normal => {
            let area = ratatui::layout::Rect::new(0, 0, app.size.0, app.size.1);
            let rows = match app.screen {
                Screen::Chair | Screen::Replay => super::view::layout(area).list_rows,
                Screen::Rapporteur => super::view::list_parts(super::view::rapporteur_layout(area).list).0,
            };
            if mouse.row >= rows.y && mouse.row < rows.y + rows.height && mouse.column >= rows.x {
                let offset = super::view::list_offset(app.selected, rows.height as usize);
                let index = offset + (mouse.row - rows.y) as usize;
                if index < app.selectable().len() {
                    app.selected = index;
                }
            }
        }
        _ => {}
    }
    Vec::new()
}

fn move_selection(app: &mut App, delta: isize) {
    let len = app.selectable().len();
    if len == 0 {
        app.selected = 0;
        return;
    }
    app.selected = app.selected.saturating_add_signed(delta).min(len - 1);
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    // Ctrl+C quits from anywhere (asking first where quitting would lose something),
    // except in the note editor, where it asks to discard the note.
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl_c && !matches!(app.mode, Mode::Normal | Mode::Editing | Mode::Confirm(_)) {
        app.mode = Mode::Normal;
        return match app.screen {
            Screen::Chair | Screen::Replay => on_action(app, Action::Quit),
            Screen::Rapporteur => on_rapporteur_action(app, Action::Quit),
        };
    }
    match app.mode.clone() {
        Mode::Normal => match (app.keymap.resolve(&key), app.screen) {
            (Some(action), Screen::Chair) => on_action(app, action),
            (Some(action), Screen::Rapporteur) => on_rapporteur_action(app, action),
            // The replay screen has its own update (tui::replay); it only borrows this state to draw.
            (Some(_), Screen::Replay) => Vec::new(),
            (None, _) => Vec::new(),
        },
        Mode::Help => {
            app.mode = Mode::Normal;
            Vec::new()
        }
        Mode::Confirm(confirm) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                app.mode = Mode::Normal;
                match confirm.on_yes {
                    OnYes::Quit => vec![Effect::Quit],
                    OnYes::Send(command) => {
                        let what = describe(app, &command);
                        app.send(command, what)
                    }
                    OnYes::Discard => {
                        app.rapporteur.editor = None;
                        app.info("note discarded");
                        Vec::new()
                    }
                }
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                // Back to the note being written, if that is what was asked about.
                app.mode = if confirm.on_yes == OnYes::Discard { Mode::Editing } else { Mode::Normal };
                app.info("cancelled");
                Vec::new()
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => vec![Effect::Quit],
            _ => Vec::new(),
        },
        Mode::Picker(picker) => on_picker_key(app, picker, key),
        Mode::Ruling(ruling) => on_ruling_key(app, ruling, key),
        Mode::Editing => on_editor_key(app, key),
    }
}

fn on_picker_key(app: &mut App, mut picker: Picker, key: KeyEvent) -> Vec<Effect> {
    let roster: Vec<Participant> = app.session().map(|s| s.def.participants.clone()).unwrap_or_default();
    match key.code {
        KeyCode::Esc => {
            app.mode = Mode::Normal;
            return Vec::new();
        }
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            app.mode = Mode::Normal;
            return Vec::new();
        }
        KeyCode::Up => picker.selected = picker.selected.saturating_sub(1),
        KeyCode::Down => picker.selected = (picker.selected + 1).min(picker.results.len().saturating_sub(1)),
        KeyCode::Tab if picker.purpose == Purpose::Inscribe => {
            if let Some(p) = picker.results.get(picker.selected).and_then(|i| roster.get(*i)) {
                let kinds = kinds_for(p.kind);
                let now = picker.kind.unwrap_or(kinds[0]);
                let at = kinds.iter().position(|k| *k == now).unwrap_or(0);
                picker.kind = Some(kinds[(at + 1) % kinds.len()]);
            }
        }
        KeyCode::Backspace => {
            picker.query.pop();
            picker.results = search_roster(&roster, &picker.query, picker.purpose);
            picker.selected = 0;
            picker.kind = None;
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            picker.query.push(c);
            picker.results = search_roster(&roster, &picker.query, picker.purpose);
            picker.selected = 0;
            picker.kind = None;
        }
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            let Some(p) = picker.results.get(picker.selected).and_then(|i| roster.get(*i)) else {
                app.error("no participant matches; nothing sent");
                return Vec::new();
            };
            let (command, what) = match picker.purpose {
                Purpose::Inscribe => (
                    Command::Inscribe { participant: p.id.clone(), segment: None, kind: picker.kind, level: None },
                    format!("inscribe {}", p.name),
                ),
                Purpose::PointOfOrder => {
                    (Command::RaisePointOfOrder { by: p.id.clone() }, format!("point of order by {}", p.name))
                }
                Purpose::RightOfReply => (
                    Command::RequestReply { participant: p.id.clone(), segment: None },
                    format!("right of reply for {}", p.name),
                ),
                Purpose::Pledger => {
                    let turn = selected_turn(app);
                    open_editor(app, NoteTarget::Pledge { pledger: p.id.clone(), turn });
                    return Vec::new();
                }
            };
            return app.send(command, what);
        }
        _ => {}
    }
    app.mode = Mode::Picker(picker);
    Vec::new()
}

fn on_ruling_key(app: &mut App, mut ruling: Ruling, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            app.mode = Mode::Normal;
            return Vec::new();
        }
        KeyCode::Tab => ruling.upheld = !ruling.upheld,
        KeyCode::Backspace => {
            ruling.text.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => ruling.text.push(c),
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            let text = if ruling.text.trim().is_empty() {
                if ruling.upheld { "Upheld." } else { "Not upheld." }.to_string()
            } else {
                ruling.text.clone()
            };
            let verdict = if ruling.upheld { "upheld" } else { "not upheld" };
            return app.send(
                Command::RulePointOfOrder { point: ruling.point, ruling: text, upheld: ruling.upheld },
                format!("ruling: {verdict}"),
            );
        }
        _ => {}
    }
    app.mode = Mode::Ruling(ruling);
    Vec::new()
}

/// A short description of a command for the status line.
fn describe(app: &App, command: &Command) -> String {
    let entry_name = |id: &u64| {
        app.session()
            .and_then(|s| s.segment_of_entry(*id).and_then(|seg| s.find_entry(seg, *id)))
            .map_or_else(|| format!("entry #{id}"), |(_, e, _)| app.name(&e.participant))
    };
    match command {
        Command::Withdraw { entry } => format!("withdraw {}", entry_name(entry)),
        Command::CloseList { .. } => "close the list".to_string(),
        Command::CloseSession => "close the session".to_string(),
        other => other.name().to_string(),
    }
}

fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    // The join URLs shown at start give way to the first other action.
    if action != Action::JoinUrls {
        app.show_join = false;
    }
    let floor = app.session().and_then(|s| s.floor.clone());
    let selected = app.selected_entry().cloned();
    let need_selection = |app: &mut App| {
        app.error("select an entry on the list first");
        Vec::new()
    };
    match action {
        Action::Quit => {
            if floor.is_some() {
                app.mode = Mode::Confirm(Confirm {
                    question: "A turn is running. Quit anyway?".to_string(),
                    on_yes: OnYes::Quit,
                });
                Vec::new()
            } else {
                vec![Effect::Quit]
            }
        }
        Action::Help => {
            app.mode = Mode::Help;
            Vec::new()
        }
        Action::Up => {
            move_selection(app, -1);
            Vec::new()
        }
        Action::Down => {
            move_selection(app, 1);
            Vec::new()
        }
        Action::PageUp => {
            move_selection(app, -10);
            Vec::new()
        }
        Action::PageDown => {
            move_selection(app, 10);
            Vec::new()
        }
        Action::Top => {
            app.selected = 0;
            Vec::new()
        }
        Action::Bottom => {
            app.selected = app.selectable().len().saturating_sub(1);
            Vec::new()
        }
        Action::JoinUrls => {
            app.show_join = !app.show_join;
            Vec::new()
        }
        Action::Inscribe | Action::PointOfOrder | Action::RightOfReply => {
            let purpose = match action {
                Action::Inscribe => Purpose::Inscribe,
                Action::PointOfOrder => Purpose::PointOfOrder,
                _ => Purpose::RightOfReply,
            };
            let roster: Vec<Participant> = app.session().map(|s| s.def.participants.clone()).unwrap_or_default();
            let results = search_roster(&roster, "", purpose);
            app.mode = Mode::Picker(Picker { purpose, query: String::new(), results, selected: 0, kind: None });
            Vec::new()
        }
        Action::GiveFloor => match selected {
            Some(e) => {
                let what = format!("floor to {}", app.name(&e.participant));
                app.send(Command::GiveFloor { entry: e.id }, what)
            }
            None => need_selection(app),
        },
        Action::NextSpeaker => {
            let first = app.selectable().first().map(|e| (e.id, e.participant.clone()));
            match first {
                Some((entry, participant)) => {
                    let what = format!("floor to {}", app.name(&participant));
                    app.send(Command::GiveFloor { entry }, what)
                }
                None => {
                    app.error("the list is empty");
                    Vec::new()
                }
            }
        }
        Action::EndTurn | Action::PauseResume | Action::Extend | Action::Cut => {
            let Some(turn) = floor else {
                app.error("nobody holds the floor");
                return Vec::new();
            };
            let name = app.name(&turn.entry.participant);
            let (command, what) = match action {
                Action::EndTurn => (Command::EndTurn { turn: turn.id }, format!("end the turn of {name}")),
                Action::PauseResume if turn.paused => (Command::Resume { turn: turn.id }, "resume the clock".into()),
                Action::PauseResume => (Command::Pause { turn: turn.id }, "pause the clock".into()),
                Action::Extend => (Command::Extend { turn: turn.id, secs: TIME_STEP }, format!("+{TIME_STEP} s")),
                _ => (Command::Cut { turn: turn.id, secs: TIME_STEP }, format!("-{TIME_STEP} s")),
            };
            app.send(command, what)
        }
        Action::MoveUp | Action::MoveDown | Action::Defer | Action::DeferToEnd | Action::Reinstate => {
            let Some(e) = selected else { return need_selection(app) };
            let name = app.name(&e.participant);
            let (command, what) = match action {
                Action::MoveUp => (Command::MoveUp { entry: e.id }, format!("move {name} up")),
                Action::MoveDown => (Command::MoveDown { entry: e.id }, format!("move {name} down")),
                Action::Defer => (Command::Defer { entry: e.id, places: None, to_end: false }, format!("defer {name}")),
                Action::DeferToEnd => {
                    (Command::Defer { entry: e.id, places: None, to_end: true }, format!("defer {name} to the end"))
                }
                _ => (Command::Reinstate { entry: e.id }, format!("reinstate {name}")),
            };
            app.send(command, what)
        }
        Action::Withdraw => {
            let Some(e) = selected else { return need_selection(app) };
            let name = app.name(&e.participant);
            let command = if e.kind == StatementKind::Reply {
                Command::WithdrawReply { entry: e.id }
            } else {
                Command::Withdraw { entry: e.id }
            };
            app.mode = Mode::Confirm(Confirm {
                question: format!("Withdraw {name} from the list?"),
                on_yes: OnYes::Send(command),
            });
            Vec::new()
        }
        Action::ToggleList => {
            let segment = app.view_segment();
            let closed = app.session().and_then(|s| s.segments.get(segment)).is_some_and(|s| s.closed);
            let id = app.session().and_then(|s| s.segment_def(segment)).map(|d| d.id.clone());
            if closed {
                app.send(Command::ReopenList { segment: id }, "reopen the list".to_string())
            } else {
                app.mode = Mode::Confirm(Confirm {
                    question: "Close the list of speakers? No new inscriptions until it is reopened.".to_string(),
                    on_yes: OnYes::Send(Command::CloseList { segment: id }),
                });
                Vec::new()
            }
        }
        Action::Rule => match app.session().and_then(|s| s.point_of_order.clone()) {
            Some(point) => {
                app.mode = Mode::Ruling(Ruling { point: point.id, text: String::new(), upheld: true });
                Vec::new()
            }
            None => {
                app.error("no point of order is pending");
                Vec::new()
            }
        },
        Action::Connection => {
            let Some(e) = selected else { return need_selection(app) };
            let Some(session) = app.session() else { return Vec::new() };
            let remote = session.def.participant(&e.participant).is_some_and(|p| p.modality == Modality::Remote);
            if !remote {
                let name = app.name(&e.participant);
                app.error(format!("{name} is not a remote participant"));
                return Vec::new();
            }
            let next = match session.connection(&e.participant) {
                ConnectionStatus::Unknown => ConnectionStatus::Connected,
                ConnectionStatus::Connected => ConnectionStatus::AudioChecked,
                ConnectionStatus::AudioChecked => ConnectionStatus::TechnicalIssue,
                ConnectionStatus::TechnicalIssue => ConnectionStatus::Connected,
            };
            let what = format!("{}: {}", app.name(&e.participant), next.label());
            app.send(Command::SetConnection { participant: e.participant.clone(), status: next }, what)
        }
        Action::Undo => match app.session().and_then(|s| s.undo.clone()) {
            Some(undo) => app.send(Command::Undo { seq: undo.seq }, format!("undo {}", undo.what)),
            None => {
                app.error("nothing to undo: undo works right after a list action or a floor given");
                Vec::new()
            }
        },
        Action::NextSegment => {
            let Some(session) = app.session() else { return Vec::new() };
            let next = session.current_segment.map_or(0, |c| c + 1);
            match session.segment_def(next) {
                Some(def) => {
                    let (id, title) = (def.id.clone(), def.title.clone());
                    app.send(Command::OpenSegment { segment: id }, format!("open \"{title}\""))
                }
                None => {
                    app.error("this is the last segment");
                    Vec::new()
                }
            }
        }
        // The rapporteur's and the replay's.
        Action::NewNote
        | Action::NewPledge
        | Action::PlayPause
        | Action::Faster
        | Action::Slower
        | Action::StepForward
        | Action::StepBack
        | Action::NextTurn
        | Action::PreviousTurn
        | Action::PreviousSegment
        | Action::Seek => Vec::new(),
        Action::EndSession => {
            app.mode = Mode::Confirm(Confirm {
                question: "Close the session? Nothing more can be recorded afterwards.".to_string(),
                on_yes: OnYes::Send(Command::CloseSession),
            });
            Vec::new()
        }
    }
}

/// The turn a new note attaches to: the one selected in the history (the current
/// turn first), or none before any turn.
fn selected_turn(app: &App) -> Option<TurnId> {
    let choices = app.session().map(turn_choices).unwrap_or_default();
    choices.get(app.rapporteur.turn_selected).or(choices.first()).and_then(|c| c.id)
}

fn open_editor(app: &mut App, target: NoteTarget) {
    let mut text = TextArea::default();
    let what = if matches!(target, NoteTarget::Pledge { .. }) { "pledge" } else { "note" };
    text.set_placeholder_text(format!("Write the {what}; Tab: tags; Ctrl+S: save; Esc: cancel"));
    app.rapporteur.editor = Some(Editor { target, text, tags: String::new(), focus: Field::Text, saving: None });
    app.mode = Mode::Editing;
}

fn on_rapporteur_action(app: &mut App, action: Action) -> Vec<Effect> {
    let count = app.session().map_or(0, |s| turn_choices(s).len());
    let r = &mut app.rapporteur;
    match action {
        Action::Up => r.turn_selected = r.turn_selected.saturating_sub(1),
        Action::Down => r.turn_selected = (r.turn_selected + 1).min(count.saturating_sub(1)),
        Action::PageUp => r.turn_selected = r.turn_selected.saturating_sub(10),
        Action::PageDown => r.turn_selected = (r.turn_selected + 10).min(count.saturating_sub(1)),
        Action::Top => r.turn_selected = 0,
        Action::Bottom => r.turn_selected = count.saturating_sub(1),
        Action::Help => app.mode = Mode::Help,
        Action::NewNote => {
            let turn = selected_turn(app);
            open_editor(app, NoteTarget::Note { turn });
        }
        Action::NewPledge => {
            let roster: Vec<Participant> = app.session().map(|s| s.def.participants.clone()).unwrap_or_default();
            let results = search_roster(&roster, "", Purpose::Pledger);
            app.mode = Mode::Picker(Picker {
                purpose: Purpose::Pledger,
                query: String::new(),
                results,
                selected: 0,
                kind: None,
            });
        }
        Action::Quit if !app.rapporteur.outbox.is_empty() => {
            let waiting = app.rapporteur.outbox.len();
            app.mode = Mode::Confirm(Confirm {
                question: format!(
                    "{waiting} saved notes are not yet on the hub; they stay in the outbox and go out next time. Quit?"
                ),
                on_yes: OnYes::Quit,
            });
        }
        Action::Quit => return vec![Effect::Quit],
        _ => {}
    }
    Vec::new()
}

fn on_editor_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let Some(editor) = app.rapporteur.editor.as_mut() else {
        app.mode = Mode::Normal;
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => {
            if editor.text.is_empty() && editor.tags.is_empty() {
                app.rapporteur.editor = None;
                app.mode = Mode::Normal;
            } else {
                app.mode =
                    Mode::Confirm(Confirm { question: "Discard this note?".to_string(), on_yes: OnYes::Discard });
            }
        }
        KeyCode::Tab | KeyCode::BackTab => {
            editor.focus = if editor.focus == Field::Text { Field::Tags } else { Field::Text };
        }
        KeyCode::Char('s') if ctrl => return save_note(app),
        KeyCode::Char('c') if ctrl => {
            app.mode = Mode::Confirm(Confirm { question: "Discard this note?".to_string(), on_yes: OnYes::Discard });
        }
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

fn save_note(app: &mut App) -> Vec<Effect> {
    let Some(editor) = app.rapporteur.editor.as_mut() else { return Vec::new() };
    if editor.saving.is_some() {
        return Vec::new(); // already being saved
    }
    let text = editor.text.lines().join("\n");
    if text.trim().is_empty() {
        app.error("the note is empty: nothing saved");
        return Vec::new();
    }
    let (objectives, themes) = parse_tags(&editor.tags);
    app.rapporteur.next_note += 1;
    let client_id = format!("{}-{}", app.rapporteur.client_prefix, app.rapporteur.next_note);
    let command = match editor.target.clone() {
        NoteTarget::Note { turn } => Command::AddNote { client_id: client_id.clone(), turn, text, objectives, themes },
        NoteTarget::Pledge { pledger, turn } => {
            if !themes.is_empty() || objectives.is_empty() {
                app.error("a pledge needs the numbers of the GCM objectives it serves (1 to 23), e.g. \"5 6\"");
                return Vec::new();
            }
            Command::AddPledge { client_id: client_id.clone(), pledger, text, objectives, turn }
        }
    };
    editor.saving = Some(client_id.clone());
    vec![Effect::Save(Saved { client_id, command })]
}

#[cfg(test)]
mod tests;
