//! Taking a project down: containers stopped in reverse dependency order (in parallel inside a level),
//! removed, then the project's networks and, when asked, its volumes and images.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::Semaphore;

use super::converge::stop_and_remove;
use super::lifecycle::{self, StopOptions};
use super::observe::ObservedContainer;
use super::{Engine, Event, Reporter, containers, is_not_found, observe, resources, step};
use crate::plan::Plan;

#[derive(Debug, Clone)]
pub struct DownOptions {
    pub volumes: bool,
    pub rmi: Option<String>,
    pub remove_orphans: bool,
    pub timeout: Option<Duration>,
}

pub async fn down(
    engine: &Engine,
    plan: &Plan,
    opts: &DownOptions,
    report: &Reporter,
) -> Result<()> {
    let (observed, networks) = tokio::try_join!(
        observe::containers(engine, &plan.project, true),
        observe::networks(engine, &plan.project)
    )?;
    let sem = Semaphore::new(32);
    let orphans: Vec<_> = observed
        .iter()
        .filter(|c| !c.oneoff && !plan.defines(&c.service))
        .collect();
    if !orphans.is_empty() && !opts.remove_orphans {
        let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
        report(Event::Warning(format!(
            "left containers of services no longer in the manifest ({}); run `stackctl down --remove-orphans` to remove them",
            names.join(", ")
        )));
    }
    let timeout_for = |service: &str| {
        opts.timeout.unwrap_or_else(|| {
            plan.services
                .get(service)
                .map(|s| s.stop_timeout())
                .unwrap_or(Duration::from_secs(10))
        })
    };
    // Dependents first: walk the levels backwards. Orphans and one-off containers go in the first wave.
    let mut done: HashSet<&str> = HashSet::new();
    let first_wave = observed
        .iter()
        .filter(|c| c.oneoff || (!plan.defines(&c.service) && opts.remove_orphans));
    // After a Ctrl-C no new step starts (`check_cancelled` before each): the steps in flight
    // finish, and above all no volume goes once the user has asked to stop.
    engine.check_cancelled()?;
    super::settle_all(first_wave.map(|c| {
        done.insert(&c.id);
        let hooks = plan
            .services
            .get(&c.service)
            .map_or(&[][..], |s| &s.pre_stop[..]);
        stop_and_remove(engine, c, timeout_for(&c.service), hooks, &sem, report)
    }))
    .await?;
    // Each container is removed once it has stopped, and a service's dependencies stop once it
    // is removed: compose's order, which also keeps Engine 20.10 from losing count of a
    // network's endpoints (removals racing the stops of others on the same network did).
    let targets: Vec<&ObservedContainer> = observed
        .iter()
        .filter(|c| !c.oneoff && plan.services.contains_key(&c.service))
        .filter(|c| !done.contains(c.id.as_str()))
        .collect();
    let stop = StopOptions {
        timeout: opts.timeout,
        last_step: false,
    };
    // `-v` takes the containers' anonymous volumes too, as compose's `down -v` does.
    let anonymous_volumes = opts.volumes;
    lifecycle::stop_in_order(engine, plan, &targets, stop, report, |c| async move {
        engine.check_cancelled()?;
        containers::remove(engine, &c.id, &c.name, anonymous_volumes).await?;
        step(report, format!("Container {}", c.name), "Removed", true);
        Ok(())
    })
    .await?;
    // Every container is gone, so no endpoint holds the networks.
    engine.check_cancelled()?;
    resources::remove_networks(engine, networks, report).await;
    engine.check_cancelled()?;
    if opts.volumes {
        resources::remove_volumes(engine, &plan.project, report).await?;
    }
    if let Some(rmi) = &opts.rmi {
        let images = images_to_remove(plan, rmi);
        for image in images {
            engine.check_cancelled()?;
            match engine
                .patient
                .remove_image(
                    image,
                    None::<bollard::query_parameters::RemoveImageOptions>,
                    None,
                )
                .await
            {
                Ok(_) => step(report, format!("Image {image}"), "Removed", true),
                Err(e) if is_not_found(&e) => {}
                Err(e) => report(Event::Warning(format!(
                    "could not remove image {image}: {}",
                    super::api_error(e)
                ))),
            }
        }
    }
    Ok(())
}

/// The images `down --rmi` removes: `local` the built ones, `all` every service's.
pub fn images_to_remove<'a>(plan: &'a Plan, rmi: &str) -> Vec<&'a str> {
    let mut images: Vec<&str> = plan
        .services
        .values()
        .filter(|s| rmi == "all" || s.build.is_some())
        .map(|s| s.image.as_str())
        .collect();
    images.sort();
    images.dedup();
    images
}
