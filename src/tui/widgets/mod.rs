//! Pieces every screen draws with: the theme, time and name formatting that never
//! cuts text without an ellipsis, popups, the help overlay, the status line and the
//! footer of key hints. Widgets know the session's state, never a screen.

pub mod balance;
pub mod floor;
pub mod language;
pub mod list;
pub mod picker;
pub mod recent;
pub mod timeline;

use chrono::{FixedOffset, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::live::{LinkStatus, Live, StatusLine, Tone};
use crate::domain::{ClockPhase, ConnectionStatus, Entry, Modality, Session, StatementKind, Timestamp};

/// Colours, or none (`NO_COLOR`): every state stays visible by weight and reverse video.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn new(no_color: bool) -> Self {
        Self { color: !no_color }
    }
    pub fn fg(&self, color: Color) -> Style {
        if self.color { Style::new().fg(color) } else { Style::new() }
    }
    pub fn phase(&self, phase: ClockPhase) -> Style {
        match (phase, self.color) {
            (ClockPhase::Normal, true) => Style::new().fg(Color::Green),
            (ClockPhase::Warning, true) => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            (ClockPhase::Overrun, true) => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            (ClockPhase::Normal, false) => Style::new(),
            (ClockPhase::Warning, false) => Style::new().add_modifier(Modifier::BOLD),
            (ClockPhase::Overrun, false) => Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        }
    }
    pub fn alert(&self) -> Style {
        let base = Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED);
        if self.color { base.fg(Color::Magenta) } else { base }
    }
    pub fn tone(&self, tone: Tone) -> Style {
        match tone {
            Tone::Info => Style::new(),
            Tone::Ok => self.fg(Color::Green),
            Tone::Error => self.fg(Color::Red).add_modifier(Modifier::BOLD),
        }
    }
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn dim(&self) -> Style {
        if self.color { Style::new().fg(Color::DarkGray) } else { Style::new().add_modifier(Modifier::DIM) }
    }
    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

/// `m:ss` (or `h:mm:ss`) of a number of milliseconds, rounded down to the second.
pub fn clock(ms: u64) -> String {
    crate::domain::duration_text(ms)
}

/// What the big countdown shows: time left, counting up with `+` in overrun.
pub fn countdown(remaining_ms: i64) -> String {
    crate::domain::countdown_text(remaining_ms)
}

fn zone(session: &Session) -> FixedOffset {
    session.def.start.timezone()
}

/// `HH:MM:SS` in the session's time zone.
pub fn time_of_day(session: Option<&Session>, at: Timestamp) -> String {
    match session {
        Some(s) => at.with_timezone(&zone(s)).format("%H:%M:%S").to_string(),
        None => at.with_timezone(&Utc).format("%H:%M:%S").to_string(),
    }
}

/// Display width of a text in terminal columns.
pub fn width_of(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` in at most `width` columns: whole, or cut with a final `…`.
pub fn ellipsize(text: &str, width: usize) -> String {
    if width_of(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `text` padded or cut (with `…`) to exactly `width` columns: a stable cell.
pub fn cell(text: &str, width: usize) -> String {
    let text = ellipsize(text, width);
    let pad = width.saturating_sub(width_of(&text));
    format!("{text}{}", " ".repeat(pad))
}

/// A participant's name in `width` columns: the full name when it fits, else its
/// short name, else the name cut with an ellipsis.
pub fn fit_name(session: &Session, participant: &str, width: usize) -> String {
    let Some(p) = session.def.participant(participant) else { return ellipsize(participant, width) };
    if width_of(&p.name) <= width {
        return p.name.clone();
    }
    match &p.short {
        Some(short) if width_of(short) <= width => short.clone(),
        _ => ellipsize(&p.name, width),
    }
}

/// Who speaks for an entry in `width` columns: "Senegal, on behalf of the African
/// Group", with short names where needed, else cut with an ellipsis.
pub fn fit_speaker(session: &Session, entry: &Entry, width: usize) -> String {
    let Some(group) = &entry.on_behalf_of else { return fit_name(session, &entry.participant, width) };
    let full = session.speaker(entry);
    if width_of(&full) <= width {
        return full;
    }
    let short = |id: &str| {
        session.def.participant(id).and_then(|p| p.short.clone()).unwrap_or_else(|| session.name_of(id).to_string())
    };
    let group = match session.def.participant(group) {
        Some(_) => short(group),
        None => group.clone(),
    };
    ellipsize(&format!("{}, for {group}", short(&entry.participant)), width)
}

/// The kind of statement, short.
pub fn short_kind(entry: &Entry) -> String {
    match entry.kind {
        StatementKind::National => "national".into(),
        StatementKind::Group => "group".into(),
        StatementKind::Organization => "organization".into(),
        StatementKind::Stakeholder => "stakeholder".into(),
        StatementKind::Reply => format!("reply {}", entry.reply_number.unwrap_or(1)),
    }
}

/// How a participant takes part, with a remote speaker's connection status. Only
/// glyphs of width one, so a row never shifts.
pub fn modality(session: &Session, participant: &str) -> String {
    match session.def.participant(participant).map(|p| p.modality) {
        Some(Modality::Remote) => format!("remote {}", connection_mark(session.connection(participant))),
        Some(Modality::PreRecorded) => "pre-recorded".into(),
        _ => "in room".into(),
    }
}

pub fn connection_mark(status: ConnectionStatus) -> &'static str {
    match status {
        ConnectionStatus::Unknown => "?",
        ConnectionStatus::Connected => "● on",
        ConnectionStatus::AudioChecked => "✓ audio",
        ConnectionStatus::TechnicalIssue => "✗ ISSUE",
    }
}

/// A rectangle of at most `width` × `height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}

