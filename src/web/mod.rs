//! The pages the hub serves to the room: the hall display and the remote speaker's
//! timer. The pages are static files compiled into the binary (no toolchain, no
//! CDN: a hall often has no internet) and use the websocket protocol like every
//! other client, subscribing with `view=display` to a small projection of the
//! session the hub computes from the domain state ([`project`]): the pages never
//! apply events or decide a rule, and the hub sends no ticks (the countdown runs in
//! the page from the turn's times and the clock offset).

use chrono::SecondsFormat;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{
    Actor, Command, ConnectionStatus, Entry, EntryId, Modality, Move, Numerals, Offered, ParticipantKind, Reason,
    Session, StatementKind, Timestamp, connection_choices, offers, preview, reason_by_id,
};

/// A page or asset: path under `/v1/sessions/ID/`, content type, bytes.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// Every file the hub serves, compiled in: the two pages, their script and style,
/// and one file of labels per official language (`web/i18n/fr.json`).
pub const ASSETS: [Asset; 10] = [
    Asset { name: "display", content_type: "text/html; charset=utf-8", body: include_bytes!("static/display.html") },
    Asset { name: "speaker", content_type: "text/html; charset=utf-8", body: include_bytes!("static/speaker.html") },
    Asset {
        name: "web/room.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("static/room.js"),
    },
    Asset { name: "web/room.css", content_type: "text/css; charset=utf-8", body: include_bytes!("static/room.css") },
    labels("ar", include_bytes!("static/i18n/ar.json")),
    labels("zh", include_bytes!("static/i18n/zh.json")),
    labels("en", include_bytes!("static/i18n/en.json")),
    labels("fr", include_bytes!("static/i18n/fr.json")),
    labels("ru", include_bytes!("static/i18n/ru.json")),
    labels("es", include_bytes!("static/i18n/es.json")),
];

const fn labels(language: &'static str, body: &'static [u8]) -> Asset {
    let name = match language.as_bytes() {
        b"ar" => "web/i18n/ar.json",
        b"zh" => "web/i18n/zh.json",
        b"en" => "web/i18n/en.json",
        b"fr" => "web/i18n/fr.json",
        b"ru" => "web/i18n/ru.json",
        _ => "web/i18n/es.json",
    };
    Asset { name, content_type: "application/json; charset=utf-8", body }
}

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

/// The security headers of a room page served by a hub whose session other hubs
/// serve too (etcd): its websocket may also go to `hubs` (their `ws://HOST:PORT`
/// or `wss://…` origins), where the page follows the session when its own hub
/// cannot be reached.
pub fn security_headers(hubs: &[String]) -> String {
    let origins: Vec<&str> = hubs
        .iter()
        .map(String::as_str)
        // Only origins (a scheme, a host, a port): nothing else goes into the policy.
        .filter(|h| {
            (h.starts_with("ws://") || h.starts_with("wss://"))
                && h.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-[]_".contains(c))
        })
        .collect();
    if origins.is_empty() {
        return SECURITY_HEADERS.to_string();
    }
    SECURITY_HEADERS.replacen("connect-src 'self'", &format!("connect-src 'self' {}", origins.join(" ")), 1)
}

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

/// A name as the room's pages show it: the roster's, its short form for narrow
/// places, and the roster's names in other languages (by ISO 639-1 code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    /// A roster group: English says "on behalf of *the* African Group".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub article: bool,
}

impl Named {
    fn of(session: &Session, participant: &str) -> Self {
        match session.def.participant(participant) {
            Some(p) => Self { name: p.name.clone(), short: p.short.clone(), names: p.names.clone(), article: false },
            None => Self { name: participant.to_string(), short: None, names: BTreeMap::new(), article: false },
        }
    }

    /// A group spoken for: a roster group (whose English name takes "the" unless it
    /// has one, as [`Session::group_name`] says it), or its name as given.
    fn group(session: &Session, group: &str) -> Self {
        let mut named = Self::of(session, group);
        named.article = session.def.participant(group).is_some() && session.group_name(group) != named.name;
        named
    }
}

