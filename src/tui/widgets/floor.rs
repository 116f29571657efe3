//! The floor: who speaks, how (kind, level, in the room or remote and its
//! connection), the clock's phase and, large, the countdown.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use tui_big_text::{BigText, PixelSize};

use super::{Theme, clock, countdown, ellipsize, fit_speaker, language, modality, time_of_day, width_of};
use crate::domain::{ClockPhase, Entry, Session, Timestamp, Turn};

/// What the floor panel shows.
pub struct FloorView<'a> {
    pub session: Option<&'a Session>,
    pub now: Timestamp,
    pub wide: bool,
    /// What the screen's user can do now, with its real key (shown under the floor).
    pub hints: Vec<String>,
    /// The panel's title.
    pub title: &'a str,
}

/// The statement's number in its segment: "statement 3 of Roundtable 1".
pub fn statement_number(session: &Session, turn: &Turn) -> usize {
    // Turns are recorded in order, so the segment's turns are the last ones: the
    // count costs the segment's length, not the session's. A statement's later parts
    // are not new statements: a continued one keeps its first part's number.
    let segment: Vec<_> = session.turns.iter().rev().take_while(|t| t.segment == turn.segment).collect();
    let statements = segment.iter().filter(|t| t.part_of.is_none());
    match &turn.entry.resumes {
        Some(r) => statements.filter(|t| t.id <= r.first_turn).count().max(1),
        None => statements.count() + 1,
    }
}

/// The speaker, in bold, then the statement's language: "Peru · in French", or
/// "Peru · FR" where the name needs the room.
pub fn speaker_line(session: &Session, entry: &Entry, width: usize, theme: &Theme) -> Line<'static> {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let Some(code) = entry.language.as_deref() else { return Line::styled(fit_speaker(session, entry, width), bold) };
    let long = format!(" · {}", language::spoken_in(code));
    let full = session.speaker(entry);
    let tail = if width_of(&full) + width_of(&long) <= width { long } else { format!(" · {}", language::short(code)) };
    let name = fit_speaker(session, entry, width.saturating_sub(width_of(&tail)));
    Line::from(vec![Span::styled(name, bold), Span::styled(tail, theme.dim())])
}

fn describe(session: &Session, turn: &Turn) -> String {
    let level = turn.entry.level.map(|l| format!(" · {}", l.label())).unwrap_or_default();
    let part = turn.entry.resumes.as_ref().map(|r| format!(" · part {}", r.parts + 1)).unwrap_or_default();
    format!("{}{level} · {}{part}", turn.entry.kind.label(), modality(session, &turn.entry.participant))
}

