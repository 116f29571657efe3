//! Terminal screens. Each screen (chair, rapporteur, delegate, replay) is a module
//! with its own state, messages, pure `update` and view, built from the shared
//! `widgets`; none imports another. The run loop here is the only place with
//! terminal IO: it turns keys, mouse, network events and ticks into [`live::Msg`]s,
//! applies the screen's `update`, performs the effects, and redraws only when
//! something changed (the clock once a second).

pub mod chair;
pub mod delegate;
pub mod forum;
pub mod keymap;
pub mod live;
pub mod rapporteur;
pub mod replay;
#[cfg(test)]
mod testkit;
pub mod widgets;

use std::io::{self, Stdout};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use futures_util::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::{Frame, Terminal};

use crate::client::link::{self, LinkCommand};
use crate::client::outbox::Outbox;
use crate::hub::{self, Hub, Settings};
use chair::Chair;
use keymap::{Keymap, Screen};
use live::{Effect, Live, Msg};
use rapporteur::Rapporteur;

/// A screen connected to a hub, as the run loop drives it: messages in, effects
/// out, and a pure view.
pub trait LiveScreen {
    fn update(&mut self, msg: Msg) -> Vec<Effect>;
    fn render(&self, frame: &mut Frame);
    fn live(&self) -> &Live;
    fn live_mut(&mut self) -> &mut Live;
    /// No popup, question or editor is open: `Esc` may go back to the forum's console.
    fn idle(&self) -> bool {
        true
    }
}

impl LiveScreen for Chair {
    fn update(&mut self, msg: Msg) -> Vec<Effect> {
        chair::update(self, msg)
    }
    fn render(&self, frame: &mut Frame) {
        chair::view::render(self, frame);
    }
    fn live(&self) -> &Live {
        &self.live
    }
    fn live_mut(&mut self) -> &mut Live {
        &mut self.live
    }
    fn idle(&self) -> bool {
        self.mode == chair::Mode::Normal
    }
}

impl LiveScreen for Rapporteur {
    fn update(&mut self, msg: Msg) -> Vec<Effect> {
        rapporteur::update(self, msg)
    }
    fn render(&self, frame: &mut Frame) {
        rapporteur::view::render(self, frame);
    }
    fn live(&self) -> &Live {
        &self.live
    }
    fn live_mut(&mut self) -> &mut Live {
        &mut self.live
    }
    fn idle(&self) -> bool {
        self.mode == rapporteur::Mode::Normal
    }
}

impl LiveScreen for delegate::Delegate {
    fn update(&mut self, msg: Msg) -> Vec<Effect> {
        delegate::update(self, msg)
    }
    fn render(&self, frame: &mut Frame) {
        delegate::view::render(self, frame);
    }
    fn live(&self) -> &Live {
        &self.live
    }
    fn live_mut(&mut self) -> &mut Live {
        &mut self.live
    }
}

/// Where a chair screen gets its session.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start a hub in this process on a session file.
    File(PathBuf),
    /// Join a hub elsewhere (the token may also be in the URL's query).
    Url { url: String, token: Option<String> },
}

#[derive(Debug, Clone)]
pub struct ChairOptions {
    pub target: Target,
    pub data: PathBuf,
    /// The embedded hub's address; by default the one it had last time (kept in
    /// the session's data directory), else a free port on 127.0.0.1.
    pub listen: Option<String>,
    pub keys: Option<PathBuf>,
    /// On the embedded hub: chair as this person of the session file (their own
    /// credential, so the record names them), not with the shared chair token.
    pub person: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RapporteurOptions {
    pub url: String,
    pub token: Option<String>,
    /// The name notes are signed with.
    pub name: String,
    /// Where saved notes wait for the hub; by default `rostrum-outbox-SESSION-NAME.jsonl`.
    pub outbox: Option<PathBuf>,
    pub keys: Option<PathBuf>,
}

static RESTORED: AtomicBool = AtomicBool::new(true);
/// The thread that owns the screen: only its panics end the screen (a task of the
/// embedded hub that panics is caught by tokio, and must not break the terminal).
static UI_THREAD: std::sync::OnceLock<std::thread::ThreadId> = std::sync::OnceLock::new();

/// Give the terminal back: idempotent, safe from a panic hook.
fn restore_terminal() {
    if RESTORED.swap(true, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), DisableMouseCapture, LeaveAlternateScreen, crossterm::cursor::Show);
}

