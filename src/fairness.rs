//! Balance: who has had the floor for how long, by kind of participant, UN
//! regional group and constituency, against their share of the roster; how long
//! remote speakers wait against those in the room; who waits longest now; and the
//! speaking-time budgets used. One pure computation over a session's state, so the
//! chair's fairness panel, the replay and the report show the same figures.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{Modality, ParticipantKind, Session, StatementKind, Timestamp, millis_between};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub group: String,
    pub statements: usize,
    /// Speaking time, in milliseconds.
    pub ms: u64,
    /// Percent of the speaking time of the turns counted in this table.
    pub time_percent: f64,
    pub statement_percent: f64,
    /// Percent of the roster (of the participants this table counts) in this group:
    /// a group heard less than its share of the roster shows at a glance.
    pub roster_percent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wait {
    pub turns: usize,
    /// Milliseconds; none when no turn is counted.
    pub mean_ms: Option<u64>,
    pub median_ms: Option<u64>,
    pub max_ms: Option<u64>,
}

/// From inscription to floor: is the hybrid format fair to remote speakers?
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waiting {
    pub in_room: Wait,
    pub remote: Wait,
    pub pre_recorded: Wait,
    /// Statements whose speakers were inscribed before their segment opened
    /// (in advance, or while an earlier segment ran): their wait counts from the
    /// segment's opening.
    pub from_opening: usize,
}

/// Someone on the open segment's list, and how long since they were inscribed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitingNow {
    pub participant: String,
    pub modality: String,
    pub waited_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fairness {
    pub by_kind: Vec<Share>,
    /// States with a regional group.
    pub by_regional_group: Vec<Share>,
    /// Stakeholders.
    pub by_constituency: Vec<Share>,
    pub waiting: Waiting,
    /// The open segment's speakers list, longest waiting first (speakers inscribed
    /// in advance left out).
    pub waiting_now: Vec<WaitingNow>,
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { (part * 1000.0 / whole).round() / 10.0 } else { 0.0 }
}

/// Shares of time and statements by group: `rows` are (group, milliseconds, whether
/// the row begins a statement: the later parts of an interrupted one add time only);
/// `roster` counts the participants of each group.
fn share_table(rows: Vec<(String, u64, bool)>, roster: &BTreeMap<String, usize>) -> Vec<Share> {
    let mut groups: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for (group, ms, statement) in rows {
        let g = groups.entry(group).or_default();
        g.0 += usize::from(statement);
        g.1 += ms;
    }
    shares_of(groups, roster)
}

/// Several sessions' tables of the same kind as one (a forum's): each group's
/// statements and time added up, the shares computed again, as for one session,
/// against `roster` (the participants the tables count, each once).
pub fn combine<'a>(tables: impl IntoIterator<Item = &'a [Share]>, roster: &BTreeMap<String, usize>) -> Vec<Share> {
    let mut groups: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for share in tables.into_iter().flatten() {
        let g = groups.entry(share.group.clone()).or_default();
        g.0 += share.statements;
        g.1 += share.ms;
    }
    shares_of(groups, roster)
}

/// Each group's shares of the table's statements (`.0`) and time (`.1`), most time first.
fn shares_of(groups: BTreeMap<String, (usize, u64)>, roster: &BTreeMap<String, usize>) -> Vec<Share> {
    let total_ms: u64 = groups.values().map(|g| g.1).sum();
    let total_n: usize = groups.values().map(|g| g.0).sum();
    let roster_total: usize = roster.values().sum();
    let mut shares: Vec<Share> = groups
        .into_iter()
        .map(|(group, (statements, ms))| Share {
            roster_percent: percent(roster.get(&group).copied().unwrap_or(0) as f64, roster_total as f64),
            group,
            statements,
            ms,
            time_percent: percent(ms as f64, total_ms as f64),
            statement_percent: percent(statements as f64, total_n as f64),
        })
        .collect();
    shares.sort_by(|a, b| b.ms.cmp(&a.ms).then(a.group.cmp(&b.group)));
    shares
}

