//! The replay screen: a recorded session as it unfolded, with a transport (play,
//! pause, speeds, step, turn and segment jumps, seek to a clock time). It draws with
//! the live screens' widgets, fed the state the replayer computes at the cursor.

pub mod view;

use chrono::{Duration, NaiveTime, TimeZone};
use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};

use super::keymap::{Action, Keymap};
use super::live::{Msg, StatusLine, Tone};
use crate::domain::{Session, Timestamp};
use crate::journal::Kind;
use crate::replay::Player;

pub const SPEEDS: [u32; 6] = [1, 2, 5, 10, 30, 60];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayMode {
    Normal,
    Help,
    /// Typing a clock time to go to.
    Seek(String),
    /// The fairness panel at the cursor.
    Balance,
}

pub struct ReplayApp {
    pub player: Player,
    /// The session's state after `cursor` events.
    pub state: Option<Session>,
    pub keymap: Keymap,
    pub no_color: bool,
    pub status: Option<StatusLine>,
    /// Events applied: the state shown is the one after this many events.
    pub cursor: usize,
    pub playing: bool,
    /// Index into `SPEEDS`.
    pub speed: usize,
    /// The session's time at the cursor (it moves between events while playing).
    pub now: Timestamp,
    last_tick: Option<Timestamp>,
    pub mode: ReplayMode,
    /// Every turn of the recording, for the timeline.
    pub all_turns: Vec<std::sync::Arc<crate::domain::TurnRecord>>,
    /// Following a journal still being written (`replay --follow`).
    pub follow: Option<Follow>,
    /// When the journal was last read for new events.
    last_poll: Option<Timestamp>,
}

/// Where `replay --follow` reads the events recorded since: the journal's file,
/// or (a session kept in etcd) a task that reads etcd and hands them over.
pub enum Follow {
    File(crate::journal::Follower),
    Etcd(tokio::sync::mpsc::Receiver<FromEtcd>),
}

/// What the task reading a session in etcd hands over.
#[derive(Debug, Clone, PartialEq)]
pub enum FromEtcd {
    Events(Vec<crate::domain::Event>),
    /// Something to say while it goes on following (etcd does not answer, or again).
    Notice(String),
    /// It stopped following: why (a line that does not chain).
    Stopped(String),
}

/// What one look at the followed journal found.
#[derive(Debug, Default)]
struct Polled {
    events: Vec<crate::domain::Event>,
    notice: Option<String>,
    stopped: Option<String>,
}

