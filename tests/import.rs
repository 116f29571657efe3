//! `rostrum import`: a session file's roster from a registration list and a
//! segment's pre-inscriptions from the e-Speakers list, as an operator runs them.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};

use rostrum::config::parse_session;
use rostrum::domain::{Participant, Session};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rostrum(args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_rostrum")).args(args).output().expect("rostrum runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn field(value: &str) -> String {
    if value.contains([',', '"', '\n']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value.to_string() }
}

fn kebab<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// A registration list of a roster, in the documented columns (a spreadsheet's export).
fn list_of(roster: &[Participant]) -> String {
    let mut out =
        String::from("name,kind,regional_group,constituency,level,modality,short,id,members,region,recording\n");
    for p in roster {
        let cells = [
            p.name.clone(),
            kebab(&p.kind),
            p.regional_group.map(|g| kebab(&g)).unwrap_or_default(),
            p.constituency.map(|c| kebab(&c)).unwrap_or_default(),
            p.level.map(|l| kebab(&l)).unwrap_or_default(),
            kebab(&p.modality),
            p.short.clone().unwrap_or_default(),
            p.id.clone(),
            p.members.join(";"),
            p.region.map(|r| kebab(&r)).unwrap_or_default(),
            p.recording_secs.map(|s| format!("{s}s")).unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// A copy of the hearing's session file in `dir`, and its roster.
fn hearing_in(dir: &Path) -> (PathBuf, Vec<Participant>) {
    let source = std::fs::read_to_string(root().join("config/imrf-2022-hearing.toml")).expect("the hearing");
    let roster = parse_session(&source).expect("valid").participants;
    let path = dir.join("hearing.toml");
    std::fs::write(&path, &source).expect("writes");
    (path, roster)
}

#[test]
fn a_list_of_the_hearings_participants_becomes_its_roster_and_a_second_import_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (session, roster) = hearing_in(dir.path());
    assert!(roster.len() >= 250, "the hearing has {} participants", roster.len());
    // The same participants in another order, and the file's own roster written by hand before.
    let mut shuffled = roster.clone();
    shuffled.reverse();
    let list = dir.path().join("participants.csv");
    std::fs::write(&list, list_of(&shuffled)).expect("writes");
    let before = std::fs::read_to_string(&session).expect("reads");

    let out = rostrum(&["import", "roster", &list.display().to_string(), "--into", &session.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains(&format!("{} rows became {} participants", roster.len(), roster.len())), "{said}");
    let check = rostrum(&["check", &session.display().to_string()]);
    assert!(check.status.success(), "{}", text(&check));

    // Every participant is there, as the list gives it, in the list's order.
    let after = std::fs::read_to_string(&session).expect("reads");
    let def = parse_session(&after).expect("valid");
    assert_eq!(def.participants, shuffled);
    // Everything before the roster is as it was, byte for byte.
    let head = |t: &str| t[..t.find("[[participants]]").expect("a roster")].to_string();
    assert_eq!(head(&after), head(&before));

    // Importing the same list again changes nothing, not even the file's time.
    let modified = std::fs::metadata(&session).and_then(|m| m.modified()).expect("mtime");
    let again = rostrum(&["import", "roster", &list.display().to_string(), "--into", &session.display().to_string()]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("nothing changed"), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(&session).expect("reads"), after);
    assert_eq!(std::fs::metadata(&session).and_then(|m| m.modified()).expect("mtime"), modified);
}

#[test]
fn a_list_with_bad_rows_is_refused_with_every_problem_and_the_file_is_unchanged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (session, _) = hearing_in(dir.path());
    let before = std::fs::read(&session).expect("reads");
    // A spreadsheet's export: a byte-order mark, semicolons between the columns.
    let list = dir.path().join("bad.csv");
    let rows = [
        "name;kind;regional group;constituency;level;modality",
        "Mexico;Member State;GRULAC;;minister;remote",
        "Kenya;membre-state;african;;;",
        "Atlantis;member-state;;;;",
        "mexico;member-state;grulac;;;",
        "Migrant Forum;stakeholder;;civil societ;;",
        "Peru;member-state;grulac;;;in-room;extra",
    ];
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(rows.join("\n").into_bytes());
    std::fs::write(&list, bytes).expect("writes");

    let out = rostrum(&["import", "roster", &list.display().to_string(), "--into", &session.display().to_string()]);
    assert!(!out.status.success());
    let said = text(&out);
    let l = list.display().to_string();
    for expected in [
        format!("{l}: it begins with a UTF-8 byte-order mark (BOM), which was skipped"),
        format!("{l}: read as semicolon-separated"),
        format!("{l}:3:7: column `kind`: `kind` cannot be \"membre-state\" (did you mean `member-state`?)"),
        format!("{l}:4:23: column `regional group`: member State \"atlantis\" needs a `regional_group`"),
        format!("{l}:5:1: column `name`: \"mexico\" is on line 2 already: a participant is listed once"),
        format!(
            "{l}:6:28: column `constituency`: `constituency` cannot be \"civil societ\" (did you mean `civil-society`?)"
        ),
        format!("{l}:7:36: a stray field \"extra\" after the last column (`modality`)"),
        "5 problem(s); nothing was written to".to_string(),
    ] {
        assert!(said.contains(&expected), "expected {expected:?} in:\n{said}");
    }
    assert_eq!(std::fs::read(&session).expect("reads"), before, "the session file is unchanged");
}

#[test]
fn a_roster_that_leaves_out_an_inscribed_speaker_is_refused_at_the_session_files_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (session, roster) = hearing_in(dir.path());
    let source = std::fs::read_to_string(&session).expect("reads");
    let without: Vec<Participant> = roster.iter().filter(|p| p.id != "gcm-coalition").cloned().collect();
    let list = dir.path().join("participants.csv");
    std::fs::write(&list, list_of(&without)).expect("writes");
    let out = rostrum(&["import", "roster", &list.display().to_string(), "--into", &session.display().to_string()]);
    assert!(!out.status.success());
    // The opening segment inscribes it: the problem is at that line of the file as it is.
    let line = source.lines().position(|l| l.contains("\"gcm-coalition\"")).expect("inscribed") + 1;
    let said = text(&out);
    assert!(
        said.contains(&format!("hearing.toml:{line}:"))
            && said.contains("unknown participant \"gcm-coalition\" in `inscribed`"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&session).expect("reads"), source);
}

#[test]
fn the_e_speakers_list_inscribes_in_advance_with_its_times_and_in_their_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = std::fs::read_to_string(root().join("config/imrf-2022-roundtable-1.toml")).expect("reads");
    let session = dir.path().join("roundtable.toml");
    std::fs::write(&session, &source).expect("writes");
    let list = dir.path().join("e-speakers.csv");
    // Names as the list gives them (one by its short name), times in the session's zone.
    std::fs::write(
        &list,
        "Delegation,Time\nKenya,2022-05-10 09:30:05\nMexico,2022-05-10 09:12\nIOM,2022-05-11 10:00\n",
    )
    .expect("writes");
    let args = ["import", "inscriptions", &list.display().to_string(), "--into", &session.display().to_string()];
    let out = rostrum(&[&args[..], &["--segment", "closing"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 speakers added"), "{}", text(&out));
    let after = std::fs::read_to_string(&session).expect("reads");
    let def = parse_session(&after).expect("valid");
    let closing = def.segments.iter().find(|s| s.id == "closing").expect("closing");
    assert_eq!(closing.inscribed, ["mexico", "kenya", "iom"], "in the order of inscription");
    // The session starts with them on the list, inscribed when the list says.
    let state = Session::new(def.clone());
    let index = def.segments.iter().position(|s| s.id == "closing").expect("closing");
    let times: Vec<String> =
        state.segments[index].list.iter().map(|e| e.inscribed_at.format("%Y-%m-%d %H:%M:%S").to_string()).collect();
    assert_eq!(times, ["2022-05-10 13:12:00", "2022-05-10 13:30:05", "2022-05-11 14:00:00"], "UTC");
    // Only the closing segment's text changed.
    let changed: Vec<&str> = after.lines().filter(|l| !source.lines().any(|s| s == *l)).collect();
    assert!(changed.iter().all(|l| l.starts_with("inscribed = [") || l.contains("participant = ")), "{changed:?}");
    // Again: nothing changes.
    let again = rostrum(&[&args[..], &["--segment", "closing"]].concat());
    assert!(text(&again).contains("nothing changed"), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(&session).expect("reads"), after);

    // A name the roster does not have, and a time that is not one: both said, nothing written.
    std::fs::write(&list, "name,time\nPhilipines,2022-05-10 09:12\nNepal,yesterday\n").expect("writes");
    let out = rostrum(&[&args[..], &["--segment", "closing"]].concat());
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains(
            ":2:1: column `name`: \"Philipines\" is not in the session's roster (did you mean `Philippines`?)"
        ),
        "{said}"
    );
    assert!(said.contains(":3:7: column `time`: \"yesterday\" is not a time"), "{said}");
    assert_eq!(std::fs::read_to_string(&session).expect("reads"), after);
}
