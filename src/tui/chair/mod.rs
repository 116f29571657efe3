//! The chair's screen: state, messages and the pure `update(&mut Chair, Msg) -> Vec<Effect>`.
//! Rules of procedure are never decided here: commands go to the hub, and its
//! answer (accepted, or rejected with a reason) is shown. What the screen offers
//! (hints, footer) is what the hub would accept now.

pub mod register;
pub mod view;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::keymap::{Action, Keymap};
use super::live::{Answer, Effect, Live, Msg};
use super::widgets::picker::{self, Outcome, Picker, Purpose};
use crate::domain::{
    Command, ConnectionStatus, Entry, Modality, Participant, Session, StatementKind, Timestamp, next_up,
};
use crate::hub::JoinUrl;

/// Seconds added or taken by one press of extend or cut.
pub const TIME_STEP: u32 = 30;
/// Ending a turn with more than this left asks first.
pub const EARLY_END_MS: i64 = 15_000;

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
    Send(Command),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub question: String,
    pub on_yes: OnYes,
}

/// Choosing a remote participant's connection status from a short list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChoice {
    pub participant: String,
    /// The status shown when the picker opened: the command says it changes from this.
    pub from: ConnectionStatus,
    pub selected: usize,
}

pub const STATUSES: [ConnectionStatus; 4] = [
    ConnectionStatus::Unknown,
    ConnectionStatus::Connected,
    ConnectionStatus::AudioChecked,
    ConnectionStatus::TechnicalIssue,
];

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
    /// The fairness panel: speaking time by group against the roster, waiting, budgets.
    Balance,
    /// A statement longer than what is left of a budget: the chair decides.
    Budget(BudgetAsk),
}

/// Giving the floor over budget: the command waiting for the chair's choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetAsk {
    pub command: Command,
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
    /// Other clients on the embedded hub (rapporteurs, observers, co-chairs).
    pub peers: usize,
    /// The last picker whose command is waiting for the hub: reopened if refused.
    last_picker: Option<(String, Picker)>,
    /// A Member State being inscribed for a group statement, while the group is chosen.
    group_for: Option<String>,
    /// A registration waiting for the hub: once accepted, the inscription picker opens on the name.
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
}

/// What "next" would do now, for the key, its hint and its question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextPlan {
    /// Give the floor to this entry (ending the turn on the floor first, if any);
    /// `skipped` names the speakers passed over, so the chair is asked first.
    Give {
        entry: u64,
        name: String,
        skipped: Vec<String>,
    },
    /// No one may be given the floor: only end the turn (asks first).
    EndOnly,
    Nothing(String),
}

pub fn next_plan(session: &Session) -> NextPlan {
    if session.closed_at.is_some() {
        return NextPlan::Nothing("the session is closed".into());
    }
    if session.current_segment.is_none() {
        return NextPlan::Nothing("no segment is open yet".into());
    }
    if let Some(point) = &session.point_of_order {
        return NextPlan::Nothing(format!(
            "a point of order by {} is pending: rule on it first",
            session.name_of(&point.by)
        ));
    }
    match next_up(session) {
        Some(next) => NextPlan::Give {
            entry: next.entry.id,
            name: session.name_of(&next.entry.participant).to_string(),
            skipped: next.skipped.iter().map(|e| session.name_of(&e.participant).to_string()).collect(),
        },
        None if session.floor.is_some() => NextPlan::EndOnly,
        None => NextPlan::Nothing("no one on the list may be given the floor".into()),
    }
}

/// What will not be heard if the open segment ends now.
pub fn unheard(session: &Session) -> Option<String> {
    let current = session.current_segment?;
    let state = session.segments.get(current)?;
    let title = session.segment_def(current)?.title.clone();
    let speakers = match state.list.len() {
        0 => None,
        1 => Some("1 speaker".to_string()),
        n => Some(format!("{n} speakers")),
    };
    let replies = match state.replies.len() {
        0 => None,
        1 => Some("1 right of reply".to_string()),
        n => Some(format!("{n} rights of reply")),
    };
    let what = match (speakers, replies) {
        (Some(s), Some(r)) => format!("{s} and {r}"),
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => return None,
    };
    Some(format!("{what} on \"{title}\" will not be heard"))
}

