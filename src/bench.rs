//! `rostrum bench …`: measurements that back the claims in docs/PERFORMANCE.md.
//! They are commands, not tests: numbers depend on the machine.

pub mod cluster;
pub mod replicated;

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::domain::{self, Actor, Command, Session};
use crate::journal;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn summary(mut values: Vec<f64>) -> String {
    values.sort_by(|a, b| a.total_cmp(b));
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms (n = {})",
        percentile(&values, 50.0),
        percentile(&values, 99.0),
        percentile(&values, 99.9),
        values.last().copied().unwrap_or(f64::NAN),
        values.len()
    )
}

// ---- replay ----

/// Write a journal of `n` events from a synthetic session (inscriptions, turns,
/// notes) on the shipped roundtable, and return its path.
pub fn synthetic_journal(dir: &Path, n: usize) -> Result<PathBuf, String> {
    let source = std::fs::read_to_string("config/imrf-2022-roundtable-1.toml")
        .or_else(|_| {
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/imrf-2022-roundtable-1.toml"))
        })
        .map_err(|e| format!("config/imrf-2022-roundtable-1.toml: {e}"))?;
    let def = crate::config::parse_session(&source).map_err(|e| e.to_string())?;
    let ids: Vec<String> = def.participants.iter().map(|p| p.id.clone()).collect();
    let t0 = Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().ok_or("time")?;
    let mut session = Session::new(def.clone());
    let mut writer = journal::Writer::create(&dir.join(&def.id), &def.id, &source, t0).map_err(|e| e.to_string())?;
    let chair = Actor::chair("chair");
    let rapporteur = Actor::rapporteur("bench");
    let mut events: Vec<domain::Event> = Vec::with_capacity(n);
    let mut secs = 0i64;
    let mut i = 0usize;
    let mut decide = |session: &mut Session, command: Command, actor: &Actor, events: &mut Vec<domain::Event>| {
        secs += 3;
        if let Ok(new) = domain::decide(session, command, actor, t0 + chrono::Duration::seconds(secs)) {
            for e in &new {
                domain::apply(session, e);
            }
            events.extend(new);
        }
    };
    decide(&mut session, Command::OpenSegment { segment: "statements".into() }, &chair, &mut events);
    while events.len() < n {
        let p = ids[i % ids.len()].clone();
        i += 1;
        decide(&mut session, Command::inscribe(p), &chair, &mut events);
        if session.segments.iter().map(|s| s.list.len()).sum::<usize>() > 20 {
            let first = session.current_segment.and_then(|c| session.segments[c].list.first().map(|e| e.id));
            if let Some(entry) = first {
                decide(&mut session, Command::GiveFloor { entry, budget: None }, &chair, &mut events);
            }
            let turn = session.floor.as_ref().map(|t| t.id);
            let note = Command::AddNote {
                saved_at: None,
                client_id: format!("n{i}"),
                turn,
                text: "A note on the statement.".into(),
                objectives: vec![5],
                themes: vec![],
            };
            decide(&mut session, note, &rapporteur, &mut events);
            if let Some(turn) = turn {
                decide(&mut session, Command::EndTurn { turn }, &chair, &mut events);
            }
        }
    }
    events.truncate(n);
    for chunk in events.chunks(10_000) {
        writer.append(chunk).map_err(|e| e.to_string())?;
    }
    Ok(writer.path().to_path_buf())
}

/// How `bench replay` opens the journal: the way `rostrum replay` opened it before
/// issue 21 (read whole, every event kept), or as it does now, with or without the
/// hub's checkpoint beside the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReplayWay {
    /// The whole journal read and verified, every event parsed and kept, then folded.
    Whole,
    /// The file located and verified, events read when needed, folded from the start.
    Refold,
    /// As `refold`, with the state after the last event from the hub's checkpoint.
    Checkpoint,
}

/// Write the checkpoint the hub would have left beside a journal of `n` events that it
/// served live (one every 10,000 events): after the last multiple of 10,000 below `n`,
/// so that opening folds up to 10,000 events after it.
fn hub_checkpoint(path: &Path) -> Result<(), String> {
    let contents = journal::read_file(path).map_err(|e| e.to_string())?;
    let n = contents.events.len();
    let at = (n.saturating_sub(1) / 10_000) * 10_000;
    let def = crate::config::parse_session(&contents.header.config).map_err(|e| e.to_string())?;
    let state = Session::replay(def, &contents.events[..at]);
    let index = journal::Index::open(path, true).map_err(|e| e.to_string())?;
    let (offset, hash) = index.head_after(at as u64).ok_or("no such event")?;
    let dir = path.parent().ok_or("the journal has no directory")?;
    let head = journal::Head { seq: at as u64, hash, offset };
    journal::write_checkpoint(dir, &index.header_hash, &head, &state).map_err(|e| e.to_string())
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// `rostrum bench replay`: open a journal of `n` events as `rostrum replay` does, paint
/// the first frame, then seek to random events, painting each at 160x48. Without
/// `way`, the journal (and the hub's checkpoint beside it) is generated once, at
/// `log` if given, and each way is measured in a fresh process of this program, so
/// that its peak resident memory is its own, the ways in turn, `rounds` times.
pub fn replay(
    n: usize,
    seeks: usize,
    log: Option<&Path>,
    way: Option<ReplayWay>,
    rounds: usize,
) -> Result<String, String> {
    let Some(way) = way else {
        let dir = tempfile_dir()?;
        let path = match log {
            Some(log) => log.to_path_buf(),
            None => dir.join("journal.jsonl"),
        };
        if !path.exists() {
            let made = synthetic_journal(&dir, n)?;
            std::fs::copy(&made, &path).map_err(|e| format!("{}: {e}", path.display()))?;
            hub_checkpoint(&path)?;
        }
        let mut out = String::new();
        for way in std::iter::repeat_n(["whole", "refold", "checkpoint"], rounds.max(1)).flatten() {
            let run = Process::new(this_program()?)
                .args(["bench", "replay", "--seeks", &seeks.to_string(), "--way", way, "--log"])
                .arg(&path)
                .output()
                .map_err(|e| e.to_string())?;
            if !run.status.success() {
                return Err(format!("bench replay --way {way}: {}", String::from_utf8_lossy(&run.stderr)));
            }
            out.push_str(&String::from_utf8_lossy(&run.stdout));
        }
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(out);
    };
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let path = log.ok_or("--way needs --log")?;
    let size = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
    let checkpoint = path.with_file_name(journal::CHECKPOINT_FILE);
    let hidden = checkpoint.with_extension("json.hidden");
    let started = Instant::now();
    let player = match way {
        ReplayWay::Whole => crate::replay::Player::new(journal::read_file(path).map_err(|e| e.to_string())?, true)?,
        ReplayWay::Refold => {
            // The same journal without its checkpoint (put back afterwards).
            let _ = std::fs::rename(&checkpoint, &hidden);
            let player = crate::replay::Player::open(path, true);
            let _ = std::fs::rename(&hidden, &checkpoint);
            player?
        }
        ReplayWay::Checkpoint => crate::replay::Player::open(path, true)?,
    };
    let open = started.elapsed();
    if let Some(warning) = &player.warning {
        return Err(warning.clone());
    }
    let from = player.opened_at;
    let n = player.len();
    let keymap = crate::tui::keymap::Keymap::from_texts(None, crate::tui::keymap::Screen::Replay)?;
    let mut app = crate::tui::replay::ReplayApp::new(player, keymap, Utc::now());
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).map_err(|e| e.to_string())?;
    terminal.draw(|frame| crate::tui::replay::view::render(&app, frame)).map_err(|e| e.to_string())?;
    let first_frame = started.elapsed();
    let rss_first = peak_rss_mib();
    let mut times = Vec::with_capacity(seeks);
    let mut seek_only = Vec::with_capacity(seeks);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..seeks {
        // xorshift: spread the seeks over the whole log
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let index = (x % (n as u64 + 1)) as usize;
        let t = Instant::now();
        app.go_to(index);
        seek_only.push(t.elapsed().as_secs_f64() * 1000.0);
        terminal.draw(|frame| crate::tui::replay::view::render(&app, frame)).map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let how = match way {
        ReplayWay::Whole => "whole journal read, every event kept (as before issue 21, and --follow)".to_string(),
        ReplayWay::Refold => "events read when needed, folded from the start (no checkpoint)".to_string(),
        ReplayWay::Checkpoint => format!("events read when needed, from the hub's checkpoint at event {from}"),
    };
    Ok(format!(
        "replay, {how}: {n} events ({:.1} MB journal)\n  open {:.0} ms, first frame {:.0} ms; peak resident {:.0} MiB at the first frame, {:.0} MiB after the seeks ({:.2}x the journal)\n  seek (state at a random event): {}\n  seek + paint 160x48 ({seeks} random seeks): {}\n",
        size as f64 / 1e6,
        open.as_secs_f64() * 1000.0,
        first_frame.as_secs_f64() * 1000.0,
        rss_first,
        peak_rss_mib(),
        peak_rss_mib() * 1024.0 * 1024.0 / size as f64,
        summary(seek_only),
        summary(times)
    ))
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("rostrum-bench-{}", hex::encode(bytes)));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

// ---- hub processes ----

/// A `rostrum hub` child process on the roundtable, in a fresh data directory.
pub struct HubProcess {
    pub child: Child,
    pub addr: String,
    pub data: PathBuf,
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn session_file() -> PathBuf {
    let local = PathBuf::from("config/imrf-2022-roundtable-1.toml");
    if local.exists() {
        local
    } else {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/config/imrf-2022-roundtable-1.toml"))
    }
}

/// This program, to start hubs from (tests give the built binary instead).
fn this_program() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| e.to_string())
}

