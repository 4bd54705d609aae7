//! Building a service's image with the daemon's BuildKit. Most builds go through the daemon's
//! `/build` endpoint, whose status stream gives a step-by-step view; a build that needs what only
//! a BuildKit session can lend (secrets, the ssh agent, named contexts) is solved over the
//! daemon's `/grpc` endpoint instead. The legacy builder is used only where the daemon has no
//! BuildKit, with a note saying so.

mod context;
pub(crate) mod progress;
mod session;

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use bollard::query_parameters::{BuildImageOptions, BuilderVersion, TagImageOptions};
use futures::StreamExt;

use super::{Engine, Event, Reporter, api_below, step};
use crate::plan::{BuildPlan, labels};

pub use context::pack_context;

/// What the command line adds to every build.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildFlags {
    pub no_cache: bool,
    pub pull: bool,
}

/// The first API version (Engine 23.0) whose built-in Dockerfile frontend has named contexts.
const NAMED_CONTEXTS_API: (u32, u32) = (1, 42);

/// Refusals that depend on the daemon, made before any build starts.
pub fn check_daemon(engine: &Engine, service: &str, build: &BuildPlan) -> Result<()> {
    if !build.contexts.is_empty() && api_below(&engine.api_version, NAMED_CONTEXTS_API) {
        let names: Vec<&str> = build.contexts.keys().map(String::as_str).collect();
        bail!(
            "service {service}: `additional_contexts` ({}) needs named build contexts, which the \
             built-in Dockerfile frontend of Docker Engine {} (API {}) does not have\n  = help: \
             upgrade the daemon to Engine 23 or newer, or replace the contexts with `COPY` from \
             the main context",
            names.join(", "),
            engine.server_version,
            engine.api_version
        );
    }
    if build.ssh_agent && std::env::var_os("SSH_AUTH_SOCK").is_none() {
        bail!(
            "service {service}: `build.ssh: [default]` forwards your ssh agent, but SSH_AUTH_SOCK is not set\n  = help: start an agent (`eval $(ssh-agent)`, then `ssh-add`) and run again"
        );
    }
    Ok(())
}

/// Builds `image` for `service`, then gives it the build's extra `tags`.
pub async fn build_image(
    engine: &Engine,
    project: &str,
    service: &str,
    image: &str,
    build: &BuildPlan,
    flags: BuildFlags,
    report: &Reporter,
) -> Result<()> {
    check_daemon(engine, service, build)?;
    let object = format!("Image {image}");
    step(report, &object, "Building", false);
    let (context, dockerfile, inline) = (
        build.context.clone(),
        build.dockerfile.clone(),
        build.dockerfile_inline.clone(),
    );
    // A remote context is fetched by the daemon: the request carries no files.
    let tar = match &build.remote {
        Some(_) => Vec::new(),
        None => {
            tokio::task::spawn_blocking(move || {
                pack_context(&context, &dockerfile, inline.as_deref())
            })
            .await??
        }
    };
    let mut image_labels: HashMap<String, String> = build.labels.clone().into_iter().collect();
    image_labels.insert(labels::PROJECT.into(), project.into());
    image_labels.insert(labels::SERVICE.into(), service.into());
    let mut args: HashMap<String, String> = build.args.clone().into_iter().collect();
    if build.inline_cache {
        args.insert("BUILDKIT_INLINE_CACHE".into(), "1".into());
    }
    let no_cache = flags.no_cache || build.no_cache;
    let pull = flags.pull || build.pull;
    let built = if build.needs_session() {
        if build.memory.is_some() {
            report(super::Event::Warning(format!(
                "{service}: -m is not applied, as this build needs BuildKit (secrets, ssh or named contexts), which takes no memory limit"
            )));
        }
        let contexts = session::named_contexts(engine, project, service, build, report).await?;
        session::solve(
            engine,
            image,
            build,
            session::Inputs {
                tar,
                labels: image_labels,
                args,
                contexts,
                no_cache,
                pull,
            },
        )
        .await
        .with_context(|| format!("building {image} for service {service}"))
    } else {
        let options = BuildImageOptions {
            dockerfile: build.dockerfile.clone(),
            t: Some(image.to_owned()),
            buildargs: Some(args),
            target: build.target.clone().unwrap_or_default(),
            labels: Some(image_labels),
            rm: true,
            forcerm: true,
            nocache: no_cache,
            pull: pull.then(|| "1".to_owned()),
            platform: build.platform.clone().unwrap_or_default(),
            cachefrom: (!build.cache_from.is_empty()).then(|| build.cache_from.clone()),
            networkmode: build.network.clone(),
            shmsize: build.shm_size.map(|s| s.min(i32::MAX as u64) as i32),
            memory: build.memory.map(|m| m.min(i32::MAX as u64) as i32),
            extrahosts: (!build.extra_hosts.is_empty()).then(|| build.extra_hosts.join(",")),
            remote: build.remote.clone(),
            ..Default::default()
        };
        // BuildKit takes no memory limit: `-m` asks for the legacy builder, which applies it.
        let buildkit = build.memory.is_none();
        if !buildkit {
            report(Event::Warning(format!(
                "{service}: -m builds with the daemon's legacy builder, the one that limits memory (no `RUN --mount`, no parallel stages)"
            )));
        }
        match run_build(
            engine,
            &object,
            image,
            options.clone(),
            tar.clone(),
            buildkit,
            report,
        )
        .await
        {
            Err(e) if no_buildkit(&e) => {
                report(Event::Warning(format!(
                    "the Docker daemon at {} has no BuildKit: building {image} with its legacy builder (no `RUN --mount`, no parallel stages)",
                    engine.address
                )));
                run_build(engine, &object, image, options, tar, false, report).await
            }
            other => other,
        }
    };
    if let Err(e) = built {
        let text = match &build.dockerfile_inline {
            Some(t) => t.clone(),
            None => {
                std::fs::read_to_string(build.context.join(&build.dockerfile)).unwrap_or_default()
            }
        };
        return Err(match syntax_directive(&text) {
            Some(frontend) => anyhow::anyhow!(
                "the Dockerfile's `# syntax={frontend}` line makes the daemon fetch that frontend image before building, and the build failed: {e:#}\n  = help: if the daemon cannot pull it (no registry reachable), remove the line: the daemon's built-in Dockerfile frontend is used then"
            ),
            None => e,
        });
    }
    for tag in &build.tags {
        let (repo, tag_part) = super::images::split_reference(tag);
        engine
            .docker
            .tag_image(
                image,
                Some(TagImageOptions {
                    repo: Some(repo),
                    tag: Some(tag_part),
                }),
            )
            .await
            .map_err(super::api_error)
            .with_context(|| format!("tagging {image} as {tag}"))?;
    }
    step(report, &object, "Built", true);
    Ok(())
}

