//! A session across the screen's width, coloured by kind of speaker, with a cursor.

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use crate::domain::{StatementKind, Timestamp, TurnRecord};

/// The glyph and colour of a kind of statement (also the legend's).
pub fn glyph(theme: &Theme, kind: StatementKind) -> (char, Style) {
    match kind {
        StatementKind::National => ('█', theme.fg(Color::Blue)),
        StatementKind::Group => ('▓', theme.fg(Color::Cyan)),
        StatementKind::Organization => ('▒', theme.fg(Color::Green)),
        StatementKind::Stakeholder => ('░', theme.fg(Color::Yellow)),
        StatementKind::Reply => ('▚', theme.fg(Color::Red)),
    }
}

/// The legend: each kind's glyph and name, on lines short enough for 80 columns.
pub fn legend(theme: &Theme) -> Vec<Line<'static>> {
    let line = |kinds: &[StatementKind], last: &str| {
        let mut spans = vec![Span::raw(if kinds[0] == StatementKind::National { "timeline: " } else { "          " })];
        for kind in kinds {
            let (c, style) = glyph(theme, *kind);
            spans.push(Span::styled(c.to_string(), style));
            spans.push(Span::raw(format!(" {}  ", kind.label())));
        }
        spans.push(Span::raw(last.to_string()));
        Line::from(spans)
    };
    vec![
        line(&[StatementKind::National, StatementKind::Group, StatementKind::Organization], ""),
        line(&[StatementKind::Stakeholder, StatementKind::Reply], "─ no one speaking"),
    ]
}

/// `turns` in speaking order (started_at ascending), over `start..end`, cursor at `now`.
pub fn render(
    turns: &[Arc<TurnRecord>],
    (start, end): (Timestamp, Timestamp),
    now: Timestamp,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let width = area.width as usize;
    if width == 0 {
        return;
    }
    let total = (end - start).num_milliseconds().max(1);
    let at =
        |column: usize| start + chrono::Duration::milliseconds(total * (2 * column as i64 + 1) / (2 * width as i64));
    let cursor = (((now - start).num_milliseconds().clamp(0, total)) * (width as i64 - 1) / total) as usize;
    let spans: Vec<Span> = (0..width)
        .map(|c| {
            let t = at(c);
            let started = turns.partition_point(|turn| turn.started_at <= t);
            let (glyph, style) = started
                .checked_sub(1)
                .and_then(|i| turns.get(i))
                .filter(|turn| t < turn.ended_at)
                .map_or(('─', theme.dim()), |turn| glyph(theme, turn.kind));
            if c == cursor {
                Span::styled("┃", Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED))
            } else {
                Span::styled(glyph.to_string(), style)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
