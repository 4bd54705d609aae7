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

/// Refuses, before anything is created, a network the project needs that is missing (external) or
/// that someone else made under the project network's name: creating ours beside it would give both
/// owners an ambiguous name (Engine 20.10 allows two networks with one name).
pub async fn check_networks(engine: &Engine, plan: &Plan) -> Result<()> {
    for net in &plan.networks {
        // An older engine ignores the field and would hand out IPv4 addresses all the same.
        if net.enable_ipv4 == Some(false)
            && !net.external
            && super::api_below(&engine.api_version, (1, 47))
        {
            bail!(
                "network {} asks `enable_ipv4: false`, which Docker Engine {} (API {}) cannot do\n  = help: use Docker Engine 28 or newer (API 1.47), or leave `enable_ipv4` out",
                net.key,
                engine.server_version,
                engine.api_version
            );
        }
        if net.external {
            if let Err(e) = engine
                .docker
                .inspect_network(
                    &net.name,
                    None::<bollard::query_parameters::InspectNetworkOptions>,
                )
                .await
            {
                if is_not_found(&e) {
                    bail!(
                        "external network {} does not exist; create it first (`docker network create {}`)",
                        net.name,
                        net.name
                    );
                }
                return Err(super::api_error(e))
                    .map_err(|e| e.context(format!("looking for network {}", net.name)));
            }
            continue;
        }
        let named = observe::networks_named(engine, &net.name).await?;
        if let Some((id, owner)) = named
            .iter()
            .find(|(_, owner)| owner.as_deref() != Some(plan.project.as_str()))
        {
            let whose = match owner {
                Some(p) => format!("project {p}"),
                None => "no stackctl or compose project".to_owned(),
            };
            bail!(
                "a network named {} already exists (ID {}, belonging to {whose}), so project {} cannot make its own\n  = help: remove it (`docker network rm {}`) if nothing needs it, declare it `external: true` under `networks: {}:` to use it as it is, or choose another project name with -p",
                net.name,
                short_id(id),
                plan.project,
                short_id(id),
                net.key
            );
        }
    }
    Ok(())
}

fn short_id(id: &str) -> &str {
    &id[..id.len().min(12)]
}

pub async fn ensure_networks(engine: &Engine, plan: &Plan, report: &Reporter) -> Result<()> {
    let existing = observe::networks(engine, &plan.project).await?;
    for net in &plan.networks {
        if net.external {
            continue;
        }
        let twins: Vec<&observe::ObservedNetwork> =
            existing.iter().filter(|n| n.name == net.name).collect();
        if let Some((_, extra)) = twins.split_first() {
            remove_twins(engine, &net.name, extra, report).await?;
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
            enable_ipv4: net.enable_ipv4,
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

/// Removes the given networks of the project, all at once and by ID; a network still in use is
/// reported, not fatal.
pub async fn remove_networks(
    engine: &Engine,
    networks: Vec<observe::ObservedNetwork>,
    report: &Reporter,
) {
    futures::future::join_all(networks.into_iter().map(|net| async move {
        match engine.docker.remove_network(&net.id).await {
            Ok(()) => step(report, format!("Network {}", net.name), "Removed", true),
            Err(e) if is_not_found(&e) => {}
            Err(e) => report(Event::Warning(format!(
                "could not remove network {} ({}): {}",
                net.name,
                short_id(&net.id),
                super::api_error(e)
            ))),
        }
    }))
    .await;
}

/// Removes the project's later networks of one name, left by two runs that created it at once: the
/// name is ambiguous to the daemon while they stand, so nothing could join it.
async fn remove_twins(
    engine: &Engine,
    name: &str,
    twins: &[&observe::ObservedNetwork],
    report: &Reporter,
) -> Result<()> {
    for twin in twins {
        engine.check_cancelled()?;
        match engine.docker.remove_network(&twin.id).await {
            Ok(()) => report(Event::Warning(format!(
                "removed a second network named {name} ({}), left by two runs at the same time",
                short_id(&twin.id)
            ))),
            Err(e) if is_not_found(&e) => {}
            Err(e) => bail!(
                "project network {name} exists twice and the second ({}) cannot be removed: {}\n  = help: run `stackctl down`, which removes both, then `up` again",
                short_id(&twin.id),
                super::api_error(e)
            ),
        }
    }
    Ok(())
}

pub async fn remove_volumes(engine: &Engine, project: &str, report: &Reporter) -> Result<()> {
    for (name, _) in observe::volumes(engine, project).await? {
        engine.check_cancelled()?;
        match engine
            .patient
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
