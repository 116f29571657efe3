//! A long-lived link to a hub for interactive clients: reconnects with backoff,
//! resumes from the last event it saw, measures round-trip time and clock offset,
//! and never drops a command silently (one that cannot be sent is reported back).
//!
//! A snapshot carries only the latest finished turns, notes and pledges; the link
//! then fetches the older ones, page after page, and passes the `older` frames on
//! like any other: a [`super::Replica`] fed with every frame ends up holding them all.

use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{ClientError, Connection};
use crate::domain::{Command, RejectCode, Timestamp};
use crate::protocol::{ClientFrame, Envelope, ServerFrame};

/// What the link tells its client.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    Connecting {
        attempt: u32,
    },
    Connected,
    Frame(Box<Envelope>),
    /// A ping came back: round-trip time and the hub's clock minus ours.
    Clock {
        rtt_ms: u64,
        offset_ms: i64,
    },
    /// The connection dropped; the link retries after `retry_in`.
    Disconnected {
        reason: String,
        retry_in: Duration,
    },
    /// The hub refused us (bad token, unknown session): the link gives up.
    Refused {
        reason: String,
    },
    /// A command could not be sent.
    NotSent {
        id: String,
        reason: String,
    },
}

/// What a client asks of the link.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkCommand {
    Send {
        id: String,
        command: Command,
    },
    /// The replica found a gap: reconnect and resume after `since`.
    Resync {
        since: Option<u64>,
    },
}

pub struct Link {
    pub commands: mpsc::Sender<LinkCommand>,
    pub events: mpsc::Receiver<LinkEvent>,
    task: JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const PING_EVERY: Duration = Duration::from_secs(2);

/// Backoff before reconnect attempt `attempt` (1-based): 250 ms doubling, at most 2 s, so a
/// client follows again within about 2 s of its hub coming back.
pub fn backoff(attempt: u32) -> Duration {
    let ms = 250u64.saturating_mul(1 << attempt.saturating_sub(1).min(5));
    Duration::from_millis(ms.min(2_000))
}

/// Clock offset from a ping sent at `sent` (our clock), answered at `hub_now`, with
/// round trip `rtt`: the hub's clock minus ours, assuming a symmetric path.
pub fn clock_offset(sent: Timestamp, rtt: Duration, hub_now: Timestamp) -> i64 {
    let midpoint = sent + chrono::Duration::milliseconds(rtt.as_millis() as i64 / 2);
    (hub_now - midpoint).num_milliseconds()
}

/// Start a link to `url` with `token`.
pub fn spawn(url: String, token: Option<String>) -> Link {
    let (commands, commands_rx) = mpsc::channel(256);
    let (events_tx, events) = mpsc::channel(1024);
    let task = tokio::spawn(run(url, token, commands_rx, events_tx));
    Link { commands, events, task }
}

/// Seq of the last event a frame brings the client to.
fn seq_of(frame: &ServerFrame) -> Option<u64> {
    match frame {
        ServerFrame::Snapshot { seq, .. } => Some(*seq),
        ServerFrame::Event { event } => Some(event.seq),
        _ => None,
    }
}

/// The hubs a link may reach its session at: the URL it was given, and (a session
/// kept in etcd) the live hubs its welcome names. After a lost connection the link
/// tries the next, resuming where it was: the journal, its `seq` and `epoch` are
/// the same on every hub of the session.
#[derive(Debug, Clone, PartialEq)]
pub struct Hubs {
    given: String,
    /// The given URL's query (`?name=…`), kept on every hub's URL.
    query: String,
    list: Vec<String>,
    at: usize,
}

impl Hubs {
    pub fn new(url: &str) -> Self {
        let query = url.find('?').map_or_else(String::new, |i| url[i..].to_string());
        Self { given: url.to_string(), query, list: vec![url.to_string()], at: 0 }
    }

    /// The URL to connect to now.
    pub fn current(&self) -> &str {
        self.list.get(self.at).map_or(self.given.as_str(), String::as_str)
    }

