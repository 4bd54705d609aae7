//! The Swarm backend: the same Plan applied as Swarm services. Services are created level by level,
//! each waiting for its dependencies' tasks to run (Swarm reports a task with a healthcheck as running
//! only once it is healthy); built images are pushed to a registry and deployed by digest; a config
//! hash label decides which services to update. Objects carry `com.docker.stack.namespace` as
//! `docker stack deploy` labels them.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bollard::models::{
    NetworkCreateRequest, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, TaskState,
};
use bollard::query_parameters::{
    ListNetworksOptions, ListServicesOptions, ListTasksOptions, TagImageOptions,
    UpdateServiceOptions,
};

mod down;
mod files;
mod secrets;
mod spec;
mod tasks;
mod update;

pub use down::down;
pub use spec::{config_hash, needs_ipvs, spec_for};
pub use tasks::{SwarmTask, services, tasks};

use super::images::{self, ImageOptions};
use super::{ApiContext, Engine, Reporter, step};
use crate::plan::{Plan, ServicePlan};

pub const NAMESPACE: &str = "com.docker.stack.namespace";
const HASH: &str = "com.stackctl.config-hash";

fn ns_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![format!("{NAMESPACE}={project}")])])
}

pub fn service_name(project: &str, service: &str) -> String {
    format!("{project}_{service}")
}

/// Fails unless the daemon is an active swarm manager.
pub async fn require_manager(engine: &Engine) -> Result<()> {
    let info = engine
        .docker
        .info()
        .await
        .api(|| "reading daemon info".into())?;
    let swarm = info.swarm.unwrap_or_default();
    let active = swarm.local_node_state.map(|s| s.to_string()) == Some("active".into());
    if !active || swarm.control_available != Some(true) {
        bail!(
            "the daemon at {} is not a swarm manager\n  = help: run `docker swarm init` on it (or point DOCKER_HOST at a manager)",
            engine.address
        );
    }
    // A manager that cannot reach a majority of the managers answers `info` but nothing else:
    // it says so in `info` once it knows, and in the error of anything asked of the swarm.
    let lost = match swarm.error.filter(|e| !e.is_empty()) {
        Some(err) => Some(err),
        None => match engine
            .docker
            .list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
            .await
        {
            Err(e) if no_leader(&e.to_string()) => Some(e.to_string()),
            Err(e) => return Err(super::api_error(e).context("listing the swarm's nodes")),
            Ok(_) => None,
        },
    };
    if let Some(err) = lost {
        bail!(
            "the swarm manager at {} cannot act for the swarm: it reaches too few of its {} managers to have a leader (a majority must be up)\n  {err}\n  = help: point DOCKER_HOST or --context at a manager that can reach the others, or bring the stopped managers back",
            engine.address,
            swarm.managers.map_or("other".to_owned(), |n| n.to_string())
        );
    }
    Ok(())
}

/// Whether a daemon's error says the swarm has no leader (too few managers up).
fn no_leader(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("does not have a leader") || e.contains("quorum")
}

/// Whether the manager's kernel has IPVS: a throw-away container looks for /proc/net/ip_vs.
pub async fn kernel_has_ipvs(engine: &Engine, probe_image: &str) -> Result<bool> {
    let body = bollard::models::ContainerCreateBody {
        image: Some(probe_image.to_owned()),
        cmd: Some(vec!["test".into(), "-e".into(), "/proc/net/ip_vs".into()]),
        ..Default::default()
    };
    let c = engine
        .docker
        .create_container(
            None::<bollard::query_parameters::CreateContainerOptions>,
            body,
        )
        .await
        .api(|| "creating the IPVS probe".into())?;
    let result = async {
        engine
            .docker
            .start_container(&c.id, None)
            .await
            .api(|| "starting the IPVS probe".into())?;
        super::ops::wait_exit(engine, &c.id).await
    }
    .await;
    let _ = super::containers::remove(engine, &c.id, "ipvs-probe", true).await;
    Ok(result? == 0)
}

/// Builds `svc`, pushes it to `registry` and returns the image by digest.
async fn push_built(
    engine: &Engine,
    plan: &Plan,
    svc: &ServicePlan,
    registry: &str,
    opts: ImageOptions,
    report: &Reporter,
) -> Result<String> {
    images::ensure(engine, &plan.project, &[svc], opts, report).await?;
    let repo = format!(
        "{registry}/{}",
        svc.image
            .rsplit('/')
            .next()
            .unwrap_or(&svc.image)
            .split(':')
            .next()
            .unwrap_or(&svc.image)
    );
    engine
        .docker
        .tag_image(
            &svc.image,
            Some(TagImageOptions {
                repo: Some(repo.clone()),
                tag: Some("latest".into()),
            }),
        )
        .await
        .api(|| format!("tagging {repo}"))?;
    images::push_image(engine, &format!("{repo}:latest"), report).await
}

