//! Given these events, when this command, then these events (or this rejection).

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn def() -> SessionDef {
    crate::config::parse_session(include_str!("../../tests/data/small.toml")).expect("test session file is valid")
}

fn t(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("valid time") + Duration::seconds(secs)
}

fn chair() -> Actor {
    Actor::chair("chair")
}

/// A session driven through `decide` and `apply`, as the hub drives it.
struct World {
    session: Session,
    clock: i64,
    /// Every event recorded, as a journal would hold them.
    events: Vec<Event>,
}

impl World {
    fn new() -> Self {
        Self { session: Session::new(def()), clock: 0, events: Vec::new() }
    }

    /// Advance the clock by `secs`.
    fn wait(&mut self, secs: i64) -> &mut Self {
        self.clock += secs;
        self
    }

    fn now(&self) -> Timestamp {
        t(self.clock)
    }

    fn try_as(&mut self, actor: &Actor, command: Command) -> Result<Vec<EventKind>, Rejection> {
        let before = self.session.clone();
        match decide(&self.session, command, actor, self.now()) {
            Ok(events) => {
                for e in &events {
                    apply(&mut self.session, e);
                }
                self.events.extend(events.iter().cloned());
                Ok(events.into_iter().map(|e| e.event).collect())
            }
            Err(r) => {
                assert_eq!(self.session, before, "a rejected command changes nothing");
                Err(r)
            }
        }
    }

    fn ok(&mut self, command: Command) -> Vec<EventKind> {
        let shown = format!("{command:?}");
        self.try_as(&chair(), command).unwrap_or_else(|r| panic!("{shown} rejected: {}", r.reason))
    }

    fn no(&mut self, command: Command) -> Rejection {
        self.try_as(&chair(), command).expect_err("command should be rejected")
    }

    fn open(&mut self, segment: &str) -> &mut Self {
        self.ok(Command::OpenSegment { segment: segment.into() });
        self
    }

    fn inscribe(&mut self, participant: &str) -> EntryId {
        let events = self.ok(inscribe(participant));
        match events.as_slice() {
            [EventKind::Inscribed { entry, .. }] => entry.id,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn list(&self, segment: usize) -> Vec<&str> {
        self.session.segments[segment].list.iter().map(|e| e.participant.as_str()).collect()
    }

    fn entry_of(&self, segment: usize, participant: &str) -> EntryId {
        self.session.segments[segment]
            .list
            .iter()
            .find(|e| e.participant == participant)
            .map(|e| e.id)
            .expect("participant is on the list")
    }

    fn reason(&self, segment: usize, participant: &str) -> &str {
        let list = &self.session.segments[segment].list;
        &list.iter().find(|e| e.participant == participant).expect("on the list").reason
    }

    fn give(&mut self, participant: &str) -> TurnId {
        let segment = self.session.current_segment.expect("a segment is open");
        let entry = self.entry_of(segment, participant);
        self.ok(Command::GiveFloor { entry, budget: None });
        self.turn()
    }

    fn turn(&self) -> TurnId {
        self.session.floor.as_ref().expect("someone holds the floor").id
    }

    fn reading(&self) -> ClockReading {
        self.session.floor.as_ref().expect("floor").reading(self.now(), 30)
    }
}

fn inscribe(participant: &str) -> Command {
    Command::inscribe(participant)
}

// ---- Speakers list ----

#[test]
fn inscription_order_is_first_come_first_served() {
    let mut w = World::new();
    w.open("dialogue");
    // chile and ngo-a are pre-inscribed by the session file.
    w.wait(5).inscribe("peru");
    w.wait(5).inscribe("iom");
    assert_eq!(w.list(2), ["chile", "ngo-a", "peru", "iom"]);
    assert_eq!(
        w.reason(2, "chile"),
        "before Migrant Forum A: both inscribed in advance; earlier in the session file's list"
    );
    assert_eq!(w.reason(2, "ngo-a"), "before Peru: inscribed in advance, before the meeting");
    assert_eq!(w.reason(2, "iom"), "after Peru: inscribed earlier (at 10:00:05, against 10:00:10)");
    // Two inscriptions in the same second: the hub's order decides, and says so.
    w.inscribe("france");
    assert_eq!(w.reason(2, "france"), "after IOM: inscribed first (both at 10:00:10)");
}

#[test]
fn un_protocol_puts_groups_first_then_level_then_time() {
    let mut w = World::new();
    w.open("general");
    w.wait(1).inscribe("ngo-a");
    w.wait(1).inscribe("iom");
    w.wait(1).inscribe("chile");
    w.wait(1).inscribe("holy-see");
    w.wait(1).inscribe("peru");
    w.wait(1).inscribe("france");
    w.wait(1).inscribe("african-group");
    assert_eq!(w.list(0), ["african-group", "peru", "france", "chile", "holy-see", "iom", "ngo-a"]);
    assert_eq!(w.reason(0, "african-group"), "before Peru: statements on behalf of groups of States come first");
    assert!(w.reason(0, "peru").starts_with("before France: same level (Minister), inscribed earlier"));
    assert_eq!(w.reason(0, "france"), "before Chile: Minister outranks Head of delegation");
    assert_eq!(w.reason(0, "chile"), "before Holy See: Member States speak before observer States");
    assert_eq!(w.reason(0, "holy-see"), "before IOM: States speak before organizations");
    assert_eq!(w.reason(0, "iom"), "before Migrant Forum A: stakeholders speak after States and organizations");
}

#[test]
fn level_given_at_inscription_overrides_the_roster() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    w.ok(Command::Inscribe {
        participant: "chile".into(),
        segment: None,
        kind: None,
        level: Some(Level::HeadOfStateOrGovernment),
        on_behalf_of: None,
        language: None,
    });
    assert_eq!(w.list(0), ["chile", "peru"]);
    assert_eq!(w.reason(0, "chile"), "before Peru: Head of State or Government outranks Minister");
}

#[test]
fn alternating_slots_give_one_stakeholder_after_every_n_state_statements() {
    let mut w = World::new();
    w.open("alternating");
    for p in ["ngo-a", "ngo-b", "chile", "peru", "france", "ghana"] {
        w.wait(1).inscribe(p);
    }
    // every 2: two States, one stakeholder, two States, one stakeholder.
    assert_eq!(w.list(1), ["peru", "france", "ngo-a", "chile", "ghana", "ngo-b"]);
    assert!(w.reason(1, "ngo-a").contains("one stakeholder after every 2 State statements"));
    // Two States speak; a newly inscribed Minister goes after the stakeholder slot that is due.
    let turn = w.give("peru");
    w.ok(Command::EndTurn { turn });
    let turn = w.give("france");
    w.ok(Command::EndTurn { turn });
    assert_eq!(w.session.segments[1].states_since_stakeholder, 2);
    w.ok(Command::Inscribe {
        participant: "fiji".into(),
        segment: None,
        kind: None,
        level: Some(Level::Minister),
        on_behalf_of: None,
        language: None,
    });
    assert_eq!(w.list(1), ["ngo-a", "fiji", "chile", "ngo-b", "ghana"]);
}

#[test]
fn one_entry_per_participant_unless_the_segment_allows_more() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    let r = w.no(inscribe("chile"));
    assert_eq!(r.code, RejectCode::Refused);
    assert_eq!(
        r.reason,
        "not inscribed again: Chile is on the list of \"General debate\" already, at position 1 (one inscription each)"
    );
}

#[test]
fn closed_list_refuses_inscriptions_with_the_reason_until_reopened() {
    let mut w = World::new();
    w.open("general");
    w.ok(Command::CloseList { segment: None });
    let r = w.no(inscribe("chile"));
    assert_eq!(r.reason, "the list of speakers of \"General debate\" is closed: no new inscriptions");
    w.ok(Command::ReopenList { segment: None });
    w.inscribe("chile");
}

#[test]
fn withdraw_removes_the_entry_and_refreshes_neighbours_reasons() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    let chile = w.inscribe("chile");
    w.inscribe("holy-see");
    w.ok(Command::Withdraw { entry: chile });
    assert_eq!(w.list(0), ["peru", "holy-see"]);
    assert_eq!(w.reason(0, "peru"), "before Holy See: Member States speak before observer States");
    let r = w.no(Command::Withdraw { entry: chile });
    assert_eq!(r.code, RejectCode::NotFound);
}

