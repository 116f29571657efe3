use chrono::{TimeZone, Utc};

use super::*;
use crate::domain::{Actor, ConnectionStatus, EventKind};

fn t(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("valid") + chrono::Duration::seconds(secs)
}

fn event(seq: u64) -> Event {
    Event {
        seq,
        at: t(seq as i64),
        actor: Actor::chair("chair"),
        event: EventKind::ConnectionSet { participant: format!("p{seq}"), status: ConnectionStatus::AudioChecked },
        undoes: None,
    }
}

/// A journal with a header and `n` events, in a fresh directory.
fn journal(n: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let session = dir.path().join("s");
    let mut writer = Writer::create(&session, "s", "id = \"s\"\n", t(0)).expect("create");
    let events: Vec<Event> = (1..=n).map(event).collect();
    writer.append(&events[..n as usize / 2]).expect("append");
    writer.append(&events[n as usize / 2..]).expect("append");
    (dir, session.join(FILE_NAME))
}

fn damaged_line(result: Result<Contents, JournalError>) -> usize {
    match result {
        Err(JournalError::Damaged { line, .. }) => line,
        other => panic!("expected damage, got {other:?}"),
    }
}

#[test]
fn what_is_written_reads_back_and_verifies() {
    let (_dir, path) = journal(6);
    let contents = read_file(&path).expect("reads");
    assert_eq!(contents.header.session, "s");
    assert_eq!(contents.header.config, "id = \"s\"\n");
    assert_eq!(contents.events, (1..=6).map(event).collect::<Vec<_>>());
    assert!(contents.torn.is_none());
    let text = fs::read_to_string(&path).expect("text");
    assert_eq!(text.lines().count(), 7);
    assert!(text.lines().all(|l| l.ends_with("\"}") && l.contains(",\"hash\":\"")));
}

#[test]
fn appending_continues_the_chain_after_reopening() {
    let (_dir, path) = journal(3);
    let (mut writer, contents) = Writer::open(&path).expect("opens");
    assert_eq!(contents.events.len(), 3);
    writer.append(&[event(4)]).expect("append");
    assert!(writer.append(&[event(9)]).is_err(), "a gap in seq is refused");
    assert_eq!(read_file(&path).expect("reads").events.len(), 4);
}

#[test]
fn a_torn_last_line_at_any_byte_is_cut_to_a_clean_prefix() {
    let (_dir, path) = journal(4);
    let full = fs::read(&path).expect("bytes");
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(full.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1)).collect();
    let last_two = line_starts[line_starts.len() - 3];
    for cut in last_two..full.len() {
        fs::write(&path, &full[..cut]).expect("write");
        let complete = line_starts.iter().filter(|s| **s <= cut).count() - 1;
        let contents = read_file(&path).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(contents.events.len(), complete - 1, "cut at {cut}");
        assert_eq!(contents.torn.is_some(), !line_starts.contains(&cut), "cut at {cut}");
        // Opening repairs the file; appending after it verifies.
        let (mut writer, contents) = Writer::open(&path).expect("opens");
        assert_eq!(fs::metadata(&path).expect("meta").len(), contents.valid_len);
        writer.append(&[event(contents.events.len() as u64 + 1)]).expect("append");
        let after = read_file(&path).expect("verifies after repair");
        assert!(after.torn.is_none());
    }
}

#[test]
fn an_edited_line_fails_at_that_line() {
    let (_dir, path) = journal(5);
    let text = fs::read_to_string(&path).expect("text");
    let edited = text.replacen("\"p3\"", "\"p9\"", 1);
    fs::write(&path, edited).expect("write");
    assert_eq!(damaged_line(read_file(&path)), 4);
    let report = verify_report(&path).expect_err("fails");
    assert!(report.to_string().starts_with("line 4: hash chain broken"), "{report}");
}

#[test]
fn a_removed_or_reordered_line_breaks_the_chain_there() {
    let (_dir, path) = journal(5);
    let lines: Vec<String> = fs::read_to_string(&path).expect("text").lines().map(String::from).collect();
    let mut removed = lines.clone();
    removed.remove(2);
    fs::write(&path, removed.join("\n") + "\n").expect("write");
    assert_eq!(damaged_line(read_file(&path)), 3);
    let mut swapped = lines.clone();
    swapped.swap(4, 5);
    fs::write(&path, swapped.join("\n") + "\n").expect("write");
    assert_eq!(damaged_line(read_file(&path)), 5);
}