/// Owns the terminal while a screen runs; restores it on drop (errors and Ctrl+C included).
struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    fn new() -> io::Result<Self> {
        // The hook first, so a panic during set-up restores the terminal too.
        let _ = UI_THREAD.set(std::thread::current().id());
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if UI_THREAD.get() == Some(&std::thread::current().id()) {
                restore_terminal();
            }
            previous(info);
        }));
        RESTORED.store(false, Ordering::SeqCst);
        let set_up = || -> io::Result<Terminal<CrosstermBackend<Stdout>>> {
            enable_raw_mode()?;
            execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
            Terminal::new(CrosstermBackend::new(io::stdout()))
        };
        match set_up() {
            Ok(terminal) => Ok(Self { terminal }),
            Err(e) => {
                restore_terminal();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// What the screen shows that changes with time alone: redraw when it changes.
fn clock_key(live: &Live) -> i64 {
    live.hub_now().timestamp()
}

/// Percent-encode a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A session URL with `name=` added to its query.
fn with_name(url: &str, name: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}name={}", encode(name))
}

/// The session id in a `ws://` or `wss://HOST/v1/sessions/ID?...` URL.
pub fn session_of_url(url: &str) -> Option<&str> {
    let path = url.split('?').next()?;
    path.rsplit('/').next().filter(|id| !id.is_empty())
}

/// Where the embedded hub of a session keeps its address between runs.
pub const ADDRESS_FILE: &str = "address";

/// The address the embedded hub listens on: `--listen`, else the last run's, else a free port.
fn embedded_address(options: &ChairOptions, file: &Path) -> (String, Option<PathBuf>) {
    if let Some(listen) = &options.listen {
        return (listen.clone(), None);
    }
    let id = std::fs::read_to_string(file).ok().and_then(|text| crate::config::parse_session(&text).ok()).map(|d| d.id);
    let Some(id) = id else { return ("127.0.0.1:0".to_string(), None) };
    let path = options.data.join(id).join(ADDRESS_FILE);
    let kept = std::fs::read_to_string(&path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    (kept.unwrap_or_else(|| "127.0.0.1:0".to_string()), Some(path))
}

/// The chair screen, until the chair quits.
pub fn chair(options: ChairOptions) -> Result<(), String> {
    let keymap = Keymap::load(options.keys.as_deref().or(default_keys_file().as_deref()), Screen::Chair)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let mut notes = Vec::new();
        let (hub, url, token, join, first_run) = match &options.target {
            Target::File(file) => {
                if !file.exists() {
                    return Err(format!(
                        "{}: no such session file; a chair target is a session file (TOML) or a hub's session URL, ws://HOST:PORT/v1/sessions/ID",
                        file.display()
                    ));
                }
                hub::log_to_file(&options.data.join("hub.log"))
                    .map_err(|e| format!("{}: {e}", options.data.display()))?;
                let (listen, address_file) = embedded_address(&options, file);
                let settings = || Settings::default();
                let started = match Hub::start(&listen, &options.data, std::slice::from_ref(file), settings()).await {
                    Ok(hub) => hub,
                    // The last run's port is taken: a free one, and say so.
                    Err(e) if address_file.is_some() && listen != "127.0.0.1:0" => {
                        notes.push(format!("could not listen on {listen} again ({e}); clients must use the new address"));
                        Hub::start("127.0.0.1:0", &options.data, std::slice::from_ref(file), settings()).await?
                    }
                    Err(e) => return Err(e),
                };
                let report = started.reports.first().cloned().ok_or("no session opened")?;
                let tokens = started.tokens(&report.session).ok_or("no tokens")?.clone();
                let url = format!("{}://{}/v1/sessions/{}", started.scheme, started.addr, report.session);
                let join = started.join_urls();
                let first_run = !report.resumed;
                if let Some(path) = address_file
                    && let Err(e) = std::fs::write(&path, format!("{}\n", started.addr))
                {
                    notes.push(format!("{}: {e}", path.display()));
                }
                let token = match &options.person {
                    None => tokens.chair,
                    Some(person) => match tokens.people.get(person) {
                        Some(token) => token.clone(),
                        None => {
                            let listed: Vec<String> = tokens.people.keys().cloned().collect();
                            started.shutdown().await;
                            return Err(format!(
                                "--as {person}: the session file names no such person; its people are: {}",
                                if listed.is_empty() { "none ([[chairs]] and [[officers]] name them)".to_string() } else { listed.join(", ") }
                            ));
                        }
                    },
                };
                (Some(started), url, Some(token), join, first_run)
            }
            Target::Url { url, token } => (None, url.clone(), token.clone(), Vec::new(), false),
        };
        let link = link::spawn(with_name(&url, "chair"), token);
        let mut app = Chair::new(keymap, join.clone(), Utc::now());
        if let Some(session) = session_of_url(&url)
            && hub.is_some()
        {
            app.delegate_tokens =
                Some(options.data.join(session).join(hub::tokens::FILE_NAME).display().to_string());
        }
        if first_run {
            app = app.show_join();
        }
        // What the hub found on opening (a torn journal tail cut, a changed session file).
        let mut warnings: Vec<String> =
            hub.iter().flat_map(|h| h.reports.iter().flat_map(|r| r.warnings.clone())).collect();
        warnings.extend(notes);
        for warning in &warnings {
            hub::log(&format!("warning: {warning}"));
        }
        if !warnings.is_empty() {
            app.live.error(format!("warning: {}", warnings.join("; ")));
        }
        let peers = hub.as_ref().and_then(|h| session_of_url(&url).and_then(|s| h.session(s)));
        let result = run_screen(Runner { app, link, outbox: None, peers }).await;
        if let Some(hub) = hub {
            hub.shutdown().await;
        }
        if !join.is_empty() {
            println!("The session's hub has stopped. Its join URLs (the same next time you chair this session):");
            // As the join panel shows them: everyone's but the chairs' own (private, `W`).
            for u in join.iter().filter(|u| u.role != "chair") {
                match &u.person {
                    Some(name) => println!("  {:<11} {name}: {}", u.role, u.url),
                    None => println!("  {:<11} {}", u.role, u.url),
                }
            }
            if let Some(session) = session_of_url(&url) {
                let tokens = options.data.join(session).join(hub::tokens::FILE_NAME);
                println!("  delegates   one token per participant in {}", tokens.display());
            }
        }
        result
    })
}