impl Follow {
    /// The events recorded since the last poll (none if nothing new), what to
    /// say meanwhile, and why following stopped, if it did (after those events).
    fn poll(&mut self) -> Polled {
        use tokio::sync::mpsc::error::TryRecvError;
        match self {
            Self::File(follower) => match follower.poll() {
                Ok(events) => Polled { events, ..Polled::default() },
                Err(e) => Polled { stopped: Some(e.to_string()), ..Polled::default() },
            },
            Self::Etcd(read) => {
                let mut polled = Polled::default();
                loop {
                    match read.try_recv() {
                        Ok(FromEtcd::Events(more)) => polled.events.extend(more),
                        Ok(FromEtcd::Notice(text)) => polled.notice = Some(text),
                        Ok(FromEtcd::Stopped(why)) => {
                            polled.stopped = Some(why);
                            return polled;
                        }
                        Err(TryRecvError::Empty) => return polled,
                        Err(TryRecvError::Disconnected) => {
                            polled.stopped = Some("the reader of etcd stopped".to_string());
                            return polled;
                        }
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for Follow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::File(_) => "Follow::File",
            Self::Etcd(_) => "Follow::Etcd",
        })
    }
}

impl ReplayApp {
    pub fn new(player: Player, keymap: Keymap, local_now: Timestamp) -> Self {
        let now = player.span().map_or(local_now, |(start, _)| start);
        let all_turns = player.all_turns();
        let mut app = Self {
            player,
            state: None,
            keymap,
            no_color: false,
            status: None,
            cursor: 0,
            playing: false,
            speed: 0,
            now,
            last_tick: None,
            mode: ReplayMode::Normal,
            all_turns,
            follow: None,
            last_poll: None,
        };
        app.go_to(0);
        if let Some(torn) = app.player.torn.clone() {
            app.error(format!("the log ends with a torn line (left out): {torn}"));
        }
        if let Some(warning) = app.player.warning.clone() {
            app.error(warning);
        }
        app
    }

    pub fn session(&self) -> Option<&Session> {
        self.state.as_ref()
    }

    /// Follow the journal as the hub writes it: start at its end, live.
    pub fn following(mut self, follower: Follow, local_now: Timestamp) -> Self {
        self.follow = Some(follower);
        self.go_to(self.player.len());
        self.now = self.now.max(local_now);
        self.info("following the live journal: new events appear as the hub records them");
        self
    }

    /// At the newest event of a followed journal: the clocks run on the wall clock.
    pub fn live(&self) -> bool {
        self.follow.is_some() && self.cursor == self.player.len() && !self.playing
    }

    /// Read what the hub appended; stay at the end if we were there.
    fn poll(&mut self, now: Timestamp) {
        let Some(follower) = self.follow.as_mut() else { return };
        if self.last_poll.is_some_and(|last| (now - last).num_milliseconds() < 500) {
            return;
        }
        self.last_poll = Some(now);
        let at_end = self.cursor == self.player.len();
        let Polled { events, notice, stopped } = follower.poll();
        if !events.is_empty() {
            self.player.extend(events);
            self.all_turns = self.player.all_turns();
            if at_end {
                // A fresh state: the new events in order.
                let end = self.player.len();
                self.state = Some(self.player.state_at(end));
                self.cursor = end;
            }
        }
        if let Some(notice) = notice {
            self.error(notice);
        }
        if let Some(e) = stopped {
            self.follow = None;
            self.error(format!("stopped following: {e}"));
        }
    }

    pub fn speed(&self) -> u32 {
        SPEEDS[self.speed]
    }

    /// Show the state after `index` events, at that event's time.
    pub fn go_to(&mut self, index: usize) {
        let index = index.min(self.player.len());
        let at = match index {
            0 => self.player.span().map(|(start, _)| start),
            i => self.player.time_of(i - 1),
        };
        if let Some(at) = at {
            self.now = at;
        }
        self.set_cursor(index);
    }

    fn set_cursor(&mut self, index: usize) {
        let step = index == self.cursor + 1 && self.state.is_some();
        if step {
            if let (Some(state), Some(event)) = (self.state.as_mut(), self.player.event(self.cursor)) {
                crate::domain::apply(state, &event);
            }
        } else if index != self.cursor || self.state.is_none() {
            self.state = Some(self.player.state_at(index));
        }
        self.cursor = index;
        if let Some(problem) = self.player.take_problem() {
            self.error(problem);
        }
    }

    /// Move the session's time, applying the events up to it.
    fn advance_to(&mut self, at: Timestamp) {
        self.now = at;
        let index = self.player.index_at(at);
        self.set_cursor(index);
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), tone: Tone::Info });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), tone: Tone::Error });
    }
}