#[test]
fn manual_moves_override_the_policy_and_say_so() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    w.inscribe("chile");
    let holy = w.inscribe("holy-see");
    w.ok(Command::MoveUp { entry: holy });
    assert_eq!(w.list(0), ["peru", "holy-see", "chile"]);
    assert_eq!(w.reason(0, "holy-see"), "moved by the chair to position 2; overrides the policy");
    w.ok(Command::MoveTo { entry: holy, position: 1 });
    assert_eq!(w.list(0), ["holy-see", "peru", "chile"]);
    assert_eq!(w.no(Command::MoveUp { entry: holy }).reason, "Holy See is already at position 1");
    w.ok(Command::MoveDown { entry: holy });
    assert_eq!(w.list(0), ["peru", "holy-see", "chile"]);
    // A new inscription goes where the policy puts it; the moved entry keeps its place.
    w.inscribe("france");
    assert_eq!(w.list(0), ["peru", "holy-see", "france", "chile"]);
    w.ok(Command::Reinstate { entry: holy });
    assert_eq!(w.list(0), ["peru", "france", "chile", "holy-see"]);
}

// ---- Floor and clock ----

#[test]
fn the_floor_goes_to_a_named_entry_and_a_repeated_command_skips_nobody() {
    let mut w = World::new();
    let chile = w.inscribe("chile");
    assert_eq!(
        w.no(Command::GiveFloor { entry: chile, budget: None }).reason,
        "no segment is open yet: open a segment first"
    );
    w.open("general");
    w.inscribe("peru");
    let peru = w.entry_of(0, "peru");
    w.ok(Command::GiveFloor { entry: peru, budget: None });
    // The same command again (a double key press, a stale client) is refused.
    let turn = w.turn();
    let r = w.no(Command::GiveFloor { entry: peru, budget: None });
    assert_eq!(r.reason, "Peru holds the floor: end the turn first");
    w.wait(100).ok(Command::EndTurn { turn });
    let r = w.no(Command::GiveFloor { entry: peru, budget: None });
    assert!(r.reason.contains("is not on any list"), "{}", r.reason);
    assert_eq!(w.list(0), ["chile"], "nobody was skipped");
}

#[test]
fn the_clock_counts_pauses_warns_and_tracks_overrun() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    let turn = w.give("chile");
    w.wait(60);
    assert_eq!(w.reading().used_ms, 60_000);
    w.ok(Command::Pause { turn });
    w.wait(500);
    assert_eq!(w.reading().used_ms, 60_000, "paused time is not counted");
    assert!(!w.reading().running);
    w.ok(Command::Resume { turn });
    w.wait(85); // 145 s used of 180: 35 s left
    assert_eq!(w.reading().phase, ClockPhase::Normal);
    w.wait(10); // 25 s left, under the 30 s warning
    assert_eq!(w.reading().phase, ClockPhase::Warning);
    w.wait(31);
    assert_eq!(w.reading().phase, ClockPhase::Overrun);
    assert_eq!(w.reading().remaining_ms, -6_000);
    let events = w.ok(Command::EndTurn { turn });
    assert_eq!(events, [EventKind::TurnEnded { turn, used_ms: 186_000, overrun_ms: 6_000 }]);
    let record = &w.session.turns[0];
    assert_eq!((record.used_ms, record.overrun_ms, record.allotted_ms), (186_000, 6_000, 180_000));
    assert_eq!(w.no(Command::EndTurn { turn }).reason, "that turn is over: nobody holds the floor");
}

#[test]
fn extend_and_cut_change_the_allotted_time() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    let turn = w.give("chile");
    w.ok(Command::Extend { turn, secs: 60 });
    assert_eq!(w.reading().allotted_ms, 240_000);
    w.ok(Command::Cut { turn, secs: 200 });
    assert_eq!(w.reading().allotted_ms, 40_000);
    w.ok(Command::Cut { turn, secs: 100 });
    assert_eq!(w.reading().allotted_ms, 0);
    assert_eq!(w.no(Command::Extend { turn, secs: 0 }).code, RejectCode::Invalid);
}

#[test]
fn allotted_time_follows_the_kind_of_statement_and_segment() {
    let mut w = World::new();
    w.open("general");
    for p in ["african-group", "chile", "iom", "ngo-a"] {
        w.inscribe(p);
    }
    let allotted: Vec<u32> = w.session.segments[0].list.iter().map(|e| e.allotted).collect();
    assert_eq!(allotted, [300, 180, 180, 120]);
    // The dialogue raises the stakeholder limit to 3 minutes.
    assert_eq!(w.session.segments[2].list[1].allotted, 180);
}

// ---- Points of order ----

#[test]
fn a_point_of_order_stops_the_clock_and_the_speaker_resumes_with_the_time_left() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    w.inscribe("peru");
    let turn = w.give("chile");
    w.wait(50);
    let events = w.ok(Command::RaisePointOfOrder { by: "france".into() });
    let EventKind::PointOfOrderRaised { point } = &events[0] else { panic!("{events:?}") };
    assert_eq!(point.turn, Some(turn));
    let point = point.id;
    w.wait(120);
    assert_eq!(w.reading().used_ms, 50_000, "the speaker's clock is stopped");
    let peru = w.entry_of(0, "peru");
    assert!(w.no(Command::GiveFloor { entry: peru, budget: None }).reason.contains("end the turn first"));
    assert_eq!(w.no(Command::Resume { turn }).reason, "a point of order by France is pending: rule on it first");
    assert!(w.no(Command::RaisePointOfOrder { by: "peru".into() }).reason.contains("pending"));
    w.ok(Command::RulePointOfOrder { point, ruling: "The speaker may continue.".into(), upheld: false });
    w.wait(10);
    assert_eq!(w.reading().used_ms, 60_000, "resumed with the time left");
    assert_eq!(w.session.points_of_order[0].ruling.as_deref(), Some("The speaker may continue."));
    w.ok(Command::EndTurn { turn });
    assert_eq!(w.session.turns[0].points_of_order, 1);
}

#[test]
fn a_point_of_order_raised_during_a_pause_leaves_the_clock_paused() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    let turn = w.give("chile");
    w.wait(10).ok(Command::Pause { turn });
    w.ok(Command::RaisePointOfOrder { by: "france".into() });
    let point = w.session.point_of_order.as_ref().expect("pending").id;
    w.ok(Command::RulePointOfOrder { point, ruling: "Noted.".into(), upheld: true });
    w.wait(30);
    assert_eq!(w.reading().used_ms, 10_000);
    assert!(w.session.floor.as_ref().is_some_and(|t| t.paused));
}

#[test]
fn only_member_states_raise_points_of_order() {
    let mut w = World::new();
    w.open("general");
    let r = w.no(Command::RaisePointOfOrder { by: "ngo-a".into() });
    assert_eq!(r.reason, "Migrant Forum A is not a Member State: only Member States may raise a point of order");
}

// ---- Rights of reply ----

#[test]
fn rights_of_reply_are_two_per_delegation_ten_then_five_minutes_at_the_end() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    w.ok(Command::RequestReply { participant: "chile".into(), segment: None });
    w.ok(Command::RequestReply { participant: "chile".into(), segment: None });
    let r = w.no(Command::RequestReply { participant: "chile".into(), segment: None });
    // Only requested, not yet taken: the refusal says so.
    assert_eq!(r.reason, "Chile has requested its 2 rights of reply in \"General debate\"");
    let replies = &w.session.segments[0].replies;
    assert_eq!(
        replies.iter().map(|e| (e.allotted, e.reply_number)).collect::<Vec<_>>(),
        [(600, Some(1)), (300, Some(2))]
    );
    let first = replies[0].id;
    let r = w.no(Command::GiveFloor { entry: first, budget: None });
    assert_eq!(r.reason, "rights of reply are taken at the end of the segment: 1 speaker remains on the list");
    let turn = w.give("peru");
    w.ok(Command::EndTurn { turn });
    w.ok(Command::GiveFloor { entry: first, budget: None });
    assert_eq!(w.reading().allotted_ms, 600_000);
    let turn = w.turn();
    w.ok(Command::EndTurn { turn });
    assert_eq!(w.session.segments[0].replies_taken.get("chile"), Some(&1));
    let r = w.no(Command::RequestReply { participant: "chile".into(), segment: None });
    assert_eq!(r.reason, "Chile has used 1 and requested 1 of its 2 rights of reply in \"General debate\"");
    let r = w.no(Command::RequestReply { participant: "iom".into(), segment: None });
    assert!(r.reason.contains("rights of reply are for States"));
}

// ---- Hybrid ----