/// The rapporteur screen, until the rapporteur quits. Notes wait in the outbox
/// file until the hub has them.
pub fn rapporteur(options: RapporteurOptions) -> Result<(), String> {
    let keymap = Keymap::load(options.keys.as_deref().or(default_keys_file().as_deref()), Screen::Rapporteur)?;
    let session = session_of_url(&options.url).ok_or("the URL names no session: ws://HOST:PORT/v1/sessions/ID")?;
    let path = options.outbox.clone().unwrap_or_else(|| {
        let name: String = options.name.chars().map(|c| if c.is_alphanumeric() { c } else { '-' }).collect();
        PathBuf::from(format!("rostrum-outbox-{session}-{name}.jsonl"))
    });
    let outbox = Outbox::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let runner = Runner::rapporteur(keymap, &options.url, options.token.clone(), &options.name, outbox)?;
        let waiting = runner.app.outbox.len();
        let result = run_screen(runner).await;
        if waiting > 0 || result.is_err() {
            println!("Outbox: {}", path.display());
        }
        result
    })
}

/// A screen with its link to the hub and (for a rapporteur) its outbox: performs
/// the effects of `update`. The terminal loop and the tests drive it the same way.
pub struct Runner<S: LiveScreen> {
    pub app: S,
    pub link: link::Link,
    pub outbox: Option<Outbox>,
    /// The embedded hub's session, to count the other clients (the chair's own hub).
    pub peers: Option<hub::SessionHandle>,
}

impl Runner<Rapporteur> {
    /// A rapporteur's runner: connects, and loads what the outbox still holds.
    pub fn rapporteur(
        keymap: Keymap,
        url: &str,
        token: Option<String>,
        name: &str,
        outbox: Outbox,
    ) -> Result<Self, String> {
        let mut app = Rapporteur::new(keymap, Utc::now());
        app.outbox = outbox.pending().to_vec();
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for note ids: {e}"))?;
        app.client_prefix = hex::encode(bytes);
        let link = link::spawn(with_name(url, name), token);
        Ok(Self { app, link, outbox: Some(outbox), peers: None })
    }
}