/// A bordered box over the screen, its text wrapped.
pub fn popup(frame: &mut Frame, title: &str, lines: Vec<Line>, width: u16, inner_height: u16) {
    let area = centered(frame.area(), width, inner_height + 2);
    frame.render_widget(Clear, area);
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title.to_string()));
    frame.render_widget(p, area);
}

/// Rows a text needs when wrapped at word boundaries in `width` columns, as a
/// wrapping paragraph lays it out (at least one): a popup as high as its content.
pub fn wrapped_rows(text: &str, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows_of = |line: &str| {
        let mut rows = 1;
        let mut used = 0;
        for word in line.split(' ') {
            let w = width_of(word);
            let need = if used == 0 { w } else { used + 1 + w };
            if need <= width {
                used = need;
            } else if w > width {
                // A word longer than the line is cut across rows.
                rows += usize::from(used > 0) + (w - 1) / width;
                used = (w - 1) % width + 1;
            } else {
                rows += 1;
                used = w;
            }
        }
        rows
    };
    text.lines().map(rows_of).sum::<usize>().max(1) as u16
}

/// A question, with what it will do and the keys that answer it (`answers`,
/// e.g. "y yes · Esc no").
pub fn confirm(frame: &mut Frame, question: &str, answers: &str) {
    let width = frame.area().width.saturating_sub(4).min(72);
    let rows = wrapped_rows(question, width.saturating_sub(2));
    popup(
        frame,
        " Confirm ",
        vec![Line::from(question.to_string()), Line::from(""), Line::from(answers.to_string())],
        width,
        rows + 2,
    );
}

