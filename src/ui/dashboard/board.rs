//! What the dashboard shows, apart from how it is drawn: the project's containers as the live feed
//! reports them, folded into one row per service; the selection, the log's focus and search; and
//! what each key asks for. Pure: tested without a terminal or a daemon.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::engine::live::Update;
use crate::engine::observe::{ContainerState, ObservedContainer};
use crate::engine::stats::Usage;

/// Samples kept per container for the sparklines (one a second).
const HISTORY: usize = 24;

/// What the dashboard is told besides the live feed.
#[derive(Debug, Clone)]
pub enum Input {
    Live(Update),
    /// How an action went, for the status line.
    Note(String),
    /// A longer answer to show over the view until a key is pressed (a health check's output).
    Detail(String),
    /// The services' desired replicas changed (scale, or `up` again with an edited file).
    Desired(BTreeMap<String, u32>),
}

/// What a key asks of the command behind the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Scale(String, u32),
    Restart(String),
    Stop(String),
    Start(String),
    /// Bring the project up again, reading its files anew.
    Up,
    /// The output of the service's last failing health checks.
    Health(String),
}

/// What a key leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Nothing,
    Redraw,
    Act(Action),
    /// A shell in this container: the view steps aside until it ends.
    Shell(String),
    Quit,
}

/// One service as its row shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceRow {
    pub name: String,
    pub running: u32,
    pub desired: u32,
    /// `healthy 2/2`, `unhealthy 1/2`, `starting`, or empty without a healthcheck.
    pub health: String,
    pub restarts: i64,
    /// How stopped replicas ended: `137 OOM`, `0`.
    pub exits: Vec<String>,
    pub oom: bool,
    pub cpu: f64,
    pub cpu_history: Vec<f64>,
    pub memory: u64,
    pub memory_history: Vec<f64>,
    /// `127.0.0.1:8080->80/tcp`.
    pub ports: Vec<String>,
    pub paused: bool,
}

pub struct Board {
    pub project: String,
    /// In the plan's order; services that appear later (an edited file) are added at the end.
    services: Vec<String>,
    desired: BTreeMap<String, u32>,
    containers: BTreeMap<String, ObservedContainer>,
    usage: HashMap<String, VecDeque<Usage>>,
    pub selected: usize,
    /// The log shows this service's containers only.
    pub focus: Option<String>,
    pub search: String,
    /// Typing a search (after `/`).
    pub editing: bool,
    pub note: String,
    pub detail: Option<String>,
    pub daemon_gone: bool,
    /// Log lines scrolled up from the newest.
    pub scroll: usize,
}

impl Board {
    pub fn new(project: &str, desired: BTreeMap<String, u32>, order: Vec<String>) -> Self {
        Board {
            project: project.to_owned(),
            services: order,
            desired,
            containers: BTreeMap::new(),
            usage: HashMap::new(),
            selected: 0,
            focus: None,
            search: String::new(),
            editing: false,
            note: String::new(),
            detail: None,
            daemon_gone: false,
            scroll: 0,
        }
    }

    pub fn apply(&mut self, input: Input) {
        match input {
            Input::Live(u) => self.live(u),
            Input::Note(n) => self.note = n,
            Input::Detail(d) => self.detail = Some(d),
            Input::Desired(d) => {
                for s in d.keys() {
                    self.know(s);
                }
                self.desired.extend(d);
            }
        }
    }

    fn know(&mut self, service: &str) {
        if !self.services.iter().any(|s| s == service) {
            self.services.push(service.to_owned());
        }
    }

