//! The rules of procedure, pure and deterministic.
//!
//! A [`Session`] is the whole state of one meeting. A [`Command`] asks for a change;
//! [`decide`] checks it against the rules and the actor's role and answers with the
//! [`Event`]s that record the change (or a [`Rejection`] saying why not); [`apply`]
//! folds an event into the state. Time is always passed in, never read here, so a
//! journal replays to exactly the state the live hub had.

mod decide;
pub mod model;
pub mod offers;
mod order;
pub use order::{Reason, When, Why, reason_by_id};

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use decide::{
    Command, RejectCode, Rejection, UNDO_FLOOR_WITHIN_MS, decide, language_name, over_budget, statement_language,
};
pub use model::*;
pub use offers::{Move, Offer, Offered, Offers, connection_choices, offers, preview};

pub type Timestamp = DateTime<Utc>;
pub type EntryId = u64;
pub type TurnId = u64;

/// Who may do what: the role a connection authenticated as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Chair,
    Rapporteur,
    Delegate,
    Observer,
}

impl Role {
    /// "a chair", "an observer": for messages.
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Chair => "a chair",
            Self::Rapporteur => "a rapporteur",
            Self::Delegate => "a delegate",
            Self::Observer => "an observer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Chair => "chair",
            Self::Rapporteur => "rapporteur",
            Self::Delegate => "delegate",
            Self::Observer => "observer",
        }
    }
}

/// The author of a command, as recorded in the journal: a role and a name, never a token.
///
/// With a person's own credential (a chair, officer or rapporteur the session
/// file lists), `person` is that person's id and `name` their name, both from
/// the credential. With a role's shared token, `person` is absent and `name` is
/// what the connection declared (or the role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub role: Role,
    pub name: String,
    /// For a delegate: the participant it speaks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<ParticipantId>,
    /// The person whose own credential this is (an id of the session file's
    /// `[[chairs]]`, `[[officers]]` or `[[rapporteurs]]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
}

impl Actor {
    pub fn chair(name: &str) -> Self {
        Self { role: Role::Chair, name: name.to_string(), participant: None, person: None }
    }
    pub fn rapporteur(name: &str) -> Self {
        Self { role: Role::Rapporteur, name: name.to_string(), participant: None, person: None }
    }
    pub fn observer(name: &str) -> Self {
        Self { role: Role::Observer, name: name.to_string(), participant: None, person: None }
    }
    pub fn delegate(participant: &str) -> Self {
        Self {
            role: Role::Delegate,
            name: participant.to_string(),
            participant: Some(participant.to_string()),
            person: None,
        }
    }
    /// A person the session file lists, acting with their own credential.
    pub fn person(role: Role, person: &Person) -> Self {
        Self { role, name: person.name.clone(), participant: None, person: Some(person.id.clone()) }
    }
    /// Is this the same person as `other` (same role, credential and name)?
    pub fn same_person(&self, other: &Actor) -> bool {
        self.role == other.role
            && self.person == other.person
            && self.name == other.name
            && self.participant == other.participant
    }
    /// Does this actor speak for `participant`?
    pub fn speaks_for(&self, participant: &str) -> bool {
        self.role == Role::Delegate && self.participant.as_deref() == Some(participant)
    }
}

/// Connection status of a remote participant, as the secretariat sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionStatus {
    #[default]
    Unknown,
    Connected,
    AudioChecked,
    TechnicalIssue,
}

impl ConnectionStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Connected => "connected",
            Self::AudioChecked => "audio checked",
            Self::TechnicalIssue => "technical issue",
        }
    }
}

/// Why an entry stands where it does, when it is not the policy's doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "by")]
pub enum Placement {
    /// Placed by the segment's precedence policy.
    Policy,
    /// Moved by the chair; overrides the policy.
    Moved { to: usize },
    /// Deferred by the chair (usually a remote speaker who cannot be heard).
    Deferred { from: usize },
    /// A statement interrupted (the speaker's connection was lost), back on the
    /// list at position `to` to continue with the time it had left.
    Suspended { to: usize },
}

/// A statement delivered in parts: what the parts before this entry used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resumes {
    /// The turn of the statement's first part.
    pub first_turn: TurnId,
    /// Parts delivered so far.
    pub parts: u32,
    /// Time those parts used, in milliseconds.
    pub used_ms: u64,
    /// The statement's original allotment, in milliseconds.
    pub original_ms: u64,
}

/// One entry on a speakers list or a right-of-reply list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub participant: ParticipantId,
    pub kind: StatementKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    pub inscribed_at: Timestamp,
    pub placement: Placement,
    /// Time allotted, in seconds.
    pub allotted: u32,
    /// For a right of reply: its number for this delegation in this segment (1 or 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_number: Option<u32>,
    /// Human-readable reason for the entry's position, kept current by [`apply`].
    #[serde(default)]
    pub reason: String,
    /// Set when the entry continues an interrupted statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes: Option<Resumes>,
    /// A statement on behalf of a group: the group's roster id, or its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// The language the speaker will use (an ISO 639-1 code: "fr"), for the
    /// interpreters; the entry keeps it through a resumed statement's parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SegmentState {
    pub list: Vec<Entry>,
    pub closed: bool,
    pub replies: Vec<Entry>,
    /// Rights of reply already taken, per delegation.
    pub replies_taken: BTreeMap<ParticipantId, u32>,
    /// State statements heard since the last stakeholder (for alternating slots).
    pub states_since_stakeholder: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    /// Speaking time used against the segment's budgets, in milliseconds, by
    /// `"{budget index}/{key}"` (a group, constituency, kind or participant id).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub budget_used: BTreeMap<String, u64>,
}

/// What the chair decided when a statement's time exceeds what is left of a budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "choice")]
pub enum BudgetChoice {
    /// Give the floor with the time left in the budget.
    TimeLeft,
    /// Give the full time anyway, for a reason the record keeps.
    FullTime { reason: String },
}

