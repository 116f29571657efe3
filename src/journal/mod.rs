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
use std::io::{self, BufRead, Write};
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

/// The two parts of a sealed line: its text up to `,"hash":"…"}` and the hash.
fn split_sealed(line: &[u8], line_no: usize) -> Result<(&[u8], &[u8]), JournalError> {
    let bad = || damaged(line_no, "no chain hash at the end of the line (not written by Rostrum, or edited)");
    if line.len() < HASH_SUFFIX_LEN + 2 {
        return Err(bad());
    }
    let (head, suffix) = line.split_at(line.len() - HASH_SUFFIX_LEN);
    if !suffix.starts_with(b",\"hash\":\"") || !suffix.ends_with(b"\"}") {
        return Err(bad());
    }
    let hash = &suffix[9..9 + 64];
    if !hash.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad());
    }
    Ok((head, hash))
}

/// Check that a line's hash chains on `previous`; returns the line's hash.
fn unseal(line: &[u8], previous: &str, line_no: usize) -> Result<String, JournalError> {
    let (head, hash) = split_sealed(line, line_no)?;
    // The body is the line without its hash: its head and the closing brace.
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(head);
    hasher.update(b"}");
    let expected = hex::encode(hasher.finalize());
    if expected.as_bytes() != hash {
        return Err(damaged(
            line_no,
            "hash chain broken: the line was edited, or a line before it was removed or reordered",
        ));
    }
    Ok(expected)
}

/// Read and verify a whole journal. An incomplete last line is reported in
/// [`Contents::torn`]; any other damage is an error naming its line.
pub fn read<R: BufRead>(reader: R) -> Result<Contents, JournalError> {
    read_with(reader, true)
}

/// Read a journal without checking its hash chain (for `replay --no-verify`);
/// lines must still read, in sequence.
pub fn read_file_unverified(path: &Path) -> Result<Contents, JournalError> {
    parse(&fs::read(path)?, false)
}

fn read_with<R: BufRead>(mut reader: R, verify: bool) -> Result<Contents, JournalError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    parse(&bytes, verify)
}

/// Check the hash chain over complete lines: the header's hash and the last one.
fn verify_chain(lines: &[&[u8]]) -> Result<(String, String), JournalError> {
    let mut previous = String::new();
    let mut header_hash = String::new();
    for (i, line) in lines.iter().enumerate() {
        let hash = unseal(line, &previous, i + 1)?;
        if i == 0 {
            header_hash = hash.clone();
        }
        previous = hash;
    }
    Ok((header_hash, previous))
}

/// The header line read, in a format and version this Rostrum reads.
fn read_header(line: &[u8], line_no: usize) -> Result<Header, JournalError> {
    let h: Header = serde_json::from_slice(line).map_err(|e| damaged(line_no, format!("not a journal header: {e}")))?;
    if h.format != FORMAT {
        return Err(damaged(line_no, format!("not a Rostrum journal (format \"{}\")", h.format)));
    }
    if h.version != VERSION {
        return Err(damaged(
            line_no,
            format!("journal format version {} is not supported (this Rostrum reads {VERSION})", h.version),
        ));
    }
    Ok(h)
}

/// The header on a journal's first line, checked, with the line's hash (the
/// journal's identity, its epoch).
pub(crate) fn header_of(line: &[u8]) -> Result<(Header, String), JournalError> {
    let hash = unseal(line, "", 1)?;
    Ok((read_header(line, 1)?, hash))
}

/// The hash a sealed line says it has (not checked against the line before it).
pub(crate) fn sealed_hash(line: &[u8], line_no: usize) -> Result<String, JournalError> {
    let (_, hash) = split_sealed(line, line_no)?;
    Ok(String::from_utf8_lossy(hash).into_owned())
}

