//! The forum as the secretariat sees it: every session a hub serves, each as a
//! small summary the hub projects from the session's state after each change
//! ([`summarize`]), and the alerts a summary raises at a given moment
//! ([`alerts`]). A summary's size and cost do not grow with the session's
//! history: it reads the floor, the open segment's lists and the connection
//! statuses, never the turns or notes recorded. The hub sends summaries on
//! `/v1/forum` (docs/protocol.md §13); the console (`rostrum forum`) draws them.

use serde::{Deserialize, Serialize};

use crate::domain::{self, ClockReading, ConnectionStatus, Modality, Session, Timestamp};

/// The statement on the floor, with what its clock needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloorSummary {
    /// "Senegal, on behalf of the African Group".
    pub speaker: String,
    pub participant: String,
    /// "national statement", "stakeholder intervention", …
    pub kind: String,
    /// "in room", "remote", "pre-recorded".
    pub modality: String,
    pub started_at: Timestamp,
    pub allotted_ms: u64,
    /// Used before `running_since`.
    pub used_ms: u64,
    /// Set while the clock runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_since: Option<Timestamp>,
    pub paused: bool,
}

impl FloorSummary {
    /// The clock at `now`: the domain's own reading, as for the turn itself.
    pub fn reading(&self, now: Timestamp, warning_secs: u32) -> ClockReading {
        domain::clock_reading(self.allotted_ms, self.used_ms, self.running_since, now, warning_secs)
    }
}

/// The open segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSummary {
    /// 1-based, of the session's `segments`.
    pub number: usize,
    pub id: String,
    pub title: String,
    /// What its list is forecast against ([`domain::scheduled_end`]).
    pub scheduled_end: Timestamp,
    pub warning_secs: u32,
    /// Entries on its speakers list, and rights of reply waiting.
    pub speakers: usize,
    pub replies: usize,
    /// Their allotted times added up, in seconds.
    pub list_secs: u64,
}

/// Who follows the session now, by what their credential is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub chairs: usize,
    pub rapporteurs: usize,
    pub delegates: usize,
    pub observers: usize,
    /// The room's pages (hall display, speaker's timer).
    pub displays: usize,
}

/// What connects to a session, for [`Presence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follower {
    Role(domain::Role),
    Display,
}

impl Presence {
    pub fn add(&mut self, who: Follower, delta: isize) {
        let slot = match who {
            Follower::Role(domain::Role::Chair) => &mut self.chairs,
            Follower::Role(domain::Role::Rapporteur) => &mut self.rapporteurs,
            Follower::Role(domain::Role::Delegate) => &mut self.delegates,
            Follower::Role(domain::Role::Observer) => &mut self.observers,
            Follower::Display => &mut self.displays,
        };
        *slot = slot.saturating_add_signed(delta);
    }
}

/// One session as the forum's console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: String,
    pub title: String,
    /// The session's time zone, as its file's `start` gives it ("-04:00"): times are shown in it.
    pub utc_offset: String,
    /// The session's last event.
    pub seq: u64,
    /// How many segments the agenda has.
    pub segments: usize,
    /// The open segment (none before the first opens, and once the session is closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<FloorSummary>,
    /// Who raised the point of order pending, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_of_order: Option<String>,
    /// Remote participants marked with a technical issue, on the floor or on the
    /// open segment's lists (those the chair cannot hear now), by short name
    /// where the roster gives one, else by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<String>,
    /// Notes and pledges recorded so far.
    pub notes: usize,
    pub pledges: usize,
    pub connected: Presence,
}

fn modality(session: &Session, participant: &str) -> String {
    session.def.participant(participant).map_or(Modality::InRoom, |p| p.modality).label().to_string()
}

