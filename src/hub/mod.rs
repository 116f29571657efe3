//! The session hub: opens each session (recovering it from its journal), owns it in
//! one task, and serves websocket clients at `/v1/sessions/SESSION-ID`.

mod conn;
pub mod forum;
mod http;
pub mod session;
pub mod tokens;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::config;
use crate::domain::{self, Session, SessionDef};
use crate::journal;
pub use session::SessionHandle;
pub use tokens::{ForumTokens, TokenStore, Tokens};

static LOG_FILE: std::sync::OnceLock<std::sync::Mutex<std::fs::File>> = std::sync::OnceLock::new();

/// Send the hub's log to a file instead of stderr (when a terminal screen owns stderr).
pub fn log_to_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let _ = LOG_FILE.set(std::sync::Mutex::new(file));
    Ok(())
}

/// A line on the hub's log (stderr, or the file given to [`log_to_file`]). Never pass a token here.
pub fn log(message: &str) {
    let line = format!("[{} rostrum hub] {message}", Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"));
    match LOG_FILE.get() {
        Some(file) => {
            use std::io::Write;
            if let Ok(mut file) = file.lock() {
                let _ = writeln!(file, "{line}");
            }
        }
        None => eprintln!("{line}"),
    }
}

/// Say on standard output what the operator of a replicated hub watches for
/// (a standby taking a session over), and log it.
pub fn announce(message: &str) {
    use std::io::Write;
    println!("{message}");
    let _ = std::io::stdout().flush();
    log(message);
}

/// Where the hub reads the time: the system clock, or (for tests and generated
/// sample sessions) a clock the caller moves.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> crate::domain::Timestamp + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Utc::now))
    }
    pub fn new(now: impl Fn() -> crate::domain::Timestamp + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }
    pub fn now(&self) -> crate::domain::Timestamp {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// Limits that protect the hub from clients.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    /// Frames a connection may send per second, sustained.
    pub frames_per_sec: u32,
    /// Frames a connection may send in a burst.
    pub frame_burst: u32,
    /// A connection whose socket accepts nothing for this long is closed.
    pub write_timeout: Duration,
    /// A connection from which nothing (not even a pong) is heard for this long is closed.
    pub idle_timeout: Duration,
    /// Browser origins allowed to connect; requests with any other `Origin` header are
    /// refused (clients that send no `Origin`, like Rostrum's own, are not browsers).
    pub allowed_origins: Vec<String>,
    /// Event frames kept for connections that are a little behind; further behind,
    /// a connection is resynced.
    pub broadcast_capacity: usize,
    pub clock: Clock,
    /// Serve wss:// with this certificate (see `crate::tls::server_config`).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// A checkpoint of each session's state every this many events (0: none), so a
    /// long session opens without refolding its whole journal.
    pub checkpoint_every: u64,
    /// Keep the journals in etcd, shared with the sessions' other hubs (else in files).
    pub etcd: Option<EtcdSettings>,
}

/// A hub whose journals live in etcd: the cluster, and the lease under which this
/// hub leads its sessions (one for all of them, kept alive on its own task).
#[derive(Debug, Clone)]
pub struct EtcdSettings {
    pub etcd: Arc<crate::etcd::Etcd>,
    pub lease: Arc<crate::etcd::Lease>,
    /// How other hubs and clients name this one: its id and its URL.
    pub me: journal::etcd::LeaderInfo,
    /// The URLs of the hubs registered in etcd now (this one first), refreshed every
    /// lease TTL: the welcome lists them so that clients follow the session, not a machine.
    pub hubs: Arc<std::sync::Mutex<Vec<String>>>,
    /// Every hub URL seen registered since this hub started: a room page one of
    /// them served may follow the session here, even once that hub is gone.
    pub seen: Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_connections: 20_000,
            handshake_timeout: Duration::from_secs(10),
            frames_per_sec: 50,
            frame_burst: 200,
            write_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(45),
            allowed_origins: Vec::new(),
            broadcast_capacity: session::BROADCAST_CAPACITY,
            clock: Clock::system(),
            tls: None,
            checkpoint_every: 10_000,
            etcd: None,
        }
    }
}

