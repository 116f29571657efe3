//! End to end: the `rostrum chair` binary in tmux, driven by keys, read from the pane.
//! Polls the pane until the expected text appears (never a bare sleep).

mod common;

use std::path::Path;

use common::tmux::Pane;
use rostrum::domain::EventKind;

/// `m:ss` used on the floor line, e.g. "used 0:03 of 3:00".
fn used_seconds(pane: &str) -> Option<u64> {
    let at = pane.find("used ")?;
    let rest = &pane[at + 5..];
    let (m, rest) = rest.split_once(':')?;
    let s = rest.get(..2)?;
    Some(m.trim().parse::<u64>().ok()? * 60 + s.parse::<u64>().ok()?)
}

#[test]
fn a_chair_inscribes_gives_the_floor_ends_the_turn_and_the_journal_holds_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let command = format!(
        "{} chair {} --data {}; echo EXITED $?; sleep 30",
        env!("CARGO_BIN_EXE_rostrum"),
        root.join("config/imrf-2022-roundtable-1.toml").display(),
        data.path().display()
    );
    let tmux = Pane::start(&format!("rostrum-e2e-{}", std::process::id()), &command);
    tmux.wait_for("● hub");
    // A new session shows its join URLs once, without the chair's own.
    let pane = tmux.wait_for("Join URLs");
    assert!(pane.contains("rapporteur") && !pane.contains("chair      ws://"), "{pane}");
    tmux.keys(&["Escape"]);

    // Open the first segment: it asks first.
    tmux.keys(&["]"]);
    tmux.wait_for("Open \"Opening remarks\"?");
    tmux.keys(&["y"]);
    tmux.wait_for("✓ open \"Opening remarks\"");

    // Inscribe three speakers by typing part of their names.
    for (typed, name) in [("mexi", "Mexico"), ("kenya", "Kenya"), ("philip", "Philippines")] {
        tmux.keys(&["i"]);
        tmux.wait_for("Inscribe a speaker");
        tmux.text(typed);
        tmux.wait(name, |pane| pane.lines().any(|l| l.contains(&format!("│{name} "))));
        tmux.keys(&["Enter"]);
        tmux.wait_for(&format!("✓ inscribe {name}"));
    }
    let pane = tmux.wait_for("Speakers: 4");
    for name in ["Mexico", "Kenya", "Philippines"] {
        assert!(pane.contains(name), "{name} is on the list:\n{pane}");
    }

    // Select Mexico (second on the list, after the pre-inscribed IOM) and give it the floor.
    tmux.keys(&["Down"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("✓ floor to Mexico");
    // The countdown runs: the floor line reads the time used, and it advances.
    let first = used_seconds(&tmux.wait_for("used ")).expect("a clock on the pane");
    let pane = tmux.wait("the clock to advance", |pane| used_seconds(pane).is_some_and(|s| s >= first + 2));
    assert!(pane.contains("of 3:00"), "a national statement has 3 minutes:\n{pane}");
    assert!(pane.contains(" left"), "{pane}");

    // Ending with most of the time left asks first.
    tmux.keys(&["e"]);
    tmux.wait_for("Mexico still has");
    tmux.keys(&["y"]);
    tmux.wait_for("✓ end the turn");
    tmux.wait_for("recent: Mexico 0:0");

    tmux.keys(&["q"]);
    let pane = tmux.wait_for("EXITED");
    assert!(pane.contains("EXITED 0"), "{pane}");
    assert!(pane.contains("The session's hub has stopped. Its join URLs (the same next time"), "{pane}");
    assert!(pane.contains("imrf-2022-roundtable-1/tokens.toml"), "the delegates' tokens file is named: {pane}");

    // The journal holds those events, in order, and its chain verifies.
    let journal = data.path().join("imrf-2022-roundtable-1/journal.jsonl");
    let contents = rostrum::journal::read_file(&journal).expect("journal verifies");
    let kinds: Vec<String> = contents
        .events
        .iter()
        .map(|e| match &e.event {
            EventKind::SegmentOpened { .. } => "opened".to_string(),
            EventKind::Inscribed { entry, .. } => format!("inscribed {}", entry.participant),
            EventKind::FloorGiven { turn } => format!("floor {}", turn.entry.participant),
            EventKind::TurnEnded { used_ms, .. } => format!("ended after {}s", used_ms / 1000),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(&kinds[..5], ["opened", "inscribed mexico", "inscribed kenya", "inscribed philippines", "floor mexico"]);
    assert!(kinds[5].starts_with("ended after"), "{kinds:?}");
    assert_eq!(kinds.len(), 6);
    let EventKind::TurnEnded { used_ms, .. } = contents.events[5].event else { unreachable!() };
    assert!(used_ms >= 2_000, "the turn lasted at least the 2 s the pane showed");
}
