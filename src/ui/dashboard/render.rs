//! How the dashboard is drawn: a title line, the services table, the log, the status line and the
//! keys. Sized for 80×24 and up; narrower columns give way first to the log.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

use super::board::{Board, ServiceRow};
use crate::ui::logview::{LineKind, LogRing};
use crate::ui::units::binary_bytes;

/// The keys, as the footer lists them.
const KEYS: &[(&str, &str)] = &[
    ("↑↓", "select"),
    ("Enter", "focus log"),
    ("+/-", "scale"),
    ("r", "restart"),
    ("s", "stop/start"),
    ("e", "shell"),
    ("o", "open"),
    ("h", "health"),
    ("u", "up"),
    ("/", "search"),
    ("q", "quit"),
];

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values as bars, scaled to the largest (or to `floor`, when that is larger).
pub fn sparkline(values: &[f64], width: usize, floor: f64) -> String {
    let tail = &values[values.len().saturating_sub(width)..];
    let top = tail.iter().copied().fold(floor, f64::max);
    tail.iter()
        .map(|v| {
            let i = ((v / top) * 7.0).round().clamp(0.0, 7.0) as usize;
            SPARKS[i]
        })
        .collect()
}

fn ansi_colour(code: u8) -> Color {
    match code {
        31 => Color::Red,
        32 => Color::Green,
        33 => Color::Yellow,
        34 => Color::Blue,
        35 => Color::Magenta,
        _ => Color::Cyan,
    }
}

pub fn draw(f: &mut Frame, board: &Board, ring: &LogRing) {
    let area = f.area();
    let rows = board.rows();
    let footer = footer_lines(area.width as usize);
    let footer_height = footer.len() as u16;
    let table_height = (rows.len() as u16 + 3).min(area.height / 2).max(4);
    let [title, table, log, status, footer_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(table_height),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(footer_height),
    ])
    .areas(area);
    draw_title(f, board, &rows, title);
    draw_table(f, board, &rows, table);
    draw_log(f, board, ring, log);
    let status_line = if board.editing {
        Line::from(vec![
            Span::styled("/", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(board.search.clone()),
            Span::styled("█", Style::new().add_modifier(Modifier::SLOW_BLINK)),
        ])
    } else {
        Line::raw(board.note.clone())
    };
    f.render_widget(Paragraph::new(status_line), status);
    f.render_widget(Paragraph::new(footer), footer_area);
    if let Some(detail) = &board.detail {
        let w = area.width.saturating_sub(8).max(20).min(area.width);
        let h = area.height.saturating_sub(6).max(5).min(area.height);
        let pop = Rect::new((area.width - w) / 2, (area.height - h) / 2, w, h);
        f.render_widget(Clear, pop);
        f.render_widget(
            Paragraph::new(detail.clone())
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(" health checks (any key closes) ")),
            pop,
        );
    }
}

/// The keys, as many to a line as fit, a key never split from its word.
fn footer_lines(width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut line: Vec<Span> = Vec::new();
    let mut used = 0;
    for (key, word) in KEYS {
        let len = key.chars().count() + word.chars().count() + 3;
        if used + len > width && !line.is_empty() {
            lines.push(Line::from(std::mem::take(&mut line)));
            used = 0;
        }
        line.push(Span::styled(
            *key,
            Style::new().add_modifier(Modifier::REVERSED),
        ));
        line.push(Span::raw(format!(" {word}  ")));
        used += len;
    }
    lines.push(Line::from(line));
    lines
}

