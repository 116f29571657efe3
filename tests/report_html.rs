//! The report as a page: the shipped sample's page has every chart and the
//! Markdown report's figures (both read back from what the command line writes);
//! Chromium draws it (screenshots and a PDF under target/web-screenshots); the hub
//! serves it for a live session, changing as the session goes, behind the
//! observer's token when the session is not open to observers.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::browser::Browser;
use common::{SESSION, inscribe};
use rostrum::domain::{Actor, Command};
use rostrum::hub::{Hub, Settings};
use serde_json::json;

/// Every chart the page draws, by its `data-chart`.
const CHARTS: [&str; 7] =
    ["by-kind", "by-regional-group", "by-constituency", "timeline", "waiting", "budgets", "objectives"];

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sample-session.jsonl")
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots")
}

/// `rostrum report --format FORMAT` of the sample, as the command line prints it.
fn cli(format: &str, out: Option<&Path>) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"));
    command.args(["report", "--format", format]).arg(sample());
    if let Some(out) = out {
        command.arg("--out").arg(out);
    }
    let run = command.output().expect("runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    match out {
        Some(out) => std::fs::read_to_string(out).expect("the page is written"),
        None => String::from_utf8(run.stdout).expect("utf-8"),
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// The text of an HTML fragment: tags dropped (a block's as a space), entities read, spaces folded.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('>').map_or(rest.len(), |c| open + c + 1);
        let name: String =
            rest[open + 1..close].trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
        if ["p", "br", "li", "h3", "div", "td", "th", "dd", "dt"].contains(&name.as_str()) {
            out.push(' ');
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    unescape(&out).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The cells of every body row of each table whose opening tag has `marker`.
fn html_rows(html: &str, marker: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (at, _) in html.match_indices(marker) {
        let table = &html[at..];
        let table = &table[..table.find("</table>").expect("the table ends")];
        let body = &table[table.find("<tbody>").expect("a body")..];
        for row in body.split("<tr").skip(1) {
            let mut cells = Vec::new();
            let mut rest = row;
            while let Some(start) = rest.find("<td").into_iter().chain(rest.find("<th")).min() {
                let cell = &rest[start..];
                let end = cell.find("</td>").into_iter().chain(cell.find("</th>")).min().expect("the cell ends");
                let open_end = cell.find('>').expect("the tag ends");
                cells.push(text_of(&cell[open_end + 1..end]));
                rest = &cell[end + 5..];
            }
            rows.push(cells);
        }
    }
    rows
}

/// The rows of the Markdown tables under `heading` (up to the next heading of its level or above).
fn md_rows(md: &str, heading: &str) -> Vec<Vec<String>> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let start = md.find(&format!("{heading}\n")).unwrap_or_else(|| panic!("the markdown has {heading}"));
    let mut rows = Vec::new();
    for line in md[start + heading.len()..].lines().skip(1) {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if hashes > 0 && hashes <= level {
            break;
        }
        let Some(inner) = line.strip_prefix('|').and_then(|l| l.strip_suffix('|')) else { continue };
        let cells: Vec<String> = inner.split('|').map(|c| c.trim().to_string()).collect();
        // Skip the head and its rule.
        if cells.iter().all(|c| c.starts_with("---") || c.starts_with(":---")) || cells[0].is_empty() || cells[0] == "#"
        {
            continue;
        }
        if cells[0] == "modality" {
            continue;
        }
        rows.push(cells);
    }
    rows
}

/// Under each `### Objective N: …` of a Markdown section, how many items start with `item`.
fn md_objective_counts(md: &str, section: &str, item: &str) -> Vec<(u8, usize)> {
    let start = md.find(&format!("## {section}\n")).unwrap_or_else(|| panic!("the markdown has {section}"));
    let body = &md[start + section.len() + 4..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut counts = Vec::new();
    for block in body.split("### Objective ").skip(1) {
        let n: u8 = block.split(':').next().and_then(|n| n.trim().parse().ok()).expect("an objective number");
        counts.push((n, block.lines().filter(|l| l.starts_with(item)).count()));
    }
    counts
}

/// The `<svg>` of a chart.
fn chart<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!("data-chart=\"{id}\"")).unwrap_or_else(|| panic!("the page draws {id}"));
    let start = html[..at].rfind("<svg").expect("an svg");
    let end = html[at..].find("</svg>").expect("the svg ends") + at;
    &html[start..end]
}

