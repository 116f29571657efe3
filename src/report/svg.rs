//! The report's charts, drawn as inline SVG text: no script, no font or image
//! fetched, readable in grey print. Every series has its own fill pattern (solid,
//! dots, hatching) as well as its colour, and every bar carries its figure as a
//! label, so nothing depends on colour alone. The figures come from the
//! [`Report`](super::Report) as they are; this module only places them.
//!
//! Each chart defines its own patterns with ids prefixed by the chart's id, so a
//! chart copied out of the page still draws. No `style` attribute is used: the
//! page's content security policy allows only its own style sheet.

use std::fmt::Write as _;

use chrono::FixedOffset;

use super::html::esc;
use super::{Report, SegmentReport, Share, TurnRow, Wait, Waiting, mmss};
use crate::domain::Timestamp;

/// Width of a bar chart's coordinate system; the page scales it to its column,
/// so that its 11-unit text reads at about the page's table text.
const WIDTH: f64 = 540.0;
/// Where the bars of a bar chart begin (labels to the left of it).
const PLOT_X: f64 = 175.0;
/// Where they may end (their value labels to the right of it).
const PLOT_END: f64 = 470.0;
/// The timeline's width: it has the page's whole width.
const TIMELINE_WIDTH: f64 = 900.0;

const INK: &str = "#1b2733";
const MUTED: &str = "#5a6570";
const GRID: &str = "#d5dadf";
/// UN blue, dark and light: dark enough to print as dark grey, light as light grey.
const BLUE: &str = "#0b4f8a";
const BLUE_LIGHT: &str = "#5b92e5";
const OVER: &str = "#8a1c1c";

/// One series of a chart: how it fills, and its name in the legend.
#[derive(Clone, Copy)]
enum Fill {
    /// Solid dark blue.
    Solid,
    /// Light blue dots on white.
    Dots,
    /// Dark diagonal hatching on white.
    Hatch,
    /// Dark red cross-hatching: time over the allotment or the budget.
    Over,
}

impl Fill {
    fn attrs(self, id: &str) -> String {
        match self {
            Self::Solid => format!("fill=\"{BLUE}\""),
            Self::Dots => format!("fill=\"url(#{id}-dots)\" stroke=\"{BLUE_LIGHT}\" stroke-width=\"0.8\""),
            Self::Hatch => format!("fill=\"url(#{id}-hatch)\" stroke=\"{INK}\" stroke-width=\"0.8\""),
            Self::Over => format!("fill=\"url(#{id}-over)\" stroke=\"{OVER}\" stroke-width=\"0.8\""),
        }
    }
}

/// `<svg>` with its accessible name and patterns; close with `</svg>`.
fn open(out: &mut String, id: &str, (width, height): (f64, f64), title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg\" data-chart=\"{id}\" viewBox=\"0 0 {width} {height:.0}\" \
         width=\"{width}\" height=\"{height:.0}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
         font-family=\"'Helvetica Neue', Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif\" font-size=\"11\" fill=\"{INK}\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>\
         <defs>\
         <pattern id=\"{id}-dots\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">\
         <rect width=\"4\" height=\"4\" fill=\"#fff\"/><circle cx=\"2\" cy=\"2\" r=\"1.1\" fill=\"{BLUE_LIGHT}\"/></pattern>\
         <pattern id=\"{id}-hatch\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"5\" height=\"5\" fill=\"#fff\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"5\" stroke=\"{INK}\" stroke-width=\"1.6\"/></pattern>\
         <pattern id=\"{id}-over\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">\
         <rect width=\"4\" height=\"4\" fill=\"#fff\"/><path d=\"M0 0L4 4M4 0L0 4\" stroke=\"{OVER}\" stroke-width=\"1\"/></pattern>\
         </defs>",
        esc(title),
        esc(desc)
    );
}

fn text(out: &mut String, x: f64, y: f64, attrs: &str, content: &str) {
    let _ = write!(out, "<text x=\"{x:.1}\" y=\"{y:.1}\" {attrs}>{}</text>", esc(content));
}

fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, attrs: &str, title: Option<&str>) {
    match title {
        Some(t) => {
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" {attrs}><title>{}</title></rect>",
                esc(t)
            );
        }
        None => {
            let _ = write!(out, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" {attrs}/>");
        }
    }
}

/// A legend across the top: a swatch and a name for each series.
fn legend(out: &mut String, id: &str, y: f64, items: &[(Fill, &str)]) {
    let mut x = PLOT_X;
    for (fill, name) in items {
        rect(out, x, y - 8.0, 14.0, 9.0, &fill.attrs(id), None);
        text(out, x + 18.0, y, "font-size=\"10\"", name);
        x += 30.0 + name.chars().count() as f64 * 5.6;
    }
}

