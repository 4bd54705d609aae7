//! `down` on Swarm: the project's services, then what their tasks held (the network, secrets,
//! configs and, on this node, volumes) once Swarm has wound the tasks down.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bollard::query_parameters::{ListConfigsOptions, ListNetworksOptions, ListSecretsOptions};

use super::{ns_filter, services};
use crate::engine::{ApiContext, Engine, Reporter, step};
use crate::plan::Plan;

pub async fn down(engine: &Engine, plan: &Plan, volumes: bool, report: &Reporter) -> Result<()> {
    for (id, name) in services(engine, &plan.project).await? {
        engine
            .docker
            .delete_service(&id)
            .await
            .api(|| format!("removing {name}"))?;
        step(report, format!("Service {name}"), "Removed", true);
    }
    // The network can go once the tasks' containers are gone.
    let t = Instant::now();
    let nets = engine
        .docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(ns_filter(&plan.project)),
        }))
        .await
        .api(|| "listing networks".into())?;
    for n in nets {
        let Some(name) = n.name else { continue };
        remove_when_free(t, Duration::from_millis(500), || {
            engine.docker.remove_network(&name)
        })
        .await
        .map_err(crate::engine::api_error)
        .with_context(|| format!("removing network {name}"))?;
        // Swarm deletes an overlay network asynchronously: wait until the daemon no longer knows it.
        while t.elapsed() < Duration::from_secs(60)
            && engine
                .docker
                .inspect_network(
                    &name,
                    None::<bollard::query_parameters::InspectNetworkOptions>,
                )
                .await
                .is_ok()
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        step(report, format!("Network {name}"), "Removed", true);
    }
    let secrets = engine
        .docker
        .list_secrets(Some(ListSecretsOptions {
            filters: Some(ns_filter(&plan.project)),
        }))
        .await
        .api(|| "listing secrets".into())?;
    // A secret or a config is in use until the tasks that mount it are gone: retried like the
    // network. One still held (by a service outside the project) does not stop the others going.
    let secrets: Vec<(String, String)> = secrets
        .into_iter()
        .filter_map(|s| Some((s.id?, s.spec.and_then(|sp| sp.name).unwrap_or_default())))
        .collect();
    let configs: Vec<(String, String)> = engine
        .docker
        .list_configs(Some(ListConfigsOptions {
            filters: Some(ns_filter(&plan.project)),
        }))
        .await
        .api(|| "listing configs".into())?
        .into_iter()
        .filter_map(|c| Some((c.id?, c.spec.and_then(|sp| sp.name).unwrap_or_default())))
        .collect();
    let mut held = Vec::new();
    let docker = &engine.docker;
    held.extend(
        remove_each(t, "Secret", secrets, report, |id| async move {
            docker.delete_secret(&id).await
        })
        .await,
    );
    held.extend(
        remove_each(t, "Config", configs, report, |id| async move {
            docker.delete_config(&id).await
        })
        .await,
    );
    if volumes {
        // On this node only: a volume lives where its task ran. Its containers may still be going.
        let t = Instant::now();
        let list = engine
            .docker
            .list_volumes(Some(bollard::query_parameters::ListVolumesOptions {
                filters: Some(ns_filter(&plan.project)),
            }))
            .await
            .api(|| "listing volumes".into())?;
        for v in list.volumes.unwrap_or_default() {
            remove_when_free(t, Duration::from_millis(300), || {
                engine.patient.remove_volume(
                    &v.name,
                    None::<bollard::query_parameters::RemoveVolumeOptions>,
                )
            })
            .await
            .map_err(crate::engine::api_error)
            .with_context(|| format!("removing volume {}", v.name))?;
            step(report, format!("Volume {}", v.name), "Removed", true);
        }
    }
    if !held.is_empty() {
        bail!(
            "could not remove {}\n  = help: a service outside this project may still use it \
             (`docker service ls`, then `docker service update --secret-rm NAME SERVICE` or \
             `--config-rm`), then run `down` again",
            held.join("; ")
        );
    }
    Ok(())
}

/// Removes each `(id, name)` of a `kind` ("Secret", "Config") once the tasks let go of it; returns
/// "kind name: why" for each one still held instead of stopping at the first.
async fn remove_each<F, Fut>(
    started: Instant,
    kind: &str,
    items: Vec<(String, String)>,
    report: &Reporter,
    delete: F,
) -> Vec<String>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), bollard::errors::Error>>,
{
    let mut held = Vec::new();
    for (id, name) in items {
        match remove_when_free(started, Duration::from_millis(300), || delete(id.clone())).await {
            Ok(()) => step(report, format!("{kind} {name}"), "Removed", true),
            Err(e) => held.push(format!(
                "{} {name}: {:#}",
                kind.to_lowercase(),
                crate::engine::api_error(e)
            )),
        }
    }
    held
}

/// Removes something the tasks of removed services may still hold (Swarm winds them down
/// asynchronously): retried every `pause` for up to a minute from `started` (or
/// `STACKCTL_SWARM_RELEASE_WAIT` seconds); "not found" is done.
fn release_wait() -> Duration {
    std::env::var("STACKCTL_SWARM_RELEASE_WAIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(60), Duration::from_secs)
}

async fn remove_when_free<F, Fut>(
    started: Instant,
    pause: Duration,
    mut remove: F,
) -> Result<(), bollard::errors::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), bollard::errors::Error>>,
{
    loop {
        match remove().await {
            Ok(()) => return Ok(()),
            Err(e) if crate::engine::is_not_found(&e) => return Ok(()),
            Err(_) if started.elapsed() < release_wait() => tokio::time::sleep(pause).await,
            Err(e) => return Err(e),
        }
    }
}
