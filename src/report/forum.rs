//! The forum's record: one report across several sessions' journals (a hearing,
//! the roundtables, the plenary). Each session's figures are its own report's
//! ([`super::build`], whose shares are [`crate::fairness`]'s); the forum's are
//! those tables added up by [`crate::fairness::combine`], so every figure is
//! computed once and the forum's always equal the sum of its sessions'.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::FixedOffset;
use serde::Serialize;

use super::{NoteRow, Report, Share, TurnRow, count, csv_line, mmss, seconds, shares_md};
use crate::config;
use crate::domain::{Timestamp, gcm_objective};
use crate::fairness::{self, Rosters};
use crate::journal::Contents;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForumReport {
    /// Each session, in the order the journals were given.
    pub sessions: Vec<SessionFigures>,
    /// The forum as a whole: every session's tables added up.
    pub forum: Figures,
    /// Who spoke where: each participant heard in any session, most time first.
    pub speakers: Vec<Speaker>,
    /// Pledges by GCM objective across the sessions, objectives in number order.
    pub pledges_by_objective: Vec<ForumObjective>,
}

/// One session of the forum: who it is and its figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionFigures {
    pub id: String,
    pub title: String,
    pub scheduled_start: Timestamp,
    pub scheduled_end: Timestamp,
    pub first_event: Option<Timestamp>,
    pub last_event: Option<Timestamp>,
    pub closed: bool,
    pub figures: Figures,
}

/// The figures of a session, or of the forum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Statements heard (an interrupted statement counts once) and their speaking time.
    pub statements: usize,
    pub speaking_ms: u64,
    /// Participants heard.
    pub speakers: usize,
    pub by_kind: Vec<Share>,
    pub by_regional_group: Vec<Share>,
    pub by_constituency: Vec<Share>,
    /// The stakeholders' row of `by_kind` (zeros when none spoke).
    pub stakeholders: Share,
    pub notes: usize,
    pub pledges: usize,
}

