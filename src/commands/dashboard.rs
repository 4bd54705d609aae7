//! `stackctl dashboard`: wires the live feed, the log follow and the keys' work to the view in
//! `ui::dashboard`. Not on a terminal, it prints what the view would show, once: `ps`, then one
//! `stats` sample.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::mpsc;

use super::Ctx;
use super::project::service_containers;
use crate::cli::{DashboardArgs, PsArgs, StatsArgs};
use crate::engine::backend::Backend;
use crate::engine::converge::UpOptions;
use crate::engine::live::{self, Update};
use crate::engine::{self, Event, Reporter, containers, observe};
use crate::manifest::Project;
use crate::plan::Plan;
use crate::ui::dashboard::{self, Action, Board, Input, Leave};
use crate::ui::logview::{LogRing, LogView};

/// Log lines kept for scrolling back and searching.
const RING_LINES: usize = 5_000;

pub fn run(ctx: &Ctx, args: DashboardArgs) -> Result<()> {
    if !crate::ui::term::stdout_is_terminal() {
        return plain(ctx);
    }
    let loaded = ctx.load()?;
    let plan = ctx.plan_to_create(&loaded.project, &BTreeMap::new())?;
    ctx.block_on(async {
        let backend = ctx.backend().await?;
        let engine = backend.containers()?.clone();
        let (inputs_tx, mut inputs) = mpsc::channel::<Input>(1024);
        let (updates_tx, mut updates) = mpsc::channel::<Update>(1024);
        let feed = tokio::spawn(live::feed(engine.clone(), plan.project.clone(), updates_tx));
        let forward = {
            let tx = inputs_tx.clone();
            tokio::spawn(async move {
                while let Some(u) = updates.recv().await {
                    if tx.send(Input::Live(u)).await.is_err() {
                        return;
                    }
                }
            })
        };
        let ring = LogRing::new(RING_LINES);
        let follow = {
            let (engine, project, ring) = (engine.clone(), plan.project.clone(), ring.clone());
            tokio::spawn(async move {
                let sink_for = |names: &[String]| -> Box<dyn crate::logs::LogSink> {
                    Box::new(LogView::capture(ring.clone(), names))
                };
                let _ =
                    crate::engine::logs::follow::project(&engine, &project, sink_for, args.tail)
                        .await;
            })
        };
        let desired = plan
            .services
            .values()
            .map(|s| (s.name.clone(), s.replicas))
            .collect();
        let order = plan.levels.iter().flatten().cloned().collect();
        let mut board = Board::new(&plan.project, desired, order);
        let (actions_tx, mut actions) = mpsc::channel::<Action>(1);
        let worker = Worker {
            ctx,
            backend: &backend,
            project: std::sync::Mutex::new(loaded.project.clone()),
            inputs: inputs_tx.clone(),
        };
        let view = async {
            loop {
                match dashboard::show(&mut board, &mut inputs, &ring, &actions_tx).await? {
                    Leave::Quit => return Ok::<_, anyhow::Error>(()),
                    Leave::Shell(id) => {
                        let code = super::session::shell(&engine, &id).await;
                        let note = match code {
                            Ok(code) => format!("the shell ended with code {code}"),
                            Err(e) => format!("no shell: {e:#}"),
                        };
                        board.apply(Input::Note(note));
                    }
                }
            }
        };
        let work = async {
            while let Some(a) = actions.recv().await {
                let said = worker
                    .perform(a)
                    .await
                    .unwrap_or_else(|e| Input::Note(format!("{e:#}")));
                let _ = worker.inputs.send(said).await;
            }
        };
        let result = tokio::select! {
            r = view => r,
            _ = work => Ok(()),
        };
        feed.abort();
        forward.abort();
        follow.abort();
        result
    })
}

/// What the keys ask for, done one at a time under the project lock.
struct Worker<'a> {
    ctx: &'a Ctx,
    backend: &'a Backend,
    /// The project as its files said when last read (at start, and by `u`).
    project: std::sync::Mutex<Project>,
    inputs: mpsc::Sender<Input>,
}