fn draw_title(f: &mut Frame, board: &Board, rows: &[ServiceRow], area: Rect) {
    let running: u32 = rows.iter().map(|r| r.running).sum();
    let desired: u32 = rows.iter().map(|r| r.desired).sum();
    let mut spans = Vec::new();
    if board.daemon_gone {
        spans.push(Span::styled(
            " daemon gone, reconnecting… ",
            Style::new()
                .fg(Color::Red)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    spans.extend([
        Span::styled(
            format!(" {} ", board.project),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Span::raw(format!(
            " {} services, {running}/{desired} containers running",
            rows.len()
        )),
    ]);
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_table(f: &mut Frame, board: &Board, rows: &[ServiceRow], area: Rect) {
    // The wide layout needs about 116 columns inside the border; narrower, it would squeeze HEALTH.
    let wide = area.width >= 120;
    let spark = if wide { 12 } else { 6 };
    let body: Vec<Row> = rows
        .iter()
        .map(|r| {
            let ready_style = if r.running < r.desired {
                Style::new().fg(Color::Yellow)
            } else {
                Style::new().fg(Color::Green)
            };
            let health_style = if r.health.starts_with("unhealthy") {
                Style::new().fg(Color::Red)
            } else {
                Style::new()
            };
            let mut exits = r.exits.join(",");
            if r.paused {
                exits = format!("paused {exits}");
            }
            let exit_style = if r.oom {
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            Row::new(vec![
                Cell::from(r.name.clone()),
                Cell::from(format!("{}/{}", r.running, r.desired)).style(ready_style),
                Cell::from(r.health.clone()).style(health_style),
                Cell::from(r.restarts.to_string()),
                Cell::from(exits).style(exit_style),
                Cell::from(format!(
                    "{:>5.1}% {}",
                    r.cpu,
                    sparkline(&r.cpu_history, spark, 5.0)
                )),
                Cell::from(format!(
                    "{:>9} {}",
                    binary_bytes(r.memory),
                    sparkline(&r.memory_history, spark, 1.0)
                )),
                Cell::from(r.ports.join(" ")),
            ])
        })
        .collect();
    let widths = [
        Constraint::Min(10),
        Constraint::Length(5),
        Constraint::Length(if wide { 13 } else { 11 }),
        Constraint::Length(4),
        Constraint::Length(if wide { 10 } else { 8 }),
        Constraint::Length(7 + spark as u16),
        Constraint::Length(10 + spark as u16),
        Constraint::Min(if wide { 24 } else { 0 }),
    ];
    let header = Row::new(vec![
        "SERVICE", "READY", "HEALTH", "RST", "EXIT", "CPU", "MEMORY", "PORTS",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD));
    let table = Table::new(body, widths)
        .header(header)
        .block(Block::bordered().title(" services "))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .column_spacing(1);
    let mut state = TableState::default().with_selected(Some(board.selected));
    f.render_stateful_widget(table, area, &mut state);
}

fn draw_log(f: &mut Frame, board: &Board, ring: &LogRing, area: Rect) {
    let height = area.height.saturating_sub(2) as usize;
    let (names, lines) = ring.tail(board.scroll, height, |name, l| {
        l.container == usize::MAX || board.shows(name, &l.text)
    });
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let shown: Vec<Line> = lines
        .iter()
        .map(|l| {
            let name = names.get(l.container).map_or("stackctl", |n| n.as_str());
            let colour = ansi_colour(crate::logs::colour_for(name));
            let text_style = match l.kind {
                LineKind::Status => Style::new().add_modifier(Modifier::ITALIC),
                LineKind::Err | LineKind::Out => Style::new(),
            };
            Line::from(vec![
                Span::styled(format!("{name:<width$} | "), Style::new().fg(colour)),
                Span::styled(l.text.replace('\t', "    "), text_style),
            ])
        })
        .collect();
    let mut title = match &board.focus {
        Some(s) => format!(" logs of {s} "),
        None => " logs ".to_owned(),
    };
    if !board.search.is_empty() {
        title.push_str(&format!("matching /{} ", board.search));
    }
    if board.scroll > 0 {
        title.push_str(&format!("(scrolled back {}) ", board.scroll));
    }
    f.render_widget(
        Paragraph::new(shown).block(Block::bordered().title(title)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::super::{Board, Input};
    use crate::engine::live::Update;
    use crate::engine::logs::Channel;
    use crate::engine::observe::{ContainerState, ObservedContainer};
    use crate::ui::logview::{LogRing, LogView};

    /// The screen as text, one line per row.
    fn screen(width: u16, height: u16, board: &Board, ring: &LogRing) -> Vec<String> {
        let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
        term.draw(|f| super::draw(f, board, ring)).unwrap();
        let buffer = term.backend().buffer().clone();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect()
    }

    #[test]
    fn every_column_and_the_keys_fit_from_80_columns_up() {
        let desired = BTreeMap::from([("web".to_owned(), 1)]);
        let mut board = Board::new("shop", desired, vec!["web".into()]);
        board.apply(Input::Live(Update::All(vec![ObservedContainer {
            id: "a".into(),
            name: "shop-web-1".into(),
            service: "web".into(),
            number: 1,
            state: ContainerState::Running,
            status: "Up 2 seconds (healthy)".into(),
            ports: vec![(None, Some(8080), 80, "tcp".into())],
            ..Default::default()
        }])));
        let ring = LogRing::new(10);
        let mut view = LogView::capture(ring.clone(), &["shop-web-1".to_owned()]);
        view.line(0, Channel::Stdout, b"GET / 200");
        for (w, h) in [(80, 24), (110, 30), (120, 30), (200, 50)] {
            let lines = screen(w, h, &board, &ring);
            let web = lines
                .iter()
                .find(|l| l.contains("│web "))
                .expect("web's row");
            assert!(
                web.contains("1/1") && web.contains("healthy 1/1"),
                "{w}×{h}: {web}"
            );
            assert!(
                lines.iter().any(|l| l.contains("shop-web-1 | GET / 200")),
                "{w}×{h}: the log line"
            );
            let footer = lines[lines.len() - 2..].join(" ");
            assert!(
                footer.contains("q quit") && footer.contains("+/- scale"),
                "{w}×{h}: {footer}"
            );
            if w >= 120 {
                assert!(web.contains("127.0.0.1:8080->80/tcp"), "{w}×{h}: {web}");
            }
        }
    }
}