#[test]
fn a_remote_speaker_with_a_technical_issue_cannot_be_given_the_floor_and_is_deferred() {
    let mut w = World::new();
    w.open("general");
    for p in ["ghana", "chile", "holy-see", "iom"] {
        w.inscribe(p);
    }
    assert_eq!(w.list(0), ["ghana", "chile", "holy-see", "iom"]);
    w.ok(Command::SetConnection { participant: "ghana".into(), status: ConnectionStatus::TechnicalIssue, from: None });
    let ghana = w.entry_of(0, "ghana");
    let r = w.no(Command::GiveFloor { entry: ghana, budget: None });
    assert_eq!(r.reason, "Ghana has a technical issue: defer the entry or set its connection status first");
    w.ok(Command::Defer { entry: ghana, places: None, to_end: false });
    assert_eq!(w.list(0), ["chile", "holy-see", "ghana", "iom"]);
    assert_eq!(w.reason(0, "ghana"), "deferred by the chair from position 1");
    w.ok(Command::Defer { entry: ghana, places: None, to_end: true });
    assert_eq!(w.list(0), ["chile", "holy-see", "iom", "ghana"]);
    w.ok(Command::SetConnection { participant: "ghana".into(), status: ConnectionStatus::AudioChecked, from: None });
    w.ok(Command::Reinstate { entry: ghana });
    assert_eq!(w.list(0), ["ghana", "chile", "holy-see", "iom"]);
    w.give("ghana");
}

#[test]
fn connection_status_is_for_remote_participants_only() {
    let mut w = World::new();
    let r =
        w.no(Command::SetConnection { participant: "chile".into(), status: ConnectionStatus::Connected, from: None });
    assert_eq!(r.reason, "Chile takes part in the room: only remote participants have a connection status");
}

#[test]
fn a_pre_recorded_statement_is_a_slot_of_fixed_length() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("fiji");
    let turn = w.give("fiji");
    assert_eq!(w.reading().allotted_ms, 240_000);
    assert_eq!(w.no(Command::Extend { turn, secs: 30 }).reason, "a pre-recorded statement has a fixed length");
}

// ---- Notes and pledges ----

#[test]
fn notes_and_pledges_are_recorded_once_per_client_id() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    let turn = w.give("chile");
    let rapporteur = Actor::rapporteur("Ana");
    let note = Command::AddNote {
        saved_at: None,
        client_id: "n-1".into(),
        turn: Some(turn),
        text: "Calls for regular pathways for care workers.".into(),
        objectives: vec![6, 5, 5],
        themes: vec!["care work".into()],
    };
    let events = w.try_as(&rapporteur, note.clone()).expect("accepted");
    assert_eq!(events.len(), 1);
    assert_eq!(w.session.notes[0].objectives, [5, 6]);
    assert_eq!(w.session.notes[0].author, "Ana");
    assert_eq!(w.try_as(&rapporteur, note).expect("accepted again"), [], "a note sent twice is recorded once");
    let pledge = |objectives: Vec<u8>| Command::AddPledge {
        saved_at: None,
        client_id: "p-1".into(),
        pledger: "chile".into(),
        text: "Chile will open 5,000 seasonal work visas.".into(),
        objectives,
        turn: Some(turn),
    };
    let r = w.try_as(&rapporteur, pledge(vec![24])).expect_err("objective 24");
    assert_eq!(r.reason, "GCM objective 24 does not exist: objectives are 1 to 23");
    assert_eq!(w.try_as(&rapporteur, pledge(vec![])).expect_err("none").code, RejectCode::Invalid);
    w.try_as(&rapporteur, pledge(vec![5])).expect("accepted");
    assert_eq!(w.session.pledges.len(), 1);
    let r = w
        .try_as(
            &rapporteur,
            Command::AddNote {
                saved_at: None,
                client_id: "n-2".into(),
                turn: Some(999),
                text: "x".into(),
                objectives: vec![],
                themes: vec![],
            },
        )
        .expect_err("unknown turn");
    assert_eq!(r.reason, "no turn #999 in this session");
}

#[test]
fn a_client_id_is_recognised_in_a_copy_a_snapshot_read_back_and_after_a_rewind() {
    let mut w = World::new();
    w.open("general");
    let rapporteur = Actor::rapporteur("Ana");
    let note = |id: &str| Command::AddNote {
        saved_at: None,
        client_id: id.into(),
        turn: None,
        text: "text".into(),
        objectives: vec![],
        themes: vec![],
    };
    w.try_as(&rapporteur, note("n-1")).expect("accepted");
    // A pledge whose client id is a note's is the same submission again: nothing recorded.
    let pledge = Command::AddPledge {
        saved_at: None,
        client_id: "n-1".into(),
        pledger: "chile".into(),
        text: "A pledge.".into(),
        objectives: vec![5],
        turn: None,
    };
    assert_eq!(w.try_as(&rapporteur, pledge).expect("accepted"), []);
    // A copy and a state read back from JSON start without the index and still know the id.
    let copy = w.session.clone();
    let json = serde_json::to_string(&w.session).expect("serializes");
    let read: Session = serde_json::from_str(&json).expect("deserializes");
    for state in [&copy, &read] {
        let events = decide(state, note("n-1"), &rapporteur, t(5)).expect("accepted");
        assert!(events.is_empty(), "a repeated client id is recorded once");
        assert_eq!(decide(state, note("n-2"), &rapporteur, t(5)).expect("accepted").len(), 1);
    }
    // Rewound past a note, its id is new again; the earlier one is still known.
    let point = w.session.rewind_point();
    w.try_as(&rapporteur, note("n-3")).expect("accepted");
    assert!(w.session.is_recorded("n-3"));
    w.session.rewind(point);
    assert!(!w.session.is_recorded("n-3"));
    assert!(w.session.is_recorded("n-1"));
    assert_eq!(w.session.notes.len(), 1);
}

// ---- Roles ----

#[test]
fn each_role_may_do_only_its_part() {
    let mut w = World::new();
    w.open("general");
    let peru = w.inscribe("peru");
    let rapporteur = Actor::rapporteur("rapporteur");
    let r = w.try_as(&rapporteur, Command::GiveFloor { entry: peru, budget: None }).expect_err("not a chair");
    assert_eq!(r.code, RejectCode::Forbidden);
    assert_eq!(r.reason, "a rapporteur may not give the floor: only the chair may");
    let observer = Actor::observer("observer");
    let r = w.try_as(&observer, inscribe("chile")).expect_err("observer");
    assert_eq!(r.reason, "an observer may not inscribe a speaker: only the chair or the delegate concerned may");
    let chile = Actor::delegate("chile");
    w.try_as(&chile, inscribe("chile")).expect("a delegate inscribes itself");
    let r = w.try_as(&chile, Command::Withdraw { entry: peru }).expect_err("another delegation's entry");
    assert_eq!(
        r.reason,
        "a delegate may withdraw an entry only for its own delegation: only the chair or the delegate of Peru may do this"
    );
    let r = w.try_as(&chile, inscribe("peru")).expect_err("inscribing another");
    assert_eq!(r.code, RejectCode::Forbidden);
    let r = w.try_as(
        &chile,
        Command::AddNote {
            saved_at: None,
            client_id: "x".into(),
            turn: None,
            text: "x".into(),
            objectives: vec![],
            themes: vec![],
        },
    );
    assert_eq!(
        r.expect_err("delegate note").reason,
        "a delegate may not add a note: only the chair or a rapporteur may"
    );
    w.try_as(&chile, Command::RaisePointOfOrder { by: "chile".into() }).expect("own point of order");
}