/// Start a program and read its standard output until `pick` finds what it
/// announces (an address); the rest of its output is drained in the background.
fn spawn_announcing(mut command: Process, pick: impl Fn(&str) -> Option<String>) -> Result<(Child, String), String> {
    use std::io::{BufRead, BufReader};
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().map_err(|e| e.to_string())?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("no standard output".into());
    };
    let mut lines = BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(found) = pick(&line) {
            // Keep draining so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return Ok((child, found));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Err("it did not start".into())
}

/// `rostrum hub` (the program `exe`) on `session` in `data`, listening on `listen`.
pub fn start_hub_on(
    exe: &Path,
    session: &Path,
    data: &Path,
    listen: &str,
    extra: &[&str],
) -> Result<HubProcess, String> {
    let mut command = Process::new(exe);
    command.args(["hub", "--listen", listen, "--data"]).arg(data).args(extra).arg(session);
    let (child, addr) = spawn_announcing(command, |line| line.strip_prefix("listening on ws://").map(String::from))
        .map_err(|e| format!("the hub: {e}"))?;
    Ok(HubProcess { child, addr, data: data.to_path_buf() })
}

pub fn start_hub_with(exe: &Path, data: &Path, listen: &str, extra: &[&str]) -> Result<HubProcess, String> {
    start_hub_on(exe, &session_file(), data, listen, extra)
}

pub fn start_hub(data: &Path, listen: &str, extra: &[&str]) -> Result<HubProcess, String> {
    start_hub_with(&this_program()?, data, listen, extra)
}

pub fn tokens(data: &Path) -> Result<crate::hub::Tokens, String> {
    let path = data.join("imrf-2022-roundtable-1/tokens.toml");
    toml::from_str(&std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?)
        .map_err(|e| e.to_string())
}

/// Resident memory (KiB) and CPU time (s) of a process, from /proc.
pub fn proc_usage(pid: u32) -> Option<(u64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((rss, ticks / 100.0))
}

// ---- fan-out ----

fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0)
}

/// Pull `"seq":N` and `"at":"…"` out of an event frame without a full parse.
fn seq_and_at(text: &str) -> Option<(u64, chrono::DateTime<Utc>)> {
    let seq_at = text.find("\"seq\":")? + 6;
    let digits: String = text[seq_at..].chars().take_while(|c| c.is_ascii_digit()).collect();
    let at_at = text.find("\"at\":\"")? + 6;
    let end = text[at_at..].find('"')? + at_at;
    let at = chrono::DateTime::parse_from_rfc3339(&text[at_at..end]).ok()?.with_timezone(&Utc);
    Some((digits.parse().ok()?, at))
}

#[derive(Default)]
struct Tally {
    latencies: Mutex<Vec<f64>>,
    /// Size in bytes of the largest event frame received.
    frame_bytes: AtomicUsize,
    received: AtomicU64,
    lost: AtomicU64,
    connected: AtomicUsize,
    /// Observers that could not connect, and those whose connection ended before the run did.
    refused: AtomicUsize,
    cut: AtomicUsize,
}

/// One observer: counts every event, measures publish-to-receive latency, checks
/// seqs for gaps. A slow one stops reading after connecting.
/// It counts as connected once it holds its snapshot (with `snapshot`), so that the
/// load starts after every observer has joined, however large the snapshot.
/// `stop` turns true when the run ends (a `watch`, not a `Notify`: an observer busy
/// reading at that instant must still see it, or its latencies are left out).
async fn observer(
    url: String,
    tally: Arc<Tally>,
    slow: bool,
    snapshot: bool,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Ok((ws, _)) = tokio_tungstenite::connect_async_with_config(url, Some(client_config()), false).await else {
        tally.refused.fetch_add(1, Ordering::SeqCst);
        return;
    };
    if slow || !snapshot {
        tally.connected.fetch_add(1, Ordering::SeqCst);
    }
    let (_sink, mut stream) = ws.split();
    if slow {
        let _ = stop.wait_for(|stopped| *stopped).await;
        return;
    }
    let mut last: Option<u64> = None;
    let mut latencies = Vec::new();
    loop {
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => break,
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if text.as_str().starts_with("{\"type\":\"snapshot\"") {
                        if snapshot && last.is_none() {
                            tally.connected.fetch_add(1, Ordering::SeqCst);
                        }
                        if let Some(seq) = text.as_str().find("\"seq\":").and_then(|i| text.as_str()[i + 6..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()) {
                            last = Some(seq);
                        }
                        continue;
                    }
                    if let Some((seq, at)) = seq_and_at(text.as_str()) {
                        let now = Utc::now();
                        tally.frame_bytes.fetch_max(text.len(), Ordering::Relaxed);
                        latencies.push((now - at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
                        tally.received.fetch_add(1, Ordering::Relaxed);
                        if let Some(prev) = last && seq > prev + 1 {
                            tally.lost.fetch_add(seq - prev - 1, Ordering::Relaxed);
                        }
                        last = Some(seq.max(last.unwrap_or(0)));
                    }
                }
                Some(Ok(_)) => {}
                _ => {
                    tally.cut.fetch_add(1, Ordering::SeqCst);
                    break;
                }
            }
        }
    }
    tally.latencies.lock().await.extend(latencies);
}

pub struct FanoutResult {
    pub text: String,
    pub p99: f64,
    /// Hub (or relay) CPU time per event frame delivered, in µs.
    pub cpu_per_frame_us: f64,
    /// Resident memory growth per connected observer, in KiB.
    pub kib_per_observer: f64,
    /// Size of the event frames the observers received, in bytes.
    pub frame_bytes: usize,
}

/// The load of a fan-out run.
#[derive(Clone, Copy)]
struct Load {
    observers: usize,
    slow_percent: usize,
    rate: u64,
    seconds: u64,
}

/// What a fan-out run is pointed at.
struct Target {
    label: &'static str,
    observer_url: String,
    publisher_url: String,
    publisher_token: Option<String>,
    pid: u32,
}

