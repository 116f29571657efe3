//! Session files (TOML): parsing and validation into a [`SessionDef`], with every
//! problem reported at its line and column.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::domain::{
    Budget, BudgetPer, Constituency, Level, Limits, Modality, Participant, ParticipantKind, Person, Precedence, Region,
    RegionalGroup, RosterField, SegmentDef, SessionDef, StakeholderSlots, person_id,
};

/// One problem in a session file, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Every problem found in a session file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: {}", p.line, p.column, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// The problems, each prefixed with the file's path (`FILE:LINE:COL: message`).
    pub fn render(&self, path: &str) -> String {
        self.problems
            .iter()
            .map(|p| format!("{path}:{}:{}: {}", p.line, p.column, p.message))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

struct Problems<'s> {
    source: &'s str,
    list: Vec<Problem>,
}

impl Problems<'_> {
    fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_column(self.source, span.start);
        self.list.push(Problem { line, column, message: message.into() });
    }
}

/// A duration as written: `"3m"`, `"90s"`, `"2m30s"`, `"1h"`, or whole seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawDuration {
    Seconds(i64),
    Text(String),
}

/// Parse a duration into seconds.
pub fn parse_duration(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut seen_unit = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: u64 = number.parse().ok()?;
        number.clear();
        total = total.checked_add(n.checked_mul(unit)?)?;
        seen_unit = true;
    }
    if !number.is_empty() {
        if seen_unit {
            return None;
        }
        total = number.parse().ok()?;
    }
    u32::try_from(total).ok()
}

#[derive(Debug, Default, Deserialize)]
struct RawLimits {
    national: Option<Spanned<RawDuration>>,
    group: Option<Spanned<RawDuration>>,
    organization: Option<Spanned<RawDuration>>,
    stakeholder: Option<Spanned<RawDuration>>,
    warning: Option<Spanned<RawDuration>>,
    reply_first: Option<Spanned<RawDuration>>,
    reply_second: Option<Spanned<RawDuration>>,
    replies_per_delegation: Option<Spanned<i64>>,
}