#[test]
fn the_samples_page_has_every_chart_and_the_markdowns_figures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let html = cli("html", Some(&dir.path().join("report.html")));
    let md = cli("markdown", None);
    let json: serde_json::Value = serde_json::from_str(&cli("json", None)).expect("json");

    // One self-contained page: no script, nothing fetched, its policy inline.
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80]);
    assert!(!html.contains("<script"), "no script");
    for fetch in ["src=", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(fetch), "nothing fetched: {fetch}");
    }
    assert!(html.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-"));
    // The library makes the same page as the command line.
    let contents = rostrum::journal::read_file(&sample()).expect("the sample verifies");
    assert_eq!(rostrum::report::html::from_journal(&contents).expect("a page"), html);

    for id in CHARTS {
        let svg = chart(&html, id);
        assert!(svg.contains("role=\"img\"") && svg.contains(&format!("<title id=\"{id}-title\">")), "{id}");
    }

    // Speakers: the page's tables say what the Markdown's say, row for row.
    let md_turns = md_rows(&md, "## Speakers");
    let html_turns = html_rows(&html, "data-table=\"turns\"");
    assert_eq!(md_turns.len(), 4, "{md}");
    assert_eq!(html_turns, md_turns);
    // Every statement is a block on the timeline.
    let timeline = chart(&html, "timeline");
    assert_eq!(timeline.matches("class=\"turn\"").count(), md_turns.len());
    assert_eq!(
        timeline.matches("class=\"point-of-order\"").count(),
        json["points_of_order"].as_array().map_or(0, Vec::len)
    );

    // Shares: statements, share, speaking time, share as in the Markdown; the roster as in the JSON.
    for (heading, id, key) in [
        ("### By kind of participant", "by-kind", "by_kind"),
        ("### By UN regional group (States)", "by-regional-group", "by_regional_group"),
        ("### By constituency (stakeholders)", "by-constituency", "by_constituency"),
    ] {
        let md_shares = md_rows(&md, heading);
        let html_shares: Vec<Vec<String>> = html_rows(&html, &format!("data-figure=\"{id}\""))
            .into_iter()
            .filter(|r| !r[0].starts_with("Not heard"))
            .collect();
        assert!(!md_shares.is_empty(), "{heading}");
        assert_eq!(html_shares.iter().map(|r| r[..5].to_vec()).collect::<Vec<_>>(), md_shares, "{id}");
        let roster: Vec<String> = json[key]
            .as_array()
            .expect("shares")
            .iter()
            .map(|s| format!("{:.1}%", s["roster_percent"].as_f64().expect("a percent")))
            .collect();
        assert_eq!(html_shares.iter().map(|r| r[5].clone()).collect::<Vec<_>>(), roster, "{id}");
        // The chart labels its bars with the same figures.
        let svg = chart(&html, id);
        for row in &html_shares {
            for figure in [&row[2], &row[4], &row[5]] {
                assert!(svg.contains(&format!(">{figure}</text>")), "{id} labels {figure}");
            }
            assert!(svg.contains(&format!("{} · ", row[3])), "{id} shows {}", row[3]);
        }
    }
    // The rest of the roster, never heard: Member States 50% and stakeholders 20% of
    // the ten participants leave the group of States, the observer State, the UN entity.
    let kind_rows = html_rows(&html, "data-figure=\"by-kind\"");
    assert_eq!(kind_rows.last().map(|r| r[5].as_str()), Some("30.0%"));

    // Waiting: mean, median and longest per modality.
    let md_waiting = md_rows(&md, "## Waiting time, inscription to floor");
    assert_eq!(md_waiting.len(), 3);
    assert_eq!(html_rows(&html, "data-figure=\"waiting\""), md_waiting);
    let svg = chart(&html, "waiting");
    for row in &md_waiting {
        if row[2] != "—" {
            assert!(
                svg.contains(&format!(">mean {}</text>", row[2]))
                    && svg.contains(&format!(">longest {}</text>", row[4]))
            );
        }
    }

    // Notes and pledges by objective: the Markdown's lists, counted.
    let notes = md_objective_counts(&md, "Notes by GCM objective", "- on ");
    let pledges = md_objective_counts(&md, "Pledges by GCM objective", "  - **Pledge by");
    assert_eq!((notes.clone(), pledges.clone()), (vec![(5, 1)], vec![(5, 1), (6, 1)]));
    let html_counts: Vec<(u8, usize, usize)> = html_rows(&html, "data-figure=\"objectives\"")
        .iter()
        .map(|r| (r[0].parse().expect("n"), r[2].parse().expect("notes"), r[3].parse().expect("pledges")))
        .collect();
    let mut expected: Vec<(u8, usize, usize)> = (1..=23u8)
        .map(|o| {
            let of = |list: &[(u8, usize)]| list.iter().find(|(n, _)| *n == o).map_or(0, |(_, c)| *c);
            (o, of(&notes), of(&pledges))
        })
        .filter(|(_, n, p)| n + p > 0)
        .collect();
    expected.sort_unstable();
    assert_eq!(html_counts, expected);

    // The chair's summary draft: per objective, the notes with the speaker and the author.
    let draft = &html[html.find("id=\"draft\"").expect("the draft")..];
    let marker = "data-objective=\"5\">";
    let objective5 = &draft[draft.find(marker).expect("objective 5") + marker.len()..];
    let objective5 = text_of(&objective5[..objective5.find("</section>").expect("ends")]);
    assert!(objective5.starts_with("Objective 5. Regular pathways"), "{objective5}");
    assert!(
        objective5.contains(
            "Peru announces a regularization programme. On the statement of Peru (General debate, 10:01) · note by Ana, 10:02"
        ),
        "{objective5}"
    );
    assert!(objective5.contains("Pledge Chile: 5,000 seasonal work visas a year."), "{objective5}");
}

