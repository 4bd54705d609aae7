//! The one seam between the commands and where a stack runs: containers on one engine, or services
//! on a swarm. Commands call these operations and never look at the target themselves; what a
//! target cannot do comes back as `NotOnTarget`, which the command line turns into exit 2.

use std::collections::BTreeMap;

use anyhow::Result;

use super::converge::{self, Running, UpOptions};
use super::down::{self, DownOptions};
use super::observe::{self, ObservedContainer};
use super::preview::{self, Change};
use super::swarm::{self, SwarmTask};
use super::{Engine, Reporter};
use crate::exit::NotOnTarget;
use crate::manifest::{Diagnostics, problems_of};
use crate::plan::Plan;

/// Where the stack runs, known before connecting (so refusals need no API call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Containers on one engine.
    Local,
    /// Services on the swarm the engine manages.
    Swarm,
}

/// What `up` was asked that only some targets can do, checked before anything is created.
pub struct UpRequest<'a> {
    pub plan: &'a Plan,
    /// The services this `up` starts (with their dependencies unless `--no-deps`).
    pub started: &'a [String],
    /// Services whose replica count `--scale` set (already checked against their ports).
    pub scaled: &'a BTreeMap<String, u32>,
    /// Per service, why its replicas cannot share one engine's host ports (from the loader).
    pub single_host_conflicts: &'a BTreeMap<String, Diagnostics>,
    /// Flags given that act on containers: (given, flag).
    pub container_flags: &'a [(bool, &'a str)],
}

impl Target {
    /// Refuses a subcommand that has nothing to work on here; `swarm_verbs` are named as the way out.
    pub fn refuse_command(
        self,
        verb: &str,
        works_on_swarm: bool,
        swarm_verbs: &[&str],
    ) -> Result<(), NotOnTarget> {
        if self == Target::Local || works_on_swarm {
            return Ok(());
        }
        Err(NotOnTarget {
            message: format!(
                "`stackctl {verb}` works on the containers of one engine, not on --target swarm"
            ),
            hint: format!(
                "on Swarm these work: {}; drop --target swarm (or STACKCTL_TARGET) for `{verb}`",
                swarm_verbs.join(", ")
            ),
        })
    }

    /// Refuses provider services (`first` is one) where their programs cannot make them: on a
    /// swarm.
    pub fn refuse_providers(self, first: Option<&str>) -> Result<(), NotOnTarget> {
        match (self, first) {
            (Target::Swarm, Some(first)) => Err(NotOnTarget {
                message: format!(
                    "service `{first}` is a provider service; those are made on `up` of one engine, not on Swarm"
                ),
                hint:
                    "deploy it with --target local, or define the resource in the swarm another way"
                        .into(),
            }),
            (Target::Swarm, None) | (Target::Local, _) => Ok(()),
        }
    }

    /// Refuses `use_api_socket` where a task would not reach this machine's daemon: on a swarm.
    pub fn refuse_api_socket(self) -> Result<(), NotOnTarget> {
        match self {
            Target::Swarm => Err(NotOnTarget {
                message: "use_api_socket gives a container this machine's daemon, which a Swarm task on another node cannot reach".into(),
                hint: "run the service with --target local, or drop use_api_socket".into(),
            }),
            Target::Local => Ok(()),
        }
    }

    /// Refuses, before any API call, an `up` this target cannot carry out.
    pub fn refuse_up(self, req: &UpRequest) -> Result<()> {
        match self {
            Target::Local => {
                if let Some((svc, what)) = req
                    .started
                    .iter()
                    .filter_map(|s| req.plan.services.get(s))
                    .find_map(|s| s.swarm_only.first().map(|w| (&s.name, w)))
                {
                    return Err(NotOnTarget {
                        message: format!(
                            "service {svc} uses a {what}, which only a swarm honours (compose refuses it too)"
                        ),
                        hint: "drop `driver`/`template_driver` from that definition for one engine, or deploy with --target swarm".into(),
                    }
                    .into());
                }
                // Replicas on one engine cannot share a fixed host port (Swarm's routing mesh can).
                let unscaled = req
                    .started
                    .iter()
                    .filter(|s| !req.scaled.contains_key(*s))
                    .map(String::as_str);
                Ok(problems_of(req.single_host_conflicts, unscaled)?)
            }
            Target::Swarm => {
                if let Some(svc) = req
                    .plan
                    .services
                    .values()
                    .find(|s| s.network_mode.is_some())
                {
                    return Err(NotOnTarget {
                        message: format!(
                            "service {} sets network_mode, which Swarm services do not have",
                            svc.name
                        ),
                        hint: "leave network_mode out of the Swarm override (Swarm attaches services to the stack's overlay network)".into(),
                    }
                    .into());
                }
                if let Some(svc) = req.plan.services.values().find(|s| {
                    !s.post_start.is_empty()
                        || !s.pre_start.is_empty()
                        || !s.pre_stop.is_empty()
                        || !s.device_requests.is_empty()
                }) {
                    return Err(NotOnTarget {
                        message: format!(
                            "service {} has pre_start/post_start/pre_stop hooks or device requests (gpus), which this Swarm backend does not pass on",
                            svc.name
                        ),
                        hint: "leave the hooks out of the Swarm override, or run the service with --target local".into(),
                    }
                    .into());
                }
                if let Some(svc) = req
                    .plan
                    .services
                    .values()
                    .find(|s| s.injected.iter().any(|f| !f.secret))
                {
                    return Err(NotOnTarget {
                        message: format!(
                            "service {} takes a config given as text (`content:` or `environment:`), which this Swarm backend does not pass on yet",
                            svc.name
                        ),
                        hint: "give the config a `file:` in the Swarm override".into(),
                    }
                    .into());
                }
                if let Some((_, flag)) = req.container_flags.iter().find(|(given, _)| *given) {
                    return Err(NotOnTarget {
                        message: format!("{flag} works on one engine, not on Swarm"),
                        hint: "Swarm runs services, not containers; drop the flag or use --target local".into(),
                    }
                    .into());
                }
                Ok(())
            }
        }
    }
}

