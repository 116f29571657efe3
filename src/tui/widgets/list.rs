//! The speakers list of a segment, then its rights of reply, with stable columns,
//! names that fit (short names where space is short) and, below, the selected
//! entry's whole reason for its position.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::{Theme, cell, clock, ellipsize, fit_speaker, language, modality, short_kind, wrapped_rows};
use crate::domain::{ConnectionStatus, Entry, Placement, Session, budgets_left};

/// Columns of everything but the name; the name takes the rest.
const POSITION: u16 = 3;
const KIND: u16 = 12;
/// Wide enough for "Head of delegation"; the two highest levels end in an ellipsis.
const LEVEL: u16 = 18;
const MODALITY: u16 = 14;
const TIME: u16 = 5;
/// Each participant's speaking time so far in the session.
const SPOKEN: u16 = 6;
/// What is left of the budgets an entry draws on (segments with budgets).
const LEFT: u16 = 6;
/// The statement's language, "FR" (only when an entry of the list gives one).
const LANGUAGE: u16 = 4;
/// The name's columns in an 80-column terminal (with a budget column): no wider
/// layout gives it fewer.
pub const NAME_MIN: u16 = 27;

pub struct ListView<'a> {
    pub session: &'a Session,
    pub segment: usize,
    /// Index into the list followed by the rights of reply.
    pub selected: Option<usize>,
    /// A participant whose entries are marked (the delegate's own).
    pub own: Option<&'a str>,
    /// What to say when the list is empty (with the real key, if the screen can inscribe).
    pub empty: String,
    /// Rows kept under the entries for the selected one's reason.
    pub detail_rows: u16,
}

impl ListView<'_> {
    /// The list's entries then the rights of reply, as the selection counts them.
    pub fn entries(&self) -> Vec<&Entry> {
        self.session
            .segments
            .get(self.segment)
            .map(|s| s.list.iter().chain(s.replies.iter()).collect())
            .unwrap_or_default()
    }
}

/// Inside a list block: the rows of entries (below the column titles) and the
/// selected entry's reason (the last `detail` rows).
pub fn parts(list: Rect, detail: u16) -> (Rect, Rect) {
    let inner = Block::bordered().inner(list);
    let detail = detail.min(inner.height.saturating_sub(2));
    let rows = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1 + detail), ..inner };
    let reason = Rect { y: inner.y + inner.height.saturating_sub(detail), height: detail, ..inner };
    (rows, reason)
}

/// First visible row so that `selected` is on screen.
pub fn offset(selected: usize, height: usize) -> usize {
    if height == 0 { 0 } else { selected.saturating_sub(height - 1) }
}

/// Why an entry stands where it does, in full.
pub fn reason(entry: &Entry) -> String {
    if entry.reason.is_empty() { "right of reply, in order of request".to_string() } else { entry.reason.clone() }
}

