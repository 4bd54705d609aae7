//! The pause that makes a busy `logs` cheap: after a round of work that read log frames, the
//! runtime waits half a millisecond before it asks the kernel for more.
//!
//! Why: the daemon writes every log line to its socket as a write of its own. Read as soon as it
//! arrives, each line costs a wake-up, an `epoll_wait` and a `recv` that finds a few lines
//! (measured on 10 × 200,000 short lines: 36,000 wake-ups, 39,000 reads, 2.7 CPU-seconds). With the
//! pause the lines pile up and one `recv` takes hundreds (2,600 wake-ups, 8,000 reads, 1.4
//! CPU-seconds), and the reading is no slower: a daemon socket's send buffer (~200 KiB, about 300
//! short lines) takes ~10 ms to fill at full speed, 20 times the pause, so the daemon never waits.
//! A quiet stream sees its lines half a millisecond later; an idle one never pauses. Attached `up`
//! (25 s of the same 10 containers): 3.2 CPU-seconds without the pause, 1.5 with it, and more lines
//! read in the time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long the runtime waits after a round that read frames. Measured with 0.25–2 ms: the same CPU
/// and wall time; from 4 ms the daemon is held up and the reading slows.
const PAUSE: Duration = Duration::from_micros(500);

/// Whether frames were read since the runtime last went idle.
pub struct PauseAfterReading {
    read: AtomicBool,
}

impl PauseAfterReading {
    pub const fn new() -> Self {
        PauseAfterReading {
            read: AtomicBool::new(false),
        }
    }

    /// A reader calls this for every frame it takes.
    pub fn frame_read(&self) {
        self.read.store(true, Ordering::Relaxed);
    }

    /// How long to wait before going idle: the pause after a round that read, nothing otherwise.
    /// Starts a new round.
    pub fn before_idle(&self) -> Option<Duration> {
        self.read.swap(false, Ordering::Relaxed).then_some(PAUSE)
    }
}

/// The one flag of the process: set by every log reader, taken by whichever runtime thread goes idle
/// next (`logs` has one thread; `up`'s two share it, and only attached `up` reads logs).
pub static READING: PauseAfterReading = PauseAfterReading::new();

/// For the runtime's `on_thread_park`: sleeps the pause when the round read frames.
pub fn on_park() {
    if let Some(pause) = READING.before_idle() {
        std::thread::sleep(pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_that_read_pauses_and_the_next_starts_afresh() {
        let p = PauseAfterReading::new();
        p.frame_read();
        p.frame_read();
        assert_eq!(p.before_idle(), Some(PAUSE));
        assert_eq!(p.before_idle(), None, "an idle round does not pause");
    }

    #[test]
    fn an_idle_runtime_never_pauses() {
        let p = PauseAfterReading::new();
        assert_eq!(p.before_idle(), None);
    }

    #[test]
    fn the_pause_is_far_shorter_than_the_time_a_daemon_socket_takes_to_fill() {
        // ~300 short lines buffered, written at up to ~40,000 lines/s per container: 7.5 ms.
        assert!(PAUSE * 10 <= Duration::from_micros(7_500));
    }
}
