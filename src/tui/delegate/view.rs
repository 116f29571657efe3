//! Drawing the delegate's screen: the floor (its own countdown when it speaks),
//! the list with its own entries marked, where they stand and why, and the keys
//! a delegate may use now.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{Delegate, Mode};
use crate::domain::{Command, Move};
use crate::tui::keymap::{Action, Screen, help_entries};
use crate::tui::widgets::floor::{self, FloorView};
use crate::tui::widgets::list::{self, ListView};
use crate::tui::widgets::{self, Theme, ellipsize, language, link_badges, popup, session_badges, time_of_day};

pub struct Areas {
    pub wide: bool,
    pub header: Rect,
    pub floor: Rect,
    pub list: Rect,
    pub mine: Rect,
    pub status: Rect,
    pub footer: Rect,
}

pub fn layout(d: &Delegate, area: Rect) -> Areas {
    let wide = area.width >= 120 && area.height >= 34;
    let [header, body, status, footer] = widgets::screen_rows(d.live.status.as_ref(), area);
    if wide {
        let side = (area.width * 45 / 100).min(area.width.saturating_sub(80));
        let [left, right] = Layout::horizontal([Constraint::Min(80), Constraint::Length(side)]).areas(body);
        let [floor, mine] = Layout::vertical([Constraint::Length(12), Constraint::Min(5)]).areas(right);
        Areas { wide, header, floor, list: left, mine, status, footer }
    } else {
        let [floor, list, mine] =
            Layout::vertical([Constraint::Length(6), Constraint::Min(5), Constraint::Length(4)]).areas(body);
        Areas { wide, header, floor, list, mine, status, footer }
    }
}

/// The keys this delegate may use now: what the rules allow it (the domain's offers).
pub fn footer_hints(d: &Delegate) -> Vec<(String, String)> {
    let k = |a: Action| d.live.keymap.key_of(a);
    let h = |key: String, what: &str| (key, what.to_string());
    match &d.mode {
        Mode::Help => vec![h("any key".into(), "close")],
        Mode::Confirm { .. } => vec![h(k(Action::Yes), "yes"), h(k(Action::No), "no")],
        Mode::Connection { choices } => {
            let mut hints: Vec<(String, String)> = choices
                .iter()
                .enumerate()
                .filter(|(_, (_, c))| c.is_ok())
                .map(|(i, (status, _))| h(format!("{}", i + 1), status.label()))
                .collect();
            hints.push(h("Esc".into(), "cancel"));
            hints
        }
        Mode::Inscribe { language, .. } if language.typing.is_some() => language.typing_hints().unwrap_or_default(),
        Mode::Inscribe { group: None, .. } => vec![
            h("1".into(), "national statement"),
            h("2".into(), "on behalf of a group"),
            h(language::KEYS.into(), "language"),
            h("Esc".into(), "cancel"),
        ],
        Mode::Inscribe { group: Some(_), .. } => vec![
            h("type".into(), "the group's name"),
            h(language::KEYS.into(), "language"),
            h("Enter".into(), "inscribe"),
            h("Esc".into(), "cancel"),
        ],
        Mode::Normal => {
            let offers = d.offers();
            let mut hints = vec![h(k(Action::Help), "help"), h(k(Action::Quit), "quit")];
            if offers.allows(Move::Inscribe) {
                hints.push(h(k(Action::Inscribe), "inscribe"));
            }
            let own = d.selected_entry().is_some_and(|e| d.participant.as_deref() == Some(e.participant.as_str()));
            if own && offers.allows(Move::Withdraw) {
                hints.push(h(k(Action::Withdraw), "withdraw"));
            }
            match offers.offer(Move::RightOfReply).and_then(|o| o.command.as_ref()) {
                Some(Command::WithdrawReply { .. }) => hints.push(h(k(Action::RightOfReply), "withdraw reply")),
                Some(_) => hints.push(h(k(Action::RightOfReply), "right of reply")),
                None => {}
            }
            match offers.point_of_order_move() {
                Move::WithdrawPointOfOrder => hints.push(h(k(Action::PointOfOrder), "withdraw point of order")),
                m if offers.allows(m) => hints.push(h(k(Action::PointOfOrder), "point of order")),
                _ => {}
            }
            if offers.allows(Move::Connection) {
                hints.push(h(k(Action::Connection), "my connection"));
            }
            hints
        }
    }
}

