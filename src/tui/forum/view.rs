//! Drawing the console: pure functions from its state to a frame. One block of
//! three rows a session (title and state; alerts and the floor with its clock;
//! the list, its forecast, who follows it and its notes), the selected one
//! marked, scrolled to keep it in view; every row fits its width, and what does
//! not fit ends in an ellipsis. Alerts come first on their row, so they are the
//! last thing to be cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use unicode_width::UnicodeWidthChar;

use super::{Console, Mode};
use crate::domain::{ClockPhase, countdown_text, duration_text};
use crate::forum::{self, SessionSummary};
use crate::tui::keymap::{self, Action};
use crate::tui::widgets::{self, LinkState, Theme, ellipsize, width_of};

/// Rows a session takes, and the blank row after it.
const BLOCK: u16 = 3;
const GAP: u16 = 1;

/// The console's regions: the same function draws and hit-tests the mouse.
struct Areas {
    header: Rect,
    body: Rect,
    status: Rect,
    footer: Rect,
}

fn areas(c: &Console, area: Rect) -> Areas {
    let [header, body, status, footer] = widgets::screen_rows(c.status.as_ref(), area);
    Areas { header, body, status, footer }
}

/// How many sessions the body shows from which one, and whether a row says more follow.
fn window(c: &Console, body: Rect) -> (usize, usize, bool) {
    let n = c.sessions.len();
    let fits = |rows: u16| usize::from((rows + GAP) / (BLOCK + GAP)).max(1);
    let all = fits(body.height);
    let (shown, more) = if n <= all { (n, false) } else { (fits(body.height.saturating_sub(1)), true) };
    let offset = if c.selected < shown { 0 } else { c.selected + 1 - shown };
    (offset, shown, more)
}

/// The session drawn at a screen row, if any.
pub fn session_at(c: &Console, area: Rect, row: u16) -> Option<usize> {
    let body = areas(c, area).body;
    if row < body.y || row >= body.y + body.height {
        return None;
    }
    let (offset, shown, _) = window(c, body);
    let index = usize::from((row - body.y) / (BLOCK + GAP));
    (index < shown).then_some(offset + index).filter(|i| *i < c.sessions.len())
}

/// Pieces of a row, laid out in `width` columns: whole while they fit; the first
/// that does not is cut and ends in `…`, and the rest are left out.
pub(super) fn fit(pieces: Vec<(String, Style)>, width: usize) -> Line<'static> {
    let total: usize = pieces.iter().map(|(t, _)| width_of(t)).sum();
    if total <= width {
        return Line::from(pieces.into_iter().map(|(t, s)| Span::styled(t, s)).collect::<Vec<_>>());
    }
    let room = width.saturating_sub(1);
    let mut used = 0;
    let mut spans = Vec::new();
    for (text, style) in pieces {
        let w = width_of(&text);
        if used + w <= room {
            used += w;
            spans.push(Span::styled(text, style));
            continue;
        }
        let mut cut = String::new();
        for ch in text.chars() {
            let cw = ch.width().unwrap_or(0);
            if used + cw > room {
                break;
            }
            used += cw;
            cut.push(ch);
        }
        let cut = cut.trim_end().to_string();
        spans.push(Span::styled(format!("{cut}…"), style));
        break;
    }
    if width > 0 && spans.is_empty() {
        spans.push(Span::raw("…"));
    }
    Line::from(spans)
}

/// "segment 2 of 4: Statements…", "not open (4 segments)", "closed at 13:02".
fn state_text(s: &SessionSummary) -> String {
    let zone = s.zone();
    match (&s.closed_at, &s.segment) {
        (Some(at), _) => format!("closed at {}", at.with_timezone(&zone).format("%H:%M")),
        (None, Some(g)) => format!("segment {} of {}: {}", g.number, s.segments, g.title),
        (None, None) => format!("not open ({} segments)", s.segments),
    }
}

/// The floor and its clock, as the second row says it.
fn floor_pieces(s: &SessionSummary, c: &Console, theme: &Theme) -> Vec<(String, Style)> {
    let now = c.hub_now();
    let Some(f) = &s.floor else {
        let text = match (&s.closed_at, &s.segment) {
            (Some(_), _) => "the session is closed",
            (None, Some(_)) => "nobody has the floor",
            (None, None) => "the session has not opened",
        };
        return vec![(text.to_string(), theme.dim())];
    };
    let (reading, _) = forum::clock_and_forecast(s, now);
    // The clock first: it is what the row is for; then who speaks, and how.
    let mut pieces = Vec::new();
    if let Some(r) = reading {
        let clock = match (r.phase, f.paused, r.running) {
            (ClockPhase::Overrun, _, _) => format!("{} over", countdown_text(r.remaining_ms)),
            (_, true, _) => format!("paused, {} left", countdown_text(r.remaining_ms)),
            (_, false, false) => format!("stopped, {} left", countdown_text(r.remaining_ms)),
            _ => format!("{} left", countdown_text(r.remaining_ms)),
        };
        pieces.push((clock, theme.phase(r.phase)));
        pieces.push((format!(" of {} · ", duration_text(f.allotted_ms)), theme.dim()));
    }
    pieces.push((f.speaker.clone(), theme.bold()));
    pieces.push((format!(" · {} · {}", f.kind, f.modality), Style::new()));
    pieces
}