/// A budget a statement draws on, and what is left of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLeft {
    /// As people name it: "Latin American and Caribbean States", "youth", "Chile".
    pub name: String,
    pub limit_ms: u64,
    pub used_ms: u64,
    pub left_ms: u64,
}

/// The turn in progress: who holds the floor and their clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub id: TurnId,
    pub segment: usize,
    /// The entry being heard (kept whole so that its history is complete).
    pub entry: Entry,
    pub started_at: Timestamp,
    pub allotted_ms: u64,
    /// Time used before `running_since`.
    pub used_ms: u64,
    /// Set while the clock runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_since: Option<Timestamp>,
    /// Paused by the chair (as opposed to stopped by a point of order).
    pub paused: bool,
    pub points_of_order: u32,
    /// The chair's decision when the statement exceeded what was left of a budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetChoice>,
}

/// What a clock shows: derived from a turn and the time now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    pub used_ms: u64,
    pub allotted_ms: u64,
    /// Negative in overrun.
    pub remaining_ms: i64,
    pub running: bool,
    pub phase: ClockPhase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockPhase {
    Normal,
    Warning,
    Overrun,
}

impl Turn {
    pub fn used_at(&self, now: Timestamp) -> u64 {
        let running = self.running_since.map_or(0, |since| millis_between(since, now));
        self.used_ms + running
    }

    pub fn reading(&self, now: Timestamp, warning_secs: u32) -> ClockReading {
        clock_reading(self.allotted_ms, self.used_ms, self.running_since, now, warning_secs)
    }
}

/// What a turn's clock shows at `now`: `allotted_ms` less the time used
/// (`used_ms` before `running_since`, and the time since while it runs), and its
/// phase. Every screen and page that shows a clock reads it here.
pub fn clock_reading(
    allotted_ms: u64,
    used_ms: u64,
    running_since: Option<Timestamp>,
    now: Timestamp,
    warning_secs: u32,
) -> ClockReading {
    let used_ms = used_ms + running_since.map_or(0, |since| millis_between(since, now));
    let remaining_ms =
        i64::try_from(allotted_ms).unwrap_or(i64::MAX).saturating_sub(i64::try_from(used_ms).unwrap_or(i64::MAX));
    let phase = if remaining_ms < 0 {
        ClockPhase::Overrun
    } else if remaining_ms <= i64::from(warning_secs) * 1000 {
        ClockPhase::Warning
    } else {
        ClockPhase::Normal
    };
    ClockReading { used_ms, allotted_ms, remaining_ms, running: running_since.is_some(), phase }
}

/// Milliseconds from `a` to `b`, never negative (a clock never runs backwards).
/// A duration as every screen, page and report shows it: `m:ss`, or `h:mm:ss`
/// from an hour on (rounded down to the second).
pub fn duration_text(ms: u64) -> String {
    let secs = ms / 1000;
    if secs >= 3600 {
        format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    } else {
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}

/// A countdown: the time left, rounded up (2:59.4 shows 3:00 while the first
/// second runs), and `+m:ss` counting up in overrun.
pub fn countdown_text(remaining_ms: i64) -> String {
    if remaining_ms >= 0 {
        duration_text((remaining_ms as u64).div_ceil(1000) * 1000)
    } else {
        format!("+{}", duration_text(remaining_ms.unsigned_abs()))
    }
}

pub fn millis_between(a: Timestamp, b: Timestamp) -> u64 {
    u64::try_from((b - a).num_milliseconds()).unwrap_or(0)
}

/// A finished turn, as the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnRecord {
    pub id: TurnId,
    pub segment: usize,
    /// The list entry that was heard.
    #[serde(default)]
    pub entry: EntryId,
    pub participant: ParticipantId,
    pub kind: StatementKind,
    pub inscribed_at: Timestamp,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub allotted_ms: u64,
    pub used_ms: u64,
    pub overrun_ms: u64,
    pub points_of_order: u32,
    /// For the second and later parts of an interrupted statement: its first part's turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_of: Option<TurnId>,
    /// This part ended because the statement was interrupted (suspended).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    /// A group statement's group (roster id or name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// The language the statement was inscribed in (ISO 639-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The chair's choice when the statement exceeded what was left of a budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointOfOrder {
    pub id: u64,
    pub by: ParticipantId,
    pub raised_at: Timestamp,
    /// The turn it interrupted, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<TurnId>,
    /// Whether that turn's clock was running (and so resumes after the ruling).
    pub resume: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruled_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruling: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upheld: Option<bool>,
    /// Withdrawn by the one who raised it (or the chair) before a ruling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: u64,
    /// Made by the client so that a note sent twice is recorded once.
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<TurnId>,
    pub author: String,
    pub text: String,
    #[serde(default)]
    pub objectives: Vec<u8>,
    #[serde(default)]
    pub themes: Vec<String>,
    pub at: Timestamp,
    /// When the rapporteur saved it (the client's clock corrected to the hub's; never
    /// after `at`, when the hub recorded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    pub id: u64,
    pub client_id: String,
    pub pledger: ParticipantId,
    pub text: String,
    pub objectives: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<TurnId>,
    pub author: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<Timestamp>,
}

