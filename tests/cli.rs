//! The `rostrum` binary as an operator runs it: check, verify, and a hub process
//! that is killed and restarted on its data directory.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rostrum::client::Connection;
use rostrum::domain::Command;
use rostrum::hub::Tokens;
use rostrum::protocol::ServerFrame;

fn rostrum() -> Process {
    Process::new(env!("CARGO_BIN_EXE_rostrum"))
}

/// A hub process; killed when dropped.
struct HubProcess {
    child: Child,
    addr: String,
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `rostrum hub` on a free port and read its banner until it listens.
fn spawn_hub(data: &Path) -> (HubProcess, Vec<String>) {
    let child = rostrum()
        .args(["hub", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg(session_file())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("hub starts");
    // Owned by the guard at once, so a failed assertion still kills it.
    let mut hub = HubProcess { child, addr: String::new() };
    let stdout = hub.child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut banner = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("banner in time");
        if let Some(addr) = line.strip_prefix("listening on ws://") {
            let addr = addr.to_string();
            banner.push(line);
            // The join URLs follow the address line; wait until they are printed.
            while let Ok(more) = rx.recv_timeout(Duration::from_millis(200)) {
                banner.push(more);
            }
            hub.addr = addr;
            return (hub, banner);
        }
        banner.push(line);
    }
}

fn tokens(data: &Path) -> Tokens {
    let text = std::fs::read_to_string(data.join(SESSION).join("tokens.toml")).expect("tokens file");
    toml::from_str(&text).expect("tokens parse")
}

async fn connect_to(addr: &str, token: &str) -> Connection {
    let url = format!("ws://{addr}/v1/sessions/{SESSION}");
    Connection::connect(&url, Some(token), None).await.expect("connects")
}

async fn snapshot(conn: &mut Connection) -> rostrum::domain::Session {
    recv(conn).await;
    match recv(conn).await.frame {
        ServerFrame::Snapshot { state, .. } => *state,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

#[tokio::test]
async fn a_hub_killed_and_restarted_has_every_acknowledged_event_and_continues() {
    let data = tempfile::tempdir().expect("temp dir");
    let (mut hub, banner) = spawn_hub(data.path());
    assert!(banner.iter().any(|l| l.starts_with("session test-session (new)")), "{banner:?}");
    let chair_token = tokens(data.path()).chair;
    assert!(banner.iter().any(|l| l.contains(&format!("?token={chair_token}"))), "join URLs are printed");
    assert!(banner.iter().any(|l| l.ends_with("(Test Chair's own)")), "a person's own URL says whose: {banner:?}");
    let mut chair = connect_to(&hub.addr, &chair_token).await;
    snapshot(&mut chair).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    for p in ["chile", "peru", "france"] {
        accepted(&mut chair, inscribe(p)).await;
    }
    let acknowledged = accepted(&mut chair, Command::GiveFloor { entry: 4, budget: None }).await;
    let turn = 6;

    // kill -9: no chance to finish anything.
    hub.child.kill().expect("killed");
    hub.child.wait().expect("reaped");
    drop(hub);

    let (hub, banner) = spawn_hub(data.path());
    assert!(
        banner
            .iter()
            .any(|l| l == &format!("session test-session (resumed after {acknowledged} events): Test session")),
        "{banner:?}"
    );
    let mut chair = connect_to(&hub.addr, &chair_token).await;
    let state = snapshot(&mut chair).await;
    assert_eq!(state.seq, acknowledged, "every acknowledged event survived");
    let floor = state.floor.as_ref().expect("Chile still holds the floor");
    assert_eq!((floor.id, floor.entry.participant.as_str()), (turn, "peru"));
    assert!(floor.running_since.is_some(), "the clock kept running across the restart");
    let list: Vec<&str> = state.segments[0].list.iter().map(|e| e.participant.as_str()).collect();
    assert_eq!(list, ["france", "chile"]);
    // The session continues where it stopped.
    let next = accepted(&mut chair, Command::EndTurn { turn }).await;
    assert_eq!(next, acknowledged + 1);
    drop(hub);

    let journal = data.path().join(SESSION).join("journal.jsonl");
    let verify = rostrum().arg("verify").arg(&journal).output().expect("runs");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    assert!(String::from_utf8_lossy(&verify.stdout).contains(&format!("header and {next} events")));
}

#[tokio::test]
async fn a_journal_with_a_torn_tail_opens_and_the_cut_is_reported() {
    let data = tempfile::tempdir().expect("temp dir");
    let (hub, _) = spawn_hub(data.path());
    let mut chair = connect_to(&hub.addr, &tokens(data.path()).chair).await;
    snapshot(&mut chair).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    drop(hub);
    // A crash mid-write leaves half a line.
    let journal = data.path().join(SESSION).join("journal.jsonl");
    let mut bytes = std::fs::read(&journal).expect("journal");
    bytes.extend_from_slice(br#"{"seq":2,"at":"2022-05-17T14:00:00Z","actor":{"ro"#);
    std::fs::write(&journal, &bytes).expect("write");

    let (hub, banner) = spawn_hub(data.path());
    let warning = banner.iter().find(|l| l.contains("warning:")).expect("the cut is reported");
    assert!(warning.contains("line 3 is incomplete (49 bytes"), "{warning}");
    let mut chair = connect_to(&hub.addr, &tokens(data.path()).chair).await;
    assert_eq!(snapshot(&mut chair).await.seq, 1);
    assert_eq!(accepted(&mut chair, inscribe("chile")).await, 2);
}

#[test]
fn a_chair_target_that_is_neither_a_file_nor_a_session_url_says_what_it_may_be() {
    for target in ["http://127.0.0.1:7878/", "ws://127.0.0.1:7878/"] {
        let out = rostrum().args(["chair", target, "--token", "t"]).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{target}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("ws://HOST:PORT/v1/sessions/SESSION-ID"), "{target}: {err}");
    }
    let out = rostrum().args(["chair", "no-such-file.toml"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no such session file; a chair target is a session file (TOML) or a hub's session URL"),
        "{err}"
    );
}

#[test]
fn verify_names_the_first_bad_line_of_an_edited_journal() {
    let data = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let hub = start_hub(data.path(), rostrum::hub::Settings::default()).await;
        let mut chair = connect(&hub, &chair_token(&hub)).await;
        handshake(&mut chair).await;
        accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
        for p in ["chile", "peru", "france"] {
            accepted(&mut chair, inscribe(p)).await;
        }
        hub.shutdown().await;
    });
    let journal = data.path().join(SESSION).join("journal.jsonl");
    let ok = rostrum().arg("verify").arg(&journal).output().expect("runs");
    assert!(ok.status.success());
    let text = std::fs::read_to_string(&journal).expect("journal");
    std::fs::write(&journal, text.replacen("\"peru\"", "\"chad\"", 1)).expect("edit");
    let bad = rostrum().arg("verify").arg(&journal).output().expect("runs");
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("line 4: hash chain broken"), "{stderr}");
}

#[test]
fn check_prints_every_problem_with_line_and_column_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.toml");
    let source = std::fs::read_to_string(session_file())
        .expect("read")
        .replace("national = \"3m\"", "national = \"three minutes\"")
        .replace("inscribed = [\"chile\", \"ngo-a\"]", "inscribed = [\"chile\", \"ngo-z\"]");
    std::fs::write(&file, source).expect("write");
    let out = rostrum().arg("check").arg(&file).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown = file.display();
    assert!(stderr.contains(&format!("{shown}:9:12: `national`: bad duration \"three minutes\"")), "{stderr}");
    assert!(stderr.contains(&format!("{shown}:40:23: unknown participant \"ngo-z\" in `inscribed`")), "{stderr}");
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    let good = rostrum().args(["check"]).arg(session_file()).output().expect("runs");
    assert!(good.status.success());
}

#[test]
fn sigterm_stops_the_hub_cleanly_with_exit_0() {
    let data = tempfile::tempdir().expect("temp dir");
    let (mut hub, _) = spawn_hub(data.path());
    let pid = hub.child.id().to_string();
    let status = Process::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(exit) = hub.child.try_wait().expect("wait") {
            assert!(exit.success(), "exit status {exit:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the hub did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The short form of `rostrum bench crash` (the long form, 200 kills, is in
/// docs/PERFORMANCE.md): a few kill -9 at random moments.
#[tokio::test]
async fn acknowledged_events_survive_random_kills_and_observers_resume() {
    let data = tempfile::tempdir().expect("temp dir");
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_rostrum"));
    let report = rostrum::bench::crash(3, data.path(), binary).await.expect("runs");
    assert_eq!(report.kills, 3);
    assert!(report.acknowledged > 0, "{report:?}");
    assert_eq!((report.missing, report.duplicated), (0, 0), "{report:?}");
    assert!(report.observer_in_step, "{report:?}");
    assert_eq!(report.observer_problems, 0, "{report:?}");
}