impl EtcdSettings {
    /// Reach the cluster and take this hub's lease (of `ttl` seconds).
    pub async fn connect(endpoints: &str, ttl: i64, url: String) -> Result<Self, String> {
        // An endpoint that does not answer within a quarter of the lease is passed
        // over for the next, so one stopped node never costs the lease.
        let per_endpoint = Duration::from_millis((ttl.max(1) as u64 * 1000 / 4).clamp(250, 1500));
        let etcd = Arc::new(crate::etcd::Etcd::new(endpoints)?.with_timeout(per_endpoint));
        let lease = crate::etcd::Lease::grant(etcd.clone(), ttl)
            .await
            .map_err(|e| format!("etcd at {endpoints}: no lease for this hub: {e}"))?;
        let hub = tokens::new_token().map_err(|e| e.to_string())?[..12].to_string();
        let me = journal::etcd::LeaderInfo { hub, url };
        // Registered under this hub's lease: the key goes when the hub does.
        journal::etcd::register_hub(&etcd, &lease, &me)
            .await
            .map_err(|e| format!("etcd at {endpoints}: cannot register this hub: {e}"))?;
        let hubs = Arc::new(std::sync::Mutex::new(vec![me.url.clone()]));
        let seen = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::from([me.url.clone()])));
        tokio::spawn(refresh_hubs(
            etcd.clone(),
            (Arc::downgrade(&hubs), Arc::downgrade(&seen)),
            me.clone(),
            Duration::from_secs(ttl.max(1) as u64),
        ));
        let settings = Self { etcd, lease, me, hubs, seen };
        settings.refresh_now().await;
        Ok(settings)
    }

    /// The session URLs of the live hubs, this one first.
    pub fn session_urls(&self, session: &str) -> Vec<String> {
        self.urls(&format!("/v1/sessions/{session}"))
    }

    /// The forum URLs of the live hubs, this one first.
    pub fn forum_urls(&self) -> Vec<String> {
        self.urls("/v1/forum")
    }

    /// The live hubs' origins (`ws://HOST:PORT`), this one first.
    pub fn hub_origins(&self) -> Vec<String> {
        self.hubs.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Whether `origin` (a browser page's, `http://HOST:PORT`) is that of a hub of
    /// this forum, live now or seen since this hub started.
    pub fn serves_pages_of(&self, origin: &str) -> bool {
        let seen = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
        seen.iter().any(|hub| hub.replacen("ws://", "http://", 1).replacen("wss://", "https://", 1) == origin)
    }

    /// Read the live hubs at once (as the refresh every lease TTL does).
    async fn refresh_now(&self) {
        refresh_once(&self.etcd, (&self.hubs, &self.seen), &self.me).await;
    }

    fn urls(&self, path: &str) -> Vec<String> {
        let hubs = self.hubs.lock().map(|h| h.clone()).unwrap_or_default();
        hubs.into_iter().map(|url| format!("{url}{path}")).collect()
    }
}

type HubList = std::sync::Mutex<Vec<String>>;
type SeenHubs = std::sync::Mutex<std::collections::BTreeSet<String>>;

/// Keep the list of live hubs current while the hub runs (a read of etcd every `every`).
async fn refresh_hubs(
    etcd: Arc<crate::etcd::Etcd>,
    (hubs, seen): (std::sync::Weak<HubList>, std::sync::Weak<SeenHubs>),
    me: journal::etcd::LeaderInfo,
    every: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        let (Some(hubs), Some(seen)) = (hubs.upgrade(), seen.upgrade()) else { return };
        refresh_once(&etcd, (&hubs, &seen), &me).await;
    }
}

async fn refresh_once(etcd: &crate::etcd::Etcd, (hubs, seen): (&HubList, &SeenHubs), me: &journal::etcd::LeaderInfo) {
    // A read that fails keeps the last list: it is a hint to clients, not a rule.
    if let Ok(found) = journal::etcd::live_hubs(etcd).await {
        let mut urls = vec![me.url.clone()];
        urls.extend(found.into_iter().filter(|h| h.hub != me.hub).map(|h| h.url));
        urls.dedup();
        if let Ok(mut seen) = seen.lock() {
            seen.extend(urls.iter().cloned());
        }
        if let Ok(mut list) = hubs.lock() {
            *list = urls;
        }
    }
}

