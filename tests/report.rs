//! Reports from a journal made by a scripted session through the hub; the expected
//! figures are worked out by hand in the comments, not by the code under test.

mod common;

use common::script::{base, scripted};
use rostrum::report::{self, Report};

fn build(path: &std::path::Path) -> Report {
    let contents = rostrum::journal::read_file(path).expect("the journal verifies");
    report::build(&contents).expect("report")
}

#[tokio::test]
async fn speakers_times_and_shares_match_the_hand_count() {
    let data = tempfile::tempdir().expect("temp dir");
    let r = build(&scripted(data.path()).await);
    let turns = &r.segments[0].turns;
    let summary: Vec<(&str, u64, u64, u64)> =
        turns.iter().map(|t| (t.participant_id.as_str(), t.allotted_ms, t.used_ms, t.overrun_ms)).collect();
    assert_eq!(
        summary,
        [
            ("peru", 180_000, 210_000, 30_000),
            ("chile", 180_000, 150_000, 0),
            ("ngo-a", 120_000, 120_000, 0),
            ("ghana", 180_000, 150_000, 0)
        ]
    );
    assert_eq!(turns[1].points_of_order, 1);
    assert_eq!(turns[0].started_at, base() + chrono::Duration::seconds(60));
    assert_eq!(turns[3].modality, "remote");

    // 510 s by Member States (3 statements), 120 s by one stakeholder: 630 s in all.
    let kinds: Vec<(&str, usize, u64, f64, f64)> =
        r.by_kind.iter().map(|s| (s.group.as_str(), s.statements, s.ms, s.time_percent, s.statement_percent)).collect();
    assert_eq!(kinds, [("Member State", 3, 510_000, 81.0, 75.0), ("stakeholder", 1, 120_000, 19.0, 25.0)]);
    // Of the States' 510 s: Peru and Chile 360 s (70.6%), Ghana 150 s (29.4%).
    let groups: Vec<(&str, u64, f64)> =
        r.by_regional_group.iter().map(|s| (s.group.as_str(), s.ms, s.time_percent)).collect();
    assert_eq!(groups, [("Latin American and Caribbean States", 360_000, 70.6), ("African States", 150_000, 29.4)]);
    let constituencies: Vec<(&str, f64)> =
        r.by_constituency.iter().map(|s| (s.group.as_str(), s.time_percent)).collect();
    assert_eq!(constituencies, [("migrant-organization", 100.0)]);
}

#[tokio::test]
async fn waiting_points_of_order_deferrals_and_pledges() {
    let data = tempfile::tempdir().expect("temp dir");
    let r = build(&scripted(data.path()).await);
    // In room: Peru 60-20 = 40 s, Chile 300-10 = 290 s, the Forum 490-30 = 460 s.
    let w = &r.waiting.in_room;
    assert_eq!((w.turns, w.mean_ms, w.median_ms, w.max_ms), (3, Some(263_333), Some(290_000), Some(460_000)));
    // Remote: Ghana 630-40 = 590 s.
    assert_eq!((r.waiting.remote.turns, r.waiting.remote.mean_ms), (1, Some(590_000)));
    assert_eq!((r.waiting.pre_recorded.turns, r.waiting.pre_recorded.mean_ms), (0, None));
    assert_eq!(r.waiting.from_opening, 0);

    assert_eq!(r.points_of_order.len(), 1);
    let p = &r.points_of_order[0];
    assert_eq!(
        (p.by.as_str(), p.upheld, p.ruling.as_deref()),
        ("France", Some(false), Some("The speaker may continue."))
    );
    assert_eq!(r.deferrals.len(), 1);
    let d = &r.deferrals[0];
    assert_eq!((d.participant.as_str(), d.from_position, d.to_position, d.technical_issue), ("Ghana", 2, 3, true));

    let objectives: Vec<(u8, usize)> = r.pledges_by_objective.iter().map(|o| (o.objective, o.pledges.len())).collect();
    assert_eq!(objectives, [(5, 1), (6, 1)]);
    assert_eq!(r.pledges_by_objective[0].title, "regular pathways");
    assert_eq!(r.segments[0].turns[0].notes[0].text, "Peru announces a regularization programme.");
    assert_eq!(r.segments[0].turns[1].notes[0].pledger.as_deref(), Some("Chile"));
    assert!(r.session.closed);
}