/// Wait until the file's page (not the blank one before it) has loaded (polling, never a bare sleep).
async fn loaded(browser: &mut Browser, page: &common::browser::Page) {
    let start = std::time::Instant::now();
    let ready = "location.protocol === 'file:' && document.readyState === 'complete'";
    while browser.eval(page, ready).await != json!(true) {
        assert!(start.elapsed() < common::browser::DEADLINE, "the page loads");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Screenshots of the whole page, `height` pixels each, as NAME-1.png, NAME-2.png …
async fn shoot(browser: &mut Browser, page: &common::browser::Page, width: u32, height: u32, name: &str) -> usize {
    use base64::Engine;
    let full = browser.eval(page, "document.documentElement.scrollHeight").await.as_u64().expect("a height") as u32;
    browser.resize(page, width, full).await;
    let mut n = 0;
    let mut y = 0;
    while y < full {
        n += 1;
        let clip = json!({ "x": 0, "y": y, "width": width, "height": height.min(full - y), "scale": 1 });
        let shot = browser
            .call(
                Some(&page.session),
                "Page.captureScreenshot",
                json!({ "format": "png", "clip": clip, "captureBeyondViewport": true }),
            )
            .await;
        let png =
            base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().expect("png")).expect("base64");
        std::fs::create_dir_all(screenshots()).expect("screenshot folder");
        std::fs::write(screenshots().join(format!("{name}-{n}.png")), png).expect("written");
        y += height;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_draws_every_chart_of_the_samples_page_and_prints_it_on_a4() {
    use base64::Engine;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.html");
    cli("html", Some(&path));
    let mut browser = Browser::start().await;
    let page = browser.open(&format!("file://{}", path.display()), 1280, 900).await;
    loaded(&mut browser, &page).await;

    // Every chart is drawn, with a size: its box in the page.
    let boxes = browser
        .eval(
            &page,
            "[...document.querySelectorAll('svg[data-chart]')].map(s => { const r = s.getBoundingClientRect(); \
             return [s.dataset.chart, Math.round(r.width), Math.round(r.height)]; })",
        )
        .await;
    let boxes = boxes.as_array().expect("a list").clone();
    let drawn: Vec<&str> = boxes.iter().filter_map(|b| b[0].as_str()).collect();
    assert_eq!(drawn, CHARTS, "{boxes:?}");
    for b in &boxes {
        assert!(b[1].as_u64() > Some(200) && b[2].as_u64() > Some(30), "a chart too small to see: {b}");
    }
    // Its own style sheet applies (the policy lets it in by its hash), and nothing was fetched.
    let applied = browser.eval(&page, "getComputedStyle(document.querySelector('.chapter h2')).borderTopWidth").await;
    assert_eq!(applied, json!("3px"), "the page's style sheet applies");
    let fetched = browser.eval(&page, "performance.getEntriesByType('resource').length").await;
    assert_eq!(fetched, json!(0), "nothing fetched");
    // A bar's fill pattern is defined in its own chart: grey print tells series apart by it.
    let patterns = browser
        .eval(
            &page,
            "[...document.querySelectorAll('svg[data-chart]')].every(s => \
             [...s.querySelectorAll('[fill^=\"url(#\"]')].every(e => s.querySelector(e.getAttribute('fill').slice(4, -1))))",
        )
        .await;
    assert_eq!(patterns, json!(true));

    let shots = shoot(&mut browser, &page, 1280, 1100, "report-1280").await;
    assert!(shots >= 3, "a page of several screens: {shots}");
    // Each figure on its own, to look at closely.
    for id in CHARTS {
        let at = browser
            .eval(&page, &format!("(r => [r.x, r.y + scrollY, r.width, r.height])(document.getElementById('fig-{id}').getBoundingClientRect())"))
            .await;
        let clip = json!({ "x": at[0], "y": at[1], "width": at[2], "height": at[3], "scale": 1 });
        let shot = browser
            .call(
                Some(&page.session),
                "Page.captureScreenshot",
                json!({ "format": "png", "clip": clip, "captureBeyondViewport": true }),
            )
            .await;
        let png =
            base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().expect("png")).expect("base64");
        std::fs::write(screenshots().join(format!("report-figure-{id}.png")), png).expect("written");
    }

    // In print: A4 pages, the major chapters each on a new page.
    browser.call(Some(&page.session), "Emulation.setEmulatedMedia", json!({ "media": "print" })).await;
    browser.resize(&page, 794, 1123).await;
    let breaks = browser
        .eval(&page, "[...document.querySelectorAll('.chapter.major')].map(s => getComputedStyle(s).breakBefore)")
        .await;
    assert_eq!(breaks, json!(["page", "page", "page", "page", "page"]));
    shoot(&mut browser, &page, 794, 1123, "report-print").await;
    browser.call(Some(&page.session), "Emulation.setEmulatedMedia", json!({ "media": "" })).await;
    let pdf = browser
        .call(Some(&page.session), "Page.printToPDF", json!({ "preferCSSPageSize": true, "printBackground": true }))
        .await;
    let pdf = base64::engine::general_purpose::STANDARD.decode(pdf["data"].as_str().expect("pdf")).expect("base64");
    std::fs::write(screenshots().join("report.pdf"), &pdf).expect("written");
    let pages = pdf.windows(b"/Type /Page\n".len()).filter(|w| w.starts_with(b"/Type /Page") && w[11] != b's').count();
    assert!(pages >= 6, "a title page and each major chapter on its own page: {pages} pages");
}

/// A raw HTTP request to the hub; the whole response.
async fn http(addr: std::net::SocketAddr, request: String) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connects");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        stream.write_all(request.as_bytes()).expect("writes");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    })
    .await
    .expect("request")
}

async fn get(hub: &Hub, path: &str, header: &str) -> String {
    http(hub.addr, format!("GET {path} HTTP/1.1\r\nHost: {}\r\n{header}\r\n", hub.addr)).await
}

/// The figure of the summary's key figure `id`.
fn key_figure(page: &str, id: &str) -> String {
    let at = page.find(&format!("data-figure=\"{id}\"")).unwrap_or_else(|| panic!("the page has {id}"));
    let dd = &page[at..];
    let dd = &dd[dd.find("<dd>").expect("a figure") + 4..];
    dd[..dd.find("</dd>").expect("ends")].to_string()
}

async fn chair(hub: &Hub, command: Command) {
    let shown = format!("{command:?}");
    let handle = hub.session(SESSION).expect("session");
    handle.command(Actor::chair("chair"), command).await.unwrap_or_else(|r| panic!("{shown}: {}", r.reason));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_serves_the_live_report_behind_the_observers_token() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = common::start_hub(data.path(), Settings::default()).await;
    let report = format!("/v1/sessions/{SESSION}/report");
    let observer = hub.tokens(SESSION).expect("tokens").observer;

    // Not open to observers: no token, no report; a wrong one neither.
    let refused = get(&hub, &report, "").await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(refused.contains("WWW-Authenticate: Bearer"), "{refused}");
    assert!(refused.contains("the report needs a token: add ?token=TOKEN (the observer's)"), "{refused}");
    let wrong = get(&hub, &format!("{report}?token=0123"), "").await;
    assert!(wrong.starts_with("HTTP/1.1 401") && wrong.contains("invalid token for this session"), "{wrong}");
    assert!(
        hub.join_urls().iter().any(|u| u.role == "report" && u.url.ends_with(&format!("{report}?token={observer}")))
    );

    // With the observer's token: the page, under its strict policy, and nothing said yet.
    let before = get(&hub, &format!("{report}?token={observer}"), "").await;
    assert!(before.starts_with("HTTP/1.1 200 OK"), "{before}");
    assert!(before.contains("Content-Type: text/html; charset=utf-8\r\n"), "{before}");
    assert!(before.contains("Content-Security-Policy: default-src 'none'; style-src 'sha256-"), "{before}");
    assert!(
        before.contains("frame-ancestors 'none'\r\n") && before.contains("Cache-Control: no-store\r\n"),
        "{before}"
    );
    assert_eq!(key_figure(&before, "statements"), "0");

    // The session goes on: a reload shows Peru speaking, then Peru's statement.
    chair(&hub, Command::OpenSegment { segment: "general".into() }).await;
    chair(&hub, inscribe("peru")).await;
    // Entries 1 and 2 are inscribed by the session file, Peru's is 3; its turn is 4.
    chair(&hub, Command::GiveFloor { entry: 3, budget: None }).await;
    let speaking = get(&hub, &report, &format!("Authorization: Bearer {observer}\r\n")).await;
    assert!(speaking.starts_with("HTTP/1.1 200 OK"), "{speaking}");
    assert!(speaking.contains("In progress when this report was made: <strong>Peru</strong>"), "{speaking}");
    chair(&hub, Command::EndTurn { turn: 4 }).await;
    let after = get(&hub, &format!("{report}?token={observer}"), "").await;
    assert_eq!(key_figure(&after, "statements"), "1");
    let turns = html_rows(&after, "data-table=\"turns\"");
    assert_eq!(turns.iter().map(|r| r[1].as_str()).collect::<Vec<_>>(), ["Peru"]);
    assert!(after.contains("class=\"turn\" data-turn=\"4\""), "Peru on the timeline");
    assert!(!after.contains("In progress when this report was made"), "Peru has finished");
    // A page from the hub is the page the command line makes of the same journal.
    let journal = data.path().join(SESSION).join("journal.jsonl");
    let contents = rostrum::journal::read_file(&journal).expect("the hub's journal verifies");
    let body = &after[after.find("\r\n\r\n").expect("a body") + 4..];
    assert_eq!(body, rostrum::report::html::from_journal(&contents).expect("a page"));
    // The page is read-only.
    let post = http(hub.addr, format!("POST {report}?token={observer} HTTP/1.1\r\nHost: {}\r\n\r\n", hub.addr)).await;
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    hub.shutdown().await;

    // A session open to observers: the report is public.
    let open_data = tempfile::tempdir().expect("temp dir");
    let file = open_data.path().join("open.toml");
    let source = std::fs::read_to_string(common::session_file()).expect("session file");
    std::fs::write(&file, source.replace("observers_open = false", "observers_open = true")).expect("written");
    let hub = Hub::start("127.0.0.1:0", open_data.path(), &[file], Settings::default()).await.expect("hub starts");
    let public = get(&hub, &report, "").await;
    assert!(public.starts_with("HTTP/1.1 200 OK"), "{public}");
    hub.shutdown().await;
}

/// A roundtable as it might run (config/imrf-2022-roundtable-1.toml): opening
/// remarks, then a dozen statements from the list, one with an overrun, one
/// interrupted by a point of order, one whose speaker is lost and heard later;
/// notes and a pledge on several objectives. Seconds after 10:00 local.
async fn roundtable(data: &Path) -> PathBuf {
    use common::script::Scripted;
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/imrf-2022-roundtable-1.toml");
    let s = Scripted::start(data, &file).await;
    let chair = Actor::chair("chair");
    let rapporteur = Actor::rapporteur("Ana");
    s.at(0, &chair, Command::OpenSegment { segment: "opening".into() }).await;
    let iom = s.entry(0, "iom").await;
    s.at(30, &chair, Command::GiveFloor { entry: iom, budget: None }).await;
    let turn = s.turn().await;
    s.at(280, &chair, Command::EndTurn { turn }).await;
    s.at(900, &chair, Command::OpenSegment { segment: "statements".into() }).await;
    let mut at = 910;
    let notes: [(usize, &str, &[u8]); 5] = [
        (1, "Calls for more regular pathways for labour migration, including for low-wage workers.", &[5, 6]),
        (2, "Stresses that climate change and disasters are drivers of displacement in the region.", &[2]),
        (4, "Describes a national screening and referral system for migrants in vulnerable situations.", &[12]),
        (6, "Proposes mutual recognition of skills with countries of origin.", &[18, 5]),
        (9, "Migrant workers must be able to change employers without losing their status.", &[6]),
    ];
    for (i, used) in [280i64, 170, 300, 150, 60, 190, 120, 175, 200, 110, 185, 160].into_iter().enumerate() {
        let state = s.state().await;
        let next = &state.segments[1].list[0];
        let (entry, participant) = (next.id, next.participant.clone());
        s.at(at, &chair, Command::GiveFloor { entry, budget: None }).await;
        let turn = s.turn().await;
        if let Some((_, text, objectives)) = notes.iter().find(|(n, _, _)| *n == i) {
            let note = Command::AddNote {
                saved_at: None,
                client_id: format!("ana-{i}"),
                turn: Some(turn),
                text: (*text).into(),
                objectives: objectives.to_vec(),
                themes: vec![],
            };
            s.at(at + 40, &rapporteur, note).await;
        }
        if i == 3 {
            s.at(at + 50, &chair, Command::RaisePointOfOrder { by: "mexico".into() }).await;
            let point = s.point().await;
            let ruling = Command::RulePointOfOrder { point, ruling: "The speaker may continue.".into(), upheld: false };
            s.at(at + 80, &chair, ruling).await;
            at += 30;
        }
        if i == 4 {
            // The speaker is lost: the statement is suspended and continues later in the list.
            s.at(at + used, &chair, Command::SuspendTurn { turn, places: Some(3) }).await;
        } else {
            s.at(at + used, &chair, Command::EndTurn { turn }).await;
        }
        if i == 7 {
            let pledge = Command::AddPledge {
                saved_at: None,
                client_id: "ana-pledge".into(),
                pledger: participant.clone(),
                text: "A bilateral labour mobility scheme for 2,000 workers a year, with fair-recruitment safeguards."
                    .into(),
                objectives: vec![5, 6],
                turn: Some(turn),
            };
            s.at(at + used + 5, &rapporteur, pledge).await;
        }
        at += used + 15;
    }
    s.at(at + 30, &chair, Command::CloseSession).await;
    s.stop().await;
    data.join("imrf-2022-roundtable-1/journal.jsonl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roundtables_page_marks_budgets_overruns_and_interruptions() {
    let data = tempfile::tempdir().expect("temp dir");
    let journal = roundtable(data.path()).await;
    let contents = rostrum::journal::read_file(&journal).expect("the journal verifies");
    let html = rostrum::report::html::from_journal(&contents).expect("a page");
    let timeline = chart(&html, "timeline");
    assert_eq!(timeline.matches("class=\"panel\"").count(), 2, "the opening and the statements");
    assert_eq!(timeline.matches("class=\"lost\"").count(), 2, "in the legend, and where the speaker was lost");
    assert_eq!(timeline.matches("class=\"point-of-order\"").count(), 1);
    assert!(timeline.contains("url(#timeline-over)"), "overruns cross-hatched");
    assert!(chart(&html, "budgets").matches("class=\"row\"").count() >= 3, "budgets drawn on");
    assert!(html.contains("(part 2)"), "the interrupted statement's second part");
    let path = screenshots().join("report-roundtable.html");
    std::fs::create_dir_all(screenshots()).expect("folder");
    std::fs::write(&path, &html).expect("written");

    let mut browser = Browser::start().await;
    let page = browser.open(&format!("file://{}", path.display()), 1280, 900).await;
    loaded(&mut browser, &page).await;
    shoot(&mut browser, &page, 1280, 1100, "report-roundtable").await;
}
