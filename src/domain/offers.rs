//! What a person may do now. The screens never decide a rule of procedure: they
//! ask [`offers`] which moves this person has, and each answer is the command the
//! rules would accept (with the question the rules ask first, if any) or the
//! rejection that says why not, computed by [`decide`] itself on the screen's
//! replica. The hub stays the authority; this only previews.

use std::collections::BTreeMap;

use super::decide::{inscriptions_open, over_budget, points_of_order_open, refused, replies_open, shared_pending};
use super::{
    Actor, BudgetChoice, Command, ConnectionStatus, Entry, EntryId, Event, EventKind, Modality, Rejection, Role,
    Session, StatementKind, Timestamp, decide, next_up, undo_of,
};

/// Ending a turn with more than this left asks first.
pub const EARLY_END_MS: i64 = 15_000;
/// Seconds one extend or cut adds or takes.
pub const TIME_STEP: u32 = 30;

/// The events a command would record now, or why the rules refuse it: [`decide`]
/// without numbering, for screens that preview what a key would do.
pub fn preview(
    session: &Session,
    command: Command,
    actor: &Actor,
    now: Timestamp,
) -> Result<Vec<EventKind>, Rejection> {
    decide(session, command, actor, now).map(|events| events.into_iter().map(|e| e.event).collect())
}

/// A move a screen may offer: one key each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Move {
    /// Give the floor to the selected entry.
    GiveFloor,
    /// Thank you, next: end the turn (if any) and give the floor to who the rules say.
    Next,
    EndTurn,
    /// The speaker is lost: interrupt the statement, to continue later.
    Suspend,
    PauseResume,
    Extend,
    Cut,
    MoveUp,
    MoveDown,
    Defer,
    DeferToEnd,
    Reinstate,
    /// Withdraw the selected entry (or right of reply).
    Withdraw,
    /// Close or reopen the open segment's list.
    ToggleList,
    /// Inscribe a speaker (a delegate: itself).
    Inscribe,
    /// Raise a point of order (a delegate: its own; the chair picks who).
    PointOfOrder,
    /// Withdraw the pending point of order before the ruling.
    WithdrawPointOfOrder,
    /// Rule on the pending point of order.
    Rule,
    /// Request a right of reply (a delegate: its own, or withdraw the one pending).
    RightOfReply,
    /// Set the connection status of the remote speaker on the floor, or of the selected entry.
    Connection,
    Undo,
    NextSegment,
    CloseSession,
}

/// A move the rules allow now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// What to send; `None` when the move needs a choice first (a name from the
    /// roster, a ruling's text, a connection status).
    pub command: Option<Command>,
    /// For the status line: "floor to Philippines".
    pub what: String,
    /// The question the rules put before it is done (passing someone over,
    /// ending early, losing what is on a list).
    pub question: Option<String>,
    /// The statement exceeds what is left of a budget: the chair chooses the time
    /// left or the full time with a reason (this sentence says so).
    pub budget: Option<String>,
    /// The chair's undo can take it back right after.
    pub undoable: bool,
    /// The participant the move concerns, if one (the speaker given the floor,
    /// whose connection is set).
    pub participant: Option<String>,
}

impl Offer {
    fn send(command: Command, what: impl Into<String>) -> Self {
        Self {
            command: Some(command),
            what: what.into(),
            question: None,
            budget: None,
            undoable: false,
            participant: None,
        }
    }
    fn choose(what: impl Into<String>) -> Self {
        Self { command: None, what: what.into(), question: None, budget: None, undoable: false, participant: None }
    }
    fn about(mut self, participant: &str) -> Self {
        self.participant = Some(participant.to_string());
        self
    }
    fn asking(mut self, question: impl Into<String>) -> Self {
        self.question = Some(question.into());
        self
    }
}

pub type Offered = Result<Offer, Rejection>;

/// Every move a person has now, each allowed (an [`Offer`]) or refused (why).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offers {
    moves: BTreeMap<Move, Offered>,
}

impl Offers {
    /// The rules' answer for a move; `None` when the move does not apply to this
    /// person at all (a rapporteur's floor, a delegate's segment).
    pub fn get(&self, m: Move) -> Option<&Offered> {
        self.moves.get(&m)
    }

    /// The move, if the rules allow it now.
    pub fn offer(&self, m: Move) -> Option<&Offer> {
        self.moves.get(&m).and_then(|o| o.as_ref().ok())
    }

    pub fn allows(&self, m: Move) -> bool {
        self.offer(m).is_some()
    }

