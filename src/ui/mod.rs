//! The terminal: progress bars on a TTY, plain lines otherwise. The only module that writes to the
//! terminal; it knows nothing of HTTP or the daemon, only the engine's events.

pub mod bridge;
pub mod dashboard;
pub mod images;
pub mod logview;
pub mod ls;
pub mod preview;
pub mod ps;
pub mod table;
pub mod template;
pub mod term;
pub mod units;

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Colours and cursor control: never, always, or on a terminal (`--ansi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ansi {
    Never,
    Always,
    Auto,
}

/// How steps are shown (`--progress`): bars, plain lines, nothing but warnings, or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Auto,
    Tty,
    Plain,
    Quiet,
    Json,
}

/// `--ansi`, set once at start.
static ANSI: std::sync::OnceLock<Ansi> = std::sync::OnceLock::new();

pub fn set_ansi(mode: Ansi) {
    let _ = ANSI.set(mode);
}

/// Whether output to a stream that `is_terminal` (or not) may carry colours and cursor control:
/// `--ansi` decides, `auto` means a terminal and no NO_COLOR.
pub fn ansi(is_terminal: bool) -> bool {
    match ANSI.get().copied().unwrap_or(Ansi::Auto) {
        Ansi::Never => false,
        Ansi::Always => true,
        Ansi::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}
use crate::engine::{Event, Reporter, StepState};

/// Whether to draw bars: `--progress` decides, `auto` means "stderr is a terminal".
pub fn use_bars(mode: Progress) -> bool {
    match mode {
        Progress::Tty => true,
        Progress::Plain | Progress::Quiet | Progress::Json => false,
        Progress::Auto => {
            ANSI.get() != Some(&Ansi::Never)
                && std::io::stderr().is_terminal()
                && std::env::var_os("CI").is_none()
        }
    }
}

/// `inner` without the progress lines of pulls (`--quiet-pull`) or builds (`--quiet-build`):
/// each image still says that it is pulled or built, and its failure says why.
pub fn without_detail(inner: Reporter, pulls: bool, builds: bool) -> Reporter {
    if !pulls && !builds {
        return inner;
    }
    // Which image objects are pulling (false) or building (true) now.
    let doing: Mutex<HashMap<String, bool>> = Mutex::default();
    Arc::new(move |ev| {
        let mut doing = doing.lock().unwrap_or_else(|e| e.into_inner());
        match &ev {
            Event::Step { object, status, .. } => match status.as_str() {
                "Pulling" => {
                    doing.insert(object.clone(), false);
                }
                "Building" => {
                    doing.insert(object.clone(), true);
                }
                _ => {}
            },
            Event::Detail { object, .. } | Event::BuildStep { object, .. } => {
                if let Some(building) = doing.get(object)
                    && if *building { builds } else { pulls }
                {
                    return;
                }
            }
            Event::Warning(_) => {}
        }
        drop(doing);
        inner(ev)
    })
}

pub fn reporter(mode: Progress) -> Reporter {
    if mode == Progress::Quiet {
        return Arc::new(|ev| {
            if let Event::Warning(w) = ev {
                eprintln!("warning: {w}");
            }
        });
    }
    if mode == Progress::Json {
        // One JSON object a line on stderr, for tools.
        return Arc::new(|ev| {
            if let Ok(line) = serde_json::to_string(&ev) {
                eprintln!("{line}");
            }
        });
    }
    if use_bars(mode) {
        let bars = Mutex::new(Bars::default());
        Arc::new(move |ev| {
            if let Ok(mut b) = bars.lock() {
                b.handle(ev);
            }
        })
    } else {
        let plain = Mutex::new(Plain::default());
        Arc::new(move |ev| {
            if let Ok(mut p) = plain.lock() {
                p.handle(ev);
            }
        })
    }
}

/// One line per event on stderr; transient progress at most once a second per object.
#[derive(Default)]
struct Plain {
    last_transient: HashMap<String, Instant>,
}

impl Plain {
    fn handle(&mut self, ev: Event) {
        let mut err = std::io::stderr().lock();
        let _ = match ev {
            // Compose's own form, which clients match on: two spaces, no column.
            Event::Step { object, status, .. } => writeln!(err, " {object}  {status}"),
            Event::Detail {
                object,
                text,
                transient,
            } => {
                if transient {
                    let now = Instant::now();
                    if self
                        .last_transient
                        .get(&object)
                        .is_some_and(|t| now.duration_since(*t) < Duration::from_secs(1))
                    {
                        return;
                    }
                    self.last_transient.insert(object.clone(), now);
                }
                writeln!(err, " {object:<40} | {text}")
            }
            Event::BuildStep {
                object,
                step,
                state,
                started,
                completed,
                error,
            } => match state {
                StepState::Running => writeln!(err, " {object:<40} | {step}"),
                StepState::Cached => writeln!(err, " {object:<40} | {step} CACHED"),
                StepState::Done => {
                    let took = completed.zip(started).map_or(0.0, |(c, s)| c - s);
                    writeln!(err, " {object:<40} | {step} DONE {took:.1}s")
                }
                StepState::Failed => writeln!(
                    err,
                    " {object:<40} | {step} ERROR: {}",
                    error.unwrap_or_default()
                ),
            },
            Event::Warning(w) => writeln!(err, "warning: {w}"),
        };
    }
}

/// A spinner line per object, finished with a tick when the object reaches a final state.
struct Bars {
    multi: MultiProgress,
    lines: HashMap<String, ProgressBar>,
    order: Vec<String>,
}

impl Default for Bars {
    fn default() -> Self {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            lines: HashMap::new(),
            order: Vec::new(),
        }
    }
}

impl Bars {
    fn line(&mut self, object: &str) -> &ProgressBar {
        if !self.lines.contains_key(object) {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template(" {spinner:.cyan} {prefix:<40} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(object.to_owned());
            bar.enable_steady_tick(Duration::from_millis(100));
            self.lines.insert(object.to_owned(), bar);
            self.order.push(object.to_owned());
        }
        &self.lines[object]
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Step {
                object,
                status,
                done,
            } => {
                let bar = self.line(&object).clone();
                if done {
                    bar.set_style(
                        ProgressStyle::with_template(" \u{2714} {prefix:<40} {wide_msg:.green}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.finish_with_message(status);
                } else {
                    if bar.is_finished() {
                        bar.reset();
                        bar.set_style(
                            ProgressStyle::with_template(
                                " {spinner:.cyan} {prefix:<40} {wide_msg}",
                            )
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        bar.enable_steady_tick(Duration::from_millis(100));
                    }
                    bar.set_message(status);
                }
            }
            Event::Detail { object, text, .. } => {
                let bar = self.line(&object).clone();
                if !bar.is_finished() {
                    bar.set_message(text);
                }
            }
            Event::BuildStep {
                object,
                step,
                state,
                ..
            } => {
                let bar = self.line(&object).clone();
                if !bar.is_finished() && state != StepState::Done {
                    bar.set_message(match state {
                        StepState::Cached => format!("{step} (cached)"),
                        _ => step,
                    });
                }
            }
            Event::Warning(w) => {
                let _ = self.multi.println(format!("warning: {w}"));
            }
        }
    }
}

/// The manifest's warnings, one line each on stderr.
pub fn warnings(list: &[String]) {
    for w in list {
        eprintln!("warning: {w}");
    }
}

/// `--verbose`: which daemon answered, through which context, and in which API version.
pub fn daemon_line(engine: &crate::engine::Engine) {
    eprintln!("{}", daemon_text(engine));
}

pub fn daemon_text(engine: &crate::engine::Engine) -> String {
    format!(
        "Docker Engine {} at {} (context {}), API {}{}",
        engine.server_version,
        engine.address,
        engine.context,
        engine.api_version,
        if engine.api_pinned {
            " (pinned by DOCKER_API_VERSION)"
        } else {
            ""
        }
    )
}

/// Writes a command's result to stdout. A reader that went away comes back as an error (main
/// exits 0 on it) rather than `print!`'s panic.
pub fn out(text: impl AsRef<str>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_ref().as_bytes())?;
    stdout.flush()
}

/// A line for the person at the terminal, on stderr.
pub fn note(text: impl std::fmt::Display) {
    eprintln!("{text}");
}

#[cfg(test)]
#[test]
fn quiet_pulls_and_builds_keep_their_steps_and_lose_their_detail() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let into = seen.clone();
    let inner: Reporter = Arc::new(move |ev| {
        let text = match ev {
            Event::Step { object, status, .. } => format!("{object} {status}"),
            Event::Detail { object, text, .. } => format!("{object}: {text}"),
            _ => String::new(),
        };
        into.lock().unwrap().push(text);
    });
    let r = without_detail(inner, true, false);
    let detail = |object: &str, text: &str| Event::Detail {
        object: object.into(),
        text: text.into(),
        transient: false,
    };
    crate::engine::step(&r, "Image redis", "Pulling", false);
    r(detail("Image redis", "layer 1/3"));
    crate::engine::step(&r, "Image redis", "Pulled", true);
    crate::engine::step(&r, "Image app", "Building", false);
    r(detail("Image app", "Step 1/2 : FROM x"));
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "Image redis Pulling",
            "Image redis Pulled",
            "Image app Building",
            "Image app: Step 1/2 : FROM x"
        ]
    );
}
