//! Networks and named volumes: created with the project's labels when missing, removed only when they
//! carry them.

use std::collections::HashMap;

use anyhow::{Result, bail};
use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};

use super::{ApiContext, Engine, Event, Reporter, is_conflict, is_not_found, observe, step};
use crate::plan::{Plan, labels};

fn labelled(
    project: &str,
    kind_label: &str,
    key: &str,
    extra: &std::collections::BTreeMap<String, String>,
) -> HashMap<String, String> {
    let mut l: HashMap<String, String> = extra.clone().into_iter().collect();
    l.insert(labels::PROJECT.into(), project.into());
    l.insert(kind_label.into(), key.into());
    l.insert(labels::VERSION.into(), env!("CARGO_PKG_VERSION").into());
    l
}

pub async fn ensure_networks(engine: &Engine, plan: &Plan, report: &Reporter) -> Result<()> {
    let existing = observe::networks(engine, &plan.project).await?;
    for net in &plan.networks {
        if net.external {
            if engine
                .docker
                .inspect_network(
                    &net.name,
                    None::<bollard::query_parameters::InspectNetworkOptions>,
                )
                .await
                .is_err()
            {
                bail!(
                    "external network {} does not exist; create it first (`docker network create {}`)",
                    net.name,
                    net.name
                );
            }
            continue;
        }
        if existing.contains_key(&net.name) {
            continue;
        }
        engine.check_cancelled()?;
        let req = NetworkCreateRequest {
            name: net.name.clone(),
            driver: net.driver.clone(),
            internal: Some(net.internal),
            attachable: Some(net.attachable),
            options: Some(net.options.clone().into_iter().collect()),
            labels: Some(labelled(
                &plan.project,
                labels::NETWORK,
                &net.key,
                &net.labels,
            )),
            ipam: net.ipam.as_ref().map(|i| bollard::models::Ipam {
                driver: i.driver.clone(),
                config: Some(
                    i.config
                        .iter()
                        .map(|p| bollard::models::IpamConfig {
                            subnet: p.subnet.clone(),
                            ip_range: p.ip_range.clone(),
                            gateway: p.gateway.clone(),
                            auxiliary_addresses: (!p.aux_addresses.is_empty())
                                .then(|| p.aux_addresses.clone().into_iter().collect()),
                        })
                        .collect(),
                ),
                options: (!i.options.is_empty()).then(|| i.options.clone().into_iter().collect()),
            }),
            enable_ipv6: net.enable_ipv6.then_some(true),
            ..Default::default()
        };
        match engine.docker.create_network(req).await {
            Ok(_) => step(report, format!("Network {}", net.name), "Created", true),
            Err(e) if is_conflict(&e) => bail!(
                "a network named {} exists but does not belong to project {}; remove it or choose another project name with -p",
                net.name,
                plan.project
            ),
            Err(e) => {
                return Err(super::api_error(e))
                    .map_err(|e| e.context(format!("creating network {}", net.name)));
            }
        }
    }
    Ok(())
}

pub async fn ensure_volumes(engine: &Engine, plan: &Plan, report: &Reporter) -> Result<()> {
    let existing = observe::volumes(engine, &plan.project).await?;
    for vol in &plan.volumes {
        if existing.contains_key(&vol.name) {
            continue;
        }
        if vol.external {
            if let Err(e) = engine.docker.inspect_volume(&vol.name).await {
                if is_not_found(&e) {
                    bail!(
                        "external volume {} does not exist; create it first (`docker volume create {}`)",
                        vol.name,
                        vol.name
                    );
                }
                return Err(super::api_error(e));
            }
            continue;
        }
        // Creating an existing volume returns it unchanged; say so when it is not ours.
        if engine.docker.inspect_volume(&vol.name).await.is_ok() {
            report(Event::Warning(format!(
                "volume {} already exists but was not created by stackctl for project {}; using it as is",
                vol.name, plan.project
            )));
            continue;
        }
        engine.check_cancelled()?;
        let req = VolumeCreateRequest {
            name: Some(vol.name.clone()),
            driver: vol.driver.clone(),
            driver_opts: Some(vol.options.clone().into_iter().collect()),
            labels: Some(labelled(
                &plan.project,
                labels::VOLUME,
                &vol.key,
                &vol.labels,
            )),
            ..Default::default()
        };
        engine
            .docker
            .create_volume(req)
            .await
            .api(|| format!("creating volume {}", vol.name))?;
        step(report, format!("Volume {}", vol.name), "Created", true);
    }
    Ok(())
}

/// Removes the given networks of the project, all at once; a network still in use is reported, not fatal.
pub async fn remove_networks(
    engine: &Engine,
    names: impl IntoIterator<Item = String>,
    report: &Reporter,
) {
    futures::future::join_all(names.into_iter().map(|name| async move {
        match engine.docker.remove_network(&name).await {
            Ok(()) => step(report, format!("Network {name}"), "Removed", true),
            Err(e) if is_not_found(&e) => {}
            Err(e) => report(Event::Warning(format!(
                "could not remove network {name}: {}",
                super::api_error(e)
            ))),
        }
    }))
    .await;
}

pub async fn remove_volumes(engine: &Engine, project: &str, report: &Reporter) -> Result<()> {
    for (name, _) in observe::volumes(engine, project).await? {
        match engine
            .docker
            .remove_volume(
                &name,
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
        {
            Ok(()) => step(report, format!("Volume {name}"), "Removed", true),
            Err(e) if is_not_found(&e) => {}
            Err(e) => {
                return Err(super::api_error(e))
                    .map_err(|e| e.context(format!("removing volume {name}")));
            }
        }
    }
    Ok(())
}
