//! Sessions prepared from data: a session file's roster from a registration list,
//! and a segment's pre-inscriptions from the e-Speakers list, both CSV files (their
//! columns are in docs/session-file.md).
//!
//! Every problem is named with its line, its column and the column's name, all at
//! once; nothing is written while anything is wrong; nothing is dropped silently
//! (the summary says what the rows became, and what left the roster). The session
//! file keeps every byte outside the part the import replaces, and the result must
//! pass the session file's own validation before it is written. Importing the same
//! list twice changes nothing the second time.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use serde::Serialize;
use toml::de::{DeTable, DeValue};

use super::{
    CONSTITUENCIES, KINDS, LEVELS, MODALITIES, REGIONAL_GROUPS, REGIONS, did_you_mean, line_column, named, nearest,
    parse_duration, parse_session, valid_id,
};
use crate::domain::{Participant, ParticipantKind, RosterField, SessionDef};

/// Which file a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The CSV list.
    List,
    /// The session file (as the import would leave it, at its lines as they are now).
    Session,
}

/// One problem, at a 1-based line and column of its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub source: Source,
    pub line: usize,
    pub column: usize,
    /// The CSV column it is in, as the list's header names it.
    pub field: Option<String>,
    pub message: String,
}

/// Why nothing was written: every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub problems: Vec<Problem>,
    /// What the reader noticed on the way (a semicolon-separated list, a byte-order mark).
    pub notes: Vec<String>,
}

impl Refused {
    fn one(source: Source, message: impl Into<String>) -> Self {
        Self {
            problems: vec![Problem { source, line: 0, column: 0, field: None, message: message.into() }],
            notes: Vec::new(),
        }
    }

    /// `FILE:LINE:COL: column `kind`: message`, one a line, then how many.
    pub fn render(&self, list: &str, session: &str) -> String {
        let mut lines: Vec<String> = self.notes.iter().map(|n| format!("{list}: {n}")).collect();
        for p in &self.problems {
            let file = match p.source {
                Source::List => list,
                Source::Session => session,
            };
            let field = p.field.as_ref().map(|f| format!("column `{f}`: ")).unwrap_or_default();
            let at = if p.line == 0 { String::new() } else { format!(":{}:{}", p.line, p.column) };
            lines.push(format!("{file}{at}: {field}{}", p.message));
        }
        lines.push(format!("{} problem(s); nothing was written to {session}", self.problems.len()));
        lines.join("\n")
    }
}

/// What an import made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The session file's new text.
    pub text: String,
    /// Whether it differs from the file's text now.
    pub changed: bool,
    /// What happened, one line each, for the user.
    pub summary: Vec<String>,
}

// ---- Reading a CSV list ----

/// A cell of the list, where it stands.
#[derive(Debug, Clone)]
struct Cell {
    text: String,
    line: usize,
    column: usize,
}

#[derive(Debug, Clone)]
struct Row {
    line: usize,
    cells: Vec<Cell>,
}

/// A list read: its columns (by their normalized key), its rows with at least one
/// value, and what was noticed.
#[derive(Debug)]
struct Sheet {
    /// Normalized key and the header's own text, in the file's order.
    columns: Vec<(String, String)>,
    rows: Vec<Row>,
    /// Lines of rows with no value at all (skipped, and said).
    empty: Vec<usize>,
    notes: Vec<String>,
}

impl Sheet {
    fn index(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|(k, _)| k == key)
    }
    /// A row's cell of column `key` (trimmed text), if the list has the column.
    fn cell<'r>(&self, row: &'r Row, key: &str) -> Option<&'r Cell> {
        self.index(key).and_then(|i| row.cells.get(i))
    }
    fn value<'r>(&self, row: &'r Row, key: &str) -> Option<&'r str> {
        self.cell(row, key).map(|c| c.text.as_str()).filter(|t| !t.is_empty())
    }
    /// The header's name for a column key ("Regional group" for `regional_group`).
    fn shown(&self, key: &str) -> String {
        self.columns.iter().find(|(k, _)| k == key).map_or_else(|| key.to_string(), |(_, shown)| shown.clone())
    }
    /// A problem at a row's cell of column `key` (at the row's start when the list lacks it).
    fn at(&self, row: &Row, key: &str, message: impl Into<String>) -> Problem {
        let (line, column) = self.cell(row, key).map_or((row.line, 1), |c| (c.line, c.column));
        Problem { source: Source::List, line, column, field: Some(self.shown(key)), message: message.into() }
    }
}

/// A header's or value's normal form: trimmed, lower case, `_` and spaces as `-`.
fn normal(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// A header's key: its normal form with `_` (the session file's key).
fn column_key(text: &str) -> String {
    normal(text).replace('-', "_")
}

/// Where each field of the record starting at `start` begins (byte offsets),
/// following RFC 4180 quoting.
fn field_starts(text: &str, start: usize, count: usize, delimiter: u8) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![start];
    let mut quoted = false;
    let mut i = start;
    while i < bytes.len() && starts.len() < count {
        match bytes[i] {
            b'"' => quoted = !quoted,
            b if b == delimiter && !quoted => starts.push(i + 1),
            b'\n' | b'\r' if !quoted => break,
            _ => {}
        }
        i += 1;
    }
    while starts.len() < count {
        starts.push(i);
    }
    starts
}

