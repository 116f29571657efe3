//! The report as one page to look at and to print: a self-contained HTML file
//! (its style sheet inline, its charts inline SVG, no script, nothing fetched)
//! laid out as a UN-style document for A4, with the chair's summary draft at the
//! end. Every figure is the [`Report`]'s, printed the way the Markdown prints it
//! (`m:ss` rounded down, percentages to one decimal), so the two always agree.
//!
//! The page carries its own content security policy (a `<meta>` for the file,
//! the same policy as a header when the hub serves it): no script at all, and only
//! this style sheet, by its hash.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use base64::Engine as _;
use chrono::FixedOffset;
use sha2::{Digest, Sha256};

use super::{NoteRow, Report, SegmentReport, Share, TurnRow, count, mmss, ruling_md, svg};
use crate::domain::{Timestamp, gcm_objective};
use crate::journal::Contents;

/// The page's style sheet, inline (a hall or a laptop offline fetches nothing).
const STYLE: &str = include_str!("report.css");

/// Text from the journal (names, notes, rulings) made safe for HTML and SVG.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// The page's content security policy: nothing but its own inline style sheet.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!("default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; base-uri 'none'; form-action 'none'")
}

/// The page of a journal: its report, in its session's time zone.
pub fn from_journal(contents: &Contents) -> Result<String, String> {
    let report = super::build(contents)?;
    let zone = crate::config::parse_session(&contents.header.config)
        .map(|d| d.start.timezone())
        .map_err(|e| format!("the session file in the journal's header does not read: {e}"))?;
    Ok(to_html(&report, zone))
}

/// A note's text as paragraphs, its line breaks kept.
fn paragraphs(text: &str) -> String {
    text.lines().map(esc).collect::<Vec<_>>().join("<br>")
}

/// A duration over an allotment, as the Markdown prints it: `+0:30`, or nothing under a second.
fn over(ms: u64) -> String {
    if ms >= 1000 { format!("+{}", mmss(ms)) } else { String::new() }
}

/// The roster share of the groups never heard: the report lists only groups that
/// spoke, so it is what their shares leave of 100%, when that is more than the
/// shares' own rounding (0.05 points each) could make.
pub fn rest_of_roster(shares: &[Share]) -> Option<f64> {
    if shares.is_empty() {
        return None;
    }
    let shown: f64 = shares.iter().map(|s| s.roster_percent).sum();
    let rest = ((100.0 - shown) * 10.0).round() / 10.0;
    (rest > 0.05 * shares.len() as f64).then_some(rest)
}

/// Roman numerals for the chapters (I to XII is all a report has).
fn roman(n: usize) -> &'static str {
    ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
        .get(n.wrapping_sub(1))
        .copied()
        .unwrap_or("")
}

/// "Regular pathways" from "regular pathways".
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

struct Page<'a> {
    out: String,
    report: &'a Report,
    zone: FixedOffset,
    chapter: usize,
    figure: usize,
}