pub fn parse_clock(app: &ReplayApp, text: &str) -> Option<Timestamp> {
    let time = NaiveTime::parse_from_str(text.trim(), "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(text.trim(), "%H:%M"))
        .ok()?;
    let zone = app.session()?.def.start.timezone();
    let (start, _) = app.player.span()?;
    let day = start.with_timezone(&zone).date_naive();
    zone.from_local_datetime(&day.and_time(time)).single().map(|t| t.with_timezone(&chrono::Utc))
}

/// `true` when the screen should close.
pub fn update(app: &mut ReplayApp, msg: Msg) -> bool {
    match msg {
        Msg::Tick(now) => {
            app.poll(now);
            // Fold ahead a little while the screen waits (a long journal opened from its checkpoint).
            app.player.warm();
            if app.live() {
                // Live: the floor's clock reads the wall clock, like the live screens.
                app.now = now.max(app.now);
            }
            if app.playing
                && let Some(last) = app.last_tick
            {
                let elapsed = (now - last).num_milliseconds().max(0) * i64::from(app.speed());
                let target = app.now + Duration::milliseconds(elapsed);
                let end = app.player.span().map(|(_, end)| end);
                match end {
                    Some(end) if target >= end => {
                        app.advance_to(end);
                        app.playing = false;
                        app.info("end of the recording");
                    }
                    _ => app.advance_to(target),
                }
            }
            app.last_tick = Some(now);
            false
        }
        Msg::Key(key) if key.kind == KeyEventKind::Press => on_key(app, key),
        _ => false,
    }
}

fn on_key(app: &mut ReplayApp, key: crossterm::event::KeyEvent) -> bool {
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return true;
    }
    match app.mode.clone() {
        ReplayMode::Help | ReplayMode::Balance => {
            app.mode = ReplayMode::Normal;
            false
        }
        ReplayMode::Seek(mut text) => {
            match key.code {
                KeyCode::Esc => app.mode = ReplayMode::Normal,
                KeyCode::Backspace => {
                    text.pop();
                    app.mode = ReplayMode::Seek(text);
                }
                KeyCode::Enter => {
                    app.mode = ReplayMode::Normal;
                    match parse_clock(app, &text) {
                        Some(at) => {
                            app.advance_to(at);
                            app.info(format!("at {}", text.trim()));
                        }
                        None => app.error(format!("\"{text}\" is not a time: type HH:MM or HH:MM:SS")),
                    }
                }
                KeyCode::Char(c) if c.is_ascii_digit() || c == ':' => {
                    text.push(c);
                    app.mode = ReplayMode::Seek(text);
                }
                _ => {}
            }
            false
        }
        ReplayMode::Normal => {
            let Some(action) = app.keymap.resolve(&key) else { return false };
            on_action(app, action)
        }
    }
}