/// A label that fits `width` at about `per_char` units a character, shortened with "…".
fn fit(label: &str, width: f64, per_char: f64) -> String {
    let max = (width / per_char).floor().max(1.0) as usize;
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// A label over at most two lines of `width`, the second shortened with "…" if need be.
fn wrap(label: &str, width: f64, per_char: f64) -> Vec<String> {
    let max = (width / per_char).floor().max(1.0) as usize;
    if label.chars().count() <= max {
        return vec![label.to_string()];
    }
    let mut first = String::new();
    let mut words = label.split(' ').peekable();
    while let Some(word) = words.peek() {
        let len = first.chars().count() + usize::from(!first.is_empty()) + word.chars().count();
        if len > max {
            break;
        }
        if !first.is_empty() {
            first.push(' ');
        }
        first.push_str(word);
        words.next();
    }
    if first.is_empty() {
        return vec![fit(label, width, per_char)];
    }
    let rest: Vec<&str> = words.collect();
    vec![first, fit(&rest.join(" "), width, per_char)]
}

/// A round upper bound for an axis and its step: 10, 20, 25, 50, 100 … × 10ⁿ.
fn nice_max(value: f64) -> (f64, f64) {
    if value <= 0.0 {
        return (1.0, 0.25);
    }
    let magnitude = 10f64.powf(value.log10().floor());
    for (top, step) in
        [(1.0, 0.25), (2.0, 0.5), (2.5, 0.5), (3.0, 0.5), (4.0, 1.0), (5.0, 1.0), (6.0, 1.0), (8.0, 2.0), (10.0, 2.5)]
    {
        if value <= top * magnitude + f64::EPSILON {
            return (top * magnitude, step * magnitude);
        }
    }
    (10.0 * magnitude, 2.5 * magnitude)
}

/// Vertical grid lines and their labels from 0 to `max`, between `top` and `bottom`.
fn grid(
    out: &mut String,
    (x0, x1): (f64, f64),
    (max, step): (f64, f64),
    (top, bottom): (f64, f64),
    label: impl Fn(f64) -> String,
) {
    let mut v = 0.0;
    while v <= max + step / 1000.0 {
        let x = x0 + v / max * (x1 - x0);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"{GRID}\" stroke-width=\"0.8\"/>"
        );
        text(out, x, top - 3.0, &format!("font-size=\"9\" text-anchor=\"middle\" fill=\"{MUTED}\""), &label(v));
        v += step;
    }
}

/// A chart that has nothing to draw: its frame and why.
fn empty(id: &str, title: &str, why: &str) -> String {
    let mut out = String::new();
    open(&mut out, id, (WIDTH, 44.0), title, why);
    rect(&mut out, 0.5, 0.5, WIDTH - 1.0, 43.0, &format!("fill=\"#f6f7f8\" stroke=\"{GRID}\""), None);
    text(&mut out, WIDTH / 2.0, 26.0, &format!("text-anchor=\"middle\" fill=\"{MUTED}\" font-style=\"italic\""), why);
    out.push_str("</svg>");
    out
}

/// One group's bars: (fill, value on the axis, label after the bar, tooltip).
type Bars = Vec<(Fill, f64, String, String)>;

