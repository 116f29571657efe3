//! The chair's screen: state, messages and the pure `update(&mut Chair, Msg) -> Vec<Effect>`.
//! Rules of procedure are never decided here: what a key does, whether it is
//! offered, what it asks first and why it is refused all come from the domain
//! ([`crate::domain::offers`], previewed on the replica for this chair), and the
//! hub's answer (accepted, or rejected with a reason) is shown.

pub mod register;
pub mod view;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::keymap::{Action, Keymap};
use super::live::{Answer, Effect, Live, Msg, Pending};
use super::widgets::language;
use super::widgets::picker::{self, Outcome, Picker, Purpose};
use crate::domain::{
    BudgetChoice, Command, ConnectionStatus, Entry, Move, Offer, Participant, ParticipantKind, Session, StatementKind,
    Timestamp, connection_choices,
};
use crate::hub::JoinUrl;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruling {
    pub point: u64,
    pub text: String,
    /// None until the chair chooses (Tab, or u / n).
    pub upheld: Option<bool>,
}

/// What answering yes does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnYes {
    Quit,
    /// Go on with what the rules allow (perhaps to the budget choice).
    Offer(Box<Offer>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub question: String,
    pub on_yes: OnYes,
}

/// Choosing a remote participant's connection status from the statuses the rules
/// let this chair set now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChoice {
    pub participant: String,
    /// The status shown when the popup opened.
    pub from: ConnectionStatus,
    /// Every status, numbered 1 to 4, with the command that sets it (which says it
    /// changes from `from`) or why it cannot be set now.
    pub choices: Vec<(ConnectionStatus, Result<Command, crate::domain::Rejection>)>,
    pub selected: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Picker(Picker),
    Ruling(Ruling),
    Confirm(Confirm),
    Status(StatusChoice),
    /// The join URLs, large (the chair's own URL only when asked for).
    Join {
        chair: bool,
    },
    /// Registering a participant not in the roster.
    Register(register::Registration),
    /// The fairness panel: speaking time by group against the roster, waiting,
    /// budgets (scrolled by `scroll` rows).
    Balance {
        scroll: u16,
    },
    /// A statement longer than what is left of a budget: the chair decides.
    Budget(BudgetAsk),
}

/// Giving the floor over budget: the command waiting for the chair's choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetAsk {
    pub command: Command,
    pub what: String,
    pub question: String,
    /// Typing the reason for giving the full time (None: choosing).
    pub reason: Option<String>,
}

pub struct Chair {
    pub live: Live,
    /// Index into the selectable entries: the list, then the rights of reply.
    pub selected: usize,
    pub mode: Mode,
    pub join_urls: Vec<JoinUrl>,
    /// Where delegates' tokens are (the embedded hub's data directory), if known.
    pub delegate_tokens: Option<String>,
    /// Other clients on the embedded hub (rapporteurs, observers, co-chairs, the
    /// room's pages), as of the last key pressed.
    pub peers: usize,
    /// The picker whose command is waiting for the hub (by command id): reopened if refused.
    last_picker: Option<(String, Picker)>,
    /// A Member State being inscribed for a group statement, while the group is
    /// chosen, with the statement's language.
    group_for: Option<(String, Option<String>)>,
    /// A registration waiting for the hub (by command id), and the name: once
    /// accepted, the inscription picker opens on it.
    registering: Option<(String, String)>,
}

impl Chair {
    pub fn new(keymap: Keymap, join_urls: Vec<JoinUrl>, now: Timestamp) -> Self {
        Self {
            live: Live::new(keymap, now),
            selected: 0,
            mode: Mode::Normal,
            join_urls,
            delegate_tokens: None,
            peers: 0,
            last_picker: None,
            group_for: None,
            registering: None,
        }
    }

    /// Show the join panel by itself (the first time a session is created).
    pub fn show_join(mut self) -> Self {
        self.mode = Mode::Join { chair: false };
        self
    }