/// Would this key act on the hub's state? (Then, while a command of ours is
/// unanswered, it waits: its decision must see the state that command made.)
fn acts_on_state(chair: &Chair, key: &KeyEvent) -> bool {
    chair.mode == Mode::Normal
        && chair.live.keymap.resolve(key).is_some_and(|a| {
            !matches!(
                a,
                Action::Help
                    | Action::Up
                    | Action::Down
                    | Action::PageUp
                    | Action::PageDown
                    | Action::Top
                    | Action::Bottom
                    | Action::JoinUrls
                    | Action::ChairUrl
                    | Action::Balance
            )
        })
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
            match answer {
                Answer::Rejected(what) => {
                    // Keep what was typed: a refused inscription reopens its picker.
                    if let Some((for_what, picker)) = chair.last_picker.take()
                        && for_what == what
                        && chair.mode == Mode::Normal
                    {
                        chair.mode = Mode::Picker(picker);
                    }
                }
                Answer::Accepted(what) => {
                    if chair.last_picker.as_ref().is_some_and(|(w, _)| *w == what) {
                        chair.last_picker = None;
                    }
                    // Registered: go on to inscribe them.
                    if let Some((for_what, name)) = chair.registering.take() {
                        if for_what == what && chair.mode == Mode::Normal {
                            let roster = chair.roster();
                            chair.mode = Mode::Picker(Picker::new(Purpose::Inscribe, &roster, &name));
                            if let Some(path) = &chair.delegate_tokens {
                                chair.live.ok(format!("{name} registered: its delegate token is in {path}"));
                            }
                        } else if for_what != what {
                            chair.registering = Some((for_what, name));
                        }
                    }
                }
                Answer::Other => {}
            }
            chair.follow(selected);
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
        Mode::Help | Mode::Join { .. } | Mode::Balance => {
            chair.mode = Mode::Normal;
            Vec::new()
        }
        Mode::Budget(ask) => on_budget_key(chair, ask, key),
        Mode::Confirm(confirm) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                chair.mode = Mode::Normal;
                match confirm.on_yes {
                    OnYes::Quit => vec![Effect::Quit],
                    OnYes::Send(command) => {
                        let what = describe(chair, &command);
                        chair.live.send(command, what)
                    }
                }
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
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
                        && participant.kind == crate::domain::ParticipantKind::MemberState
                    {
                        chair.group_for = Some(participant.id.clone());
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
                            },
                            format!("inscribe {}", participant.name),
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
                    chair.last_picker = Some((what.clone(), p));
                    chair.live.send(command, what)
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
                chair.registering = Some((what.clone(), participant.name.clone()));
                chair.live.send(Command::RegisterParticipant { participant }, what)
            }
        },
        Mode::Status(choice) => on_status_key(chair, choice, key),
    }
}