#[test]
fn a_delegate_cannot_raise_its_own_precedence_or_clear_the_secretariats_findings() {
    let mut w = World::new();
    w.open("general");
    let chile = Actor::delegate("chile");
    let r = w
        .try_as(
            &chile,
            Command::Inscribe {
                participant: "chile".into(),
                segment: None,
                kind: None,
                level: Some(Level::HeadOfStateOrGovernment),
                on_behalf_of: None,
                language: None,
            },
        )
        .expect_err("level");
    assert_eq!(r.reason, "only the chair may change the level of representation of an inscription");
    let r = w
        .try_as(
            &chile,
            Command::Inscribe {
                participant: "chile".into(),
                segment: None,
                kind: Some(StatementKind::Group),
                level: None,
                on_behalf_of: None,
                language: None,
            },
        )
        .expect_err("kind");
    assert_eq!(r.code, RejectCode::Forbidden);
    let ghana = Actor::delegate("ghana");
    let set = |status| Command::SetConnection { participant: "ghana".into(), status, from: None };
    w.try_as(&ghana, set(ConnectionStatus::Connected)).expect("a delegate says it is connected");
    w.ok(set(ConnectionStatus::TechnicalIssue));
    // A delegate who has fixed its audio says so.
    w.try_as(&ghana, set(ConnectionStatus::Connected)).expect("a delegate clears its own technical issue");
    w.try_as(&ghana, set(ConnectionStatus::TechnicalIssue)).expect("and reports a new one");
    // The audio check is the secretariat's.
    let r = w.try_as(&ghana, set(ConnectionStatus::AudioChecked)).expect_err("audio check");
    assert_eq!(
        r.reason,
        "only the chair may change Ghana from technical issue to audio checked: a delegate reports connected or technical issue"
    );
    w.ok(set(ConnectionStatus::AudioChecked));
    let r = w.try_as(&ghana, set(ConnectionStatus::Connected)).expect_err("cannot undo the audio check");
    assert_eq!(r.code, RejectCode::Forbidden);
}

#[test]
fn a_delegate_may_name_its_default_level_and_speak_on_behalf_of_a_group() {
    let mut w = World::new();
    w.open("general");
    // Chile has no level in the roster: head of delegation is what every inscription gets.
    let chile = Actor::delegate("chile");
    w.try_as(
        &chile,
        Command::Inscribe {
            participant: "chile".into(),
            segment: None,
            kind: None,
            level: Some(Level::HeadOfDelegation),
            on_behalf_of: None,
            language: None,
        },
    )
    .expect("the effective default level is no change");
    // A group statement for a group of the roster the delegation belongs to; another
    // group, or one the roster does not know, is the chair's to give (it comes first).
    let group = |p: &str, g: &str| Command::Inscribe {
        participant: p.into(),
        segment: None,
        kind: Some(StatementKind::Group),
        level: None,
        on_behalf_of: Some(g.into()),
        language: None,
    };
    let r = w.try_as(&Actor::delegate("peru"), group("peru", "Andean Community")).expect_err("not in the roster");
    assert_eq!(r.code, RejectCode::Forbidden);
    let r = w.try_as(&Actor::delegate("peru"), group("peru", "african-group")).expect_err("not a member");
    assert_eq!(
        r.reason,
        "Peru is not a member of African Group in the roster: only the chair may inscribe it for that group"
    );
    let events = w.try_as(&Actor::delegate("ghana"), group("ghana", "african-group")).expect("a member");
    let EventKind::Inscribed { entry, .. } = &events[0] else { panic!("inscribed") };
    assert_eq!(w.session.speaker(entry), "Ghana, on behalf of the African Group");
    // The chair may inscribe a group the roster does not list.
    w.ok(group("peru", "Andean Community"));
}

#[test]
fn a_group_statement_names_a_roster_group_by_id_and_shows_its_name() {
    let mut w = World::new();
    w.open("general");
    let group = w.session.def.participants.iter().find(|p| p.kind == ParticipantKind::GroupOfStates).cloned();
    let group = group.expect("the test roster has a group of States");
    let events = w.ok(Command::Inscribe {
        participant: "ghana".into(),
        segment: None,
        kind: Some(StatementKind::Group),
        level: None,
        on_behalf_of: Some(group.id.clone()),
        language: None,
    });
    let EventKind::Inscribed { entry, .. } = &events[0] else { panic!("inscribed") };
    assert_eq!(entry.on_behalf_of.as_deref(), Some(group.id.as_str()));
    assert_eq!(w.session.speaker(entry), format!("Ghana, on behalf of the {}", group.name));
    // Only a Member State's group statement names a group.
    let r = w.no(Command::Inscribe {
        participant: "peru".into(),
        segment: None,
        kind: None,
        level: None,
        on_behalf_of: Some(group.id.clone()),
        language: None,
    });
    assert_eq!(r.code, RejectCode::Invalid);
}

#[test]
fn time_changes_are_bounded() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    let turn = w.give("chile");
    let r = w.no(Command::Extend { turn, secs: u32::MAX });
    assert_eq!(r.reason, "give a number of seconds from 1 to 3600");
    for _ in 0..30 {
        w.ok(Command::Extend { turn, secs: 3600 });
    }
    assert_eq!(w.reading().allotted_ms, 24 * 3600 * 1000, "at most a day");
    assert!(forecast(&w.session, 0, w.now()).is_some());
}

#[test]
fn a_floor_given_by_mistake_is_undone_only_within_a_minute() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    w.give("chile");
    let seq = w.session.seq;
    w.wait(61);
    let r = w.no(Command::Undo { seq });
    assert_eq!(r.reason, "the turn has run for more than 60 s: end it instead of undoing it");
}

#[test]
fn a_closed_session_refuses_everything() {
    let mut w = World::new();
    w.open("general");
    w.ok(Command::CloseSession);
    let r = w.no(inscribe("chile"));
    assert_eq!(r.reason, "the session was closed at 10:00:00");
    assert_eq!(w.session.segments[0].ended_at, Some(t(0)));
}

#[test]
fn opening_a_segment_ends_the_previous_one() {
    let mut w = World::new();
    w.open("general");
    w.wait(60).open("alternating");
    assert_eq!(w.session.segments[0].ended_at, Some(t(60)));
    assert!(w.no(Command::OpenSegment { segment: "general".into() }).reason.contains("has ended"));
    let r = w.no(Command::Inscribe {
        participant: "chile".into(),
        segment: Some("general".into()),
        kind: None,
        level: None,
        on_behalf_of: None,
        language: None,
    });
    assert_eq!(r.reason, "\"General debate\" has ended");
}

// ---- Undo and forecast ----

#[test]
fn undo_records_a_compensating_event_right_after_the_action() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    let chile = w.inscribe("chile");
    w.inscribe("holy-see");
    let seq = w.session.seq;
    w.ok(Command::Withdraw { entry: chile });
    assert_eq!(w.session.undo.as_ref().map(|u| u.what.as_str()), Some("the withdrawal of Chile"));
    let events = w.ok(Command::Undo { seq: seq + 1 });
    assert!(matches!(events[0], EventKind::Restored { .. }));
    assert_eq!(w.list(0), ["peru", "chile", "holy-see"], "back where it was");

    // A floor given by mistake: the speaker goes back to the list, no turn is recorded.
    let turn = w.give("chile");
    let given = w.session.seq;
    w.wait(5);
    w.ok(Command::Undo { seq: given });
    assert!(w.session.floor.is_none());
    assert!(w.session.turns.is_empty());
    assert_eq!(w.list(0), ["peru", "chile", "holy-see"]);
    let r = w.no(Command::EndTurn { turn });
    assert_eq!(r.code, RejectCode::NotFound);

    // Only right after the action.
    w.inscribe("france");
    let inscribed = w.session.seq;
    w.ok(Command::RequestReply { participant: "peru".into(), segment: None });
    let r = w.no(Command::Undo { seq: inscribed });
    assert_eq!(
        r.reason,
        format!(
            "event #{inscribed} cannot be undone: only the chair's last action on the lists, the floor, a segment, the session or a connection status, right after it"
        )
    );
}

#[test]
fn the_forecast_adds_the_time_left_and_every_allotted_time() {
    let mut w = World::new();
    w.open("general"); // scheduled 10:00 to 11:00
    for p in ["african-group", "peru", "chile", "iom", "ngo-a"] {
        w.inscribe(p);
    }
    // 5 + 3 + 3 + 3 + 2 = 16 minutes of statements.
    let f = forecast(&w.session, 0, w.now()).expect("forecast");
    assert_eq!((f.fit, f.total), (5, 5));
    assert_eq!(f.ends_at, t(16 * 60));
    assert_eq!(f.late_ms, -44 * 60 * 1000);
    // 50 minutes later, a 5-minute turn has 2 minutes left: 2 + 11 = 13 minutes, 3 past schedule.
    w.wait(47 * 60);
    w.give("african-group");
    w.wait(3 * 60);
    let f = forecast(&w.session, 0, w.now()).expect("forecast");
    assert_eq!(f.ends_at, t(63 * 60));
    assert_eq!(f.late_ms, 3 * 60 * 1000);
    assert_eq!((f.fit, f.total), (2, 4), "52+3, 55+3 fit by 60; iom would end at 61");
}

// ---- Properties ----

const PEOPLE: [&str; 10] =
    ["chile", "peru", "france", "ghana", "fiji", "african-group", "holy-see", "iom", "ngo-a", "ngo-b"];