    pub fn session(&self) -> Option<&Session> {
        self.live.session()
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

    /// What the rules let this chair do now, with the selected entry.
    pub fn offers(&self) -> crate::domain::Offers {
        self.live.offers(self.selected_entry().map(|e| e.id))
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

    fn roster(&self) -> Vec<Participant> {
        self.session().map(|s| s.def.participants.clone()).unwrap_or_default()
    }

    fn ask(&mut self, question: String, on_yes: OnYes) {
        self.mode = Mode::Confirm(Confirm { question, on_yes });
    }

    fn nothing(&mut self, text: impl Into<String>) -> Vec<Effect> {
        self.live.error(text);
        Vec::new()
    }

    /// "… (u undoes it right after)" when it can be.
    fn undo_note(&self, question: &str, undoable: bool) -> String {
        if undoable {
            format!("{question} ({} undoes it right after)", self.live.keymap.key_of(Action::Undo))
        } else {
            question.to_string()
        }
    }
}

/// Would this key act on the hub's state? (Then, while a command of ours is
/// unanswered, it waits: its decision must see the state that command made.)
fn acts_on_state(chair: &Chair, key: &KeyEvent) -> bool {
    // Quitting waits too: its question reads the state the answer brings.
    chair.mode == Mode::Normal
        && chair.live.keymap.resolve(key).is_some_and(|a| a == Action::Quit || move_of(a).is_some())
}

pub fn update(chair: &mut Chair, msg: Msg) -> Vec<Effect> {
    match msg {
        // Fast keys act as slow ones: while a command is unanswered, a key that acts
        // on the state (and every key after it) waits for the answer and its events.
        Msg::Key(key)
            if key.kind == KeyEventKind::Press
                && chair.live.busy()
                && (!chair.live.queued.is_empty() || acts_on_state(chair, &key))
                && !(key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)) =>
        {
            chair.live.queued.push_back(key);
            Vec::new()
        }
        Msg::Key(key) if key.kind == KeyEventKind::Press => on_key(chair, key),
        Msg::Key(_) => Vec::new(), // act on presses only: some terminals report releases
        Msg::Mouse(mouse) => on_mouse(chair, mouse),
        Msg::Resize(w, h) => {
            chair.live.size = (w, h);
            Vec::new()
        }
        Msg::Tick(now) => {
            chair.live.local_now = now;
            Vec::new()
        }
        Msg::Peers(n) => {
            chair.peers = n;
            Vec::new()
        }
        Msg::Link(event) => {
            let selected = chair.selected_entry().map(|e| e.id);
            let segment = chair.session().and_then(|s| s.current_segment);
            let (mut effects, answer) = chair.live.on_link(event);
            if let Some(role) = chair.live.role
                && role != crate::domain::Role::Chair
            {
                return vec![Effect::Fail(format!(
                    "this token is {}'s, not the chair's: {}",
                    role.with_article(),
                    match role {
                        crate::domain::Role::Delegate => "use rostrum delegate URL --token TOKEN",
                        _ => "use rostrum rapporteur URL --token TOKEN to follow the session",
                    }
                ))];
            }
            chair.follow(selected);
            // A new segment opens at the top of its list, not where the last one's selection was.
            if chair.session().and_then(|s| s.current_segment) != segment {
                chair.selected = 0;
            }
            match answer {
                Answer::Rejected(pending) => on_rejected(chair, pending),
                Answer::Accepted(pending) => on_accepted(chair, pending),
                Answer::Other => {}
            }
            // The answer and its events are in: the keys pressed meanwhile, in order.
            while !chair.live.busy()
                && let Some(key) = chair.live.queued.pop_front()
            {
                effects.extend(on_key(chair, key));
            }
            effects
        }
        Msg::Saved(_) | Msg::SaveFailed(_) => Vec::new(),
    }
}

/// A command of ours was refused: a refused inscription reopens its picker with
/// what was typed.
fn on_rejected(chair: &mut Chair, pending: Pending) {
    if let Some((id, picker)) = chair.last_picker.take()
        && id == pending.id
        && chair.mode == Mode::Normal
    {
        chair.mode = Mode::Picker(picker);
    }
    if chair.registering.as_ref().is_some_and(|(id, _)| *id == pending.id) {
        chair.registering = None;
    }
}

/// A command of ours was accepted (its events are in): an inscription is
/// selected and its place said; a registration goes on to the inscription.
fn on_accepted(chair: &mut Chair, pending: Pending) {
    if chair.last_picker.as_ref().is_some_and(|(id, _)| *id == pending.id) {
        chair.last_picker = None;
    }
    if let Command::Inscribe { participant, .. } = &pending.command
        && let Some(session) = chair.session()
        && let Some(state) = session.segments.get(chair.view_segment())
        && let Some((index, entry)) =
            state.list.iter().enumerate().filter(|(_, e)| e.participant == *participant).max_by_key(|(_, e)| e.id)
    {
        let text = format!("✓ {}: #{} of {} on the list", pending.what, index + 1, state.list.len());
        let entry = entry.id;
        chair.follow(Some(entry));
        chair.live.ok(text);
    }
    if let Some((id, name)) = chair.registering.take() {
        if id != pending.id {
            chair.registering = Some((id, name));
        } else if chair.mode == Mode::Normal {
            let roster = chair.roster();
            chair.mode = Mode::Picker(Picker::new(Purpose::Inscribe, &roster, &name));
            if let Some(path) = &chair.delegate_tokens {
                chair.live.ok(format!("{name} registered: its delegate token is in {path}"));
            }
        }
    }
}

fn on_mouse(chair: &mut Chair, mouse: MouseEvent) -> Vec<Effect> {
    match mouse.kind {
        MouseEventKind::ScrollDown => move_selection(chair, 1),
        MouseEventKind::ScrollUp => move_selection(chair, -1),
        MouseEventKind::Down(MouseButton::Left) if chair.mode == Mode::Normal => {
            let area = ratatui::layout::Rect::new(0, 0, chair.live.size.0, chair.live.size.1);
            let rows = view::layout(chair, area).list_rows;
            if mouse.row >= rows.y && mouse.row < rows.y + rows.height && mouse.column >= rows.x {
                let offset = super::widgets::list::offset(chair.selected, rows.height as usize);
                let index = offset + (mouse.row - rows.y) as usize;
                if index < chair.selectable().len() {
                    chair.selected = index;
                }
            }
        }
        _ => {}
    }
    Vec::new()
}

fn move_selection(chair: &mut Chair, delta: isize) {
    let len = chair.selectable().len();
    chair.selected = if len == 0 { 0 } else { chair.selected.saturating_add_signed(delta).min(len - 1) };
}

fn on_key(chair: &mut Chair, key: KeyEvent) -> Vec<Effect> {
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    // Ctrl+C quits from any popup (asking first where quitting would cut something off).
    if ctrl_c && !matches!(chair.mode, Mode::Normal | Mode::Confirm(_)) {
        chair.mode = Mode::Normal;
        return on_action(chair, Action::Quit);
    }
    match chair.mode.clone() {
        Mode::Normal => match chair.live.keymap.resolve(&key) {
            Some(action) => on_action(chair, action),
            None => Vec::new(),
        },
        Mode::Balance { scroll } => {
            // The panel scrolls; any other key closes it.
            let scroll = match key.code {
                KeyCode::Down | KeyCode::Char('j') => scroll.saturating_add(1),
                KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
                KeyCode::PageDown => scroll.saturating_add(10),
                KeyCode::PageUp => scroll.saturating_sub(10),
                _ => {
                    chair.mode = Mode::Normal;
                    return Vec::new();
                }
            };
            chair.mode = Mode::Balance { scroll };
            Vec::new()
        }
        Mode::Help | Mode::Join { .. } => {
            chair.mode = Mode::Normal;
            Vec::new()
        }
        Mode::Budget(ask) => on_budget_key(chair, ask, key),
        Mode::Confirm(confirm) => match chair.live.keymap.resolve(&key) {
            Some(Action::Yes) => {
                chair.mode = Mode::Normal;
                match confirm.on_yes {
                    OnYes::Quit => vec![Effect::Quit],
                    OnYes::Offer(offer) => proceed(chair, Offer { question: None, ..*offer }),
                }
            }
            Some(Action::No) => {
                chair.mode = Mode::Normal;
                chair.live.info("cancelled: nothing was sent");
                Vec::new()
            }
            _ if ctrl_c => vec![Effect::Quit],
            // Any other key, however fast, answers nothing.
            _ => Vec::new(),
        },
        Mode::Picker(mut p) => {
            let roster = chair.roster();
            match picker::on_key(&mut p, &roster, key) {
                Outcome::Open => {
                    chair.mode = Mode::Picker(p);
                    Vec::new()
                }
                Outcome::Cancelled => {
                    chair.mode = Mode::Normal;
                    Vec::new()
                }
                Outcome::NoMatch if p.purpose == Purpose::OnBehalfOf && !p.query.trim().is_empty() => {
                    // A group the roster does not list: the name as typed.
                    chair.mode = Mode::Normal;
                    let group = p.query.trim().to_string();
                    inscribe_for_group(chair, group)
                }
                Outcome::NoMatch if p.purpose == Purpose::Inscribe && !p.query.trim().is_empty() => {
                    // Not in the roster: register them (late registration).
                    chair.mode = Mode::Register(register::Registration::new(&p.query));
                    Vec::new()
                }
                Outcome::NoMatch => {
                    chair.mode = Mode::Picker(p.clone());
                    chair.nothing(format!("no participant matches \"{}\"", p.query))
                }
                Outcome::Chosen(i) => {
                    chair.mode = Mode::Normal;
                    let Some(participant) = roster.get(i) else { return Vec::new() };
                    if p.purpose == Purpose::OnBehalfOf {
                        return inscribe_for_group(chair, participant.id.clone());
                    }
                    // A Member State's statement on behalf of a group: which group, first.
                    if p.purpose == Purpose::Inscribe
                        && p.kind == Some(StatementKind::Group)
                        && participant.kind == ParticipantKind::MemberState
                    {
                        chair.group_for = Some((participant.id.clone(), p.language.code()));
                        chair.mode = Mode::Picker(Picker::new(Purpose::OnBehalfOf, &roster, ""));
                        return Vec::new();
                    }
                    let (command, what) = match p.purpose {
                        Purpose::Inscribe => (
                            Command::Inscribe {
                                participant: participant.id.clone(),
                                segment: None,
                                kind: p.kind,
                                level: None,
                                on_behalf_of: None,
                                language: p.language.code(),
                            },
                            format!("inscribe {}{}", participant.name, language::clause(p.language.code.as_deref())),
                        ),
                        Purpose::PointOfOrder => (
                            Command::RaisePointOfOrder { by: participant.id.clone() },
                            format!("point of order by {}", participant.name),
                        ),
                        Purpose::RightOfReply | Purpose::Pledger | Purpose::OnBehalfOf => (
                            Command::RequestReply { participant: participant.id.clone(), segment: None },
                            format!("right of reply for {}", participant.name),
                        ),
                    };
                    let (effects, id) = chair.live.send_tracked(command, what);
                    chair.last_picker = id.map(|id| (id, p));
                    effects
                }
            }
        }
        Mode::Ruling(ruling) => on_ruling_key(chair, ruling, key),
        Mode::Register(mut form) => match form.on_key(key) {
            register::Outcome::Open => {
                chair.mode = Mode::Register(form);
                Vec::new()
            }
            register::Outcome::Cancelled => {
                chair.mode = Mode::Normal;
                Vec::new()
            }
            register::Outcome::Submit => {
                if form.name.trim().is_empty() {
                    chair.mode = Mode::Register(form);
                    return chair.nothing("give the participant's name");
                }
                chair.mode = Mode::Normal;
                let participant = {
                    let session = chair.session();
                    form.participant(&|id| session.is_some_and(|s| s.def.participant(id).is_some()))
                };
                let what = format!("register {}", participant.name);
                let name = participant.name.clone();
                let (effects, id) = chair.live.send_tracked(Command::RegisterParticipant { participant }, what);
                chair.registering = id.map(|id| (id, name));
                effects
            }
        },
        Mode::Status(choice) => on_status_key(chair, choice, key),
    }
}

/// The chair's choice for a statement over budget: `t` the time left, `f` the full
/// time with a reason (typed, then Enter).
fn on_budget_key(chair: &mut Chair, mut ask: BudgetAsk, key: KeyEvent) -> Vec<Effect> {
    let with = |command: &Command, choice: BudgetChoice| match command.clone() {
        Command::GiveFloor { entry, .. } => Command::GiveFloor { entry, budget: Some(choice) },
        Command::Next { turn, entry, .. } => Command::Next { turn, entry, budget: Some(choice) },
        other => other,
    };
    match (&mut ask.reason, key.code) {
        (_, KeyCode::Esc) => {
            chair.mode = Mode::Normal;
            chair.live.info("cancelled: nothing was sent");
            Vec::new()
        }
        (None, KeyCode::Char('t')) => {
            chair.mode = Mode::Normal;
            let what = format!("{} (the time left)", ask.what);
            chair.live.send(with(&ask.command, BudgetChoice::TimeLeft), what)
        }
        (None, KeyCode::Char('f')) => {
            ask.reason = Some(String::new());
            chair.mode = Mode::Budget(ask);
            Vec::new()
        }
        (Some(reason), KeyCode::Enter) if !reason.trim().is_empty() => {
            let choice = BudgetChoice::FullTime { reason: reason.trim().to_string() };
            chair.mode = Mode::Normal;
            let what = format!("{} (the full time)", ask.what);
            chair.live.send(with(&ask.command, choice), what)
        }
        (Some(reason), KeyCode::Backspace) => {
            reason.pop();
            chair.mode = Mode::Budget(ask);
            Vec::new()
        }
        (Some(reason), KeyCode::Char(c)) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            reason.push(c);
            chair.mode = Mode::Budget(ask);
            Vec::new()
        }
        _ => {
            chair.mode = Mode::Budget(ask);
            Vec::new()
        }
    }
}

