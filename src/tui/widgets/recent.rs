//! The last turns: who spoke, when, for how long, any overrun, and how many notes
//! rapporteurs attached.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::{Theme, clock, ellipsize, fit_name, time_of_day};
use crate::domain::{Session, TurnId};

/// Notes and pledges on each of the last `count` turns.
fn note_counts(session: &Session, count: usize) -> HashMap<TurnId, usize> {
    let shown: Vec<TurnId> = session.turns.iter().rev().take(count).map(|t| t.id).collect();
    let mut counts: HashMap<TurnId, usize> = HashMap::new();
    let turns = session.notes.iter().map(|n| n.turn).chain(session.pledges.iter().map(|p| p.turn));
    for turn in turns.flatten().filter(|t| shown.contains(t)) {
        *counts.entry(turn).or_default() += 1;
    }
    counts
}

fn notes_label(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "1 note".to_string(),
        n => format!("{n} notes"),
    }
}

pub fn render(session: &Session, wide: bool, theme: &Theme, frame: &mut Frame, area: Rect) {
    if wide {
        let height = area.height.saturating_sub(3) as usize;
        let counts = note_counts(session, height);
        // The notes column only where the name keeps room.
        let with_notes = area.width >= 60;
        let name_width = area.width.saturating_sub(2 + 9 + 6 + 8 + 3 + if with_notes { 10 } else { 0 });
        let rows: Vec<Row> = session
            .turns
            .iter()
            .rev()
            .take(height)
            .map(|t| {
                let overrun = if t.overrun_ms >= 1000 { format!("+{}", clock(t.overrun_ms)) } else { String::new() };
                let mut cells = vec![
                    Cell::from(fit_name(session, &t.participant, usize::from(name_width))),
                    Cell::from(time_of_day(Some(session), t.started_at)),
                    Cell::from(clock(t.used_ms)),
                    Cell::from(overrun).style(theme.fg(Color::Red)),
                ];
                if with_notes {
                    cells.push(Cell::from(notes_label(counts.get(&t.id).copied().unwrap_or(0))));
                }
                Row::new(cells)
            })
            .collect();
        let header = Row::new(["speaker", "start", "used", "overrun", ""].map(|t| Cell::from(t).style(theme.dim())));
        let mut widths =
            vec![Constraint::Length(name_width), Constraint::Length(9), Constraint::Length(6), Constraint::Length(8)];
        if with_notes {
            widths.push(Constraint::Length(9));
        }
        frame.render_widget(
            Table::new(rows, widths).header(header).block(Block::bordered().title(" Recent turns ")),
            area,
        );
    } else {
        let counts = note_counts(session, 4);
        let parts: Vec<String> = session
            .turns
            .iter()
            .rev()
            .take(4)
            .map(|t| {
                let overrun = if t.overrun_ms >= 1000 { format!(" +{}", clock(t.overrun_ms)) } else { String::new() };
                let n = counts.get(&t.id).copied().unwrap_or(0);
                let notes = if n > 0 { format!(" ({})", notes_label(n)) } else { String::new() };
                format!("{} {}{overrun}{notes}", fit_name(session, &t.participant, 16), clock(t.used_ms))
            })
            .collect();
        let text = if parts.is_empty() { "no turns yet".to_string() } else { parts.join(" · ") };
        let text = ellipsize(&text, usize::from(area.width).saturating_sub(8));
        frame.render_widget(
            Paragraph::new(Line::from(vec![Span::styled("recent: ", theme.dim()), Span::raw(text)])),
            area,
        );
    }
}