impl Worker<'_> {
    /// The plan of the project as last read, with `scale` applied.
    fn plan(&self, scale: &BTreeMap<String, u32>) -> Result<Plan> {
        let project = self.project.lock().unwrap_or_else(|e| e.into_inner());
        self.ctx.plan_to_create(&project, scale)
    }

    /// Progress goes to the status line, not to the screen the view owns.
    fn reporter(&self) -> Reporter {
        let tx = self.inputs.clone();
        Arc::new(move |e: Event| {
            if let Event::Step { object, status, .. } = e {
                let _ = tx.try_send(Input::Note(format!("{object} {status}")));
            }
        })
    }

    async fn perform(&self, action: Action) -> Result<Input> {
        let engine = self.backend.containers()?;
        let plan = self.plan(&BTreeMap::new())?;
        let report = self.reporter();
        let _lock = super::lock::acquire(self.backend, &plan.project, "dashboard").await?;
        let containers = async |service: &str, all: bool| {
            service_containers(engine, &plan, &[service.to_owned()], all).await
        };
        Ok(match action {
            Action::Scale(service, n) => {
                let scale = BTreeMap::from([(service.clone(), n)]);
                let scaled = self.plan(&scale)?;
                self.backend.scale(&scaled, &scale, false, &report).await?;
                let _ = self.inputs.send(Input::Desired(scale)).await;
                Input::Note(format!("{service} scaled to {n}"))
            }
            Action::Restart(service) => {
                let list = containers(&service, true).await?;
                let grace = |_: &str| Duration::from_secs(10);
                engine::rolling::restart(engine, &plan, &list, grace, &report).await?;
                Input::Note(format!("{service} restarted"))
            }
            Action::Stop(service) => {
                let list = containers(&service, false).await?;
                let targets: Vec<&observe::ObservedContainer> = list.iter().collect();
                let opts = engine::lifecycle::StopOptions {
                    timeout: None,
                    last_step: true,
                };
                engine::lifecycle::stop_in_order(
                    engine,
                    &plan,
                    &targets,
                    opts,
                    &report,
                    engine::lifecycle::nothing_after,
                )
                .await?;
                Input::Note(format!("{service} stopped (s starts it again)"))
            }
            Action::Start(service) => {
                for c in containers(&service, true)
                    .await?
                    .iter()
                    .filter(|c| !c.running())
                {
                    containers::start(engine, &c.id, &c.name).await?;
                }
                Input::Note(format!("{service} started"))
            }
            Action::Health(service) => {
                let mut text = String::new();
                for c in containers(&service, false).await? {
                    let said = observe::last_failed_check(engine, &c.id)
                        .await?
                        .unwrap_or_else(|| "no failed check on record".to_owned());
                    text.push_str(&format!("{}: {}\n", c.name, said));
                }
                if text.is_empty() {
                    text = format!("{service} has no running container");
                }
                Input::Detail(text)
            }
            Action::Up => {
                let loaded = self.ctx.reload()?;
                let fresh = self.ctx.plan_to_create(&loaded.project, &BTreeMap::new())?;
                let opts = UpOptions {
                    no_recreate: false,
                    ignore_orphans: true,
                    refusals: Arc::new(loaded.deferred.clone()),
                    ..UpOptions::keep_existing(true)
                };
                self.backend.up(&fresh, &[], &opts, &report).await?;
                let desired = fresh
                    .services
                    .values()
                    .map(|s| (s.name.clone(), s.replicas))
                    .collect();
                let _ = self.inputs.send(Input::Desired(desired)).await;
                *self.project.lock().unwrap_or_else(|e| e.into_inner()) = loaded.project.clone();
                let warned = if loaded.warnings.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} warnings: run `stackctl config -q` to read them)",
                        loaded.warnings.len()
                    )
                };
                Input::Note(format!("up: the project is as its files say{warned}"))
            }
        })
    }
}

/// The view's information once, for a pipe or a file: `ps -a`, then one `stats` sample.
fn plain(ctx: &Ctx) -> Result<()> {
    super::ps::ps(
        ctx,
        PsArgs {
            services: Vec::new(),
            all: true,
            format: "table".into(),
            quiet: false,
            services_only: false,
            status: Vec::new(),
            filter: Vec::new(),
            no_trunc: false,
            orphans: true,
        },
    )?;
    // A stack with nothing running has no figures to show; the listing above says so.
    let loaded = ctx.load()?;
    let running = ctx.block_on(async {
        let engine = ctx.connect().await?;
        let list = observe::containers(&engine, &loaded.project.name, false).await?;
        Ok(list.iter().any(|c| !c.oneoff))
    })?;
    if !running {
        return Ok(());
    }
    crate::ui::out("\n")?;
    super::stats::run(
        ctx,
        StatsArgs {
            services: Vec::new(),
            no_stream: true,
            format: crate::cli::Format::Table,
            all: false,
            no_trunc: false,
        },
    )
}
