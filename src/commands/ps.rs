//! `ps`: the project's containers (or Swarm tasks) as compose lists them, filtered by service,
//! state and orphanhood, printed by `ui::ps` as a table, IDs, compose's JSON or a template.

use anyhow::Result;

use super::{Ctx, check_services};
use crate::cli::PsArgs;
use crate::engine::backend::Listing;
use crate::exit::UsageError;
use crate::ui;

pub fn ps(ctx: &Ctx, args: PsArgs) -> Result<()> {
    let loaded = ctx.load()?;
    check_services(&loaded.project, &args.services)?;
    let format = ui::ps::PsFormat::parse(&args.format, args.quiet)?;
    let mut states = args.status.clone();
    for filter in &args.filter {
        match filter.split_once('=') {
            Some(("status", state)) => states.push(state.to_owned()),
            _ => {
                return Err(UsageError::new(format!("invalid filter `{filter}`"))
                    .hint("ps filters by `status=STATE`, as compose does")
                    .into());
            }
        }
    }
    const STATES: &[&str] = &[
        "paused",
        "restarting",
        "removing",
        "running",
        "dead",
        "created",
        "exited",
    ];
    if let Some(bad) = states.iter().find(|s| !STATES.contains(&s.as_str())) {
        return Err(UsageError::new(format!("invalid status `{bad}`"))
            .hint(format!("one of {}", STATES.join(", ")))
            .into());
    }
    let project = &loaded.project;
    let name = &project.name;
    let all = args.all || !states.is_empty();
    // Only an inspect tells restart counts and OOM kills: asked only where the output shows them
    // and they can be other than nothing (a container that ended, or whose service restarts).
    let shown = format.needs_inspects() && !args.services_only;
    let plan = crate::plan::build(project, &Default::default());
    let inspect = |c: &crate::engine::observe::ObservedContainer| {
        let restarts = plan.services.get(&c.service).map(|s| &s.restart);
        shown
            && (c.state.ended()
                || !matches!(restarts, Some(None | Some(crate::manifest::Restart::No))))
    };
    let listing = ctx.block_on(async { ctx.backend().await?.ps(name, all, &inspect).await })?;
    let wanted = |service: &str| {
        (args.services.is_empty() || args.services.iter().any(|s| s == service))
            && (args.orphans
                || project.services.contains_key(service)
                || project.disabled_services.contains_key(service))
    };
    let text = match listing {
        Listing::Containers(mut list) => {
            list.retain(|c| wanted(&c.service));
            list.retain(|c| states.is_empty() || states.iter().any(|s| s == c.state.as_str()));
            if args.services_only {
                let mut names: Vec<&str> = list.iter().map(|c| c.service.as_str()).collect();
                names.dedup();
                names.iter().map(|n| format!("{n}\n")).collect()
            } else {
                ui::ps::containers(&list, name, &format, args.no_trunc)?
            }
        }
        Listing::Tasks(mut tasks) => {
            tasks.retain(|t| wanted(&t.service));
            let json = matches!(format, ui::ps::PsFormat::Json);
            ui::ps::swarm_tasks(&tasks, args.quiet, json)?
        }
    };
    ui::out(text)?;
    Ok(())
}