/// N observers, a publisher at `rate` commands a second for `seconds`.
async fn fanout_run(
    target: Target,
    publish: impl Fn(u64) -> (String, String) + Send + 'static,
    load: Load,
) -> Result<FanoutResult, String> {
    let Target { label, observer_url: url_for_observer, publisher_url, publisher_token, pid } = target;
    // The hub sends each observer a snapshot; the relay sends nothing until the load.
    let snapshot = publisher_token.is_some();
    let Load { observers, slow_percent, rate, seconds } = load;
    let tally = Arc::new(Tally::default());
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let before = proc_usage(pid);
    let slow_every = 100usize.checked_div(slow_percent).unwrap_or(usize::MAX);
    let mut tasks = Vec::new();
    for i in 0..observers {
        let slow = slow_percent > 0 && i % slow_every == 0;
        let observer = observer(url_for_observer.clone(), tally.clone(), slow, snapshot, stop.clone());
        tasks.push(tokio::spawn(observer));
        if i % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally.connected.load(Ordering::SeqCst) < observers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = proc_usage(pid);
    // The publisher.
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(publisher_url)
        .map_err(|e| e.to_string())?;
    if let Some(token) = publisher_token {
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse().map_err(|_| "token")?);
    }
    let (mut publisher, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let total = rate * seconds;
    for n in 0..total {
        ticker.tick().await;
        let (text, _) = publish(n);
        publisher.send(Message::Text(text.into())).await.map_err(|e| e.to_string())?;
        // Drain the publisher's own frames so it never blocks the hub.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_millis(0), publisher.next()).await {}
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let busy = proc_usage(pid);
    let _ = stopping.send(true);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    let latencies = std::mem::take(&mut *tally.latencies.lock().await);
    let mut sorted = latencies.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let p99 = percentile(&sorted, 99.0);
    let fast = observers - if slow_percent > 0 { observers.div_ceil(slow_every) } else { 0 };
    let expected = fast as u64 * total;
    let received = tally.received.load(Ordering::SeqCst);
    let kib_per_observer = match (before, idle) {
        (Some((b, _)), Some((i, _))) => (i.saturating_sub(b)) as f64 / observers as f64,
        _ => f64::NAN,
    };
    let cpu_s = match (idle, busy) {
        (Some((_, a)), Some((_, b))) => b - a,
        _ => f64::NAN,
    };
    let cpu_per_frame_us = cpu_s * 1e6 / received.max(1) as f64;
    let frame_bytes = tally.frame_bytes.load(Ordering::SeqCst);
    Ok(FanoutResult {
        text: format!(
            "{label}: {observers} observers ({} slow), {total} events at {rate}/s, event frames of {frame_bytes} bytes\n  latency publish→receive: {}\n  received {received} of {expected} expected by reading observers; gaps (lost) {}; observers that could not connect {}, cut off before the end {}\n  {kib_per_observer:.1} KiB per idle observer; {:.0}% of one core during the load, {cpu_per_frame_us:.1} µs of CPU per delivered frame; rss after {:.1} MiB\n",
            observers - fast,
            summary(latencies),
            tally.lost.load(Ordering::SeqCst),
            tally.refused.load(Ordering::SeqCst),
            tally.cut.load(Ordering::SeqCst),
            cpu_s / elapsed.as_secs_f64() * 100.0,
            busy.map_or(0.0, |b| b.0 as f64 / 1024.0),
        ),
        p99,
        cpu_per_frame_us,
        kib_per_observer,
        frame_bytes,
    })
}

/// What a fan-out benchmark runs.
#[derive(Debug, Clone)]
pub struct FanoutOptions {
    pub observers: usize,
    pub rate: u64,
    pub seconds: u64,
    pub slow_percent: usize,
    /// Hub, then relay, this many times: every figure is compared within its round.
    pub rounds: usize,
    /// Open the hub on a synthetic journal of this many events (0: a fresh session).
    pub journal_events: usize,
    /// The `rostrum` program serving as the hub (default: this one), to measure another build.
    pub hub_exe: Option<PathBuf>,
    /// Also measure a Node.js relay: `node` runs this script (docs/bench-relay.js), third in each round.
    pub node_relay: Option<PathBuf>,
}

/// Relay frames shaped like the hub's event frames (`seq`, `at`) and padded to `size` bytes.
fn padded_frames(size: usize) -> impl Fn(u64) -> (String, String) + Send + 'static {
    move |n: u64| {
        let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let head = format!(r#"{{"type":"event","event":{{"seq":{},"at":"{at}"}},"pad":""#, n + 1);
        let pad = "x".repeat(size.saturating_sub(head.len() + 2));
        (format!("{head}{pad}\"}}"), String::new())
    }
}

fn hub_program(hub_exe: Option<&Path>) -> Result<PathBuf, String> {
    hub_exe.map_or_else(this_program, |p| Ok(p.to_path_buf()))
}

/// A data directory for a hub: fresh, or holding a copy of a synthetic journal of
/// `events` events (generated once into `cache`).
fn hub_data(cache: &Path, events: usize) -> Result<PathBuf, String> {
    let dir = tempfile_dir()?;
    if events > 0 {
        let id = "imrf-2022-roundtable-1";
        let made = cache.join(format!("journal-{events}.jsonl"));
        if !made.exists() {
            let generated = tempfile_dir()?;
            let path = synthetic_journal(&generated, events)?;
            std::fs::copy(&path, &made).map_err(|e| e.to_string())?;
            let _ = std::fs::remove_dir_all(&generated);
        }
        std::fs::create_dir_all(dir.join(id)).map_err(|e| e.to_string())?;
        std::fs::copy(&made, dir.join(id).join(journal::FILE_NAME)).map_err(|e| e.to_string())?;
    }
    Ok(dir)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The hub under fan-out, then a bare broadcast relay under the same load with
/// event frames of the same size, alternated `rounds` times.
pub async fn fanout(options: FanoutOptions) -> Result<String, String> {
    let FanoutOptions { observers, rate, seconds, slow_percent, rounds, journal_events, hub_exe, node_relay } = options;
    let exe = hub_program(hub_exe.as_deref())?;
    let cache = tempfile_dir()?;
    let load = Load { observers, slow_percent, rate, seconds };
    let def = crate::config::parse_session(&std::fs::read_to_string(session_file()).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let remote = def
        .participants
        .iter()
        .find(|p| p.modality == crate::domain::Modality::Remote)
        .map(|p| p.id.clone())
        .ok_or("no remote participant")?;
    let mut out = format!(
        "fan-out: hub {} {}; {rounds} round(s) of hub then bare relay\n",
        exe.display(),
        if journal_events > 0 {
            format!("opened on a {journal_events}-event journal")
        } else {
            "on a fresh session".into()
        }
    );
    // The relays send frames of exactly the hub's event frame size (the largest the
    // hub sends in this run: 9-digit fractions, the longest status), so every side
    // moves the same bytes; the observers' own measure of the hub's frames is printed too.
    let total = rate * seconds;
    let frame_bytes = hub_event_frame_bytes(&remote, total);
    let mut sides = vec![Side::Hub, Side::Relay];
    if node_relay.is_some() {
        sides.push(Side::Node);
    }
    out.push_str(&format!(
        "event frames of {frame_bytes} bytes on every side; TCP_NODELAY on every side; the order of the sides rotates round by round\n"
    ));
    let mut ratios: (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = Default::default();
    for round in 1..=rounds.max(1) {
        let mut order = sides.clone();
        order.rotate_left((round - 1) % sides.len());
        let mut results: Vec<(Side, FanoutResult)> = Vec::new();
        for side in &order {
            let result = match side {
                Side::Hub => {
                    let dir = hub_data(&cache, journal_events)?;
                    let hub = start_hub_with(&exe, &dir, "127.0.0.1:0", &[])?;
                    let tokens = tokens(&dir)?;
                    let url = format!("ws://{}/v1/sessions/imrf-2022-roundtable-1", hub.addr);
                    // Toggle a remote participant's status: one small event per command.
                    let participant = remote.clone();
                    let publish = move |n: u64| {
                        let status = if n.is_multiple_of(2) { "technical-issue" } else { "connected" };
                        (
                            format!(
                                r#"{{"type":"command","id":"b{n}","command":{{"type":"set-connection","participant":"{participant}","status":"{status}"}}}}"#
                            ),
                            String::new(),
                        )
                    };
                    let target = Target {
                        label: "rostrum hub (fsync per event)",
                        observer_url: format!("{url}?token={}", tokens.observer),
                        publisher_url: url.clone(),
                        publisher_token: Some(tokens.chair.clone()),
                        pid: hub.child.id(),
                    };
                    let ours = fanout_run(target, publish, load).await?;
                    drop(hub);
                    let _ = std::fs::remove_dir_all(&dir);
                    ours
                }
                Side::Relay => {
                    let relay = start_relay()?;
                    let run =
                        relay_run(&relay, "bare tokio-tungstenite relay (no state, no journal)", frame_bytes, load);
                    run.await?
                }
                Side::Node => {
                    let Some(script) = &node_relay else { continue };
                    let mut command = Process::new("node");
                    command.arg(script);
                    let (child, addr) = spawn_announcing(command, |line| Some(line.to_string()))
                        .map_err(|e| format!("the Node relay: {e}"))?;
                    let node = Relay(child, addr);
                    relay_run(&node, "Node.js ws relay (docs/bench-relay.js)", frame_bytes, load).await?
                }
            };
            results.push((*side, result));
        }
        let of = |side: Side| results.iter().find(|(s, _)| *s == side).map(|(_, r)| r);
        let (Some(ours), Some(bare)) = (of(Side::Hub), of(Side::Relay)) else { continue };
        let (p99, cpu, memory) =
            (ours.p99 / bare.p99, ours.cpu_per_frame_us / bare.cpu_per_frame_us, ours.kib_per_observer);
        let order_text: Vec<&str> = order.iter().map(|s| s.name()).collect();
        out.push_str(&format!("round {round} (order: {})\n", order_text.join(", ")));
        for (_, result) in &results {
            out.push_str(&result.text);
        }
        out.push_str(&format!(
            "  hub / relay: p99 {p99:.2}, CPU per delivered frame {cpu:.2}; memory per idle observer {memory:.1} KiB (relay {:.1}); the hub's frames as received: {} bytes\n",
            bare.kib_per_observer, ours.frame_bytes
        ));
        if let Some(theirs) = of(Side::Node) {
            let ratio = ours.p99 / theirs.p99;
            out.push_str(&format!("  hub / Node relay: p99 {ratio:.2}\n"));
            ratios.3.push(ratio);
        }
        ratios.0.push(p99);
        ratios.1.push(cpu);
        ratios.2.push(memory);
    }
    let _ = std::fs::remove_dir_all(&cache);
    out.push_str(&format!(
        "over {} round(s), hub / relay, median (range): p99 {}, CPU per delivered frame {}; hub memory per idle observer {} KiB\n",
        ratios.0.len(),
        median_range(ratios.0),
        median_range(ratios.1),
        median_range(ratios.2)
    ));
    if !ratios.3.is_empty() {
        out.push_str(&format!("hub / Node relay p99, median (range): {}\n", median_range(ratios.3)));
    }
    Ok(out)
}

/// A relay under the fan-out load, sent frames of `frame_bytes`.
async fn relay_run(relay: &Relay, label: &'static str, frame_bytes: usize, load: Load) -> Result<FanoutResult, String> {
    let url = format!("ws://{}/", relay.1);
    let target = Target {
        label,
        observer_url: url.clone(),
        publisher_url: format!("{url}?publish"),
        publisher_token: None,
        pid: relay.0.id(),
    };
    fanout_run(target, padded_frames(frame_bytes), load).await
}

/// One side of a fan-out round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Hub,
    Relay,
    Node,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Self::Hub => "hub",
            Self::Relay => "bare relay",
            Self::Node => "Node relay",
        }
    }
}

/// "1.12 (0.98–1.30)": the median of per-round figures and their range.
fn median_range(values: Vec<f64>) -> String {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.2} ({low:.2}–{high:.2})", median(values))
}

/// The size of the largest event frame the hub sends in a fan-out run of `total`
/// status changes: computed from the hub's own types, as the hub serializes it.
fn hub_event_frame_bytes(participant: &str, total: u64) -> usize {
    use crate::domain::{Actor, ConnectionStatus, Event, EventKind};
    // A time with all nine digits of its fraction, as most of the hub's times have.
    let at = chrono::Timelike::with_nanosecond(&Utc::now(), 123_456_789).unwrap_or_else(Utc::now);
    let event = Event {
        seq: total.max(1),
        at,
        actor: Actor::chair("chair"),
        event: EventKind::ConnectionSet {
            participant: participant.to_string(),
            status: ConnectionStatus::TechnicalIssue,
        },
        undoes: None,
    };
    crate::protocol::Envelope { frame: crate::protocol::ServerFrame::Event { event: Box::new(event) }, now: at }
        .to_json()
        .len()
}

struct Relay(Child, String);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_relay() -> Result<Relay, String> {
    let mut command = Process::new(this_program()?);
    command.args(["bench", "relay"]);
    let (child, addr) =
        spawn_announcing(command, |line| Some(line.to_string())).map_err(|e| format!("the relay: {e}"))?;
    Ok(Relay(child, addr))
}

/// The baseline: a websocket relay that broadcasts what its publisher sends, and
/// nothing else. Prints its address, then serves until killed.
pub async fn relay() -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    println!("{}", listener.local_addr().map_err(|e| e.to_string())?);
    let (tx, _) = tokio::sync::broadcast::channel::<tokio_tungstenite::tungstenite::Utf8Bytes>(4096);
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        // As the hub does: a frame goes out at once, not held back by Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut publisher = false;
            #[allow(clippy::result_large_err)] // tungstenite's callback type
            let callback =
                |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                 resp: tokio_tungstenite::tungstenite::handshake::server::Response| {
                    publisher = req.uri().query() == Some("publish");
                    Ok(resp)
                };
            let Ok(ws) = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(client_config())).await
            else {
                return;
            };
            let (mut sink, mut stream) = ws.split();
            if publisher {
                while let Some(Ok(Message::Text(text))) = stream.next().await {
                    let _ = tx.send(text);
                }
            } else {
                let mut rx = tx.subscribe();
                while let Ok(text) = rx.recv().await {
                    if sink.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
            }
        });
    }
}

