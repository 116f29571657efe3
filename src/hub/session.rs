//! One task owns each session: its state, its journal and its event counter.
//!
//! Commands arrive through a bounded channel and are decided one after another.
//! Their events are appended to the journal and fsync'd (one fsync for all the
//! commands waiting at that moment: group commit), then broadcast as frames
//! serialized once and shared by every connection, then acknowledged.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::domain::{self, Actor, Command, Event, RejectCode, Rejection, Session};
use crate::journal;
use crate::protocol::{Envelope, Positions, ServerFrame};

use super::log;

/// Where a session's record is kept: a file on this machine, or etcd (shared by
/// the session's hubs). Chosen when the hub starts.
#[derive(Debug)]
pub enum Store {
    File(journal::Writer),
    Etcd(journal::etcd::EtcdWriter),
    /// etcd, while another hub leads the session: this hub follows the journal,
    /// serves the session read-only, and leads it when no hub does.
    Standby(journal::etcd::EtcdFollower),
}

impl Store {
    /// The journal's identity: the hash of its header line.
    pub fn epoch(&self) -> &str {
        match self {
            Self::File(w) => w.epoch(),
            Self::Etcd(w) => w.epoch(),
            Self::Standby(f) => f.epoch(),
        }
    }
}

/// Why a batch was not recorded.
struct NotWritten {
    code: RejectCode,
    reason: String,
    /// Whether the session must refuse every further command.
    for_good: bool,
}

/// Commands waiting in a session's queue before senders wait.
const QUEUE: usize = 1024;
/// Commands decided together before one fsync.
const BATCH: usize = 256;
/// Frames kept for connections that are a little behind; further behind, they resync.
pub const BROADCAST_CAPACITY: usize = 4096;
/// A connection further behind than this gets a snapshot rather than the missed events.
pub const MAX_REPLAY: usize = 8192;

/// An event frame, serialized once and encoded once as a websocket frame, shared
/// by all connections: each writes these bytes to its socket as they are.
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq: u64,
    /// The whole websocket frame: header (final, text, unmasked, as a server
    /// sends) and the event's JSON.
    pub wire: tokio_tungstenite::tungstenite::Bytes,
}

impl Frame {
    pub fn new(seq: u64, text: Utf8Bytes) -> Self {
        use tokio_tungstenite::tungstenite::protocol::frame;
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        let message = frame::Frame::message(text, OpCode::Data(Data::Text), true);
        let mut wire = Vec::with_capacity(message.len());
        // Into a Vec, formatting cannot fail.
        let _ = message.format(&mut wire);
        Self { seq, wire: wire.into() }
    }

    /// The event's JSON: the frame's payload, sharing its bytes (kept for
    /// resuming clients without a second copy of each event).
    pub fn text(&self) -> Option<Utf8Bytes> {
        let header = match self.wire.get(1).map(|b| b & 0x7f) {
            Some(126) => 4,
            Some(127) => 10,
            Some(_) => 2,
            None => return None,
        };
        Utf8Bytes::try_from(self.wire.slice(header.min(self.wire.len())..)).ok()
    }
}

/// What a new (or resuming) subscriber gets, in one step: the frames that bring it
/// up to date, and the live stream that continues exactly after them.
#[derive(Debug)]
pub struct Subscription {
    pub initial: Vec<Utf8Bytes>,
    /// Seq of the last event the initial frames include.
    pub seq: u64,
    pub live: broadcast::Receiver<Frame>,
    /// The journal's identity, for `welcome` and later resumes.
    pub epoch: String,
}

/// The result of an accepted command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
}

enum Request {
    Command {
        actor: Actor,
        command: Command,
        reply: oneshot::Sender<Result<Accepted, Rejection>>,
    },
    Subscribe {
        since: Option<u64>,
        epoch: Option<String>,
        reply: oneshot::Sender<Subscription>,
    },
    /// A page of older turns, notes and pledges (see `fetch-older` in docs/protocol.md).
    Older {
        before: Positions,
        reply: oneshot::Sender<OlderPage>,
    },
    /// What a delegate may do now, as the `moves` frame of its page (see `moves`
    /// in docs/protocol.md).
    Moves {
        actor: Actor,
        reply: oneshot::Sender<Utf8Bytes>,
    },
    /// Finish what is queued before this, then stop.
    Stop,
}

