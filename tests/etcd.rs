//! The journal in etcd, on a real three-node cluster on 127.0.0.1 (Debian's
//! `etcd-server`; these tests fail, saying so, when it is not installed):
//! fencing, export and import, and hubs killed, stopped and taken over while
//! commands are acknowledged. Each fault test counts what was acknowledged and
//! finds every one of those commands exactly once in the exported journal.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::etcd::Cluster;
use common::*;
use rostrum::client::Connection;
use rostrum::domain::{Command, EventKind, RejectCode};
use rostrum::etcd::{Etcd, Lease};
use rostrum::journal;
use rostrum::protocol::ServerFrame;

/// One cluster at a time: the machine running the tests may have two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn rostrum() -> Process {
    Process::new(env!("CARGO_BIN_EXE_rostrum"))
}

/// A `rostrum hub --etcd` process; killed when dropped.
struct HubProcess {
    child: Child,
    addr: String,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = Process::new("kill").args(["-CONT", &self.child.id().to_string()]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl HubProcess {
    /// Wait until this hub leads the session (it says so on start, or when it
    /// takes the session over); `false` if not within `limit`.
    fn leads_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while let Ok(line) = self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            if line.starts_with("leading session ") {
                return true;
            }
        }
        false
    }

    fn signal(&self, signal: &str) {
        let status = Process::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

/// Start `rostrum hub --etcd` on a free port (it may only stand by).
fn spawn_hub(endpoints: &str, data: &Path) -> HubProcess {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = rostrum()
        .args(["hub", "--etcd", endpoints, "--lease-ttl", "2", "--listen", &addr, "--data"])
        .arg(data)
        .arg(session_file())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data.join("hub.log")).expect("log file"))
        .spawn()
        .expect("hub starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    HubProcess { child, addr, lines }
}

/// Two hubs of the same session: the first leads, the second stands by.
fn leader_and_standby(endpoints: &str, data_a: &Path, data_b: &Path) -> (HubProcess, HubProcess) {
    let mut a = spawn_hub(endpoints, data_a);
    assert!(a.leads_within(DEADLINE), "the first hub leads");
    let mut b = spawn_hub(endpoints, data_b);
    assert!(!b.leads_within(Duration::from_secs(1)), "the second stands by");
    (a, b)
}

/// A three-node cluster and two hubs of the session on it: `a` leads, `b` stands by.
struct TwoHubs {
    endpoints: String,
    data_a: tempfile::TempDir,
    data_b: tempfile::TempDir,
    a: HubProcess,
    b: HubProcess,
    /// Stopped when dropped, after the hubs.
    _cluster: Cluster,
}

async fn two_hubs() -> TwoHubs {
    let cluster = Cluster::start().await.expect("a three-node etcd cluster");
    let endpoints = cluster.endpoints();
    let (data_a, data_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = leader_and_standby(&endpoints, data_a.path(), data_b.path());
    TwoHubs { endpoints, data_a, data_b, a, b, _cluster: cluster }
}

/// The session's tokens as a hub laid them in its data directory.
fn tokens(data: &Path) -> rostrum::hub::Tokens {
    let text = std::fs::read_to_string(data.join(SESSION).join("tokens.toml")).expect("tokens file");
    toml::from_str(&text).expect("tokens parse")
}

fn chair_token(data: &Path) -> String {
    tokens(data).chair
}

async fn join(addr: &str, token: &str) -> Connection {
    let url = format!("ws://{addr}/v1/sessions/{SESSION}");
    let mut conn = Connection::connect(&url, Some(token), None).await.expect("connects");
    handshake(&mut conn).await;
    conn
}

fn note(id: &str) -> Command {
    Command::AddNote {
        saved_at: None,
        client_id: id.to_string(),
        turn: None,
        text: format!("note {id}"),
        objectives: vec![],
        themes: vec![],
    }
}

/// Export the session from etcd with the binary, verify it with the binary, and
/// count its notes by client id.
fn exported_notes(endpoints: &str, dir: &Path) -> (journal::Contents, BTreeMap<String, usize>) {
    let out = dir.join(format!("export-{}.jsonl", free_port()));
    let export = rostrum().args(["export", "--etcd", endpoints, SESSION, "--out"]).arg(&out).output().expect("runs");
    assert!(export.status.success(), "export: {}", String::from_utf8_lossy(&export.stderr));
    let verify = rostrum().arg("verify").arg(&out).output().expect("runs");
    assert!(verify.status.success(), "the chain verifies: {}", String::from_utf8_lossy(&verify.stderr));
    let contents = journal::read_file(&out).expect("reads");
    let mut notes = BTreeMap::new();
    for e in &contents.events {
        if let EventKind::NoteAdded { note } = &e.event {
            *notes.entry(note.client_id.clone()).or_insert(0) += 1;
        }
    }
    (contents, notes)
}

/// Chairs giving notes as fast as the hub takes them, each waiting for its answer;
/// what was acknowledged is recorded in `acked`. Each stops at its connection's end.
fn burst(
    addr: &str,
    token: &str,
    chairs: usize,
    tag: &str,
    acked: Arc<Mutex<BTreeSet<String>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..chairs)
        .map(|c| {
            let (addr, token, tag, acked) = (addr.to_string(), token.to_string(), tag.to_string(), acked.clone());
            tokio::spawn(async move {
                let url = format!("ws://{addr}/v1/sessions/{SESSION}");
                let Ok(mut conn) = Connection::connect(&url, Some(&token), None).await else { return };
                let mut pace = tokio::time::interval(Duration::from_millis(25));
                for n in 0.. {
                    pace.tick().await;
                    let id = format!("{tag}-{c}-{n}");
                    let Ok(sent) = conn.command(note(&id)).await else { return };
                    loop {
                        match tokio::time::timeout(DEADLINE, conn.recv()).await {
                            Ok(Ok(envelope)) => match envelope.frame {
                                ServerFrame::Accepted { id: got, .. } if got == sent => {
                                    acked.lock().expect("lock").insert(id.clone());
                                    break;
                                }
                                ServerFrame::Rejected { id: got, reason, .. } if got == sent => {
                                    eprintln!("{id} refused: {reason}");
                                    break;
                                }
                                _ => {}
                            },
                            other => {
                                eprintln!("chair {c} stops: {other:?}");
                                return;
                            }
                        }
                    }
                }
            })
        })
        .collect()
}

async fn wait_for_acks(acked: &Arc<Mutex<BTreeSet<String>>>, at_least: usize, data: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().expect("lock").len() < at_least {
        let log = || std::fs::read_to_string(data.join("hub.log")).unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "fewer than {at_least} commands acknowledged in 30 s; the hub's log:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every acknowledged note is in the journal exactly once, and none twice.
fn assert_nothing_lost_or_repeated(acked: &BTreeSet<String>, notes: &BTreeMap<String, usize>) {
    let lost: Vec<&String> = acked.iter().filter(|id| !notes.contains_key(*id)).collect();
    let twice: Vec<(&String, &usize)> = notes.iter().filter(|(_, n)| **n > 1).collect();
    assert!(lost.is_empty(), "{} acknowledged commands lost: {lost:?}", lost.len());
    assert!(twice.is_empty(), "recorded twice: {twice:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_lost_its_lease_is_fenced_and_the_new_leader_continues_the_chain() {
    let _one = SERIAL.lock().await;
    let cluster = Cluster::start().await.expect("a three-node etcd cluster");
    let etcd = Arc::new(Etcd::new(&cluster.endpoints()).expect("endpoints"));
    let me = |hub: &str| journal::etcd::LeaderInfo { hub: hub.into(), url: format!("ws://{hub}") };
    let source = std::fs::read_to_string(session_file()).expect("session file");
    let now = chrono::Utc::now();

    let lease_a = Lease::grant(etcd.clone(), 2).await.expect("lease");
    journal::etcd::campaign(&etcd, SESSION, &lease_a, &me("a"), |_| {}).await.expect("a leads");
    let mut a = journal::etcd::EtcdWriter::open(etcd.clone(), SESSION, lease_a.clone(), None, &source, now)
        .await
        .expect("a opens");
    let event = |seq: u64| rostrum::domain::Event {
        seq,
        at: now,
        actor: rostrum::domain::Actor::chair("chair"),
        undoes: None,
        event: EventKind::NoteAdded {
            note: rostrum::domain::Note {
                id: seq,
                client_id: format!("n{seq}"),
                turn: None,
                author: "chair".into(),
                text: format!("note {seq}"),
                objectives: vec![],
                themes: vec![],
                at: now,
                saved_at: None,
            },
        },
    };
    a.append(&[event(1), event(2)]).await.expect("a appends");

    // A second hub cannot lead while a holds its lease.
    let lease_b = Lease::grant(etcd.clone(), 2).await.expect("lease");
    let waiting = tokio::time::timeout(
        Duration::from_millis(800),
        journal::etcd::campaign(&etcd, SESSION, &lease_b, &me("b"), |_| {}),
    )
    .await;
    assert!(waiting.is_err(), "b must wait while a leads");

    // a's lease ends (as when its machine is lost): b leads and continues the chain.
    etcd.revoke(lease_a.id).await.expect("revoke");
    journal::etcd::campaign(&etcd, SESSION, &lease_b, &me("b"), |_| {}).await.expect("b leads");
    let contents = journal::etcd::load(&etcd, SESSION).await.expect("loads").expect("exists");
    assert_eq!(contents.events.len(), 2);
    let mut b = journal::etcd::EtcdWriter::open(etcd.clone(), SESSION, lease_b, Some(&contents), &source, now)
        .await
        .expect("b opens");
    b.append(&[event(3)]).await.expect("b appends");

    // a still believes it writes seq 3: the transaction's compare refuses it.
    match a.append(&[event(3)]).await {
        Err(journal::etcd::AppendError::Fenced(why)) => assert!(why.contains("no longer leads"), "{why}"),
        other => panic!("a must be fenced, got {other:?}"),
    }
    let contents = journal::etcd::load(&etcd, SESSION).await.expect("loads").expect("exists");
    assert_eq!(contents.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3], "the chain verified on load");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_journal_imported_into_etcd_continues_there_and_exports_back_verified() {
    let _one = SERIAL.lock().await;
    let cluster = Cluster::start().await.expect("a three-node etcd cluster");
    let endpoints = cluster.endpoints();
    let data = tempfile::tempdir().expect("temp dir");
    // A session run on a file journal, as today.
    let hub = start_hub(data.path(), rostrum::hub::Settings::default()).await;
    let mut chair = connect(&hub, &common::chair_token(&hub)).await;
    handshake(&mut chair).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    for p in ["chile", "peru"] {
        accepted(&mut chair, inscribe(p)).await;
    }
    let token = common::chair_token(&hub);
    hub.shutdown().await;
    let file = data.path().join(SESSION).join(journal::FILE_NAME);
    let import = rostrum().args(["import", "journal", "--etcd", &endpoints]).arg(&file).output().expect("runs");
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    assert!(String::from_utf8_lossy(&import.stdout).contains("(3 events) is in etcd now"));
    let again = rostrum().args(["import", "journal", "--etcd", &endpoints]).arg(&file).output().expect("runs");
    assert!(!again.status.success(), "a second import changes nothing");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a journal"));

    // A hub on etcd continues it, with the same tokens.
    let etcd_data = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(etcd_data.path().join(SESSION)).expect("dir");
    std::fs::copy(data.path().join(SESSION).join("tokens.toml"), etcd_data.path().join(SESSION).join("tokens.toml"))
        .expect("tokens");
    let mut hub = spawn_hub(&endpoints, etcd_data.path());
    assert!(hub.leads_within(DEADLINE), "the only hub leads");
    let mut chair = join(&hub.addr, &token).await;
    assert_eq!(accepted(&mut chair, inscribe("france")).await, 4, "the session continues at seq 4");
    drop(chair);
    let (contents, _) = exported_notes(&endpoints, data.path());
    assert_eq!(contents.events.len(), 4);
    let original = journal::read_file(&file).expect("file");
    assert_eq!(contents.header_hash, original.header_hash, "the same journal (same epoch)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_the_leading_hub_in_a_burst_loses_nothing_acknowledged_and_a_standby_leads_within_the_lease() {
    let _one = SERIAL.lock().await;
    let TwoHubs { endpoints, data_a, data_b, mut a, mut b, _cluster } = two_hubs().await;
    let token = chair_token(data_a.path());

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let chairs = burst(&a.addr, &token, 4, "a", acked.clone());
    wait_for_acks(&acked, 40, data_a.path()).await;
    let killed = Instant::now();
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    for c in chairs {
        let _ = c.await;
    }
    assert!(b.leads_within(Duration::from_secs(10)), "the standby takes over");
    let takeover = killed.elapsed();
    // Lease of 2 s: a standby leads within the lease, its polling and opening the journal.
    assert!(takeover < Duration::from_secs(5), "takeover took {takeover:?}");
    assert_eq!(chair_token(data_b.path()), token, "the same credentials on every hub of the session");

    // The session continues on the new leader; retried commands are not recorded twice.
    let mut chair = join(&b.addr, &token).await;
    let retried: Vec<String> = acked.lock().expect("lock").iter().take(5).cloned().collect();
    for id in &retried {
        let _ = command(&mut chair, note(id)).await;
    }
    accepted(&mut chair, note("after-takeover")).await;
    drop(chair);
    let (_, notes) = exported_notes(&endpoints, data_b.path());
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 40);
    assert_nothing_lost_or_repeated(&acked, &notes);
    assert_eq!(notes.get("after-takeover"), Some(&1));
    eprintln!("acknowledged {} before the kill, all found once; takeover in {takeover:?}", acked.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leading_hub_stopped_longer_than_its_lease_writes_nothing_when_it_resumes() {
    let _one = SERIAL.lock().await;
    let cluster = Cluster::start().await.expect("a three-node etcd cluster");
    let endpoints = cluster.endpoints();
    let (data_a, data_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let mut a = spawn_hub(&endpoints, data_a.path());
    assert!(a.leads_within(DEADLINE), "the first hub leads");
    let mut b = spawn_hub(&endpoints, data_b.path());
    let token = chair_token(data_a.path());
    let mut on_a = join(&a.addr, &token).await;
    accepted(&mut on_a, note("before-stop")).await;

    a.signal("STOP");
    assert!(b.leads_within(Duration::from_secs(10)), "the standby takes over from the stopped hub");
    let mut on_b = join(&b.addr, &token).await;
    accepted(&mut on_b, note("on-b")).await;
    // Sent to the stopped hub: it reads it when it resumes, after its lease has lapsed.
    let sent = on_a.command(note("to-the-stopped-hub")).await.expect("sends");
    a.signal("CONT");
    let (frame, _) = until(
        &mut on_a,
        |f| matches!(f, ServerFrame::Rejected { id, .. } | ServerFrame::Accepted { id, .. } if *id == sent),
    )
    .await;
    match frame {
        ServerFrame::Rejected { code, reason, .. } => {
            assert_eq!(code, RejectCode::NotLeader, "{reason}");
        }
        other => panic!("the stopped hub must not accept: {other:?}"),
    }
    // It gives up its sessions and stops.
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the deposed hub goes on running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    accepted(&mut on_b, note("after-resume")).await;
    drop(on_b);
    let (_, notes) = exported_notes(&endpoints, data_b.path());
    assert_eq!(notes.get("to-the-stopped-hub"), None, "the deposed hub wrote nothing");
    for id in ["before-stop", "on-b", "after-resume"] {
        assert_eq!(notes.get(id), Some(&1), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_etcd_leader_or_stopping_a_node_for_10_s_loses_nothing_acknowledged() {
    let _one = SERIAL.lock().await;
    let mut cluster = Cluster::start().await.expect("a three-node etcd cluster");
    let endpoints = cluster.endpoints();
    let data = tempfile::tempdir().expect("dir");
    let mut hub = spawn_hub(&endpoints, data.path());
    assert!(hub.leads_within(DEADLINE), "the hub leads");
    let token = chair_token(data.path());
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let chairs = burst(&hub.addr, &token, 2, "x", acked.clone());
    wait_for_acks(&acked, 20, data.path()).await;

    // The Raft leader dies mid-burst: etcd elects another; the hub goes on.
    let leader = cluster.leader().await.expect("leader");
    cluster.kill(leader);
    let before = acked.lock().expect("lock").len();
    wait_for_acks(&acked, before + 20, data.path()).await;
    cluster.restart(leader).expect("restarts");

    // One node stopped (not dead: its sockets accept and never answer) for 10 s.
    let stopped = (cluster.leader().await.expect("leader") + 1) % 3;
    cluster.signal(stopped, "STOP").expect("stops");
    let before = acked.lock().expect("lock").len();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let during = acked.lock().expect("lock").len() - before;
    cluster.signal(stopped, "CONT").expect("continues");
    assert!(during > 0, "commands are acknowledged while one node of three is stopped");
    assert!(hub.child.try_wait().expect("wait").is_none(), "the hub kept its lease");
    let before = acked.lock().expect("lock").len();
    wait_for_acks(&acked, before + 10, data.path()).await;
    drop(hub);
    for c in chairs {
        let _ = c.await;
    }
    let (_, notes) = exported_notes(&endpoints, data.path());
    let acked = acked.lock().expect("lock").clone();
    assert_nothing_lost_or_repeated(&acked, &notes);
    eprintln!(
        "acknowledged {} across an etcd leader kill and a 10 s stop ({during} during the stop), all found once",
        acked.len()
    );
}

/// A client's link follows the session, not a machine: the leading hub's welcome
/// lists the session's live hubs; when that hub is killed, the link resumes on
/// the standby that takes over, by `seq` and `epoch`, with nothing missed or repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chairs_link_follows_the_session_to_the_hub_that_takes_over() {
    use rostrum::client::link::{LinkCommand, LinkEvent, spawn};
    let _one = SERIAL.lock().await;
    let TwoHubs { endpoints, data_a, data_b, mut a, mut b, _cluster } = two_hubs().await;
    // The leader reads the list of live hubs every lease TTL (2 s here).
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let token = chair_token(data_a.path());
    let mut link = spawn(format!("ws://{}/v1/sessions/{SESSION}", a.addr), Some(token));
    // The forum's console too: the same secretariat token on both hubs (kept in etcd).
    let forum_tokens = |dir: &Path| {
        let text = std::fs::read_to_string(dir.join("forum-tokens.toml")).expect("forum tokens");
        toml::from_str::<rostrum::hub::ForumTokens>(&text).expect("parse")
    };
    let secretariat = forum_tokens(data_a.path()).secretariat;
    assert_eq!(forum_tokens(data_b.path()).secretariat, secretariat, "one forum, one set of tokens");
    let mut console = spawn(format!("ws://{}/v1/forum", a.addr), Some(secretariat));
    let forum_hubs = |frame: &ServerFrame| match frame {
        ServerFrame::Forum { hubs, .. } => Some(hubs.clone()),
        _ => None,
    };
    let mut console_hubs = Vec::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, console.events.recv()).await {
        if let LinkEvent::Frame(f) = &event
            && let Some(hubs) = forum_hubs(&f.frame)
        {
            console_hubs = hubs;
            break;
        }
    }
    let forum_url = |addr: &str| format!("ws://{addr}/v1/forum");
    assert_eq!(console_hubs, [forum_url(&a.addr), forum_url(&b.addr)], "the forum frame lists both hubs");
    let mut seqs: Vec<u64> = Vec::new();
    let mut snapshots = 0;
    let mut welcomes: Vec<Vec<String>> = Vec::new();
    // Feed the link's frames until `done` says so (or the deadline passes).
    async fn until(
        link: &mut rostrum::client::link::Link,
        seqs: &mut Vec<u64>,
        snapshots: &mut usize,
        welcomes: &mut Vec<Vec<String>>,
        limit: Duration,
        done: impl Fn(&LinkEvent) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, link.events.recv()).await {
            if let LinkEvent::Frame(envelope) = &event {
                match &envelope.frame {
                    ServerFrame::Welcome { hubs, .. } => welcomes.push(hubs.clone()),
                    ServerFrame::Snapshot { seq, .. } => {
                        *snapshots += 1;
                        seqs.push(*seq);
                    }
                    ServerFrame::Event { event } => seqs.push(event.seq),
                    _ => {}
                }
            }
            if done(&event) {
                return true;
            }
        }
        false
    }
    let accepted = |id: &'static str| move |e: &LinkEvent| matches!(e, LinkEvent::Frame(f) if matches!(&f.frame, ServerFrame::Accepted { id: got, .. } if got == id));
    let send = |id: &str| LinkCommand::Send { id: id.to_string(), command: note(id) };
    link.commands.send(send("before")).await.expect("sends");
    assert!(until(&mut link, &mut seqs, &mut snapshots, &mut welcomes, DEADLINE, accepted("before")).await);
    let listed = welcomes.last().cloned().unwrap_or_default();
    let session_url = |addr: &str| format!("ws://{addr}/v1/sessions/{SESSION}");
    assert_eq!(listed, [session_url(&a.addr), session_url(&b.addr)], "the welcome lists both hubs, its own first");

    let killed = Instant::now();
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    assert!(b.leads_within(Duration::from_secs(10)), "the standby takes over");
    // The link finds the new leader by itself, from the list it was given.
    let back = until(&mut link, &mut seqs, &mut snapshots, &mut welcomes, Duration::from_secs(15), |e| {
        matches!(e, LinkEvent::Connected)
    })
    .await;
    assert!(back, "the link reconnects to the standby");
    let gap = killed.elapsed();
    // The console follows the forum to the standby as well.
    let mut console_back = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, console.events.recv()).await {
        if let LinkEvent::Frame(f) = &event
            && let Some(hubs) = forum_hubs(&f.frame)
            && hubs.first() == Some(&forum_url(&b.addr))
        {
            console_back = Some(killed.elapsed());
            break;
        }
    }
    assert!(console_back.is_some(), "the forum's console is back, on the standby");
    link.commands.send(send("after")).await.expect("sends");
    assert!(until(&mut link, &mut seqs, &mut snapshots, &mut welcomes, DEADLINE, accepted("after")).await);
    assert_eq!(welcomes.last().and_then(|h| h.first()).cloned(), Some(session_url(&b.addr)), "now on the standby");
    assert_eq!(snapshots, 1, "resumed by seq and epoch: no second snapshot");
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "nothing missed or repeated: {seqs:?}");
    let (_, notes) = exported_notes(&endpoints, data_b.path());
    assert_eq!((notes.get("before"), notes.get("after")), (Some(&1), Some(&1)));
    eprintln!("the link was back on the new leader {gap:?} after the kill, the console {console_back:?}");
}

/// A standby serves the session read-only: a client on it follows what the leader
/// records, a command sent to it is refused `standby` naming the leader (and a
/// link sends it there by itself), and when the leader is killed the standby's
/// own connections go on, now able to command, with nothing missed or repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_serves_the_session_read_only_and_its_clients_command_through_the_leader() {
    use rostrum::client::link::{LinkCommand, LinkEvent, spawn};
    let _one = SERIAL.lock().await;
    let TwoHubs { endpoints, data_a, data_b, mut a, mut b, _cluster } = two_hubs().await;
    let token = chair_token(data_a.path());
    assert_eq!(chair_token(data_b.path()), token, "the standby accepts the session's credentials");
    let mut on_a = join(&a.addr, &token).await;
    accepted(&mut on_a, note("first")).await;

    // A chair on the standby: it gets the session, and what the leader records.
    let mut on_b = join(&b.addr, &token).await;
    let given = Instant::now();
    let second = accepted(&mut on_a, note("second")).await;
    let (_, seen) = until(&mut on_b, |f| matches!(f, ServerFrame::Event { event } if event.seq == second)).await;
    eprintln!("the standby's client had the leader's event {:?} after it was given", given.elapsed());
    let mut seqs: Vec<u64> = seen.iter().map(|e| e.seq).collect();
    seqs.push(second);
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "in order, nothing missed or repeated: {seqs:?}");

    // The room's display on the standby follows the leader's floor too.
    let observer = tokens(data_b.path()).observer;
    let display_url = format!("ws://{}/v1/sessions/{SESSION}?view=display&token={observer}", b.addr);
    let (mut display, _) = tokio_tungstenite::connect_async(display_url.as_str()).await.expect("the page connects");
    async fn next_display<S>(display: &mut S) -> serde_json::Value
    where
        S: futures_util::Stream<Item = tokio_tungstenite::tungstenite::Result<tokio_tungstenite::tungstenite::Message>>
            + Unpin,
    {
        use futures_util::StreamExt;
        loop {
            let frame = tokio::time::timeout(DEADLINE, display.next()).await.expect("a frame in time");
            let text = frame.expect("open").expect("a frame").into_text().expect("text").to_string();
            let value: serde_json::Value = serde_json::from_str(&text).expect("json");
            if value["type"] == "display" {
                return value["state"].clone();
            }
        }
    }
    let before = next_display(&mut display).await;
    accepted(&mut on_a, Command::OpenSegment { segment: "general".into() }).await;
    let after = next_display(&mut display).await;
    assert_ne!(before, after, "the standby's display shows the segment the leader opened");

    // A command to the standby: refused, nothing decided, the leader named.
    let sent = on_b.command(note("to-the-standby")).await.expect("sends");
    let (frame, _) = until(&mut on_b, |f| matches!(f, ServerFrame::Rejected { id, .. } if *id == sent)).await;
    let leader_url = format!("ws://{}/v1/sessions/{SESSION}", a.addr);
    match frame {
        ServerFrame::Rejected { code, leader, reason, .. } => {
            assert_eq!(code, RejectCode::Standby, "{reason}");
            assert_eq!(leader.as_deref(), Some(leader_url.as_str()), "{reason}");
            assert!(reason.contains(&leader_url), "the reason names the leader: {reason}");
        }
        other => panic!("{other:?}"),
    }

    // A link given the standby's URL: its command reaches the leader without a word.
    let mut link = spawn(format!("ws://{}/v1/sessions/{SESSION}", b.addr), Some(token.clone()));
    link.commands.send(LinkCommand::Send { id: "via-link".into(), command: note("via-link") }).await.expect("sends");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut answer = None;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, link.events.recv()).await {
        if let LinkEvent::Frame(f) = &event
            && let ServerFrame::Accepted { id, .. } | ServerFrame::Rejected { id, .. } = &f.frame
            && id == "via-link"
        {
            answer = Some(f.frame.clone());
            break;
        }
        assert!(!matches!(event, LinkEvent::NotSent { .. }), "{event:?}");
    }
    assert!(matches!(answer, Some(ServerFrame::Accepted { .. })), "the leader accepted it: {answer:?}");
    drop(link);

    // A delegate's page on the standby (it can reach no other hub): the standby
    // sends its command on to the leader, as the delegate's, and passes the answer back.
    let peru = tokens(data_b.path()).delegates["peru"].clone();
    let page_url = format!("ws://{}/v1/sessions/{SESSION}?view=display&token={peru}", b.addr);
    let (mut page, _) = tokio_tungstenite::connect_async(page_url.as_str()).await.expect("the page connects");
    let request = rostrum::protocol::ClientFrame::Command { id: "p1".into(), command: inscribe("peru") };
    {
        use futures_util::SinkExt;
        let text = serde_json::to_string(&request).expect("json");
        page.send(tokio_tungstenite::tungstenite::Message::text(text)).await.expect("sends");
    }
    let answer = loop {
        use futures_util::StreamExt;
        let frame = tokio::time::timeout(DEADLINE, page.next()).await.expect("an answer in time");
        let text = frame.expect("open").expect("a frame").into_text().expect("text").to_string();
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        if value["id"] == "p1" {
            break value;
        }
    };
    assert_eq!(answer["type"], "accepted", "the leader accepted the page's request: {answer}");
    let (frame, _) = until(
        &mut on_b,
        |f| matches!(f, ServerFrame::Event { event } if matches!(event.event, EventKind::Inscribed { .. })),
    )
    .await;
    let ServerFrame::Event { event } = frame else { unreachable!() };
    assert_eq!(event.actor.participant.as_deref(), Some("peru"), "recorded as Peru's own request");

    // The leader is lost: the standby's connection stays, and commands there now work.
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    assert!(b.leads_within(Duration::from_secs(10)), "the standby takes over");
    let after = accepted(&mut on_b, note("after-takeover")).await;
    drop(on_b);
    drop(on_a);
    let (contents, notes) = exported_notes(&endpoints, data_b.path());
    assert_eq!(contents.events.last().map(|e| e.seq), Some(after));
    for id in ["first", "second", "via-link", "after-takeover"] {
        assert_eq!(notes.get(id), Some(&1), "{id} recorded once");
    }
    assert_eq!(notes.get("to-the-standby"), None, "the standby decided nothing");
}

/// A long session in etcd opens from its checkpoint: the leading hub keeps one
/// every N events beside the journal (in parts, bound to the line it covers), a
/// hub opens from it reading only the lines after it (and the few before it that
/// resuming clients need), to the very state a full refold gives; a damaged or
/// stale checkpoint is said and the whole journal folded instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_in_etcd_opens_from_its_checkpoint_and_a_damaged_one_is_refolded() {
    use rostrum::domain::{Actor, Session};
    use rostrum::hub::{EtcdSettings, Hub, Settings};
    let _one = SERIAL.lock().await;
    let cluster = Cluster::start().await.expect("a three-node etcd cluster");
    let endpoints = cluster.endpoints();
    let etcd = Arc::new(Etcd::new(&endpoints).expect("endpoints"));
    let start = |data: std::path::PathBuf| {
        let endpoints = endpoints.clone();
        async move {
            let shared = EtcdSettings::connect(&endpoints, 2, "ws://127.0.0.1:1".into()).await.expect("etcd");
            let lease = shared.lease.id;
            let settings = Settings { etcd: Some(shared), checkpoint_every: 5, ..Settings::default() };
            let hub = Hub::start("127.0.0.1:0", &data, &[session_file()], settings).await.expect("hub starts");
            (hub, lease)
        }
    };
    let data = tempfile::tempdir().expect("dir");
    let (hub, lease) = start(data.path().join("a")).await;
    let chair = Actor::chair("chair");
    let handle = hub.session(SESSION).expect("session");
    for n in 0..12 {
        handle.command(chair.clone(), note(&format!("n{n}"))).await.expect("accepted");
    }
    // Written after the events it covers, on a task of its own.
    let deadline = Instant::now() + DEADLINE;
    let binding = loop {
        let found = etcd.get(&journal::etcd::checkpoint_key(SESSION)).await.expect("reads");
        if let Some(kv) = found
            && let Ok(cp) = serde_json::from_slice::<journal::etcd::Checkpoint>(&kv.value)
            && cp.seq == 10
        {
            break cp;
        }
        assert!(Instant::now() < deadline, "no checkpoint at event 10");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(binding.parts, 1);
    hub.shutdown().await;
    etcd.revoke(lease).await.expect("revoke");

    let whole = journal::etcd::load(&etcd, SESSION).await.expect("loads").expect("exists");
    let refolded = |def_source: &str, events: &[rostrum::domain::Event]| {
        Session::replay(rostrum::config::parse_session(def_source).expect("parses"), events)
    };
    let expected = refolded(&whole.header.config, &whole.events);
    let fold = |opened: journal::etcd::Opened<Session>| match opened.base {
        Some(mut state) => {
            for e in &opened.events {
                rostrum::domain::apply_quietly(&mut state, e);
            }
            rostrum::domain::refresh_all_reasons(&mut state);
            state
        }
        None => refolded(&opened.header.config, &opened.events),
    };
    let opened = journal::etcd::open::<Session>(&etcd, SESSION, 3).await.expect("opens").expect("exists");
    assert_eq!((opened.checkpoint_seq, opened.events.len(), &opened.warning), (10, 2, &None), "from the checkpoint");
    assert_eq!(opened.recent.iter().map(|e| e.seq).collect::<Vec<_>>(), [10, 11, 12], "the last events, for resuming");
    assert_eq!(opened.last, (12, whole.last_hash.clone()));
    assert_eq!(fold(opened), expected, "the same state as a full refold");

    // A hub opens from it and continues the chain.
    let (hub, lease) = start(data.path().join("b")).await;
    assert!(hub.reports[0].warnings.is_empty(), "{:?}", hub.reports[0].warnings);
    assert_eq!(hub.reports[0].events, 12);
    let accepted = hub.session(SESSION).expect("session").command(chair.clone(), note("after")).await.expect("ok");
    assert_eq!(accepted.last_seq, Some(13));
    hub.shutdown().await;
    etcd.revoke(lease).await.expect("revoke");
    let (contents, notes) = exported_notes(&endpoints, data.path());
    assert_eq!((contents.events.len(), notes.get("after")), (13, Some(&1)), "the chain continued and verifies");

    // A damaged part, then a checkpoint bound to another line: each is said and refolded.
    let expected = refolded(&contents.header.config, &contents.events);
    let binding = etcd.get(&journal::etcd::checkpoint_key(SESSION)).await.expect("reads").expect("binding");
    let cp: journal::etcd::Checkpoint = serde_json::from_slice(&binding.value).expect("reads");
    let part = format!("/rostrum/{SESSION}/cp/{:020}-{:016x}/000000", cp.seq, cp.writer).into_bytes();
    let original = etcd.get(&part).await.expect("reads").expect("part").value;
    let mut damaged = original.clone();
    damaged[40] ^= 1;
    etcd.put(&part, &damaged).await.expect("writes");
    let opened = journal::etcd::open::<Session>(&etcd, SESSION, 3).await.expect("opens").expect("exists");
    let warning = opened.warning.clone().unwrap_or_default();
    assert!(warning.contains("not the one it was written with"), "{warning}");
    assert_eq!((opened.checkpoint_seq, opened.events.len()), (0, 13));
    assert_eq!(fold(opened), expected);

    etcd.put(&part, &original).await.expect("writes");
    let stale = journal::etcd::Checkpoint { line_hash: whole.last_hash.clone(), ..cp };
    etcd.put(&journal::etcd::checkpoint_key(SESSION), &serde_json::to_vec(&stale).expect("json"))
        .await
        .expect("writes");
    let opened = journal::etcd::open::<Session>(&etcd, SESSION, 3).await.expect("opens").expect("exists");
    let warning = opened.warning.clone().unwrap_or_default();
    assert!(warning.contains("is not the one it was made after"), "{warning}");
    assert_eq!(fold(opened), expected);
}

/// The hall's display follows the session, not a machine: opened on the leading
/// hub, it moves to the standby when that hub is killed (its security policy
/// lets it reach the hubs the session listed), and shows what is decided there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_halls_display_follows_the_session_to_the_standby_when_its_hub_is_lost() {
    let _one = SERIAL.lock().await;
    let TwoHubs { endpoints: _, data_a, data_b, mut a, mut b, _cluster } = two_hubs().await;
    // The leader reads the list of live hubs every lease TTL (2 s here).
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let observer = tokens(data_a.path()).observer;
    let policy = rostrum::web::security_headers(&[format!("ws://{}", b.addr)]);
    assert!(policy.contains(&format!("connect-src 'self' ws://{}", b.addr)), "{policy}");
    let mut browser = common::browser::Browser::start().await;
    let url = format!("http://{}/v1/sessions/{SESSION}/display?token={observer}", a.addr);
    let page = browser.open(&url, 1280, 720).await;
    // Connected (its first display frame drawn), with the welcome's list of hubs.
    let before = browser.wait_text(&page, "the display, live", DEADLINE, |t| t.contains("Test session")).await;
    let live = "document.getElementById('link').classList.contains('down') ? 'down' : 'live'";
    assert!(!before.contains("Peru"), "nobody on the list yet: {before}");

    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    assert!(b.leads_within(Duration::from_secs(10)), "the standby takes over");
    let token = chair_token(data_b.path());
    let mut chair = join(&b.addr, &token).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    accepted(&mut chair, inscribe("peru")).await;
    let text = browser
        .wait_text(&page, "Peru inscribed on the standby", Duration::from_secs(15), |t| t.contains("Peru"))
        .await;
    assert!(text.contains("General debate"), "{text}");
    assert_eq!(browser.eval(&page, live).await, "live", "connected again, to the standby");
}

/// `rostrum replay --follow --etcd` follows the session, not a hub: it reads the
/// journal from etcd, live, and goes on through the loss of the hub that led it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_follows_a_session_in_etcd_through_the_loss_of_its_leading_hub() {
    let _one = SERIAL.lock().await;
    let TwoHubs { endpoints, data_a, data_b: _data_b, mut a, mut b, _cluster } = two_hubs().await;
    let token = chair_token(data_a.path());
    let mut chair = join(&a.addr, &token).await;
    accepted(&mut chair, Command::OpenSegment { segment: "general".into() }).await;
    accepted(&mut chair, inscribe("peru")).await;

