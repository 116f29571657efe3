//! What a session file declares: the agenda, the time limits and the roster.
//! These types are the domain's input; `crate::config` builds them from TOML.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// A participant id as written in the session file ("mexico", "african-group").
pub type ParticipantId = String;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParticipantKind {
    MemberState,
    ObserverState,
    GroupOfStates,
    UnEntity,
    Igo,
    Stakeholder,
}

impl ParticipantKind {
    /// States speak in a national capacity and have a level of representation.
    pub fn is_state(self) -> bool {
        matches!(self, Self::MemberState | Self::ObserverState)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::MemberState => "Member State",
            Self::ObserverState => "Observer State",
            Self::GroupOfStates => "group of States",
            Self::UnEntity => "UN entity",
            Self::Igo => "intergovernmental organization",
            Self::Stakeholder => "stakeholder",
        }
    }
    /// The kind of statement a participant of this kind makes by default.
    pub fn default_statement(self) -> StatementKind {
        match self {
            Self::MemberState | Self::ObserverState => StatementKind::National,
            Self::GroupOfStates => StatementKind::Group,
            Self::UnEntity | Self::Igo => StatementKind::Organization,
            Self::Stakeholder => StatementKind::Stakeholder,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegionalGroup {
    African,
    AsiaPacific,
    EasternEuropean,
    Grulac,
    Weog,
}

impl RegionalGroup {
    pub fn label(self) -> &'static str {
        match self {
            Self::African => "African States",
            Self::AsiaPacific => "Asia-Pacific States",
            Self::EasternEuropean => "Eastern European States",
            Self::Grulac => "Latin American and Caribbean States",
            Self::Weog => "Western European and other States",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    Africa,
    Americas,
    ArabStates,
    AsiaPacific,
    Europe,
    Global,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Constituency {
    CivilSociety,
    MigrantOrganization,
    Diaspora,
    Youth,
    TradeUnion,
    PrivateSector,
    LocalAuthority,
    Academia,
    Nhri,
    FaithBased,
}

/// Level of representation of a State delegation, highest first: the derived
/// `Ord` is protocol precedence (a smaller value speaks earlier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    HeadOfStateOrGovernment,
    VicePresidentOrCrownPrince,
    Minister,
    ViceMinister,
    HeadOfDelegation,
    Delegate,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Self::HeadOfStateOrGovernment => "Head of State or Government",
            Self::VicePresidentOrCrownPrince => "Vice-President or Crown Prince",
            Self::Minister => "Minister",
            Self::ViceMinister => "Vice-Minister",
            Self::HeadOfDelegation => "Head of delegation",
            Self::Delegate => "delegate",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Modality {
    InRoom,
    Remote,
    PreRecorded,
}

impl Modality {
    pub fn label(self) -> &'static str {
        match self {
            Self::InRoom => "in room",
            Self::Remote => "remote",
            Self::PreRecorded => "pre-recorded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub name: String,
    /// A short name for narrow columns ("IOM", "G77 and China").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<String>,
    pub kind: ParticipantKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_group: Option<RegionalGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constituency: Option<Constituency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    pub modality: Modality,
    /// Length of a pre-recorded statement, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_secs: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<ParticipantId>,
    /// The name in other languages, by ISO 639-1 code ("fr" → "Pérou"): the room's
    /// pages in that language show it (session file: `name_fr`, `name_ar`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
}

impl Participant {
    /// The name in `language` where the roster gives one, else the roster's name.
    pub fn name_in(&self, language: &str) -> &str {
        self.names.get(language).map_or(self.name.as_str(), String::as_str)
    }
}

/// The six official languages of the United Nations, in the order the UN lists
/// them; the room's pages speak each.
pub const OFFICIAL_LANGUAGES: [&str; 6] = ["ar", "zh", "en", "fr", "ru", "es"];

/// The digits the Arabic pages write numbers with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Numerals {
    /// 0123456789, as most UN documents print them.
    #[default]
    Latn,
    /// ٠١٢٣٤٥٦٧٨٩ (Arabic-Indic digits).
    Arab,
}

impl Numerals {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// The kind of statement an entry on a list will make; it decides the time limit
/// and, under UN protocol, the precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatementKind {
    National,
    Group,
    Organization,
    Stakeholder,
    Reply,
}

impl StatementKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::National => "national statement",
            Self::Group => "on behalf of a group",
            Self::Organization => "organization",
            Self::Stakeholder => "stakeholder intervention",
            Self::Reply => "right of reply",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precedence {
    /// First come, first served.
    Inscription,
    /// Groups of States first, then level of representation, then inscription time;
    /// stakeholders after States or alternating.
    UnProtocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum StakeholderSlots {
    AfterStates,
    /// One stakeholder after every `every` State statements.
    Alternate {
        every: u32,
    },
}

/// Time limits of one segment, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub national: u32,
    pub group: u32,
    pub organization: u32,
    pub stakeholder: u32,
    pub warning: u32,
    pub reply_first: u32,
    pub reply_second: u32,
    pub replies_per_delegation: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            national: 180,
            group: 300,
            organization: 180,
            stakeholder: 120,
            warning: 30,
            reply_first: 600,
            reply_second: 300,
            replies_per_delegation: 2,
        }
    }
}

impl Limits {
    pub fn for_statement(&self, kind: StatementKind) -> u32 {
        match kind {
            StatementKind::National => self.national,
            StatementKind::Group => self.group,
            StatementKind::Organization => self.organization,
            StatementKind::Stakeholder => self.stakeholder,
            StatementKind::Reply => self.reply_first,
        }
    }
}

/// What a speaking-time budget is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BudgetPer {
    RegionalGroup,
    Constituency,
    Kind,
    Participant,
}

/// A total speaking time for each regional group, constituency, kind of
/// participant or participant, over one segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub per: BudgetPer,
    /// Seconds each group (or participant) may speak in the segment.
    pub secs: u32,
    /// Only participants of these kinds draw on it (every kind when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<ParticipantKind>,
    /// Rights of reply count against it too (by default they are excepted).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replies: bool,
}