impl<S: LiveScreen> Runner<S> {
    /// A screen's runner without an outbox.
    pub fn new(app: S, url: &str, token: Option<String>, name: &str) -> Self {
        let link = link::spawn(with_name(url, name), token);
        Self { app, link, outbox: None, peers: None }
    }

    /// Apply a message and perform its effects; `Ok(true)` when the screen should close.
    pub async fn handle(&mut self, msg: Msg) -> Result<bool, String> {
        let mut queue = std::collections::VecDeque::from([msg]);
        while let Some(msg) = queue.pop_front() {
            for effect in self.app.update(msg) {
                match effect {
                    Effect::Quit => return Ok(true),
                    Effect::Fail(reason) => return Err(reason),
                    Effect::Send { id, command } => {
                        if self.link.commands.send(LinkCommand::Send { id, command }).await.is_err() {
                            return Err("the connection task stopped".to_string());
                        }
                    }
                    Effect::Resync { since } => {
                        let _ = self.link.commands.send(LinkCommand::Resync { since }).await;
                    }
                    Effect::Save(saved) => {
                        let result = match self.outbox.as_mut() {
                            Some(outbox) => outbox.add(saved.clone()).map_err(|e| e.to_string()),
                            None => Err("this screen has no outbox".to_string()),
                        };
                        queue.push_back(match result {
                            Ok(()) => Msg::Saved(saved),
                            Err(e) => Msg::SaveFailed(e),
                        });
                    }
                    Effect::Ack(id) => {
                        if let Some(outbox) = self.outbox.as_mut()
                            && let Err(e) = outbox.ack(&id)
                        {
                            queue.push_back(Msg::SaveFailed(format!("outbox: {e}")));
                        }
                    }
                }
            }
        }
        Ok(false)
    }

    /// The next event from the hub link, as a message.
    pub async fn next_link(&mut self) -> Option<Msg> {
        self.link.events.recv().await.map(Msg::Link)
    }
}

/// The delegate's screen, until the delegate quits.
pub fn delegate(url: &str, token: Option<String>, keys: Option<&Path>) -> Result<(), String> {
    let keymap = Keymap::load(keys.or(default_keys_file().as_deref()), Screen::Delegate)?;
    session_of_url(url).ok_or("the URL names no session: ws://HOST:PORT/v1/sessions/ID")?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let app = delegate::Delegate::new(keymap, Utc::now());
        run_screen(Runner::new(app, url, token, "delegate")).await
    })
}

/// The replay screen, until its user quits.
///
/// With `follow`, the journal is one a hub is still writing: the screen starts at
/// its end and shows new events as they are recorded (read-only, no token needed).
pub fn replay(log: &Path, verify: bool, follow: bool, keys: Option<&Path>, etcd: Option<&str>) -> Result<(), String> {
    let keymap = Keymap::load(keys.or(default_keys_file().as_deref()), Screen::Replay)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    let shown = log.display().to_string();
    let (player, follower) = match etcd {
        // A session kept in etcd: LOG is its id.
        Some(endpoints) => {
            let etcd = std::sync::Arc::new(crate::etcd::Etcd::new(endpoints)?);
            let session = shown.clone();
            let contents = runtime
                .block_on(crate::journal::etcd::load(&etcd, &session))
                .map_err(|e| format!("session {session} in etcd: {e}"))?
                .ok_or_else(|| format!("etcd at {endpoints} holds no journal of session \"{session}\""))?;
            let last = (contents.events.last().map_or(0, |e| e.seq), contents.last_hash.clone());
            let follower = follow.then(|| {
                let (tx, rx) = tokio::sync::mpsc::channel(64);
                let reader = crate::journal::etcd::Reader::after(etcd, &session, last);
                runtime.spawn(read_etcd(reader, tx));
                replay::Follow::Etcd(rx)
            });
            (crate::replay::Player::new(contents, true)?, follower)
        }
        // Opened as any replay is (from the hub's checkpoint, no events kept), then
        // followed from the end of what was read.
        None if follow => {
            let player = crate::replay::Player::open_live(log)?;
            let end =
                player.end_of_file().ok_or_else(|| format!("{shown}: its end could not be found to follow it"))?;
            let follower = crate::journal::Follower::at(log, end, player.len());
            (player, Some(replay::Follow::File(follower)))
        }
        None => (crate::replay::Player::open(log, verify)?, None),
    };
    if player.is_empty() && follower.is_none() {
        return Err(format!("{shown}: the journal holds no events yet (--follow waits for them)"));
    }
    runtime.block_on(async move {
        let mut app = replay::ReplayApp::new(player, keymap, Utc::now());
        if let Some(follower) = follower {
            app = app.following(follower, Utc::now());
        }
        app.no_color = no_color();
        let mut guard = TerminalGuard::new().map_err(|e| format!("cannot open the terminal: {e}"))?;
        let mut events = EventStream::new();
        let mut ticker = tokio::time::interval(Duration::from_millis(100));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut dirty = true;
        let mut drawn = (usize::MAX, i64::MIN);
        loop {
            let key = (app.cursor, app.now.timestamp());
            if dirty || key != drawn {
                guard.terminal.draw(|frame| replay::view::render(&app, frame)).map_err(|e| e.to_string())?;
                drawn = key;
                dirty = false;
            }
            let msg = tokio::select! {
                event = events.next() => match event {
                    Some(Ok(Event::Key(key))) => Msg::Key(key),
                    Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(format!("terminal input failed: {e}")),
                    None => return Ok(()),
                },
                _ = ticker.tick() => Msg::Tick(Utc::now()),
                _ = terminate.recv() => return Ok(()),
            };
            let tick = matches!(msg, Msg::Tick(_));
            if replay::update(&mut app, msg) {
                return Ok(());
            }
            dirty |= !tick;
        }
    })
}

