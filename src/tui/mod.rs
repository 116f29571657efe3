//! Terminal screens. The run loop is the only place with terminal IO: it turns
//! keys, mouse, network events and ticks into [`app::Msg`]s, applies the pure
//! [`app::update`], performs the effects, and redraws only when something changed
//! (the clock once a second).

pub mod app;
pub mod keymap;
pub mod view;

use std::io::{self, Stdout};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::client::link::{self, LinkCommand};
use crate::hub::{self, Hub, JoinUrl, Settings};
use app::{App, Effect, Msg};
use keymap::Keymap;

/// Where a chair screen gets its session.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start a hub in this process on a session file.
    File(PathBuf),
    /// Join a hub elsewhere.
    Url { url: String, token: String },
}

#[derive(Debug, Clone)]
pub struct ChairOptions {
    pub target: Target,
    pub data: PathBuf,
    pub listen: String,
    pub keys: Option<PathBuf>,
}

static RESTORED: AtomicBool = AtomicBool::new(true);

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
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        RESTORED.store(false, Ordering::SeqCst);
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        Ok(Self { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// What the screen shows that changes with time alone: redraw when it changes.
fn clock_key(app: &App) -> i64 {
    app.hub_now().timestamp()
}

/// The chair screen, until the chair quits.
pub fn chair(options: ChairOptions) -> Result<(), String> {
    let keymap = Keymap::load(options.keys.as_deref().or(default_keys_file().as_deref()))?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let (hub, url, token, join) = match &options.target {
            Target::File(file) => {
                hub::log_to_file(&options.data.join("hub.log"))
                    .map_err(|e| format!("{}: {e}", options.data.display()))?;
                let hub =
                    Hub::start(&options.listen, &options.data, std::slice::from_ref(file), Settings::default()).await?;
                let report = hub.reports.first().cloned().ok_or("no session opened")?;
                let tokens = hub.tokens(&report.session).ok_or("no tokens")?.clone();
                let url = format!("ws://{}/v1/sessions/{}", hub.addr, report.session);
                let join = hub.join_urls();
                (Some(hub), url, tokens.chair, join)
            }
            Target::Url { url, token } => (None, url.clone(), token.clone(), Vec::new()),
        };
        let result = run_screen(keymap, &url, &token, join.clone()).await;
        if let Some(hub) = hub {
            hub.shutdown().await;
        }
        if !join.is_empty() {
            println!("The session's hub has stopped. Join URLs (valid when it runs again):");
            for u in &join {
                println!("  {:<11} {}", u.role, u.url);
            }
            println!("  delegates   one token per participant in {}", options.data.display());
        }
        result
    })
}

fn default_keys_file() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".config/rostrum/keys.toml");
    path.exists().then_some(path)
}

async fn run_screen(keymap: Keymap, url: &str, token: &str, join: Vec<JoinUrl>) -> Result<(), String> {
    let mut link = link::spawn(url.to_string(), Some(token.to_string()));
    let mut app = App::new(keymap, join, Utc::now());
    app.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut guard = TerminalGuard::new().map_err(|e| format!("cannot open the terminal: {e}"))?;
    let size = guard.terminal.size().map_err(|e| e.to_string())?;
    app.size = (size.width, size.height);
    let mut events = EventStream::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut drawn_clock = i64::MIN;
    loop {
        if dirty || clock_key(&app) != drawn_clock {
            guard.terminal.draw(|frame| view::render(&app, frame)).map_err(|e| e.to_string())?;
            drawn_clock = clock_key(&app);
            dirty = false;
        }
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Msg::Key(key),
                Some(Ok(Event::Mouse(mouse))) => Msg::Mouse(mouse),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("terminal input failed: {e}")),
                None => return Ok(()),
            },
            event = link.events.recv() => match event {
                Some(event) => Msg::Link(event),
                None => return Err("the connection task stopped".to_string()),
            },
            _ = ticker.tick() => Msg::Tick(Utc::now()),
        };
        let is_tick = matches!(msg, Msg::Tick(_));
        for effect in app::update(&mut app, msg) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Send { id, command } => {
                    if link.commands.send(LinkCommand::Send { id, command }).await.is_err() {
                        return Err("the connection task stopped".to_string());
                    }
                }
                Effect::Resync { since } => {
                    let _ = link.commands.send(LinkCommand::Resync { since }).await;
                }
            }
        }
        if !is_tick {
            dirty = true;
        }
    }
}