#[tokio::test]
async fn csv_markdown_and_json_say_the_same() {
    let data = tempfile::tempdir().expect("temp dir");
    let path = scripted(data.path()).await;
    let r = build(&path);
    let csv = report::to_csv(&r);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], report::CSV_COLUMNS.join(","));
    assert_eq!(lines.len(), 5, "a header and one row per turn");
    let peru: Vec<&str> = lines[1].split(',').collect();
    let column = |name: &str| report::CSV_COLUMNS.iter().position(|c| *c == name).expect("a column");
    assert_eq!(&peru[..2], ["general", "1"]);
    assert_eq!(&peru[column("participant_id")..=column("participant_name")], ["peru", "Peru"]);
    assert_eq!(peru[column("inscribed_at")], "2022-05-17T14:00:20Z");
    assert_eq!(
        &peru[column("original_allotted_s")..],
        ["180.000", "0.000", "0.000", "180.000", "210.000", "30.000", "30.000", "40.000", "0", "1", "chair", ""]
    );

    let zone = chrono::FixedOffset::west_opt(4 * 3600).expect("offset");
    let md = report::to_markdown(&r, zone);
    assert!(md.contains("| 1 | Peru | national | in-room | 10:01:00 | 3:00 | 3:30 | +0:30 | +0:30 |"), "{md}");
    assert!(md.contains("| Member State | 3 | 75.0% | 8:30 | 81.0% |"), "{md}");
    assert!(md.contains("- Ghana at 10:04:45: from position 2 to 3 (technical issue)"), "{md}");
    assert!(md.contains("### Objective 6: fair recruitment and decent work"), "{md}");

    // The command line gives the same, in every format.
    let run = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
            .args(["report", "--format", format])
            .arg(&path)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    assert_eq!(run("csv"), csv);
    assert_eq!(run("markdown"), md);
    let json: serde_json::Value = serde_json::from_str(&run("json")).expect("json");
    assert_eq!(json["by_kind"][0]["ms"], 510_000);
}

#[test]
fn a_journal_with_a_broken_chain_gives_no_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let path = runtime.block_on(scripted(dir.path()));
    let text = std::fs::read_to_string(&path).expect("journal");
    std::fs::write(&path, text.replacen("\"used_ms\":210000", "\"used_ms\":110000", 1)).expect("edit");
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_rostrum")).arg("report").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hash chain broken"));
}

#[tokio::test]
async fn pending_replies_are_listed_and_an_undo_is_not_a_deferral() {
    use common::script::Scripted;
    use rostrum::domain::{Actor, Command};
    let data = tempfile::tempdir().expect("temp dir");
    let s = Scripted::start(data.path(), &common::session_file()).await;
    let chair = Actor::chair("chair");
    let inscribe = common::inscribe;
    s.at(0, &chair, Command::OpenSegment { segment: "general".into() }).await;
    s.at(1, &chair, inscribe("chile")).await;
    s.at(2, &chair, inscribe("ghana")).await;
    s.at(3, &chair, inscribe("holy-see")).await;
    s.at(4, &chair, Command::RequestReply { participant: "peru".into(), segment: None }).await;
    let chile = s.entry(0, "chile").await;
    s.at(5, &chair, Command::Defer { entry: chile, places: None, to_end: true }).await;
    s.at(6, &chair, Command::Reinstate { entry: chile }).await;
    let reinstated = s.state().await.seq;
    s.at(7, &chair, Command::Undo { seq: reinstated }).await; // back to deferred: the same deferral, not a new one
    s.stop().await;
    let r = build(&data.path().join("test-session/journal.jsonl"));
    assert_eq!(r.deferrals.len(), 1, "{:?}", r.deferrals);
    assert_eq!(r.replies_pending, [("general".to_string(), "Peru".to_string())]);
    let md = report::to_markdown(&r, chrono::FixedOffset::west_opt(4 * 3600).expect("offset"));
    assert!(md.contains("- Peru: requested in \"General debate\", not taken"), "{md}");
}

