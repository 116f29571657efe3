//! Rendering: pure functions from the app's state to a frame, one per screen region.
//! Compact at 80x24; wider terminals get a side column. Only visible rows are drawn.

use chrono::{FixedOffset, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use tui_big_text::{BigText, PixelSize};

use super::app::{App, Field, LinkStatus, Mode, NoteTarget, Purpose, Tone, kinds_for, parse_tags, turn_choices};
use super::keymap::Action;
use super::keymap::Screen;
use super::replay::{ReplayApp, ReplayMode};
use crate::domain::{
    ClockPhase, ConnectionStatus, Entry, Modality, Placement, Session, StatementKind, Timestamp, Turn, forecast,
    gcm_objective,
};

/// Screen regions; the same function serves drawing and mouse hit-testing.
#[derive(Debug, Clone, Copy)]
pub struct Areas {
    pub wide: bool,
    pub header: Rect,
    pub floor: Rect,
    pub list: Rect,
    /// Rows of list entries inside the list block (below its column titles).
    pub list_rows: Rect,
    pub reason: Rect,
    pub forecast: Rect,
    pub recent: Rect,
    pub replies: Rect,
    pub join: Rect,
    pub status: Rect,
    pub footer: Rect,
}

pub fn layout(area: Rect) -> Areas {
    let wide = area.width >= 120 && area.height >= 34;
    let [header, body, status, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(8), Constraint::Length(1), Constraint::Length(1)])
            .areas(area);
    let (floor, list, forecast, recent, replies, join) = if wide {
        let [left, right] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
        let [floor, forecast, recent, replies, join] = Layout::vertical([
            Constraint::Length(11),
            Constraint::Length(3),
            Constraint::Min(5),
            Constraint::Length(6),
            Constraint::Length(6),
        ])
        .areas(right);
        (floor, left, forecast, recent, replies, join)
    } else {
        let [floor, list, forecast, recent, replies] = Layout::vertical([
            Constraint::Length(6),
            Constraint::Min(5),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(body);
        (floor, list, forecast, recent, replies, Rect::default())
    };
    let (list_rows, reason) = list_parts(list);
    Areas { wide, header, floor, list, list_rows, reason, forecast, recent, replies, join, status, footer }
}

/// Inside a list block: the rows of entries (below the column titles) and the
/// selected entry's reason (the last row).
pub fn list_parts(list: Rect) -> (Rect, Rect) {
    let inner = Block::bordered().inner(list);
    let rows = Rect { y: inner.y + 1, height: inner.height.saturating_sub(2), ..inner };
    let reason = Rect { y: inner.y + inner.height.saturating_sub(1), height: 1.min(inner.height), ..inner };
    (rows, reason)
}

/// First visible row so that `selected` is on screen.
pub fn list_offset(selected: usize, height: usize) -> usize {
    if height == 0 { 0 } else { selected.saturating_sub(height - 1) }
}

struct Theme {
    color: bool,
}

impl Theme {
    fn fg(&self, color: Color) -> Style {
        if self.color { Style::new().fg(color) } else { Style::new() }
    }
    fn phase(&self, phase: ClockPhase) -> Style {
        match (phase, self.color) {
            (ClockPhase::Normal, true) => Style::new().fg(Color::Green),
            (ClockPhase::Warning, true) => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            (ClockPhase::Overrun, true) => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            (ClockPhase::Normal, false) => Style::new(),
            (ClockPhase::Warning, false) => Style::new().add_modifier(Modifier::BOLD),
            (ClockPhase::Overrun, false) => Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        }
    }
    fn alert(&self) -> Style {
        let base = Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED);
        if self.color { base.fg(Color::Magenta) } else { base }
    }
    fn tone(&self, tone: Tone) -> Style {
        match tone {
            Tone::Info => Style::new(),
            Tone::Ok => self.fg(Color::Green),
            Tone::Error => self.fg(Color::Red).add_modifier(Modifier::BOLD),
        }
    }
    fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    fn dim(&self) -> Style {
        if self.color { Style::new().fg(Color::DarkGray) } else { Style::new().add_modifier(Modifier::DIM) }
    }
}

/// `m:ss` (or `h:mm:ss`) of a number of milliseconds, rounded down to the second.
pub fn clock(ms: u64) -> String {
    let secs = ms / 1000;
    if secs >= 3600 {
        format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    } else {
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}

/// What the big countdown shows: time left, counting up with `+` in overrun.
pub fn countdown(remaining_ms: i64) -> String {
    if remaining_ms >= 0 {
        // Show 2:59.4 as 3:00 while the first second runs: ceiling.
        let ms = remaining_ms as u64;
        let secs = ms.div_ceil(1000);
        format!("{:02}:{:02}", secs / 60, secs % 60)
    } else {
        let secs = remaining_ms.unsigned_abs() / 1000;
        format!("+{:02}:{:02}", secs / 60, secs % 60)
    }
}

fn zone(session: &Session) -> FixedOffset {
    session.def.start.timezone()
}

fn time_of_day(session: Option<&Session>, at: Timestamp) -> String {
    match session {
        Some(s) => at.with_timezone(&zone(s)).format("%H:%M:%S").to_string(),
        None => at.with_timezone(&Utc).format("%H:%M:%S").to_string(),
    }
}

fn short_kind(entry: &Entry) -> String {
    match entry.kind {
        StatementKind::National => "national".into(),
        StatementKind::Group => "group".into(),
        StatementKind::Organization => "organization".into(),
        StatementKind::Stakeholder => "stakeholder".into(),
        StatementKind::Reply => format!("reply {}", entry.reply_number.unwrap_or(1)),
    }
}

fn modality(session: &Session, participant: &str) -> String {
    match session.def.participant(participant).map(|p| p.modality) {
        Some(Modality::Remote) => match session.connection(participant) {
            ConnectionStatus::Unknown => "remote ?".into(),
            ConnectionStatus::Connected => "remote ●".into(),
            ConnectionStatus::AudioChecked => "remote ✓".into(),
            ConnectionStatus::TechnicalIssue => "remote ⚠ issue".into(),
        },
        Some(Modality::PreRecorded) => "pre-recorded".into(),
        _ => "in room".into(),
    }
}

pub fn render(app: &App, frame: &mut Frame) {
    let theme = Theme { color: !app.no_color };
    match app.screen {
        Screen::Chair | Screen::Replay => render_chair(app, &theme, frame),
        Screen::Rapporteur => render_rapporteur(app, &theme, frame),
    }
    render_overlay(app, &theme, frame);
}

fn render_chair(app: &App, theme: &Theme, frame: &mut Frame) {
    let areas = layout(frame.area());
    render_header(app, theme, frame, areas.header);
    render_floor(app, theme, frame, areas.floor, areas.wide);
    render_list(app, theme, frame, areas.list, areas.wide);
    render_forecast(app, theme, frame, areas.forecast, areas.wide);
    render_recent(app, theme, frame, areas.recent, areas.wide);
    render_replies(app, theme, frame, areas.replies, areas.wide);
    if areas.wide {
        render_join(app, frame, areas.join);
    }
    render_status(app, theme, frame, areas.status);
    render_footer(app, theme, frame, areas.footer);
}

fn render_overlay(app: &App, theme: &Theme, frame: &mut Frame) {
    match &app.mode {
        Mode::Help => render_help(app, frame),
        Mode::Picker(_) => render_picker(app, theme, frame),
        Mode::Ruling(ruling) => {
            let verdict = if ruling.upheld { "UPHELD" } else { "NOT UPHELD" };
            let lines = vec![
                Line::from(format!("Ruling: {}█", ruling.text)),
                Line::from(""),
                Line::from(vec![Span::raw("Verdict: "), Span::styled(verdict, theme.alert()), Span::raw("  (Tab)")]),
            ];
            popup(frame, " Rule on the point of order ", lines, 60, 5);
        }
        Mode::Confirm(confirm) => popup(
            frame,
            " Confirm ",
            vec![Line::from(confirm.question.clone()), Line::from(""), Line::from("y yes · n no")],
            60,
            5,
        ),
        Mode::Normal if app.show_join && app.screen == Screen::Chair => render_join_popup(app, frame),
        Mode::Normal | Mode::Editing => {}
    }
}

fn render_header(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let session = app.session();
    let title = session.map_or("Rostrum", |s| s.def.title.as_str());
    let segment = session
        .and_then(|s| {
            let index = app.view_segment();
            let def = s.segment_def(index)?;
            let state = s.segments.get(index)?;
            let open = if s.current_segment == Some(index) { "" } else { " (not open)" };
            let closed = if state.closed { " · list closed" } else { "" };
            Some(format!("{}{open}{closed}", def.title))
        })
        .unwrap_or_default();
    let link = match &app.link {
        LinkStatus::Connected => match app.rtt_ms {
            Some(rtt) => Span::styled(format!("● hub {rtt} ms"), theme.fg(Color::Green)),
            None => Span::styled("● hub".to_string(), theme.fg(Color::Green)),
        },
        LinkStatus::Connecting => Span::styled("○ connecting…".to_string(), theme.fg(Color::Yellow)),
        LinkStatus::Reconnecting { .. } => Span::styled("○ RECONNECTING…".to_string(), theme.alert()),
        LinkStatus::Refused { .. } => Span::styled("✗ REFUSED".to_string(), theme.alert()),
    };
    let now = time_of_day(session, app.hub_now());
    let closed = if session.is_some_and(|s| s.closed_at.is_some()) { " · SESSION CLOSED" } else { "" };
    let left = format!(" {title} │ {segment}{closed}");
    let right_len = link.content.chars().count() + now.chars().count() + 6;
    let room = (area.width as usize).saturating_sub(right_len);
    let left: String = left.chars().take(room).collect();
    let pad = room.saturating_sub(left.chars().count());
    let line = Line::from(vec![
        Span::styled(left, Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(" ".repeat(pad)),
        Span::raw(" │ "),
        link,
        Span::raw(format!(" │ {now}")),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn describe_turn(session: &Session, turn: &Turn) -> String {
    let p = session.def.participant(&turn.entry.participant);
    let level = turn.entry.level.map(|l| format!(" · {}", l.label())).unwrap_or_default();
    let kind = turn.entry.kind.label();
    let modality = modality(session, &turn.entry.participant);
    let _ = p;
    format!("{kind}{level} · {modality}")
}

fn render_floor(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, wide: bool) {
    let block = Block::bordered().title(" Floor ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(session) = app.session() else {
        frame.render_widget(Paragraph::new("waiting for the hub…"), inner);
        return;
    };
    let warning = session.segment_def(app.view_segment()).map_or(30, |d| d.limits.warning);
    let point = session.point_of_order.as_ref();
    let Some(turn) = session.floor.as_ref() else {
        let mut lines = vec![Line::from("No one holds the floor.")];
        if let Some(point) = point {
            lines.insert(0, Line::styled(format!(" POINT OF ORDER: {} ", session.name_of(&point.by)), theme.alert()));
        }
        if let Some(next) = app.selectable().first() {
            let key = app.keymap.key_of(Action::NextSpeaker);
            lines.push(Line::styled(
                format!("{key}: give the floor to {}", session.name_of(&next.participant)),
                theme.dim(),
            ));
        }
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let reading = turn.reading(app.hub_now(), warning);
    // Compact: text left, digits right. Wide: text above, larger digits below.
    let [text_area, digits_area] = if wide {
        Layout::vertical([Constraint::Length(5), Constraint::Min(4)]).areas(inner)
    } else {
        Layout::horizontal([Constraint::Min(10), Constraint::Length(25.min(inner.width / 2))]).areas(inner)
    };
    let state = if point.is_some() {
        Span::styled(format!(" POINT OF ORDER: {} ", point.map_or("", |p| session.name_of(&p.by))), theme.alert())
    } else if turn.paused {
        Span::styled(" PAUSED ", theme.alert())
    } else {
        match reading.phase {
            ClockPhase::Normal => Span::styled("speaking", theme.phase(ClockPhase::Normal)),
            ClockPhase::Warning => Span::styled("WARNING: time almost up", theme.phase(ClockPhase::Warning)),
            ClockPhase::Overrun => Span::styled("OVERRUN", theme.phase(ClockPhase::Overrun)),
        }
    };
    let mut lines = vec![
        Line::styled(session.name_of(&turn.entry.participant).to_string(), Style::new().add_modifier(Modifier::BOLD)),
        Line::from(describe_turn(session, turn)),
        Line::from(state),
        // The countdown in words too: screen readers and terminals without block glyphs.
        Line::from(format!(
            "used {} of {} · {}{}",
            clock(reading.used_ms),
            clock(reading.allotted_ms),
            if reading.remaining_ms >= 0 {
                format!("{} left", countdown(reading.remaining_ms))
            } else {
                format!("{} over", countdown(reading.remaining_ms))
            },
            if turn.points_of_order > 0 { format!(" · {} PoO", turn.points_of_order) } else { String::new() }
        )),
    ];
    if wide {
        lines.push(Line::styled(
            format!("turn #{} · since {}", turn.id, time_of_day(Some(session), turn.started_at)),
            theme.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(lines), text_area);
    let style = if turn.paused || point.is_some() { theme.dim() } else { theme.phase(reading.phase) };
    let big = BigText::builder()
        .pixel_size(if wide { PixelSize::HalfHeight } else { PixelSize::Quadrant })
        .style(style)
        .lines(vec![Line::from(countdown(reading.remaining_ms))])
        .alignment(if wide { Alignment::Center } else { Alignment::Right })
        .build();
    frame.render_widget(big, digits_area);
}

fn render_list(app: &App, theme: &Theme, frame: &mut Frame, list: Rect, wide: bool) {
    let (list_rows, reason_area) = list_parts(list);
    let Some(session) = app.session() else {
        frame.render_widget(Block::bordered().title(" Speakers "), list);
        return;
    };
    let segment = app.view_segment();
    let state = session.segments.get(segment);
    let entries = app.selectable();
    let list_len = state.map_or(0, |s| s.list.len());
    let closed = state.is_some_and(|s| s.closed);
    let replies = entries.len().saturating_sub(list_len);
    let hidden = entries.len().saturating_sub(list_rows.height as usize);
    let title = format!(
        " Speakers: {list_len}{}{}{} ",
        if replies > 0 { format!(" + {replies} replies") } else { String::new() },
        if hidden > 0 { format!(" ({hidden} more: ↑↓)") } else { String::new() },
        if closed { " · LIST CLOSED" } else { "" }
    );
    let block = Block::bordered().title(title);
    frame.render_widget(block, list);
    let inner = Block::bordered().inner(list);
    let header_area = Rect { height: 1.min(inner.height), ..inner };
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(4),
            Constraint::Min(16),
            Constraint::Length(12),
            Constraint::Length(18),
            Constraint::Length(14),
            Constraint::Length(6),
        ]
    } else {
        vec![
            Constraint::Length(4),
            Constraint::Min(14),
            Constraint::Length(12),
            Constraint::Length(14),
            Constraint::Length(5),
        ]
    };
    let titles: Vec<&str> = if wide {
        vec!["#", "speaker", "kind", "level", "modality", "time"]
    } else {
        vec!["#", "speaker", "kind", "modality", "time"]
    };
    let header = Row::new(titles.into_iter().map(|t| Cell::from(t).style(theme.dim())));
    frame.render_widget(Table::new(Vec::<Row>::new(), widths.clone()).header(header), header_area);
    let height = list_rows.height as usize;
    let offset = list_offset(app.selected, height);
    let rows: Vec<Row> = entries
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, e)| {
            let position = if i < list_len { format!("{}", i + 1) } else { "R".to_string() };
            let moved = match e.placement {
                Placement::Policy => "",
                Placement::Moved { .. } => " ↕",
                Placement::Deferred { .. } => " ↓",
            };
            let mut cells = vec![
                Cell::from(position),
                Cell::from(format!("{}{moved}", session.name_of(&e.participant))),
                Cell::from(short_kind(e)),
            ];
            if wide {
                cells.push(Cell::from(e.level.map(|l| l.label()).unwrap_or("")));
            }
            let remote = modality(session, &e.participant);
            let issue = remote.contains('⚠');
            cells.push(Cell::from(remote).style(if issue { theme.fg(Color::Red) } else { Style::new() }));
            cells.push(Cell::from(clock(u64::from(e.allotted) * 1000)));
            let row = Row::new(cells);
            if i == app.selected { row.style(theme.selected()) } else { row }
        })
        .collect();
    frame.render_widget(Table::new(rows, widths), list_rows);
    let reason = match app.selected_entry() {
        Some(e) => {
            format!("why here: {}", if e.reason.is_empty() { "right of reply, in order of request" } else { &e.reason })
        }
        None if closed => "the list is closed".to_string(),
        None if app.screen == Screen::Rapporteur => "the list is empty".to_string(),
        None => format!("the list is empty: {} to inscribe a speaker", app.keymap.key_of(Action::Inscribe)),
    };
    frame.render_widget(Paragraph::new(Line::styled(reason, theme.dim())), reason_area);
}

fn render_forecast(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, wide: bool) {
    let Some(session) = app.session() else { return };
    let segment = app.view_segment();
    let Some(f) = forecast(session, segment, app.hub_now()) else { return };
    let ends = time_of_day(Some(session), f.ends_at);
    let minutes = f.late_ms.unsigned_abs().div_ceil(60_000);
    let (verdict, style) = if f.late_ms > 0 {
        (format!("{minutes} min past schedule"), theme.fg(Color::Red))
    } else {
        (format!("{minutes} min to spare"), theme.fg(Color::Green))
    };
    let text = format!("list ends {} · ", &ends[..5]);
    let fits = format!(" · {} of {} fit before {}", f.fit, f.total, &time_of_day(Some(session), f.scheduled_end)[..5]);
    let line = Line::from(vec![Span::raw(text), Span::styled(verdict, style), Span::raw(fits)]);
    if wide {
        frame.render_widget(Paragraph::new(line).block(Block::bordered().title(" Forecast ")), area);
    } else {
        frame.render_widget(Paragraph::new(line), area);
    }
}

fn render_recent(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, wide: bool) {
    let Some(session) = app.session() else { return };
    let notes = |turn: u64| {
        session.notes.iter().filter(|n| n.turn == Some(turn)).count()
            + session.pledges.iter().filter(|p| p.turn == Some(turn)).count()
    };
    if wide {
        let height = area.height.saturating_sub(3) as usize;
        let rows: Vec<Row> = session
            .turns
            .iter()
            .rev()
            .take(height)
            .map(|t| {
                let overrun = if t.overrun_ms >= 1000 { format!("+{}", clock(t.overrun_ms)) } else { String::new() };
                let n = notes(t.id);
                Row::new(vec![
                    Cell::from(session.name_of(&t.participant).to_string()),
                    Cell::from(time_of_day(Some(session), t.started_at)),
                    Cell::from(clock(t.used_ms)),
                    Cell::from(overrun).style(theme.fg(Color::Red)),
                    Cell::from(if n > 0 { format!("{n} notes") } else { String::new() }),
                ])
            })
            .collect();
        let header = Row::new(["speaker", "start", "used", "overrun", ""].map(|t| Cell::from(t).style(theme.dim())));
        let widths = [
            Constraint::Min(14),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Length(9),
        ];
        frame.render_widget(
            Table::new(rows, widths).header(header).block(Block::bordered().title(" Recent turns ")),
            area,
        );
    } else {
        let spans: Vec<String> = session
            .turns
            .iter()
            .rev()
            .take(4)
            .map(|t| {
                let overrun = if t.overrun_ms >= 1000 { format!(" +{}", clock(t.overrun_ms)) } else { String::new() };
                let n = notes(t.id);
                let notes = if n > 0 { format!(" ({n} notes)") } else { String::new() };
                format!("{} {}{overrun}{notes}", session.name_of(&t.participant), clock(t.used_ms))
            })
            .collect();
        let text = if spans.is_empty() { "no turns yet".to_string() } else { spans.join(" · ") };
        frame.render_widget(
            Paragraph::new(Line::from(vec![Span::styled("recent: ", theme.dim()), Span::raw(text)])),
            area,
        );
    }
}

fn render_replies(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, wide: bool) {
    let Some(session) = app.session() else { return };
    let state = session.segments.get(app.view_segment());
    let replies: Vec<String> = state
        .map(|s| {
            s.replies
                .iter()
                .map(|e| {
                    format!(
                        "{} ({}, {})",
                        session.name_of(&e.participant),
                        e.reply_number.unwrap_or(1),
                        clock(u64::from(e.allotted) * 1000)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let text = if replies.is_empty() { "none requested".to_string() } else { replies.join(" · ") };
    if wide {
        let p = Paragraph::new(text).wrap(Wrap { trim: true }).block(Block::bordered().title(" Rights of reply "));
        frame.render_widget(p, area);
    } else {
        frame.render_widget(
            Paragraph::new(Line::from(vec![Span::styled("replies: ", theme.dim()), Span::raw(text)])),
            area,
        );
    }
}

fn join_lines(app: &App) -> Vec<Line<'static>> {
    if app.join_urls.is_empty() {
        return vec![Line::from("joined a hub elsewhere: ask its operator for join URLs")];
    }
    let mut lines: Vec<Line> = app.join_urls.iter().map(|u| Line::from(format!("{:<10} {}", u.role, u.url))).collect();
    if let Some(session) = app.session() {
        lines.push(Line::from(format!(
            "delegates  one token each in the data directory: {}/tokens.toml",
            session.def.id
        )));
    }
    lines
}

fn render_join(app: &App, frame: &mut Frame, area: Rect) {
    let p = Paragraph::new(join_lines(app))
        .wrap(Wrap { trim: false })
        .block(Block::bordered().title(format!(" Join ({} to enlarge) ", app.keymap.key_of(Action::JoinUrls))));
    frame.render_widget(p, area);
}

fn render_join_popup(app: &App, frame: &mut Frame) {
    let width = frame.area().width.saturating_sub(4);
    popup(frame, " Join URLs ", join_lines(app), width, 8);
}

fn render_status(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let line = match &app.status {
        Some(s) => Line::styled(s.text.clone(), theme.tone(s.tone)),
        None => Line::from(""),
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn render_footer(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let k = |a: Action| app.keymap.key_of(a);
    let hints: Vec<(String, &str)> = match &app.mode {
        Mode::Normal if app.screen == Screen::Rapporteur => vec![
            (k(Action::Help), "help"),
            (k(Action::Quit), "quit"),
            (k(Action::NewNote), "note"),
            (k(Action::NewPledge), "pledge"),
            ("↑↓".into(), "turn"),
        ],
        Mode::Normal => vec![
            (k(Action::Help), "help"),
            (k(Action::Quit), "quit"),
            (k(Action::Inscribe), "inscribe"),
            (k(Action::GiveFloor), "floor"),
            (k(Action::NextSpeaker), "next"),
            (k(Action::EndTurn), "end"),
            (k(Action::PauseResume), "pause"),
            (format!("{}/{}", k(Action::Extend), k(Action::Cut)), "time"),
            (k(Action::PointOfOrder), "order"),
            (k(Action::Undo), "undo"),
        ],
        Mode::Picker(p) if p.purpose == Purpose::Inscribe => {
            vec![
                ("type".into(), "search"),
                ("↑↓".into(), "choose"),
                ("Tab".into(), "kind"),
                ("Enter".into(), "inscribe"),
                ("Esc".into(), "cancel"),
            ]
        }
        Mode::Picker(_) => vec![
            ("type".into(), "search"),
            ("↑↓".into(), "choose"),
            ("Enter".into(), "confirm"),
            ("Esc".into(), "cancel"),
        ],
        Mode::Ruling(_) => vec![
            ("type".into(), "ruling"),
            ("Tab".into(), "verdict"),
            ("Enter".into(), "rule"),
            ("Esc".into(), "cancel"),
        ],
        Mode::Confirm(_) => vec![("y".into(), "yes"), ("n".into(), "no")],
        Mode::Editing => vec![("Ctrl+S".into(), "save"), ("Tab".into(), "text/tags"), ("Esc".into(), "cancel")],
        Mode::Help => vec![("any key".into(), "close")],
    };
    let mut spans = Vec::new();
    for (key, what) in hints {
        spans.push(Span::styled(format!(" {key}"), Style::new().add_modifier(Modifier::BOLD)));
        spans.push(Span::styled(format!(" {what} "), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}

fn popup(frame: &mut Frame, title: &str, lines: Vec<Line>, width: u16, inner_height: u16) {
    let area = centered(frame.area(), width, inner_height + 2);
    frame.render_widget(Clear, area);
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title.to_string()));
    frame.render_widget(p, area);
}

fn render_help(app: &App, frame: &mut Frame) {
    let entries: Vec<(String, &str)> = app
        .keymap
        .all()
        .map(|(action, keys)| {
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            let what = match (app.screen, action) {
                (Screen::Replay, Action::NextSegment) => "next segment",
                (Screen::Chair, Action::NextSegment) => "open the next segment",
                _ => action.describe(),
            };
            (keys.join(" "), what)
        })
        .collect();
    // As many columns as the height needs, so every key shows on a small screen.
    let room = frame.area().height.saturating_sub(2).max(1) as usize;
    let columns = entries.len().div_ceil(room).max(1);
    let rows = entries.len().div_ceil(columns);
    let width = (frame.area().width / columns as u16).saturating_sub(1).max(20) as usize;
    let key_width = if columns > 1 { 9 } else { 16 };
    let lines: Vec<Line> = (0..rows)
        .map(|r| {
            let mut spans = Vec::new();
            for c in 0..columns {
                if let Some((keys, what)) = entries.get(c * rows + r) {
                    let keys: String = keys.chars().take(key_width - 1).collect();
                    let what: String = what.chars().take(width.saturating_sub(key_width + 1)).collect();
                    spans.push(Span::styled(format!("{keys:<key_width$}"), Style::new().add_modifier(Modifier::BOLD)));
                    spans.push(Span::raw(format!("{what:<w$} ", w = width.saturating_sub(key_width + 1))));
                }
            }
            Line::from(spans)
        })
        .collect();
    let area = centered(frame.area(), if columns > 1 { frame.area().width } else { 64 }, rows as u16 + 2);
    frame.render_widget(Clear, area);
    let p = Paragraph::new(lines).block(Block::bordered().title(" Keys (any key closes) ").borders(Borders::ALL));
    frame.render_widget(p, area);
}

fn render_picker(app: &App, theme: &Theme, frame: &mut Frame) {
    let Mode::Picker(picker) = &app.mode else { return };
    let Some(session) = app.session() else { return };
    let roster = &session.def.participants;
    let area = centered(frame.area(), 64, frame.area().height.saturating_sub(4).min(16));
    frame.render_widget(Clear, area);
    let block = Block::bordered().title(format!(" {} ", picker.purpose.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [query, results, kind] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(format!("> {}█", picker.query)), query);
    let height = results.height as usize;
    let offset = list_offset(picker.selected, height);
    let lines: Vec<Line> = picker
        .results
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .filter_map(|(i, index)| {
            let p = roster.get(*index)?;
            let text = format!("{:<36} {}", p.name, p.kind.label());
            Some(if i == picker.selected { Line::styled(text, theme.selected()) } else { Line::from(text) })
        })
        .collect();
    let lines = if lines.is_empty() { vec![Line::styled("no match", theme.dim())] } else { lines };
    frame.render_widget(Paragraph::new(lines), results);
    if picker.purpose == Purpose::Inscribe
        && let Some(p) = picker.results.get(picker.selected).and_then(|i| roster.get(*i))
    {
        let chosen = picker.kind.unwrap_or(kinds_for(p.kind)[0]);
        frame.render_widget(
            Paragraph::new(Line::styled(format!("as: {} (Tab to change)", chosen.label()), theme.dim())),
            kind,
        );
    }
}

// ---- The rapporteur's screen ----

/// Regions of the rapporteur's screen.
#[derive(Debug, Clone, Copy)]
pub struct RapporteurAreas {
    pub wide: bool,
    pub header: Rect,
    pub floor: Rect,
    pub list: Rect,
    pub turns: Rect,
    pub notes: Rect,
    pub status: Rect,
    pub footer: Rect,
}

pub fn rapporteur_layout(area: Rect) -> RapporteurAreas {
    let wide = area.width >= 120 && area.height >= 34;
    let [header, body, status, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(8), Constraint::Length(1), Constraint::Length(1)])
            .areas(area);
    if wide {
        let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
        let [floor, list] = Layout::vertical([Constraint::Length(11), Constraint::Min(5)]).areas(left);
        let [turns, notes] = Layout::vertical([Constraint::Length(14), Constraint::Min(6)]).areas(right);
        RapporteurAreas { wide, header, floor, list, turns, notes, status, footer }
    } else {
        let [floor, list, rest] =
            Layout::vertical([Constraint::Length(6), Constraint::Length(6), Constraint::Min(4)]).areas(body);
        let [turns, notes] = Layout::horizontal([Constraint::Length(32), Constraint::Min(20)]).areas(rest);
        RapporteurAreas { wide, header, floor, list, turns, notes, status, footer }
    }
}

fn render_rapporteur(app: &App, theme: &Theme, frame: &mut Frame) {
    let areas = rapporteur_layout(frame.area());
    render_header(app, theme, frame, areas.header);
    render_floor(app, theme, frame, areas.floor, areas.wide);
    render_list(app, theme, frame, areas.list, areas.wide);
    render_turns(app, theme, frame, areas.turns);
    if app.mode == Mode::Editing || app.rapporteur.editor.is_some() {
        render_editor(app, theme, frame, areas.notes);
    } else {
        render_notes(app, theme, frame, areas.notes);
    }
    render_status(app, theme, frame, areas.status);
    render_footer(app, theme, frame, areas.footer);
}

fn render_turns(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(" Turns ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(session) = app.session() else { return };
    let choices = turn_choices(session);
    let height = inner.height as usize;
    let selected = app.rapporteur.turn_selected.min(choices.len() - 1);
    let lines: Vec<Line> = choices
        .iter()
        .enumerate()
        .skip(list_offset(selected, height))
        .take(height)
        .map(|(i, c)| {
            let count = session.notes.iter().filter(|n| n.turn == c.id).count()
                + session.pledges.iter().filter(|p| p.turn == c.id).count();
            let when = match (c.current, c.started_at) {
                (true, _) => "now".to_string(),
                (false, Some(at)) => time_of_day(Some(session), at).chars().take(5).collect(),
                (false, None) => String::new(),
            };
            let notes = if count > 0 { format!(" ({count})") } else { String::new() };
            let who = c.participant.as_deref().map_or("the session as a whole", |p| session.name_of(p));
            let text = format!("{when:>5} {who}{notes}");
            if i == selected { Line::styled(text, theme.selected()) } else { Line::from(text) }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn objectives_text(objectives: &[u8]) -> String {
    objectives
        .iter()
        .map(|o| match gcm_objective(*o) {
            Some(title) => format!("{o} {title}"),
            None => format!("{o} (no such objective)"),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn render_notes(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(session) = app.session() else {
        frame.render_widget(Block::bordered().title(" Notes "), area);
        return;
    };
    let choices = turn_choices(session);
    let turn = choices.get(app.rapporteur.turn_selected.min(choices.len().saturating_sub(1))).and_then(|c| c.id);
    let title = match choices.iter().find(|c| c.id.is_some() && c.id == turn) {
        Some(c) => format!(
            " Notes on turn #{}: {} ",
            c.id.unwrap_or_default(),
            c.participant.as_deref().map_or("", |p| session.name_of(p))
        ),
        None => " Notes on the session ".to_string(),
    };
    let mut lines: Vec<Line> = Vec::new();
    for note in session.notes.iter().filter(|n| n.turn == turn) {
        let mut tags = objectives_text(&note.objectives);
        if !note.themes.is_empty() {
            if !tags.is_empty() {
                tags.push_str(" · ");
            }
            tags.push_str(&note.themes.join(", "));
        }
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} {}", time_of_day(Some(session), note.at), note.author),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled(if tags.is_empty() { String::new() } else { format!("  [{tags}]") }, theme.dim()),
        ]));
        lines.extend(note.text.lines().map(|l| Line::from(l.to_string())));
    }
    for pledge in session.pledges.iter().filter(|p| p.turn == turn) {
        lines.push(Line::styled(
            format!("PLEDGE by {} [{}]", session.name_of(&pledge.pledger), objectives_text(&pledge.objectives)),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        lines.push(Line::from(pledge.text.clone()));
    }
    let waiting = app.rapporteur.outbox.len();
    if waiting > 0 {
        lines.push(Line::styled(
            format!("{waiting} saved here, waiting to be sent to the hub"),
            theme.fg(Color::Yellow),
        ));
    }
    if lines.is_empty() {
        let key = app.keymap.key_of(Action::NewNote);
        lines.push(Line::styled(format!("no notes yet: {key} to write one"), theme.dim()));
    }
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title));
    frame.render_widget(p, area);
}

fn render_editor(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(editor) = app.rapporteur.editor.as_ref() else { return };
    let session = app.session();
    let name = |id: &str| session.map_or(id.to_string(), |s| s.name_of(id).to_string());
    let title = match &editor.target {
        NoteTarget::Note { turn: Some(turn) } => {
            let who = session
                .and_then(|s| turn_choices(s).into_iter().find(|c| c.id == Some(*turn)))
                .and_then(|c| c.participant)
                .map(|p| name(&p))
                .unwrap_or_default();
            format!(" Note on turn #{turn}: {who} ")
        }
        NoteTarget::Note { turn: None } => " Note on the session ".to_string(),
        NoteTarget::Pledge { pledger, .. } => format!(" Pledge by {} ", name(pledger)),
    };
    let saving = if editor.saving.is_some() { " (saving…)" } else { "" };
    let block = Block::bordered().title(format!("{title}{saving}"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [text_area, tags_area, meaning_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(&editor.text, text_area);
    let label = if matches!(editor.target, NoteTarget::Pledge { .. }) { "objectives: " } else { "tags: " };
    let cursor = if editor.focus == Field::Tags { "█" } else { "" };
    let tag_style = if editor.focus == Field::Tags { Style::new().add_modifier(Modifier::BOLD) } else { theme.dim() };
    frame.render_widget(Paragraph::new(Line::styled(format!("{label}{}{cursor}", editor.tags), tag_style)), tags_area);
    let (objectives, themes) = parse_tags(&editor.tags);
    let mut meaning = objectives_text(&objectives);
    if !themes.is_empty() {
        if !meaning.is_empty() {
            meaning.push_str(" · ");
        }
        meaning.push_str(&format!("themes: {}", themes.join(", ")));
    }
    if meaning.is_empty() {
        meaning = "GCM objective numbers (1-23) and themes, comma separated: 5 6, care work".to_string();
    }
    frame.render_widget(Paragraph::new(Line::styled(meaning, theme.dim())), meaning_area);
}

// ---- The replay screen ----

fn describe_event(session: &Session, event: &crate::domain::Event) -> String {
    use crate::domain::EventKind as E;
    let name = |id: &str| session.name_of(id).to_string();
    let entry_name = |id: u64| {
        session
            .segments
            .iter()
            .flat_map(|s| s.list.iter().chain(s.replies.iter()))
            .find(|e| e.id == id)
            .map_or_else(|| format!("entry #{id}"), |e| name(&e.participant))
    };
    let segment = |i: usize| session.segment_def(i).map_or_else(|| format!("segment {i}"), |d| d.title.clone());
    match &event.event {
        E::SegmentOpened { segment: s } => format!("opens \"{}\"", segment(*s)),
        E::SessionClosed => "closes the session".into(),
        E::Inscribed { entry, .. } => format!("inscribes {} ({})", name(&entry.participant), entry.kind.label()),
        E::Withdrawn { entry, .. } => format!("withdraws {}", entry_name(*entry)),
        E::Moved { entry, placement, .. } => match placement {
            Placement::Deferred { .. } => format!("defers {}", entry_name(*entry)),
            Placement::Policy => format!("reinstates {}", entry_name(*entry)),
            Placement::Moved { to } => format!("moves {} to {to}", entry_name(*entry)),
        },
        E::ListClosed { .. } => "closes the list".into(),
        E::ListReopened { .. } => "reopens the list".into(),
        E::ReplyRequested { entry, .. } => format!("right of reply for {}", name(&entry.participant)),
        E::ReplyWithdrawn { .. } => "withdraws a right of reply".into(),
        E::FloorGiven { turn } => format!("floor to {}", name(&turn.entry.participant)),
        E::FloorRevoked { entry, .. } => format!("takes back the floor from {}", name(&entry.participant)),
        E::Restored { entry, .. } => format!("restores {}", name(&entry.participant)),
        E::TurnEnded { used_ms, overrun_ms, .. } => {
            let over = if *overrun_ms >= 1000 { format!(", +{}", clock(*overrun_ms)) } else { String::new() };
            format!("ends the turn ({}{over})", clock(*used_ms))
        }
        E::ClockPaused { .. } => "pauses the clock".into(),
        E::ClockResumed { .. } => "resumes the clock".into(),
        E::TimeChanged { allotted_ms, .. } => format!("sets the time to {}", clock(*allotted_ms)),
        E::PointOfOrderRaised { point } => format!("point of order by {}", name(&point.by)),
        E::PointOfOrderRuled { upheld, .. } => format!("rules: {}", if *upheld { "upheld" } else { "not upheld" }),
        E::ConnectionSet { participant, status } => format!("{}: {}", name(participant), status.label()),
        E::NoteAdded { note } => format!("note: {}", note.text.chars().take(60).collect::<String>()),
        E::PledgeAdded { pledge } => format!("pledge by {}", name(&pledge.pledger)),
    }
}

fn kind_glyph(theme: &Theme, kind: StatementKind) -> (char, Style) {
    match kind {
        StatementKind::National => ('█', theme.fg(Color::Blue)),
        StatementKind::Group => ('▓', theme.fg(Color::Cyan)),
        StatementKind::Organization => ('▒', theme.fg(Color::Green)),
        StatementKind::Stakeholder => ('░', theme.fg(Color::Yellow)),
        StatementKind::Reply => ('▚', theme.fg(Color::Red)),
    }
}

fn render_timeline(app: &ReplayApp, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some((start, end)) = app.player.span() else { return };
    let width = area.width as usize;
    if width == 0 {
        return;
    }
    let total = (end - start).num_milliseconds().max(1);
    let at =
        |column: usize| start + chrono::Duration::milliseconds(total * (2 * column as i64 + 1) / (2 * width as i64));
    let cursor = (((app.now - start).num_milliseconds().clamp(0, total)) * (width as i64 - 1) / total) as usize;
    let turns = &app.all_turns; // in speaking order: started_at ascending
    let spans: Vec<Span> = (0..width)
        .map(|c| {
            let t = at(c);
            let started = turns.partition_point(|turn| turn.started_at <= t);
            let (glyph, style) = started
                .checked_sub(1)
                .and_then(|i| turns.get(i))
                .filter(|turn| t < turn.ended_at)
                .map_or(('─', theme.dim()), |turn| kind_glyph(theme, turn.kind));
            if c == cursor {
                Span::styled("┃", Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED))
            } else {
                Span::styled(glyph.to_string(), style)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_events(app: &ReplayApp, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(format!(" Events {}/{} ", app.cursor, app.player.len()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(session) = app.view.session() else { return };
    let height = inner.height as usize;
    let current = app.cursor.checked_sub(1);
    let first = current.unwrap_or(0).saturating_sub(height / 2).min(app.player.len().saturating_sub(height));
    let lines: Vec<Line> = app
        .player
        .events
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, e)| {
            let text = format!(
                "{} {:<10} {}",
                time_of_day(Some(session), e.at),
                e.actor.name.chars().take(10).collect::<String>(),
                describe_event(session, e)
            );
            match current {
                Some(c) if c == i => Line::styled(text, theme.selected()),
                Some(c) if i > c => Line::styled(text, theme.dim()),
                None => Line::styled(text, theme.dim()),
                _ => Line::from(text),
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_replay_header(app: &ReplayApp, theme: &Theme, frame: &mut Frame, area: Rect) {
    let session = app.view.session();
    let title = session.map_or("", |s| s.def.title.as_str());
    let state = if app.playing { "▶" } else { "⏸" };
    let mut spans = vec![
        Span::styled(" REPLAY ", theme.alert()),
        Span::styled(format!(" {} ", time_of_day(session, app.now)), Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(format!("│ {}x {state} │ event {}/{} │ {title}", app.speed(), app.cursor, app.player.len())),
    ];
    if !app.player.verified {
        spans.insert(
            1,
            Span::styled(" UNVERIFIED ", theme.fg(Color::Red).add_modifier(Modifier::BOLD | Modifier::REVERSED)),
        );
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn render_replay(app: &ReplayApp, frame: &mut Frame) {
    let theme = Theme { color: !app.view.no_color };
    let area = frame.area();
    let wide = area.width >= 120 && area.height >= 34;
    let [header, timeline, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(8),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_replay_header(app, &theme, frame, header);
    render_timeline(app, &theme, frame, timeline);
    if wide {
        let [left, right] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
        let [floor, list] = Layout::vertical([Constraint::Length(11), Constraint::Min(5)]).areas(left);
        let [recent, events] = Layout::vertical([Constraint::Length(12), Constraint::Min(5)]).areas(right);
        render_floor(&app.view, &theme, frame, floor, true);
        render_list(&app.view, &theme, frame, list, true);
        render_recent(&app.view, &theme, frame, recent, true);
        render_events(app, &theme, frame, events);
    } else {
        let [floor, list, events] =
            Layout::vertical([Constraint::Length(6), Constraint::Length(6), Constraint::Min(3)]).areas(body);
        render_floor(&app.view, &theme, frame, floor, false);
        render_list(&app.view, &theme, frame, list, false);
        render_events(app, &theme, frame, events);
    }
    render_status(&app.view, &theme, frame, status);
    let k = |a: Action| app.view.keymap.key_of(a);
    let hints = [
        (k(Action::PlayPause), "play/pause"),
        (format!("{}/{}", k(Action::Slower), k(Action::Faster)), "speed"),
        ("←→".to_string(), "step"),
        (format!("{}{}", k(Action::PreviousTurn), k(Action::NextTurn)), "turn"),
        ("{}".to_string(), "segment"),
        (k(Action::Seek), "go to time"),
        (k(Action::Help), "help"),
        (k(Action::Quit), "quit"),
    ];
    let mut spans = Vec::new();
    for (key, what) in hints {
        spans.push(Span::styled(format!(" {key}"), Style::new().add_modifier(Modifier::BOLD)));
        spans.push(Span::styled(format!(" {what} "), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), footer);
    match &app.mode {
        ReplayMode::Help => render_help(&app.view, frame),
        ReplayMode::Seek(text) => popup(
            frame,
            " Go to a time of the session ",
            vec![
                Line::from(format!("HH:MM or HH:MM:SS > {text}█")),
                Line::styled("Enter go · Esc cancel", theme.dim()),
            ],
            50,
            2,
        ),
        ReplayMode::Normal => {}
    }
}