/// `replay --follow --etcd`: read the session's journal in etcd as it grows (every
/// half second, as a file is, at once again after a batch) and hand the events
/// over. etcd not answering is waited out, said after a few tries and when it
/// answers again; a line that does not chain ends the following, said once.
async fn read_etcd(mut reader: crate::journal::etcd::Reader, events: tokio::sync::mpsc::Sender<replay::FromEtcd>) {
    use replay::FromEtcd;
    let mut failures = 0u32;
    loop {
        let read = match reader.poll().await {
            Ok(new) => {
                if failures >= 3 {
                    let back = FromEtcd::Notice("etcd answers again: following live".to_string());
                    if events.send(back).await.is_err() {
                        return;
                    }
                }
                failures = 0;
                // A batch may have left more to read: read again at once.
                if !new.is_empty() {
                    if events.send(FromEtcd::Events(new)).await.is_err() {
                        return;
                    }
                    continue;
                }
                None
            }
            Err(crate::journal::etcd::LoadError::Etcd(e)) => {
                failures += 1;
                // Said once, after about 1.5 s of silence.
                (failures == 3).then(|| FromEtcd::Notice(format!("{e}: the screen may be behind; still trying")))
            }
            Err(e) => {
                let _ = events.send(FromEtcd::Stopped(e.to_string())).await;
                return;
            }
        };
        if let Some(notice) = read
            && events.send(notice).await.is_err()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn default_keys_file() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".config/rostrum/keys.toml");
    path.exists().then_some(path)
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

async fn run_screen<S: LiveScreen>(mut runner: Runner<S>) -> Result<(), String> {
    runner.app.live_mut().no_color = no_color();
    let mut guard = TerminalGuard::new().map_err(|e| format!("cannot open the terminal: {e}"))?;
    let mut events = EventStream::new();
    drive(&mut guard, &mut events, &mut runner, None).await.map(drop)
}

/// How a screen's loop ended.
enum Exit {
    /// Quit (or the terminal closed).
    Quit,
    /// Back to the forum's console, with what to say there.
    Back(Option<String>),
}

/// The console a session's screen was opened from: kept up to date meanwhile.
struct Behind<'a> {
    console: &'a mut forum::Console,
    link: &'a mut link::Link,
}

