use super::*;
use crate::domain::Numerals;

const VALID: &str = include_str!("../../tests/data/small.toml");

fn problems(source: &str) -> Vec<String> {
    match parse_session(source) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(|p| format!("{}:{}: {}", p.line, p.column, p.message)).collect(),
    }
}

#[test]
fn the_shipped_examples_are_valid() {
    for (name, text) in [
        ("hearing", include_str!("../../config/imrf-2022-hearing.toml")),
        ("roundtable", include_str!("../../config/imrf-2022-roundtable-1.toml")),
    ] {
        let def = parse_session(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(def.participants.len() > 200, "{name} has a full roster");
    }
    let roundtable = parse_session(include_str!("../../config/imrf-2022-roundtable-1.toml")).expect("valid");
    let states = roundtable.participants.iter().filter(|p| p.kind == ParticipantKind::MemberState).count();
    assert_eq!(states, 193, "all 193 Member States");
    // Budgets: delegations and regional groups in the roundtable's statements,
    // constituencies in each of the hearing's panels.
    let statements = roundtable.segments.iter().find(|s| s.id == "statements").expect("statements");
    let per: Vec<(BudgetPer, u32)> = statements.budgets.iter().map(|b| (b.per, b.secs)).collect();
    assert_eq!(per, [(BudgetPer::Participant, 360), (BudgetPer::RegionalGroup, 1800)]);
    let hearing = parse_session(include_str!("../../config/imrf-2022-hearing.toml")).expect("valid");
    for panel in ["panel-1", "panel-2"] {
        let segment = hearing.segments.iter().find(|s| s.id == panel).expect("a panel");
        assert_eq!(
            segment.budgets.iter().map(|b| (b.per, b.secs)).collect::<Vec<_>>(),
            [(BudgetPer::Constituency, 720)]
        );
    }
}

#[test]
fn budgets_are_checked_like_everything_else() {
    // A budget on the general debate (the table before the next segment).
    let source = VALID.replacen(
        "[[segments]]\nid = \"alternating\"",
        "[[segments.budgets]]\nper = \"constituncy\"\ntime = \"12 min\"\nkinds = [\"stakholder\"]\n\n[[segments]]\nid = \"alternating\"",
        1,
    );
    assert_ne!(source, VALID);
    let text = problems(&source).join("\n");
    assert!(text.contains("`per` cannot be \"constituncy\" (did you mean `constituency`?)"), "{text}");
    assert!(text.contains("`time`: bad duration \"12 min\" (did you mean \"12m\"?)"), "{text}");
    assert!(text.contains("`kinds` cannot be \"stakholder\" (did you mean `stakeholder`?)"), "{text}");
}

#[test]
fn durations_read_as_people_write_them() {
    assert_eq!(parse_duration("3m"), Some(180));
    assert_eq!(parse_duration("90s"), Some(90));
    assert_eq!(parse_duration("2m30s"), Some(150));
    assert_eq!(parse_duration("1h"), Some(3600));
    assert_eq!(parse_duration("45"), Some(45));
    for bad in ["", "3x", "m", "3m20", "-3m", "99999999999h"] {
        assert_eq!(parse_duration(bad), None, "{bad:?}");
    }
}

#[test]
fn a_syntax_error_names_its_line_and_column() {
    let source = "id = \"x\"\ntitle = \"t\"\nstart = = 3\n";
    let found = problems(source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("3:9:"), "{found:?}");
}

#[test]
fn every_problem_is_reported_with_its_line_and_column() {
    let source = VALID
        .replace("observers_open = false", "observers_open = false\nsecret_mode = true")
        .replace("national = \"3m\"", "national = \"3x\"")
        .replace("inscribed = [\"chile\", \"ngo-a\"]", "inscribed = [\"chile\", \"atlantis\"]")
        .replace("id = \"peru\"", "id = \"chile\"")
        .replace("constituency = \"youth\"", "constituency = \"youth\"\nfavourite_colour = \"blue\"");
    let found = problems(&source);
    let line_of = |needle: &str| source.lines().position(|l| l.contains(needle)).expect("present") + 1;
    let expect = [
        format!("{}:1: unknown key `secret_mode`", line_of("secret_mode")),
        format!("{}:12: `national`: bad duration \"3x\"", line_of("\"3x\"")),
        format!("{}:23: unknown participant \"atlantis\" in `inscribed`", line_of("atlantis")),
        format!("{}:1: unknown key `participants.9.favourite_colour`", line_of("favourite_colour")),
    ];
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(found[0].starts_with(&expect[0]), "{found:#?}");
    assert!(found[1].starts_with(&expect[1]), "{found:#?}");
    assert!(found[2].starts_with(&expect[2]), "{found:#?}");
    let duplicate_line =
        source.lines().enumerate().filter(|(_, l)| *l == "id = \"chile\"").nth(1).expect("twice").0 + 1;
    let first_line = line_of("id = \"chile\"");
    assert_eq!(
        found[3],
        format!("{duplicate_line}:6: duplicate participant id \"chile\" (first at line {first_line})")
    );
    assert!(found[4].starts_with(&expect[3]), "{found:#?}");
}

#[test]
fn rules_between_keys_are_checked() {
    let source = VALID
        .replace("regional_group = \"grulac\"\nlevel = \"head-of-delegation\"", "level = \"head-of-delegation\"")
        .replace("constituency = \"migrant-organization\"", "level = \"minister\"")
        .replace("recording = \"4m\"", "")
        .replace("alternate_every = 2", "alternate_every = 0");
    let found = problems(&source);
    let text = found.join("\n");
    assert!(text.contains("member State \"chile\" needs a `regional_group`"), "{text}");
    assert!(text.contains("`level` is for State delegations; \"ngo-a\" is a stakeholder"), "{text}");
    assert!(text.contains("stakeholder \"ngo-a\" needs a `constituency`"), "{text}");
    assert!(text.contains("pre-recorded \"fiji\" needs a `recording` length"), "{text}");
    assert!(text.contains("`alternate_every` must be a whole number of at least 1"), "{text}");
    assert_eq!(found.len(), 5, "{text}");
}

#[test]
fn a_wrong_value_is_reported_at_its_value_with_the_valid_ones() {
    let source = VALID.replace("kind = \"un-entity\"", "kind = \"spaceship\"");
    let found = problems(&source);
    let line = source.lines().position(|l| l.contains("spaceship")).expect("present") + 1;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(&format!("{line}:8: `kind` cannot be \"spaceship\"; it is one of \"member-state\"")),
        "{found:?}"
    );
}