/// Read every complete line: the header, then events in sequence.
fn parse_lines(lines: &[&[u8]]) -> Result<(Header, Vec<Event>, String, String), JournalError> {
    let mut header: Option<Header> = None;
    let mut header_hash = String::new();
    let mut last_hash = String::new();
    let mut events = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let line_no = i + 1;
        // The whole line parses: the trailing "hash" is a field the types ignore.
        if line.len() < HASH_SUFFIX_LEN + 2 || !line.ends_with(b"\"}") {
            split_sealed(line, line_no)?; // says what is wrong
        }
        let body = *line;
        let hash = || String::from_utf8_lossy(&line[line.len() - 66..line.len() - 2]).into_owned();
        match &header {
            None => {
                header = Some(read_header(body, line_no)?);
                header_hash = hash();
            }
            Some(_) => {
                let event: Event =
                    serde_json::from_slice(body).map_err(|e| damaged(line_no, format!("not a valid event: {e}")))?;
                let expected = events.len() as u64 + 1;
                if event.seq != expected {
                    return Err(damaged(line_no, format!("event seq {} where {expected} was expected", event.seq)));
                }
                events.push(event);
            }
        }
        if i + 1 == lines.len() {
            last_hash = hash();
        }
    }
    let header = header.ok_or_else(|| damaged(1, "the journal has no complete header line"))?;
    Ok((header, events, header_hash, last_hash))
}

fn line_of(e: &JournalError) -> usize {
    match e {
        JournalError::Damaged { line, .. } => *line,
        JournalError::Io(_) => 0,
    }
}

/// Read a whole journal held in memory. With `verify`, the hash chain is checked
/// on a second thread while the lines are parsed; the first damage (by line) wins.
fn parse(bytes: &[u8], verify: bool) -> Result<Contents, JournalError> {
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut torn = None;
    while start < bytes.len() {
        match memchr::memchr(b'\n', &bytes[start..]) {
            Some(end) => {
                lines.push(&bytes[start..start + end]);
                start += end + 1;
            }
            None => {
                torn = Some(TornTail { line: lines.len() + 1, bytes: bytes.len() - start });
                break;
            }
        }
    }
    let valid_len = start as u64;
    let (parsed, chain) = if verify && lines.len() > 1 {
        std::thread::scope(|scope| {
            let chain = scope.spawn(|| verify_chain(&lines));
            let parsed = parse_lines(&lines);
            let chain = chain.join().unwrap_or_else(|_| Err(damaged(0, "the chain check stopped")));
            (parsed, Some(chain))
        })
    } else if verify {
        (parse_lines(&lines), Some(verify_chain(&lines)))
    } else {
        (parse_lines(&lines), None)
    };
    let (header, events, header_hash, last_hash) = match (parsed, chain) {
        (Err(a), Some(Err(b))) => return Err(if line_of(&b) <= line_of(&a) { b } else { a }),
        (Err(e), _) | (Ok(_), Some(Err(e))) => return Err(e),
        (Ok(parsed), _) => parsed,
    };
    Ok(Contents { header, events, last_hash, header_hash, valid_len, torn })
}

/// Read and verify the journal at `path` without changing it.
pub fn read_file(path: &Path) -> Result<Contents, JournalError> {
    parse(&fs::read(path)?, true)
}

/// The event on a sealed line (`line_no` of its journal) that must chain on
/// `previous` and carry `seq`; returns it with the line's hash.
pub(crate) fn next_event(
    line: &[u8],
    previous: &str,
    line_no: usize,
    seq: u64,
) -> Result<(Event, String), JournalError> {
    let hash = unseal(line, previous, line_no)?;
    let event: Event = serde_json::from_slice(line).map_err(|e| damaged(line_no, format!("not a valid event: {e}")))?;
    if event.seq != seq {
        return Err(damaged(line_no, format!("event seq {} where {seq} was expected", event.seq)));
    }
    Ok((event, hash))
}

/// Follows a journal that a hub is still writing, read-only: each [`Follower::poll`]
/// reads what was appended since, checks each complete line's chain and sequence,
/// and returns the new events. A line still being written waits for the next poll.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    /// Bytes of complete lines read so far.
    offset: u64,
    last_hash: String,
    /// Lines read (the header is line 1).
    lines: usize,
    next_seq: u64,
}

impl Follower {
    /// Start after the contents already read (`read_file` of the same path).
    pub fn after(path: &Path, contents: &Contents) -> Self {
        Self::at(path, (contents.valid_len, contents.last_hash.clone()), contents.events.len())
    }

