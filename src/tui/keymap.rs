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
}

impl Action {
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
            Self::Inscribe => "inscribe a speaker (type part of a name)",
            Self::GiveFloor => "give the floor to the selected entry",
            Self::NextSpeaker => "give the floor to the first on the list",
            Self::EndTurn => "end the turn",
            Self::PauseResume => "pause or resume the clock",
            Self::Extend => "30 seconds more",
            Self::Cut => "30 seconds less",
            Self::MoveUp => "move the selected entry up",
            Self::MoveDown => "move the selected entry down",
            Self::Withdraw => "withdraw the selected entry",
            Self::Defer => "defer the selected entry 2 places",
            Self::DeferToEnd => "defer the selected entry to the end",
            Self::Reinstate => "reinstate a moved or deferred entry",
            Self::ToggleList => "close or reopen the list",
            Self::PointOfOrder => "raise a point of order",
            Self::Rule => "rule on the point of order",
            Self::RightOfReply => "request a right of reply",
            Self::Connection => "next connection status of a remote speaker",
            Self::Undo => "undo the last list action or floor given",
            Self::NextSegment => "open (replay: go to) the next segment",
            Self::JoinUrls => "show or hide the join URLs",
            Self::EndSession => "close the session",
            Self::NewNote => "write a note on the selected turn",
            Self::NewPledge => "record a pledge",
            Self::PlayPause => "play or pause",
            Self::Faster => "faster (1x 2x 5x 10x 30x 60x)",
            Self::Slower => "slower",
            Self::StepForward => "one event forward",
            Self::StepBack => "one event back",
            Self::NextTurn => "next turn",
            Self::PreviousTurn => "previous turn",
            Self::PreviousSegment => "previous segment",
            Self::Seek => "go to a clock time (HH:MM or HH:MM:SS)",
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[serde(default)]
    chair: BTreeMap<Action, Vec<String>>,
    #[serde(default)]
    rapporteur: BTreeMap<Action, Vec<String>>,
    #[serde(default)]
    replay: BTreeMap<Action, Vec<String>>,
}

impl KeyFile {
    fn table(self, screen: Screen) -> BTreeMap<Action, Vec<String>> {
        match screen {
            Screen::Chair => self.chair,
            Screen::Rapporteur => self.rapporteur,
            Screen::Replay => self.replay,
        }
    }
}

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

    pub fn from_texts(user: Option<(&str, &str)>, screen: Screen) -> Result<Self, String> {
        let parse = |name: &str, text: &str| {
            toml::from_str::<KeyFile>(text).map_err(|e| {
                let (line, column) = e.span().map_or((1, 1), |s| crate::config::line_column(text, s.start));
                format!("{name}:{line}:{column}: {}", e.message())
            })
        };
        let mut actions = parse("config/keys.toml", DEFAULT_KEYS)?.table(screen);
        if let Some((name, text)) = user {
            actions.extend(parse(name, text)?.table(screen));
        }
        let mut bindings: HashMap<Key, Action> = HashMap::new();
        let mut by_action: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        for (action, specs) in &actions {
            for spec in specs {
                let key = Key::parse(spec).ok_or_else(|| format!("unknown key \"{spec}\" for {action:?}"))?;
                if let Some(other) = bindings.insert(key, *action)
                    && other != *action
                {
                    return Err(format!(
                        "key \"{spec}\" is bound to both {} and {}: give each key one action",
                        kebab(other),
                        kebab(*action)
                    ));
                }
                by_action.entry(*action).or_default().push(key);
            }
        }
        Ok(Self { bindings, by_action })
    }

    pub fn resolve(&self, event: &KeyEvent) -> Option<Action> {
        self.bindings.get(&Key::from_event(event)).copied()
    }

    /// The first key of an action, for hints ("i inscribe").
    pub fn key_of(&self, action: Action) -> String {
        self.by_action.get(&action).and_then(|k| k.first()).map_or_else(|| "-".to_string(), Key::to_string)
    }

    /// Every action with all its keys, for the help overlay.
    pub fn all(&self) -> impl Iterator<Item = (Action, &[Key])> {
        self.by_action.iter().map(|(a, k)| (*a, k.as_slice()))
    }
}

fn kebab(action: Action) -> String {
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
            Keymap::from_texts(Some(("mine.toml", "[chair]\ninscribe = [\"a\"]\n")), Screen::Chair).expect("valid");
        assert_eq!(keys.resolve(&press(KeyCode::Char('a'), KeyModifiers::NONE)), Some(Action::Inscribe));
        assert_eq!(keys.resolve(&press(KeyCode::Char('i'), KeyModifiers::NONE)), None);
    }

    #[test]
    fn conflicting_or_unknown_bindings_are_clear_errors() {
        let err = Keymap::from_texts(Some(("mine.toml", "[chair]\ninscribe = [\"q\"]\n")), Screen::Chair)
            .expect_err("conflict");
        assert_eq!(err, "key \"q\" is bound to both quit and inscribe: give each key one action");
        let err = Keymap::from_texts(Some(("mine.toml", "[chair]\ninscribe = [\"hyper+q\"]\n")), Screen::Chair)
            .expect_err("bad key");
        assert_eq!(err, "unknown key \"hyper+q\" for Inscribe");
        let err = Keymap::from_texts(Some(("mine.toml", "[chair]\ndance = [\"z\"]\n")), Screen::Chair)
            .expect_err("bad action");
        assert!(err.starts_with("mine.toml:2:1: unknown variant `dance`"), "{err}");
    }
}