impl Budget {
    /// What a participant's statements count against: a group, constituency, kind
    /// or the participant itself, as a key and as people name it; none when the
    /// budget does not concern it.
    pub fn key(&self, p: &Participant, statement: StatementKind) -> Option<(String, String)> {
        if !self.kinds.is_empty() && !self.kinds.contains(&p.kind) {
            return None;
        }
        if statement == StatementKind::Reply && !self.replies {
            return None;
        }
        let plain = |v: &dyn erased_label::Label| v.kebab();
        match self.per {
            BudgetPer::RegionalGroup => p.regional_group.map(|g| (plain(&g), g.label().to_string())),
            BudgetPer::Constituency => p.constituency.map(|c| (plain(&c), plain(&c).replace('-', " "))),
            BudgetPer::Kind => Some((plain(&p.kind), p.kind.label().to_string())),
            BudgetPer::Participant => Some((p.id.clone(), p.name.clone())),
        }
    }
}

/// Kebab-case names of the roster's enumerations, as a session file writes them.
mod erased_label {
    pub trait Label {
        fn kebab(&self) -> String;
    }
    impl<T: serde::Serialize> Label for T {
        fn kebab(&self) -> String {
            serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentDef {
    pub id: String,
    pub title: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub precedence: Precedence,
    pub stakeholders: StakeholderSlots,
    pub allow_multiple: bool,
    pub limits: Limits,
    #[serde(default)]
    pub inscribed: Vec<ParticipantId>,
    /// When each of `inscribed` was inscribed (the e-Speakers list's times), one
    /// per entry; the session's start for an entry the file gives no time. Empty
    /// when no entry has a time of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inscribed_at: Vec<DateTime<FixedOffset>>,
    /// The language each of `inscribed` will speak in (ISO 639-1, as the session
    /// file or the e-Speakers list gives it), one per entry; empty when no entry
    /// gives one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inscribed_language: Vec<Option<String>>,
    #[serde(default)]
    pub panelists: Vec<ParticipantId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<Budget>,
}

/// A person the session file names: a chair, a secretariat officer or a
/// rapporteur. Each gets a credential of their own, and what they do is recorded
/// under their name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Unique among the session's people: lowercase letters, digits and `-`
    /// (from the name when the file gives none).
    #[serde(default)]
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The person the hub records the forum's secretariat credential as (its own
/// token, valid in every session the hub serves): no session file may give a
/// person this id.
pub const SECRETARIAT: &str = "secretariat";

/// The id a person gets from their name when the session file gives none:
/// "Amara Diallo-Mensah" → "amara-diallo-mensah".
pub fn person_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').chars().take(64).collect()
}

/// Everything a session file declares, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionDef {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub observers_open: bool,
    /// Who presides (co-chairs allowed).
    pub chairs: Vec<Person>,
    /// Secretariat officers who run the session with the chairs (a chair's rights).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub officers: Vec<Person>,
    /// Rapporteurs who write the notes and pledges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rapporteurs: Vec<Person>,
    pub segments: Vec<SegmentDef>,
    pub participants: Vec<Participant>,
    /// The digits of the room's pages in Arabic.
    #[serde(default, skip_serializing_if = "Numerals::is_default")]
    pub numerals: Numerals,
    /// Participant id → index in `participants`, built on first use.
    #[serde(skip)]
    pub roster: RosterIndex,
}

/// A lookup table derived from the roster. It is not part of the session's
/// content: two definitions are equal whatever their indexes hold.
#[derive(Debug, Clone, Default)]
pub struct RosterIndex {
    by_id: std::sync::OnceLock<HashMap<String, usize>>,
    /// [`SessionDef::pre_inscribed`], asked for every reason shown on a list.
    pre_inscribed: std::sync::OnceLock<u64>,
}

impl PartialEq for RosterIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl SessionDef {
    /// How many entries the file inscribes in advance: they take ids 1 to this.
    pub fn pre_inscribed(&self) -> u64 {
        *self.roster.pre_inscribed.get_or_init(|| {
            let count: usize = self
                .segments
                .iter()
                .map(|s| s.inscribed.iter().filter(|p| self.participant(p).is_some()).count())
                .sum();
            count as u64
        })
    }

