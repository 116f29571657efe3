//! The forum's record across sessions (`rostrum report J1 J2 …`) and the chair's
//! running order (`--running-order`), from real journals on disk.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use chrono::{DateTime, TimeZone, Utc};
use rostrum::domain::{Actor, Command, Event, Session, apply, decide};
use rostrum::report::{self, Report, forum};

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("valid")
}

/// A session run straight through the domain, its events written to a real journal.
struct Run {
    session: Session,
    events: Vec<Event>,
    config: String,
}

impl Run {
    fn new(file: &str) -> Self {
        let config = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).expect("reads");
        let session = Session::new(rostrum::config::parse_session(&config).expect("valid"));
        Self { session, events: Vec::new(), config }
    }

    fn at(&mut self, secs: i64, actor: &Actor, command: Command) -> &mut Self {
        let shown = format!("{command:?}");
        let at = base() + chrono::Duration::seconds(secs);
        for e in decide(&self.session, command, actor, at).unwrap_or_else(|r| panic!("{shown}: {}", r.reason)) {
            apply(&mut self.session, &e);
            self.events.push(e);
        }
        self
    }

    /// Give the floor to `participant`'s entry on the open segment's list.
    fn floor(&mut self, secs: i64, participant: &str) -> &mut Self {
        let segment = self.session.current_segment.expect("a segment is open");
        let entry = self.session.segments[segment]
            .list
            .iter()
            .find(|e| e.participant == participant)
            .unwrap_or_else(|| panic!("{participant} is on the list"))
            .id;
        self.at(secs, &chair(), Command::GiveFloor { entry, budget: None })
    }

    fn end(&mut self, secs: i64) -> &mut Self {
        let turn = self.session.floor.as_ref().expect("someone speaks").id;
        self.at(secs, &chair(), Command::EndTurn { turn })
    }

    fn pledge(&mut self, secs: i64, pledger: &str, objectives: Vec<u8>) -> &mut Self {
        let turn = self.session.floor.as_ref().map(|t| t.id);
        let client_id = format!("p-{secs}");
        let text = format!("{pledger} pledges towards objectives {objectives:?}.");
        self.at(
            secs,
            &Actor::rapporteur("Ana"),
            Command::AddPledge { client_id, saved_at: None, pledger: pledger.into(), text, objectives, turn },
        )
    }

    fn write(&self, dir: &Path) -> PathBuf {
        let id = &self.session.def.id;
        let mut writer =
            rostrum::journal::Writer::create(&dir.join(id), id, &self.config, base()).expect("journal created");
        writer.append(&self.events).expect("appended");
        dir.join(id).join(rostrum::journal::FILE_NAME)
    }
}

fn chair() -> Actor {
    Actor::chair("chair")
}

fn inscribe(participant: &str) -> Command {
    Command::inscribe(participant)
}

/// The roundtable and the hearing, a few statements each, IOM heard in both.
fn two_journals(dir: &Path) -> Vec<PathBuf> {
    let mut roundtable = Run::new("config/imrf-2022-roundtable-1.toml");
    roundtable
        .at(0, &chair(), Command::OpenSegment { segment: "opening".into() })
        .floor(10, "iom")
        .end(190)
        .at(200, &chair(), Command::OpenSegment { segment: "statements".into() })
        .floor(210, "mexico")
        .pledge(300, "mexico", vec![5, 6])
        .end(420)
        .floor(430, "migrant-forum-in-asia")
        .end(560)
        .floor(570, "african-group")
        .pledge(600, "ghana", vec![7])
        .end(870);
    let mut hearing = Run::new("config/imrf-2022-hearing.toml");
    hearing
        .at(0, &chair(), Command::OpenSegment { segment: "opening".into() })
        .floor(5, "iom")
        .end(125)
        .floor(130, "gcm-coalition")
        .pledge(200, "gcm-coalition", vec![7, 23])
        .end(330)
        .at(340, &chair(), inscribe("mexico"))
        .floor(350, "mexico")
        .end(520);
    vec![roundtable.write(dir), hearing.write(dir)]
}

fn read(paths: &[PathBuf]) -> Vec<rostrum::journal::Contents> {
    paths.iter().map(|p| rostrum::journal::read_file(p).expect("verifies")).collect()
}