    // The reader on its own: what a hub appends, checked line by line.
    let etcd = Arc::new(Etcd::new(&endpoints).expect("endpoints"));
    let contents = journal::etcd::load(&etcd, SESSION).await.expect("loads").expect("exists");
    let last = (contents.events.len() as u64, contents.last_hash.clone());
    let mut reader = journal::etcd::Reader::after(etcd.clone(), SESSION, last);
    assert!(reader.poll().await.expect("polls").is_empty(), "nothing new yet");
    let seq = accepted(&mut chair, note("read")).await;
    let read = reader.poll().await.expect("polls");
    assert_eq!(read.iter().map(|e| e.seq).collect::<Vec<_>>(), [seq], "the new event, once");

    let command = format!("{} replay --follow --etcd {endpoints} {SESSION}", env!("CARGO_BIN_EXE_rostrum"));
    let pane = common::tmux::Pane::start_sized("rostrum-etcd-replay", &command, 160, 48);
    pane.wait("the replay, live", |p| p.contains("LIVE") && p.contains("Peru"));
    drop(chair);
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    assert!(b.leads_within(Duration::from_secs(10)), "the standby takes over");
    let mut chair = join(&b.addr, &token).await;
    accepted(&mut chair, inscribe("chile")).await;
    pane.wait("Chile, inscribed on the new leader", |p| p.contains("Chile") && p.contains("LIVE"));
}