async fn ensure_network(engine: &Engine, plan: &Plan) -> Result<String> {
    let name = format!("{}_default", plan.project);
    let existing = engine
        .docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(ns_filter(&plan.project)),
        }))
        .await
        .api(|| "listing networks".into())?;
    if let Some(n) = existing
        .into_iter()
        .find(|n| n.name.as_deref() == Some(name.as_str()))
    {
        return n.id.context("network without an ID");
    }
    let created = engine
        .docker
        .create_network(NetworkCreateRequest {
            name: name.clone(),
            driver: Some("overlay".into()),
            attachable: Some(true),
            labels: Some(HashMap::from([(
                NAMESPACE.to_owned(),
                plan.project.clone(),
            )])),
            ..Default::default()
        })
        .await
        .api(|| format!("creating overlay network {name}"))?;
    Ok(created.id)
}

/// Waits until every task the service wants is running (healthy, when it has a healthcheck).
async fn wait_running(
    engine: &Engine,
    service_id: &str,
    name: &str,
    want: u32,
    timeout: Duration,
) -> Result<()> {
    let t = Instant::now();
    loop {
        let filters = HashMap::from([
            ("service".to_owned(), vec![service_id.to_owned()]),
            ("desired-state".to_owned(), vec!["running".to_owned()]),
        ]);
        let tasks = engine
            .docker
            .list_tasks(Some(ListTasksOptions {
                filters: Some(filters),
            }))
            .await
            .api(|| format!("listing tasks of {name}"))?;
        let running = tasks
            .iter()
            .filter(|t| t.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING))
            .count() as u32;
        if running >= want.max(1) {
            return Ok(());
        }
        if t.elapsed() > timeout {
            // Failed tasks are no longer desired to run: the reason is on them.
            let all = engine
                .docker
                .list_tasks(Some(ListTasksOptions {
                    filters: Some(HashMap::from([(
                        "service".to_owned(),
                        vec![service_id.to_owned()],
                    )])),
                }))
                .await
                .unwrap_or_default();
            let why = all
                .iter()
                .filter_map(|t| t.status.as_ref()?.err.clone())
                .find(|e| !e.is_empty())
                .map(|e| format!("(last task error: {e})"))
                .unwrap_or_default();
            bail!(
                "service {name}: {running}/{want} tasks running after {}s {why}",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `up` on Swarm: network, secrets, then services level by level.
pub async fn up(
    engine: &Engine,
    plan: &Plan,
    registry: Option<&str>,
    opts: ImageOptions,
    report: &Reporter,
) -> Result<()> {
    require_manager(engine).await?;
    refuse_built_without_registry(engine, plan, registry).await?;
    let ipvs_users = needs_ipvs(plan);
    if !ipvs_users.is_empty()
        && !kernel_has_ipvs(engine, &probe_image(engine, plan, report).await?).await?
    {
        bail!(
            "this swarm's kernel has no IPVS, so virtual IPs and the routing mesh do not work here:\n  - {}\n  = help: use `deploy: {{endpoint_mode: dnsrr}}` for services reached by name and long-form ports with `mode: host` (see stack/stack.swarm.yml), or load the ip_vs kernel module",
            ipvs_users.join("\n  - ")
        );
    }
    // Everything that can be refused is refused, and every image built, before the first object
    // is created: a failure here leaves the swarm as it was.
    let images = deployable_images(engine, plan, registry, opts, report).await?;
    let network = ensure_network(engine, plan).await?;
    let secrets = secrets::ensure_secrets(engine, plan).await?;
    let configs = files::ensure_configs(engine, plan).await?;
    let existing: HashMap<String, bollard::models::Service> =
        project_services(engine, &plan.project)
            .await?
            .into_iter()
            .filter_map(|s| Some((s.spec.as_ref()?.name.clone()?, s)))
            .collect();
    for level in &plan.levels {
        for name in level {
            let svc = &plan.services[name];
            let image = images.get(name).unwrap_or(&svc.image);
            let ignored = spec::not_on_swarm(svc);
            if !ignored.is_empty() {
                report(super::Event::Warning(format!(
                    "service {name}: Swarm services have no {}; the tasks run without {}",
                    ignored.join(", "),
                    if ignored.len() == 1 { "it" } else { "them" }
                )));
            }
            let mut spec = spec_for(plan, svc, image, &network, &secrets, &configs);
            let hash = config_hash(&spec);
            spec.labels
                .get_or_insert_with(HashMap::new)
                .insert(HASH.into(), hash.clone());
            let sname = service_name(&plan.project, name);
            let object = format!("Service {sname}");
            let id = match existing.get(&sname) {
                Some(cur)
                    if cur
                        .spec
                        .as_ref()
                        .and_then(|s| s.labels.as_ref())
                        .and_then(|l| l.get(HASH))
                        == Some(&hash) =>
                {
                    step(report, &object, "Unchanged", true);
                    cur.id.clone().unwrap_or_default()
                }
                Some(cur) => {
                    update_service(engine, &sname, cur, spec, "updating").await?;
                    step(report, &object, "Updating", false);
                    update::wait_update(engine, &sname, cur, Duration::from_secs(600)).await?;
                    step(report, &object, "Updated", false);
                    cur.id.clone().unwrap_or_default()
                }
                None => {
                    let created = engine
                        .docker
                        .create_service(spec, None)
                        .await
                        .api(|| format!("creating {sname}"))?;
                    step(report, &object, "Created", false);
                    created.id.unwrap_or_default()
                }
            };
            let want = if svc.swarm.global { 1 } else { svc.replicas };
            wait_running(engine, &id, &sname, want, Duration::from_secs(180)).await?;
            step(report, &object, "Running", true);
        }
    }
    Ok(())
}

/// Refuses built services on a swarm of several nodes when no registry is given: its other nodes
/// could not get the images. Checked before anything is pulled, built or created.
async fn refuse_built_without_registry(
    engine: &Engine,
    plan: &Plan,
    registry: Option<&str>,
) -> Result<()> {
    let built: Vec<&str> = plan
        .services
        .values()
        .filter(|s| s.build.is_some())
        .map(|s| s.name.as_str())
        .collect();
    let folders = files::folder_binds(plan);
    if (built.is_empty() || registry.is_some()) && folders.is_empty() {
        return Ok(());
    }
    let nodes = engine
        .docker
        .list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
        .await
        .api(|| "listing the swarm's nodes".into())?
        .len();
    if nodes > 1 && !folders.is_empty() {
        return Err(crate::exit::UsageError::new(format!(
            "these bind mounts name folders of this machine, which the swarm's other {} node(s) do not have:\n  - {}",
            nodes - 1,
            folders.join("\n  - ")
        ))
        .hint("use a named volume for data, or bind single files (they travel as Swarm configs)")
        .into());
    }
    if nodes > 1 && !built.is_empty() && registry.is_none() {
        return Err(crate::exit::UsageError::new(format!(
            "service(s) {} are built here, and this swarm's {nodes} nodes can only get them from a registry",
            built.join(", ")
        ))
        .hint("pass --registry HOST:PORT (or set STACKCTL_REGISTRY) naming a registry every node can pull from")
        .into());
    }
    Ok(())
}

/// An image for the IPVS probe: one the stack itself pulls, so no extra download is needed.
async fn probe_image(engine: &Engine, plan: &Plan, report: &Reporter) -> Result<String> {
    let Some(svc) = plan.services.values().find(|s| s.build.is_none()) else {
        return Ok(
            std::env::var("STACKCTL_PROBE_IMAGE").unwrap_or_else(|_| "debian:bookworm-slim".into())
        );
    };
    let opts = ImageOptions {
        no_build: true,
        ..ImageOptions::default()
    };
    images::ensure(engine, &plan.project, &[svc], opts, report).await?;
    Ok(svc.image.clone())
}

/// The image each service deploys when it is not its name as written. A built service's is pushed
/// to `registry` and named by digest, or, on a swarm of one node (where the image built here is
/// already on the only node, as `docker stack deploy` allows), named by its image ID, which no
/// node tries to pull; `up`'s build flags apply as they do locally. A pulled image whose policy is
/// `always` (`--pull always` or the service's `pull_policy`) is pinned to the digest its registry
/// gives now, so every node runs the newest and a changed digest rolls the service.
async fn deployable_images(
    engine: &Engine,
    plan: &Plan,
    registry: Option<&str>,
    opts: ImageOptions,
    report: &Reporter,
) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for svc in plan.services.values().filter(|s| s.build.is_none()) {
        if pulls_always(svc, &opts) {
            let digest = images::registry_digest(engine, &svc.image).await?;
            out.insert(svc.name.clone(), pinned(&svc.image, &digest));
        }
    }
    for svc in plan.services.values().filter(|s| s.build.is_some()) {
        let image = match registry {
            Some(r) => push_built(engine, plan, svc, r, opts, report).await?,
            None => {
                images::ensure(engine, &plan.project, &[svc], opts, report).await?;
                report(super::Event::Warning(format!(
                    "service {} runs the image built here: this swarm has one node, so no registry is needed (pass --registry before adding nodes)",
                    svc.name
                )));
                images::image_id(engine, &svc.image)
                    .await?
                    .with_context(|| format!("image {} vanished after its build", svc.image))?
            }
        };
        out.insert(svc.name.clone(), image);
    }
    Ok(out)
}

/// Whether `svc`'s image is pulled anew on every `up` (a refreshing policy is not: the nodes
/// keep what they have).
fn pulls_always(svc: &ServicePlan, opts: &ImageOptions) -> bool {
    images::pull_policy(svc, opts, false) == images::PullPolicy::Always
}

/// `reference` named by `digest`, its tag kept for people reading `service ls`.
fn pinned(reference: &str, digest: &str) -> String {
    let bare = reference.split('@').next().unwrap_or(reference);
    format!("{bare}@{digest}")
}

/// Replaces a service's spec; the version read with it guards against a concurrent update.
async fn update_service(
    engine: &Engine,
    name: &str,
    current: &bollard::models::Service,
    spec: ServiceSpec,
    doing: &str,
) -> Result<()> {
    let version = current.version.as_ref().and_then(|v| v.index).unwrap_or(0) as i32;
    engine
        .docker
        .update_service(
            name,
            spec,
            UpdateServiceOptions {
                version,
                ..Default::default()
            },
            None,
        )
        .await
        .api(|| format!("{doing} {name}"))?;
    Ok(())
}

pub async fn scale(
    engine: &Engine,
    plan: &Plan,
    scale: &BTreeMap<String, u32>,
    report: &Reporter,
) -> Result<()> {
    require_manager(engine).await?;
    for (name, n) in scale {
        let sname = service_name(&plan.project, name);
        let cur = engine
            .docker
            .inspect_service(&sname, None)
            .await
            .api(|| format!("inspecting {sname} (deploy it with `up` first)"))?;
        let mut spec = cur.spec.clone().unwrap_or_default();
        spec.mode = Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(i64::from(*n)),
            }),
            ..Default::default()
        });
        update_service(engine, &sname, &cur, spec, "scaling").await?;
        wait_running(
            engine,
            cur.id.as_deref().unwrap_or(&sname),
            &sname,
            *n,
            Duration::from_secs(120),
        )
        .await?;
        step(
            report,
            format!("Service {sname}"),
            format!("Scaled to {n}"),
            true,
        );
    }
    Ok(())
}

