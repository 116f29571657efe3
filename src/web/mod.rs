//! The pages the hub serves to the room: the hall display and the remote speaker's
//! timer. The pages are static files compiled into the binary (no toolchain, no
//! CDN: a hall often has no internet) and use the websocket protocol like every
//! other client, subscribing with `view=display` to a small projection of the
//! session the hub computes from the domain state ([`project`]): the pages never
//! apply events or decide a rule, and the hub sends no ticks (the countdown runs in
//! the page from the turn's times and the clock offset).

use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use crate::domain::{Modality, Session, Timestamp};

/// A page or asset: path under `/v1/sessions/ID/`, content type, bytes.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// Every file the hub serves, compiled in.
pub const ASSETS: [Asset; 4] = [
    Asset { name: "display", content_type: "text/html; charset=utf-8", body: include_bytes!("static/display.html") },
    Asset { name: "speaker", content_type: "text/html; charset=utf-8", body: include_bytes!("static/speaker.html") },
    Asset {
        name: "web/room.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("static/room.js"),
    },
    Asset { name: "web/room.css", content_type: "text/css; charset=utf-8", body: include_bytes!("static/room.css") },
];

/// The page or asset at `rest` (what follows `/v1/sessions/ID/`), if any.
pub fn asset(rest: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == rest)
}

/// Security headers of every page: scripts and styles from the hub only, no inline
/// script, nothing from elsewhere; the websocket back to the hub itself.
pub const SECURITY_HEADERS: &str = "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n\
X-Content-Type-Options: nosniff\r\n\
Referrer-Policy: no-referrer\r\n\
Cache-Control: no-store\r\n";

/// Headers of the report page: its own policy (no script at all, its inline style
/// sheet by hash, see [`crate::report::html`]), and the room pages' other headers.
pub fn report_headers() -> String {
    format!(
        "Content-Security-Policy: {}; frame-ancestors 'none'\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Referrer-Policy: no-referrer\r\n\
         Cache-Control: no-store\r\n",
        crate::report::html::content_security_policy()
    )
}

/// The statement on the floor, as a room's screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloorView {
    /// Participant id (a speaker's page finds its own by it).
    pub participant: String,
    /// "Senegal, on behalf of the African Group".
    pub speaker: String,
    /// "national statement", "stakeholder intervention", …
    pub kind: String,
    /// "in room", "remote", "pre-recorded".
    pub modality: String,
    pub started_at: String,
    pub allotted_ms: u64,
    /// Used before `running_since`.
    pub used_ms: u64,
    /// Set while the clock runs (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_since: Option<String>,
    pub paused: bool,
}

/// An entry on the open segment's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListView {
    pub position: usize,
    pub participant: String,
    pub speaker: String,
    pub modality: String,
    pub allotted_ms: u64,
    /// Why it stands there.
    pub reason: String,
}

/// What every room's screen shows: computed by the hub after each change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayState {
    pub seq: u64,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    pub closed: bool,
    /// Seconds left at which the countdown turns to its warning colour.
    pub warning_secs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<FloorView>,
    /// Who raised the point of order being ruled on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_of_order: Option<String>,
    /// The open segment's speakers list, then its rights of reply, next first.
    pub list: Vec<ListView>,
}

fn modality(session: &Session, participant: &str) -> String {
    match session.def.participant(participant).map(|p| p.modality) {
        Some(Modality::Remote) => "remote",
        Some(Modality::PreRecorded) => "pre-recorded",
        _ => "in room",
    }
    .to_string()
}

fn time(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The projection of the session a room's screen needs.
pub fn project(session: &Session) -> DisplayState {
    let segment = session.current_segment;
    let state = segment.and_then(|s| session.segments.get(s));
    let list = state
        .map(|s| {
            s.list
                .iter()
                .chain(s.replies.iter())
                .enumerate()
                .map(|(i, e)| ListView {
                    position: i + 1,
                    participant: e.participant.clone(),
                    speaker: session.speaker(e),
                    modality: modality(session, &e.participant),
                    allotted_ms: u64::from(e.allotted) * 1000,
                    reason: if e.reason.is_empty() {
                        "right of reply, in order of request".into()
                    } else {
                        e.reason.clone()
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    DisplayState {
        seq: session.seq,
        title: session.def.title.clone(),
        segment: segment.and_then(|s| session.segment_def(s)).map(|d| d.title.clone()),
        closed: session.closed_at.is_some(),
        warning_secs: segment.and_then(|s| session.segment_def(s)).map_or(30, |d| d.limits.warning),
        floor: session.floor.as_ref().map(|t| FloorView {
            participant: t.entry.participant.clone(),
            speaker: session.speaker(&t.entry),
            kind: t.entry.kind.label().to_string(),
            modality: modality(session, &t.entry.participant),
            started_at: time(t.started_at),
            allotted_ms: t.allotted_ms,
            used_ms: t.used_ms,
            running_since: t.running_since.map(time),
            paused: t.paused,
        }),
        point_of_order: session.point_of_order.as_ref().map(|p| session.name_of(&p.by).to_string()),
        list,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, Command, apply, decide};
    use chrono::TimeZone;

    #[test]
    fn the_projection_names_the_floor_and_the_list_and_changes_only_with_the_session() {
        let def = crate::config::parse_session(include_str!("../../tests/data/small.toml")).expect("valid");
        let mut s = Session::new(def);
        let t = |secs| chrono::Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, secs).single().expect("time");
        for (i, command) in [
            Command::OpenSegment { segment: "general".into() },
            Command::Inscribe {
                participant: "peru".into(),
                segment: None,
                kind: None,
                level: None,
                on_behalf_of: None,
                language: None,
            },
            Command::Inscribe {
                participant: "ghana".into(),
                segment: None,
                kind: None,
                level: None,
                on_behalf_of: None,
                language: None,
            },
            Command::GiveFloor { entry: 3, budget: None },
        ]
        .into_iter()
        .enumerate()
        {
            for e in decide(&s, command, &Actor::chair("chair"), t(i as u32)).expect("accepted") {
                apply(&mut s, &e);
            }
        }
        let d = project(&s);
        assert_eq!(d.segment.as_deref(), Some("General debate"));
        let floor = d.floor.as_ref().expect("Peru speaks");
        assert_eq!((floor.speaker.as_str(), floor.modality.as_str(), floor.allotted_ms), ("Peru", "in room", 180_000));
        assert_eq!(floor.running_since.as_deref(), Some("2022-05-17T14:00:03.000Z"));
        assert_eq!(d.list.iter().map(|e| (e.position, e.speaker.as_str())).collect::<Vec<_>>(), [(1, "Ghana")]);
        assert_eq!(d.list[0].modality, "remote");
        assert_eq!(project(&s), d, "the same state, the same projection");
    }
}
