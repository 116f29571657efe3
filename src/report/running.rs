//! The chair's running order: the speakers list of the open segment (or of the
//! next one to open) as the chair reads it out, with each speaker's place and
//! why, computed from the journal alone, as every other part of the record.

use std::fmt::Write as _;

use chrono::{FixedOffset, Utc};
use serde::Serialize;

use super::{mmss, table_csv};
use crate::config;
use crate::domain::{self, ConnectionStatus, Modality, Session, Timestamp};
use crate::journal::Contents;

/// The list of one segment as the chair's script.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunningOrder {
    pub session: String,
    pub segment_id: String,
    pub segment_title: String,
    /// Whether the segment is open now (else it is the next to open).
    pub open: bool,
    pub scheduled_start: Timestamp,
    pub scheduled_end: Timestamp,
    /// Who holds the floor as the journal ends.
    pub on_the_floor: Option<String>,
    pub rows: Vec<RunningRow>,
    /// At the limits, when the list will end, and how late against the schedule
    /// (`domain::forecast`, from the journal's last event for an open segment,
    /// from its scheduled start for one still to open).
    pub ends_at: Option<Timestamp>,
    pub late_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunningRow {
    pub position: usize,
    pub speaker: String,
    pub on_behalf_of: Option<String>,
    /// A State's level of representation.
    pub level: Option<String>,
    /// The statement's time, in milliseconds.
    pub time_ms: u64,
    /// "in room", "remote", "remote: technical issue", "pre-recorded".
    pub modality: String,
    /// The language the statement was inscribed in (ISO 639-1: "fr"), for the interpreters.
    pub language: Option<String>,
    /// Why the entry stands there (the list's own reason).
    pub why: String,
}

/// The running order of the open segment, else of the next one to open; `None`
/// when the session is closed or every segment has been held.
pub fn build(contents: &Contents) -> Result<Option<RunningOrder>, String> {
    let def = config::parse_session(&contents.header.config)
        .map_err(|e| format!("the session file in the journal's header does not read: {e}"))?;
    // With the lists' reasons: `replay` applies each event as the hub did.
    let session = Session::replay(def, &contents.events);
    if session.closed_at.is_some() {
        return Ok(None);
    }
    let open = session.current_segment.filter(|s| session.segments.get(*s).is_some_and(|st| st.ended_at.is_none()));
    let next = || {
        let from = session.current_segment.map_or(0, |c| c + 1);
        (from..session.segments.len()).find(|s| session.segments[*s].opened_at.is_none())
    };
    let Some(index) = open.or_else(next) else { return Ok(None) };
    let (Some(seg), Some(state)) = (session.segment_def(index), session.segments.get(index)) else { return Ok(None) };
    let rows = state
        .list
        .iter()
        .chain(state.replies.iter())
        .enumerate()
        .map(|(i, e)| {
            let p = session.def.participant(&e.participant);
            let modality = match p.map(|p| p.modality) {
                Some(Modality::Remote) if session.connection(&e.participant) == ConnectionStatus::TechnicalIssue => {
                    "remote: technical issue".to_string()
                }
                Some(m) => m.label().to_string(),
                None => Modality::InRoom.label().to_string(),
            };
            RunningRow {
                position: i + 1,
                speaker: session.name_of(&e.participant).to_string(),
                on_behalf_of: e.on_behalf_of.as_deref().map(|g| session.group_name(g)),
                level: e.level.map(|l| l.label().to_string()),
                time_ms: u64::from(e.allotted) * 1000,
                modality,
                language: e.language.clone(),
                why: if e.reason.is_empty() {
                    format!("right of reply no. {}, in order of request", e.reply_number.unwrap_or(1))
                } else {
                    e.reason.clone()
                },
            }
        })
        .collect();
    let now = match open {
        Some(_) => contents.events.last().map_or_else(|| seg.start.with_timezone(&Utc), |e| e.at),
        None => seg.start.with_timezone(&Utc),
    };
    let forecast = domain::forecast(&session, index, now);
    Ok(Some(RunningOrder {
        session: session.def.title.clone(),
        segment_id: seg.id.clone(),
        segment_title: seg.title.clone(),
        open: open.is_some(),
        scheduled_start: seg.start.with_timezone(&Utc),
        scheduled_end: seg.end.with_timezone(&Utc),
        on_the_floor: session.floor.as_ref().filter(|t| t.segment == index).map(|t| session.speaker(&t.entry)),
        rows,
        ends_at: forecast.map(|f| f.ends_at),
        late_ms: forecast.map(|f| f.late_ms),
    }))
}

/// The columns of `--running-order --format csv`.
pub const COLUMNS: [&str; 8] =
    ["position", "speaker", "on_behalf_of", "level", "time_s", "modality", "language", "why"];

pub fn to_csv(order: &RunningOrder) -> String {
    let rows = order
        .rows
        .iter()
        .map(|r| {
            vec![
                r.position.to_string(),
                r.speaker.clone(),
                r.on_behalf_of.clone().unwrap_or_default(),
                r.level.clone().unwrap_or_default(),
                (r.time_ms / 1000).to_string(),
                r.modality.clone(),
                r.language.clone().unwrap_or_default(),
                r.why.clone(),
            ]
        })
        .collect();
    table_csv(&COLUMNS, rows)
}

pub fn to_markdown(order: &RunningOrder, zone: FixedOffset) -> String {
    let hm = |t: Timestamp| t.with_timezone(&zone).format("%H:%M").to_string();
    let mut out = String::new();
    let _ = writeln!(out, "# Running order: {}\n", order.segment_title);
    let state = if order.open { "open" } else { "next to open" };
    let _ = writeln!(
        out,
        "{}; {state}, scheduled {} to {}.",
        order.session,
        hm(order.scheduled_start),
        hm(order.scheduled_end)
    );
    if let Some(speaker) = &order.on_the_floor {
        let _ = writeln!(out, "On the floor: {speaker}.");
    }
    let total: u64 = order.rows.iter().map(|r| r.time_ms).sum();
    match (order.ends_at, order.late_ms) {
        (Some(ends), Some(late)) if !order.rows.is_empty() => {
            let against = if late > 0 {
                format!("{} after the scheduled end", mmss(late.unsigned_abs()))
            } else {
                format!("{} before the scheduled end", mmss(late.unsigned_abs()))
            };
            let _ = writeln!(
                out,
                "{}, {} at the limits: the list ends at {}, {against}.",
                super::count(order.rows.len(), "speaker", "speakers"),
                mmss(total),
                hm(ends)
            );
        }
        _ => {
            let _ = writeln!(out, "The list is empty.");
        }
    }
    out.push('\n');
    if order.rows.is_empty() {
        return out;
    }
    // The language column only where a speaker gives one.
    let languages = order.rows.iter().any(|r| r.language.is_some());
    let (title, rule) = if languages { (" language |", " --- |") } else { ("", "") };
    let _ = writeln!(
        out,
        "| # | speaker | on behalf of | level | time | modality |{title} why there |\n| ---: | --- | --- | --- | ---: | --- |{rule} --- |"
    );
    for r in &order.rows {
        let language = if languages {
            format!(" {} |", r.language.as_deref().map(domain::language_name).unwrap_or_default())
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |{language} {} |",
            r.position,
            r.speaker,
            r.on_behalf_of.as_deref().unwrap_or(""),
            r.level.as_deref().unwrap_or(""),
            mmss(r.time_ms),
            r.modality,
            r.why
        );
    }
    out
}
