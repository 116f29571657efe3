//! Precedence on a speakers list: where the policy places an entry, and the
//! human-readable reason for every position.

use std::cmp::Ordering;

use super::{Entry, Participant, ParticipantKind, Placement, Precedence, Session, StakeholderSlots};
use super::{Level, StatementKind, Timestamp};
use serde::{Deserialize, Serialize};

/// Rank tiers under UN protocol; stakeholders form their own stream.
const TIER_GROUP: u8 = 0;
const TIER_MEMBER_STATE: u8 = 1;
const TIER_OBSERVER_STATE: u8 = 2;
const TIER_ORGANIZATION: u8 = 3;
const TIER_STAKEHOLDER: u8 = 4;

fn tier(session: &Session, entry: &Entry) -> u8 {
    match entry.kind {
        StatementKind::Group => TIER_GROUP,
        StatementKind::National => match participant(session, entry).map(|p| p.kind) {
            Some(ParticipantKind::ObserverState) => TIER_OBSERVER_STATE,
            _ => TIER_MEMBER_STATE,
        },
        StatementKind::Organization => TIER_ORGANIZATION,
        StatementKind::Stakeholder | StatementKind::Reply => TIER_STAKEHOLDER,
    }
}

fn participant<'a>(session: &'a Session, entry: &Entry) -> Option<&'a Participant> {
    session.def.participant(&entry.participant)
}

/// Inscription order is the order the hub decided the inscriptions in, which ids
/// record (a wall clock can step backwards; ids never do).
fn by_inscription(a: &Entry, b: &Entry) -> Ordering {
    a.id.cmp(&b.id)
}

fn by_protocol(session: &Session, a: &Entry, b: &Entry) -> Ordering {
    tier(session, a).cmp(&tier(session, b)).then_with(|| a.level.cmp(&b.level)).then_with(|| by_inscription(a, b))
}

/// The order the segment's policy gives to `entries` (ids, first speaker first).
fn policy_order(session: &Session, segment: usize, mut entries: Vec<&Entry>) -> Vec<u64> {
    let Some(def) = session.segment_def(segment) else {
        return entries.iter().map(|e| e.id).collect();
    };
    match def.precedence {
        Precedence::Inscription => {
            entries.sort_by(|a, b| by_inscription(a, b));
            entries.iter().map(|e| e.id).collect()
        }
        Precedence::UnProtocol => {
            let (mut stakeholders, mut others): (Vec<&Entry>, Vec<&Entry>) =
                entries.into_iter().partition(|e| tier(session, e) == TIER_STAKEHOLDER);
            stakeholders.sort_by(|a, b| by_inscription(a, b));
            others.sort_by(|a, b| by_protocol(session, a, b));
            match def.stakeholders {
                StakeholderSlots::AfterStates => others.iter().chain(stakeholders.iter()).map(|e| e.id).collect(),
                StakeholderSlots::Alternate { every } => {
                    let every = every.max(1);
                    let mut count = session.segments.get(segment).map_or(0, |s| s.states_since_stakeholder);
                    let mut waiting = stakeholders.into_iter();
                    let mut order = Vec::new();
                    for entry in others {
                        if count >= every
                            && let Some(stakeholder) = waiting.next()
                        {
                            order.push(stakeholder.id);
                            count = 0;
                        }
                        order.push(entry.id);
                        if tier(session, entry) <= TIER_OBSERVER_STATE {
                            count += 1;
                        }
                    }
                    order.extend(waiting.map(|e| e.id));
                    order
                }
            }
        }
    }
}

/// The order of a list under its segment's policy: entries moved or deferred by
/// the chair keep their index; the policy's entries fill the other places in
/// policy order. `list` holds every entry, a new one last.
pub(super) fn policy_layout(session: &Session, segment: usize, list: &[Entry]) -> Vec<u64> {
    let placed = list.iter().filter(|e| e.placement == Placement::Policy).collect();
    let mut policy = policy_order(session, segment, placed).into_iter();
    list.iter()
        .map(|e| match e.placement {
            Placement::Policy => policy.next().unwrap_or(e.id),
            _ => e.id,
        })
        .collect()
}

/// Put a list in the order of `ids`; entries `ids` does not name keep their
/// relative order at the end.
pub(super) fn reorder(list: &mut Vec<Entry>, ids: &[u64]) {
    let mut rest = std::mem::take(list);
    for id in ids {
        if let Some(i) = rest.iter().position(|e| e.id == *id) {
            list.push(rest.remove(i));
        }
    }
    list.append(&mut rest);
}