/// Run a screen until it quits. Opened from the forum's console (`behind`), the
/// console's link is read meanwhile, and `Esc` with nothing open, the screen's
/// own quit, or its failure go back to the console.
async fn drive<S: LiveScreen>(
    guard: &mut TerminalGuard,
    events: &mut EventStream,
    runner: &mut Runner<S>,
    mut behind: Option<Behind<'_>>,
) -> Result<Exit, String> {
    let size = guard.terminal.size().map_err(|e| e.to_string())?;
    runner.app.live_mut().size = (size.width, size.height);
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut drawn_clock = i64::MIN;
    let mut ticks: u64 = 0;
    let mut told_back = false;
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut hangup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let back = behind.is_some();
    loop {
        if dirty || clock_key(runner.app.live()) != drawn_clock {
            guard.terminal.draw(|frame| runner.app.render(frame)).map_err(|e| e.to_string())?;
            drawn_clock = clock_key(runner.app.live());
            dirty = false;
        }
        let console_event = async {
            match behind.as_mut() {
                Some(b) => b.link.events.recv().await,
                None => std::future::pending().await,
            }
        };
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    if back
                        && key.kind == crossterm::event::KeyEventKind::Press
                        && key.code == crossterm::event::KeyCode::Esc
                        && runner.app.idle()
                    {
                        return Ok(Exit::Back(None));
                    }
                    // Who else the embedded hub serves, as of this key (quitting asks by it).
                    if let Some(handle) = &runner.peers
                        && runner.handle(Msg::Peers(handle.connections().saturating_sub(1))).await?
                    {
                        return Ok(Exit::Quit);
                    }
                    Msg::Key(key)
                }
                Some(Ok(Event::Mouse(mouse))) => Msg::Mouse(mouse),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("terminal input failed: {e}")),
                None => return Ok(Exit::Quit),
            },
            msg = runner.next_link() => match msg {
                Some(msg) => msg,
                None => return Err("the connection task stopped".to_string()),
            },
            Some(event) = console_event => {
                if let Some(b) = behind.as_mut() {
                    forum::update(b.console, Msg::Link(event));
                }
                continue;
            }
            _ = ticker.tick() => {
                ticks += 1;
                // Once a second, how many others the embedded hub serves (for quitting).
                match &runner.peers {
                    Some(handle) if ticks.is_multiple_of(5) => Msg::Peers(handle.connections().saturating_sub(1)),
                    _ => Msg::Tick(Utc::now()),
                }
            }
            // Killed or the terminal closed: leave cleanly (the guard restores the terminal).
            _ = terminate.recv() => return Ok(Exit::Quit),
            _ = hangup.recv() => return Ok(Exit::Quit),
        };
        let is_tick = matches!(msg, Msg::Tick(_) | Msg::Peers(_));
        match runner.handle(msg).await {
            Ok(true) if back => return Ok(Exit::Back(None)),
            Ok(true) => return Ok(Exit::Quit),
            Ok(false) => {}
            Err(e) if back => return Ok(Exit::Back(Some(e))),
            Err(e) => return Err(e),
        }
        // Opened from the console: say once how to go back.
        if back && !told_back && runner.app.live().link == live::LinkStatus::Connected {
            told_back = true;
            runner.app.live_mut().info("connected to the hub · Esc goes back to the forum's console");
        }
        if !is_tick {
            dirty = true;
        }
    }
}

/// Where the forum's console gets its sessions.
#[derive(Debug, Clone)]
pub enum ForumTarget {
    /// A hub's forum: ws://HOST:PORT/v1/forum (a token may be in its query).
    Url { url: String, token: Option<String> },
    /// Start a hub in this process on these session files; its forum on the console.
    Files { files: Vec<PathBuf>, data: PathBuf, listen: String },
}

#[derive(Debug, Clone)]
pub struct ForumOptions {
    pub target: ForumTarget,
    pub keys: Option<PathBuf>,
}

/// The secretariat's console, until it quits: every session of a hub; `Enter`
/// opens one (the chair's screen with the secretariat's token, the rapporteur's
/// read-only with the forum observer's), and leaving it comes back here.
pub fn forum(options: ForumOptions) -> Result<(), String> {
    let user = options.keys.as_deref().map(Path::to_path_buf).or_else(default_keys_file);
    let keymap = Keymap::load(user.as_deref(), Screen::Forum)?;
    let chair_keys = Keymap::load(user.as_deref(), Screen::Chair)?;
    let rapporteur_keys = Keymap::load(user.as_deref(), Screen::Rapporteur)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let (hub, url, given) = match &options.target {
            ForumTarget::Url { url, token } => (None, url.clone(), token.clone()),
            ForumTarget::Files { files, data, listen } => {
                hub::log_to_file(&data.join("hub.log")).map_err(|e| format!("{}: {e}", data.display()))?;
                let started = Hub::start(listen, data, files, Settings::default())
                    .await
                    .map_err(|e| format!("{e} (another hub there? --listen ADDR chooses another address)"))?;
                let url = started.forum_url();
                (Some(started), url, None)
            }
        };
        // The token opens the sessions too: from --token, else from the URL.
        let token = given.clone().or_else(|| {
            let query = url.split_once('?')?.1;
            query.split('&').find_map(|p| p.strip_prefix("token=")).map(str::to_string)
        });
        let result = forum_screens(&url, given, token, keymap, chair_keys, rapporteur_keys, hub.is_some()).await;
        if let Some(hub) = hub {
            let address = hub.forum_url().split('?').next().unwrap_or_default().to_string();
            hub.shutdown().await;
            if let ForumTarget::Files { data, .. } = &options.target {
                println!(
                    "The forum's hub at {address} has stopped; its tokens are in {}.",
                    data.join(hub::tokens::FORUM_FILE_NAME).display()
                );
            }
        }
        result
    })
}

