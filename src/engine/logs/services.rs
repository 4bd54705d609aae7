//! `logs` on a swarm: one stream per service (the daemon merges its tasks' output, and adds tasks
//! that start later when following), each line labelled with its task and node
//! (`flaskapp.2.w8moeq5rc71y@node3`). A follow outlives the stream: when a manager loses its
//! subscription (a node gone, a leader change) the stream is asked again from the last line
//! shown, and what was shown already is not shown twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{Mutex, mpsc};

use super::follow::{LogsRequest, SinkFor};
use super::reader::SharedView;
use super::{Channel, LogQuery, frames};
use crate::engine::{Engine, swarm};
use crate::logs::{Stamped, StampedLines};

/// Logs of the project's Swarm services that `req` names, one stream per service.
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
    // Labels are added as tasks show up: which tasks a service has changes while following.
    let view = SharedView::new(sink_for(&[]));
    let labels = Arc::new(Mutex::new(Labels::default()));
    let (done_tx, mut done) = mpsc::channel::<()>(1);
    for (id, name) in services {
        let follower = ServiceFollower {
            engine: engine.clone(),
            service_id: id,
            service: name,
            query: req.query.clone(),
            show_stamps: req.stamps.show,
            view: view.clone(),
            labels: labels.clone(),
        };
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = follower.run() => {}
                _ = done_tx.closed() => {}
            }
            drop(done_tx);
        });
    }
    drop(done_tx);
    // Every follower writes into the view; the channel only tells when all of them have ended.
    let work = async {
        while done.recv().await.is_some() {}
        view.with(|v| v.flush())?;
        Ok(())
    };
    tokio::select! {
        r = work => r,
        e = view.flush_when_dirty() => Err(e.into()),
    }
}

/// Each task's label's index in the view, and what names a task: its slot and node.
#[derive(Default)]
struct Labels {
    of_task: HashMap<String, usize>,
    hostnames: HashMap<String, String>,
}

struct ServiceFollower {
    engine: Engine,
    service_id: String,
    service: String,
    query: LogQuery,
    show_stamps: bool,
    view: SharedView,
    labels: Arc<Mutex<Labels>>,
}

impl ServiceFollower {
    async fn run(self) {
        // The newest line shown of each task, by the daemon's clock.
        let mut shown: HashMap<String, i128> = HashMap::new();
        let mut query = LogQuery {
            // Always asked for: they decide what a repeated stream already showed.
            timestamps: true,
            ..self.query.clone()
        };
        loop {
            let stream = frames(
                with_details(&self.engine).service_logs(&self.service_id, Some(query.options())),
            );
            self.read(Box::pin(stream), &mut shown).await;
            if !self.query.follow || self.engine.cancel.is_cancelled() {
                return;
            }
            // The stream ended while following: the manager dropped it. Ask again once the
            // service is still there, from the second of the newest line shown.
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !self.still_there().await {
                return;
            }
            if let Some(newest) = shown.values().max() {
                query.since = (newest / 1_000_000_000).clamp(0, i32::MAX as i128) as i32;
                query.tail = None;
            }
        }
    }