/// Inscribe the Member State waiting in `group_for`, speaking on behalf of `group`.
fn inscribe_for_group(chair: &mut Chair, group: String) -> Vec<Effect> {
    let Some((participant, language)) = chair.group_for.take() else { return Vec::new() };
    let group_name = chair.session().map_or_else(|| group.clone(), |s| s.group_name(&group));
    let what = format!(
        "inscribe {}, on behalf of {group_name}{}",
        chair.live.name(&participant),
        language::clause(language.as_deref())
    );
    let command = Command::Inscribe {
        participant,
        segment: None,
        kind: Some(StatementKind::Group),
        level: None,
        on_behalf_of: Some(group),
        language,
    };
    chair.live.send(command, what)
}

fn on_ruling_key(chair: &mut Chair, mut ruling: Ruling, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            chair.mode = Mode::Normal;
            return Vec::new();
        }
        KeyCode::Tab | KeyCode::BackTab => ruling.upheld = Some(!ruling.upheld.unwrap_or(false)),
        KeyCode::Backspace => {
            ruling.text.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => ruling.text.push(c),
        KeyCode::Enter => {
            let Some(upheld) = ruling.upheld else {
                chair.mode = Mode::Ruling(ruling);
                return chair.nothing("choose upheld or not upheld first (Tab)");
            };
            if ruling.text.trim().is_empty() {
                chair.mode = Mode::Ruling(ruling);
                return chair.nothing("write the ruling first: it goes into the record");
            }
            chair.mode = Mode::Normal;
            let verdict = if upheld { "upheld" } else { "not upheld" };
            return chair.live.send(
                Command::RulePointOfOrder { point: ruling.point, ruling: ruling.text.trim().to_string(), upheld },
                format!("ruling: {verdict}"),
            );
        }
        _ => {}
    }
    chair.mode = Mode::Ruling(ruling);
    Vec::new()
}