fn on_action(app: &mut ReplayApp, action: Action) -> bool {
    match action {
        Action::Quit => return true,
        Action::Help => app.mode = ReplayMode::Help,
        Action::Balance => app.mode = ReplayMode::Balance,
        Action::PlayPause => {
            if app.cursor >= app.player.len() && !app.playing {
                app.go_to(0);
            }
            app.playing = !app.playing;
            app.last_tick = None;
        }
        Action::Faster => app.speed = (app.speed + 1).min(SPEEDS.len() - 1),
        Action::Slower => app.speed = app.speed.saturating_sub(1),
        Action::StepForward => {
            app.playing = false;
            app.go_to(app.cursor + 1);
        }
        Action::StepBack => {
            app.playing = false;
            app.go_to(app.cursor.saturating_sub(1));
        }
        Action::NextTurn | Action::NextSegment => {
            let kind = if action == Action::NextTurn { Kind::FloorGiven } else { Kind::SegmentOpened };
            match app.player.next_of(app.cursor, kind) {
                Some(index) => app.go_to(index),
                None => app.info("no later one"),
            }
        }
        Action::PreviousTurn | Action::PreviousSegment => {
            let kind = if action == Action::PreviousTurn { Kind::FloorGiven } else { Kind::SegmentOpened };
            match app.player.previous_of(app.cursor, kind) {
                Some(index) => app.go_to(index),
                None => app.info("no earlier one"),
            }
        }
        Action::Seek => {
            app.playing = false;
            app.mode = ReplayMode::Seek(String::new());
        }
        Action::Top => app.go_to(0),
        Action::Bottom => app.go_to(app.player.len()),
        _ => {}
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::Screen;
    use crossterm::event::KeyEvent;

    fn player() -> Player {
        let text = include_str!("../../../tests/data/sample-session.jsonl");
        let contents = crate::journal::read(text.as_bytes()).expect("the sample verifies");
        Player::new(contents, true).expect("player")
    }

    fn app() -> ReplayApp {
        let keys = Keymap::from_texts(None, Screen::Replay).expect("keys");
        ReplayApp::new(player(), keys, chrono::Utc::now())
    }

    fn press(app: &mut ReplayApp, c: char) -> bool {
        let code = match c {
            '→' => KeyCode::Right,
            '←' => KeyCode::Left,
            '\n' => KeyCode::Enter,
            ' ' => KeyCode::Char(' '),
            c => KeyCode::Char(c),
        };
        update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn floor(app: &ReplayApp) -> Option<String> {
        app.session()?.floor.as_ref().map(|t| t.entry.participant.clone())
    }

    /// Following a session in etcd: events handed over before the reader stopped
    /// are kept, a notice is said without stopping, and the reason it stopped is said.
    #[test]
    fn a_followed_session_keeps_what_came_before_its_reader_stopped() {
        let text = include_str!("../../../tests/data/sample-session.jsonl");
        let contents = crate::journal::read(text.as_bytes()).expect("the sample verifies");
        let (head, tail) = contents.events.split_at(contents.events.len() - 2);
        let mut first = contents.clone();
        first.events = head.to_vec();
        let keys = Keymap::from_texts(None, Screen::Replay).expect("keys");
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let now = chrono::Utc::now();
        let mut app =
            ReplayApp::new(Player::new(first, true).expect("player"), keys, now).following(Follow::Etcd(rx), now);
        let before = app.player.len();
        tx.try_send(FromEtcd::Notice("etcd does not answer".into())).expect("sent");
        tx.try_send(FromEtcd::Events(tail.to_vec())).expect("sent");
        tx.try_send(FromEtcd::Stopped("line 9: hash chain broken".into())).expect("sent");
        app.poll(now + chrono::Duration::seconds(1));
        assert_eq!(app.player.len(), before + 2, "the events before the stop are kept");
        assert_eq!(app.cursor, app.player.len(), "and shown, live");
        assert!(app.follow.is_none(), "it no longer follows");
        let status = app.status.clone().map(|s| s.text).unwrap_or_default();
        assert!(status.contains("stopped following: line 9"), "{status}");
    }

    #[test]
    fn stepping_and_jumping_between_turns() {
        let mut app = app();
        assert_eq!(app.cursor, 0);
        press(&mut app, '→');
        assert_eq!(app.cursor, 1);
        press(&mut app, ']');
        assert_eq!(floor(&app).as_deref(), Some("peru"));
        press(&mut app, ']');
        assert_eq!(floor(&app).as_deref(), Some("chile"));
        press(&mut app, '[');
        assert_eq!(floor(&app).as_deref(), Some("peru"));
        press(&mut app, '←');
        assert_eq!(floor(&app), None);
        press(&mut app, 'G');
        assert_eq!(app.cursor, app.player.len());
        assert!(app.session().is_some_and(|s| s.closed_at.is_some()));
    }

    #[test]
    fn playing_moves_the_session_clock_at_the_chosen_speed() {
        let mut app = app();
        let t0 = chrono::Utc::now();
        press(&mut app, ' ');
        for _ in 0..4 {
            press(&mut app, '>'); // 1x → 30x
        }
        assert_eq!(app.speed(), 30);
        update(&mut app, Msg::Tick(t0));
        let before = app.now;
        update(&mut app, Msg::Tick(t0 + Duration::seconds(1)));
        assert_eq!(app.now - before, Duration::seconds(30));
        // Peru had the floor from 60 s to 270 s after the start: 30 s in, nobody yet.
        assert_eq!(floor(&app), None);
        update(&mut app, Msg::Tick(t0 + Duration::seconds(3)));
        assert_eq!(floor(&app).as_deref(), Some("peru"));
        // Far beyond the end: stops there.
        update(&mut app, Msg::Tick(t0 + Duration::seconds(1000)));
        assert!(!app.playing);
        assert_eq!(app.cursor, app.player.len());
    }

    #[test]
    fn seeking_to_a_clock_time() {
        let mut app = app();
        press(&mut app, 't');
        for c in "10:05:30\n".chars() {
            press(&mut app, c);
        }
        // 10:05:30 is 330 s in: Chile has had the floor since 300 s.
        assert_eq!(floor(&app).as_deref(), Some("chile"));
        let reading = app.session().and_then(|s| s.floor.clone()).expect("floor").reading(app.now, 30);
        assert_eq!(reading.used_ms, 30_000);
        press(&mut app, 't');
        for c in "99:99\n".chars() {
            press(&mut app, c);
        }
        assert!(app.status.as_ref().is_some_and(|s| s.text.contains("is not a time")));
    }
}