impl Page<'_> {
    fn hms(&self, t: Timestamp) -> String {
        t.with_timezone(&self.zone).format("%H:%M:%S").to_string()
    }
    fn hm(&self, t: Timestamp) -> String {
        t.with_timezone(&self.zone).format("%H:%M").to_string()
    }
    fn segment_title(&self, id: &str) -> String {
        self.report.segments.iter().find(|s| s.id == id).map_or_else(|| id.to_string(), |s| s.title.clone())
    }

    /// Open a chapter: a numbered heading that starts a new page in print.
    fn chapter(&mut self, id: &str, title: &str) {
        self.chapter += 1;
        // The longer chapters start a new page in print; the short ones follow on.
        let major = ["speakers", "balance", "timeline", "objectives", "draft"].contains(&id);
        let _ = write!(
            self.out,
            "<section class=\"chapter{}\" id=\"{id}\"><h2><span class=\"num\">{}.</span> {}</h2>",
            match (major, id) {
                (_, "draft") => " major draft",
                (true, _) => " major",
                _ => "",
            },
            roman(self.chapter),
            esc(title)
        );
    }

    /// A chart with its figures in a table beside it (what a screen reader reads).
    fn figure(&mut self, id: &str, caption: &str, chart: &str, table: &str, note: &str) {
        self.figure += 1;
        let _ = write!(
            self.out,
            "<figure class=\"chart\" id=\"fig-{id}\" aria-labelledby=\"cap-{id}\">\
             <figcaption id=\"cap-{id}\"><span class=\"fig-num\">Figure {}.</span> {}</figcaption>\
             <div class=\"chart-body\"><div class=\"chart-drawing\">{chart}</div>\
             <div class=\"chart-figures\">{table}</div></div>{}</figure>",
            self.figure,
            esc(caption),
            if note.is_empty() { String::new() } else { format!("<p class=\"fig-note\">{note}</p>") }
        );
    }

    fn head(&mut self) {
        let s = &self.report.session;
        let _ = write!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"generator\" content=\"Rostrum\">\
             <title>{} · record of the session</title><style>{STYLE}</style></head><body>",
            content_security_policy(),
            esc(&s.title)
        );
    }

    fn masthead(&mut self) {
        let s = &self.report.session;
        let zone = self.zone;
        let date = s.scheduled_start.with_timezone(&zone).format("%-d %B %Y").to_string();
        let status = if s.closed {
            "closed"
        } else if s.last_event.is_some() {
            "in progress"
        } else {
            "not yet opened"
        };
        let _ = write!(
            self.out,
            "<header class=\"masthead\"><div class=\"symbol\"><span>{}</span><span>{}</span></div>\
             <p class=\"kicker\">Record of the session</p><h1>{}</h1>",
            esc(&s.id),
            esc(&date),
            esc(&s.title)
        );
        if let Some(venue) = &s.venue {
            let _ = write!(self.out, "<p class=\"venue\">{}</p>", esc(venue));
        }
        let recorded = match (s.first_event, s.last_event) {
            (Some(a), Some(b)) => format!("{} to {}", self.hms(a), self.hms(b)),
            _ => "—".to_string(),
        };
        let _ = write!(
            self.out,
            "<dl class=\"meta\"><div><dt>Scheduled</dt><dd>{} to {}</dd></div>\
             <div><dt>Recorded</dt><dd>{recorded}</dd></div><div><dt>Journal</dt><dd>{}</dd></div>\
             <div><dt>Status</dt><dd class=\"status status-{}\">{status}</dd></div></dl></header>",
            s.scheduled_start.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
            s.scheduled_end.with_timezone(&zone).format("%H:%M"),
            count(s.events, "event", "events"),
            status.replace(' ', "-"),
        );
    }

    fn contents(&mut self) {
        let items = [
            ("summary", "Summary"),
            ("speakers", "Speakers"),
            ("balance", "Balance of the floor"),
            ("timeline", "Timeline"),
            ("waiting", "Waiting time"),
            ("budgets", "Speaking-time budgets"),
            ("procedure", "Procedure"),
            ("objectives", "Notes and pledges by GCM objective"),
            ("draft", "Chair's summary: draft"),
        ];
        self.out.push_str("<nav class=\"toc\" aria-label=\"Contents\"><h2>Contents</h2><ol>");
        for (i, (id, title)) in items.iter().enumerate() {
            let _ =
                write!(self.out, "<li><a href=\"#{id}\"><span class=\"num\">{}.</span> {title}</a></li>", roman(i + 1));
        }
        self.out.push_str("</ol></nav>");
    }

    fn summary(&mut self) {
        let r = self.report;
        self.chapter("summary", "Summary");
        let statements: usize = r.by_kind.iter().map(|s| s.statements).sum();
        let speaking: u64 = r.by_kind.iter().map(|s| s.ms).sum();
        let speakers: BTreeSet<&str> =
            r.segments.iter().flat_map(|s| &s.turns).map(|t| t.participant_id.as_str()).collect();
        let notes = r.all_notes();
        let pledges = notes.iter().filter(|(_, n)| n.pledger.is_some()).count();
        let not_heard: usize = r.segments.iter().map(|s| s.not_heard.len()).sum();
        let replies_taken = r.rights_of_reply.len();
        let figures: [(&str, String, String); 10] = [
            ("statements", statements.to_string(), "statements".into()),
            ("speakers", speakers.len().to_string(), "speakers heard".into()),
            ("speaking-time", mmss(speaking), "of speaking time".into()),
            ("points-of-order", r.points_of_order.len().to_string(), "points of order".into()),
            (
                "rights-of-reply",
                replies_taken.to_string(),
                match r.replies_pending.len() {
                    0 => "rights of reply".to_string(),
                    n => format!("rights of reply taken ({n} not taken)"),
                },
            ),
            ("deferrals", r.deferrals.len().to_string(), "deferrals".into()),
            ("interrupted", r.interrupted.len().to_string(), "statements interrupted".into()),
            ("not-heard", not_heard.to_string(), "inscribed and not heard".into()),
            ("notes", (notes.len() - pledges).to_string(), "rapporteurs' notes".into()),
            ("pledges", pledges.to_string(), "pledges".into()),
        ];
        self.out.push_str("<dl class=\"key-figures\">");
        for (id, value, what) in figures {
            let _ = write!(self.out, "<div data-figure=\"{id}\"><dt>{}</dt><dd>{value}</dd></div>", esc(&what));
        }
        self.out.push_str("</dl>");
        if let Some(p) = &r.in_progress {
            let _ = write!(
                self.out,
                "<p class=\"notice\">In progress when this report was made: <strong>{}</strong>, since {} ({} used as of the last event), in {}.</p>",
                esc(&p.speaker),
                self.hms(p.started_at),
                mmss(p.used_ms),
                esc(&self.segment_title(&p.segment_id))
            );
        }
        let _ = write!(
            self.out,
            "<p class=\"explain\">Times are in the session's time zone (UTC{}). Durations are rounded down to the second \
             and percentages to one decimal, as in the Markdown report; the figures of every chart are in the table beside it.</p></section>",
            self.zone
        );
    }

    fn speakers(&mut self) {
        let r = self.report;
        self.chapter("speakers", "Speakers");
        for segment in &r.segments {
            let _ = write!(
                self.out,
                "<section class=\"segment\" data-segment=\"{}\"><h3>{}</h3>",
                esc(&segment.id),
                esc(&segment.title)
            );
            if segment.turns.is_empty() {
                self.out.push_str("<p class=\"none\">No statements.</p>");
            } else {
                self.turns_table(segment);
            }
            for t in segment.turns.iter().filter(|t| t.over_budget.is_some()) {
                let _ = write!(
                    self.out,
                    "<p class=\"flag\">{} was {}.</p>",
                    esc(&t.speaker),
                    esc(t.over_budget.as_deref().unwrap_or_default())
                );
            }
            if let Some(p) = r.in_progress.as_ref().filter(|p| p.segment_id == segment.id) {
                let _ = write!(
                    self.out,
                    "<p class=\"notice\">In progress: {}, since {} ({} used as of the last event).</p>",
                    esc(&p.speaker),
                    self.hms(p.started_at),
                    mmss(p.used_ms)
                );
            }
            if !segment.not_heard.is_empty() {
                self.out.push_str(
                    "<p>The following were inscribed and unable to deliver their statements:</p><ul class=\"not-heard\">",
                );
                for n in &segment.not_heard {
                    let _ = write!(
                        self.out,
                        "<li>{} <span class=\"why\">({})</span></li>",
                        esc(&n.participant),
                        esc(&n.why)
                    );
                }
                self.out.push_str("</ul>");
            }
            self.out.push_str("</section>");
        }
        self.out.push_str("</section>");
    }

    fn turns_table(&mut self, segment: &SegmentReport) {
        // The language column only where a statement gives one.
        let languages = segment.has_languages();
        let _ = write!(
            self.out,
            "<table class=\"turns\" data-table=\"turns\" data-segment=\"{}\"><caption>Statements in “{}”, in the order they were made</caption>\
             <thead><tr><th scope=\"col\" class=\"n\">#</th><th scope=\"col\">Speaker</th><th scope=\"col\">Kind</th>{}\
             <th scope=\"col\">Modality</th><th scope=\"col\">Start</th><th scope=\"col\" class=\"n\">Allotted</th>\
             <th scope=\"col\" class=\"n\">Used</th><th scope=\"col\" class=\"n\">Over the allotment</th>\
             <th scope=\"col\" class=\"n\">Over the original</th></tr></thead><tbody>",
            esc(&segment.id),
            esc(&segment.title),
            if languages { "<th scope=\"col\">Language</th>" } else { "" }
        );
        for t in &segment.turns {
            let language = match &t.language {
                Some(code) if languages => {
                    format!("<td data-language=\"{}\">{}</td>", esc(code), esc(&t.language_name()))
                }
                _ if languages => "<td></td>".to_string(),
                _ => String::new(),
            };
            let part = match (t.part, t.interrupted) {
                (1, false) => String::new(),
                (n, true) => format!(" <span class=\"part\">(part {n}, interrupted)</span>"),
                (n, false) => format!(" <span class=\"part\">(part {n})</span>"),
            };
            let mut allotted = mmss(t.original_allotted_ms);
            if t.allotted_ms != t.original_allotted_ms {
                allotted = format!("{allotted} → {}", mmss(t.allotted_ms));
            }
            let class = if t.overrun_ms >= 1000 { " class=\"overrun\"" } else { "" };
            let _ = write!(
                self.out,
                "<tr data-turn=\"{}\"{class}><td class=\"n\">{}</td><th scope=\"row\">{}{part}</th><td>{}</td>{language}<td>{}</td>\
                 <td>{}</td><td class=\"n\">{allotted}</td><td class=\"n\">{}</td><td class=\"n over\">{}</td><td class=\"n\">{}</td></tr>",
                t.turn,
                t.position,
                esc(&t.speaker),
                esc(&t.statement_kind),
                esc(&t.modality),
                self.hms(t.started_at),
                mmss(t.used_ms),
                over(t.overrun_ms),
                over(t.overrun_original_ms)
            );
        }
        self.out.push_str("</tbody></table>");
    }

    fn share_figure(&mut self, id: &str, caption: &str, what: &str, shares: &[Share]) {
        let rest = rest_of_roster(shares);
        let chart = svg::shares(id, caption, shares, rest);
        let mut table = format!(
            "<table class=\"figures\" data-figure=\"{id}\"><caption>{}</caption><thead><tr><th scope=\"col\">{}</th>\
             <th scope=\"col\" class=\"n\">Statements</th><th scope=\"col\" class=\"n\">Share</th>\
             <th scope=\"col\" class=\"n\">Speaking time</th><th scope=\"col\" class=\"n\">Share</th>\
             <th scope=\"col\" class=\"n\">Roster</th></tr></thead><tbody>",
            esc(caption),
            esc(what)
        );
        if shares.is_empty() {
            table.push_str("<tr><td colspan=\"6\" class=\"none\">No statements of this kind.</td></tr>");
        }
        for s in shares {
            let _ = write!(
                table,
                "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{:.1}%</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{:.1}%</td><td class=\"n\">{:.1}%</td></tr>",
                esc(&s.group),
                s.statements,
                s.statement_percent,
                mmss(s.ms),
                s.time_percent,
                s.roster_percent
            );
        }
        if let Some(rest) = rest {
            let _ = write!(
                table,
                "<tr class=\"rest\"><th scope=\"row\">Not heard (the rest of the roster)</th><td class=\"n\">—</td>\
                 <td class=\"n\">—</td><td class=\"n\">—</td><td class=\"n\">—</td><td class=\"n\">{rest:.1}%</td></tr>"
            );
        }
        table.push_str("</tbody></table>");
        self.figure(id, caption, &chart, &table, "");
    }

    fn balance(&mut self) {
        let r = self.report;
        self.chapter("balance", "Balance of the floor");
        self.out.push_str(
            "<p class=\"explain\">Each group's share of the speaking time and of the statements, against its share of the \
             roster: a group heard less than its place in the room shows at a glance. Each chart counts the statements it \
             concerns (all for kinds of participant, States with a regional group, stakeholders).</p>",
        );
        self.share_figure("by-kind", "Speaking time by kind of participant", "Kind of participant", &r.by_kind);
        self.share_figure(
            "by-regional-group",
            "Speaking time by UN regional group (States)",
            "Regional group",
            &r.by_regional_group,
        );
        self.share_figure(
            "by-constituency",
            "Speaking time by constituency (stakeholders)",
            "Constituency",
            &r.by_constituency,
        );
        self.out.push_str("</section>");
    }

    fn timeline(&mut self) {
        let r = self.report;
        self.chapter("timeline", "Timeline");
        let chart = svg::timeline("timeline", "Who had the floor, and when", r, self.zone);
        let mut table = String::from(
            "<table class=\"figures\" data-figure=\"timeline\"><caption>Statements in time</caption><thead><tr>\
             <th scope=\"col\" class=\"n\">#</th><th scope=\"col\">Speaker</th><th scope=\"col\">From</th>\
             <th scope=\"col\">To</th><th scope=\"col\" class=\"n\">Used</th><th scope=\"col\" class=\"n\">Over</th>\
             <th scope=\"col\">Marks</th></tr></thead><tbody>",
        );
        for segment in r.segments.iter().filter(|s| !s.turns.is_empty()) {
            let _ = write!(
                table,
                "<tr class=\"group\"><th colspan=\"7\" scope=\"rowgroup\">{}</th></tr>",
                esc(&segment.title)
            );
            for t in &segment.turns {
                let mut marks = Vec::new();
                if t.points_of_order > 0 {
                    marks.push(count(t.points_of_order as usize, "point of order", "points of order"));
                }
                if t.interrupted {
                    marks.push("speaker lost".to_string());
                }
                let _ = write!(
                    table,
                    "<tr><td class=\"n\">{}</td><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td class=\"n\">{}</td>\
                     <td class=\"n\">{}</td><td>{}</td></tr>",
                    t.position,
                    esc(&t.speaker),
                    self.hms(t.started_at),
                    self.hms(t.ended_at),
                    mmss(t.used_ms),
                    over(t.overrun_ms),
                    marks.join(", ")
                );
            }
        }
        if r.segments.iter().all(|s| s.turns.is_empty()) {
            table.push_str("<tr><td colspan=\"7\" class=\"none\">No statement yet.</td></tr>");
        }
        table.push_str("</tbody></table>");
        self.figure(
            "timeline",
            "Who had the floor, and when: one lane per kind of participant",
            &chart,
            &table,
            "A block runs from floor given to floor ended (paused time included), numbered as in the speakers table; \
             its overrun, the last of its time, is cross-hatched.",
        );
        self.out.push_str("</section>");
    }

    fn waiting(&mut self) {
        let w = &self.report.waiting;
        self.chapter("waiting", "Waiting time, inscription to floor");
        let chart = svg::waiting("waiting", "Waiting time in room, remote and pre-recorded", w);
        let mut table = String::from(
            "<table class=\"figures\" data-figure=\"waiting\"><caption>Waiting time by modality</caption><thead><tr>\
             <th scope=\"col\">Modality</th><th scope=\"col\" class=\"n\">Statements</th><th scope=\"col\" class=\"n\">Mean</th>\
             <th scope=\"col\" class=\"n\">Median</th><th scope=\"col\" class=\"n\">Longest</th></tr></thead><tbody>",
        );
        let cell = |ms: Option<u64>| ms.map_or_else(|| "—".to_string(), mmss);
        for (name, stat) in [("in room", &w.in_room), ("remote", &w.remote), ("pre-recorded", &w.pre_recorded)] {
            let _ = write!(
                table,
                "<tr><th scope=\"row\">{name}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                stat.turns,
                cell(stat.mean_ms),
                cell(stat.median_ms),
                cell(stat.max_ms)
            );
        }
        table.push_str("</tbody></table>");
        let note = format!(
            "A speaker inscribed before their segment opened waits from the opening ({} such statements). Rights of \
             reply and the later parts of interrupted statements are left out.",
            w.from_opening
        );
        self.figure("waiting", "Waiting time, in room against remote against pre-recorded", &chart, &table, &note);
        self.out.push_str("</section>");
    }

    fn budgets(&mut self) {
        let r = self.report;
        self.chapter("budgets", "Speaking-time budgets");
        let chart = svg::budgets("budgets", "Speaking-time budgets used", &r.segments);
        let mut table = String::from(
            "<table class=\"figures\" data-figure=\"budgets\"><caption>Budgets drawn on</caption><thead><tr>\
             <th scope=\"col\">Budget of</th><th scope=\"col\">Per</th>\
             <th scope=\"col\" class=\"n\">Used</th><th scope=\"col\" class=\"n\">Limit</th></tr></thead><tbody>",
        );
        let mut any = false;
        let mut unused = 0;
        for segment in &r.segments {
            unused += segment.budgets.iter().filter(|b| b.used_ms == 0).count();
            let used: Vec<_> = segment.budgets.iter().filter(|b| b.used_ms > 0).collect();
            if used.is_empty() {
                continue;
            }
            any = true;
            let _ = write!(
                table,
                "<tr class=\"group\"><th colspan=\"4\" scope=\"rowgroup\">{}</th></tr>",
                esc(&segment.title)
            );
            for b in used {
                let _ = write!(
                    table,
                    "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(&b.name),
                    esc(&b.per),
                    mmss(b.used_ms),
                    mmss(b.limit_ms)
                );
            }
        }
        if !any {
            table.push_str("<tr><td colspan=\"4\" class=\"none\">None drawn on.</td></tr>");
        }
        table.push_str("</tbody></table>");
        let note = if unused > 0 {
            format!("{} on the lists used none yet (the JSON report has them all).", count(unused, "other", "others"))
        } else {
            String::new()
        };
        self.figure("budgets", "Speaking-time budgets used, against their limits", &chart, &table, &note);
        let over: Vec<&TurnRow> =
            r.segments.iter().flat_map(|s| &s.turns).filter(|t| t.over_budget.is_some()).collect();
        if !over.is_empty() {
            self.out.push_str("<ul class=\"over-budget\">");
            for t in over {
                let _ = write!(
                    self.out,
                    "<li>{} was {}.</li>",
                    esc(&t.speaker),
                    esc(t.over_budget.as_deref().unwrap_or_default())
                );
            }
            self.out.push_str("</ul>");
        }
        self.out.push_str("</section>");
    }

    fn procedure(&mut self) {
        let r = self.report;
        self.chapter("procedure", "Procedure");
        self.out.push_str("<h3>Interrupted statements</h3>");
        if r.interrupted.is_empty() {
            self.out.push_str("<p class=\"none\">None: no speaker was lost during a statement.</p>");
        } else {
            self.out.push_str(
                "<table class=\"interrupted\"><thead><tr><th scope=\"col\">Speaker</th><th scope=\"col\">Parts</th>\
                 <th scope=\"col\" class=\"n\">Used</th><th scope=\"col\" class=\"n\">Allotted</th><th scope=\"col\" class=\"n\">Overrun</th></tr></thead><tbody>",
            );
            for st in &r.interrupted {
                let parts: Vec<String> =
                    st.parts.iter().map(|(_, at, used)| format!("{} from {}", mmss(*used), self.hms(*at))).collect();
                let _ = write!(
                    self.out,
                    "<tr><th scope=\"row\">{}{}</th><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(&st.speaker),
                    if st.unfinished { " <span class=\"part\">(not finished)</span>" } else { "" },
                    parts.join("; "),
                    mmss(st.used_ms),
                    mmss(st.original_allotted_ms),
                    over(st.overrun_ms)
                );
            }
            self.out.push_str("</tbody></table>");
        }
        self.out.push_str("<h3>Points of order</h3>");
        if r.points_of_order.is_empty() {
            self.out.push_str("<p class=\"none\">None.</p>");
        } else {
            self.out.push_str("<ul class=\"events\">");
            for p in &r.points_of_order {
                let during =
                    p.during.as_ref().map(|d| format!(" during the statement of {}", esc(d))).unwrap_or_default();
                let _ = write!(
                    self.out,
                    "<li><strong>{}</strong> at {}{during}: {}</li>",
                    esc(&p.by),
                    self.hms(p.raised_at),
                    esc(&ruling_md(p))
                );
            }
            self.out.push_str("</ul>");
        }
        self.out.push_str("<h3>Rights of reply</h3>");
        let replies: Vec<&TurnRow> =
            r.segments.iter().flat_map(|s| &s.turns).filter(|t| r.rights_of_reply.contains(&t.turn)).collect();
        if replies.is_empty() && r.replies_pending.is_empty() {
            self.out.push_str("<p class=\"none\">None requested.</p>");
        } else {
            let _ = write!(
                self.out,
                "<p>{} requested: {} taken, {} not taken.</p><ul class=\"events\">",
                count(replies.len() + r.replies_pending.len(), "right of reply", "rights of reply"),
                replies.len(),
                r.replies_pending.len()
            );
            for t in replies {
                let _ = write!(
                    self.out,
                    "<li><strong>{}</strong> at {} ({} used)</li>",
                    esc(&t.participant_name),
                    self.hms(t.started_at),
                    mmss(t.used_ms)
                );
            }
            for (segment, who) in &r.replies_pending {
                let _ = write!(
                    self.out,
                    "<li><strong>{}</strong>: requested in “{}”, not taken</li>",
                    esc(who),
                    esc(&self.segment_title(segment))
                );
            }
            self.out.push_str("</ul>");
        }
        self.out.push_str("<h3>Deferrals</h3>");
        if r.deferrals.is_empty() {
            self.out.push_str("<p class=\"none\">None.</p>");
        } else {
            self.out.push_str("<ul class=\"events\">");
            for d in &r.deferrals {
                let _ = write!(
                    self.out,
                    "<li><strong>{}</strong> at {}: from position {} to {}{}</li>",
                    esc(&d.participant),
                    self.hms(d.at),
                    d.from_position,
                    d.to_position,
                    if d.technical_issue { " (technical issue)" } else { "" }
                );
            }
            self.out.push_str("</ul>");
        }
        self.out.push_str("</section>");
    }

    /// Notes (not pledges) tagged with each objective, and pledges: the counts the
    /// Markdown's "Notes by GCM objective" and "Pledges by GCM objective" list.
    fn objective_counts(&self) -> Vec<(u8, String, usize, usize)> {
        let notes = self.report.all_notes();
        (1..=23u8)
            .map(|o| {
                let n = notes.iter().filter(|(_, n)| n.pledger.is_none() && n.objectives.contains(&o)).count();
                let p =
                    self.report.pledges_by_objective.iter().find(|p| p.objective == o).map_or(0, |p| p.pledges.len());
                (o, gcm_objective(o).unwrap_or_default().to_string(), n, p)
            })
            .collect()
    }

    fn objectives(&mut self) {
        self.chapter("objectives", "Notes and pledges by GCM objective");
        let counts = self.objective_counts();
        let chart = svg::objectives("objectives", "Notes and pledges by objective of the Global Compact", &counts);
        let mut table = String::from(
            "<table class=\"figures\" data-figure=\"objectives\"><caption>Notes and pledges tagged with each objective</caption>\
             <thead><tr><th scope=\"col\" class=\"n\">Objective</th><th scope=\"col\">Title</th><th scope=\"col\" class=\"n\">Notes</th>\
             <th scope=\"col\" class=\"n\">Pledges</th></tr></thead><tbody>",
        );
        for (o, title, notes, pledges) in counts.iter().filter(|c| c.2 + c.3 > 0) {
            let _ = write!(
                table,
                "<tr><td class=\"n\">{o}</td><th scope=\"row\">{}</th><td class=\"n\">{notes}</td><td class=\"n\">{pledges}</td></tr>",
                esc(title)
            );
        }
        if counts.iter().all(|c| c.2 + c.3 == 0) {
            table.push_str(
                "<tr><td colspan=\"4\" class=\"none\">No note or pledge is tagged with an objective.</td></tr>",
            );
        }
        table.push_str("</tbody></table>");
        self.figure(
            "objectives",
            "Notes and pledges by objective of the Global Compact for Migration",
            &chart,
            &table,
            "A note or pledge tagged with two objectives counts under both; the table lists the objectives tagged.",
        );
        self.out.push_str("</section>");
    }

    /// Where a note was written: "Peru (General debate, 10:01)", or the session.
    fn source(&self, turn: Option<&TurnRow>) -> String {
        match turn {
            Some(t) => format!(
                "the statement of <strong>{}</strong> ({}, {})",
                esc(&t.speaker),
                esc(&self.segment_title(&t.segment_id)),
                self.hm(t.started_at)
            ),
            None => "the session as a whole".to_string(),
        }
    }

    fn draft_item(&mut self, turn: Option<&TurnRow>, n: &NoteRow, objective: Option<u8>) {
        let others: Vec<String> =
            n.objectives.iter().filter(|o| Some(**o) != objective).map(|o| format!("objective {o}")).collect();
        let mut tags = others;
        tags.extend(n.themes.iter().map(|t| esc(t)));
        let tags = if tags.is_empty() { String::new() } else { format!(" · also: {}", tags.join(", ")) };
        let saved = self.hm(n.saved_at.unwrap_or(n.at));
        match &n.pledger {
            Some(pledger) => {
                let _ = write!(
                    self.out,
                    "<li class=\"pledge\"><p><span class=\"tag\">Pledge</span> <strong>{}</strong>: {}</p>\
                     <p class=\"source\">Announced in {} · recorded by {}, {saved}{tags}</p></li>",
                    esc(pledger),
                    paragraphs(&n.text),
                    self.source(turn),
                    esc(&n.author)
                );
            }
            None => {
                let _ = write!(
                    self.out,
                    "<li class=\"note\"><p>{}</p><p class=\"source\">On {} · note by {}, {saved}{tags}</p></li>",
                    paragraphs(&n.text),
                    self.source(turn),
                    esc(&n.author)
                );
            }
        }
    }

    /// The chair's summary, drafted from the notes: a paragraph on the session from
    /// the figures, then the notes and pledges under each objective, numbered
    /// paragraphs as in a UN document, then the notes tagged with no objective.
    fn draft(&mut self) {
        let r = self.report;
        self.chapter("draft", "Chair's summary: draft");
        let s = &r.session;
        self.out.push_str(
            "<p class=\"draft-status\"><span class=\"stamp\">Draft</span> Drafted by Rostrum from the rapporteurs' notes and \
             the record of the session, for the secretariat to edit. Not an official record.</p>",
        );
        let mut paragraph = 1;
        let statements: usize = r.by_kind.iter().map(|s| s.statements).sum();
        let speaking: u64 = r.by_kind.iter().map(|s| s.ms).sum();
        let by_kind: Vec<String> = r
            .by_kind
            .iter()
            .map(|k| format!("{}: {} in {}", esc(&k.group), mmss(k.ms), count(k.statements, "statement", "statements")))
            .collect();
        let date = s.scheduled_start.with_timezone(&self.zone).format("%-d %B %Y").to_string();
        let venue = s.venue.as_ref().map(|v| format!(" at {}", esc(v))).unwrap_or_default();
        let heard = if statements == 0 {
            "No statement has been made yet.".to_string()
        } else {
            format!(
                "{} made, in {} of speaking time ({}).",
                capitalized(&count(statements, "statement was", "statements were")),
                mmss(speaking),
                by_kind.join("; ")
            )
        };
        let points = match r.points_of_order.len() {
            0 => String::new(),
            n => format!(" {} raised.", capitalized(&count(n, "point of order was", "points of order were"))),
        };
        let _ = write!(
            self.out,
            "<ol class=\"paragraphs\"><li><p>The session “{}” was held{venue} on {date}. {heard}{points}</p></li></ol>",
            esc(&s.title)
        );
        paragraph += 1;
        let notes = r.all_notes();
        let mut any = false;
        for objective in 1..=23u8 {
            let tagged: Vec<&(Option<&TurnRow>, &NoteRow)> =
                notes.iter().filter(|(_, n)| n.objectives.contains(&objective)).collect();
            if tagged.is_empty() {
                continue;
            }
            any = true;
            let _ = write!(
                self.out,
                "<section class=\"objective\" data-objective=\"{objective}\"><h3><span class=\"num\">Objective {objective}.</span> {}</h3>\
                 <ol class=\"paragraphs\" start=\"{paragraph}\">",
                esc(&capitalized(gcm_objective(objective).unwrap_or_default()))
            );
            // Notes first, then pledges: what was said, then what was promised.
            let (pledges, plain): (Vec<_>, Vec<_>) = tagged.into_iter().partition(|(_, n)| n.pledger.is_some());
            for &&(turn, n) in plain.iter().chain(&pledges) {
                self.draft_item(turn, n, Some(objective));
                paragraph += 1;
            }
            self.out.push_str("</ol></section>");
        }
        let untagged: Vec<&(Option<&TurnRow>, &NoteRow)> =
            notes.iter().filter(|(_, n)| n.objectives.is_empty()).collect();
        if !untagged.is_empty() {
            let _ = write!(
                self.out,
                "<section class=\"objective\" data-objective=\"none\"><h3>Other points raised</h3><ol class=\"paragraphs\" start=\"{paragraph}\">"
            );
            for &&(turn, n) in &untagged {
                self.draft_item(turn, n, None);
            }
            self.out.push_str("</ol></section>");
        }
        if !any && notes.is_empty() {
            self.out.push_str("<p class=\"none\">The rapporteurs have written no note yet.</p>");
        }
        self.out.push_str("</section>");
    }

    fn footer(&mut self) {
        let s = &self.report.session;
        let last =
            s.last_event.map(|t| format!(", the last at {} UTC", t.format("%Y-%m-%d %H:%M:%S"))).unwrap_or_default();
        let _ = writeln!(
            self.out,
            "<footer class=\"colophon\"><p>Made by Rostrum from the journal of session <code>{}</code>: {}{last}. \
             The Markdown, CSV and JSON reports of the same journal carry the same figures.</p></footer></body></html>",
            esc(&s.id),
            count(s.events, "event", "events")
        );
    }
}

