//! The `rostrum` command: dispatch only; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use rostrum::{config, hub, journal, tui};

#[derive(Parser)]
#[command(name = "rostrum", version, about = "Run live hybrid sessions of intergovernmental meetings from a terminal")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Chair a session: on a session file (starts a hub in this process), or on a hub's URL.
    Chair {
        /// A session file (TOML), or ws://HOST:PORT/v1/sessions/ID to join a hub elsewhere.
        session: String,
        /// Chair token, when joining a hub elsewhere.
        #[arg(long)]
        token: Option<String>,
        /// Data directory of the embedded hub.
        #[arg(long, default_value = "sessions")]
        data: PathBuf,
        /// Address of the embedded hub (by default the one it had last time, else a free port on 127.0.0.1).
        #[arg(long)]
        listen: Option<String>,
        /// A keymap file laid over the default keys (default: ~/.config/rostrum/keys.toml if present).
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Trust this CA certificate (PEM) for a wss:// hub with a private certificate.
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Chair as this person of the session file ([[chairs]] or [[officers]] id), with their
        /// own credential, so the record names them (default: the shared chair token).
        #[arg(long = "as", value_name = "PERSON-ID")]
        person: Option<String>,
    },
    /// Follow a session as a rapporteur: live view, notes and pledges.
    Rapporteur {
        /// The session's URL on its hub: ws://HOST:PORT/v1/sessions/ID (a join URL with ?token= works too).
        url: String,
        /// Rapporteur token (unless the URL carries it).
        #[arg(long)]
        token: Option<String>,
        /// Your name, shown with your notes.
        #[arg(long, default_value = "rapporteur")]
        name: String,
        /// Outbox file where saved notes wait for the hub (default: ./rostrum-outbox-SESSION-NAME.jsonl).
        #[arg(long)]
        outbox: Option<PathBuf>,
        /// A keymap file laid over the default keys.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Trust this CA certificate (PEM) for a wss:// hub with a private certificate.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Follow a session as a delegate: the floor, your place on the list and why; inscribe,
    /// withdraw, rights of reply, points of order, your connection.
    Delegate {
        /// The session's URL on its hub: ws://HOST:PORT/v1/sessions/ID (?token= works too).
        url: String,
        /// Your delegation's token (from the session's tokens.toml, [delegates]).
        #[arg(long)]
        token: Option<String>,
        /// A keymap file laid over the default keys.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Trust this CA certificate (PEM) for a wss:// hub with a private certificate.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// The secretariat's console: every session a hub serves on one screen; Enter opens one.
    Forum {
        /// The hub's forum, ws://HOST:PORT/v1/forum (`rostrum hub` prints it, with ?token=); or
        /// session files (TOML): a hub on them starts in this process, its forum on this screen.
        #[arg(required = true, value_name = "URL | SESSION.toml...")]
        targets: Vec<String>,
        /// The secretariat's token (or the forum observer's), from DATA/forum-tokens.toml, unless the URL carries it.
        #[arg(long)]
        token: Option<String>,
        /// Data directory of the embedded hub.
        #[arg(long, default_value = "sessions")]
        data: PathBuf,
        /// Address of the embedded hub.
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: String,
        /// A keymap file laid over the default keys.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Trust this CA certificate (PEM) for a wss:// hub with a private certificate.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Replay a session's journal in the terminal, as it unfolded.
    Replay {
        /// A journal (DATA/SESSION-ID/journal.jsonl).
        log: PathBuf,
        /// Replay even if the hash chain does not verify (marked UNVERIFIED on screen).
        #[arg(long, conflicts_with = "follow")]
        no_verify: bool,
        /// Follow a journal a hub is still writing: start at its end and show new events live.
        #[arg(long)]
        follow: bool,
        /// Read the session's journal from etcd (comma-separated endpoints): LOG is then
        /// the session's id, and `--follow` follows it there, whichever hub leads it.
        #[arg(long, value_name = "ENDPOINTS")]
        etcd: Option<String>,
        /// A keymap file laid over the default keys.
        #[arg(long)]
        keys: Option<PathBuf>,
    },
    /// Measure speed and memory (results go in docs/PERFORMANCE.md).
    Bench {
        #[command(subcommand)]
        what: BenchCmd,
    },
    /// Produce a session's report from its journal; from several journals, the forum's report across them.
    Report {
        /// A journal (DATA/SESSION-ID/journal.jsonl), or several: the sessions of a forum.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// markdown (a chair's summary), csv, json, or html (one page with charts, to look at and print; one session).
        #[arg(long, default_value = "markdown", value_parser = ["markdown", "csv", "json", "html"])]
        format: String,
        /// With csv: one row per turn, per note (with its text) or per pledge; for a forum also
        /// who spoke where (speakers) or every share of every table (shares).
        #[arg(long, default_value = "turns", value_parser = ["turns", "notes", "pledges", "speakers", "shares"])]
        table: String,
        /// The speakers list of the open (or next) segment as the chair's script (markdown or csv; one journal).
        #[arg(long)]
        running_order: bool,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Prepare a session file from data: its roster from a registration list, a
    /// segment's pre-inscriptions from the e-Speakers list (CSV files).
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// Check a session file and print every problem with its line and column.
    Check {
        /// Session files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Verify a journal's hash chain; prints the first bad line.
    Verify {
        /// A journal (DATA/SESSION-ID/journal.jsonl).
        log: PathBuf,
    },
    /// Run the session hub: serve sessions to chairs, rapporteurs, delegates and observers.
    Hub {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: String,
        /// Data directory: one folder per session with its journal and tokens.
        #[arg(long, default_value = "sessions")]
        data: PathBuf,
        /// Browser origin allowed to connect (repeatable); other browser origins are refused.
        #[arg(long = "allow-origin")]
        allow_origins: Vec<String>,
        /// Most connections at once.
        #[arg(long, default_value_t = 20_000)]
        max_connections: usize,
        /// Serve wss:// with this certificate chain (PEM); needs --tls-key.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Keep the journals in etcd (comma-separated client URLs, http://HOST:PORT): start
        /// the same hub on other machines and one leads each session, the others stand by.
        #[arg(long, value_name = "ENDPOINTS")]
        etcd: Option<String>,
        /// With --etcd: seconds of this hub's lease; a standby takes over this long after
        /// the leader is lost.
        #[arg(long, default_value_t = 3, requires = "etcd")]
        lease_ttl: i64,
        /// With --etcd: the URL clients reach this hub at (default: ws://LISTEN).
        #[arg(long, requires = "etcd")]
        advertise: Option<String>,
        /// Session files (TOML).
        #[arg(required = true)]
        sessions: Vec<PathBuf>,
    },
    /// Write a session's journal kept in etcd as a JSON Lines file (for verify, replay, report).
    Export {
        /// etcd client URLs, comma-separated: http://HOST:PORT[,…].
        #[arg(long, value_name = "ENDPOINTS")]
        etcd: String,
        /// The session's id.
        session: String,
        /// The journal file to write (refused if it exists).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Fill the session file's roster ([[participants]]) from a CSV list: one participant a row.
    Roster {
        /// The list (CSV): name, kind, regional_group, constituency, level, modality, short, id, members…
        list: PathBuf,
        /// The session file (TOML) whose roster it replaces; the rest of the file is kept as it is.
        #[arg(long = "into", value_name = "SESSION.toml")]
        into: PathBuf,
    },
    /// Copy a file journal into etcd, so that hubs started with --etcd continue it.
    Journal {
        /// A journal (DATA/SESSION-ID/journal.jsonl).
        log: PathBuf,
        /// etcd client URLs, comma-separated: http://HOST:PORT[,…].
        #[arg(long, value_name = "ENDPOINTS")]
        etcd: String,
    },
    /// Add a segment's pre-inscriptions (its `inscribed`) from the e-Speakers list: name, time, language.
    Inscriptions {
        /// The list (CSV): name (or id), time and (optionally) the statement's language of each inscription.
        list: PathBuf,
        /// The session file (TOML).
        #[arg(long = "into", value_name = "SESSION.toml")]
        into: PathBuf,
        /// The segment's id.
        #[arg(long)]
        segment: String,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Open a synthetic log and seek around it, painting the replay screen.
    Replay {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        #[arg(long, default_value_t = 2000)]
        seeks: usize,
        /// Use this journal (generated there, with the hub's checkpoint beside it, if it is missing).
        #[arg(long)]
        log: Option<PathBuf>,
        /// Measure one way of opening, in this process (without it: each way in its own process).
        #[arg(long, value_enum)]
        way: Option<rostrum::bench::ReplayWay>,
        /// Measure every way this many times, in turn.
        #[arg(long, default_value_t = 1)]
        rounds: usize,
    },
    /// N observers on a hub process, a chair publishing at R events/s; then a bare
    /// relay with frames of the same size; alternated `--rounds` times.
    Fanout {
        #[arg(long, default_value_t = 5000)]
        observers: usize,
        #[arg(long, default_value_t = 5)]
        rate: u64,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Percent of observers that stop reading.
        #[arg(long, default_value_t = 0)]
        slow: usize,
        /// Hub then relay, this many times.
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// Long-session mode: open the hub on a synthetic journal of this many events.
        #[arg(long, default_value_t = 0)]
        journal_events: usize,
        /// Serve the hub with another `rostrum` program (to measure an earlier build).
        #[arg(long)]
        hub_exe: Option<PathBuf>,
        /// Also measure a Node.js `ws` relay: this script (docs/bench-relay.js), run by `node`.
        #[arg(long)]
        node_relay: Option<PathBuf>,
    },
    /// Acknowledgement latency with fsync per event, one at a time and in bursts.
    Durability {
        #[arg(long, default_value_t = 500)]
        commands: u64,
        #[arg(long, default_value_t = 50)]
        burst: u64,
        /// Long-session mode: open the hub on a synthetic journal of this many events.
        #[arg(long, default_value_t = 0)]
        journal_events: usize,
        #[arg(long)]
        hub_exe: Option<PathBuf>,
        /// Measure the file journal and then a three-node etcd cluster on 127.0.0.1
        /// (started from /usr/bin/etcd), in the same run; then open a long session from etcd.
        #[arg(long)]
        etcd: bool,
        /// With --etcd: chairs giving a command at the same instant.
        #[arg(long, default_value_t = 20)]
        chairs: usize,
        /// With --etcd: events of the long session opened from etcd (0: skip).
        #[arg(long, default_value_t = 100_000)]
        open_events: usize,
    },
    /// Two hubs on a three-node etcd cluster; the leading hub killed (-9) again and
    /// again: takeover time, the client's gap, and what survived.
    Failover {
        #[arg(long, default_value_t = 20)]
        kills: usize,
        #[arg(long, default_value_t = 3)]
        lease_ttl: u64,
    },
    /// Chairs giving notes at a steady rate while the journal grows; acknowledgement
    /// latency per slice of the journal.
    Growth {
        #[arg(long, default_value_t = 20)]
        chairs: usize,
        /// Notes a second per chair.
        #[arg(long, default_value_t = 48)]
        rate: u64,
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        #[arg(long, default_value_t = 20_000)]
        slice: u64,
        #[arg(long)]
        hub_exe: Option<PathBuf>,
    },
    /// `rostrum report` on synthetic journals of a quarter, half and all of N events.
    Report {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Time another `rostrum` program's report.
        #[arg(long)]
        exe: Option<PathBuf>,
    },
    /// Observers resuming after a hub is killed and restarted.
    Storm {
        #[arg(long, default_value_t = 1000)]
        clients: usize,
    },
    /// Kill the hub -9 at random moments during a session and check what survives.
    Crash {
        #[arg(long, default_value_t = 200)]
        kills: usize,
    },
    /// Display subscriptions (the room's screens) on a hub: the chair's change to each screen's frame.
    Display {
        #[arg(long, default_value_t = 500)]
        clients: usize,
        #[arg(long, default_value_t = 50)]
        commands: u64,
    },
    /// CPU per command (decide, apply, the batch's rollback point) on a fresh session and on
    /// one of `--events` events, in this process: does a command cost more on day four?
    Command {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        #[arg(long, default_value_t = 20_000)]
        commands: usize,
    },
    /// Opening a session of `--events` events: the whole journal folded, and from a checkpoint.
    Open {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// The forum's summary of a session: its cost and size as the session's notes grow.
    Forum {
        #[arg(long, default_value_t = 100_000)]
        notes: usize,
        #[arg(long, default_value_t = 2000)]
        calls: usize,
    },
    /// The baseline relay for `fanout` (started by it).
    #[command(hide = true)]
    Relay,
}

fn bench(what: BenchCmd) -> Result<String, String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    match what {
        BenchCmd::Replay { events, seeks, log, way, rounds } => {
            rostrum::bench::replay(events, seeks, log.as_deref(), way, rounds)
        }
        BenchCmd::Fanout { observers, rate, seconds, slow, rounds, journal_events, hub_exe, node_relay } => runtime
            .block_on(rostrum::bench::fanout(rostrum::bench::FanoutOptions {
                observers,
                rate,
                seconds,
                slow_percent: slow,
                rounds,
                journal_events,
                hub_exe,
                node_relay,
            })),
        BenchCmd::Durability { etcd: true, commands, chairs, open_events, .. } => {
            runtime.block_on(rostrum::bench::replicated::durability_etcd(commands, chairs, open_events))
        }
        BenchCmd::Durability { commands, burst, journal_events, hub_exe, .. } => {
            runtime.block_on(rostrum::bench::durability(commands, burst, journal_events, hub_exe.as_deref()))
        }
        BenchCmd::Failover { kills, lease_ttl } => {
            runtime.block_on(rostrum::bench::replicated::failover(kills, lease_ttl))
        }
        BenchCmd::Growth { chairs, rate, events, slice, hub_exe } => {
            runtime.block_on(rostrum::bench::growth(chairs, rate, events, slice, hub_exe.as_deref()))
        }
        BenchCmd::Report { events, exe } => rostrum::bench::report_timing(events, exe.as_deref()),
        BenchCmd::Storm { clients } => runtime.block_on(rostrum::bench::storm(clients)),
        BenchCmd::Crash { kills } => runtime.block_on(rostrum::bench::crash_bench(kills)),
        BenchCmd::Display { clients, commands } => runtime.block_on(rostrum::bench::display(clients, commands)),
        BenchCmd::Command { events, commands } => rostrum::bench::command_cost(events, commands),
        BenchCmd::Open { events, rounds } => rostrum::bench::open_time(events, rounds),
        BenchCmd::Forum { notes, calls } => rostrum::bench::forum(notes, calls),
        BenchCmd::Relay => runtime.block_on(rostrum::bench::relay()).map(|()| String::new()),
    }
}

/// Exit 0, or print the error and exit 1.
fn finish(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Trust a CA file for wss:// connections, if one is given.
fn trust(ca: Option<PathBuf>) -> Result<(), String> {
    ca.map_or(Ok(()), |ca| rostrum::tls::trust_ca(&ca))
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Bench { what } => finish(bench(what).map(|text| print!("{text}"))),
        Cmd::Replay { log, no_verify, follow, keys, etcd } => {
            finish(tui::replay(&log, !no_verify, follow, keys.as_deref(), etcd.as_deref()))
        }
        Cmd::Report { logs, format, table, running_order, out } => finish(
            rostrum::report::command(&logs, &format, &table, running_order, &mut |warning| eprintln!("{warning}"))
                .and_then(|text| match out {
                    Some(path) => std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display())),
                    None => {
                        print!("{text}");
                        Ok(())
                    }
                }),
        ),
        Cmd::Rapporteur { url, token, name, outbox, keys, ca } => {
            finish(trust(ca).and_then(|()| tui::rapporteur(tui::RapporteurOptions { url, token, name, outbox, keys })))
        }
        Cmd::Forum { targets, token, data, listen, keys, ca } => {
            let target = match targets.as_slice() {
                [url] if url.starts_with("ws://") || url.starts_with("wss://") => {
                    if !url.split('?').next().is_some_and(|p| p.ends_with("/v1/forum")) {
                        eprintln!(
                            "{url}: the forum's URL is ws://HOST:PORT/v1/forum (wss:// with TLS); `rostrum hub` prints it"
                        );
                        return ExitCode::from(2);
                    }
                    tui::ForumTarget::Url { url: url.clone(), token }
                }
                files if files.iter().all(|f| !f.contains("://")) => {
                    tui::ForumTarget::Files { files: files.iter().map(PathBuf::from).collect(), data, listen }
                }
                _ => {
                    eprintln!("rostrum forum takes one forum URL (ws://HOST:PORT/v1/forum) or session files (TOML)");
                    return ExitCode::from(2);
                }
            };
            finish(trust(ca).and_then(|()| tui::forum(tui::ForumOptions { target, keys })))
        }
        Cmd::Delegate { url, token, keys, ca } => {
            finish(trust(ca).and_then(|()| tui::delegate(&url, token, keys.as_deref())))
        }
        Cmd::Chair { session, token, data, listen, keys, ca, person } => {
            let target = if session.starts_with("ws://") || session.starts_with("wss://") {
                if rostrum::tui::session_of_url(&session).is_none() || !session.contains("/v1/sessions/") {
                    eprintln!("{session}: a hub's URL names the session: ws://HOST:PORT/v1/sessions/SESSION-ID");
                    return ExitCode::from(2);
                }
                if token.is_none() && !session.contains("token=") {
                    eprintln!("joining a hub needs the chair's token: --token TOKEN (or ?token= in the URL)");
                    return ExitCode::from(2);
                }
                tui::Target::Url { url: session, token }
            } else if session.contains("://") {
                eprintln!(
                    "{session}: a chair target is a session file (TOML) or a hub's session URL, ws://HOST:PORT/v1/sessions/SESSION-ID (wss:// with TLS)"
                );
                return ExitCode::from(2);
            } else {
                tui::Target::File(PathBuf::from(session))
            };
            finish(trust(ca).and_then(|()| tui::chair(tui::ChairOptions { target, data, listen, keys, person })))
        }
        Cmd::Check { files } => check(&files),
        Cmd::Import { what: ImportCmd::Roster { list, into } } => {
            finish(config::import::run(&list, &into, None).map(|summary| println!("{summary}")))
        }
        Cmd::Import { what: ImportCmd::Inscriptions { list, into, segment } } => {
            finish(config::import::run(&list, &into, Some(&segment)).map(|summary| println!("{summary}")))
        }
        Cmd::Verify { log } => finish(
            journal::verify_report(&log)
                .map(|report| println!("{report}"))
                .map_err(|e| format!("{}: {e}", log.display())),
        ),
        Cmd::Hub {
            listen,
            data,
            allow_origins,
            max_connections,
            tls_cert,
            tls_key,
            etcd,
            lease_ttl,
            advertise,
            sessions,
        } => finish((|| {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(rostrum::tls::server_config(&cert, &key)?),
                _ => None,
            };
            let scheme = if tls.is_some() { "wss" } else { "ws" };
            let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
            let etcd = match etcd {
                None => None,
                Some(endpoints) => {
                    let url = advertise.unwrap_or_else(|| format!("{scheme}://{listen}"));
                    Some(runtime.block_on(hub::EtcdSettings::connect(&endpoints, lease_ttl, url))?)
                }
            };
            let settings =
                hub::Settings { allowed_origins: allow_origins, max_connections, tls, etcd, ..Default::default() };
            runtime.block_on(hub::run(&listen, &data, &sessions, settings))
        })()),
        Cmd::Export { etcd, session, out } => finish((|| {
            let etcd = rostrum::etcd::Etcd::new(&etcd)?;
            let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
            let bytes = runtime
                .block_on(journal::etcd::load_bytes(&etcd, &session))
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("etcd holds no journal of session \"{session}\""))?;
            journal::export(&bytes, &out).map(|report| println!("{report}"))
        })()),
        Cmd::Import { what: ImportCmd::Journal { etcd, log } } => finish((|| {
            let etcd = rostrum::etcd::Etcd::new(&etcd)?;
            let bytes = std::fs::read(&log).map_err(|e| format!("{}: {e}", log.display()))?;
            let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
            let (session, events) = runtime
                .block_on(rostrum::hub::import_into_etcd(&etcd, &bytes))
                .map_err(|e| format!("{}: {e}", log.display()))?;
            println!("{}: session \"{session}\" ({events} events) is in etcd now", log.display());
            Ok(())
        })()),
    }
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut ok = true;
    for file in files {
        let shown = file.display().to_string();
        let source = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{shown}: {e}");
                ok = false;
                continue;
            }
        };
        match config::parse_session(&source) {
            Ok(def) => println!(
                "{shown}: ok: session \"{}\", {} segments, {} participants",
                def.id,
                def.segments.len(),
                def.participants.len()
            ),
            Err(e) => {
                eprintln!("{}", e.render(&shown));
                eprintln!("{shown}: {} problem(s)", e.problems.len());
                ok = false;
            }
        }
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