/// Older finished turns, notes and pledges: those from the positions `from` up to
/// the positions asked. Shared with the state, not copied.
#[derive(Debug, Clone, Default)]
pub struct OlderPage {
    pub from: Positions,
    pub turns: Vec<Arc<domain::TurnRecord>>,
    pub notes: Vec<Arc<domain::Note>>,
    pub pledges: Vec<Arc<domain::Pledge>>,
}

/// A cheap handle to a session task.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    tx: mpsc::Sender<Request>,
    /// The room screens' projection (its JSON): the latest only.
    display: watch::Receiver<Utf8Bytes>,
    /// The seq of the last batch recorded (see `Owner::recorded`).
    recorded: watch::Receiver<u64>,
    /// The live stream's sender, weak (so the stream still ends with the session),
    /// only to count who follows it.
    live: broadcast::WeakSender<Frame>,
    /// The room's pages connected now (they follow the display projection, not the stream).
    displays: Arc<std::sync::atomic::AtomicUsize>,
    /// While this hub stands by: the session URL of the hub that leads the session.
    leader: watch::Receiver<Option<String>>,
}

/// Counts a room page as connected while it is held.
#[derive(Debug)]
pub struct DisplayCount(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for DisplayCount {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Command { command, .. } => write!(f, "Command({})", command.name()),
            Self::Subscribe { since, .. } => write!(f, "Subscribe({since:?})"),
            Self::Older { before, .. } => write!(f, "Older({before:?})"),
            Self::Moves { actor, .. } => write!(f, "Moves({})", actor.role.label()),
            Self::Stop => write!(f, "Stop"),
        }
    }
}

/// A standby's answer to a command: which hub leads the session.
fn standby(follower: &journal::etcd::EtcdFollower) -> Rejection {
    let leader = follower.leader_url().map_or_else(|| "another hub".to_string(), |url| format!("the hub at {url}"));
    Rejection {
        code: RejectCode::Standby,
        reason: format!(
            "this hub stands by for session \"{}\" and serves it read-only: {leader} leads it; nothing was decided",
            follower.session()
        ),
    }
}

fn stopped() -> Rejection {
    Rejection { code: RejectCode::Refused, reason: "the session is shutting down".to_string() }
}

impl SessionHandle {
    /// Give a command; resolves once its events are durable and broadcast.
    pub async fn command(&self, actor: Actor, command: Command) -> Result<Accepted, Rejection> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Request::Command { actor, command, reply }).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// The display projection's latest frame, and its changes (for `view=display`).
    pub fn display(&self) -> watch::Receiver<Utf8Bytes> {
        self.display.clone()
    }

    /// While this hub stands by for the session, the session URL of the hub that
    /// leads it (for a `standby` refusal's `leader`).
    pub fn leader(&self) -> Option<String> {
        self.leader.borrow().clone()
    }

    /// The seq after each batch of events recorded, for a delegate's page's moves.
    pub fn recorded(&self) -> watch::Receiver<u64> {
        self.recorded.clone()
    }

    /// How many connections follow the session now: screens and the room's pages.
    pub fn connections(&self) -> usize {
        self.live.upgrade().map_or(0, |live| live.receiver_count())
            + self.displays.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Count a room page as connected until the returned guard is dropped.
    pub fn count_display(&self) -> DisplayCount {
        self.displays.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        DisplayCount(self.displays.clone())
    }

    /// The finished turns, notes and pledges just before the positions given, at
    /// most [`crate::protocol::OLDER_PAGE`] of each.
    pub async fn older(&self, before: Positions) -> Option<OlderPage> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Request::Older { before, reply }).await.ok()?;
        rx.await.ok()
    }

    /// The `moves` frame of a delegate's page: what `actor` may do now.
    pub async fn moves(&self, actor: Actor) -> Option<Utf8Bytes> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Request::Moves { actor, reply }).await.ok()?;
        rx.await.ok()
    }

    /// Ask the task to stop once every request queued before this one is done.
    pub async fn stop(&self) {
        let _ = self.tx.send(Request::Stop).await;
    }

    /// Subscribe: a snapshot (or the events after `since`) and the live stream.
    /// `epoch` is the journal identity the client's `since` refers to, if it knows it.
    pub async fn subscribe(&self, since: Option<u64>, epoch: Option<String>) -> Option<Subscription> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Request::Subscribe { since, epoch, reply }).await.ok()?;
        rx.await.ok()
    }
}