    /// A delegate's point of order: raise one, or withdraw its own pending one.
    pub fn point_of_order_move(&self) -> Move {
        if !self.allows(Move::PointOfOrder) && self.allows(Move::WithdrawPointOfOrder) {
            Move::WithdrawPointOfOrder
        } else {
            Move::PointOfOrder
        }
    }

    /// Why a move is refused now ("the list is closed").
    pub fn why_not(&self, m: Move) -> Option<&str> {
        match self.moves.get(&m) {
            Some(Err(r)) => Some(&r.reason),
            _ => None,
        }
    }
}

/// Every move `actor` has on `session` at `now`, with `selected` the entry the
/// screen has selected (if any).
pub fn offers(session: &Session, actor: &Actor, now: Timestamp, selected: Option<EntryId>) -> Offers {
    let ask = Asker { session, actor, now };
    let mut moves = BTreeMap::new();
    let selected = selected.and_then(|id| {
        let segment = session.segment_of_entry(id)?;
        session.find_entry(segment, id).map(|(index, e, reply)| (segment, index, e, reply))
    });
    match actor.role {
        Role::Chair => {
            for m in [
                Move::Next,
                Move::EndTurn,
                Move::Suspend,
                Move::PauseResume,
                Move::Extend,
                Move::Cut,
                Move::ToggleList,
                Move::Inscribe,
                Move::PointOfOrder,
                Move::WithdrawPointOfOrder,
                Move::Rule,
                Move::RightOfReply,
                Move::Connection,
                Move::Undo,
                Move::NextSegment,
                Move::CloseSession,
            ] {
                moves.insert(m, ask.chair_move(m, selected));
            }
            for m in [
                Move::GiveFloor,
                Move::MoveUp,
                Move::MoveDown,
                Move::Defer,
                Move::DeferToEnd,
                Move::Reinstate,
                Move::Withdraw,
            ] {
                moves.insert(m, ask.entry_move(m, selected));
            }
        }
        Role::Delegate => {
            for m in
                [Move::Inscribe, Move::PointOfOrder, Move::WithdrawPointOfOrder, Move::RightOfReply, Move::Connection]
            {
                moves.insert(m, ask.delegate_move(m));
            }
            moves.insert(Move::Withdraw, ask.entry_move(Move::Withdraw, selected));
        }
        Role::Rapporteur | Role::Observer => {}
    }
    Offers { moves }
}

/// Every connection status, each with the command that sets it for
/// `participant`, or why `actor` may not set it now (it is the status already,
/// it is the chair's to set): the popup numbers them the same way every time and
/// lets only the allowed ones be chosen.
pub fn connection_choices(
    session: &Session,
    actor: &Actor,
    now: Timestamp,
    participant: &str,
) -> Vec<(ConnectionStatus, Result<Command, Rejection>)> {
    let from = session.connection(participant);
    [
        ConnectionStatus::Unknown,
        ConnectionStatus::Connected,
        ConnectionStatus::AudioChecked,
        ConnectionStatus::TechnicalIssue,
    ]
    .into_iter()
    .map(|status| {
        let command = Command::SetConnection { participant: participant.to_string(), status, from: Some(from) };
        (status, preview(session, command.clone(), actor, now).map(|_| command))
    })
    .collect()
}

/// The list entry selected: (segment, index, entry, is a right of reply).
type Selected<'a> = Option<(usize, usize, &'a Entry, bool)>;

struct Asker<'a> {
    session: &'a Session,
    actor: &'a Actor,
    now: Timestamp,
}

