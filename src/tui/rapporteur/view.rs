//! Drawing the rapporteur's screen: the floor and the list (the shared widgets),
//! the turns to attach notes to, and the notes on the selected one or the editor.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{Field, Mode, NoteTarget, Rapporteur, parse_tags, turn_choices};
use crate::client::outbox::Saved;
use crate::domain::{Command, gcm_objective};
use crate::tui::keymap::{Action, Screen, help_entries};
use crate::tui::widgets::floor::{self, FloorView};
use crate::tui::widgets::list::{self, ListView, offset};
use crate::tui::widgets::{self, Theme, ellipsize, fit_name, link_badges, picker, session_badges, time_of_day};

pub struct Areas {
    pub wide: bool,
    pub header: Rect,
    pub floor: Rect,
    pub list: Rect,
    pub turns: Rect,
    pub notes: Rect,
    pub status: Rect,
    pub footer: Rect,
}

pub fn layout(r: &Rapporteur, area: Rect) -> Areas {
    let wide = area.width >= 120 && area.height >= 34;
    let [header, body, status, footer] = widgets::screen_rows(r.live.status.as_ref(), area);
    if wide {
        // The list never gets fewer columns than at 80: the other side takes the rest.
        let side = (area.width / 2).min(area.width.saturating_sub(80));
        let [left, right] = Layout::horizontal([Constraint::Min(80), Constraint::Length(side)]).areas(body);
        let [floor, list] = Layout::vertical([Constraint::Length(11), Constraint::Min(5)]).areas(left);
        let [turns, notes] = Layout::vertical([Constraint::Length(14), Constraint::Min(6)]).areas(right);
        Areas { wide, header, floor, list, turns, notes, status, footer }
    } else {
        let [floor, list, rest] =
            Layout::vertical([Constraint::Length(6), Constraint::Length(7), Constraint::Min(4)]).areas(body);
        let [turns, notes] = Layout::horizontal([Constraint::Length(32), Constraint::Min(20)]).areas(rest);
        Areas { wide, header, floor, list, turns, notes, status, footer }
    }
}

pub fn render(r: &Rapporteur, frame: &mut Frame) {
    let theme = Theme::new(r.live.no_color);
    let areas = layout(r, frame.area());
    let session = r.session();
    let mut badges = session_badges(session);
    badges.extend(link_badges(&r.live));
    let titles = match session {
        Some(s) => vec![
            s.current_segment.and_then(|c| s.segment_def(c)).map(|d| d.title.clone()).unwrap_or_default(),
            s.def.title.clone(),
        ],
        None => vec!["Rostrum".to_string()],
    };
    let now = time_of_day(session, r.live.hub_now());
    widgets::render_header(&badges, &titles, Some(r.live.link_state(None)), now, &theme, frame, areas.header);
    floor::render(
        &FloorView { session, now: r.live.hub_now(), wide: areas.wide, hints: Vec::new(), title: "Floor" },
        &theme,
        frame,
        areas.floor,
    );
    match session {
        Some(session) => list::render(
            &ListView {
                session,
                segment: session.current_segment.unwrap_or(0),
                selected: None,
                own: None,
                empty: "the list is empty".to_string(),
                detail_rows: 1,
            },
            &theme,
            frame,
            areas.list,
        ),
        None => frame.render_widget(Block::bordered().title(" Speakers "), areas.list),
    }
    render_turns(r, &theme, frame, areas.turns);
    if r.mode == Mode::Editing || r.editor.is_some() {
        render_editor(r, &theme, frame, areas.notes);
    } else {
        render_notes(r, &theme, frame, areas.notes);
    }
    widgets::render_status(r.live.status.as_ref(), &theme, frame, areas.status);
    widgets::render_footer(&footer_hints(r), &theme, frame, areas.footer);
    match &r.mode {
        Mode::Help => widgets::help(
            frame,
            " Rapporteur keys (any key closes) ",
            &help_entries(&r.live.keymap, Screen::Rapporteur),
            &[Line::from("In a note: Tab text/tags · Ctrl+S save · Esc cancel")],
        ),
        Mode::Picker(p) => {
            if let Some(session) = session {
                picker::render(p, session, "no participant matches", &theme, frame);
            }
        }
        Mode::Confirm { question, .. } => widgets::confirm(frame, question, "y yes · n no"),
        Mode::Normal | Mode::Editing => {}
    }
}

