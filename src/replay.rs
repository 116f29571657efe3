//! Replaying a journal: the state after any number of events, by the same `apply`
//! the live hub used, with checkpoints so that any seek is fast.

use crate::config;
use crate::domain::{self, Event, EventKind, Session, Timestamp};
use crate::journal::{self, Contents, JournalError, TornTail};

/// A checkpoint is kept every this many events.
pub const CHECKPOINT_EVERY: usize = 100;

/// The state after some events, without the logs that only grow (turns, notes,
/// pledges, points of order): those are kept once, in the final state, and a
/// checkpoint only says how many of each it had. Checkpoints stay small.
struct Checkpoint {
    base: Session,
    turns: usize,
    notes: usize,
    pledges: usize,
    points: usize,
}

impl Checkpoint {
    fn of(state: &mut Session) -> Self {
        // Lift the logs out while copying the rest, then put them back.
        let turns = std::mem::take(&mut state.turns);
        let notes = std::mem::take(&mut state.notes);
        let pledges = std::mem::take(&mut state.pledges);
        let points = std::mem::take(&mut state.points_of_order);
        let checkpoint = Self {
            base: state.clone(),
            turns: turns.len(),
            notes: notes.len(),
            pledges: pledges.len(),
            points: points.len(),
        };
        state.turns = turns;
        state.notes = notes;
        state.pledges = pledges;
        state.points_of_order = points;
        checkpoint
    }

    fn restore(&self, all: &Session) -> Session {
        let mut state = self.base.clone();
        state.turns = all.turns[..self.turns.min(all.turns.len())].to_vec();
        state.notes = all.notes[..self.notes.min(all.notes.len())].to_vec();
        state.pledges = all.pledges[..self.pledges.min(all.pledges.len())].to_vec();
        state.points_of_order = all.points_of_order[..self.points.min(all.points_of_order.len())].to_vec();
        state
    }
}

/// A loaded journal, ready to show at any position.
pub struct Player {
    pub events: Vec<Event>,
    /// `checkpoints[i]`: the state after `i * CHECKPOINT_EVERY` events.
    checkpoints: Vec<Checkpoint>,
    /// The state after every event (its logs serve every checkpoint).
    last: Session,
    /// False when opened with `--no-verify` (the hash chain was not checked).
    pub verified: bool,
    pub torn: Option<TornTail>,
    /// Whose every entry id is, across the whole recording (an entry leaves its list
    /// when it speaks, so the state at a position may no longer hold it).
    entries: std::collections::HashMap<u64, domain::ParticipantId>,
}

/// Remember whose entry an event creates.
fn note_entry(entries: &mut std::collections::HashMap<u64, domain::ParticipantId>, event: &Event) {
    if let EventKind::Inscribed { entry, .. }
    | EventKind::ReplyRequested { entry, .. }
    | EventKind::TurnSuspended { entry, .. } = &event.event
    {
        entries.insert(entry.id, entry.participant.clone());
    }
}

impl Player {
    /// Build from a journal's contents (already read).
    pub fn new(contents: Contents, verified: bool) -> Result<Self, String> {
        let def = config::parse_session(&contents.header.config)
            .map_err(|e| format!("the session file in the journal's first line does not read: {e}"))?;
        let mut state = Session::new(def);
        // The speakers the session file inscribes in advance.
        let mut entries: std::collections::HashMap<u64, domain::ParticipantId> =
            state.segments.iter().flat_map(|s| &s.list).map(|e| (e.id, e.participant.clone())).collect();
        let mut checkpoints = vec![Checkpoint::of(&mut state)];
        for (i, event) in contents.events.iter().enumerate() {
            note_entry(&mut entries, event);
            domain::apply_quietly(&mut state, event);
            if (i + 1) % CHECKPOINT_EVERY == 0 {
                checkpoints.push(Checkpoint::of(&mut state));
            }
        }
        domain::refresh_all_reasons(&mut state);
        Ok(Self { events: contents.events, checkpoints, last: state, verified, torn: contents.torn, entries })
    }

