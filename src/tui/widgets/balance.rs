//! The fairness panel: speaking time and statements by kind, regional group and
//! constituency against each group's share of the roster, waiting times remote
//! against in the room, who waits longest now, and the budgets used. It draws
//! [`crate::fairness`]'s figures: the same the report prints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::{Theme, cell, clock, ellipsize};
use crate::fairness::{BudgetUse, Fairness, Share, Wait};

fn wait_text(w: &Wait) -> String {
    match (w.mean_ms, w.max_ms) {
        (Some(mean), Some(max)) => format!("mean {} · longest {} ({})", clock(mean), clock(max), w.turns),
        _ => "—".to_string(),
    }
}

/// A share table: group, a bar of its time share, time %, statements %, roster %.
fn table(title: &str, shares: &[Share], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let name_width = (width / 3).clamp(12, 40);
    let figures = 3 * 8;
    let bar_width = width.saturating_sub(2 + name_width + 1 + figures).max(4);
    let header = format!("{} {:>8}{:>8}{:>8}", cell(title, 2 + name_width + bar_width), "time", "stmts", "roster");
    let mut lines = vec![Line::styled(header, theme.bold())];
    if shares.is_empty() {
        lines.push(Line::styled("  no statements yet".to_string(), theme.dim()));
        return lines;
    }
    for s in shares {
        let filled = (((s.time_percent / 100.0) * bar_width as f64).round() as usize).min(bar_width);
        // Heard less than its share of the roster: marked.
        let under = s.time_percent + 0.05 < s.roster_percent;
        let bar_style = if under { theme.fg(Color::Yellow) } else { theme.fg(Color::Green) };
        lines.push(Line::from(vec![
            Span::raw(format!("  {}", cell(&s.group, name_width))),
            Span::styled(format!("{}{}", "▇".repeat(filled), " ".repeat(bar_width - filled)), bar_style),
            Span::raw(format!(" {:>7.1}%{:>7.1}%", s.time_percent, s.statement_percent)),
            Span::styled(
                format!("{:>7.1}%", s.roster_percent),
                if under { theme.fg(Color::Yellow) } else { theme.dim() },
            ),
        ]));
    }
    lines
}

/// Every line of the panel: each table whole, the waiting times, every budget.
fn lines(fairness: &Fairness, budgets: &[BudgetUse], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    lines.extend(table("By kind of participant", &fairness.by_kind, width, theme));
    lines.extend(table("By UN regional group (States)", &fairness.by_regional_group, width, theme));
    lines.extend(table("By constituency (stakeholders)", &fairness.by_constituency, width, theme));
    let w = &fairness.waiting;
    lines.push(Line::styled("Waiting, inscription (or the segment's opening) to floor".to_string(), theme.bold()));
    lines.push(Line::from(ellipsize(
        &format!("  in room {} · remote {}", wait_text(&w.in_room), wait_text(&w.remote)),
        width,
    )));
    if w.pre_recorded.turns > 0 {
        lines.push(Line::from(ellipsize(&format!("  pre-recorded {}", wait_text(&w.pre_recorded)), width)));
    }
    let now: Vec<String> = fairness
        .waiting_now
        .iter()
        .take(4)
        .map(|n| {
            format!("{} {}{}", n.participant, clock(n.waited_ms), if n.modality == "remote" { " (remote)" } else { "" })
        })
        .collect();
    let now = if now.is_empty() { "no one is waiting".to_string() } else { now.join(" · ") };
    lines.push(Line::from(ellipsize(&format!("  longest waiting now: {now}"), width)));
    if !budgets.is_empty() {
        lines.push(Line::styled("Budgets used in this segment".to_string(), theme.bold()));
        let name_width = width.saturating_sub(2 + 20).clamp(12, 60);
        for b in budgets {
            lines.push(Line::from(format!(
                "  {} {:>8} of {:>8}",
                cell(&b.name, name_width),
                clock(b.used_ms),
                clock(b.limit_ms)
            )));
        }
    }
    lines.push(Line::styled(
        ellipsize("yellow: heard less than its share of the roster · stmts: statements", width),
        theme.dim(),
    ));
    lines
}

/// The panel, scrolled down `scroll` rows (as far as its last line at most); the
/// title says when more lies above or below.
pub fn render(fairness: &Fairness, budgets: &[BudgetUse], scroll: u16, theme: &Theme, frame: &mut Frame) {
    let full = frame.area();
    let area = Rect { x: full.x, y: full.y + 1, width: full.width, height: full.height.saturating_sub(2) };
    frame.render_widget(Clear, area);
    let inner_width = usize::from(area.width.saturating_sub(2));
    let all = lines(fairness, budgets, inner_width, theme);
    let height = usize::from(area.height.saturating_sub(2));
    let last = all.len().saturating_sub(height);
    let top = usize::from(scroll).min(last);
    let more = match (top > 0, top < last) {
        (false, false) => "any key closes".to_string(),
        (true, false) => format!("↑ {top} more above · any other key closes"),
        (false, true) => format!("↓ {} more below · any other key closes", last - top),
        (true, true) => format!("↑ {top} above, ↓ {} below · any other key closes", last - top),
    };
    let block = Block::bordered().title(format!(" Balance: speaking time, waiting, budgets ({more}) "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let shown: Vec<Line> = all.into_iter().skip(top).take(height).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
