//! Benchmarks of the journal in etcd, each on a three-node cluster it starts on
//! 127.0.0.1 (Debian's `etcd-server`): acknowledgement latency against the file
//! journal in the same run, opening a long session, and hub failover.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::cluster::Cluster;
use super::{acknowledged, joined, note, summary, tempfile_dir};

const SESSION: &str = "imrf-2022-roundtable-1";

/// Latencies (ms) of `commands` notes one at a time, and of `chairs` connections
/// each giving one at the same instant, `rounds` times.
async fn ack_latencies(url: &str, token: &str, commands: u64, chairs: usize) -> Result<(Vec<f64>, Vec<f64>), String> {
    let mut conn = joined(url, token).await?;
    let mut single = Vec::new();
    let mut pace = tokio::time::interval(Duration::from_millis(25));
    for n in 0..commands {
        pace.tick().await;
        let t = Instant::now();
        if acknowledged(&mut conn, note(n)).await? {
            single.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let mut conns = Vec::new();
    for _ in 0..chairs {
        conns.push(joined(url, token).await?);
    }
    let rounds = (commands / chairs.max(1) as u64).max(1);
    let mut many = Vec::new();
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
                many.push(ms);
            }
            conns.push(c);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Ok((single, many))
}

/// `rostrum bench durability --etcd`: the same measurement on a file journal and
/// on a three-node etcd cluster, then the time to open a long session from etcd.
pub async fn durability_etcd(commands: u64, chairs: usize, open_events: usize) -> Result<String, String> {
    let mut out = String::from("durability: file journal against etcd (3 nodes on 127.0.0.1), same run\n");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // The file journal.
    let dir = tempfile_dir()?;
    let hub = super::start_hub_with(&exe, &dir, "127.0.0.1:0", &[])?;
    let tokens = super::tokens(&dir)?;
    let url = format!("ws://{}/v1/sessions/{SESSION}", hub.addr);
    let (single, many) = ack_latencies(&url, &tokens.chair, commands, chairs).await?;
    out.push_str(&format!("  file, 1 chair:     {}\n", summary(single)));
    out.push_str(&format!("  file, {chairs} chairs:    {}\n", summary(many)));
    drop(hub);
    let _ = std::fs::remove_dir_all(&dir);
    // etcd.
    let cluster = Cluster::start().await?;
    let dir = tempfile_dir()?;
    let endpoints = cluster.endpoints();
    let hub = super::start_hub_with(&exe, &dir, "127.0.0.1:0", &["--etcd", &endpoints])?;
    let tokens = super::tokens(&dir)?;
    let url = format!("ws://{}/v1/sessions/{SESSION}", hub.addr);
    let (single, many) = ack_latencies(&url, &tokens.chair, commands, chairs).await?;
    out.push_str(&format!("  etcd, 1 chair:     {}\n", summary(single)));
    out.push_str(&format!("  etcd, {chairs} chairs:    {}\n", summary(many)));
    drop(hub);
    // The floor under the hub's figure: the same cluster taking a transaction of
    // the group commit's shape (a compare on a head, an event line and the head
    // put) from this process directly, one at a time, at the same pace.
    out.push_str(&format!("  etcd alone, 1 writer: {}\n", summary(etcd_alone(&endpoints, commands).await?)));
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
    if open_events > 0 {
        out.push_str(&open_from_etcd(&exe, open_events).await?);
    }
    Ok(out)
}

/// Latencies (ms) of `commands` transactions shaped like one event's group commit.
async fn etcd_alone(endpoints: &str, commands: u64) -> Result<Vec<f64>, String> {
    use crate::etcd::{Compare, Op};
    let etcd = crate::etcd::Etcd::new(endpoints)?;
    let head = b"/bench/head".to_vec();
    let mut previous = b"0".to_vec();
    etcd.put(&head, &previous).await.map_err(|e| e.to_string())?;
    let line = "x".repeat(380).into_bytes();
    let mut pace = tokio::time::interval(Duration::from_millis(25));
    let mut latencies = Vec::new();
    for n in 1..=commands {
        pace.tick().await;
        let next = n.to_string().into_bytes();
        let ops = [
            Op::Put { key: format!("/bench/e/{n:020}").into_bytes(), value: line.clone(), lease: 0 },
            Op::Put { key: head.clone(), value: next.clone(), lease: 0 },
        ];
        let t = Instant::now();
        if etcd.txn(&[Compare::Value(head.clone(), previous.clone())], &ops).await.map_err(|e| e.to_string())? {
            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        previous = next;
    }
    Ok(latencies)
}

/// Import a synthetic journal of `events` events into a fresh cluster and time a
/// hub's start on it until it listens (lead, read, verify, replay).
async fn open_from_etcd(exe: &Path, events: usize) -> Result<String, String> {
    let cluster = Cluster::start().await?;
    let etcd = crate::etcd::Etcd::new(&cluster.endpoints())?;
    let generated = tempfile_dir()?;
    let path = super::synthetic_journal(&generated, events)?;
    let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
    let t = Instant::now();
    crate::hub::import_into_etcd(&etcd, &bytes).await?;
    let imported = t.elapsed();
    let t = Instant::now();
    let loaded = crate::journal::etcd::load(&etcd, SESSION).await.map_err(|e| e.to_string())?;
    let read = t.elapsed();
    let n = loaded.map_or(0, |c| c.events.len());
    // A hub started on it: from the checkpoint the import keeps in etcd, then
    // (the checkpoint removed) from the whole journal.
    let mut opened = Vec::new();
    for whole in [false, true] {
        if whole {
            etcd.txn(&[], &[crate::etcd::Op::Delete { key: crate::journal::etcd::checkpoint_key(SESSION) }])
                .await
                .map_err(|e| e.to_string())?;
        }
        let dir = tempfile_dir()?;
        let t = Instant::now();
        let hub = super::start_hub_with(exe, &dir, "127.0.0.1:0", &["--etcd", &cluster.endpoints()])?;
        opened.push(t.elapsed());
        drop(hub);
        let _ = std::fs::remove_dir_all(&dir);
        // The next hub may lead only once this one's lease is gone.
        while crate::journal::etcd::leader(&etcd, SESSION).await.map_err(|e| e.to_string())?.is_some() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let _ = std::fs::remove_dir_all(&generated);
    Ok(format!(
        "  a session of {n} events ({} MB): imported (with a checkpoint) in {:.1} s; read and verified from etcd in {:.2} s; a hub started on it listens after {:.2} s from its checkpoint, {:.2} s from the whole journal\n",
        bytes.len() / 1_000_000,
        imported.as_secs_f64(),
        read.as_secs_f64(),
        opened[0].as_secs_f64(),
        opened[1].as_secs_f64()
    ))
}

/// A hub process whose standard output is read line by line in the background.
struct Hub {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> Result<String, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.to_string())
}

fn spawn_hub(exe: &Path, endpoints: &str, data: &Path, ttl: u64) -> Result<Hub, String> {
    let addr = free_addr()?;
    let mut child = Process::new(exe)
        .args(["hub", "--etcd", endpoints, "--lease-ttl", &ttl.to_string(), "--listen", &addr, "--data"])
        .arg(data)
        .arg(super::session_file())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().ok_or("no standard output")?;
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok(Hub { child, addr, lines })
}

/// Whether the hub said it leads the session (on start, or taking it over) within `limit`.
fn leads(hub: &Hub, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while let Ok(line) = hub.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line.starts_with("leading session ") {
            return true;
        }
    }
    false
}

/// `rostrum bench failover`: two hubs on etcd; a chair gives notes to the leader
/// without pause; the leader is killed (-9) `kills` times. Takeover is measured
/// from the kill to the standby's banner; the client's gap from its last
/// acknowledgement on the old leader to its first on the new one. At the end the
/// journal is exported: every acknowledged note must be in it exactly once.
pub async fn failover(kills: usize, ttl: u64) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let cluster = Cluster::start().await?;
    let endpoints = cluster.endpoints();
    let dirs = [tempfile_dir()?, tempfile_dir()?];
    // The first leads; the second, started once it does, stands by (serving read-only).
    let first = spawn_hub(&exe, &endpoints, &dirs[0], ttl)?;
    if !leads(&first, Duration::from_secs(20)) {
        return Err("the first hub did not lead".into());
    }
    let mut hubs = [first, spawn_hub(&exe, &endpoints, &dirs[1], ttl)?];
    let token = super::tokens(&dirs[0])?.chair;
    let mut leader = 0;
    let mut acked = BTreeSet::new();
    let mut next = 0u64;
    let (mut takeovers, mut gaps) = (Vec::new(), Vec::new());
    for _ in 0..kills {
        // A few commands on the leader, then kill it while the chair goes on giving them.
        let url = format!("ws://{}/v1/sessions/{SESSION}", hubs[leader].addr);
        let mut conn = joined(&url, &token).await?;
        for _ in 0..5 {
            next += 1;
            if acknowledged(&mut conn, note(next)).await? {
                acked.insert(next);
            }
        }
        let last_ack = Instant::now();
        let _ = hubs[leader].child.kill();
        let killed = Instant::now();
        let _ = hubs[leader].child.wait();
        // The one in flight: sent, maybe recorded, never acknowledged.
        next += 1;
        let _ = acknowledged(&mut conn, note(next)).await;
        let standby = 1 - leader;
        if !leads(&hubs[standby], Duration::from_secs(20)) {
            return Err(format!("no takeover within 20 s after {} kills", takeovers.len()));
        }
        takeovers.push(killed.elapsed().as_secs_f64() * 1000.0);
        // The chair's link retries the other hub until a command is acknowledged.
        let url = format!("ws://{}/v1/sessions/{SESSION}", hubs[standby].addr);
        let mut conn = loop {
            match joined(&url, &token).await {
                Ok(c) => break c,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        next += 1;
        if acknowledged(&mut conn, note(next)).await? {
            acked.insert(next);
        }
        gaps.push(last_ack.elapsed().as_secs_f64() * 1000.0);
        // The killed hub comes back as the standby.
        let _ = std::fs::remove_dir_all(&dirs[leader]);
        hubs[leader] = spawn_hub(&exe, &endpoints, &dirs[leader], ttl)?;
        leader = standby;
    }
    let etcd = crate::etcd::Etcd::new(&endpoints)?;
    let contents =
        crate::journal::etcd::load(&etcd, SESSION).await.map_err(|e| e.to_string())?.ok_or("no journal in etcd")?;
    let mut seen = std::collections::BTreeMap::new();
    for e in &contents.events {
        if let crate::domain::EventKind::NoteAdded { note } = &e.event {
            *seen.entry(note.client_id.clone()).or_insert(0usize) += 1;
        }
    }
    let lost = acked.iter().filter(|n| !seen.contains_key(&format!("bench-{n}"))).count();
    let twice = seen.values().filter(|n| **n > 1).count();
    drop(hubs);
    for d in &dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(format!(
        "failover: 2 hubs on a 3-node etcd cluster, lease {ttl} s, the leading hub killed (-9) {kills} times\n  takeover (kill to the standby's \"leading session\" line): {}\n  client gap (last ack on the old leader to the first on the new): {}\n  acknowledged: {}, lost: {lost}, recorded twice: {twice}; the chain verifies ({} events)\n",
        summary(takeovers),
        summary(gaps),
        acked.len(),
        contents.events.len()
    ))
}
