//! Attached `up`: the stack's output in the log view until Ctrl-C, or until a container stops when
//! asked to abort then (`--abort-on-container-exit`, `--exit-code-from`, for running tests against
//! a stack). Either way the stack is stopped level by level while the view goes on showing its last
//! lines and exit codes; a second Ctrl-C kills.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use tokio::sync::mpsc;

use crate::engine::converge::Running;
use crate::engine::lifecycle::{self, StopOptions};
use crate::engine::logs::follow::{Follow, StopWatch, Target, now_nanos, pump};
use crate::engine::logs::reader::Stamps;
use crate::engine::logs::{ContainerEvent, LogQuery};
use crate::engine::observe::{self, ObservedContainer};
use crate::engine::{Engine, Event, Reporter, containers};
use crate::exit::Interrupted;
use crate::plan::Plan;
use crate::ui;
use crate::ui::logview::LogView;

/// How attached `up` shows the stack and when it ends.
#[derive(Debug, Default)]
pub struct AttachOptions {
    /// The services whose output is shown (`--attach`); all when `None`.
    pub show: Option<HashSet<String>>,
    /// Services whose output is not shown (`--no-attach`).
    pub hide: HashSet<String>,
    pub no_color: bool,
    pub log_prefix: bool,
    pub timestamps: bool,
    /// Stop the stack when any of its watched containers stops for good.
    pub abort_on_exit: bool,
    /// Stop the stack when any of its watched containers stops for good with a code other than 0.
    pub abort_on_failure: bool,
    /// The services whose exit ends the run; those shown when `None`.
    pub watched: Option<HashSet<String>>,
    /// Exit with this service's container's code instead of the code of the one that stopped first.
    pub exit_code_from: Option<String>,
    /// Stop timeout instead of each service's own.
    pub timeout: Option<Duration>,
    /// The daemon's time when `up` began: a container's log also holds its earlier runs, and like
    /// compose only what the containers print from now on is shown. All of it when `None`.
    pub since: Option<i128>,
    /// Listen for `d` on the terminal, which leaves the log for the dashboard (`--menu`).
    pub menu: bool,
}

/// How attached `up` ended.
pub enum AttachedEnd {
    /// With this exit code (the stack stopped, or aborted on a container's exit).
    Code(ExitCode),
    /// The user asked for the dashboard: the stack runs on, the log view is gone.
    Dashboard,
}

/// Resolves when `d` is typed on the terminal; never, off a terminal. Keys are read only while
/// the returned guard lives.
fn dashboard_key() -> (
    ui::term::KeyMode,
    impl std::future::Future<Output = ()>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    let mode = ui::term::KeyMode::enable();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    if mode.active() {
        let done = done.clone();
        let mut tx = Some(tx);
        tokio::task::spawn_blocking(move || {
            ui::term::read_stdin_until(&done, |bytes| {
                if bytes.contains(&b'd') {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(());
                    }
                    return false;
                }
                true
            })
        });
    }
    let pressed = async move {
        if rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    (mode, pressed, done)
}

impl AttachOptions {
    fn shows(&self, service: &str) -> bool {
        self.show.as_ref().is_none_or(|s| s.contains(service)) && !self.hide.contains(service)
    }

    /// Whether a container's exit can end the run.
    fn aborts(&self) -> bool {
        self.abort_on_exit || self.abort_on_failure
    }

    fn watches(&self, service: &str) -> bool {
        match &self.watched {
            Some(w) => w.contains(service),
            None => self.shows(service),
        }
    }

    /// Whether this stop ends the run: any stop, or under --abort-on-container-failure a failure.
    fn aborts_on(&self, ev: &ContainerEvent) -> bool {
        self.abort_on_exit || (self.abort_on_failure && ev.exit_code != Some(0))
    }
}