/// Who speaks, and how: what a page needs to name a statement in its own language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Participant id (a speaker's page finds its own by it).
    pub participant: String,
    /// In English, whole: "Senegal, on behalf of the African Group".
    pub speaker: String,
    pub who: Named,
    /// The group a Member State speaks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Named>,
    /// "national statement", "stakeholder intervention", … (English).
    pub kind: String,
    /// The same as a code for translations: "national", "group", "organization", "stakeholder", "reply".
    pub kind_code: StatementKind,
    /// "in room", "remote", "pre-recorded" (English).
    pub modality: String,
    pub modality_code: Modality,
    /// The language the speaker will use (ISO 639-1), if the inscription says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The part of an interrupted statement this is (2 for the part after the
    /// first interruption); absent for a statement in one part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<u32>,
}

impl Statement {
    fn of(session: &Session, e: &Entry) -> Self {
        let modality_code = session.def.participant(&e.participant).map_or(Modality::InRoom, |p| p.modality);
        Self {
            participant: e.participant.clone(),
            speaker: session.speaker(e),
            who: Named::of(session, &e.participant),
            group: e.on_behalf_of.as_deref().map(|g| Named::group(session, g)),
            kind: e.kind.label().to_string(),
            kind_code: e.kind,
            modality: modality_label(modality_code).to_string(),
            modality_code,
            language: e.language.clone(),
            part: e.resumes.as_ref().map(|r| r.parts + 1),
        }
    }
}

/// The statement on the floor, as a room's screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloorView {
    #[serde(flatten)]
    pub statement: Statement,
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
    /// The entry's id (a delegate's page withdraws its own by it).
    pub entry: EntryId,
    #[serde(flatten)]
    pub statement: Statement,
    pub allotted_ms: u64,
    /// Why it stands there (English).
    pub reason: String,
    /// The same as data, for a page to say in its language (other entries by
    /// participant id); absent for a right of reply (in order of request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<Reason>,
    /// A right of reply (after the speakers list).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reply: bool,
}

/// What every room's screen shows: computed by the hub after each change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayState {
    pub seq: u64,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    pub closed: bool,
    /// The open segment's list of speakers is closed to new inscriptions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub list_closed: bool,
    /// Seconds left at which the countdown turns to its warning colour.
    pub warning_secs: u32,
    /// The digits of the pages in Arabic: "latn" (0123) or "arab" (٠١٢٣).
    pub numerals: Numerals,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<FloorView>,
    /// Who raised the point of order being ruled on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_of_order: Option<String>,
    /// The same, to name in the page's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_of_order_by: Option<Named>,
    /// The open segment's speakers list, then its rights of reply, next first.
    pub list: Vec<ListView>,
}

fn modality_label(modality: Modality) -> &'static str {
    match modality {
        Modality::Remote => "remote",
        Modality::PreRecorded => "pre-recorded",
        Modality::InRoom => "in room",
    }
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
            let replies = s.replies.iter().map(|e| (e, true));
            s.list
                .iter()
                .map(|e| (e, false))
                .chain(replies)
                .enumerate()
                .map(|(i, (e, reply))| ListView {
                    why: (!reply).then(|| reason_by_id(session, segment.unwrap_or(0), &s.list, i)),
                    position: i + 1,
                    entry: e.id,
                    statement: Statement::of(session, e),
                    allotted_ms: u64::from(e.allotted) * 1000,
                    reason: if e.reason.is_empty() {
                        "right of reply, in order of request".into()
                    } else {
                        e.reason.clone()
                    },
                    reply,
                })
                .collect()
        })
        .unwrap_or_default();
    DisplayState {
        seq: session.seq,
        title: session.def.title.clone(),
        segment: segment.and_then(|s| session.segment_def(s)).map(|d| d.title.clone()),
        closed: session.closed_at.is_some(),
        list_closed: state.is_some_and(|s| s.closed),
        warning_secs: segment.and_then(|s| session.segment_def(s)).map_or(30, |d| d.limits.warning),
        numerals: session.def.numerals,
        floor: session.floor.as_ref().map(|t| FloorView {
            statement: Statement::of(session, &t.entry),
            started_at: time(t.started_at),
            allotted_ms: t.allotted_ms,
            used_ms: t.used_ms,
            running_since: t.running_since.map(time),
            paused: t.paused,
        }),
        point_of_order: session.point_of_order.as_ref().map(|p| session.name_of(&p.by).to_string()),
        point_of_order_by: session.point_of_order.as_ref().map(|p| Named::of(session, &p.by)),
        list,
    }
}