/// A chair, officer or rapporteur.
#[derive(Debug, Deserialize)]
struct RawPerson {
    id: Option<Spanned<String>>,
    name: Spanned<String>,
    title: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawSegment {
    id: Spanned<String>,
    title: String,
    start: Spanned<toml::value::Datetime>,
    end: Spanned<toml::value::Datetime>,
    precedence: Option<Spanned<String>>,
    stakeholders: Option<Spanned<String>>,
    alternate_every: Option<Spanned<i64>>,
    #[serde(default)]
    allow_multiple: bool,
    /// Participant ids, or `{ participant = "id", at = DATE-TIME }` with the time
    /// the speaker was inscribed (the e-Speakers list's).
    #[serde(default)]
    inscribed: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    panelists: Vec<Spanned<String>>,
    limits: Option<RawLimits>,
    #[serde(default)]
    budgets: Vec<RawBudget>,
}

#[derive(Debug, Deserialize)]
struct RawBudget {
    per: Spanned<String>,
    time: Spanned<RawDuration>,
    #[serde(default)]
    kinds: Vec<Spanned<String>>,
    #[serde(default)]
    replies: bool,
}

#[derive(Debug, Deserialize)]
struct RawParticipant {
    id: Spanned<String>,
    name: String,
    short: Option<Spanned<String>>,
    kind: Spanned<String>,
    regional_group: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    constituency: Option<Spanned<String>>,
    level: Option<Spanned<String>>,
    modality: Option<Spanned<String>>,
    recording: Option<Spanned<RawDuration>>,
    #[serde(default)]
    members: Vec<Spanned<String>>,
    /// The name in the other official languages (English is `name`).
    name_ar: Option<String>,
    name_zh: Option<String>,
    name_fr: Option<String>,
    name_ru: Option<String>,
    name_es: Option<String>,
}

impl RawParticipant {
    /// The names in other languages the roster gives, by language code.
    fn names(&self) -> BTreeMap<String, String> {
        [
            ("ar", &self.name_ar),
            ("zh", &self.name_zh),
            ("fr", &self.name_fr),
            ("ru", &self.name_ru),
            ("es", &self.name_es),
        ]
        .into_iter()
        .filter_map(|(code, name)| {
            let name = name.as_deref()?.trim();
            (!name.is_empty()).then(|| (code.to_string(), name.to_string()))
        })
        .collect()
    }
}

#[derive(Debug, Deserialize)]
struct RawSession {
    id: Spanned<String>,
    title: String,
    venue: Option<String>,
    start: Spanned<toml::value::Datetime>,
    end: Spanned<toml::value::Datetime>,
    #[serde(default)]
    observers_open: bool,
    numerals: Option<Spanned<String>>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    chairs: Vec<RawPerson>,
    #[serde(default)]
    officers: Vec<RawPerson>,
    #[serde(default)]
    rapporteurs: Vec<RawPerson>,
    segments: Spanned<Vec<Spanned<RawSegment>>>,
    participants: Spanned<Vec<Spanned<RawParticipant>>>,
}

/// Parse and validate a session file's text.
pub fn parse_session(source: &str) -> Result<SessionDef, ConfigError> {
    let mut problems = Problems { source, list: Vec::new() };
    let table = match DeTable::parse(source) {
        Ok(table) => table,
        Err(e) => {
            problems.at(e.span().unwrap_or(0..0), e.message().trim().to_string());
            return Err(ConfigError { problems: problems.list });
        }
    };
    let mut unknown = Vec::new();
    let deserializer = toml::de::Deserializer::from(table.clone());
    let raw: Result<RawSession, _> =
        serde_ignored::deserialize(deserializer, |path| unknown.push(clean_path(&path.to_string())));
    for path in unknown {
        let span = span_of_path(&table, &path).unwrap_or(0..0);
        let mut parts: Vec<&str> = path.split('.').filter(|p| p.parse::<usize>().is_err()).collect();
        let key = parts.pop().unwrap_or_default();
        let hint = did_you_mean(key, keys_of(parts.last().copied().unwrap_or("")).iter().copied());
        problems.at(span, format!("unknown key `{path}`{hint}"));
    }
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            problems.at(e.span().unwrap_or(0..0), e.message().trim().to_string());
            return Err(ConfigError { problems: problems.list });
        }
    };
    let def = validate(raw, &mut problems);
    if problems.list.is_empty() {
        Ok(def)
    } else {
        problems.list.sort_by_key(|p| (p.line, p.column));
        Err(ConfigError { problems: problems.list })
    }
}

/// A serde_ignored path without the markers `Spanned` fields leave in it.
fn clean_path(path: &str) -> String {
    path.split('.').filter(|part| !part.starts_with("$__serde_spanned")).collect::<Vec<_>>().join(".")
}

/// Find the span of a key named by a serde_ignored path such as `segments.1.limits.foo`.
fn span_of_path(table: &Spanned<DeTable<'_>>, path: &str) -> Option<Range<usize>> {
    let mut parts = path.split('.').peekable();
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    let mut current: &DeTable<'_> = table.get_ref();
    while let Some(part) = parts.next() {
        if let Some(v) = value {
            match v.get_ref() {
                DeValue::Array(items) => {
                    let index: usize = part.parse().ok()?;
                    value = items.get(index);
                    if parts.peek().is_none() {
                        return value.map(Spanned::span);
                    }
                    continue;
                }
                DeValue::Table(t) => current = t,
                _ => return None,
            }
        }
        let (key, v) = current.iter().find(|(k, _)| k.get_ref().as_ref() == part)?;
        if parts.peek().is_none() {
            return Some(key.span());
        }
        value = Some(v);
        if let DeValue::Table(t) = v.get_ref() {
            current = t;
            value = None;
        }
    }
    None
}

/// The closest of `candidates` to a misspelt `word`, if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.trim().to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&word, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// " (did you mean `x`?)" when there is a likely intended value.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(word, candidates).map_or_else(String::new, |n| format!(" (did you mean `{n}`?)"))
}

/// An enumerated value written as a string, checked against its allowed names:
/// every bad one is reported (with the nearest valid name), and parsing goes on.
fn choice<T: serde::de::DeserializeOwned>(
    problems: &mut Problems<'_>,
    value: &Spanned<String>,
    key: &str,
    allowed: &[&str],
) -> Option<T> {
    match named(value.get_ref(), key, allowed) {
        Ok(parsed) => Some(parsed),
        Err(why) => {
            problems.at(value.span(), why);
            None
        }
    }
}

