//! Choosing a participant by typing part of a name: exact names, short names and
//! word prefixes first, then fuzzy matches; who is already on the list is marked.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::{Theme, centered, ellipsize, language, list::offset};
use crate::domain::{Participant, ParticipantKind, Session, StatementKind};

/// What a participant picker is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Inscribe,
    PointOfOrder,
    RightOfReply,
    Pledger,
    /// The group a Member State speaks for (a group of States, or a name typed).
    OnBehalfOf,
}

impl Purpose {
    pub fn title(self) -> &'static str {
        match self {
            Self::Inscribe => "Inscribe a speaker",
            Self::PointOfOrder => "Point of order raised by",
            Self::RightOfReply => "Right of reply for",
            Self::Pledger => "Pledge made by",
            Self::OnBehalfOf => "On behalf of (a group of States, or type its name)",
        }
    }

    fn admits(self, p: &Participant) -> bool {
        match self {
            Self::Inscribe | Self::Pledger => true,
            Self::PointOfOrder => p.kind == ParticipantKind::MemberState,
            Self::RightOfReply => p.kind.is_state(),
            Self::OnBehalfOf => p.kind == ParticipantKind::GroupOfStates,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub purpose: Purpose,
    pub query: String,
    /// Indices into the roster, best match first.
    pub results: Vec<usize>,
    pub selected: usize,
    /// Statement kind chosen with Tab (inscription only); None = the participant's default.
    pub kind: Option<StatementKind>,
    /// The statement's language, chosen with ←→ or typed (inscription only).
    pub language: language::Choice,
    /// The query is exactly the name, short name or id of someone in the roster:
    /// no row offers to register it again.
    pub named: bool,
}

impl Picker {
    /// A picker over `roster`, with a query already typed (empty for a new one).
    pub fn new(purpose: Purpose, roster: &[Participant], query: &str) -> Self {
        let mut picker = Self {
            purpose,
            query: query.to_string(),
            results: Vec::new(),
            selected: 0,
            kind: None,
            language: language::Choice::default(),
            named: false,
        };
        picker.refresh(roster);
        picker
    }

    /// Search again for the query as it now stands.
    fn refresh(&mut self, roster: &[Participant]) {
        self.results = search(roster, &self.query, self.purpose);
        let query = self.query.trim().to_lowercase();
        self.named = roster.iter().any(|p| {
            p.name.to_lowercase() == query
                || p.id == query
                || p.short.as_deref().is_some_and(|s| s.to_lowercase() == query)
        });
        self.selected = 0;
        self.kind = None;
    }

    /// A picker with one participant preselected (the speaker on the floor, say).
    pub fn preselect(mut self, roster: &[Participant], participant: Option<&str>) -> Self {
        if let Some(at) = participant.and_then(|id| self.results.iter().position(|i| roster[*i].id == id)) {
            self.selected = at;
        }
        self
    }

    pub fn chosen<'r>(&self, roster: &'r [Participant]) -> Option<&'r Participant> {
        self.results.get(self.selected).and_then(|i| roster.get(*i))
    }

    /// A last row taking the query as typed: register a new participant (inscription),
    /// or a group not in the roster (on behalf of).
    pub fn offers_typed(&self) -> bool {
        matches!(self.purpose, Purpose::Inscribe | Purpose::OnBehalfOf) && !self.query.trim().is_empty() && !self.named
    }

    fn rows(&self) -> usize {
        self.results.len() + usize::from(self.offers_typed())
    }
}

/// What a key did to a picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Cancelled,
    /// Enter on a participant (roster index), with the kind chosen.
    Chosen(usize),
    /// Enter with nothing matching the query, or on the row that takes the query as typed.
    NoMatch,
}

/// The statement kinds a participant can make, for Tab in the inscription picker.
pub fn kinds_for(kind: ParticipantKind) -> &'static [StatementKind] {
    match kind {
        ParticipantKind::MemberState => &[StatementKind::National, StatementKind::Group],
        ParticipantKind::ObserverState => &[StatementKind::National],
        ParticipantKind::GroupOfStates => &[StatementKind::Group],
        ParticipantKind::UnEntity | ParticipantKind::Igo => &[StatementKind::Organization],
        ParticipantKind::Stakeholder => &[StatementKind::Stakeholder],
    }
}