    /// The welcome's list of the session's live hubs (session URLs, without query).
    /// The given URL stays on the list (a hub may advertise an address this client
    /// cannot reach); the hub the link is on stays current.
    pub fn learn(&mut self, urls: &[String]) {
        if urls.is_empty() {
            return;
        }
        let current = self.current().to_string();
        let mut list: Vec<String> = urls.iter().map(|u| format!("{u}{}", self.query)).collect();
        if !list.contains(&self.given) {
            list.push(self.given.clone());
        }
        self.at = list.iter().position(|u| *u == current).unwrap_or(0);
        self.list = list;
    }

    /// After a failure: the next hub (the same one when it is the only one).
    pub fn advance(&mut self) {
        self.at = (self.at + 1) % self.list.len().max(1);
    }

    /// The hub a standby named as the session's leader (a session URL): current
    /// from now on, added to the list if it was not on it.
    pub fn prefer(&mut self, leader: &str) {
        let url = format!("{leader}{}", self.query);
        match self.list.iter().position(|u| *u == url) {
            Some(at) => self.at = at,
            None => {
                self.list.insert(0, url);
                self.at = 0;
            }
        }
    }
}

/// How many times a command refused by a standby hub is sent again to the leader
/// it names (or held while the link finds a hub) before the refusal is passed on.
const REDIRECTS: u32 = 5;
/// How long a link that is to move to the leader waits for the answers to the
/// commands it sent to the standby before it moves anyway.
const REDIRECT_WAIT: Duration = Duration::from_secs(10);

async fn run(
    url: String,
    token: Option<String>,
    mut commands: mpsc::Receiver<LinkCommand>,
    events: mpsc::Sender<LinkEvent>,
) {
    let mut since: Option<u64> = None;
    let mut epoch: Option<String> = None;
    let mut attempt: u32 = 0;
    let mut hubs = Hubs::new(&url);
    // Commands a standby refused (it decided nothing), to send on the next connection.
    let mut resend = Resend::default();
    loop {
        // Only the commands still to be sent again keep their count.
        resend.forget_others();
        if events.send(LinkEvent::Connecting { attempt }).await.is_err() {
            return;
        }
        let reason = match Connection::resume(hubs.current(), token.as_deref(), since, epoch.as_deref()).await {
            Err(ClientError::Refused { status, message }) if matches!(status, 401 | 403 | 404) => {
                let _ = events.send(LinkEvent::Refused { reason: format!("{message} (HTTP {status})") }).await;
                // Keep answering commands so none is dropped silently.
                while let Some(command) = commands.recv().await {
                    if let LinkCommand::Send { id, .. } = command {
                        let reason = "not connected: the hub refused this client".to_string();
                        let _ = events.send(LinkEvent::NotSent { id, reason }).await;
                    }
                }
                return;
            }
            Err(e) => {
                // Commands waiting to be sent again wait for the next hub, a few times.
                for id in resend.count_a_try() {
                    let reason = format!("not connected: {e}");
                    if events.send(LinkEvent::NotSent { id, reason }).await.is_err() {
                        return;
                    }
                }
                e.to_string()
            }
            Ok(conn) => {
                attempt = 0;
                if events.send(LinkEvent::Connected).await.is_err() {
                    return;
                }
                let state = LinkState { since: &mut since, epoch: &mut epoch, hubs: &mut hubs, resend: &mut resend };
                match serve(conn, &mut commands, &events, state).await {
                    Served::Stop => return,
                    Served::Lost(reason) => reason,
                    Served::Redirect(leader) => {
                        // A standby named the leader: go there at once, with the refused
                        // commands (and those given meanwhile); else try again shortly.
                        match leader {
                            Some(leader) => hubs.prefer(&leader),
                            None => tokio::time::sleep(backoff(1)).await,
                        }
                        continue;
                    }
                }
            }
        };
        hubs.advance();
        attempt += 1;
        let retry_in = backoff(attempt);
        if events.send(LinkEvent::Disconnected { reason, retry_in }).await.is_err() {
            return;
        }
        // While waiting, commands cannot be sent: say so at once.
        let wait = tokio::time::sleep(retry_in);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                _ = &mut wait => break,
                command = commands.recv() => match command {
                    None => return,
                    Some(LinkCommand::Send { id, .. }) => {
                        let reason = "not connected: reconnecting to the hub".to_string();
                        if events.send(LinkEvent::NotSent { id, reason }).await.is_err() {
                            return;
                        }
                    }
                    Some(LinkCommand::Resync { since: s }) => since = s,
                },
            }
        }
    }
}

