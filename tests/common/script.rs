//! A scripted session through a real hub with a clock the script moves: journals
//! with known times, for report and replay tests and the shipped sample log.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use rostrum::domain::{Actor, Command, Session};
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
