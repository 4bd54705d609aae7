//! A follow outlives its daemon. When the daemon goes away (killed, restarted, upgraded), `logs -f`
//! says so, waits for it, says when it is back, and the follow goes on from each container's last
//! shown line: its containers keep their IDs and logs across a daemon restart, so asking for the
//! lines after the last one shown loses nothing and repeats nothing.

use super::reader::SharedView;
use crate::engine::{self, Engine};

/// Waits, saying so once in the view, until the daemon answers again. Ctrl-C ends the wait (the
/// caller's).
pub(super) async fn wait_for_daemon(engine: &Engine, view: &SharedView) {
    if engine::answers(engine).await {
        return;
    }
    view.with(|v| {
        v.notice(&format!(
            "the Docker daemon at {} is gone; waiting for it to come back (Ctrl-C to stop)",
            engine.address
        ))
    });
    engine::until_answering(engine).await;
    view.with(|v| v.notice("the Docker daemon is back; following again from the last line shown"));
}
