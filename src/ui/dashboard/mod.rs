//! `stackctl dashboard`: the whole project in one full-screen view, kept current by the live feed
//! (events and stats streams, no polling) and the log ring. This module owns the terminal while
//! the view is up: raw mode and the alternate screen, given back on every way out (a key, a
//! signal, an error, a panic).

mod board;
mod render;

use std::io;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use crossterm::{cursor, execute, terminal};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use board::{Action, Board, Input, Key, ServiceRow};
pub use render::sparkline;

use crate::ui::logview::LogRing;

/// Why the view stepped aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leave {
    Quit,
    /// Open a shell in this container, then come back.
    Shell(String),
}

/// The shortest time between two draws: lines and updates arriving faster are drawn together
/// (keys are answered at once).
const FRAME: Duration = Duration::from_millis(50);

/// The terminal as the view needs it, restored when dropped.
struct Screen;

impl Screen {
    fn enter() -> io::Result<Screen> {
        install_panic_restore();
        terminal::enable_raw_mode()?;
        let screen = Screen;
        // Cleared here rather than by ratatui, whose clear asks the terminal where its cursor is
        // (a question a terminal just handed back by a shell can leave unanswered).
        execute!(
            io::stdout(),
            terminal::EnterAlternateScreen,
            terminal::Clear(terminal::ClearType::All),
            cursor::Hide
        )?;
        Ok(screen)
    }
}

fn restore() {
    let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
    let _ = terminal::disable_raw_mode();
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// A panic prints its message on the user's own screen, not into the alternate one left in raw
/// mode.
fn install_panic_restore() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Shows `board` until a key quits or asks for a shell. `inputs` change the board; keys that ask
/// for work send it to `actions`.
pub async fn show(
    board: &mut Board,
    inputs: &mut mpsc::Receiver<Input>,
    ring: &LogRing,
    actions: &mpsc::Sender<Action>,
) -> io::Result<Leave> {
    let _screen = Screen::enter()?;
    let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let mut keys = EventStream::new();
    use tokio::signal::unix::{SignalKind, signal};
    let mut term_signal = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut drawn_at = Instant::now() - FRAME;
    let mut dirty = true;
    let mut draw_due = false;
    loop {
        if dirty {
            term.draw(|f| render::draw(f, board, ring))?;
            drawn_at = Instant::now();
            dirty = false;
            draw_due = false;
        }
        tokio::select! {
            input = inputs.recv() => match input {
                Some(i) => {
                    board.apply(i);
                    draw_due = true;
                }
                None => return Ok(Leave::Quit),
            },
            _ = ring.changed.notified(), if !draw_due => draw_due = true,
            _ = tokio::time::sleep_until(drawn_at + FRAME), if draw_due => dirty = true,
            key = keys.next() => match key {
                Some(Ok(Event::Key(k))) => match board.key(k) {
                    Key::Nothing => {}
                    Key::Redraw => dirty = true,
                    Key::Act(a) => {
                        dirty = true;
                        if actions.try_send(a).is_err() {
                            board.note = "busy with the last key; press it again in a moment".into();
                        }
                    }
                    Key::Shell(id) => return Ok(Leave::Shell(id)),
                    Key::Quit => return Ok(Leave::Quit),
                },
                Some(Ok(Event::Resize(..))) => {
                    term.autoresize()?;
                    dirty = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(Leave::Quit),
            },
            _ = term_signal.recv() => return Ok(Leave::Quit),
            _ = hangup.recv() => return Ok(Leave::Quit),
            _ = interrupt.recv() => return Ok(Leave::Quit),
        }
    }
}