/// The help overlay: every key of the screen with what it does, in as many columns
/// as the height needs, so every key shows on a small screen.
pub fn help(frame: &mut Frame, title: &str, entries: &[(String, String)], footnotes: &[Line<'static>]) {
    let room = frame.area().height.saturating_sub(2 + footnotes.len() as u16).max(1) as usize;
    let columns = entries.len().div_ceil(room).max(1);
    let rows = entries.len().div_ceil(columns);
    let key_width = if columns > 1 { 10 } else { 16 };
    // As wide as the longest description needs (and the screen allows).
    let longest = entries.iter().map(|(_, what)| width_of(what)).max().unwrap_or(20);
    let needed = (key_width + 2 + longest) as u16;
    let width = (frame.area().width / columns as u16).saturating_sub(1).min(needed).max(20) as usize;
    let mut lines: Vec<Line> = (0..rows)
        .map(|r| {
            let mut spans = Vec::new();
            for c in 0..columns {
                if let Some((keys, what)) = entries.get(c * rows + r) {
                    let text_width = width.saturating_sub(key_width + 1);
                    let keys = format!("{} ", cell(keys, key_width - 1));
                    spans.push(Span::styled(keys, Style::new().add_modifier(Modifier::BOLD)));
                    spans.push(Span::raw(format!("{} ", cell(what, text_width))));
                }
            }
            Line::from(spans)
        })
        .collect();
    lines.extend(footnotes.iter().cloned());
    let footnote_width = footnotes.iter().map(|l| l.width()).max().unwrap_or(0) as u16;
    let wanted = ((width as u16 + 1) * columns as u16 + 2).max(footnote_width + 2);
    let area = centered(frame.area(), wanted, (rows + footnotes.len()) as u16 + 2);
    frame.render_widget(Clear, area);
    let p = Paragraph::new(lines).block(Block::bordered().title(title.to_string()).borders(Borders::ALL));
    frame.render_widget(p, area);
}

/// How many rows the status line needs at this width: one, or two for a long message.
pub fn status_height(status: Option<&StatusLine>, width: u16) -> u16 {
    status.map_or(1, |s| wrapped_rows(&s.text, width).min(2))
}

/// Every live screen's frame: the header row, the body, the status line (one or
/// two rows, as its message needs) and the footer row.
pub fn screen_rows(status: Option<&StatusLine>, area: Rect) -> [Rect; 4] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(8),
        Constraint::Length(status_height(status, area.width)),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// The last message, wrapped; past two rows it ends in an ellipsis.
pub fn render_status(status: Option<&StatusLine>, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(s) = status else { return };
    let room = usize::from(area.width) * usize::from(area.height.max(1));
    let text = ellipsize(&s.text, room.saturating_sub(usize::from(area.height.saturating_sub(1)) * 2));
    frame.render_widget(Paragraph::new(Line::styled(text, theme.tone(s.tone))).wrap(Wrap { trim: false }), area);
}

/// A row of key hints: `key what`. When they do not all fit, as many as fit, in
/// order, then the help key as "more keys…": the cut is shown, and every key is
/// one key away.
pub fn render_footer(hints: &[(String, String)], theme: &Theme, frame: &mut Frame, area: Rect) {
    let need = |(key, what): &(String, String)| width_of(key) + width_of(what) + 3;
    let width = usize::from(area.width);
    let all: usize = hints.iter().map(need).sum();
    let help = hints.iter().find(|(_, what)| what == "help");
    let tail = (all > width).then(|| help.map(|(key, _)| (key.clone(), "more keys…".to_string()))).flatten();
    let room = width.saturating_sub(tail.as_ref().map_or(0, need));
    let mut spans = Vec::new();
    let mut used = 0;
    let shown = hints.iter().filter(|h| tail.is_none() || Some(*h) != help);
    for hint in shown {
        if used + need(hint) > room {
            break;
        }
        used += need(hint);
        spans.push(Span::styled(format!(" {}", hint.0), theme.bold()));
        spans.push(Span::styled(format!(" {} ", hint.1), theme.dim()));
    }
    if let Some((key, what)) = &tail {
        spans.push(Span::styled(format!(" {key}"), theme.bold()));
        spans.push(Span::styled(format!(" {what} "), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A link to the hub as a header shows it.
pub struct LinkState<'a> {
    pub status: &'a LinkStatus,
    pub rtt_ms: Option<u64>,
    /// Catching up: the seq held and the seq to reach.
    pub catching_up: Option<(u64, u64)>,
    /// After the round trip: "2 others on this hub".
    pub note: Option<String>,
}

impl Live {
    /// This screen's link, for its header.
    pub fn link_state(&self, note: Option<String>) -> LinkState<'_> {
        let held = self.replica.seq().unwrap_or(0);
        LinkState { status: &self.link, rtt_ms: self.rtt_ms, catching_up: self.catch_up_to.map(|to| (held, to)), note }
    }
}

/// The header: state badges first (they must never be cut), then the segment and
/// session titles (cut with an ellipsis), then the link and the hub's time.
pub fn render_header(
    badges: &[String],
    titles: &[String],
    link: Option<LinkState<'_>>,
    now: String,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let mut right: Vec<Span> = Vec::new();
    if let Some(live) = link {
        let note = live.note.map(|n| format!(" · {n}")).unwrap_or_default();
        let link = match live.status {
            LinkStatus::Connected if live.catching_up.is_some() => {
                let (held, to) = live.catching_up.unwrap_or_default();
                Span::styled(format!("◐ catching up {held}/{to}"), theme.fg(Color::Yellow))
            }
            LinkStatus::Connected => match live.rtt_ms {
                Some(rtt) => Span::styled(format!("● hub {rtt} ms{note}"), theme.fg(Color::Green)),
                None => Span::styled(format!("● hub{note}"), theme.fg(Color::Green)),
            },
            LinkStatus::Connecting => Span::styled("○ connecting…".to_string(), theme.fg(Color::Yellow)),
            // Shown as a badge on the left instead.
            LinkStatus::Reconnecting { .. } | LinkStatus::Refused { .. } => Span::raw(String::new()),
        };
        if !link.content.is_empty() {
            right.push(Span::raw(" │ "));
            right.push(link);
        }
    }
    right.push(Span::raw(format!(" │ {now} ")));
    let right_width: usize = right.iter().map(|s| width_of(&s.content)).sum();
    let mut room = usize::from(area.width).saturating_sub(right_width);
    let mut spans = Vec::new();
    for badge in badges {
        let text = format!(" {badge} ");
        let w = width_of(&text);
        if w + 1 > room {
            break;
        }
        spans.push(Span::styled(text, theme.alert()));
        spans.push(Span::raw(" "));
        room -= w + 1;
    }
    let title = titles.iter().filter(|t| !t.is_empty()).cloned().collect::<Vec<_>>().join(" │ ");
    let title = ellipsize(&format!(" {title}"), room);
    room = room.saturating_sub(width_of(&title));
    spans.push(Span::styled(title, theme.bold()));
    spans.push(Span::raw(" ".repeat(room)));
    spans.extend(right);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The badges of a live screen's link, for its header.
pub fn link_badges(live: &Live) -> Vec<String> {
    status_badges(&live.link)
}

/// The badges of a link's status: reconnecting, or refused.
pub fn status_badges(status: &LinkStatus) -> Vec<String> {
    match status {
        LinkStatus::Reconnecting { attempt, .. } => vec![format!("RECONNECTING (attempt {attempt})")],
        LinkStatus::Refused { .. } => vec!["REFUSED".to_string()],
        _ => Vec::new(),
    }
}

/// The badges a session's state puts first in every header.
pub fn session_badges(session: Option<&Session>) -> Vec<String> {
    let mut badges = Vec::new();
    if let Some(s) = session {
        if s.closed_at.is_some() {
            badges.push("SESSION CLOSED".to_string());
        }
        if s.point_of_order.is_some() {
            badges.push("POINT OF ORDER".to_string());
        }
    }
    badges
}