/// Mean (rounded to the millisecond), median and longest of waiting times in milliseconds.
fn wait_stats(mut waits: Vec<u64>) -> Wait {
    waits.sort_unstable();
    let n = waits.len();
    let mean = (n > 0).then(|| (waits.iter().sum::<u64>() as f64 / n as f64).round() as u64);
    let median = match n {
        0 => None,
        n if n % 2 == 1 => Some(waits[n / 2]),
        n => Some((waits[n / 2 - 1] + waits[n / 2]) / 2),
    };
    Wait { turns: n, mean_ms: mean, median_ms: median, max_ms: waits.last().copied() }
}

fn modality_label(m: Modality) -> &'static str {
    match m {
        Modality::InRoom => "in-room",
        Modality::Remote => "remote",
        Modality::PreRecorded => "pre-recorded",
    }
}

fn constituency_label<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// When a speaker inscribed at `inscribed_at` began waiting to be heard in
/// `segment`: then, or when the segment opened if that was later (a speaker
/// inscribed in advance, by the session file or while an earlier segment ran,
/// waits from the opening, not from the schedule's date).
pub fn waiting_since(session: &Session, segment: usize, inscribed_at: Timestamp) -> Timestamp {
    match session.segments.get(segment).and_then(|s| s.opened_at) {
        Some(opened) if opened > inscribed_at => opened,
        _ => inscribed_at,
    }
}

/// How long the speaker of a finished turn waited for the floor, in milliseconds:
/// none for rights of reply and later parts of interrupted statements.
pub fn turn_wait_ms(session: &Session, t: &crate::domain::TurnRecord) -> Option<u64> {
    if t.kind == StatementKind::Reply || t.part_of.is_some() {
        return None;
    }
    Some(millis_between(waiting_since(session, t.segment, t.inscribed_at), t.started_at))
}

/// How many participants of a roster each group of the three tables has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rosters {
    pub kinds: BTreeMap<String, usize>,
    pub groups: BTreeMap<String, usize>,
    pub constituencies: BTreeMap<String, usize>,
}

/// Count a roster by kind, regional group and constituency, as the tables label them.
pub fn rosters<'a>(participants: impl IntoIterator<Item = &'a crate::domain::Participant>) -> Rosters {
    let mut out = Rosters::default();
    for p in participants {
        *out.kinds.entry(p.kind.label().to_string()).or_default() += 1;
        if let Some(g) = p.regional_group {
            *out.groups.entry(g.label().to_string()).or_default() += 1;
        }
        if p.kind == ParticipantKind::Stakeholder {
            let c = p.constituency.map_or_else(|| "unknown".to_string(), |c| constituency_label(&c));
            *out.constituencies.entry(c).or_default() += 1;
        }
    }
    out
}

/// The figures at `now` (for the waiting list; everything else is the record so far).
pub fn compute(session: &Session, now: Timestamp) -> Fairness {
    let def = &session.def;
    let mut kinds = Vec::new();
    let mut groups = Vec::new();
    let mut constituencies = Vec::new();
    let mut waits: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut from_opening = 0;
    for t in &session.turns {
        let Some(p) = def.participant(&t.participant) else { continue };
        let first_part = t.part_of.is_none();
        kinds.push((p.kind.label().to_string(), t.used_ms, first_part));
        if let Some(g) = p.regional_group {
            groups.push((g.label().to_string(), t.used_ms, first_part));
        }
        if p.kind == ParticipantKind::Stakeholder {
            let c = p.constituency.map_or_else(|| "unknown".to_string(), |c| constituency_label(&c));
            constituencies.push((c, t.used_ms, first_part));
        }
        // Waiting: first parts of statements, not rights of reply.
        if t.kind == StatementKind::Reply || !first_part {
            continue;
        }
        if let Some(wait) = turn_wait_ms(session, t) {
            if waiting_since(session, t.segment, t.inscribed_at) != t.inscribed_at {
                from_opening += 1;
            }
            waits.entry(modality_label(p.modality)).or_default().push(wait);
        }
    }
    let Rosters { kinds: roster_kinds, groups: roster_groups, constituencies: roster_constituencies } =
        rosters(&def.participants);
    let mut take = |m: Modality| wait_stats(waits.remove(modality_label(m)).unwrap_or_default());
    let waiting = Waiting {
        in_room: take(Modality::InRoom),
        remote: take(Modality::Remote),
        pre_recorded: take(Modality::PreRecorded),
        from_opening,
    };
    let current = session.current_segment.unwrap_or(0);
    let mut waiting_now: Vec<WaitingNow> = session
        .current_segment
        .and_then(|s| session.segments.get(s))
        .map(|state| {
            state
                .list
                .iter()
                .filter(|_| state.opened_at.is_some())
                .map(|e| WaitingNow {
                    participant: session.name_of(&e.participant).to_string(),
                    modality: def.participant(&e.participant).map_or("in-room", |p| modality_label(p.modality)).into(),
                    waited_ms: millis_between(waiting_since(session, current, e.inscribed_at), now),
                })
                .collect()
        })
        .unwrap_or_default();
    waiting_now.sort_by_key(|w| std::cmp::Reverse(w.waited_ms));
    Fairness {
        by_kind: share_table(kinds, &roster_kinds),
        by_regional_group: share_table(groups, &roster_groups),
        by_constituency: share_table(constituencies, &roster_constituencies),
        waiting,
        waiting_now,
    }
}

