//! Drawing the chair's screen: pure functions from its state to a frame. Compact
//! at 80x24; from 120x34 a side column holds the floor, forecast, recent turns,
//! rights of reply and join URLs, and the list keeps at least the compact
//! layout's columns for names.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{Chair, Mode};
use crate::domain::{Command, Modality, Move, forecast, next_up};
use crate::tui::keymap::Action;
use crate::tui::widgets::floor::{self, FloorView};
use crate::tui::widgets::list::{self, ListView};
use crate::tui::widgets::{
    self, Theme, clock, connection_mark, ellipsize, link_badges, picker, popup, recent, session_badges, time_of_day,
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
    pub detail_rows: u16,
    pub forecast: Rect,
    pub recent: Rect,
    pub replies: Rect,
    pub join: Rect,
    pub status: Rect,
    pub footer: Rect,
}

pub fn layout(chair: &Chair, area: Rect) -> Areas {
    let wide = area.width >= 120 && area.height >= 34;
    let hints = floor_hints(chair).len() as u16;
    let [header, body, status, footer] = widgets::screen_rows(chair.live.status.as_ref(), area);
    let (floor, list, forecast, recent, replies, join) = if wide {
        // The list never gets fewer columns than at 80: the side column takes the rest.
        let side = (area.width * 45 / 100).min(area.width.saturating_sub(80));
        let [left, right] = Layout::horizontal([Constraint::Min(80), Constraint::Length(side)]).areas(body);
        let [floor, forecast, recent, replies, join] = Layout::vertical([
            Constraint::Length(11 + hints.min(4)),
            Constraint::Length(if side < 70 { 4 } else { 3 }),
            Constraint::Min(5),
            Constraint::Length(5),
            Constraint::Length(6),
        ])
        .areas(right);
        (floor, left, forecast, recent, replies, join)
    } else {
        let [floor, list, forecast, recent, replies] = Layout::vertical([
            Constraint::Length(6 + hints.min(1)),
            Constraint::Min(5),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(body);
        (floor, list, forecast, recent, replies, Rect::default())
    };
    let detail_rows = if wide { 3 } else { 2 };
    let (list_rows, _) = list::parts(list, detail_rows);
    Areas { wide, header, floor, list, list_rows, detail_rows, forecast, recent, replies, join, status, footer }
}

/// What the floor panel offers now, each with its real key: what the rules
/// allow this chair now (the domain's offers), never a copy of a rule.
pub fn floor_hints(chair: &Chair) -> Vec<String> {
    let Some(session) = chair.session() else { return Vec::new() };
    let offers = chair.offers();
    let k = |a: Action| chair.live.keymap.key_of(a);
    let mut hints = Vec::new();
    if offers.allows(Move::Rule) {
        hints.push(format!("{}: rule on the point of order", k(Action::Rule)));
        return hints;
    }
    if let Some(next) = offers.offer(Move::Next)
        && matches!(next.command, Some(Command::Next { .. }))
    {
        let verb = if session.floor.is_some() { "thank you, next:" } else { "give the floor to" };
        // A long name by its short one: the hint keeps what it offers whole.
        let name = next.participant.as_deref().map_or_else(String::new, |p| widgets::fit_name(session, p, 28));
        let skipped = next_up(session).map(|n| n.skipped).unwrap_or_default();
        let passing = match skipped.as_slice() {
            [] => String::new(),
            [one] => format!(" ({} cannot be heard)", widgets::fit_name(session, &one.participant, 24)),
            many => format!(" ({} cannot be heard)", many.len()),
        };
        hints.push(format!("{}: {verb} {name}{passing}", k(Action::NextSpeaker)));
    }
    if let Some(turn) = &session.floor {
        if offers.allows(Move::EndTurn) {
            hints.push(format!("{}: end the turn", k(Action::EndTurn)));
        }
        let modality = session.def.participant(&turn.entry.participant).map(|p| p.modality);
        if offers.offer(Move::Connection).is_some_and(|o| o.participant.as_ref() == Some(&turn.entry.participant)) {
            hints.push(format!(
                "{}: connection ({})",
                k(Action::Connection),
                session.connection(&turn.entry.participant).label()
            ));
        }
        if offers.allows(Move::Suspend) && matches!(modality, Some(Modality::Remote | Modality::PreRecorded)) {
            hints.push(format!("{}: lost? interrupt, continue later", k(Action::Suspend)));
        }
    } else if let Some(open) = offers.offer(Move::NextSegment) {
        // Opening the next segment is the move to make when nothing is left to hear here.
        let empty = session
            .current_segment
            .and_then(|c| session.segments.get(c))
            .is_none_or(|s| s.list.is_empty() && s.replies.is_empty());
        if empty {
            hints.push(format!("{}: {}", k(Action::NextSegment), open.what));
        }
    }
    hints
}

/// The footer: the keys that act now, as the rules allow them to this chair.
pub fn footer_hints(chair: &Chair) -> Vec<(String, String)> {
    let k = |a: Action| chair.live.keymap.key_of(a);
    let h = |key: String, what: &str| (key, what.to_string());
    let yes_no = || vec![h(k(Action::Yes), "yes"), h(k(Action::No), "no")];
    match &chair.mode {
        Mode::Picker(p) if p.purpose == picker::Purpose::Inscribe && p.language.typing.is_some() => {
            p.language.typing_hints().unwrap_or_default()
        }
        Mode::Picker(p) if p.purpose == picker::Purpose::Inscribe => vec![
            h("type".into(), "search"),
            h("↑↓".into(), "choose"),
            h("Tab".into(), "kind"),
            h(crate::tui::widgets::language::KEYS.into(), "language"),
            h("Enter".into(), "inscribe"),
            h("Esc".into(), "cancel"),
        ],
        Mode::Picker(_) => vec![
            h("type".into(), "search"),
            h("↑↓".into(), "choose"),
            h("Enter".into(), "confirm"),
            h("Esc".into(), "cancel"),
        ],
        Mode::Ruling(_) => vec![
            h("type".into(), "ruling"),
            h("Tab".into(), "upheld / not upheld"),
            h("Enter".into(), "rule"),
            h("Esc".into(), "cancel"),
        ],
        Mode::Confirm(_) => yes_no(),
        Mode::Status(choice) => vec![
            h(format!("1-{} ↑↓", choice.choices.len().max(1)), "choose"),
            h("Enter".into(), "set"),
            h("Esc".into(), "cancel"),
        ],
        Mode::Balance { .. } => vec![h("↑↓ PgUp PgDn".into(), "scroll"), h("any other key".into(), "close")],
        Mode::Help | Mode::Join { .. } => vec![h("any key".into(), "close")],
        Mode::Budget(ask) if ask.reason.is_some() => {
            vec![h("type".into(), "the reason"), h("Enter".into(), "give the full time"), h("Esc".into(), "cancel")]
        }
        Mode::Budget(_) => {
            vec![h("t".into(), "time left"), h("f".into(), "full time, with a reason"), h("Esc".into(), "cancel")]
        }
        Mode::Register(_) => vec![
            h("↑↓".into(), "field"),
            h("←→".into(), "choose"),
            h("Enter".into(), "register"),
            h("Esc".into(), "cancel"),
        ],
        Mode::Normal => {
            let mut hints = vec![h(k(Action::Help), "help"), h(k(Action::Quit), "quit")];
            let Some(session) = chair.session() else { return hints };
            let offers = chair.offers();
            let paused = session.floor.as_ref().is_some_and(|t| t.paused);
            let moves = [
                (Move::Inscribe, k(Action::Inscribe), "inscribe"),
                (Move::GiveFloor, k(Action::GiveFloor), "floor"),
                (Move::Next, k(Action::NextSpeaker), "next"),
                (Move::Rule, k(Action::Rule), "rule"),
                (Move::EndTurn, k(Action::EndTurn), "end"),
                (Move::PauseResume, k(Action::PauseResume), if paused { "resume" } else { "pause" }),
                (Move::Extend, format!("{}/{}", k(Action::Extend), k(Action::Cut)), "time"),
                (Move::PointOfOrder, k(Action::PointOfOrder), "order"),
                (Move::Undo, k(Action::Undo), "undo"),
            ];
            for (m, key, what) in moves {
                // "next" that could only end the turn is "end", already listed.
                let only_ends = m == Move::Next
                    && offers.offer(m).is_some_and(|o| matches!(o.command, Some(Command::EndTurn { .. })));
                if offers.allows(m) && !only_ends {
                    hints.push(h(key, what));
                }
            }
            hints.push(h(k(Action::Balance), "balance"));
            hints
        }
    }
}

pub fn render(chair: &Chair, frame: &mut Frame) {
    let theme = Theme::new(chair.live.no_color);
    let areas = layout(chair, frame.area());
    render_header(chair, &theme, frame, areas.header);
    let session = chair.session();
    let hints = floor_hints(chair);
    floor::render(
        &FloorView { session, now: chair.live.hub_now(), wide: areas.wide, hints, title: "Floor" },
        &theme,
        frame,
        areas.floor,
    );
    match session {
        Some(session) => {
            let inscribe = chair.live.keymap.key_of(Action::Inscribe);
            list::render(
                &ListView {
                    session,
                    segment: chair.view_segment(),
                    selected: Some(chair.selected),
                    own: None,
                    empty: format!("the list is empty: {inscribe} to inscribe a speaker"),
                    detail_rows: areas.detail_rows,
                },
                &theme,
                frame,
                areas.list,
            );
            render_forecast(chair, &theme, frame, areas.forecast, areas.wide);
            recent::render(session, areas.wide, &theme, frame, areas.recent);
            render_replies(chair, &theme, frame, areas.replies, areas.wide);
        }
        None => frame.render_widget(Block::bordered().title(" Speakers "), areas.list),
    }
    if areas.wide {
        let p = Paragraph::new(join_lines(chair, false)).wrap(Wrap { trim: false }).block(
            Block::bordered().title(format!(" Join ({} to enlarge) ", chair.live.keymap.key_of(Action::JoinUrls))),
        );
        frame.render_widget(p, areas.join);
    }
    widgets::render_status(chair.live.status.as_ref(), &theme, frame, areas.status);
    widgets::render_footer(&footer_hints(chair), &theme, frame, areas.footer);
    render_overlay(chair, &theme, frame);
}

fn render_header(chair: &Chair, theme: &Theme, frame: &mut Frame, area: Rect) {
    let session = chair.session();
    let mut badges = session_badges(session);
    badges.extend(link_badges(&chair.live));
    let mut titles = Vec::new();
    if let Some(s) = session {
        let index = chair.view_segment();
        if let (Some(def), Some(state)) = (s.segment_def(index), s.segments.get(index)) {
            let open = if s.current_segment == Some(index) { "" } else { " (not open)" };
            let closed = if state.closed { " · list closed" } else { "" };
            titles.push(format!("{}{open}{closed}", def.title));
        }
        titles.push(s.def.title.clone());
    } else {
        titles.push("Rostrum".to_string());
    }
    let now = time_of_day(session, chair.live.hub_now());
    // Who else the chair's own hub serves: quitting would cut them off.
    let others = match chair.peers {
        0 => None,
        1 => Some("1 other".to_string()),
        n => Some(format!("{n} others")),
    };
    widgets::render_header(&badges, &titles, Some(chair.live.link_state(others)), now, theme, frame, area);
}

fn render_forecast(chair: &Chair, theme: &Theme, frame: &mut Frame, area: Rect, wide: bool) {
    let Some(session) = chair.session() else { return };
    let Some(f) = forecast(session, chair.view_segment(), chair.live.hub_now()) else { return };
    let ends = time_of_day(Some(session), f.ends_at);
    let minutes = f.late_ms.unsigned_abs().div_ceil(60_000);
    let (verdict, style) = if f.late_ms > 0 {
        (format!("{minutes} min past schedule"), theme.fg(Color::Red))
    } else {
        (format!("{minutes} min to spare"), theme.fg(Color::Green))
    };
    let scheduled_end = time_of_day(Some(session), f.scheduled_end);
    let (text, fits) = if f.total == 0 {
        ("list empty · ".to_string(), format!(" before {}", &scheduled_end[..5]))
    } else {
        (
            format!("list ends {} · ", &ends[..5]),
            format!(" · {} of {} fit before {}", f.fit, f.total, &scheduled_end[..5]),
        )
    };
    let line = Line::from(vec![Span::raw(text), Span::styled(verdict, style), Span::raw(fits)]);
    if wide {
        frame.render_widget(
            Paragraph::new(line).wrap(Wrap { trim: true }).block(Block::bordered().title(" Forecast ")),
            area,
        );
    } else {
        frame.render_widget(Paragraph::new(line), area);
    }
}

fn render_replies(chair: &Chair, theme: &Theme, frame: &mut Frame, area: Rect, wide: bool) {
    let Some(session) = chair.session() else { return };
    let state = session.segments.get(chair.view_segment());
    let replies: Vec<String> = state
        .map(|s| {
            s.replies
                .iter()
                .map(|e| {
                    format!(
                        "{} ({}, {})",
                        widgets::fit_name(session, &e.participant, 24),
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
        let text = ellipsize(&text, usize::from(area.width).saturating_sub(9));
        frame.render_widget(
            Paragraph::new(Line::from(vec![Span::styled("replies: ", theme.dim()), Span::raw(text)])),
            area,
        );
    }
}

/// Join URLs: rapporteurs and observers, where delegates' tokens are, and the
/// chair's own (full control) only when asked for.
pub fn join_lines(chair: &Chair, with_chair: bool) -> Vec<Line<'static>> {
    if chair.join_urls.is_empty() {
        return vec![Line::from("joined a hub elsewhere: ask its operator for join URLs")];
    }
    // The chairs' own URLs (shared or personal) are private: shown only when asked for.
    let mut lines: Vec<Line> = chair
        .join_urls
        .iter()
        .filter(|u| with_chair || u.role != "chair")
        .map(|u| match &u.person {
            Some(name) => Line::from(format!("{:<10} {name}: {}", u.role, u.url)),
            None => Line::from(format!("{:<10} {}", u.role, u.url)),
        })
        .collect();
    // The room's pages speak the six official languages.
    if let Some(page) = chair.join_urls.iter().find(|u| u.role == "display") {
        let joint = if page.url.contains('?') { '&' } else { '?' };
        let codes = crate::domain::OFFICIAL_LANGUAGES.join("|");
        lines.push(Line::from(format!("languages  add {joint}lang={codes} to the display's or speaker's address")));
    }
    if let Some(path) = &chair.delegate_tokens {
        lines.push(Line::from(format!("delegates  one token each in {path}")));
    }
    if !with_chair {
        lines.push(Line::from(format!(
            "co-chair   {} shows the chair's own URL (full control)",
            chair.live.keymap.key_of(Action::ChairUrl)
        )));
    }
    lines
}

fn render_overlay(chair: &Chair, theme: &Theme, frame: &mut Frame) {
    match &chair.mode {
        Mode::Help => {
            let entries = crate::tui::keymap::help_entries(&chair.live.keymap, crate::tui::keymap::Screen::Chair);
            widgets::help(frame, " Chair keys (any key closes) ", &entries, &[]);
        }
        Mode::Picker(p) => {
            if let Some(session) = chair.session() {
                let hint = match p.purpose {
                    picker::Purpose::OnBehalfOf => {
                        format!("Enter: on behalf of \"{}\" (not in the roster)", p.query.trim())
                    }
                    picker::Purpose::Inscribe => {
                        format!("not in the roster: Enter registers \"{}\" as a new participant", p.query.trim())
                    }
                    _ => "no participant matches".to_string(),
                };
                picker::render(p, session, &hint, theme, frame);
            }
        }
        Mode::Ruling(ruling) => {
            let Some(session) = chair.session() else { return };
            let point = session.point_of_order.as_ref().filter(|p| p.id == ruling.point);
            let by = point.map_or("?", |p| session.name_of(&p.by));
            let during = point
                .and_then(|p| p.turn)
                .and_then(|t| session.floor.as_ref().filter(|f| f.id == t))
                .map_or("with no one on the floor".to_string(), |f| {
                    format!("during the statement of {}", session.name_of(&f.entry.participant))
                });
            let verdict = match ruling.upheld {
                Some(true) => Span::styled(" UPHELD ", theme.alert()),
                Some(false) => Span::styled(" NOT UPHELD ", theme.alert()),
                None => Span::styled("not chosen yet", theme.dim()),
            };
            let lines = vec![
                Line::from(format!("Point of order raised by {by}, {during}.")),
                Line::from(""),
                Line::from(format!("Ruling: {}█", ruling.text)),
                Line::from(""),
                Line::from(vec![Span::raw("Verdict: "), verdict, Span::raw("  (Tab to choose)")]),
            ];
            popup(frame, " Rule on the point of order ", lines, 70, 7);
        }
        Mode::Confirm(confirm) => {
            let k = |a: Action| chair.live.keymap.key_of(a);
            widgets::confirm(frame, &confirm.question, &format!("{} yes · {} no", k(Action::Yes), k(Action::No)));
        }
        Mode::Status(choice) => {
            let name = chair.live.name(&choice.participant);
            let mut lines = vec![Line::from(format!("{name} is now: {}", choice.from.label())), Line::from("")];
            let speaking = chair
                .session()
                .and_then(|s| s.floor.as_ref())
                .is_some_and(|t| t.entry.participant == choice.participant);
            for (i, (status, command)) in choice.choices.iter().enumerate() {
                let note = match command {
                    _ if *status == choice.from => " (now)",
                    Err(_) => " (not yours to set)",
                    Ok(_) if speaking && *status == crate::domain::ConnectionStatus::TechnicalIssue => {
                        " (interrupts the statement)"
                    }
                    Ok(_) => "",
                };
                let text = format!("{} {:<16} {}{note}", i + 1, status.label(), connection_mark(*status));
                lines.push(match (i == choice.selected, command.is_ok()) {
                    (true, _) => Line::styled(text, theme.selected()),
                    (false, true) => Line::from(text),
                    (false, false) => Line::styled(text, theme.dim()),
                });
            }
            // As high as its content, wrapped at the popup's width: no option is ever hidden.
            let width = frame.area().width.saturating_sub(4).min(60);
            let rows = lines.iter().map(|l| widgets::wrapped_rows(&l.to_string(), width.saturating_sub(2))).sum();
            popup(frame, " Connection status ", lines, width, rows);
        }
        Mode::Join { chair: with_chair } => {
            // URLs are cut into rows by hand, never at a word: a token must be copied whole.
            let width = frame.area().width.saturating_sub(4);
            let inner = usize::from(width.saturating_sub(2)).max(10);
            let lines: Vec<Line> = join_lines(chair, *with_chair)
                .iter()
                .flat_map(|l| {
                    let text: Vec<char> = l.to_string().chars().collect();
                    text.chunks(inner).map(|c| Line::from(c.iter().collect::<String>())).collect::<Vec<_>>()
                })
                .collect();
            let rows = lines.len() as u16;
            popup(frame, " Join URLs (any key closes) ", lines, width, rows);
        }
        Mode::Register(form) => {
            let mut lines: Vec<Line> = form
                .lines()
                .into_iter()
                .map(|(label, value, current)| {
                    let text = format!("{label:>15}: {value}");
                    if current { Line::styled(text, theme.selected()) } else { Line::from(text) }
                })
                .collect();
            lines.push(Line::from(""));
            lines.push(Line::styled("↑↓ field · ←→ choose · type the name · Enter register · Esc cancel", theme.dim()));
            let rows = lines.len() as u16;
            popup(frame, " Register a participant (late registration) ", lines, 72, rows);
        }
        Mode::Balance { scroll } => {
            if let Some(session) = chair.session() {
                let fairness = crate::fairness::compute(session, chair.live.hub_now());
                let budgets = crate::fairness::budget_use(session, chair.view_segment());
                crate::tui::widgets::balance::render(&fairness, &budgets, *scroll, theme, frame);
            }
        }
        Mode::Budget(ask) => {
            let mut lines = vec![Line::from(ask.question.clone()), Line::from("")];
            match &ask.reason {
                None => {
                    lines.push(Line::from("t  give the floor with the time left"));
                    lines.push(Line::from("f  give the full time (the reason goes into the record)"));
                    lines.push(Line::from("Esc  cancel"));
                }
                Some(reason) => {
                    lines.push(Line::from(format!("Reason: {reason}█")));
                    lines.push(Line::styled("Enter gives the full time · Esc cancels", theme.dim()));
                }
            }
            let width = frame.area().width.saturating_sub(4).min(76);
            let rows = lines.iter().map(|l| widgets::wrapped_rows(&l.to_string(), width.saturating_sub(2))).sum();
            popup(frame, " Over budget ", lines, width, rows);
        }
        Mode::Normal => {}
    }
}