    /// Start after `events` events whose last line ends at byte `offset` with
    /// hash `last_hash` (what an [`Index`] of the same path says of its end).
    pub fn at(path: &Path, (offset, last_hash): (u64, String), events: usize) -> Self {
        Self { path: path.to_path_buf(), offset, last_hash, lines: events + 1, next_seq: events as u64 + 1 }
    }

    /// The events appended since the last poll (none if nothing new).
    pub fn poll(&mut self) -> Result<Vec<Event>, JournalError> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = File::open(&self.path)?;
        let len = file.metadata()?.len();
        if len < self.offset {
            return Err(damaged(self.lines, "the journal is shorter than what was read: it was replaced or cut"));
        }
        if len == self.offset {
            return Ok(Vec::new());
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut bytes = Vec::with_capacity((len - self.offset) as usize);
        file.take(len - self.offset).read_to_end(&mut bytes)?;
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &bytes[start..]) {
            let line = &bytes[start..start + end];
            let line_no = self.lines + 1;
            let (event, hash) = next_event(line, &self.last_hash, line_no, self.next_seq)?;
            self.next_seq += 1;
            self.lines = line_no;
            self.last_hash = hash;
            start += end + 1;
            self.offset += end as u64 + 1;
            events.push(event);
        }
        Ok(events)
    }
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
    /// Bytes of the file: where the next line begins.
    len: u64,
}

/// Where a journal stands: its last event, that line's hash, and the byte offset
/// just after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
    pub offset: u64,
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
        Ok(Self { file, path, epoch: hash.clone(), last_hash: hash, last_seq: 0, len: line.len() as u64 })
    }

    /// Open an existing journal for appending: verify it, cut an incomplete last
    /// line (reported in the returned contents), and continue its chain.
    pub fn open(path: &Path) -> Result<(Self, Contents), JournalError> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        lock(&file, path)?;
        let contents = read_file(path)?;
        let last_seq = contents.events.last().map_or(0, |e| e.seq);
        let writer = Self::continue_after(file, path, &contents, last_seq)?;
        Ok((writer, contents))
    }

    /// Open an existing journal for appending, starting from the checkpoint at
    /// `checkpoint` when it fits the journal: only the lines after it are read and
    /// verified (and the `recent` lines before, for resuming clients), so a long
    /// session opens as fast as a short one. A checkpoint that does not fit (edited,
    /// stale, from another journal, unreadable) is ignored with a warning, and the
    /// whole journal is read and verified as [`Writer::open`] does. `rostrum verify`
    /// always checks the whole chain.
    pub fn open_at_checkpoint<S: serde::de::DeserializeOwned + Send>(
        path: &Path,
        checkpoint: &Path,
        recent: usize,
    ) -> Result<(Self, Reopened<S>), JournalError> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        lock(&file, path)?;
        let mut warning = None;
        let fast = match fs::read(checkpoint) {
            Ok(text) => {
                // The state (most of the file) is checked and read on a second thread
                // while the journal's lines around the checkpoint are: only those are
                // read from the journal's file.
                let tried = std::thread::scope(|scope| {
                    let state = scope.spawn(|| read_checkpoint::<S>(&text));
                    let around = read_binding(&text).and_then(|cp| {
                        let window = read_window(&file, cp.offset, recent).map_err(|e| e.to_string())?;
                        from_checkpoint(&window, cp, (), recent)
                    });
                    let state = state.join().unwrap_or_else(|_| Err("its state could not be read".to_string()));
                    match (around, state) {
                        (Ok(reopened), Ok((_, state))) => Ok(reopened.with_base(state)),
                        (Err(why), _) | (_, Err(why)) => Err(why),
                    }
                });
                match tried {
                    Ok(reopened) => Some(reopened),
                    Err(why) => {
                        warning = Some(format!("{}: ignored, {why}; the whole journal was read", checkpoint.display()));
                        None
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                warning = Some(format!("{}: ignored ({e}); the whole journal was read", checkpoint.display()));
                None
            }
        };
        let mut reopened = match fast {
            Some(reopened) => reopened,
            None => {
                let contents = parse(&fs::read(path)?, true)?;
                let recent_events = contents.events[contents.events.len().saturating_sub(recent)..].to_vec();
                let last_seq = contents.events.last().map_or(0, |e| e.seq);
                Reopened { contents, base: None, recent: recent_events, warning: None, last_seq, checkpoint_seq: 0 }
            }
        };
        reopened.warning = warning;
        let writer = Self::continue_after(file, path, &reopened.contents, reopened.last_seq)?;
        Ok((writer, reopened))
    }

    /// The writer of an opened journal: an incomplete last line cut, appending after
    /// the last complete one and continuing its chain.
    fn continue_after(file: File, path: &Path, contents: &Contents, last_seq: u64) -> io::Result<Self> {
        if contents.torn.is_some() {
            file.set_len(contents.valid_len)?;
            file.sync_all()?;
        }
        let mut file = file;
        use std::io::Seek;
        file.seek(io::SeekFrom::End(0))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            last_hash: contents.last_hash.clone(),
            last_seq,
            epoch: contents.header_hash.clone(),
            len: contents.valid_len,
        })
    }

    /// Where the journal stands now (what a checkpoint is bound to).
    pub fn head(&self) -> Head {
        Head { seq: self.last_seq, hash: self.last_hash.clone(), offset: self.len }
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
        self.len = before + batch.len() as u64;
        Ok(())
    }
}

