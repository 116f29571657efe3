//! A real three-node etcd cluster on 127.0.0.1, started from Debian's
//! `etcd-server` (`/usr/bin/etcd`): each node on its own ports and data directory
//! (a temporary one, removed with the cluster). Nodes can be killed, stopped
//! (SIGSTOP) and continued, and are killed when the cluster is dropped.
//!
//! Used by `rostrum bench durability --etcd`, `bench failover` and the tests
//! (tests/etcd.rs). [`Cluster::start`] fails naming the package to install when
//! etcd is missing: a test that needs it fails, it never passes silently.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Node {
    pub name: String,
    pub client_port: u16,
    pub peer_port: u16,
    pub child: Option<Child>,
    dir: PathBuf,
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    initial: String,
    token: String,
    dir: PathBuf,
}

/// Where etcd is, or what to install.
pub fn etcd_binary() -> Result<PathBuf, String> {
    for candidate in ["/usr/bin/etcd", "/usr/local/bin/etcd"] {
        if std::path::Path::new(candidate).exists() {
            return Ok(PathBuf::from(candidate));
        }
    }
    Err("this needs etcd and it is not installed: `apt-get install etcd-server` (Debian's etcd 3.4); .ci/run installs it".into())
}

/// Ports the OS says are free now (closed again before etcd binds them).
fn free_ports(n: usize) -> Result<Vec<u16>, String> {
    let listeners = (0..n).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<Result<Vec<_>, _>>();
    let listeners = listeners.map_err(|e| format!("no free port: {e}"))?;
    listeners.iter().map(|l| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())).collect()
}

impl Cluster {
    /// Start three nodes and wait until the cluster answers writes.
    pub async fn start() -> Result<Self, String> {
        Self::start_n(3).await
    }

    pub async fn start_n(n: usize) -> Result<Self, String> {
        let binary = etcd_binary()?;
        let dir = super::tempfile_dir()?;
        let ports = free_ports(2 * n)?;
        let nodes: Vec<Node> = (0..n)
            .map(|i| Node {
                name: format!("n{i}"),
                client_port: ports[2 * i],
                peer_port: ports[2 * i + 1],
                child: None,
                dir: dir.join(format!("n{i}")),
            })
            .collect();
        let initial =
            nodes.iter().map(|n| format!("{}=http://127.0.0.1:{}", n.name, n.peer_port)).collect::<Vec<_>>().join(",");
        let token = format!("rostrum-{}", ports[0]);
        let mut cluster = Self { nodes, initial, token, dir };
        for i in 0..n {
            cluster.spawn(i, &binary)?;
        }
        cluster.wait_ready().await?;
        Ok(cluster)
    }

    fn spawn(&mut self, i: usize, binary: &std::path::Path) -> Result<(), String> {
        let node = &self.nodes[i];
        let client = format!("http://127.0.0.1:{}", node.client_port);
        let peer = format!("http://127.0.0.1:{}", node.peer_port);
        let log = std::fs::File::create(self.dir.join(format!("{}.log", node.name))).map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .args(["--name", &node.name, "--data-dir"])
            .arg(&node.dir)
            .args(["--listen-client-urls", &client, "--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer, "--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &self.initial, "--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", &self.token])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        self.nodes[i].child = Some(child);
        Ok(())
    }

    /// The client URLs, comma-separated (what `--etcd` takes).
    pub fn endpoints(&self) -> String {
        self.nodes.iter().map(|n| format!("http://127.0.0.1:{}", n.client_port)).collect::<Vec<_>>().join(",")
    }

    async fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let etcd = crate::etcd::Etcd::new(&self.endpoints())?;
        loop {
            if etcd.put(b"/rostrum-cluster/ready", b"1").await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the etcd cluster did not form within 30 s: see its logs in {}",
                    self.dir.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The index of the node that leads the Raft group now.
    pub async fn leader(&self) -> Result<usize, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for (i, node) in self.nodes.iter().enumerate() {
                if node.child.is_none() {
                    continue;
                }
                let etcd = crate::etcd::Etcd::new(&format!("127.0.0.1:{}", node.client_port))?
                    .with_timeout(Duration::from_millis(500));
                if let Ok((member, leader)) = etcd.status().await
                    && member == leader
                    && leader != 0
                {
                    return Ok(i);
                }
            }
            if Instant::now() > deadline {
                return Err("no etcd leader within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Send a signal (`STOP`, `CONT`) to a node.
    pub fn signal(&self, i: usize, signal: &str) -> Result<(), String> {
        if let Some(child) = &self.nodes[i].child {
            let status = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
            if !status.is_ok_and(|s| s.success()) {
                return Err(format!("kill -{signal} {}", child.id()));
            }
        }
        Ok(())
    }

    /// Start a killed node again on its data directory (it rejoins the cluster).
    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        self.kill(i);
        let binary = etcd_binary()?;
        self.spawn(i, &binary)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            // A stopped process is continued so that it dies at once.
            let _ = self.signal(i, "CONT");
            self.kill(i);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
