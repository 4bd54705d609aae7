//! `logs` on a swarm: one stream per service (the daemon merges its tasks' output), written into
//! the same view as containers' lines, with `project_service |` prefixes.

use anyhow::Result;
use tokio::sync::mpsc;

use super::*;

/// Logs of the project's Swarm services, one stream per service (its tasks' output), `service |` prefixes.
pub(super) async fn swarm_logs(
    engine: &Engine,
    project: &str,
    args: &LogsArgs,
    q: LogQuery,
    stamps: Stamps,
) -> Result<()> {
    let services: Vec<(String, String)> = crate::engine::swarm::services(engine, project)
        .await?
        .into_iter()
        .filter(|(_, name)| {
            args.services.is_empty()
                || args
                    .services
                    .iter()
                    .any(|s| crate::engine::swarm::service_name(project, s) == *name)
        })
        .collect();
    let view = SharedView::new(LogView::new(
        &services.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
        args.no_color,
        !args.no_log_prefix,
    ));
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    // Service logs are shown as they come: no ordering, so timestamps only when asked for.
    let stamps = Stamps {
        parse: false,
        ..stamps
    };
    let q = LogQuery {
        timestamps: stamps.wanted(),
        ..q
    };
    for (idx, (id, _)) in services.iter().enumerate() {
        spawn_stream_reader(
            Box::pin(logs::service_stream(engine, id, &q)),
            idx,
            stamps,
            Sink::View(view.clone()),
            tx.clone(),
        );
    }
    drop(tx);
    // Every reader writes into the view; the channel only tells when all streams have ended.
    let work = async {
        while rx.recv().await.is_some() {}
        view.with(|v| v.flush())?;
        Ok(())
    };
    tokio::select! {
        r = work => r,
        e = view.flush_when_dirty() => Err(e.into()),
        _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
    }
}