enum Served {
    Stop,
    Lost(String),
    /// A standby hub refused commands: reconnect to the leader it named (if any).
    Redirect(Option<String>),
}

/// Commands refused by a standby hub, sent again on the next connection in the
/// order they were first given, and how often each was.
#[derive(Debug, Default)]
struct Resend {
    /// (the order it was given in, id, command).
    queue: Vec<(u64, String, Command)>,
    tries: std::collections::HashMap<String, u32>,
    /// The order of the next command given.
    next: u64,
}

impl Resend {
    fn order(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn forget_others(&mut self) {
        let queue = &self.queue;
        self.tries.retain(|id, _| queue.iter().any(|(_, q, _)| q == id));
    }

    /// A connection failed with commands waiting: each waits one try less; the ids
    /// of those that have waited enough (to be reported not sent).
    fn count_a_try(&mut self) -> Vec<String> {
        let mut given_up = Vec::new();
        let tries = &mut self.tries;
        self.queue.retain(|(_, id, _)| {
            let n = tries.entry(id.clone()).or_default();
            *n += 1;
            let keep = *n < REDIRECTS;
            if !keep {
                given_up.push(id.clone());
            }
            keep
        });
        given_up
    }
}

/// What a link keeps from one connection to the next.
struct LinkState<'a> {
    since: &'a mut Option<u64>,
    epoch: &'a mut Option<String>,
    hubs: &'a mut Hubs,
    resend: &'a mut Resend,
}