    async fn still_there(&self) -> bool {
        loop {
            match self
                .engine
                .docker
                .inspect_service(&self.service_id, None)
                .await
            {
                Ok(_) => return true,
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => return false,
                // A manager without a leader for a moment (an election): try again.
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }

    async fn read(
        &self,
        mut stream: super::reader::FrameStream,
        shown: &mut HashMap<String, i128>,
    ) {
        let mut out = StampedLines::new(true);
        let mut err = StampedLines::new(true);
        while let Some(Ok((ch, frame))) = stream.next().await {
            let buf = if ch == Channel::Stdout {
                &mut out
            } else {
                &mut err
            };
            let mut lines = Vec::new();
            buf.push(frame, |l| lines.push(l));
            self.write(ch, lines, shown).await;
        }
        for (ch, buf) in [(Channel::Stdout, &mut out), (Channel::Stderr, &mut err)] {
            let rest: Vec<Stamped> = buf.finish().into_iter().collect();
            self.write(ch, rest, shown).await;
        }
    }

    async fn write(&self, ch: Channel, lines: Vec<Stamped>, shown: &mut HashMap<String, i128>) {
        let mut ready = Vec::with_capacity(lines.len());
        for l in lines {
            let (attrs, message) = split_details(&l.line);
            let task = attrs.get(TASK).cloned().unwrap_or_default();
            let newest = shown.entry(task.clone()).or_insert(i128::MIN);
            if l.nanos <= *newest {
                continue;
            }
            *newest = l.nanos;
            let idx = self
                .label(&task, attrs.get(NODE).map_or("", String::as_str))
                .await;
            let text = if self.show_stamps && !l.text.is_empty() {
                let mut t = Vec::with_capacity(l.text.len() + 1 + message.len());
                t.extend_from_slice(&l.text);
                t.push(b' ');
                t.extend_from_slice(&message);
                Bytes::from(t)
            } else {
                message
            };
            ready.push((idx, text));
        }
        if !ready.is_empty() {
            self.view.write(|v| {
                for (idx, text) in &ready {
                    v.line(*idx, ch, text);
                }
            });
        }
    }

    /// The view's index of `task`'s label, `project_service.slot.task@node` as `docker service
    /// logs` names it (a global service's tasks have no slot), registered the first time the
    /// task is seen.
    async fn label(&self, task: &str, node_id: &str) -> usize {
        let mut labels = self.labels.lock().await;
        if let Some(idx) = labels.of_task.get(task) {
            return *idx;
        }
        let slot = match self.engine.docker.inspect_task(task).await {
            Ok(t) => t.slot,
            Err(_) => None,
        };
        if !labels.hostnames.contains_key(node_id) {
            let hostname = self
                .engine
                .docker
                .inspect_node(node_id)
                .await
                .ok()
                .and_then(|n| n.description?.hostname)
                .unwrap_or_else(|| node_id.chars().take(12).collect());
            labels.hostnames.insert(node_id.to_owned(), hostname);
        }
        let label = task_label(&self.service, slot, task, &labels.hostnames[node_id]);
        let idx = self.view.with(|v| v.add(&label));
        labels.of_task.insert(task.to_owned(), idx);
        idx
    }
}

const TASK: &str = "com.docker.swarm.task.id";
const NODE: &str = "com.docker.swarm.node.id";

/// The task's ID is cut to 12 characters, as docker's listings show it: a slot's task moved to
/// another node, or replaced by an update, is told apart from the one before.
fn task_label(service: &str, slot: Option<i64>, task: &str, node: &str) -> String {
    let task: String = task.chars().take(12).collect();
    match slot {
        Some(s) => format!("{service}.{s}.{task}@{node}"),
        None => format!("{service}.{task}@{node}"),
    }
}

/// A client whose service logs come with their details: each line starts with the task's
/// attributes (`k=v,k=v `), as `docker service logs --details` asks. Over HTTP/1.0, as other log
/// streams (see `unchunked`).
fn with_details(engine: &Engine) -> bollard::Docker {
    engine.docker.clone().with_request_modifier(|mut req| {
        *req.version_mut() = http::Version::HTTP_10;
        let uri = req.uri().to_string();
        let joined = if uri.contains('?') { '&' } else { '?' };
        if let Ok(with) = format!("{uri}{joined}details=1").parse() {
            *req.uri_mut() = with;
        }
        req
    })
}

/// A detailed line's attributes and message. The attributes are URL-query escaped.
fn split_details(line: &Bytes) -> (HashMap<String, String>, Bytes) {
    let Some(space) = line.iter().position(|b| *b == b' ') else {
        return (HashMap::new(), line.clone());
    };
    let attrs = String::from_utf8_lossy(&line[..space])
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (unescape(k), unescape(v)))
        .collect::<HashMap<_, _>>();
    if !attrs.contains_key(TASK) {
        return (HashMap::new(), line.clone());
    }
    (attrs, line.slice(space + 1..))
}

/// `%XX` and `+` of a URL query.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            (c, _, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detailed_line_gives_its_task_node_and_message() {
        let line = Bytes::from_static(
            b"com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 GET / 200",
        );
        let (attrs, message) = split_details(&line);
        assert_eq!(attrs[TASK], "t1");
        assert_eq!(attrs[NODE], "n1");
        assert_eq!(&message[..], b"GET / 200");
        // A line without the task's attributes is shown whole.
        let plain = Bytes::from_static(b"a=b hello");
        assert_eq!(split_details(&plain).1, plain);
        assert_eq!(unescape("a%2Cb+c%zz%4"), "a,b c%zz%4");
        assert_eq!(
            task_label(
                "visitors_flaskapp",
                Some(2),
                "w8moeq5rc71y4dw2qeolc21qr",
                "node3"
            ),
            "visitors_flaskapp.2.w8moeq5rc71y@node3"
        );
        assert_eq!(
            task_label("visitors_nginx", None, "v2gwcvvhnq2l35vfxj03wwtv7", "node1"),
            "visitors_nginx.v2gwcvvhnq2l@node1"
        );
    }
}
