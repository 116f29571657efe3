//! A journal located line by line, for `rostrum replay`: every line's chain hash is
//! checked and each event is glanced at (its seq, its time, its kind, the entry it
//! makes), but no event is kept. Events are read again from the file, a few at a
//! time, when they are shown or folded; each line read again must still carry the
//! hash it had when the journal was opened, so an edit made since is refused.
//!
//! Memory is a few dozen bytes per event instead of the events themselves, and the
//! file is read in pieces, so a long journal opens without holding it whole.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Checkpoint, Header, JournalError, TornTail, damaged, read_header, split_sealed, unseal};
use crate::domain::{Event, Timestamp};

/// Bytes read from the file at a time while opening.
const PIECE: usize = 4 << 20;

/// What replay needs to know of an event without reading it whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glance {
    pub at: Timestamp,
    /// The event's `type` (e.g. "floor-given").
    pub kind: Kind,
    /// The entry an inscription, a right of reply or a suspension makes: id and participant.
    pub entry: Option<(u64, String)>,
}

/// The kinds of event replay jumps between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    FloorGiven,
    SegmentOpened,
    Other,
}

/// How the glance reads a line: the fields it needs, the rest skipped.
#[derive(Deserialize)]
struct Skim<'a> {
    seq: u64,
    at: Timestamp,
    #[serde(borrow)]
    event: SkimKind<'a>,
}

#[derive(Deserialize)]
struct SkimKind<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    entry: Option<SkimEntry>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SkimEntry {
    Made { id: u64, participant: String },
    Other(serde::de::IgnoredAny),
}

/// A journal opened for reading events by position.
#[derive(Debug)]
pub struct Index {
    file: File,
    pub header: Header,
    /// The header line's hash: the journal's identity.
    pub header_hash: String,
    /// Where event line `i` (0-based) begins; one more entry: the end of the last complete line.
    offsets: Vec<u64>,
    /// Each event line's chain hash (empty when opened without verifying).
    hashes: Vec<[u8; 32]>,
    /// Each event glanced at, in order (the caller may take them: the index reads
    /// events without them).
    pub glances: Vec<Glance>,
    /// False when opened without checking the chain.
    pub verified: bool,
    pub torn: Option<TornTail>,
}

/// One line looked at: its stored hash (checked, when verifying) and its glance.
struct Looked {
    hash: [u8; 32],
    seq: u64,
    glance: Glance,
}

fn hex32(hex_digits: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // `split_sealed` has checked that these are 64 lowercase hex digits.
    let _ = hex::decode_to_slice(hex_digits, &mut out);
    out
}

/// Look at one event line: its hash chains on `previous` (the hex digits of the line
/// before's hash), when verifying, and its seq, time and kind read.
fn look(line: &[u8], previous: &[u8], line_no: usize, verify: bool) -> Result<Looked, JournalError> {
    let (head, stored) = split_sealed(line, line_no)?;
    if verify {
        let mut hasher = Sha256::new();
        hasher.update(previous);
        hasher.update(head);
        hasher.update(b"}");
        let hash: [u8; 32] = hasher.finalize().into();
        if hash != hex32(stored) {
            return Err(damaged(
                line_no,
                "hash chain broken: the line was edited, or a line before it was removed or reordered",
            ));
        }
    }
    let hash = hex32(stored);
    if let Some((seq, at, kind)) = quick(line)
        && !makes_entry(kind)
    {
        return Ok(Looked { hash, seq, glance: Glance { at, kind: kind_of(kind), entry: None } });
    }
    let skim: Skim = serde_json::from_slice(line).map_err(|e| damaged(line_no, format!("not a valid event: {e}")))?;
    let entry = match skim.event.entry {
        Some(SkimEntry::Made { id, participant }) if makes_entry(&skim.event.kind) => Some((id, participant)),
        _ => None,
    };
    let kind = kind_of(&skim.event.kind);
    Ok(Looked { hash, seq: skim.seq, glance: Glance { at: skim.at, kind, entry } })
}

fn kind_of(kind: &str) -> Kind {
    match kind {
        "floor-given" => Kind::FloorGiven,
        "segment-opened" => Kind::SegmentOpened,
        _ => Kind::Other,
    }
}

/// The kinds of event that make an entry (whose participant replay names later).
fn makes_entry(kind: &str) -> bool {
    matches!(kind, "inscribed" | "reply-requested" | "turn-suspended")
}

/// The glance at a line as Rostrum writes it, without parsing it: `{"seq":N,"at":"T",
/// "actor":{…}` first, then `},"event":{"type":"K"`. In JSON a `"` inside a string is
/// always escaped, so `},"event":{"type":"` can only be the structure itself. Any other
/// shape returns `None`, and the line is read by serde. The line is read whole (and
/// refused if it does not read) when it is shown or folded, and `rostrum verify` reads
/// every line.
fn quick(line: &[u8]) -> Option<(u64, Timestamp, &str)> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let seq: u64 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let rest = rest[digits..].strip_prefix(b",\"at\":\"")?;
    let end = memchr::memchr(b'"', rest)?;
    let at: Timestamp = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    let rest = rest[end + 1..].strip_prefix(b",\"actor\":{")?;
    static EVENT: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"},\"event\":{\"type\":\""));
    let begin = EVENT.find(rest)? + EVENT.needle().len();
    let len = memchr::memchr(b'"', &rest[begin..])?;
    let kind = std::str::from_utf8(&rest[begin..begin + len]).ok()?;
    kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'-').then_some((seq, at, kind))
}

