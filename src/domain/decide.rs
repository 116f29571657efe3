//! Commands, who may give them, and the rules that turn them into events.

use serde::{Deserialize, Serialize};

use super::order::{clock, policy_layout};
use super::{
    Actor, ConnectionStatus, EntryId, Event, EventKind, Level, Modality, Note, ParticipantId, ParticipantKind,
    Placement, Pledge, PointOfOrder, Role, Session, StatementKind, Timestamp, Turn, TurnId, Undo,
};

/// Longest note, pledge or ruling text, in characters (so that any such command,
/// even written with JSON escapes, fits in a 64 KiB frame).
pub const MAX_TEXT: usize = 8_000;
/// Most seconds one extend or cut may add or take.
pub const MAX_STEP_SECS: u32 = 3600;
/// Most time a turn may be allotted, in milliseconds (a day).
pub const MAX_ALLOTTED_MS: u64 = 24 * 3600 * 1000;
/// A floor given by mistake may be undone while the turn has run less than this.
pub const UNDO_FLOOR_WITHIN_MS: u64 = 60_000;

/// Longest client-made id or theme, in characters.
pub const MAX_SHORT: usize = 200;

/// What a client asks the hub to do. Commands name the entry or turn they act on,
/// so a repeated or stale command is refused rather than acting on someone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", deny_unknown_fields)]
pub enum Command {
    /// Open a segment (agenda item) by id; the previous one ends.
    OpenSegment {
        segment: String,
    },
    CloseSession,
    /// Add a participant who registered during the session to the roster, with the
    /// same fields and rules as a roster entry in a session file.
    RegisterParticipant {
        participant: super::Participant,
    },
    Inscribe {
        participant: ParticipantId,
        /// Segment id; the current segment (or the first) when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        segment: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<StatementKind>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<Level>,
        /// For a statement on behalf of a group: the group's id in the roster, or its
        /// name when it is not in the roster.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf_of: Option<String>,
        /// The language the speaker will use: an ISO 639-1 code ("fr", "zh").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
    },
    Withdraw {
        entry: EntryId,
    },
    MoveUp {
        entry: EntryId,
    },
    MoveDown {
        entry: EntryId,
    },
    /// Move to a position on the list, 1 being the next speaker.
    MoveTo {
        entry: EntryId,
        position: usize,
    },
    /// Move an entry down `places` places (default 2), or to the end of the list.
    Defer {
        entry: EntryId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        places: Option<usize>,
        #[serde(default)]
        to_end: bool,
    },
    /// Put a moved or deferred entry back where the policy places it.
    Reinstate {
        entry: EntryId,
    },
    CloseList {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        segment: Option<String>,
    },
    ReopenList {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        segment: Option<String>,
    },
    /// Give the floor to a named entry of the current segment's speakers list or
    /// right-of-reply list.
    GiveFloor {
        entry: EntryId,
        /// Needed when the statement's time exceeds what is left of a budget it draws on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget: Option<super::BudgetChoice>,
    },
    EndTurn {
        turn: TurnId,
    },
    /// Interrupt the statement on the floor (the speaker's connection was lost):
    /// the speaker goes back on the list, first or `places` places down, to continue
    /// with the time left.
    SuspendTurn {
        turn: TurnId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        places: Option<usize>,
    },
    Pause {
        turn: TurnId,
    },
    Resume {
        turn: TurnId,
    },
    Extend {
        turn: TurnId,
        secs: u32,
    },
    Cut {
        turn: TurnId,
        secs: u32,
    },
    RaisePointOfOrder {
        by: ParticipantId,
    },
    RulePointOfOrder {
        point: u64,
        ruling: String,
        upheld: bool,
    },
    /// Withdraw a pending point of order before the chair rules on it (the
    /// delegation that raised it, or the chair).
    WithdrawPointOfOrder {
        point: u64,
    },
    RequestReply {
        participant: ParticipantId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        segment: Option<String>,
    },
    WithdrawReply {
        entry: EntryId,
    },
    SetConnection {
        participant: ParticipantId,
        status: ConnectionStatus,
        /// The status the sender saw: if the participant is marked otherwise now, the
        /// command is refused (a stale or repeated key press changes nothing).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<ConnectionStatus>,
    },
    /// "Thank you, next": end the turn on the floor (if any) and give the floor to
    /// `entry`, which must be the next speaker who may have it ([`super::next_up`]).
    Next {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn: Option<TurnId>,
        entry: EntryId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget: Option<super::BudgetChoice>,
    },
    AddNote {
        client_id: String,
        /// When the rapporteur saved it, on the hub's clock as the client knows it
        /// (its own clock corrected by the offset it measured).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        saved_at: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn: Option<TurnId>,
        text: String,
        #[serde(default)]
        objectives: Vec<u8>,
        #[serde(default)]
        themes: Vec<String>,
    },
    /// Undo the chair's last list action or floor given (the event `seq`), as a
    /// compensating event; only while nothing else has happened since.
    Undo {
        seq: u64,
    },
    AddPledge {
        client_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        saved_at: Option<Timestamp>,
        pledger: ParticipantId,
        text: String,
        objectives: Vec<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn: Option<TurnId>,
    },
}

/// Which roles may give a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allowed {
    Chair,
    /// The chair, or the delegate of the participant concerned.
    ChairOrOwnDelegate,
    /// The chair or a rapporteur.
    ChairOrRapporteur,
}

impl Command {
    /// Inscribe `participant` on the open segment's list with its own kind of
    /// statement, level and no language: the inscription a screen or a script
    /// makes most often.
    pub fn inscribe(participant: impl Into<ParticipantId>) -> Self {
        Self::Inscribe {
            participant: participant.into(),
            segment: None,
            kind: None,
            level: None,
            on_behalf_of: None,
            language: None,
        }
    }

