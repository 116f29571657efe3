//! update() tests of the delegate's screen.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::keymap::Screen;
use crate::tui::testkit::{connect, inscribe, open, session_after, t};

/// The delegate of `me`, connected, with the session after the chair's `commands`.
fn delegate(me: &str, commands: Vec<Command>) -> Delegate {
    let mut d = Delegate::new(Keymap::from_texts(None, Screen::Delegate).expect("keys"), t(100));
    connect(&mut d.live, session_after(commands));
    d.participant = Some(me.to_string());
    d
}

fn press(d: &mut Delegate, keys: &str) -> Vec<Command> {
    keys.chars()
        .flat_map(|c| {
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
        }]
    );
    // A stakeholder has one kind of statement: inscribed at once.
    let mut d = delegate("ngo-b", vec![open()]);
    assert_eq!(press(&mut d, "i"), [inscribe("ngo-b")]);
}

#[test]
fn a_delegate_is_offered_only_what_the_hub_allows_it() {
    // On the list already: no inscription; its own entry can be withdrawn, asking first.
    let mut d = delegate("chile", vec![open(), inscribe("peru"), inscribe("chile")]);
    assert!(!d.allowed().inscribe);
    assert!(press(&mut d, "i").is_empty());
    assert!(d.live.status.as_ref().is_some_and(|s| s.text.starts_with("you cannot inscribe now")));
    assert!(!d.allowed().withdraw, "Peru's entry is selected, not Chile's");
    assert!(press(&mut d, "x").is_empty());
    press(&mut d, "j");
    assert!(d.allowed().withdraw);
    assert!(press(&mut d, "x").is_empty());
    let chile = d.own_entries()[0].1.id;
    assert_eq!(press(&mut d, "y"), [Command::Withdraw { entry: chile }]);
    // A stakeholder raises no point of order; an in-room delegation reports no connection.
    let d = delegate("ngo-b", vec![open()]);
    assert!(!d.allowed().point_of_order);
    let d = delegate("chile", vec![open()]);
    assert!(!d.allowed().connection);
    let labels: Vec<String> = view::footer_hints(&d).into_iter().map(|(_, what)| what).collect();
    assert_eq!(labels, ["help", "quit", "inscribe", "right of reply", "point of order"]);
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
    assert_eq!(
        press(&mut d, "s1"),
        [Command::SetConnection {
            participant: "ghana".into(),
            status: ConnectionStatus::Connected,
            from: Some(ConnectionStatus::TechnicalIssue)
        }]
    );
}

#[test]
fn rights_of_reply_and_points_of_order_are_the_delegations_own() {
    let mut d = delegate("chile", vec![open()]);
    assert_eq!(press(&mut d, "y"), [Command::RequestReply { participant: "chile".into(), segment: None }]);
    assert_eq!(press(&mut d, "o"), [Command::RaisePointOfOrder { by: "chile".into() }]);
    let mut d = delegate("chile", vec![open(), Command::RequestReply { participant: "chile".into(), segment: None }]);
    let entry = d.own_entries()[0].1.id;
    assert!(press(&mut d, "y").is_empty(), "withdrawing asks first");
    assert_eq!(press(&mut d, "y"), [Command::WithdrawReply { entry }]);
}