// ---- durability ----

fn note(n: u64) -> Command {
    Command::AddNote {
        saved_at: None,
        client_id: format!("bench-{n}"),
        turn: None,
        text: format!("note {n}"),
        objectives: vec![],
        themes: vec![],
    }
}

/// Send one command and wait for its answer; `true` if accepted.
async fn acknowledged(conn: &mut crate::client::Connection, command: Command) -> Result<bool, String> {
    use crate::protocol::ServerFrame;
    let id = conn.command(command).await.map_err(|e| e.to_string())?;
    loop {
        match conn.recv().await.map_err(|e| e.to_string())?.frame {
            ServerFrame::Accepted { id: got, .. } if got == id => return Ok(true),
            ServerFrame::Rejected { id: got, .. } if got == id => return Ok(false),
            _ => {}
        }
    }
}

/// A connection that has received its welcome and snapshot, so that reading the
/// snapshot is not counted in the first command's acknowledgement.
async fn joined(url: &str, token: &str) -> Result<crate::client::Connection, String> {
    use crate::protocol::ServerFrame;
    let mut conn = crate::client::Connection::connect(url, Some(token), None).await.map_err(|e| e.to_string())?;
    while !matches!(conn.recv().await.map_err(|e| e.to_string())?.frame, ServerFrame::Snapshot { .. }) {}
    Ok(conn)
}