/// The summary of a session's state (its presence left at zero: the hub counts
/// connections itself). Reads only what is current, never the history.
pub fn summarize(session: &Session) -> SessionSummary {
    let open = session.current_segment.filter(|_| session.closed_at.is_none());
    let segment = open.and_then(|index| {
        let def = session.segment_def(index)?;
        let state = session.segments.get(index)?;
        let opened = state.opened_at?;
        Some(SegmentSummary {
            number: index + 1,
            id: def.id.clone(),
            title: def.title.clone(),
            scheduled_end: domain::scheduled_end(session, index, opened)?,
            warning_secs: def.limits.warning,
            speakers: state.list.len(),
            replies: state.replies.len(),
            list_secs: state.list.iter().chain(&state.replies).map(|e| u64::from(e.allotted)).sum(),
        })
    });
    let remote_lost = |participant: &str| {
        session.connection(participant) == ConnectionStatus::TechnicalIssue
            && session.def.participant(participant).is_some_and(|p| p.modality == Modality::Remote)
    };
    let mut lost: Vec<String> = Vec::new();
    let on_floor = session.floor.iter().map(|t| t.entry.participant.as_str());
    let listed = open
        .and_then(|s| session.segments.get(s))
        .into_iter()
        .flat_map(|s| s.list.iter().chain(&s.replies))
        .map(|e| e.participant.as_str());
    for participant in on_floor.chain(listed) {
        let p = session.def.participant(participant);
        let name = p.and_then(|p| p.short.clone()).unwrap_or_else(|| session.name_of(participant).to_string());
        if remote_lost(participant) && !lost.contains(&name) {
            lost.push(name);
        }
    }
    SessionSummary {
        id: session.def.id.clone(),
        title: session.def.title.clone(),
        utc_offset: session.def.start.offset().to_string(),
        seq: session.seq,
        segments: session.def.segments.len(),
        segment,
        closed_at: session.closed_at,
        floor: session.floor.as_ref().map(|t| FloorSummary {
            speaker: session.speaker(&t.entry),
            participant: t.entry.participant.clone(),
            kind: t.entry.kind.label().to_string(),
            modality: modality(session, &t.entry.participant),
            started_at: t.started_at,
            allotted_ms: t.allotted_ms,
            used_ms: t.used_ms,
            running_since: t.running_since,
            paused: t.paused,
        }),
        point_of_order: session.point_of_order.as_ref().map(|p| session.name_of(&p.by).to_string()),
        lost,
        notes: session.notes.len(),
        pledges: session.pledges.len(),
        connected: Presence::default(),
    }
}

impl SessionSummary {
    /// The session's time zone (UTC if its offset does not read).
    pub fn zone(&self) -> chrono::FixedOffset {
        self.utc_offset.parse().unwrap_or_else(|_| chrono::Offset::fix(&chrono::Utc))
    }
}

/// An overrun longer than this is an alert.
pub const OVERRUN_ALERT_MS: i64 = 60_000;

/// What needs the secretariat's eye in a session now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// The speaker on the floor is over their time by more than a minute.
    Overrun { speaker: String, over_ms: u64 },
    /// Remote speakers marked with a technical issue (on the floor or waiting).
    Lost { names: Vec<String> },
    /// The list, at the limits, ends after the segment's scheduled end.
    Late { late_ms: i64 },
    /// A point of order waits for the chair's ruling.
    PointOfOrder { by: String },
}

impl Alert {
    /// As the console's badge says it: "OVERRUN +1:12".
    pub fn badge(&self) -> String {
        match self {
            Self::Overrun { over_ms, .. } => format!("OVERRUN +{}", domain::duration_text(*over_ms)),
            Self::Lost { names } => format!("LOST: {}", names.join(", ")),
            Self::Late { late_ms } => format!("LATE +{}", domain::duration_text(late_ms.unsigned_abs())),
            Self::PointOfOrder { by } => format!("POINT OF ORDER: {by}"),
        }
    }
}