/// An enumerated value by its name (`"member-state"`), or why not, with the
/// nearest valid name: the wording of every session file's and import's problem.
pub fn named<T: serde::de::DeserializeOwned>(text: &str, key: &str, allowed: &[&str]) -> Result<T, String> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text)).map_err(|_| {
        let listed = allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
        format!("`{key}` cannot be \"{text}\"{}; it is one of {listed}", did_you_mean(text, allowed.iter().copied()))
    })
}

pub const KINDS: &[&str] = &["member-state", "observer-state", "group-of-states", "un-entity", "igo", "stakeholder"];
pub const REGIONAL_GROUPS: &[&str] = &["african", "asia-pacific", "eastern-european", "grulac", "weog"];
pub const REGIONS: &[&str] = &["africa", "americas", "arab-states", "asia-pacific", "europe", "global"];
pub const CONSTITUENCIES: &[&str] = &[
    "civil-society",
    "migrant-organization",
    "diaspora",
    "youth",
    "trade-union",
    "private-sector",
    "local-authority",
    "academia",
    "nhri",
    "faith-based",
];
pub const LEVELS: &[&str] = &[
    "head-of-state-or-government",
    "vice-president-or-crown-prince",
    "minister",
    "vice-minister",
    "head-of-delegation",
    "delegate",
];
pub const MODALITIES: &[&str] = &["in-room", "remote", "pre-recorded"];
/// The digits of the Arabic pages: `numerals = "arab"` for ٠١٢٣, `"latn"` (the default) for 0123.
pub const NUMERALS: &[&str] = &["latn", "arab"];
const PRECEDENCES: &[&str] = &["inscription", "un-protocol"];
const BUDGET_PER: &[&str] = &["regional-group", "constituency", "kind", "participant"];

/// A segment's speaking-time budgets, each problem at its key.
fn budgets(problems: &mut Problems<'_>, raw: &[RawBudget]) -> Vec<Budget> {
    raw.iter()
        .filter_map(|b| {
            let per: Option<BudgetPer> = choice(problems, &b.per, "per", BUDGET_PER);
            let secs = duration(problems, &b.time, "time");
            let kinds: Vec<ParticipantKind> =
                b.kinds.iter().filter_map(|k| choice(problems, k, "kinds", KINDS)).collect();
            Some(Budget { per: per?, secs: secs?, kinds, replies: b.replies })
        })
        .collect()
}

/// The keys each table of a session file may hold, for suggestions on unknown ones.
fn keys_of(table: &str) -> &'static [&'static str] {
    match table {
        "participants" => &[
            "id",
            "name",
            "short",
            "kind",
            "regional_group",
            "region",
            "constituency",
            "level",
            "modality",
            "recording",
            "members",
            "name_ar",
            "name_zh",
            "name_fr",
            "name_ru",
            "name_es",
        ],
        "segments" => &[
            "id",
            "title",
            "start",
            "end",
            "precedence",
            "stakeholders",
            "alternate_every",
            "allow_multiple",
            "inscribed",
            "panelists",
            "limits",
            "budgets",
        ],
        "limits" => &[
            "national",
            "group",
            "organization",
            "stakeholder",
            "warning",
            "reply_first",
            "reply_second",
            "replies_per_delegation",
        ],
        "chairs" | "officers" | "rapporteurs" => &["id", "name", "title"],
        "budgets" => &["per", "time", "kinds", "replies"],
        _ => &[
            "id",
            "title",
            "venue",
            "start",
            "end",
            "observers_open",
            "numerals",
            "limits",
            "chairs",
            "officers",
            "rapporteurs",
            "segments",
            "participants",
        ],
    }
}

pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn check_id(problems: &mut Problems<'_>, id: &Spanned<String>, what: &str) {
    if !valid_id(id.get_ref()) {
        problems
            .at(id.span(), format!("{what} id \"{}\" must be 1 to 64 lowercase letters, digits or '-'", id.get_ref()));
    }
}