/// One session as the hub serves it.
#[derive(Debug)]
pub struct SessionEntry {
    /// Its place among the hub's sessions (the order they were given in).
    pub index: usize,
    pub def: Arc<SessionDef>,
    pub handle: SessionHandle,
    pub tokens: Arc<TokenStore>,
    /// The session's journal, which its task writes: the report page reads it.
    pub journal: JournalSource,
}

/// Where the report page reads a session's journal.
#[derive(Debug, Clone)]
pub enum JournalSource {
    File(PathBuf),
    Etcd(Arc<crate::etcd::Etcd>, String),
}

impl JournalSource {
    /// The journal as it is now, read and verified.
    pub async fn read(&self) -> Result<journal::Contents, String> {
        match self {
            Self::File(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    journal::read_file(&path).map_err(|e| format!("{}: {e}", path.display()))
                })
                .await
                .unwrap_or_else(|e| Err(format!("the journal reader stopped ({e})")))
            }
            Self::Etcd(etcd, session) => journal::etcd::load(etcd, session)
                .await
                .map_err(|e| format!("session {session} in etcd: {e}"))?
                .ok_or_else(|| format!("etcd holds no journal of session {session}")),
        }
    }
}

/// Everything a connection may ask for: the sessions, and the forum across them.
#[derive(Debug)]
pub(crate) struct Registry {
    pub sessions: HashMap<String, SessionEntry>,
    pub forum: forum::ForumHub,
    pub forum_tokens: ForumTokens,
}

/// What opening a session found, for the operator.
#[derive(Debug, Clone)]
pub struct OpenReport {
    pub session: String,
    pub title: String,
    pub events: usize,
    /// Set when the session continues from an existing journal.
    pub resumed: bool,
    pub warnings: Vec<String>,
    /// On etcd: whether this hub leads the session (else it stands by, read-only).
    pub leads: Option<bool>,
}

struct Opened {
    entry: SessionEntry,
    task: JoinHandle<()>,
    report: OpenReport,
}

/// Open (or recover) a session from its file and its data directory.
fn open_session(
    data_dir: &Path,
    file: &Path,
    settings: &Settings,
    (index, forum): (usize, &forum::ForumHub),
) -> Result<Opened, String> {
    let shown = file.display().to_string();
    let source = std::fs::read_to_string(file).map_err(|e| format!("{shown}: {e}"))?;
    let def = config::parse_session(&source).map_err(|e| e.render(&shown))?;
    let dir = data_dir.join(&def.id);
    let journal_path = dir.join(journal::FILE_NAME);
    let mut warnings = Vec::new();
    let mut checkpoint_seq = 0;
    let (state, writer, history, resumed) = if journal_path.exists() {
        let (writer, opened) = journal::Writer::open_at_checkpoint::<Session>(
            &journal_path,
            &dir.join(journal::CHECKPOINT_FILE),
            session::MAX_REPLAY,
        )
        .map_err(|e| format!("{}: {e}", journal_path.display()))?;
        let journal::Reopened { contents, base, recent, warning, last_seq, checkpoint_seq: from } = opened;
        checkpoint_seq = from;
        if let Some(torn) = &contents.torn {
            warnings.push(format!("{}: {torn}; it was cut off", journal_path.display()));
        }
        warnings.extend(warning);
        let def = if contents.header.config == source {
            def
        } else {
            warnings.push(format!(
                "{shown} has changed since the session started; the session continues under the copy in its journal"
            ));
            config::parse_session(&contents.header.config)
                .map_err(|e| format!("{}: the session file in line 1: {e}", journal_path.display()))?
        };
        // From the checkpoint, only the events after it are folded.
        let state = match base {
            Some(mut state) => {
                for event in &contents.events {
                    domain::apply_quietly(&mut state, event);
                }
                domain::refresh_all_reasons(&mut state);
                state
            }
            None => Session::replay(def, &contents.events),
        };
        debug_assert_eq!(state.seq, last_seq);
        (state, writer, recent, true)
    } else {
        let writer = journal::Writer::create(&dir, &def.id, &source, settings.clock.now())
            .map_err(|e| format!("{}: {e}", journal_path.display()))?;
        (Session::new(def), writer, Vec::new(), false)
    };
    let def = state.def.clone();
    let tokens = Tokens::load_or_create(&dir, &def).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tokens = Arc::new(TokenStore::new(&dir, tokens));
    let report = OpenReport {
        session: def.id.clone(),
        title: def.title.clone(),
        events: usize::try_from(state.seq).unwrap_or(usize::MAX),
        resumed,
        warnings,
        leads: None,
    };
    let (handle, task) = session::spawn(
        state,
        session::Store::File(writer),
        &history,
        settings.broadcast_capacity,
        settings.clock.clone(),
        session::Serving {
            tokens: Some(tokens.clone()),
            checkpoints: session::Checkpoints { every: settings.checkpoint_every, last: checkpoint_seq },
            forum: Some((index, forum.clone())),
        },
    );
    Ok(Opened {
        entry: SessionEntry { index, def, handle, tokens, journal: JournalSource::File(journal_path) },
        task,
        report,
    })
}

