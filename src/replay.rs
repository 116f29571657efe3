//! Replaying a journal: the state after any number of events, by the same `apply`
//! the live hub used, with checkpoints so that any seek is fast.
//!
//! A journal opened from its file is not held in memory: the player keeps each
//! event's time and kind, reads events again from the file when it shows or folds
//! them, starts from the hub's checkpoint beside the journal when one fits it, and
//! keeps only some of its own checkpoints (see [`Checkpoints`]).

use std::sync::Mutex;

use crate::config;
use crate::domain::{self, Event, EventKind, Session, Timestamp};
use crate::journal::{self, Contents, JournalError, Kind, TornTail};

/// A checkpoint every this many events (computed when first needed, then kept or
/// cached: see [`Checkpoints`]).
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

/// Replace the records a fold added to `mine` (from position `from`) by the same
/// records of the whole recording, shared: folding far does not copy the logs.
fn share<T: PartialEq>(mine: &mut [std::sync::Arc<T>], all: &[std::sync::Arc<T>], from: usize) {
    for (record, shared) in mine.iter_mut().zip(all).skip(from) {
        if !std::sync::Arc::ptr_eq(record, shared) && **record == **shared {
            *record = shared.clone();
        }
    }
}

/// Where the player reads events.
enum Source {
    /// Held in memory (a journal already read whole, e.g. one being followed).
    Held(Vec<Event>),
    /// Read again from the journal's file when shown or folded; `appended` holds
    /// events added since (following a live session).
    File { index: Box<journal::Index>, appended: Vec<Event> },
}

/// Every this many checkpoints one is kept for as long as the player lives; the ones
/// between are kept only while they are among the [`CACHED`] most recently used.
const KEPT_EVERY: usize = 10;
const CACHED: usize = 50;

/// The states every [`CHECKPOINT_EVERY`] events, computed when first needed. Those
/// every `KEPT_EVERY * CHECKPOINT_EVERY` events stay; the others are a small cache of
/// the ones around where the replay has been, so memory follows what is shown and
/// not the length of the journal (a long session's lists make each state large).
struct Checkpoints {
    slots: Vec<Option<Checkpoint>>,
    /// The cached (not kept) slots, least recently used first.
    recent: std::collections::VecDeque<usize>,
}

impl Checkpoints {
    fn new(first: Checkpoint) -> Self {
        Self { slots: vec![Some(first)], recent: std::collections::VecDeque::new() }
    }

    fn put(&mut self, slot: usize, checkpoint: Checkpoint) {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        if self.slots[slot].is_some() {
            return;
        }
        self.slots[slot] = Some(checkpoint);
        if !slot.is_multiple_of(KEPT_EVERY) {
            self.recent.push_back(slot);
            if self.recent.len() > CACHED
                && let Some(old) = self.recent.pop_front()
            {
                self.slots[old] = None;
            }
        }
    }

    /// The nearest checkpoint at or before `slot` (the first always exists).
    fn nearest(&mut self, slot: usize) -> (usize, Option<&Checkpoint>) {
        let found = (0..=slot.min(self.slots.len().saturating_sub(1))).rev().find(|&s| self.slots[s].is_some());
        let found = found.unwrap_or(0);
        if let Some(i) = self.recent.iter().position(|&s| s == found) {
            self.recent.remove(i);
            self.recent.push_back(found);
        }
        (found, self.slots.get(found).and_then(Option::as_ref))
    }
}

