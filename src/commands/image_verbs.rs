//! The image verbs: `build`, `pull` and `push`, with compose's flags.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::cli::{BuildArgs, PullArgs, PushArgs};
use crate::engine::converge::selection;
use crate::engine::images::{self, ImageOptions, PullPolicy};
use crate::exit::UsageError;
use crate::plan;
use crate::ui;

use super::Ctx;
use super::engine_cmds::{check_services, interruptible};

pub fn build(ctx: &Ctx, args: BuildArgs) -> Result<()> {
    let agent = args.ssh.as_deref() == Some("default");
    super::note_unhonoured(&[
        (args.ssh.is_some() && !agent, "--ssh ID=PATH"),
        (args.builder.is_some(), "--builder"),
        (args.check, "--check"),
    ]);
    let memory = args
        .memory
        .as_deref()
        .map(crate::manifest::units::parse_bytes)
        .transpose()
        .map_err(|why| {
            UsageError::new(format!("-m/--memory: {why}"))
                .hint("give bytes with a unit, e.g. -m 512m")
        })?;
    refuse_attestations(&[("--provenance", &args.provenance), ("--sbom", &args.sbom)])?;
    let loaded = ctx.load()?;
    check_services(&loaded.project, &args.services)?;
    let mut plan = plan::build(&loaded.project, &BTreeMap::new());
    let overrides = build_arg_overrides(&args.build_arg, &loaded.variables);
    for build in plan.services.values_mut().filter_map(|s| s.build.as_mut()) {
        build.args.extend(overrides.clone());
        build.ssh_agent |= agent;
        build.memory = memory;
    }
    let selected = selection(&plan, &args.services, args.with_dependencies);
    let services: Vec<_> = plan
        .services
        .values()
        .filter(|s| s.build.is_some() && selected.contains(&s.name))
        .collect();
    if args.print {
        let asked = super::bake::Asked {
            pull: args.pull,
            no_cache: args.no_cache,
            push: args.push,
            ssh: args.ssh.clone(),
            check: args.check,
        };
        let wanted = services.iter().map(|s| s.name.clone()).collect();
        let definition = super::bake::definition(&loaded.project, &plan, &wanted, &asked);
        crate::ui::out(format!("{}\n", serde_json::to_string_pretty(&definition)?))?;
        return Ok(());
    }
    loaded.refuse_unbuildable(services.iter().map(|s| s.name.as_str()))?;
    let pushed = services
        .iter()
        .filter(|s| args.push && loaded.project.services[&s.name].image.is_some());
    let mut previewed = super::changes(
        services.iter().map(|s| format!("Image {}", s.image)),
        "build",
    );
    previewed.extend(super::changes(
        pushed.map(|s| format!("Image {}", s.image)),
        "push",
    ));
    if super::dry_run(ctx, &previewed)? {
        return Ok(());
    }
    let report = ctx.reporter_unless(args.quiet);
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        let opts = ImageOptions {
            parallel: ctx.parallel(),
            force_build: true,
            no_build: false,
            pull: Some(PullPolicy::Never),
            no_cache: args.no_cache,
            build_pull: args.pull,
        };
        interruptible(
            &engine,
            images::ensure(&engine, &plan.project, &services, opts, &report),
        )
        .await?;
        // --push: the images that name their repository (`image:`), as `push` chooses them.
        let named = services
            .iter()
            .filter(|s| args.push && loaded.project.services[&s.name].image.is_some());
        for svc in named {
            interruptible(&engine, images::push_image(&engine, &svc.image, &report)).await?;
        }
        Ok(())
    })
}

/// Attestations (`--provenance`, `--sbom`) are written by a BuildKit exporter the Engine's own
/// builder does not have: asked for, they are refused rather than silently left out (compose
/// refuses them with that builder too). `false` asks for none.
fn refuse_attestations(flags: &[(&str, &Option<String>)]) -> Result<()> {
    for (flag, value) in flags {
        let Some(value) = value else { continue };
        if matches!(value.to_ascii_lowercase().as_str(), "false" | "0") {
            continue;
        }
        return Err(UsageError::new(format!(
            "{flag}={value} asks for build attestations, which the Engine's own builder cannot attach"
        ))
        .hint(format!(
            "build with buildx's docker-container driver for attestations, or drop {flag}"
        ))
        .into());
    }
    Ok(())
}