pub async fn attached(
    engine: &Engine,
    plan: &Plan,
    running: Vec<Running>,
    opts: &AttachOptions,
) -> Result<AttachedEnd> {
    // Events are asked from here on; a container that stopped before is found by looking below.
    let since = crate::engine::logs::daemon_clock(engine)
        .await
        .unwrap_or_else(now_nanos);
    let shown: Vec<&Running> = running.iter().filter(|r| opts.shows(&r.service)).collect();
    let targets: Vec<Target> = shown
        .iter()
        .map(|r| Target {
            id: r.id.clone(),
            from: opts.since,
        })
        .collect();
    let q = LogQuery {
        follow: true,
        tail: Some("all".into()),
        ..LogQuery::default()
    };
    let names: Vec<String> = shown.iter().map(|r| r.name.clone()).collect();
    let mut view = LogView::new(&names, &plan.project, opts.no_color, opts.log_prefix);
    view.announce();
    let view = Box::new(view);
    let started: HashSet<String> = running.iter().map(|r| r.service.clone()).collect();
    let (stop_tx, mut stop_rx) = mpsc::channel::<ContainerEvent>(16);
    let follow = Follow {
        project: plan.project.clone(),
        since,
        wanted: {
            let started = started.clone();
            move |svc: &str, _: u32| started.contains(svc) && opts.shows(svc)
        },
        stops: opts.aborts().then(|| StopWatch {
            services: started.into_iter().filter(|s| opts.watches(s)).collect(),
            tx: stop_tx.clone(),
        }),
        // Attached `up` ends with its containers, as compose's does.
        linger: Duration::ZERO,
    };
    let stamps = Stamps {
        show: opts.timestamps,
        ..Stamps::default()
    };
    if opts.aborts() {
        let watched: Vec<Running> = running
            .iter()
            .filter(|r| opts.watches(&r.service))
            .cloned()
            .collect();
        report_stopped_already(engine, &watched, &stop_tx).await;
    }
    let (key_mode, dashboard, reading_keys) = if opts.menu {
        let (mode, pressed, done) = dashboard_key();
        if mode.active() {
            ui::note(
                "Press d for the dashboard (the stack keeps running), Ctrl+C to stop the stack",
            );
        }
        (
            Some(mode),
            futures::future::Either::Left(pressed),
            Some(done),
        )
    } else {
        (
            None,
            futures::future::Either::Right(std::future::pending::<()>()),
            None,
        )
    };
    // The key reader and the terminal's mode end with the log view, however it ends.
    let _keys = KeysGuard(key_mode, reading_keys);
    let pumping = pump(engine, targets, q, stamps, view, Some(follow), None);
    tokio::pin!(pumping);
    let trigger = tokio::select! {
        r = &mut pumping => {
            // Every container stopped on its own. When aborting, the first stop that would
            // have aborted still decides the code.
            r?;
            while let Ok(ev) = stop_rx.try_recv() {
                if opts.aborts_on(&ev) {
                    return exit_code(engine, &running, opts, &ev).await;
                }
            }
            return Ok(AttachedEnd::Code(ExitCode::SUCCESS));
        }
        Some(ev) = async {
            while let Some(ev) = stop_rx.recv().await {
                if opts.aborts_on(&ev) {
                    return Some(ev);
                }
            }
            None
        } => Some(ev),
        _ = tokio::signal::ctrl_c() => None,
        _ = dashboard => return Ok(AttachedEnd::Dashboard),
    };
    match &trigger {
        Some(ev) => ui::note(format!(
            "Aborting on container exit ({} exited with code {}): stopping the stack...",
            ev.name,
            ev.exit_code.unwrap_or(-1)
        )),
        None => ui::note("Gracefully stopping... (press Ctrl+C again to force)"),
    }
    // The view goes on while the stack stops, so its last lines and exit codes are shown. As in
    // compose, `up SERVICE…` stops the services it names (their dependencies run on), a bare
    // `up` all it started.
    let stopped: Vec<Running> = running
        .iter()
        .filter(|r| opts.watched.as_ref().is_none_or(|w| w.contains(&r.service)))
        .cloned()
        .collect();
    let stopping = async {
        tokio::select! {
            _ = stop_levels(engine, plan, &stopped, opts.timeout) => {}
            _ = tokio::signal::ctrl_c() => {
                futures::future::join_all(stopped.iter().map(|r| containers::kill(engine, &r.id))).await;
            }
        }
    };
    tokio::pin!(stopping);
    let mut pump_done = false;
    tokio::select! {
        _ = &mut stopping => {}
        _ = &mut pumping => {
            pump_done = true;
            stopping.await;
        }
    }
    if !pump_done {
        // Streams end as their containers stop; the last lines are at most a moment behind.
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut pumping).await;
    }
    match trigger {
        Some(ev) => exit_code(engine, &running, opts, &ev).await,
        None => bail!(Interrupted),
    }
}

