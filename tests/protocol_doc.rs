//! docs/protocol.md is the contract a client in another language is written from.
//! These tests read the doc's own example frames and put them through Rostrum's
//! decoders and its domain, so the examples cannot drift from the code: a field
//! the code sends and the doc leaves out, or one the doc shows and the code does
//! not know, fails here.

use rostrum::domain::{self, Actor, Event, Session};
use rostrum::protocol::{ClientFrame, Envelope, ServerFrame, decode_client};
use serde_json::Value;

const DOC: &str = include_str!("../docs/protocol.md");

/// Every line of every ```json block, with the heading of the section it is in.
fn examples() -> Vec<(String, usize, &'static str)> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut in_json = false;
    for (n, line) in DOC.lines().enumerate() {
        if line.starts_with("## ") {
            section = line.trim_start_matches("## ").to_string();
        }
        if line.trim() == "```json" {
            in_json = true;
        } else if line.trim() == "```" {
            in_json = false;
        } else if in_json && !line.trim().is_empty() {
            out.push((section.clone(), n + 1, line));
        }
    }
    out
}

/// Elided examples ("…") show a shape, not a whole frame.
fn elided(line: &str) -> bool {
    line.contains('…')
}

fn json(line: &str, at: usize) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("docs/protocol.md:{at}: not JSON: {e}\n{line}"))
}

/// Decoding then encoding gives back the doc's frame, field for field; or what differs.
fn round_trips<T: serde::de::DeserializeOwned + serde::Serialize>(line: &str, at: usize) -> Result<T, String> {
    let value: T = serde_json::from_str(line).map_err(|e| format!("docs/protocol.md:{at}: {e}\n  {line}"))?;
    let again = serde_json::to_value(&value).expect("encodes");
    if again != json(line, at) {
        return Err(format!(
            "docs/protocol.md:{at}: the code encodes this differently:\n  doc:  {line}\n  code: {again}"
        ));
    }
    Ok(value)
}

const CLIENT_TYPES: [&str; 3] = ["command", "ping", "fetch-older"];
const SERVER_TYPES: [&str; 13] = [
    "welcome",
    "snapshot",
    "older",
    "event",
    "accepted",
    "rejected",
    "pong",
    "error",
    "resync",
    "display",
    "forum",
    "forum-session",
    "moves",
];

/// A command decodes, and encodes back with every field the doc gave, unchanged.
fn command_decodes(line: &str, at: usize) -> Result<(), String> {
    let command: domain::Command =
        serde_json::from_str(line).map_err(|e| format!("docs/protocol.md:{at}: {e}\n  {line}"))?;
    let again = serde_json::to_value(&command).expect("encodes");
    let Value::Object(doc) = json(line, at) else { return Err(format!("docs/protocol.md:{at}: not an object")) };
    match doc.iter().find(|(k, v)| again.get(k.as_str()) != Some(v)) {
        Some((key, _)) => Err(format!("docs/protocol.md:{at}: `{key}` comes back otherwise: {again}")),
        None => Ok(()),
    }
}

#[test]
fn every_whole_example_frame_decodes_and_encodes_back_to_itself() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for (section, at, line) in examples() {
        if elided(line) {
            continue;
        }
        let value = json(line, at);
        let kind = value.get("type").and_then(Value::as_str);
        let result = match kind {
            Some(kind) if CLIENT_TYPES.contains(&kind) => decode_client(line)
                .map_err(|e| format!("docs/protocol.md:{at}: {e:?}"))
                .and_then(|_| round_trips::<ClientFrame>(line, at).map(drop)),
            // The `command` of a command frame, as §6 shows them: optional fields
            // left out take their defaults.
            Some(kind) if section.starts_with("6.") && !SERVER_TYPES.contains(&kind) => command_decodes(line, at),
            Some(_) => round_trips::<Envelope>(line, at).map(drop),
            // A journal line, or the `event` of an `event` frame.
            None if value.get("seq").is_some() && value.get("event").is_some() => {
                round_trips::<Event>(line, at).map(drop)
            }
            None => continue, // a piece of state (a segment, a participant)
        };
        if let Err(problem) = result {
            problems.push(problem);
        }
        checked += 1;
    }
    assert!(
        problems.is_empty(),
        "{} of {checked} examples disagree with the code:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(checked >= 40, "only {checked} whole examples found: has the doc's format changed?");
}