    /// Everyone the session file names, with the role their credential gives:
    /// chairs and officers preside, rapporteurs write notes.
    pub fn people(&self) -> impl Iterator<Item = (super::Role, &Person)> {
        let chairs = self.chairs.iter().chain(&self.officers).map(|p| (super::Role::Chair, p));
        chairs.chain(self.rapporteurs.iter().map(|p| (super::Role::Rapporteur, p)))
    }

    /// A person by id, with the role their credential gives.
    pub fn person(&self, id: &str) -> Option<(super::Role, &Person)> {
        self.people().find(|(_, p)| p.id == id)
    }

    pub fn participant(&self, id: &str) -> Option<&Participant> {
        let index = self.roster.by_id.get_or_init(|| {
            let mut map = HashMap::with_capacity(self.participants.len());
            for (i, p) in self.participants.iter().enumerate() {
                map.entry(p.id.clone()).or_insert(i);
            }
            map
        });
        index.get(id).and_then(|i| self.participants.get(*i))
    }

    /// An index by id, for callers that look up many participants.
    pub fn roster_index(&self) -> HashMap<&str, usize> {
        self.participants.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect()
    }
}

/// The 23 objectives of the Global Compact for Migration, short titles, 1-based.
pub const GCM_OBJECTIVES: [&str; 23] = [
    "data",
    "adverse drivers",
    "information",
    "legal identity and documentation",
    "regular pathways",
    "fair recruitment and decent work",
    "reducing vulnerabilities",
    "saving lives, missing migrants",
    "smuggling",
    "trafficking",
    "border management",
    "procedures, screening and referral",
    "detention as last resort",
    "consular protection",
    "basic services",
    "inclusion and social cohesion",
    "non-discrimination and public discourse",
    "skills",
    "diaspora contributions",
    "remittances",
    "return, readmission and reintegration",
    "social protection portability",
    "international cooperation",
];

/// The short title of GCM objective `n` (1 to 23).
pub fn gcm_objective(n: u8) -> Option<&'static str> {
    GCM_OBJECTIVES.get(usize::from(n).checked_sub(1)?).copied()
}

/// Which part of a roster entry a problem is about (a session file points at it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterField {
    Id,
    Name,
    RegionalGroup,
    Constituency,
    Level,
    Modality,
    Recording,
    /// The n-th of `members`.
    Member(usize),
}

/// A participant id: 1 to 64 lowercase letters, digits or '-'.
pub fn valid_participant_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Participant {
    /// Every rule a roster entry breaks, the same for a session file and for a
    /// participant registered during the session. `known` tells whether an id is
    /// in the roster (for `members`).
    pub fn problems(&self, known: &dyn Fn(&str) -> bool) -> Vec<(RosterField, String)> {
        let mut found = Vec::new();
        let id = &self.id;
        if !valid_participant_id(id) {
            found.push((
                RosterField::Id,
                format!("participant id \"{id}\" must be 1 to 64 lowercase letters, digits or '-'"),
            ));
        }
        if self.name.trim().is_empty() {
            found.push((RosterField::Name, format!("participant \"{id}\" needs a `name`")));
        }
        let kind = self.kind;
        match (self.regional_group, kind) {
            (None, ParticipantKind::MemberState) => {
                found.push((RosterField::RegionalGroup, format!("member State \"{id}\" needs a `regional_group`")));
            }
            (Some(_), k) if !k.is_state() => found.push((
                RosterField::RegionalGroup,
                format!("`regional_group` is for States; \"{id}\" is a {}", k.label()),
            )),
            _ => {}
        }
        match (self.constituency, kind) {
            (None, ParticipantKind::Stakeholder) => {
                found.push((RosterField::Constituency, format!("stakeholder \"{id}\" needs a `constituency`")));
            }
            (Some(_), k) if k != ParticipantKind::Stakeholder => found.push((
                RosterField::Constituency,
                format!("`constituency` is for stakeholders; \"{id}\" is a {}", k.label()),
            )),
            _ => {}
        }
        if self.level.is_some() && !kind.is_state() {
            found.push((
                RosterField::Level,
                format!("`level` is for State delegations; \"{id}\" is a {}", kind.label()),
            ));
        }
        match (self.recording_secs, self.modality) {
            (None, Modality::PreRecorded) => {
                found.push((RosterField::Modality, format!("pre-recorded \"{id}\" needs a `recording` length")));
            }
            (Some(_), m) if m != Modality::PreRecorded => {
                found.push((RosterField::Recording, "`recording` goes with `modality = \"pre-recorded\"`".to_string()));
            }
            _ => {}
        }
        if !self.members.is_empty() && kind != ParticipantKind::GroupOfStates {
            found.push((RosterField::Member(0), "`members` is for groups of States".to_string()));
        }
        for (i, m) in self.members.iter().enumerate() {
            if !known(m) {
                found.push((RosterField::Member(i), format!("unknown participant \"{m}\" in `members`")));
            }
        }
        found
    }
}
