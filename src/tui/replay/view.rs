//! Drawing the replay screen: a REPLAY header, the timeline, the live screens'
//! floor, list and recent turns at the cursor, and the event list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::{ReplayApp, ReplayMode};
use crate::domain::{Event, EventKind, Placement};
use crate::tui::keymap::{Action, Screen, help_entries};
use crate::tui::widgets::floor::{self, FloorView};
use crate::tui::widgets::list::{self, ListView};
use crate::tui::widgets::{self, Theme, clock, ellipsize, popup, recent, time_of_day, timeline};

/// One event in words. Names come from `player`'s whole recording, so a participant
/// registered later, or an entry that has since spoken, reads the same everywhere.
pub fn describe_event(player: &crate::replay::Player, event: &Event) -> String {
    use EventKind as E;
    let session = player.roster();
    // A long name reads by its short one ("PICUM"), so the line keeps what happened.
    let name = |id: &str| widgets::fit_name(session, id, 28);
    let entry_name = |id: u64| player.entry_participant(id).map_or_else(|| format!("entry #{id}"), &name);
    let segment = |i: usize| session.segment_def(i).map_or_else(|| format!("segment {i}"), |d| d.title.clone());
    match &event.event {
        E::SegmentOpened { segment: s } => format!("opens \"{}\"", segment(*s)),
        E::SegmentOpenUndone { segment: s, .. } => format!("undoes the opening of \"{}\"", segment(*s)),
        E::SessionClosed => "closes the session".into(),
        E::ParticipantRegistered { participant } => {
            format!("registers {} ({})", participant.name, participant.kind.label())
        }
        E::SessionReopened { .. } => "undoes the closing of the session".into(),
        E::Inscribed { entry, .. } => format!(
            "inscribes {} ({}{})",
            session.speaker(entry),
            entry.kind.label(),
            widgets::language::clause(entry.language.as_deref())
        ),
        E::Withdrawn { entry, .. } => format!("withdraws {}", entry_name(*entry)),
        E::Moved { entry, placement, .. } => match placement {
            Placement::Deferred { .. } => format!("defers {}", entry_name(*entry)),
            Placement::Policy => format!("reinstates {}", entry_name(*entry)),
            Placement::Moved { to } | Placement::Suspended { to } => format!("moves {} to {to}", entry_name(*entry)),
        },
        E::ListClosed { .. } => "closes the list".into(),
        E::ListReopened { .. } => "reopens the list".into(),
        E::ReplyRequested { entry, .. } => format!("right of reply for {}", name(&entry.participant)),
        E::ReplyWithdrawn { .. } => "withdraws a right of reply".into(),
        E::FloorGiven { turn } => format!("floor to {}", session.speaker(&turn.entry)),
        E::FloorRevoked { entry, .. } => format!("takes back the floor from {}", name(&entry.participant)),
        E::Restored { entry, .. } => format!("restores {}", name(&entry.participant)),
        E::TurnEnded { used_ms, overrun_ms, .. } => {
            let over = if *overrun_ms >= 1000 { format!(", +{}", clock(*overrun_ms)) } else { String::new() };
            format!("ends the turn ({}{over})", clock(*used_ms))
        }
        E::TurnRestored { turn, withdraw: None, .. } => {
            format!("undoes the end of {}'s turn", name(&turn.entry.participant))
        }
        E::TurnRestored { turn, withdraw: Some(_), .. } => {
            format!("undoes the interruption of {}'s statement", name(&turn.entry.participant))
        }
        E::TurnSuspended { entry, .. } => {
            format!("interrupts {}'s statement (to continue later)", name(&entry.participant))
        }
        E::ClockPaused { .. } => "pauses the clock".into(),
        E::ClockResumed { .. } => "resumes the clock".into(),
        E::TimeChanged { allotted_ms, .. } => format!("sets the time to {}", clock(*allotted_ms)),
        E::PointOfOrderRaised { point } => format!("point of order by {}", name(&point.by)),
        E::PointOfOrderRuled { upheld, .. } => format!("rules: {}", if *upheld { "upheld" } else { "not upheld" }),
        E::PointOfOrderWithdrawn { .. } => "withdraws the point of order".into(),
        E::ConnectionSet { participant, status } => format!("{}: {}", name(participant), status.label()),
        E::NoteAdded { note } => format!("note: {}", note.text.chars().take(60).collect::<String>()),
        E::PledgeAdded { pledge } => format!("pledge by {}", name(&pledge.pledger)),
    }
}

