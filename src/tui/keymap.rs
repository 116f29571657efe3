//! Keys: the default keymap (config/keys.toml, embedded), a user's file laid over
//! it, and a pure `resolve(key) -> Option<Action>`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

pub const DEFAULT_KEYS: &str = include_str!("../../config/keys.toml");

/// What a key does on the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Quit,
    Help,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Inscribe,
    GiveFloor,
    NextSpeaker,
    EndTurn,
    Suspend,
    PauseResume,
    Extend,
    Cut,
    MoveUp,
    MoveDown,
    Withdraw,
    Defer,
    DeferToEnd,
    Reinstate,
    ToggleList,
    PointOfOrder,
    Rule,
    RightOfReply,
    Connection,
    Undo,
    NextSegment,
    JoinUrls,
    ChairUrl,
    Balance,
    EndSession,
    NewNote,
    NewPledge,
    PlayPause,
    Faster,
    Slower,
    StepForward,
    StepBack,
    NextTurn,
    PreviousTurn,
    PreviousSegment,
    Seek,
    /// On the forum's console: open the selected session.
    Open,
    /// Answer yes to a question (never a key that acts on the main screen).
    Yes,
    /// Answer no to a question.
    No,
}

impl Action {
    /// The action named as in the keys file ("give-floor").
    pub fn from_name(name: &str) -> Option<Self> {
        Screen::ALL.iter().flat_map(|s| s.actions().iter()).copied().find(|a| kebab(*a) == name)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Quit => "quit",
            Self::Help => "this help",
            Self::Up => "select previous",
            Self::Down => "select next",
            Self::PageUp => "page up",
            Self::PageDown => "page down",
            Self::Top => "first entry",
            Self::Bottom => "last entry",
            Self::Inscribe => "inscribe (type a name)",
            Self::GiveFloor => "floor to the selected entry",
            Self::NextSpeaker => "thank you, next",
            Self::EndTurn => "end the turn (asks if early)",
            Self::Suspend => "speaker lost: continue later",
            Self::PauseResume => "pause or resume the clock",
            Self::Extend => "30 seconds more",
            Self::Cut => "30 seconds less",
            Self::MoveUp => "move the selected entry up",
            Self::MoveDown => "move the selected entry down",
            Self::Withdraw => "withdraw selected (asks)",
            Self::Defer => "defer selected 2 places",
            Self::DeferToEnd => "defer selected to the end",
            Self::Reinstate => "put back by the rules",
            Self::ToggleList => "close (asks) / reopen list",
            Self::PointOfOrder => "raise a point of order",
            Self::Rule => "rule on the point of order",
            Self::RightOfReply => "request a right of reply",
            Self::Connection => "connection status (1-4)",
            Self::Undo => "undo the last action",
            Self::NextSegment => "next segment (asks first)",
            Self::JoinUrls => "join URLs (not the chair's)",
            Self::ChairUrl => "chair's own URL (private)",
            Self::Balance => "balance: shares, budgets",
            Self::EndSession => "close the session (asks)",
            Self::NewNote => "note on the selected turn",
            Self::NewPledge => "record a pledge",
            Self::PlayPause => "play or pause",
            Self::Faster => "faster (up to 60x)",
            Self::Slower => "slower",
            Self::StepForward => "one event forward",
            Self::StepBack => "one event back",
            Self::NextTurn => "next turn",
            Self::PreviousTurn => "previous turn",
            Self::PreviousSegment => "previous segment",
            Self::Seek => "go to a time (HH:MM[:SS])",
            Self::Open => "open the session (as chair, or read-only)",
            Self::Yes => "yes, to a question",
            Self::No => "no, to a question",
        }
    }
}