pub fn render(view: &ListView, theme: &Theme, frame: &mut Frame, list: Rect) {
    let session = view.session;
    let (rows_area, reason_area) = parts(list, view.detail_rows);
    let state = session.segments.get(view.segment);
    let entries = view.entries();
    let list_len = state.map_or(0, |s| s.list.len());
    let closed = state.is_some_and(|s| s.closed);
    let replies = entries.len().saturating_sub(list_len);
    let hidden = entries.len().saturating_sub(rows_area.height as usize);
    let title = format!(
        " Speakers: {list_len}{}{}{} ",
        match replies {
            0 => String::new(),
            1 => " + 1 reply".to_string(),
            n => format!(" + {n} replies"),
        },
        if closed { " · LIST CLOSED" } else { "" },
        match (hidden, view.selected) {
            (0, _) => String::new(),
            (n, Some(_)) => format!(" · {n} more: ↑↓"),
            (n, None) => format!(" · {n} more below"),
        },
    );
    frame.render_widget(Block::bordered().title(ellipsize(&title, usize::from(list.width.saturating_sub(2)))), list);
    let inner = Block::bordered().inner(list);
    let header_area = Rect { height: 1.min(inner.height), ..inner };
    // Level only where the name keeps at least the compact layout's columns.
    let budgets = session.segment_def(view.segment).is_some_and(|d| !d.budgets.is_empty());
    let languages = entries.iter().any(|e| e.language.is_some());
    let fixed = POSITION
        + KIND
        + MODALITY
        + TIME
        + SPOKEN
        + 5
        + if budgets { LEFT + 1 } else { 0 }
        + if languages { LANGUAGE + 1 } else { 0 };
    let with_level = inner.width >= fixed + LEVEL + 1 + NAME_MIN;
    let name_width = inner.width.saturating_sub(fixed + if with_level { LEVEL + 1 } else { 0 });
    let mut widths = vec![Constraint::Length(POSITION), Constraint::Length(name_width), Constraint::Length(KIND)];
    let mut titles = vec!["#", "speaker", "kind"];
    if languages {
        widths.push(Constraint::Length(LANGUAGE));
        titles.push("lang");
    }
    if with_level {
        widths.push(Constraint::Length(LEVEL));
        titles.push("level");
    }
    widths.extend([Constraint::Length(MODALITY), Constraint::Length(TIME), Constraint::Length(SPOKEN)]);
    titles.extend(["modality", "time", "spoken"]);
    if budgets {
        widths.push(Constraint::Length(LEFT));
        titles.push("left");
    }
    let header = Row::new(titles.into_iter().map(|t| Cell::from(t).style(theme.dim())));
    frame.render_widget(Table::new(Vec::<Row>::new(), widths.clone()).header(header), header_area);
    let height = rows_area.height as usize;
    let first = offset(view.selected.unwrap_or(0), height);
    let rows: Vec<Row> = entries
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, e)| {
            let position = if i < list_len { format!("{}", i + 1) } else { "R".to_string() };
            let moved = match e.placement {
                Placement::Policy => "",
                Placement::Moved { .. } => " ↕",
                Placement::Deferred { .. } => " ↓",
                Placement::Suspended { .. } => " ↺",
            };
            let own = if view.own == Some(e.participant.as_str()) { "▶ " } else { "" };
            let room = usize::from(name_width).saturating_sub(moved.chars().count() + own.chars().count());
            let mut cells = vec![
                Cell::from(position),
                Cell::from(format!("{own}{}{moved}", fit_speaker(session, e, room))),
                Cell::from(cell(&short_kind(e), usize::from(KIND))),
            ];
            if languages {
                cells.push(Cell::from(e.language.as_deref().map(language::short).unwrap_or_default()));
            }
            if with_level {
                cells.push(Cell::from(cell(e.level.map(|l| l.label()).unwrap_or(""), usize::from(LEVEL))));
            }
            let issue = session.connection(&e.participant) == ConnectionStatus::TechnicalIssue
                && modality(session, &e.participant).starts_with("remote");
            cells.push(Cell::from(cell(&modality(session, &e.participant), usize::from(MODALITY))).style(if issue {
                theme.fg(Color::Red)
            } else {
                Style::new()
            }));
            cells.push(Cell::from(clock(u64::from(e.allotted) * 1000)));
            cells.push(
                Cell::from(clock(session.spoken_ms.get(&e.participant).copied().unwrap_or(0))).style(theme.dim()),
            );
            if budgets {
                // The tightest budget the entry draws on; short of its time, in red.
                let tightest = budgets_left(session, view.segment, &e.participant, e.kind, 0)
                    .into_iter()
                    .min_by_key(|b| b.left_ms);
                let cell = match tightest {
                    Some(b) if b.left_ms < u64::from(e.allotted) * 1000 => {
                        Cell::from(clock(b.left_ms)).style(theme.fg(Color::Red).add_modifier(Modifier::BOLD))
                    }
                    Some(b) => Cell::from(clock(b.left_ms)),
                    None => Cell::from("—").style(theme.dim()),
                };
                cells.push(cell);
            }
            let row = Row::new(cells);
            if Some(i) == view.selected { row.style(theme.selected()) } else { row }
        })
        .collect();
    frame.render_widget(Table::new(rows, widths), rows_area);
    // No selection (a screen that only follows): the first speaker's reason.
    let shown = view.selected.map_or(0, |i| i);
    let text = match entries.get(shown) {
        Some(e) if view.selected.is_none() => {
            let language = e.language.as_deref().map(|c| format!(" ({})", language::spoken_in(c))).unwrap_or_default();
            format!("next, {}{language}: {}", session.name_of(&e.participant), reason(e))
        }
        Some(e) => match &e.language {
            Some(code) => format!("{} · why here: {}", language::spoken_in(code), reason(e)),
            None => format!("why here: {}", reason(e)),
        },
        None if closed => "the list is closed".to_string(),
        None => view.empty.clone(),
    };
    // The whole reason, wrapped; if even the detail rows cannot hold it, it ends in an ellipsis.
    let room = usize::from(reason_area.width) * usize::from(reason_area.height);
    let text = if wrapped_rows(&text, reason_area.width) > reason_area.height {
        ellipsize(&text, room.saturating_sub(8))
    } else {
        text
    };
    frame.render_widget(Paragraph::new(Line::styled(text, theme.dim())).wrap(Wrap { trim: false }), reason_area);
}