/// The checkpoint's file name, beside the journal.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";
const CHECKPOINT_FORMAT: &str = "rostrum-checkpoint";

/// A checkpoint: the session's state after event `seq`, bound to its journal by
/// the epoch (the header's hash), the byte offset just after that event's line and
/// that line's chain hash, and to its own content by the SHA-256 of the state's
/// text. It only spares refolding the journal: the journal stays the record, and
/// `rostrum verify` checks the journal alone.
///
/// The file holds two lines: this binding as JSON, then the state as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format: String,
    pub epoch: String,
    pub seq: u64,
    pub offset: u64,
    pub line_hash: String,
    pub state_sha256: String,
}

/// Write a checkpoint of `state` at `head` into `dir` durably: to a temporary file,
/// fsync'd, then renamed over the old one, so a crash leaves the old or the new.
pub fn write_checkpoint<S: Serialize>(dir: &Path, epoch: &str, head: &Head, state: &S) -> io::Result<()> {
    let body = serde_json::to_vec(state).map_err(io::Error::other)?;
    let binding = Checkpoint {
        format: CHECKPOINT_FORMAT.to_string(),
        epoch: epoch.to_string(),
        seq: head.seq,
        offset: head.offset,
        line_hash: head.hash.clone(),
        state_sha256: hex::encode(Sha256::digest(&body)),
    };
    let mut text = serde_json::to_vec(&binding).map_err(io::Error::other)?;
    text.push(b'\n');
    text.extend_from_slice(&body);
    text.push(b'\n');
    let tmp = dir.join(format!("{CHECKPOINT_FILE}.tmp"));
    let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
    file.write_all(&text)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(CHECKPOINT_FILE))?;
    sync_dir(dir)
}

/// A checkpoint file's first line: what it is bound to.
fn read_binding(text: &[u8]) -> Result<Checkpoint, String> {
    let split = memchr::memchr(b'\n', text).ok_or("it has no binding line")?;
    serde_json::from_slice(&text[..split]).map_err(|e| format!("its binding does not read ({e})"))
}

/// A checkpoint file read: its binding, and its state if the state's text is the one
/// the binding names.
fn read_checkpoint<S: serde::de::DeserializeOwned>(text: &[u8]) -> Result<(Checkpoint, S), String> {
    let split = memchr::memchr(b'\n', text).ok_or("it has no binding line")?;
    let binding = read_binding(text)?;
    let body = text[split + 1..].strip_suffix(b"\n").unwrap_or(&text[split + 1..]);
    if hex::encode(Sha256::digest(body)) != binding.state_sha256 {
        return Err("its state is not the one it was written with (damaged or edited)".to_string());
    }
    let state = serde_json::from_slice(body).map_err(|e| format!("its state does not read ({e})"))?;
    Ok((binding, state))
}