#[test]
fn five_typos_are_found_in_one_run_each_with_the_nearest_valid_value() {
    let source = VALID
        .replacen("modality = \"remote\"", "modalty = \"remote\"", 1)
        .replacen("level = \"head-of-delegation\"", "level = \"vice minister\"", 1)
        .replacen("precedence = \"un-protocol\"", "precedence = \"un-protocl\"", 1)
        .replacen("national = \"3m\"", "national = \"3 min\"", 1)
        .replacen("inscribed = [\"chile\", \"ngo-a\"]", "inscribed = [\"chlie\", \"ngo-a\"]", 1);
    assert_ne!(source, VALID);
    let found = problems(&source);
    let text = found.join("\n");
    let line_of = |needle: &str| source.lines().position(|l| l.contains(needle)).expect("present") + 1;
    for (needle, message) in [
        ("modalty", "unknown key `participants.3.modalty` (did you mean `modality`?)"),
        ("vice minister", "`level` cannot be \"vice minister\" (did you mean `vice-minister`?)"),
        ("un-protocl", "`precedence` cannot be \"un-protocl\" (did you mean `un-protocol`?)"),
        ("3 min", "`national`: bad duration \"3 min\" (did you mean \"3m\"?)"),
        ("chlie", "unknown participant \"chlie\" in `inscribed` (did you mean `chile`?)"),
    ] {
        let line = line_of(needle);
        assert!(
            found.iter().any(|f| f.starts_with(&format!("{line}:")) && f.contains(message)),
            "{message} at line {line}:\n{text}"
        );
    }
    assert_eq!(found.len(), 5, "{text}");
}

#[test]
fn times_must_be_in_order_and_carry_an_offset() {
    let source = VALID.replace("end = 2022-05-17T11:00:00-04:00", "end = 2022-05-17T09:00:00-04:00");
    let text = problems(&source).join("\n");
    assert!(text.contains("the segment's `end` must come after its `start`"), "{text}");
    let source = VALID.replacen("start = 2022-05-17T10:00:00-04:00", "start = 2022-05-17T10:00:00", 1);
    let text = problems(&source).join("\n");
    assert!(text.contains("`start` must be a date and time with an offset"), "{text}");
}

#[test]
fn line_and_column_count_characters() {
    assert_eq!(line_column("ab\ncdé f", 8), (2, 5));
    assert_eq!(line_column("", 10), (1, 1));
}

#[test]
fn an_inscription_may_carry_the_time_it_was_made() {
    let timed = VALID.replace(
        r#"inscribed = ["chile", "ngo-a"]"#,
        r#"inscribed = ["chile", { participant = "ngo-a", at = 2022-05-10T09:12:00-04:00 }]"#,
    );
    let def = parse_session(&timed).expect("valid");
    let segment = def.segments.iter().find(|s| !s.inscribed.is_empty()).expect("a segment inscribes");
    assert_eq!(segment.inscribed, ["chile", "ngo-a"]);
    let times: Vec<String> = segment.inscribed_at.iter().map(|t| t.to_rfc3339()).collect();
    // Without a time of its own, an entry is inscribed at the session's start.
    assert_eq!(times, [def.start.to_rfc3339(), "2022-05-10T09:12:00-04:00".to_string()]);
    // Untimed files are as before.
    assert!(parse_session(VALID).expect("valid").segments.iter().all(|s| s.inscribed_at.is_empty()));

    let bad = VALID.replace(
        r#"inscribed = ["chile", "ngo-a"]"#,
        r#"inscribed = [{ participant = "chile", when = 2022-05-10T09:12:00-04:00 }, { participant = "ngo-a", at = "soon" }, 7]"#,
    );
    let found = problems(&bad);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].contains("unknown key `when` in an entry of `inscribed`"), "{found:?}");
    assert!(found[1].contains("this entry's `at` must be a date and time with an offset"), "{found:?}");
    assert!(found[2].contains("an entry of `inscribed` is a participant id, or { participant"), "{found:?}");
}