/// The whole page.
pub fn to_html(report: &Report, zone: FixedOffset) -> String {
    let mut page = Page { out: String::with_capacity(64 * 1024), report, zone, chapter: 0, figure: 0 };
    page.head();
    page.masthead();
    page.contents();
    page.out.push_str("<main>");
    page.summary();
    page.speakers();
    page.balance();
    page.timeline();
    page.waiting();
    page.budgets();
    page.procedure();
    page.objectives();
    page.draft();
    page.out.push_str("</main>");
    page.footer();
    page.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(esc("<b>\"O'Neil\" & co</b>"), "&lt;b&gt;&quot;O&#39;Neil&quot; &amp; co&lt;/b&gt;");
        assert_eq!(esc("a\u{0}b"), "ab", "no control characters");
    }

    #[test]
    fn the_policy_names_the_style_sheets_hash_and_allows_no_script() {
        let policy = content_security_policy();
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"), "{policy}");
        assert!(!policy.contains("script-src"), "scripts fall under default-src 'none'");
    }

    #[test]
    fn the_rest_of_the_roster_is_shown_only_beyond_rounding() {
        let share = |roster_percent| Share {
            group: "g".into(),
            statements: 1,
            ms: 1,
            time_percent: 50.0,
            statement_percent: 50.0,
            roster_percent,
        };
        assert_eq!(rest_of_roster(&[share(40.0), share(20.0)]), Some(40.0));
        assert_eq!(rest_of_roster(&[share(33.3), share(33.3), share(33.3)]), None);
        assert_eq!(rest_of_roster(&[]), None);
    }
}