fn render_events(app: &ReplayApp, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(format!(" Events {}/{} ", app.cursor, app.player.len()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(session) = app.session() else { return };
    let height = inner.height as usize;
    let width = usize::from(inner.width);
    let current = app.cursor.checked_sub(1);
    let first = current.unwrap_or(0).saturating_sub(height / 2).min(app.player.len().saturating_sub(height));
    let lines: Vec<Line> = app
        .player
        .events_between(first, first + height)
        .iter()
        .zip(first..)
        .map(|(e, i)| {
            // A delegate acts under its participant id: show its (short) name; a person
            // at the chair by name, with room for it on a wide screen.
            let actor_width = if width >= 80 { (width / 4).clamp(10, 24) } else { 10 };
            let actor = match &e.actor.participant {
                Some(p) => widgets::fit_name(app.player.roster(), p, actor_width),
                None => ellipsize(&e.actor.name, actor_width),
            };
            let text = format!(
                "{} {} {}",
                time_of_day(Some(session), e.at),
                widgets::cell(&actor, actor_width),
                describe_event(&app.player, e)
            );
            let text = ellipsize(&text, width);
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

fn render_header(app: &ReplayApp, theme: &Theme, frame: &mut Frame, area: Rect) {
    let session = app.session();
    let state = if app.playing { "▶" } else { "⏸" };
    let mut badges = vec![match (&app.follow, app.live()) {
        (Some(_), true) => "LIVE (following the journal)".to_string(),
        (Some(_), false) => "REPLAY (following: G for live)".to_string(),
        (None, _) => "REPLAY".to_string(),
    }];
    if !app.player.verified {
        badges.push("UNVERIFIED".to_string());
    }
    badges.extend(widgets::session_badges(session));
    let titles = vec![
        if app.live() {
            // Following: the clock runs with the session, not with the player's speed.
            format!("as it happens · event {}/{}", app.cursor, app.player.len())
        } else {
            format!("{}x {state} · event {}/{}", app.speed(), app.cursor, app.player.len())
        },
        session.map(|s| s.def.title.clone()).unwrap_or_default(),
    ];
    widgets::render_header(&badges, &titles, None, time_of_day(session, app.now), theme, frame, area);
}

pub fn render(app: &ReplayApp, frame: &mut Frame) {
    let theme = Theme::new(app.no_color);
    let area = frame.area();
    let wide = area.width >= 120 && area.height >= 34;
    let status_height = widgets::status_height(app.status.as_ref(), area.width);
    let [header, timeline_area, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(8),
        Constraint::Length(status_height),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(app, &theme, frame, header);
    if let Some(span) = app.player.span() {
        timeline::render(&app.all_turns, span, app.now, &theme, frame, timeline_area);
    }
    let session = app.session();
    let floor_view = |wide| FloorView { session, now: app.now, wide, hints: Vec::new(), title: "Floor" };
    let draw_list = |frame: &mut Frame, area: Rect, detail_rows| {
        if let Some(session) = session {
            list::render(
                &ListView {
                    session,
                    segment: session.current_segment.unwrap_or(0),
                    selected: None,
                    own: None,
                    empty: "the list is empty".to_string(),
                    detail_rows,
                },
                &theme,
                frame,
                area,
            );
        }
    };
    if wide {
        let [left, right] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
        let [floor_area, list_area] = Layout::vertical([Constraint::Length(11), Constraint::Min(5)]).areas(left);
        let [recent_area, events] = Layout::vertical([Constraint::Length(12), Constraint::Min(5)]).areas(right);
        floor::render(&floor_view(true), &theme, frame, floor_area);
        draw_list(frame, list_area, 1);
        if let Some(session) = session {
            recent::render(session, true, &theme, frame, recent_area);
        }
        render_events(app, &theme, frame, events);
    } else {
        let [floor_area, list_area, events] =
            Layout::vertical([Constraint::Length(6), Constraint::Length(6), Constraint::Min(3)]).areas(body);
        floor::render(&floor_view(false), &theme, frame, floor_area);
        draw_list(frame, list_area, 1);
        render_events(app, &theme, frame, events);
    }
    widgets::render_status(app.status.as_ref(), &theme, frame, status);
    let k = |a: Action| app.keymap.key_of(a);
    let hints: Vec<(String, String)> = vec![
        (k(Action::PlayPause), "play/pause".into()),
        (format!("{}/{}", k(Action::Slower), k(Action::Faster)), "speed".into()),
        (format!("{} {}", k(Action::StepBack), k(Action::StepForward)), "step".into()),
        (format!("{}{}", k(Action::PreviousTurn), k(Action::NextTurn)), "turn".into()),
        (format!("{}{}", k(Action::PreviousSegment), k(Action::NextSegment)), "segment".into()),
        (k(Action::Seek), "go to time".into()),
        (k(Action::Help), "help".into()),
        (k(Action::Quit), "quit".into()),
    ];
    widgets::render_footer(&hints, &theme, frame, footer);
    match &app.mode {
        ReplayMode::Help => widgets::help(
            frame,
            " Replay keys (any key closes) ",
            &help_entries(&app.keymap, Screen::Replay),
            &timeline::legend(&theme),
        ),
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
        ReplayMode::Balance => {
            if let Some(session) = app.session() {
                let fairness = crate::fairness::compute(session, app.now);
                let budgets = crate::fairness::budget_use(session, session.current_segment.unwrap_or(0));
                crate::tui::widgets::balance::render(&fairness, &budgets, 0, &theme, frame);
            }
        }
        ReplayMode::Normal => {}
    }
}