const SEGMENTS: [&str; 3] = ["general", "alternating", "dialogue"];

fn arb_command() -> impl Strategy<Value = Command> {
    let who = prop::sample::select(PEOPLE.to_vec()).prop_map(String::from);
    let segment = prop::sample::select(SEGMENTS.to_vec()).prop_map(String::from);
    let id = 1u64..40;
    prop_oneof![
           1 => segment.clone().prop_map(|segment| Command::OpenSegment { segment }),
           4 => who.clone().prop_map(|p| inscribe(&p)),
           1 => id.clone().prop_map(|entry| Command::Withdraw { entry }),
           1 => id.clone().prop_map(|entry| Command::MoveUp { entry }),
           1 => (id.clone(), 1usize..8).prop_map(|(entry, position)| Command::MoveTo { entry, position }),
           1 => (id.clone(), any::<bool>()).prop_map(|(entry, to_end)| Command::Defer { entry, places: None, to_end }),
           1 => id.clone().prop_map(|entry| Command::Reinstate { entry }),
           1 => Just(Command::CloseList { segment: None }),
           1 => Just(Command::ReopenList { segment: None }),
           4 => id.clone().prop_map(|entry| Command::GiveFloor { entry, budget: None }),
           3 => id.clone().prop_map(|turn| Command::EndTurn { turn }),
           1 => id.clone().prop_map(|turn| Command::Pause { turn }),
           1 => id.clone().prop_map(|turn| Command::Resume { turn }),
           1 => (id.clone(), 1u32..120).prop_map(|(turn, secs)| Command::Extend { turn, secs }),
           1 => who.clone().prop_map(|by| Command::RaisePointOfOrder { by }),
           1 => id.clone().prop_map(|point| Command::RulePointOfOrder { point, ruling: "ruled".into(), upheld: true }),
           1 => who.clone().prop_map(|participant| Command::RequestReply { participant, segment: None }),
           1 => who.clone().prop_map(|participant| Command::SetConnection {
               from: None,
               participant,
               status: ConnectionStatus::TechnicalIssue
           }),
           1 => (0u8..4, prop::option::of(id)).prop_map(|(n, turn)| Command::AddNote {
    saved_at: None,
               client_id: format!("c{n}"),
               turn,
               text: "note".into(),
               objectives: vec![n + 1],
               themes: vec![],
           }),
       ]
}

/// Run commands (each after `gap` seconds) and collect every event decided.
fn run(commands: &[(Command, i64)]) -> (Session, Vec<Event>) {
    let mut session = Session::new(def());
    let mut events = Vec::new();
    let mut clock = 0;
    for (command, gap) in commands {
        clock += gap;
        let before = session.clone();
        match decide(&session, command.clone(), &chair(), t(clock)) {
            Ok(new) => {
                for e in &new {
                    apply(&mut session, e);
                }
                events.extend(new);
            }
            Err(_) => assert_eq!(session, before),
        }
    }
    (session, events)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn replaying_all_events_equals_applying_them_one_by_one(
        commands in prop::collection::vec((arb_command(), 0i64..200), 1..60)
    ) {
        let (live, events) = run(&commands);
        let replayed = Session::replay(def(), &events);
        prop_assert_eq!(&replayed, &live);
        // Events are numbered without gaps.
        for (i, e) in events.iter().enumerate() {
            prop_assert_eq!(e.seq, i as u64 + 1);
        }
    }

    #[test]
    fn a_snapshot_plus_the_remaining_events_equals_a_full_replay(
        commands in prop::collection::vec((arb_command(), 0i64..200), 1..40)
    ) {
        let (live, events) = run(&commands);
        for split in 0..=events.len() {
            let head = Session::replay(def(), &events[..split]);
            let json = serde_json::to_string(&head).expect("serializes");
            let mut restored: Session = serde_json::from_str(&json).expect("deserializes");
            prop_assert_eq!(&restored, &head);
            for e in &events[split..] {
                apply(&mut restored, e);
            }
            prop_assert_eq!(&restored, &live);
        }
    }

    #[test]
    fn rewinding_returns_to_the_state_before_the_events(
        head in prop::collection::vec((arb_command(), 0i64..200), 0..30),
        tail in prop::collection::vec((arb_command(), 0i64..200), 1..30),
    ) {
        let (mut session, _) = run(&head);
        let before = session.clone();
        let point = session.rewind_point();
        let mut clock = 100_000;
        for (command, gap) in tail {
            clock += gap;
            if let Ok(new) = decide(&session, command, &chair(), t(clock)) {
                for e in &new {
                    apply(&mut session, e);
                }
            }
        }
        session.rewind(point);
        prop_assert_eq!(&session, &before);
    }

    #[test]
    fn a_rejected_command_changes_nothing(
        commands in prop::collection::vec((arb_command(), 0i64..200), 1..40),
        last in arb_command(),
    ) {
        let (session, _) = run(&commands);
        let before = serde_json::to_string(&session).expect("serializes");
        if decide(&session, last, &Actor::observer("o"), t(10_000)).is_ok() {
            prop_assert!(false, "an observer's command was accepted");
        }
        prop_assert_eq!(serde_json::to_string(&session).expect("serializes"), before);
    }
}

#[test]
fn opening_a_segment_is_undone_with_the_previous_lists_as_they_were() {
    // Given the general debate with two speakers and a right of reply waiting
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    w.inscribe("chile");
    w.ok(Command::RequestReply { participant: "france".into(), segment: None });
    // When the chair opens the next segment by mistake, then undoes it
    w.wait(3).open("alternating");
    assert_eq!(w.session.current_segment, Some(1));
    assert!(w.session.segments[0].ended_at.is_some());
    let opened = w.session.seq;
    let events = w.ok(Command::Undo { seq: opened });
    // Then the general debate is open again with its lists, and the other is not open
    assert!(matches!(events[0], EventKind::SegmentOpenUndone { segment: 1, previous: Some(0) }));
    assert_eq!(w.session.current_segment, Some(0));
    assert_eq!(w.session.segments[0].ended_at, None);
    assert_eq!(w.session.segments[1].opened_at, None);
    assert_eq!(w.list(0), ["peru", "chile"]);
    assert_eq!(w.session.segments[0].replies.len(), 1);
    // And the segment can be opened later for real.
    w.open("alternating");
    assert_eq!(w.session.current_segment, Some(1));
}

#[test]
fn closing_the_session_is_undone_right_after() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    w.ok(Command::CloseSession);
    let closed = w.session.seq;
    assert_eq!(w.no(inscribe("chile")).code, RejectCode::Refused);
    w.ok(Command::Undo { seq: closed });
    assert_eq!(w.session.closed_at, None);
    assert_eq!(w.session.segments[0].ended_at, None);
    w.inscribe("chile");
    assert_eq!(w.list(0), ["peru", "chile"]);
}

#[test]
fn a_turn_ended_by_mistake_comes_back_with_its_time_used_and_no_record() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    let turn = w.give("peru");
    w.wait(40);
    w.ok(Command::EndTurn { turn });
    assert_eq!(w.session.turns.len(), 1);
    let ended = w.session.seq;
    // Ten seconds pass before the undo: they are not charged to the speaker.
    w.wait(10);
    w.ok(Command::Undo { seq: ended });
    assert_eq!(w.turn(), turn);
    assert!(w.session.turns.is_empty(), "the record of the ended turn is gone");
    assert_eq!(w.reading().used_ms, 40_000);
    w.wait(5);
    assert_eq!(w.reading().used_ms, 45_000);
    // And the turn ends normally afterwards, recorded once.
    w.ok(Command::EndTurn { turn });
    assert_eq!(w.session.turns.len(), 1);
    assert_eq!(w.session.turns[0].used_ms, 45_000);
}