/// One thing a delegate may do from the speaker's page, as the rules answer now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveView {
    pub allowed: bool,
    /// What it does ("request a right of reply"), when allowed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub what: String,
    /// Why not, when not allowed ("the list is closed").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The question to ask the person before sending it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// The command to send (in a `command` frame) when the person confirms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
}

impl MoveView {
    fn from_offer(offered: Option<&Offered>) -> Self {
        match offered {
            Some(Ok(offer)) => Self {
                allowed: offer.command.is_some(),
                what: offer.what.clone(),
                reason: None,
                question: offer.question.clone(),
                command: offer.command.clone(),
            },
            Some(Err(rejection)) => Self::refused(&rejection.reason),
            None => Self::refused("not a delegate's to do"),
        }
    }

    fn refused(reason: &str) -> Self {
        Self { allowed: false, what: String::new(), reason: Some(reason.to_string()), question: None, command: None }
    }

    /// A command as the rules would take it now from `actor`.
    fn check(session: &Session, actor: &Actor, now: Timestamp, command: Command, what: String) -> Self {
        match preview(session, command.clone(), actor, now) {
            Ok(_) => Self { allowed: true, what, reason: None, question: None, command: Some(command) },
            Err(rejection) => Self::refused(&rejection.reason),
        }
    }
}

/// A group a Member State may speak for now, with the inscription that does it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMove {
    pub id: String,
    pub group: Named,
    pub command: Command,
}

/// A withdrawal of one of the delegate's own entries on the open segment's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithdrawMove {
    pub entry: EntryId,
    pub position: usize,
    #[serde(flatten)]
    pub action: MoveView,
}

/// A connection status the delegate may report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionMove {
    pub status: ConnectionStatus,
    #[serde(flatten)]
    pub action: MoveView,
}

/// What a delegate may do now from the speaker's page: each computed by the
/// domain's rules (the terminal delegate screen asks the same [`offers`]), sent
/// to a delegate's page after every change (`moves` in docs/protocol.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelegateMoves {
    pub seq: u64,
    pub participant: String,
    pub who: Named,
    /// Request the floor in its own name (a national statement for a Member State).
    /// The page may add the statement's `language` to the command.
    pub inscribe: MoveView,
    /// A Member State: the groups of the roster it may speak for, each with its inscription.
    #[serde(default)]
    pub groups: Vec<GroupMove>,
    /// Its own entries on the list, each with its withdrawal.
    #[serde(default)]
    pub withdraw: Vec<WithdrawMove>,
    /// Request a right of reply, or withdraw the one pending.
    pub reply: MoveView,
    /// Raise a point of order (Member States), or withdraw its own pending one.
    pub point_of_order: MoveView,
    /// Its connection status as the chair's screen shows it now.
    pub connection_status: ConnectionStatus,
    /// Report its connection (remote participants): connected, technical issue.
    pub connection: Vec<ConnectionMove>,
    /// Why no connection can be reported, when none can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_reason: Option<String>,
}