fn on_status_key(chair: &mut Chair, mut choice: StatusChoice, key: KeyEvent) -> Vec<Effect> {
    let last = choice.choices.len().saturating_sub(1);
    let pick = match key.code {
        KeyCode::Esc => {
            chair.mode = Mode::Normal;
            return Vec::new();
        }
        KeyCode::Up | KeyCode::Char('k') => {
            choice.selected = choice.selected.saturating_sub(1);
            None
        }
        KeyCode::Down | KeyCode::Char('j') => {
            choice.selected = (choice.selected + 1).min(last);
            None
        }
        KeyCode::Char(c @ '1'..='9') => Some(usize::from(c as u8 - b'1')).filter(|i| *i <= last),
        KeyCode::Enter => Some(choice.selected),
        _ => None,
    };
    let Some((status, command)) = pick.and_then(|i| choice.choices.get(i).cloned()) else {
        chair.mode = Mode::Status(choice);
        return Vec::new();
    };
    let command = match command {
        Ok(command) => command,
        Err(rejection) if status == choice.from => {
            chair.mode = Mode::Normal;
            chair.live.info(format!("{} stays {}", chair.live.name(&choice.participant), status.label()));
            let _ = rejection;
            return Vec::new();
        }
        Err(rejection) => {
            chair.mode = Mode::Status(choice);
            return chair.nothing(rejection.reason);
        }
    };
    chair.mode = Mode::Normal;
    let what = format!("{}: {}", chair.live.name(&choice.participant), status.label());
    chair.live.send(command, what)
}

