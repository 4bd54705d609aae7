//! `logs` on a swarm: one stream per service (the daemon merges its tasks' output), written into
//! the same kind of sink as containers' lines, with `project_service |` prefixes.

use anyhow::Result;
use tokio::sync::mpsc;

use super::follow::{LogsRequest, SinkFor};
use super::reader::{Msg, SharedView, Sink, Stamps, spawn_stream_reader};
use super::{LogQuery, service_stream};
use crate::engine::{Engine, swarm};

/// Logs of the project's Swarm services that `req` names, one stream per service (its tasks' output).
pub async fn services(engine: &Engine, req: LogsRequest, sink_for: SinkFor<'_>) -> Result<()> {
    let project = &req.project;
    let services: Vec<(String, String)> = swarm::services(engine, project)
        .await?
        .into_iter()
        .filter(|(_, name)| {
            req.services.is_empty()
                || req
                    .services
                    .iter()
                    .any(|s| swarm::service_name(project, s) == *name)
        })
        .collect();
    let names: Vec<String> = services.iter().map(|(_, n)| n.clone()).collect();
    let view = SharedView::new(sink_for(&names));
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    // Service logs are shown as they come: no ordering, so timestamps only when asked for.
    let stamps = Stamps {
        parse: false,
        ..req.stamps
    };
    let q = LogQuery {
        timestamps: stamps.wanted(),
        ..req.query
    };
    for (idx, (id, _)) in services.iter().enumerate() {
        spawn_stream_reader(
            Box::pin(service_stream(engine, id, &q)),
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
    }
}