/// The frontend image a Dockerfile's `# syntax=` directive names. Directives come before any
/// other line, comment or instruction.
pub fn syntax_directive(dockerfile: &str) -> Option<String> {
    for line in dockerfile.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let rest = line.strip_prefix('#')?.trim_start();
        let (key, value) = rest.split_once('=')?;
        if key.trim().eq_ignore_ascii_case("syntax") {
            return Some(value.trim().to_owned());
        }
    }
    None
}

fn no_buildkit(e: &anyhow::Error) -> bool {
    let text = format!("{e:#}").to_lowercase();
    text.contains("buildkit") && text.contains("not supported")
}

/// One `/build` call; `buildkit` picks BuildKit (with a session for credentials) or the legacy
/// builder, whose output is plain text lines.
async fn run_build(
    engine: &Engine,
    object: &str,
    image: &str,
    mut options: BuildImageOptions,
    tar: Vec<u8>,
    buildkit: bool,
    report: &Reporter,
) -> Result<()> {
    if buildkit {
        options.version = BuilderVersion::BuilderBuildKit;
        options.session = Some(String::from(bollard::grpc::BuildRef::random()));
    }
    let mut stream = engine.patient.build_image(
        options,
        super::auth::all_credentials(),
        Some(bollard::body_full(tar.into())),
    );
    let mut steps = progress::Steps::new(object, report);
    let mut last_lines: Vec<String> = Vec::new();
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(e) => {
                let detail = steps.failure().unwrap_or_else(|| last_lines.join("\n"));
                let e = super::api_error(e);
                if detail.is_empty() {
                    return Err(e).with_context(|| format!("building {image}"));
                }
                bail!("building {image} failed: {e:#}\n{detail}");
            }
        };
        if let Some(aux) = &info.aux {
            steps.feed(aux);
        }
        if let Some(text) = info.stream {
            for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
                report(Event::Detail {
                    object: object.to_owned(),
                    text: line.to_owned(),
                    transient: false,
                });
                last_lines.push(line.to_owned());
                if last_lines.len() > 10 {
                    last_lines.remove(0);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::engine::api_below;

    #[test]
    fn the_syntax_directive_is_read_only_before_other_lines() {
        use super::syntax_directive;
        assert_eq!(
            syntax_directive("# syntax=docker/dockerfile:1.7\nFROM x\n").as_deref(),
            Some("docker/dockerfile:1.7")
        );
        assert_eq!(
            syntax_directive("\n#  Syntax = docker/dockerfile:1\n# escape=`\nFROM x").as_deref(),
            Some("docker/dockerfile:1")
        );
        assert_eq!(
            syntax_directive("# escape=`\n# syntax=x\nFROM x").as_deref(),
            Some("x")
        );
        assert_eq!(
            syntax_directive("FROM x\n# syntax=docker/dockerfile:1\n"),
            None
        );
        assert_eq!(syntax_directive("# a comment\n# syntax=y\nFROM x"), None);
    }

    #[test]
    fn api_versions_compare_as_numbers() {
        assert!(api_below("1.41", (1, 42)));
        assert!(!api_below("1.42", (1, 42)));
        assert!(!api_below("1.51", (1, 42)));
        assert!(api_below("1.9", (1, 42)));
    }
}