/// Read a CSV list: a byte-order mark is skipped, the separator (`,`, `;` or a
/// tab) is the one that makes the most known column names of the header (said
/// when it is not a comma), and every row with a value is kept with where each of
/// its cells stands.
/// Problems of the list's shape (an unknown column, a row with a stray field) come
/// with the sheet, so that every row is still checked; only a list that cannot be
/// read at all is refused here.
fn read_sheet(
    bytes: &[u8],
    known: &[&str],
    aliases: &[(&str, &str)],
    required: &[&str],
) -> Result<(Sheet, Vec<Problem>), Refused> {
    let mut notes = Vec::new();
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Refused::one(
            Source::List,
            "the list is UTF-16 text: save it as CSV UTF-8 (in a spreadsheet: Save as, \"CSV UTF-8\")",
        ));
    }
    let bytes = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => {
            notes.push("it begins with a UTF-8 byte-order mark (BOM), which was skipped".to_string());
            rest
        }
        None => bytes,
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            // Not UTF-8 (Latin-1, Windows-1252…): say where, nothing is guessed.
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = line_column(valid, valid.len());
            return Err(Refused {
                problems: vec![Problem {
                    source: Source::List,
                    line,
                    column,
                    field: None,
                    message:
                        "this is not UTF-8 text: save the list as CSV UTF-8 (in a spreadsheet: Save as, \"CSV UTF-8\")"
                            .to_string(),
                }],
                notes,
            });
        }
    };
    let resolve = |header: &str| {
        let key = column_key(header);
        aliases.iter().find(|(alias, _)| *alias == key).map_or(key, |(_, to)| to.to_string())
    };
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let known_in = |delimiter: char| {
        first.split(delimiter).filter(|h| known.contains(&resolve(h.trim_matches('"')).as_str())).count()
    };
    let delimiter = [',', ';', '\t'].into_iter().max_by_key(|d| (known_in(*d), *d == ',')).unwrap_or(',');
    match delimiter {
        ';' => notes.push("read as semicolon-separated: its header has `;` between the columns".to_string()),
        '\t' => notes.push("read as tab-separated: its header has tabs between the columns".to_string()),
        _ => {}
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter as u8)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut problems = Vec::new();
    let mut records = Vec::new();
    for result in reader.records() {
        match result {
            Ok(record) => {
                let start = record.position().map_or(0, |p| p.byte() as usize);
                let starts = field_starts(text, start, record.len(), delimiter as u8);
                let cells = record
                    .iter()
                    .zip(starts)
                    .map(|(value, at)| {
                        let (line, column) = line_column(text, at);
                        Cell { text: value.trim().to_string(), line, column }
                    })
                    .collect();
                records.push(Row { line: line_column(text, start).0, cells });
            }
            Err(e) => {
                let line = e.position().map_or(1, |p| p.line() as usize);
                problems.push(Problem { source: Source::List, line, column: 1, field: None, message: e.to_string() });
            }
        }
    }
    let mut rows = records.into_iter();
    let Some(header) = rows.next() else {
        return Err(Refused {
            problems: vec![Problem {
                source: Source::List,
                line: 1,
                column: 1,
                field: None,
                message: "the list is empty: its first line names the columns".into(),
            }],
            notes,
        });
    };
    let mut columns: Vec<(String, String)> = Vec::new();
    for cell in &header.cells {
        let key = resolve(&cell.text);
        let problem = |message: String| Problem {
            source: Source::List,
            line: cell.line,
            column: cell.column,
            field: Some(cell.text.clone()),
            message,
        };
        if !known.contains(&key.as_str()) {
            let hint = did_you_mean(&key, known.iter().copied());
            problems.push(problem(format!(
                "`{}` is not a column of this list{hint}; the columns are: {}",
                cell.text,
                known.join(", ")
            )));
        } else if columns.iter().any(|(k, _)| *k == key) {
            problems.push(problem(format!("the column `{key}` is given twice")));
        }
        columns.push((key, cell.text.clone()));
    }
    for key in required {
        if !columns.iter().any(|(k, _)| k == key) {
            problems.push(Problem {
                source: Source::List,
                line: header.line,
                column: 1,
                field: None,
                message: format!("the header has no `{key}` column; the columns are: {}", known.join(", ")),
            });
        }
    }
    let mut kept = Vec::new();
    let mut empty = Vec::new();
    for row in rows {
        if row.cells.iter().all(|c| c.text.is_empty()) {
            empty.push(row.line);
            continue;
        }
        let (got, want) = (row.cells.len(), columns.len());
        if got > want {
            let stray = &row.cells[want];
            problems.push(Problem {
                source: Source::List,
                line: stray.line,
                column: stray.column,
                field: None,
                message: format!(
                    "a stray field \"{}\" after the last column (`{}`): this row has {got} fields and the header {want} (a value with a `{delimiter}` in it needs quotes: \"Bolivia{delimiter} Plurinational State of\")",
                    stray.text,
                    columns.last().map_or("", |(_, shown)| shown.as_str())
                ),
            });
            continue;
        }
        if got < want {
            let last = row.cells.last().map_or((row.line, 1), |c| (c.line, c.column + c.text.chars().count()));
            problems.push(Problem {
                source: Source::List,
                line: last.0,
                column: last.1,
                field: columns.get(got).map(|(_, shown)| shown.clone()),
                message: format!("this row has {got} fields and the header {want}: the last {} missing", want - got),
            });
            continue;
        }
        kept.push(row);
    }
    Ok((Sheet { columns, rows: kept, empty, notes }, problems))
}

// ---- Values ----

/// Values a list may write in words, with the session file's name for each.
const SPELLED: &[(&str, &str)] = &[
    ("intergovernmental-organization", "igo"),
    ("intergovernmental-organisation", "igo"),
    ("un-agency", "un-entity"),
    ("african-states", "african"),
    ("asia-pacific-states", "asia-pacific"),
    ("eastern-european-states", "eastern-european"),
    ("latin-american-and-caribbean-states", "grulac"),
    ("western-european-and-other-states", "weog"),
    ("western-european-and-others", "weog"),
    ("in-person", "in-room"),
    ("online", "remote"),
    ("national-human-rights-institution", "nhri"),
];