/// How well a participant matches a query, best first: exact name, short name or
/// id; a name or short name that begins with it; every word of it beginning a word
/// of the name; then fuzzy matching.
fn tier(p: &Participant, query: &str) -> Option<u8> {
    let q = query.trim().to_lowercase();
    let name = p.name.to_lowercase();
    let short = p.short.as_deref().map(str::to_lowercase);
    if name == q || short.as_deref() == Some(q.as_str()) || p.id == q {
        return Some(0);
    }
    if name.starts_with(&q) || short.as_deref().is_some_and(|s| s.starts_with(&q)) {
        return Some(1);
    }
    let words = |text: &str| {
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect::<Vec<_>>()
    };
    let mut haystack = words(&name);
    haystack.extend(short.as_deref().map(words).unwrap_or_default());
    haystack.extend(words(&p.id));
    let query_words = words(&q);
    if !query_words.is_empty() && query_words.iter().all(|w| haystack.iter().any(|h| h.starts_with(w.as_str()))) {
        return Some(2);
    }
    None
}

/// Indices of roster participants matching `query`, best first.
pub fn search(roster: &[Participant], query: &str, purpose: Purpose) -> Vec<usize> {
    let candidates = roster.iter().enumerate().filter(|(_, p)| purpose.admits(p));
    if query.trim().is_empty() {
        return candidates.map(|(i, _)| i).collect();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut scored: Vec<(u8, u32, usize, usize)> = candidates
        .filter_map(|(i, p)| {
            let haystack = format!("{} {} {}", p.name, p.short.as_deref().unwrap_or(""), p.id);
            let fuzzy = pattern.score(Utf32Str::new(&haystack, &mut buf), &mut matcher);
            match (tier(p, query), fuzzy) {
                (Some(t), score) => Some((t, score.unwrap_or(0), p.name.chars().count(), i)),
                (None, Some(score)) => Some((3, score, p.name.chars().count(), i)),
                (None, None) => None,
            }
        })
        .collect();
    // Within the word tiers the shorter name is the closer match ("korea": the
    // Republic of Korea before the Democratic People's Republic of Korea).
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(if a.0 < 3 { a.2.cmp(&b.2) } else { b.1.cmp(&a.1) }).then(a.3.cmp(&b.3)));
    scored.into_iter().map(|(_, _, _, i)| i).collect()
}

/// Apply a key to a picker.
pub fn on_key(picker: &mut Picker, roster: &[Participant], key: KeyEvent) -> Outcome {
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    // The language's keys first: while a code is typed, every key is its own.
    if picker.purpose == Purpose::Inscribe && !ctrl_c && picker.language.on_key(&key) {
        return Outcome::Open;
    }
    match key.code {
        KeyCode::Esc => return Outcome::Cancelled,
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return Outcome::Cancelled,
        KeyCode::Up => picker.selected = picker.selected.saturating_sub(1),
        KeyCode::Down => picker.selected = (picker.selected + 1).min(picker.rows().saturating_sub(1)),
        KeyCode::PageUp => picker.selected = picker.selected.saturating_sub(10),
        KeyCode::PageDown => picker.selected = (picker.selected + 10).min(picker.rows().saturating_sub(1)),
        KeyCode::Tab if picker.purpose == Purpose::Inscribe => {
            if let Some(p) = picker.chosen(roster) {
                let kinds = kinds_for(p.kind);
                let now = picker.kind.unwrap_or(kinds[0]);
                let at = kinds.iter().position(|k| *k == now).unwrap_or(0);
                picker.kind = Some(kinds[(at + 1) % kinds.len()]);
            }
        }
        KeyCode::Backspace => {
            picker.query.pop();
            picker.refresh(roster);
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            picker.query.push(c);
            picker.refresh(roster);
        }
        KeyCode::Enter => {
            return match picker.results.get(picker.selected) {
                Some(i) => Outcome::Chosen(*i),
                None => Outcome::NoMatch,
            };
        }
        _ => {}
    }
    Outcome::Open
}

