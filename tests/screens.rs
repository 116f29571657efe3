//! Snapshots of the screens (ratatui TestBackend + insta) at 80x24, 120x40 and
//! 200x50, and checks that nothing is cut without an ellipsis.

use chrono::{Duration, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rostrum::domain::{self, Actor, Command, ConnectionStatus, Session, Timestamp};
use rostrum::tui::chair::{self, Chair};
use rostrum::tui::keymap::{Keymap, Screen};
use rostrum::tui::live::{LinkStatus, Msg, StatusLine, Tone};
use rostrum::tui::rapporteur::{self, Rapporteur};

fn t(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2022, 5, 17, 14, 0, 0).single().expect("valid") + Duration::seconds(secs)
}

fn inscribe(p: &str) -> Command {
    Command::inscribe(p)
}

/// A session after the chair's commands, one second apart from 10:00 local.
fn session(commands: Vec<Command>) -> Session {
    let def = rostrum::config::parse_session(include_str!("data/small.toml")).expect("valid");
    let mut s = Session::new(def);
    for (i, command) in commands.into_iter().enumerate() {
        let shown = format!("{command:?}");
        let events = domain::decide(&s, command, &Actor::chair("chair"), t(i as i64))
            .unwrap_or_else(|r| panic!("{shown}: {}", r.reason));
        for e in &events {
            domain::apply(&mut s, e);
        }
    }
    s
}

fn app(session: Session, now: Timestamp) -> Chair {
    let mut app = Chair::new(Keymap::from_texts(None, Screen::Chair).expect("keys"), Vec::new(), now);
    app.live.replica.state = Some(session);
    app.live.link = LinkStatus::Connected;
    app.live.rtt_ms = Some(3);
    // What the hub's welcome says: the screen previews what this chair may do.
    app.live.role = Some(domain::Role::Chair);
    app.live.actor = Some(Actor::chair("chair"));
    app
}

fn draw(app: &Chair, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(|frame| chair::view::render(app, frame)).expect("draws");
    terminal.backend().to_string()
}

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

fn check(name: &str, app: &Chair) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(app, w, h));
    }
}

fn open() -> Command {
    Command::OpenSegment { segment: "general".into() }
}

/// Open the general debate, inscribe five speakers, give the floor to the first.
fn running() -> Session {
    session(vec![
        open(),
        inscribe("peru"),
        inscribe("chile"),
        inscribe("ghana"),
        inscribe("holy-see"),
        inscribe("ngo-b"),
        Command::GiveFloor { entry: 3, budget: None }, // Peru (ids 1-2: the dialogue's pre-inscribed)
    ])
}

#[test]
fn empty_list() {
    check("empty_list", &app(session(vec![open()]), t(30)));
}

#[test]
fn running_turn() {
    // Given the floor at 10:00:06; 40 seconds later.
    check("running_turn", &app(running(), t(46)));
}

#[test]
fn warning() {
    check("warning", &app(running(), t(6 + 160)));
}

#[test]
fn overrun() {
    check("overrun", &app(running(), t(6 + 200)));
}

#[test]
fn point_of_order() {
    let mut commands = vec![open(), inscribe("peru"), inscribe("chile"), Command::GiveFloor { entry: 3, budget: None }];
    commands.push(Command::RaisePointOfOrder { by: "france".into() });
    check("point_of_order", &app(session(commands), t(60)));
}

#[test]
fn remote_speaker_with_technical_issue() {
    let s = session(vec![
        open(),
        inscribe("ghana"),
        inscribe("chile"),
        Command::SetConnection { participant: "ghana".into(), status: ConnectionStatus::TechnicalIssue, from: None },
    ]);
    check("technical_issue", &app(s, t(20)));
}

#[test]
fn disconnected() {
    let mut app = app(running(), t(46));
    app.live.link = LinkStatus::Reconnecting { reason: "connection reset".into(), attempt: 3 };
    app.live.rtt_ms = None;
    app.live.status = Some(StatusLine {
        text: "hub unreachable (connection reset); attempt 3, retrying in 1000 ms".into(),
        tone: Tone::Error,
    });
    check("disconnected", &app);
}

