//! A rapporteur's outbox: notes and pledges saved on this machine (fsync'd) before
//! the screen says "saved", sent when the hub is reachable, and acknowledged once
//! the hub has them. The hub deduplicates by the client-made id, so a note sent
//! twice (a crash between sending and acknowledging) is recorded once.
//!
//! The file is JSON Lines: `{"add":{"client_id":…,"command":{…}}}` when saved and
//! `{"ack":"…"}` when the hub has it. A torn last line (a crash mid-write) is cut.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::Command;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub client_id: String,
    pub command: Command,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Line {
    Add(Saved),
    Ack(String),
}

#[derive(Debug)]
pub struct Outbox {
    path: PathBuf,
    file: File,
    pending: Vec<Saved>,
}

impl Outbox {
    /// Open (or create) the outbox at `path` and read what still waits to be sent.
    pub fn open(path: &Path) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        let mut pending: Vec<Saved> = Vec::new();
        let mut valid = 0u64;
        let mut reader = BufReader::new(&file);
        let mut buf = Vec::new();
        let mut line_no = 0;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf)?;
            if n == 0 || buf.last() != Some(&b'\n') {
                break; // end, or a torn last line
            }
            line_no += 1;
            match serde_json::from_slice::<Line>(&buf) {
                Ok(Line::Add(saved)) => pending.push(saved),
                Ok(Line::Ack(id)) => pending.retain(|s| s.client_id != id),
                Err(e) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: line {line_no}: {e}", path.display()),
                    ));
                }
            }
            valid += n as u64;
        }
        if file.metadata()?.len() != valid {
            file.set_len(valid)?;
            file.sync_all()?;
        }
        file.seek(io::SeekFrom::End(0))?;
        Ok(Self { path: path.to_path_buf(), file, pending })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Notes and pledges saved and not yet acknowledged by the hub, oldest first.
    pub fn pending(&self) -> &[Saved] {
        &self.pending
    }

    fn write(&mut self, line: &Line) -> io::Result<()> {
        let mut text = serde_json::to_vec(line).map_err(io::Error::other)?;
        text.push(b'\n');
        self.file.write_all(&text)?;
        self.file.sync_data()
    }

    /// Save durably; only then may the screen say "saved".
    pub fn add(&mut self, saved: Saved) -> io::Result<()> {
        self.write(&Line::Add(saved.clone()))?;
        self.pending.push(saved);
        Ok(())
    }

    /// The hub has it (or refused it for good): stop sending it.
    pub fn ack(&mut self, client_id: &str) -> io::Result<()> {
        if !self.pending.iter().any(|s| s.client_id == client_id) {
            return Ok(());
        }
        self.pending.retain(|s| s.client_id != client_id);
        if self.pending.is_empty() {
            // Nothing waits: start the file afresh.
            self.file.set_len(0)?;
            self.file.seek(io::SeekFrom::Start(0))?;
            return self.file.sync_all();
        }
        self.write(&Line::Ack(client_id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(id: &str) -> Saved {
        Saved {
            client_id: id.to_string(),
            command: Command::AddNote {
                saved_at: None,
                client_id: id.to_string(),
                turn: None,
                text: format!("note {id}"),
                objectives: vec![5],
                themes: vec![],
            },
        }
    }

    #[test]
    fn what_is_saved_survives_a_restart_until_acknowledged() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("outbox.jsonl");
        let mut outbox = Outbox::open(&path).expect("opens");
        outbox.add(note("a")).expect("saves");
        outbox.add(note("b")).expect("saves");
        outbox.add(note("c")).expect("saves");
        outbox.ack("b").expect("acks");
        drop(outbox);
        let mut outbox = Outbox::open(&path).expect("reopens");
        assert_eq!(outbox.pending(), [note("a"), note("c")]);
        outbox.ack("a").expect("acks");
        outbox.ack("c").expect("acks");
        assert_eq!(fs::metadata(&path).expect("meta").len(), 0, "an empty outbox starts afresh");
        assert!(Outbox::open(&path).expect("reopens").pending().is_empty());
    }

    #[test]
    fn a_torn_last_line_is_cut_and_damage_elsewhere_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("outbox.jsonl");
        let mut outbox = Outbox::open(&path).expect("opens");
        outbox.add(note("a")).expect("saves");
        drop(outbox);
        let mut bytes = fs::read(&path).expect("read");
        let whole = bytes.len();
        bytes.extend_from_slice(b"{\"add\":{\"client_id\":\"b\",");
        fs::write(&path, &bytes).expect("write");
        let outbox = Outbox::open(&path).expect("opens");
        assert_eq!(outbox.pending(), [note("a")]);
        assert_eq!(fs::metadata(&path).expect("meta").len() as usize, whole);
        drop(outbox);
        fs::write(&path, b"not json\n").expect("write");
        let err = Outbox::open(&path).expect_err("damaged");
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