/// Horizontal grouped bars: one row per group, a name and a line under it at the
/// left, the bars and their labels to the right.
fn grouped_bars(
    out: &mut String,
    id: &str,
    rows: &[(String, String, Bars)],
    max: f64,
    step: f64,
    top: f64,
    axis: impl Fn(f64) -> String,
) -> f64 {
    const BAR: f64 = 9.0;
    const GAP: f64 = 2.0;
    const PAD: f64 = 10.0;
    let row_height = |n: usize| (n.max(2) as f64) * (BAR + GAP) + PAD;
    let bottom = top + rows.iter().map(|(_, _, bars)| row_height(bars.len())).sum::<f64>();
    grid(out, (PLOT_X, PLOT_END), (max, step), (top, bottom), axis);
    let mut y = top + PAD / 2.0;
    for (name, sub, bars) in rows {
        let _ = write!(out, "<g class=\"row\">");
        let lines = wrap(name, PLOT_X - 12.0, 6.0);
        let _ = write!(out, "<text y=\"{:.1}\" font-weight=\"600\">", y + 9.0);
        for (i, line) in lines.iter().enumerate() {
            let _ = write!(out, "<tspan x=\"0\" dy=\"{}\">{}</tspan>", if i == 0 { 0.0 } else { 11.5 }, esc(line));
        }
        if lines.join(" ") != *name {
            let _ = write!(out, "<title>{}</title>", esc(name));
        }
        out.push_str("</text>");
        let sub_y = y + 21.0 + 11.5 * (lines.len() - 1) as f64;
        text(out, 0.0, sub_y, &format!("font-size=\"9.5\" fill=\"{MUTED}\""), &fit(sub, PLOT_X - 12.0, 5.2));
        for (i, (fill, value, label, tip)) in bars.iter().enumerate() {
            let by = y + i as f64 * (BAR + GAP);
            let w = (value / max * (PLOT_END - PLOT_X)).clamp(0.0, PLOT_END - PLOT_X);
            if w > 0.0 {
                rect(out, PLOT_X, by, w, BAR, &fill.attrs(id), Some(tip));
            } else {
                let _ = write!(
                    out,
                    "<line x1=\"{PLOT_X}\" y1=\"{by:.1}\" x2=\"{PLOT_X}\" y2=\"{:.1}\" stroke=\"{INK}\" stroke-width=\"1.5\"/>",
                    by + BAR
                );
            }
            text(out, PLOT_X + w + 4.0, by + BAR - 1.0, "font-size=\"9\"", label);
        }
        out.push_str("</g>");
        y += row_height(bars.len());
    }
    let _ = write!(
        out,
        "<line x1=\"{PLOT_X}\" y1=\"{top:.1}\" x2=\"{PLOT_X}\" y2=\"{bottom:.1}\" stroke=\"{INK}\" stroke-width=\"1\"/>"
    );
    bottom
}