fn footer_hints(r: &Rapporteur) -> Vec<(String, String)> {
    let k = |a: Action| r.live.keymap.key_of(a);
    let h = |key: String, what: &str| (key, what.to_string());
    match &r.mode {
        Mode::Normal => {
            let mut hints = vec![h(k(Action::Help), "help"), h(k(Action::Quit), "quit")];
            if r.may_write().is_ok() {
                hints.push(h(k(Action::NewNote), "note"));
                hints.push(h(k(Action::NewPledge), "pledge"));
            }
            hints.push(h("↑↓".into(), "turn"));
            hints
        }
        Mode::Picker(_) => vec![
            h("type".into(), "search"),
            h("↑↓".into(), "choose"),
            h("Enter".into(), "confirm"),
            h("Esc".into(), "cancel"),
        ],
        Mode::Confirm { .. } => vec![h("y".into(), "yes"), h("n".into(), "no")],
        Mode::Editing => vec![h("Ctrl+S".into(), "save"), h("Tab".into(), "text/tags"), h("Esc".into(), "cancel")],
        Mode::Help => vec![h("any key".into(), "close")],
    }
}

fn render_turns(r: &Rapporteur, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(" Turns ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(session) = r.session() else { return };
    let choices = turn_choices(session);
    let height = inner.height as usize;
    let selected = r.turn_selected.min(choices.len().saturating_sub(1));
    let width = usize::from(inner.width);
    let lines: Vec<Line> = choices
        .iter()
        .enumerate()
        .skip(offset(selected, height))
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
            let room = width.saturating_sub(6 + notes.chars().count());
            let who =
                c.participant.as_deref().map_or("the session as a whole".to_string(), |p| fit_name(session, p, room));
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

fn tags_text(objectives: &[u8], themes: &[String]) -> String {
    let mut tags = objectives_text(objectives);
    if !themes.is_empty() {
        if !tags.is_empty() {
            tags.push_str(" · ");
        }
        tags.push_str(&themes.join(", "));
    }
    tags
}

/// A note or pledge still in the outbox, shown as waiting until the hub has it.
fn waiting_lines(saved: &Saved, theme: &Theme) -> Vec<Line<'static>> {
    let (head, text) = match &saved.command {
        Command::AddNote { text, objectives, themes, .. } => {
            let tags = tags_text(objectives, themes);
            (
                format!(
                    "waiting to be sent · note{}",
                    if tags.is_empty() { String::new() } else { format!("  [{tags}]") }
                ),
                text.clone(),
            )
        }
        Command::AddPledge { text, pledger, objectives, .. } => {
            (format!("waiting to be sent · pledge by {pledger} [{}]", objectives_text(objectives)), text.clone())
        }
        _ => return Vec::new(),
    };
    let mut lines = vec![Line::styled(head, theme.fg(Color::Yellow).add_modifier(Modifier::BOLD))];
    lines.extend(text.lines().map(|l| Line::styled(l.to_string(), theme.fg(Color::Yellow))));
    lines
}

fn render_notes(r: &Rapporteur, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(session) = r.session() else {
        frame.render_widget(Block::bordered().title(" Notes "), area);
        return;
    };
    let choices = turn_choices(session);
    let choice = choices.get(r.turn_selected.min(choices.len().saturating_sub(1)));
    let turn = choice.and_then(|c| c.id);
    let title = match choice.and_then(|c| c.participant.as_deref()) {
        Some(p) => format!(" Notes on {}'s statement ", session.name_of(p)),
        None => " Notes on the session ".to_string(),
    };
    let mut lines: Vec<Line> = Vec::new();
    for note in session.notes.iter().filter(|n| n.turn == turn) {
        let tags = tags_text(&note.objectives, &note.themes);
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} {}", time_of_day(Some(session), note.saved_at.unwrap_or(note.at)), note.author),
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
    // Everything still in the outbox, readable, whichever turn it is on.
    for saved in &r.outbox {
        lines.extend(waiting_lines(saved, theme));
    }
    if lines.is_empty() {
        let key = r.live.keymap.key_of(Action::NewNote);
        lines.push(Line::styled(format!("no notes yet: {key} to write one"), theme.dim()));
    }
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().title(ellipsize(&title, usize::from(area.width.saturating_sub(2)))));
    frame.render_widget(p, area);
}

fn render_editor(r: &Rapporteur, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(editor) = r.editor.as_ref() else { return };
    let session = r.session();
    let name = |id: &str| session.map_or(id.to_string(), |s| s.name_of(id).to_string());
    let title = match &editor.target {
        NoteTarget::Note { turn: Some(turn) } => {
            let who = session
                .and_then(|s| turn_choices(s).into_iter().find(|c| c.id == Some(*turn)))
                .and_then(|c| c.participant)
                .map(|p| name(&p))
                .unwrap_or_default();
            format!(" Note on {who}'s statement ")
        }
        NoteTarget::Note { turn: None } => " Note on the session ".to_string(),
        NoteTarget::Pledge { pledger, .. } => format!(" Pledge by {} ", name(pledger)),
    };
    let saving = if editor.saving.is_some() { " (saving…)" } else { "" };
    let block =
        Block::bordered().title(ellipsize(&format!("{title}{saving}"), usize::from(area.width.saturating_sub(2))));
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
    let meaning = ellipsize(&meaning, usize::from(meaning_area.width));
    frame.render_widget(Paragraph::new(Line::styled(meaning, theme.dim())), meaning_area);
}