    /// The same inscription, of a statement in `language` (an ISO 639-1 code).
    pub fn inscribe_in(participant: impl Into<ParticipantId>, language: &str) -> Self {
        match Self::inscribe(participant) {
            Self::Inscribe { participant, segment, kind, level, on_behalf_of, .. } => {
                Self::Inscribe { participant, segment, kind, level, on_behalf_of, language: Some(language.into()) }
            }
            other => other,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::OpenSegment { .. } => "open a segment",
            Self::CloseSession => "close the session",
            Self::RegisterParticipant { .. } => "register a participant",
            Self::Inscribe { .. } => "inscribe a speaker",
            Self::Withdraw { .. } => "withdraw an entry",
            Self::MoveUp { .. } | Self::MoveDown { .. } | Self::MoveTo { .. } => "move an entry",
            Self::Defer { .. } => "defer an entry",
            Self::Reinstate { .. } => "reinstate an entry",
            Self::CloseList { .. } => "close the list of speakers",
            Self::ReopenList { .. } => "reopen the list of speakers",
            Self::GiveFloor { .. } => "give the floor",
            Self::Next { .. } => "give the floor to the next speaker",
            Self::EndTurn { .. } => "end a turn",
            Self::SuspendTurn { .. } => "interrupt a statement",
            Self::Pause { .. } => "pause the clock",
            Self::Resume { .. } => "resume the clock",
            Self::Extend { .. } => "extend the time",
            Self::Cut { .. } => "cut the time",
            Self::RaisePointOfOrder { .. } => "raise a point of order",
            Self::RulePointOfOrder { .. } => "rule on a point of order",
            Self::WithdrawPointOfOrder { .. } => "withdraw a point of order",
            Self::RequestReply { .. } => "request a right of reply",
            Self::WithdrawReply { .. } => "withdraw a right of reply",
            Self::SetConnection { .. } => "set a connection status",
            Self::AddNote { .. } => "add a note",
            Self::AddPledge { .. } => "record a pledge",
            Self::Undo { .. } => "undo an action",
        }
    }