/// The project's services, found by the stack namespace label.
async fn project_services(engine: &Engine, project: &str) -> Result<Vec<bollard::models::Service>> {
    engine
        .docker
        .list_services(Some(ListServicesOptions {
            filters: Some(ns_filter(project)),
            status: None,
        }))
        .await
        .api(|| "listing services".into())
}

#[cfg(test)]
mod tests {
    use super::{images, no_leader, pinned, pulls_always};

    #[test]
    fn a_swarm_without_a_leader_is_told_by_the_daemons_words() {
        assert!(no_leader(
            "Docker responded with status code 500: rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online."
        ));
        assert!(no_leader(
            "rpc error: code = Unavailable desc = lost quorum"
        ));
        assert!(!no_leader("This node is not a swarm manager."));
    }

    #[test]
    fn a_pulled_image_is_pinned_when_the_flag_or_the_service_says_always() {
        let plan = crate::plan::of_text(
            "services:\n  a:\n    image: reg:5000/app:1\n    pull_policy: always\n  m:\n    image: redis:7\n",
        );
        let (a, m) = (&plan.services["a"], &plan.services["m"]);
        let flag = |pull| images::ImageOptions {
            pull,
            ..Default::default()
        };
        assert!(pulls_always(a, &flag(None)));
        assert!(!pulls_always(a, &flag(Some(images::PullPolicy::Missing))));
        assert!(!pulls_always(m, &flag(None)));
        assert!(pulls_always(m, &flag(Some(images::PullPolicy::Always))));
        assert_eq!(
            pinned("reg:5000/app:1", "sha256:ab"),
            "reg:5000/app:1@sha256:ab"
        );
        assert_eq!(pinned("redis@sha256:00", "sha256:ab"), "redis@sha256:ab");
    }
}