impl Asker<'_> {
    fn name(&self, participant: &str) -> String {
        self.session.name_of(participant).to_string()
    }

    /// The command as the rules would take it now.
    fn check(&self, command: Command, what: impl Into<String>) -> Offered {
        let events = preview(self.session, command.clone(), self.actor, self.now)?;
        let mut offer = Offer::send(command, what);
        offer.undoable = self.undoable(&events);
        Ok(offer)
    }

    /// Would the chair's undo take back the last of these events right after?
    fn undoable(&self, events: &[EventKind]) -> bool {
        let Some(last) = events.last() else { return false };
        self.actor.role == Role::Chair
            && undo_of(
                self.session,
                &Event {
                    seq: self.session.seq + 1,
                    at: self.now,
                    actor: self.actor.clone(),
                    event: last.clone(),
                    undoes: None,
                },
            )
            .is_some()
    }

    fn floor_turn(&self) -> Result<&super::Turn, Rejection> {
        self.session.floor.as_ref().ok_or_else(|| refused("nobody holds the floor"))
    }

    fn chair_move(&self, m: Move, selected: Selected<'_>) -> Offered {
        let session = self.session;
        match m {
            Move::Next => self.next(),
            Move::EndTurn => {
                let turn = self.floor_turn()?;
                let name = self.name(&turn.entry.participant);
                let offer = self.check(Command::EndTurn { turn: turn.id }, format!("end the turn of {name}"))?;
                let warning = session.segment_def(turn.segment).map_or(30, |d| d.limits.warning);
                let left = turn.reading(self.now, warning).remaining_ms;
                Ok(if left > EARLY_END_MS {
                    let question = format!("{name} still has {} left. End the turn now?", super::countdown_text(left));
                    offer.asking(question)
                } else {
                    offer
                })
            }
            Move::Suspend => {
                let turn = self.floor_turn()?;
                let name = self.name(&turn.entry.participant);
                let remote =
                    session.def.participant(&turn.entry.participant).is_some_and(|p| p.modality == Modality::Remote);
                let what = if remote {
                    format!("{name} is lost: statement interrupted, marked technical issue")
                } else {
                    format!("interrupt {name}'s statement")
                };
                self.check(Command::SuspendTurn { turn: turn.id, places: None }, what)
            }
            Move::PauseResume => {
                let turn = self.floor_turn()?;
                if turn.paused {
                    self.check(Command::Resume { turn: turn.id }, "resume the clock")
                } else {
                    self.check(Command::Pause { turn: turn.id }, "pause the clock")
                }
            }
            Move::Extend => {
                let turn = self.floor_turn()?;
                self.check(Command::Extend { turn: turn.id, secs: TIME_STEP }, format!("+{TIME_STEP} s"))
            }
            Move::Cut => {
                let turn = self.floor_turn()?;
                self.check(Command::Cut { turn: turn.id, secs: TIME_STEP }, format!("-{TIME_STEP} s"))
            }
            Move::ToggleList => {
                let segment = session.current_segment.unwrap_or(0);
                let id = session.segment_def(segment).map(|d| d.id.clone());
                if session.segments.get(segment).is_some_and(|s| s.closed) {
                    self.check(Command::ReopenList { segment: id }, "reopen the list")
                } else {
                    let offer = self.check(Command::CloseList { segment: id }, "close the list")?;
                    Ok(offer.asking("Close the list of speakers? No new inscriptions until it is reopened."))
                }
            }
            Move::Inscribe => {
                inscriptions_open(session, session.current_segment.unwrap_or(0))?;
                Ok(Offer::choose("inscribe a speaker"))
            }
            Move::PointOfOrder => {
                points_of_order_open(session)?;
                Ok(Offer::choose("point of order"))
            }
            Move::WithdrawPointOfOrder => self.withdraw_point(),
            Move::Rule => {
                let point = session.point_of_order.as_ref().ok_or_else(|| refused("no point of order is pending"))?;
                let probe = Command::RulePointOfOrder { point: point.id, ruling: "-".into(), upheld: false };
                preview(session, probe, self.actor, self.now)?;
                Ok(Offer::choose(format!("rule on the point of order by {}", self.name(&point.by))))
            }
            Move::RightOfReply => {
                replies_open(session)?;
                Ok(Offer::choose("right of reply"))
            }
            Move::Connection => {
                // A remote speaker on the floor, or else the selected entry (an audio check
                // on someone waiting while an in-room speaker holds the floor).
                let remote = |p: &str| session.def.participant(p).is_some_and(|p| p.modality == Modality::Remote);
                let participant = session
                    .floor
                    .as_ref()
                    .map(|t| t.entry.participant.clone())
                    .filter(|p| remote(p))
                    .or(selected.map(|(_, _, e, _)| e.participant.clone()))
                    .ok_or_else(|| refused("select an entry on the list first"))?;
                self.connection(&participant)
            }
            Move::Undo => {
                let undo = session.undo.as_ref().ok_or_else(|| {
                    refused("nothing to undo: undo works right after an action, before anything else happens")
                })?;
                self.check(Command::Undo { seq: undo.seq }, format!("undo {}", undo.what))
            }
            Move::NextSegment => {
                let next = session.current_segment.map_or(0, |c| c + 1);
                let def = session.segment_def(next).ok_or_else(|| refused("this is the last segment"))?;
                let offer =
                    self.check(Command::OpenSegment { segment: def.id.clone() }, format!("open \"{}\"", def.title))?;
                let lost = unheard(session).map(|l| format!("{l}. ")).unwrap_or_default();
                Ok(offer.asking(format!("{lost}Open \"{}\"?", def.title)))
            }
            Move::CloseSession => {
                let offer = self.check(Command::CloseSession, "close the session")?;
                let lost = unheard(session).map(|l| format!("{l}. ")).unwrap_or_default();
                Ok(offer.asking(format!("{lost}Close the session? Nothing more can be recorded afterwards.")))
            }
            _ => Err(refused("not a move of the chair")),
        }
    }

    /// A move on the selected entry.
    fn entry_move(&self, m: Move, selected: Selected<'_>) -> Offered {
        let Some((segment, index, e, reply)) = selected else {
            return Err(refused("select an entry on the list first"));
        };
        let name = self.name(&e.participant);
        match m {
            Move::GiveFloor => self.give_floor(segment, index, e),
            Move::MoveUp => self.check(Command::MoveUp { entry: e.id }, format!("move {name} up")),
            Move::MoveDown => self.check(Command::MoveDown { entry: e.id }, format!("move {name} down")),
            Move::Defer => {
                self.check(Command::Defer { entry: e.id, places: None, to_end: false }, format!("defer {name}"))
            }
            Move::DeferToEnd => self
                .check(Command::Defer { entry: e.id, places: None, to_end: true }, format!("defer {name} to the end")),
            Move::Reinstate => self.check(Command::Reinstate { entry: e.id }, format!("reinstate {name}")),
            Move::Withdraw => {
                let own = self.actor.speaks_for(&e.participant);
                let (command, question) = match (reply, own) {
                    (true, true) => {
                        (Command::WithdrawReply { entry: e.id }, "Withdraw your right of reply?".to_string())
                    }
                    (true, false) => {
                        (Command::WithdrawReply { entry: e.id }, format!("Withdraw the right of reply of {name}?"))
                    }
                    (false, true) => {
                        (Command::Withdraw { entry: e.id }, "Withdraw your entry from the list?".to_string())
                    }
                    (false, false) => (Command::Withdraw { entry: e.id }, format!("Withdraw {name} from the list?")),
                };
                let what = if own { "withdraw my entry".to_string() } else { format!("withdraw {name}") };
                Ok(self.check(command, what)?.asking(question))
            }
            _ => Err(refused("not a move on an entry")),
        }
    }

    /// The floor to a named entry: the rules ask before anyone is passed over, and
    /// the chair decides when it exceeds a budget.
    fn give_floor(&self, segment: usize, index: usize, e: &Entry) -> Offered {
        let name = self.name(&e.participant);
        let what = format!("floor to {name}");
        let mut offer = self
            .floor_offer(Command::GiveFloor { entry: e.id, budget: None }, segment, e, 0, what)?
            .about(&e.participant);
        if let Some(next) = next_up(self.session)
            && next.entry.id != e.id
        {
            let state = &self.session.segments[segment];
            let list = if e.kind == StatementKind::Reply { &state.replies } else { &state.list };
            let at =
                |id: EntryId| list.iter().position(|x| x.id == id).map_or(String::new(), |i| format!(" (#{})", i + 1));
            offer.question = Some(format!(
                "The rules put {}{} next. Give the floor to {name}{} out of order?",
                self.name(&next.entry.participant),
                at(next.entry.id),
                if list.get(index).is_some_and(|x| x.id == e.id) {
                    format!(" (#{})", index + 1)
                } else {
                    String::new()
                },
            ));
        }
        Ok(offer)
    }

    /// A floor command, previewed; over a budget, previewed with the chair's
    /// choice to come (the time left, or the full time with a reason).
    fn floor_offer(&self, command: Command, segment: usize, e: &Entry, pending: u64, what: String) -> Offered {
        let Some((_, sentence)) = over_budget(self.session, segment, e, pending) else {
            return self.check(command, what);
        };
        let probe = match command.clone() {
            Command::GiveFloor { entry, .. } => {
                Command::GiveFloor { entry, budget: Some(BudgetChoice::FullTime { reason: "-".into() }) }
            }
            Command::Next { turn, entry, .. } => {
                Command::Next { turn, entry, budget: Some(BudgetChoice::FullTime { reason: "-".into() }) }
            }
            other => other,
        };
        let mut offer = self.check(probe, what)?;
        offer.command = Some(command);
        offer.budget = Some(format!("{sentence}."));
        Ok(offer)
    }

    fn next(&self) -> Offered {
        let session = self.session;
        let floor = session.floor.as_ref();
        let Some(next) = next_up(session) else {
            let turn = self.floor_turn().map_err(|_| {
                refused(match session.current_segment {
                    None => "no segment is open yet",
                    Some(_) => "no one on the list may be given the floor",
                })
            })?;
            let name = self.name(&turn.entry.participant);
            let offer = self.check(Command::EndTurn { turn: turn.id }, format!("end the turn of {name}"))?;
            return Ok(
                offer.asking(format!("No one else on the list may be given the floor now. End the turn of {name}?"))
            );
        };
        let name = self.name(&next.entry.participant);
        let command = Command::Next { turn: floor.map(|t| t.id), entry: next.entry.id, budget: None };
        let segment = session.current_segment.unwrap_or(0);
        let used = floor.map_or(0, |t| t.used_at(self.now));
        let pending = shared_pending(session, segment, next.entry, used);
        let mut offer = self
            .floor_offer(command, segment, next.entry, pending, format!("floor to {name}"))?
            .about(&next.entry.participant);
        if !next.skipped.is_empty() {
            let skipped: Vec<String> = next.skipped.iter().map(|e| self.name(&e.participant)).collect();
            let (who, verb) = match skipped.as_slice() {
                [one] => (one.clone(), "has"),
                many => (many.join(", "), "have"),
            };
            let give = match floor {
                Some(t) => format!("End the turn of {} and give", self.name(&t.entry.participant)),
                None => "Give".to_string(),
            };
            offer.question = Some(format!(
                "{who} {verb} a technical issue and cannot be given the floor. {give} the floor to {name}?"
            ));
        }
        Ok(offer)
    }

    fn withdraw_point(&self) -> Offered {
        let point = self.session.point_of_order.as_ref().ok_or_else(|| refused("no point of order is pending"))?;
        let own = self.actor.speaks_for(&point.by);
        let offer = self.check(
            Command::WithdrawPointOfOrder { point: point.id },
            if own { "withdraw my point of order".to_string() } else { "withdraw the point of order".to_string() },
        )?;
        Ok(offer.asking(if own {
            "Withdraw your point of order?".to_string()
        } else {
            format!("Withdraw the point of order by {}?", self.name(&point.by))
        }))
    }

    fn connection(&self, participant: &str) -> Offered {
        let choices = connection_choices(self.session, self.actor, self.now, participant);
        if !choices.iter().any(|(_, c)| c.is_ok()) {
            // None can be set: the rules' reason for the change a status most often needs.
            let wanted = if self.session.connection(participant) == ConnectionStatus::Connected {
                ConnectionStatus::TechnicalIssue
            } else {
                ConnectionStatus::Connected
            };
            if let Some((_, Err(rejection))) = choices.into_iter().find(|(s, _)| *s == wanted) {
                return Err(rejection);
            }
        }
        Ok(Offer::choose(format!("connection of {}", self.name(participant))).about(participant))
    }

    fn delegate_move(&self, m: Move) -> Offered {
        let session = self.session;
        let me = self.actor.participant.clone().unwrap_or_default();
        match m {
            Move::Inscribe => {
                let command = Command::inscribe(me.clone());
                let mut offer = self.check(command, format!("inscribe {}", self.name(&me)))?;
                // A Member State then says whether it speaks for itself or a group.
                if session.def.participant(&me).is_some_and(|p| p.kind == super::ParticipantKind::MemberState) {
                    offer.command = None;
                }
                Ok(offer)
            }
            Move::PointOfOrder => {
                let offer = self.check(Command::RaisePointOfOrder { by: me }, "point of order")?;
                Ok(offer.asking(
                    "Raise a point of order? The chair stops the statement on the floor to hear it; you can withdraw it until the chair rules.",
                ))
            }
            Move::WithdrawPointOfOrder => self.withdraw_point(),
            Move::RightOfReply => {
                let current = session.current_segment.and_then(|c| session.segments.get(c));
                match current.and_then(|s| s.replies.iter().find(|e| e.participant == me)) {
                    Some(pending) => Ok(self
                        .check(Command::WithdrawReply { entry: pending.id }, "withdraw my right of reply")?
                        .asking("Withdraw your right of reply?")),
                    None => {
                        self.check(Command::RequestReply { participant: me, segment: None }, "request a right of reply")
                    }
                }
            }
            Move::Connection => self.connection(&me),
            _ => Err(refused("not a move of a delegate")),
        }
    }
}

/// What will not be heard if the open segment ends now.
pub fn unheard(session: &Session) -> Option<String> {
    let current = session.current_segment?;
    let state = session.segments.get(current)?;
    let title = session.segment_def(current)?.title.clone();
    let count = |n: usize, one: &str, many: &str| match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    };
    let speakers = count(state.list.len(), "speaker", "speakers");
    let replies = count(state.replies.len(), "right of reply", "rights of reply");
    let what = match (speakers, replies) {
        (Some(s), Some(r)) => format!("{s} and {r}"),
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => return None,
    };
    Some(format!("{what} on \"{title}\" will not be heard"))
}
