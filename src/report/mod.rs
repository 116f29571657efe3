//! The record a secretariat needs, computed from a journal alone: speakers per
//! segment with their times, speaking time by kind of participant, regional group
//! and constituency, waiting time remote against in room, points of order, rights
//! of reply, deferrals, pledges by GCM objective and the rapporteurs' notes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::FixedOffset;
use serde::Serialize;

use crate::config;
use crate::domain::{self, ConnectionStatus, EventKind, Placement, Session, StatementKind, Timestamp, gcm_objective};
use crate::journal::Contents;

pub mod forum;
pub mod html;
pub mod running;
mod svg;

pub use crate::fairness::{Share, Wait, Waiting};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub session: SessionInfo,
    pub segments: Vec<SegmentReport>,
    /// Speaking time and statements by kind of participant.
    pub by_kind: Vec<Share>,
    /// By UN regional group (States only).
    pub by_regional_group: Vec<Share>,
    /// By constituency (stakeholders only).
    pub by_constituency: Vec<Share>,
    pub waiting: Waiting,
    pub points_of_order: Vec<PointOfOrderRow>,
    pub rights_of_reply: Vec<u64>,
    /// Rights of reply requested and not (yet) taken: (segment id, delegation).
    pub replies_pending: Vec<(String, String)>,
    pub deferrals: Vec<Deferral>,
    pub pledges_by_objective: Vec<ObjectivePledges>,
    /// Notes and pledges not attached to a turn.
    pub session_notes: Vec<NoteRow>,
    /// Statements delivered in parts because the speaker was lost.
    pub interrupted: Vec<InterruptedStatement>,
    /// The statement on the floor when the report was made (a session still running).
    pub in_progress: Option<InProgress>,
    /// Who was at the chair, in the order they first acted.
    pub chairs: Vec<ChairActions>,
}

/// A statement still being delivered when the report was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InProgress {
    pub segment_id: String,
    pub speaker: String,
    pub started_at: Timestamp,
    /// Used as of the journal's last event.
    pub used_ms: u64,
}

/// A statement interrupted (the speaker's connection was lost) and continued later.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterruptedStatement {
    pub segment_id: String,
    /// The first part's turn: the statement's id.
    pub turn: u64,
    pub speaker: String,
    /// Each part: its turn, start and milliseconds used.
    pub parts: Vec<(u64, Timestamp, u64)>,
    /// How many times it was interrupted.
    pub interruptions: usize,
    pub used_ms: u64,
    /// The statement's allotment when it began.
    pub original_allotted_ms: u64,
    /// Over the original allotment.
    pub overrun_ms: u64,
    /// Its last part ended by an interruption: it was never finished.
    pub unfinished: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub title: String,
    pub venue: Option<String>,
    pub scheduled_start: Timestamp,
    pub scheduled_end: Timestamp,
    pub first_event: Option<Timestamp>,
    pub last_event: Option<Timestamp>,
    pub events: usize,
    pub closed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentReport {
    pub id: String,
    pub title: String,
    pub opened_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub turns: Vec<TurnRow>,
    /// The segment's speaking-time budgets, each group's use of them.
    pub budgets: Vec<crate::fairness::BudgetUse>,
    /// Inscribed and not heard, with why (segments that have ended, or all once the session is closed).
    pub not_heard: Vec<NotHeard>,
}

/// A speaker inscribed and not heard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotHeard {
    pub participant: String,
    /// "withdrew", "withdrawn by the chair", "technical issue", "the segment ended before their turn".
    pub why: String,
}

impl Report {
    /// Every note and pledge with the turn it is attached to (none: the session), in
    /// the order of the turns, then the session's.
    pub fn all_notes(&self) -> Vec<(Option<&TurnRow>, &NoteRow)> {
        let on_turns =
            self.segments.iter().flat_map(|s| &s.turns).flat_map(|t| t.notes.iter().map(move |n| (Some(t), n)));
        on_turns.chain(self.session_notes.iter().map(|n| (None, n))).collect()
    }
}

/// One turn: the CSV's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnRow {
    pub turn: u64,
    pub segment_id: String,
    /// 1-based order within the segment.
    pub position: usize,
    pub participant_id: String,
    pub participant_name: String,
    pub participant_kind: String,
    pub regional_group: Option<String>,
    pub constituency: Option<String>,
    pub statement_kind: String,
    pub modality: String,
    pub inscribed_at: Timestamp,
    /// Inscribed in advance by the session file (no meaningful waiting time).
    pub pre_inscribed: bool,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    /// The allotment when the floor was given, in milliseconds.
    pub original_allotted_ms: u64,
    /// Time the chair added (extensions) and took away (cuts) during the turn.
    pub extended_ms: u64,
    pub cut_ms: u64,
    /// The allotment at the end, after extensions and cuts.
    pub allotted_ms: u64,
    /// Time used: paused time and time stopped by a point of order are not used.
    pub used_ms: u64,
    /// Over the final allotment (the chair's extensions included).
    pub overrun_ms: u64,
    /// Over the original allotment.
    pub overrun_original_ms: u64,
    /// From inscription to floor; none for speakers inscribed in advance.
    pub wait_ms: Option<u64>,
    pub points_of_order: u32,
    pub notes: Vec<NoteRow>,
    /// A statement on behalf of a group: the group's name ("African Group", or the name given).
    pub on_behalf_of: Option<String>,
    /// The language the statement was inscribed in: its ISO 639-1 code ("fr").
    pub language: Option<String>,
    /// As people say it: "Chile, on behalf of the African Group".
    pub speaker: String,
    /// Part of a statement delivered in parts: 1, 2, …; 1 for a statement heard at once.
    pub part: u32,
    /// The turn of the statement's first part (its own turn for a statement heard at once).
    pub statement_turn: u64,
    /// This part ended because the speaker was lost (the statement continued later, or not).
    pub interrupted: bool,
    /// Over budget, the chair gave the time left, or the full time for this reason.
    pub over_budget: Option<String>,
    /// Who gave the floor: the chair's name as the record holds it (their own
    /// credential's, or the name a shared token declared).
    pub given_by: String,
}

