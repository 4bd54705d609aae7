//! A follow outlives its daemon. When the daemon goes away (killed, restarted, upgraded), `logs -f`
//! says so, waits for it, says when it is back, and the follow goes on from each container's last
//! shown line: its containers keep their IDs and logs across a daemon restart, so asking for the
//! lines after the last one shown loses nothing and repeats nothing.

use std::time::Duration;

use crate::engine::Engine;
use crate::ui;

/// How long a ping may take before the daemon counts as gone.
const PING_BOUND: Duration = Duration::from_secs(2);

/// Whether the daemon answers a ping now.
pub async fn answers(engine: &Engine) -> bool {
    matches!(
        tokio::time::timeout(PING_BOUND, engine.docker.ping()).await,
        Ok(Ok(_))
    )
}

/// Waits, saying so once, until the daemon answers again. Ctrl-C ends the wait (the caller's).
pub async fn wait_for_daemon(engine: &Engine) {
    if answers(engine).await {
        return;
    }
    ui::note(format!(
        "the Docker daemon at {} is gone; waiting for it to come back (Ctrl-C to stop)",
        engine.address
    ));
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if answers(engine).await {
            break;
        }
    }
    ui::note("the Docker daemon is back; following again from the last line shown");
}