#[test]
fn next_ends_the_turn_and_gives_the_floor_to_the_next_who_can_be_heard() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    w.inscribe("ghana");
    w.inscribe("chile");
    let turn = w.give("peru");
    w.ok(Command::SetConnection {
        participant: "ghana".into(),
        status: ConnectionStatus::TechnicalIssue,
        from: Some(ConnectionStatus::Unknown),
    });
    // Ghana cannot be heard: the next who may speak is Chile.
    let next = next_up(&w.session).expect("someone may speak");
    assert_eq!(next.entry.participant, "chile");
    assert_eq!(next.skipped.iter().map(|e| e.participant.as_str()).collect::<Vec<_>>(), ["ghana"]);
    let ghana = w.entry_of(0, "ghana");
    let chile = w.entry_of(0, "chile");
    // Naming anyone else is refused, and changes nothing.
    let r = w.no(Command::Next { turn: Some(turn), entry: ghana, budget: None });
    assert!(r.reason.starts_with("the next speaker who may have the floor is now Chile"), "{}", r.reason);
    w.wait(30);
    let events = w.ok(Command::Next { turn: Some(turn), entry: chile, budget: None });
    assert!(matches!(events[0], EventKind::TurnEnded { used_ms: 30_000, .. }));
    assert!(matches!(&events[1], EventKind::FloorGiven { turn } if turn.entry.participant == "chile"));
    assert_eq!(w.list(0), ["ghana"]);
    // Without a turn while someone holds the floor: refused.
    assert_eq!(w.no(Command::Next { turn: None, entry: ghana, budget: None }).code, RejectCode::Refused);
}

#[test]
fn a_connection_status_change_from_a_stale_status_is_refused() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("ghana");
    let set = |status, from| Command::SetConnection { participant: "ghana".into(), status, from: Some(from) };
    w.ok(set(ConnectionStatus::Connected, ConnectionStatus::Unknown));
    // The same press again, sent from the old view: refused with the status it has now.
    let r = w.no(set(ConnectionStatus::Connected, ConnectionStatus::Unknown));
    assert_eq!(r.reason, "Ghana is now marked connected, not unknown: nothing changed");
    w.ok(set(ConnectionStatus::TechnicalIssue, ConnectionStatus::Connected));
}

/// Given Peru on the floor 40 s into its 3 minutes, with Chile and Holy See waiting.
fn peru_speaking() -> (World, TurnId) {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    w.inscribe("chile");
    w.inscribe("holy-see");
    let turn = w.give("peru");
    w.wait(40);
    (w, turn)
}

#[test]
fn a_suspended_statement_resumes_with_the_time_left_and_is_recorded_in_two_parts() {
    let (mut w, turn) = peru_speaking();
    // When the chair interrupts it (connection lost)
    let events = w.ok(Command::SuspendTurn { turn, places: None });
    assert!(matches!(&events[0], EventKind::TurnSuspended { used_ms: 40_000, .. }));
    // Then no one holds the floor, Peru is first again with 2:20 left, and says why
    assert!(w.session.floor.is_none());
    assert_eq!(w.list(0), ["peru", "chile", "holy-see"]);
    let entry = &w.session.segments[0].list[0];
    assert_eq!(entry.allotted, 140);
    assert!(entry.reason.starts_with("statement interrupted (connection lost)"), "{}", entry.reason);
    assert_eq!(w.session.turns.len(), 1);
    assert!(w.session.turns[0].suspended);
    // When Peru is given the floor again, it continues with 2:20
    w.wait(60);
    let second = w.give("peru");
    assert_eq!(w.reading().remaining_ms, 140_000);
    w.wait(150);
    w.ok(Command::EndTurn { turn: second });
    // Then the record holds two parts of one statement: 40 s and 150 s, 10 s over the original 3:00
    let parts: Vec<_> = w.session.turns.iter().map(|t| (t.used_ms, t.part_of, t.suspended)).collect();
    assert_eq!(parts, [(40_000, None, true), (150_000, Some(turn), false)]);
    assert_eq!(w.session.turns[1].overrun_ms, 10_000);
}

#[test]
fn a_statement_suspended_twice_keeps_its_first_part_and_original_allotment() {
    let (mut w, turn) = peru_speaking();
    w.ok(Command::SuspendTurn { turn, places: Some(1) });
    assert_eq!(w.list(0), ["chile", "peru", "holy-see"], "deferred one place");
    w.wait(5);
    let second = w.give("peru");
    w.wait(20);
    w.ok(Command::SuspendTurn { turn: second, places: None });
    let entry = &w.session.segments[0].list[0];
    let resumes = entry.resumes.as_ref().expect("continues a statement");
    assert_eq!((resumes.first_turn, resumes.parts, resumes.used_ms, resumes.original_ms), (turn, 2, 60_000, 180_000));
    assert_eq!(entry.allotted, 120);
}

#[test]
fn a_suspended_speaker_may_withdraw() {
    let (mut w, turn) = peru_speaking();
    w.ok(Command::SuspendTurn { turn, places: None });
    let peru = w.entry_of(0, "peru");
    w.ok(Command::Withdraw { entry: peru });
    assert_eq!(w.list(0), ["chile", "holy-see"]);
    assert_eq!(w.session.turns.len(), 1, "the part delivered stays in the record");
}

#[test]
fn a_statement_is_not_suspended_while_a_point_of_order_is_pending() {
    let (mut w, turn) = peru_speaking();
    w.ok(Command::RaisePointOfOrder { by: "france".into() });
    let r = w.no(Command::SuspendTurn { turn, places: None });
    assert_eq!(r.code, RejectCode::Refused);
    assert_eq!(r.reason, "a point of order by France is pending: rule on it before interrupting the statement");
}

#[test]
fn undoing_a_suspension_gives_the_floor_back_with_the_time_used() {
    let (mut w, turn) = peru_speaking();
    w.ok(Command::SuspendTurn { turn, places: None });
    let suspended = w.session.seq;
    w.wait(7);
    w.ok(Command::Undo { seq: suspended });
    assert_eq!(w.turn(), turn);
    assert_eq!(w.reading().used_ms, 40_000);
    assert_eq!(w.list(0), ["chile", "holy-see"]);
    assert!(w.session.turns.is_empty());
}

#[test]
fn marking_the_speaker_on_the_floor_technical_issue_interrupts_the_statement() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("ghana");
    w.inscribe("chile");
    let turn = w.give("ghana");
    w.wait(30);
    let events = w.ok(Command::SetConnection {
        participant: "ghana".into(),
        status: ConnectionStatus::TechnicalIssue,
        from: None,
    });
    assert!(
        matches!(events.as_slice(), [EventKind::ConnectionSet { .. }, EventKind::TurnSuspended { turn: t, .. }] if *t == turn)
    );
    assert_eq!(w.list(0), ["ghana", "chile"]);
    // Ghana cannot be given the floor until its connection is back; Chile is next.
    assert_eq!(next_up(&w.session).map(|n| n.entry.participant.as_str()), Some("chile"));
}

fn late(id: &str, name: &str, kind: ParticipantKind) -> Participant {
    Participant {
        id: id.into(),
        name: name.into(),
        short: None,
        kind,
        regional_group: None,
        region: None,
        constituency: None,
        level: None,
        modality: Modality::InRoom,
        recording_secs: None,
        members: Vec::new(),
        names: Default::default(),
    }
}

#[test]
fn a_participant_registered_during_the_session_can_be_inscribed_and_replays() {
    let mut w = World::new();
    w.open("general");
    // Given a registration with a rule broken, it is refused with the file's wording
    let r = w.no(Command::RegisterParticipant { participant: late("sica", "SICA", ParticipantKind::Stakeholder) });
    assert_eq!((r.code, r.reason.as_str()), (RejectCode::Invalid, "stakeholder \"sica\" needs a `constituency`"));
    let r = w.no(Command::RegisterParticipant { participant: late("peru", "Peru again", ParticipantKind::Igo) });
    assert_eq!(r.reason, "\"peru\" is already in the roster, as Peru");
    // When it is registered properly
    let mut sica = late("sica", "Central American Integration System", ParticipantKind::Igo);
    sica.short = Some("SICA".into());
    w.ok(Command::RegisterParticipant { participant: sica.clone() });
    // Then it is in the roster, can be inscribed, and a replay of the journal has it too
    assert_eq!(w.session.def.participant("sica"), Some(&sica));
    w.inscribe("sica");
    assert_eq!(w.list(0), ["sica"]);
    let replayed = Session::replay(def(), &w.events);
    assert_eq!(replayed, w.session);
    assert_eq!(replayed.def.participant("sica").map(|p| p.name.as_str()), Some("Central American Integration System"));
    // The same name again, under another id: refused, naming the one in the roster.
    let again = late("sica-2", "central american integration system", ParticipantKind::Igo);
    let r = w.no(Command::RegisterParticipant { participant: again });
    assert_eq!(
        (r.code, r.reason.as_str()),
        (RejectCode::Refused, "Central American Integration System is already in the roster (as \"sica\")")
    );
}