/// A statement interrupted twice and a statement on behalf of a group, through the hub.
#[tokio::test]
async fn interrupted_and_group_statements_are_reported_as_such() {
    use common::script::Scripted;
    use rostrum::domain::{Actor, Command, StatementKind};
    let data = tempfile::tempdir().expect("temp dir");
    let s = Scripted::start(data.path(), &common::session_file()).await;
    let chair = Actor::chair("chair");
    s.at(0, &chair, Command::OpenSegment { segment: "general".into() }).await;
    let inscribe = |p: &str, group: Option<&str>| Command::Inscribe {
        participant: p.into(),
        segment: None,
        kind: group.map(|_| StatementKind::Group),
        level: None,
        on_behalf_of: group.map(str::to_string),
        language: None,
    };
    s.at(1, &chair, inscribe("ghana", None)).await;
    s.at(2, &chair, inscribe("chile", Some("african-group"))).await;
    // Ghana (3:00) speaks 40 s, is lost; Chile speaks on behalf of the African Group 5:00... in the
    // order the policy gives; Ghana comes back first and speaks 100 s, is lost again, then 50 s.
    let ghana = s.entry(0, "ghana").await;
    s.at(10, &chair, Command::GiveFloor { entry: ghana, budget: None }).await;
    let turn = s.turn().await;
    // Lost: the interruption marks Ghana with a technical issue; it is back before it speaks again.
    let back = || Command::SetConnection {
        participant: "ghana".into(),
        status: rostrum::domain::ConnectionStatus::Connected,
        from: Some(rostrum::domain::ConnectionStatus::TechnicalIssue),
    };
    s.at(50, &chair, Command::SuspendTurn { turn, places: None }).await;
    s.at(59, &chair, back()).await;
    let ghana = s.entry(0, "ghana").await;
    s.at(60, &chair, Command::GiveFloor { entry: ghana, budget: None }).await;
    let turn = s.turn().await;
    s.at(160, &chair, Command::SuspendTurn { turn, places: None }).await;
    s.at(169, &chair, back()).await;
    let ghana = s.entry(0, "ghana").await;
    s.at(170, &chair, Command::GiveFloor { entry: ghana, budget: None }).await;
    let turn = s.turn().await;
    s.at(220, &chair, Command::EndTurn { turn }).await;
    let chile = s.entry(0, "chile").await;
    s.at(230, &chair, Command::GiveFloor { entry: chile, budget: None }).await;
    let turn = s.turn().await;
    s.at(330, &chair, Command::EndTurn { turn }).await;
    s.stop().await;

    let r = build(&data.path().join("test-session/journal.jsonl"));
    let rows: Vec<(String, u32, bool, u64)> =
        r.segments[0].turns.iter().map(|t| (t.speaker(), t.part, t.interrupted, t.used_ms / 1000)).collect();
    assert_eq!(
        rows,
        [
            ("Ghana".to_string(), 1, true, 40),
            ("Ghana".to_string(), 2, true, 100),
            ("Ghana".to_string(), 3, false, 50),
            ("Chile, on behalf of the African Group".to_string(), 1, false, 100),
        ]
    );
    // One statement in three parts: 190 s against the original 3:00, 10 s over; two interruptions.
    assert_eq!(r.interrupted.len(), 1);
    let st = &r.interrupted[0];
    assert_eq!((st.speaker.as_str(), st.parts.len(), st.interruptions, st.used_ms), ("Ghana", 3, 2, 190_000));
    assert_eq!((st.original_allotted_ms, st.overrun_ms, st.unfinished), (180_000, 10_000, false));
    let zone = chrono::FixedOffset::west_opt(4 * 3600).expect("offset");
    let md = report::to_markdown(&r, zone);
    assert!(md.contains("1 statement was interrupted when the speaker was lost (2 interruptions)."), "{md}");
    assert!(
        md.contains("| Ghana | 0:40 from 10:00:10; 1:40 from 10:01:00; 0:50 from 10:02:50 | 3:10 | 3:00 | +0:10 |"),
        "{md}"
    );
    assert!(md.contains("Chile, on behalf of the African Group"), "{md}");
    let csv = report::to_csv(&r);
    assert!(csv.lines().nth(2).is_some_and(|l| l.starts_with("general,2,7,5,2,true,ghana")), "{csv}");
    assert!(csv.contains(",Chile,African Group,member-state,"), "{csv}");
}

