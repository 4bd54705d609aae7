//! `--dry-run`: what `up` (and `create`, `scale`) and `down` would change, found with the same
//! decisions they carry out (`decide::all`, `images::image_step`) and only read calls. Nothing is
//! created, started, stopped or removed.

use std::collections::HashMap;

use anyhow::Result;

use super::converge::{UpOptions, selection};
use super::down::DownOptions;
use super::images::{self, ImageStep};
use super::observe::{self, ObservedContainer};
use super::{Engine, decide, resources};
use crate::plan::{Plan, ServicePlan};

/// One change, as a line says it: the object, what would happen, and why (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub object: String,
    pub action: &'static str,
    pub why: Vec<String>,
}

fn change(object: String, action: &'static str) -> Change {
    Change {
        object,
        action,
        why: Vec::new(),
    }
}

/// What `up` of `selected` would do, in the order it would do it.
pub async fn up(
    engine: &Engine,
    plan: &Plan,
    selected: &[String],
    opts: &UpOptions,
) -> Result<Vec<Change>> {
    let chosen = selection(plan, selected, opts.with_deps);
    let services: Vec<&ServicePlan> = chosen.iter().filter_map(|s| plan.services.get(s)).collect();
    // Whatever `up` would refuse, the preview refuses too.
    resources::check_networks(engine, plan).await?;
    let mut out = Vec::new();
    let mut image_ids: HashMap<String, String> = HashMap::new();
    for svc in &services {
        if image_ids.contains_key(&svc.image) {
            continue;
        }
        let (present, state) = images::presence(engine, svc).await?;
        match images::image_step(svc, state, &opts.images)? {
            ImageStep::Build => out.push(change(format!("Image {}", svc.image), "build")),
            ImageStep::Pull => out.push(change(format!("Image {}", svc.image), "pull")),
            ImageStep::Keep => {}
        }
        image_ids.insert(svc.image.clone(), present.unwrap_or_default());
    }
    let networks = observe::networks(engine, &plan.project).await?;
    for net in plan.networks.iter().filter(|n| !n.external) {
        if !networks.iter().any(|n| n.name == net.name) {
            out.push(change(format!("Network {}", net.name), "create"));
        }
    }
    let volumes = observe::volumes(engine, &plan.project).await?;
    for vol in plan.volumes.iter().filter(|v| !v.external) {
        if !volumes.contains_key(&vol.name) {
            out.push(change(format!("Volume {}", vol.name), "create"));
        }
    }
    let (oneoffs, observed): (Vec<ObservedContainer>, Vec<ObservedContainer>) =
        observe::containers(engine, &plan.project, true)
            .await?
            .into_iter()
            .partition(|c| c.oneoff);
    if opts.remove_orphans {
        for c in observed.iter().filter(|c| !plan.defines(&c.service)) {
            let mut ch = change(format!("Container {}", c.name), "remove");
            ch.why
                .push("its service is no longer in the manifest".into());
            out.push(ch);
        }
        for c in oneoffs.iter().filter(|c| c.state.ended()) {
            let mut ch = change(format!("Container {}", c.name), "remove");
            ch.why.push("a one-off container that has ended".into());
            out.push(ch);
        }
    }
    let actions = decide::all(
        &plan.project,
        &services,
        &image_ids,
        &observed,
        &opts.recreate_rule(selected),
    );
    for svc in &services {
        let Some((a, _)) = actions.get(&svc.name) else {
            continue;
        };
        for c in &a.remove {
            let mut ch = change(format!("Container {}", c.name), "remove");
            ch.why
                .push(format!("{} runs {} replica(s)", svc.name, svc.replicas));
            out.push(ch);
        }
        for c in &a.recreate {
            let mut ch = change(format!("Container {}", c.name), "recreate");
            ch.why = a.why.get(&c.id).cloned().unwrap_or_default();
            out.push(ch);
        }
        for n in &a.create {
            out.push(change(
                format!("Container {}", svc.container_name(&plan.project, *n)),
                "create",
            ));
        }
        if opts.start {
            for c in a.keep.iter().filter(|c| !c.running()) {
                out.push(change(format!("Container {}", c.name), "start"));
            }
        }
    }
    Ok(out)
}

/// What `down` would stop and remove.
pub async fn down(engine: &Engine, plan: &Plan, opts: &DownOptions) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    for c in observe::containers(engine, &plan.project, true).await? {
        let orphan = !c.oneoff && !plan.defines(&c.service);
        if orphan && !opts.remove_orphans {
            continue;
        }
        if c.state.needs_stopping() {
            out.push(change(format!("Container {}", c.name), "stop"));
        }
        out.push(change(format!("Container {}", c.name), "remove"));
    }
    for net in observe::networks(engine, &plan.project).await? {
        out.push(change(format!("Network {}", net.name), "remove"));
    }
    if opts.volumes {
        let mut names: Vec<String> = observe::volumes(engine, &plan.project)
            .await?
            .into_keys()
            .collect();
        names.sort();
        for v in names {
            out.push(change(format!("Volume {v}"), "remove"));
        }
    }
    if let Some(rmi) = &opts.rmi {
        let images = super::down::images_to_remove(plan, rmi);
        for image in images {
            if images::image_id(engine, image).await?.is_some() {
                out.push(change(format!("Image {image}"), "remove"));
            }
        }
    }
    Ok(out)
}
