//! One task owns each session: its state, its journal and its event counter.
//!
//! Commands arrive through a bounded channel and are decided one after another.
//! Their events are appended to the journal and fsync'd (one fsync for all the
//! commands waiting at that moment: group commit), then broadcast as frames
//! serialized once and shared by every connection, then acknowledged.

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::domain::{self, Actor, Command, Event, RejectCode, Rejection, Session};
use crate::journal;
use crate::protocol::{Envelope, ServerFrame};

use super::log;

/// Commands waiting in a session's queue before senders wait.
const QUEUE: usize = 1024;
/// Commands decided together before one fsync.
const BATCH: usize = 256;
/// Frames kept for connections that are a little behind; further behind, they resync.
pub const BROADCAST_CAPACITY: usize = 4096;
/// A connection further behind than this gets a snapshot rather than the missed events.
const MAX_REPLAY: usize = 8192;

/// An event frame, serialized once, shared by all connections.
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq: u64,
    pub text: Utf8Bytes,
}

/// What a new (or resuming) subscriber gets, in one step: the frames that bring it
/// up to date, and the live stream that continues exactly after them.
#[derive(Debug)]
pub struct Subscription {
    pub initial: Vec<Utf8Bytes>,
    /// Seq of the last event the initial frames include.
    pub seq: u64,
    pub live: broadcast::Receiver<Frame>,
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
        reply: oneshot::Sender<Subscription>,
    },
    /// Finish what is queued before this, then stop.
    Stop,
}

/// A cheap handle to a session task.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    tx: mpsc::Sender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Command { command, .. } => write!(f, "Command({})", command.name()),
            Self::Subscribe { since, .. } => write!(f, "Subscribe({since:?})"),
            Self::Stop => write!(f, "Stop"),
        }
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

    /// Ask the task to stop once every request queued before this one is done.
    pub async fn stop(&self) {
        let _ = self.tx.send(Request::Stop).await;
    }

    /// Subscribe: a snapshot (or the events after `since`) and the live stream.
    pub async fn subscribe(&self, since: Option<u64>) -> Option<Subscription> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Request::Subscribe { since, reply }).await.ok()?;
        rx.await.ok()
    }
}

struct Owner {
    state: Session,
    journal: journal::Writer,
    history: Vec<Event>,
    live: broadcast::Sender<Frame>,
    /// Set when the journal could not be written: the record comes first, so the
    /// session refuses every further command.
    failed: Option<String>,
    clock: super::Clock,
}

/// Start the task owning a session whose state and journal are already open.
pub fn spawn(
    state: Session,
    journal: journal::Writer,
    history: Vec<Event>,
    broadcast_capacity: usize,
    clock: super::Clock,
) -> (SessionHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let (live, _) = broadcast::channel(broadcast_capacity.max(1));
    let owner = Owner { state, journal, history, live, failed: None, clock };
    let task = tokio::spawn(owner.run(rx));
    (SessionHandle { tx }, task)
}

pub fn event_frame(event: &Event, now: domain::Timestamp) -> Utf8Bytes {
    Envelope { frame: ServerFrame::Event { event: Box::new(event.clone()) }, now }.to_json().into()
}

pub fn snapshot_frame(state: &Session, now: domain::Timestamp) -> Utf8Bytes {
    Envelope { frame: ServerFrame::Snapshot { seq: state.seq, state: Box::new(state.clone()) }, now }.to_json().into()
}

type Pending = (oneshot::Sender<Result<Accepted, Rejection>>, usize, usize);

impl Owner {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(BATCH);
        // Ends on a stop request, or when every handle is gone and the queue is drained.
        let mut stopping = false;
        while !stopping && rx.recv_many(&mut batch, BATCH).await > 0 {
            let mut events: Vec<Event> = Vec::new();
            let mut pending: Vec<Pending> = Vec::new();
            for request in batch.drain(..) {
                match request {
                    Request::Stop => stopping = true,
                    // Requests after a stop find the session gone (their reply is dropped).
                    _ if stopping => {}
                    Request::Command { actor, command, reply } => {
                        if let Some(why) = &self.failed {
                            let _ = reply.send(Err(Rejection { code: RejectCode::Refused, reason: why.clone() }));
                            continue;
                        }
                        match domain::decide(&self.state, command, &actor, self.clock.now()) {
                            Ok(new) => {
                                let start = events.len();
                                for event in &new {
                                    domain::apply(&mut self.state, event);
                                }
                                events.extend(new);
                                pending.push((reply, start, events.len()));
                            }
                            Err(rejection) => {
                                let _ = reply.send(Err(rejection));
                            }
                        }
                    }
                    Request::Subscribe { since, reply } => {
                        // Everything decided so far is made durable and sent first,
                        // so the subscriber's starting point is on disk.
                        self.commit(&mut events, &mut pending);
                        let _ = reply.send(self.subscription(since));
                    }
                }
            }
            self.commit(&mut events, &mut pending);
        }
    }

    /// Write, fsync, broadcast, then acknowledge.
    fn commit(&mut self, events: &mut Vec<Event>, pending: &mut Vec<Pending>) {
        if events.is_empty() && pending.is_empty() {
            return;
        }
        if let Err(e) = self.journal.append(events) {
            let why = format!(
                "the journal {} could not be written ({e}); the session is stopped to protect the record: restart the hub",
                self.journal.path().display()
            );
            log(&why);
            self.failed = Some(why.clone());
            for (reply, _, _) in pending.drain(..) {
                let _ = reply.send(Err(Rejection { code: RejectCode::Refused, reason: why.clone() }));
            }
            events.clear();
            return;
        }
        let now = self.clock.now();
        for event in events.iter() {
            // No receivers is fine: nobody is watching right now.
            let _ = self.live.send(Frame { seq: event.seq, text: event_frame(event, now) });
        }
        for (reply, start, end) in pending.drain(..) {
            let seqs = events.get(start..end).unwrap_or_default();
            let _ = reply
                .send(Ok(Accepted { first_seq: seqs.first().map(|e| e.seq), last_seq: seqs.last().map(|e| e.seq) }));
        }
        self.history.append(events);
    }

    fn subscription(&self, since: Option<u64>) -> Subscription {
        let now = self.clock.now();
        let seq = self.state.seq;
        let initial = match since {
            Some(since) if since <= seq && (seq - since) as usize <= MAX_REPLAY => self
                .history
                .iter()
                .skip(usize::try_from(since).unwrap_or(usize::MAX))
                .map(|e| event_frame(e, now))
                .collect(),
            _ => vec![snapshot_frame(&self.state, now)],
        };
        Subscription { initial, seq, live: self.live.subscribe() }
    }
}