/// A journal made straight from the domain, with times to the millisecond.
fn journal(steps: Vec<(i64, rostrum::domain::Actor, rostrum::domain::Command)>) -> rostrum::journal::Contents {
    journal_of(std::fs::read_to_string(common::session_file()).expect("session file"), steps)
}

fn journal_of(
    config: String,
    steps: Vec<(i64, rostrum::domain::Actor, rostrum::domain::Command)>,
) -> rostrum::journal::Contents {
    use rostrum::domain::{Session, apply, decide};
    let mut session = Session::new(rostrum::config::parse_session(&config).expect("valid"));
    let mut events = Vec::new();
    for (ms, actor, command) in steps {
        let shown = format!("{command:?}");
        let at = common::script::base() + chrono::Duration::milliseconds(ms);
        for e in decide(&session, command, &actor, at).unwrap_or_else(|r| panic!("{shown}: {}", r.reason)) {
            apply(&mut session, &e);
            events.push(e);
        }
    }
    rostrum::journal::Contents {
        header: rostrum::journal::Header {
            format: "rostrum-journal".into(),
            version: 1,
            session: "test-session".into(),
            created: common::script::base(),
            config,
        },
        events,
        last_hash: String::new(),
        header_hash: String::new(),
        valid_len: 0,
        torn: None,
    }
}

#[test]
fn short_turns_keep_their_milliseconds_and_what_was_not_heard_is_said() {
    use rostrum::domain::{Actor, Command, ConnectionStatus};
    let chair = Actor::chair("chair");
    let ana = Actor::rapporteur("Ana");
    let inscribe = common::inscribe;
    let mut steps = vec![
        (0, chair.clone(), Command::OpenSegment { segment: "general".into() }),
        (10, chair.clone(), inscribe("peru")),
        (20, chair.clone(), inscribe("ngo-b")),
        (30, chair.clone(), inscribe("chile")),
        (40, chair.clone(), inscribe("ghana")),
        (50, chair.clone(), inscribe("holy-see")),
    ];
    // Peru 28.2 s in three parts of 9.4 s (a pause between), the stakeholder 0.76 s.
    steps.push((1_000, chair.clone(), Command::GiveFloor { entry: 3, budget: None }));
    steps.push((10_400, chair.clone(), Command::Pause { turn: 8 }));
    steps.push((20_000, chair.clone(), Command::Resume { turn: 8 }));
    steps.push((38_800, chair.clone(), Command::EndTurn { turn: 8 }));
    steps.push((39_000, chair.clone(), Command::GiveFloor { entry: 4, budget: None }));
    steps.push((39_760, chair.clone(), Command::EndTurn { turn: 9 }));
    steps.push((
        40_000,
        ana.clone(),
        Command::AddNote {
            saved_at: Some(common::script::base() + chrono::Duration::milliseconds(35_000)),
            client_id: "a-1".into(),
            turn: Some(8),
            text: "Peru: two points.\nFirst, pathways.\nSecond, recruitment.".into(),
            objectives: vec![5, 6],
            themes: vec!["Pathways".into()],
        },
    ));
    // Chile withdraws itself; Ghana is lost; the Holy See is still waiting when the segment ends.
    steps.push((41_000, Actor::delegate("chile"), Command::Withdraw { entry: 5 }));
    steps.push((
        42_000,
        chair.clone(),
        Command::SetConnection { participant: "ghana".into(), status: ConnectionStatus::TechnicalIssue, from: None },
    ));
    steps.push((43_000, chair.clone(), Command::RaisePointOfOrder { by: "france".into() }));
    steps.push((
        44_000,
        chair.clone(),
        Command::RulePointOfOrder { point: 11, ruling: "Upheld.".into(), upheld: true },
    ));
    steps.push((45_000, chair.clone(), Command::OpenSegment { segment: "alternating".into() }));
    let r = rostrum::report::build(&journal(steps)).expect("report");

    let peru = &r.segments[0].turns[0];
    assert_eq!(peru.used_ms, 28_200);
    let shares: Vec<(&str, u64, f64)> = r.by_kind.iter().map(|s| (s.group.as_str(), s.ms, s.time_percent)).collect();
    assert_eq!(shares, [("Member State", 28_200, 97.4), ("stakeholder", 760, 2.6)]);
    let csv = rostrum::report::to_csv(&r);
    assert!(csv.contains(",28.200,") && csv.contains(",0.760,"), "{csv}");

    let not_heard: Vec<(&str, &str)> =
        r.segments[0].not_heard.iter().map(|n| (n.participant.as_str(), n.why.as_str())).collect();
    assert_eq!(
        not_heard,
        [
            ("Chile", "withdrew"),
            ("Ghana", "technical issue: could not be heard"),
            ("Holy See", "the segment ended before their turn")
        ]
    );
    let zone = chrono::FixedOffset::west_opt(4 * 3600).expect("offset");
    let md = rostrum::report::to_markdown(&r, zone);
    for expected in [
        "The following were inscribed and unable to deliver their statements:\n\n- Chile (withdrew)",
        "| 1 | Peru | national | in-room | 10:00:01 | 3:00 | 0:28 |",
        "- Peru (10:00:01, 1 note):",
        "  - Note (Ana, 10:00) [GCM 5, GCM 6, Pathways]: Peru: two points.\n    First, pathways.\n    Second, recruitment.",
        "- France at 10:00:43: upheld\n",
        "| pre-recorded | 0 | — | — | — |",
        "### Objective 5: regular pathways",
        "### pathways",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
    }
    // The notes table carries the text and both times.
    let notes = rostrum::report::notes_csv(&r, false);
    let mut lines = notes.lines();
    assert_eq!(lines.next(), Some("turn,segment_id,speaker,author,saved_at,recorded_at,objectives,themes,text"));
    assert_eq!(
        lines.next(),
        Some("8,general,Peru,Ana,2022-05-17T14:00:35Z,2022-05-17T14:00:40Z,5 6,Pathways,\"Peru: two points.")
    );
}