fn datetime(
    problems: &mut Problems<'_>,
    value: &Spanned<toml::value::Datetime>,
    what: &str,
) -> Option<DateTime<FixedOffset>> {
    let text = value.get_ref().to_string();
    match DateTime::parse_from_rfc3339(&text) {
        Ok(dt) => Some(dt),
        Err(_) => {
            problems.at(
                value.span(),
                format!("{what} must be a date and time with an offset, e.g. 2022-05-17T10:00:00-04:00 (got {text})"),
            );
            None
        }
    }
}

fn duration(problems: &mut Problems<'_>, value: &Spanned<RawDuration>, key: &str) -> Option<u32> {
    let parsed = match value.get_ref() {
        RawDuration::Seconds(n) => u32::try_from(*n).ok(),
        RawDuration::Text(text) => parse_duration(text),
    };
    match parsed {
        Some(secs) if secs > 0 && secs <= 24 * 3600 => Some(secs),
        _ => {
            let shown = match value.get_ref() {
                RawDuration::Seconds(n) => n.to_string(),
                RawDuration::Text(t) => format!("\"{t}\""),
            };
            let hint = match value.get_ref() {
                RawDuration::Text(t) => {
                    let mut guess = t.to_lowercase().replace(' ', "");
                    for (long, unit) in [
                        ("minutes", "m"),
                        ("minute", "m"),
                        ("mins", "m"),
                        ("min", "m"),
                        ("seconds", "s"),
                        ("second", "s"),
                        ("secs", "s"),
                        ("sec", "s"),
                        ("hours", "h"),
                        ("hour", "h"),
                    ] {
                        guess = guess.replace(long, unit);
                    }
                    match parse_duration(&guess) {
                        Some(secs) if secs > 0 && guess != *t => format!(" (did you mean \"{guess}\"?)"),
                        _ => String::new(),
                    }
                }
                RawDuration::Seconds(_) => String::new(),
            };
            problems.at(
                value.span(),
                format!("`{key}`: bad duration {shown}{hint}: use e.g. \"3m\", \"90s\", \"2m30s\" or whole seconds, from 1 s to 24 h"),
            );
            None
        }
    }
}

type Time = DateTime<FixedOffset>;

/// One entry of a segment's `inscribed`: a participant id, or a table with the
/// id, the time the speaker was inscribed and the language of the statement.
struct Inscription {
    participant: String,
    at: Option<Time>,
    language: Option<String>,
}

/// One entry of a segment's `inscribed`, checked: `None` (with a problem at the
/// entry) when it is not one.
fn inscription(problems: &mut Problems<'_>, item: &Spanned<toml::Value>) -> Option<Inscription> {
    const SHAPE: &str = "an entry of `inscribed` is a participant id, or { participant = \"id\", at = 2022-05-10T09:12:00-04:00, language = \"fr\" } (`at` and `language` may be left out)";
    const KEYS: [&str; 3] = ["participant", "at", "language"];
    let table = match item.get_ref() {
        toml::Value::String(id) => return Some(Inscription { participant: id.clone(), at: None, language: None }),
        toml::Value::Table(table) => table,
        _ => {
            problems.at(item.span(), SHAPE);
            return None;
        }
    };
    if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        let hint = did_you_mean(key, KEYS);
        problems.at(item.span(), format!("unknown key `{key}` in an entry of `inscribed`{hint}: {SHAPE}"));
        return None;
    }
    let Some(participant) = table.get("participant").and_then(toml::Value::as_str) else {
        problems.at(item.span(), format!("this entry of `inscribed` names no `participant`: {SHAPE}"));
        return None;
    };
    let at = table.get("at").map(|v| v.as_datetime().and_then(|d| DateTime::parse_from_rfc3339(&d.to_string()).ok()));
    let at = match at {
        None => None,
        Some(Some(at)) => Some(at),
        Some(None) => {
            problems.at(item.span(), format!("this entry's `at` must be a date and time with an offset: {SHAPE}"));
            return None;
        }
    };
    // Which codes are languages is the domain's rule, as for an inscription made during the session.
    let language = match table.get("language") {
        None => None,
        Some(toml::Value::String(code)) => match crate::domain::statement_language(code) {
            Ok(code) => Some(code),
            Err(rejection) => {
                problems.at(item.span(), format!("this entry's `language`: {}", rejection.reason));
                return None;
            }
        },
        Some(_) => {
            problems
                .at(item.span(), format!("this entry's `language` must be a code in quotes, such as \"fr\": {SHAPE}"));
            return None;
        }
    };
    Some(Inscription { participant: participant.to_string(), at, language })
}