/// The console and the sessions' screens opened from it, on one terminal.
async fn forum_screens(
    url: &str,
    given: Option<String>,
    token: Option<String>,
    keymap: Keymap,
    chair_keys: Keymap,
    rapporteur_keys: Keymap,
    embedded: bool,
) -> Result<(), String> {
    {
        let mut link = link::spawn(url.to_string(), given);
        let mut console = forum::Console::new(keymap, url, Utc::now());
        console.no_color = no_color();
        console.embedded = embedded;
        let mut guard = TerminalGuard::new().map_err(|e| format!("cannot open the terminal: {e}"))?;
        let mut events = EventStream::new();
        loop {
            let Some((session, chair)) = drive_console(&mut guard, &mut events, &mut console, &mut link).await? else {
                return Ok(());
            };
            let url = forum::session_url(url, &session);
            // The session's URL carries the forum's query (and so its token) when the forum's did.
            let token = if url.contains("token=") { None } else { token.clone() };
            let behind = Behind { console: &mut console, link: &mut link };
            let exit = if chair {
                let app = Chair::new(chair_keys.clone(), Vec::new(), Utc::now());
                let mut runner = Runner::new(app, &url, token, crate::domain::SECRETARIAT);
                runner.app.live.no_color = no_color();
                drive(&mut guard, &mut events, &mut runner, Some(behind)).await?
            } else {
                let app = Rapporteur::new(rapporteur_keys.clone(), Utc::now());
                let mut runner = Runner::new(app, &url, token, "forum observer");
                runner.app.live.no_color = no_color();
                drive(&mut guard, &mut events, &mut runner, Some(behind)).await?
            };
            let title = console.sessions.iter().find(|s| s.id == session).map_or(session.clone(), |s| s.title.clone());
            match exit {
                Exit::Quit => return Ok(()),
                Exit::Back(None) => console.say(format!("back from {title}"), false),
                Exit::Back(Some(why)) => console.say(format!("{title}: {why}"), true),
            }
        }
    }
}

/// Run the console until it quits (`None`) or opens a session (its id, and whether as chair).
async fn drive_console(
    guard: &mut TerminalGuard,
    events: &mut EventStream,
    console: &mut forum::Console,
    link: &mut link::Link,
) -> Result<Option<(String, bool)>, String> {
    let size = guard.terminal.size().map_err(|e| e.to_string())?;
    console.size = (size.width, size.height);
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut drawn_clock = i64::MIN;
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut hangup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    loop {
        let clock = console.hub_now().timestamp();
        if dirty || clock != drawn_clock {
            guard.terminal.draw(|frame| forum::view::render(console, frame)).map_err(|e| e.to_string())?;
            drawn_clock = clock;
            dirty = false;
        }
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Msg::Key(key),
                Some(Ok(Event::Mouse(mouse))) => Msg::Mouse(mouse),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("terminal input failed: {e}")),
                None => return Ok(None),
            },
            event = link.events.recv() => match event {
                Some(event) => Msg::Link(event),
                None => return Err("the connection task stopped".to_string()),
            },
            _ = ticker.tick() => Msg::Tick(Utc::now()),
            _ = terminate.recv() => return Ok(None),
            _ = hangup.recv() => return Ok(None),
        };
        let is_tick = matches!(msg, Msg::Tick(_));
        // The first effect decides: the console either quits or opens a session.
        match forum::update(console, msg).into_iter().next() {
            Some(forum::Effect::Quit) => return Ok(None),
            Some(forum::Effect::Open { session, chair }) => return Ok(Some((session, chair))),
            None => {}
        }
        if !is_tick {
            dirty = true;
        }
    }
}