/// Command acknowledgement latency with fsync per event: one at a time, then
/// `burst` connections giving a command at the same instant (group commit).
pub async fn durability(
    commands: u64,
    burst: u64,
    journal_events: usize,
    hub_exe: Option<&Path>,
) -> Result<String, String> {
    let cache = tempfile_dir()?;
    let dir = hub_data(&cache, journal_events)?;
    let hub = start_hub_with(&hub_program(hub_exe)?, &dir, "127.0.0.1:0", &[])?;
    let tokens = tokens(&dir)?;
    let url = format!("ws://{}/v1/sessions/imrf-2022-roundtable-1", hub.addr);
    let mut conn = joined(&url, &tokens.chair).await?;
    let mut single = Vec::new();
    let mut refused = 0;
    // Under the hub's per-connection rate limit (50 frames a second).
    let mut pace = tokio::time::interval(Duration::from_millis(25));
    for n in 0..commands {
        pace.tick().await;
        let t = Instant::now();
        if acknowledged(&mut conn, note(n)).await? {
            single.push(t.elapsed().as_secs_f64() * 1000.0);
        } else {
            refused += 1;
        }
    }
    let mut conns = Vec::new();
    for _ in 0..burst {
        conns.push(joined(&url, &tokens.chair).await?);
    }
    let rounds = (commands / burst.max(1)).max(1);
    let mut burst_latencies = Vec::new();
    let started = Instant::now();
    let mut next = commands;
    for _ in 0..rounds {
        let mut tasks = Vec::new();
        for mut c in conns.drain(..) {
            next += 1;
            let n = next;
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                let ok = acknowledged(&mut c, note(n)).await;
                (c, ok, t.elapsed().as_secs_f64() * 1000.0)
            }));
        }
        for task in tasks {
            let (c, ok, ms) = task.await.map_err(|e| e.to_string())?;
            if ok? {
                burst_latencies.push(ms);
            } else {
                refused += 1;
            }
            conns.push(c);
        }
    }
    let throughput = (rounds * burst) as f64 / started.elapsed().as_secs_f64();
    drop(hub);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&cache);
    let session =
        if journal_events > 0 { format!("a session of {journal_events} events") } else { "a fresh session".into() };
    Ok(format!(
        "durability: acknowledgement latency on {session}, each event fsync'd before its acknowledgement\n  one command at a time: {}\n  {burst} connections at once, {rounds} rounds: {} ({throughput:.0} commands/s)\n  refused: {refused}\n",
        summary(single),
        summary(burst_latencies)
    ))
}

// ---- reconnect storm ----