/// A participant heard in the forum, and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Speaker {
    pub participant_id: String,
    pub participant_name: String,
    pub participant_kind: String,
    pub regional_group: Option<String>,
    pub constituency: Option<String>,
    pub statements: usize,
    pub ms: u64,
    /// The sessions it spoke in, in the order of `sessions`.
    pub sessions: Vec<SpokeIn>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpokeIn {
    pub session: String,
    pub statements: usize,
    pub ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForumObjective {
    pub objective: u8,
    pub title: String,
    pub pledges: Vec<ForumPledge>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForumPledge {
    /// The session it was recorded in.
    pub session: String,
    #[serde(flatten)]
    pub pledge: NoteRow,
}

/// The stakeholders' line of a by-kind table.
const STAKEHOLDER: &str = "stakeholder";

fn figures(
    by_kind: Vec<Share>,
    by_regional_group: Vec<Share>,
    by_constituency: Vec<Share>,
    notes: usize,
    pledges: usize,
    speakers: usize,
) -> Figures {
    let stakeholders = by_kind.iter().find(|s| s.group == STAKEHOLDER).cloned().unwrap_or(Share {
        group: STAKEHOLDER.to_string(),
        statements: 0,
        ms: 0,
        time_percent: 0.0,
        statement_percent: 0.0,
        roster_percent: 0.0,
    });
    Figures {
        statements: by_kind.iter().map(|s| s.statements).sum(),
        speaking_ms: by_kind.iter().map(|s| s.ms).sum(),
        speakers,
        by_kind,
        by_regional_group,
        by_constituency,
        stakeholders,
        notes,
        pledges,
    }
}

/// The notes and the pledges of a report.
fn notes_and_pledges(report: &Report) -> (usize, usize) {
    let all = report.all_notes();
    let pledges = all.iter().filter(|(_, n)| n.pledger.is_some()).count();
    (all.len() - pledges, pledges)
}

/// A statement's first part (an interrupted statement counts once, as in the shares).
fn first_part(t: &TurnRow) -> bool {
    t.part == 1
}

/// Build the forum's report from its sessions' journals (verified by the caller).
pub fn build(journals: &[Contents]) -> Result<ForumReport, String> {
    let mut reports = Vec::new();
    let mut roster: BTreeMap<String, crate::domain::Participant> = BTreeMap::new();
    for contents in journals {
        let report = super::build(contents)?;
        if reports.iter().any(|r: &Report| r.session.id == report.session.id) {
            return Err(format!("the session \"{}\" is given twice", report.session.id));
        }
        // The forum's roster: every session's, each participant once (by id).
        let def = config::parse_session(&contents.header.config).map_err(|e| e.to_string())?;
        for p in def.participants {
            roster.entry(p.id.clone()).or_insert(p);
        }
        // Participants registered during the session are in its turns' rows.
        reports.push(report);
    }
    let mut sessions = Vec::new();
    let mut speakers: Vec<Speaker> = Vec::new();
    for report in &reports {
        let (notes, pledges) = notes_and_pledges(report);
        let turns: Vec<&TurnRow> = report.segments.iter().flat_map(|s| &s.turns).collect();
        let mut heard: Vec<&str> = turns.iter().map(|t| t.participant_id.as_str()).collect();
        heard.sort_unstable();
        heard.dedup();
        for t in &turns {
            let at = match speakers.iter().position(|s| s.participant_id == t.participant_id) {
                Some(i) => i,
                None => {
                    speakers.push(Speaker {
                        participant_id: t.participant_id.clone(),
                        participant_name: t.participant_name.clone(),
                        participant_kind: t.participant_kind.clone(),
                        regional_group: t.regional_group.clone(),
                        constituency: t.constituency.clone(),
                        statements: 0,
                        ms: 0,
                        sessions: Vec::new(),
                    });
                    speakers.len() - 1
                }
            };
            let speaker = &mut speakers[at];
            speaker.statements += usize::from(first_part(t));
            speaker.ms += t.used_ms;
            match speaker.sessions.iter_mut().find(|s| s.session == report.session.id) {
                Some(spoke) => {
                    spoke.statements += usize::from(first_part(t));
                    spoke.ms += t.used_ms;
                }
                None => speaker.sessions.push(SpokeIn {
                    session: report.session.id.clone(),
                    statements: usize::from(first_part(t)),
                    ms: t.used_ms,
                }),
            }
        }
        sessions.push(SessionFigures {
            id: report.session.id.clone(),
            title: report.session.title.clone(),
            scheduled_start: report.session.scheduled_start,
            scheduled_end: report.session.scheduled_end,
            first_event: report.session.first_event,
            last_event: report.session.last_event,
            closed: report.session.closed,
            figures: figures(
                report.by_kind.clone(),
                report.by_regional_group.clone(),
                report.by_constituency.clone(),
                notes,
                pledges,
                heard.len(),
            ),
        });
    }
    speakers.sort_by(|a, b| b.ms.cmp(&a.ms).then(a.participant_name.cmp(&b.participant_name)));
    let Rosters { kinds, groups, constituencies } = fairness::rosters(roster.values());
    let forum = figures(
        fairness::combine(reports.iter().map(|r| r.by_kind.as_slice()), &kinds),
        fairness::combine(reports.iter().map(|r| r.by_regional_group.as_slice()), &groups),
        fairness::combine(reports.iter().map(|r| r.by_constituency.as_slice()), &constituencies),
        sessions.iter().map(|s| s.figures.notes).sum(),
        sessions.iter().map(|s| s.figures.pledges).sum(),
        speakers.len(),
    );
    let mut pledges_by_objective: Vec<ForumObjective> = Vec::new();
    for objective in 1..=23u8 {
        let pledges: Vec<ForumPledge> = reports
            .iter()
            .flat_map(|r| {
                let of = r.pledges_by_objective.iter().filter(|o| o.objective == objective);
                of.flat_map(|o| o.pledges.iter())
                    .map(|p| ForumPledge { session: r.session.id.clone(), pledge: p.clone() })
            })
            .collect();
        if !pledges.is_empty() {
            let title = gcm_objective(objective).unwrap_or_default().to_string();
            pledges_by_objective.push(ForumObjective { objective, title, pledges });
        }
    }
    Ok(ForumReport { sessions, forum, speakers, pledges_by_objective })
}

/// A duration and statements in a cell: `2 · 5:30`, or `—`.
fn spoke_cell(statements: usize, ms: u64) -> String {
    if statements == 0 && ms == 0 { "—".to_string() } else { format!("{statements} · {}", mmss(ms)) }
}

fn figures_md(out: &mut String, f: &Figures) {
    let _ = writeln!(
        out,
        "{} by {} in {}; stakeholders {} of the statements ({:.1}%) and {} of the time ({:.1}%); {}, {}.\n",
        count(f.statements, "statement", "statements"),
        count(f.speakers, "speaker", "speakers"),
        mmss(f.speaking_ms),
        f.stakeholders.statements,
        f.stakeholders.statement_percent,
        mmss(f.stakeholders.ms),
        f.stakeholders.time_percent,
        count(f.notes, "note", "notes"),
        count(f.pledges, "pledge", "pledges"),
    );
    shares_md(out, "By kind of participant", &f.by_kind);
    shares_md(out, "By UN regional group (States)", &f.by_regional_group);
    shares_md(out, "By constituency (stakeholders)", &f.by_constituency);
}

/// The forum's Markdown: the sessions at a glance, the forum's figures, each
/// session's, who spoke where, pledges by objective; then each session's own
/// record (its report's Markdown, a heading level down), for minutes across the forum.
pub fn to_markdown(forum: &ForumReport, records: &[(Report, FixedOffset)]) -> String {
    let mut out = String::new();
    let zone = records.first().map_or_else(|| chrono::Offset::fix(&chrono::Utc), |(_, z)| *z);
    let dated = |t: Timestamp| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
    let _ = writeln!(out, "# The forum: {}\n", count(forum.sessions.len(), "session", "sessions"));
    let _ = writeln!(
        out,
        "| session | scheduled | statements | speaking time | stakeholders' time | notes | pledges | closed |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    for s in &forum.sessions {
        let f = &s.figures;
        let _ = writeln!(
            out,
            "| {} | {} to {} | {} | {} | {:.1}% | {} | {} | {} |",
            s.title,
            dated(s.scheduled_start),
            s.scheduled_end.with_timezone(&zone).format("%H:%M"),
            f.statements,
            mmss(f.speaking_ms),
            f.stakeholders.time_percent,
            f.notes,
            f.pledges,
            if s.closed { "yes" } else { "no" }
        );
    }
    out.push('\n');
    let _ = writeln!(out, "## The forum as a whole\n");
    figures_md(&mut out, &forum.forum);
    let _ = writeln!(out, "## Each session\n");
    for s in &forum.sessions {
        let _ = writeln!(out, "### {}\n", s.title);
        let mut part = String::new();
        figures_md(&mut part, &s.figures);
        // The tables' headings one level down, under the session's.
        out.push_str(&part.replace("\n### ", "\n#### "));
    }
    let _ = writeln!(out, "## Who spoke where\n");
    if forum.speakers.is_empty() {
        let _ = writeln!(out, "No statements.\n");
    } else {
        let heads: Vec<String> = forum.sessions.iter().map(|s| s.id.clone()).collect();
        let _ = writeln!(
            out,
            "Statements and speaking time of each participant heard, per session.\n\n| speaker | kind | {} | forum |\n| --- | --- |{} ---: |",
            heads.join(" | "),
            " ---: |".repeat(heads.len())
        );
        for sp in &forum.speakers {
            let cells: Vec<String> = forum
                .sessions
                .iter()
                .map(|s| {
                    sp.sessions
                        .iter()
                        .find(|x| x.session == s.id)
                        .map_or_else(|| "—".to_string(), |x| spoke_cell(x.statements, x.ms))
                })
                .collect();
            let kind: Option<crate::domain::ParticipantKind> =
                serde_json::from_value(serde_json::Value::String(sp.participant_kind.clone())).ok();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                sp.participant_name,
                kind.map_or(sp.participant_kind.as_str(), |k| k.label()),
                cells.join(" | "),
                spoke_cell(sp.statements, sp.ms)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Pledges by GCM objective\n");
    if forum.pledges_by_objective.is_empty() {
        let _ = writeln!(out, "None.\n");
    }
    for o in &forum.pledges_by_objective {
        let _ = writeln!(out, "### Objective {}: {}\n", o.objective, o.title);
        for p in &o.pledges {
            let title =
                forum.sessions.iter().find(|s| s.id == p.session).map_or(p.session.as_str(), |s| s.title.as_str());
            let who = p.pledge.pledger.as_deref().unwrap_or_default();
            let at = p.pledge.saved_at.unwrap_or(p.pledge.at).with_timezone(&zone).format("%Y-%m-%d %H:%M");
            let _ =
                writeln!(out, "- **{who}** ({title}; {}, {at}): {}", p.pledge.author, p.pledge.text.replace('\n', " "));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## The sessions' records\n");
    for (report, zone) in records {
        let md = super::to_markdown(report, *zone);
        for line in md.lines() {
            if line.starts_with('#') {
                out.push('#');
                out.push_str(line);
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
    }
    out
}

/// `--table shares`: every table of every session and of the forum, one row per group.
pub const SHARES_COLUMNS: [&str; 9] = [
    "scope",
    "table",
    "group",
    "statements",
    "speaking_s",
    "time_percent",
    "statement_percent",
    "roster_percent",
    "session_title",
];

/// `--table speakers`: who spoke where, one row per participant and session.
pub const SPEAKERS_COLUMNS: [&str; 8] = [
    "session_id",
    "participant_id",
    "participant_name",
    "participant_kind",
    "regional_group",
    "constituency",
    "statements",
    "speaking_s",
];

pub fn shares_csv(forum: &ForumReport) -> String {
    let mut out = SHARES_COLUMNS.join(",");
    out.push('\n');
    let scopes = forum.sessions.iter().map(|s| (s.id.as_str(), s.title.as_str(), &s.figures));
    for (scope, title, f) in std::iter::once(("forum", "", &forum.forum)).chain(scopes) {
        for (table, shares) in
            [("kind", &f.by_kind), ("regional_group", &f.by_regional_group), ("constituency", &f.by_constituency)]
        {
            for s in shares {
                csv_line(
                    &mut out,
                    &[
                        scope.to_string(),
                        table.to_string(),
                        s.group.clone(),
                        s.statements.to_string(),
                        seconds(s.ms),
                        format!("{:.1}", s.time_percent),
                        format!("{:.1}", s.statement_percent),
                        format!("{:.1}", s.roster_percent),
                        title.to_string(),
                    ],
                );
            }
        }
    }
    out
}

pub fn speakers_csv(forum: &ForumReport) -> String {
    let mut out = SPEAKERS_COLUMNS.join(",");
    out.push('\n');
    for s in &forum.sessions {
        for sp in &forum.speakers {
            let Some(spoke) = sp.sessions.iter().find(|x| x.session == s.id) else { continue };
            csv_line(
                &mut out,
                &[
                    s.id.clone(),
                    sp.participant_id.clone(),
                    sp.participant_name.clone(),
                    sp.participant_kind.clone(),
                    sp.regional_group.clone().unwrap_or_default(),
                    sp.constituency.clone().unwrap_or_default(),
                    spoke.statements.to_string(),
                    seconds(spoke.ms),
                ],
            );
        }
    }
    out
}

/// A session table (turns, notes or pledges: its columns and rows) for every
/// session, one after another, with the session's id as a first column.
pub fn sessions_csv(records: &[Report], columns: &[&str], rows: impl Fn(&Report) -> Vec<Vec<String>>) -> String {
    let mut header = vec!["session_id"];
    header.extend_from_slice(columns);
    let mut all = Vec::new();
    for report in records {
        for row in rows(report) {
            all.push(std::iter::once(report.session.id.clone()).chain(row).collect());
        }
    }
    super::table_csv(&header, all)
}
