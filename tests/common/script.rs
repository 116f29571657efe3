//! A scripted session through a real hub with a clock the script moves: journals
//! with known times, for report and replay tests and the shipped sample log.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use rostrum::domain::{Actor, Command, ConnectionStatus, Session};
use rostrum::hub::{Clock, Hub, SessionHandle, Settings};
use rostrum::protocol::{Envelope, ServerFrame};

pub fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("valid")
}

/// A hub whose clock reads `base() + seconds` as the script sets it.
pub struct Scripted {
    pub hub: Hub,
    pub handle: SessionHandle,
    seconds: Arc<AtomicI64>,
}

impl Scripted {
    pub async fn start(data: &Path, session_file: &Path) -> Self {
        let seconds = Arc::new(AtomicI64::new(0));
        let clock = {
            let seconds = seconds.clone();
            Clock::new(move || base() + chrono::Duration::seconds(seconds.load(Ordering::SeqCst)))
        };
        let settings = Settings { clock, ..Settings::default() };
        let hub = Hub::start("127.0.0.1:0", data, &[session_file.to_path_buf()], settings).await.expect("hub starts");
        let id = hub.reports[0].session.clone();
        let handle = hub.session(&id).expect("session");
        Self { hub, handle, seconds }
    }

    /// Give `command` as `actor` at `at` seconds after the base time; it must be accepted.
    pub async fn at(&self, at: i64, actor: &Actor, command: Command) {
        self.seconds.store(at, Ordering::SeqCst);
        let shown = format!("{command:?}");
        if let Err(r) = self.handle.command(actor.clone(), command).await {
            panic!("at {at} s, {shown} was refused: {}", r.reason);
        }
    }

    /// The hub's state now.
    pub async fn state(&self) -> Session {
        let sub = self.handle.subscribe(None, None).await.expect("subscribes");
        let envelope: Envelope = serde_json::from_str(sub.initial[0].as_str()).expect("a snapshot frame");
        match envelope.frame {
            ServerFrame::Snapshot { state, .. } => *state,
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    /// The id of a participant's entry on a segment's speakers list.
    pub async fn entry(&self, segment: usize, participant: &str) -> u64 {
        let state = self.state().await;
        state.segments[segment].list.iter().find(|e| e.participant == participant).map(|e| e.id).expect("inscribed")
    }

    pub async fn turn(&self) -> u64 {
        self.state().await.floor.expect("someone holds the floor").id
    }

    pub async fn point(&self) -> u64 {
        self.state().await.point_of_order.expect("a point of order is pending").id
    }

    pub async fn stop(self) {
        self.hub.shutdown().await;
    }
}

fn inscribe(p: &str) -> Command {
    Command::inscribe(p)
}

/// The script, times in seconds after 10:00:00 local (14:00:00 UTC):
///
/// |   s | who | what |
/// | --: | --- | --- |
/// |   0 | chair | opens "general" (UN protocol, stakeholders after States) |
/// |  10 | chair | inscribes Chile (Head of delegation) |
/// |  20 | Peru | inscribes itself (Minister: goes first) |
/// |  30 | chair | inscribes Migrant Forum A (stakeholder: last) |
/// |  40 | Ghana | inscribes itself (remote, Head of delegation: after Chile) |
/// |  60 | chair | floor to Peru |
/// | 120 | rapporteur | note on Peru's turn, objective 5 |
/// | 270 | chair | ends Peru: used 210 s of 180, overrun 30 |
/// | 280 | chair | Ghana: technical issue |
/// | 285 | chair | defers Ghana to the end: from position 2 (Chile, Ghana, Forum) to 3 |
/// | 300 | chair | floor to Chile |
/// | 360 | France | point of order: Chile's clock stops at 60 s |
/// | 390 | chair | rules: not upheld; Chile resumes |
/// | 480 | chair | ends Chile: 60 + 90 = 150 s |
/// | 490 | rapporteur | pledge by Chile, objectives 5 and 6, on Chile's turn |
/// | 490 | chair | floor to Migrant Forum A |
/// | 610 | chair | ends it: 120 s of 120 |
/// | 620 | chair | Ghana connected |
/// | 630 | chair | floor to Ghana |
/// | 780 | chair | ends Ghana: 150 s |
/// | 790 | chair | closes the session |
pub async fn scripted(data: &std::path::Path) -> std::path::PathBuf {
    let s = Scripted::start(data, &super::session_file()).await;
    let chair = Actor::chair("chair");
    let rapporteur = Actor::rapporteur("Ana");
    s.at(0, &chair, Command::OpenSegment { segment: "general".into() }).await;
    s.at(10, &chair, inscribe("chile")).await;
    s.at(20, &Actor::delegate("peru"), inscribe("peru")).await;
    s.at(30, &chair, inscribe("ngo-a")).await;
    s.at(40, &Actor::delegate("ghana"), inscribe("ghana")).await;
    let peru = s.entry(0, "peru").await;
    s.at(60, &chair, Command::GiveFloor { entry: peru, budget: None }).await;
    let turn = s.turn().await;
    let note = Command::AddNote {
        saved_at: None,
        client_id: "ana-1".into(),
        turn: Some(turn),
        text: "Peru announces a regularization programme.".into(),
        objectives: vec![5],
        themes: vec!["regularization".into()],
    };
    s.at(120, &rapporteur, note).await;
    s.at(270, &chair, Command::EndTurn { turn }).await;
    let set = |status| Command::SetConnection { participant: "ghana".into(), status, from: None };
    s.at(280, &chair, set(ConnectionStatus::TechnicalIssue)).await;
    let ghana = s.entry(0, "ghana").await;
    s.at(285, &chair, Command::Defer { entry: ghana, places: None, to_end: true }).await;
    let chile = s.entry(0, "chile").await;
    s.at(300, &chair, Command::GiveFloor { entry: chile, budget: None }).await;
    let chile_turn = s.turn().await;
    s.at(360, &Actor::delegate("france"), Command::RaisePointOfOrder { by: "france".into() }).await;
    let point = s.point().await;
    let ruling = Command::RulePointOfOrder { point, ruling: "The speaker may continue.".into(), upheld: false };
    s.at(390, &chair, ruling).await;
    s.at(480, &chair, Command::EndTurn { turn: chile_turn }).await;
    let pledge = Command::AddPledge {
        saved_at: None,
        client_id: "ana-2".into(),
        pledger: "chile".into(),
        text: "5,000 seasonal work visas a year.".into(),
        objectives: vec![6, 5],
        turn: Some(chile_turn),
    };
    s.at(490, &rapporteur, pledge).await;
    let forum = s.entry(0, "ngo-a").await;
    s.at(490, &chair, Command::GiveFloor { entry: forum, budget: None }).await;
    let turn = s.turn().await;
    s.at(610, &chair, Command::EndTurn { turn }).await;
    s.at(620, &chair, set(ConnectionStatus::Connected)).await;
    s.at(630, &chair, Command::GiveFloor { entry: ghana, budget: None }).await;
    let turn = s.turn().await;
    s.at(780, &chair, Command::EndTurn { turn }).await;
    s.at(790, &chair, Command::CloseSession).await;
    s.stop().await;
    data.join("test-session/journal.jsonl")
}