/// Do what the rules allow: ask their question first, then the budget choice,
/// then send.
fn proceed(chair: &mut Chair, offer: Offer) -> Vec<Effect> {
    let Some(command) = offer.command.clone() else { return Vec::new() };
    if let Some(question) = &offer.question {
        let question = chair.undo_note(question, offer.undoable);
        chair.ask(question, OnYes::Offer(Box::new(offer)));
        return Vec::new();
    }
    if let Some(question) = offer.budget {
        chair.mode = Mode::Budget(BudgetAsk { command, what: offer.what, question, reason: None });
        return Vec::new();
    }
    chair.live.send(command, offer.what)
}

/// The move a key makes on this screen (keys that only change the view make none).
fn move_of(action: Action) -> Option<Move> {
    Some(match action {
        Action::GiveFloor => Move::GiveFloor,
        Action::NextSpeaker => Move::Next,
        Action::EndTurn => Move::EndTurn,
        Action::Suspend => Move::Suspend,
        Action::PauseResume => Move::PauseResume,
        Action::Extend => Move::Extend,
        Action::Cut => Move::Cut,
        Action::MoveUp => Move::MoveUp,
        Action::MoveDown => Move::MoveDown,
        Action::Withdraw => Move::Withdraw,
        Action::Defer => Move::Defer,
        Action::DeferToEnd => Move::DeferToEnd,
        Action::Reinstate => Move::Reinstate,
        Action::ToggleList => Move::ToggleList,
        Action::Inscribe => Move::Inscribe,
        Action::PointOfOrder => Move::PointOfOrder,
        Action::Rule => Move::Rule,
        Action::RightOfReply => Move::RightOfReply,
        Action::Connection => Move::Connection,
        Action::Undo => Move::Undo,
        Action::NextSegment => Move::NextSegment,
        Action::EndSession => Move::CloseSession,
        // Keys that change only this screen, answers to a question, and other
        // screens' actions: listed one by one, so a new action cannot be forgotten here.
        Action::Quit
        | Action::Help
        | Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom
        | Action::JoinUrls
        | Action::ChairUrl
        | Action::Balance
        | Action::Yes
        | Action::No
        | Action::NewNote
        | Action::NewPledge
        | Action::PlayPause
        | Action::Faster
        | Action::Slower
        | Action::StepForward
        | Action::StepBack
        | Action::NextTurn
        | Action::PreviousTurn
        | Action::PreviousSegment
        | Action::Seek
        | Action::Open => return None,
    })
}