fn dry_run_on_swarm() -> NotOnTarget {
    NotOnTarget {
        message: "--dry-run previews changes to one engine's containers, not to a swarm".into(),
        hint: "drop --dry-run, or preview with --target local".into(),
    }
}

/// What `ps` lists: one engine's containers, or a swarm's tasks.
pub enum Listing {
    Containers(Vec<ObservedContainer>),
    Tasks(Vec<SwarmTask>),
}

/// A connected target: the daemon, and what it is asked to run (containers, or a swarm's services).
/// Which of the two is private: commands call the operations below and never look.
pub struct Backend {
    engine: Engine,
    kind: Kind,
}

enum Kind {
    Containers,
    Services {
        /// Where built images go for the nodes to pull (not needed on a one-node swarm).
        registry: Option<String>,
    },
}

impl super::Daemon for Backend {
    fn address(&self) -> &str {
        &self.engine.address
    }
    fn cancel(&self) -> &tokio_util::sync::CancellationToken {
        &self.engine.cancel
    }
}

impl Backend {
    /// `target` on `engine`'s daemon; `registry` is where a swarm's nodes pull built images from.
    pub fn new(engine: Engine, target: Target, registry: Option<String>) -> Self {
        let kind = match target {
            Target::Local => Kind::Containers,
            Target::Swarm => Kind::Services { registry },
        };
        Backend { engine, kind }
    }

    /// The engine whose containers a one-engine command works on (`exec`, `watch`, the dashboard,
    /// attached `up`'s log); refused on a swarm, whose tasks run on other nodes.
    pub fn containers(&self) -> Result<&Engine, NotOnTarget> {
        match self.kind {
            Kind::Containers => Ok(&self.engine),
            Kind::Services { .. } => Err(NotOnTarget {
                message: "this works on the containers of one engine, not on a swarm's services"
                    .into(),
                hint: "drop --target swarm (or STACKCTL_TARGET) for it".into(),
            }),
        }
    }

    /// The daemon's clock now (nanoseconds since the epoch), when it says.
    pub async fn daemon_clock(&self) -> Option<i128> {
        super::logs::daemon_clock(&self.engine).await
    }

    /// Brings the plan up. The containers it runs, for an attached `up`; None on a swarm, which
    /// runs services (its tasks' output is `logs`'s to follow).
    pub async fn up(
        &self,
        plan: &Plan,
        selected: &[String],
        opts: &UpOptions,
        report: &Reporter,
    ) -> Result<Option<Vec<Running>>> {
        let e = &self.engine;
        match &self.kind {
            Kind::Containers => converge::up(e, plan, selected, opts, report)
                .await
                .map(Some),
            Kind::Services { registry } => {
                swarm::up(e, plan, registry.as_deref(), opts.images, report).await?;
                Ok(None)
            }
        }
    }

    pub async fn down(&self, plan: &Plan, opts: &DownOptions, report: &Reporter) -> Result<()> {
        let e = &self.engine;
        match self.kind {
            Kind::Containers => down::down(e, plan, opts, report).await,
            Kind::Services { .. } => {
                swarm::require_manager(e).await?;
                swarm::down(e, plan, opts.volumes, report).await
            }
        }
    }

    /// What `up` of `selected` would change (`--dry-run`); on one engine only.
    pub async fn preview_up(
        &self,
        plan: &Plan,
        selected: &[String],
        opts: &UpOptions,
    ) -> Result<Vec<Change>> {
        match self.kind {
            Kind::Containers => preview::up(&self.engine, plan, selected, opts).await,
            Kind::Services { .. } => Err(dry_run_on_swarm().into()),
        }
    }