    fn allowed(&self) -> Allowed {
        match self {
            Self::Inscribe { .. }
            | Self::Withdraw { .. }
            | Self::RaisePointOfOrder { .. }
            | Self::WithdrawPointOfOrder { .. }
            | Self::RequestReply { .. }
            | Self::WithdrawReply { .. }
            | Self::SetConnection { .. } => Allowed::ChairOrOwnDelegate,
            Self::AddNote { .. } | Self::AddPledge { .. } => Allowed::ChairOrRapporteur,
            _ => Allowed::Chair,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectCode {
    /// The actor's role may not give this command.
    Forbidden,
    /// The command names an entry, turn, segment or participant that does not exist (any more).
    NotFound,
    /// The rules of procedure do not allow it now.
    Refused,
    /// The command's arguments are out of range.
    Invalid,
    /// The hub dropped the command unread: its connection sent more frames a second
    /// than the hub takes. Nothing was decided; sending it again later is safe.
    RateLimited,
    /// This hub does not lead the session (any more): another hub of the session
    /// does. Nothing was decided; the reason names the leader, if known.
    NotLeader,
    /// This hub stands by for the session (another hub leads it) and serves it
    /// read-only: nothing was decided; send the command to the leading hub (the
    /// `rejected` frame names it in `leader` when known). Sending it again is safe.
    Standby,
    /// The session's record cannot be written now (its store has no quorum or
    /// cannot be reached). Nothing was decided; sending it again later is safe.
    Unavailable,
    /// A code this build does not know (from a newer hub): read it as `refused`.
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub code: RejectCode,
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Rejection {}

fn reject(code: RejectCode, reason: impl Into<String>) -> Rejection {
    Rejection { code, reason: reason.into() }
}
pub(super) fn refused(reason: impl Into<String>) -> Rejection {
    reject(RejectCode::Refused, reason)
}
fn not_found(reason: impl Into<String>) -> Rejection {
    reject(RejectCode::NotFound, reason)
}
fn invalid(reason: impl Into<String>) -> Rejection {
    reject(RejectCode::Invalid, reason)
}

type Decision = Result<Vec<EventKind>, Rejection>;

/// Check a command against the rules and the actor's role; on success, the events
/// that record it, numbered after the session's last event and stamped `now`.
/// A rejected command changes nothing.
pub fn decide(session: &Session, command: Command, actor: &Actor, now: Timestamp) -> Result<Vec<Event>, Rejection> {
    authorize(session, &command, actor)?;
    if !matches!(command, Command::Undo { .. }) {
        session_open(session)?;
    }
    let undoes = match &command {
        Command::Undo { seq } => Some(*seq),
        _ => None,
    };
    let kinds = Rules { session, actor, now }.decide(command)?;
    Ok(kinds
        .into_iter()
        .enumerate()
        .map(|(i, event)| Event { seq: session.seq + 1 + i as u64, at: now, actor: actor.clone(), event, undoes })
        .collect())
}

/// The participant a delegate-permitted command concerns.
fn concerned_participant(session: &Session, command: &Command) -> Option<ParticipantId> {
    match command {
        Command::Inscribe { participant, .. }
        | Command::RequestReply { participant, .. }
        | Command::SetConnection { participant, .. } => Some(participant.clone()),
        Command::RaisePointOfOrder { by } => Some(by.clone()),
        Command::WithdrawPointOfOrder { point } => {
            session.point_of_order.as_ref().filter(|p| p.id == *point).map(|p| p.by.clone())
        }
        Command::Withdraw { entry } | Command::WithdrawReply { entry } => session
            .segment_of_entry(*entry)
            .and_then(|s| session.find_entry(s, *entry))
            .map(|(_, e, _)| e.participant.clone()),
        _ => None,
    }
}

fn authorize(session: &Session, command: &Command, actor: &Actor) -> Result<(), Rejection> {
    let what = command.name();
    match (command.allowed(), actor.role) {
        (_, Role::Chair) => Ok(()),
        (Allowed::ChairOrRapporteur, Role::Rapporteur) => Ok(()),
        (Allowed::ChairOrOwnDelegate, Role::Delegate) => match concerned_participant(session, command) {
            Some(p) if actor.speaks_for(&p) => Ok(()),
            Some(p) => Err(reject(
                RejectCode::Forbidden,
                format!(
                    "a delegate may {what} only for its own delegation: only the chair or the delegate of {} may do this",
                    session.name_of(&p)
                ),
            )),
            // The entry named is gone: the rules say so (not found) rather than a permission error.
            None => Ok(()),
        },
        (allowed, role) => {
            let who = match allowed {
                Allowed::Chair => "the chair",
                Allowed::ChairOrOwnDelegate => "the chair or the delegate concerned",
                Allowed::ChairOrRapporteur => "the chair or a rapporteur",
            };
            Err(reject(RejectCode::Forbidden, format!("{} may not {what}: only {who} may", role.with_article())))
        }
    }
}

struct Rules<'a> {
    session: &'a Session,
    actor: &'a Actor,
    now: Timestamp,
}

impl Rules<'_> {
    fn decide(&self, command: Command) -> Decision {
        match command {
            Command::OpenSegment { segment } => self.open_segment(&segment),
            Command::CloseSession => self.close_session(),
            Command::RegisterParticipant { participant } => self.register(participant),
            Command::Inscribe { participant, segment, kind, level, on_behalf_of, language } => {
                let language = language.as_deref().map(statement_language).transpose()?;
                let mut events = self.inscribe(&participant, segment.as_deref(), kind, level, on_behalf_of)?;
                if let Some(EventKind::Inscribed { entry, .. }) = events.first_mut() {
                    entry.language = language;
                }
                Ok(events)
            }
            Command::Withdraw { entry } => {
                let (segment, _, _) = self.list_entry(entry)?;
                Ok(vec![EventKind::Withdrawn { segment, entry }])
            }
            Command::MoveUp { entry } => {
                let (_, index, _) = self.list_entry(entry)?;
                self.move_to(entry, index.saturating_sub(1) + 1)
            }
            Command::MoveDown { entry } => {
                let (_, index, _) = self.list_entry(entry)?;
                self.move_to(entry, index + 2)
            }
            Command::MoveTo { entry, position } => self.move_to(entry, position),
            Command::Defer { entry, places, to_end } => self.defer(entry, places, to_end),
            Command::Reinstate { entry } => self.reinstate(entry),
            Command::CloseList { segment } => {
                let index = self.segment(segment.as_deref())?;
                if self.session.segments[index].closed {
                    return Err(refused(format!("the list of {} is already closed", self.title(index))));
                }
                Ok(vec![EventKind::ListClosed { segment: index }])
            }
            Command::ReopenList { segment } => {
                let index = self.segment(segment.as_deref())?;
                if !self.session.segments[index].closed {
                    return Err(refused(format!("the list of {} is open", self.title(index))));
                }
                Ok(vec![EventKind::ListReopened { segment: index }])
            }
            Command::GiveFloor { entry, budget } => self.give_floor(entry, budget),
            Command::Undo { seq } => self.undo(seq),
            Command::EndTurn { turn } => Ok(vec![self.end_turn(turn)?]),
            Command::SuspendTurn { turn, places } => {
                let suspended = self.suspend(turn, places)?;
                let mut events = Vec::new();
                // The speaker is lost: a remote one is marked with a technical issue in
                // the same step, so that "next" passes them until they are back.
                if let Some(current) = &self.session.floor
                    && self.is_remote(&current.entry.participant)
                    && self.session.connection(&current.entry.participant) != ConnectionStatus::TechnicalIssue
                {
                    events.push(EventKind::ConnectionSet {
                        participant: current.entry.participant.clone(),
                        status: ConnectionStatus::TechnicalIssue,
                    });
                }
                events.push(suspended);
                Ok(events)
            }
            Command::Pause { turn } => {
                let current = self.turn(turn)?;
                self.no_point_pending()?;
                if current.running_since.is_none() {
                    return Err(refused("the clock is already stopped"));
                }
                Ok(vec![EventKind::ClockPaused { turn }])
            }
            Command::Resume { turn } => {
                let current = self.turn(turn)?;
                self.no_point_pending()?;
                if !current.paused {
                    return Err(refused("the clock is not paused"));
                }
                Ok(vec![EventKind::ClockResumed { turn }])
            }
            Command::Extend { turn, secs } => self.change_time(turn, secs, true),
            Command::Cut { turn, secs } => self.change_time(turn, secs, false),
            Command::RaisePointOfOrder { by } => self.raise_point_of_order(&by),
            Command::RulePointOfOrder { point, ruling, upheld } => {
                let pending = self.session.point_of_order.as_ref().filter(|p| p.id == point);
                if pending.is_none() {
                    return Err(not_found(format!("no point of order #{point} is pending")));
                }
                let ruling = bounded_text("ruling", &ruling, MAX_TEXT)?;
                Ok(vec![EventKind::PointOfOrderRuled { point, ruling, upheld }])
            }
            Command::WithdrawPointOfOrder { point } => match &self.session.point_of_order {
                Some(pending) if pending.id == point => Ok(vec![EventKind::PointOfOrderWithdrawn { point }]),
                _ => Err(not_found(format!("no point of order #{point} is pending"))),
            },
            Command::RequestReply { participant, segment } => self.request_reply(&participant, segment.as_deref()),
            Command::WithdrawReply { entry } => {
                let segment = self.session.segment_of_entry(entry);
                match segment.and_then(|s| self.session.find_entry(s, entry)).zip(segment) {
                    Some(((_, _, true), segment)) => Ok(vec![EventKind::ReplyWithdrawn { segment, entry }]),
                    _ => Err(not_found(format!("no right of reply #{entry} is pending"))),
                }
            }
            Command::Next { turn, entry, budget } => self.next(turn, entry, budget),
            Command::SetConnection { participant, status, from } => self.set_connection(&participant, status, from),
            Command::AddNote { client_id, saved_at, turn, text, objectives, themes } => {
                self.add_note(client_id, saved_at, turn, &text, objectives, &themes)
            }
            Command::AddPledge { client_id, saved_at, pledger, text, objectives, turn } => {
                self.add_pledge(client_id, saved_at, &pledger, &text, objectives, turn)
            }
        }
    }

    fn is_remote(&self, participant: &str) -> bool {
        self.session.def.participant(participant).is_some_and(|p| p.modality == Modality::Remote)
    }

    /// Undo the chair's last action (`seq`), by the person who did it, as a compensating event.
    fn undo(&self, seq: u64) -> Decision {
        match &self.session.undo {
            Some(undo)
                if matches!(undo.compensation, EventKind::FloorRevoked { .. })
                    && self.session.floor.as_ref().is_some_and(|t| t.used_at(self.now) >= UNDO_FLOOR_WITHIN_MS) =>
            {
                Err(refused(format!(
                    "the turn has run for more than {} s: end it instead of undoing it",
                    UNDO_FLOOR_WITHIN_MS / 1000
                )))
            }
            Some(Undo { seq: last, by: Some(by), what, .. }) if *last == seq && !by.same_person(self.actor) => {
                Err(refused(format!(
                    "{} was {}'s action: only {} may undo it (undo takes back your own last action)",
                    capitalize(what),
                    by.name,
                    by.name
                )))
            }
            Some(undo) if undo.seq == seq && seq == self.session.seq => {
                let mut compensation = undo.compensation.clone();
                // A turn ended by mistake runs again from now: the time between its
                // end and the undo is not charged to the speaker.
                let restored = match &mut compensation {
                    EventKind::TurnRestored { turn, .. } => Some(turn),
                    EventKind::FloorRevoked { restore: Some(turn), .. } => Some(turn.as_mut()),
                    _ => None,
                };
                if let Some(turn) = restored
                    && turn.running_since.is_some()
                {
                    turn.running_since = Some(self.now);
                }
                Ok(vec![compensation])
            }
            Some(undo) if undo.seq == self.session.seq => Err(refused(format!(
                "event #{seq} cannot be undone: the last undoable action is #{} ({})",
                undo.seq, undo.what
            ))),
            _ => Err(refused(format!(
                "event #{seq} cannot be undone: only the chair's last action on the lists, the floor, a segment, the session or a connection status, right after it"
            ))),
        }
    }

    fn set_connection(&self, participant: &str, status: ConnectionStatus, from: Option<ConnectionStatus>) -> Decision {
        let p = self.participant(participant)?;
        if p.modality != Modality::Remote {
            let how = match p.modality {
                Modality::InRoom => "takes part in the room",
                _ => "speaks by a pre-recorded statement",
            };
            return Err(refused(format!("{} {how}: only remote participants have a connection status", p.name)));
        }
        let now = self.session.connection(participant);
        if let Some(from) = from
            && from != now
        {
            return Err(refused(format!(
                "{} is now marked {}, not {}: nothing changed",
                p.name,
                now.label(),
                from.label()
            )));
        }
        if now == status {
            return Err(refused(format!("{} is already marked {}", p.name, status.label())));
        }
        // A delegate reports its own connection: connected (also once it has fixed
        // a technical issue) or a technical issue. The audio check is the
        // secretariat's finding, and only the chair sets or clears it.
        if self.actor.role == Role::Delegate
            && (matches!(status, ConnectionStatus::AudioChecked | ConnectionStatus::Unknown)
                || now == ConnectionStatus::AudioChecked && status == ConnectionStatus::Connected)
        {
            return Err(reject(
                RejectCode::Forbidden,
                format!(
                    "only the chair may change {} from {} to {}: a delegate reports connected or technical issue",
                    p.name,
                    now.label(),
                    status.label()
                ),
            ));
        }
        let mut events = vec![EventKind::ConnectionSet { participant: participant.to_string(), status }];
        // The speaker on the floor lost: the statement is interrupted, to continue later.
        if let Some(turn) = self.session.floor.as_ref()
            && turn.entry.participant == participant
            && status == ConnectionStatus::TechnicalIssue
            && self.actor.role == Role::Chair
            && self.session.point_of_order.is_none()
        {
            events.push(self.suspend(turn.id, None)?);
        }
        Ok(events)
    }

    fn add_note(
        &self,
        client_id: String,
        saved_at: Option<Timestamp>,
        turn: Option<TurnId>,
        text: &str,
        objectives: Vec<u8>,
        themes: &[String],
    ) -> Decision {
        if self.already_recorded(&client_id)? {
            return Ok(Vec::new());
        }
        self.known_turn(turn)?;
        let themes = themes.iter().map(|t| bounded_text("theme", t, MAX_SHORT)).collect::<Result<Vec<_>, _>>()?;
        Ok(vec![EventKind::NoteAdded {
            note: Note {
                id: self.session.next_id,
                client_id,
                turn,
                author: self.actor.name.clone(),
                text: bounded_text("note", text, MAX_TEXT)?,
                objectives: objectives_in_range(objectives, false)?,
                themes,
                at: self.now,
                saved_at: saved_at.map(|t| t.min(self.now)),
            },
        }])
    }

    fn add_pledge(
        &self,
        client_id: String,
        saved_at: Option<Timestamp>,
        pledger: &str,
        text: &str,
        objectives: Vec<u8>,
        turn: Option<TurnId>,
    ) -> Decision {
        if self.already_recorded(&client_id)? {
            return Ok(Vec::new());
        }
        self.participant(pledger)?;
        self.known_turn(turn)?;
        Ok(vec![EventKind::PledgeAdded {
            pledge: Pledge {
                id: self.session.next_id,
                client_id,
                pledger: pledger.to_string(),
                text: bounded_text("pledge", text, MAX_TEXT)?,
                objectives: objectives_in_range(objectives, true)?,
                turn,
                author: self.actor.name.clone(),
                at: self.now,
                saved_at: saved_at.map(|t| t.min(self.now)),
            },
        }])
    }

    fn title(&self, segment: usize) -> String {
        self.session.segment_def(segment).map_or_else(|| format!("segment {segment}"), |s| format!("\"{}\"", s.title))
    }

    fn participant(&self, id: &str) -> Result<&super::Participant, Rejection> {
        self.session
            .def
            .participant(id)
            .ok_or_else(|| not_found(format!("no participant \"{id}\" in this session's roster")))
    }

    /// A segment by id, or the current one (the first before any is open).
    fn segment(&self, id: Option<&str>) -> Result<usize, Rejection> {
        match id {
            Some(id) => self
                .session
                .def
                .segments
                .iter()
                .position(|s| s.id == id)
                .ok_or_else(|| not_found(format!("no segment \"{id}\" in this session"))),
            None => Ok(self.session.current_segment.unwrap_or(0)),
        }
    }

    fn current_segment(&self) -> Result<usize, Rejection> {
        self.session.current_segment.ok_or_else(|| refused("no segment is open yet: open a segment first"))
    }

    /// An entry on a speakers list (not a right of reply): (segment, index, entry).
    fn list_entry(&self, entry: EntryId) -> Result<(usize, usize, &super::Entry), Rejection> {
        let segment = self.session.segment_of_entry(entry);
        match segment.and_then(|s| self.session.find_entry(s, entry)).zip(segment) {
            Some(((index, e, false), segment)) => Ok((segment, index, e)),
            Some(((_, _, true), _)) => {
                Err(not_found(format!("entry #{entry} is a right of reply, not on the speakers list")))
            }
            None => Err(self.gone(entry)),
        }
    }

    /// Why an entry is not on any list: it spoke, or it never was (or was withdrawn).
    fn gone(&self, entry: EntryId) -> Rejection {
        if let Some(turn) = self.session.floor.as_ref().filter(|t| t.entry.id == entry) {
            return not_found(format!(
                "entry #{entry} is no longer on the list: {} holds the floor",
                self.session.name_of(&turn.entry.participant)
            ));
        }
        not_found(format!("entry #{entry} is not on any list (it spoke, was withdrawn, or never existed)"))
    }

    fn turn(&self, turn: TurnId) -> Result<&Turn, Rejection> {
        // Ids are for machines: the reason says whose turn it is now.
        match self.session.floor.as_ref() {
            Some(current) if current.id == turn => Ok(current),
            // Ids are for machines: say whose turn it is now.
            Some(current) => Err(not_found(format!(
                "that turn is over: {} holds the floor now",
                self.session.name_of(&current.entry.participant)
            ))),
            None => Err(not_found("that turn is over: nobody holds the floor")),
        }
    }

    fn no_point_pending(&self) -> Result<(), Rejection> {
        match &self.session.point_of_order {
            Some(point) => Err(refused(format!(
                "a point of order by {} is pending: rule on it first",
                self.session.name_of(&point.by)
            ))),
            None => Ok(()),
        }
    }

    fn no_one_on_floor(&self) -> Result<(), Rejection> {
        match &self.session.floor {
            Some(turn) => Err(refused(format!(
                "{} holds the floor: end the turn first",
                self.session.name_of(&turn.entry.participant)
            ))),
            None => Ok(()),
        }
    }

    fn open_segment(&self, id: &str) -> Decision {
        let index = self.segment(Some(id))?;
        self.no_one_on_floor()?;
        if self.session.current_segment == Some(index) {
            return Err(refused(format!("{} is already open", self.title(index))));
        }
        if self.session.segments[index].ended_at.is_some() {
            return Err(refused(format!("{} has ended", self.title(index))));
        }
        Ok(vec![EventKind::SegmentOpened { segment: index }])
    }

    fn register(&self, mut participant: super::Participant) -> Decision {
        participant.name = participant.name.trim().to_string();
        participant.short = participant.short.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if participant.name.chars().count() > MAX_SHORT {
            return Err(invalid(format!("the name is longer than {MAX_SHORT} characters")));
        }
        if let Some(existing) = self.session.def.participant(&participant.id) {
            return Err(refused(format!("\"{}\" is already in the roster, as {}", participant.id, existing.name)));
        }
        // The same name twice would be two delegations no one can tell apart.
        let name = participant.name.to_lowercase();
        if let Some(existing) = self.session.def.participants.iter().find(|p| p.name.to_lowercase() == name) {
            return Err(refused(format!("{} is already in the roster (as \"{}\")", existing.name, existing.id)));
        }
        let def = &self.session.def;
        let problems = participant.problems(&|id| def.participant(id).is_some());
        if !problems.is_empty() {
            let all: Vec<String> = problems.into_iter().map(|(_, message)| message).collect();
            return Err(invalid(all.join("; ")));
        }
        Ok(vec![EventKind::ParticipantRegistered { participant }])
    }

    fn close_session(&self) -> Decision {
        self.no_one_on_floor()?;
        self.no_point_pending()?;
        Ok(vec![EventKind::SessionClosed])
    }

    fn inscribe(
        &self,
        participant: &str,
        segment: Option<&str>,
        kind: Option<StatementKind>,
        level: Option<Level>,
        on_behalf_of: Option<String>,
    ) -> Decision {
        let p = self.participant(participant)?;
        if self.actor.role != Role::Chair {
            // Precedence follows the roster; only the chair may say otherwise. A level
            // equal to the roster's (or, for a State without one, head of delegation,
            // the level every inscription gets) is no change.
            let roster_level = if p.kind.is_state() { p.level.or(Some(Level::HeadOfDelegation)) } else { None };
            if level.is_some_and(|l| Some(l) != roster_level) {
                return Err(reject(
                    RejectCode::Forbidden,
                    "only the chair may change the level of representation of an inscription",
                ));
            }
            // A Member State may say it speaks on behalf of a group of the roster it
            // belongs to (any group, when the roster lists no members); any other kind of
            // statement than its own, and a group the roster does not know, are the chair's
            // to give: a group statement comes first on the list.
            if let Some(group) = &on_behalf_of {
                match self.session.def.participant(group) {
                    Some(g) if g.kind == ParticipantKind::GroupOfStates => {
                        if !g.members.is_empty() && !g.members.iter().any(|m| m == participant) {
                            return Err(reject(
                                RejectCode::Forbidden,
                                format!(
                                    "{} is not a member of {} in the roster: only the chair may inscribe it for that group",
                                    p.name, g.name
                                ),
                            ));
                        }
                    }
                    _ => {
                        return Err(reject(
                            RejectCode::Forbidden,
                            format!(
                                "\"{group}\" is not a group of States in the roster: only the chair may inscribe a statement for it"
                            ),
                        ));
                    }
                }
            }
            let group_statement = kind == Some(StatementKind::Group) && on_behalf_of.is_some();
            if kind.is_some_and(|k| k != p.kind.default_statement()) && !group_statement {
                return Err(reject(
                    RejectCode::Forbidden,
                    "only the chair may inscribe a statement of another kind (a delegate may inscribe a statement on behalf of a group it names)",
                ));
            }
        }
        let index = self.segment(segment)?;
        inscriptions_open(self.session, index)?;
        let state = &self.session.segments[index];
        let allow_multiple = self.session.segment_def(index).is_some_and(|s| s.allow_multiple);
        if !allow_multiple && let Some(at) = state.list.iter().position(|e| e.participant == participant) {
            return Err(refused(format!(
                "not inscribed again: {} is on the list of {} already, at position {} (one inscription each)",
                p.name,
                self.title(index),
                at + 1
            )));
        }
        let kind = kind.unwrap_or_else(|| p.kind.default_statement());
        let fits = match kind {
            StatementKind::National => p.kind.is_state(),
            StatementKind::Group => {
                matches!(p.kind, ParticipantKind::GroupOfStates | ParticipantKind::MemberState)
            }
            StatementKind::Organization => {
                matches!(p.kind, ParticipantKind::UnEntity | ParticipantKind::Igo)
            }
            StatementKind::Stakeholder => p.kind == ParticipantKind::Stakeholder,
            StatementKind::Reply => false,
        };
        if !fits {
            return Err(invalid(format!("{} ({}) cannot make a {}", p.name, p.kind.label(), kind.label())));
        }
        if level.is_some() && !p.kind.is_state() {
            return Err(invalid(format!("{} is not a State: it has no level of representation", p.name)));
        }
        let on_behalf_of = match on_behalf_of {
            None => None,
            Some(_) if kind != StatementKind::Group || p.kind != ParticipantKind::MemberState => {
                return Err(invalid(format!(
                    "only a Member State making a statement on behalf of a group names the group; {} makes a {}",
                    p.name,
                    kind.label()
                )));
            }
            Some(group) => {
                let group = bounded_text("group's name", &group, MAX_SHORT)?;
                match self.session.def.participant(&group) {
                    Some(g) if g.kind == ParticipantKind::GroupOfStates => Some(g.id.clone()),
                    Some(g) => {
                        return Err(invalid(format!("{} is not a group of States", g.name)));
                    }
                    // A group the roster does not list: its name as given.
                    None => Some(group),
                }
            }
        };
        let mut entry = self.session.new_entry(index, p, Some(kind), level, self.now);
        entry.on_behalf_of = on_behalf_of;
        let mut list = self.session.segments[index].list.clone();
        list.push(entry.clone());
        let order = policy_layout(self.session, index, &list);
        Ok(vec![EventKind::Inscribed { segment: index, entry, order }])
    }

    /// Move an entry to a 1-based position (clamped to the list).
    fn move_to(&self, entry: EntryId, position: usize) -> Decision {
        let (segment, index, _) = self.list_entry(entry)?;
        let len = self.session.segments[segment].list.len();
        if position == 0 {
            return Err(invalid("positions start at 1"));
        }
        let target = (position - 1).min(len - 1);
        if target == index {
            let name = self.session.name_of(&self.session.segments[segment].list[index].participant).to_string();
            return Err(refused(format!("{name} is already at position {}", index + 1)));
        }
        Ok(vec![EventKind::Moved {
            segment,
            entry,
            placement: Placement::Moved { to: target + 1 },
            order: self.ids_with_move(segment, index, target),
        }])
    }

    fn defer(&self, entry: EntryId, places: Option<usize>, to_end: bool) -> Decision {
        let (segment, index, _) = self.list_entry(entry)?;
        let len = self.session.segments[segment].list.len();
        let target = if to_end { len - 1 } else { (index + places.unwrap_or(2)).min(len - 1) };
        if target == index {
            let name = self.session.name_of(&self.session.segments[segment].list[index].participant).to_string();
            return Err(refused(format!("{name} is already last: it cannot go further down")));
        }
        Ok(vec![EventKind::Moved {
            segment,
            entry,
            placement: Placement::Deferred { from: index + 1 },
            order: self.ids_with_move(segment, index, target),
        }])
    }

    fn reinstate(&self, entry: EntryId) -> Decision {
        let (segment, index, e) = self.list_entry(entry)?;
        if e.placement == Placement::Policy {
            return Err(refused(format!(
                "{} is already where the rules place it",
                self.session.name_of(&e.participant)
            )));
        }
        let mut list = self.session.segments[segment].list.clone();
        list[index].placement = Placement::Policy;
        let order = policy_layout(self.session, segment, &list);
        Ok(vec![EventKind::Moved { segment, entry, placement: Placement::Policy, order }])
    }

    /// The list's ids with the entry at `from` moved to `to`.
    fn ids_with_move(&self, segment: usize, from: usize, to: usize) -> Vec<EntryId> {
        let mut ids: Vec<EntryId> = self.session.segments[segment].list.iter().map(|e| e.id).collect();
        let id = ids.remove(from);
        ids.insert(to.min(ids.len()), id);
        ids
    }

    fn give_floor(&self, entry: EntryId, budget: Option<super::BudgetChoice>) -> Decision {
        let current = self.current_segment()?;
        self.no_one_on_floor()?;
        self.no_point_pending()?;
        let Some((_, e, is_reply)) = self.session.find_entry(current, entry) else {
            if let Some(other) = self.session.segment_of_entry(entry) {
                return Err(refused(format!(
                    "entry #{entry} is on the list of {}, not of the open segment {}",
                    self.title(other),
                    self.title(current)
                )));
            }
            return Err(self.gone(entry));
        };
        if is_reply && !self.session.segments[current].list.is_empty() {
            let left = self.session.segments[current].list.len();
            let left = if left == 1 { "1 speaker remains".to_string() } else { format!("{left} speakers remain") };
            return Err(refused(format!("rights of reply are taken at the end of the segment: {left} on the list")));
        }
        let p = self.participant(&e.participant)?;
        if p.modality == Modality::Remote && self.session.connection(&p.id) == ConnectionStatus::TechnicalIssue {
            return Err(refused(format!(
                "{} has a technical issue: defer the entry or set its connection status first",
                p.name
            )));
        }
        self.floor_to(current, e, budget, 0).map(|event| vec![event])
    }

    /// The floor to an entry, within what is left of its budgets (counting `pending`
    /// milliseconds of a turn ended in the same step): a statement longer than that
    /// needs the chair's decision.
    fn floor_to(
        &self,
        segment: usize,
        entry: &super::Entry,
        budget: Option<super::BudgetChoice>,
        pending: u64,
    ) -> Result<EventKind, Rejection> {
        let allotted_ms = u64::from(entry.allotted) * 1000;
        let (allotted_ms, budget) = match (over_budget(self.session, segment, entry, pending), budget) {
            (Some((b, sentence)), choice) => match choice {
                None => {
                    return Err(refused(format!(
                        "{sentence}: give the floor with the time left, or the full time with a reason"
                    )));
                }
                Some(super::BudgetChoice::TimeLeft) if b.left_ms == 0 => {
                    return Err(refused(format!(
                        "the {} budget is used up: give the full time with a reason, or another speaker the floor",
                        b.name
                    )));
                }
                Some(super::BudgetChoice::TimeLeft) => (b.left_ms, Some(super::BudgetChoice::TimeLeft)),
                Some(super::BudgetChoice::FullTime { reason }) => {
                    let reason = bounded_text("reason", &reason, MAX_SHORT)?;
                    (allotted_ms, Some(super::BudgetChoice::FullTime { reason }))
                }
            },
            // Within every budget: nothing to decide, nothing recorded.
            _ => (allotted_ms, None),
        };
        Ok(EventKind::FloorGiven {
            turn: Turn {
                id: self.session.next_id,
                segment,
                entry: entry.clone(),
                started_at: self.now,
                allotted_ms,
                used_ms: 0,
                running_since: Some(self.now),
                paused: false,
                points_of_order: 0,
                budget,
            },
        })
    }

    fn end_turn(&self, turn: TurnId) -> Result<EventKind, Rejection> {
        let current = self.turn(turn)?;
        let used_ms = current.used_at(self.now);
        let overrun_ms = used_ms.saturating_sub(current.allotted_ms);
        Ok(EventKind::TurnEnded { turn, used_ms, overrun_ms })
    }

    /// Interrupt the turn on the floor: record its part, and put the speaker back on
    /// the list (first, or `places` down) with the time left.
    fn suspend(&self, turn: TurnId, places: Option<usize>) -> Result<EventKind, Rejection> {
        let current = self.turn(turn)?;
        if let Some(point) = &self.session.point_of_order {
            return Err(refused(format!(
                "a point of order by {} is pending: rule on it before interrupting the statement",
                self.session.name_of(&point.by)
            )));
        }
        let used_ms = current.used_at(self.now);
        let left_ms = current.allotted_ms.saturating_sub(used_ms);
        let resumes = match &current.entry.resumes {
            Some(r) => super::Resumes {
                first_turn: r.first_turn,
                parts: r.parts + 1,
                used_ms: r.used_ms + used_ms,
                original_ms: r.original_ms,
            },
            None => super::Resumes {
                first_turn: current.id,
                parts: 1,
                used_ms,
                original_ms: u64::from(current.entry.allotted) * 1000,
            },
        };
        let segment = current.segment;
        let list = &self.session.segments.get(segment).ok_or_else(|| not_found("no such segment"))?.list;
        let index = places.unwrap_or(0).min(list.len());
        let mut entry = current.entry.clone();
        entry.id = self.session.next_id;
        entry.placement = Placement::Suspended { to: index + 1 };
        entry.allotted = u32::try_from(left_ms.div_ceil(1000)).unwrap_or(u32::MAX);
        entry.reason = String::new();
        entry.resumes = Some(resumes);
        let mut order: Vec<EntryId> = list.iter().map(|e| e.id).collect();
        order.insert(index, entry.id);
        Ok(EventKind::TurnSuspended { turn, used_ms, segment, entry, order })
    }

    /// End the turn on the floor and give the floor to the next who may have it, in one step.
    fn next(&self, turn: Option<TurnId>, entry: EntryId, budget: Option<super::BudgetChoice>) -> Decision {
        let current = self.current_segment()?;
        self.no_point_pending()?;
        let mut events = Vec::new();
        // The ending turn's time counts against the budgets before the next one starts.
        let mut pending = 0;
        match turn {
            Some(turn) => {
                let ended = self.end_turn(turn)?;
                if let EventKind::TurnEnded { used_ms, .. } = &ended {
                    pending = *used_ms;
                }
                events.push(ended);
            }
            None => self.no_one_on_floor()?,
        }
        match super::next_up(self.session) {
            Some(next) if next.entry.id == entry => {
                let pending = shared_pending(self.session, current, next.entry, pending);
                events.push(self.floor_to(current, next.entry, budget, pending)?);
                Ok(events)
            }
            Some(next) => Err(refused(format!(
                "the next speaker who may have the floor is now {}, not entry #{entry}: nothing changed",
                self.session.name_of(&next.entry.participant)
            ))),
            None => Err(refused("no one on the lists of the open segment may be given the floor now")),
        }
    }

    fn change_time(&self, turn: TurnId, secs: u32, extend: bool) -> Decision {
        let current = self.turn(turn)?;
        if secs == 0 || secs > MAX_STEP_SECS {
            return Err(invalid(format!("give a number of seconds from 1 to {MAX_STEP_SECS}")));
        }
        if self.session.def.participant(&current.entry.participant).map(|p| p.modality) == Some(Modality::PreRecorded) {
            return Err(refused("a pre-recorded statement has a fixed length"));
        }
        let delta = u64::from(secs) * 1000;
        let allotted_ms = if extend {
            current.allotted_ms.saturating_add(delta).min(MAX_ALLOTTED_MS)
        } else {
            current.allotted_ms.saturating_sub(delta)
        };
        Ok(vec![EventKind::TimeChanged { turn, allotted_ms }])
    }

    fn raise_point_of_order(&self, by: &str) -> Decision {
        let p = self.participant(by)?;
        if p.kind != ParticipantKind::MemberState {
            return Err(refused(format!(
                "{} is not a Member State: only Member States may raise a point of order",
                p.name
            )));
        }
        points_of_order_open(self.session)?;
        let floor = self.session.floor.as_ref();
        Ok(vec![EventKind::PointOfOrderRaised {
            point: PointOfOrder {
                id: self.session.next_id,
                by: by.to_string(),
                raised_at: self.now,
                turn: floor.map(|t| t.id),
                resume: floor.is_some_and(|t| t.running_since.is_some()),
                ruled_at: None,
                ruling: None,
                upheld: None,
                withdrawn_at: None,
            },
        }])
    }

    fn request_reply(&self, participant: &str, segment: Option<&str>) -> Decision {
        let p = self.participant(participant)?;
        if !p.kind.is_state() {
            return Err(refused(format!("{} is not a State delegation: rights of reply are for States", p.name)));
        }
        let index = match segment {
            Some(_) => self.segment(segment)?,
            None => self.current_segment()?,
        };
        let state = &self.session.segments[index];
        if state.ended_at.is_some() {
            return Err(refused(format!("{} has ended", self.title(index))));
        }
        let limits = self.session.segment_def(index).map(|s| s.limits).unwrap_or_default();
        let taken = state.replies_taken.get(participant).copied().unwrap_or(0);
        let pending = state.replies.iter().filter(|e| e.participant == participant).count() as u32;
        let number = taken + pending + 1;
        if number > limits.replies_per_delegation {
            let how = match (taken, pending) {
                (_, 0) => format!("has used its {}", count(limits.replies_per_delegation, "right", "rights")),
                (0, _) => format!("has requested its {}", count(limits.replies_per_delegation, "right", "rights")),
                (t, p) => format!(
                    "has used {t} and requested {p} of its {}",
                    count(limits.replies_per_delegation, "right", "rights")
                ),
            };
            return Err(refused(format!("{} {how} of reply in {}", p.name, self.title(index))));
        }
        let mut entry = self.session.new_entry(index, p, Some(StatementKind::Reply), None, self.now);
        entry.allotted = if number == 1 { limits.reply_first } else { limits.reply_second };
        entry.reply_number = Some(number);
        entry.reason = format!("right of reply no. {number}, in order of request");
        Ok(vec![EventKind::ReplyRequested { segment: index, entry }])
    }

    /// A note or pledge with this client id was recorded already: accept again, record nothing.
    fn already_recorded(&self, client_id: &str) -> Result<bool, Rejection> {
        if client_id.is_empty() || client_id.chars().count() > MAX_SHORT {
            return Err(invalid(format!("client_id must have 1 to {MAX_SHORT} characters")));
        }
        Ok(self.session.is_recorded(client_id))
    }

    fn known_turn(&self, turn: Option<TurnId>) -> Result<(), Rejection> {
        let Some(turn) = turn else { return Ok(()) };
        // Notes are mostly about recent turns: look from the end.
        let known = self.session.turns.iter().rev().any(|t| t.id == turn)
            || self.session.floor.as_ref().is_some_and(|t| t.id == turn);
        if known { Ok(()) } else { Err(not_found(format!("no turn #{turn} in this session"))) }
    }
}

/// The tightest budget of `segment` that a statement for `entry` would exceed
/// (counting `pending` milliseconds of a turn ended in the same step), and the
/// sentence that says so: the chair then gives the time left, or the full time
/// with a reason.
pub fn over_budget(
    session: &Session,
    segment: usize,
    entry: &super::Entry,
    pending: u64,
) -> Option<(super::BudgetLeft, String)> {
    let allotted_ms = u64::from(entry.allotted) * 1000;
    let tightest = super::budgets_left(session, segment, &entry.participant, entry.kind, pending)
        .into_iter()
        .min_by_key(|b| b.left_ms)
        .filter(|b| b.left_ms < allotted_ms)?;
    let sentence = format!(
        "{} has {} left of the {} budget ({} in this segment) for a {} statement",
        session.name_of(&entry.participant),
        clock_ms(tightest.left_ms),
        tightest.name,
        clock_ms(tightest.limit_ms),
        clock_ms(allotted_ms)
    );
    Some((tightest, sentence))
}

/// What a turn ending in the same step as `next` is given the floor counts against
/// `next`'s budgets: its `used_ms`, if it draws on one of the same budgets.
pub(super) fn shared_pending(session: &Session, segment: usize, next: &super::Entry, used_ms: u64) -> u64 {
    let shared = session.floor.as_ref().is_some_and(|t| {
        let of = |p: &str, k| super::budgets_left(session, segment, p, k, 0);
        let mine: Vec<String> = of(&t.entry.participant, t.entry.kind).into_iter().map(|b| b.name).collect();
        of(&next.participant, next.kind).iter().any(|b| mine.contains(&b.name))
    });
    if shared { used_ms } else { 0 }
}

/// Whether the list of `segment` takes inscriptions now (anyone's).
pub(super) fn inscriptions_open(session: &Session, segment: usize) -> Result<(), Rejection> {
    session_open(session)?;
    let title = |index: usize| {
        session.segment_def(index).map_or_else(|| format!("segment {index}"), |s| format!("\"{}\"", s.title))
    };
    let state = session.segments.get(segment).ok_or_else(|| not_found("no such segment"))?;
    if state.ended_at.is_some() {
        return Err(refused(format!("{} has ended", title(segment))));
    }
    if state.closed {
        return Err(refused(format!("the list of speakers of {} is closed: no new inscriptions", title(segment))));
    }
    Ok(())
}

/// Whether a point of order may be raised now (by any Member State).
pub(super) fn points_of_order_open(session: &Session) -> Result<(), Rejection> {
    session_open(session)?;
    match &session.point_of_order {
        Some(point) => Err(refused(format!(
            "a point of order by {} is pending: the chair rules on it first",
            session.name_of(&point.by)
        ))),
        None => Ok(()),
    }
}

/// Whether rights of reply may be requested now (in the open segment).
pub(super) fn replies_open(session: &Session) -> Result<(), Rejection> {
    session_open(session)?;
    let current = session.current_segment.ok_or_else(|| refused("no segment is open yet: open a segment first"))?;
    match session.segments.get(current) {
        Some(state) if state.ended_at.is_none() => Ok(()),
        _ => Err(refused("the open segment has ended")),
    }
}

fn session_open(session: &Session) -> Result<(), Rejection> {
    match session.closed_at {
        Some(closed) => Err(refused(format!("the session was closed at {}", clock(session, closed)))),
        None => Ok(()),
    }
}

fn clock_ms(ms: u64) -> String {
    super::duration_text(ms)
}

/// The first letter in capitals.
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "1 right", "2 rights".
fn count(n: u32, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// The language of a statement, as its ISO 639-1 code ("fr"; "FR" and " fr " are
/// read as "fr"), or why it is not one.
pub fn statement_language(code: &str) -> Result<String, Rejection> {
    let code = code.trim().to_ascii_lowercase();
    if isolang::Language::from_639_1(&code).is_some() {
        Ok(code)
    } else {
        Err(invalid(format!(
            "\"{}\" is not an ISO 639-1 language code: use two letters, such as \"ar\", \"zh\", \"en\", \"fr\", \"ru\" or \"es\"",
            code.chars().take(12).collect::<String>()
        )))
    }
}

/// The English name of a language given by its ISO 639-1 code ("French"), or the
/// code itself when it is not one.
pub fn language_name(code: &str) -> String {
    isolang::Language::from_639_1(code).map_or_else(|| code.to_string(), |l| l.to_name().to_string())
}

fn bounded_text(what: &str, text: &str, max: usize) -> Result<String, Rejection> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(format!("the {what} is empty")));
    }
    if text.chars().count() > max {
        return Err(invalid(format!("the {what} is longer than {max} characters")));
    }
    Ok(text.to_string())
}

fn objectives_in_range(mut objectives: Vec<u8>, required: bool) -> Result<Vec<u8>, Rejection> {
    if let Some(bad) = objectives.iter().find(|o| !(1..=23).contains(*o)) {
        return Err(invalid(format!("GCM objective {bad} does not exist: objectives are 1 to 23")));
    }
    if required && objectives.is_empty() {
        return Err(invalid("a pledge serves at least one GCM objective (1 to 23)"));
    }
    objectives.sort_unstable();
    objectives.dedup();
    Ok(objectives)
}