/// Look at consecutive lines; `previous` is the hash digits of the line before the first.
fn look_all(lines: &[(usize, &[u8])], previous: &[u8], verify: bool) -> Result<Vec<Looked>, JournalError> {
    let mut out = Vec::with_capacity(lines.len());
    let mut previous = previous;
    for (line_no, line) in lines {
        out.push(look(line, previous, *line_no, verify)?);
        // The next line chains on this one's stored hash, which `look` checked.
        previous = &line[line.len() - 66..line.len() - 2];
    }
    Ok(out)
}

/// Look at a piece's lines on two threads: each line's hash is checked against the
/// stored hash of the line before it, so both halves check at once and together
/// check the whole chain. The first damage (by line) wins.
fn look_piece(lines: &[(usize, &[u8])], previous: &[u8], verify: bool) -> Result<Vec<Looked>, JournalError> {
    if lines.len() < 256 {
        return look_all(lines, previous, verify);
    }
    let (a, b) = lines.split_at(lines.len() / 2);
    let (_, last_of_a) = a[a.len() - 1];
    // If that line is not sealed, the first half fails on it (an earlier line).
    let middle = split_sealed(last_of_a, 0).map(|(_, hash)| hash).unwrap_or(b"");
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| look_all(b, middle, verify));
        let first = look_all(a, previous, verify);
        (first, second.join().unwrap_or_else(|_| Err(damaged(0, "the chain check stopped"))))
    });
    let mut first = first?;
    first.extend(second?);
    Ok(first)
}

impl Index {
    /// Open the journal at `path`: every complete line located, its chain checked
    /// (with `verify`) and its event glanced at. An incomplete last line is reported
    /// in [`Index::torn`]; any other damage is an error naming its line.
    pub fn open(path: &Path, verify: bool) -> Result<Self, JournalError> {
        let mut file = File::open(path)?;
        let mut header: Option<(Header, String)> = None;
        let mut offsets = Vec::new();
        let mut hashes = Vec::new();
        let mut glances = Vec::new();
        // Bytes not yet split into lines, and the file offset of their first byte.
        let mut pending: Vec<u8> = Vec::with_capacity(PIECE * 2);
        let mut at: u64 = 0;
        let mut line_no = 0;
        let mut previous: Vec<u8> = Vec::new();
        loop {
            // Straight into the bytes pending (no copy, no zeroing).
            if (&mut file).take(PIECE as u64).read_to_end(&mut pending)? == 0 {
                break;
            }
            let mut lines: Vec<(usize, &[u8])> = Vec::new();
            let mut start = 0;
            while let Some(end) = memchr::memchr(b'\n', &pending[start..]) {
                line_no += 1;
                lines.push((line_no, &pending[start..start + end]));
                start += end + 1;
            }
            let mut begin = at;
            let mut events = &lines[..];
            if header.is_none()
                && let Some(((no, line), rest)) = lines.split_first()
            {
                let (_, stored) = split_sealed(line, *no)?;
                if verify {
                    unseal(line, "", *no)?;
                }
                let h = read_header(line, *no)?;
                previous = stored.to_vec();
                header = Some((h, String::from_utf8_lossy(stored).into_owned()));
                begin += line.len() as u64 + 1;
                events = rest;
            }
            let looked = look_piece(events, &previous, verify)?;
            for ((no, line), l) in events.iter().zip(looked) {
                let expected = glances.len() as u64 + 1;
                if l.seq != expected {
                    return Err(damaged(*no, format!("event seq {} where {expected} was expected", l.seq)));
                }
                offsets.push(begin);
                begin += line.len() as u64 + 1;
                if verify {
                    hashes.push(l.hash);
                }
                glances.push(l.glance);
            }
            if let Some((_, line)) = events.last() {
                previous = line[line.len() - 66..line.len() - 2].to_vec();
            }
            drop(lines);
            pending.drain(..start);
            at += start as u64;
        }
        let torn = (!pending.is_empty()).then(|| TornTail { line: line_no + 1, bytes: pending.len() });
        let (header, header_hash) = header.ok_or_else(|| damaged(1, "the journal has no complete header line"))?;
        offsets.push(at);
        Ok(Self { file, header, header_hash, offsets, hashes, glances, verified: verify, torn })
    }

    /// Events in the journal.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the complete lines.
    pub fn valid_len(&self) -> u64 {
        self.offsets.last().copied().unwrap_or(0)
    }