/// Open (or recover) a session whose journal is in etcd: lead it if no hub does
/// (and continue its journal), else stand by, serving it read-only from etcd,
/// until it can lead it (see `session::Store::Standby`).
async fn open_session_etcd(
    data_dir: &Path,
    file: &Path,
    settings: &Settings,
    shared: &EtcdSettings,
    (index, forum): (usize, &forum::ForumHub),
) -> Result<Opened, String> {
    use journal::etcd::Campaign;
    let shown = file.display().to_string();
    let source = std::fs::read_to_string(file).map_err(|e| format!("{shown}: {e}"))?;
    let def = config::parse_session(&source).map_err(|e| e.render(&shown))?;
    let etcd = &shared.etcd;
    let id = def.id.clone();
    let dir = data_dir.join(&id);
    // A standby needs the journal and the tokens its leader keeps in etcd: a leader
    // that has only just won writes them at once.
    let mut told = false;
    let (stored_tokens, leads, leader) = loop {
        let campaign = journal::etcd::try_campaign(etcd, &id, &shared.lease, &shared.me).await?;
        let written = etcd
            .get(&journal::etcd::header_key(&id))
            .await
            .map_err(|e| format!("session {id} in etcd: {e}"))?
            .is_some();
        let stored = etcd
            .get(&journal::etcd::tokens_key(&id))
            .await
            .map_err(|e| format!("session {id}: its tokens in etcd: {e}"))?;
        let stored = stored.map(|kv| String::from_utf8_lossy(&kv.value).into_owned());
        match campaign {
            Campaign::Leads => break (stored, true, None),
            Campaign::Led(Some(leader)) if written && stored.is_some() => {
                log(&format!(
                    "session {id}: standing by (serving it read-only); hub {} at {} leads it",
                    leader.hub, leader.url
                ));
                break (stored, false, Some(leader));
            }
            Campaign::Led(leader) if !told => {
                let who = leader.map_or_else(|| "another hub".to_string(), |l| format!("hub {} at {}", l.hub, l.url));
                log(&format!("session {id}: waiting for {who}, which leads it, to write its journal"));
                told = true;
            }
            _ => {}
        }
        tokio::time::sleep(shared.lease.ttl / 8).await;
    };
    // From the checkpoint kept in etcd when one fits: a long session opens without
    // reading, or refolding, its whole journal.
    let opened = journal::etcd::open::<Session>(etcd, &id, session::MAX_REPLAY)
        .await
        .map_err(|e| format!("session {id} in etcd: {e}"))?;
    let mut warnings = Vec::new();
    let (state, history, continued) = match opened {
        Some(opened) => {
            warnings.extend(opened.warning);
            let def = if opened.header.config == source {
                def
            } else {
                warnings.push(format!(
                    "{shown} has changed since the session started; the session continues under the copy in its journal"
                ));
                config::parse_session(&opened.header.config)
                    .map_err(|e| format!("session {id} in etcd: the session file in its header: {e}"))?
            };
            let state = match opened.base {
                Some(mut state) => {
                    for event in &opened.events {
                        domain::apply_quietly(&mut state, event);
                    }
                    domain::refresh_all_reasons(&mut state);
                    state
                }
                None => Session::replay(def, &opened.events),
            };
            (state, opened.recent, Some((opened.last, opened.epoch, opened.checkpoint_seq)))
        }
        None => (Session::new(def), Vec::new(), None),
    };
    // The tokens: etcd's copy (every hub of the session accepts the same), laid in
    // the data directory, completed for participants without one, and shared again.
    if let Some(text) = &stored_tokens {
        let tokens: Tokens =
            toml::from_str(text).map_err(|e| format!("session {id}: its tokens in etcd do not read ({e})"))?;
        tokens.write(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let def = state.def.clone();
    let tokens = Tokens::load_or_create(&dir, &def).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tokens = Arc::new(TokenStore::new(&dir, tokens));
    let lease = shared.lease.clone();
    let checkpoint_seq = continued.as_ref().map_or(0, |(_, _, seq)| *seq);
    let resumed = continued.is_some();
    let store = match (leads, continued) {
        (false, Some((last, epoch, _))) => session::Store::Standby(journal::etcd::EtcdFollower::at(
            (etcd.clone(), lease, shared.me.clone()),
            &id,
            last,
            epoch,
            leader,
        )),
        (leads, continued) => {
            if !leads {
                return Err(format!("session {id}: its journal in etcd went away while this hub opened it"));
            }
            log(&format!("session {id}: this hub leads it (lease {:x})", shared.lease.id));
            let writer = match continued {
                Some((last, epoch, _)) => {
                    journal::etcd::EtcdWriter::continue_at(etcd.clone(), &id, lease, last, epoch).await?
                }
                None => {
                    journal::etcd::EtcdWriter::open(etcd.clone(), &id, lease, None, &source, settings.clock.now())
                        .await?
                }
            };
            let saved = journal::etcd::save_tokens(etcd, &id, &shared.lease, &tokens.to_toml())
                .await
                .map_err(|e| format!("session {id}: its tokens could not be kept in etcd: {e}"))?;
            if !saved {
                return Err(format!("session {id}: another hub took the lead while this one opened it"));
            }
            session::Store::Etcd(writer)
        }
    };
    let report = OpenReport {
        session: id.clone(),
        title: def.title.clone(),
        events: usize::try_from(state.seq).unwrap_or(usize::MAX),
        resumed,
        warnings,
        leads: Some(leads),
    };
    let (handle, task) = session::spawn(
        state,
        store,
        &history,
        settings.broadcast_capacity,
        settings.clock.clone(),
        session::Serving {
            tokens: Some(tokens.clone()),
            checkpoints: session::Checkpoints { every: settings.checkpoint_every, last: checkpoint_seq },
            forum: Some((index, forum.clone())),
        },
    );
    let journal = JournalSource::Etcd(etcd.clone(), id);
    Ok(Opened { entry: SessionEntry { index, def, handle, tokens, journal }, task, report })
}

/// Move a file journal into etcd (refused if etcd holds that session already),
/// with a checkpoint of its state, so that the hub that leads it next opens it
/// without refolding it. Returns the session's id and its number of events.
pub async fn import_into_etcd(etcd: &crate::etcd::Etcd, bytes: &[u8]) -> Result<(String, usize), String> {
    let (session, events) = journal::etcd::import(etcd, bytes).await?;
    if events == 0 {
        return Ok((session, events));
    }
    let owned = bytes.to_vec();
    let folded = tokio::task::spawn_blocking(move || {
        let contents = journal::read(owned.as_slice()).map_err(|e| e.to_string())?;
        let def =
            config::parse_session(&contents.header.config).map_err(|e| format!("the session file in line 1: {e}"))?;
        let last = (contents.events.last().map_or(0, |e| e.seq), contents.last_hash.clone());
        let state = Session::replay(def, &contents.events);
        let text = serde_json::to_vec(&state).map_err(|e| e.to_string())?;
        Ok::<_, String>((contents.header_hash, last, text))
    })
    .await
    .map_err(|e| format!("the journal's reader stopped ({e})"))?;
    let (epoch, (seq, hash), text) = folded?;
    // Without it the session is in etcd all the same: its first hub folds it.
    if let Err(e) = journal::etcd::write_checkpoint(etcd, &session, 0, &epoch, (seq, &hash), &text).await {
        log(&format!("session {session}: imported, but its checkpoint could not be kept in etcd ({e})"));
    }
    Ok((session, events))
}

/// A running hub.
pub struct Hub {
    pub addr: SocketAddr,
    /// "ws", or "wss" with TLS.
    pub scheme: &'static str,
    pub reports: Vec<OpenReport>,
    registry: Arc<Registry>,
    shutdown: watch::Sender<bool>,
    accept: JoinHandle<()>,
    sessions: Vec<JoinHandle<()>>,
    forum_task: JoinHandle<()>,
}

/// A join URL for one role of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinUrl {
    pub session: String,
    pub role: String,
    pub url: String,
    /// A person's own URL (their credential): their name. Private, like the chair's.
    pub person: Option<String>,
}

impl Hub {
    /// Open every session file and start listening on `listen` (e.g. "127.0.0.1:0").
    pub async fn start(listen: &str, data_dir: &Path, files: &[PathBuf], settings: Settings) -> Result<Self, String> {
        if files.is_empty() {
            return Err("give at least one session file".to_string());
        }
        let forum_file = || data_dir.join(tokens::FORUM_FILE_NAME).display().to_string();
        let mut forum_tokens = ForumTokens::load_or_create(data_dir).map_err(|e| format!("{}: {e}", forum_file()))?;
        // On etcd, every hub of the forum takes the same tokens (the first hub's).
        if let Some(shared) = &settings.etcd {
            let mine = toml::to_string(&forum_tokens).map_err(|e| e.to_string())?;
            let stored = journal::etcd::forum_tokens(&shared.etcd, &mine)
                .await
                .map_err(|e| format!("etcd: the forum's tokens: {e}"))?;
            if stored != mine {
                forum_tokens = toml::from_str(&stored).map_err(|e| format!("etcd: the forum's tokens: {e}"))?;
                forum_tokens.save(data_dir).map_err(|e| format!("{}: {e}", forum_file()))?;
            }
        }
        let (forum, forum_task) = forum::ForumHub::spawn(files.len());
        let mut registry = HashMap::new();
        let mut reports = Vec::new();
        let mut sessions = Vec::new();
        // With etcd, each session is led by the first hub to claim it; the others
        // serve it read-only and take it over when its leader is gone.
        for (index, file) in files.iter().enumerate() {
            let opened = match &settings.etcd {
                None => open_session(data_dir, file, &settings, (index, &forum)),
                Some(shared) => open_session_etcd(data_dir, file, &settings, shared, (index, &forum)).await,
            };
            let opened = match opened {
                Ok(opened) => opened,
                Err(e) => {
                    forum.stop();
                    return Err(e);
                }
            };
            let id = opened.entry.def.id.clone();
            if registry.contains_key(&id) {
                return Err(format!("{}: session id \"{id}\" is given twice", file.display()));
            }
            reports.push(opened.report);
            sessions.push(opened.task);
            registry.insert(id, opened.entry);
        }
        let listener = match TcpListener::bind(listen).await {
            Ok(listener) => listener,
            Err(e) => {
                for entry in registry.values() {
                    entry.handle.stop().await;
                }
                forum.stop();
                return Err(format!("cannot listen on {listen}: {e}"));
            }
        };
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let registry = Arc::new(Registry { sessions: registry, forum, forum_tokens });
        let (shutdown, watch_rx) = watch::channel(false);
        let scheme = if settings.tls.is_some() { "wss" } else { "ws" };
        let accept = tokio::spawn(accept_loop(listener, registry.clone(), Arc::new(settings), watch_rx));
        Ok(Self { addr, scheme, reports, registry, shutdown, accept, sessions, forum_task })
    }

    /// The forum's URL (every session on the secretariat's console, `rostrum forum`),
    /// with the secretariat's token.
    pub fn forum_url(&self) -> String {
        format!("{}://{}/v1/forum?token={}", self.scheme, self.addr, self.registry.forum_tokens.secretariat)
    }

    /// The forum's tokens (the secretariat's and the forum observer's).
    pub fn forum_tokens(&self) -> ForumTokens {
        self.registry.forum_tokens.clone()
    }

    /// Join URLs (with tokens) of every session; delegate URLs are in tokens.toml.
    pub fn join_urls(&self) -> Vec<JoinUrl> {
        let mut urls = Vec::new();
        let mut ids: Vec<&String> = self.registry.sessions.keys().collect();
        ids.sort();
        for id in ids {
            let entry = &self.registry.sessions[id];
            let tokens = entry.tokens.get();
            let base = format!("{}://{}/v1/sessions/{id}", self.scheme, self.addr);
            for (role, token) in
                [("chair", &tokens.chair), ("rapporteur", &tokens.rapporteur), ("observer", &tokens.observer)]
            {
                urls.push(JoinUrl {
                    session: id.clone(),
                    role: role.to_string(),
                    url: format!("{base}?token={token}"),
                    person: None,
                });
            }
            // Each person the session file names: their own URL, so the record says who did what.
            for (role, person) in entry.def.people() {
                if let Some(token) = tokens.people.get(&person.id) {
                    urls.push(JoinUrl {
                        session: id.clone(),
                        role: role.label().to_string(),
                        url: format!("{base}?token={token}"),
                        person: Some(person.name.clone()),
                    });
                }
            }
            // The room's screens, in a browser: public on an open session, else with
            // the observer's token (the page takes it out of the address at once).
            let web = if self.scheme == "wss" { "https" } else { "http" };
            let page = format!("{web}://{}/v1/sessions/{id}", self.addr);
            let token = if entry.def.observers_open { String::new() } else { format!("?token={}", tokens.observer) };
            for page_name in ["display", "speaker", "report"] {
                urls.push(JoinUrl {
                    session: id.clone(),
                    role: page_name.into(),
                    url: format!("{page}/{page_name}{token}"),
                    person: None,
                });
            }
        }
        urls
    }

    /// The tokens of a session as they are now (for embedding clients and tests).
    pub fn tokens(&self, session: &str) -> Option<Tokens> {
        self.registry.sessions.get(session).map(|e| e.tokens.get())
    }

    /// A handle to a session's task, for in-process clients.
    pub fn session(&self, session: &str) -> Option<SessionHandle> {
        self.registry.sessions.get(session).map(|e| e.handle.clone())
    }

    /// What the operator needs on start: sessions opened and how to join them.
    pub fn banner(&self, data_dir: &Path) -> String {
        let mut out = String::new();
        for r in &self.reports {
            let how = if r.resumed { format!("resumed after {} events", r.events) } else { "new".to_string() };
            let _ = writeln!(out, "session {} ({how}): {}", r.session, r.title);
            for w in &r.warnings {
                let _ = writeln!(out, "  warning: {w}");
            }
        }
        // On etcd: which sessions this hub leads, and which it serves read-only until it does.
        for r in &self.reports {
            match r.leads {
                Some(true) => {
                    let _ = writeln!(out, "leading session {}", r.session);
                }
                Some(false) => {
                    let _ = writeln!(
                        out,
                        "standing by for session {}: serving it read-only; commands go to its leading hub",
                        r.session
                    );
                }
                None => {}
            }
        }
        let _ = writeln!(out, "listening on {}://{}", self.scheme, self.addr);
        for u in self.join_urls() {
            // A person's own URL says whose it is (the shared role's says nothing more).
            match &u.person {
                Some(person) => {
                    let _ = writeln!(out, "  {:<11} {} ({person}'s own)", u.role, u.url);
                }
                None => {
                    let _ = writeln!(out, "  {:<11} {}", u.role, u.url);
                }
            }
        }
        for r in &self.reports {
            let _ = writeln!(
                out,
                "  delegates   one token per participant in {}",
                data_dir.join(&r.session).join(tokens::FILE_NAME).display()
            );
        }
        // The secretariat's console: every session on one screen.
        let _ = writeln!(out, "  {:<11} {}", "forum", self.forum_url());
        let _ = writeln!(
            out,
            "  every session on one screen: rostrum forum '{}' (the forum's tokens are in {})",
            self.forum_url(),
            data_dir.join(tokens::FORUM_FILE_NAME).display()
        );
        out
    }

    /// Stop accepting, let each session finish writing and broadcasting what it
    /// accepted, then close every connection with "going away" (a session's end
    /// ends its live stream, which is how its connections learn of it), and return.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for entry in self.registry.sessions.values() {
            entry.handle.stop().await;
        }
        for task in self.sessions {
            let _ = task.await;
        }
        // The forum's consoles are told as the sessions' connections are.
        self.registry.forum.stop();
        let _ = self.forum_task.await;
        let _ = self.accept.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    registry: Arc<Registry>,
    settings: Arc<Settings>,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little, go on.
                        log(&format!("accept failed: {e}"));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let permit = permits.clone().try_acquire_owned().ok();
                let registry = registry.clone();
                let settings = settings.clone();
                // Two tasks of their own sizes: a plain connection's task does not
                // carry room for TLS state.
                match settings.tls.clone() {
                    None => {
                        connections.spawn(conn::serve(stream, peer, registry, settings, permit));
                    }
                    Some(tls) => {
                        connections.spawn(async move {
                            // The TLS handshake is bounded like the websocket one.
                            let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                            let limit = settings.handshake_timeout;
                            if let Ok(Ok(stream)) = tokio::time::timeout(limit, acceptor.accept(stream)).await {
                                conn::serve(stream, peer, registry, settings, permit).await;
                            }
                        });
                    }
                }
            }
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain).await.is_err() {
        connections.abort_all();
    }
}