    /// Open a journal file: verified, unless `verify` is false (then damaged lines
    /// are still refused, but the hash chain is not checked).
    pub fn open(path: &std::path::Path, verify: bool) -> Result<Self, String> {
        let shown = path.display();
        let contents = if verify {
            journal::read_file(path).map_err(|e| match e {
                JournalError::Damaged { line, problem } => format!(
                    "{shown}: line {line}: {problem}\nthe journal does not verify; --no-verify replays it anyway, marked unverified"
                ),
                other => format!("{shown}: {other}"),
            })?
        } else {
            journal::read_file_unverified(path).map_err(|e| format!("{shown}: {e}"))?
        };
        Self::new(contents, verify)
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Add events appended to the journal since it was read (following a live session).
    pub fn extend(&mut self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        for event in events {
            note_entry(&mut self.entries, &event);
            domain::apply_quietly(&mut self.last, &event);
            self.events.push(event);
            if self.events.len().is_multiple_of(CHECKPOINT_EVERY) {
                self.checkpoints.push(Checkpoint::of(&mut self.last));
            }
        }
        domain::refresh_all_reasons(&mut self.last);
    }

    /// The state after every event: its roster holds every participant ever
    /// registered, so names read the same at every position.
    pub fn roster(&self) -> &Session {
        &self.last
    }

    /// The participant of entry `id`, wherever in the recording it was made.
    pub fn entry_participant(&self, id: u64) -> Option<&str> {
        self.entries.get(&id).map(String::as_str)
    }

    /// The turns of the whole recording so far (for the timeline).
    pub fn all_turns(&self) -> Vec<std::sync::Arc<domain::TurnRecord>> {
        self.last.turns.clone()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The state after the first `index` events (clamped).
    pub fn state_at(&self, index: usize) -> Session {
        let index = index.min(self.events.len());
        if index == self.events.len() {
            return self.last.clone();
        }
        let checkpoint = (index / CHECKPOINT_EVERY).min(self.checkpoints.len() - 1);
        let mut state = self.checkpoints[checkpoint].restore(&self.last);
        for event in &self.events[checkpoint * CHECKPOINT_EVERY..index] {
            domain::apply_quietly(&mut state, event);
        }
        domain::refresh_all_reasons(&mut state);
        state
    }

    /// How many events had happened at time `at`.
    pub fn index_at(&self, at: Timestamp) -> usize {
        self.events.partition_point(|e| e.at <= at)
    }

    /// Time of the session at its beginning and end (first and last event).
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        Some((self.events.first()?.at, self.events.last()?.at))
    }

    /// The index just after the next event (after `index` events) matching `pred`.
    pub fn next_matching(&self, index: usize, pred: impl Fn(&EventKind) -> bool) -> Option<usize> {
        self.events.iter().enumerate().skip(index).find(|(_, e)| pred(&e.event)).map(|(i, _)| i + 1)
    }

    /// The index just after the previous matching event before the one at `index`.
    pub fn previous_matching(&self, index: usize, pred: impl Fn(&EventKind) -> bool) -> Option<usize> {
        let upto = index.saturating_sub(1).min(self.events.len());
        self.events[..upto].iter().rposition(|e| pred(&e.event)).map(|i| i + 1)
    }
}

pub fn is_turn_start(event: &EventKind) -> bool {
    matches!(event, EventKind::FloorGiven { .. })
}

pub fn is_segment_start(event: &EventKind) -> bool {
    matches!(event, EventKind::SegmentOpened { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, Command};
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn events(n: usize) -> Contents {
        let source = include_str!("../tests/data/small.toml");
        let def = config::parse_session(source).expect("valid");
        let mut session = Session::new(def);
        let mut events = Vec::new();
        let t0 = Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("valid");
        let people = ["chile", "peru", "france", "ghana", "holy-see", "iom", "ngo-a", "ngo-b"];
        let chair = Actor::chair("chair");
        let mut step = 0i64;
        let mut give = |session: &mut Session, command: Command, events: &mut Vec<Event>| {
            step += 7;
            if let Ok(new) = domain::decide(session, command, &chair, t0 + chrono::Duration::seconds(step)) {
                for e in &new {
                    domain::apply(session, e);
                }
                events.extend(new);
            }
        };
        give(&mut session, Command::OpenSegment { segment: "general".into() }, &mut events);
        let mut i = 0;
        while events.len() < n {
            let p = people[i % people.len()];
            i += 1;
            give(&mut session, Command::inscribe(p), &mut events);
            if let Some(first) = session.segments[0].list.first().map(|e| e.id) {
                give(&mut session, Command::GiveFloor { entry: first, budget: None }, &mut events);
            }
            if let Some(turn) = session.floor.as_ref().map(|t| t.id) {
                give(&mut session, Command::EndTurn { turn }, &mut events);
            }
        }
        events.truncate(n);
        Contents {
            header: journal::Header {
                format: journal::FORMAT.into(),
                version: journal::VERSION,
                session: "test-session".into(),
                created: t0,
                config: source.into(),
            },
            events,
            last_hash: String::new(),
            header_hash: String::new(),
            valid_len: 0,
            torn: None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20))]
        #[test]
        fn seeking_to_any_event_equals_applying_that_prefix(n in 1usize..2600, seeks in prop::collection::vec(0usize..2700, 1..12)) {
            let contents = events(n);
            let all = contents.events.clone();
            let player = Player::new(contents, true).expect("player");
            let def = player.state_at(0).def.as_ref().clone();
            for index in seeks {
                let index = index.min(all.len());
                let expected = Session::replay(def.clone(), &all[..index]);
                prop_assert_eq!(player.state_at(index), expected);
            }
        }
    }

    #[test]
    fn turn_and_segment_navigation() {
        let player = Player::new(events(40), true).expect("player");
        let first_turn = player.next_matching(0, is_turn_start).expect("a turn");
        assert!(matches!(player.events[first_turn - 1].event, EventKind::FloorGiven { .. }));
        let second = player.next_matching(first_turn, is_turn_start).expect("another");
        assert!(second > first_turn);
        assert_eq!(player.previous_matching(second, is_turn_start), Some(first_turn));
        assert_eq!(player.next_matching(0, is_segment_start), Some(1));
        let (start, end) = player.span().expect("span");
        assert_eq!(player.index_at(start), 1);
        assert_eq!(player.index_at(end), 40);
    }
}