/// The test session with budgets on the general debate: each regional group 5:00,
/// each delegation 4:00 (rights of reply excepted).
fn budgeted() -> World {
    let mut d = def();
    d.segments[0].budgets = vec![
        Budget { per: BudgetPer::RegionalGroup, secs: 300, kinds: Vec::new(), replies: false },
        Budget { per: BudgetPer::Participant, secs: 240, kinds: vec![ParticipantKind::MemberState], replies: false },
    ];
    World { session: Session::new(d), clock: 0, events: Vec::new() }
}

#[test]
fn a_statement_that_would_exceed_a_budget_needs_the_chairs_decision() {
    let mut w = budgeted();
    w.open("general");
    w.inscribe("peru");
    w.inscribe("chile");
    // Peru (GRULAC) speaks 3:30 of its 3:00 (extended).
    let turn = w.give("peru");
    w.ok(Command::Extend { turn, secs: 60 });
    w.wait(210);
    w.ok(Command::EndTurn { turn });
    let chile = w.entry_of(0, "chile");
    let left = budgets_left(&w.session, 0, "chile", StatementKind::National, 0);
    assert_eq!(
        left.iter().map(|b| (b.name.as_str(), b.left_ms)).collect::<Vec<_>>(),
        [("Latin American and Caribbean States", 90_000), ("Chile", 240_000)]
    );
    // Chile's 3:00 does not fit the 1:30 left to GRULAC: refused, with what to decide.
    let r = w.no(Command::GiveFloor { entry: chile, budget: None });
    assert_eq!(
        r.reason,
        "Chile has 1:30 left of the Latin American and Caribbean States budget (5:00 in this segment) for a 3:00 statement: give the floor with the time left, or the full time with a reason"
    );
    // The chair gives the time left: 1:30, and the record says so.
    let events = w.ok(Command::GiveFloor { entry: chile, budget: Some(BudgetChoice::TimeLeft) });
    let EventKind::FloorGiven { turn } = &events[0] else { panic!("floor") };
    assert_eq!((turn.allotted_ms, turn.budget.clone()), (90_000, Some(BudgetChoice::TimeLeft)));
    w.wait(90);
    let id = w.turn();
    w.ok(Command::EndTurn { turn: id });
    assert_eq!(w.session.spoken_ms.get("chile"), Some(&90_000));
    assert_eq!(w.session.spoken_ms.get("peru"), Some(&210_000));
    // Used up: the time left is no choice any more; the full time needs a reason, recorded.
    w.inscribe("peru");
    let peru = w.entry_of(0, "peru");
    let r = w.no(Command::GiveFloor { entry: peru, budget: Some(BudgetChoice::TimeLeft) });
    assert!(r.reason.starts_with("the Latin American and Caribbean States budget is used up"), "{}", r.reason);
    let r = w.no(Command::GiveFloor { entry: peru, budget: Some(BudgetChoice::FullTime { reason: " ".into() }) });
    assert_eq!(r.code, RejectCode::Invalid);
    let reason = "the region has had no other speaker";
    let events =
        w.ok(Command::GiveFloor { entry: peru, budget: Some(BudgetChoice::FullTime { reason: reason.into() }) });
    let EventKind::FloorGiven { turn } = &events[0] else { panic!("floor") };
    assert_eq!(turn.allotted_ms, 180_000);
    assert_eq!(turn.budget, Some(BudgetChoice::FullTime { reason: reason.into() }));
}

#[test]
fn budgets_count_what_was_used_and_an_undo_takes_it_back() {
    let mut w = budgeted();
    w.open("general");
    w.inscribe("ghana");
    w.ok(Command::RequestReply { participant: "ghana".into(), segment: None });
    let turn = w.give("ghana");
    w.wait(100);
    w.ok(Command::EndTurn { turn });
    let ended = w.session.seq;
    assert_eq!(w.session.segments[0].budget_used.get("0/african"), Some(&100_000));
    w.ok(Command::Undo { seq: ended });
    assert_eq!(w.session.segments[0].budget_used.get("0/african"), Some(&0));
    assert_eq!(w.session.spoken_ms.get("ghana"), Some(&0));
    w.wait(20);
    w.ok(Command::EndTurn { turn });
    // A right of reply is excepted.
    let reply = w.session.segments[0].replies[0].id;
    w.ok(Command::GiveFloor { entry: reply, budget: None });
    w.wait(50);
    let id = w.turn();
    w.ok(Command::EndTurn { turn: id });
    assert_eq!(w.session.segments[0].budget_used.get("0/african"), Some(&120_000));
    assert_eq!(w.session.spoken_ms.get("ghana"), Some(&170_000), "the session total counts every statement");
}

#[test]
fn undoing_next_puts_both_turns_back_and_an_undo_is_not_undone_again() {
    let (mut w, peru) = peru_speaking();
    let chile = w.entry_of(0, "chile");
    w.ok(Command::Next { turn: Some(peru), entry: chile, budget: None });
    let next = w.session.seq;
    assert!(w.session.undo.as_ref().is_some_and(|u| u.what == "\"next\" (the floor back to Peru)"));
    w.wait(5);
    w.ok(Command::Undo { seq: next });
    // Peru holds the floor again with its 40 s, Chile is back first, no turn recorded.
    assert_eq!(w.turn(), peru);
    assert_eq!(w.reading().used_ms, 40_000);
    assert_eq!(w.list(0), ["chile", "holy-see"]);
    assert!(w.session.turns.is_empty());
    assert_eq!(w.session.spoken_ms.get("peru").copied().unwrap_or(0), 0);
    // The undo itself offers nothing to undo: pressing u again does not redo.
    assert_eq!(w.session.undo, None);
    let inscribed = {
        w.inscribe("france");
        w.session.seq
    };
    w.ok(Command::Undo { seq: inscribed });
    assert_eq!(w.session.undo, None, "undoing an inscription offers no 'undo the withdrawal'");
}

/// docs/protocol.md "How a list is ordered": organizations stay after the States
/// and open no stakeholder slot; stakeholders still waiting go last.
#[test]
fn under_alternate_organizations_follow_the_states_and_open_no_slot() {
    let mut w = World::new();
    w.open("alternating");
    for p in ["iom", "ngo-a", "ngo-b", "chile", "peru"] {
        w.wait(1).inscribe(p);
    }
    assert_eq!(w.list(1), ["peru", "chile", "ngo-a", "iom", "ngo-b"]);
}

/// docs/protocol.md "How a list is ordered", its example: `[A, M, B]` with M moved
/// by the chair, and N inscribed outranking both, gives `[N, M, A, B]`.
#[test]
fn an_entry_the_chair_placed_keeps_its_index_as_later_inscriptions_flow_around_it() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    w.inscribe("ghana");
    let moved = w.inscribe("holy-see");
    w.ok(Command::MoveTo { entry: moved, position: 2 });
    assert_eq!(w.list(0), ["chile", "holy-see", "ghana"]);
    w.inscribe("peru"); // a minister: outranks both heads of delegation
    assert_eq!(w.list(0), ["peru", "holy-see", "chile", "ghana"]);
}

/// docs/protocol.md "How a list is ordered": among group statements, a group of
/// States speaking for itself (no level) comes before a State speaking for one.
#[test]
fn a_group_of_states_without_a_level_sorts_before_a_state_speaking_for_a_group() {
    let mut w = World::new();
    w.open("general");
    w.ok(Command::Inscribe {
        participant: "peru".into(),
        segment: None,
        kind: Some(StatementKind::Group),
        level: None,
        on_behalf_of: Some("Andean Community".into()),
        language: None,
    });
    w.wait(1).inscribe("african-group");
    assert_eq!(w.list(0), ["african-group", "peru"]);
}

// ---- People, and what the screens are offered ----

fn person(name: &str) -> Actor {
    Actor::person(Role::Chair, &Person { id: person_id(name), name: name.into(), title: None })
}

#[test]
fn undo_takes_back_only_your_own_last_action_and_names_whose_it_is() {
    let mut w = World::new();
    w.open("general");
    let amara = person("Amara Diallo-Mensah");
    let henrik = person("Henrik Solberg-Lund");
    w.try_as(&amara, inscribe("peru")).expect("inscribed");
    let seq = w.session.seq;
    assert_eq!(w.session.undo.as_ref().and_then(|u| u.by.as_ref()), Some(&amara), "the record says who");
    // The co-chair's undo is refused, with whose action it is; nothing changes.
    let r = w.try_as(&henrik, Command::Undo { seq }).expect_err("not Henrik's to undo");
    assert_eq!(
        r.reason,
        "The inscription of Peru was Amara Diallo-Mensah's action: only Amara Diallo-Mensah may undo it (undo takes back your own last action)"
    );
    // The offers say so before a key is pressed.
    let offered = offers(&w.session, &henrik, w.now(), None);
    assert!(!offered.allows(Move::Undo));
    assert!(offered.why_not(Move::Undo).is_some_and(|why| why.contains("Amara Diallo-Mensah's action")));
    assert!(offers(&w.session, &amara, w.now(), None).allows(Move::Undo));
    w.try_as(&amara, Command::Undo { seq }).expect("her own");
    assert!(w.list(0).is_empty());
}