fn limits(problems: &mut Problems<'_>, raw: &RawLimits, base: Limits) -> Limits {
    let mut out = base;
    let fields: [(&Option<Spanned<RawDuration>>, &mut u32, &str); 7] = [
        (&raw.national, &mut out.national, "national"),
        (&raw.group, &mut out.group, "group"),
        (&raw.organization, &mut out.organization, "organization"),
        (&raw.stakeholder, &mut out.stakeholder, "stakeholder"),
        (&raw.warning, &mut out.warning, "warning"),
        (&raw.reply_first, &mut out.reply_first, "reply_first"),
        (&raw.reply_second, &mut out.reply_second, "reply_second"),
    ];
    for (value, slot, key) in fields {
        if let Some(value) = value
            && let Some(secs) = duration(problems, value, key)
        {
            *slot = secs;
        }
    }
    if let Some(n) = &raw.replies_per_delegation {
        match u32::try_from(*n.get_ref()) {
            Ok(n) if n <= 10 => out.replies_per_delegation = n,
            _ => problems.at(n.span(), "`replies_per_delegation` must be a whole number from 0 to 10"),
        }
    }
    out
}

fn validate(raw: RawSession, problems: &mut Problems<'_>) -> SessionDef {
    check_id(problems, &raw.id, "session");
    let start = datetime(problems, &raw.start, "`start`");
    let end = datetime(problems, &raw.end, "`end`");
    if let (Some(s), Some(e)) = (start, end)
        && s >= e
    {
        problems.at(raw.end.span(), "the session's `end` must come after its `start`");
    }
    let base = limits(problems, &raw.limits, Limits::default());

    // Participants first: segments refer to them.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for p in raw.participants.get_ref() {
        let id = &p.get_ref().id;
        if let Some(first) = seen.get(id.get_ref()) {
            let (line, _) = line_column(problems.source, *first);
            problems.at(id.span(), format!("duplicate participant id \"{}\" (first at line {line})", id.get_ref()));
        } else {
            seen.insert(id.get_ref().clone(), id.span().start);
        }
    }
    let known = |id: &str| seen.contains_key(id);
    let participants: Vec<Participant> =
        raw.participants.get_ref().iter().map(|p| participant(problems, p.get_ref(), &known)).collect();
    if participants.is_empty() {
        problems.at(raw.participants.span(), "the roster has no participants");
    }

    let mut segment_ids: HashMap<String, usize> = HashMap::new();
    let mut segments = Vec::new();
    let mut previous_start: Option<DateTime<FixedOffset>> = None;
    for spanned in raw.segments.get_ref() {
        let s = spanned.get_ref();
        check_id(problems, &s.id, "segment");
        if let Some(first) = segment_ids.get(s.id.get_ref()) {
            let (line, _) = line_column(problems.source, *first);
            problems.at(s.id.span(), format!("duplicate segment id \"{}\" (first at line {line})", s.id.get_ref()));
        } else {
            segment_ids.insert(s.id.get_ref().clone(), s.id.span().start);
        }
        let seg_start = datetime(problems, &s.start, "the segment's `start`");
        let seg_end = datetime(problems, &s.end, "the segment's `end`");
        if let (Some(a), Some(b)) = (seg_start, seg_end) {
            if a >= b {
                problems.at(s.end.span(), "the segment's `end` must come after its `start`");
            }
            if start.is_some_and(|st| a < st) || end.is_some_and(|en| b > en) {
                problems.at(s.start.span(), "the segment must lie within the session's `start` and `end`");
            }
            if previous_start.is_some_and(|p| a < p) {
                problems.at(s.start.span(), "segments must be listed in the order of their `start`");
            }
            previous_start = Some(a);
        }
        let stakeholders = match (s.stakeholders.as_ref().map(|v| v.get_ref().as_str()), &s.alternate_every) {
            (None | Some("after-states"), None) => StakeholderSlots::AfterStates,
            (None | Some("after-states"), Some(every)) => {
                problems.at(every.span(), "`alternate_every` goes with `stakeholders = \"alternate\"`");
                StakeholderSlots::AfterStates
            }
            (Some("alternate"), every) => {
                let every = match every {
                    None => 3,
                    Some(v) => match u32::try_from(*v.get_ref()) {
                        Ok(n) if n >= 1 => n,
                        _ => {
                            problems.at(v.span(), "`alternate_every` must be a whole number of at least 1");
                            3
                        }
                    },
                };
                StakeholderSlots::Alternate { every }
            }
            (Some(other), _) => {
                if let Some(v) = &s.stakeholders {
                    let hint = did_you_mean(other, ["after-states", "alternate"]);
                    problems.at(
                        v.span(),
                        format!("`stakeholders` must be \"after-states\" or \"alternate\", not \"{other}\"{hint}"),
                    );
                }
                StakeholderSlots::AfterStates
            }
        };
        let mut inscribed_seen: HashMap<String, ()> = HashMap::new();
        let roster_ids = || seen.keys().map(String::as_str);
        let inscriptions: Vec<(&Spanned<toml::Value>, Inscription)> =
            s.inscribed.iter().filter_map(|item| inscription(problems, item).map(|i| (item, i))).collect();
        for (item, Inscription { participant: id, .. }) in &inscriptions {
            if !known(id) {
                let hint = did_you_mean(id, roster_ids());
                problems.at(item.span(), format!("unknown participant \"{id}\" in `inscribed`{hint}"));
            } else if !s.allow_multiple && inscribed_seen.insert(id.clone(), ()).is_some() {
                problems
                    .at(item.span(), format!("\"{id}\" is inscribed twice; set `allow_multiple = true` to allow it"));
            }
        }
        for id in &s.panelists {
            if !known(id.get_ref()) {
                let hint = did_you_mean(id.get_ref(), roster_ids());
                problems.at(id.span(), format!("unknown participant \"{}\" in `panelists`{hint}", id.get_ref()));
            }
        }
        let seg_limits = s.limits.as_ref().map_or(base, |l| limits(problems, l, base));
        let fallback = start.unwrap_or_default();
        segments.push(SegmentDef {
            id: s.id.get_ref().clone(),
            title: s.title.clone(),
            start: seg_start.unwrap_or(fallback),
            end: seg_end.unwrap_or(fallback),
            precedence: s
                .precedence
                .as_ref()
                .and_then(|p| choice(problems, p, "precedence", PRECEDENCES))
                .unwrap_or(Precedence::Inscription),
            stakeholders,
            allow_multiple: s.allow_multiple,
            limits: seg_limits,
            inscribed_at: if inscriptions.iter().any(|(_, i)| i.at.is_some()) {
                inscriptions.iter().map(|(_, i)| i.at.or(start).unwrap_or(fallback)).collect()
            } else {
                Vec::new()
            },
            inscribed_language: if inscriptions.iter().any(|(_, i)| i.language.is_some()) {
                inscriptions.iter().map(|(_, i)| i.language.clone()).collect()
            } else {
                Vec::new()
            },
            inscribed: inscriptions.into_iter().map(|(_, i)| i.participant).collect(),
            panelists: s.panelists.iter().map(|i| i.get_ref().clone()).collect(),
            budgets: budgets(problems, &s.budgets),
        });
    }
    if segments.is_empty() {
        problems.at(raw.segments.span(), "a session needs at least one segment");
    }
    let (chairs, officers, rapporteurs) = people(problems, raw.chairs, raw.officers, raw.rapporteurs);
    let fallback = start.unwrap_or_default();
    let numerals = raw.numerals.as_ref().and_then(|n| choice(problems, n, "numerals", NUMERALS)).unwrap_or_default();
    SessionDef {
        id: raw.id.get_ref().clone(),
        title: raw.title,
        venue: raw.venue,
        start: start.unwrap_or(fallback),
        end: end.unwrap_or(fallback),
        observers_open: raw.observers_open,
        chairs,
        officers,
        rapporteurs,
        segments,
        participants,
        numerals,
        roster: Default::default(),
    }
}