/// `--build-arg KEY=VALUE` over every built service's own; a bare `KEY` takes the value the
/// project's variables (the shell, then `.env`) give it, and is left out when none does.
fn build_arg_overrides(
    given: &[String],
    variables: &std::collections::HashMap<String, String>,
) -> BTreeMap<String, String> {
    given
        .iter()
        .filter_map(|a| match a.split_once('=') {
            Some((k, v)) => Some((k.to_owned(), v.to_owned())),
            None => variables.get(a).map(|v| (a.clone(), v.clone())),
        })
        .collect()
}

pub fn pull(ctx: &Ctx, args: PullArgs) -> Result<()> {
    let loaded = ctx.load()?;
    check_services(&loaded.project, &args.services)?;
    let plan = plan::build(&loaded.project, &BTreeMap::new());
    let selected = selection(&plan, &args.services, args.include_deps);
    let mut refs: Vec<&str> = plan
        .services
        .values()
        .filter(|s| s.build.is_none() && selected.contains(&s.name))
        .map(|s| s.image.as_str())
        .collect();
    refs.sort();
    refs.dedup();
    if super::dry_run(
        ctx,
        &super::changes(refs.iter().map(|r| format!("Image {r}")), "pull"),
    )? {
        return Ok(());
    }
    let report = ctx.reporter_unless(args.quiet);
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        let platform_of = |r: &str| {
            plan.services
                .values()
                .find(|s| s.image == r)
                .and_then(|s| s.platform.as_deref())
        };
        let missing_only = args.missing || args.policy.as_deref() == Some("missing");
        interruptible(&engine, async {
            for r in refs {
                if missing_only && images::image_id(&engine, r).await?.is_some() {
                    continue;
                }
                match images::pull_image(&engine, r, platform_of(r), &report).await {
                    Err(e) if args.ignore_pull_failures => {
                        report(crate::engine::Event::Warning(format!("{e:#}")));
                    }
                    other => other?,
                }
            }
            Ok(())
        })
        .await
    })
}

/// Pushes what `build` made, for services that name their image (compose's rule: a service without
/// `build:` pulls its image, and one without `image:` has no repository to push to).
pub fn push(ctx: &Ctx, args: PushArgs) -> Result<()> {
    let loaded = ctx.load()?;
    let project = &loaded.project;
    check_services(project, &args.services)?;
    let plan = plan::build(project, &BTreeMap::new());
    let selected = selection(&plan, &args.services, args.include_deps);
    let named: Vec<String> = project
        .services
        .iter()
        .filter(|(name, s)| s.build.is_some() && s.image.is_some() && selected.contains(name))
        .map(|(_, s)| s.image.clone().unwrap_or_default())
        .collect();
    if named.is_empty() {
        return Err(UsageError::new("no service here has both `build:` and `image:`")
            .hint("give the built service an `image:` naming its repository, e.g. image: registry.example.com/team/app:1.0")
            .into());
    }
    if super::dry_run(
        ctx,
        &super::changes(named.iter().map(|i| format!("Image {i}")), "push"),
    )? {
        return Ok(());
    }
    let report = ctx.reporter_unless(args.quiet);
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        let mut failed = Vec::new();
        for image in &named {
            if images::image_id(&engine, image).await?.is_none() {
                return Err(UsageError::new(format!("image {image} has not been built"))
                    .hint("run `stackctl build` first")
                    .into());
            }
            match images::push_image(&engine, image, &report).await {
                Ok(_) => {}
                Err(e) if args.ignore_push_failures => {
                    ui::note(format!("warning: {e:#}"));
                    failed.push(image.clone());
                }
                Err(e) => return Err(e),
            }
        }
        if !failed.is_empty() {
            anyhow::bail!(
                "{} image(s) not pushed: {}",
                failed.len(),
                failed.join(", ")
            );
        }
        Ok(())
    })
}

#[cfg(test)]
#[test]
fn build_args_given_override_and_a_bare_name_takes_the_projects_value() {
    let vars = std::collections::HashMap::from([("FROM_ENV".to_owned(), "e".to_owned())]);
    let given = ["A=1", "B=x=y", "FROM_ENV", "UNSET", "EMPTY="].map(String::from);
    let got = build_arg_overrides(&given, &vars);
    let want: BTreeMap<String, String> =
        [("A", "1"), ("B", "x=y"), ("FROM_ENV", "e"), ("EMPTY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    assert_eq!(got, want);
}