// ---- The rapporteur's screen ----

fn rapporteur(session: Session, now: Timestamp) -> Rapporteur {
    let mut app = Rapporteur::new(Keymap::from_texts(None, Screen::Rapporteur).expect("keys"), now);
    app.live.replica.state = Some(session);
    app.live.link = LinkStatus::Connected;
    app.live.rtt_ms = Some(3);
    app
}

fn type_keys(app: &mut Rapporteur, text: &str) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    for c in text.chars() {
        let code = if c == '\t' { KeyCode::Tab } else { KeyCode::Char(c) };
        rapporteur::update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

fn check_rapporteur(name: &str, app: &Rapporteur) {
    for (w, h) in SIZES {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        terminal.draw(|frame| rapporteur::view::render(app, frame)).expect("draws");
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend().to_string());
    }
}

fn with_notes() -> Session {
    let mut commands = vec![open(), inscribe("peru"), inscribe("chile"), Command::GiveFloor { entry: 3, budget: None }];
    commands.push(Command::EndTurn { turn: 5 });
    commands.push(Command::GiveFloor { entry: 4, budget: None });
    let mut s = session(commands);
    let note = Command::AddNote {
        saved_at: None,
        client_id: "a-1".into(),
        turn: Some(6),
        text: "Chile stresses fair recruitment and the portability of social protection.".into(),
        objectives: vec![6, 22],
        themes: vec!["recruitment fees".into()],
    };
    let events = domain::decide(&s, note, &Actor::rapporteur("Ana"), t(120)).expect("note");
    domain::apply(&mut s, &events[0]);
    s
}

#[test]
fn rapporteur_following() {
    check_rapporteur("rapporteur_following", &rapporteur(with_notes(), t(150)));
}

#[test]
fn rapporteur_writing_a_note() {
    let mut app = rapporteur(with_notes(), t(150));
    type_keys(&mut app, "nChile announces a review of recruitment fees.\t6, recruitment");
    check_rapporteur("rapporteur_writing", &app);
}

// ---- The replay screen ----

fn replay_at(keys: &str) -> rostrum::tui::replay::ReplayApp {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let contents = rostrum::journal::read(include_str!("data/sample-session.jsonl").as_bytes()).expect("verifies");
    let player = rostrum::replay::Player::new(contents, true).expect("player");
    let keymap = Keymap::from_texts(None, rostrum::tui::keymap::Screen::Replay).expect("keys");
    let mut app = rostrum::tui::replay::ReplayApp::new(player, keymap, t(0));
    for c in keys.chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        rostrum::tui::replay::update(&mut app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
    app
}

fn draw_replay(app: &rostrum::tui::replay::ReplayApp, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(|frame| rostrum::tui::replay::view::render(app, frame)).expect("draws");
    terminal.backend().to_string()
}

#[test]
fn replay_during_a_point_of_order() {
    let app = replay_at("t10:06:10\n");
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("replay_point_of_order_{w}x{h}"), draw_replay(&app, w, h));
    }
}

#[test]
fn help_shows_every_key_even_at_80x24() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = app(session(vec![open()]), t(10));
    chair::update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE)));
    for (w, h) in SIZES {
        let screen = draw(&app, w, h);
        for needle in [
            "close the session (asks)",
            "join URLs",
            "undo the last action",
            "raise a point of order",
            "thank you, next",
            "balance: shares, budgets",
        ] {
            assert!(screen.contains(needle), "{w}x{h}: {needle} is missing from the help:\n{screen}");
        }
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen);
    }
}

#[test]
fn a_closed_session_is_said_first_and_offers_no_floor() {
    let s = session(vec![open(), inscribe("peru"), Command::CloseSession]);
    let app = app(s, t(30));
    check("session_closed", &app);
    for (w, h) in SIZES {
        let screen = draw(&app, w, h);
        let header = screen.lines().next().expect("a header");
        assert!(header.starts_with("\" SESSION CLOSED "), "{w}x{h}: {header}");
        assert!(!screen.contains("give the floor"), "{w}x{h} offers the floor:\n{screen}");
    }
}

