//! The journal kept in etcd: the same sealed lines as the file, under ordered keys.
//!
//! ```text
//! /rostrum/SESSION/header          line 1 (the header, sealed)
//! /rostrum/SESSION/e/00000000000000000001 … one event line each (sealed, no newline)
//! /rostrum/SESSION/head            {"seq":N,"hash":"…"}: the chain's head
//! /rostrum/SESSION/leader          {"hub":"…","url":"…"}, attached to the leading hub's lease
//! /rostrum/SESSION/tokens          the session's tokens (tokens.toml's text)
//! ```
//!
//! The hash chain is the file's: the lines joined with newlines *are* the file
//! journal, which is how a session is exported, imported and verified. Each group
//! commit is one transaction (or a few, for batches beyond etcd's 128 operations)
//! that applies only if the head is still the one this hub last wrote and the
//! leader key is still held under this hub's lease: a hub that lost its lease, or
//! was overtaken, cannot append (fencing), whatever it believes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Contents, Header, JournalError, seal};
use crate::domain::{Event, Timestamp};
use crate::etcd::{Compare, Etcd, EtcdError, Lease, Op, prefix_end};

/// Event keys per range request when reading a journal.
const PAGE: i64 = 5000;
/// How many lease TTLs a hub keeps asking whether its last write was recorded.
const RESOLVE_TTLS: u32 = 3;
/// Events per transaction (etcd allows 128 operations in one, by default).
const PER_TXN: usize = 100;

pub fn prefix(session: &str) -> String {
    format!("/rostrum/{session}/")
}
pub fn header_key(session: &str) -> Vec<u8> {
    format!("/rostrum/{session}/header").into_bytes()
}
pub fn head_key(session: &str) -> Vec<u8> {
    format!("/rostrum/{session}/head").into_bytes()
}
pub fn leader_key(session: &str) -> Vec<u8> {
    format!("/rostrum/{session}/leader").into_bytes()
}
pub fn tokens_key(session: &str) -> Vec<u8> {
    format!("/rostrum/{session}/tokens").into_bytes()
}
fn events_prefix(session: &str) -> Vec<u8> {
    format!("/rostrum/{session}/e/").into_bytes()
}
pub fn event_key(session: &str, seq: u64) -> Vec<u8> {
    format!("/rostrum/{session}/e/{seq:020}").into_bytes()
}

/// The chain's head as stored, with the lease of the hub that wrote it (0: an
/// import): two hubs that would write the same line still write different heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
    #[serde(default)]
    pub writer: i64,
}

impl Head {
    fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Who leads a session: the value of its leader key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderInfo {
    pub hub: String,
    pub url: String,
}

/// Where a hub registers itself, under its lease: `/rostrum/hubs/HUB` = its [`LeaderInfo`].
const HUBS_PREFIX: &[u8] = b"/rostrum/hubs/";

/// Register this hub under its lease, so that the session's other hubs list it to clients.
pub async fn register_hub(etcd: &Etcd, lease: &Lease, me: &LeaderInfo) -> Result<(), EtcdError> {
    let mut key = HUBS_PREFIX.to_vec();
    key.extend_from_slice(me.hub.as_bytes());
    let value = serde_json::to_vec(me).unwrap_or_default();
    etcd.txn(&[], &[Op::Put { key, value, lease: lease.id }]).await.map(|_| ())
}

/// The hubs registered now (their leases held), in the order of their ids.
pub async fn live_hubs(etcd: &Etcd) -> Result<Vec<LeaderInfo>, EtcdError> {
    let found = etcd.range(HUBS_PREFIX, &crate::etcd::prefix_end(HUBS_PREFIX), 0, 0).await?;
    Ok(found.kvs.iter().filter_map(|kv| serde_json::from_slice(&kv.value).ok()).collect())
}

/// Why a journal could not be read from etcd.
#[derive(Debug)]
pub enum LoadError {
    Etcd(EtcdError),
    Journal(JournalError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Etcd(e) => write!(f, "{e}"),
            Self::Journal(e) => write!(f, "{e}"),
        }
    }
}

impl From<EtcdError> for LoadError {
    fn from(e: EtcdError) -> Self {
        Self::Etcd(e)
    }
}