#[tokio::test]
async fn the_fairness_panel_at_the_end_shows_the_reports_figures() {
    let data = tempfile::tempdir().expect("temp dir");
    let path = scripted(data.path()).await;
    let r = build(&path);
    // What the chair's panel (and the replay's) computes from the session's state at the end.
    let player = rostrum::replay::Player::open(&path, true).expect("replays");
    let state = player.state_at(player.len());
    let at = player.span().map(|(_, end)| end).expect("events");
    let panel = rostrum::fairness::compute(&state, at);
    assert_eq!(panel.by_kind, r.by_kind);
    assert_eq!(panel.by_regional_group, r.by_regional_group);
    assert_eq!(panel.by_constituency, r.by_constituency);
    assert_eq!(panel.waiting, r.waiting);
    // And the figures say something: the roster's share beside the time's.
    let states = panel.by_kind.iter().find(|s| s.group == "Member State").expect("States spoke");
    assert_eq!((states.time_percent, states.statements), (81.0, 3));
    assert!(states.roster_percent > 0.0);
}

#[test]
fn budgets_and_the_chairs_choices_over_them_are_in_the_report() {
    use rostrum::domain::{Actor, BudgetChoice, Command};
    let config = std::fs::read_to_string(common::session_file()).expect("session file").replacen(
        "[[segments]]\nid = \"alternating\"",
        "[[segments.budgets]]\nper = \"regional-group\"\ntime = \"5m\"\n\n[[segments]]\nid = \"alternating\"",
        1,
    );
    let chair = Actor::chair("chair");
    let inscribe = common::inscribe;
    let steps = vec![
        (0, chair.clone(), Command::OpenSegment { segment: "general".into() }),
        (1_000, chair.clone(), inscribe("peru")),
        (2_000, chair.clone(), inscribe("chile")),
        (3_000, chair.clone(), Command::GiveFloor { entry: 3, budget: None }),
        (243_000, chair.clone(), Command::EndTurn { turn: 5 }),
        (
            244_000,
            chair.clone(),
            Command::GiveFloor {
                entry: 4,
                budget: Some(BudgetChoice::FullTime { reason: "the only speaker for the region today".into() }),
            },
        ),
        (424_000, chair.clone(), Command::EndTurn { turn: 6 }),
    ];
    let r = rostrum::report::build(&journal_of(config, steps)).expect("report");
    let budgets: Vec<(&str, u64, u64)> =
        r.segments[0].budgets.iter().map(|b| (b.name.as_str(), b.used_ms, b.limit_ms)).collect();
    assert_eq!(budgets, [("Latin American and Caribbean States", 420_000, 300_000)]);
    let zone = chrono::FixedOffset::west_opt(4 * 3600).expect("offset");
    let md = rostrum::report::to_markdown(&r, zone);
    assert!(md.contains("Budgets used: Latin American and Caribbean States 7:00 of 5:00."), "{md}");
    // Budgets nobody drew on are counted, not listed as zeros; a segment with none used says nothing.
    let mut more = r.clone();
    let unused =
        rostrum::fairness::BudgetUse { used_ms: 0, name: "African States".into(), ..r.segments[0].budgets[0].clone() };
    more.segments[0].budgets.push(unused.clone());
    let md_more = rostrum::report::to_markdown(&more, zone);
    assert!(md_more.contains("7:00 of 5:00 (1 other on the list used none yet)."), "{md_more}");
    more.segments[0].budgets = vec![unused];
    assert!(!rostrum::report::to_markdown(&more, zone).contains("Budgets used"));
    assert!(
        md.contains("- Chile was given the full time over its budget: the only speaker for the region today."),
        "{md}"
    );
}

