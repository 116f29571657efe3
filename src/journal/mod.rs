//! The journal: one append-only JSON Lines file per session, tamper-evident.
//!
//! The first line is a header (format, version, session id, the session file's text);
//! each further line is one [`Event`]. Every line ends with `"hash"`: the SHA-256 of
//! the previous line's hash followed by this line's text without its hash, so that
//! editing, removing or reordering any line breaks the chain from there on.
//!
//! A line is written and fsync'd before the hub acknowledges or broadcasts it. A
//! crash mid-write leaves at most one incomplete last line: opening the journal cuts
//! it off and says so. Damage anywhere else is an error naming the line.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{Event, Timestamp};

pub const FORMAT: &str = "rostrum-journal";
pub const VERSION: u32 = 1;
pub const FILE_NAME: &str = "journal.jsonl";

/// `,"hash":"` + 64 hex digits + `"}`.
const HASH_SUFFIX_LEN: usize = 9 + 64 + 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub session: String,
    pub created: Timestamp,
    /// The session file's text, as the session was run under it.
    pub config: String,
}

/// A journal's content, checked line by line.
#[derive(Debug, Clone)]
pub struct Contents {
    pub header: Header,
    pub events: Vec<Event>,
    /// Hash of the last complete line (the chain's head).
    pub last_hash: String,
    /// Hash of the header line: the journal's identity.
    pub header_hash: String,
    /// Bytes of the complete, verified lines.
    pub valid_len: u64,
    /// An incomplete last line, left by a crash mid-write.
    pub torn: Option<TornTail>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// 1-based line number of the incomplete line.
    pub line: usize,
    pub bytes: usize,
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} is incomplete ({} bytes, a write cut short by a crash)", self.line, self.bytes)
    }
}

#[derive(Debug)]
pub enum JournalError {
    Io(io::Error),
    /// A complete line that does not read or does not verify.
    Damaged {
        line: usize,
        problem: String,
    },
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Damaged { line, problem } => write!(f, "line {line}: {problem}"),
        }
    }
}

impl std::error::Error for JournalError {}

impl From<io::Error> for JournalError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

fn damaged(line: usize, problem: impl Into<String>) -> JournalError {
    JournalError::Damaged { line, problem: problem.into() }
}

fn chain_hash(previous: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Serialize `value` as one journal line chained after `previous`; returns the line
/// (with its newline) and its hash.
fn seal<T: Serialize>(value: &T, previous: &str) -> (Vec<u8>, String) {
    // Serializing our own types to a Vec cannot fail: no maps with non-string keys.
    let mut body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let hash = chain_hash(previous, &body);
    body.pop(); // the closing brace
    body.extend_from_slice(b",\"hash\":\"");
    body.extend_from_slice(hash.as_bytes());
    body.extend_from_slice(b"\"}\n");
    (body, hash)
}

/// Split a complete line (without newline) into its body and hash, and check the
/// chain (unless `verify` is false: then a line edited in place is taken as it is).
fn unseal(line: &[u8], previous: &str, line_no: usize, verify: bool) -> Result<(Vec<u8>, String), JournalError> {
    let bad = || damaged(line_no, "no chain hash at the end of the line (not written by Rostrum, or edited)");
    if line.len() < HASH_SUFFIX_LEN + 2 {
        return Err(bad());
    }
    let (head, suffix) = line.split_at(line.len() - HASH_SUFFIX_LEN);
    if !suffix.starts_with(b",\"hash\":\"") || !suffix.ends_with(b"\"}") {
        return Err(bad());
    }
    let hash = &suffix[9..9 + 64];
    if !hash.iter().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return Err(bad());
    }
    let mut body = head.to_vec();
    body.push(b'}');
    let expected = chain_hash(previous, &body);
    if verify && expected.as_bytes() != hash {
        return Err(damaged(
            line_no,
            "hash chain broken: the line was edited, or a line before it was removed or reordered",
        ));
    }
    Ok((body, expected))
}

/// Read and verify a whole journal. An incomplete last line is reported in
/// [`Contents::torn`]; any other damage is an error naming its line.
pub fn read<R: BufRead>(reader: R) -> Result<Contents, JournalError> {
    read_with(reader, true)
}

/// Read a journal without checking its hash chain (for `replay --no-verify`);
/// lines must still read, in sequence.
pub fn read_file_unverified(path: &Path) -> Result<Contents, JournalError> {
    read_with(BufReader::new(File::open(path)?), false)
}

