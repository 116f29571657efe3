//! The language of a statement: how the screens show it ("in French" where there
//! is room, "FR" where there is not) and the one way every inscription popup lets
//! its user choose it: ←→ through the six official languages and none, or Ctrl+L
//! to type another code. Which codes are languages is the domain's rule: a chosen
//! code goes to the hub as typed, and a refusal says why.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::{OFFICIAL_LANGUAGES, language_name};

/// "in French" for a statement's language.
pub fn spoken_in(code: &str) -> String {
    format!("in {}", language_name(code))
}

/// ", in French" after what an inscription says it does; nothing without a language.
pub fn clause(language: Option<&str>) -> String {
    language.map(|code| format!(", {}", spoken_in(code))).unwrap_or_default()
}

/// The compact form for a narrow column: "FR".
pub fn short(code: &str) -> String {
    code.to_uppercase()
}

/// The keys that step through the languages in an inscription popup.
pub const KEYS: &str = "←→";
/// The key that types another language's code.
pub const TYPE_KEY: &str = "Ctrl+L";

/// The language after `current` in the cycle none → ar → zh → en → fr → ru → es
/// → none (`forward`), or before it. A code outside the six (typed, say) steps to
/// the first or last official language.
pub fn step(current: Option<&str>, forward: bool) -> Option<String> {
    let cycle: Vec<Option<&str>> = std::iter::once(None).chain(OFFICIAL_LANGUAGES.iter().copied().map(Some)).collect();
    let at = cycle.iter().position(|c| *c == current).unwrap_or(0);
    let len = cycle.len();
    let next = if forward { (at + 1) % len } else { (at + len - 1) % len };
    cycle[next].map(str::to_string)
}

/// The language an inscription popup is choosing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    /// The language chosen; None: not given.
    pub code: Option<String>,
    /// Another language's code being typed (after Ctrl+L), until Enter or Esc.
    pub typing: Option<String>,
}

impl Choice {
    /// A choice of `code`, not typing.
    pub fn of(code: &str) -> Self {
        Self { code: Some(code.to_string()), typing: None }
    }

    /// The language to send with the inscription.
    pub fn code(&self) -> Option<String> {
        self.code.clone()
    }

    /// Apply a key: ← and → step through the cycle, Ctrl+L starts typing a code;
    /// while typing, every key is the chooser's (Enter chooses what was typed, an
    /// empty code is none; Esc goes back to the language chosen before). Returns
    /// whether the key was the chooser's (else the popup handles it).
    pub fn on_key(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some(typed) = &mut self.typing {
            match key.code {
                KeyCode::Enter => {
                    let code = typed.trim().to_string();
                    self.code = (!code.is_empty()).then_some(code);
                    self.typing = None;
                }
                KeyCode::Esc => self.typing = None,
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) if !ctrl => typed.push(c),
                _ => {}
            }
            return true;
        }
        match key.code {
            KeyCode::Right => self.code = step(self.code.as_deref(), true),
            KeyCode::Left => self.code = step(self.code.as_deref(), false),
            KeyCode::Char('l') if ctrl => self.typing = Some(String::new()),
            _ => return false,
        }
        true
    }

    /// The popup's line: "language: French (←→ change · Ctrl+L type a code)", or
    /// the code being typed.
    pub fn line(&self) -> String {
        match &self.typing {
            Some(typed) => format!("language code: {typed}█ (Enter choose · Esc back)"),
            None => {
                let chosen = self.code.as_deref().map_or_else(|| "not given".to_string(), language_name);
                format!("language: {chosen} ({KEYS} change · {TYPE_KEY} type a code)")
            }
        }
    }

    /// The footer's hints for the chooser while it types; None when it is not typing.
    pub fn typing_hints(&self) -> Option<Vec<(String, String)>> {
        self.typing.as_ref().map(|_| {
            vec![
                ("type".to_string(), "the ISO 639-1 code".to_string()),
                ("Enter".to_string(), "choose it".to_string()),
                ("Esc".to_string(), "back".to_string()),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(choice: &mut Choice, code: KeyCode) -> bool {
        choice.on_key(&KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn the_arrows_cycle_through_the_six_languages_and_none() {
        let mut choice = Choice::default();
        let mut seen = Vec::new();
        for _ in 0..7 {
            assert!(press(&mut choice, KeyCode::Right));
            seen.push(choice.code().unwrap_or_default());
        }
        assert_eq!(seen, ["ar", "zh", "en", "fr", "ru", "es", ""]);
        assert!(press(&mut choice, KeyCode::Left));
        assert_eq!(choice, Choice::of("es"));
        assert!(!press(&mut choice, KeyCode::Char('x')), "a letter is the popup's");
        assert_eq!(step(Some("pt"), true).as_deref(), Some("ar"), "another code steps into the cycle");
        assert_eq!(Choice::of("fr").line(), "language: French (←→ change · Ctrl+L type a code)");
        assert_eq!(spoken_in("fr"), "in French");
        assert_eq!(clause(Some("fr")), ", in French");
        assert_eq!(short("fr"), "FR");
    }

    #[test]
    fn ctrl_l_types_another_code_and_esc_goes_back() {
        let mut choice = Choice::of("fr");
        assert!(choice.on_key(&KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL)));
        for c in "ptx".chars() {
            assert!(press(&mut choice, KeyCode::Char(c)));
        }
        assert!(press(&mut choice, KeyCode::Backspace));
        assert_eq!(choice.line(), "language code: pt█ (Enter choose · Esc back)");
        assert!(choice.typing_hints().is_some());
        assert!(press(&mut choice, KeyCode::Enter));
        assert_eq!(choice, Choice::of("pt"));
        assert_eq!(choice.line(), "language: Portuguese (←→ change · Ctrl+L type a code)");
        // Esc leaves the language as it was; an empty code is none.
        choice.on_key(&KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL));
        press(&mut choice, KeyCode::Char('d'));
        assert!(press(&mut choice, KeyCode::Esc));
        assert_eq!(choice, Choice::of("pt"));
        choice.on_key(&KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL));
        press(&mut choice, KeyCode::Enter);
        assert_eq!(choice, Choice::default());
    }
}
