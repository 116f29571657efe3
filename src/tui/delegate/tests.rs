//! update() tests of the delegate's screen: keys in, commands out, and a hub
//! (the real rules, [`hub_answers`]) answering them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::domain::Actor;
use crate::tui::keymap::Screen;
use crate::tui::testkit::{connect_as, hub_answers, inscribe, open, session_after, t};

/// The delegate of `me`, connected, with the session after the chair's `commands`.
fn delegate(me: &str, commands: Vec<Command>) -> Delegate {
    let mut d = Delegate::new(Keymap::from_texts(None, Screen::Delegate).expect("keys"), t(100));
    connect_as(&mut d.live, session_after(commands), Actor::delegate(me));
    d.participant = Some(me.to_string());
    d
}

/// Press keys slowly: before each key, the hub has answered what was sent.
fn press(d: &mut Delegate, keys: &str) -> Vec<Command> {
    keys.chars()
        .flat_map(|c| {
            for msg in hub_answers(&d.live) {
                update(d, msg);
            }
            let code = match c {
                '\n' => KeyCode::Enter,
                '⎋' => KeyCode::Esc,
                c => KeyCode::Char(c),
            };
            update(d, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        })
        .filter_map(|e| match e {
            Effect::Send { command, .. } => Some(command),
            _ => None,
        })
        .collect()
}

fn footer(d: &Delegate) -> Vec<String> {
    view::footer_hints(d).into_iter().map(|(_, what)| what).collect()
}

fn status(d: &Delegate) -> String {
    d.live.status.as_ref().map(|s| s.text.clone()).unwrap_or_default()
}

#[test]
fn a_delegate_inscribes_itself_nationally_or_for_a_group_it_names() {
    let mut d = delegate("chile", vec![open()]);
    assert_eq!(press(&mut d, "i1"), [inscribe("chile")]);
    let mut d = delegate("chile", vec![open()]);
    assert_eq!(
        press(&mut d, "i2African Group\n"),
        [Command::Inscribe {
            participant: "chile".into(),
            segment: None,
            kind: Some(StatementKind::Group),
            level: None,
            on_behalf_of: Some("african-group".into()),
            language: None,
        }]
    );
    // A stakeholder has one kind of statement: inscribed at once.
    let mut d = delegate("ngo-b", vec![open()]);
    assert_eq!(press(&mut d, "i"), [inscribe("ngo-b")]);
}

#[test]
fn a_delegate_is_offered_only_what_the_hub_allows_it() {
    // On the list already: no inscription, and the rules' own reason; its own
    // entry can be withdrawn, asking first.
    let mut d = delegate("chile", vec![open(), inscribe("peru"), inscribe("chile")]);
    assert!(!footer(&d).contains(&"inscribe".to_string()));
    assert!(press(&mut d, "i").is_empty());
    assert!(status(&d).contains("Chile is on the list") && status(&d).contains("at position 2"), "{}", status(&d));
    assert!(!footer(&d).contains(&"withdraw".to_string()), "Peru's entry is selected, not Chile's");
    assert!(press(&mut d, "x").is_empty());
    press(&mut d, "j");
    assert!(footer(&d).contains(&"withdraw".to_string()));
    assert!(press(&mut d, "x").is_empty());
    let chile = d.own_entries()[0].1.id;
    assert_eq!(press(&mut d, "y"), [Command::Withdraw { entry: chile }]);
    // A stakeholder raises no point of order; an in-room delegation reports no connection.
    let d = delegate("ngo-b", vec![open()]);
    assert!(!footer(&d).contains(&"point of order".to_string()));
    let d = delegate("chile", vec![open()]);
    assert_eq!(footer(&d), ["help", "quit", "inscribe", "right of reply", "point of order"]);
}

#[test]
fn a_closed_list_is_not_offered_and_says_why() {
    let mut d = delegate("chile", vec![open(), Command::CloseList { segment: None }]);
    assert!(!footer(&d).contains(&"inscribe".to_string()));
    assert!(press(&mut d, "i").is_empty());
    assert!(status(&d).contains("is closed: no new inscriptions"), "{}", status(&d));
}

#[test]
fn a_remote_delegate_reports_its_connection_stating_what_it_saw() {
    let mut d = delegate(
        "ghana",
        vec![
            open(),
            Command::SetConnection {
                participant: "ghana".into(),
                status: ConnectionStatus::TechnicalIssue,
                from: None,
            },
        ],
    );
    press(&mut d, "s");
    // Only what a delegate may report from here: connected.
    let Mode::Connection { choices } = &d.mode else { panic!("the connection popup, not {:?}", d.mode) };
    let offered: Vec<(ConnectionStatus, bool)> = choices.iter().map(|(s, c)| (*s, c.is_ok())).collect();
    assert_eq!(offered, [(ConnectionStatus::Connected, true), (ConnectionStatus::TechnicalIssue, false)]);
    assert_eq!(
        press(&mut d, "1"),
        [Command::SetConnection {
            participant: "ghana".into(),
            status: ConnectionStatus::Connected,
            from: Some(ConnectionStatus::TechnicalIssue)
        }]
    );
}

#[test]
fn rights_of_reply_are_the_delegations_own() {
    let mut d = delegate("chile", vec![open()]);
    assert_eq!(press(&mut d, "a"), [Command::RequestReply { participant: "chile".into(), segment: None }]);
    let mut d = delegate("chile", vec![open(), Command::RequestReply { participant: "chile".into(), segment: None }]);
    let entry = d.own_entries()[0].1.id;
    assert!(press(&mut d, "a").is_empty(), "withdrawing asks first");
    assert_eq!(press(&mut d, "y"), [Command::WithdrawReply { entry }]);
}

#[test]
fn a_point_of_order_asks_first_and_can_be_withdrawn_until_ruled() {
    let mut d = delegate("chile", vec![open()]);
    assert!(press(&mut d, "o").is_empty(), "raising a point of order asks first");
    assert!(matches!(d.mode, Mode::Confirm { .. }));
    assert!(press(&mut d, "⎋").is_empty(), "Esc answers no: nothing is sent");
    assert!(press(&mut d, "o").is_empty());
    assert_eq!(press(&mut d, "y"), [Command::RaisePointOfOrder { by: "chile".into() }]);
    press(&mut d, "j");
    // Raised (the hub has answered): the same key now withdraws it, asking first.
    assert!(footer(&d).contains(&"withdraw point of order".to_string()), "{:?}", footer(&d));
    let point = d.session().and_then(|s| s.point_of_order.as_ref()).map(|p| p.id).expect("pending");
    assert!(press(&mut d, "o").is_empty());
    assert_eq!(press(&mut d, "y"), [Command::WithdrawPointOfOrder { point }]);
    press(&mut d, "j");
    assert!(d.session().is_some_and(|s| s.point_of_order.is_none()), "withdrawn");
    // Another delegation's point of order is not this one's to withdraw.
    let mut other = delegate("peru", vec![open(), Command::RaisePointOfOrder { by: "chile".into() }]);
    assert!(!footer(&other).iter().any(|f| f.contains("point of order")));
    assert!(press(&mut other, "o").is_empty());
    assert!(status(&other).contains("pending"), "{}", status(&other));
}

#[test]
fn a_delegate_gives_the_language_of_its_statement_with_the_arrows() {
    let mut d = delegate("chile", vec![open()]);
    assert!(press(&mut d, "i").is_empty());
    for _ in 0..4 {
        update(&mut d, Msg::Key(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE)));
    }
    assert_eq!(d.mode, Mode::Inscribe { group: None, language: widgets::language::Choice::of("fr") });
    assert!(view::footer_hints(&d).iter().any(|(key, what)| key == "←→" && what == "language"));
    let sent = press(&mut d, "1");
    assert_eq!(sent, [Command::inscribe_in("chile", "fr")]);
    // The hub's answer is in: its own entry says its language.
    for msg in hub_answers(&d.live) {
        update(&mut d, msg);
    }
    let own: Vec<Option<&str>> = d.own_entries().iter().map(|(_, e)| e.language.as_deref()).collect();
    assert_eq!(own, [Some("fr")]);

    // On behalf of a group: the arrows choose while the group's name is typed.
    let mut d = delegate("chile", vec![open()]);
    press(&mut d, "i2Afr");
    update(&mut d, Msg::Key(KeyEvent::new(KeyCode::Left, KeyModifiers::NONE)));
    let sent = press(&mut d, "ican Group\n");
    let [Command::Inscribe { on_behalf_of, language, .. }] = sent.as_slice() else { panic!("one inscription") };
    assert_eq!((on_behalf_of.as_deref(), language.as_deref()), (Some("african-group"), Some("es")));
}

#[test]
fn a_delegate_types_another_languages_code_with_ctrl_l() {
    let mut d = delegate("chile", vec![open()]);
    press(&mut d, "i2Andean");
    update(&mut d, Msg::Key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL)));
    // The letters are the code's while it is typed, then the group's name again.
    assert!(press(&mut d, "qu\n").is_empty());
    assert!(view::footer_hints(&d).iter().any(|(_, what)| what == "the group's name"));
    let sent = press(&mut d, " Community\n");
    let [Command::Inscribe { on_behalf_of, language, .. }] = sent.as_slice() else { panic!("one inscription") };
    assert_eq!((on_behalf_of.as_deref(), language.as_deref()), (Some("Andean Community"), Some("qu")));
}