/// Section 11's exchange, replayed: each chair command the doc shows, decided by
/// the domain at the time of the doc's event, gives exactly the doc's events, and
/// a client replica fed the doc's frames in order ends with the domain's state.
#[test]
fn the_full_exchange_replays_through_the_domain_and_a_replica() {
    let def = rostrum::config::parse_session(include_str!("data/small.toml")).expect("valid");
    let mut session = Session::new(def.clone());
    let mut replica = rostrum::client::Replica::default();
    replica
        .apply(&Envelope {
            frame: ServerFrame::Snapshot { seq: 0, state: Box::new(Session::new(def)), from: Default::default() },
            now: chrono::Utc::now(),
        })
        .expect("snapshot");

    let frames: Vec<(usize, &str)> = examples()
        .into_iter()
        .filter(|(section, _, line)| section.starts_with("11.") && !elided(line))
        .map(|(_, at, line)| (at, line))
        .collect();
    let mut pending: Option<(usize, ClientFrame)> = None;
    let mut events_checked = 0;
    for (at, line) in frames {
        let value = json(line, at);
        let kind = value.get("type").and_then(Value::as_str).unwrap_or_default();
        if CLIENT_TYPES.contains(&kind) {
            pending = Some((at, decode_client(line).unwrap_or_else(|e| panic!("docs/protocol.md:{at}: {e:?}"))));
            continue;
        }
        let envelope: Envelope = serde_json::from_str(line).unwrap_or_else(|e| panic!("docs/protocol.md:{at}: {e}"));
        match &envelope.frame {
            ServerFrame::Event { event } if event.seq > session.seq => {
                // The command this event answers, decided by the domain.
                if pending.is_some() {
                    let (sent_at, command, actor) = take_command(&mut pending);
                    assert_eq!(actor.role, event.actor.role, "docs/protocol.md:{at}");
                    let actor = event.actor.clone();
                    let decided = domain::decide(&session, command, &actor, event.at)
                        .unwrap_or_else(|r| panic!("docs/protocol.md:{sent_at}: refused: {}", r.reason));
                    assert_eq!(decided.len(), 1, "docs/protocol.md:{sent_at}: one event");
                    assert_eq!(
                        serde_json::to_value(&decided[0].event).expect("encodes"),
                        serde_json::to_value(&event.event).expect("encodes"),
                        "docs/protocol.md:{at}: the domain decides another event for the command at line {sent_at}"
                    );
                }
                domain::apply(&mut session, event);
                assert!(replica.apply(&envelope).expect("in order, no gap"), "docs/protocol.md:{at}: applied");
                events_checked += 1;
            }
            ServerFrame::Rejected { code, .. } => {
                let (sent_at, command, actor) = take_command(&mut pending);
                let refused = domain::decide(&session, command, &actor, envelope.now).expect_err("refused");
                assert_eq!(refused.code, *code, "docs/protocol.md:{at}");
                let reason = value.get("reason").and_then(Value::as_str).unwrap_or_default();
                assert_eq!(refused.reason, reason, "docs/protocol.md:{at}: the command at line {sent_at}");
            }
            ServerFrame::Accepted { first_seq: None, .. } => {
                // A command that recorded nothing: the domain agrees.
                let (sent_at, command, actor) = take_command(&mut pending);
                let decided = domain::decide(&session, command, &actor, envelope.now).expect("accepted");
                assert!(decided.is_empty(), "docs/protocol.md:{sent_at}: the domain records {decided:?}");
            }
            _ => {}
        }
    }
    assert!(events_checked >= 10, "only {events_checked} events in §11");
    assert_eq!(replica.seq(), Some(session.seq));
    let mut replica_state = replica.state.clone().expect("state");
    domain::refresh_all_reasons(&mut replica_state);
    domain::refresh_all_reasons(&mut session);
    assert_eq!(replica_state, session, "the replica fed the doc's frames holds the domain's state");
}

/// The command waiting for its answer, and who sent it (the doc's ids: `c` the
/// chair, `r` the rapporteur, `o` the observer).
fn take_command(pending: &mut Option<(usize, ClientFrame)>) -> (usize, domain::Command, Actor) {
    let Some((at, ClientFrame::Command { id, command })) = pending.take() else {
        panic!("an answer with no command before it");
    };
    let actor = match id.chars().next() {
        Some('r') => Actor::rapporteur("Rapporteur 1"),
        Some('o') => Actor::observer("observer"),
        _ => Actor::chair("Ms Ortiz"),
    };
    (at, command, actor)
}

/// "treat a `rejected` code it does not know as `refused`": Rostrum's own decoder
/// keeps the frame (and its id) instead of failing on a newer hub's code.
#[test]
fn a_rejected_code_this_build_does_not_know_still_decodes() {
    let frame =
        r#"{"type":"rejected","id":"c1","code":"some-new-code","reason":"why","now":"2026-11-28T06:21:35.992676564Z"}"#;
    let envelope: Envelope = serde_json::from_str(frame).expect("decodes");
    assert!(matches!(
        envelope.frame,
        ServerFrame::Rejected { code: domain::RejectCode::Unknown, ref id, .. } if id == "c1"
    ));
}