#[test]
fn a_long_status_message_is_shown_whole_on_two_rows() {
    let mut app = app(running(), t(46));
    let text = "✗ inscribe Peru: the list of speakers of \"Statements, stakeholders alternating\" is closed: no new inscriptions";
    app.live.status = Some(StatusLine { text: text.into(), tone: Tone::Error });
    let screen = draw(&app, 80, 24);
    let joined: String = screen.lines().map(|l| l.trim_matches('"').trim_end()).collect::<Vec<_>>().join(" ");
    assert!(joined.contains("is closed: no new") && joined.contains("inscriptions"), "{screen}");
}

#[test]
fn long_names_stay_apart_at_every_size() {
    let def = rostrum::config::parse_session(include_str!("../config/imrf-2022-roundtable-1.toml")).expect("valid");
    let mut s = Session::new(def);
    for (at, command) in [
        // The opening has IOM inscribed in advance.
        Command::OpenSegment { segment: "opening".into() },
        inscribe("ioe"),
        inscribe("unhcr"),
        inscribe("ohchr"),
        inscribe("united-kingdom"),
    ]
    .into_iter()
    .enumerate()
    {
        let events = domain::decide(&s, command, &Actor::chair("chair"), t(at as i64)).expect("accepted");
        for e in &events {
            domain::apply(&mut s, e);
        }
    }
    let app = app(s, t(20));
    for (w, h) in SIZES {
        let screen = draw(&app, w, h);
        for name in ["IOM", "IOE", "UNHCR", "OHCHR", "United Kingdom"] {
            assert!(screen.contains(name), "{w}x{h}: {name} is not readable:\n{screen}");
        }
        assert!(!screen.contains("International Or "), "{w}x{h}: a name cut without a sign:\n{screen}");
    }
}

#[test]
fn the_replay_and_the_rapporteur_offer_only_their_own_keys() {
    let replay = replay_at("");
    for (w, h) in SIZES {
        let screen = draw_replay(&replay, w, h);
        assert!(!screen.contains("- to inscribe") && !screen.contains("give the floor"), "{w}x{h}:\n{screen}");
    }
    let r = rapporteur(session(vec![open(), inscribe("peru")]), t(10));
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    terminal.draw(|frame| rapporteur::view::render(&r, frame)).expect("draws");
    let screen = terminal.backend().to_string();
    assert!(!screen.contains("to inscribe") && !screen.contains("give the floor"), "{screen}");
    assert!(screen.contains("n note") && screen.contains("p pledge"), "{screen}");
}

#[test]
fn the_inscription_picker_marks_who_is_on_the_list_already() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = app(session(vec![open(), inscribe("peru")]), t(10));
    for c in "ipe".chars() {
        chair::update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
    }
    let screen = draw(&app, 80, 24);
    let peru = screen.lines().find(|l| l.contains("Peru ·")).unwrap_or_else(|| panic!("Peru is offered:\n{screen}"));
    assert!(peru.contains("(on the list)"), "{screen}");
}

// ---- The delegate's screen ----

fn delegate(me: &str, session: Session, now: Timestamp) -> rostrum::tui::delegate::Delegate {
    let mut d = rostrum::tui::delegate::Delegate::new(Keymap::from_texts(None, Screen::Delegate).expect("keys"), now);
    d.live.replica.state = Some(session);
    d.live.link = LinkStatus::Connected;
    d.live.rtt_ms = Some(3);
    d.live.role = Some(domain::Role::Delegate);
    d.live.actor = Some(Actor::delegate(me));
    d.participant = Some(me.to_string());
    d
}

fn check_delegate(name: &str, d: &rostrum::tui::delegate::Delegate) {
    for (w, h) in [(80, 24), (120, 40), (160, 48), (200, 50)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        terminal.draw(|frame| rostrum::tui::delegate::view::render(d, frame)).expect("draws");
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend().to_string());
    }
}

#[test]
fn a_delegate_waiting_sees_its_place_and_why() {
    // Chile waits third; Peru speaks.
    check_delegate("delegate_waiting", &delegate("chile", running(), t(46)));
}