    /// The byte offset just after event `seq`'s line, and that line's hash (hex),
    /// when verified: what a checkpoint is bound to.
    pub fn head_after(&self, seq: u64) -> Option<(u64, String)> {
        let i = usize::try_from(seq).ok()?;
        let offset = *self.offsets.get(i)?;
        let hash = if i == 0 { self.header_hash.clone() } else { hex::encode(self.hashes.get(i - 1)?) };
        Some((offset, hash))
    }

    /// The events at positions `from..to` (0-based, clamped), read again from the
    /// file. Each line must still be the one opened: same chain hash (when verified),
    /// same seq; a line changed since is an error naming it.
    pub fn read(&self, from: usize, to: usize) -> Result<Vec<Event>, JournalError> {
        let to = to.min(self.len());
        if from >= to {
            return Ok(Vec::new());
        }
        let (begin, end) = (self.offsets[from], self.offsets[to]);
        let mut bytes = vec![0u8; usize::try_from(end - begin).map_err(|_| damaged(from + 2, "too long"))?];
        self.file.read_exact_at(&mut bytes, begin)?;
        let mut events = Vec::with_capacity(to - from);
        let mut start = 0;
        for i in from..to {
            let line_no = i + 2;
            let changed = || damaged(line_no, "the line changed since the journal was opened");
            let end = memchr::memchr(b'\n', &bytes[start..]).ok_or_else(changed)?;
            let line = &bytes[start..start + end];
            start += end + 1;
            if self.verified {
                let previous = if i == 0 { self.header_hash.clone() } else { hex::encode(self.hashes[i - 1]) };
                let (head, stored) = split_sealed(line, line_no)?;
                let mut hasher = Sha256::new();
                hasher.update(previous.as_bytes());
                hasher.update(head);
                hasher.update(b"}");
                let hash: [u8; 32] = hasher.finalize().into();
                if hash != self.hashes[i] || hex32(stored) != hash {
                    return Err(changed());
                }
            }
            let event: Event =
                serde_json::from_slice(line).map_err(|e| damaged(line_no, format!("not a valid event: {e}")))?;
            if event.seq != i as u64 + 1 {
                return Err(changed());
            }
            events.push(event);
        }
        Ok(events)
    }
}

/// The checkpoint file at `path` read, with its state if the state's text is the one
/// its binding names: `Ok(None)` when there is no such file, `Err(why)` when it does not
/// read. Whether it fits a journal is [`Index::fits`]'s question (the two can run at
/// once: reading the state does not need the journal).
pub fn load_checkpoint<S: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<(Checkpoint, S)>, String> {
    match std::fs::read(path) {
        Ok(text) => super::read_checkpoint::<S>(&text).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

impl Index {
    /// Whether a checkpoint fits this journal: made for it (its epoch), after one of
    /// its lines, which holds the hash and ends at the offset it names. A journal
    /// opened without verifying its chain takes no checkpoint.
    pub fn fits(&self, cp: &Checkpoint) -> Result<(), String> {
        if !self.verified {
            return Err("the journal's chain was not verified (--no-verify)".to_string());
        }
        if cp.format != super::CHECKPOINT_FORMAT {
            return Err(format!("it is not a Rostrum checkpoint (format \"{}\")", cp.format));
        }
        if cp.epoch != self.header_hash {
            return Err("it was made for another journal (its epoch differs)".to_string());
        }
        match self.head_after(cp.seq) {
            Some((offset, hash)) if offset == cp.offset && hash == cp.line_hash => Ok(()),
            Some(_) => Err(format!(
                "the journal's line for event {} is not the one it was made after: the journal or the checkpoint changed",
                cp.seq
            )),
            None => Err(format!("it was made after event {}, and the journal holds {}", cp.seq, self.len())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick glance reads what serde reads, on every line of the shipped sample
    /// (every kind of event a scripted session makes), and gives way on other shapes.
    #[test]
    fn the_quick_glance_agrees_with_serde_or_gives_way() {
        let sample = include_str!("../../tests/data/sample-session.jsonl");
        let mut quick_ones = 0;
        for line in sample.lines().skip(1) {
            let skim: Skim = serde_json::from_str(line).expect("an event");
            if let Some((seq, at, kind)) = quick(line.as_bytes()) {
                assert_eq!((seq, at, kind), (skim.seq, skim.at, skim.event.kind.as_ref()), "{line}");
                quick_ones += 1;
            }
        }
        assert_eq!(quick_ones, sample.lines().count() - 1, "every line Rostrum writes has the quick shape");
        for other in [
            r#"{"at":"2022-05-17T14:00:00Z","seq":1,"actor":{"role":"chair","name":"c"},"event":{"type":"session-closed"}}"#,
            r#"{"seq": 1,"at":"2022-05-17T14:00:00Z","actor":{"role":"chair","name":"c"},"event":{"type":"session-closed"}}"#,
            r#"{"seq":1,"at":"yesterday","actor":{"role":"chair","name":"c"},"event":{"type":"session-closed"}}"#,
            r#"{"seq":1,"at":"2022-05-17T14:00:00Z","actor":{"role":"chair","name":"c"},"event":{"type":"Session\u0020"}}"#,
        ] {
            assert_eq!(quick(other.as_bytes()), None, "{other}");
        }
    }
}
