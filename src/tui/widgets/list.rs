//! The speakers list of a segment, then its rights of reply, with stable columns,
//! names that fit (short names where space is short) and, below, the selected
//! entry's whole reason for its position.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::{Theme, cell, clock, ellipsize, fit_speaker, modality, short_kind, wrapped_rows};
use crate::domain::{ConnectionStatus, Entry, Placement, Session};

/// Columns of everything but the name; the name takes the rest.
const POSITION: u16 = 3;
const KIND: u16 = 12;
const LEVEL: u16 = 16;
const MODALITY: u16 = 14;
const TIME: u16 = 5;
/// The name's columns in an 80-column terminal: no wider layout gives it fewer.
pub const NAME_MIN: u16 = 40;

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
        if hidden > 0 { format!(" · {hidden} more: ↑↓") } else { String::new() },
    );
    frame.render_widget(Block::bordered().title(ellipsize(&title, usize::from(list.width.saturating_sub(2)))), list);
    let inner = Block::bordered().inner(list);
    let header_area = Rect { height: 1.min(inner.height), ..inner };
    // Level only where the name keeps at least the compact layout's columns.
    let fixed = POSITION + KIND + MODALITY + TIME + 4;
    let with_level = inner.width >= fixed + LEVEL + 1 + NAME_MIN;
    let name_width = inner.width.saturating_sub(fixed + if with_level { LEVEL + 1 } else { 0 });
    let mut widths = vec![Constraint::Length(POSITION), Constraint::Length(name_width), Constraint::Length(KIND)];
    let mut titles = vec!["#", "speaker", "kind"];
    if with_level {
        widths.push(Constraint::Length(LEVEL));
        titles.push("level");
    }
    widths.extend([Constraint::Length(MODALITY), Constraint::Length(TIME)]);
    titles.extend(["modality", "time"]);
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
            let row = Row::new(cells);
            if Some(i) == view.selected { row.style(theme.selected()) } else { row }
        })
        .collect();
    frame.render_widget(Table::new(rows, widths), rows_area);
    let text = match view.selected.and_then(|i| entries.get(i)) {
        Some(e) => format!("why here: {}", reason(e)),
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