    /// What `down` would stop and remove (`--dry-run`); on one engine only.
    pub async fn preview_down(&self, plan: &Plan, opts: &DownOptions) -> Result<Vec<Change>> {
        match self.kind {
            Kind::Containers => preview::down(&self.engine, plan, opts).await,
            Kind::Services { .. } => Err(dry_run_on_swarm().into()),
        }
    }

    /// What `scale` would change (`--dry-run`).
    pub async fn preview_scale(
        &self,
        plan: &Plan,
        scale: &BTreeMap<String, u32>,
        with_deps: bool,
    ) -> Result<Vec<Change>> {
        let selected: Vec<String> = scale.keys().cloned().collect();
        let mut targets = plan.clone();
        if !with_deps {
            targets.services.retain(|k, _| selected.contains(k));
        }
        self.preview_up(&targets, &selected, &UpOptions::keep_existing(with_deps))
            .await
    }

    /// Sets the replica counts of `scale`'s services; `with_deps` starts what they need first.
    pub async fn scale(
        &self,
        plan: &Plan,
        scale: &BTreeMap<String, u32>,
        with_deps: bool,
        report: &Reporter,
    ) -> Result<()> {
        let e = &self.engine;
        match self.kind {
            Kind::Containers => {
                let selected: Vec<String> = scale.keys().cloned().collect();
                let mut targets = plan.clone();
                if !with_deps {
                    targets.services.retain(|k, _| selected.contains(k));
                }
                let opts = UpOptions::keep_existing(with_deps);
                converge::up(e, &targets, &selected, &opts, report).await?;
                Ok(())
            }
            Kind::Services { .. } => swarm::scale(e, plan, scale, report).await,
        }
    }

    /// The logs `req` asks for, into the sink `sink_for` makes: containers' (followed through
    /// restarts, recreations and the daemon going away), or a swarm's services' (their tasks').
    pub async fn logs(
        &self,
        req: super::logs::follow::LogsRequest,
        sink_for: super::logs::follow::SinkFor<'_>,
    ) -> Result<()> {
        match self.kind {
            Kind::Containers => super::logs::follow::containers(&self.engine, req, sink_for).await,
            Kind::Services { .. } => {
                swarm::require_manager(&self.engine).await?;
                super::logs::services::services(&self.engine, req, sink_for).await
            }
        }
    }

    /// The project's containers or tasks; with `all`, also stopped ones.
    /// The project's containers or tasks, with what only an inspect tells (a round trip each)
    /// for the containers `inspect` picks.
    pub async fn ps(
        &self,
        project: &str,
        all: bool,
        inspect: &(dyn Fn(&observe::ObservedContainer) -> bool + Sync),
    ) -> Result<Listing> {
        let e = &self.engine;
        match self.kind {
            Kind::Containers => {
                let mut list = observe::containers(e, project, all).await?;
                observe::with_exit_details(e, &mut list, inspect).await;
                Ok(Listing::Containers(list))
            }
            Kind::Services { .. } => {
                swarm::require_manager(e).await?;
                Ok(Listing::Tasks(swarm::tasks(e, project, all).await?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swarm_refuses_container_commands_and_local_refuses_none() {
        let verbs = ["up", "logs"];
        assert!(Target::Swarm.refuse_command("exec", false, &verbs).is_err());
        assert!(Target::Swarm.refuse_command("up", true, &verbs).is_ok());
        assert!(Target::Local.refuse_command("exec", false, &verbs).is_ok());
        let e = Target::Swarm
            .refuse_command("cp", false, &verbs)
            .unwrap_err();
        assert!(
            e.message.contains("`stackctl cp`") && e.hint.contains("logs"),
            "{e}"
        );
    }

    #[test]
    fn one_engine_refuses_a_secret_only_a_swarm_can_store_and_swarm_takes_it() {
        let plan = crate::plan::of_text(
            "services:\n  a:\n    image: x\n    configs: [c]\n  b:\n    image: x\nconfigs:\n  c:\n    content: hi\n    template_driver: golang\n",
        );
        let req = |started: &[String]| {
            let conflicts = BTreeMap::new();
            let scaled = BTreeMap::new();
            let r = UpRequest {
                plan: &plan,
                started,
                scaled: &scaled,
                single_host_conflicts: &conflicts,
                container_flags: &[],
            };
            (
                Target::Local.refuse_up(&r).err(),
                Target::Swarm.refuse_up(&r).err(),
            )
        };
        let (local, _) = req(&["a".into(), "b".into()]);
        let local = local.expect("refused on one engine").to_string();
        assert!(
            local.contains("service a") && local.contains("config `c` sets `template_driver`"),
            "{local}"
        );
        assert!(req(&["b".into()]).0.is_none(), "b does not use it");
    }
}