#[test]
fn a_delegate_on_the_floor_sees_its_own_countdown() {
    let d = delegate("peru", running(), t(46));
    check_delegate("delegate_speaking", &d);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    terminal.draw(|frame| rostrum::tui::delegate::view::render(&d, frame)).expect("draws");
    let screen = terminal.backend().to_string();
    assert!(screen.contains("YOU HAVE THE FLOOR") && screen.contains("2:20 left"), "{screen}");
}

#[test]
fn the_fairness_panel_reads_at_80x24_and_fuller_at_160x48() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    // Peru 3:00, Youth Network B 1:00, Ghana 2:00; Chile and the Holy See waiting.
    let mut commands = vec![open()];
    for p in ["peru", "ngo-b", "ghana", "chile", "holy-see"] {
        commands.push(inscribe(p));
    }
    let mut s = session(commands);
    let mut at = 10;
    for (participant, secs) in [("peru", 180), ("ngo-b", 60), ("ghana", 120)] {
        let entry = s.segments[0].list.iter().find(|e| e.participant == participant).expect("listed").id;
        for (command, when) in
            [(Command::GiveFloor { entry, budget: None }, at), (Command::EndTurn { turn: s.next_id }, at + secs)]
        {
            let events = domain::decide(&s, command, &Actor::chair("chair"), t(when)).expect("accepted");
            for e in &events {
                domain::apply(&mut s, e);
            }
        }
        at += secs + 5;
    }
    let mut app = app(s, t(at + 60));
    chair::update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Char('b'), KeyModifiers::NONE)));
    for (w, h) in [(80, 24), (120, 40), (160, 48), (200, 50)] {
        let screen = draw(&app, w, h);
        for needle in ["By kind of participant", "Member State", "longest waiting now: Chile"] {
            assert!(screen.contains(needle), "{w}x{h}: {needle} missing:\n{screen}");
        }
        // Wide enough, a group's whole name; at 80 columns it ends in an ellipsis.
        let whole = screen.contains("Latin American and Caribbean States");
        assert_eq!(whole, w >= 120, "{w}x{h}:\n{screen}");
        insta::assert_snapshot!(format!("balance_{w}x{h}"), screen);
    }
}

/// At 80x24 the floor's hints run under the countdown, the whole width of the box,
/// not cut at the digits' column.
#[test]
fn the_floor_hints_use_the_whole_width_under_the_countdown() {
    // Ghana (remote) on the floor: next, end, connection and "lost?" hints.
    let s = session(vec![open(), inscribe("ghana"), inscribe("chile"), Command::GiveFloor { entry: 3, budget: None }]);
    let screen = draw(&app(s, t(20)), 80, 24);
    let line = screen.lines().find(|l| l.contains("thank you, next")).expect("the hints row");
    assert!(line.contains("e: end the turn · s: connection"), "{screen}");
}

/// Every budget is listed, one a line, and the panel scrolls to them: at 80x24 the
/// regional groups' budgets lie below the first screen, and the title says so.
#[test]
fn the_fairness_panel_scrolls_to_every_budget() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut def = rostrum::config::parse_session(include_str!("data/small.toml")).expect("valid");
    def.segments[0].budgets = vec![
        domain::Budget { per: domain::BudgetPer::Participant, secs: 360, kinds: vec![], replies: false },
        domain::Budget { per: domain::BudgetPer::RegionalGroup, secs: 1800, kinds: vec![], replies: false },
    ];
    let mut s = Session::new(def);
    let mut commands = vec![open()];
    for p in ["peru", "chile", "france", "ghana", "fiji", "holy-see", "ngo-a", "ngo-b", "iom"] {
        commands.push(inscribe(p));
    }
    for (i, command) in commands.into_iter().enumerate() {
        for e in &domain::decide(&s, command, &Actor::chair("chair"), t(i as i64)).expect("accepted") {
            domain::apply(&mut s, e);
        }
    }
    let mut app = app(s, t(60));
    let key = |c: KeyCode| Msg::Key(KeyEvent::new(c, KeyModifiers::NONE));
    chair::update(&mut app, key(KeyCode::Char('b')));
    let first = draw(&app, 80, 24);
    assert!(first.contains("more below"), "{first}");
    assert!(!first.contains("Asia-Pacific States"), "the regional budgets are further down:\n{first}");
    for _ in 0..40 {
        chair::update(&mut app, key(KeyCode::Down));
    }
    let last = draw(&app, 80, 24);
    for needle in ["Budgets used in this segment", "Asia-Pacific States", "Western European and other States"] {
        assert!(last.contains(needle), "{needle}:\n{last}");
    }
    assert!(last.contains("more above") && !last.contains("more below"), "{last}");
    // Any other key closes it.
    chair::update(&mut app, key(KeyCode::Char('x')));
    assert!(!draw(&app, 80, 24).contains("Balance:"));
}