/// docs/report.md's JSON example is the shipped sample's real report, shortened:
/// each field it shows is the one the code writes, and it names every top-level key.
#[test]
fn the_json_example_in_report_md_is_the_samples_report() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/report.md")).expect("report.md");
    let start = doc.find("```json\n{\"session\"").expect("the example") + "```json\n".len();
    let end = start + doc[start..].find("```").expect("its end");
    let example: serde_json::Value = serde_json::from_str(&doc[start..end]).expect("the example is JSON");
    let contents = rostrum::journal::read_file(&root.join("tests/data/sample-session.jsonl")).expect("sample");
    let real = serde_json::to_value(report::build(&contents).expect("report")).expect("json");
    let example = example.as_object().expect("an object");
    for (key, value) in example.iter().filter(|(k, _)| *k != "…") {
        let mut real_value = real[key].clone();
        if key == "segments" {
            // The first segment, with its first turn.
            let mut first = real_value[0].clone();
            first["turns"] = serde_json::Value::Array(vec![first["turns"][0].clone()]);
            real_value = serde_json::Value::Array(vec![first]);
        }
        assert_eq!(value, &real_value, "report.md's `{key}` differs from the code's");
    }
    // The documented top-level fields are the code's.
    for key in real.as_object().expect("an object").keys() {
        let documented =
            [format!("| `{key}` |"), format!("| `{key}`, "), format!(", `{key}` |"), format!(", `{key}`, ")];
        assert!(documented.iter().any(|d| doc.contains(d.as_str())), "report.md documents `{key}`");
    }
}

/// The report reads undos from `undoes`, as `apply` does: a chair's plain
/// withdrawal right after an inscription is a withdrawal, not an undo; an undo is.
#[tokio::test]
async fn a_withdrawal_right_after_an_inscription_is_not_an_undo() {
    use common::script::Scripted;
    use rostrum::domain::{Actor, Command};
    let data = tempfile::tempdir().expect("temp dir");
    let s = Scripted::start(data.path(), &common::session_file()).await;
    let chair = Actor::chair("chair");
    let inscribe = |p: &str| Command::inscribe(p);
    s.at(0, &chair, Command::OpenSegment { segment: "general".into() }).await;
    s.at(1, &chair, inscribe("peru")).await;
    let peru = s.entry(0, "peru").await;
    s.at(2, &chair, Command::Withdraw { entry: peru }).await;
    s.at(3, &chair, inscribe("chile")).await;
    let seq = s.state().await.seq;
    s.at(4, &chair, Command::Undo { seq }).await;
    s.at(5, &chair, Command::CloseSession).await;
    s.stop().await;
    let r = build(&data.path().join("test-session/journal.jsonl"));
    let not_heard: Vec<(&str, &str)> =
        r.segments[0].not_heard.iter().map(|n| (n.participant.as_str(), n.why.as_str())).collect();
    assert_eq!(not_heard, [("Peru", "withdrawn by the chair")], "Chile's undone inscription never was");
    assert_eq!(r.chairs.len(), 1);
    assert_eq!(r.chairs[0].undone, 1);
}

