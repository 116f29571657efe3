//! What every screen connected to a hub shares: the replica of the session, the
//! link's state, the clock offset, the status line and the commands waiting for an
//! answer. Each screen (chair, rapporteur, delegate) holds a [`Live`] and adds its
//! own state; none of this knows any screen.

use std::collections::BTreeMap;

use chrono::Duration;
use crossterm::event::{KeyEvent, MouseEvent};

use super::keymap::Keymap;
use crate::client::Replica;
use crate::client::link::LinkEvent;
use crate::client::outbox::Saved;
use crate::domain::{Actor, Command, Session, Timestamp};
use crate::protocol::ServerFrame;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    Connecting,
    Connected,
    Reconnecting { reason: String, attempt: u32 },
    Refused { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub tone: Tone,
}

/// Every input a screen reacts to.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick(Timestamp),
    Link(LinkEvent),
    /// The outbox has this note on disk.
    Saved(Saved),
    /// The outbox could not be written.
    SaveFailed(String),
    /// How many other clients the embedded hub serves now (the chair's own hub only).
    Peers(usize),
}

/// What the run loop does for a screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send {
        id: String,
        command: Command,
    },
    Resync {
        since: Option<u64>,
    },
    /// Write a note or pledge to the outbox (fsync), then report `Msg::Saved`.
    Save(Saved),
    /// The hub has it: remove it from the outbox.
    Ack(String),
    Quit,
    /// End the screen with an error (the hub refused it at the handshake).
    Fail(String),
}

/// A screen's connection to its session.
pub struct Live {
    pub replica: Replica,
    pub link: LinkStatus,
    pub rtt_ms: Option<u64>,
    /// The hub's clock minus ours, in milliseconds.
    pub offset_ms: i64,
    /// Our clock, as of the last tick.
    pub local_now: Timestamp,
    pub status: Option<StatusLine>,
    /// Commands sent and not yet answered, by id.
    pub pending: BTreeMap<String, Pending>,
    next_id: u64,
    pub keymap: Keymap,
    /// Terminal size, for mapping mouse clicks to rows.
    pub size: (u16, u16),
    pub no_color: bool,
    /// The role the hub gave this connection (from its welcome).
    pub role: Option<crate::domain::Role>,
    /// Who this connection acts as, as the record names them (from the welcome):
    /// what the screen offers is previewed for this actor.
    pub actor: Option<Actor>,
    /// The last event an accepted command of ours recorded: until the replica has it,
    /// the screen's state is older than the hub's.
    awaiting_seq: u64,
    /// Keys pressed while a command of ours was unanswered: handled, in order, once the
    /// answer and its events are in, so fast keys act as slow ones would.
    pub queued: std::collections::VecDeque<KeyEvent>,
    /// The hub's seq when this connection began (its welcome), while the replica
    /// is still behind it: the screen is catching up, not live yet.
    pub catch_up_to: Option<u64>,
}

/// A command sent and not yet answered: the screen's follow-up (reopening a
/// picker, selecting the new entry) matches on its id and the command itself,
/// never on its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: String,
    /// For the status line: "inscribe Peru".
    pub what: String,
    pub command: Command,
}

/// What a frame from the hub meant, for the screen to add its own reaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A command of ours was accepted.
    Accepted(Pending),
    /// A command of ours was refused (or could not be sent).
    Rejected(Pending),
    Other,
}

impl Live {
    pub fn new(keymap: Keymap, now: Timestamp) -> Self {
        Self {
            replica: Replica::default(),
            link: LinkStatus::Connecting,
            rtt_ms: None,
            offset_ms: 0,
            local_now: now,
            status: None,
            pending: BTreeMap::new(),
            next_id: 1,
            keymap,
            size: (80, 24),
            no_color: false,
            role: None,
            actor: None,
            awaiting_seq: 0,
            queued: std::collections::VecDeque::new(),
            catch_up_to: None,
        }
    }

    /// A command of ours is unanswered, or its events have not arrived yet.
    pub fn busy(&self) -> bool {
        !self.pending.is_empty() || self.replica.seq().is_some_and(|seq| seq < self.awaiting_seq)
    }