/// The third row: the list and when it ends, the rapporteurs and displays
/// following, notes so far, then the others connected.
fn list_pieces(s: &SessionSummary, c: &Console, theme: &Theme) -> Vec<(String, Style)> {
    let sep = || (" · ".to_string(), theme.dim());
    let mut pieces = Vec::new();
    if let Some(g) = &s.segment {
        let replies = if g.replies > 0 { format!(" + {} replies", g.replies) } else { String::new() };
        if g.speakers + g.replies == 0 {
            pieces.push(("list empty".to_string(), Style::new()));
        } else {
            pieces.push((format!("list {}{replies}", g.speakers), Style::new()));
            if let (_, Some((ends, late))) = forum::clock_and_forecast(s, c.hub_now()) {
                let at = ends.with_timezone(&s.zone()).format("%H:%M");
                pieces.push((format!(", ends {at} "), Style::new()));
                pieces.push(if late > 0 {
                    (format!("({} late)", duration_text(late.unsigned_abs())), theme.fg(Color::Red))
                } else {
                    ("(on time)".to_string(), theme.fg(Color::Green))
                });
            }
        }
        pieces.push(sep());
    }
    let p = s.connected;
    pieces.push((format!("rapporteurs {} · displays {}", p.rapporteurs, p.displays), Style::new()));
    pieces.push(sep());
    let pledges = if s.pledges > 0 { format!(", pledges {}", s.pledges) } else { String::new() };
    pieces.push((format!("notes {}{pledges}", s.notes), Style::new()));
    pieces.push(sep());
    let mut others = vec![format!("chairs {}", p.chairs)];
    if p.delegates > 0 {
        others.push(format!("delegates {}", p.delegates));
    }
    if p.observers > 0 {
        others.push(format!("observers {}", p.observers));
    }
    pieces.push((others.join(", "), theme.dim()));
    pieces
}

fn render_session(c: &Console, s: &SessionSummary, selected: bool, theme: &Theme, frame: &mut Frame, area: Rect) {
    let width = usize::from(area.width);
    let marker = if selected { "▶ " } else { "  " };
    // The title, then the state at the right; the title gives way first, down to 12 columns.
    let state = state_text(s);
    let inner = width.saturating_sub(2);
    let state_room = inner.saturating_sub(width_of(&s.title).min(inner / 2) + 2);
    let state = ellipsize(&state, state_room);
    let title = ellipsize(&s.title, inner.saturating_sub(width_of(&state) + 2));
    let pad = inner.saturating_sub(width_of(&title) + width_of(&state));
    let title_style = if selected { theme.bold().patch(theme.selected()) } else { theme.bold() };
    let first = Line::from(vec![
        Span::styled(marker.to_string(), theme.bold()),
        Span::styled(title, title_style),
        Span::raw(" ".repeat(pad)),
        Span::styled(state, if s.closed_at.is_some() { theme.dim() } else { Style::new() }),
    ]);
    let mut second = vec![("  ".to_string(), Style::new())];
    for alert in forum::alerts(s, c.hub_now()) {
        second.push((format!(" {} ", alert.badge()), theme.alert()));
        second.push((" ".to_string(), Style::new()));
    }
    second.extend(floor_pieces(s, c, theme));
    let mut third = vec![("  ".to_string(), Style::new())];
    third.extend(list_pieces(s, c, theme));
    let lines = vec![first, fit(second, width), fit(third, width)];
    frame.render_widget(Paragraph::new(lines), area);
}

fn render_header(c: &Console, theme: &Theme, frame: &mut Frame, area: Rect) {
    let now = c.hub_now();
    let mut badges = Vec::new();
    let alerts: usize = c.sessions.iter().map(|s| forum::alerts(s, now).len()).sum();
    if alerts > 0 {
        badges.push(if alerts == 1 { "1 ALERT".to_string() } else { format!("{alerts} ALERTS") });
    }
    badges.extend(widgets::status_badges(&c.link));
    let who = match c.role {
        Some(crate::domain::Role::Chair) => "the secretariat: Enter chairs a session".to_string(),
        Some(_) => "read-only".to_string(),
        None => String::new(),
    };
    let titles = vec![format!("Forum: {} sessions", c.sessions.len()), who];
    let zone = c.sessions.first().map_or_else(|| chrono::Offset::fix(&chrono::Utc), SessionSummary::zone);
    let time = now.with_timezone(&zone).format("%H:%M:%S").to_string();
    let link = LinkState { status: &c.link, rtt_ms: c.rtt_ms, catching_up: None, note: None };
    widgets::render_header(&badges, &titles, Some(link), time, theme, frame, area);
}