struct Owner {
    state: Session,
    /// Taken while a write is in progress.
    journal: Option<Store>,
    /// The frames of the last [`MAX_REPLAY`] events (the last one is `state.seq`),
    /// serialized once, for resuming clients. A client further behind gets a
    /// snapshot, so older frames are not kept: memory does not grow with the session.
    history: VecDeque<Utf8Bytes>,
    /// The snapshot frame of `state` at the seq it was made, built at most once per seq.
    snapshot: Option<(u64, Utf8Bytes)>,
    /// The journal's identity (its header's hash): a client resuming with `since`
    /// from another journal's history gets a snapshot instead.
    epoch: String,
    live: broadcast::Sender<Frame>,
    /// Set when the journal could not be written: the record comes first, so the
    /// session refuses every further command.
    failed: Option<(RejectCode, String)>,
    clock: super::Clock,
    /// Time of the last event: the session's clock never goes back.
    last_at: Option<domain::Timestamp>,
    /// The room screens' projection: sent when it changes (a note changes nothing on them).
    display: watch::Sender<Utf8Bytes>,
    shown: crate::web::DisplayState,
    /// The session's seq after each batch that recorded events: a delegate's page
    /// asks for its moves again (a change its display does not show may change them).
    recorded: watch::Sender<u64>,
    /// Where a participant the chair registers gets its delegate token.
    tokens: Option<Arc<super::TokenStore>>,
    /// The journal's file, to read back what is durable if a write fails.
    journal_path: Option<std::path::PathBuf>,
    /// A checkpoint of the state every this many events (0: none), beside the journal.
    checkpoint_every: u64,
    /// The seq of the last checkpoint written (or found on opening).
    checkpointed: u64,
    /// A checkpoint being written on a blocking thread.
    checkpointing: Option<tokio::task::JoinHandle<()>>,
    /// The forum's task and this session's place in it: told each new summary.
    forum: Option<(usize, super::forum::ForumHub)>,
    /// While standing by: the leading hub's session URL, for refusals.
    leader: watch::Sender<Option<String>>,
    /// When a standby last read the session's tokens from etcd (it does every lease TTL).
    tokens_read: Option<std::time::Instant>,
    /// When a standby last tried to lead.
    campaigned: Option<std::time::Instant>,
}

/// The session as the journal at `path` holds it, up to event `seq`.
fn durable_state(path: &std::path::Path, seq: u64) -> Result<Session, String> {
    let contents = crate::journal::read_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let def = crate::config::parse_session(&contents.header.config)
        .map_err(|e| format!("{}: the session file in line 1: {e}", path.display()))?;
    Ok(Session::replay(def, contents.events.iter().filter(|e| e.seq <= seq)))
}

/// A projection's JSON, serialized once for every room screen (each connection
/// wraps it in a `display` frame with the time it sends it).
fn display_json(state: &crate::web::DisplayState) -> Utf8Bytes {
    serde_json::to_string(state).unwrap_or_else(|_| "{}".to_string()).into()
}

/// When the session task writes a checkpoint of its state beside the journal.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoints {
    /// Every this many events (0: never).
    pub every: u64,
    /// The seq of the checkpoint the journal was opened from (0: none).
    pub last: u64,
}

/// What a session's task serves besides its clients: the tokens it adds to, its
/// checkpoints, and the forum it tells of each change.
pub struct Serving {
    /// Where a participant the chair registers gets its delegate token.
    pub tokens: Option<Arc<super::TokenStore>>,
    pub checkpoints: Checkpoints,
    /// The forum's task and this session's place in it.
    pub forum: Option<(usize, super::forum::ForumHub)>,
}