    fn live(&mut self, u: Update) {
        match u {
            Update::All(list) => {
                self.daemon_gone = false;
                self.containers.clear();
                for c in list.into_iter().filter(|c| !c.oneoff) {
                    self.know(&c.service);
                    self.containers.insert(c.id.clone(), c);
                }
                let ids = &self.containers;
                self.usage.retain(|id, _| ids.contains_key(id));
                // A service scaled since the files were read keeps its scale until the next `up`.
                let mut made: BTreeMap<String, u32> = BTreeMap::new();
                for c in self.containers.values() {
                    *made.entry(c.service.clone()).or_default() += 1;
                }
                for (service, n) in made {
                    let desired = self.desired.entry(service).or_default();
                    *desired = (*desired).max(n);
                }
            }
            Update::One(c) if !c.oneoff => {
                self.know(&c.service);
                if !c.running() {
                    self.usage.remove(&c.id);
                }
                self.containers.insert(c.id.clone(), *c);
            }
            Update::One(_) => {}
            Update::Gone(id) => {
                self.containers.remove(&id);
                self.usage.remove(&id);
            }
            Update::Usage(id, usage) => {
                if self.containers.get(&id).is_some_and(|c| c.running()) {
                    let h = self.usage.entry(id).or_default();
                    if h.len() == HISTORY {
                        h.pop_front();
                    }
                    h.push_back(usage);
                }
            }
            Update::DaemonGone => self.daemon_gone = true,
        }
    }

    /// The containers of `service`, replica order.
    pub fn containers_of(&self, service: &str) -> Vec<&ObservedContainer> {
        let mut v: Vec<&ObservedContainer> = self
            .containers
            .values()
            .filter(|c| c.service == service)
            .collect();
        v.sort_by_key(|c| c.number);
        v
    }

    pub fn rows(&self) -> Vec<ServiceRow> {
        self.services.iter().map(|s| self.row(s)).collect()
    }

    fn row(&self, service: &str) -> ServiceRow {
        let list = self.containers_of(service);
        let running: Vec<&&ObservedContainer> = list.iter().filter(|c| c.running()).collect();
        let healths: Vec<&str> = running.iter().filter_map(|c| c.health()).collect();
        let health = if healths.is_empty() {
            String::new()
        } else {
            let worst = ["unhealthy", "starting", "healthy"]
                .into_iter()
                .find(|w| healths.contains(w))
                .unwrap_or("healthy");
            let n = healths.iter().filter(|h| **h == worst).count();
            format!("{worst} {n}/{}", running.len())
        };
        let exits = list
            .iter()
            .filter(|c| c.state.ended())
            .map(|c| {
                let code = c.exit_code.map_or("?".to_owned(), |c| c.to_string());
                if c.oom_killed {
                    format!("{code} OOM")
                } else {
                    code
                }
            })
            .collect();
        // Sparklines add the replicas' samples second by second, newest last.
        let mut cpu_history = vec![0.0; HISTORY];
        let mut memory_history = vec![0.0; HISTORY];
        let (mut cpu, mut memory) = (0.0, 0);
        for c in &running {
            let Some(h) = self.usage.get(&c.id) else {
                continue;
            };
            let offset = HISTORY - h.len();
            for (i, u) in h.iter().enumerate() {
                cpu_history[offset + i] += u.cpu_percent;
                memory_history[offset + i] += u.memory_bytes as f64;
            }
            if let Some(last) = h.back() {
                cpu += last.cpu_percent;
                memory += last.memory_bytes;
            }
        }
        let mut ports: Vec<String> = list
            .iter()
            .flat_map(|c| c.ports.iter())
            .filter_map(|(ip, public, private, proto)| {
                let public = (*public)?;
                let ip = match ip.as_deref() {
                    None | Some("0.0.0.0") | Some("::") | Some("") => "127.0.0.1",
                    Some(ip) => ip,
                };
                Some(format!("{ip}:{public}->{private}/{proto}"))
            })
            .collect();
        ports.sort();
        ports.dedup();
        ServiceRow {
            name: service.to_owned(),
            running: running.len() as u32,
            desired: self.desired.get(service).copied().unwrap_or(0),
            health,
            restarts: list.iter().map(|c| c.restarts).sum(),
            exits,
            oom: list.iter().any(|c| c.oom_killed),
            cpu,
            cpu_history,
            memory,
            memory_history,
            ports,
            paused: list.iter().any(|c| c.state == ContainerState::Paused),
        }
    }

    pub fn selected_service(&self) -> Option<&str> {
        self.services.get(self.selected).map(String::as_str)
    }