/// What `actor` (a delegate) may do now, for its page.
pub fn delegate_moves(session: &Session, actor: &Actor, now: Timestamp) -> DelegateMoves {
    let me = actor.participant.clone().unwrap_or_default();
    let offered = offers(session, actor, now, None);
    let inscribe = |kind, on_behalf_of| Command::Inscribe {
        participant: me.clone(),
        segment: None,
        kind,
        level: None,
        on_behalf_of,
        language: None,
    };
    let name = session.name_of(&me).to_string();
    let inscribe_own = match offered.get(Move::Inscribe) {
        Some(Ok(_)) => MoveView::check(session, actor, now, inscribe(None, None), format!("inscribe {name}")),
        other => MoveView::from_offer(other),
    };
    let member_state = session.def.participant(&me).is_some_and(|p| p.kind == ParticipantKind::MemberState);
    let groups = if member_state && inscribe_own.allowed {
        session
            .def
            .participants
            .iter()
            .filter(|g| g.kind == ParticipantKind::GroupOfStates)
            .map(|g| (g, inscribe(Some(StatementKind::Group), Some(g.id.clone()))))
            .filter(|(_, command)| preview(session, command.clone(), actor, now).is_ok())
            .map(|(g, command)| GroupMove { id: g.id.clone(), group: Named::group(session, &g.id), command })
            .collect()
    } else {
        Vec::new()
    };
    let current = session.current_segment.and_then(|c| session.segments.get(c));
    let withdraw = current
        .map(|s| {
            s.list
                .iter()
                .enumerate()
                .filter(|(_, e)| e.participant == me)
                .map(|(i, e)| WithdrawMove {
                    entry: e.id,
                    position: i + 1,
                    action: MoveView::from_offer(offers(session, actor, now, Some(e.id)).get(Move::Withdraw)),
                })
                .collect()
        })
        .unwrap_or_default();
    let (connection, connection_reason) = match offered.get(Move::Connection) {
        Some(Ok(_)) => (
            connection_choices(session, actor, now, &me)
                .into_iter()
                .filter(|(s, _)| matches!(s, ConnectionStatus::Connected | ConnectionStatus::TechnicalIssue))
                .map(|(status, command)| ConnectionMove {
                    status,
                    action: match command {
                        Ok(command) => MoveView {
                            allowed: true,
                            what: format!("report: {}", status.label()),
                            reason: None,
                            question: None,
                            command: Some(command),
                        },
                        Err(rejection) => MoveView::refused(&rejection.reason),
                    },
                })
                .collect(),
            None,
        ),
        Some(Err(rejection)) => (Vec::new(), Some(rejection.reason.clone())),
        None => (Vec::new(), None),
    };
    DelegateMoves {
        seq: session.seq,
        participant: me.clone(),
        who: Named::of(session, &me),
        inscribe: inscribe_own,
        groups,
        withdraw,
        reply: MoveView::from_offer(offered.get(Move::RightOfReply)),
        point_of_order: MoveView::from_offer(offered.get(offered.point_of_order_move())),
        connection_status: session.connection(&me),
        connection,
        connection_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_may_reach_the_sessions_other_hubs_and_nothing_else() {
        let hubs = ["ws://10.0.0.2:7878".to_string(), "ws://evil; script-src *".to_string(), "http://x:1".to_string()];
        let headers = security_headers(&hubs);
        assert!(headers.contains("connect-src 'self' ws://10.0.0.2:7878;"), "{headers}");
        assert!(!headers.contains("evil") && !headers.contains("http://x"), "{headers}");
        assert_eq!(security_headers(&[]), SECURITY_HEADERS, "a hub alone: its own address only");
    }

    /// The placeholders of a label: `{n}`, `{name}`, …
    fn placeholders(text: &str) -> Vec<&str> {
        let mut found: Vec<&str> =
            text.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|p| p.0)).collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn every_label_is_in_every_official_language_with_the_same_placeholders() {
        let read = |code: &str| -> BTreeMap<String, String> {
            let name = format!("web/i18n/{code}.json");
            let asset = asset(&name).unwrap_or_else(|| panic!("{name} is served"));
            serde_json::from_slice(asset.body).unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let english = read("en");
        assert!(english.len() > 50, "the pages' labels");
        for code in crate::domain::OFFICIAL_LANGUAGES {
            let labels = read(code);
            let missing: Vec<&String> = english.keys().filter(|k| !labels.contains_key(*k)).collect();
            let extra: Vec<&String> = labels.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{code}: missing {missing:?}, not in English {extra:?}");
            for (key, text) in &labels {
                assert!(!text.trim().is_empty(), "{code}: {key} is empty");
                assert_eq!(placeholders(text), placeholders(&english[key]), "{code}: {key}");
                if code != "en" && !["title_display", "title_speaker"].contains(&key.as_str()) {
                    // A label left in English is a label not translated (names of
                    // things, such as the code ISO 639-1, aside).
                    assert!(text != &english[key] || text.len() < 4, "{code}: {key} is the English text");
                }
            }
        }
        // Every key the pages use is a label (room.js calls t("key"), the pages data-t="key").
        let script = std::str::from_utf8(include_bytes!("static/room.js")).expect("utf-8");
        let pages = [include_str!("static/display.html"), include_str!("static/speaker.html")];
        let mut used: Vec<String> = Vec::new();
        let keys_after = |text: &str, marker: &str, used: &mut Vec<String>| {
            for (at, _) in text.match_indices(marker) {
                // `t("key"`, not `createElement("li"` or `get("token"`.
                let before = text[..at].chars().next_back().unwrap_or(' ');
                if marker.starts_with('t') && (before.is_alphanumeric() || before == '_' || before == '.') {
                    continue;
                }
                if let Some((key, _)) = text[at + marker.len()..].split_once('"') {
                    used.push(key.to_string());
                }
            }
        };
        keys_after(script, "t(\"", &mut used);
        for page in pages {
            keys_after(page, "data-t=\"", &mut used);
            keys_after(page, "data-t-placeholder=\"", &mut used);
        }
        // Keys made from a code: every statement kind and modality has its label.
        used.retain(|k| !k.ends_with('_'));
        for kind in ["national", "group", "organization", "stakeholder", "reply"] {
            used.push(format!("kind_{kind}"));
        }
        for modality in ["in_room", "remote", "pre_recorded"] {
            used.push(format!("modality_{modality}"));
        }
        for status in ["unknown", "connected", "audio_checked", "technical_issue"] {
            used.push(format!("status_{status}"));
        }
        // The reasons' parts, by the names their values carry (`Why`, `Level` in the domain).
        let why = [
            "both_in_advance",
            "in_advance",
            "first",
            "earlier",
            "stakeholder_slot",
            "statements_between_slots",
            "stakeholders_after_states",
            "groups_first",
            "member_states_first",
            "states_before_organizations",
            "outranks",
            "same_level",
        ];
        used.extend(why.iter().map(|w| format!("why_{w}")));
        for level in [
            crate::domain::Level::HeadOfStateOrGovernment,
            crate::domain::Level::VicePresidentOrCrownPrince,
            crate::domain::Level::Minister,
            crate::domain::Level::ViceMinister,
            crate::domain::Level::HeadOfDelegation,
            crate::domain::Level::Delegate,
        ] {
            let name = serde_json::to_value(level).map(|v| v.as_str().unwrap_or_default().replace('-', "_"));
            used.push(format!("level_{}", name.unwrap_or_default()));
        }
        let unknown: Vec<&String> = used.iter().filter(|k| !english.contains_key(*k)).collect();
        assert!(unknown.is_empty(), "keys the pages use and no language has: {unknown:?}");
        assert!(used.len() > 40, "the scan found the pages' keys: {used:?}");
    }
    use crate::domain::{Actor, Command, apply, decide};
    use chrono::TimeZone;

    #[test]
    fn the_projection_names_the_floor_and_the_list_and_changes_only_with_the_session() {
        let def = crate::config::parse_session(include_str!("../../tests/data/small.toml")).expect("valid");
        let mut s = Session::new(def);
        let t = |secs| chrono::Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, secs).single().expect("time");
        for (i, command) in [
            Command::OpenSegment { segment: "general".into() },
            Command::inscribe("peru"),
            Command::inscribe("ghana"),
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
        let (speaker, modality) = (floor.statement.speaker.as_str(), floor.statement.modality.as_str());
        assert_eq!((speaker, modality, floor.allotted_ms), ("Peru", "in room", 180_000));
        assert_eq!(floor.running_since.as_deref(), Some("2022-05-17T14:00:03.000Z"));
        assert_eq!(
            d.list.iter().map(|e| (e.position, e.statement.speaker.as_str())).collect::<Vec<_>>(),
            [(1, "Ghana")]
        );
        assert_eq!(d.list[0].statement.modality_code, Modality::Remote);
        assert_eq!(project(&s), d, "the same state, the same projection");
    }
}