/// Run a hub until Ctrl+C or SIGTERM, then shut it down gracefully.
pub async fn run(listen: &str, data_dir: &Path, files: &[PathBuf], settings: Settings) -> Result<(), String> {
    let lease = settings.etcd.as_ref().map(|e| e.lease.clone());
    let hub = Hub::start(listen, data_dir, files, settings).await?;
    print!("{}", hub.banner(data_dir));
    {
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    log(&format!("listening on {}", hub.addr));
    let deposed = async {
        match &lease {
            Some(lease) => {
                while lease.held() || !lease.lost() && lease_may_recover(lease).await {
                    tokio::time::sleep(lease.ttl / 8).await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    };
    let lost = tokio::select! {
        () = wait_for_signal() => false,
        () = deposed => true,
    };
    if lost {
        log("this hub lost its lease: another hub may lead its sessions now; it stops (start it again to stand by)");
        hub.shutdown().await;
        return Err("the hub lost its lease on its sessions and stopped accepting commands".to_string());
    }
    log("shutting down: closing connections, finishing journal writes");
    hub.shutdown().await;
    log("stopped");
    Ok(())
}

/// A lease not renewed for a while may be renewed yet (etcd lost its quorum for a
/// moment, or is electing a leader): wait up to twice its TTL (at least 5 s) for
/// that before giving it up. Meanwhile commands are refused (`unavailable`).
async fn lease_may_recover(lease: &crate::etcd::Lease) -> bool {
    let until = tokio::time::Instant::now() + (lease.ttl * 2).max(Duration::from_secs(5));
    while tokio::time::Instant::now() < until {
        if lease.held() {
            return true;
        }
        if lease.lost() {
            return false;
        }
        tokio::time::sleep(lease.ttl / 16).await;
    }
    lease.mark_lost();
    false
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let ctrl_c = tokio::signal::ctrl_c();
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