impl TurnRow {
    /// "Senegal, on behalf of the African Group".
    pub fn speaker(&self) -> String {
        self.speaker.clone()
    }

    /// The statement's language by its English name ("French"); empty when not given.
    pub fn language_name(&self) -> String {
        self.language.as_deref().map(domain::language_name).unwrap_or_default()
    }
}

impl SegmentReport {
    /// Some statement of the segment gives its language: its table has a language column.
    pub fn has_languages(&self) -> bool {
        self.turns.iter().any(|t| t.language.is_some())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteRow {
    /// When the hub recorded it.
    pub at: Timestamp,
    /// When the rapporteur saved it (older clients do not say).
    pub saved_at: Option<Timestamp>,
    pub author: String,
    pub text: String,
    pub objectives: Vec<u8>,
    pub themes: Vec<String>,
    /// For a pledge: who pledged.
    pub pledger: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointOfOrderRow {
    pub by: String,
    pub raised_at: Timestamp,
    /// The turn it interrupted.
    pub turn: Option<u64>,
    /// Whose statement it interrupted.
    pub during: Option<String>,
    pub ruling: Option<String>,
    pub upheld: Option<bool>,
    /// Withdrawn by the delegation (or the chair) before a ruling.
    pub withdrawn: bool,
}

/// One person at the chair and what the record holds of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChairActions {
    pub name: String,
    /// Their id in the session file when they acted with their own credential; none for a shared token.
    pub person: Option<String>,
    /// Events recorded on their commands.
    pub actions: usize,
    /// Turns they gave the floor to.
    pub floors_given: usize,
    /// Their actions undone (by themselves).
    pub undone: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deferral {
    pub at: Timestamp,
    pub segment_id: String,
    pub participant: String,
    pub from_position: usize,
    pub to_position: usize,
    /// The participant was marked with a technical issue when deferred.
    pub technical_issue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectivePledges {
    pub objective: u8,
    pub title: String,
    pub pledges: Vec<NoteRow>,
}

fn label<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// What the report gathers from the events as they are applied, beside the state
/// `apply` builds: the one reading of the stream, `undoes` read, never guessed.
struct Reading {
    deferrals: Vec<Deferral>,
    /// Entries that were on a speakers list: id → (segment, participant, who speaks as whom).
    listed: BTreeMap<u64, (usize, String, String)>,
    heard: std::collections::HashSet<u64>,
    /// Withdrawn entries, and the role that withdrew them.
    withdrawn: std::collections::HashMap<u64, domain::Role>,
    /// Per turn: (allotment when the floor was given, time added, time taken away).
    allotments: std::collections::HashMap<u64, (u64, u64, u64)>,
    /// Who gave the floor to each turn.
    given_by: std::collections::HashMap<u64, String>,
    /// What each person at the chair did.
    chairs: Vec<ChairActions>,
}

impl Reading {
    /// Speakers inscribed in advance are on the lists before any event.
    fn new(session: &Session) -> Self {
        let mut listed = BTreeMap::new();
        for (index, state) in session.segments.iter().enumerate() {
            for e in &state.list {
                listed.insert(e.id, (index, e.participant.clone(), session.speaker(e)));
            }
        }
        Self {
            deferrals: Vec::new(),
            listed,
            heard: Default::default(),
            withdrawn: Default::default(),
            allotments: Default::default(),
            given_by: Default::default(),
            chairs: Vec::new(),
        }
    }

    /// Read `event` against `session`, the state just before it.
    fn read(&mut self, session: &Session, event: &domain::Event, events: &[domain::Event]) {
        count_chair_action(&mut self.chairs, event, events);
        let undoing = event.undoes.is_some();
        match &event.event {
            EventKind::Inscribed { segment, entry, .. } => {
                self.listed.insert(entry.id, (*segment, entry.participant.clone(), session.speaker(entry)));
            }
            EventKind::Withdrawn { entry, .. } if undoing => {
                // An inscription undone: it never was.
                self.listed.remove(entry);
            }
            EventKind::Withdrawn { entry, .. } => {
                self.withdrawn.insert(*entry, event.actor.role);
            }
            EventKind::Restored { entry, .. } => {
                self.withdrawn.remove(&entry.id);
            }
            EventKind::FloorGiven { turn } => {
                self.allotments.insert(turn.id, (turn.allotted_ms, 0, 0));
                self.given_by.insert(turn.id, event.actor.name.clone());
                self.heard.insert(turn.entry.id);
            }
            EventKind::FloorRevoked { entry, .. } => {
                self.heard.remove(&entry.id);
            }
            EventKind::TurnSuspended { entry, .. } => {
                // The statement goes on under a new entry: heard (in part) already.
                self.heard.insert(entry.id);
            }
            EventKind::TimeChanged { turn, allotted_ms } => {
                if let (Some(current), Some(a)) =
                    (session.floor.as_ref().filter(|t| t.id == *turn), self.allotments.get_mut(turn))
                {
                    if *allotted_ms >= current.allotted_ms {
                        a.1 += allotted_ms - current.allotted_ms;
                    } else {
                        a.2 += current.allotted_ms - allotted_ms;
                    }
                }
            }
            // The chair's undo of a reinstatement moves the entry back to Deferred: not a new deferral.
            EventKind::Moved { segment, entry, placement: Placement::Deferred { from }, order } if !undoing => {
                let participant =
                    session.find_entry(*segment, *entry).map(|(_, e, _)| e.participant.clone()).unwrap_or_default();
                self.deferrals.push(Deferral {
                    at: event.at,
                    segment_id: session.segment_def(*segment).map(|s| s.id.clone()).unwrap_or_default(),
                    technical_issue: session.connection(&participant) == ConnectionStatus::TechnicalIssue,
                    participant: session.name_of(&participant).to_string(),
                    from_position: *from,
                    to_position: order.iter().position(|id| id == entry).map_or(0, |i| i + 1),
                });
            }
            _ => {}
        }
    }
}

/// Statements delivered in parts, from the turns' rows: the first part's
/// allotment is the original one.
fn interrupted_statements(all_turns: &[TurnRow]) -> Vec<InterruptedStatement> {
    // Statements in parts: the first part's allotment is the original one.
    let mut interrupted: Vec<InterruptedStatement> = Vec::new();
    for t in all_turns {
        if t.part == 1 && !t.interrupted {
            continue;
        }
        match interrupted.iter_mut().find(|s| s.turn == t.statement_turn) {
            Some(statement) => {
                statement.parts.push((t.turn, t.started_at, t.used_ms));
                statement.used_ms += t.used_ms;
                statement.interruptions += usize::from(t.interrupted);
                statement.unfinished = t.interrupted;
            }
            None => interrupted.push(InterruptedStatement {
                segment_id: t.segment_id.clone(),
                turn: t.statement_turn,
                speaker: t.speaker(),
                parts: vec![(t.turn, t.started_at, t.used_ms)],
                interruptions: usize::from(t.interrupted),
                used_ms: t.used_ms,
                original_allotted_ms: t.original_allotted_ms,
                overrun_ms: 0,
                unfinished: t.interrupted,
            }),
        }
    }
    for statement in &mut interrupted {
        statement.overrun_ms = statement.used_ms.saturating_sub(statement.original_allotted_ms);
    }
    interrupted
}

/// Who was inscribed and not heard, and why, in segments that are over (all of
/// them once the session is closed).
fn not_heard(
    session: &Session,
    listed: &BTreeMap<u64, (usize, String, String)>,
    heard: &std::collections::HashSet<u64>,
    withdrawn: &std::collections::HashMap<u64, domain::Role>,
    segments: &mut [SegmentReport],
) {
    let closed = session.closed_at.is_some();
    for (entry, (segment, participant, speaker)) in listed {
        if heard.contains(entry) {
            continue;
        }
        let Some(state) = session.segments.get(*segment) else { continue };
        if state.ended_at.is_none() && !closed {
            continue;
        }
        let why = match withdrawn.get(entry) {
            Some(domain::Role::Delegate) => "withdrew".to_string(),
            Some(_) => "withdrawn by the chair".to_string(),
            None if state.list.iter().any(|e| e.id == *entry) => {
                if session.connection(participant) == ConnectionStatus::TechnicalIssue {
                    "technical issue: could not be heard".to_string()
                } else if state.opened_at.is_none() {
                    "the segment was never opened".to_string()
                } else {
                    "the segment ended before their turn".to_string()
                }
            }
            None => continue,
        };
        if let Some(report) = segments.get_mut(*segment) {
            report.not_heard.push(NotHeard { participant: speaker.clone(), why });
        }
    }
}

/// Build the report from a verified journal.
pub fn build(contents: &Contents) -> Result<Report, String> {
    let def = config::parse_session(&contents.header.config)
        .map_err(|e| format!("the session file in the journal's header does not read: {e}"))?;
    let pre_inscribed = def.pre_inscribed();
    let mut session = Session::new(def);
    let mut reading = Reading::new(&session);
    for event in &contents.events {
        reading.read(&session, event, &contents.events);
        // The report shows no list's reasons: they are not computed.
        domain::apply_quietly(&mut session, event);
    }
    let Reading { deferrals, listed, heard, withdrawn, allotments, given_by, chairs } = reading;
    let def = session.def.clone();
    let utc = |t: chrono::DateTime<FixedOffset>| t.with_timezone(&chrono::Utc);
    let note_row = |n: &std::sync::Arc<domain::Note>| NoteRow {
        at: n.at,
        saved_at: n.saved_at,
        author: n.author.clone(),
        text: n.text.clone(),
        objectives: n.objectives.clone(),
        themes: n.themes.clone(),
        pledger: None,
    };
    let pledge_row = |p: &std::sync::Arc<domain::Pledge>| NoteRow {
        at: p.at,
        saved_at: p.saved_at,
        author: p.author.clone(),
        text: p.text.clone(),
        objectives: p.objectives.clone(),
        themes: Vec::new(),
        pledger: Some(session.name_of(&p.pledger).to_string()),
    };

    let mut segments: Vec<SegmentReport> = def
        .segments
        .iter()
        .zip(&session.segments)
        .map(|(d, s)| SegmentReport {
            id: d.id.clone(),
            title: d.title.clone(),
            opened_at: s.opened_at,
            ended_at: s.ended_at,
            turns: Vec::new(),
            not_heard: Vec::new(),
            budgets: Vec::new(),
        })
        .collect();
    for (index, segment) in segments.iter_mut().enumerate() {
        segment.budgets = crate::fairness::budget_use(&session, index);
    }
    not_heard(&session, &listed, &heard, &withdrawn, &mut segments);
    // Notes and pledges by turn, looked up once per turn (in recording order).
    let mut notes_of: std::collections::HashMap<u64, Vec<NoteRow>> = std::collections::HashMap::new();
    for n in &session.notes {
        if let Some(turn) = n.turn {
            notes_of.entry(turn).or_default().push(note_row(n));
        }
    }
    let mut pledges_of: std::collections::HashMap<u64, Vec<NoteRow>> = std::collections::HashMap::new();
    for p in &session.pledges {
        if let Some(turn) = p.turn {
            pledges_of.entry(turn).or_default().push(pledge_row(p));
        }
    }
    let mut all_turns = Vec::new();
    // Parts of interrupted statements, by their first part's turn.
    let mut parts_of: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    for t in &session.turns {
        let statement_turn = t.part_of.unwrap_or(t.id);
        let part = {
            let seen = parts_of.entry(statement_turn).or_default();
            *seen += 1;
            *seen
        };
        let p = def.participant(&t.participant);
        let Some(segment) = segments.get_mut(t.segment) else { continue };
        let mut notes = notes_of.get(&t.id).cloned().unwrap_or_default();
        notes.extend(pledges_of.get(&t.id).into_iter().flatten().cloned());
        let (original, extended, cut) = allotments.get(&t.id).copied().unwrap_or((t.allotted_ms, 0, 0));
        let pre = t.entry != 0 && t.entry <= pre_inscribed;
        let row = TurnRow {
            turn: t.id,
            segment_id: segment.id.clone(),
            position: segment.turns.len() + 1,
            participant_id: t.participant.clone(),
            participant_name: session.name_of(&t.participant).to_string(),
            participant_kind: p.map(|p| label(&p.kind)).unwrap_or_default(),
            regional_group: p.and_then(|p| p.regional_group).map(|g| label(&g)),
            constituency: p.and_then(|p| p.constituency).map(|c| label(&c)),
            statement_kind: label(&t.kind),
            modality: p.map(|p| label(&p.modality)).unwrap_or_default(),
            inscribed_at: t.inscribed_at,
            pre_inscribed: pre,
            started_at: t.started_at,
            ended_at: t.ended_at,
            original_allotted_ms: original,
            extended_ms: extended,
            cut_ms: cut,
            allotted_ms: t.allotted_ms,
            used_ms: t.used_ms,
            overrun_ms: t.overrun_ms,
            overrun_original_ms: t.used_ms.saturating_sub(original),
            wait_ms: crate::fairness::turn_wait_ms(&session, t),
            points_of_order: t.points_of_order,
            notes,
            on_behalf_of: t.on_behalf_of.as_deref().map(|g| session.name_of(g).to_string()),
            language: t.language.clone(),
            speaker: match t.on_behalf_of.as_deref() {
                Some(g) => format!("{}, on behalf of {}", session.name_of(&t.participant), session.group_name(g)),
                None => session.name_of(&t.participant).to_string(),
            },
            part,
            statement_turn,
            interrupted: t.suspended,
            over_budget: t.budget.as_ref().map(|b| match b {
                domain::BudgetChoice::TimeLeft => "given the time left in its budget".to_string(),
                domain::BudgetChoice::FullTime { reason } => format!("given the full time over its budget: {reason}"),
            }),
            given_by: given_by.get(&t.id).cloned().unwrap_or_default(),
        };
        segment.turns.push(row.clone());
        all_turns.push(row);
    }

    // The balance figures: the same computation as the chair's fairness panel.
    let balance = crate::fairness::compute(
        &session,
        session.closed_at.or(contents.events.last().map(|e| e.at)).unwrap_or_else(|| utc(def.start)),
    );
    let (by_kind, by_regional_group, by_constituency, waiting) =
        (balance.by_kind, balance.by_regional_group, balance.by_constituency, balance.waiting);

    let mut pledges_by_objective = Vec::new();
    for objective in 1..=23u8 {
        let pledges: Vec<NoteRow> =
            session.pledges.iter().filter(|p| p.objectives.contains(&objective)).map(pledge_row).collect();
        if !pledges.is_empty() {
            pledges_by_objective.push(ObjectivePledges {
                objective,
                title: gcm_objective(objective).unwrap_or_default().to_string(),
                pledges,
            });
        }
    }
    let last_at = contents.events.last().map(|e| e.at);
    let in_progress = session.floor.as_ref().zip(last_at).map(|(t, at)| InProgress {
        segment_id: def.segments.get(t.segment).map(|d| d.id.clone()).unwrap_or_default(),
        speaker: session.speaker(&t.entry),
        started_at: t.started_at,
        used_ms: t.used_at(at),
    });
    let interrupted = interrupted_statements(&all_turns);
    let mut session_notes: Vec<NoteRow> = session.notes.iter().filter(|n| n.turn.is_none()).map(note_row).collect();
    session_notes.extend(session.pledges.iter().filter(|p| p.turn.is_none()).map(pledge_row));

    Ok(Report {
        session: SessionInfo {
            id: def.id.clone(),
            title: def.title.clone(),
            venue: def.venue.clone(),
            scheduled_start: utc(def.start),
            scheduled_end: utc(def.end),
            first_event: contents.events.first().map(|e| e.at),
            last_event: contents.events.last().map(|e| e.at),
            events: contents.events.len(),
            closed: session.closed_at.is_some(),
        },
        segments,
        by_kind,
        by_regional_group,
        by_constituency,
        waiting,
        points_of_order: session
            .points_of_order
            .iter()
            .map(|p| PointOfOrderRow {
                by: session.name_of(&p.by).to_string(),
                raised_at: p.raised_at,
                turn: p.turn,
                during: p.turn.and_then(|t| all_turns.iter().find(|row| row.turn == t)).map(TurnRow::speaker),
                ruling: p.ruling.clone(),
                upheld: p.upheld,
                withdrawn: p.withdrawn_at.is_some(),
            })
            .collect(),
        rights_of_reply: all_turns
            .iter()
            .filter(|t| t.statement_kind == label(&StatementKind::Reply))
            .map(|t| t.turn)
            .collect(),
        replies_pending: def
            .segments
            .iter()
            .zip(&session.segments)
            .flat_map(|(d, s)| s.replies.iter().map(move |e| (d.id.clone(), e.participant.clone())))
            .map(|(segment, p)| (segment, session.name_of(&p).to_string()))
            .collect(),
        deferrals,
        pledges_by_objective,
        session_notes,
        interrupted,
        in_progress,
        chairs,
    })
}

/// `rostrum report`: read and verify each journal (a torn last line is reported
/// to `warn` and left out), then one session's report, the forum's across
/// several, or a segment's running order, in `format`.
pub fn command(
    logs: &[std::path::PathBuf],
    format: &str,
    table: &str,
    running_order: bool,
    warn: &mut dyn FnMut(String),
) -> Result<String, String> {
    let mut journals = Vec::new();
    for log in logs {
        let contents = crate::journal::read_file(log).map_err(|e| format!("{}: {e}", log.display()))?;
        if let Some(torn) = &contents.torn {
            warn(format!("{}: warning: {torn}; the report covers the complete lines", log.display()));
        }
        journals.push(contents);
    }
    let zone_of = |contents: &Contents| {
        config::parse_session(&contents.header.config).map(|d| d.start.timezone()).map_err(|e| e.to_string())
    };
    if running_order {
        let [contents] = journals.as_slice() else {
            return Err("--running-order is one session's: give one journal".to_string());
        };
        let Some(order) = running::build(contents)? else {
            return Ok("No running order: the session is closed, or every segment has been held.\n".to_string());
        };
        return match format {
            "csv" => Ok(running::to_csv(&order)),
            "markdown" => Ok(running::to_markdown(&order, zone_of(contents)?)),
            other => Err(format!("--running-order is written as markdown or csv, not {other}")),
        };
    }
    if journals.len() == 1 && !matches!(table, "speakers" | "shares") {
        let contents = &journals[0];
        let built = build(contents)?;
        let zone = zone_of(contents)?;
        return Ok(match format {
            "csv" if table == "notes" => notes_csv(&built, false),
            "csv" if table == "pledges" => notes_csv(&built, true),
            "csv" => to_csv(&built),
            "json" => serde_json::to_string_pretty(&built).map_err(|e| e.to_string())? + "\n",
            "html" => html::to_html(&built, zone),
            _ => to_markdown(&built, zone),
        });
    }
    let forum_report = forum::build(&journals)?;
    let mut records = Vec::new();
    for contents in &journals {
        records.push((build(contents)?, zone_of(contents)?));
    }
    let reports: Vec<Report> = records.iter().map(|(r, _)| r.clone()).collect();
    Ok(match format {
        "csv" => match table {
            "speakers" => forum::speakers_csv(&forum_report),
            "shares" => forum::shares_csv(&forum_report),
            "notes" => forum::sessions_csv(&reports, &NOTES_COLUMNS, |r| note_rows(r, false)),
            "pledges" => forum::sessions_csv(&reports, &PLEDGES_COLUMNS, |r| note_rows(r, true)),
            _ => forum::sessions_csv(&reports, &CSV_COLUMNS, turn_rows),
        },
        "json" => serde_json::to_string_pretty(&forum_report).map_err(|e| e.to_string())? + "\n",
        "html" => return Err("--format html is one session's page: give one journal".to_string()),
        _ => forum::to_markdown(&forum_report, &records),
    })
}

/// The turns CSV's columns, in order: stable; documented in docs/report.md.
pub const CSV_COLUMNS: [&str; 29] = [
    "segment_id",
    "position",
    "turn",
    "statement_turn",
    "part",
    "interrupted",
    "participant_id",
    "participant_name",
    "on_behalf_of",
    "participant_kind",
    "regional_group",
    "constituency",
    "statement_kind",
    "modality",
    "inscribed_at",
    "started_at",
    "ended_at",
    "original_allotted_s",
    "extended_s",
    "cut_s",
    "allotted_s",
    "used_s",
    "overrun_original_s",
    "overrun_s",
    "wait_s",
    "points_of_order",
    "notes",
    "given_by",
    "language",
];

/// The notes CSV's columns (`--table notes`).
pub const NOTES_COLUMNS: [&str; 9] =
    ["turn", "segment_id", "speaker", "author", "saved_at", "recorded_at", "objectives", "themes", "text"];

/// The pledges CSV's columns (`--table pledges`).
pub const PLEDGES_COLUMNS: [&str; 8] =
    ["turn", "segment_id", "pledger", "author", "saved_at", "recorded_at", "objectives", "text"];

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

pub(crate) fn csv_line(out: &mut String, fields: &[String]) {
    out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
    out.push('\n');
}

/// Seconds with their milliseconds: `28.200`.
pub(crate) fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Count `event` to the person at the chair who gave it (and an undo to the one
/// whose action it took back).
fn count_chair_action(chairs: &mut Vec<ChairActions>, event: &domain::Event, events: &[domain::Event]) {
    if event.actor.role != domain::Role::Chair {
        return;
    }
    let find = |chairs: &mut Vec<ChairActions>, actor: &domain::Actor| -> usize {
        match chairs.iter().position(|c| c.name == actor.name && c.person == actor.person) {
            Some(i) => i,
            None => {
                chairs.push(ChairActions {
                    name: actor.name.clone(),
                    person: actor.person.clone(),
                    actions: 0,
                    floors_given: 0,
                    undone: 0,
                });
                chairs.len() - 1
            }
        }
    };
    let me = find(chairs, &event.actor);
    chairs[me].actions += 1;
    if matches!(event.event, EventKind::FloorGiven { .. }) {
        chairs[me].floors_given += 1;
    }
    // Events are numbered from 1 in order: the undone one is found by its seq.
    let undone = event.undoes.and_then(|seq| events.iter().rev().find(|e| e.seq == seq));
    if let Some(undone) = undone {
        let whose = find(chairs, &undone.actor);
        chairs[whose].undone += 1;
    }
}

/// RFC 3339 in UTC with `Z`, to the second.
pub(crate) fn utc_time(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One row per turn, RFC 4180 quoting.
pub fn to_csv(report: &Report) -> String {
    table_csv(&CSV_COLUMNS, turn_rows(report))
}

/// A CSV table: its header, then its rows.
pub(crate) fn table_csv(columns: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = columns.join(",");
    out.push('\n');
    for row in rows {
        csv_line(&mut out, &row);
    }
    out
}

/// The turns table's rows, in the order of [`CSV_COLUMNS`].
pub(crate) fn turn_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for segment in &report.segments {
        for t in &segment.turns {
            rows.push(vec![
                t.segment_id.clone(),
                t.position.to_string(),
                t.turn.to_string(),
                t.statement_turn.to_string(),
                t.part.to_string(),
                t.interrupted.to_string(),
                t.participant_id.clone(),
                t.participant_name.clone(),
                t.on_behalf_of.clone().unwrap_or_default(),
                t.participant_kind.clone(),
                t.regional_group.clone().unwrap_or_default(),
                t.constituency.clone().unwrap_or_default(),
                t.statement_kind.clone(),
                t.modality.clone(),
                utc_time(t.inscribed_at),
                utc_time(t.started_at),
                utc_time(t.ended_at),
                seconds(t.original_allotted_ms),
                seconds(t.extended_ms),
                seconds(t.cut_ms),
                seconds(t.allotted_ms),
                seconds(t.used_ms),
                seconds(t.overrun_original_ms),
                seconds(t.overrun_ms),
                t.wait_ms.map(seconds).unwrap_or_default(),
                t.points_of_order.to_string(),
                t.notes.len().to_string(),
                t.given_by.clone(),
                t.language.clone().unwrap_or_default(),
            ]);
        }
    }
    rows
}

/// Every note (`pledges: false`) or pledge, one row each, with its text.
pub fn notes_csv(report: &Report, pledges: bool) -> String {
    let columns: &[&str] = if pledges { &PLEDGES_COLUMNS } else { &NOTES_COLUMNS };
    table_csv(columns, note_rows(report, pledges))
}

/// The notes (or pledges) table's rows, in the order of its columns.
pub(crate) fn note_rows(report: &Report, pledges: bool) -> Vec<Vec<String>> {
    let rows = report.all_notes().into_iter().filter(|(_, n)| n.pledger.is_some() == pledges);
    rows.map(|(turn, n)| {
        let (turn_id, segment, speaker) = match turn {
            Some(t) => (t.turn.to_string(), t.segment_id.clone(), t.speaker()),
            None => (String::new(), String::new(), String::new()),
        };
        let objectives = n.objectives.iter().map(u8::to_string).collect::<Vec<_>>().join(" ");
        let mut fields = vec![turn_id, segment];
        if pledges {
            fields.push(n.pledger.clone().unwrap_or_default());
        } else {
            fields.push(speaker);
        }
        fields.push(n.author.clone());
        fields.push(utc_time(n.saved_at.unwrap_or(n.at)));
        fields.push(utc_time(n.at));
        fields.push(objectives);
        if !pledges {
            fields.push(n.themes.join("; "));
        }
        fields.push(n.text.clone());
        fields
    })
    .collect()
}

/// `m:ss` (or `h:mm:ss`) of milliseconds, rounded down to the second: only when printing.
pub(crate) fn mmss(ms: u64) -> String {
    let secs = ms / 1000;
    if secs >= 3600 {
        format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    } else {
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}

/// "1 note", "2 notes".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// A duration for a table cell: `m:ss`, or `—` where there is no figure.
fn cell(ms: Option<u64>) -> String {
    ms.map_or_else(|| "—".to_string(), mmss)
}

pub(crate) fn shares_md(out: &mut String, title: &str, shares: &[Share]) {
    let _ = writeln!(out, "### {title}\n");
    if shares.is_empty() {
        let _ = writeln!(out, "No statements of this kind.\n");
        return;
    }
    let _ = writeln!(out, "| | statements | share | speaking time | share |\n| --- | ---: | ---: | ---: | ---: |");
    for s in shares {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1}% | {} | {:.1}% |",
            s.group,
            s.statements,
            s.statement_percent,
            mmss(s.ms),
            s.time_percent
        );
    }
    out.push('\n');
}

/// A note or pledge as a list item; its own line breaks stay, indented under the item.
fn note_md(out: &mut String, n: &NoteRow, zone: FixedOffset) {
    let mut tags: Vec<String> = n.objectives.iter().map(|o| format!("GCM {o}")).collect();
    tags.extend(n.themes.iter().cloned());
    let tags = if tags.is_empty() { String::new() } else { format!(" [{}]", tags.join(", ")) };
    let who = match &n.pledger {
        Some(p) => format!("**Pledge by {p}**"),
        None => "Note".to_string(),
    };
    let saved = n.saved_at.unwrap_or(n.at).with_timezone(&zone).format("%H:%M");
    let mut lines = n.text.lines();
    let first = lines.next().unwrap_or_default();
    let _ = writeln!(out, "  - {who} ({}, {saved}){tags}: {first}", n.author);
    for line in lines {
        let _ = writeln!(out, "    {line}");
    }
}

/// A ruling as recorded, without repeating the verdict when the text is only the verdict.
fn ruling_md(p: &PointOfOrderRow) -> String {
    let verdict = match p.upheld {
        Some(true) => "upheld",
        Some(false) => "not upheld",
        None => return "not ruled on".to_string(),
    };
    match p.ruling.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() && text.trim_end_matches('.').to_lowercase() != verdict => {
            format!("{verdict}: {}", text.replace('\n', " "))
        }
        _ => verdict.to_string(),
    }
}

/// Markdown ready to become a chair's summary. Times in the session's time zone;
/// durations kept in milliseconds until printed here, rounded down to the second.
pub fn to_markdown(report: &Report, zone: FixedOffset) -> String {
    let hm = |t: Timestamp| t.with_timezone(&zone).format("%H:%M:%S").to_string();
    let dated = |t: Timestamp| t.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S").to_string();
    let mut out = String::new();
    let s = &report.session;
    let _ = writeln!(out, "# {}\n", s.title);
    if let Some(venue) = &s.venue {
        let _ = writeln!(out, "{venue}  ");
    }
    let _ = writeln!(
        out,
        "Scheduled {} to {}; recorded {} to {} ({}{}).\n",
        s.scheduled_start.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
        s.scheduled_end.with_timezone(&zone).format("%H:%M"),
        s.first_event.map(dated).unwrap_or_else(|| "—".into()),
        s.last_event.map(dated).unwrap_or_else(|| "—".into()),
        count(s.events, "event", "events"),
        if s.closed { ", closed" } else { ", not closed" }
    );
    let _ = writeln!(out, "## At the chair\n");
    if report.chairs.is_empty() {
        let _ = writeln!(out, "No chair's action recorded.\n");
    } else {
        for c in &report.chairs {
            let credential = match c.person.as_deref() {
                Some(domain::SECRETARIAT) => "the forum's secretariat credential",
                Some(_) => "own credential",
                None => "shared chair token",
            };
            let undone = if c.undone > 0 { format!(", {} undone", c.undone) } else { String::new() };
            let _ = writeln!(
                out,
                "- {} ({credential}): {}, gave the floor {}{undone}",
                c.name,
                count(c.actions, "action", "actions"),
                count(c.floors_given, "time", "times")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Speakers\n");
    for segment in &report.segments {
        let _ = writeln!(out, "### {}\n", segment.title);
        if let Some(opened) = segment.opened_at {
            let ended = segment.ended_at.map_or_else(|| "not ended".to_string(), |t| format!("ended {}", dated(t)));
            let _ = writeln!(out, "Opened {}, {ended}.\n", dated(opened));
        }
        if segment.turns.is_empty() {
            let _ = writeln!(out, "No statements.\n");
        } else {
            // The language column only where a statement gives one.
            let languages = segment.has_languages();
            let (title, rule) = if languages { (" language |", " --- |") } else { ("", "") };
            let _ = writeln!(
                out,
                "| # | speaker | kind |{title} modality | start | allotted | used | over the allotment | over the original |\n| ---: | --- | --- |{rule} --- | --- | ---: | ---: | ---: | ---: |"
            );
            for t in &segment.turns {
                let over = |ms: u64| if ms >= 1000 { format!("+{}", mmss(ms)) } else { String::new() };
                let part = match (t.part, t.interrupted) {
                    (1, false) => String::new(),
                    (n, true) => format!(" (part {n}, interrupted)"),
                    (n, false) => format!(" (part {n})"),
                };
                let mut allotted = mmss(t.original_allotted_ms);
                if t.allotted_ms != t.original_allotted_ms {
                    allotted = format!("{allotted} → {}", mmss(t.allotted_ms));
                }
                let language = if languages { format!(" {} |", t.language_name()) } else { String::new() };
                let _ = writeln!(
                    out,
                    "| {} | {}{part} | {} |{language} {} | {} | {allotted} | {} | {} | {} |",
                    t.position,
                    t.speaker(),
                    t.statement_kind,
                    t.modality,
                    hm(t.started_at),
                    mmss(t.used_ms),
                    over(t.overrun_ms),
                    over(t.overrun_original_ms)
                );
            }
            out.push('\n');
        }
        // Only the budgets drawn on: a list of zeros says nothing (the JSON has them all).
        let (used, unused): (Vec<_>, Vec<_>) = segment.budgets.iter().partition(|b| b.used_ms > 0);
        if !used.is_empty() {
            let used: Vec<String> =
                used.iter().map(|b| format!("{} {} of {}", b.name, mmss(b.used_ms), mmss(b.limit_ms))).collect();
            let rest = match unused.len() {
                0 => String::new(),
                n => format!(" ({} on the list used none yet)", count(n, "other", "others")),
            };
            let _ = writeln!(out, "Budgets used: {}{rest}.\n", used.join("; "));
        }
        for t in segment.turns.iter().filter(|t| t.over_budget.is_some()) {
            let _ = writeln!(out, "- {} was {}.", t.speaker(), t.over_budget.as_deref().unwrap_or_default());
        }
        if segment.turns.iter().any(|t| t.over_budget.is_some()) {
            out.push('\n');
        }
        if let Some(p) = report.in_progress.as_ref().filter(|p| p.segment_id == segment.id) {
            let _ = writeln!(
                out,
                "In progress when this report was made: {}, since {} ({} used as of the last event).\n",
                p.speaker,
                hm(p.started_at),
                mmss(p.used_ms)
            );
        }
        if !segment.not_heard.is_empty() {
            let _ = writeln!(out, "The following were inscribed and unable to deliver their statements:\n");
            for n in &segment.not_heard {
                let _ = writeln!(out, "- {} ({})", n.participant, n.why);
            }
            out.push('\n');
        }
        for t in segment.turns.iter().filter(|t| !t.notes.is_empty()) {
            let _ =
                writeln!(out, "- {} ({}, {}):", t.speaker(), hm(t.started_at), count(t.notes.len(), "note", "notes"));
            for n in &t.notes {
                note_md(&mut out, n, zone);
            }
        }
        if segment.turns.iter().any(|t| !t.notes.is_empty()) {
            out.push('\n');
        }
    }
    let _ = writeln!(out, "## Speaking time\n");
    shares_md(&mut out, "By kind of participant", &report.by_kind);
    shares_md(&mut out, "By UN regional group (States)", &report.by_regional_group);
    shares_md(&mut out, "By constituency (stakeholders)", &report.by_constituency);
    let w = &report.waiting;
    let _ = writeln!(out, "## Waiting time, inscription to floor\n");
    let _ = writeln!(out, "| modality | statements | mean | median | longest |\n| --- | ---: | ---: | ---: | ---: |");
    for (name, stat) in [("in room", &w.in_room), ("remote", &w.remote), ("pre-recorded", &w.pre_recorded)] {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |",
            stat.turns,
            cell(stat.mean_ms),
            cell(stat.median_ms),
            cell(stat.max_ms)
        );
    }
    let _ = writeln!(
        out,
        "\nA speaker inscribed before their segment opened waits from the opening ({} such statements). Rights of reply and the later parts of interrupted statements are left out.\n",
        w.from_opening
    );
    let _ = writeln!(out, "## Interrupted statements\n");
    if report.interrupted.is_empty() {
        let _ = writeln!(out, "None: no speaker was lost during a statement.\n");
    } else {
        let n: usize = report.interrupted.iter().map(|s| s.interruptions).sum();
        let _ = writeln!(
            out,
            "{} {} interrupted when the speaker was lost ({}).\n",
            report.interrupted.len(),
            if report.interrupted.len() == 1 { "statement was" } else { "statements were" },
            count(n, "interruption", "interruptions")
        );
        let _ = writeln!(out, "| speaker | parts | used | allotted | overrun |\n| --- | --- | ---: | ---: | ---: |");
        for st in &report.interrupted {
            let parts: Vec<String> =
                st.parts.iter().map(|(_, at, used)| format!("{} from {}", mmss(*used), hm(*at))).collect();
            let overrun = if st.overrun_ms >= 1000 { format!("+{}", mmss(st.overrun_ms)) } else { String::new() };
            let unfinished = if st.unfinished { " (not finished)" } else { "" };
            let _ = writeln!(
                out,
                "| {}{unfinished} | {} | {} | {} | {overrun} |",
                st.speaker,
                parts.join("; "),
                mmss(st.used_ms),
                mmss(st.original_allotted_ms)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Points of order\n");
    if report.points_of_order.is_empty() {
        let _ = writeln!(out, "None.\n");
    } else {
        for p in &report.points_of_order {
            let during = p.during.as_ref().map(|d| format!(" during the statement of {d}")).unwrap_or_default();
            let outcome = if p.withdrawn { "withdrawn before a ruling".to_string() } else { ruling_md(p) };
            let _ = writeln!(out, "- {} at {}{during}: {outcome}", p.by, hm(p.raised_at));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Rights of reply\n");
    let replies: Vec<&TurnRow> =
        report.segments.iter().flat_map(|s| &s.turns).filter(|t| report.rights_of_reply.contains(&t.turn)).collect();
    if replies.is_empty() && report.replies_pending.is_empty() {
        let _ = writeln!(out, "None requested.\n");
    } else {
        let _ = writeln!(
            out,
            "{} requested: {} taken, {} not taken.\n",
            count(replies.len() + report.replies_pending.len(), "right of reply", "rights of reply"),
            replies.len(),
            report.replies_pending.len()
        );
        for t in replies {
            let _ = writeln!(out, "- {} at {} ({} used)", t.participant_name, hm(t.started_at), mmss(t.used_ms));
        }
        for (segment, who) in &report.replies_pending {
            let title = report.segments.iter().find(|s| &s.id == segment).map_or(segment.as_str(), |s| &s.title);
            let _ = writeln!(out, "- {who}: requested in \"{title}\", not taken");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Deferrals\n");
    if report.deferrals.is_empty() {
        let _ = writeln!(out, "None.\n");
    } else {
        for d in &report.deferrals {
            let why = if d.technical_issue { " (technical issue)" } else { "" };
            let _ = writeln!(
                out,
                "- {} at {}: from position {} to {}{why}",
                d.participant,
                hm(d.at),
                d.from_position,
                d.to_position
            );
        }
        out.push('\n');
    }
    notes_by_md(&mut out, report, zone);
    let _ = writeln!(out, "## Pledges by GCM objective\n");
    if report.pledges_by_objective.is_empty() {
        let _ = writeln!(out, "None.\n");
    }
    for o in &report.pledges_by_objective {
        let _ = writeln!(out, "### Objective {}: {}\n", o.objective, o.title);
        for p in &o.pledges {
            note_md(&mut out, p, zone);
        }
        out.push('\n');
    }
    if !report.session_notes.is_empty() {
        let _ = writeln!(out, "## Notes on the session\n");
        for n in &report.session_notes {
            note_md(&mut out, n, zone);
        }
        out.push('\n');
    }
    out
}

/// The rapporteurs' notes grouped by GCM objective, then by theme (a note tagged with
/// two appears under both).
fn notes_by_md(out: &mut String, report: &Report, zone: FixedOffset) {
    let notes: Vec<(Option<&TurnRow>, &NoteRow)> =
        report.all_notes().into_iter().filter(|(_, n)| n.pledger.is_none()).collect();
    let _ = writeln!(out, "## Notes by GCM objective\n");
    let mut any = false;
    for objective in 1..=23u8 {
        let tagged: Vec<_> = notes.iter().filter(|(_, n)| n.objectives.contains(&objective)).collect();
        if tagged.is_empty() {
            continue;
        }
        any = true;
        let _ = writeln!(out, "### Objective {objective}: {}\n", gcm_objective(objective).unwrap_or_default());
        for (turn, n) in tagged {
            let _ = writeln!(out, "- on {}:", turn.map_or_else(|| "the session".to_string(), |t| t.speaker()));
            note_md(out, n, zone);
        }
        out.push('\n');
    }
    if !any {
        let _ = writeln!(out, "No note is tagged with an objective.\n");
    }
    let _ = writeln!(out, "## Notes by theme\n");
    let mut themes: BTreeMap<String, Vec<&(Option<&TurnRow>, &NoteRow)>> = BTreeMap::new();
    for note in &notes {
        for theme in &note.1.themes {
            themes.entry(theme.to_lowercase()).or_default().push(note);
        }
    }
    if themes.is_empty() {
        let _ = writeln!(out, "No note is tagged with a theme.\n");
    }
    for (theme, tagged) in themes {
        let _ = writeln!(out, "### {theme}\n");
        for (turn, n) in tagged {
            let _ = writeln!(out, "- on {}:", turn.map_or_else(|| "the session".to_string(), |t| t.speaker()));
            note_md(out, n, zone);
        }
        out.push('\n');
    }
}