/// Recompute the reason of every entry on a segment's list.
pub(super) fn refresh_reasons(session: &mut Session, segment: usize) {
    let Some(state) = session.segments.get(segment) else {
        return;
    };
    let reasons: Vec<String> =
        (0..state.list.len()).map(|i| reason_for(session, segment, &state.list, i).to_string()).collect();
    if let Some(state) = session.segments.get_mut(segment) {
        for (entry, reason) in state.list.iter_mut().zip(reasons) {
            entry.reason = reason;
        }
    }
}

/// Why an entry stands where it does on its list, as data: the English text
/// every entry keeps (`Entry::reason`) is its `Display`, and the room's pages say
/// it in their own language from the same value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Reason {
    /// Moved by the chair to a position; overrides the policy.
    Moved { to: usize },
    /// Deferred by the chair from a position.
    Deferred { from: usize },
    /// An interrupted statement, placed by the chair to continue: its part, the time left.
    Suspended { to: usize, part: u32, left_ms: u64 },
    /// Before the next entry placed by the rules (a participant id), and why.
    Before { other: String, why: Why },
    /// After the previous one, and why.
    After { other: String, why: Why },
    /// Alone on the list: when it was inscribed.
    Inscribed { when: When },
}

/// When an entry was inscribed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "when")]
pub enum When {
    /// By the session file, before the meeting.
    InAdvance,
    /// At a time of day in the session's time zone ("10:00:02").
    At { time: String },
}

/// Why one entry speaks before another under the segment's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "why")]
pub enum Why {
    BothInAdvance,
    InAdvance,
    /// Inscribed first, both at the same second.
    First {
        at: String,
    },
    Earlier {
        at: String,
        against: String,
    },
    StakeholderSlot {
        every: u32,
    },
    StatementsBetweenSlots {
        every: u32,
    },
    StakeholdersAfterStates,
    GroupsFirst,
    MemberStatesFirst,
    StatesBeforeOrganizations,
    Outranks {
        level: Level,
        other: Level,
    },
    SameLevel {
        level: Level,
        then: Box<Why>,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Moved { to } => write!(f, "moved by the chair to position {to}; overrides the policy"),
            Self::Deferred { from } => write!(f, "deferred by the chair from position {from}"),
            Self::Suspended { to, part, left_ms } => write!(
                f,
                "statement interrupted (connection lost), placed at position {to} by the chair to continue: part {part}, {} left",
                clock_ms(*left_ms)
            ),
            Self::Before { other, why } => write!(f, "before {other}: {why}"),
            Self::After { other, why } => write!(f, "after {other}: {why}"),
            Self::Inscribed { when: When::InAdvance } => write!(f, "inscribed in advance"),
            Self::Inscribed { when: When::At { time } } => write!(f, "inscribed at {time}"),
        }
    }
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BothInAdvance => write!(f, "both inscribed in advance; earlier in the session file's list"),
            Self::InAdvance => write!(f, "inscribed in advance, before the meeting"),
            Self::First { at } => write!(f, "inscribed first (both at {at})"),
            Self::Earlier { at, against } => write!(f, "inscribed earlier (at {at}, against {against})"),
            Self::StakeholderSlot { every } => {
                write!(f, "stakeholder slot, one stakeholder after every {every} State statements")
            }
            Self::StatementsBetweenSlots { every } => {
                write!(f, "up to {every} State statements between stakeholder slots")
            }
            Self::StakeholdersAfterStates => write!(f, "stakeholders speak after States and organizations"),
            Self::GroupsFirst => write!(f, "statements on behalf of groups of States come first"),
            Self::MemberStatesFirst => write!(f, "Member States speak before observer States"),
            Self::StatesBeforeOrganizations => write!(f, "States speak before organizations"),
            Self::Outranks { level, other } => write!(f, "{} outranks {}", level.label(), other.label()),
            Self::SameLevel { level, then } => write!(f, "same level ({}), {then}", level.label()),
        }
    }
}

/// Why the entry at `i` of a segment's list stands there. Names are the roster's
/// (English) in the text; the value carries ids (see [`Reason::named`]).
pub fn reason_for(session: &Session, segment: usize, list: &[Entry], i: usize) -> Reason {
    let reason = reason_by_id(session, segment, list, i);
    reason.named(session)
}