/// Where a column is narrow, names are the roster's short ones, not cut.
#[test]
fn hints_use_short_names_where_space_is_short() {
    let mut def = rostrum::config::parse_session(include_str!("data/small.toml")).expect("valid");
    if let Some(p) = def.participants.iter_mut().find(|p| p.id == "ngo-a") {
        p.name = "Platform for International Cooperation on Undocumented Migrants (PICUM)".into();
        p.short = Some("PICUM".into());
    }
    let mut s = Session::new(def);
    for (i, command) in [open(), inscribe("ngo-a")].into_iter().enumerate() {
        for e in &domain::decide(&s, command, &Actor::chair("chair"), t(i as i64)).expect("accepted") {
            domain::apply(&mut s, e);
        }
    }
    let app = app(s, t(20));
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = draw(&app, w, h);
        let hint = screen.lines().find(|l| l.contains("give the floor to")).expect("the next hint");
        assert!(hint.contains("give the floor to PICUM"), "{w}x{h}:\n{screen}");
    }
}

// ---- The forum's console ----

use rostrum::forum::{Presence, SessionSummary, summarize};
use rostrum::tui::forum::{self as console, Console};

/// A shipped session after the chair's commands at the given seconds.
fn shipped(text: &str, steps: Vec<(i64, Command)>) -> Session {
    let mut s = Session::new(rostrum::config::parse_session(text).expect("valid"));
    for (secs, command) in steps {
        let shown = format!("{command:?}");
        let events = domain::decide(&s, command, &Actor::chair("secretariat"), t(secs))
            .unwrap_or_else(|r| panic!("{shown}: {}", r.reason));
        for e in &events {
            domain::apply(&mut s, e);
        }
    }
    s
}

/// The roundtable in its statements, the African Group 1:15 over its 5:00 and
/// PICUM lost; the hearing with IOM paused; the test session not open; and a
/// closed one.
fn forum_sessions() -> Vec<SessionSummary> {
    let roundtable = include_str!("../config/imrf-2022-roundtable-1.toml");
    let hearing = include_str!("../config/imrf-2022-hearing.toml");
    let open = |segment: &str| Command::OpenSegment { segment: segment.into() };
    let status = ConnectionStatus::TechnicalIssue;
    let mut rt = summarize(&shipped(
        roundtable,
        vec![
            (0, open("opening")),
            (1, Command::GiveFloor { entry: 1, budget: None }),
            (60, Command::EndTurn { turn: 52 }),
            (61, open("statements")),
            (62, Command::GiveFloor { entry: 2, budget: None }),
            (63, Command::SetConnection { participant: "picum".into(), status, from: None }),
        ],
    ));
    rt.connected = Presence { chairs: 2, rapporteurs: 1, delegates: 3, observers: 0, displays: 1 };
    // The first turn takes the first id after the speakers inscribed in advance.
    let turn = rostrum::config::parse_session(hearing).expect("valid").pre_inscribed() + 1;
    let mut hr = summarize(&shipped(
        hearing,
        vec![(0, open("opening")), (5, Command::GiveFloor { entry: 1, budget: None }), (50, Command::Pause { turn })],
    ));
    hr.connected = Presence { chairs: 1, rapporteurs: 1, delegates: 0, observers: 4, displays: 2 };
    let waiting = summarize(&session(vec![]));
    let mut closed = summarize(&session(vec![open("general"), Command::CloseSession]));
    closed.id = "closed-session".into();
    closed.title = "Plenary: closing of the Forum".into();
    vec![rt, hr, waiting, closed]
}