/// One budget of a segment, for one group (or participant), and how much of it is used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetUse {
    /// "regional group", "constituency", "kind", "participant".
    pub per: String,
    pub name: String,
    pub used_ms: u64,
    pub limit_ms: u64,
}

/// The budgets of a segment, each group that has used some of it or is on the list.
pub fn budget_use(session: &Session, segment: usize) -> Vec<BudgetUse> {
    let (Some(def), Some(state)) = (session.segment_def(segment), session.segments.get(segment)) else {
        return Vec::new();
    };
    let mut out: Vec<BudgetUse> = Vec::new();
    for (i, budget) in def.budgets.iter().enumerate() {
        let per = constituency_label(&budget.per).replace('-', " ");
        // Who draws on it: those who spoke in the segment and those on its list.
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let spoke = session.turns.iter().rev().take_while(|t| t.segment == segment).map(|t| (&t.participant, t.kind));
        let listed = state.list.iter().map(|e| (&e.participant, e.kind));
        for (participant, kind) in spoke.chain(listed) {
            if let Some(p) = session.def.participant(participant)
                && let Some((key, name)) = budget.key(p, kind)
            {
                seen.insert(key, name);
            }
        }
        for (key, name) in seen {
            out.push(BudgetUse {
                per: per.clone(),
                name,
                used_ms: state.budget_used.get(&format!("{i}/{key}")).copied().unwrap_or(0),
                limit_ms: u64::from(budget.secs) * 1000,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, Command, decide};
    use chrono::{Duration, TimeZone, Utc};

    /// The test session's segments are scheduled in 2022; this one runs years later.
    #[test]
    fn waiting_counts_from_the_segments_opening_for_speakers_inscribed_before_it() {
        let def = crate::config::parse_session(include_str!("../tests/data/small.toml")).expect("valid");
        let mut s = Session::new(def);
        let later = Utc.with_ymd_and_hms(2026, 12, 3, 14, 0, 0).single().expect("valid");
        let run = |s: &mut Session, command: Command, at: Timestamp| {
            for e in &decide(s, command, &Actor::chair("chair"), at).expect("accepted") {
                crate::domain::apply(s, e);
            }
        };
        // Chile and the Forum are inscribed in advance in the dialogue (at its 2022 schedule).
        run(&mut s, Command::OpenSegment { segment: "dialogue".into() }, later);
        let now = later + Duration::seconds(90);
        let f = compute(&s, now);
        let waited: Vec<u64> = f.waiting_now.iter().map(|w| w.waited_ms).collect();
        assert_eq!(waited, [90_000, 90_000], "from the opening, not from 2022");
        let chile = s.segments[2].list[0].id;
        run(&mut s, Command::GiveFloor { entry: chile, budget: None }, now);
        let turn = s.floor.as_ref().expect("floor").id;
        run(&mut s, Command::EndTurn { turn }, now + Duration::seconds(60));
        let f = compute(&s, now + Duration::seconds(60));
        assert_eq!((f.waiting.in_room.turns, f.waiting.in_room.mean_ms), (1, Some(90_000)));
        assert_eq!(f.waiting.from_opening, 1);
    }
}
