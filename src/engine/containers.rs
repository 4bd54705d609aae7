//! One container of a service: the calls that create, start, stop and remove it (the create
//! request itself is built in create_body.rs).

use std::time::Duration;

use anyhow::Result;
use bollard::models::{ContainerCreateBody, EndpointSettings, NetworkConnectRequest};
use bollard::query_parameters::{
    CreateContainerOptions, RemoveContainerOptions, StopContainerOptions,
};

use super::observe::ObservedContainer;
use super::{ApiContext, Engine, is_not_found};
use crate::plan::{Plan, ServicePlan};

pub use super::create_body::{create_body, health_config, resource_ulimits};
pub(super) use super::create_body::{endpoint, first_endpoint, network_order};
pub use super::mounts::{inherit_anonymous, to_mount};

/// Creates replica `number` of `svc`; `replacing` names the container it takes the place of,
/// whose anonymous volumes it keeps.
pub async fn create(
    engine: &Engine,
    plan: &Plan,
    svc: &ServicePlan,
    number: u32,
    config_hash: &str,
    replacing: Option<&ObservedContainer>,
) -> Result<String> {
    engine.check_cancelled()?;
    let name = svc.container_name(&plan.project, number);
    let mut body = create_body(plan, svc, number, config_hash);
    if let Some(old) = replacing {
        super::mounts::inherit_anonymous(engine, &mut body, old).await?;
    }
    create_named(engine, svc, &name, body, true).await
}

/// Creates a container of `svc` named `name` from `body`, connected to all the service's networks
/// (API 1.41 takes one at create; the others before start); without aliases unless `announce`.
pub async fn create_named(
    engine: &Engine,
    svc: &ServicePlan,
    name: &str,
    mut body: ContainerCreateBody,
    announce: bool,
) -> Result<String> {
    let endpoints = body.networking_config.iter_mut();
    for e in endpoints.flat_map(|n| n.endpoints_config.iter_mut().flat_map(|m| m.values_mut())) {
        e.aliases = e.aliases.take().filter(|_| announce);
    }
    let created = engine
        .docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.to_owned()),
                platform: svc.platform.clone().unwrap_or_default(),
            }),
            body,
        )
        .await
        .api(|| format!("creating container {name}"))?;
    for (net, aliases) in network_order(svc).into_iter().skip(1) {
        engine
            .docker
            .connect_network(
                net,
                NetworkConnectRequest {
                    container: created.id.clone(),
                    endpoint_config: Some(EndpointSettings {
                        aliases: announce.then(|| aliases.clone()),
                        ..endpoint(svc, net)
                    }),
                },
            )
            .await
            .api(|| format!("connecting {name} to network {net}"))?;
    }
    if !svc.injected.is_empty() {
        super::archive::put_files(engine, &created.id, &svc.injected).await?;
    }
    Ok(created.id)
}

pub async fn start(engine: &Engine, id: &str, name: &str) -> Result<()> {
    engine.check_cancelled()?;
    engine
        .docker
        .start_container(id, None)
        .await
        .api(|| format!("starting container {name}"))
}

/// Stops with the container's own stop signal, killing after `timeout`. Gone already is fine.
pub async fn stop(engine: &Engine, id: &str, name: &str, timeout: Duration) -> Result<()> {
    let t = timeout.as_secs().min(i32::MAX as u64) as i32;
    match engine
        .patient
        .stop_container(
            id,
            Some(StopContainerOptions {
                t: Some(t),
                signal: None,
            }),
        )
        .await
    {
        Err(e) if is_not_found(&e) => Ok(()),
        other => other.api(|| format!("stopping container {name}")),
    }
}

/// Freezes (`pause`) or thaws (`unpause`) a container's processes.
pub async fn set_paused(engine: &Engine, id: &str, name: &str, paused: bool) -> Result<()> {
    if paused {
        engine.docker.pause_container(id).await
    } else {
        engine.docker.unpause_container(id).await
    }
    .api(|| {
        format!(
            "{} container {name}",
            if paused { "pausing" } else { "unpausing" }
        )
    })
}

/// Whether the container has a TTY, and whether it keeps stdin open for attaching.
pub async fn tty_and_stdin(engine: &Engine, id: &str) -> Result<(bool, bool)> {
    let c = engine
        .docker
        .inspect_container(id, None)
        .await
        .api(|| "inspecting the container".into())?;
    let config = c.config.unwrap_or_default();
    Ok((
        config.tty.unwrap_or(false),
        config.open_stdin.unwrap_or(false),
    ))
}

/// Sends `signal` (a name like SIGINT, or a number) to the container's main process.
pub async fn signal(engine: &Engine, id: &str, signal: &str) -> Result<()> {
    engine
        .docker
        .kill_container(
            id,
            Some(bollard::query_parameters::KillContainerOptions {
                signal: signal.to_owned(),
            }),
        )
        .await
        .api(|| format!("sending {signal} to the container"))
}

/// Kills at once (the second Ctrl-C). Gone or stopped already is fine.
pub async fn kill(engine: &Engine, id: &str) {
    let _ = engine
        .docker
        .kill_container(id, None::<bollard::query_parameters::KillContainerOptions>)
        .await;
}

async fn state_of(engine: &Engine, id: &str) -> Option<bollard::models::ContainerState> {
    engine.docker.inspect_container(id, None).await.ok()?.state
}

/// The exit code of a container that has stopped for good: not running, and no restart policy
/// bringing it back. `None` while it runs or restarts, or when it is gone.
pub async fn stopped_for_good(engine: &Engine, id: &str) -> Option<i64> {
    let state = state_of(engine, id).await?;
    let up = state.running.unwrap_or(false) || state.restarting.unwrap_or(false);
    (!up).then(|| state.exit_code.unwrap_or(-1))
}

pub async fn remove(engine: &Engine, id: &str, name: &str, volumes: bool) -> Result<()> {
    let opts = RemoveContainerOptions {
        force: true,
        v: volumes,
        ..Default::default()
    };
    match engine.docker.remove_container(id, Some(opts)).await {
        Err(e) if is_not_found(&e) => Ok(()),
        // "removal already in progress" is the same outcome.
        Err(e) if super::is_conflict(&e) => Ok(()),
        other => other.api(|| format!("removing container {name}")),
    }
}

/// The API's healthcheck for a service: none to keep the image's, `NONE` to switch it off.
pub async fn has_own_healthcheck(engine: &Engine, id: &str) -> Result<bool> {
    let info = engine
        .docker
        .inspect_container(
            id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .api(|| format!("inspecting container {id}"))?;
    let test = info
        .config
        .and_then(|c| c.healthcheck)
        .and_then(|h| h.test)
        .unwrap_or_default();
    Ok(!test.is_empty() && test[0] != "NONE")
}