/// The chair's choice for a statement over budget: `t` the time left, `f` the full
/// time with a reason (typed, then Enter).
fn on_budget_key(chair: &mut Chair, mut ask: BudgetAsk, key: KeyEvent) -> Vec<Effect> {
    let with = |command: &Command, choice: crate::domain::BudgetChoice| match command.clone() {
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
            let what = format!("{} (the time left)", describe(chair, &ask.command));
            chair.live.send(with(&ask.command, crate::domain::BudgetChoice::TimeLeft), what)
        }
        (None, KeyCode::Char('f')) => {
            ask.reason = Some(String::new());
            chair.mode = Mode::Budget(ask);
            Vec::new()
        }
        (Some(reason), KeyCode::Enter) if !reason.trim().is_empty() => {
            let choice = crate::domain::BudgetChoice::FullTime { reason: reason.trim().to_string() };
            chair.mode = Mode::Normal;
            let what = format!("{} (the full time)", describe(chair, &ask.command));
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

/// Send a floor command, or first ask the chair when the statement is longer than
/// what is left of a budget it draws on (the hub would refuse it undecided).
fn give_floor(chair: &mut Chair, command: Command, entry: &Entry, pending: u64, what: String) -> Vec<Effect> {
    let Some(session) = chair.session() else { return Vec::new() };
    let segment = session.current_segment.unwrap_or(0);
    let allotted = u64::from(entry.allotted) * 1000;
    let tightest = crate::domain::budgets_left(session, segment, &entry.participant, entry.kind, pending)
        .into_iter()
        .min_by_key(|b| b.left_ms);
    match tightest {
        Some(b) if b.left_ms < allotted => {
            let name = session.name_of(&entry.participant).to_string();
            let clock = super::widgets::clock;
            let question = format!(
                "{name} has {} left of the {} budget ({}) for a {} statement.",
                clock(b.left_ms),
                b.name,
                clock(b.limit_ms),
                clock(allotted)
            );
            chair.mode = Mode::Budget(BudgetAsk { command, question, reason: None });
            Vec::new()
        }
        _ => chair.live.send(command, what),
    }
}

/// Inscribe the Member State waiting in `group_for`, speaking on behalf of `group`.
fn inscribe_for_group(chair: &mut Chair, group: String) -> Vec<Effect> {
    let Some(participant) = chair.group_for.take() else { return Vec::new() };
    let command = Command::Inscribe {
        participant: participant.clone(),
        segment: None,
        kind: Some(StatementKind::Group),
        level: None,
        on_behalf_of: Some(group),
    };
    let what = match &command {
        Command::Inscribe { on_behalf_of: Some(g), .. } => {
            let group = chair.session().map_or_else(|| g.clone(), |s| s.group_name(g));
            format!("inscribe {}, on behalf of {group}", chair.live.name(&participant))
        }
        _ => String::new(),
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
            choice.selected = (choice.selected + 1).min(STATUSES.len() - 1);
            None
        }
        KeyCode::Char(c @ '1'..='4') => Some(usize::from(c as u8 - b'1')),
        KeyCode::Enter => Some(choice.selected),
        _ => None,
    };
    let Some(index) = pick else {
        chair.mode = Mode::Status(choice);
        return Vec::new();
    };
    chair.mode = Mode::Normal;
    let status = STATUSES[index];
    if status == choice.from {
        chair.live.info(format!("{} stays {}", chair.live.name(&choice.participant), status.label()));
        return Vec::new();
    }
    let what = format!("{}: {}", chair.live.name(&choice.participant), status.label());
    chair.live.send(Command::SetConnection { participant: choice.participant, status, from: Some(choice.from) }, what)
}

/// A short description of a command for the status line.
fn describe(chair: &Chair, command: &Command) -> String {
    let entry_name = |id: &u64| {
        chair
            .session()
            .and_then(|s| s.segment_of_entry(*id).and_then(|seg| s.find_entry(seg, *id)))
            .map_or_else(|| format!("entry #{id}"), |(_, e, _)| chair.live.name(&e.participant))
    };
    match command {
        Command::Withdraw { entry } | Command::WithdrawReply { entry } => format!("withdraw {}", entry_name(entry)),
        Command::Next { entry, .. } => format!("floor to {}", entry_name(entry)),
        Command::EndTurn { .. } => "end the turn".to_string(),
        Command::CloseList { .. } => "close the list".to_string(),
        Command::CloseSession => "close the session".to_string(),
        Command::OpenSegment { segment } => {
            let title =
                chair.session().and_then(|s| s.def.segments.iter().find(|d| &d.id == segment)).map(|d| d.title.clone());
            format!("open \"{}\"", title.as_deref().unwrap_or(segment))
        }
        other => other.name().to_string(),
    }
}

/// Whether the chair could give the floor to `entry` now (for hints: never offer
/// what the hub would refuse).
pub fn may_give_floor(session: &Session, entry: &Entry) -> bool {
    let remote_issue = session.def.participant(&entry.participant).is_some_and(|p| p.modality == Modality::Remote)
        && session.connection(&entry.participant) == ConnectionStatus::TechnicalIssue;
    let reply_too_early = entry.kind == StatementKind::Reply
        && session.current_segment.and_then(|s| session.segments.get(s)).is_some_and(|s| !s.list.is_empty());
    session.closed_at.is_none()
        && session.current_segment.is_some()
        && session.floor.is_none()
        && session.point_of_order.is_none()
        && !remote_issue
        && !reply_too_early
}

fn on_action(chair: &mut Chair, action: Action) -> Vec<Effect> {
    let Some(session) = chair.session().cloned() else {
        return match action {
            Action::Quit => vec![Effect::Quit],
            Action::Help => {
                chair.mode = Mode::Help;
                Vec::new()
            }
            _ => chair.nothing("waiting for the hub: nothing to act on yet"),
        };
    };
    let floor = session.floor.clone();
    let selected = chair.selected_entry().cloned();
    match action {
        Action::Quit => {
            let mut reasons = Vec::new();
            if floor.is_some() {
                reasons.push("a turn is running".to_string());
            }
            if chair.peers > 0 && !chair.join_urls.is_empty() {
                let n = chair.peers;
                reasons.push(format!(
                    "{n} other {} on this hub will be cut off until you start it again",
                    if n == 1 { "client" } else { "clients" }
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
        Action::Inscribe | Action::PointOfOrder | Action::RightOfReply => {
            let purpose = match action {
                Action::Inscribe => Purpose::Inscribe,
                Action::PointOfOrder => Purpose::PointOfOrder,
                _ => Purpose::RightOfReply,
            };
            chair.mode = Mode::Picker(Picker::new(purpose, &session.def.participants, ""));
            Vec::new()
        }
        Action::GiveFloor => match selected {
            Some(e) => {
                let what = format!("floor to {}", chair.live.name(&e.participant));
                give_floor(chair, Command::GiveFloor { entry: e.id, budget: None }, &e, 0, what)
            }
            None => chair.nothing("select an entry on the list first"),
        },
        Action::Balance => {
            chair.mode = Mode::Balance;
            Vec::new()
        }
        Action::NextSpeaker => {
            match next_plan(&session) {
                NextPlan::Give { entry, name, skipped } => {
                    let command = Command::Next { turn: floor.as_ref().map(|t| t.id), entry, budget: None };
                    if skipped.is_empty() {
                        let what = format!("floor to {name}");
                        let next = session
                            .segments
                            .get(session.current_segment.unwrap_or(0))
                            .and_then(|s| s.list.iter().chain(s.replies.iter()).find(|e| e.id == entry).cloned());
                        // The ending turn counts against the budgets it shares with the next.
                        let same = floor
                            .as_ref()
                            .zip(next.as_ref())
                            .is_some_and(|(t, n)| t.entry.participant == n.participant);
                        let pending = floor.as_ref().filter(|_| same).map_or(0, |t| t.used_at(chair.live.hub_now()));
                        match next {
                            Some(e) => give_floor(chair, command, &e, pending, what),
                            None => chair.live.send(command, what),
                        }
                    } else {
                        let (who, verb) = match skipped.as_slice() {
                            [one] => (one.clone(), "has"),
                            many => (many.join(", "), "have"),
                        };
                        let end = floor.as_ref().map_or(String::new(), |t| {
                            format!("end the turn of {} and ", session.name_of(&t.entry.participant))
                        });
                        chair.ask(
                        capitalize_sentences(&format!(
                            "{who} {verb} a technical issue and cannot be given the floor. {end}give the floor to {name}?"
                        )),
                        OnYes::Send(command),
                    );
                        Vec::new()
                    }
                }
                NextPlan::EndOnly => {
                    let Some(turn) = floor else { return Vec::new() };
                    chair.ask(
                        format!(
                            "No one else on the list may be given the floor now. End the turn of {}?",
                            session.name_of(&turn.entry.participant)
                        ),
                        OnYes::Send(Command::EndTurn { turn: turn.id }),
                    );
                    Vec::new()
                }
                NextPlan::Nothing(why) => chair.nothing(format!("no next speaker: {why}")),
            }
        }
        Action::EndTurn => {
            let Some(turn) = floor else { return chair.nothing("nobody holds the floor") };
            let name = session.name_of(&turn.entry.participant).to_string();
            let warning = session.segment_def(turn.segment).map_or(30, |d| d.limits.warning);
            let left = turn.reading(chair.live.hub_now(), warning).remaining_ms;
            let command = Command::EndTurn { turn: turn.id };
            if left > EARLY_END_MS {
                chair.ask(
                    format!(
                        "{name} still has {} left. End the turn now? ({} undoes it right after)",
                        super::widgets::countdown(left),
                        chair.live.keymap.key_of(Action::Undo)
                    ),
                    OnYes::Send(command),
                );
                Vec::new()
            } else {
                chair.live.send(command, format!("end the turn of {name}"))
            }
        }
        Action::Suspend => {
            let Some(turn) = floor else { return chair.nothing("nobody holds the floor") };
            let name = session.name_of(&turn.entry.participant).to_string();
            chair
                .live
                .send(Command::SuspendTurn { turn: turn.id, places: None }, format!("interrupt {name}'s statement"))
        }
        Action::PauseResume | Action::Extend | Action::Cut => {
            let Some(turn) = floor else { return chair.nothing("nobody holds the floor") };
            let (command, what) = match action {
                Action::PauseResume if turn.paused => (Command::Resume { turn: turn.id }, "resume the clock".into()),
                Action::PauseResume => (Command::Pause { turn: turn.id }, "pause the clock".into()),
                Action::Extend => (Command::Extend { turn: turn.id, secs: TIME_STEP }, format!("+{TIME_STEP} s")),
                _ => (Command::Cut { turn: turn.id, secs: TIME_STEP }, format!("-{TIME_STEP} s")),
            };
            chair.live.send(command, what)
        }
        Action::MoveUp | Action::MoveDown | Action::Defer | Action::DeferToEnd | Action::Reinstate => {
            let Some(e) = selected else { return chair.nothing("select an entry on the list first") };
            let name = chair.live.name(&e.participant);
            let (command, what) = match action {
                Action::MoveUp => (Command::MoveUp { entry: e.id }, format!("move {name} up")),
                Action::MoveDown => (Command::MoveDown { entry: e.id }, format!("move {name} down")),
                Action::Defer => (Command::Defer { entry: e.id, places: None, to_end: false }, format!("defer {name}")),
                Action::DeferToEnd => {
                    (Command::Defer { entry: e.id, places: None, to_end: true }, format!("defer {name} to the end"))
                }
                _ => (Command::Reinstate { entry: e.id }, format!("reinstate {name}")),
            };
            chair.live.send(command, what)
        }
        Action::Withdraw => {
            let Some(e) = selected else { return chair.nothing("select an entry on the list first") };
            let name = chair.live.name(&e.participant);
            let command = if e.kind == StatementKind::Reply {
                Command::WithdrawReply { entry: e.id }
            } else {
                Command::Withdraw { entry: e.id }
            };
            let undo = chair.live.keymap.key_of(Action::Undo);
            chair.ask(format!("Withdraw {name} from the list? ({undo} undoes it right after)"), OnYes::Send(command));
            Vec::new()
        }
        Action::ToggleList => {
            let segment = chair.view_segment();
            let closed = session.segments.get(segment).is_some_and(|s| s.closed);
            let id = session.segment_def(segment).map(|d| d.id.clone());
            if closed {
                chair.live.send(Command::ReopenList { segment: id }, "reopen the list".to_string())
            } else {
                let undo = chair.live.keymap.key_of(Action::Undo);
                chair.ask(
                    format!("Close the list of speakers? No new inscriptions until it is reopened. ({undo} undoes it right after)"),
                    OnYes::Send(Command::CloseList { segment: id }),
                );
                Vec::new()
            }
        }
        Action::Rule => match session.point_of_order.clone() {
            Some(point) => {
                chair.mode = Mode::Ruling(Ruling { point: point.id, text: String::new(), upheld: None });
                Vec::new()
            }
            None => chair.nothing("no point of order is pending"),
        },
        Action::Connection => {
            // A remote speaker on the floor, or else the selected entry (an audio check
            // on someone waiting while an in-room speaker holds the floor).
            let remote = |p: &str| session.def.participant(p).is_some_and(|p| p.modality == Modality::Remote);
            let participant = floor
                .as_ref()
                .map(|t| t.entry.participant.clone())
                .filter(|p| remote(p))
                .or(selected.map(|e| e.participant));
            let Some(participant) = participant else { return chair.nothing("select an entry on the list first") };
            let remote = session.def.participant(&participant).is_some_and(|p| p.modality == Modality::Remote);
            if !remote {
                let name = chair.live.name(&participant);
                return chair.nothing(format!("{name} is not a remote participant: it has no connection status"));
            }
            let from = session.connection(&participant);
            let selected = STATUSES.iter().position(|s| *s == from).unwrap_or(0);
            chair.mode = Mode::Status(StatusChoice { participant, from, selected });
            Vec::new()
        }
        Action::Undo => match session.undo.clone() {
            Some(undo) => chair.live.send(Command::Undo { seq: undo.seq }, format!("undo {}", undo.what)),
            None => chair.nothing("nothing to undo: undo works right after an action, before anything else happens"),
        },
        Action::NextSegment => {
            let next = session.current_segment.map_or(0, |c| c + 1);
            let Some(def) = session.segment_def(next) else { return chair.nothing("this is the last segment") };
            if let Some(turn) = &floor {
                return chair.nothing(format!(
                    "{} holds the floor: end the turn before opening \"{}\"",
                    session.name_of(&turn.entry.participant),
                    def.title
                ));
            }
            let lost = unheard(&session).map(|l| format!("{l}. ")).unwrap_or_default();
            let undo = chair.live.keymap.key_of(Action::Undo);
            chair.ask(
                format!("{lost}Open \"{}\"? ({undo} undoes it right after)", def.title),
                OnYes::Send(Command::OpenSegment { segment: def.id.clone() }),
            );
            Vec::new()
        }
        Action::EndSession => {
            let lost = unheard(&session).map(|l| format!("{l}. ")).unwrap_or_default();
            let undo = chair.live.keymap.key_of(Action::Undo);
            chair.ask(
                format!(
                    "{lost}Close the session? Nothing more can be recorded afterwards. ({undo} undoes it right after)"
                ),
                OnYes::Send(Command::CloseSession),
            );
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Each sentence begins with a capital.
fn capitalize_sentences(text: &str) -> String {
    text.split(". ").map(capitalize).collect::<Vec<_>>().join(". ")
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
