//! The language of a statement: how the screens show it ("in French" where there
//! is room, "FR" where there is not) and the one way every inscription popup lets
//! its user choose it (←→ through the six official languages and none). Which
//! codes are valid is the domain's rule: a chosen code goes to the hub as it is.

use crossterm::event::{KeyCode, KeyEvent};

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

/// The keys that change the language in an inscription popup.
pub const KEYS: &str = "←→";

/// The language after `current` in the cycle none → ar → zh → en → fr → ru → es
/// → none (`forward`), or before it. A code outside the six (from the session
/// file, say) steps to the first or last official language.
pub fn step(current: Option<&str>, forward: bool) -> Option<String> {
    let cycle: Vec<Option<&str>> = std::iter::once(None).chain(OFFICIAL_LANGUAGES.iter().copied().map(Some)).collect();
    let at = cycle.iter().position(|c| *c == current).unwrap_or(0);
    let len = cycle.len();
    let next = if forward { (at + 1) % len } else { (at + len - 1) % len };
    cycle[next].map(str::to_string)
}

/// Apply a key to the language being chosen: ← and → step through the cycle.
/// Returns whether the key was the chooser's (else the popup handles it).
pub fn on_key(language: &mut Option<String>, key: &KeyEvent) -> bool {
    let forward = match key.code {
        KeyCode::Right => true,
        KeyCode::Left => false,
        _ => return false,
    };
    *language = step(language.as_deref(), forward);
    true
}

/// The popup's line for the choice: "language: French (←→ to change)".
pub fn choice_line(language: Option<&str>) -> String {
    let chosen = language.map_or_else(|| "not given".to_string(), language_name);
    format!("language: {chosen} ({KEYS} to change)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    #[test]
    fn the_arrows_cycle_through_the_six_languages_and_none() {
        let mut language = None;
        let mut seen = Vec::new();
        for _ in 0..7 {
            assert!(on_key(&mut language, &KeyEvent::new(KeyCode::Right, KeyModifiers::NONE)));
            seen.push(language.clone().unwrap_or_default());
        }
        assert_eq!(seen, ["ar", "zh", "en", "fr", "ru", "es", ""]);
        assert!(on_key(&mut language, &KeyEvent::new(KeyCode::Left, KeyModifiers::NONE)));
        assert_eq!(language.as_deref(), Some("es"));
        assert!(!on_key(&mut language, &KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)));
        assert_eq!(step(Some("pt"), true).as_deref(), Some("ar"), "another code steps into the cycle");
        assert_eq!(choice_line(Some("fr")), "language: French (←→ to change)");
        assert_eq!(spoken_in("fr"), "in French");
        assert_eq!(short("fr"), "FR");
    }
}