impl Reason {
    /// The same reason with the other entry's participant named (for the text).
    fn named(self, session: &Session) -> Self {
        match self {
            Self::Before { other, why } => Self::Before { other: session.name_of(&other).to_string(), why },
            Self::After { other, why } => Self::After { other: session.name_of(&other).to_string(), why },
            other => other,
        }
    }
}

/// Why the entry at `i` stands there, naming the other entry by its participant id
/// (a page names it in its own language).
pub fn reason_by_id(session: &Session, segment: usize, list: &[Entry], i: usize) -> Reason {
    let Some(entry) = list.get(i) else { return Reason::Inscribed { when: When::InAdvance } };
    match entry.placement {
        Placement::Moved { to } => return Reason::Moved { to },
        Placement::Deferred { from } => return Reason::Deferred { from },
        Placement::Suspended { to } => {
            let left_ms = u64::from(entry.allotted) * 1000;
            let part = entry.resumes.as_ref().map_or(2, |r| r.parts + 1);
            return Reason::Suspended { to, part, left_ms };
        }
        Placement::Policy => {}
    }
    let is_policy = |e: &&Entry| e.placement == Placement::Policy;
    if let Some(next) = list[i + 1..].iter().find(is_policy) {
        return Reason::Before { other: next.participant.clone(), why: why(session, segment, entry, next) };
    }
    if let Some(previous) = list[..i].iter().rev().find(is_policy) {
        return Reason::After { other: previous.participant.clone(), why: why(session, segment, previous, entry) };
    }
    Reason::Inscribed { when: when(session, entry) }
}

/// `m:ss` of a duration in milliseconds.
fn clock_ms(ms: u64) -> String {
    let secs = ms / 1000;
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// When an entry was inscribed: a time, or in advance for the speakers the
/// session file inscribes before the meeting (ids 1 to their count).
fn when(session: &Session, entry: &Entry) -> When {
    if entry.id <= session.def.pre_inscribed() {
        When::InAdvance
    } else {
        When::At { time: clock(session, entry.inscribed_at) }
    }
}

/// Why `a` comes before `b` by inscription order, in terms a person can check.
fn earlier(session: &Session, a: &Entry, b: &Entry) -> Why {
    let pre = session.def.pre_inscribed();
    match (a.id <= pre, b.id <= pre) {
        (true, true) => Why::BothInAdvance,
        (true, false) => Why::InAdvance,
        _ => {
            let (at, against) = (clock(session, a.inscribed_at), clock(session, b.inscribed_at));
            if at == against { Why::First { at } } else { Why::Earlier { at, against } }
        }
    }
}

/// Why `a` speaks before `b` under the segment's policy.
fn why(session: &Session, segment: usize, a: &Entry, b: &Entry) -> Why {
    let earlier = || earlier(session, a, b);
    let Some(def) = session.segment_def(segment) else {
        return earlier();
    };
    if def.precedence == Precedence::Inscription {
        return earlier();
    }
    let (ta, tb) = (tier(session, a), tier(session, b));
    match (ta, tb) {
        (TIER_STAKEHOLDER, t) if t != TIER_STAKEHOLDER => match def.stakeholders {
            StakeholderSlots::Alternate { every } => Why::StakeholderSlot { every },
            StakeholderSlots::AfterStates => earlier(),
        },
        (t, TIER_STAKEHOLDER) if t != TIER_STAKEHOLDER => match def.stakeholders {
            StakeholderSlots::Alternate { every } => Why::StatementsBetweenSlots { every },
            StakeholderSlots::AfterStates => Why::StakeholdersAfterStates,
        },
        (TIER_GROUP, t) if t != TIER_GROUP => Why::GroupsFirst,
        (TIER_MEMBER_STATE, TIER_OBSERVER_STATE) => Why::MemberStatesFirst,
        (TIER_MEMBER_STATE | TIER_OBSERVER_STATE, TIER_ORGANIZATION) => Why::StatesBeforeOrganizations,
        (x, y) if x == y && (x == TIER_MEMBER_STATE || x == TIER_OBSERVER_STATE) => match (a.level, b.level) {
            (Some(level), Some(other)) if level < other => Why::Outranks { level, other },
            (Some(level), _) => Why::SameLevel { level, then: Box::new(earlier()) },
            _ => earlier(),
        },
        _ => earlier(),
    }
}

/// A time of day in the session's own time zone.
pub(super) fn clock(session: &Session, at: Timestamp) -> String {
    use chrono::Timelike;
    let local = at.with_timezone(&session.def.start.timezone());
    format!("{:02}:{:02}:{:02}", local.hour(), local.minute(), local.second())
}