/// A journal opened for a session: the events to fold (all of them, or those after
/// the checkpoint whose state is `base`), and the last `recent` events.
#[derive(Debug)]
pub struct Reopened<S> {
    /// The header, the events after the checkpoint (all events without one), the
    /// chain's head, and any torn tail.
    pub contents: Contents,
    /// The checkpoint's state, when one fitted: fold `contents.events` onto it.
    pub base: Option<S>,
    /// The last events, up to the number asked, oldest first (for resuming clients).
    pub recent: Vec<Event>,
    /// Why a checkpoint was ignored.
    pub warning: Option<String>,
    /// The last event's seq (0 for a journal with no event).
    pub last_seq: u64,
    /// The seq the checkpoint used was made at (0 without one).
    pub checkpoint_seq: u64,
}

impl Reopened<()> {
    fn with_base<S>(self, state: S) -> Reopened<S> {
        let Self { contents, base: _, recent, warning, last_seq, checkpoint_seq } = self;
        Reopened { contents, base: Some(state), recent, warning, last_seq, checkpoint_seq }
    }
}

/// What the hub reads of a journal to open it from a checkpoint: the header line, and
/// the bytes from `start` (the beginning of an event line) to the end of the file,
/// which hold the line the checkpoint covers and at least `recent` lines before it
/// when the journal has them. The rest of the file is not read.
struct Window {
    /// The header line, without its newline.
    header: Vec<u8>,
    /// File offset of `tail[0]`: just after the header, or the beginning of a line.
    start: usize,
    tail: Vec<u8>,
}

/// Bytes read for each line wanted before a checkpoint, at first (doubled until enough).
const GUESS_PER_LINE: usize = 512;

fn read_window(file: &File, offset: u64, recent: usize) -> io::Result<Window> {
    use std::os::unix::fs::FileExt;
    let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
    let read = |from: usize, to: usize| -> io::Result<Vec<u8>> {
        let mut bytes = vec![0u8; to.saturating_sub(from)];
        file.read_exact_at(&mut bytes, from as u64)?;
        Ok(bytes)
    };
    // The header: up to its newline (it holds the session file, so it may be long).
    let mut header = Vec::new();
    let header_end = loop {
        let from = header.len();
        let piece = read(from, len.min(from + (64 << 10).max(from)))?;
        if piece.is_empty() {
            break len;
        }
        if let Some(i) = memchr::memchr(b'\n', &piece) {
            header.extend_from_slice(&piece[..i]);
            break from + i;
        }
        header.extend_from_slice(&piece);
    };
    let first_line = (header_end + 1).min(len);
    let offset = usize::try_from(offset).unwrap_or(len).clamp(first_line, len);
    let mut back = (recent + 2).saturating_mul(GUESS_PER_LINE);
    loop {
        let start = offset.saturating_sub(back).max(first_line);
        let tail = read(start, len)?;
        let before = memchr::memchr_iter(b'\n', &tail[..offset - start]).count();
        // Enough whole lines before the offset, or the window reaches the first event.
        if start == first_line || before > recent + 1 {
            // Start at a line's beginning: drop the partial first line.
            let skip = if start == first_line { 0 } else { memchr::memchr(b'\n', &tail).map_or(0, |i| i + 1) };
            return Ok(Window { header, start: start + skip, tail: tail[skip..].to_vec() });
        }
        back = back.saturating_mul(2);
    }
}