/// What happened, as decided by [`decide`]. Events carry their results (positions,
/// times used) so that replaying them never re-runs a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[allow(
    clippy::large_enum_variant,
    reason = "events are built once and moved whole; boxing the entries would change every match"
)]
pub enum EventKind {
    SegmentOpened {
        segment: usize,
    },
    SessionClosed,
    /// A participant who registered during the session joins the roster.
    ParticipantRegistered {
        participant: Participant,
    },
    /// `order`: the ids of the whole list afterwards, first speaker first.
    Inscribed {
        segment: usize,
        entry: Entry,
        order: Vec<EntryId>,
    },
    Withdrawn {
        segment: usize,
        entry: EntryId,
    },
    Moved {
        segment: usize,
        entry: EntryId,
        placement: Placement,
        order: Vec<EntryId>,
    },
    ListClosed {
        segment: usize,
    },
    ListReopened {
        segment: usize,
    },
    ReplyRequested {
        segment: usize,
        entry: Entry,
    },
    ReplyWithdrawn {
        segment: usize,
        entry: EntryId,
    },
    FloorGiven {
        turn: Turn,
    },
    /// Undo of a floor given by mistake: the entry goes back where it was.
    FloorRevoked {
        turn: TurnId,
        segment: usize,
        entry: Entry,
        order: Vec<EntryId>,
        states_since_stakeholder: u32,
        /// Undo of "next": the turn it ended comes back on the floor as it was.
        /// (Boxed: a rare event should not make every event as large as two turns.)
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restore: Option<Box<Turn>>,
    },
    /// Undo of a withdrawal: the entry comes back where it was.
    Restored {
        segment: usize,
        entry: Entry,
        order: Vec<EntryId>,
    },
    TurnEnded {
        turn: TurnId,
        used_ms: u64,
        overrun_ms: u64,
    },
    /// Undo of a turn ended by mistake: the turn holds the floor again, its time
    /// used so far kept.
    TurnRestored {
        turn: Turn,
        /// Undo of a suspension: the entry that put the speaker back on the list, removed again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        withdraw: Option<EntryId>,
        /// Undo of a suspension that marked the speaker with a technical issue: the
        /// connection status the speaker had before, set again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        connection: Option<ConnectionStatus>,
    },
    /// The turn on the floor stops (the speaker's connection was lost): its part is
    /// recorded, and `entry` puts the speaker back on the list, at a place of its
    /// own (`order`), to continue later with the time it had left.
    TurnSuspended {
        turn: TurnId,
        used_ms: u64,
        segment: usize,
        entry: Entry,
        order: Vec<EntryId>,
    },
    /// Undo of opening a segment: it is not open any more (its lists are kept) and
    /// the previous one, if any, is open again with its lists as they were.
    SegmentOpenUndone {
        segment: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<usize>,
    },
    /// Undo of closing the session; `segment` was open before and opens again.
    SessionReopened {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        segment: Option<usize>,
    },
    ClockPaused {
        turn: TurnId,
    },
    ClockResumed {
        turn: TurnId,
    },
    TimeChanged {
        turn: TurnId,
        allotted_ms: u64,
    },
    PointOfOrderRaised {
        point: PointOfOrder,
    },
    PointOfOrderRuled {
        point: u64,
        ruling: String,
        upheld: bool,
    },
    /// The point of order is withdrawn before a ruling: the clock it stopped runs again.
    PointOfOrderWithdrawn {
        point: u64,
    },
    ConnectionSet {
        participant: ParticipantId,
        status: ConnectionStatus,
    },
    NoteAdded {
        note: Note,
    },
    PledgeAdded {
        pledge: Pledge,
    },
}

/// One recorded event: its sequence number, time, author and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub at: Timestamp,
    pub actor: Actor,
    pub event: EventKind,
    /// Set on a compensating event: the seq of the event it undoes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<u64>,
}

/// The whole state of one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub def: Arc<SessionDef>,
    /// Sequence number of the last event applied.
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_segment: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    pub segments: Vec<SegmentState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Turn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_of_order: Option<PointOfOrder>,
    pub points_of_order: Vec<PointOfOrder>,
    pub connections: BTreeMap<ParticipantId, ConnectionStatus>,
    /// Finished turns, notes and pledges only grow: shared, so that copies of the
    /// state (snapshots, replay checkpoints) are cheap.
    pub turns: Vec<Arc<TurnRecord>>,
    pub notes: Vec<Arc<Note>>,
    pub pledges: Vec<Arc<Pledge>>,
    /// Next id for entries, turns, points of order, notes and pledges (one counter).
    pub next_id: u64,
    /// The chair's last list action or floor given, undoable while nothing else has happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<Undo>,
    /// Each participant's speaking time so far in the session, in milliseconds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub spoken_ms: BTreeMap<ParticipantId, u64>,
    /// Client ids of the notes and pledges recorded, so that a repeated note is
    /// recognised without scanning them all. Derived from `notes` and `pledges`:
    /// never serialized.
    #[serde(skip)]
    pub recorded: RecordedIds,
}

/// The client ids of recorded notes and pledges, built from the logs on first use
/// and kept current by [`apply`].
///
/// A copy of the state (a snapshot, a replay checkpoint) starts without the
/// index and builds it only if it is asked: copies stay cheap, and a state read
/// from the wire needs no rebuilding step. Two indexes always compare equal: they
/// are not part of the session's content.
#[derive(Debug, Default)]
pub struct RecordedIds(std::sync::OnceLock<std::collections::HashSet<String>>);

impl Clone for RecordedIds {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for RecordedIds {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Session {
    /// Was a note or pledge with this client id recorded?
    pub fn is_recorded(&self, client_id: &str) -> bool {
        self.recorded
            .0
            .get_or_init(|| {
                let notes = self.notes.iter().map(|n| n.client_id.clone());
                notes.chain(self.pledges.iter().map(|p| p.client_id.clone())).collect()
            })
            .contains(client_id)
    }

    /// Build the index of recorded client ids now rather than on the first note
    /// (a hub opening a long journal does it before serving anyone).
    pub fn index_recorded(&self) {
        self.is_recorded("");
    }

    fn note_recorded(&mut self, client_id: &str) {
        // Not built yet: it will be built from the logs, which hold this id.
        if let Some(ids) = self.recorded.0.get_mut() {
            ids.insert(client_id.to_string());
        }
    }