/// Stops the key reader (it looks at its flag every 50 ms) and then gives the terminal its mode back.
struct KeysGuard(
    Option<ui::term::KeyMode>,
    Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
);

impl Drop for KeysGuard {
    fn drop(&mut self) {
        if let Some(done) = &self.1 {
            done.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.0.take();
    }
}

/// Stops the stack as `stop` does (dependents first, `pre_stop` hooks, grace periods). The log
/// view shows the containers going; what failed is said once it is over.
async fn stop_levels(engine: &Engine, plan: &Plan, running: &[Running], timeout: Option<Duration>) {
    let warn: Reporter = std::sync::Arc::new(|event| {
        if let Event::Warning(w) = event {
            ui::note(w);
        }
    });
    let ids: HashSet<&str> = running.iter().map(|r| r.id.as_str()).collect();
    let stopped = async {
        let observed = observe::containers(engine, &plan.project, true).await?;
        let targets: Vec<&ObservedContainer> = observed
            .iter()
            .filter(|c| ids.contains(c.id.as_str()))
            .collect();
        let opts = StopOptions {
            timeout,
            last_step: true,
        };
        lifecycle::stop_in_order(
            engine,
            plan,
            &targets,
            opts,
            &warn,
            lifecycle::nothing_after,
        )
        .await
    };
    if let Err(e) = stopped.await {
        ui::note(format!("stopping the stack: {e:#}"));
    }
}

/// A container that stopped between its start and the events being asked for sends no event.
async fn report_stopped_already(
    engine: &Engine,
    running: &[Running],
    stops: &mpsc::Sender<ContainerEvent>,
) {
    let codes = futures::future::join_all(
        running
            .iter()
            .map(|r| containers::stopped_for_good(engine, &r.id)),
    )
    .await;
    for (r, code) in running.iter().zip(codes) {
        if let Some(code) = code {
            let _ = stops.try_send(ContainerEvent {
                action: "die".into(),
                id: r.id.clone(),
                name: r.name.clone(),
                service: r.service.clone(),
                exit_code: Some(code),
                ..ContainerEvent::default()
            });
        }
    }
}

/// `up`'s result after an abort: the code of `--exit-code-from`'s container (its first replica), else
/// the code of the container whose stop ended the run.
async fn exit_code(
    engine: &Engine,
    running: &[Running],
    opts: &AttachOptions,
    first_stop: &ContainerEvent,
) -> Result<AttachedEnd> {
    let code = match &opts.exit_code_from {
        Some(service) => {
            let chosen = running
                .iter()
                .filter(|r| r.service == *service)
                .min_by_key(|r| r.number);
            match chosen {
                Some(r) => containers::stopped_for_good(engine, &r.id)
                    .await
                    .unwrap_or(-1),
                None => -1,
            }
        }
        None => first_stop.exit_code.unwrap_or(-1),
    };
    Ok(AttachedEnd::Code(crate::commands::exit_code(code)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_and_no_attach_choose_the_services_shown() {
        let all = AttachOptions::default();
        assert!(all.shows("web") && all.shows("db"));
        let only_web = AttachOptions {
            show: Some(HashSet::from(["web".to_owned()])),
            ..AttachOptions::default()
        };
        assert!(only_web.shows("web") && !only_web.shows("db"));
        let not_db = AttachOptions {
            hide: HashSet::from(["db".to_owned()]),
            ..AttachOptions::default()
        };
        assert!(not_db.shows("web") && !not_db.shows("db"));
    }

    #[test]
    fn the_named_services_exit_ends_the_run_and_failure_mode_waits_for_a_failure() {
        let stop = |code| ContainerEvent {
            exit_code: Some(code),
            ..ContainerEvent::default()
        };
        let named = AttachOptions {
            abort_on_failure: true,
            show: Some(HashSet::from(["web".to_owned()])),
            watched: Some(HashSet::from(["job".to_owned()])),
            ..AttachOptions::default()
        };
        assert!(named.aborts());
        assert!(
            named.watches("job") && !named.watches("web"),
            "the named, not the shown"
        );
        assert!(!named.aborts_on(&stop(0)), "a clean exit goes on");
        assert!(named.aborts_on(&stop(3)));
        let any = AttachOptions {
            abort_on_exit: true,
            ..AttachOptions::default()
        };
        assert!(
            any.aborts_on(&stop(0)) && any.watches("db"),
            "all shown are watched"
        );
        assert!(!AttachOptions::default().aborts());
    }
}