#[test]
fn the_forums_figures_are_the_sum_of_its_sessions_figure_for_figure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let journals = read(&two_journals(dir.path()));
    let sessions: Vec<Report> = journals.iter().map(|c| report::build(c).expect("a report")).collect();
    let forum = forum::build(&journals).expect("the forum's report");

    assert_eq!(forum.sessions.len(), 2);
    // Each table: every group's statements and time are the sessions' added up.
    type Table = fn(&Report) -> &Vec<report::Share>;
    let tables: [(&str, Table, &Vec<report::Share>); 3] = [
        ("by kind", |r| &r.by_kind, &forum.forum.by_kind),
        ("by regional group", |r| &r.by_regional_group, &forum.forum.by_regional_group),
        ("by constituency", |r| &r.by_constituency, &forum.forum.by_constituency),
    ];
    for (name, of, combined) in tables {
        let mut groups: Vec<&str> = sessions.iter().flat_map(|r| of(r).iter().map(|s| s.group.as_str())).collect();
        groups.sort_unstable();
        groups.dedup();
        assert_eq!(combined.len(), groups.len(), "{name}: one row per group heard");
        for group in groups {
            let row = combined.iter().find(|s| s.group == group).expect("a row");
            let sum = |f: fn(&report::Share) -> u64| -> u64 {
                sessions.iter().flat_map(|r| of(r).iter().filter(|s| s.group == group)).map(f).sum()
            };
            assert_eq!(row.statements as u64, sum(|s| s.statements as u64), "{name}: {group}'s statements");
            assert_eq!(row.ms, sum(|s| s.ms), "{name}: {group}'s speaking time");
        }
        let total: u64 = combined.iter().map(|s| s.ms).sum();
        for row in combined {
            let expected = (row.ms as f64 * 1000.0 / total as f64).round() / 10.0;
            assert_eq!(row.time_percent, expected, "{name}: {}'s share of the forum's time", row.group);
        }
    }
    // Each session's own figures are its report's.
    for (figures, session) in forum.sessions.iter().zip(&sessions) {
        assert_eq!(figures.figures.by_kind, session.by_kind);
        assert_eq!(figures.figures.by_regional_group, session.by_regional_group);
        assert_eq!(figures.figures.by_constituency, session.by_constituency);
        let turns: Vec<&report::TurnRow> = session.segments.iter().flat_map(|s| &s.turns).collect();
        assert_eq!(figures.figures.statements, turns.iter().filter(|t| t.part == 1).count());
        assert_eq!(figures.figures.speaking_ms, turns.iter().map(|t| t.used_ms).sum::<u64>());
    }
    assert_eq!(forum.forum.statements, forum.sessions.iter().map(|s| s.figures.statements).sum::<usize>());
    assert_eq!(forum.forum.speaking_ms, forum.sessions.iter().map(|s| s.figures.speaking_ms).sum::<u64>());
    assert_eq!(forum.forum.pledges, 3);
    let stakeholders: u64 = forum.sessions.iter().map(|s| s.figures.stakeholders.ms).sum();
    assert_eq!(forum.forum.stakeholders.ms, stakeholders);

    // Who spoke where: IOM and Mexico in both sessions, each session's time its own.
    let iom = forum.speakers.iter().find(|s| s.participant_id == "iom").expect("IOM spoke");
    assert_eq!(iom.statements, 2);
    assert_eq!(iom.ms, 180_000 + 120_000);
    assert_eq!(
        iom.sessions.iter().map(|s| (s.session.as_str(), s.ms)).collect::<Vec<_>>(),
        [("imrf-2022-roundtable-1", 180_000), ("imrf-2022-hearing", 120_000)]
    );
    let mexico = forum.speakers.iter().find(|s| s.participant_id == "mexico").expect("Mexico spoke");
    assert_eq!((mexico.statements, mexico.ms), (2, 210_000 + 170_000));
    let heard: usize = forum.speakers.iter().map(|s| s.statements).sum();
    assert_eq!(heard, forum.forum.statements);

    // Pledges by objective: each session's, under each objective it serves.
    for objective in &forum.pledges_by_objective {
        let sum: usize = sessions
            .iter()
            .flat_map(|r| r.pledges_by_objective.iter().filter(|o| o.objective == objective.objective))
            .map(|o| o.pledges.len())
            .sum();
        assert_eq!(objective.pledges.len(), sum, "objective {}", objective.objective);
    }
    let seven = forum.pledges_by_objective.iter().find(|o| o.objective == 7).expect("objective 7");
    assert_eq!(
        seven.pledges.iter().map(|p| p.session.as_str()).collect::<Vec<_>>(),
        ["imrf-2022-roundtable-1", "imrf-2022-hearing"]
    );
}