/// A key with its modifiers, as the keymap compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl Key {
    /// Normalize a terminal key event: a character carries its own case, so SHIFT
    /// is dropped from it.
    pub fn from_event(event: &KeyEvent) -> Self {
        let mut modifiers = event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if matches!(event.code, KeyCode::Char(_)) {
            modifiers.remove(KeyModifiers::SHIFT);
        }
        Self { code: event.code, modifiers }
    }

    pub fn parse(spec: &str) -> Option<Self> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = spec;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.chars().count() > 1 && lower.starts_with("ctrl+") {
                modifiers |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if rest.chars().count() > 1 && lower.starts_with("alt+") {
                modifiers |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else if rest.chars().count() > 1 && lower.starts_with("shift+") {
                modifiers |= KeyModifiers::SHIFT;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" => KeyCode::Enter,
                "esc" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" => KeyCode::Delete,
                "insert" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                f if f.starts_with('f') => KeyCode::F(f[1..].parse().ok().filter(|n| (1..=12).contains(n))?),
                _ => return None,
            },
        };
        if matches!(code, KeyCode::Char(_)) {
            modifiers.remove(KeyModifiers::SHIFT);
        }
        Some(Self { code, modifiers })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl+")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("Alt+")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift+")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Which screen a keymap is for: each has its own table in the keys file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Chair,
    Rapporteur,
    Replay,
    Delegate,
    Forum,
}

impl Screen {
    pub fn table(self) -> &'static str {
        match self {
            Self::Chair => "chair",
            Self::Rapporteur => "rapporteur",
            Self::Replay => "replay",
            Self::Delegate => "delegate",
            Self::Forum => "forum",
        }
    }

    const ALL: [Screen; 5] = [Screen::Chair, Screen::Rapporteur, Screen::Replay, Screen::Delegate, Screen::Forum];

    /// The actions a screen has, in the order its help lists them.
    pub fn actions(self) -> &'static [Action] {
        use Action::*;
        match self {
            Self::Chair => &[
                Help,
                Quit,
                Up,
                Down,
                PageUp,
                PageDown,
                Top,
                Bottom,
                Inscribe,
                GiveFloor,
                NextSpeaker,
                EndTurn,
                Suspend,
                PauseResume,
                Extend,
                Cut,
                MoveUp,
                MoveDown,
                Withdraw,
                Defer,
                DeferToEnd,
                Reinstate,
                ToggleList,
                PointOfOrder,
                Rule,
                RightOfReply,
                Connection,
                Undo,
                NextSegment,
                JoinUrls,
                ChairUrl,
                Balance,
                EndSession,
                Yes,
                No,
            ],
            Self::Rapporteur => &[Help, Quit, Up, Down, PageUp, PageDown, Top, Bottom, NewNote, NewPledge],
            Self::Replay => &[
                Help,
                Quit,
                PlayPause,
                Faster,
                Slower,
                StepForward,
                StepBack,
                NextTurn,
                PreviousTurn,
                NextSegment,
                PreviousSegment,
                Seek,
                Balance,
                Top,
                Bottom,
            ],
            Self::Delegate => &[
                Help,
                Quit,
                Up,
                Down,
                PageUp,
                PageDown,
                Top,
                Bottom,
                Inscribe,
                Withdraw,
                RightOfReply,
                PointOfOrder,
                Connection,
                Yes,
                No,
            ],
            Self::Forum => &[Help, Quit, Up, Down, PageUp, PageDown, Top, Bottom, Open],
        }
    }

    /// What an action does on this screen, as the help overlay says it.
    pub fn describe(self, action: Action) -> &'static str {
        match (self, action) {
            (Self::Replay, Action::NextSegment) => "go to the next segment",
            (Self::Replay, Action::Top) => "go to the start",
            (Self::Replay, Action::Bottom) => "go to the end",
            (Self::Rapporteur, Action::Up | Action::Down) => "choose a turn",
            (Self::Forum, Action::Up | Action::Down) => "choose a session",
            (Self::Forum, Action::Top) => "first session",
            (Self::Forum, Action::Bottom) => "last session",
            (Self::Delegate, Action::Inscribe) => "inscribe my delegation",
            (Self::Delegate, Action::Withdraw) => "withdraw my entry (asks)",
            (Self::Delegate, Action::RightOfReply) => "right of reply (or withdraw)",
            (Self::Delegate, Action::Connection) => "report my connection",
            (Self::Delegate, Action::PointOfOrder) => "raise (or withdraw) a point of order",
            _ => action.describe(),
        }
    }
}