/// The picker over the screen. `inscribed` tells who is on the open segment's list already.
pub fn render(picker: &Picker, session: &Session, hint: &str, theme: &Theme, frame: &mut Frame) {
    let roster = &session.def.participants;
    let area = centered(frame.area(), 72, frame.area().height.saturating_sub(4).min(18));
    frame.render_widget(Clear, area);
    let block = Block::bordered().title(format!(" {} ", picker.purpose.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let choices = if picker.purpose == Purpose::Inscribe { 2 } else { 1 };
    let [query, results, kind] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(choices)]).areas(inner);
    frame.render_widget(Paragraph::new(format!("> {}█", picker.query)), query);
    let on_list: Vec<&str> = session
        .current_segment
        .and_then(|s| session.segments.get(s))
        .map(|s| s.list.iter().map(|e| e.participant.as_str()).collect())
        .unwrap_or_default();
    let width = usize::from(inner.width);
    let height = results.height as usize;
    let first = offset(picker.selected, height);
    let typed = picker.offers_typed().then(|| match picker.purpose {
        Purpose::OnBehalfOf => format!("+ on behalf of \"{}\" (not in the roster)", picker.query.trim()),
        _ => format!("+ register \"{}\" as a new participant", picker.query.trim()),
    });
    let lines: Vec<Line> = picker
        .results
        .iter()
        .map(Some)
        .chain(typed.iter().map(|_| None))
        .enumerate()
        .skip(first)
        .take(height)
        .filter_map(|(row, i)| {
            let Some(&i) = i else {
                let line = Line::styled(ellipsize(typed.as_deref().unwrap_or(""), width), theme.dim());
                return Some(if row == picker.selected { line.style(theme.selected()) } else { line });
            };
            let p = roster.get(i)?;
            let mark = if picker.purpose == Purpose::Inscribe && on_list.contains(&p.id.as_str()) {
                "  (on the list)"
            } else {
                ""
            };
            let short = match &p.short {
                Some(s) if !p.name.contains(s.as_str()) => format!(" ({s})"),
                _ => String::new(),
            };
            let tail = format!(" · {}{mark}", p.kind.label());
            let name = ellipsize(&format!("{}{short}", p.name), width.saturating_sub(tail.chars().count()));
            let spans = vec![Span::raw(name), Span::styled(tail, theme.dim())];
            let line = Line::from(spans);
            Some(if row == picker.selected { line.style(theme.selected()) } else { line })
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(Paragraph::new(Line::styled(ellipsize(hint, width), theme.dim())), results);
    } else {
        frame.render_widget(Paragraph::new(lines), results);
    }
    if picker.purpose == Purpose::Inscribe {
        let statement = picker.chosen(roster).map(|p| {
            let chosen = picker.kind.unwrap_or_else(|| p.kind.default_statement());
            format!("statement: {} (Tab: other kind)", chosen.label())
        });
        let lines = [statement.unwrap_or_default(), picker.language.line()]
            .map(|text| Line::styled(ellipsize(&text, width), theme.dim()));
        frame.render_widget(Paragraph::new(lines.to_vec()), kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster() -> Vec<Participant> {
        crate::config::parse_session(include_str!("../../../config/imrf-2022-roundtable-1.toml"))
            .expect("the shipped roundtable is valid")
            .participants
    }

    fn first(query: &str) -> String {
        let roster = roster();
        let found = search(&roster, query, Purpose::Inscribe);
        roster[found[0]].name.clone()
    }

    #[test]
    fn exact_short_and_word_prefix_matches_come_before_fuzzy_ones() {
        assert_eq!(first("korea"), "Republic of Korea");
        assert_eq!(first("afr"), "African Group");
        assert_eq!(first("iom"), "International Organization for Migration (IOM)");
        assert_eq!(first("g77"), "Group of 77 and China");
        assert_eq!(first("mexi"), "Mexico");
    }

    #[test]
    fn a_point_of_order_picker_offers_member_states_only() {
        let roster = roster();
        let found = search(&roster, "", Purpose::PointOfOrder);
        assert!(found.iter().all(|i| roster[*i].kind == ParticipantKind::MemberState));
        assert_eq!(found.len(), 193);
    }
}