pub fn render(view: &FloorView, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(format!(" {} ", view.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(session) = view.session else {
        frame.render_widget(Paragraph::new("waiting for the hub…"), inner);
        return;
    };
    let width = usize::from(inner.width);
    let hint_lines = || view.hints.iter().map(|h| Line::styled(ellipsize(h, width), theme.dim()));
    let warning = session.segment_def(session.current_segment.unwrap_or(0)).map_or(30, |d| d.limits.warning);
    let point = session.point_of_order.as_ref();
    let Some(turn) = session.floor.as_ref() else {
        let mut lines = Vec::new();
        if let Some(point) = point {
            lines.push(Line::styled(
                ellipsize(&format!(" POINT OF ORDER: {} ", session.name_of(&point.by)), width),
                theme.alert(),
            ));
        }
        let idle = if session.closed_at.is_some() {
            "The session is closed."
        } else if session.current_segment.is_none() {
            "No segment is open yet."
        } else {
            "No one holds the floor."
        };
        lines.push(Line::from(idle));
        lines.extend(hint_lines());
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let reading = turn.reading(view.now, warning);
    // Compact: text left, digits right. Wide: text above, larger digits below.
    let digits_width = 25.min(inner.width / 2);
    // Compact: the digits take 4 rows at the right; the rows below them are the
    // whole width, for the hints (so they are not cut at the digits' column).
    let [top, below] = if view.wide {
        [inner, Rect::default()]
    } else {
        Layout::vertical([Constraint::Length(4), Constraint::Min(0)]).areas(inner)
    };
    let [text_area, digits_area] = if view.wide {
        Layout::vertical([Constraint::Length(5 + view.hints.len() as u16), Constraint::Min(4)]).areas(inner)
    } else {
        Layout::horizontal([Constraint::Min(10), Constraint::Length(digits_width)]).areas(top)
    };
    let text_width = usize::from(text_area.width);
    let state = if let Some(point) = point {
        Span::styled(ellipsize(&format!(" POINT OF ORDER: {} ", session.name_of(&point.by)), text_width), theme.alert())
    } else if turn.paused {
        Span::styled(" PAUSED ", theme.alert())
    } else {
        match reading.phase {
            ClockPhase::Normal => Span::styled("speaking", theme.phase(ClockPhase::Normal)),
            ClockPhase::Warning => Span::styled("WARNING: time almost up", theme.phase(ClockPhase::Warning)),
            ClockPhase::Overrun => Span::styled("OVERRUN", theme.phase(ClockPhase::Overrun)),
        }
    };
    let left = if reading.remaining_ms >= 0 {
        format!("{} left", countdown(reading.remaining_ms))
    } else {
        format!("{} over", countdown(reading.remaining_ms))
    };
    let poo = if turn.points_of_order > 0 { format!(" · {} PoO", turn.points_of_order) } else { String::new() };
    let mut lines = vec![
        speaker_line(session, &turn.entry, text_width, theme),
        Line::from(ellipsize(&describe(session, turn), text_width)),
        Line::from(state),
        // The countdown in words too: screen readers and terminals without block glyphs.
        Line::from(ellipsize(
            &format!("used {} of {} · {left}{poo}", clock(reading.used_ms), clock(reading.allotted_ms)),
            text_width,
        )),
    ];
    let number = statement_number(session, turn);
    let started = time_of_day(Some(session), turn.started_at);
    let since = |width: usize| {
        let long = format!("statement {number} of the segment · since {started}");
        if long.chars().count() <= width { long } else { format!("statement {number} · since {started}") }
    };
    if view.wide {
        lines.push(Line::styled(ellipsize(&since(text_width), text_width), theme.dim()));
        lines.extend(view.hints.iter().map(|h| Line::styled(ellipsize(h, text_width), theme.dim())));
    } else {
        let width = usize::from(below.width);
        let rows = usize::from(below.height);
        let mut under: Vec<Line> = Vec::new();
        if rows > view.hints.len() {
            under.push(Line::styled(ellipsize(&since(width), width), theme.dim()));
        }
        if rows >= view.hints.len() {
            under.extend(view.hints.iter().map(|h| Line::styled(ellipsize(h, width), theme.dim())));
        } else if !view.hints.is_empty() {
            // One row: every hint on it, the most useful first.
            under.push(Line::styled(ellipsize(&view.hints.join(" · "), width), theme.dim()));
        }
        frame.render_widget(Paragraph::new(under), below);
    }
    frame.render_widget(Paragraph::new(lines), text_area);
    let style = if turn.paused || point.is_some() { theme.dim() } else { theme.phase(reading.phase) };
    let digits = countdown(reading.remaining_ms);
    // Half-height glyphs are 8 columns wide: only where the whole countdown fits.
    let large = view.wide && usize::from(digits_area.width) >= 8 * digits.chars().count();
    let big = BigText::builder()
        .pixel_size(if large { PixelSize::HalfHeight } else { PixelSize::Quadrant })
        .style(style)
        .lines(vec![Line::from(digits)])
        .alignment(if view.wide { Alignment::Center } else { Alignment::Right })
        .build();
    frame.render_widget(big, digits_area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::testkit::session;

    #[test]
    fn the_speakers_language_is_said_in_full_where_it_fits_and_as_its_code_where_not() {
        let session = session();
        let chile = session.def.participant("chile").expect("Chile");
        let mut entry = session.new_entry(0, chile, None, None, crate::tui::testkit::t(0));
        entry.on_behalf_of = Some("african-group".into());
        entry.language = Some("fr".into());
        let text = |entry: &Entry, width: usize| speaker_line(&session, entry, width, &Theme::new(true)).to_string();
        assert_eq!(text(&entry, 80), "Chile, on behalf of the African Group · in French");
        // Narrower: the code stays whole, and the name gives way (short, or with an ellipsis).
        let narrow = text(&entry, 40);
        assert!(narrow.ends_with(" · FR") && width_of(&narrow) <= 40, "{narrow}");
        entry.language = None;
        assert_eq!(text(&entry, 80), "Chile, on behalf of the African Group");
    }
}