/// A key that acts on the session: what the rules answer for its move decides.
fn perform(chair: &mut Chair, m: Move) -> Vec<Effect> {
    if chair.session().is_none() || chair.live.actor.is_none() {
        return chair.nothing("waiting for the hub: nothing to act on yet");
    }
    let offer = match chair.offers().get(m) {
        Some(Ok(offer)) => offer.clone(),
        Some(Err(rejection)) => return chair.nothing(rejection.reason.clone()),
        None => return Vec::new(),
    };
    if offer.command.is_some() {
        return proceed(chair, offer);
    }
    // The rules allow it; what it acts on is chosen first.
    let Some(session) = chair.session().cloned() else { return Vec::new() };
    match m {
        Move::Inscribe | Move::PointOfOrder | Move::RightOfReply => {
            let purpose = match m {
                Move::Inscribe => Purpose::Inscribe,
                Move::PointOfOrder => Purpose::PointOfOrder,
                _ => Purpose::RightOfReply,
            };
            chair.mode = Mode::Picker(Picker::new(purpose, &session.def.participants, ""));
        }
        Move::Rule => {
            if let Some(point) = &session.point_of_order {
                chair.mode = Mode::Ruling(Ruling { point: point.id, text: String::new(), upheld: None });
            }
        }
        Move::Connection => {
            let Some(participant) = offer.participant else { return Vec::new() };
            let Some(actor) = chair.live.actor.clone() else { return Vec::new() };
            let from = session.connection(&participant);
            let choices = connection_choices(&session, &actor, chair.live.hub_now(), &participant);
            let selected = choices.iter().position(|(s, _)| *s == from).unwrap_or(0);
            chair.mode = Mode::Status(StatusChoice { participant, from, choices, selected });
        }
        _ => {}
    }
    Vec::new()
}