/// Speaking time, statements and roster, each as a share of its table: who was
/// heard against who is in the room. `rest` is the roster share of groups never
/// heard (the report lists only groups that spoke).
pub fn shares(id: &str, title: &str, shares: &[Share], rest: Option<f64>) -> String {
    if shares.is_empty() {
        return empty(id, title, "No statements of this kind.");
    }
    let mut rows: Vec<(String, String, Bars)> = shares
        .iter()
        .map(|s| {
            let sub = format!(
                "{} · {}",
                mmss(s.ms),
                if s.statements == 1 { "1 statement".to_string() } else { format!("{} statements", s.statements) }
            );
            let bars = vec![
                (
                    Fill::Solid,
                    s.time_percent,
                    format!("{:.1}%", s.time_percent),
                    format!("{}: {:.1}% of the speaking time ({})", s.group, s.time_percent, mmss(s.ms)),
                ),
                (
                    Fill::Dots,
                    s.statement_percent,
                    format!("{:.1}%", s.statement_percent),
                    format!("{}: {:.1}% of the statements ({})", s.group, s.statement_percent, s.statements),
                ),
                (
                    Fill::Hatch,
                    s.roster_percent,
                    format!("{:.1}%", s.roster_percent),
                    format!("{}: {:.1}% of the roster", s.group, s.roster_percent),
                ),
            ];
            (s.group.clone(), sub, bars)
        })
        .collect();
    if let Some(rest) = rest {
        rows.push((
            "Not heard".to_string(),
            "the rest of the roster".to_string(),
            vec![
                (Fill::Solid, 0.0, "0.0%".into(), "no speaking time".into()),
                (Fill::Dots, 0.0, "0.0%".into(), "no statement".into()),
                (Fill::Hatch, rest, format!("{rest:.1}%"), format!("not heard: {rest:.1}% of the roster")),
            ],
        ));
    }
    let top_value = rows.iter().flat_map(|(_, _, b)| b.iter().map(|b| b.1)).fold(0.0, f64::max);
    let (max, step) = nice_max(top_value.max(10.0));
    let (max, step) = if max > 100.0 { (100.0, 25.0) } else { (max, step) };
    let height = 44.0 + rows.len() as f64 * 43.0 + 6.0;
    let mut out = String::new();
    let desc = shares
        .iter()
        .map(|s| {
            format!(
                "{}: {:.1}% of the speaking time, {:.1}% of the statements, {:.1}% of the roster",
                s.group, s.time_percent, s.statement_percent, s.roster_percent
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    open(&mut out, id, (WIDTH, height), title, &desc);
    legend(
        &mut out,
        id,
        12.0,
        &[(Fill::Solid, "speaking time"), (Fill::Dots, "statements"), (Fill::Hatch, "share of the roster")],
    );
    grouped_bars(&mut out, id, &rows, max, step, 40.0, |v| format!("{v:.0}%"));
    out.push_str("</svg>");
    out
}

/// Waiting from inscription to floor: mean, median and longest per modality.
pub fn waiting(id: &str, title: &str, w: &Waiting) -> String {
    let modalities: [(&str, &Wait); 3] =
        [("in room", &w.in_room), ("remote", &w.remote), ("pre-recorded", &w.pre_recorded)];
    let longest = modalities.iter().filter_map(|(_, s)| s.max_ms).max().unwrap_or(0);
    if longest == 0 && modalities.iter().all(|(_, s)| s.turns == 0) {
        return empty(id, title, "No statement with a waiting time.");
    }
    let minutes = longest as f64 / 60_000.0;
    let (max, step) = nice_max(minutes.max(1.0));
    let rows: Vec<(String, String, Bars)> = modalities
        .iter()
        .map(|(name, s)| {
            let sub = match s.turns {
                0 => "no statement counted".to_string(),
                1 => "1 statement".to_string(),
                n => format!("{n} statements"),
            };
            let bar = |fill: Fill, what: &str, ms: Option<u64>| match ms {
                Some(ms) => (
                    fill,
                    ms as f64 / 60_000.0,
                    format!("{what} {}", mmss(ms)),
                    format!("{name}: {what} wait {}", mmss(ms)),
                ),
                None => (fill, 0.0, format!("{what} —"), format!("{name}: no statement counted")),
            };
            let bars = vec![
                bar(Fill::Solid, "mean", s.mean_ms),
                bar(Fill::Dots, "median", s.median_ms),
                bar(Fill::Hatch, "longest", s.max_ms),
            ];
            ((*name).to_string(), sub, bars)
        })
        .collect();
    let desc = modalities
        .iter()
        .map(|(name, s)| match s.mean_ms {
            Some(mean) => format!(
                "{name}: {} statements, mean {}, median {}, longest {}",
                s.turns,
                mmss(mean),
                s.median_ms.map_or("—".into(), mmss),
                s.max_ms.map_or("—".into(), mmss)
            ),
            None => format!("{name}: no statement counted"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = String::new();
    let height = 44.0 + 3.0 * 43.0 + 6.0;
    open(&mut out, id, (WIDTH, height), title, &desc);
    legend(&mut out, id, 12.0, &[(Fill::Solid, "mean"), (Fill::Dots, "median"), (Fill::Hatch, "longest")]);
    grouped_bars(&mut out, id, &rows, max, step, 40.0, |v| format!("{v} min"));
    out.push_str("</svg>");
    out
}

/// The budgets drawn on, per segment, each against its own limit (a budget of six
/// minutes and one of thirty read alike): used, left, and time over it marked.
pub fn budgets(id: &str, title: &str, segments: &[SegmentReport]) -> String {
    let groups: Vec<(&SegmentReport, Vec<&crate::fairness::BudgetUse>)> = segments
        .iter()
        .map(|s| (s, s.budgets.iter().filter(|b| b.used_ms > 0).collect::<Vec<_>>()))
        .filter(|(_, used)| !used.is_empty())
        .collect();
    if groups.is_empty() {
        let any = segments.iter().any(|s| !s.budgets.is_empty());
        let why = if any {
            "No speaking-time budget has been drawn on yet."
        } else {
            "No segment of this session has a speaking-time budget."
        };
        return empty(id, title, why);
    }
    const ROW: f64 = 30.0;
    const HEADER: f64 = 20.0;
    let percent = |b: &crate::fairness::BudgetUse| b.used_ms as f64 * 100.0 / b.limit_ms.max(1) as f64;
    let top_percent = groups.iter().flat_map(|(_, used)| used.iter().map(|b| percent(b))).fold(100.0, f64::max);
    let (max, step) = nice_max(top_percent);
    let rows: usize = groups.iter().map(|(_, used)| used.len()).sum();
    let body = groups.len() as f64 * HEADER + rows as f64 * ROW;
    let desc = groups
        .iter()
        .flat_map(|(s, used)| {
            used.iter().map(move |b| format!("{}, {}: {} of {}", s.title, b.name, mmss(b.used_ms), mmss(b.limit_ms)))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = String::new();
    open(&mut out, id, (WIDTH, 44.0 + body + 6.0), title, &desc);
    legend(&mut out, id, 12.0, &[(Fill::Solid, "used"), (Fill::Dots, "left"), (Fill::Over, "over the budget")]);
    let top = 40.0;
    grid(&mut out, (PLOT_X, PLOT_END), (max, step), (top, top + body), |v| format!("{v:.0}%"));
    let scale = |p: f64| p / max * (PLOT_END - PLOT_X);
    let mut y = top;
    for (segment, used) in &groups {
        text(&mut out, 0.0, y + 14.0, "font-weight=\"700\" font-size=\"10.5\"", &fit(&segment.title, WIDTH, 6.0));
        y += HEADER;
        for b in used {
            let _ = write!(out, "<g class=\"row\">");
            text(&mut out, 0.0, y + 11.0, "font-weight=\"600\"", &fit(&b.name, PLOT_X - 12.0, 6.0));
            text(&mut out, 0.0, y + 22.0, &format!("font-size=\"9.5\" fill=\"{MUTED}\""), &format!("per {}", b.per));
            let tip = format!("{}: {} of {}", b.name, mmss(b.used_ms), mmss(b.limit_ms));
            let bar_y = y + 6.0;
            rect(&mut out, PLOT_X, bar_y, scale(100.0), 14.0, &Fill::Dots.attrs(id), Some(&tip));
            rect(&mut out, PLOT_X, bar_y, scale(percent(b).min(100.0)), 14.0, &Fill::Solid.attrs(id), Some(&tip));
            if b.used_ms > b.limit_ms {
                let over = percent(b) - 100.0;
                rect(&mut out, PLOT_X + scale(100.0), bar_y, scale(over), 14.0, &Fill::Over.attrs(id), Some(&tip));
            }
            let limit_x = PLOT_X + scale(100.0);
            let _ = write!(
                out,
                "<line x1=\"{limit_x:.1}\" y1=\"{:.1}\" x2=\"{limit_x:.1}\" y2=\"{:.1}\" stroke=\"{INK}\" stroke-width=\"2\"/>",
                bar_y - 3.0,
                bar_y + 17.0
            );
            let end = PLOT_X + scale(percent(b).max(100.0));
            let label = format!("{} of {}", mmss(b.used_ms), mmss(b.limit_ms));
            text(&mut out, end + 5.0, bar_y + 11.0, "font-size=\"9.5\"", &label);
            out.push_str("</g>");
            y += ROW;
        }
    }
    let _ = write!(out, "<line x1=\"{PLOT_X}\" y1=\"{top}\" x2=\"{PLOT_X}\" y2=\"{y:.1}\" stroke=\"{INK}\"/>");
    out.push_str("</svg>");
    out
}

/// Notes and pledges tagged with each of the 23 GCM objectives (those with none
/// are drawn too: what was not discussed is part of the record).
pub fn objectives(id: &str, title: &str, counts: &[(u8, String, usize, usize)]) -> String {
    const ROW: f64 = 17.0;
    // The objectives' names are long: a wider label column than the other charts'.
    const X0: f64 = 235.0;
    let top_count = counts.iter().map(|c| c.2.max(c.3)).max().unwrap_or(0);
    let (max, step) = nice_max(top_count.max(4) as f64);
    let step = step.max(1.0);
    let height = 44.0 + counts.len() as f64 * ROW + 6.0;
    let desc = counts
        .iter()
        .filter(|c| c.2 + c.3 > 0)
        .map(|(n, t, notes, pledges)| format!("objective {n} ({t}): {notes} notes, {pledges} pledges"))
        .collect::<Vec<_>>()
        .join("; ");
    let desc = if desc.is_empty() { "No note or pledge is tagged with an objective.".to_string() } else { desc };
    let mut out = String::new();
    open(&mut out, id, (WIDTH, height), title, &desc);
    legend(&mut out, id, 12.0, &[(Fill::Solid, "notes"), (Fill::Hatch, "pledges")]);
    let top = 40.0;
    grid(&mut out, (X0, PLOT_END), (max, step), (top, top + counts.len() as f64 * ROW), |v| format!("{v:.0}"));
    let scale = |n: usize| n as f64 / max * (PLOT_END - X0);
    for (i, (n, name, notes, pledges)) in counts.iter().enumerate() {
        let y = top + i as f64 * ROW + 2.0;
        let quiet = notes + pledges == 0;
        let colour = if quiet { MUTED } else { INK };
        let _ = write!(out, "<g class=\"row\">");
        text(
            &mut out,
            0.0,
            y + 10.0,
            &format!("font-size=\"10\" fill=\"{colour}\"{}", if quiet { "" } else { " font-weight=\"600\"" }),
            &fit(&format!("{n}. {name}"), X0 - 8.0, 5.3),
        );
        for (j, (fill, count, what)) in
            [(Fill::Solid, *notes, "notes"), (Fill::Hatch, *pledges, "pledges")].into_iter().enumerate()
        {
            let by = y + j as f64 * 6.5;
            if count > 0 {
                rect(
                    &mut out,
                    X0,
                    by,
                    scale(count),
                    5.5,
                    &fill.attrs(id),
                    Some(&format!("objective {n}: {count} {what}")),
                );
                text(&mut out, X0 + scale(count) + 4.0, by + 5.5, "font-size=\"8.5\"", &count.to_string());
            }
        }
        out.push_str("</g>");
    }
    let _ = write!(
        out,
        "<line x1=\"{X0}\" y1=\"{top}\" x2=\"{X0}\" y2=\"{:.1}\" stroke=\"{INK}\"/>",
        top + counts.len() as f64 * ROW
    );
    out.push_str("</svg>");
    out
}

/// Seconds since the epoch in the session's local time (for ticks on the hour).
fn local_secs(t: Timestamp, zone: FixedOffset) -> i64 {
    t.timestamp() + i64::from(zone.local_minus_utc())
}

/// A lane of the timeline: the kind of participant, in the domain's order.
fn lane_order(kind: &str) -> usize {
    ["member-state", "observer-state", "group-of-states", "un-entity", "igo", "stakeholder"]
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(usize::MAX)
}

/// Who had the floor when, one panel per segment with statements: one lane per
/// kind of participant, each statement a block from floor given to floor ended
/// (numbered as in the speakers table), its overrun cross-hatched at its end,
/// points of order and lost connections marked.
pub fn timeline(id: &str, title: &str, report: &Report, zone: FixedOffset) -> String {
    let panels: Vec<&SegmentReport> = report.segments.iter().filter(|s| !s.turns.is_empty()).collect();
    if panels.is_empty() {
        return empty(id, title, "No statement has been made yet.");
    }
    const LANE: f64 = 30.0;
    const LABEL_W: f64 = 120.0;
    const X0: f64 = LABEL_W + 8.0;
    const X1: f64 = TIMELINE_WIDTH - 12.0;
    fn lanes_of(s: &SegmentReport) -> Vec<&str> {
        let mut kinds: Vec<&str> = s.turns.iter().map(|t| t.participant_kind.as_str()).collect();
        kinds.sort_by_key(|k| (lane_order(k), k.to_string()));
        kinds.dedup();
        kinds
    }
    let panel_height = |s: &SegmentReport| 40.0 + lanes_of(s).len() as f64 * LANE + 8.0;
    let height = 34.0 + panels.iter().map(|s| panel_height(s)).sum::<f64>();
    let desc = format!(
        "{} in {}; each block is a statement from floor given to floor ended, numbered as in the speakers table",
        if report.segments.iter().map(|s| s.turns.len()).sum::<usize>() == 1 {
            "1 statement".to_string()
        } else {
            format!("{} statements", report.segments.iter().map(|s| s.turns.len()).sum::<usize>())
        },
        if panels.len() == 1 { "1 segment".to_string() } else { format!("{} segments", panels.len()) }
    );
    let mut out = String::new();
    open(&mut out, id, (TIMELINE_WIDTH, height), title, &desc);
    // Legend: modality fills, overrun, point of order, lost connection.
    let mut x = 8.0;
    for (fill, name) in
        [(Fill::Solid, "in room"), (Fill::Dots, "remote"), (Fill::Hatch, "pre-recorded"), (Fill::Over, "overrun")]
    {
        rect(&mut out, x, 4.0, 14.0, 9.0, &fill.attrs(id), None);
        text(&mut out, x + 18.0, 12.0, "font-size=\"11\"", name);
        x += 32.0 + name.len() as f64 * 6.2;
    }
    diamond(&mut out, x + 5.0, 8.5);
    text(&mut out, x + 14.0, 12.0, "font-size=\"11\"", "point of order");
    x += 14.0 + 14.0 * 6.2 + 14.0;
    bolt(&mut out, x + 4.0, 3.0);
    text(&mut out, x + 14.0, 12.0, "font-size=\"11\"", "speaker lost");

    let mut y = 34.0;
    for segment in panels {
        let lanes = lanes_of(segment);
        let first = segment.turns.iter().map(|t| t.started_at).min();
        let last = segment.turns.iter().map(|t| t.ended_at).max();
        let (Some(first), Some(last)) = (first, last) else { continue };
        let start = segment.opened_at.map_or(first, |o| o.min(first));
        let end = segment.ended_at.map_or(last, |e| e.max(last));
        let span = (end - start).num_milliseconds().max(60_000) as f64;
        let at = |t: Timestamp| X0 + ((t - start).num_milliseconds() as f64 / span).clamp(0.0, 1.0) * (X1 - X0);
        let _ = write!(out, "<g class=\"panel\" data-segment=\"{}\">", esc(&segment.id));
        let hm = |t: Timestamp| t.with_timezone(&zone).format("%H:%M").to_string();
        text(
            &mut out,
            0.0,
            y + 10.0,
            "font-weight=\"700\" font-size=\"12.5\"",
            &format!("{} · {}–{}", segment.title, hm(start), hm(end)),
        );
        let lanes_top = y + 32.0;
        let lanes_bottom = lanes_top + lanes.len() as f64 * LANE;
        // Ticks: a round number of minutes, at most eight, on the local clock.
        let minutes = span / 60_000.0;
        let step = [1i64, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240]
            .into_iter()
            .find(|m| minutes / *m as f64 <= 8.0)
            .unwrap_or(360)
            * 60;
        let from = local_secs(start, zone);
        let to = local_secs(end, zone);
        let mut tick = (from + step - 1).div_euclid(step) * step;
        while tick <= to {
            let tx = X0 + (tick - from) as f64 * 1000.0 / span * (X1 - X0);
            let _ = write!(
                out,
                "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{lanes_bottom:.1}\" stroke=\"{GRID}\" stroke-width=\"0.8\"/>",
                lanes_top - 4.0
            );
            let label =
                chrono::DateTime::from_timestamp(tick, 0).map(|t| t.format("%H:%M").to_string()).unwrap_or_default();
            text(
                &mut out,
                tx,
                lanes_top - 7.0,
                &format!("font-size=\"10\" text-anchor=\"middle\" fill=\"{MUTED}\""),
                &label,
            );
            tick += step;
        }
        for (i, kind) in lanes.iter().enumerate() {
            let ly = lanes_top + i as f64 * LANE;
            if i % 2 == 0 {
                rect(&mut out, X0, ly, X1 - X0, LANE, "fill=\"#f3f5f7\"", None);
            }
            text(&mut out, 0.0, ly + LANE / 2.0 + 4.0, "font-size=\"11\"", &fit(&kind_label(kind), LABEL_W, 6.0));
        }
        for t in &segment.turns {
            let lane = lanes.iter().position(|k| *k == t.participant_kind).unwrap_or(0);
            let by = lanes_top + lane as f64 * LANE + 4.0;
            let bh = LANE - 8.0;
            let x0 = at(t.started_at);
            let w = (at(t.ended_at) - x0).max(1.5);
            let fill = match t.modality.as_str() {
                "remote" => Fill::Dots,
                "pre-recorded" => Fill::Hatch,
                _ => Fill::Solid,
            };
            let tip = turn_tip(t, zone);
            let _ = write!(out, "<g class=\"turn\" data-turn=\"{}\">", t.turn);
            rect(&mut out, x0, by, w, bh, &format!("{} class=\"block\"", fill.attrs(id)), Some(&tip));
            // The overrun is the end of the time used: the block's last part.
            let wall = (t.ended_at - t.started_at).num_milliseconds().max(1) as f64;
            if t.overrun_ms >= 1000 {
                let ow = (t.overrun_ms as f64 / wall).min(1.0) * w;
                rect(&mut out, x0 + w - ow, by, ow, bh, &Fill::Over.attrs(id), Some(&tip));
            }
            let (number_fill, label) = match fill {
                Fill::Solid => ("#fff", t.position.to_string()),
                _ => (INK, t.position.to_string()),
            };
            let name = format!("{} {}", t.position, t.participant_name);
            let shown = if w >= name.chars().count() as f64 * 6.2 + 6.0 { name } else { label };
            if w >= shown.chars().count() as f64 * 6.2 + 3.0 {
                let (halo, colour) = if matches!(fill, Fill::Solid) {
                    ("", number_fill)
                } else {
                    (" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\"", INK)
                };
                text(
                    &mut out,
                    x0 + 3.0,
                    by + bh / 2.0 + 4.0,
                    &format!("font-size=\"10.5\" font-weight=\"600\" fill=\"{colour}\"{halo}"),
                    &shown,
                );
            }
            if t.interrupted {
                bolt(&mut out, x0 + w - 4.0, by - 5.0);
            }
            out.push_str("</g>");
        }
        for p in &report.points_of_order {
            let on = p.turn.and_then(|n| segment.turns.iter().find(|t| t.turn == n));
            let Some(t) = on else { continue };
            let lane = lanes.iter().position(|k| *k == t.participant_kind).unwrap_or(0);
            let py = lanes_top + lane as f64 * LANE + 3.0;
            let _ = write!(
                out,
                "<g class=\"point-of-order\"><title>{}</title>",
                esc(&format!("point of order by {} at {}", p.by, p.raised_at.with_timezone(&zone).format("%H:%M:%S")))
            );
            diamond(&mut out, at(p.raised_at), py);
            out.push_str("</g>");
        }
        let _ = write!(
            out,
            "<line x1=\"{X0}\" y1=\"{lanes_bottom:.1}\" x2=\"{X1}\" y2=\"{lanes_bottom:.1}\" stroke=\"{INK}\"/>\
             <line x1=\"{X0}\" y1=\"{lanes_top:.1}\" x2=\"{X0}\" y2=\"{lanes_bottom:.1}\" stroke=\"{INK}\"/></g>"
        );
        y += panel_height(segment);
    }
    out.push_str("</svg>");
    out
}

/// A turn's block, for the pointer: who, when, how long.
fn turn_tip(t: &TurnRow, zone: FixedOffset) -> String {
    let mut tip = format!(
        "{}. {} · {}–{} · {} used of {}",
        t.position,
        t.speaker,
        t.started_at.with_timezone(&zone).format("%H:%M:%S"),
        t.ended_at.with_timezone(&zone).format("%H:%M:%S"),
        mmss(t.used_ms),
        mmss(t.allotted_ms)
    );
    if t.overrun_ms >= 1000 {
        let _ = write!(tip, " (+{} over)", mmss(t.overrun_ms));
    }
    if t.interrupted {
        tip.push_str(" · the speaker was lost");
    }
    tip
}

/// The kind of participant as the domain names it ("Member State").
pub(super) fn kind_label(kind: &str) -> String {
    serde_json::from_value::<crate::domain::ParticipantKind>(serde_json::Value::String(kind.to_string()))
        .map_or_else(|_| kind.to_string(), |k| k.label().to_string())
}

/// A point of order: a black diamond centred on (x, y).
fn diamond(out: &mut String, x: f64, y: f64) {
    let _ = write!(
        out,
        "<path d=\"M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z\" fill=\"{INK}\" stroke=\"#fff\" stroke-width=\"1\"/>",
        y - 5.0,
        x + 4.5,
        y + 5.0,
        x - 4.5
    );
}

/// A lost connection: a lightning bolt from (x, y) down.
fn bolt(out: &mut String, x: f64, y: f64) {
    let _ = write!(
        out,
        "<path class=\"lost\" d=\"M{:.1} {y:.1}L{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z\" fill=\"{OVER}\" stroke=\"#fff\" stroke-width=\"0.8\"/>",
        x + 3.0,
        x - 4.0,
        y + 8.0,
        x,
        y + 8.0,
        x - 2.5,
        y + 14.0,
        x + 5.0,
        y + 6.0,
        x + 1.0,
        y + 6.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(81.0), (100.0, 25.0));
        assert_eq!(nice_max(19.0), (20.0, 5.0));
        assert_eq!(nice_max(9.83), (10.0, 2.5));
        assert_eq!(nice_max(3.0), (3.0, 0.5));
        assert_eq!(nice_max(30.0), (30.0, 5.0));
        assert_eq!(nice_max(140.0), (200.0, 50.0));
        assert_eq!(nice_max(0.0), (1.0, 0.25));
    }

    #[test]
    fn long_labels_are_shortened_with_an_ellipsis() {
        assert_eq!(fit("Latin American and Caribbean States", 60.0, 6.0), "Latin Ame…");
        assert_eq!(fit("Peru", 60.0, 6.0), "Peru");
        assert_eq!(wrap("Latin American and Caribbean States", 163.0, 6.0), ["Latin American and", "Caribbean States"]);
        assert_eq!(
            wrap("Western European and other States and more words", 120.0, 6.0),
            ["Western European and", "other States and mo…"]
        );
        assert_eq!(wrap("Peru", 60.0, 6.0), ["Peru"]);
    }

    #[test]
    fn names_from_the_journal_are_escaped_in_charts() {
        let share = Share {
            group: "<script>&".into(),
            statements: 1,
            ms: 60_000,
            time_percent: 100.0,
            statement_percent: 100.0,
            roster_percent: 50.0,
        };
        let svg = shares("t", "T", &[share], None);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;&amp;"));
    }
}