    /// A point to return to with [`Session::rewind`]: the state without its logs
    /// that only grow (turns, notes, pledges, points of order), and their lengths.
    /// Its cost does not grow with the session's history.
    pub fn rewind_point(&mut self) -> RewindPoint {
        let turns = std::mem::take(&mut self.turns);
        let notes = std::mem::take(&mut self.notes);
        let pledges = std::mem::take(&mut self.pledges);
        let points = std::mem::take(&mut self.points_of_order);
        let recorded = std::mem::take(&mut self.recorded);
        let point = RewindPoint {
            base: Box::new(self.clone()),
            turns: turns.len(),
            notes: notes.len(),
            pledges: pledges.len(),
            points: points.len(),
        };
        self.turns = turns;
        self.notes = notes;
        self.pledges = pledges;
        self.points_of_order = points;
        self.recorded = recorded;
        point
    }

    /// Return to the state of `point`, taken on this session before the events
    /// applied since (which only appended to the logs).
    pub fn rewind(&mut self, point: RewindPoint) {
        let RewindPoint { base, turns, notes, pledges, points } = point;
        let mut logs = (
            std::mem::take(&mut self.turns),
            std::mem::take(&mut self.notes),
            std::mem::take(&mut self.pledges),
            std::mem::take(&mut self.points_of_order),
        );
        logs.0.truncate(turns);
        logs.1.truncate(notes);
        logs.2.truncate(pledges);
        logs.3.truncate(points);
        *self = *base;
        (self.turns, self.notes, self.pledges, self.points_of_order) = logs;
        // Rebuilt from the logs on next use.
        self.recorded = RecordedIds::default();
    }
}

/// See [`Session::rewind_point`].
#[derive(Debug)]
pub struct RewindPoint {
    base: Box<Session>,
    turns: usize,
    notes: usize,
    pledges: usize,
    points: usize,
}

/// What undoing the last chair action would record: a compensating event (the
/// journal keeps both the action and its undoing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undo {
    /// Seq of the event it undoes.
    pub seq: u64,
    /// Time of that event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// For the screen: "the inscription of Chile".
    pub what: String,
    pub compensation: EventKind,
    /// Who did it: only they may undo it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Actor>,
}

/// When the speakers list of a segment will end at the current limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forecast {
    pub ends_at: Timestamp,
    pub scheduled_end: Timestamp,
    /// Positive when the list runs past the scheduled end.
    pub late_ms: i64,
    /// Entries (list, then rights of reply) that finish before the scheduled end.
    pub fit: usize,
    pub total: usize,
}

/// The scheduled end a segment's list is forecast against: the segment's `end`, or,
/// for a session run far from its scheduled date (a rehearsal, a replayed
/// example), its scheduled length counted from when it opened (from `now` if it
/// has not opened).
pub fn scheduled_end(session: &Session, segment: usize, now: Timestamp) -> Option<Timestamp> {
    let def = session.segment_def(segment)?;
    let state = session.segments.get(segment)?;
    let scheduled_start = def.start.with_timezone(&Utc);
    let anchor = state.opened_at.unwrap_or(now);
    Some(if (anchor - scheduled_start).num_hours().abs() >= 12 {
        anchor + (def.end - def.start)
    } else {
        def.end.with_timezone(&Utc)
    })
}

/// When a list whose statements take `list_secs` in all ends, from `now` with
/// `floor_left_ms` left to the speaker on the floor, and by how much it runs past
/// `scheduled_end` (negative: before it). The one computation of a list's end:
/// the chair's forecast and the forum's console both use it.
pub fn list_end(
    now: Timestamp,
    floor_left_ms: i64,
    list_secs: u64,
    scheduled_end: Timestamp,
) -> Option<(Timestamp, i64)> {
    let ends_at = now
        .checked_add_signed(chrono::Duration::milliseconds(floor_left_ms.max(0)))?
        .checked_add_signed(chrono::Duration::seconds(i64::try_from(list_secs).ok()?))?;
    Some((ends_at, (ends_at - scheduled_end).num_milliseconds()))
}

/// Forecast the end of a segment's list from `now`: the current turn's time left
/// (if it is in this segment), then every entry's allotted time, against
/// [`scheduled_end`].
pub fn forecast(session: &Session, segment: usize, now: Timestamp) -> Option<Forecast> {
    let def = session.segment_def(segment)?;
    let state = session.segments.get(segment)?;
    let scheduled_end = scheduled_end(session, segment, now)?;
    let floor_left = session
        .floor
        .as_ref()
        .filter(|t| t.segment == segment)
        .map_or(0, |turn| turn.reading(now, def.limits.warning).remaining_ms.max(0));
    let entries: Vec<&Entry> = state.list.iter().chain(state.replies.iter()).collect();
    // How many finish in time: each entry's end, one after another.
    let mut fit = 0;
    let mut secs = 0u64;
    for entry in &entries {
        secs += u64::from(entry.allotted);
        if list_end(now, floor_left, secs, scheduled_end).is_some_and(|(_, late)| late <= 0) {
            fit += 1;
        }
    }
    let (ends_at, late_ms) = list_end(now, floor_left, secs, scheduled_end)?;
    Some(Forecast { ends_at, scheduled_end, late_ms, fit, total: entries.len() })
}