pub fn render(d: &Delegate, frame: &mut Frame) {
    let theme = Theme::new(d.live.no_color);
    let areas = layout(d, frame.area());
    let session = d.session();
    let speaking =
        session.and_then(|s| s.floor.as_ref()).is_some_and(|t| Some(&t.entry.participant) == d.participant.as_ref());
    let mut badges = Vec::new();
    if speaking {
        badges.push("YOU HAVE THE FLOOR".to_string());
    }
    badges.extend(session_badges(session));
    badges.extend(link_badges(&d.live));
    let me = d.me().map(|p| p.name.clone()).unwrap_or_else(|| "delegate".to_string());
    let titles = match session {
        Some(s) => vec![
            me,
            s.current_segment.and_then(|c| s.segment_def(c)).map(|def| def.title.clone()).unwrap_or_default(),
            s.def.title.clone(),
        ],
        None => vec![me],
    };
    let now = time_of_day(session, d.live.hub_now());
    widgets::render_header(&badges, &titles, Some(d.live.link_state(None)), now, &theme, frame, areas.header);
    let title = if speaking { "You have the floor" } else { "Floor" };
    floor::render(
        &FloorView { session, now: d.live.hub_now(), wide: areas.wide, hints: Vec::new(), title },
        &theme,
        frame,
        areas.floor,
    );
    match session {
        Some(s) => {
            let inscribe = d.live.keymap.key_of(Action::Inscribe);
            let empty = if d.offers().allows(Move::Inscribe) {
                format!("the list is empty: {inscribe} to inscribe yourself")
            } else {
                "the list is empty".to_string()
            };
            list::render(
                &ListView {
                    session: s,
                    segment: d.segment(),
                    selected: Some(d.selected),
                    own: d.participant.as_deref(),
                    empty,
                    detail_rows: if areas.wide { 3 } else { 2 },
                },
                &theme,
                frame,
                areas.list,
            );
        }
        None => frame.render_widget(Block::bordered().title(" Speakers "), areas.list),
    }
    render_mine(d, &theme, frame, areas.mine);
    widgets::render_status(d.live.status.as_ref(), &theme, frame, areas.status);
    widgets::render_footer(&footer_hints(d), &theme, frame, areas.footer);
    match &d.mode {
        Mode::Help => widgets::help(
            frame,
            " Delegate keys (any key closes) ",
            &help_entries(&d.live.keymap, Screen::Delegate),
            &[],
        ),
        Mode::Confirm { question, .. } => {
            let k = |a: Action| d.live.keymap.key_of(a);
            widgets::confirm(frame, question, &format!("{} yes · {} no", k(Action::Yes), k(Action::No)));
        }
        Mode::Connection { choices } => {
            let mut lines: Vec<Line> = choices
                .iter()
                .enumerate()
                .map(|(i, (status, command))| {
                    let what = match status {
                        crate::domain::ConnectionStatus::Connected => "connected (my audio works)",
                        other => other.label(),
                    };
                    let text = format!("{} {what}", i + 1);
                    match command {
                        Ok(_) => Line::from(text),
                        Err(_)
                            if d.session()
                                .zip(d.participant.as_deref())
                                .is_some_and(|(s, me)| s.connection(me) == *status) =>
                        {
                            Line::styled(format!("{text} (now)"), theme.dim())
                        }
                        Err(_) => Line::styled(format!("{text} (the chair sets this)"), theme.dim()),
                    }
                })
                .collect();
            lines.push(Line::from("Esc cancel"));
            let rows = lines.len() as u16;
            popup(frame, " My connection ", lines, 44, rows);
        }
        Mode::Inscribe { group: None, language: chosen } => popup(
            frame,
            " Inscribe ",
            vec![
                Line::from("1 national statement"),
                Line::from("2 on behalf of a group"),
                Line::from(chosen.line()),
                Line::from("Esc cancel"),
            ],
            60,
            4,
        ),
        Mode::Inscribe { group: Some(text), language: chosen } => popup(
            frame,
            " On behalf of which group? ",
            vec![
                // One cursor: the group's name, or the language's code while it is typed.
                Line::from(format!("> {text}{}", if chosen.typing.is_some() { "" } else { "█" })),
                Line::styled("its name, e.g. African Group; Enter inscribes", theme.dim()),
                Line::from(chosen.line()),
            ],
            60,
            3,
        ),
        Mode::Normal => {}
    }
}

/// Where this delegate stands: each of its entries, its place and why.
fn render_mine(d: &Delegate, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(" Your entries ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let mine = d.own_entries();
    let Some(session) = d.session() else { return };
    let lines: Vec<Line> = if mine.is_empty() {
        let text = match &session.floor {
            Some(t) if Some(&t.entry.participant) == d.participant.as_ref() => "you have the floor".to_string(),
            _ => "you are not on the list".to_string(),
        };
        vec![Line::styled(ellipsize(&text, width), theme.dim())]
    } else {
        mine.iter()
            .map(|(position, e)| {
                let place = if position == "R" { "right of reply".to_string() } else { format!("position {position}") };
                let why = list::reason(e);
                let time = widgets::clock(u64::from(e.allotted) * 1000);
                let spoken = e.language.as_deref().map(|c| format!(", {}", language::spoken_in(c))).unwrap_or_default();
                Line::from(format!("{place} ({time}{spoken}): {why}"))
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