/// Each statement row gives its language: the code in the JSON and the CSV, the
/// English name in the Markdown and the HTML; a report without languages keeps
/// its tables as they were.
#[test]
fn each_statement_says_the_language_it_was_inscribed_in() {
    use rostrum::domain::{Actor, Command};
    let chair = Actor::chair("chair");
    let mut peru = common::inscribe("peru");
    if let Command::Inscribe { language, .. } = &mut peru {
        *language = Some("FR".into());
    }
    let steps = vec![
        (0, chair.clone(), Command::OpenSegment { segment: "general".into() }),
        (1_000, chair.clone(), peru),
        (2_000, chair.clone(), common::inscribe("chile")),
        (3_000, chair.clone(), Command::GiveFloor { entry: 3, budget: None }),
        (63_000, chair.clone(), Command::EndTurn { turn: 5 }),
        (64_000, chair.clone(), Command::GiveFloor { entry: 4, budget: None }),
        (94_000, chair.clone(), Command::EndTurn { turn: 6 }),
    ];
    let r = report::build(&journal(steps)).expect("report");
    let languages: Vec<(&str, Option<&str>)> =
        r.segments[0].turns.iter().map(|t| (t.participant_id.as_str(), t.language.as_deref())).collect();
    assert_eq!(languages, [("peru", Some("fr")), ("chile", None)], "the domain's code, in lower case");

    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["segments"][0]["turns"][0]["language"], "fr");
    assert_eq!(json["segments"][0]["turns"][1]["language"], serde_json::Value::Null);

    let zone = chrono::FixedOffset::west_opt(4 * 3600).expect("offset");
    let md = report::to_markdown(&r, zone);
    assert!(md.contains("| # | speaker | kind | language | modality |"), "{md}");
    assert!(md.contains("| 1 | Peru | national | French | in-room |"), "{md}");
    assert!(md.contains("| 2 | Chile | national |  | in-room |"), "{md}");

    let csv = report::to_csv(&r);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with(",given_by,language"), "{csv}");
    assert!(lines[1].ends_with(",chair,fr") && lines[2].ends_with(",chair,"), "{csv}");

    let html = rostrum::report::html::to_html(&r, zone);
    assert!(html.contains("<th scope=\"col\">Language</th>"), "the speakers table has the column");
    assert!(html.contains("<td data-language=\"fr\">French</td>"), "Peru's row names the language");

    // No language given: no language column.
    let plain = report::build(&journal(vec![
        (0, chair.clone(), Command::OpenSegment { segment: "general".into() }),
        (1_000, chair.clone(), common::inscribe("peru")),
        (3_000, chair.clone(), Command::GiveFloor { entry: 3, budget: None }),
        (63_000, chair, Command::EndTurn { turn: 4 }),
    ]))
    .expect("report");
    assert!(!report::to_markdown(&plain, zone).contains("language"));
    assert!(!rostrum::report::html::to_html(&plain, zone).contains("data-language"));
}

/// The chair's running order says each speaker's language, for the interpreters.
#[test]
fn the_running_order_says_each_speakers_language() {
    use rostrum::domain::{Actor, Command};
    use rostrum::report::running;
    let chair = Actor::chair("chair");
    let mut chile = common::inscribe("chile");
    if let Command::Inscribe { language, .. } = &mut chile {
        *language = Some("es".into());
    }
    let contents = journal(vec![
        (0, chair.clone(), Command::OpenSegment { segment: "general".into() }),
        (1_000, chair.clone(), chile),
        (2_000, chair, common::inscribe("ghana")),
    ]);
    let order = running::build(&contents).expect("reads").expect("a running order");
    let zone = chrono::FixedOffset::west_opt(4 * 3600).expect("offset");
    let md = running::to_markdown(&order, zone);
    assert!(md.contains("| # | speaker | on behalf of | level | time | modality | language | why there |"), "{md}");
    assert!(md.contains("| 1 | Chile |  | Head of delegation | 3:00 | in room | Spanish | "), "{md}");
    assert!(md.contains("| 2 | Ghana |  | Head of delegation | 3:00 | remote |  | "), "{md}");
    let csv = running::to_csv(&order);
    assert!(csv.lines().nth(1).is_some_and(|l| l.contains(",in room,es,")), "{csv}");
}