impl Session {
    /// A session as its file declares it, before any event: the lists hold the
    /// speakers inscribed in advance, at the segment's scheduled start.
    pub fn new(def: SessionDef) -> Self {
        let def = Arc::new(def);
        let mut session = Self {
            segments: vec![SegmentState::default(); def.segments.len()],
            def: def.clone(),
            seq: 0,
            current_segment: None,
            closed_at: None,
            floor: None,
            point_of_order: None,
            points_of_order: Vec::new(),
            connections: BTreeMap::new(),
            turns: Vec::new(),
            notes: Vec::new(),
            pledges: Vec::new(),
            next_id: 1,
            undo: None,
            recorded: RecordedIds::default(),
            spoken_ms: BTreeMap::new(),
        };
        for (index, segment) in def.segments.iter().enumerate() {
            // Inscribed before the meeting (e-Speakers): at the time the file gives,
            // else at the session's scheduled start, in the language it gives.
            for (i, participant) in segment.inscribed.iter().enumerate() {
                let at = segment.inscribed_at.get(i).unwrap_or(&def.start).with_timezone(&Utc);
                if let Some(p) = def.participant(participant) {
                    let mut entry = session.new_entry(index, p, None, None, at);
                    entry.language = segment.inscribed_language.get(i).cloned().flatten();
                    session.next_id += 1;
                    session.segments[index].list.push(entry);
                }
            }
            let ids = order::policy_layout(&session, index, &session.segments[index].list);
            order::reorder(&mut session.segments[index].list, &ids);
            order::refresh_reasons(&mut session, index);
        }
        session
    }

    pub fn segment_def(&self, index: usize) -> Option<&SegmentDef> {
        self.def.segments.get(index)
    }

    pub fn connection(&self, participant: &str) -> ConnectionStatus {
        self.connections.get(participant).copied().unwrap_or_default()
    }

    /// Who speaks for an entry, as people say it: "Senegal, on behalf of the African Group".
    pub fn speaker(&self, entry: &Entry) -> String {
        let name = self.name_of(&entry.participant);
        match &entry.on_behalf_of {
            Some(group) => format!("{name}, on behalf of {}", self.group_name(group)),
            None => name.to_string(),
        }
    }

    /// A group's name: "the African Group" for a roster group, else the name as given.
    pub fn group_name(&self, group: &str) -> String {
        match self.def.participant(group) {
            Some(g) if g.name.starts_with("the ") || g.name.starts_with("The ") => g.name.clone(),
            Some(g) => format!("the {}", g.name),
            None => group.to_string(),
        }
    }

    /// The display name of a participant, or its id if unknown.
    pub fn name_of<'a>(&'a self, participant: &'a str) -> &'a str {
        self.def.participant(participant).map_or(participant, |p| p.name.as_str())
    }

    /// Find an entry on any list of a segment.
    pub fn find_entry(&self, segment: usize, entry: EntryId) -> Option<(usize, &Entry, bool)> {
        let state = self.segments.get(segment)?;
        if let Some((i, e)) = state.list.iter().enumerate().find(|(_, e)| e.id == entry) {
            return Some((i, e, false));
        }
        state.replies.iter().enumerate().find(|(_, e)| e.id == entry).map(|(i, e)| (i, e, true))
    }

    /// Which segment's lists hold `entry`.
    pub fn segment_of_entry(&self, entry: EntryId) -> Option<usize> {
        (0..self.segments.len()).find(|&s| self.find_entry(s, entry).is_some())
    }

    /// Build a new entry (not yet placed) for a participant in a segment.
    pub(crate) fn new_entry(
        &self,
        segment: usize,
        participant: &Participant,
        kind: Option<StatementKind>,
        level: Option<Level>,
        at: Timestamp,
    ) -> Entry {
        let kind = kind.unwrap_or_else(|| participant.kind.default_statement());
        let limits = self.def.segments.get(segment).map(|s| s.limits).unwrap_or_default();
        let allotted = match (participant.modality, participant.recording_secs) {
            (Modality::PreRecorded, Some(secs)) => secs,
            _ => limits.for_statement(kind),
        };
        let level = if participant.kind.is_state() {
            level.or(participant.level).or(Some(Level::HeadOfDelegation))
        } else {
            None
        };
        Entry {
            id: self.next_id,
            participant: participant.id.clone(),
            kind,
            level,
            inscribed_at: at,
            placement: Placement::Policy,
            allotted,
            reply_number: None,
            reason: String::new(),
            resumes: None,
            on_behalf_of: None,
            language: None,
        }
    }

    /// Replay a sequence of events onto a fresh session.
    pub fn replay<'a>(def: SessionDef, events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut session = Self::new(def);
        for event in events {
            apply(&mut session, event);
        }
        session
    }
}

/// Fold one event into the state. Never fails and never panics: an event that does
/// not fit the state (which [`decide`] never produces) changes only what it can.
/// The turn that leaves the floor, ended or interrupted (`suspended`): its time is
/// counted against the budgets and it joins the log of turns.
fn record_turn(session: &mut Session, current: Turn, at: Timestamp, used_ms: u64, overrun_ms: u64, suspended: bool) {
    account(session, current.segment, &current.entry.participant, current.entry.kind, used_ms, true);
    session.turns.push(Arc::new(TurnRecord {
        id: current.id,
        segment: current.segment,
        entry: current.entry.id,
        participant: current.entry.participant.clone(),
        kind: current.entry.kind,
        inscribed_at: current.entry.inscribed_at,
        started_at: current.started_at,
        ended_at: at,
        allotted_ms: current.allotted_ms,
        used_ms,
        overrun_ms,
        points_of_order: current.points_of_order,
        part_of: current.entry.resumes.as_ref().map(|r| r.first_turn),
        suspended,
        on_behalf_of: current.entry.on_behalf_of,
        language: current.entry.language,
        budget: current.budget,
    }));
}

pub fn apply(session: &mut Session, event: &Event) {
    apply_with(session, event, true);
}

/// Recompute every list's reasons (after applying events with `apply_quietly`).
pub fn refresh_all_reasons(session: &mut Session) {
    for segment in 0..session.segments.len() {
        order::refresh_reasons(session, segment);
    }
}

/// `apply`, leaving the entries' reasons stale: for replaying many events at
/// once, followed by [`refresh_all_reasons`] (reasons depend only on the lists,
/// so the result is the same).
pub fn apply_quietly(session: &mut Session, event: &Event) {
    apply_with(session, event, false);
}

