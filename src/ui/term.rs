//! The terminal's raw side, for the commands that pass bytes through rather than print text: a
//! container's output as it wrote it, tar streams, the screen cleared between two frames of a
//! live table, raw mode for an interactive session and the window's size. With `ui::out` and
//! `ui::note`, the only ways to the terminal.

use std::io::Write;

/// Bytes to standard output, as they are, flushed.
pub fn out_bytes(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Bytes to standard error, as they are, flushed.
pub fn err_bytes(bytes: &[u8]) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    err.write_all(bytes)?;
    err.flush()
}

/// Standard output for a stream copied straight through (`cp … -`, `export`).
pub fn stdout_stream() -> tokio::io::Stdout {
    tokio::io::stdout()
}

/// Home and clear: a table redrawn in place.
pub fn clear_screen() -> std::io::Result<()> {
    out_bytes(b"\x1b[H\x1b[2J")
}

/// The terminal's width and height, when there is one.
pub fn size() -> Option<(u16, u16)> {
    crossterm::terminal::size().ok()
}

/// Raw mode for the life of a TTY session, restored however the session ends.
pub struct RawMode(bool);

impl RawMode {
    pub fn enable(tty: bool) -> Self {
        RawMode(tty && crossterm::terminal::enable_raw_mode().is_ok())
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.0 {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// Whether standard output is a terminal (a live table, a TTY session, a refusal to pour a tar
/// stream onto the screen).
pub fn stdout_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// Reads the terminal's input, handing each chunk to `give`, until `done` is set (looked at every
/// 50 ms) or `give` returns false. Unlike a plain blocking read, it leaves no reader behind.
pub fn read_stdin_until(done: &std::sync::atomic::AtomicBool, mut give: impl FnMut(&[u8]) -> bool) {
    let mut buf = [0u8; 1024];
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        let mut fds = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the length given.
        let ready = unsafe { libc::poll(&mut fds, 1, 50) };
        if ready <= 0 || fds.revents & libc::POLLIN == 0 {
            if fds.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                return;
            }
            continue;
        }
        // SAFETY: the buffer is valid for its length.
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 || !give(&buf[..n as usize]) {
            return;
        }
    }
}

/// Keys one at a time without echo, Ctrl-C still a signal (attached `up`'s menu), restored when
/// dropped. Off a terminal it does nothing.
pub struct KeyMode(Option<libc::termios>);

impl KeyMode {
    pub fn enable() -> Self {
        // SAFETY: termios is plain data; tcgetattr fills it or fails, and we only use it if it did.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::isatty(libc::STDIN_FILENO) != 1
                || libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0
            {
                return KeyMode(None);
            }
            let mut keys = saved;
            keys.c_lflag &= !(libc::ICANON | libc::ECHO);
            keys.c_cc[libc::VMIN] = 1;
            keys.c_cc[libc::VTIME] = 0;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &keys) != 0 {
                return KeyMode(None);
            }
            KeyMode(Some(saved))
        }
    }

    pub fn active(&self) -> bool {
        self.0.is_some()
    }
}

impl Drop for KeyMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            // SAFETY: restores the settings read in `enable`.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved);
            }
        }
    }
}
