//! A program run in tmux, driven by keys and read from the pane. Waits poll the
//! pane until the expected text appears (never a bare sleep).

use std::process::Command as Process;
use std::time::{Duration, Instant};

pub const DEADLINE: Duration = Duration::from_secs(20);

/// A tmux session running one command; killed when dropped.
pub struct Pane {
    pub name: String,
}

impl Pane {
    /// Start `command` in a 100x30 tmux session (NO_COLOR set).
    pub fn start(name: &str, command: &str) -> Self {
        Self::start_sized(name, command, 100, 30)
    }

    /// Start `command` in a tmux session of `width` x `height` (NO_COLOR set).
    pub fn start_sized(name: &str, command: &str, width: u16, height: u16) -> Self {
        let _ = Process::new("tmux").args(["kill-session", "-t", name]).output();
        let (width, height) = (width.to_string(), height.to_string());
        let status = Process::new("tmux")
            .args(["new-session", "-d", "-s", name, "-x", &width, "-y", &height, command])
            .env("NO_COLOR", "1")
            .status()
            .expect("tmux runs (install it: apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        Self { name: name.to_string() }
    }

    pub fn pane(&self) -> String {
        let out = Process::new("tmux").args(["capture-pane", "-p", "-t", &self.name]).output().expect("capture");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until `test` holds for the pane; return the pane.
    pub fn wait(&self, what: &str, test: impl Fn(&str) -> bool) -> String {
        self.wait_within(DEADLINE, what, test)
    }

    /// Wait at most `limit` (a promise the program makes, e.g. "following again within 5 s").
    pub fn wait_within(&self, limit: Duration, what: &str, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let pane = self.pane();
            if test(&pane) {
                return pane;
            }
            assert!(start.elapsed() < limit, "waited {limit:?} for {what}; the pane shows:\n{pane}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&self, needle: &str) -> String {
        self.wait(needle, |pane| pane.contains(needle))
    }

    /// tmux key names: "Enter", "Down", "C-s", or characters.
    pub fn keys(&self, keys: &[&str]) {
        let status = Process::new("tmux").args(["send-keys", "-t", &self.name]).args(keys).status().expect("send-keys");
        assert!(status.success());
    }

    /// Literal text.
    pub fn text(&self, text: &str) {
        let status =
            Process::new("tmux").args(["send-keys", "-t", &self.name, "-l", text]).status().expect("send-keys");
        assert!(status.success());
    }

    /// The pid of the program the pane's shell runs.
    pub fn program_pid(&self) -> String {
        let shell =
            Process::new("tmux").args(["display", "-p", "-t", &self.name, "#{pane_pid}"]).output().expect("pid");
        let shell = String::from_utf8_lossy(&shell.stdout).trim().to_string();
        let child = Process::new("pgrep").args(["-P", &shell]).output().expect("pgrep runs");
        String::from_utf8_lossy(&child.stdout).trim().to_string()
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Process::new("tmux").args(["kill-session", "-t", &self.name]).output();
    }
}