#[test]
fn preview_gives_the_events_decide_would_record_and_changes_nothing() {
    let mut w = World::new();
    w.open("general");
    let before = w.session.clone();
    let previewed = preview(&w.session, inscribe("peru"), &chair(), w.now()).expect("allowed");
    assert_eq!(w.session, before);
    assert_eq!(previewed, w.ok(inscribe("peru")));
    let refused = preview(&w.session, inscribe("peru"), &chair(), w.now()).expect_err("on the list already");
    assert_eq!(refused, w.no(inscribe("peru")));
}

#[test]
fn the_floor_out_of_order_asks_whichever_way_it_is_given() {
    let mut w = World::new();
    w.open("general");
    let peru = w.inscribe("peru");
    let chile = w.inscribe("chile");
    let offered = offers(&w.session, &chair(), w.now(), Some(chile));
    let floor = offered.offer(Move::GiveFloor).expect("allowed");
    assert_eq!(
        floor.question.as_deref(),
        Some("The rules put Peru (#1) next. Give the floor to Chile (#2) out of order?")
    );
    let offered = offers(&w.session, &chair(), w.now(), Some(peru));
    assert_eq!(offered.offer(Move::GiveFloor).and_then(|o| o.question.clone()), None, "in order: no question");
    assert_eq!(
        offered.offer(Move::Next).and_then(|o| o.command.clone()),
        Some(Command::Next { turn: None, entry: peru, budget: None })
    );
    // Nothing selected: no floor to give, and why.
    let offered = offers(&w.session, &chair(), w.now(), None);
    assert_eq!(offered.why_not(Move::GiveFloor), Some("select an entry on the list first"));
}

#[test]
fn a_lost_remote_speaker_is_marked_with_a_technical_issue_and_passed_over_until_back() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("ghana");
    w.inscribe("peru");
    let turn = w.give("ghana");
    w.wait(40);
    let events = w.ok(Command::SuspendTurn { turn, places: None });
    assert!(matches!(
        &events[..],
        [EventKind::ConnectionSet { status: ConnectionStatus::TechnicalIssue, .. }, EventKind::TurnSuspended { .. }]
    ));
    assert_eq!(w.session.connection("ghana"), ConnectionStatus::TechnicalIssue);
    assert_eq!(w.list(0), ["ghana", "peru"], "back first on the list, to continue");
    // "Next" passes Ghana until it is back, and asks.
    let next = offers(&w.session, &chair(), w.now(), None);
    let next = next.offer(Move::Next).expect("next");
    assert_eq!(next.participant.as_deref(), Some("peru"));
    assert!(next.question.as_deref().is_some_and(|q| q.starts_with("Ghana has a technical issue")));
    // Undone: the statement is back on the floor, and Ghana's status as it was.
    let seq = w.session.seq;
    w.ok(Command::Undo { seq });
    assert_eq!(w.session.connection("ghana"), ConnectionStatus::Unknown);
    assert_eq!(w.session.floor.as_ref().map(|t| t.entry.participant.as_str()), Some("ghana"));
    // An in-room speaker interrupted has no connection to mark.
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    let turn = w.give("peru");
    let events = w.ok(Command::SuspendTurn { turn, places: None });
    assert!(matches!(&events[..], [EventKind::TurnSuspended { .. }]));
}

#[test]
fn a_delegation_withdraws_its_own_point_of_order_before_the_ruling_and_the_clock_runs_again() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("peru");
    w.give("peru");
    w.wait(10);
    let france = Actor::delegate("france");
    w.try_as(&france, Command::RaisePointOfOrder { by: "france".into() }).expect("raised");
    let point = w.session.point_of_order.as_ref().expect("pending").id;
    w.wait(20);
    assert!(!w.reading().running, "the clock stops for the point of order");
    let r = w.try_as(&Actor::delegate("chile"), Command::WithdrawPointOfOrder { point }).expect_err("not Chile's");
    assert_eq!(r.code, RejectCode::Forbidden);
    let offered = offers(&w.session, &france, w.now(), None);
    let withdraw = offered.offer(Move::WithdrawPointOfOrder).expect("France may withdraw its own");
    assert_eq!(withdraw.question.as_deref(), Some("Withdraw your point of order?"));
    w.try_as(&france, Command::WithdrawPointOfOrder { point }).expect("withdrawn");
    assert!(w.session.point_of_order.is_none());
    assert!(w.session.points_of_order[0].withdrawn_at.is_some() && w.session.points_of_order[0].ruling.is_none());
    w.wait(5);
    assert!(w.reading().running);
    assert_eq!(w.reading().used_ms, 15_000, "10 s before, 5 s after; not the 20 s of the point");
    let r = w.no(Command::RulePointOfOrder { point, ruling: "late".into(), upheld: false });
    assert_eq!(r.code, RejectCode::NotFound);
}

#[test]
fn a_delegate_is_offered_the_rules_answer_for_its_own_moves() {
    let mut w = World::new();
    w.open("general");
    w.inscribe("chile");
    let chile = Actor::delegate("chile");
    let offered = offers(&w.session, &chile, w.now(), None);
    assert!(
        offered.why_not(Move::Inscribe).is_some_and(|r| r.contains("Chile is on the list") && r.contains("position 1"))
    );
    w.ok(Command::CloseList { segment: None });
    let peru = Actor::delegate("peru");
    let offered = offers(&w.session, &peru, w.now(), None);
    assert!(offered.why_not(Move::Inscribe).is_some_and(|r| r.contains("is closed: no new inscriptions")));
    // Chile's own entry may be withdrawn by Chile, asking; not by Peru.
    let entry = w.entry_of(0, "chile");
    assert!(
        offers(&w.session, &chile, w.now(), Some(entry)).offer(Move::Withdraw).is_some_and(|o| o.question.is_some())
    );
    assert!(!offers(&w.session, &peru, w.now(), Some(entry)).allows(Move::Withdraw));
    // A rapporteur has no moves here.
    assert_eq!(offers(&w.session, &Actor::rapporteur("Ana"), w.now(), None), Offers::default());
}

#[test]
fn one_time_format_everywhere() {
    assert_eq!(duration_text(3_000), "0:03");
    assert_eq!(duration_text(27_999), "0:27");
    assert_eq!(duration_text(3_600_000 + 61_000), "1:01:01");
    assert_eq!(countdown_text(179_400), "3:00", "rounded up while the second runs");
    assert_eq!(countdown_text(-8_500), "+0:08");
    assert_eq!(countdown_text(-3_725_000), "+1:02:05");
}

#[test]
fn an_inscription_keeps_the_language_of_its_statement_through_a_resumed_part() {
    let mut w = World::new();
    w.open("general");
    let with = |language: &str| Command::inscribe_in("peru", language);
    // Not a language: refused, with the codes to use.
    let r = w.no(with("xx"));
    assert_eq!(r.code, RejectCode::Invalid);
    assert!(r.reason.contains("\"xx\" is not an ISO 639-1 language code"), "{}", r.reason);
    assert!(w.no(with("French")).reason.contains("two letters"));
    // Any ISO 639-1 code, read in lower case: one of the six or another.
    w.ok(with(" ES "));
    assert_eq!(w.session.segments[0].list[0].language.as_deref(), Some("es"));
    w.ok(Command::Withdraw { entry: w.session.segments[0].list[0].id });
    w.ok(with("pt"));
    assert_eq!(language_name("pt"), "Portuguese");
    // The statement's second part is in the same language.
    let turn = w.give("peru");
    w.wait(40);
    w.ok(Command::SuspendTurn { turn, places: None });
    assert_eq!(w.session.segments[0].list[0].language.as_deref(), Some("pt"));
    let second = w.give("peru");
    assert_eq!(w.session.floor.as_ref().map(|t| t.entry.language.as_deref()), Some(Some("pt")));
    w.ok(Command::EndTurn { turn: second });
    assert!(w.session.turns.iter().all(|t| t.language.as_deref() == Some("pt")));
}