/// Start the task owning a session whose state and journal are already open.
pub fn spawn(
    state: Session,
    journal: Store,
    history: &[Event],
    broadcast_capacity: usize,
    clock: super::Clock,
    serving: Serving,
) -> (SessionHandle, tokio::task::JoinHandle<()>) {
    let Serving { tokens, checkpoints, forum } = serving;
    let (tx, rx) = mpsc::channel(QUEUE);
    let (live, _) = broadcast::channel(broadcast_capacity.max(1));
    let epoch = journal.epoch().to_string();
    state.index_recorded();
    let shown = crate::web::project(&state);
    if let Some((index, hub)) = &forum {
        hub.publish(*index, crate::forum::summarize(&state));
    }
    let (display, display_rx) = watch::channel(display_json(&shown));
    let (recorded, recorded_rx) = watch::channel(state.seq);
    let (leader, leader_rx) = watch::channel(match &journal {
        Store::Standby(follower) => follower.leader_url(),
        _ => None,
    });
    let handle = SessionHandle {
        tx,
        display: display_rx,
        recorded: recorded_rx,
        live: live.downgrade(),
        displays: Default::default(),
        leader: leader_rx,
    };
    let journal_path = match &journal {
        Store::File(writer) => Some(writer.path().to_path_buf()),
        Store::Etcd(_) | Store::Standby(_) => None,
    };
    let owner = Owner {
        state,
        journal: Some(journal),
        history: history[history.len().saturating_sub(MAX_REPLAY)..].iter().map(|e| event_frame(e, e.at)).collect(),
        snapshot: None,
        epoch,
        live,
        failed: None,
        clock,
        last_at: history.last().map(|e| e.at),
        display,
        shown,
        recorded,
        tokens,
        journal_path,
        checkpoint_every: checkpoints.every,
        checkpointed: checkpoints.last,
        checkpointing: None,
        forum,
        leader,
        tokens_read: None,
        campaigned: None,
    };
    let task = tokio::spawn(owner.run(rx));
    (handle, task)
}

pub fn event_frame(event: &Event, now: domain::Timestamp) -> Utf8Bytes {
    Envelope { frame: ServerFrame::Event { event: Box::new(event.clone()) }, now }.to_json().into()
}

pub fn snapshot_frame(state: &mut Session, now: domain::Timestamp) -> Utf8Bytes {
    crate::protocol::snapshot_json(state, now).into()
}

type Pending = (oneshot::Sender<Result<Accepted, Rejection>>, usize, usize);

/// What a batch decided and has not yet made durable.
#[derive(Default)]
struct Batch {
    events: Vec<Event>,
    pending: Vec<Pending>,
    /// The session's seq before the batch's first event. With a file journal
    /// nothing is copied per batch: if it cannot be written, the state is rebuilt
    /// from what the file holds up to here (the failure pays, not every command).
    /// With etcd, whose refusals may pass (quorum lost for a while), the state before
    /// the batch is kept to return to at once.
    before: Option<(u64, Option<domain::RewindPoint>)>,
}