fn on_action(chair: &mut Chair, action: Action) -> Vec<Effect> {
    match action {
        Action::Quit => {
            let mut reasons = Vec::new();
            if chair.session().is_some_and(|s| s.floor.is_some()) {
                reasons.push("a turn is running".to_string());
            }
            if chair.peers > 0 && !chair.join_urls.is_empty() {
                let n = chair.peers;
                reasons.push(format!(
                    "{n} other {} on this hub (screens, pages and co-chairs) will be cut off until you start it again",
                    if n == 1 { "connection" } else { "connections" }
                ));
            }
            if reasons.is_empty() {
                return vec![Effect::Quit];
            }
            chair.ask(format!("Quit? {}.", capitalize(&reasons.join("; "))), OnYes::Quit);
            Vec::new()
        }
        Action::Help => {
            chair.mode = Mode::Help;
            Vec::new()
        }
        Action::Up => {
            move_selection(chair, -1);
            Vec::new()
        }
        Action::Down => {
            move_selection(chair, 1);
            Vec::new()
        }
        Action::PageUp => {
            move_selection(chair, -10);
            Vec::new()
        }
        Action::PageDown => {
            move_selection(chair, 10);
            Vec::new()
        }
        Action::Top => {
            chair.selected = 0;
            Vec::new()
        }
        Action::Bottom => {
            chair.selected = chair.selectable().len().saturating_sub(1);
            Vec::new()
        }
        Action::JoinUrls => {
            chair.mode = Mode::Join { chair: false };
            Vec::new()
        }
        Action::ChairUrl => {
            chair.mode = Mode::Join { chair: true };
            Vec::new()
        }
        Action::Balance => {
            chair.mode = Mode::Balance { scroll: 0 };
            Vec::new()
        }
        action => match move_of(action) {
            Some(m) => perform(chair, m),
            None => Vec::new(),
        },
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