    /// Whether a log line of container `name` passes the focus and the search.
    pub fn shows(&self, name: &str, text: &str) -> bool {
        let focused = match &self.focus {
            None => true,
            Some(s) => self
                .containers
                .values()
                .any(|c| &c.service == s && c.name == name),
        };
        focused && (self.search.is_empty() || text.contains(&self.search))
    }

    pub fn key(&mut self, k: KeyEvent) -> Key {
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            return Key::Quit;
        }
        if self.detail.take().is_some() {
            return Key::Redraw;
        }
        if self.editing {
            match k.code {
                KeyCode::Enter => self.editing = false,
                KeyCode::Esc => {
                    self.editing = false;
                    self.search.clear();
                }
                KeyCode::Backspace => {
                    self.search.pop();
                }
                KeyCode::Char(c) => self.search.push(c),
                _ => return Key::Nothing,
            }
            self.scroll = 0;
            return Key::Redraw;
        }
        let service = self.selected_service().map(str::to_owned);
        let count = self.services.len();
        match (k.code, service) {
            (KeyCode::Char('q'), _) => Key::Quit,
            (KeyCode::Up | KeyCode::Char('k'), _) => {
                self.selected = self.selected.saturating_sub(1);
                Key::Redraw
            }
            (KeyCode::Down | KeyCode::Char('j'), _) => {
                self.selected = (self.selected + 1).min(count.saturating_sub(1));
                Key::Redraw
            }
            (KeyCode::Enter, Some(s)) => {
                self.focus = if self.focus.as_deref() == Some(s.as_str()) {
                    None
                } else {
                    Some(s)
                };
                self.scroll = 0;
                Key::Redraw
            }
            (KeyCode::Char('/'), _) => {
                self.editing = true;
                self.search.clear();
                Key::Redraw
            }
            (KeyCode::Esc, _) => {
                self.search.clear();
                self.focus = None;
                self.scroll = 0;
                Key::Redraw
            }
            (KeyCode::PageUp, _) => {
                self.scroll += 10;
                Key::Redraw
            }
            (KeyCode::PageDown, _) => {
                self.scroll = self.scroll.saturating_sub(10);
                Key::Redraw
            }
            (KeyCode::End, _) => {
                self.scroll = 0;
                Key::Redraw
            }
            (KeyCode::Char('+'), Some(s)) => {
                let n = self.desired.get(&s).copied().unwrap_or(0) + 1;
                self.note = format!("scaling {s} to {n}…");
                Key::Act(Action::Scale(s, n))
            }
            (KeyCode::Char('-'), Some(s)) => {
                let n = self.desired.get(&s).copied().unwrap_or(0).saturating_sub(1);
                self.note = format!("scaling {s} to {n}…");
                Key::Act(Action::Scale(s, n))
            }
            (KeyCode::Char('r'), Some(s)) => {
                self.note = format!("restarting {s}…");
                Key::Act(Action::Restart(s))
            }
            (KeyCode::Char('s'), Some(s)) => {
                if self.containers_of(&s).iter().any(|c| c.running()) {
                    self.note = format!("stopping {s}…");
                    Key::Act(Action::Stop(s))
                } else {
                    self.note = format!("starting {s}…");
                    Key::Act(Action::Start(s))
                }
            }
            (KeyCode::Char('h'), Some(s)) => Key::Act(Action::Health(s)),
            (KeyCode::Char('u'), _) => {
                self.note = "up: reading the files again…".to_owned();
                Key::Act(Action::Up)
            }
            (KeyCode::Char('e'), Some(s)) => {
                match self.containers_of(&s).into_iter().find(|c| c.running()) {
                    Some(c) => Key::Shell(c.id.clone()),
                    None => {
                        self.note = format!("{s} has no running container to open a shell in");
                        Key::Redraw
                    }
                }
            }
            (KeyCode::Char('o'), Some(s)) => {
                let ports = self.row(&s).ports;
                self.note = match ports.first() {
                    None => format!("{s} publishes no port"),
                    Some(_) => ports
                        .iter()
                        .map(|p| format!("http://{}", p.split("->").next().unwrap_or(p)))
                        .collect::<Vec<_>>()
                        .join("  "),
                };
                Key::Redraw
            }
            _ => Key::Nothing,
        }
    }
}

#[cfg(test)]
mod tests;
