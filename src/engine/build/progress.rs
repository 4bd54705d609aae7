//! BuildKit's status stream turned into the engine's events: a step (vertex) started, finished,
//! came from the cache or failed, with the daemon's own timestamps, and the lines it printed. The
//! last lines of each step are kept so that a failure can show what the failing step said.

use std::collections::{HashMap, VecDeque};

use bollard::models::BuildInfoAux;

use crate::engine::{Event, Reporter, StepState};

/// Lines kept per step for the error message of a failed build.
const KEEP_LINES: usize = 40;

#[derive(Default)]
struct Vertex {
    name: String,
    state: Option<StepState>,
    lines: VecDeque<String>,
    partial: String,
}

/// The state of one build's steps, fed with each status message.
pub struct Steps {
    object: String,
    report: Reporter,
    vertexes: HashMap<String, Vertex>,
    failed: Option<String>,
}

impl Steps {
    pub fn new(object: &str, report: &Reporter) -> Self {
        Steps {
            object: object.to_owned(),
            report: report.clone(),
            vertexes: HashMap::new(),
            failed: None,
        }
    }

    pub fn feed(&mut self, aux: &BuildInfoAux) {
        let BuildInfoAux::BuildKit(status) = aux else {
            return;
        };
        for v in &status.vertexes {
            let entry = self.vertexes.entry(v.digest.clone()).or_default();
            entry.name.clone_from(&v.name);
            let state = if !v.error.is_empty() {
                StepState::Failed
            } else if v.cached {
                StepState::Cached
            } else if v.completed.is_some() {
                StepState::Done
            } else if v.started.is_some() {
                StepState::Running
            } else {
                continue;
            };
            if entry.state == Some(state) {
                continue;
            }
            entry.state = Some(state);
            if state == StepState::Failed {
                self.failed = Some(v.digest.clone());
            }
            (self.report)(Event::BuildStep {
                object: self.object.clone(),
                step: v.name.clone(),
                state,
                // The daemon's clock, in seconds since the epoch.
                started: v
                    .started
                    .as_ref()
                    .map(|t| t.seconds as f64 + f64::from(t.nanos) / 1e9),
                completed: v
                    .completed
                    .as_ref()
                    .map(|t| t.seconds as f64 + f64::from(t.nanos) / 1e9),
                error: (!v.error.is_empty()).then(|| v.error.clone()),
            });
        }
        for log in &status.logs {
            let entry = self.vertexes.entry(log.vertex.clone()).or_default();
            entry.partial.push_str(&String::from_utf8_lossy(&log.msg));
            while let Some(i) = entry.partial.find(['\n', '\r']) {
                let line: String = entry.partial.drain(..=i).collect();
                let line = line.trim_end().to_owned();
                if line.is_empty() {
                    continue;
                }
                (self.report)(Event::Detail {
                    object: self.object.clone(),
                    text: format!("{} > {line}", short(&entry.name)),
                    transient: false,
                });
                entry.lines.push_back(line);
                if entry.lines.len() > KEEP_LINES {
                    entry.lines.pop_front();
                }
            }
        }
    }

    /// The failed step's name and its last lines, for the error message.
    pub fn failure(&self) -> Option<String> {
        let v = self.vertexes.get(self.failed.as_ref()?)?;
        let mut text = format!("the failing step: {}", v.name);
        for line in v
            .lines
            .iter()
            .chain(Some(&v.partial).filter(|p| !p.is_empty()))
        {
            text.push_str("\n  | ");
            text.push_str(line.trim_end());
        }
        Some(text)
    }
}

/// `[stage 2/3] RUN ...` → `[stage 2/3]`: the prefix that tells lines of parallel steps apart.
fn short(name: &str) -> &str {
    match name.find(']') {
        Some(i) if name.starts_with('[') => &name[..=i],
        _ => name,
    }
}