/// The floor's clock at `now`, and when the open segment's list ends (with how late).
pub fn clock_and_forecast(s: &SessionSummary, now: Timestamp) -> (Option<ClockReading>, Option<(Timestamp, i64)>) {
    let warning = s.segment.as_ref().map_or(30, |g| g.warning_secs);
    let reading = s.floor.as_ref().map(|f| f.reading(now, warning));
    let forecast = s.segment.as_ref().and_then(|g| {
        let left = reading.map_or(0, |r| r.remaining_ms);
        domain::list_end(now, left, g.list_secs, g.scheduled_end)
    });
    (reading, forecast)
}

/// The alerts of a session at `now`, the most urgent first.
pub fn alerts(s: &SessionSummary, now: Timestamp) -> Vec<Alert> {
    let mut out = Vec::new();
    if s.closed_at.is_some() {
        return out;
    }
    let (reading, forecast) = clock_and_forecast(s, now);
    if let Some(by) = &s.point_of_order {
        out.push(Alert::PointOfOrder { by: by.clone() });
    }
    if let (Some(floor), Some(r)) = (&s.floor, reading)
        && r.remaining_ms < -OVERRUN_ALERT_MS
    {
        out.push(Alert::Overrun { speaker: floor.speaker.clone(), over_ms: r.remaining_ms.unsigned_abs() });
    }
    if !s.lost.is_empty() {
        out.push(Alert::Lost { names: s.lost.clone() });
    }
    let listed = s.segment.as_ref().is_some_and(|g| g.speakers + g.replies > 0);
    if let Some((_, late_ms)) = forecast.filter(|(_, late)| *late > 0 && listed) {
        out.push(Alert::Late { late_ms });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, Command, apply, decide};
    use chrono::{TimeZone, Utc};

    fn at(secs: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("time") + chrono::Duration::seconds(secs)
    }

    fn run(commands: Vec<(i64, Command)>) -> Session {
        let def = crate::config::parse_session(include_str!("../tests/data/small.toml")).expect("valid");
        let mut s = Session::new(def);
        for (secs, command) in commands {
            for e in decide(&s, command, &Actor::chair("chair"), at(secs)).expect("accepted") {
                apply(&mut s, &e);
            }
        }
        s
    }

    fn inscribe(p: &str) -> Command {
        Command::inscribe(p)
    }

    #[test]
    fn a_summary_holds_the_floor_the_list_and_who_is_lost_and_alerts_follow_the_clock() {
        let s = run(vec![
            (0, Command::OpenSegment { segment: "general".into() }),
            (1, inscribe("peru")),
            (2, inscribe("ghana")),
            (3, Command::GiveFloor { entry: 3, budget: None }),
            (
                4,
                Command::SetConnection {
                    participant: "ghana".into(),
                    status: ConnectionStatus::TechnicalIssue,
                    from: None,
                },
            ),
        ]);
        let summary = summarize(&s);
        let floor = summary.floor.as_ref().expect("Peru speaks");
        assert_eq!((floor.speaker.as_str(), floor.allotted_ms), ("Peru", 180_000));
        let segment = summary.segment.as_ref().expect("open");
        assert_eq!((segment.number, segment.speakers, segment.list_secs), (1, 1, 180));
        assert_eq!(summary.lost, ["Ghana"]);
        assert_eq!(summarize(&s), summary, "the same state, the same summary");

        // Forty seconds in: Ghana is lost; no overrun yet.
        assert_eq!(alerts(&summary, at(43)), [Alert::Lost { names: vec!["Ghana".into()] }]);
        // Four minutes in: over by a minute and a bit.
        let later = alerts(&summary, at(3 + 241));
        assert_eq!(later[0], Alert::Overrun { speaker: "Peru".into(), over_ms: 61_000 });
        assert_eq!(later[0].badge(), "OVERRUN +1:01");
        // The clock is the domain's: the same reading as the turn's own.
        let now = at(100);
        let turn = s.floor.as_ref().expect("floor");
        assert_eq!(floor.reading(now, 30), turn.reading(now, 30));
    }
}