#[test]
fn the_forums_secretariat_is_no_persons_id() {
    let text = VALID.replacen("[[chairs]]", "[[officers]]\nname = \"Secretariat\"\n\n[[chairs]]", 1);
    let found = problems(&text);
    assert!(found.iter().any(|p| p.contains("the id \"secretariat\" is the forum's")), "{found:?}");
}

#[test]
fn names_in_other_languages_and_the_arabic_numerals_are_read() {
    // tests/data/small.toml gives Peru's name in the six languages; Chile's Chinese name is blank here.
    let source = VALID.replacen("name = \"Chile\"\n", "name = \"Chile\"\nname_zh = \" \"\n", 1);
    let source = source.replacen("observers_open = false\n", "observers_open = false\nnumerals = \"arab\"\n", 1);
    let def = parse_session(&source).expect("valid");
    let peru = def.participant("peru").expect("Peru");
    assert_eq!(peru.name_in("fr"), "Pérou");
    assert_eq!(peru.name_in("ar"), "بيرو");
    assert_eq!(peru.name_in("zh"), "秘鲁");
    assert_eq!(def.participant("chile").expect("Chile").name_in("zh"), "Chile", "a blank name is no name");
    assert_eq!(def.numerals, Numerals::Arab);
    assert_eq!(parse_session(VALID).expect("valid").numerals, Numerals::Latn, "Western digits unless the file says");
    let bad = source.replacen("numerals = \"arab\"", "numerals = \"hindi\"", 1);
    let found = problems(&bad);
    assert!(found.iter().any(|p| p.starts_with("7:12:") && p.contains("latn")), "{found:?}");
    let typo = source.replacen("name_fr", "name_fre", 1);
    assert!(problems(&typo).iter().any(|p| p.contains("name_fre") && p.contains("name_fr")), "{:?}", problems(&typo));
}

#[test]
fn an_inscription_may_give_the_language_of_its_statement() {
    let source = VALID.replace(
        r#"inscribed = ["chile", "ngo-a"]"#,
        r#"inscribed = [{ participant = "chile", at = 2022-05-10T09:12:00-04:00, language = "FR" }, { participant = "ngo-a", language = "pt" }]"#,
    );
    let def = parse_session(&source).expect("valid");
    let index = def.segments.iter().position(|s| s.id == "dialogue").expect("the dialogue");
    let segment = &def.segments[index];
    assert_eq!(segment.inscribed_language, [Some("fr".to_string()), Some("pt".to_string())], "in lower case");
    // An entry without `at` is inscribed at the session's start.
    assert_eq!(segment.inscribed_at[1], def.start);
    // The pre-inscribed entries carry it onto the list.
    let session = crate::domain::Session::new(def.clone());
    let languages: Vec<(&str, Option<&str>)> =
        session.segments[index].list.iter().map(|e| (e.participant.as_str(), e.language.as_deref())).collect();
    assert_eq!(languages, [("chile", Some("fr")), ("ngo-a", Some("pt"))]);
    // Files without languages are as before.
    assert!(parse_session(VALID).expect("valid").segments.iter().all(|s| s.inscribed_language.is_empty()));

    // A code that is no language, and one that is no text: each said at its entry.
    let bad = VALID.replace(
        r#"inscribed = ["chile", "ngo-a"]"#,
        r#"inscribed = [{ participant = "chile", language = "french" }, { participant = "ngo-a", language = 7 }]"#,
    );
    let line = bad.lines().position(|l| l.starts_with("inscribed = [{")).expect("the line") + 1;
    let found = problems(&bad);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0]
            .starts_with(&format!("{line}:14: this entry's `language`: \"french\" is not an ISO 639-1 language code")),
        "{found:?}"
    );
    assert!(found[1].starts_with(&format!("{line}:")) && found[1].contains("must be a code in quotes"), "{found:?}");
    let typo =
        VALID.replace(r#"inscribed = ["chile", "ngo-a"]"#, r#"inscribed = [{ participant = "chile", lang = "fr" }]"#);
    assert!(
        problems(&typo).iter().any(|p| p.contains("unknown key `lang`") && p.contains("language")),
        "{:?}",
        problems(&typo)
    );
}