    pub fn session(&self) -> Option<&Session> {
        self.replica.state.as_ref()
    }

    /// The hub's time now, as best we know it.
    pub fn hub_now(&self) -> Timestamp {
        self.local_now + Duration::milliseconds(self.offset_ms)
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), tone: Tone::Info });
    }

    pub fn ok(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), tone: Tone::Ok });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), tone: Tone::Error });
    }

    /// A participant's display name.
    pub fn name(&self, participant: &str) -> String {
        self.session().map_or_else(|| participant.to_string(), |s| s.name_of(participant).to_string())
    }

    /// Send a command to the hub, or say at once that it cannot be sent.
    pub fn send(&mut self, command: Command, what: String) -> Vec<Effect> {
        self.send_tracked(command, what).0
    }

    /// [`Live::send`], also giving the command's id (none if it was not sent),
    /// for a follow-up once the hub answers.
    pub fn send_tracked(&mut self, command: Command, what: String) -> (Vec<Effect>, Option<String>) {
        if self.link != LinkStatus::Connected {
            self.error(format!("not connected: {what} was not sent"));
            return (Vec::new(), None);
        }
        let id = format!("c{}", self.next_id);
        self.next_id += 1;
        self.pending.insert(id.clone(), Pending { id: id.clone(), what: what.clone(), command: command.clone() });
        self.info(format!("{what}…"));
        (vec![Effect::Send { id: id.clone(), command }], Some(id))
    }

    /// Another person at the chair acted: say who and what ("Henrik Solberg-Lund:
    /// the floor given to Mexico"), so no one at the chair is surprised by a change.
    fn say_who_else(&mut self, frame: &ServerFrame) {
        let ServerFrame::Event { event } = frame else { return };
        let (Some(me), Some(session)) = (&self.actor, self.replica.state.as_ref()) else { return };
        // A delegation acting for itself (from its screen or its speaker's page): the
        // chair is told, as the list alone changes without a word.
        if me.role == crate::domain::Role::Chair
            && event.actor.role == crate::domain::Role::Delegate
            && self.catch_up_to.is_none()
            && let Some(what) = delegate_action(&event.event)
        {
            let who = event.actor.participant.as_deref().map_or("a delegation", |p| session.name_of(p));
            self.info(format!("{who} {what}"));
            return;
        }
        if me.role != crate::domain::Role::Chair
            || event.actor.role != crate::domain::Role::Chair
            || event.actor.same_person(me)
            || self.catch_up_to.is_some()
        {
            return;
        }
        if let Some(undo) = session.undo.as_ref().filter(|u| u.seq == event.seq) {
            let text = format!("{}: {}", event.actor.name, undo.what);
            self.info(text);
        }
    }

    /// What the rules let this screen's person do now, with `selected` the entry
    /// the screen has selected: the domain's own answer on the replica.
    pub fn offers(&self, selected: Option<crate::domain::EntryId>) -> crate::domain::Offers {
        match (self.session(), &self.actor) {
            (Some(session), Some(actor)) => crate::domain::offers(session, actor, self.hub_now(), selected),
            _ => crate::domain::Offers::default(),
        }
    }

    /// The common part of a link event: connection state, clock, answers to our
    /// commands, and the replica. The screen adds its own reaction.
    pub fn on_link(&mut self, event: LinkEvent) -> (Vec<Effect>, Answer) {
        let mut effects = Vec::new();
        let mut answer = Answer::Other;
        match event {
            LinkEvent::Connecting { .. } => {}
            LinkEvent::Connected => {
                // Keep a warning shown at start (from the hub's opening) until something replaces it.
                let first = self.link == LinkStatus::Connecting;
                let warning = matches!(&self.status, Some(StatusLine { tone: Tone::Error, .. }));
                self.link = LinkStatus::Connected;
                if !(first && warning) {
                    self.info("connected to the hub");
                }
            }
            LinkEvent::Clock { rtt_ms, offset_ms } => {
                self.rtt_ms = Some(rtt_ms);
                self.offset_ms = offset_ms;
            }
            LinkEvent::Disconnected { reason, retry_in } => {
                let attempt = match &self.link {
                    LinkStatus::Reconnecting { attempt, .. } => attempt + 1,
                    _ => 1,
                };
                self.link = LinkStatus::Reconnecting { reason: reason.clone(), attempt };
                self.rtt_ms = None;
                let lost: Vec<String> = std::mem::take(&mut self.pending).into_values().map(|p| p.what).collect();
                // Keys waiting for answers that will not come: dropped, and said.
                let dropped = self.queued.len();
                self.queued.clear();
                self.awaiting_seq = 0;
                let lost: Vec<String> = if dropped > 0 {
                    lost.into_iter().chain(std::iter::once(format!("{dropped} keys pressed meanwhile"))).collect()
                } else {
                    lost
                };
                let unanswered =
                    if lost.is_empty() { String::new() } else { format!("; unanswered: {}", lost.join(", ")) };
                self.error(format!(
                    "hub unreachable ({reason}); attempt {attempt}, retrying in {} ms{unanswered}",
                    retry_in.as_millis()
                ));
            }
            LinkEvent::Refused { reason } => {
                self.link = LinkStatus::Refused { reason: reason.clone() };
                self.error(format!("the hub refused this screen: {reason}"));
                effects.push(Effect::Fail(format!("the hub refused this screen: {reason}")));
            }
            LinkEvent::NotSent { id, reason } => {
                if let Some(pending) = self.pending.remove(&id) {
                    self.error(format!("{} was not sent: {reason}", pending.what));
                    answer = Answer::Rejected(pending);
                } else {
                    self.error(format!("the command was not sent: {reason}"));
                }
            }
            LinkEvent::Frame(envelope) => match &envelope.frame {
                ServerFrame::Accepted { id, last_seq, .. } => {
                    if let Some(seq) = last_seq {
                        self.awaiting_seq = self.awaiting_seq.max(*seq);
                    }
                    if let Some(pending) = self.pending.remove(id) {
                        self.ok(format!("✓ {}", pending.what));
                        answer = Answer::Accepted(pending);
                    }
                }
                ServerFrame::Rejected { id, reason, .. } => match self.pending.remove(id) {
                    Some(pending) => {
                        self.error(format!("✗ {}: {reason}", pending.what));
                        answer = Answer::Rejected(pending);
                    }
                    None => self.error(format!("✗ command: {reason}")),
                },
                ServerFrame::Error { reason, .. } => self.error(format!("hub: {reason}")),
                ServerFrame::Resync { reason } => self.info(reason.clone()),
                ServerFrame::Welcome { role, seq, name, participant, person, .. } => {
                    self.role = Some(*role);
                    self.actor = Some(Actor {
                        role: *role,
                        name: name.clone(),
                        participant: participant.clone(),
                        person: person.clone(),
                    });
                    self.catch_up_to = (*seq > self.replica.seq().unwrap_or(0)).then_some(*seq);
                }
                _ => {
                    if self.replica.apply(&envelope).is_err() {
                        effects.push(Effect::Resync { since: self.replica.seq() });
                    }
                    self.say_who_else(&envelope.frame);
                    if self.catch_up_to.is_some_and(|to| self.replica.seq().is_some_and(|held| held >= to)) {
                        self.catch_up_to = None;
                    }
                }
            },
        }
        (effects, answer)
    }
}

/// What a delegation did for itself, as the chair's status line says it.
fn delegate_action(event: &crate::domain::EventKind) -> Option<String> {
    use crate::domain::EventKind as E;
    Some(match event {
        E::Inscribed { entry, .. } => match &entry.language {
            Some(code) => format!("asks for the floor (in {})", crate::domain::language_name(code)),
            None => "asks for the floor".to_string(),
        },
        E::Withdrawn { .. } => "withdrew its request for the floor".to_string(),
        E::ReplyRequested { .. } => "requests a right of reply".to_string(),
        E::ReplyWithdrawn { .. } => "withdrew its right of reply".to_string(),
        E::PointOfOrderRaised { .. } => "raises a point of order".to_string(),
        E::PointOfOrderWithdrawn { .. } => "withdrew its point of order".to_string(),
        E::ConnectionSet { status, .. } => format!("reports its connection: {}", status.label()),
        _ => return None,
    })
}