/// The whole keys file: one table per screen, each action with its keys, as written
/// (with positions, for errors).
type KeyFile = BTreeMap<String, BTreeMap<String, toml::Spanned<Vec<toml::Spanned<String>>>>>;

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: HashMap<Key, Action>,
    /// Keys of each action, in the order written (for the help and the footer).
    by_action: BTreeMap<Action, Vec<Key>>,
}

impl Keymap {
    /// The default keymap of a screen with a user's file (if any) laid over it.
    pub fn load(user: Option<&Path>, screen: Screen) -> Result<Self, String> {
        let user_text = match user {
            Some(path) => Some((
                path.display().to_string(),
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
            )),
            None => None,
        };
        Self::from_texts(user_text.as_ref().map(|(p, t)| (p.as_str(), t.as_str())), screen)
    }

    /// Every problem of the files is reported, one a line, each at its file, line
    /// and column.
    pub fn from_texts(user: Option<(&str, &str)>, screen: Screen) -> Result<Self, String> {
        let mut problems = Vec::new();
        let mut actions = read_table("config/keys.toml", DEFAULT_KEYS, screen, &mut problems);
        if let Some((name, text)) = user {
            for (action, keys) in read_table(name, text, screen, &mut problems) {
                actions.retain(|(a, _)| *a != action);
                actions.push((action, keys));
            }
        }
        let mut bindings: HashMap<Key, (Action, String)> = HashMap::new();
        let mut by_action: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        for (action, keys) in &actions {
            for (key, spec, at) in keys {
                if let Some((other, _)) = bindings.insert(*key, (*action, at.clone()))
                    && other != *action
                {
                    problems.push(format!(
                        "{at}: key \"{spec}\" is bound to both `{}` ({}) and `{}` ({}) on the {} screen: give each key one action",
                        kebab(other),
                        screen.describe(other),
                        kebab(*action),
                        screen.describe(*action),
                        screen.table()
                    ));
                }
                by_action.entry(*action).or_default().push(*key);
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        Ok(Self { bindings: bindings.into_iter().map(|(k, (a, _))| (k, a)).collect(), by_action })
    }

    pub fn resolve(&self, event: &KeyEvent) -> Option<Action> {
        self.bindings.get(&Key::from_event(event)).copied()
    }

    /// The first key of an action, for hints ("i inscribe").
    pub fn key_of(&self, action: Action) -> String {
        self.by_action.get(&action).and_then(|k| k.first()).map_or_else(|| "-".to_string(), Key::to_string)
    }

    /// Every action with all its keys.
    pub fn all(&self) -> impl Iterator<Item = (Action, &[Key])> {
        self.by_action.iter().map(|(a, k)| (*a, k.as_slice()))
    }

    /// The keys of an action, joined for the help.
    pub fn keys_text(&self, action: Action) -> String {
        self.by_action
            .get(&action)
            .map(|k| k.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }
}

/// A screen's keys, one (keys, what they do) row per action, for its help overlay.
pub fn help_entries(keymap: &Keymap, screen: Screen) -> Vec<(String, String)> {
    screen
        .actions()
        .iter()
        .filter_map(|a| {
            let keys = keymap.keys_text(*a);
            (!keys.is_empty()).then(|| (keys, screen.describe(*a).to_string()))
        })
        .collect()
}

/// One keys bound to an action, with its spec and where it was written.
type Bound = (Key, String, String);

/// A screen's table of a keys file: each action's keys, checked; every problem
/// found (in any table) is added to `problems`, and what reads is kept.
fn read_table(name: &str, text: &str, screen: Screen, problems: &mut Vec<String>) -> Vec<(Action, Vec<Bound>)> {
    let at = |offset: usize| {
        let (line, column) = crate::config::line_column(text, offset);
        format!("{name}:{line}:{column}")
    };
    let file: KeyFile = match toml::from_str(text) {
        Ok(file) => file,
        Err(e) => {
            let place = e.span().map_or_else(|| format!("{name}:1:1"), |s| at(s.start));
            problems.push(format!("{place}: {}", e.message().trim()));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    // Where a name stands: a table's `[name]`, an action at the start of its value's line.
    let line_start = |offset: usize| text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    for (table, entries) in file {
        let Some(this) = Screen::ALL.iter().copied().find(|s| s.table() == table) else {
            let offset = text.find(&format!("[{table}]")).map_or(0, |i| i + 1);
            problems.push(format!(
                "{}: [{table}] is not a screen: the tables are [chair], [rapporteur], [replay], [delegate] and [forum]",
                at(offset)
            ));
            continue;
        };
        // Every table is checked, whichever screen is loading, so a mistake shows at once.
        for (action_name, keys) in entries {
            let place = at(line_start(keys.span().start));
            let Some(action) = Action::from_name(&action_name) else {
                problems.push(format!(
                    "{place}: `{}` is not an action; the {} screen's are: {}",
                    action_name,
                    this.table(),
                    this.actions().iter().map(|a| kebab(*a)).collect::<Vec<_>>().join(", ")
                ));
                continue;
            };
            if !this.actions().contains(&action) {
                let owners: Vec<&str> =
                    Screen::ALL.iter().filter(|s| s.actions().contains(&action)).map(|s| s.table()).collect();
                problems.push(format!(
                    "{place}: `{}` ({}) is an action of the {} screen, not of [{}]",
                    kebab(action),
                    action.describe(),
                    owners.join(" and "),
                    this.table()
                ));
                continue;
            }
            let mut bound = Vec::new();
            for spec in keys.get_ref() {
                match Key::parse(spec.get_ref()) {
                    Some(key) => bound.push((key, spec.get_ref().clone(), at(spec.span().start))),
                    None => problems.push(format!(
                        "{}: unknown key \"{}\" for `{}` ({}); keys are a character, a name such as enter or f1, or ctrl+/alt+/shift+ with one",
                        at(spec.span().start),
                        spec.get_ref(),
                        kebab(action),
                        this.describe(action)
                    )),
                }
            }
            if this == screen {
                out.push((action, bound));
            }
        }
    }
    out
}

/// An action's name as written in the keys file.
pub fn kebab(action: Action) -> String {
    let debug = format!("{action:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn the_default_keymap_loads_and_resolves() {
        let keys = Keymap::from_texts(None, Screen::Chair).expect("defaults are valid");
        assert_eq!(keys.resolve(&press(KeyCode::Char('i'), KeyModifiers::NONE)), Some(Action::Inscribe));
        assert_eq!(keys.resolve(&press(KeyCode::Char('K'), KeyModifiers::SHIFT)), Some(Action::MoveUp));
        assert_eq!(keys.resolve(&press(KeyCode::Up, KeyModifiers::SHIFT)), Some(Action::MoveUp));
        assert_eq!(keys.resolve(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(keys.resolve(&press(KeyCode::Char('z'), KeyModifiers::NONE)), None);
        assert_eq!(keys.key_of(Action::PauseResume), "Space");
    }

    #[test]
    fn a_user_file_replaces_an_actions_keys() {
        let keys =
            Keymap::from_texts(Some(("mine.toml", "[chair]\ninscribe = [\"z\"]\n")), Screen::Chair).expect("valid");
        assert_eq!(keys.resolve(&press(KeyCode::Char('z'), KeyModifiers::NONE)), Some(Action::Inscribe));
        assert_eq!(keys.resolve(&press(KeyCode::Char('i'), KeyModifiers::NONE)), None);
    }

    #[test]
    fn conflicting_or_unknown_bindings_are_clear_errors() {
        let err = Keymap::from_texts(Some(("mine.toml", "[chair]\ninscribe = [\"q\"]\n")), Screen::Chair)
            .expect_err("conflict");
        assert!(err.starts_with("config/keys.toml:") || err.starts_with("mine.toml:2:13:"), "{err}");
        assert!(err.contains("key \"q\" is bound to both `quit` (quit) and `inscribe`"), "{err}");
        let err = Keymap::from_texts(Some(("mine.toml", "[chair]\nquit = [\"bogus-key\"]\n")), Screen::Chair)
            .expect_err("bad key");
        assert!(err.starts_with("mine.toml:2:9: unknown key \"bogus-key\" for `quit` (quit)"), "{err}");
        let err = Keymap::from_texts(Some(("mine.toml", "[chair]\ndance = [\"z\"]\n")), Screen::Chair)
            .expect_err("bad action");
        assert!(
            err.starts_with("mine.toml:2:1: `dance` is not an action; the chair screen's are: help, quit"),
            "{err}"
        );
    }

    #[test]
    fn a_keys_file_reports_every_problem_not_only_its_first() {
        let file = "[chair]\ndance = [\"z\"]\nquit = [\"bogus-key\"]\nyes = [\"n\"]\n[stage]\n";
        let err = Keymap::from_texts(Some(("mine.toml", file)), Screen::Chair).expect_err("four problems");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 4, "{err}");
        assert!(lines.iter().any(|l| l.starts_with("mine.toml:2:1: `dance` is not an action")), "{err}");
        assert!(lines.iter().any(|l| l.starts_with("mine.toml:3:9: unknown key \"bogus-key\"")), "{err}");
        assert!(lines.iter().any(|l| l.contains("key \"n\" is bound to both") && l.contains("`yes`")), "{err}");
        assert!(lines.iter().any(|l| l.contains("[stage] is not a screen")), "{err}");
    }

    #[test]
    fn the_answer_keys_are_no_actions_keys() {
        // A yes bound to an action's key is refused: a habitual yes must never act.
        let err = Keymap::from_texts(Some(("mine.toml", "[chair]\nyes = [\"a\"]\n")), Screen::Chair)
            .expect_err("a is right-of-reply");
        assert!(err.contains("`right-of-reply`") && err.contains("`yes`"), "{err}");
    }

    #[test]
    fn an_action_of_another_screen_is_refused_with_where_it_belongs() {
        let err = Keymap::from_texts(Some(("mine.toml", "[chair]\nplay-pause = [\"z\"]\n")), Screen::Chair)
            .expect_err("replay action in the chair's table");
        assert_eq!(
            err,
            "mine.toml:2:1: `play-pause` (play or pause) is an action of the replay screen, not of [chair]"
        );
        let err = Keymap::from_texts(Some(("mine.toml", "[chiar]\nquit = [\"z\"]\n")), Screen::Chair)
            .expect_err("no such screen");
        assert!(err.starts_with("mine.toml:1:2: [chiar] is not a screen"), "{err}");
        // Another screen's table is checked too, whichever screen is loading.
        let err = Keymap::from_texts(Some(("mine.toml", "[replay]\ninscribe = [\"z\"]\n")), Screen::Chair)
            .expect_err("chair action in the replay table");
        assert!(err.contains("`inscribe`"), "{err}");
    }

    #[test]
    fn every_screen_has_a_key_for_each_of_its_actions() {
        for screen in Screen::ALL {
            let keys = Keymap::from_texts(None, screen).expect("defaults are valid");
            for action in screen.actions() {
                assert!(!keys.keys_text(*action).is_empty(), "{screen:?} has no key for {action:?}");
            }
        }
    }
}