/// The people the file names, each with an id unique among them all (given, or
/// made from the name), so that each gets a credential of their own.
fn people(
    problems: &mut Problems<'_>,
    chairs: Vec<RawPerson>,
    officers: Vec<RawPerson>,
    rapporteurs: Vec<RawPerson>,
) -> (Vec<Person>, Vec<Person>, Vec<Person>) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut read = |list: Vec<RawPerson>, problems: &mut Problems<'_>| -> Vec<Person> {
        list.into_iter()
            .map(|raw| {
                let name = raw.name.get_ref().trim().to_string();
                if name.is_empty() {
                    problems.at(raw.name.span(), "a person's `name` is empty");
                }
                let (id, span) = match &raw.id {
                    Some(id) => {
                        check_id(problems, id, "person");
                        (id.get_ref().clone(), id.span())
                    }
                    None => (person_id(&name), raw.name.span()),
                };
                if id == crate::domain::SECRETARIAT {
                    problems.at(
                        span.clone(),
                        format!(
                            "the id \"{id}\" is the forum's: the hub records its secretariat credential under it; give this person an `id` of its own"
                        ),
                    );
                } else if let Some(first) = seen.get(&id) {
                    let (line, _) = line_column(problems.source, *first);
                    problems.at(
                        span.clone(),
                        format!("two people have the id \"{id}\" (first at line {line}): give one an `id` of its own"),
                    );
                } else if !id.is_empty() {
                    seen.insert(id.clone(), span.start);
                }
                Person { id, name, title: raw.title }
            })
            .collect()
    };
    let chairs = read(chairs, problems);
    let officers = read(officers, problems);
    let rapporteurs = read(rapporteurs, problems);
    (chairs, officers, rapporteurs)
}