async fn serve(
    mut conn: Connection,
    commands: &mut mpsc::Receiver<LinkCommand>,
    events: &mpsc::Sender<LinkEvent>,
    link: LinkState<'_>,
) -> Served {
    let LinkState { since, epoch, hubs, resend } = link;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut in_flight: Option<(String, Instant, Timestamp)> = None;
    let mut pings = 0u64;
    // Commands sent on this connection and not yet answered, with their order.
    let mut unanswered: std::collections::HashMap<String, (u64, Command)> = std::collections::HashMap::new();
    // Set once a standby refused a command: the leader it named, and when. The link
    // moves there once every command sent here is answered (none is left in doubt).
    let mut redirect: Option<(Option<String>, Instant)> = None;
    let mut queued = std::mem::take(&mut resend.queue);
    queued.sort_by_key(|(order, _, _)| *order);
    let mut queued = queued.into_iter();
    while let Some((order, id, command)) = queued.next() {
        if let Err(e) = conn.send(&ClientFrame::Command { id: id.clone(), command: command.clone() }).await {
            // This one and the rest wait for the next connection.
            resend.queue.push((order, id, command));
            resend.queue.extend(queued);
            return Served::Lost(e.to_string());
        }
        unanswered.insert(id, (order, command));
    }
    loop {
        if let Some((leader, _)) = &redirect
            && unanswered.is_empty()
        {
            conn.close().await;
            return Served::Redirect(leader.clone());
        }
        tokio::select! {
            frame = conn.recv() => match frame {
                Ok(envelope) => {
                    match &envelope.frame {
                        ServerFrame::Rejected { id, code: RejectCode::Standby, leader, .. }
                            if resend.tries.get(id).copied().unwrap_or(0) < REDIRECTS =>
                        {
                            if let Some((order, command)) = unanswered.remove(id) {
                                *resend.tries.entry(id.clone()).or_default() += 1;
                                resend.queue.push((order, id.clone(), command));
                                if redirect.is_none() {
                                    redirect = Some((leader.clone(), Instant::now()));
                                }
                                continue;
                            }
                        }
                        ServerFrame::Accepted { id, .. } | ServerFrame::Rejected { id, .. } => {
                            unanswered.remove(id);
                            resend.tries.remove(id);
                        }
                        _ => {}
                    }
                    if let Some(seq) = seq_of(&envelope.frame) {
                        *since = Some(seq);
                    }
                    // Entries left out of a snapshot, or older than the page just received.
                    let older = match &envelope.frame {
                        ServerFrame::Snapshot { from, .. } | ServerFrame::Older { from, .. } => Some(*from),
                        _ => None,
                    };
                    if let Some(before) = older.filter(|from| !from.is_zero())
                        && let Err(e) = conn.fetch_older(before).await
                    {
                        return Served::Lost(e.to_string());
                    }
                    match &envelope.frame {
                        ServerFrame::Welcome { epoch: e, hubs: live, .. } => {
                            *epoch = Some(e.clone());
                            hubs.learn(live);
                        }
                        ServerFrame::Forum { hubs: live, .. } => hubs.learn(live),
                        _ => {}
                    }
                    if let ServerFrame::Pong { id } = &envelope.frame
                        && let Some((sent_id, sent_at, sent_wall)) = &in_flight
                        && id == sent_id
                    {
                        let rtt = sent_at.elapsed();
                        let offset_ms = clock_offset(*sent_wall, rtt, envelope.now);
                        in_flight = None;
                        let clock = LinkEvent::Clock { rtt_ms: rtt.as_millis() as u64, offset_ms };
                        if events.send(clock).await.is_err() {
                            return Served::Stop;
                        }
                        continue;
                    }
                    if events.send(LinkEvent::Frame(Box::new(envelope))).await.is_err() {
                        return Served::Stop;
                    }
                }
                Err(e) => return Served::Lost(e.to_string()),
            },
            command = commands.recv() => match command {
                None => {
                    conn.close().await;
                    return Served::Stop;
                }
                // Not to a standby: it goes to the leader with those it refused.
                Some(LinkCommand::Send { id, command }) if redirect.is_some() => {
                    let order = resend.order();
                    resend.queue.push((order, id, command));
                }
                Some(LinkCommand::Send { id, command }) => {
                    if let Err(e) = conn.send(&ClientFrame::Command { id: id.clone(), command: command.clone() }).await {
                        let _ = events.send(LinkEvent::NotSent { id, reason: format!("not connected: {e}") }).await;
                        return Served::Lost(e.to_string());
                    }
                    unanswered.insert(id, (resend.order(), command));
                }
                Some(LinkCommand::Resync { since: s }) => {
                    *since = s;
                    conn.close().await;
                    return Served::Lost("resynchronizing with the hub".to_string());
                }
            },
            _ = ping.tick() => {
                // Waited long enough to move to the leader: those still unanswered are in doubt.
                if let Some((leader, since_refused)) = &redirect
                    && since_refused.elapsed() > REDIRECT_WAIT
                {
                    for (id, _) in unanswered.drain() {
                        let reason = "no answer from the hub: whether it was recorded is not known".to_string();
                        let _ = events.send(LinkEvent::NotSent { id, reason }).await;
                    }
                    conn.close().await;
                    return Served::Redirect(leader.clone());
                }
                // A ping unanswered for three periods: the link is dead even if TCP has not noticed.
                if let Some((_, sent_at, _)) = &in_flight
                    && sent_at.elapsed() > PING_EVERY * 3
                {
                    conn.close().await;
                    return Served::Lost(format!("no answer from the hub for {} s", sent_at.elapsed().as_secs()));
                }
                if in_flight.is_some() {
                    continue;
                }
                pings += 1;
                let id = format!("ping-{pings}");
                in_flight = Some((id.clone(), Instant::now(), Utc::now()));
                if let Err(e) = conn.send(&ClientFrame::Ping { id }).await {
                    return Served::Lost(e.to_string());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Hubs;

    #[test]
    fn a_link_learns_the_sessions_hubs_and_tries_the_next_after_a_failure() {
        let mut hubs = Hubs::new("ws://10.0.0.1:7878/v1/sessions/s?name=Ana");
        hubs.advance();
        assert_eq!(hubs.current(), "ws://10.0.0.1:7878/v1/sessions/s?name=Ana", "alone, the same hub again");
        // The welcome of the hub it is on lists it first, then the others.
        hubs.learn(&["ws://10.0.0.1:7878/v1/sessions/s".into(), "ws://10.0.0.2:7878/v1/sessions/s".into()]);
        assert_eq!(hubs.current(), "ws://10.0.0.1:7878/v1/sessions/s?name=Ana", "stays on its hub");
        hubs.advance();
        assert_eq!(hubs.current(), "ws://10.0.0.2:7878/v1/sessions/s?name=Ana", "then the next, query kept");
        hubs.advance();
        assert_eq!(hubs.current(), "ws://10.0.0.1:7878/v1/sessions/s?name=Ana", "and round again");
        // A hub advertising addresses this client cannot use: the given URL stays on the list.
        let mut hubs = Hubs::new("ws://laptop:7878/v1/sessions/s");
        hubs.learn(&["ws://127.0.0.1:7878/v1/sessions/s".into()]);
        assert_eq!(hubs.current(), "ws://laptop:7878/v1/sessions/s", "the URL that works stays current");
        hubs.advance();
        assert_eq!(hubs.current(), "ws://127.0.0.1:7878/v1/sessions/s");
        hubs.advance();
        assert_eq!(hubs.current(), "ws://laptop:7878/v1/sessions/s");
        hubs.learn(&[]);
        assert_eq!(hubs.current(), "ws://laptop:7878/v1/sessions/s", "an empty list (a file journal) changes nothing");
    }

    #[test]
    fn commands_a_standby_refused_wait_a_few_tries_then_are_reported_not_sent() {
        use super::{REDIRECTS, Resend};
        let note = crate::domain::Command::AddNote {
            saved_at: None,
            client_id: "n".into(),
            turn: None,
            text: "t".into(),
            objectives: vec![],
            themes: vec![],
        };
        let mut resend = Resend::default();
        let (first, second) = (resend.order(), resend.order());
        resend.queue.push((second, "b".into(), note.clone()));
        resend.queue.push((first, "a".into(), note));
        resend.tries.insert("gone".into(), 3);
        resend.forget_others();
        assert!(resend.tries.is_empty(), "a count outlives no command");
        for _ in 1..REDIRECTS {
            assert!(resend.count_a_try().is_empty(), "kept while tries remain");
        }
        assert_eq!(resend.count_a_try(), ["b", "a"], "then reported, none silently dropped");
        assert!(resend.queue.is_empty());
    }

    #[test]
    fn a_link_goes_to_the_leader_a_standby_names() {
        let mut hubs = Hubs::new("ws://10.0.0.2:7878/v1/sessions/s?name=Ana");
        hubs.learn(&["ws://10.0.0.2:7878/v1/sessions/s".into(), "ws://10.0.0.1:7878/v1/sessions/s".into()]);
        hubs.prefer("ws://10.0.0.1:7878/v1/sessions/s");
        assert_eq!(hubs.current(), "ws://10.0.0.1:7878/v1/sessions/s?name=Ana", "the leader on the list, query kept");
        hubs.prefer("ws://10.0.0.3:7878/v1/sessions/s");
        assert_eq!(hubs.current(), "ws://10.0.0.3:7878/v1/sessions/s?name=Ana", "a leader not listed yet");
        hubs.advance();
        assert_ne!(hubs.current(), "ws://10.0.0.3:7878/v1/sessions/s?name=Ana", "the others stay on the list");
    }
}