fn forum_console(sessions: Vec<SessionSummary>, now: Timestamp) -> Console {
    let keymap = Keymap::from_texts(None, Screen::Forum).expect("keys");
    let mut c = Console::new(keymap, "ws://127.0.0.1:7878/v1/forum?token=secret", now);
    c.link = LinkStatus::Connected;
    c.rtt_ms = Some(2);
    c.role = Some(domain::Role::Chair);
    c.name = "secretariat".into();
    c.sessions = sessions;
    c
}

fn draw_console(c: &Console, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(|frame| console::view::render(c, frame)).expect("draws");
    terminal.backend().to_string()
}

fn check_console(name: &str, c: &Console) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw_console(c, w, h));
    }
}

#[test]
fn the_forum_shows_every_session_with_its_alerts() {
    let c = forum_console(forum_sessions(), t(62 + 300 + 75));
    check_console("forum", &c);
    let screen = draw_console(&c, 120, 40);
    assert!(screen.contains("OVERRUN +1:15"), "{screen}");
    assert!(screen.contains("LOST: PICUM"), "{screen}");
    assert!(screen.contains("paused, "), "{screen}");
    assert!(screen.contains("not open (3 segments)"), "{screen}");
    assert!(screen.contains("closed at 10:00"), "{screen}");
    // At 80 columns the rows that do not fit end in an ellipsis; the alerts come first on theirs.
    let narrow = draw_console(&c, 80, 24);
    assert!(narrow.contains("OVERRUN +1:15"), "{narrow}");
    assert!(narrow.lines().any(|l| l.trim_matches('"').trim_end().ends_with('…')), "{narrow}");
}

#[test]
fn the_forum_scrolls_to_the_selected_session_and_says_how_many_more() {
    let mut many: Vec<SessionSummary> = Vec::new();
    for i in 0..7 {
        let mut s = forum_sessions()[i % 4].clone();
        s.id = format!("session-{i}");
        many.push(s);
    }
    let mut c = forum_console(many, t(400));
    c.selected = 6;
    check_console("forum_scrolled", &c);
    assert!(draw_console(&c, 80, 24).contains("↑ 2 more above"));
}

#[test]
fn the_forum_says_what_it_needs_without_the_token_and_lists_its_keys() {
    let mut c = forum_console(Vec::new(), t(0));
    c.role = None;
    c.link = LinkStatus::Refused { reason: "the forum needs the secretariat's token (HTTP 401)".into() };
    c.refused = Some("the forum needs the secretariat's token (HTTP 401)".into());
    check_console("forum_refused", &c);
    let mut c = forum_console(forum_sessions(), t(100));
    update_console(&mut c, '?');
    check_console("forum_help", &c);
}

fn update_console(c: &mut Console, key: char) {
    let key =
        crossterm::event::KeyEvent::new(crossterm::event::KeyCode::Char(key), crossterm::event::KeyModifiers::NONE);
    console::update(c, Msg::Key(key));
}

// ---- The statement's language ----

/// As `running()`, with languages: Peru in Spanish (on the floor), Chile in
/// French, the Holy See in Italian (not an official language), Ghana none.
fn with_languages() -> Session {
    session(vec![
        open(),
        Command::inscribe_in("peru", "es"),
        Command::inscribe_in("chile", "fr"),
        inscribe("ghana"),
        Command::inscribe_in("holy-see", "it"),
        inscribe("ngo-b"),
        Command::GiveFloor { entry: 3, budget: None },
    ])
}