/// A loaded journal, ready to show at any position.
///
/// Opened from a file, it keeps no events: only each event's time and kind, and the
/// state every [`CHECKPOINT_EVERY`] events once it has been computed. The state after
/// the last event comes from the hub's checkpoint beside the journal when one fits it
/// (then only the events after it are folded to open); the states before are folded
/// from the journal the first time a seek needs them.
pub struct Player {
    source: Source,
    /// Each event's time and kind, for seeking by time and jumping between turns.
    glances: Vec<(Timestamp, Kind)>,
    /// The state after `i * CHECKPOINT_EVERY` events, for some `i`.
    checkpoints: Mutex<Checkpoints>,
    /// The state after every event (its logs serve every checkpoint).
    last: Session,
    /// False when opened with `--no-verify` (the hash chain was not checked).
    pub verified: bool,
    pub torn: Option<TornTail>,
    /// Whose every entry id is, across the whole recording (an entry leaves its list
    /// when it speaks, so the state at a position may no longer hold it).
    entries: std::collections::HashMap<u64, domain::ParticipantId>,
    /// Why the hub's checkpoint beside the journal was not used, if it was there.
    pub warning: Option<String>,
    /// The seq of the hub's checkpoint the player opened from (0: none).
    pub opened_at: u64,
    /// A line that could not be read again since opening (the file changed).
    problem: Mutex<Option<String>>,
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

fn kind_of(event: &EventKind) -> Kind {
    match event {
        EventKind::FloorGiven { .. } => Kind::FloorGiven,
        EventKind::SegmentOpened { .. } => Kind::SegmentOpened,
        _ => Kind::Other,
    }
}

/// The session file a journal was recorded under.
fn definition(header: &journal::Header) -> Result<domain::SessionDef, String> {
    config::parse_session(&header.config)
        .map_err(|e| format!("the session file in the journal's first line does not read: {e}"))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Player {
    /// Build from a journal's contents (already read).
    pub fn new(contents: Contents, verified: bool) -> Result<Self, String> {
        let mut state = Session::new(definition(&contents.header)?);
        // The speakers the session file inscribes in advance.
        let mut entries: std::collections::HashMap<u64, domain::ParticipantId> =
            state.segments.iter().flat_map(|s| &s.list).map(|e| (e.id, e.participant.clone())).collect();
        let mut checkpoints = Checkpoints::new(Checkpoint::of(&mut state));
        for (i, event) in contents.events.iter().enumerate() {
            note_entry(&mut entries, event);
            domain::apply_quietly(&mut state, event);
            if (i + 1) % CHECKPOINT_EVERY == 0 {
                checkpoints.put((i + 1) / CHECKPOINT_EVERY, Checkpoint::of(&mut state));
            }
        }
        domain::refresh_all_reasons(&mut state);
        let glances = contents.events.iter().map(|e| (e.at, kind_of(&e.event))).collect();
        Ok(Self {
            source: Source::Held(contents.events),
            glances,
            checkpoints: Mutex::new(checkpoints),
            last: state,
            verified,
            torn: contents.torn,
            entries,
            warning: None,
            opened_at: 0,
            problem: Mutex::new(None),
        })
    }

    /// Open a journal file: verified, unless `verify` is false (then damaged lines
    /// are still refused, but the hash chain is not checked).
    ///
    /// The state after the last event is read from the hub's checkpoint beside the
    /// journal (`checkpoint.json`) when it fits the journal, and the events after it
    /// are folded onto it; one that does not fit is ignored with a [`Player::warning`]
    /// and the journal is folded from its start.
    pub fn open(path: &std::path::Path, verify: bool) -> Result<Self, String> {
        Self::open_with(path, verify, false)
    }

    /// Open a journal a hub is still writing (to follow it): the checkpoint is
    /// read before the journal, so that it is never newer than what the index
    /// read (the hub may write one meanwhile).
    pub fn open_live(path: &std::path::Path) -> Result<Self, String> {
        Self::open_with(path, true, true)
    }

    fn open_with(path: &std::path::Path, verify: bool, live: bool) -> Result<Self, String> {
        let shown = path.display();
        let checkpoint_path = path.with_file_name(journal::CHECKPOINT_FILE);
        // The checkpoint's state is read while the journal is checked (first, when live).
        let (index, checkpoint) = if live {
            let checkpoint = journal::load_checkpoint::<Session>(&checkpoint_path);
            (journal::Index::open(path, verify), checkpoint)
        } else {
            std::thread::scope(|scope| {
                let checkpoint = scope.spawn(|| journal::load_checkpoint::<Session>(&checkpoint_path));
                let index = journal::Index::open(path, verify);
                (index, checkpoint.join().unwrap_or_else(|_| Err("it could not be read".to_string())))
            })
        };
        let mut index = index.map_err(|e| match e {
            JournalError::Damaged { line, problem } if verify => format!(
                "{shown}: line {line}: {problem}\nthe journal does not verify; --no-verify replays it anyway, marked unverified"
            ),
            other => format!("{shown}: {other}"),
        })?;
        let def = definition(&index.header)?;
        let ignored = |why: String| {
            format!("{}: ignored, {why}; the journal was replayed from its start", checkpoint_path.display())
        };
        let (base, warning) = match checkpoint {
            Ok(None) => (None, None),
            Ok(Some((cp, state))) => match index.fits(&cp) {
                Ok(()) => (Some((cp.seq, state)), None),
                Err(_) if !index.verified => (None, None),
                Err(why) => (None, Some(ignored(why))),
            },
            Err(why) => (None, Some(ignored(why))),
        };
        let mut state = Session::new(def);
        let mut entries: std::collections::HashMap<u64, domain::ParticipantId> =
            state.segments.iter().flat_map(|s| &s.list).map(|e| (e.id, e.participant.clone())).collect();
        let glances: Vec<(Timestamp, Kind)> = std::mem::take(&mut index.glances)
            .into_iter()
            .map(|g| {
                if let Some((id, participant)) = g.entry {
                    entries.insert(id, participant);
                }
                (g.at, g.kind)
            })
            .collect();
        let n = index.len();
        let mut checkpoints = Checkpoints::new(Checkpoint::of(&mut state));
        let opened_at = match base {
            Some((seq, mut from)) => {
                // The checkpoint's state keeps the session file it was made under.
                from.def = state.def.clone();
                state = from;
                seq
            }
            None => 0,
        };
        // Fold what follows the starting point, keeping the checkpoints on the way.
        let mut at = usize::try_from(opened_at).unwrap_or(n).min(n);
        while at < n {
            let to = (at / CHECKPOINT_EVERY + 1) * CHECKPOINT_EVERY;
            let events = index.read(at, to).map_err(|e| format!("{shown}: {e}"))?;
            for event in &events {
                domain::apply_quietly(&mut state, event);
            }
            at += events.len();
            if at.is_multiple_of(CHECKPOINT_EVERY) {
                checkpoints.put(at / CHECKPOINT_EVERY, Checkpoint::of(&mut state));
            }
        }
        domain::refresh_all_reasons(&mut state);
        let (verified, torn) = (index.verified, index.torn.clone());
        Ok(Self {
            source: Source::File { index: Box::new(index), appended: Vec::new() },
            glances,
            checkpoints: Mutex::new(checkpoints),
            last: state,
            verified,
            torn,
            entries,
            warning,
            opened_at,
            problem: Mutex::new(None),
        })
    }

    pub fn len(&self) -> usize {
        self.glances.len()
    }

    /// Where a follower of the journal goes on from: the byte offset just after its
    /// last complete line and that line's hash, for a journal opened from its file,
    /// verified, and not extended yet.
    pub fn end_of_file(&self) -> Option<(u64, String)> {
        match &self.source {
            Source::File { index, appended } if appended.is_empty() && self.verified => {
                index.head_after(index.len() as u64)
            }
            _ => None,
        }
    }

    /// Add events appended to the journal since it was read (following a live session).
    pub fn extend(&mut self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let checkpoints = self.checkpoints.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        for event in events {
            note_entry(&mut self.entries, &event);
            domain::apply_quietly(&mut self.last, &event);
            self.glances.push((event.at, kind_of(&event.event)));
            match &mut self.source {
                Source::Held(held) => held.push(event),
                Source::File { appended, .. } => appended.push(event),
            }
            if self.glances.len().is_multiple_of(CHECKPOINT_EVERY) {
                checkpoints.put(self.glances.len() / CHECKPOINT_EVERY, Checkpoint::of(&mut self.last));
            }
        }
        domain::refresh_all_reasons(&mut self.last);
    }

    /// The events at positions `from..to` (0-based, clamped). A line of the file that
    /// cannot be read again ends the list early and is kept as [`Player::problem`].
    pub fn events_between(&self, from: usize, to: usize) -> Vec<Event> {
        let to = to.min(self.len());
        if from >= to {
            return Vec::new();
        }
        match &self.source {
            Source::Held(held) => held[from..to].to_vec(),
            Source::File { index, appended } => {
                let mut events = match index.read(from, to) {
                    Ok(events) => events,
                    Err(e) => {
                        *lock(&self.problem) = Some(format!("the journal could not be read again: {e}"));
                        return Vec::new();
                    }
                };
                let file_len = index.len();
                if to > file_len {
                    events.extend(appended[from.max(file_len) - file_len..to - file_len].iter().cloned());
                }
                events
            }
        }
    }

    /// The event at position `index` (0-based).
    pub fn event(&self, index: usize) -> Option<Event> {
        self.events_between(index, index + 1).pop()
    }

    /// The time of the event at position `index` (0-based).
    pub fn time_of(&self, index: usize) -> Option<Timestamp> {
        self.glances.get(index).map(|(at, _)| *at)
    }

    /// Why the journal could not be read again since it was opened (taken once).
    pub fn take_problem(&self) -> Option<String> {
        lock(&self.problem).take()
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
        self.glances.is_empty()
    }

    /// The state after the first `index` events (clamped).
    pub fn state_at(&self, index: usize) -> Session {
        let index = index.min(self.len());
        if index == self.len() {
            return self.last.clone();
        }
        let mut state = self.fold_to(index, true);
        domain::refresh_all_reasons(&mut state);
        state
    }

    /// Compute the next kept checkpoint not yet known (at most `KEPT_EVERY *
    /// CHECKPOINT_EVERY` events folded), so that a seek before the hub's checkpoint
    /// soon costs no more than any other. The screen calls it on each tick; true while
    /// some remain.
    pub fn warm(&self) -> bool {
        let slots = self.len() / CHECKPOINT_EVERY;
        let missing = {
            let checkpoints = lock(&self.checkpoints);
            (0..=slots).step_by(KEPT_EVERY).find(|&s| checkpoints.slots.get(s).is_none_or(Option::is_none))
        };
        match missing {
            Some(slot) if slot * CHECKPOINT_EVERY < self.len() => {
                self.fold_to(slot * CHECKPOINT_EVERY, false);
                lock(&self.problem).is_none()
            }
            _ => false,
        }
    }

    /// The state after `index` events, reasons left stale, from the nearest checkpoint
    /// before it; the checkpoints passed are kept (those between kept ones only when
    /// `cache` is set: a warm-up does not push out what the replay has shown).
    fn fold_to(&self, index: usize, cache: bool) -> Session {
        let block = index / CHECKPOINT_EVERY;
        let mut checkpoints = lock(&self.checkpoints);
        // From the nearest checkpoint before, keeping those passed on the way.
        let (known, nearest) = checkpoints.nearest(block);
        let mut state = match nearest {
            Some(checkpoint) => checkpoint.restore(&self.last),
            None => Session::new(self.last.def.as_ref().clone()),
        };
        let mut at = known * CHECKPOINT_EVERY;
        while at < index {
            let to = ((at / CHECKPOINT_EVERY + 1) * CHECKPOINT_EVERY).min(index);
            let events = self.events_between(at, to);
            let (turns, notes, pledges) = (state.turns.len(), state.notes.len(), state.pledges.len());
            for event in &events {
                domain::apply_quietly(&mut state, event);
            }
            share(&mut state.turns, &self.last.turns, turns.saturating_sub(1));
            share(&mut state.notes, &self.last.notes, notes);
            share(&mut state.pledges, &self.last.pledges, pledges);
            if events.len() < to - at {
                break; // the problem is kept: the state up to what could be read
            }
            at = to;
            let slot = at / CHECKPOINT_EVERY;
            if at.is_multiple_of(CHECKPOINT_EVERY) && (cache || slot.is_multiple_of(KEPT_EVERY)) {
                checkpoints.put(slot, Checkpoint::of(&mut state));
            }
        }
        state
    }

    /// How many events had happened at time `at`.
    pub fn index_at(&self, at: Timestamp) -> usize {
        self.glances.partition_point(|(t, _)| *t <= at)
    }

    /// Time of the session at its beginning and end (first and last event).
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        Some((self.glances.first()?.0, self.glances.last()?.0))
    }

    /// The index just after the next event (after `index` events) of this kind.
    pub fn next_of(&self, index: usize, kind: Kind) -> Option<usize> {
        self.glances.iter().enumerate().skip(index).find(|(_, (_, k))| *k == kind).map(|(i, _)| i + 1)
    }

    /// The index just after the previous event of this kind before the one at `index`.
    pub fn previous_of(&self, index: usize, kind: Kind) -> Option<usize> {
        let upto = index.saturating_sub(1).min(self.len());
        self.glances[..upto].iter().rposition(|(_, k)| *k == kind).map(|i| i + 1)
    }
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
        let first_turn = player.next_of(0, Kind::FloorGiven).expect("a turn");
        assert!(matches!(player.event(first_turn - 1).expect("event").event, EventKind::FloorGiven { .. }));
        let second = player.next_of(first_turn, Kind::FloorGiven).expect("another");
        assert!(second > first_turn);
        assert_eq!(player.previous_of(second, Kind::FloorGiven), Some(first_turn));
        assert_eq!(player.next_of(0, Kind::SegmentOpened), Some(1));
        let (start, end) = player.span().expect("span");
        assert_eq!(player.index_at(start), 1);
        assert_eq!(player.index_at(end), 40);
    }
}