fn read_with<R: BufRead>(mut reader: R, verify: bool) -> Result<Contents, JournalError> {
    let mut buf = Vec::new();
    let mut line_no = 0;
    let mut valid_len = 0u64;
    let mut previous = String::new();
    let mut header: Option<Header> = None;
    let mut header_hash = String::new();
    let mut events = Vec::new();
    let mut torn = None;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.last() != Some(&b'\n') {
            torn = Some(TornTail { line: line_no, bytes: n });
            break;
        }
        buf.pop();
        let (body, hash) = unseal(&buf, &previous, line_no, verify)?;
        match &header {
            None => {
                let h: Header = serde_json::from_slice(&body)
                    .map_err(|e| damaged(line_no, format!("not a journal header: {e}")))?;
                if h.format != FORMAT {
                    return Err(damaged(line_no, format!("not a Rostrum journal (format \"{}\")", h.format)));
                }
                if h.version != VERSION {
                    return Err(damaged(
                        line_no,
                        format!("journal format version {} is not supported (this Rostrum reads {VERSION})", h.version),
                    ));
                }
                header = Some(h);
                header_hash = hash.clone();
            }
            Some(_) => {
                let event: Event =
                    serde_json::from_slice(&body).map_err(|e| damaged(line_no, format!("not a valid event: {e}")))?;
                let expected = events.len() as u64 + 1;
                if event.seq != expected {
                    return Err(damaged(line_no, format!("event seq {} where {expected} was expected", event.seq)));
                }
                events.push(event);
            }
        }
        previous = hash;
        valid_len += n as u64;
    }
    let Some(header) = header else {
        return Err(damaged(1, "the journal has no complete header line"));
    };
    Ok(Contents { header, events, last_hash: previous, header_hash, valid_len, torn })
}

/// Read and verify the journal at `path` without changing it.
pub fn read_file(path: &Path) -> Result<Contents, JournalError> {
    read(BufReader::new(File::open(path)?))
}

/// Appends events to a journal, fsync'ing each batch before returning.
/// The only writer of a journal: it holds an exclusive lock on the file for as
/// long as it lives, so two processes can never append to the same session.
#[derive(Debug)]
pub struct Writer {
    file: File,
    path: PathBuf,
    last_hash: String,
    last_seq: u64,
    epoch: String,
}

fn lock(file: &File, path: &Path) -> io::Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!("{} is open in another Rostrum process (a hub or a chair screen): stop it first", path.display()),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Writer {
    /// Create a new journal in `dir` (created if needed) with its header, durably.
    pub fn create(dir: &Path, session: &str, config: &str, now: Timestamp) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let mut file = OpenOptions::new().write(true).create_new(true).open(&path)?;
        lock(&file, &path)?;
        let header = Header {
            format: FORMAT.to_string(),
            version: VERSION,
            session: session.to_string(),
            created: now,
            config: config.to_string(),
        };
        let (line, hash) = seal(&header, "");
        file.write_all(&line)?;
        file.sync_all()?;
        sync_dir(dir)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        Ok(Self { file, path, epoch: hash.clone(), last_hash: hash, last_seq: 0 })
    }

    /// Open an existing journal for appending: verify it, cut an incomplete last
    /// line (reported in the returned contents), and continue its chain.
    pub fn open(path: &Path) -> Result<(Self, Contents), JournalError> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        lock(&file, path)?;
        let contents = read_file(path)?;
        if contents.torn.is_some() {
            file.set_len(contents.valid_len)?;
            file.sync_all()?;
        }
        let mut file = file;
        use std::io::Seek;
        file.seek(io::SeekFrom::End(0))?;
        let last_seq = contents.events.last().map_or(0, |e| e.seq);
        let writer = Self {
            file,
            path: path.to_path_buf(),
            last_hash: contents.last_hash.clone(),
            last_seq,
            epoch: contents.header_hash.clone(),
        };
        Ok((writer, contents))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The journal's identity: the hash of its header line.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Append events (which must continue the sequence) and fsync once for all of them.
    pub fn append(&mut self, events: &[Event]) -> io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut batch = Vec::new();
        let mut hash = self.last_hash.clone();
        let mut seq = self.last_seq;
        for event in events {
            if event.seq != seq + 1 {
                return Err(io::Error::other(format!("event seq {} does not follow {seq}", event.seq)));
            }
            let (line, h) = seal(event, &hash);
            batch.extend_from_slice(&line);
            hash = h;
            seq = event.seq;
        }
        let before = self.file.metadata()?.len();
        let written = self.file.write_all(&batch).and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Take back what may have reached the file: it was never acknowledged.
            let _ = self.file.set_len(before);
            let _ = self.file.sync_data();
            return Err(e);
        }
        self.last_hash = hash;
        self.last_seq = seq;
        Ok(())
    }
}

/// The outcome of `rostrum verify`.
pub fn verify_report(path: &Path) -> Result<String, JournalError> {
    let contents = read_file(path)?;
    let mut report = format!(
        "{}: chain verified: header and {} events (session \"{}\", last seq {}, head {})",
        path.display(),
        contents.events.len(),
        contents.header.session,
        contents.events.last().map_or(0, |e| e.seq),
        &contents.last_hash[..16.min(contents.last_hash.len())],
    );
    if let Some(torn) = &contents.torn {
        report.push_str(&format!(
            "\nwarning: {torn}; it was never acknowledged and is cut off when the hub opens the journal"
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