impl Owner {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        // A long journal opened without a recent checkpoint gets one at once.
        self.checkpoint_if_due();
        let mut requests = Vec::with_capacity(BATCH);
        // A standby reads the journal every 100 ms (and tries to lead every eighth of its lease).
        let every = match &self.journal {
            Some(Store::Standby(follower)) => follower.every(),
            _ => std::time::Duration::from_secs(3600),
        };
        let mut follow = tokio::time::interval(every.max(std::time::Duration::from_millis(10)));
        follow.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Ends on a stop request, or when every handle is gone and the queue is drained.
        let mut stopping = false;
        while !stopping {
            let received = if self.standing_by() {
                tokio::select! {
                    received = rx.recv_many(&mut requests, BATCH) => received,
                    _ = follow.tick() => {
                        self.follow().await;
                        continue;
                    }
                }
            } else {
                rx.recv_many(&mut requests, BATCH).await
            };
            if received == 0 {
                break;
            }
            let mut batch = Batch::default();
            for request in requests.drain(..) {
                match request {
                    Request::Stop => stopping = true,
                    // Requests after a stop find the session gone (their reply is dropped).
                    _ if stopping => {}
                    Request::Command { actor, command, reply } => {
                        if let Some((code, why)) = &self.failed {
                            let _ = reply.send(Err(Rejection { code: *code, reason: why.clone() }));
                            continue;
                        }
                        if let Some(Store::Standby(follower)) = &self.journal {
                            let _ = reply.send(Err(standby(follower)));
                            continue;
                        }
                        // Never earlier than the last event, whatever the wall clock does.
                        let now = self.last_at.map_or_else(|| self.clock.now(), |last| self.clock.now().max(last));
                        match domain::decide(&self.state, command, &actor, now) {
                            Ok(new) => {
                                if !new.is_empty() && batch.before.is_none() {
                                    let point =
                                        matches!(self.journal, Some(Store::Etcd(_))).then(|| self.state.rewind_point());
                                    batch.before = Some((self.state.seq, point));
                                }
                                let start = batch.events.len();
                                for event in &new {
                                    domain::apply(&mut self.state, event);
                                }
                                if !new.is_empty() {
                                    self.last_at = Some(now);
                                }
                                batch.events.extend(new);
                                batch.pending.push((reply, start, batch.events.len()));
                            }
                            Err(rejection) => {
                                let _ = reply.send(Err(rejection));
                            }
                        }
                    }
                    Request::Subscribe { since, epoch, reply } => {
                        // Everything decided so far is made durable and sent first,
                        // so the subscriber's starting point is on disk.
                        self.commit(std::mem::take(&mut batch)).await;
                        let _ = reply.send(self.subscription(since, epoch.as_deref()));
                    }
                    Request::Older { before, reply } => {
                        // Only what is on disk is shown.
                        self.commit(std::mem::take(&mut batch)).await;
                        let _ = reply.send(self.older_page(before));
                    }
                    Request::Moves { actor, reply } => {
                        self.commit(std::mem::take(&mut batch)).await;
                        let now = self.clock.now();
                        let moves = crate::web::delegate_moves(&self.state, &actor, now);
                        let frame = Envelope { frame: ServerFrame::Moves { moves: Box::new(moves) }, now };
                        let _ = reply.send(frame.to_json().into());
                    }
                }
            }
            self.commit(batch).await;
        }
        // A checkpoint being written is finished before the session's task ends.
        if let Some(task) = self.checkpointing.take() {
            let _ = task.await;
        }
    }

    /// Every `checkpoint_every` events, a checkpoint of the state: beside a file
    /// journal (written on a blocking thread), or in etcd beside the journal there
    /// (by the leading hub; serialized on a blocking thread, then written in parts).
    /// The copy is cheap (the logs are shared); one at a time, after the events it
    /// covers are durable. A failed write is logged: the journal, not the
    /// checkpoint, is the record.
    fn checkpoint_if_due(&mut self) {
        let (seq, hash) = match &self.journal {
            Some(Store::File(journal)) => {
                let head = journal.head();
                (head.seq, head.hash)
            }
            Some(Store::Etcd(journal)) => {
                let (seq, hash) = journal.head();
                (seq, hash.to_string())
            }
            _ => return,
        };
        if self.checkpoint_every == 0
            || self.failed.is_some()
            || seq < self.checkpointed + self.checkpoint_every
            || seq != self.state.seq
            || self.checkpointing.as_ref().is_some_and(|t| !t.is_finished())
        {
            return;
        }
        let state = self.state.clone();
        self.checkpointed = seq;
        match &self.journal {
            Some(Store::File(journal)) => {
                let (head, epoch) = (journal.head(), journal.epoch().to_string());
                let Some(path) = &self.journal_path else { return };
                let dir = path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
                self.checkpointing = Some(tokio::task::spawn_blocking(move || {
                    if let Err(e) = journal::write_checkpoint(&dir, &epoch, &head, &state) {
                        log(&format!(
                            "{}: the checkpoint could not be written ({e}); the journal is the record",
                            dir.display()
                        ));
                    }
                }));
            }
            Some(Store::Etcd(journal)) => {
                let (etcd, session, lease) =
                    (journal.etcd().clone(), journal.session().to_string(), journal.lease().id);
                let epoch = journal.epoch().to_string();
                self.checkpointing = Some(tokio::spawn(async move {
                    let text = tokio::task::spawn_blocking(move || serde_json::to_vec(&state)).await;
                    let Ok(Ok(text)) = text else {
                        log(&format!("session {session}: its state could not be serialized for a checkpoint"));
                        return;
                    };
                    let written =
                        journal::etcd::write_checkpoint(&etcd, &session, lease, &epoch, (seq, &hash), &text).await;
                    match written {
                        Ok(true) => {}
                        Ok(false) => log(&format!("session {session}: no checkpoint at {seq}: another hub leads it")),
                        Err(e) => log(&format!(
                            "session {session}: the checkpoint at {seq} could not be kept in etcd ({e}); the journal is the record"
                        )),
                    }
                }));
            }
            _ => {}
        }
    }

    /// Write and fsync (on a blocking thread), then broadcast, then acknowledge.
    async fn commit(&mut self, batch: Batch) {
        let Batch { mut events, pending, before } = batch;
        if events.is_empty() && pending.is_empty() {
            return;
        }
        let written = self.write(&mut events).await;
        if let Err(NotWritten { code, reason, for_good }) = written {
            let why = if for_good {
                match code {
                    RejectCode::NotLeader => reason,
                    _ => format!("{reason}; the session is stopped to protect the record: restart the hub"),
                }
            } else {
                reason
            };
            log(&why);
            // What was not recorded did not happen: the state is the journal's, up to
            // the last acknowledged event.
            let mut why = why;
            match (before, &self.journal_path) {
                (Some((_, Some(point))), _) => self.state.rewind(point),
                (Some((seq, None)), Some(path)) => match durable_state(path, seq) {
                    Ok(state) => {
                        self.state = state;
                        self.snapshot = None;
                    }
                    Err(e) => {
                        log(&format!("{e}: the session's screens may show actions that were not recorded"));
                        why.push_str(" (the journal could not be read back either)");
                    }
                },
                _ => {}
            }
            if for_good {
                self.failed = Some((code, why.clone()));
            }
            for (reply, _, _) in pending {
                let _ = reply.send(Err(Rejection { code, reason: why.clone() }));
            }
            return;
        }
        self.give_tokens(&events).await;
        self.publish(&events);
        self.checkpoint_if_due();
        for (reply, start, end) in pending {
            let seqs = events.get(start..end).unwrap_or_default();
            let _ = reply
                .send(Ok(Accepted { first_seq: seqs.first().map(|e| e.seq), last_seq: seqs.last().map(|e| e.seq) }));
        }
    }

    /// Tell everyone of recorded events: resuming clients' history, the live
    /// stream, the room's screens, delegates' pages and the forum.
    fn publish(&mut self, events: &[Event]) {
        let now = self.clock.now();
        for event in events {
            let text = event_frame(event, now);
            let frame = Frame::new(event.seq, text.clone());
            if self.history.len() == MAX_REPLAY {
                self.history.pop_front();
            }
            self.history.push_back(frame.text().unwrap_or(text));
            // No receivers is fine: nobody is watching right now.
            let _ = self.live.send(frame);
        }
        if !events.is_empty() {
            let projection = crate::web::project(&self.state);
            // The seq alone changing (a note, a pledge) does not disturb the room's screens.
            let changed = crate::web::DisplayState { seq: self.shown.seq, ..projection.clone() } != self.shown;
            if changed {
                self.display.send_replace(display_json(&projection));
            }
            self.shown = projection;
            self.recorded.send_replace(self.state.seq);
            // The forum's summary: what is current, at a cost that does not grow with the history.
            if let Some((index, hub)) = &self.forum {
                hub.publish(*index, crate::forum::summarize(&self.state));
            }
        }
    }

    fn standing_by(&self) -> bool {
        matches!(self.journal, Some(Store::Standby(_)))
    }

    /// A standby's tick: fold and publish what the leading hub recorded since;
    /// lead the session if no hub does (and then write it), else learn which does.
    async fn follow(&mut self) {
        let Some(Store::Standby(follower)) = &mut self.journal else { return };
        let session = follower.session().to_string();
        let mut events = match follower.poll().await {
            Ok(events) => events,
            Err(e) => {
                log(&format!("session {session}: the journal in etcd could not be followed: {e}; trying again"));
                return;
            }
        };
        // Lead if no hub does (and learn which does) every eighth of the lease.
        let ttl = follower.campaign_every() * 8;
        let campaign = self.campaigned.is_none_or(|at| at.elapsed() >= follower.campaign_every());
        if campaign {
            self.campaigned = Some(std::time::Instant::now());
        }
        let taken = if campaign { follower.take_over().await } else { Ok(None) };
        let writer = match taken {
            Ok(Some((writer, rest))) => {
                events.extend(rest);
                Some(writer)
            }
            Ok(None) => None,
            Err(e) => {
                log(&format!("session {session}: could not take the lead: {e}"));
                None
            }
        };
        if writer.is_none() && campaign {
            let url = follower.leader_url();
            self.leader.send_if_modified(|leader| std::mem::replace(leader, url.clone()) != url);
        }
        for event in &events {
            domain::apply(&mut self.state, event);
        }
        if let Some(last) = events.last() {
            self.last_at = Some(self.last_at.map_or(last.at, |at| at.max(last.at)));
        }
        self.publish(&events);
        // The credentials: etcd's copy when a participant was registered, every
        // lease TTL, and before this hub leads.
        let registered = events.iter().any(|e| matches!(e.event, domain::EventKind::ParticipantRegistered { .. }));
        if registered || writer.is_some() || self.tokens_read.is_none_or(|at| at.elapsed() >= ttl) {
            self.tokens_read = Some(std::time::Instant::now());
            self.follow_tokens().await;
        }
        let Some(writer) = writer else { return };
        self.journal = Some(Store::Etcd(writer));
        self.leader.send_replace(None);
        // Every participant has a delegate token (one the last leader registered
        // without saving its token gets one now), kept in etcd for every hub.
        if let Some(store) = self.tokens.clone() {
            let ids: Vec<String> = self.state.def.participants.iter().map(|p| p.id.clone()).collect();
            let given = store.clone();
            let added = tokio::task::spawn_blocking(move || ids.iter().try_for_each(|id| given.add_delegate(id))).await;
            if !matches!(added, Ok(Ok(()))) {
                log(&format!("session {session}: not every participant has a delegate token here yet"));
            }
            if let Some(Store::Etcd(journal)) = &self.journal
                && let Err(e) = journal.save_tokens(&store.to_toml()).await
            {
                log(&format!("session {session}: its tokens could not be kept in etcd ({e})"));
            }
        }
        super::announce(&format!("leading session {session} (taken over at event {})", self.state.seq));
    }

    /// A standby serves the session's credentials as etcd holds them (the leading
    /// hub adds a delegate's token when the chair registers a participant).
    async fn follow_tokens(&mut self) {
        let (Some(Store::Standby(follower)), Some(store)) = (&self.journal, &self.tokens) else { return };
        match follower.tokens().await {
            Ok(Some(text)) if text != store.to_toml() => match toml::from_str::<super::Tokens>(&text) {
                Ok(tokens) => {
                    let store = store.clone();
                    let replaced = tokio::task::spawn_blocking(move || store.replace(tokens)).await;
                    if !matches!(replaced, Ok(Ok(()))) {
                        log(&format!("session {}: the tokens from etcd could not be saved here", follower.session()));
                    }
                }
                Err(e) => log(&format!("session {}: its tokens in etcd do not read ({e})", follower.session())),
            },
            _ => {}
        }
    }

    /// Make `events` durable in the session's store. A file journal is written
    /// and fsync'd on a blocking thread; etcd is written by one fenced transaction.
    async fn write(&mut self, events: &mut Vec<Event>) -> Result<(), NotWritten> {
        let fatal = |reason: String| NotWritten { code: RejectCode::Refused, reason, for_good: true };
        match self.journal.take() {
            Some(Store::File(mut journal)) if !events.is_empty() => {
                // The events go to the writer's thread and come back: no copy.
                let to_write = std::mem::take(events);
                match tokio::task::spawn_blocking(move || {
                    let result = journal.append(&to_write);
                    (journal, result, to_write)
                })
                .await
                {
                    Ok((journal, result, written)) => {
                        *events = written;
                        let path = journal.path().display().to_string();
                        self.journal = Some(Store::File(journal));
                        result.map_err(|e| fatal(format!("the journal {path} could not be written ({e})")))
                    }
                    Err(e) => Err(fatal(format!("the journal writer stopped ({e})"))),
                }
            }
            Some(Store::Etcd(mut journal)) if !events.is_empty() => {
                let result = journal.append(events).await;
                self.journal = Some(Store::Etcd(journal));
                result.map_err(|e| match e {
                    journal::etcd::AppendError::Fenced(reason) => {
                        NotWritten { code: RejectCode::NotLeader, reason, for_good: true }
                    }
                    journal::etcd::AppendError::Unavailable(reason) => {
                        NotWritten { code: RejectCode::Unavailable, reason, for_good: false }
                    }
                })
            }
            Some(store) => {
                self.journal = Some(store);
                Ok(())
            }
            None => Err(fatal("the journal is not open".to_string())),
        }
    }

    /// A participant registered in these (recorded) events can join as a delegate
    /// at once: its token is made and saved (on a blocking thread, like the journal)
    /// before anyone is told of the registration.
    async fn give_tokens(&self, events: &[Event]) {
        let Some(store) = &self.tokens else { return };
        let registered: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.event {
                domain::EventKind::ParticipantRegistered { participant } => Some(participant.id.clone()),
                _ => None,
            })
            .collect();
        if registered.is_empty() {
            return;
        }
        let store = store.clone();
        let shared = store.clone();
        let saved = tokio::task::spawn_blocking(move || {
            registered.into_iter().filter_map(|id| store.add_delegate(&id).err().map(|e| (id, e))).collect::<Vec<_>>()
        })
        .await;
        let failed =
            saved.unwrap_or_else(|e| vec![(String::from("a registered participant"), std::io::Error::other(e))]);
        for (id, e) in failed {
            log(&format!("no delegate token for {id} ({e}): it gets one when the hub next starts"));
        }
        // Every hub of the session accepts the same credentials.
        if let Some(Store::Etcd(journal)) = &self.journal
            && let Err(e) = journal.save_tokens(&shared.to_toml()).await
        {
            log(&format!("session {}: the new delegate tokens are not in etcd yet ({e})", journal.session()));
        }
    }

    fn older_page(&self, before: Positions) -> OlderPage {
        fn page<T: Clone>(log: &[T], before: usize) -> (usize, Vec<T>) {
            let before = before.min(log.len());
            let from = before.saturating_sub(crate::protocol::OLDER_PAGE);
            (from, log[from..before].to_vec())
        }
        let (turns_from, turns) = page(&self.state.turns, before.turns);
        let (notes_from, notes) = page(&self.state.notes, before.notes);
        let (pledges_from, pledges) = page(&self.state.pledges, before.pledges);
        OlderPage {
            from: Positions { turns: turns_from, notes: notes_from, pledges: pledges_from },
            turns,
            notes,
            pledges,
        }
    }

    fn subscription(&mut self, since: Option<u64>, epoch: Option<&str>) -> Subscription {
        let seq = self.state.seq;
        let same_history = epoch.is_none_or(|e| e == self.epoch);
        let initial = match since {
            Some(since) if same_history && since <= seq && seq - since <= self.history.len() as u64 => {
                let missed = (seq - since) as usize;
                self.history.iter().skip(self.history.len() - missed).cloned().collect()
            }
            _ => {
                let fresh = matches!(&self.snapshot, Some((at, _)) if *at == seq);
                if !fresh {
                    self.snapshot = Some((seq, snapshot_frame(&mut self.state, self.clock.now())));
                }
                self.snapshot.iter().map(|(_, frame)| frame.clone()).collect()
            }
        };
        Subscription { initial, seq, live: self.live.subscribe(), epoch: self.epoch.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    /// An event's frame, as every connection writes it, is a whole websocket text
    /// frame, and the history kept for resuming clients is its payload, the same
    /// bytes: short, 16-bit and 64-bit length headers alike.
    #[test]
    fn an_event_frame_is_a_whole_websocket_frame_whose_payload_is_the_history_text() {
        use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
        for size in [10, 125, 126, 300, 65_535, 65_536, 200_000] {
            let text: String = "é".repeat(size / 2) + &"x".repeat(size % 2);
            let frame = Frame::new(7, Utf8Bytes::from(text.clone()));
            let mut cursor = std::io::Cursor::new(frame.wire.as_ref());
            let (header, length) = FrameHeader::parse(&mut cursor).expect("parses").expect("a whole header");
            assert!(header.is_final && header.mask.is_none(), "final, unmasked (size {size})");
            assert_eq!(length as usize, text.len(), "size {size}");
            assert_eq!(cursor.position() as usize + text.len(), frame.wire.len(), "nothing after the payload");
            let payload = frame.text().expect("the payload");
            assert_eq!(payload.as_str(), text, "size {size}");
            let within = frame.wire.as_ptr_range();
            assert!(within.contains(&payload.as_str().as_ptr()), "shared, not copied (size {size})");
        }
    }

    /// If a write fails, the state is the journal's up to the last acknowledged
    /// event: rebuilt from the file, with nothing copied per batch beforehand.
    #[test]
    fn the_durable_state_is_the_journals_up_to_the_last_acknowledged_event() {
        let dir = std::env::temp_dir().join(format!("rostrum-durable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let source = include_str!("../../tests/data/small.toml");
        let def = crate::config::parse_session(source).expect("valid");
        let at = Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("time");
        let mut writer = journal::Writer::create(&dir, &def.id, source, at).expect("journal");
        let mut session = Session::new(def.clone());
        let chair = Actor::chair("chair");
        let mut all = Vec::new();
        for command in
            [Command::OpenSegment { segment: "general".into() }, Command::inscribe("peru"), Command::inscribe("chile")]
        {
            let events = domain::decide(&session, command, &chair, at).expect("accepted");
            for e in &events {
                domain::apply(&mut session, e);
            }
            writer.append(&events).expect("written");
            all.extend(events);
        }
        let rebuilt = durable_state(writer.path(), 2).expect("read back");
        assert_eq!(rebuilt, Session::replay(def, &all[..2]));
        assert_eq!(rebuilt.segments[0].list.len(), 1, "the third event was not acknowledged");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
