//! Registering a participant during the session: a small form with the fields of
//! a roster entry. The rules are the hub's (the same as a session file's); the
//! form only keeps choices to the valid values.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::{Constituency, Level, Modality, Participant, ParticipantKind, RegionalGroup, valid_participant_id};

pub const KINDS: [ParticipantKind; 6] = [
    ParticipantKind::MemberState,
    ParticipantKind::ObserverState,
    ParticipantKind::GroupOfStates,
    ParticipantKind::UnEntity,
    ParticipantKind::Igo,
    ParticipantKind::Stakeholder,
];
pub const GROUPS: [RegionalGroup; 5] = [
    RegionalGroup::African,
    RegionalGroup::AsiaPacific,
    RegionalGroup::EasternEuropean,
    RegionalGroup::Grulac,
    RegionalGroup::Weog,
];
pub const CONSTITUENCIES: [Constituency; 10] = [
    Constituency::CivilSociety,
    Constituency::MigrantOrganization,
    Constituency::Diaspora,
    Constituency::Youth,
    Constituency::TradeUnion,
    Constituency::PrivateSector,
    Constituency::LocalAuthority,
    Constituency::Academia,
    Constituency::Nhri,
    Constituency::FaithBased,
];
pub const MODALITIES: [Modality; 2] = [Modality::InRoom, Modality::Remote];
/// A State's level of representation; head of delegation (index 4) unless chosen.
pub const LEVELS: [Level; 6] = [
    Level::HeadOfStateOrGovernment,
    Level::VicePresidentOrCrownPrince,
    Level::Minister,
    Level::ViceMinister,
    Level::HeadOfDelegation,
    Level::Delegate,
];
const HEAD_OF_DELEGATION: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Short,
    Kind,
    Group,
    Level,
    Constituency,
    Modality,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: String,
    pub short: String,
    pub kind: usize,
    pub group: usize,
    pub level: usize,
    pub constituency: usize,
    pub modality: usize,
    pub field: Field,
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Cancelled,
    Submit,
}

impl Registration {
    /// A form for a name typed in the inscription picker (a stakeholder by default:
    /// late registrations are mostly civil society).
    pub fn new(name: &str) -> Self {
        Self {
            name: name.trim().to_string(),
            short: String::new(),
            kind: 5,
            group: 0,
            level: HEAD_OF_DELEGATION,
            constituency: 0,
            modality: 0,
            field: Field::Name,
        }
    }

    pub fn kind(&self) -> ParticipantKind {
        KINDS[self.kind % KINDS.len()]
    }

    /// The fields this kind of participant has, in order.
    pub fn fields(&self) -> Vec<Field> {
        let mut fields = vec![Field::Name, Field::Short, Field::Kind];
        if self.kind().is_state() {
            fields.push(Field::Group);
            fields.push(Field::Level);
        }
        if self.kind() == ParticipantKind::Stakeholder {
            fields.push(Field::Constituency);
        }
        fields.push(Field::Modality);
        fields
    }

    /// The roster entry, with an id made from the name that no one in `taken` has.
    pub fn participant(&self, taken: &dyn Fn(&str) -> bool) -> Participant {
        let base: String = self
            .name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let mut base: String = base.chars().take(56).collect();
        if !valid_participant_id(&base) {
            base = "participant".to_string();
        }
        let mut id = base.clone();
        let mut n = 2;
        while taken(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        let kind = self.kind();
        Participant {
            id,
            name: self.name.trim().to_string(),
            short: Some(self.short.trim().to_string()).filter(|s| !s.is_empty()),
            kind,
            regional_group: kind.is_state().then(|| GROUPS[self.group % GROUPS.len()]),
            region: None,
            constituency: (kind == ParticipantKind::Stakeholder)
                .then(|| CONSTITUENCIES[self.constituency % CONSTITUENCIES.len()]),
            level: kind.is_state().then(|| LEVELS[self.level % LEVELS.len()]),
            modality: MODALITIES[self.modality % MODALITIES.len()],
            recording_secs: None,
            members: Vec::new(),
            names: Default::default(),
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Outcome {
        let fields = self.fields();
        let at = fields.iter().position(|f| *f == self.field).unwrap_or(0);
        let step = |value: &mut usize, len: usize, forward: bool| {
            *value = if forward { (*value + 1) % len } else { (*value + len - 1) % len };
        };
        match key.code {
            KeyCode::Esc => return Outcome::Cancelled,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return Outcome::Cancelled,
            KeyCode::Enter => return Outcome::Submit,
            KeyCode::Up | KeyCode::BackTab => self.field = fields[(at + fields.len() - 1) % fields.len()],
            KeyCode::Down | KeyCode::Tab => self.field = fields[(at + 1) % fields.len()],
            KeyCode::Left | KeyCode::Right => {
                let forward = key.code == KeyCode::Right;
                match self.field {
                    Field::Kind => step(&mut self.kind, KINDS.len(), forward),
                    Field::Group => step(&mut self.group, GROUPS.len(), forward),
                    Field::Level => step(&mut self.level, LEVELS.len(), forward),
                    Field::Constituency => step(&mut self.constituency, CONSTITUENCIES.len(), forward),
                    Field::Modality => step(&mut self.modality, MODALITIES.len(), forward),
                    Field::Name | Field::Short => {}
                }
            }
            KeyCode::Backspace => match self.field {
                Field::Name => {
                    self.name.pop();
                }
                Field::Short => {
                    self.short.pop();
                }
                _ => {}
            },
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => match self.field {
                Field::Name => self.name.push(c),
                Field::Short => self.short.push(c),
                _ => {}
            },
            _ => {}
        }
        Outcome::Open
    }

    /// The form's lines: label, value, and whether it is the field being edited.
    pub fn lines(&self) -> Vec<(String, String, bool)> {
        self.fields()
            .into_iter()
            .map(|f| {
                let (label, value) = match f {
                    Field::Name => ("name", format!("{}{}", self.name, if f == self.field { "█" } else { "" })),
                    Field::Short => ("short name", format!("{}{}", self.short, if f == self.field { "█" } else { "" })),
                    Field::Kind => ("kind", format!("◀ {} ▶", self.kind().label())),
                    Field::Group => ("regional group", format!("◀ {} ▶", GROUPS[self.group % GROUPS.len()].label())),
                    Field::Level => ("level", format!("◀ {} ▶", LEVELS[self.level % LEVELS.len()].label())),
                    Field::Constituency => {
                        let c = CONSTITUENCIES[self.constituency % CONSTITUENCIES.len()];
                        ("constituency", format!("◀ {} ▶", serde_plain(&c)))
                    }
                    Field::Modality => {
                        ("takes part", format!("◀ {} ▶", MODALITIES[self.modality % MODALITIES.len()].label()))
                    }
                };
                (label.to_string(), value, f == self.field)
            })
            .collect()
    }
}

/// An enum's name as the session file writes it ("migrant-organization").
fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