fn apply_with(session: &mut Session, event: &Event, reasons: bool) {
    // An undo is not itself undone (undoing again would only redo).
    session.undo = match event.actor.role {
        Role::Chair if event.undoes.is_none() => undo_of(session, event),
        _ => None,
    };
    session.seq = event.seq;
    let at = event.at;
    match &event.event {
        EventKind::SegmentOpened { segment } => {
            if let Some(previous) = session.current_segment
                && let Some(state) = session.segments.get_mut(previous)
                && state.ended_at.is_none()
            {
                state.ended_at = Some(at);
            }
            if let Some(state) = session.segments.get_mut(*segment) {
                state.opened_at = Some(at);
                session.current_segment = Some(*segment);
            }
        }
        EventKind::SessionClosed => {
            if let Some(current) = session.current_segment
                && let Some(state) = session.segments.get_mut(current)
                && state.ended_at.is_none()
            {
                state.ended_at = Some(at);
            }
            session.closed_at = Some(at);
        }
        EventKind::ParticipantRegistered { participant } => {
            // The definition is shared with snapshots and checkpoints: this one copy is
            // the session's own from now on.
            let def = Arc::make_mut(&mut session.def);
            def.participants.push(participant.clone());
            def.roster = RosterIndex::default();
        }
        EventKind::SessionReopened { segment } => {
            session.closed_at = None;
            if let Some(state) = segment.and_then(|s| session.segments.get_mut(s)) {
                state.ended_at = None;
            }
        }
        EventKind::SegmentOpenUndone { segment, previous } => {
            if let Some(state) = session.segments.get_mut(*segment) {
                state.opened_at = None;
            }
            session.current_segment = *previous;
            if let Some(state) = previous.and_then(|p| session.segments.get_mut(p)) {
                state.ended_at = None;
            }
        }
        EventKind::TurnRestored { turn, withdraw, connection } => {
            if let Some(status) = connection {
                session.connections.insert(turn.entry.participant.clone(), *status);
            }
            if let Some(record) = session.turns.pop_if(|t| t.id == turn.id) {
                account(session, record.segment, &record.participant, record.kind, record.used_ms, false);
            }
            if let Some(entry) = withdraw
                && let Some(state) = session.segments.get_mut(turn.segment)
            {
                state.list.retain(|e| e.id != *entry);
                if reasons {
                    order::refresh_reasons(session, turn.segment);
                }
            }
            session.floor = Some(turn.clone());
        }
        EventKind::Inscribed { segment, entry, order: ids } => {
            if let Some(state) = session.segments.get_mut(*segment) {
                state.list.push(entry.clone());
                order::reorder(&mut state.list, ids);
                session.next_id = session.next_id.max(entry.id + 1);
                if reasons {
                    order::refresh_reasons(session, *segment);
                }
            }
        }
        EventKind::Withdrawn { segment, entry } => {
            if let Some(state) = session.segments.get_mut(*segment) {
                state.list.retain(|e| e.id != *entry);
                if reasons {
                    order::refresh_reasons(session, *segment);
                }
            }
        }
        EventKind::Moved { segment, entry, placement, order: ids } => {
            if let Some(state) = session.segments.get_mut(*segment)
                && let Some(moved) = state.list.iter_mut().find(|e| e.id == *entry)
            {
                moved.placement = placement.clone();
                order::reorder(&mut state.list, ids);
                if reasons {
                    order::refresh_reasons(session, *segment);
                }
            }
        }
        EventKind::ListClosed { segment } | EventKind::ListReopened { segment } => {
            if let Some(state) = session.segments.get_mut(*segment) {
                state.closed = matches!(event.event, EventKind::ListClosed { .. });
            }
        }
        EventKind::ReplyRequested { segment, entry } => {
            if let Some(state) = session.segments.get_mut(*segment) {
                state.replies.push(entry.clone());
                session.next_id = session.next_id.max(entry.id + 1);
            }
        }
        EventKind::ReplyWithdrawn { segment, entry } => {
            if let Some(state) = session.segments.get_mut(*segment) {
                state.replies.retain(|e| e.id != *entry);
            }
        }
        EventKind::FloorGiven { turn } => {
            if let Some(state) = session.segments.get_mut(turn.segment) {
                state.list.retain(|e| e.id != turn.entry.id);
                state.replies.retain(|e| e.id != turn.entry.id);
                match turn.entry.kind {
                    StatementKind::Stakeholder => state.states_since_stakeholder = 0,
                    StatementKind::National | StatementKind::Group => {
                        state.states_since_stakeholder += 1;
                    }
                    StatementKind::Reply => {
                        *state.replies_taken.entry(turn.entry.participant.clone()).or_default() += 1;
                    }
                    StatementKind::Organization => {}
                }
                if reasons {
                    order::refresh_reasons(session, turn.segment);
                }
            }
            session.next_id = session.next_id.max(turn.id + 1);
            session.floor = Some(turn.clone());
        }
        EventKind::FloorRevoked { turn, segment, entry, order: ids, states_since_stakeholder, restore } => {
            if session.floor.as_ref().is_some_and(|t| t.id == *turn) {
                session.floor = None;
            }
            if let Some(previous) = restore {
                if let Some(record) = session.turns.pop_if(|t| t.id == previous.id) {
                    account(session, record.segment, &record.participant, record.kind, record.used_ms, false);
                }
                session.floor = Some(Turn::clone(previous));
            }
            if let Some(state) = session.segments.get_mut(*segment) {
                state.states_since_stakeholder = *states_since_stakeholder;
                if entry.kind == StatementKind::Reply {
                    if let Some(taken) = state.replies_taken.get_mut(&entry.participant) {
                        *taken = taken.saturating_sub(1);
                    }
                    state.replies.push(entry.clone());
                    order::reorder(&mut state.replies, ids);
                } else {
                    state.list.push(entry.clone());
                    order::reorder(&mut state.list, ids);
                }
                if reasons {
                    order::refresh_reasons(session, *segment);
                }
            }
        }
        EventKind::Restored { segment, entry, order: ids } => {
            if let Some(state) = session.segments.get_mut(*segment) {
                state.list.push(entry.clone());
                order::reorder(&mut state.list, ids);
                if reasons {
                    order::refresh_reasons(session, *segment);
                }
            }
        }
        EventKind::TurnEnded { turn, used_ms, overrun_ms } => {
            if let Some(current) = session.floor.take_if(|t| t.id == *turn) {
                record_turn(session, current, at, *used_ms, *overrun_ms, false);
            }
        }
        EventKind::TurnSuspended { turn, used_ms, segment, entry, order: ids } => {
            if let Some(current) = session.floor.take_if(|t| t.id == *turn) {
                let overrun_ms = used_ms.saturating_sub(current.allotted_ms);
                record_turn(session, current, at, *used_ms, overrun_ms, true);
            }
            session.next_id = session.next_id.max(entry.id + 1);
            if let Some(state) = session.segments.get_mut(*segment) {
                state.list.push(entry.clone());
                order::reorder(&mut state.list, ids);
                if reasons {
                    order::refresh_reasons(session, *segment);
                }
            }
        }
        EventKind::ClockPaused { turn } => {
            if let Some(current) = session.floor.as_mut().filter(|t| t.id == *turn) {
                stop_clock(current, at);
                current.paused = true;
            }
        }
        EventKind::ClockResumed { turn } => {
            if let Some(current) = session.floor.as_mut().filter(|t| t.id == *turn) {
                current.paused = false;
                current.running_since = Some(at);
            }
        }
        EventKind::TimeChanged { turn, allotted_ms } => {
            if let Some(current) = session.floor.as_mut().filter(|t| t.id == *turn) {
                current.allotted_ms = *allotted_ms;
            }
        }
        EventKind::PointOfOrderRaised { point } => {
            if let Some(current) = session.floor.as_mut()
                && Some(current.id) == point.turn
            {
                stop_clock(current, at);
                current.points_of_order += 1;
            }
            session.next_id = session.next_id.max(point.id + 1);
            session.point_of_order = Some(point.clone());
        }
        EventKind::PointOfOrderRuled { point, ruling, upheld } => {
            if let Some(mut pending) = session.point_of_order.take_if(|p| p.id == *point) {
                resume_after_point(session, &pending, at);
                pending.ruled_at = Some(at);
                pending.ruling = Some(ruling.clone());
                pending.upheld = Some(*upheld);
                session.points_of_order.push(pending);
            }
        }
        EventKind::PointOfOrderWithdrawn { point } => {
            if let Some(mut pending) = session.point_of_order.take_if(|p| p.id == *point) {
                resume_after_point(session, &pending, at);
                pending.withdrawn_at = Some(at);
                session.points_of_order.push(pending);
            }
        }
        EventKind::ConnectionSet { participant, status } => {
            session.connections.insert(participant.clone(), *status);
        }
        EventKind::NoteAdded { note } => {
            session.next_id = session.next_id.max(note.id + 1);
            session.note_recorded(&note.client_id);
            session.notes.push(Arc::new(note.clone()));
        }
        EventKind::PledgeAdded { pledge } => {
            session.next_id = session.next_id.max(pledge.id + 1);
            session.note_recorded(&pledge.client_id);
            session.pledges.push(Arc::new(pledge.clone()));
        }
    }
}