fn rostrum(args: &[&str]) -> String {
    let out = Process::new(env!("CARGO_BIN_EXE_rostrum")).args(args).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn the_forums_markdown_csv_and_json_say_the_same() {
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = two_journals(dir.path());
    let args: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let with = |extra: &[&str]| {
        let mut all: Vec<&str> = vec!["report"];
        all.extend(args.iter().map(String::as_str));
        all.extend_from_slice(extra);
        rostrum(&all)
    };
    let md = with(&[]);
    assert!(md.starts_with("# The forum: 2 sessions\n"), "{md}");
    for expected in [
        "| IMRF 2022, Roundtable 1: GCM objectives 2, 5, 6, 12 and 18 | 2022-05-17 10:00 to 13:00 | 4 | 13:40 |",
        "## The forum as a whole\n\n7 statements by 5 speakers in 21:50; stakeholders 2 of the statements (28.6%) and 5:30 of the time (25.2%); 0 notes, 3 pledges.",
        "| International Organization for Migration (IOM) | UN entity | 1 · 3:00 | 1 · 2:00 | 2 · 5:00 |",
        "### Objective 7: reducing vulnerabilities",
        "## The sessions' records",
        "## IMRF 2022, informal multi-stakeholder hearing",
    ] {
        assert!(md.contains(expected), "expected {expected:?} in:\n{md}");
    }
    let json: serde_json::Value = serde_json::from_str(&with(&["--format", "json"])).expect("JSON");
    assert_eq!(json["forum"]["statements"], 7);
    assert_eq!(json["sessions"][1]["id"], "imrf-2022-hearing");
    assert_eq!(json["speakers"][0]["participant_name"], "Mexico", "most time first");
    let speakers = with(&["--format", "csv", "--table", "speakers"]);
    assert!(speakers.starts_with(&format!("{}\n", forum::SPEAKERS_COLUMNS.join(","))), "{speakers}");
    assert!(
        speakers.contains("imrf-2022-hearing,iom,International Organization for Migration (IOM),un-entity,,,1,120.000")
    );
    let turns = with(&["--format", "csv"]);
    assert!(turns.starts_with("session_id,segment_id,position,turn,"), "{turns}");
    assert_eq!(turns.lines().count(), 1 + 7, "one row a turn of either session");
    let shares = with(&["--format", "csv", "--table", "shares"]);
    assert!(shares.contains("\nforum,kind,Member State,2,380.000,29.0,28.6,"), "{shares}");
}

#[test]
fn the_running_order_is_the_open_segments_list_as_the_chair_reads_it() {
    let mut roundtable = Run::new("config/imrf-2022-roundtable-1.toml");
    // Before anything opens: the first segment's list.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = roundtable.write(&dir.path().join("before"));
    let md = rostrum(&["report", &path.display().to_string(), "--running-order"]);
    assert!(md.starts_with("# Running order: Opening remarks\n"), "{md}");
    assert!(md.contains("next to open, scheduled 10:00 to 10:15."), "{md}");
    assert!(
        md.contains(
            "| 1 | International Organization for Migration (IOM) |  |  | 3:00 | in room | inscribed in advance |"
        ),
        "{md}"
    );

    roundtable
        .at(0, &chair(), Command::OpenSegment { segment: "opening".into() })
        .at(1, &chair(), Command::OpenSegment { segment: "statements".into() })
        .floor(10, "african-group");
    let path = roundtable.write(&dir.path().join("during"));
    let md = rostrum(&["report", &path.display().to_string(), "--running-order"]);
    assert!(md.starts_with("# Running order: Statements by Member States, observers and stakeholders\n"), "{md}");
    assert!(md.contains("open, scheduled 10:15 to 12:15.\nOn the floor: African Group."), "{md}");
    assert!(md.contains("at the limits: the list ends at"), "{md}");
    let csv = rostrum(&["report", &path.display().to_string(), "--running-order", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("position,speaker,on_behalf_of,level,time_s,modality,language,why"));
    let first = lines.next().expect("a first speaker");
    assert!(first.starts_with("1,European Union,,,300,"), "{first}");
    assert!(
        first.ends_with("before Group of 77 and China: both inscribed in advance; earlier in the session file's list"),
        "{first}"
    );
    assert_eq!(csv.lines().count(), 1 + 41, "every speaker still to be heard");
}