#[test]
fn garbage_and_zeroed_blocks_fail_naming_a_line_or_read_as_a_torn_tail() {
    let (_dir, path) = journal(20);
    let full = fs::read(&path).expect("bytes");
    let lines = full.iter().filter(|b| **b == b'\n').count();

    let mut garbage = full.clone();
    garbage.extend_from_slice(b"{\"seq\":21,\"garbage\":true}\n");
    fs::write(&path, &garbage).expect("write");
    assert_eq!(damaged_line(read_file(&path)), lines + 1);

    let mut unterminated = full.clone();
    unterminated.extend_from_slice(b"\x00\x00garbage");
    fs::write(&path, &unterminated).expect("write");
    assert_eq!(read_file(&path).expect("torn tail").torn, Some(TornTail { line: lines + 1, bytes: 9 }));

    for start in (0..full.len()).step_by(512) {
        let mut zeroed = full.clone();
        let end = (start + 512).min(zeroed.len());
        zeroed[start..end].fill(0);
        fs::write(&path, &zeroed).expect("write");
        match read_file(&path) {
            Err(JournalError::Damaged { line, .. }) => assert!(line >= 1 && line <= lines, "{line}"),
            Ok(contents) => assert!(contents.torn.is_some(), "zeroed at {start} but read whole"),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_file_that_is_not_a_journal_is_refused_at_line_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("j.jsonl");
    fs::write(&path, "hello\n").expect("write");
    assert_eq!(damaged_line(read_file(&path)), 1);
    fs::write(&path, "").expect("write");
    assert_eq!(damaged_line(read_file(&path)), 1);
}

#[test]
fn verify_reports_a_torn_tail_as_a_warning() {
    let (_dir, path) = journal(2);
    let mut bytes = fs::read(&path).expect("bytes");
    bytes.extend_from_slice(b"{\"seq\":3");
    fs::write(&path, &bytes).expect("write");
    let report = verify_report(&path).expect("chain intact");
    assert!(report.contains("header and 2 events"), "{report}");
    assert!(report.contains("warning: line 4 is incomplete (8 bytes"), "{report}");
}

/// What [`Index::open`] makes of a file, in the terms of [`read_file`]: the events
/// (read back through the index), the torn tail, or the damaged line.
fn indexed(path: &Path) -> Result<(Vec<Event>, Option<TornTail>), usize> {
    match Index::open(path, true) {
        Ok(index) => Ok((index.read(0, index.len()).expect("reads back"), index.torn.clone())),
        Err(JournalError::Damaged { line, .. }) => Err(line),
        Err(e) => panic!("{e}"),
    }
}

fn whole(path: &Path) -> Result<(Vec<Event>, Option<TornTail>), usize> {
    match read_file(path) {
        Ok(contents) => Ok((contents.events, contents.torn)),
        Err(JournalError::Damaged { line, .. }) => Err(line),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_index_reads_and_refuses_exactly_what_the_whole_reader_does() {
    // More than 256 lines: the index checks them on two threads.
    let (_dir, path) = journal(600);
    let full = fs::read(&path).expect("bytes");
    assert_eq!(indexed(&path), whole(&path));
    let index = Index::open(&path, true).expect("opens");
    assert_eq!(index.len(), 600);
    assert_eq!(index.read(299, 302).expect("reads"), (300..=302).map(event).collect::<Vec<_>>());
    assert_eq!(index.glances[41].at, event(42).at);
    let text = String::from_utf8(full.clone()).expect("text");
    for edit in ["\"p3\"", "\"p300\"", "\"p301\"", "\"p599\""] {
        fs::write(&path, text.replacen(edit, "\"p9\"", 1)).expect("write");
        assert_eq!(indexed(&path), whole(&path), "{edit}");
        assert!(indexed(&path).is_err(), "{edit}");
    }
    let lines: Vec<&str> = text.lines().collect();
    for (a, b) in [(1, 2), (300, 301), (301, 302), (599, 600)] {
        let mut swapped = lines.clone();
        swapped.swap(a, b);
        fs::write(&path, swapped.join("\n") + "\n").expect("write");
        assert_eq!(indexed(&path), whole(&path), "swapped {a} and {b}");
    }
    for cut in [full.len() - 1, full.len() - 100, full.len() / 2] {
        fs::write(&path, &full[..cut]).expect("write");
        assert_eq!(indexed(&path), whole(&path), "cut at {cut}");
    }
    for start in (0..full.len()).step_by(4096) {
        let mut zeroed = full.clone();
        let end = (start + 512).min(zeroed.len());
        zeroed[start..end].fill(0);
        fs::write(&path, &zeroed).expect("write");
        assert_eq!(indexed(&path), whole(&path), "zeroed at {start}");
    }
}

#[test]
fn a_line_changed_after_the_index_was_made_is_refused_when_read_again() {
    let (_dir, path) = journal(10);
    let index = Index::open(&path, true).expect("opens");
    let text = fs::read_to_string(&path).expect("text");
    // Same length, another participant: only the hash tells.
    fs::write(&path, text.replacen("\"p5\"", "\"p6\"", 1)).expect("write");
    assert!(index.read(0, 4).is_ok(), "the lines before it are unchanged");
    match index.read(3, 6) {
        Err(JournalError::Damaged { line, problem }) => {
            assert_eq!(line, 6);
            assert!(problem.contains("changed since"), "{problem}");
        }
        other => panic!("expected the changed line, got {other:?}"),
    }
}

#[test]
fn opening_at_a_checkpoint_reads_only_the_lines_around_it_and_continues_the_chain() {
    // Long enough that the hub's window starts in the middle of the file.
    let (_dir, path) = journal(3000);
    let dir = path.parent().expect("dir").to_path_buf();
    let checkpoint = dir.join(CHECKPOINT_FILE);
    let index = Index::open(&path, true).expect("opens");
    let (offset, hash) = index.head_after(2500).expect("a line");
    let epoch = index.header_hash.clone();
    drop(index);
    write_checkpoint(&dir, &epoch, &Head { seq: 2500, hash, offset }, &"the state".to_string()).expect("checkpoint");
    for recent in [0, 100, 499, 500, 501, 2999, 10_000] {
        let (mut writer, opened) = Writer::open_at_checkpoint::<String>(&path, &checkpoint, recent).expect("opens");
        assert_eq!(opened.warning, None, "recent {recent}");
        assert_eq!(opened.base.as_deref(), Some("the state"));
        assert_eq!(opened.checkpoint_seq, 2500);
        assert_eq!(opened.contents.events, (2501..=3000).map(event).collect::<Vec<_>>());
        // The events after the checkpoint, and before them as many as make up `recent`.
        let from = 3000 - recent.clamp(500, 3000) as u64 + 1;
        assert_eq!(opened.recent, (from..=3000).map(event).collect::<Vec<_>>(), "recent {recent}");
        assert_eq!(opened.contents.valid_len, fs::metadata(&path).expect("meta").len());
        writer.append(&[event(3001)]).expect("append");
        drop(writer);
        let contents = read_file(&path).expect("the chain continues");
        assert_eq!(contents.events.len(), 3001);
        // Back to 3,000 events for the next round.
        fs::write(&path, &fs::read(&path).expect("bytes")[..opened.contents.valid_len as usize]).expect("cut");
    }
    // A torn last line: cut, and the chain continues from the last complete one.
    let mut bytes = fs::read(&path).expect("bytes");
    let whole = bytes.len() as u64;
    bytes.extend_from_slice(b"{\"seq\":3001,\"at\"");
    fs::write(&path, &bytes).expect("torn");
    let (_writer, opened) = Writer::open_at_checkpoint::<String>(&path, &checkpoint, 100).expect("opens");
    assert_eq!(opened.contents.torn, Some(TornTail { line: 3002, bytes: 16 }));
    assert_eq!(fs::metadata(&path).expect("meta").len(), whole, "the torn line was cut");
}