/// The forum's address without its token, to show.
fn shown_url(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

fn render_body(c: &Console, theme: &Theme, frame: &mut Frame, body: Rect) {
    if let Some(reason) = &c.refused {
        let text = vec![
            Line::styled(format!("The hub refused the console: {reason}."), theme.tone(super::Tone::Error)),
            Line::from(""),
            Line::from(
                "The forum's console needs the secretariat's token (to chair any session) or the forum observer's \
                 (to follow them read-only). Both are in forum-tokens.toml, in the hub's data directory \
                 (secretariat = \"…\"), and `rostrum hub` prints the forum's URL with the secretariat's token when it starts:",
            ),
            Line::from(""),
            Line::styled(format!("  rostrum forum '{}?token=TOKEN'", shown_url(&c.url)), theme.bold()),
            Line::from(format!("  rostrum forum {} --token TOKEN", shown_url(&c.url))),
        ];
        let p = Paragraph::new(text).wrap(Wrap { trim: false }).block(Block::bordered().title(" Forum "));
        frame.render_widget(p, body);
        return;
    }
    if c.sessions.is_empty() {
        let text = match c.link {
            super::LinkStatus::Connected => "The hub serves no session.".to_string(),
            _ => format!("Connecting to the forum at {}…", shown_url(&c.url)),
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.dim())).wrap(Wrap { trim: false }), body);
        return;
    }
    let (offset, shown, more) = window(c, body);
    for (i, s) in c.sessions.iter().enumerate().skip(offset).take(shown) {
        let y = body.y + (i - offset) as u16 * (BLOCK + GAP);
        let height = BLOCK.min((body.y + body.height).saturating_sub(y));
        let area = Rect { x: body.x, y, width: body.width, height };
        render_session(c, s, i == c.selected, theme, frame, area);
    }
    if more {
        let below = c.sessions.len() - offset - shown;
        let above = offset;
        let down = c.keymap.key_of(Action::Down);
        let text = match (above, below) {
            (0, b) => format!("↓ {b} more (↓ {down})"),
            (a, 0) => format!("↑ {a} more above"),
            (a, b) => format!("↑ {a} above, ↓ {b} more (↓ {down})"),
        };
        let row = Rect { x: body.x, y: body.y + body.height - 1, width: body.width, height: 1 };
        frame.render_widget(Paragraph::new(Line::styled(ellipsize(&text, usize::from(row.width)), theme.dim())), row);
    }
}

pub fn footer_hints(c: &Console) -> Vec<(String, String)> {
    let k = |a: Action| c.keymap.key_of(a);
    match c.mode {
        Mode::Help => return vec![("any key".to_string(), "close".to_string())],
        Mode::ConfirmQuit(_) => {
            return vec![("y".to_string(), "yes".to_string()), ("Esc".to_string(), "no".to_string())];
        }
        Mode::Normal => {}
    }
    let open = if c.chairs() { "open as chair" } else { "open read-only" };
    let mut hints = Vec::new();
    if !c.sessions.is_empty() {
        hints.push((k(Action::Open), open.to_string()));
        hints.push(("↑↓".to_string(), "choose".to_string()));
    }
    hints.push((k(Action::Help), "help".to_string()));
    hints.push((k(Action::Quit), "quit".to_string()));
    hints
}

pub fn render(c: &Console, frame: &mut Frame) {
    let theme = Theme::new(c.no_color);
    let a = areas(c, frame.area());
    render_header(c, &theme, frame, a.header);
    render_body(c, &theme, frame, a.body);
    widgets::render_status(c.status.as_ref(), &theme, frame, a.status);
    widgets::render_footer(&footer_hints(c), &theme, frame, a.footer);
    if let Mode::ConfirmQuit(question) = &c.mode {
        widgets::confirm(frame, question, "y yes · Esc no");
    }
    if c.mode == Mode::Help {
        let entries = keymap::help_entries(&c.keymap, keymap::Screen::Forum);
        let notes = [
            Line::from(""),
            Line::from("From a session's screen, Esc (or its q) comes back here."),
            Line::from("Alerts: OVERRUN (by over a minute), LOST (a remote speaker's technical"),
            Line::from("issue), LATE (the list runs past the schedule), POINT OF ORDER (to rule on)."),
        ];
        widgets::help(frame, " Forum keys (any key closes) ", &entries, &notes);
    }
}