/// The journal read from its checkpoint, or why the checkpoint does not fit it.
fn from_checkpoint<S>(w: &Window, cp: Checkpoint, state: S, recent: usize) -> Result<Reopened<S>, String> {
    if cp.format != CHECKPOINT_FORMAT {
        return Err(format!("it is not a Rostrum checkpoint (format \"{}\")", cp.format));
    }
    let offset = usize::try_from(cp.offset).map_err(|_| "its offset is out of range".to_string())?;
    let end_of_file = w.start + w.tail.len();
    if offset <= w.start || offset > end_of_file || w.tail[offset - w.start - 1] != b'\n' {
        return Err(format!("it points at byte {offset}, not at the end of a line of the journal"));
    }
    let bytes = &w.tail;
    let offset = offset - w.start;
    // The header: the journal's identity must be the checkpoint's.
    let header_line = &w.header[..];
    let header_hash = unseal(header_line, "", 1).map_err(|e| e.to_string())?;
    if header_hash != cp.epoch {
        return Err("it was made for another journal (its epoch differs)".to_string());
    }
    let header: Header = serde_json::from_slice(header_line).map_err(|e| format!("the journal's header: {e}"))?;
    // The line it covers: its own hash and seq.
    let before = &bytes[..offset - 1];
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let covered = &before[line_start..];
    let (_, stored) = split_sealed(covered, 0).map_err(|_| "the line it points at is not a sealed line".to_string())?;
    if stored != cp.line_hash.as_bytes() {
        return Err(format!(
            "the journal's line for event {} has another hash: the journal or the checkpoint changed",
            cp.seq
        ));
    }
    let at: Event = serde_json::from_slice(covered).map_err(|e| format!("the line it points at: {e}"))?;
    if at.seq != cp.seq {
        return Err(format!("the line it points at is event {}, not {}", at.seq, cp.seq));
    }
    // The lines after it: every one verified and in sequence. Lines are numbered as
    // the journal's: the header, then one per event up to the covered one.
    let mut line_no = usize::try_from(cp.seq).map_err(|_| "its seq is out of range".to_string())? + 1;
    let mut previous = cp.line_hash.clone();
    let mut events = Vec::new();
    let mut start = offset;
    let mut torn = None;
    while start < bytes.len() {
        let Some(end) = memchr::memchr(b'\n', &bytes[start..]) else {
            torn = Some(TornTail { line: line_no + 1, bytes: bytes.len() - start });
            break;
        };
        let line = &bytes[start..start + end];
        line_no += 1;
        previous = unseal(line, &previous, line_no).map_err(|e| e.to_string())?;
        let event: Event =
            serde_json::from_slice(line).map_err(|e| format!("line {line_no}: not a valid event: {e}"))?;
        let expected = cp.seq + events.len() as u64 + 1;
        if event.seq != expected {
            return Err(format!("line {line_no}: event seq {} where {expected} was expected", event.seq));
        }
        events.push(event);
        start += end + 1;
    }
    // The last events before it, for resuming clients, each chained to the next up to
    // the covered line (whose hash the checkpoint holds). The window begins at a line.
    let wanted = recent.saturating_sub(events.len());
    let mut earlier: Vec<&[u8]> = vec![covered];
    let mut end = line_start;
    while earlier.len() < wanted && end > 0 {
        let slice = &bytes[..end - 1];
        let begin = memchr::memrchr(b'\n', slice).map_or(0, |i| i + 1);
        earlier.push(&bytes[begin..end - 1]);
        end = begin;
    }
    earlier.reverse();
    let mut recent_events = Vec::with_capacity(earlier.len() + events.len());
    for (i, line) in earlier.iter().enumerate() {
        if i > 0 {
            let (_, prev) =
                split_sealed(earlier[i - 1], 0).map_err(|_| "a line before it is not sealed".to_string())?;
            let prev = String::from_utf8_lossy(prev).into_owned();
            unseal(line, &prev, 0).map_err(|_| "the lines before it do not chain".to_string())?;
        }
        recent_events.push(serde_json::from_slice::<Event>(line).map_err(|e| format!("a line before it: {e}"))?);
    }
    let keep = wanted.min(recent_events.len());
    let mut recent_events = recent_events.split_off(recent_events.len() - keep);
    recent_events.extend(events.iter().cloned());
    let valid_len = (w.start + start) as u64;
    let last_seq = cp.seq + events.len() as u64;
    let contents = Contents { header, events, last_hash: previous, header_hash, valid_len, torn };
    Ok(Reopened { contents, base: Some(state), recent: recent_events, warning: None, last_seq, checkpoint_seq: cp.seq })
}

/// Write a journal's bytes (from etcd) as a file, durably, after checking them;
/// an existing file is not replaced. Returns what `verify` would say of it.
pub fn export(bytes: &[u8], out: &Path) -> Result<String, String> {
    let shown = out.display().to_string();
    parse(bytes, true).map_err(|e| format!("the journal in etcd does not verify: {e}"))?;
    let mut file = OpenOptions::new().write(true).create_new(true).open(out).map_err(|e| format!("{shown}: {e}"))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| format!("{shown}: {e}"))?;
    verify_report(out).map_err(|e| format!("{shown}: {e}"))
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

pub mod etcd;
mod index;
pub use index::{Glance, Index, Kind, load_checkpoint};

#[cfg(test)]
mod tests;