#[test]
fn the_chair_sees_each_statements_language_on_the_list_and_the_floor() {
    let app = app(with_languages(), t(46));
    check("languages", &app);
    for (w, h) in SIZES {
        let screen = draw(&app, w, h);
        assert!(screen.contains("Peru · in Spanish"), "{w}x{h}: the floor says the language:\n{screen}");
        assert!(screen.contains("lang"), "{w}x{h}: the list has a language column:\n{screen}");
        for (name, code) in [("Chile", "FR"), ("Holy See", "IT")] {
            let row = screen
                .lines()
                .find(|l| l.contains(name) && l.contains("national"))
                .unwrap_or_else(|| panic!("{w}x{h}: {name} is listed:\n{screen}"));
            assert!(row.contains(&format!(" {code} ")), "{w}x{h}: {name}'s row shows {code}: {row}");
        }
        // The selected entry (Chile) says it in full under the list.
        assert!(screen.contains("in French · why here"), "{w}x{h}:\n{screen}");
    }
    // Without a language, the list keeps its columns as they were.
    assert!(!draw(&self::app(running(), t(46)), 80, 24).contains("lang"));
}

#[test]
fn the_inscription_picker_says_the_language_chosen() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = app(session(vec![open()]), t(10));
    for code in [KeyCode::Char('i'), KeyCode::Char('p'), KeyCode::Char('e'), KeyCode::Left] {
        chair::update(&mut app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("language: Spanish (←→ change · Ctrl+L type a code)"), "{screen}");
    assert!(screen.contains("←→ language"), "the footer offers the key:\n{screen}");
    insta::assert_snapshot!("languages_picker_80x24", screen);
}

#[test]
fn a_delegate_sees_the_language_of_its_own_entry() {
    let d = delegate("chile", with_languages(), t(46));
    check_delegate("delegate_languages", &d);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    terminal.draw(|frame| rostrum::tui::delegate::view::render(&d, frame)).expect("draws");
    let screen = terminal.backend().to_string();
    assert!(screen.contains("position 1 (3:00, in French)"), "{screen}");
    // The inscribe popup says the language chosen whole, at 80x24 too.
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut d = delegate("france", with_languages(), t(46));
    for code in [KeyCode::Char('i'), KeyCode::Char('2'), KeyCode::Left] {
        rostrum::tui::delegate::update(&mut d, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
    terminal.draw(|frame| rostrum::tui::delegate::view::render(&d, frame)).expect("draws");
    let screen = terminal.backend().to_string();
    assert!(screen.contains("language: Spanish (←→ change · Ctrl+L type a code)"), "{screen}");
    assert!(screen.contains("its name, e.g. African Group; Enter inscribes"), "{screen}");
}

#[test]
fn languages_with_budgets_leave_long_names_readable_at_every_size() {
    let mut def = rostrum::config::parse_session(include_str!("../config/imrf-2022-roundtable-1.toml")).expect("valid");
    // The statements (with budgets), their list ours alone.
    for segment in def.segments.iter_mut() {
        segment.inscribed.clear();
        segment.inscribed_at.clear();
    }
    let mut s = Session::new(def);
    let steps = [
        Command::OpenSegment { segment: "opening".into() },
        Command::OpenSegment { segment: "statements".into() },
        Command::inscribe_in("united-kingdom", "en"),
        Command::inscribe_in("ohchr", "es"),
        Command::inscribe_in("unhcr", "fr"),
        inscribe("ioe"),
    ];
    for (at, command) in steps.into_iter().enumerate() {
        let shown = format!("{command:?}");
        let events = domain::decide(&s, command, &Actor::chair("chair"), t(at as i64))
            .unwrap_or_else(|r| panic!("{shown}: {}", r.reason));
        for e in &events {
            domain::apply(&mut s, e);
        }
    }
    let app = app(s, t(20));
    for (w, h) in SIZES {
        let screen = draw(&app, w, h);
        assert!(screen.contains("left"), "{w}x{h}: the segment has budgets:\n{screen}");
        for (name, code) in [("United Kingdom", "EN"), ("OHCHR", "ES"), ("UNHCR", "FR")] {
            let row = screen
                .lines()
                .find(|l| l.contains(name) && l.contains(&format!(" {code} ")))
                .unwrap_or_else(|| panic!("{w}x{h}: {name}'s row shows {name} and {code}:\n{screen}"));
            assert!(row.contains("organization") || row.contains("national"), "{row}");
        }
        assert!(screen.contains("IOE"), "{w}x{h}:\n{screen}");
        if w == 80 {
            insta::assert_snapshot!("languages_with_budgets_80x24", screen);
        }
    }
}