/// The session's journal as file bytes (header, then events, one line each),
/// read at one revision so that it is a consistent prefix; `None` if etcd holds
/// no journal of that session.
pub async fn load_bytes(etcd: &Etcd, session: &str) -> Result<Option<Vec<u8>>, EtcdError> {
    let first = etcd.range(&header_key(session), &[], 0, 0).await?;
    let Some(header) = first.kvs.into_iter().next() else { return Ok(None) };
    let revision = first.revision;
    let mut bytes = header.value;
    bytes.push(b'\n');
    let end = prefix_end(&events_prefix(session));
    let mut from = event_key(session, 1);
    loop {
        let page = etcd.range(&from, &end, PAGE, revision).await?;
        for kv in &page.kvs {
            bytes.extend_from_slice(&kv.value);
            bytes.push(b'\n');
        }
        match page.kvs.last() {
            Some(last) if page.more => {
                from = last.key.clone();
                from.push(0);
            }
            _ => break,
        }
    }
    Ok(Some(bytes))
}

/// Read and verify the session's journal from etcd, exactly as `read_file` would
/// read its export.
pub async fn load(etcd: &Etcd, session: &str) -> Result<Option<Contents>, LoadError> {
    match load_bytes(etcd, session).await? {
        None => Ok(None),
        Some(bytes) => super::parse(&bytes, true).map(Some).map_err(LoadError::Journal),
    }
}

/// Copy a file journal into etcd under its session id; refused if etcd already
/// holds a journal of that session. Returns the number of events.
pub async fn import(etcd: &Etcd, bytes: &[u8]) -> Result<(String, usize), String> {
    let contents = super::parse(bytes, true).map_err(|e| e.to_string())?;
    if let Some(torn) = &contents.torn {
        return Err(format!("{torn}: run `rostrum verify`, or open it once with a hub to cut it off"));
    }
    let session = contents.header.session.clone();
    let lines: Vec<&[u8]> =
        bytes[..contents.valid_len as usize].split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    let Some((header_line, event_lines)) = lines.split_first() else {
        return Err("the journal has no header".to_string());
    };
    let created = etcd
        .txn(
            &[Compare::Missing(header_key(&session))],
            &[Op::Put { key: header_key(&session), value: header_line.to_vec(), lease: 0 }],
        )
        .await
        .map_err(|e| e.to_string())?;
    if !created {
        return Err(format!("etcd already holds a journal of session \"{session}\": it was not changed"));
    }
    let mut head = Head { seq: 0, hash: contents.header_hash.clone(), writer: 0 };
    etcd.put(&head_key(&session), &head.bytes()).await.map_err(|e| e.to_string())?;
    for (i, chunk) in event_lines.chunks(PER_TXN).enumerate() {
        let before = head.bytes();
        let mut ops = Vec::with_capacity(chunk.len() + 1);
        for (j, line) in chunk.iter().enumerate() {
            let seq = (i * PER_TXN + j + 1) as u64;
            ops.push(Op::Put { key: event_key(&session, seq), value: line.to_vec(), lease: 0 });
        }
        let last_seq = (i * PER_TXN + chunk.len()) as u64;
        let hash = chunk
            .last()
            .map(|l| String::from_utf8_lossy(&l[l.len().saturating_sub(66)..l.len().saturating_sub(2)]).into_owned())
            .unwrap_or_default();
        head = Head { seq: last_seq, hash, writer: 0 };
        ops.push(Op::Put { key: head_key(&session), value: head.bytes(), lease: 0 });
        let applied = etcd
            .txn(&[Compare::Value(head_key(&session), before), Compare::Missing(leader_key(&session))], &ops)
            .await
            .map_err(|e| e.to_string())?;
        if !applied {
            return Err(format!("session \"{session}\" changed in etcd while it was imported (a hub leads it)"));
        }
    }
    Ok((session, event_lines.len()))
}

/// Why an append did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendError {
    /// This hub no longer leads the session (its lease lapsed, or the head moved):
    /// it must stop accepting commands for good.
    Fenced(String),
    /// etcd could not be reached or has no quorum, and nothing was written: the
    /// commands are refused, and later ones may succeed.
    Unavailable(String),
}

/// Appends to a session's journal in etcd while this hub leads the session.
#[derive(Debug)]
pub struct EtcdWriter {
    etcd: Arc<Etcd>,
    session: String,
    lease: Arc<Lease>,
    head: Head,
    epoch: String,
}