/// An optional cell's enumerated value; a bad one is a problem.
fn optional<T: serde::de::DeserializeOwned>(
    sheet: &Sheet,
    row: &Row,
    key: &str,
    allowed: &[&str],
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let text = sheet.value(row, key)?;
    value_of(text, key, allowed).map_err(|why| problems.push(sheet.at(row, key, why))).ok()
}

/// An enumerated value of a cell, in the session file's words or the screens'.
fn value_of<T: serde::de::DeserializeOwned>(text: &str, key: &str, allowed: &[&str]) -> Result<T, String> {
    let normal = normal(text);
    let normal = SPELLED.iter().find(|(words, _)| *words == normal).map_or(normal.as_str(), |(_, to)| to);
    named(normal, key, allowed).map_err(|_: String| {
        let listed = allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
        format!("`{key}` cannot be \"{text}\"{}; it is one of {listed}", did_you_mean(normal, allowed.iter().copied()))
    })
}

/// A participant id made from a name: "Côte d'Ivoire" → `cote-divoire`.
pub fn id_from_name(name: &str) -> String {
    const LATIN: &[(&str, char)] = &[
        ("àáâãäåāăą", 'a'),
        ("çćĉċč", 'c'),
        ("ďđ", 'd'),
        ("èéêëēĕėęě", 'e'),
        ("ĝğġģ", 'g'),
        ("ĥħ", 'h'),
        ("ìíîïĩīĭįı", 'i'),
        ("ĵ", 'j'),
        ("ķ", 'k'),
        ("ĺļľŀł", 'l'),
        ("ñńņňŉ", 'n'),
        ("òóôõöøōŏő", 'o'),
        ("ŕŗř", 'r'),
        ("śŝşšș", 's'),
        ("ţťŧț", 't'),
        ("ùúûüũūŭůűų", 'u'),
        ("ŵ", 'w'),
        ("ýÿŷ", 'y'),
        ("źżž", 'z'),
    ];
    let mut id = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = LATIN.iter().find(|(from, _)| from.contains(c)).map_or(c, |(_, to)| *to);
        match c {
            'a'..='z' | '0'..='9' => id.push(c),
            'æ' => id.push_str("ae"),
            'œ' => id.push_str("oe"),
            'ß' => id.push_str("ss"),
            // An apostrophe joins: "d'Ivoire" → "divoire".
            '\'' | '’' | '`' => {}
            _ if !id.is_empty() && !id.ends_with('-') => id.push('-'),
            _ => {}
        }
    }
    id.trim_end_matches('-').chars().take(64).collect::<String>().trim_end_matches('-').to_string()
}

fn kebab<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A duration as a session file writes it: `4m`, `2m30s`, `1h`.
fn duration_text(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() { "0s".to_string() } else { out }
}

// ---- Editing the session file's text ----

/// A table header line of a TOML text (`[name]` or `[[name]]`): where its line starts, and its name.
struct Header {
    start: usize,
    name: String,
}

/// Every table header of a TOML text, in order (lines inside multi-line strings are not headers).
fn headers(text: &str) -> Vec<Header> {
    let mut out = Vec::new();
    let mut in_string: Option<&str> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if in_string.is_none() && trimmed.starts_with('[') {
            let inner = trimmed.trim_start_matches('[');
            if let Some(end) = inner.find(']') {
                let name: String =
                    inner[..end].split('.').map(|p| p.trim().trim_matches('"')).collect::<Vec<_>>().join(".");
                out.push(Header { start, name });
            }
        }
        for quote in ["\"\"\"", "'''"] {
            let count = line.matches(quote).count();
            if count % 2 == 1 {
                in_string = match in_string {
                    Some(open) if open == quote => None,
                    None => Some(quote),
                    other => other,
                };
            }
        }
    }
    out
}

/// The byte ranges of every `[[participants]]` table: from its header to the next
/// header, leaving the blank and comment lines just before a table of another name
/// to that table (they head it).
fn participant_tables(text: &str) -> Vec<std::ops::Range<usize>> {
    let all = headers(text);
    let mut ranges = Vec::new();
    for (i, h) in all.iter().enumerate() {
        if h.name != "participants" {
            continue;
        }
        let next = all.get(i + 1);
        let mut end = next.map_or(text.len(), |n| n.start);
        if next.is_some_and(|n| n.name != "participants") {
            // Walk back over the blank and comment lines before the next table.
            while end > h.start {
                let before = &text[h.start..end];
                // The last line of `before` (it ends with its newline).
                let body = before.strip_suffix('\n').unwrap_or(before);
                let line_start = body.rfind('\n').map_or(h.start, |i| h.start + i + 1);
                if line_start <= h.start {
                    break;
                }
                let line = text[line_start..end].trim();
                if line.is_empty() || line.starts_with('#') {
                    end = line_start;
                } else {
                    break;
                }
            }
        }
        ranges.push(h.start..end);
    }
    ranges
}

/// Edits of a text: replaced ranges of the old text and their new text, so that a
/// place in the new text can be found again in the old one.
struct Edit {
    old: std::ops::Range<usize>,
    new: String,
}

fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in edits {
        out.push_str(&text[at..e.old.start]);
        out.push_str(&e.new);
        at = e.old.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The old text's offset of a new text's offset (inside an edit: where it began).
fn old_offset(edits: &[Edit], new_offset: usize) -> usize {
    let mut shift: isize = 0;
    for e in edits {
        let new_start = (e.old.start as isize + shift) as usize;
        if new_offset < new_start {
            break;
        }
        if new_offset < new_start + e.new.len() {
            return e.old.start;
        }
        shift += e.new.len() as isize - e.old.len() as isize;
    }
    (new_offset as isize - shift).max(0) as usize
}

/// The session file after the edits, checked as `rostrum check` checks it: every
/// problem at its place in the file as it is now.
fn checked(session: &str, edits: &[Edit]) -> Result<(String, SessionDef), Vec<Problem>> {
    let text = apply_edits(session, edits);
    parse_session(&text).map(|def| (text.clone(), def)).map_err(|e| {
        e.problems
            .iter()
            .map(|p| {
                // The problem's offset in the new text, found from its line and column.
                let line_start: usize = text.split_inclusive('\n').take(p.line - 1).map(str::len).sum();
                let offset =
                    line_start + text[line_start..].chars().take(p.column - 1).map(char::len_utf8).sum::<usize>();
                let (line, column) = line_column(session, old_offset(edits, offset));
                Problem {
                    source: Source::Session,
                    line,
                    column,
                    field: None,
                    message: format!("{} (after the import)", p.message),
                }
            })
            .collect()
    })
}

// ---- The roster ----

/// The roster list's columns, in the order docs/session-file.md gives them.
pub const ROSTER_COLUMNS: [&str; 16] = [
    "name",
    "kind",
    "regional_group",
    "constituency",
    "level",
    "modality",
    "short",
    "id",
    "members",
    "region",
    "recording",
    "name_ar",
    "name_zh",
    "name_fr",
    "name_ru",
    "name_es",
];

const ROSTER_ALIASES: &[(&str, &str)] = &[("short_name", "short"), ("type", "kind"), ("group", "regional_group")];

/// One row read as a participant, with how its id was made.
struct Read {
    row: usize,
    participant: Participant,
    /// `members` as written: ids or names of other rows.
    members: Vec<String>,
    id_given: bool,
}

/// A participant's `[[participants]]` table, its keys in the session file's order.
fn participant_toml(p: &Participant) -> String {
    let mut out = String::from("[[participants]]\n");
    let mut key = |k: &str, v: String| out.push_str(&format!("{k} = {v}\n"));
    key("id", quoted(&p.id));
    key("name", quoted(&p.name));
    if let Some(short) = &p.short {
        key("short", quoted(short));
    }
    key("kind", quoted(&kebab(&p.kind)));
    if let Some(g) = p.regional_group {
        key("regional_group", quoted(&kebab(&g)));
    }
    if let Some(r) = p.region {
        key("region", quoted(&kebab(&r)));
    }
    if let Some(c) = p.constituency {
        key("constituency", quoted(&kebab(&c)));
    }
    if let Some(l) = p.level {
        key("level", quoted(&kebab(&l)));
    }
    key("modality", quoted(&kebab(&p.modality)));
    if let Some(secs) = p.recording_secs {
        key("recording", quoted(&duration_text(secs)));
    }
    if !p.members.is_empty() {
        key("members", format!("[{}]", p.members.iter().map(|m| quoted(m)).collect::<Vec<_>>().join(", ")));
    }
    for (code, name) in &p.names {
        key(&format!("name_{code}"), quoted(name));
    }
    out
}

/// The ids of the roster a session file holds now (read loosely: the file need not be valid yet).
fn roster_ids(session: &str) -> Vec<String> {
    let Ok(table) = session.parse::<toml::Table>() else { return Vec::new() };
    let Some(toml::Value::Array(list)) = table.get("participants") else { return Vec::new() };
    list.iter().filter_map(|p| p.get("id").and_then(toml::Value::as_str)).map(str::to_string).collect()
}

/// Fill a session file's roster from a registration list: the `[[participants]]`
/// tables are replaced by one per row, and everything else is kept byte for byte.
pub fn roster(list: &[u8], session: &str) -> Result<Imported, Refused> {
    let (sheet, mut problems) = read_sheet(list, &ROSTER_COLUMNS, ROSTER_ALIASES, &["name", "kind"])?;
    let mut read: Vec<Read> = Vec::new();
    for (row_index, row) in sheet.rows.iter().enumerate() {
        let before = problems.len();
        let name = sheet.value(row, "name").unwrap_or_default().to_string();
        if name.is_empty() {
            problems.push(sheet.at(row, "name", "the participant has no name"));
        }
        let kind: Option<ParticipantKind> = match sheet.value(row, "kind") {
            None => {
                problems.push(sheet.at(row, "kind", format!("`kind` is empty; it is one of {}", KINDS.join(", "))));
                None
            }
            Some(_) => optional(&sheet, row, "kind", KINDS, &mut problems),
        };
        let regional_group = optional(&sheet, row, "regional_group", REGIONAL_GROUPS, &mut problems);
        let region = optional(&sheet, row, "region", REGIONS, &mut problems);
        let constituency = optional(&sheet, row, "constituency", CONSTITUENCIES, &mut problems);
        let level = optional(&sheet, row, "level", LEVELS, &mut problems);
        let modality = optional(&sheet, row, "modality", MODALITIES, &mut problems);
        let recording_secs = match sheet.value(row, "recording") {
            None => None,
            Some(text) => {
                let secs = parse_duration(text).filter(|s| *s > 0 && *s <= 24 * 3600);
                if secs.is_none() {
                    problems.push(sheet.at(
                        row,
                        "recording",
                        format!("bad duration \"{text}\": use e.g. \"3m\", \"90s\" or \"2m30s\""),
                    ));
                }
                secs
            }
        };
        let given_id = sheet.value(row, "id").map(str::to_string);
        let id = match &given_id {
            Some(id) => {
                if !valid_id(id) {
                    problems.push(sheet.at(
                        row,
                        "id",
                        format!("id \"{id}\" must be 1 to 64 lowercase letters, digits or '-'"),
                    ));
                }
                id.clone()
            }
            None => {
                let made = id_from_name(&name);
                if made.is_empty() && !name.is_empty() {
                    problems.push(sheet.at(
                        row,
                        "name",
                        format!("no id can be made from \"{name}\": give one in an `id` column"),
                    ));
                }
                made
            }
        };
        let members: Vec<String> = sheet
            .value(row, "members")
            .map(|m| m.split([';', '|']).map(str::trim).filter(|m| !m.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        let Some(kind) = kind.filter(|_| problems.len() == before) else { continue };
        read.push(Read {
            row: row_index,
            participant: Participant {
                id,
                name,
                short: sheet.value(row, "short").map(str::to_string),
                kind,
                regional_group,
                region,
                constituency,
                level,
                modality: modality.unwrap_or(crate::domain::Modality::InRoom),
                recording_secs,
                members: Vec::new(),
                names: ["ar", "zh", "fr", "ru", "es"]
                    .into_iter()
                    .filter_map(|code| {
                        let name = sheet.value(row, &format!("name_{code}"))?;
                        Some((code.to_string(), name.to_string()))
                    })
                    .collect(),
            },
            members,
            id_given: given_id.is_some(),
        });
    }
    // Each id and each name once.
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    for r in &read {
        let row = &sheet.rows[r.row];
        let name = r.participant.name.to_lowercase();
        if let Some(first) = names.get(&name) {
            problems.push(sheet.at(
                row,
                "name",
                format!(
                    "\"{}\" is on line {} already: a participant is listed once",
                    r.participant.name, sheet.rows[*first].line
                ),
            ));
            // An id made from the same name is the same problem.
            if !r.id_given {
                continue;
            }
        } else {
            names.insert(name, r.row);
        }
        if let Some(first) = ids.get(&r.participant.id) {
            let (key, hint) = if r.id_given { ("id", "") } else { ("name", ": give one an `id` of its own") };
            problems.push(sheet.at(
                row,
                key,
                format!("the id \"{}\" is line {}'s already{hint}", r.participant.id, sheet.rows[*first].line),
            ));
        } else {
            ids.insert(r.participant.id.clone(), r.row);
        }
    }
    // Members: ids or names of other rows.
    let by_name: HashMap<String, String> =
        read.iter().map(|r| (r.participant.name.to_lowercase(), r.participant.id.clone())).collect();
    let resolved: Vec<Vec<String>> = read
        .iter()
        .map(|r| {
            r.members
                .iter()
                .map(|m| {
                    if ids.contains_key(m) {
                        m.clone()
                    } else {
                        by_name.get(&m.to_lowercase()).cloned().unwrap_or_else(|| m.clone())
                    }
                })
                .collect()
        })
        .collect();
    for (r, members) in read.iter_mut().zip(resolved) {
        r.participant.members = members;
    }
    // The roster's own rules, as for a session file.
    let known = |id: &str| ids.contains_key(id);
    for r in &read {
        let row = &sheet.rows[r.row];
        for (field, message) in r.participant.problems(&known) {
            let key = match field {
                RosterField::Id if r.id_given => "id",
                RosterField::Id | RosterField::Name => "name",
                RosterField::RegionalGroup => "regional_group",
                RosterField::Constituency => "constituency",
                RosterField::Level => "level",
                RosterField::Modality => "modality",
                RosterField::Recording => "recording",
                RosterField::Member(_) => "members",
            };
            let message = match field {
                RosterField::Member(i) => match r.members.get(i) {
                    Some(m) if !known(&r.participant.members[i]) => {
                        let names = read.iter().map(|o| o.participant.name.as_str());
                        let hint = nearest(m, names).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                        format!("\"{m}\" in `members` is not a row of this list{hint}")
                    }
                    _ => message,
                },
                _ => message,
            };
            problems.push(sheet.at(row, key, message));
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| (p.line, p.column));
        return Err(Refused { problems, notes: sheet.notes });
    }
    if read.is_empty() {
        return Err(Refused {
            problems: vec![Problem {
                source: Source::List,
                line: 2,
                column: 1,
                field: None,
                message: "the list has no participants: its rows come after the header".into(),
            }],
            notes: sheet.notes,
        });
    }

    // The new roster in place of the old one.
    let section = read.iter().map(|r| participant_toml(&r.participant)).collect::<Vec<_>>().join("\n");
    let ranges = participant_tables(session);
    let edits: Vec<Edit> = if ranges.is_empty() {
        if session.parse::<toml::Table>().is_ok_and(|t| t.contains_key("participants")) {
            return Err(Refused::one(
                Source::Session,
                "the roster is written as `participants = [...]`: the import writes [[participants]] tables; remove that array first",
            ));
        }
        let sep = if session.ends_with("\n\n") || session.is_empty() {
            ""
        } else if session.ends_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
        vec![Edit { old: session.len()..session.len(), new: format!("{sep}{section}") }]
    } else {
        ranges
            .iter()
            .enumerate()
            .map(|(i, r)| Edit { old: r.clone(), new: if i == 0 { section.clone() } else { String::new() } })
            .collect()
    };
    let before = roster_ids(session);
    let (text, def) = checked(session, &edits).map_err(|problems| Refused { problems, notes: sheet.notes.clone() })?;
    let changed = text != session;

    let mut summary = sheet.notes.clone();
    let mut by_kind: Vec<(ParticipantKind, usize)> = Vec::new();
    for p in &def.participants {
        match by_kind.iter_mut().find(|(k, _)| *k == p.kind) {
            Some((_, n)) => *n += 1,
            None => by_kind.push((p.kind, 1)),
        }
    }
    let kinds = by_kind.iter().map(|(k, n)| format!("{n} {}", plural(k.label(), *n))).collect::<Vec<_>>().join(", ");
    summary.push(format!("{} rows became {} participants ({kinds})", sheet.rows.len(), def.participants.len()));
    if !sheet.empty.is_empty() {
        let lines = sheet.empty.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
        summary.push(format!("{} empty rows skipped (lines {lines})", sheet.empty.len()));
    }
    let now: std::collections::HashSet<&str> = def.participants.iter().map(|p| p.id.as_str()).collect();
    let gone: Vec<&String> = before.iter().filter(|id| !now.contains(id.as_str())).collect();
    if !gone.is_empty() {
        let shown: Vec<&str> = gone.iter().take(10).map(|s| s.as_str()).collect();
        let more = if gone.len() > 10 { format!(" and {} more", gone.len() - 10) } else { String::new() };
        summary.push(format!(
            "{} participants of the roster before are not on the list and left it: {}{more}",
            gone.len(),
            shown.join(", ")
        ));
    }
    let added = def.participants.iter().filter(|p| !before.contains(&p.id)).count();
    if !before.is_empty() && added > 0 {
        summary.push(format!("{added} participants are new to the roster"));
    }
    summary.push(if changed {
        "the roster was replaced; the rest of the file is as it was".to_string()
    } else {
        "nothing changed: the session file holds this roster already".to_string()
    });
    Ok(Imported { text, changed, summary })
}

fn plural(label: &str, n: usize) -> String {
    if n == 1 {
        return label.to_string();
    }
    match label {
        "group of States" => "groups of States".to_string(),
        l if l.ends_with("y") && !l.ends_with("ey") => format!("{}ies", &l[..l.len() - 1]),
        l => format!("{l}s"),
    }
}

// ---- Pre-inscriptions (the e-Speakers list) ----

/// The inscriptions list's columns.
pub const INSCRIPTION_COLUMNS: [&str; 4] = ["name", "time", "id", "language"];

const INSCRIPTION_ALIASES: &[(&str, &str)] = &[
    ("participant", "name"),
    ("delegation", "name"),
    ("speaker", "name"),
    ("inscribed_at", "time"),
    ("inscription_time", "time"),
    ("date", "time"),
    ("lang", "language"),
];

/// A time as an e-Speakers list writes it, in the session's offset unless it gives one.
fn time_of(text: &str, zone: FixedOffset) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    let text = text.trim().replace('T', " ");
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
        .and_then(|naive| zone.from_local_datetime(&naive).single())
}

/// The span of a segment's `inscribed` value, or where to add the key (the end of
/// its `id` line), in the session file's text.
fn inscribed_place(session: &str, segment: usize) -> Option<(std::ops::Range<usize>, bool)> {
    let table = DeTable::parse(session).ok()?;
    let (_, segments) = table.get_ref().iter().find(|(k, _)| k.get_ref().as_ref() == "segments")?;
    let DeValue::Array(items) = segments.get_ref() else { return None };
    let DeValue::Table(seg) = items.get(segment)?.get_ref() else { return None };
    if let Some((_, value)) = seg.iter().find(|(k, _)| k.get_ref().as_ref() == "inscribed") {
        return Some((value.span(), true));
    }
    // After the segment's last key of its own (its sub-tables, such as
    // `[segments.limits]`, are written elsewhere).
    let last = seg
        .iter()
        .filter(|(_, v)| match v.get_ref() {
            DeValue::Table(_) => false,
            DeValue::Array(items) => !items.iter().any(|i| matches!(i.get_ref(), DeValue::Table(_))),
            _ => true,
        })
        .map(|(_, v)| v.span().end)
        .max()?;
    let end = session[last..].find('\n').map_or(session.len(), |i| last + i);
    Some((end..end, false))
}

/// A speaker inscribed before the meeting, as the segment's `inscribed` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PreInscription {
    participant: String,
    at: Option<DateTime<FixedOffset>>,
    language: Option<String>,
}

/// Add a segment's pre-inscriptions from the e-Speakers list: each row's speaker
/// (a participant of the roster, by id, name or short name), the time it was
/// inscribed and, if the list gives it, the statement's language. The segment's `inscribed` keeps what it held; the new speakers join
/// it, and the list is in the order of inscription (entries with no time first).
pub fn inscriptions(list: &[u8], session: &str, segment_id: &str) -> Result<Imported, Refused> {
    let def = parse_session(session).map_err(|e| Refused {
        problems: e
            .problems
            .iter()
            .map(|p| Problem {
                source: Source::Session,
                line: p.line,
                column: p.column,
                field: None,
                message: format!("{} (fix the session file first: rostrum check)", p.message),
            })
            .collect(),
        notes: Vec::new(),
    })?;
    let Some(index) = def.segments.iter().position(|s| s.id == segment_id) else {
        let hint = did_you_mean(segment_id, def.segments.iter().map(|s| s.id.as_str()));
        let ids = def.segments.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ");
        return Err(Refused::one(
            Source::Session,
            format!("no segment \"{segment_id}\"{hint}; the segments are: {ids}"),
        ));
    };
    let segment = &def.segments[index];
    let zone = def.start.timezone();
    let (sheet, mut problems) = read_sheet(list, &INSCRIPTION_COLUMNS, INSCRIPTION_ALIASES, &["time"])?;
    if sheet.index("name").is_none() && sheet.index("id").is_none() {
        problems.push(Problem {
            source: Source::List,
            line: 1,
            column: 1,
            field: None,
            message: "the header has no `name` (or `id`) column: who is inscribed".to_string(),
        });
    }
    // What the segment holds now: an entry the file gave a time keeps it.
    let timed: Vec<bool> = {
        let table: Option<toml::Table> = session.parse().ok();
        let items = table
            .as_ref()
            .and_then(|t| t.get("segments"))
            .and_then(|s| s.as_array())
            .and_then(|s| s.get(index))
            .and_then(|s| s.get("inscribed"))
            .and_then(|i| i.as_array())
            .cloned()
            .unwrap_or_default();
        items.iter().map(toml::Value::is_table).collect()
    };
    let mut entries: Vec<PreInscription> = segment
        .inscribed
        .iter()
        .enumerate()
        .map(|(i, id)| PreInscription {
            participant: id.clone(),
            at: timed.get(i).copied().unwrap_or(false).then(|| segment.inscribed_at.get(i).copied()).flatten(),
            language: segment.inscribed_language.get(i).cloned().flatten(),
        })
        .collect();
    let before = entries.clone();
    let names: Vec<&str> = def.participants.iter().map(|p| p.name.as_str()).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let (mut added, mut already) = (0, 0);
    for row in &sheet.rows {
        let (key, who) = match (sheet.value(row, "id"), sheet.value(row, "name")) {
            (Some(id), _) => ("id", id),
            (None, Some(name)) => ("name", name),
            (None, None) => {
                problems.push(sheet.at(row, "name", "no one is named on this row"));
                continue;
            }
        };
        let lower = who.to_lowercase();
        let found = def.participant(who).or_else(|| {
            def.participants
                .iter()
                .find(|p| p.name.to_lowercase() == lower || p.short.as_ref().is_some_and(|s| s.to_lowercase() == lower))
        });
        let Some(participant) = found else {
            let hint =
                nearest(who, names.iter().copied()).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
            problems.push(sheet.at(row, key, format!("\"{who}\" is not in the session's roster{hint}")));
            continue;
        };
        let at = match sheet.value(row, "time") {
            None => {
                problems.push(sheet.at(row, "time", "the time of inscription is empty"));
                continue;
            }
            Some(text) => match time_of(text, zone) {
                Some(at) => at,
                None => {
                    problems.push(sheet.at(
                        row,
                        "time",
                        format!("\"{text}\" is not a time: write 2022-05-10 09:12, 2022-05-10 09:12:30, 10/05/2022 09:12 or 2022-05-10T09:12:00-04:00 (times without an offset are the session's, {zone})"),
                    ));
                    continue;
                }
            },
        };
        // Which codes are languages is the domain's rule, as for an inscription made during the session.
        let language = match sheet.value(row, "language").map(crate::domain::statement_language) {
            None => None,
            Some(Ok(code)) => Some(code),
            Some(Err(rejection)) => {
                problems.push(sheet.at(row, "language", rejection.reason));
                continue;
            }
        };
        if !segment.allow_multiple
            && let Some(first) = seen.get(&participant.id)
        {
            problems.push(sheet.at(
                row,
                key,
                format!("{} is inscribed on line {first} already; the segment does not allow more than one entry each (`allow_multiple`)", participant.name),
            ));
            continue;
        }
        seen.insert(participant.id.clone(), row.line);
        match entries.iter_mut().find(|e| e.participant == participant.id) {
            Some(held) if held.at == Some(at) => {
                // The same inscription: the list may give its language.
                if language.is_some() {
                    held.language = language;
                }
                already += 1;
            }
            Some(held) if !segment.allow_multiple => {
                let when = held
                    .at
                    .map_or_else(|| "with no time".to_string(), |t| format!("at {}", t.format("%Y-%m-%d %H:%M:%S")));
                problems.push(sheet.at(
                    row,
                    key,
                    format!(
                        "{} is inscribed on `{segment_id}` already, {when}; the list says {}: remove one of the two",
                        participant.name,
                        at.format("%Y-%m-%d %H:%M:%S")
                    ),
                ));
            }
            _ => {
                entries.push(PreInscription { participant: participant.id.clone(), at: Some(at), language });
                added += 1;
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| (p.line, p.column));
        return Err(Refused { problems, notes: sheet.notes });
    }
    // In the order of inscription: those the file gives no time keep theirs, first.
    entries.sort_by_key(|e| e.at);
    let mut summary = sheet.notes.clone();
    summary.push(format!(
        "{} rows: {added} speakers added to the list of \"{}\", {already} inscribed there already at the same time",
        sheet.rows.len(),
        segment.title
    ));
    if !sheet.empty.is_empty() {
        let lines = sheet.empty.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
        summary.push(format!("{} empty rows skipped (lines {lines})", sheet.empty.len()));
    }
    if entries == before {
        summary.push("nothing changed: the segment holds these inscriptions already".to_string());
        return Ok(Imported { text: session.to_string(), changed: false, summary });
    }
    let Some((place, present)) = inscribed_place(session, index) else {
        return Err(Refused::one(
            Source::Session,
            format!("the segment \"{segment_id}\" could not be found in the file's text"),
        ));
    };
    let items: Vec<String> = entries
        .iter()
        .map(|e| {
            let at = e.at.map(|at| format!(", at = {}", at.to_rfc3339())).unwrap_or_default();
            let language = e.language.as_deref().map(|l| format!(", language = {}", quoted(l))).unwrap_or_default();
            if at.is_empty() && language.is_empty() {
                format!("    {},", quoted(&e.participant))
            } else {
                format!("    {{ participant = {}{at}{language} }},", quoted(&e.participant))
            }
        })
        .collect();
    let array = format!("[\n{}\n]", items.join("\n"));
    let new = if present { array } else { format!("\ninscribed = {array}") };
    let edits = [Edit { old: place, new }];
    let (text, _) = checked(session, &edits).map_err(|problems| Refused { problems, notes: sheet.notes.clone() })?;
    summary.push(format!("{} speakers are inscribed on it in advance now", entries.len()));
    Ok(Imported { changed: text != session, text, summary })
}

// ---- Files ----

/// Write `text` to `path` safely: a temporary file beside it, fsync'd, renamed
/// over it (its permissions kept), then the directory fsync'd.
pub fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.import"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        file.set_permissions(meta.permissions())?;
    }
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// `rostrum import roster|inscriptions`: read both files, import, write the
/// session file if it changed; the summary, or every problem.
pub fn run(list: &Path, session: &Path, segment: Option<&str>) -> Result<String, String> {
    let list_name = list.display().to_string();
    let session_name = session.display().to_string();
    let bytes = std::fs::read(list).map_err(|e| format!("{list_name}: {e}"))?;
    let text = std::fs::read_to_string(session).map_err(|e| format!("{session_name}: {e}"))?;
    let imported = match segment {
        None => roster(&bytes, &text),
        Some(segment) => inscriptions(&bytes, &text, segment),
    }
    .map_err(|refused| refused.render(&list_name, &session_name))?;
    if imported.changed {
        write_file(session, &imported.text).map_err(|e| format!("{session_name}: {e}"))?;
    }
    let mut out: Vec<String> = imported.summary.iter().map(|s| format!("{list_name}: {s}")).collect();
    if imported.changed {
        out.push(format!("{session_name}: written; `rostrum check {session_name}` passes"));
    }
    Ok(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_made_from_names_as_the_shipped_rosters_write_them() {
        assert_eq!(id_from_name("Côte d'Ivoire"), "cote-divoire");
        assert_eq!(
            id_from_name("Red Internacional de Migración y Desarrollo"),
            "red-internacional-de-migracion-y-desarrollo"
        );
        assert_eq!(id_from_name("Bolivia (Plurinational State of)"), "bolivia-plurinational-state-of");
        assert_eq!(id_from_name("Türkiye"), "turkiye");
        assert_eq!(id_from_name("مصر"), "");
    }

    #[test]
    fn a_field_is_found_where_it_begins_quotes_and_all() {
        let text = "a,\"b, c\",d\nx,y,z\n";
        assert_eq!(field_starts(text, 0, 3, b','), [0, 2, 9]);
        assert_eq!(field_starts(text, 11, 3, b','), [11, 13, 15]);
    }

    #[test]
    fn the_roster_is_its_tables_and_the_comments_heading_the_next_table_stay() {
        let text = "id = \"x\"\n\n# The roster\n[[participants]]\nid = \"a\"\n\n# Segments\n\n[[segments]]\nid = \"s\"\n\n[[participants]]\nid = \"b\"\n";
        let ranges: Vec<&str> = participant_tables(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(ranges, ["[[participants]]\nid = \"a\"\n", "[[participants]]\nid = \"b\"\n"]);
        // A header inside a multi-line string is no header.
        let text = "title = \"\"\"\n[[participants]]\n\"\"\"\n[[participants]]\nid = \"a\"\n";
        assert_eq!(participant_tables(text).len(), 1);
    }

    #[test]
    fn the_e_speakers_list_may_give_each_statements_language() {
        let session = include_str!("../../tests/data/small.toml");
        let list = "name,time,language\nPeru,2022-05-10 09:12,es\nGhana,2022-05-10 09:13,\n";
        let imported = inscriptions(list.as_bytes(), session, "general").unwrap_or_else(|e| panic!("{:?}", e.problems));
        assert!(
            imported.text.contains("{ participant = \"peru\", at = 2022-05-10T09:12:00-04:00, language = \"es\" }")
        );
        let def = crate::config::parse_session(&imported.text).expect("valid");
        let general = def.segments.iter().find(|s| s.id == "general").expect("general");
        assert_eq!(general.inscribed, ["peru", "ghana"]);
        assert_eq!(general.inscribed_language, [Some("es".to_string()), None]);
        // The same list again, with Ghana's language now: the entry takes it.
        let list = "name,time,lang\nGhana,2022-05-10 09:13,FR\n";
        let again =
            inscriptions(list.as_bytes(), &imported.text, "general").unwrap_or_else(|e| panic!("{:?}", e.problems));
        let def = crate::config::parse_session(&again.text).expect("valid");
        let general = def.segments.iter().find(|s| s.id == "general").expect("general");
        assert_eq!(general.inscribed_language, [Some("es".to_string()), Some("fr".to_string())]);

        // A code that is no language: said at its cell, nothing written.
        let list = "name,time,language\nPeru,2022-05-10 09:12,Spanish\n";
        let Err(refused) = inscriptions(list.as_bytes(), session, "general") else { panic!("refused") };
        let problem = &refused.problems[0];
        assert_eq!((problem.line, problem.column), (2, 23));
        assert!(problem.message.contains("\"spanish\" is not an ISO 639-1 language code"), "{}", problem.message);
    }

    #[test]
    fn an_offset_after_an_edit_is_found_in_the_old_text() {
        let edits = [Edit { old: 2..4, new: "xxxxx".into() }];
        assert_eq!(apply_edits("abcdef", &edits), "abxxxxxef");
        assert_eq!(old_offset(&edits, 1), 1);
        assert_eq!(old_offset(&edits, 3), 2);
        assert_eq!(old_offset(&edits, 7), 4);
        assert_eq!(old_offset(&edits, 8), 5);
    }
}