fn participant(problems: &mut Problems<'_>, p: &RawParticipant, known: &dyn Fn(&str) -> bool) -> Participant {
    let kind: Option<ParticipantKind> = choice(problems, &p.kind, "kind", KINDS);
    let name = p.id.get_ref();
    let regional_group: Option<RegionalGroup> =
        p.regional_group.as_ref().and_then(|g| choice(problems, g, "regional_group", REGIONAL_GROUPS));
    let region: Option<Region> = p.region.as_ref().and_then(|r| choice(problems, r, "region", REGIONS));
    let constituency: Option<Constituency> =
        p.constituency.as_ref().and_then(|c| choice(problems, c, "constituency", CONSTITUENCIES));
    let level: Option<Level> = p.level.as_ref().and_then(|l| choice(problems, l, "level", LEVELS));
    let modality =
        p.modality.as_ref().and_then(|m| choice(problems, m, "modality", MODALITIES)).unwrap_or(Modality::InRoom);
    let short = p.short.as_ref().map(|s| s.get_ref().trim().to_string()).filter(|s| !s.is_empty());
    // The rules below depend on the kind: without a valid one, its problem is enough.
    let Some(kind) = kind else {
        return Participant {
            id: name.clone(),
            name: p.name.clone(),
            short,
            kind: ParticipantKind::Stakeholder,
            regional_group,
            region,
            constituency,
            level,
            modality,
            recording_secs: None,
            members: Vec::new(),
            names: p.names(),
        };
    };
    let recording_secs = p.recording.as_ref().and_then(|r| duration(problems, r, "recording"));
    let participant = Participant {
        id: p.id.get_ref().clone(),
        name: p.name.clone(),
        short,
        kind,
        regional_group,
        region,
        constituency,
        level,
        modality,
        recording_secs,
        members: p.members.iter().map(|m| m.get_ref().clone()).collect(),
        names: p.names(),
    };
    // The roster's rules are the domain's (the same for a participant registered
    // during the session); here each problem points at its key.
    for (field, message) in participant.problems(known) {
        let span = match field {
            RosterField::Id => Some(p.id.span()),
            RosterField::Name => Some(p.id.span()),
            RosterField::RegionalGroup => p.regional_group.as_ref().map(Spanned::span),
            RosterField::Constituency => p.constituency.as_ref().map(Spanned::span),
            RosterField::Level => p.level.as_ref().map(Spanned::span),
            // A bad recording length is reported by `duration` already.
            RosterField::Modality if p.recording.is_some() => continue,
            RosterField::Modality => p.modality.as_ref().map(Spanned::span),
            RosterField::Recording => p.recording.as_ref().map(Spanned::span),
            RosterField::Member(n) => p.members.get(n).map(Spanned::span),
        };
        problems.at(span.unwrap_or(p.id.span()), message);
    }
    participant
}

pub mod import;

#[cfg(test)]
mod tests;