/// `clients` observers follow a hub; it is killed (-9) and restarted; each resumes
/// from its last seq. Reports how long until all have resumed, and gaps/duplicates.
pub async fn storm(clients: usize) -> Result<String, String> {
    let dir = tempfile_dir()?;
    let hub = start_hub(&dir, "127.0.0.1:0", &[])?;
    let addr = hub.addr.clone();
    let tokens = tokens(&dir)?;
    let url = format!("ws://{addr}/v1/sessions/imrf-2022-roundtable-1");
    let mut chair =
        crate::client::Connection::connect(&url, Some(&tokens.chair), None).await.map_err(|e| e.to_string())?;
    chair.command(Command::OpenSegment { segment: "statements".into() }).await.map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(chair);
    let resumed = Arc::new(AtomicUsize::new(0));
    let problems = Arc::new(AtomicU64::new(0));
    let ready = Arc::new(AtomicUsize::new(0));
    let restart_at = Arc::new(Mutex::new(None::<Instant>));
    let done_at = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (url, token) = (url.clone(), tokens.observer.clone());
        let (resumed, problems, ready, done_at) = (resumed.clone(), problems.clone(), ready.clone(), done_at.clone());
        tasks.push(tokio::spawn(async move {
            let mut replica = crate::client::Replica::default();
            let mut epoch = None;
            let mut conn = match crate::client::Connection::connect(&url, Some(&token), None).await {
                Ok(c) => c,
                Err(_) => return,
            };
            // Follow until the hub dies.
            ready.fetch_add(1, Ordering::SeqCst);
            while let Ok(env) = conn.recv().await {
                if let crate::protocol::ServerFrame::Welcome { epoch: e, .. } = &env.frame {
                    epoch = Some(e.clone());
                }
                if replica.apply(&env).is_err() {
                    problems.fetch_add(1, Ordering::SeqCst);
                }
            }
            // Reconnect with backoff, resume from the last seq held.
            let mut attempt = 0;
            let mut conn = loop {
                attempt += 1;
                tokio::time::sleep(crate::client::link::backoff(attempt)).await;
                if let Ok(c) =
                    crate::client::Connection::resume(&url, Some(&token), replica.seq(), epoch.as_deref()).await
                {
                    break c;
                }
                if attempt > 40 {
                    return;
                }
            };
            // Resumed once the events after the restart (seq 2 and 3) are held, without gaps or repeats.
            while let Ok(env) = conn.recv().await {
                match replica.apply(&env) {
                    Ok(_) => {}
                    Err(_) => {
                        problems.fetch_add(1, Ordering::SeqCst);
                    }
                }
                if replica.seq() >= Some(3) {
                    resumed.fetch_add(1, Ordering::SeqCst);
                    done_at.lock().await.push(Instant::now());
                    break;
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::SeqCst) < clients && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut hub = hub;
    let _ = hub.child.kill();
    let _ = hub.child.wait();
    let restarted = start_hub(&dir, &addr, &[])?;
    *restart_at.lock().await = Some(Instant::now());
    let started = Instant::now();
    let mut chair =
        crate::client::Connection::connect(&url, Some(&tokens.chair), None).await.map_err(|e| e.to_string())?;
    chair.command(Command::inscribe("chile")).await.map_err(|e| e.to_string())?;
    chair.command(Command::inscribe("peru")).await.map_err(|e| e.to_string())?;
    while resumed.load(Ordering::SeqCst) < clients && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = done_at.lock().await.iter().max().copied();
    for t in tasks {
        t.abort();
    }
    drop(restarted);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(format!(
        "reconnect storm: {clients} observers, hub killed (-9) and restarted\n  resumed: {} of {clients} in {:.2} s after the restart; gaps or repeats seen: {}\n",
        resumed.load(Ordering::SeqCst),
        last.map_or(f64::NAN, |l| l.duration_since(started).as_secs_f64()),
        problems.load(Ordering::SeqCst)
    ))
}

// ---- crash ----

/// What a crash run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashReport {
    pub kills: usize,
    pub acknowledged: usize,
    /// Acknowledged notes missing from the journal after the restarts (must be 0).
    pub missing: usize,
    /// Notes recorded more than once (must be 0).
    pub duplicated: usize,
    pub events: usize,
    /// An observer that resumed after every restart holds the journal's last seq.
    pub observer_in_step: bool,
    /// Gaps or repeats the observer's replica saw (must be 0).
    pub observer_problems: usize,
}

/// Kill the hub (-9) `kills` times at random moments while a chair adds notes as
/// fast as they are acknowledged and an observer follows; restart it on the same
/// data directory each time. Then check the journal against what was acknowledged.
pub async fn crash(kills: usize, dir: &Path, exe: &Path) -> Result<CrashReport, String> {
    use crate::client::{Connection, Replica};
    use crate::protocol::ServerFrame;
    let mut x: u64 = Utc::now().timestamp_subsec_nanos() as u64 | 1;
    let mut random = move |below: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % below.max(1)
    };
    let mut hub = start_hub_with(exe, dir, "127.0.0.1:0", &[])?;
    let addr = hub.addr.clone();
    let tokens = tokens(dir)?;
    let url = format!("ws://{addr}/v1/sessions/imrf-2022-roundtable-1");
    let mut acknowledged: Vec<String> = Vec::new();
    let mut replica = Replica::default();
    let mut epoch: Option<String> = None;
    let mut observer_problems = 0;
    let mut n = 0u64;
    for round in 0..=kills {
        let mut chair = Connection::connect(&url, Some(&tokens.chair), None).await.map_err(|e| e.to_string())?;
        let mut observer = Connection::resume(&url, Some(&tokens.observer), replica.seq(), epoch.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_millis(50 + random(400));
        let mut in_flight: Option<String> = None;
        loop {
            // Keep one note in flight; count it only once acknowledged.
            if in_flight.is_none() {
                n += 1;
                let id = format!("crash-{n}");
                let command = Command::AddNote {
                    saved_at: None,
                    client_id: id.clone(),
                    turn: None,
                    text: id.clone(),
                    objectives: vec![],
                    themes: vec![],
                };
                if chair.command(command).await.is_err() {
                    break;
                }
                in_flight = Some(id);
            }
            tokio::select! {
                frame = chair.recv() => match frame {
                    Ok(envelope) => match envelope.frame {
                        ServerFrame::Accepted { .. } => acknowledged.extend(in_flight.take()),
                        // Refused (the rate limit): not recorded, send the next one.
                        ServerFrame::Rejected { .. } => in_flight = None,
                        _ => {}
                    },
                    Err(_) => break,
                },
                // Look at the clock even when nothing arrives.
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                frame = observer.recv() => match frame {
                    Ok(envelope) => {
                        if let ServerFrame::Welcome { epoch: e, .. } = &envelope.frame {
                            epoch = Some(e.clone());
                        }
                        if replica.apply(&envelope).is_err() {
                            observer_problems += 1;
                        }
                    }
                    Err(_) => break,
                },
            }
            if round < kills && Instant::now() >= deadline {
                // kill -9 in the middle of whatever it is doing.
                let _ = hub.child.kill();
                let _ = hub.child.wait();
                break;
            }
            if round == kills && in_flight.is_none() && Instant::now() >= deadline {
                break;
            }
        }
        if round < kills {
            // Drain what the observer can still read, then restart on the same address.
            while let Ok(Ok(envelope)) = tokio::time::timeout(Duration::from_millis(100), observer.recv()).await {
                if replica.apply(&envelope).is_err() {
                    observer_problems += 1;
                }
            }
            let mut started = None;
            for _ in 0..50 {
                match start_hub_with(exe, dir, &addr, &[]) {
                    Ok(h) => {
                        started = Some(h);
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
            hub = started.ok_or("the hub did not restart")?;
        } else {
            // The observer catches up with the final state.
            let last = crate::journal::read_file(&dir.join("imrf-2022-roundtable-1/journal.jsonl"))
                .map_err(|e| e.to_string())?
                .events
                .len() as u64;
            let until = Instant::now() + Duration::from_secs(10);
            while replica.seq() < Some(last) && Instant::now() < until {
                match tokio::time::timeout(Duration::from_millis(200), observer.recv()).await {
                    Ok(Ok(envelope)) => {
                        if replica.apply(&envelope).is_err() {
                            observer_problems += 1;
                        }
                    }
                    Ok(Err(_)) => break,
                    Err(_) => {}
                }
            }
        }
    }
    drop(hub);
    let contents =
        crate::journal::read_file(&dir.join("imrf-2022-roundtable-1/journal.jsonl")).map_err(|e| e.to_string())?;
    let mut recorded: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in &contents.events {
        if let domain::EventKind::NoteAdded { note } = &e.event {
            *recorded.entry(note.client_id.clone()).or_default() += 1;
        }
    }
    Ok(CrashReport {
        kills,
        acknowledged: acknowledged.len(),
        missing: acknowledged.iter().filter(|id| !recorded.contains_key(*id)).count(),
        duplicated: recorded.values().filter(|n| **n > 1).count(),
        events: contents.events.len(),
        observer_in_step: replica.seq() == Some(contents.events.len() as u64),
        observer_problems,
    })
}

pub async fn crash_bench(kills: usize) -> Result<String, String> {
    let dir = tempfile_dir()?;
    let started = Instant::now();
    let report = crash(kills, &dir, &this_program()?).await;
    let _ = std::fs::remove_dir_all(&dir);
    let r = report?;
    Ok(format!(
        "crash: {} kill -9 of the hub at random moments, restarted on the same data directory ({:.0} s)\n  acknowledged notes {}, missing after restarts {}, recorded twice {}; journal {} events, chain verified\n  observer resumed after every restart: in step {}, gaps or repeats {}\n",
        r.kills,
        started.elapsed().as_secs_f64(),
        r.acknowledged,
        r.missing,
        r.duplicated,
        r.events,
        r.observer_in_step,
        r.observer_problems
    ))
}

// ---- long sessions ----

/// What one chair of the growth run saw: (seq of the event, acknowledgement ms).
type Acks = Vec<(u64, f64)>;

/// One chair giving `rate` notes a second without waiting for the answers (open
/// loop, as people press keys), until `stop`; answers are matched by id.
async fn growing_chair(
    url: String,
    token: String,
    chair: usize,
    rate: u64,
    stop: Arc<std::sync::atomic::AtomicBool>,
    top: Arc<AtomicU64>,
) -> Result<(Acks, u64, u64), String> {
    use std::collections::HashMap;
    use std::sync::atomic::AtomicBool;
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().map_err(|_| "token")?);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(client_config()), false)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sink, mut stream) = ws.split();
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut acks = Vec::new();
    let mut refused = 0u64;
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0u64;
    let stopped = |stop: &AtomicBool| stop.load(Ordering::Relaxed);
    let mut drain_until: Option<Instant> = None;
    loop {
        if drain_until.is_none() && stopped(&stop) {
            drain_until = Some(Instant::now() + Duration::from_secs(15));
        }
        if drain_until.is_some_and(|d| sent.is_empty() || Instant::now() >= d) {
            break;
        }
        tokio::select! {
            _ = ticker.tick(), if drain_until.is_none() => {
                n += 1;
                let id = format!("g{chair}-{n}");
                let text = format!(
                    r#"{{"type":"command","id":"{id}","command":{{"type":"add-note","client_id":"{id}","text":"note {n} of chair {chair}"}}}}"#
                );
                sent.insert(id, Instant::now());
                sink.send(Message::Text(text.into())).await.map_err(|e| e.to_string())?;
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str();
                    let accepted = text.starts_with(r#"{"type":"accepted""#);
                    if !accepted && !text.starts_with(r#"{"type":"rejected""#) {
                        continue;
                    }
                    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { continue };
                    let Some(at) = value.get("id").and_then(|v| v.as_str()).and_then(|id| sent.remove(id)) else {
                        continue;
                    };
                    match value.get("last_seq").and_then(serde_json::Value::as_u64) {
                        Some(seq) if accepted => {
                            top.fetch_max(seq, Ordering::Relaxed);
                            acks.push((seq, at.elapsed().as_secs_f64() * 1000.0));
                        }
                        _ => refused += 1,
                    }
                }
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
    Ok((acks, refused, sent.len() as u64))
}

/// The growth run: `chairs` chairs each giving `rate` notes a second to a fresh
/// session until its journal holds `events` events; acknowledgement latency by
/// slice of `slice` events. A hub that falls behind is stopped after three times
/// the time the run should take.
pub async fn growth(
    chairs: usize,
    rate: u64,
    events: u64,
    slice: u64,
    hub_exe: Option<&Path>,
) -> Result<String, String> {
    use std::sync::atomic::AtomicBool;
    let exe = hub_program(hub_exe)?;
    let dir = tempfile_dir()?;
    let hub = start_hub_with(&exe, &dir, "127.0.0.1:0", &[])?;
    let tokens = tokens(&dir)?;
    let url = format!("ws://{}/v1/sessions/imrf-2022-roundtable-1", hub.addr);
    let stop = Arc::new(AtomicBool::new(false));
    let top = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chair in 0..chairs {
        let (url, token, stop, top) = (url.clone(), tokens.chair.clone(), stop.clone(), top.clone());
        tasks.push(tokio::spawn(growing_chair(url, token, chair, rate, stop, top)));
    }
    let expected = Duration::from_secs_f64(events as f64 / (chairs as f64 * rate as f64).max(1.0));
    let cap = expected * 3 + Duration::from_secs(30);
    while top.load(Ordering::Relaxed) < events && started.elapsed() < cap {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (mut acks, mut refused, mut unanswered) = (Vec::new(), 0, 0);
    for task in tasks {
        let (a, r, u) = task.await.map_err(|e| e.to_string())??;
        acks.extend(a);
        refused += r;
        unanswered += u;
    }
    let reached = top.load(Ordering::Relaxed);
    drop(hub);
    let _ = std::fs::remove_dir_all(&dir);
    let mut out = format!(
        "growth: {chairs} chairs × {rate} notes/s on {}, journal 0 → {events} events\n  reached seq {reached} in {:.1} s (at the offered rate: {:.1} s); refused {refused}, unanswered at the end {unanswered}\n",
        exe.display(),
        elapsed.as_secs_f64(),
        expected.as_secs_f64()
    );
    let mut p99s = Vec::new();
    let mut from = 0;
    while from < reached.min(events) {
        let to = from + slice;
        let values: Vec<f64> = acks.iter().filter(|(seq, _)| *seq > from && *seq <= to).map(|a| a.1).collect();
        let mut sorted = values.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        p99s.push(percentile(&sorted, 99.0));
        out.push_str(&format!("  events {}–{to}: {}\n", from + 1, summary(values)));
        from = to;
    }
    if let (Some(first), Some(last)) = (p99s.first(), p99s.last()) {
        out.push_str(&format!("  p99 last slice / first slice: {:.2}\n", last / first));
    }
    Ok(out)
}

/// `rostrum report` (of the program `exe`) on synthetic journals of a quarter,
/// half and all of `events` events: wall time, the median of three runs each.
pub fn report_timing(events: usize, hub_exe: Option<&Path>) -> Result<String, String> {
    let exe = hub_program(hub_exe)?;
    let cache = tempfile_dir()?;
    let mut out = format!("report: {} report LOG > /dev/null, median of 3 runs\n", exe.display());
    let mut first: Option<(usize, f64)> = None;
    for n in [events / 4, events / 2, events] {
        let dir = hub_data(&cache, n)?;
        let log = dir.join("imrf-2022-roundtable-1").join(journal::FILE_NAME);
        let mut times = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let status = Process::new(&exe)
                .arg("report")
                .arg(&log)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("rostrum report failed on {}", log.display()));
            }
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let ms = median(times);
        let growth = first.map_or(String::new(), |(n0, t0)| {
            format!(" ({:.2}× the time of {n0} events for {:.0}× the events)", ms / t0, n as f64 / n0 as f64)
        });
        out.push_str(&format!("  {n} events: {ms:.0} ms{growth}\n"));
        first.get_or_insert((n, ms));
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&cache);
    Ok(out)
}

// ---- the room's screens ----

/// `clients` display subscriptions (`view=display`, what the hall display and the
/// speaker's timer open) on a hub process; the chair changes the floor's time
/// `commands` times, 5 a second; the latency from the chair's command to each
/// client's display frame.
pub async fn display(clients: usize, commands: u64) -> Result<String, String> {
    let data = tempfile_dir()?;
    let hub = start_hub(&data, "127.0.0.1:0", &[])?;
    let tokens = tokens(&data)?;
    let url = format!("ws://{}/v1/sessions/imrf-2022-roundtable-1", hub.addr);
    let mut chair = joined(&url, &tokens.chair).await?;
    for command in [Command::OpenSegment { segment: "opening".into() }, Command::GiveFloor { entry: 1, budget: None }] {
        if !acknowledged(&mut chair, command).await? {
            return Err("the chair's set-up was refused".into());
        }
    }
    // The turn on the floor and the last seq, from a snapshot.
    let (turn, mut seq) = {
        let mut sub =
            crate::client::Connection::connect(&url, Some(&tokens.chair), None).await.map_err(|e| e.to_string())?;
        loop {
            if let crate::protocol::ServerFrame::Snapshot { state, .. } =
                sub.recv().await.map_err(|e| e.to_string())?.frame
            {
                break (state.floor.map(|t| t.id).ok_or("no one on the floor")?, state.seq);
            }
        }
    };
    // The display clients: each records when a frame for each seq arrives.
    let sent: Arc<Mutex<std::collections::HashMap<u64, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let received = Arc::new(AtomicUsize::new(0));
    // A `watch`, not a `Notify`: a client busy reading when the run ends must still see it.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    let display_url = format!("{url}?view=display&token={}", tokens.observer);
    for _ in 0..clients {
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(display_url.as_str(), Some(client_config()), false)
                .await
                .map_err(|e| format!("a display client could not connect: {e}"))?;
        let (sent, latencies, received, mut stop) = (sent.clone(), latencies.clone(), received.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    m = ws.next() => m,
                    _ = stop.wait_for(|stopped| *stopped) => break,
                };
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    // Pings (answered by the websocket layer) and the like.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_) | Message::Binary(_))) => continue,
                    _ => break,
                };
                let at = Instant::now();
                let seq = text
                    .as_str()
                    .split("\"seq\":")
                    .nth(1)
                    .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|n| n.parse::<u64>().ok());
                if let Some(seq) = seq
                    && let Some(start) = sent.lock().await.get(&seq).copied()
                {
                    latencies.lock().await.push((at - start).as_secs_f64() * 1000.0);
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // Let every client take its first frame.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    for i in 0..commands {
        ticker.tick().await;
        let command = if i % 2 == 0 { Command::Extend { turn, secs: 30 } } else { Command::Cut { turn, secs: 30 } };
        // The seq this command records is the next one: its start is noted before it is sent.
        seq += 1;
        sent.lock().await.insert(seq, Instant::now());
        if !acknowledged(&mut chair, command).await? {
            return Err("the chair's change of time was refused".into());
        }
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let _ = stopping.send(true);
    for task in tasks {
        let _ = task.await;
    }
    let latencies = std::mem::take(&mut *latencies.lock().await);
    let expected = clients as u64 * commands;
    Ok(format!(
        "display: {clients} view=display clients, {commands} changes of the floor's time at 5/s\n  chair's command → display frame at each client: {}\n  received {} of {expected} expected frames\n",
        summary(latencies),
        received.load(Ordering::Relaxed)
    ))
}

// ---- cost per command, against history ----

/// CPU per command in this process: decide, apply and the batch's rollback point,
/// as the session task does them (no journal, no network), on a fresh session and
/// on one of `events` events; commands alternate a note and a status change.
pub fn command_cost(events: usize, commands: usize) -> Result<String, String> {
    let dir = tempfile_dir()?;
    let path = synthetic_journal(&dir, events)?;
    let contents = journal::read_file(&path).map_err(|e| e.to_string())?;
    let def = crate::config::parse_session(&contents.header.config).map_err(|e| e.to_string())?;
    let long = Session::replay(def.clone(), &contents.events);
    let fresh = Session::replay(def.clone(), contents.events.iter().take(1));
    let _ = std::fs::remove_dir_all(&dir);
    let remote = def
        .participants
        .iter()
        .find(|p| p.modality == crate::domain::Modality::Remote)
        .map(|p| p.id.clone())
        .ok_or("no remote participant")?;
    let with_rewind = std::env::var_os("ROSTRUM_BENCH_NO_REWIND").is_none();
    let run = |mut session: Session| -> (f64, f64) {
        session.index_recorded();
        let rapporteur = Actor::rapporteur("bench");
        let chair = Actor::chair("chair");
        let start = session.closed_at.unwrap_or_else(Utc::now);
        let mut per = Vec::with_capacity(commands);
        let mut rewind_ns = 0u128;
        for n in 0..commands {
            let (command, actor) = if n % 2 == 0 {
                let note = Command::AddNote {
                    saved_at: None,
                    client_id: format!("bench-{n}"),
                    turn: None,
                    text: "A note on the session.".into(),
                    objectives: vec![5],
                    themes: vec![],
                };
                (note, &rapporteur)
            } else {
                let status = if n % 4 == 1 {
                    crate::domain::ConnectionStatus::TechnicalIssue
                } else {
                    crate::domain::ConnectionStatus::Connected
                };
                (Command::SetConnection { participant: remote.clone(), status, from: None }, &chair)
            };
            let at = start + chrono::Duration::milliseconds(n as i64);
            let began = Instant::now();
            let mut rewound = 0;
            if let Ok(new) = domain::decide(&session, command, actor, at) {
                if with_rewind {
                    let point = Instant::now();
                    let rewind = session.rewind_point();
                    drop(rewind);
                    rewound = point.elapsed().as_nanos();
                    rewind_ns += rewound;
                }
                for e in &new {
                    domain::apply(&mut session, e);
                }
            }
            per.push((began.elapsed().as_nanos() - rewound) as f64 / 1000.0);
        }
        per.sort_by(f64::total_cmp);
        (percentile(&per, 50.0), rewind_ns as f64 / commands as f64 / 1000.0)
    };
    let (fresh_p50, fresh_rewind) = run(fresh);
    let (long_p50, long_rewind) = run(long);
    Ok(format!(
        "command cost in process ({commands} commands: notes and status changes)\n  fresh session: decide and apply p50 {fresh_p50:.1} µs per command; the batch's rollback point {fresh_rewind:.1} µs (mean)\n  session of {events} events: decide and apply p50 {long_p50:.1} µs per command; the batch's rollback point {long_rewind:.1} µs (mean)\n  long / fresh: {:.2}\n",
        long_p50 / fresh_p50
    ))
}

/// Opening a session of `events` events as the hub does (`rostrum hub` started,
/// until it prints its address), `rounds` times each way in turn: without a
/// checkpoint (the whole journal read, verified and folded), then from the
/// checkpoint the hub writes.
pub fn open_time(events: usize, rounds: usize) -> Result<String, String> {
    let cache = tempfile_dir()?;
    let dir = hub_data(&cache, events)?;
    let session = dir.join("imrf-2022-roundtable-1");
    let checkpoint = session.join(journal::CHECKPOINT_FILE);
    // A first start writes the checkpoint (the journal is longer than one interval).
    let hub = start_hub(&dir, "127.0.0.1:0", &[])?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !checkpoint.exists() {
        if Instant::now() > deadline {
            return Err("the hub wrote no checkpoint within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    drop(hub);
    let kept = std::fs::read(&checkpoint).map_err(|e| e.to_string())?;
    let (mut full, mut fast, mut rss_full, mut rss_fast) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        for with_checkpoint in [false, true] {
            if with_checkpoint {
                std::fs::write(&checkpoint, &kept).map_err(|e| e.to_string())?;
            } else {
                let _ = std::fs::remove_file(&checkpoint);
            }
            let began = Instant::now();
            let hub = start_hub(&dir, "127.0.0.1:0", &[])?;
            let ms = began.elapsed().as_secs_f64() * 1000.0;
            let rss = proc_usage(hub.child.id()).map_or(0.0, |(rss_kib, _)| rss_kib as f64 / 1024.0);
            if with_checkpoint {
                fast.push(ms);
                rss_fast.push(rss);
            } else {
                full.push(ms);
                rss_full.push(rss);
            }
            drop(hub);
        }
    }
    let journal_mb = std::fs::metadata(session.join(journal::FILE_NAME)).map_or(0.0, |m| m.len() as f64 / 1e6);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&cache);
    Ok(format!(
        "hub start on a {events}-event journal ({journal_mb:.1} MB), until it accepts connections, {} round(s):\n  whole journal read, verified, folded: {} ms (median {:.0}); resident {:.0} MiB\n  from the checkpoint ({:.1} MB): {} ms (median {:.0}); resident {:.0} MiB\n",
        full.len(),
        full.iter().map(|v| format!("{v:.0}")).collect::<Vec<_>>().join(", "),
        median(full.clone()),
        median(rss_full),
        kept.len() as f64 / 1e6,
        fast.iter().map(|v| format!("{v:.0}")).collect::<Vec<_>>().join(", "),
        median(fast.clone()),
        median(rss_fast),
    ))
}

// ---- the forum's summary ----

/// The forum's summary of a session (`forum::summarize`, made by the hub after
/// each change): how long it takes and how large it is, on the hearing with every
/// participant on a panel's list, as the session's record of notes grows to `notes`.
pub fn forum(notes: usize, calls: usize) -> Result<String, String> {
    let def =
        crate::config::parse_session(include_str!("../config/imrf-2022-hearing.toml")).map_err(|e| e.to_string())?;
    let mut session = Session::new(def);
    let chair = Actor::chair("bench");
    let rapporteur = Actor::rapporteur("bench");
    let start = Utc.with_ymd_and_hms(2022, 5, 16, 14, 0, 0).single().ok_or("no time")?;
    let mut step = 0i64;
    let mut run = |session: &mut Session, actor: &Actor, command: Command| {
        step += 1;
        if let Ok(events) = domain::decide(session, command, actor, start + chrono::Duration::milliseconds(step)) {
            for e in &events {
                domain::apply(session, e);
            }
        }
    };
    run(&mut session, &chair, Command::OpenSegment { segment: "opening".into() });
    run(&mut session, &chair, Command::OpenSegment { segment: "panel-1".into() });
    let ids: Vec<String> = session.def.participants.iter().map(|p| p.id.clone()).collect();
    for id in ids {
        let inscribe = Command::inscribe(id);
        run(&mut session, &chair, inscribe);
    }
    let first = session.segments[1].list.first().map(|e| e.id).ok_or("an empty list")?;
    run(&mut session, &chair, Command::GiveFloor { entry: first, budget: None });
    let listed = session.segments[1].list.len();
    let mut out =
        format!("forum summary of the hearing, {listed} speakers on the open list, {calls} summaries each:\n");
    let mut recorded = 0;
    for target in [0, notes / 10, notes] {
        while recorded < target {
            let note = Command::AddNote {
                client_id: format!("n{recorded}"),
                saved_at: None,
                turn: None,
                text: "A note on the session as a whole.".into(),
                objectives: vec![5],
                themes: vec![],
            };
            run(&mut session, &rapporteur, note);
            recorded += 1;
        }
        let mut times = Vec::with_capacity(calls);
        let mut bytes = 0;
        for _ in 0..calls {
            let began = Instant::now();
            let summary = crate::forum::summarize(&session);
            let json = serde_json::to_string(&summary).map_err(|e| e.to_string())?;
            times.push(began.elapsed().as_secs_f64() * 1e6);
            bytes = json.len();
        }
        times.sort_by(|a, b| a.total_cmp(b));
        out.push_str(&format!(
            "  {:>7} notes: summary and its JSON p50 {:.1} µs, p99 {:.1} µs, {bytes} bytes\n",
            session.notes.len(),
            percentile(&times, 50.0),
            percentile(&times, 99.0)
        ));
    }
    Ok(out)
}