impl EtcdWriter {
    /// Continue the journal this hub has just read (`contents`), or create it with
    /// its header if etcd holds none. The caller leads the session under `lease`.
    pub async fn open(
        etcd: Arc<Etcd>,
        session: &str,
        lease: Arc<Lease>,
        existing: Option<&Contents>,
        config: &str,
        now: Timestamp,
    ) -> Result<Self, String> {
        let head = match existing {
            Some(contents) => {
                Head { seq: contents.events.last().map_or(0, |e| e.seq), hash: contents.last_hash.clone(), writer: 0 }
            }
            None => {
                let header = Header {
                    format: super::FORMAT.to_string(),
                    version: super::VERSION,
                    session: session.to_string(),
                    created: now,
                    config: config.to_string(),
                };
                let (mut line, hash) = seal(&header, "");
                line.pop();
                let head = Head { seq: 0, hash, writer: lease.id };
                let created = etcd
                    .txn(
                        &[Compare::Missing(header_key(session)), Compare::Lease(leader_key(session), lease.id)],
                        &[
                            Op::Put { key: header_key(session), value: line, lease: 0 },
                            Op::Put { key: head_key(session), value: head.bytes(), lease: 0 },
                        ],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                if !created {
                    return Err(format!("session \"{session}\" was created by another hub meanwhile"));
                }
                head
            }
        };
        let epoch = match existing {
            Some(contents) => contents.header_hash.clone(),
            None => head.hash.clone(),
        };
        Self::continue_at(etcd, session, lease, (head.seq, head.hash), epoch).await
    }

    /// Continue the journal of `epoch` after the line `(seq, hash)` this hub has
    /// read last (a standby that has just taken the session over). The caller
    /// leads the session under `lease`.
    pub async fn continue_at(
        etcd: Arc<Etcd>,
        session: &str,
        lease: Arc<Lease>,
        (seq, hash): (u64, String),
        epoch: String,
    ) -> Result<Self, String> {
        // The head key must say what was read: else another hub wrote since.
        let stored = etcd.get(&head_key(session)).await.map_err(|e| e.to_string())?;
        let stored: Option<Head> = stored.and_then(|kv| serde_json::from_slice(&kv.value).ok());
        let head = match stored {
            Some(stored) if stored.seq == seq && stored.hash == hash => stored,
            other => {
                return Err(format!(
                    "session \"{session}\": the journal's head in etcd ({other:?}) is not its last line (seq {seq}): export it and check it with `rostrum verify`"
                ));
            }
        };
        Ok(Self { etcd, session: session.to_string(), lease, head, epoch })
    }

    pub fn last_seq(&self) -> u64 {
        self.head.seq
    }

    /// The last line written: its seq and hash.
    pub fn head(&self) -> (u64, &str) {
        (self.head.seq, &self.head.hash)
    }

    pub fn etcd(&self) -> &Arc<Etcd> {
        &self.etcd
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn lease(&self) -> &Arc<Lease> {
        &self.lease
    }

    /// Keep the session's tokens in etcd (only while this hub leads).
    pub async fn save_tokens(&self, text: &str) -> Result<bool, EtcdError> {
        save_tokens(&self.etcd, &self.session, &self.lease, text).await
    }

    /// Append events (which must continue the sequence); returns once etcd has
    /// committed them, or says why they were not written.
    pub async fn append(&mut self, events: &[Event]) -> Result<(), AppendError> {
        if events.is_empty() {
            return Ok(());
        }
        for chunk in events.chunks(PER_TXN) {
            self.append_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn append_chunk(&mut self, events: &[Event]) -> Result<(), AppendError> {
        self.lease_held().await?;
        let mut ops = Vec::with_capacity(events.len() + 1);
        let mut hash = self.head.hash.clone();
        let mut seq = self.head.seq;
        for event in events {
            if event.seq != seq + 1 {
                return Err(AppendError::Unavailable(format!("event seq {} does not follow {seq}", event.seq)));
            }
            let (mut line, h) = seal(event, &hash);
            line.pop();
            ops.push(Op::Put { key: event_key(&self.session, event.seq), value: line, lease: 0 });
            hash = h;
            seq = event.seq;
        }
        let next = Head { seq, hash, writer: self.lease.id };
        ops.push(Op::Put { key: head_key(&self.session), value: next.bytes(), lease: 0 });
        let compare = [
            Compare::Value(head_key(&self.session), self.head.bytes()),
            Compare::Lease(leader_key(&self.session), self.lease.id),
        ];
        // etcd electing a new leader answers nothing for a second or two: the same
        // transaction is tried again (its compare makes that safe) while the lease holds.
        let retry_until = tokio::time::Instant::now() + self.lease.ttl / 2;
        loop {
            let outcome = match self.etcd.txn(&compare, &ops).await {
                Ok(true) => {
                    self.head = next;
                    return Ok(());
                }
                // Not applied; or applied by an earlier try of this very call, which an
                // endpoint that did not answer in time passed on (the head says which).
                Ok(false) => self.resolve(next.clone(), None).await,
                // The outcome is unknown: read the head back to learn it.
                Err(e) => self.resolve(next.clone(), Some(e)).await,
            };
            match outcome {
                Err(AppendError::Unavailable(_)) if tokio::time::Instant::now() < retry_until && self.lease.held() => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                other => return other,
            }
        }
    }

    /// Wait a little for a lease not renewed lately (etcd electing a leader):
    /// commands wait, then are refused as `unavailable`; a lease etcd says is gone
    /// fences this hub for good.
    async fn lease_held(&self) -> Result<(), AppendError> {
        let until = tokio::time::Instant::now() + self.lease.ttl / 2;
        loop {
            if self.lease.lost() {
                return Err(self.fenced("its lease on the session lapsed"));
            }
            if self.lease.held() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= until {
                return Err(AppendError::Unavailable(
                    "this hub cannot renew its lease on the session now (etcd does not answer, or has no quorum); nothing was decided".to_string(),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// After a failed call (`error`) or a failed compare (`None`): the head says
    /// whether the transaction was applied.
    async fn resolve(&mut self, next: Head, error: Option<EtcdError>) -> Result<(), AppendError> {
        // Nothing is written while this is unknown, so it may wait out an etcd election
        // on a loaded machine (several lease TTLs); the next write still needs the lease.
        let deadline = tokio::time::Instant::now() + self.lease.ttl * RESOLVE_TTLS;
        loop {
            if let Ok(stored) = self.etcd.get(&head_key(&self.session)).await {
                let stored: Option<Head> = stored.and_then(|kv| serde_json::from_slice(&kv.value).ok());
                return if stored.as_ref() == Some(&next) {
                    self.head = next;
                    Ok(())
                } else if let (true, Some(error)) = (stored.as_ref() == Some(&self.head), &error) {
                    Err(AppendError::Unavailable(format!(
                        "the record could not be written: {error}; nothing was decided, try again when etcd has a quorum"
                    )))
                } else if error.is_none() {
                    Err(self.fenced("another hub leads the session now"))
                } else {
                    Err(self.fenced("another hub wrote the session's journal"))
                };
            }
            if tokio::time::Instant::now() >= deadline {
                // Not knowing what was written, this hub must not write again.
                let error = error.map_or_else(|| "no answer".to_string(), |e| e.to_string());
                return Err(self.fenced(&format!("etcd did not say whether the last write was recorded ({error})")));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    fn fenced(&self, why: &str) -> AppendError {
        self.lease.mark_lost();
        AppendError::Fenced(format!("this hub no longer leads session \"{}\": {why}", self.session))
    }
}

/// Campaign for a session until this hub leads it: the leader key is created
/// under `lease` only if it does not exist. Returns the leader seen meanwhile
/// (for the log) through `waiting`.
pub async fn campaign(
    etcd: &Etcd,
    session: &str,
    lease: &Lease,
    me: &LeaderInfo,
    mut waiting: impl FnMut(Option<LeaderInfo>),
) -> Result<(), String> {
    let mut told = false;
    loop {
        match try_campaign(etcd, session, lease, me).await? {
            Campaign::Leads => return Ok(()),
            Campaign::Led(leader) if !told => {
                waiting(leader);
                told = true;
            }
            Campaign::Led(_) | Campaign::Unknown => {}
        }
        tokio::time::sleep(lease.ttl / 8).await;
    }
}

/// What one try to lead a session found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Campaign {
    /// This hub leads the session now.
    Leads,
    /// Another hub leads it (as its leader key says, if it reads).
    Led(Option<LeaderInfo>),
    /// etcd did not answer.
    Unknown,
}

/// Try once to lead a session: its leader key is created under `lease` only if
/// it does not exist. Refused once the lease is lost.
pub async fn try_campaign(etcd: &Etcd, session: &str, lease: &Lease, me: &LeaderInfo) -> Result<Campaign, String> {
    if lease.lost() {
        return Err("this hub's lease was lost while it waited".to_string());
    }
    let value = serde_json::to_vec(me).unwrap_or_default();
    let won = etcd
        .txn(&[Compare::Missing(leader_key(session))], &[Op::Put { key: leader_key(session), value, lease: lease.id }])
        .await;
    if let Ok(true) = won {
        return Ok(Campaign::Leads);
    }
    Ok(match etcd.get(&leader_key(session)).await {
        // An earlier try of ours was applied.
        Ok(Some(kv)) if kv.lease == lease.id => Campaign::Leads,
        Ok(Some(kv)) => Campaign::Led(serde_json::from_slice(&kv.value).ok()),
        // Nobody leads: the next try may.
        Ok(None) => Campaign::Led(None),
        Err(_) => Campaign::Unknown,
    })
}

/// Follows a session's journal in etcd while another hub leads it: a standby hub
/// serves the session read-only from it. Each [`EtcdFollower::poll`] reads the
/// lines written since, checks their chain and sequence, and returns their
/// events; [`EtcdFollower::take_over`] leads the session when no hub does.
#[derive(Debug)]
pub struct EtcdFollower {
    reader: Reader,
    lease: Arc<Lease>,
    me: LeaderInfo,
    epoch: String,
    /// The hub that leads the session, as last read.
    leader: Option<LeaderInfo>,
}

/// Reads a session's journal in etcd as it grows, read-only: each
/// [`Reader::poll`] returns the events written since, each line's chain and
/// sequence checked (`rostrum replay --follow --etcd`, and a standby hub).
#[derive(Debug)]
pub struct Reader {
    etcd: Arc<Etcd>,
    session: String,
    /// The last line read: its seq and hash.
    seq: u64,
    hash: String,
}

impl Reader {
    /// Read on after the line `(seq, hash)` of `session`'s journal.
    pub fn after(etcd: Arc<Etcd>, session: &str, (seq, hash): (u64, String)) -> Self {
        Self { etcd, session: session.to_string(), seq, hash }
    }

    /// The events written since the last poll (at most a page of them), checked.
    /// The position moves only once the whole page is.
    pub async fn poll(&mut self) -> Result<Vec<Event>, LoadError> {
        let end = prefix_end(&events_prefix(&self.session));
        let page = self.etcd.range(&event_key(&self.session, self.seq + 1), &end, PAGE, 0).await?;
        let mut events = Vec::with_capacity(page.kvs.len());
        let (mut seq, mut hash) = (self.seq, self.hash.clone());
        for kv in &page.kvs {
            // Line 1 is the header: event N is on line N + 1.
            let line = usize::try_from(seq + 2).unwrap_or(usize::MAX);
            let (event, next) = super::next_event(&kv.value, &hash, line, seq + 1).map_err(LoadError::Journal)?;
            seq = event.seq;
            hash = next;
            events.push(event);
        }
        (self.seq, self.hash) = (seq, hash);
        Ok(events)
    }
}

impl EtcdFollower {
    /// Follow the journal `epoch` of `session` after the line `(seq, hash)` this
    /// hub has read last, while `leader` leads it.
    pub fn at(
        (etcd, lease, me): (Arc<Etcd>, Arc<Lease>, LeaderInfo),
        session: &str,
        (seq, hash): (u64, String),
        epoch: String,
        leader: Option<LeaderInfo>,
    ) -> Self {
        Self { reader: Reader::after(etcd, session, (seq, hash)), lease, me, epoch, leader }
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    pub fn session(&self) -> &str {
        &self.reader.session
    }

    /// How often a standby reads the journal: every 100 ms (its clients see the
    /// leader's events that much later at most), or an eighth of a short lease.
    pub fn every(&self) -> std::time::Duration {
        self.campaign_every().min(std::time::Duration::from_millis(100))
    }

    /// How often a standby tries to lead (and reads which hub does): an eighth of the lease.
    pub fn campaign_every(&self) -> std::time::Duration {
        self.lease.ttl / 8
    }

    /// The leading hub's session URL, as last read.
    pub fn leader_url(&self) -> Option<String> {
        self.leader.as_ref().map(|l| format!("{}/v1/sessions/{}", l.url, self.reader.session))
    }

    /// The events written since the last poll (at most a page of them), checked.
    pub async fn poll(&mut self) -> Result<Vec<Event>, LoadError> {
        self.reader.poll().await
    }

    /// Lead the session if no hub does: then read the journal to its end (its
    /// last leader can no longer write) and return the writer that continues it,
    /// with the events read meanwhile. `None`: another hub leads it.
    pub async fn take_over(&mut self) -> Result<Option<(EtcdWriter, Vec<Event>)>, String> {
        match try_campaign(&self.reader.etcd, &self.reader.session, &self.lease, &self.me).await? {
            Campaign::Leads => {}
            Campaign::Led(leader) => {
                self.leader = leader;
                return Ok(None);
            }
            Campaign::Unknown => return Ok(None),
        }
        let read = (self.reader.seq, self.reader.hash.clone());
        match self.continue_as_leader().await {
            Ok(taken) => {
                self.leader = Some(self.me.clone());
                Ok(Some(taken))
            }
            Err(e) => {
                // The lines read meanwhile were not applied: they are read again.
                (self.reader.seq, self.reader.hash) = read;
                // Not able to write it, this hub lets another lead the session.
                let _ = self
                    .reader
                    .etcd
                    .txn(
                        &[Compare::Lease(leader_key(&self.reader.session), self.lease.id)],
                        &[Op::Delete { key: leader_key(&self.reader.session) }],
                    )
                    .await;
                Err(e)
            }
        }
    }

    async fn continue_as_leader(&mut self) -> Result<(EtcdWriter, Vec<Event>), String> {
        let mut caught_up = Vec::new();
        loop {
            let page = self.poll().await.map_err(|e| format!("session {} in etcd: {e}", self.reader.session))?;
            if page.is_empty() {
                break;
            }
            caught_up.extend(page);
        }
        let writer = EtcdWriter::continue_at(
            self.reader.etcd.clone(),
            &self.reader.session,
            self.lease.clone(),
            (self.reader.seq, self.reader.hash.clone()),
            self.epoch.clone(),
        )
        .await?;
        Ok((writer, caught_up))
    }

    /// The session's tokens as etcd holds them now.
    pub async fn tokens(&self) -> Result<Option<String>, EtcdError> {
        Ok(self
            .reader
            .etcd
            .get(&tokens_key(&self.reader.session))
            .await?
            .map(|kv| String::from_utf8_lossy(&kv.value).into_owned()))
    }
}

/// Write the session's tokens, if this hub leads it under `lease`.
pub async fn save_tokens(etcd: &Etcd, session: &str, lease: &Lease, text: &str) -> Result<bool, EtcdError> {
    etcd.txn(
        &[Compare::Lease(leader_key(session), lease.id)],
        &[Op::Put { key: tokens_key(session), value: text.as_bytes().to_vec(), lease: 0 }],
    )
    .await
}

/// Where a forum on etcd keeps its tokens (the same on every hub, as a session's are).
const FORUM_TOKENS_KEY: &[u8] = b"/rostrum/forum/tokens";

/// The forum's tokens as etcd holds them; `mine` (this hub's, as TOML) when etcd
/// holds none yet, stored then. Two hubs starting at once agree on the first written.
pub async fn forum_tokens(etcd: &Etcd, mine: &str) -> Result<String, EtcdError> {
    let put = Op::Put { key: FORUM_TOKENS_KEY.to_vec(), value: mine.as_bytes().to_vec(), lease: 0 };
    if etcd.txn(&[Compare::Missing(FORUM_TOKENS_KEY.to_vec())], &[put]).await? {
        return Ok(mine.to_string());
    }
    let stored = etcd.get(FORUM_TOKENS_KEY).await?.map(|kv| kv.value).unwrap_or_default();
    Ok(String::from_utf8_lossy(&stored).into_owned())
}

/// The leader of a session now, if any.
pub async fn leader(etcd: &Etcd, session: &str) -> Result<Option<LeaderInfo>, EtcdError> {
    Ok(etcd.get(&leader_key(session)).await?.and_then(|kv| serde_json::from_slice(&kv.value).ok()))
}

/// Every key of a session (for tests and `export`'s check).
pub fn session_range(session: &str) -> (Vec<u8>, Vec<u8>) {
    let p = prefix(session).into_bytes();
    let end = prefix_end(&p);
    (p, end)
}

/// A checkpoint's state is kept in parts of at most this many bytes: etcd takes
/// requests of up to 1.5 MiB by default, and the gateway sends values in base64.
const PART: usize = 1 << 20;
const CHECKPOINT_FORMAT: &str = "rostrum-etcd-checkpoint";

/// `/rostrum/SESSION/checkpoint`: the binding of the session's latest checkpoint.
pub fn checkpoint_key(session: &str) -> Vec<u8> {
    format!("/rostrum/{session}/checkpoint").into_bytes()
}
/// `/rostrum/SESSION/cp/`: every checkpoint's parts.
fn parts_prefix(session: &str) -> Vec<u8> {
    format!("/rostrum/{session}/cp/").into_bytes()
}
/// `/rostrum/SESSION/cp/SEQ-WRITER/`: the parts of the checkpoint at event `seq`
/// written under lease `writer` (two hubs never write, or remove, each other's).
fn parts_of(session: &str, seq: u64, writer: i64) -> Vec<u8> {
    format!("/rostrum/{session}/cp/{seq:020}-{writer:016x}/").into_bytes()
}

/// A checkpoint in etcd: the session's state after event `seq`, bound to its
/// journal by the epoch and that event line's hash, and to its own text (kept in
/// `parts` keys under `/rostrum/SESSION/cp/SEQ/`) by its SHA-256. It only spares
/// refolding the journal: the journal stays the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format: String,
    pub epoch: String,
    pub seq: u64,
    pub line_hash: String,
    pub state_sha256: String,
    pub parts: usize,
    /// The lease its writer held (0: an import): its parts are under `cp/SEQ-WRITER/`.
    #[serde(default)]
    pub writer: i64,
}

/// Keep a checkpoint of a session's state (its JSON, `state`) after the event
/// line `(seq, hash)` of the journal `epoch`: the parts first, then the binding
/// (only while `lease` leads the session; lease 0: only while no hub leads it, as
/// on import), then older checkpoints' parts are removed. `false`: not written
/// (another hub leads the session now).
pub async fn write_checkpoint(
    etcd: &Etcd,
    session: &str,
    lease: i64,
    epoch: &str,
    (seq, hash): (u64, &str),
    state: &[u8],
) -> Result<bool, EtcdError> {
    use sha2::Digest;
    let prefix = parts_of(session, seq, lease);
    let mut parts = 0;
    for (i, part) in state.chunks(PART).enumerate() {
        let mut key = prefix.clone();
        key.extend_from_slice(format!("{i:06}").as_bytes());
        etcd.put(&key, part).await?;
        parts += 1;
    }
    let binding = Checkpoint {
        format: CHECKPOINT_FORMAT.to_string(),
        epoch: epoch.to_string(),
        seq,
        line_hash: hash.to_string(),
        state_sha256: hex::encode(sha2::Sha256::digest(state)),
        parts,
        writer: lease,
    };
    let leads =
        if lease == 0 { Compare::Missing(leader_key(session)) } else { Compare::Lease(leader_key(session), lease) };
    let value = serde_json::to_vec(&binding).unwrap_or_default();
    let written = etcd.txn(&[leads], &[Op::Put { key: checkpoint_key(session), value, lease: 0 }]).await?;
    // Written: the parts of the checkpoints before this one go. Not written: this one's.
    let (key, range_end) = if written {
        (parts_prefix(session), prefix)
    } else {
        let end = prefix_end(&prefix);
        (prefix, end)
    };
    etcd.txn(&[], &[Op::DeleteRange { key, range_end }]).await?;
    Ok(written)
}

/// A session opened from etcd for a hub: the state to start from and what it needs
/// to continue the journal or follow it.
#[derive(Debug)]
pub struct Opened<S> {
    pub header: Header,
    /// The journal's identity (its header's hash).
    pub epoch: String,
    /// The checkpoint's state, when one fitted: fold `events` onto it. Without
    /// one, `events` are all the journal's events.
    pub base: Option<S>,
    /// The events to fold.
    pub events: Vec<Event>,
    /// The last events, up to the number asked, oldest first (for resuming clients).
    pub recent: Vec<Event>,
    /// The last line: its seq and hash.
    pub last: (u64, String),
    /// Why a checkpoint was not used.
    pub warning: Option<String>,
    /// The seq of the checkpoint used (0: none).
    pub checkpoint_seq: u64,
}

/// Open a session's journal from etcd: from its checkpoint when one fits (reading
/// the header, the checkpoint and the last `recent` lines before it up to the
/// end, not the whole journal), else the whole journal read and verified. `None`:
/// etcd holds no journal of that session.
pub async fn open<S: serde::de::DeserializeOwned + Send + 'static>(
    etcd: &Etcd,
    session: &str,
    recent: usize,
) -> Result<Option<Opened<S>>, LoadError> {
    let warning = match open_at_checkpoint(etcd, session, recent).await {
        Ok(Some(opened)) => return Ok(Some(opened)),
        Ok(None) => None,
        Err(CheckpointError::Etcd(e)) => return Err(LoadError::Etcd(e)),
        Err(CheckpointError::Unfit(why)) => Some(format!(
            "session {session}: its checkpoint in etcd was not used ({why}); the whole journal was read and folded"
        )),
    };
    let Some(contents) = load(etcd, session).await? else { return Ok(None) };
    let last = (contents.events.last().map_or(0, |e| e.seq), contents.last_hash.clone());
    let recent = contents.events[contents.events.len().saturating_sub(recent)..].to_vec();
    Ok(Some(Opened {
        header: contents.header,
        epoch: contents.header_hash,
        base: None,
        events: contents.events,
        recent,
        last,
        warning,
        checkpoint_seq: 0,
    }))
}

enum CheckpointError {
    Etcd(EtcdError),
    /// The checkpoint does not fit the journal (or does not read): why.
    Unfit(String),
}

impl From<EtcdError> for CheckpointError {
    fn from(e: EtcdError) -> Self {
        Self::Etcd(e)
    }
}

/// The session from its checkpoint; `None` when there is none (or no journal).
async fn open_at_checkpoint<S: serde::de::DeserializeOwned + Send + 'static>(
    etcd: &Etcd,
    session: &str,
    recent: usize,
) -> Result<Option<Opened<S>>, CheckpointError> {
    use sha2::Digest;
    let unfit = |why: String| CheckpointError::Unfit(why);
    // One revision for everything read: a consistent view of the session.
    let first = etcd.range(&checkpoint_key(session), &[], 0, 0).await?;
    let revision = first.revision;
    let Some(binding) = first.kvs.into_iter().next() else { return Ok(None) };
    let cp: Checkpoint =
        serde_json::from_slice(&binding.value).map_err(|e| unfit(format!("its binding does not read: {e}")))?;
    if cp.format != CHECKPOINT_FORMAT || cp.seq == 0 {
        return Err(unfit(format!("it is not a Rostrum checkpoint (format \"{}\", seq {})", cp.format, cp.seq)));
    }
    let Some(header) = etcd.range(&header_key(session), &[], 0, revision).await?.kvs.into_iter().next() else {
        return Ok(None);
    };
    let (header, epoch) = super::header_of(&header.value).map_err(|e| unfit(format!("the journal's header: {e}")))?;
    if epoch != cp.epoch {
        return Err(unfit("it was made for another journal of this session (another epoch)".to_string()));
    }
    // The state, in its parts, whole and unchanged.
    let prefix = parts_of(session, cp.seq, cp.writer);
    let parts = etcd.range(&prefix, &prefix_end(&prefix), 0, revision).await?;
    if parts.kvs.len() != cp.parts {
        return Err(unfit(format!("it has {} parts of {}", parts.kvs.len(), cp.parts)));
    }
    let mut text = Vec::with_capacity(parts.kvs.iter().map(|kv| kv.value.len()).sum());
    for kv in &parts.kvs {
        text.extend_from_slice(&kv.value);
    }
    let from = cp.seq.saturating_sub(recent as u64).max(1);
    let state = tokio::task::spawn_blocking(move || {
        if hex::encode(sha2::Sha256::digest(&text)) != cp.state_sha256 {
            return Err("its state is not the one it was written with (damaged or edited)".to_string());
        }
        serde_json::from_slice::<S>(&text).map_err(|e| format!("its state does not read ({e})")).map(|s| (s, cp))
    });
    // Meanwhile, the lines from `recent` before the checkpoint to the end.
    // From the line before the first one kept: its stated hash is what the first
    // one kept chains on (every line kept is checked against its text).
    let mut lines = lines_from(etcd, session, from - 1, revision).await?;
    let (state, cp) = state.await.map_err(|e| unfit(format!("its reader stopped ({e})")))?.map_err(unfit)?;
    let mut previous = if from == 1 {
        epoch.clone()
    } else if lines.is_empty() {
        return Err(unfit(format!("the journal ends before its event {}", cp.seq)));
    } else {
        let before = lines.remove(0);
        let line_no = usize::try_from(from).unwrap_or(usize::MAX);
        super::sealed_hash(&before, line_no).map_err(|e| unfit(e.to_string()))?
    };
    // Every line chains on the one before it, and the checkpoint's line is the one it names.
    let mut events = Vec::with_capacity(lines.len());
    let mut covered = None;
    for (i, line) in lines.iter().enumerate() {
        let seq = from + i as u64;
        let line_no = usize::try_from(seq + 1).unwrap_or(usize::MAX);
        let (event, hash) =
            super::next_event(line, &previous, line_no, seq).map_err(|e| unfit(format!("the journal: {e}")))?;
        events.push(event);
        if seq == cp.seq {
            covered = Some(hash.clone());
        }
        previous = hash;
    }
    match covered {
        None => return Err(unfit(format!("the journal ends before its event {}", cp.seq))),
        Some(hash) if hash != cp.line_hash => {
            return Err(unfit(format!("the journal's event {} is not the one it was made after", cp.seq)));
        }
        Some(_) => {}
    }
    let last_seq = from + lines.len() as u64 - 1;
    let last = (last_seq, previous);
    let after = usize::try_from(cp.seq + 1 - from).unwrap_or(usize::MAX).min(events.len());
    let recent_events = events[events.len().saturating_sub(recent)..].to_vec();
    Ok(Some(Opened {
        header,
        epoch,
        base: Some(state),
        events: events.split_off(after),
        recent: recent_events,
        last,
        warning: None,
        checkpoint_seq: cp.seq,
    }))
}

/// The event lines from `from` to the end, at `revision`.
async fn lines_from(etcd: &Etcd, session: &str, from: u64, revision: i64) -> Result<Vec<Vec<u8>>, EtcdError> {
    let end = prefix_end(&events_prefix(session));
    let mut key = event_key(session, from);
    let mut lines = Vec::new();
    loop {
        let page = etcd.range(&key, &end, PAGE, revision).await?;
        let more = page.more;
        let last = page.kvs.last().map(|kv| kv.key.clone());
        lines.extend(page.kvs.into_iter().map(|kv| kv.value));
        match last {
            Some(mut last) if more => {
                last.push(0);
                key = last;
            }
            _ => return Ok(lines),
        }
    }
}