/// The budgets of `segment` that a statement by `participant` of `kind` draws on,
/// with what is left of each, counting `pending` milliseconds more (a turn being
/// ended in the same step).
pub fn budgets_left(
    session: &Session,
    segment: usize,
    participant: &str,
    kind: StatementKind,
    pending: u64,
) -> Vec<BudgetLeft> {
    let (Some(def), Some(state), Some(p)) =
        (session.segment_def(segment), session.segments.get(segment), session.def.participant(participant))
    else {
        return Vec::new();
    };
    def.budgets
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            let (key, name) = b.key(p, kind)?;
            let limit_ms = u64::from(b.secs) * 1000;
            let used_ms = state.budget_used.get(&format!("{i}/{key}")).copied().unwrap_or(0) + pending;
            Some(BudgetLeft { name, limit_ms, used_ms, left_ms: limit_ms.saturating_sub(used_ms) })
        })
        .collect()
}

/// Count a finished part of a statement (or, `add` false, take it back for an
/// undo): the participant's time in the session and the segment's budgets.
fn account(session: &mut Session, segment: usize, participant: &str, kind: StatementKind, ms: u64, add: bool) {
    let change = |v: &mut u64| *v = if add { v.saturating_add(ms) } else { v.saturating_sub(ms) };
    change(session.spoken_ms.entry(participant.to_string()).or_default());
    let keys: Vec<String> = match (session.segment_def(segment), session.def.participant(participant)) {
        (Some(def), Some(p)) => def
            .budgets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.key(p, kind).map(|(key, _)| format!("{i}/{key}")))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(state) = session.segments.get_mut(segment) {
        for key in keys {
            change(state.budget_used.entry(key).or_default());
        }
    }
}

/// The next speaker who may have the floor in the open segment, and the entries
/// passed over to reach it (remote speakers with a technical issue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextUp<'a> {
    pub entry: &'a Entry,
    pub skipped: Vec<&'a Entry>,
}

/// Who "next" gives the floor to: the first on the speakers list who can be heard;
/// once the list is empty, the first right of reply.
pub fn next_up(session: &Session) -> Option<NextUp<'_>> {
    let state = session.segments.get(session.current_segment?)?;
    let can_speak = |e: &Entry| {
        session.def.participant(&e.participant).is_none_or(|p| p.modality != Modality::Remote)
            || session.connection(&e.participant) != ConnectionStatus::TechnicalIssue
    };
    let source = if state.list.is_empty() { &state.replies } else { &state.list };
    let at = source.iter().position(can_speak)?;
    Some(NextUp { entry: &source[at], skipped: source[..at].iter().collect() })
}

/// The compensating event that would undo `event`, computed on the state before it.
pub(crate) fn undo_of(session: &Session, event: &Event) -> Option<Undo> {
    let ids = |list: &[Entry]| list.iter().map(|e| e.id).collect::<Vec<_>>();
    let (what, compensation) = match &event.event {
        EventKind::Inscribed { segment, entry, .. } => (
            format!("the inscription of {}", session.name_of(&entry.participant)),
            EventKind::Withdrawn { segment: *segment, entry: entry.id },
        ),
        EventKind::Withdrawn { segment, entry } => {
            let list = &session.segments.get(*segment)?.list;
            let removed = list.iter().find(|e| e.id == *entry)?;
            (
                format!("the withdrawal of {}", session.name_of(&removed.participant)),
                EventKind::Restored { segment: *segment, entry: removed.clone(), order: ids(list) },
            )
        }
        EventKind::Restored { segment, entry, .. } => (
            format!("the restoring of {}", session.name_of(&entry.participant)),
            EventKind::Withdrawn { segment: *segment, entry: entry.id },
        ),
        EventKind::Moved { segment, entry, .. } => {
            let list = &session.segments.get(*segment)?.list;
            let moved = list.iter().find(|e| e.id == *entry)?;
            (
                format!("the move of {}", session.name_of(&moved.participant)),
                EventKind::Moved {
                    segment: *segment,
                    entry: *entry,
                    placement: moved.placement.clone(),
                    order: ids(list),
                },
            )
        }
        EventKind::ListClosed { segment } => {
            ("the closing of the list".to_string(), EventKind::ListReopened { segment: *segment })
        }
        EventKind::ListReopened { segment } => {
            ("the reopening of the list".to_string(), EventKind::ListClosed { segment: *segment })
        }
        EventKind::SegmentOpened { segment } => (
            format!("the opening of \"{}\"", session.segment_def(*segment)?.title),
            EventKind::SegmentOpenUndone { segment: *segment, previous: session.current_segment },
        ),
        EventKind::SessionClosed => (
            "the closing of the session".to_string(),
            EventKind::SessionReopened {
                segment: session
                    .current_segment
                    .filter(|s| session.segments.get(*s).is_some_and(|state| state.ended_at.is_none())),
            },
        ),
        EventKind::TurnEnded { turn, used_ms, .. } => {
            let current = session.floor.as_ref().filter(|t| t.id == *turn)?;
            let mut restored = current.clone();
            restored.used_ms = *used_ms;
            // When undone, the clock runs again from the undo (see decide).
            restored.running_since = current.running_since.map(|_| event.at);
            (
                format!("the end of the turn of {}", session.name_of(&current.entry.participant)),
                EventKind::TurnRestored { turn: restored, withdraw: None, connection: None },
            )
        }
        EventKind::TurnSuspended { turn, used_ms, entry, .. } => {
            let current = session.floor.as_ref().filter(|t| t.id == *turn)?;
            let mut restored = current.clone();
            restored.used_ms = *used_ms;
            restored.running_since = current.running_since.map(|_| event.at);
            // Interrupting a remote speaker marks them lost in the same step (the
            // event before): undone, they have the status they had before.
            let connection = session
                .undo
                .as_ref()
                .filter(|u| u.seq + 1 == event.seq && u.at == Some(event.at))
                .and_then(|u| match &u.compensation {
                    EventKind::ConnectionSet { participant, status } if *participant == current.entry.participant => {
                        Some(*status)
                    }
                    _ => None,
                });
            (
                format!("the interruption of {}'s statement", session.name_of(&current.entry.participant)),
                EventKind::TurnRestored { turn: restored, withdraw: Some(entry.id), connection },
            )
        }
        EventKind::FloorGiven { turn } => {
            let state = session.segments.get(turn.segment)?;
            let list = if turn.entry.kind == StatementKind::Reply { &state.replies } else { &state.list };
            // "Next" ends a turn and gives the floor in one step (same time, next seq):
            // its undo puts both back.
            let restore = session.undo.as_ref().filter(|u| u.seq + 1 == event.seq && u.at == Some(event.at)).and_then(
                |u| match &u.compensation {
                    EventKind::TurnRestored { turn, withdraw: None, .. } => Some(Box::new(turn.clone())),
                    _ => None,
                },
            );
            let what = match &restore {
                Some(previous) => {
                    format!("\"next\" (the floor back to {})", session.name_of(&previous.entry.participant))
                }
                None => format!("the floor given to {}", session.name_of(&turn.entry.participant)),
            };
            (
                what,
                EventKind::FloorRevoked {
                    turn: turn.id,
                    segment: turn.segment,
                    entry: turn.entry.clone(),
                    order: ids(list),
                    states_since_stakeholder: state.states_since_stakeholder,
                    restore,
                },
            )
        }
        EventKind::ConnectionSet { participant, .. } => (
            format!("the connection status of {}", session.name_of(participant)),
            EventKind::ConnectionSet { participant: participant.clone(), status: session.connection(participant) },
        ),
        _ => return None,
    };
    Some(Undo { seq: event.seq, at: Some(event.at), what, compensation, by: Some(event.actor.clone()) })
}

/// The clock a point of order stopped runs again once it is ruled on or withdrawn.
fn resume_after_point(session: &mut Session, point: &PointOfOrder, at: Timestamp) {
    if point.resume
        && let Some(current) = session.floor.as_mut()
        && Some(current.id) == point.turn
        && !current.paused
    {
        current.running_since = Some(at);
    }
}

fn stop_clock(turn: &mut Turn, at: Timestamp) {
    if let Some(since) = turn.running_since.take() {
        turn.used_ms += millis_between(since, at);
    }
}

#[cfg(test)]
mod tests;
