//! Making sure every service's image is present: built when it has `build:` (if missing or asked),
//! pulled otherwise according to the pull policy. Returns the image IDs the config hash needs.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, Result, bail};
use bollard::query_parameters::CreateImageOptions;
use futures::{StreamExt, TryStreamExt, stream};

use super::{ApiContext, Engine, Event, Reporter, build, is_not_found, step};
use crate::manifest::DeferredRefusals;
use crate::manifest::units::PullPolicy as ServicePull;
use crate::plan::ServicePlan;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Missing,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImageOptions {
    /// Images built or pulled at once; 0 means no limit.
    pub parallel: usize,
    pub force_build: bool,
    pub no_build: bool,
    pub pull: Option<PullPolicy>,
    pub no_cache: bool,
    pub build_pull: bool,
}

/// Image ID of `reference`, or None when the daemon does not have it.
pub async fn image_id(engine: &Engine, reference: &str) -> Result<Option<String>> {
    match engine.docker.inspect_image(reference).await {
        Ok(i) => Ok(i.id),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(super::api_error(e)).with_context(|| format!("inspecting image {reference}")),
    }
}

/// What `images` shows of an image.
#[derive(Debug, Clone, Default)]
pub struct ImageDetails {
    pub id: String,
    pub tags: Vec<String>,
    pub size: i64,
    /// `os/arch`, as compose writes a platform.
    pub platform: String,
    /// RFC 3339.
    pub created: Option<String>,
    pub last_tag_time: Option<String>,
}

/// The details of image `reference`, or None when the daemon does not have it.
pub async fn details(engine: &Engine, reference: &str) -> Result<Option<ImageDetails>> {
    let i = match engine.docker.inspect_image(reference).await {
        Ok(i) => i,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => {
            return Err(super::api_error(e))
                .with_context(|| format!("inspecting image {reference}"));
        }
    };
    let rfc = |t: Option<time::OffsetDateTime>| {
        t.filter(|t| t.year() > 1).and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
    };
    Ok(Some(ImageDetails {
        id: i.id.unwrap_or_default(),
        tags: i.repo_tags.unwrap_or_default(),
        size: i.size.unwrap_or(0),
        platform: format!(
            "{}/{}",
            i.os.unwrap_or_default(),
            i.architecture.unwrap_or_default()
        ),
        created: rfc(i.created),
        last_tag_time: rfc(i.metadata.and_then(|m| m.last_tag_time)),
    }))
}

/// Whether the image `id` carries a HEALTHCHECK that is switched on.
pub async fn has_healthcheck(engine: &Engine, id: &str) -> Result<bool> {
    let inspected = engine
        .docker
        .inspect_image(id)
        .await
        .map_err(super::api_error)
        .with_context(|| format!("inspecting image {id}"))?;
    let test = inspected
        .config
        .and_then(|c| c.healthcheck)
        .and_then(|h| h.test)
        .unwrap_or_default();
    Ok(test.first().is_some_and(|t| t != "NONE"))
}

/// The ID and size in bytes of `reference`, or None when the daemon does not have it.
pub async fn id_and_size(engine: &Engine, reference: &str) -> Result<Option<(String, i64)>> {
    match engine.docker.inspect_image(reference).await {
        Ok(i) => Ok(Some((i.id.unwrap_or_default(), i.size.unwrap_or(0)))),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(super::api_error(e)).with_context(|| format!("inspecting image {reference}")),
    }
}

/// Splits `repo[:tag][@digest]` the way the daemon's create-image call wants it.
pub fn split_reference(reference: &str) -> (String, String) {
    if let Some((repo, digest)) = reference.split_once('@') {
        return (repo.to_owned(), digest.to_owned());
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last_slash..].rfind(':') {
        Some(i) => (
            reference[..last_slash + i].to_owned(),
            reference[last_slash + i + 1..].to_owned(),
        ),
        None => (reference.to_owned(), "latest".to_owned()),
    }
}

/// The digest the registry gives `reference` now (the daemon asks it, with this user's login),
/// as `config --resolve-image-digests` pins images.
pub async fn registry_digest(engine: &Engine, reference: &str) -> Result<String> {
    let found = engine
        .docker
        .inspect_registry_image(reference, super::auth::credentials_for(reference))
        .await
        .map_err(|e| {
            registry_failure(
                "resolving the digest of",
                reference,
                &super::api_error(e).to_string(),
            )
        })?;
    Ok(found.descriptor.digest.unwrap_or_default())
}

/// A registry's refusal, with the way out when it is about logging in.
fn registry_failure(action: &str, reference: &str, message: &str) -> anyhow::Error {
    let lower = message.to_lowercase();
    let about_login = [
        "unauthorized",
        "authentication required",
        "no basic auth",
        "denied",
    ]
    .iter()
    .any(|w| lower.contains(w));
    if about_login {
        let registry = super::auth::registry_of(reference);
        let login = if registry.starts_with("https://") {
            "docker login".to_owned()
        } else {
            format!("docker login {registry}")
        };
        anyhow::anyhow!(
            "{action} {reference} failed: {message}\n  = help: log in with `{login}`: stackctl uses the credentials it stores"
        )
    } else if unreachable(&lower) {
        let registry = super::auth::registry_of(reference);
        let registry = if registry.contains("index.docker.io") {
            "Docker Hub".to_owned()
        } else {
            registry
        };
        anyhow::anyhow!(
            "{action} {reference} failed: the Docker daemon cannot reach the registry {registry} ({message})\n  = help: this machine may have no way to a container registry: build or `docker load` the image here, or name one in a registry it can reach; for stackctl's own stack, `images/offline/seed.sh` makes stand-ins once"
        )
    } else {
        anyhow::anyhow!("{action} {reference} failed: {message}")
    }
}

/// True when a registry failure says the registry could not be reached at all.
fn unreachable(lower: &str) -> bool {
    [
        "no such host",
        "server misbehaving",
        "i/o timeout",
        "network is unreachable",
        "connection refused",
        "tls handshake timeout",
        "no route to host",
        "temporary failure in name resolution",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Pushes `reference` (`repo[:tag]`) to its registry and returns the digest the registry gave it.
pub async fn push_image(engine: &Engine, reference: &str, report: &Reporter) -> Result<String> {
    let object = format!("Image {reference}");
    step(report, &object, "Pushing", false);
    let (repo, tag) = split_reference(reference);
    let mut push = engine.patient.push_image(
        &repo,
        Some(bollard::query_parameters::PushImageOptions {
            tag: Some(tag.clone()),
            ..Default::default()
        }),
        super::auth::credentials_for(reference),
    );
    while let Some(item) = push.next().await {
        let info = item.map_err(|e| registry_failure("pushing", reference, &e.to_string()))?;
        if let Some(msg) = info.error_detail.and_then(|d| d.message) {
            return Err(registry_failure("pushing", reference, &msg));
        }
    }
    let inspected = engine
        .docker
        .inspect_image(&format!("{repo}:{tag}"))
        .await
        .map_err(super::api_error)
        .with_context(|| format!("inspecting {reference}"))?;
    let digest = inspected
        .repo_digests
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.starts_with(&format!("{repo}@")))
        .with_context(|| format!("the registry gave no digest for {reference}"))?;
    step(report, &object, "Pushed", true);
    Ok(digest)
}

/// Pulls `reference`, for `platform` (`os/arch[/variant]`) when the service names one.
pub async fn pull_image(
    engine: &Engine,
    reference: &str,
    platform: Option<&str>,
    report: &Reporter,
) -> Result<()> {
    let object = format!("Image {reference}");
    step(report, &object, "Pulling", false);
    let (repo, tag) = split_reference(reference);
    let options = CreateImageOptions {
        from_image: Some(repo),
        tag: Some(tag),
        platform: platform.unwrap_or_default().to_owned(),
        ..Default::default()
    };
    let creds = super::auth::credentials_for(reference);
    let mut stream = engine.patient.create_image(Some(options), None, creds);
    let mut layers: BTreeMap<String, (i64, i64, String)> = BTreeMap::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| registry_failure("pulling", reference, &e.to_string()))?;
        if let Some(msg) = info.error_detail.and_then(|d| d.message) {
            return Err(registry_failure("pulling", reference, &msg));
        }
        let status = info.status.unwrap_or_default();
        if let Some(id) = info.id.filter(|id| id.len() == 12) {
            let (cur, tot) = info
                .progress_detail
                .map(|p| (p.current.unwrap_or(0), p.total.unwrap_or(0)))
                .unwrap_or((0, 0));
            let entry = layers.entry(id).or_default();
            if tot > 0 {
                *entry = (cur, tot, status.clone());
            } else {
                entry.2 = status.clone();
            }
            let done = layers
                .values()
                .filter(|(_, _, s)| s == "Pull complete" || s == "Already exists")
                .count();
            let (cur, tot): (i64, i64) =
                layers.values().fold((0, 0), |(c, t), l| (c + l.0, t + l.1));
            let text = if tot > 0 {
                format!(
                    "{done}/{} layers, {:.1}/{:.1} MB",
                    layers.len(),
                    cur as f64 / 1e6,
                    tot as f64 / 1e6
                )
            } else {
                format!("{done}/{} layers", layers.len())
            };
            report(Event::Detail {
                object: object.clone(),
                text,
                transient: true,
            });
        } else if !status.is_empty() {
            report(Event::Detail {
                object: object.clone(),
                text: status,
                transient: true,
            });
        }
    }
    step(report, &object, "Pulled", true);
    Ok(())
}

/// What a service's image needs before its containers can be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageStep {
    Build,
    Pull,
    Keep,
}

/// The pull policy that applies to `svc`: the flag's, else the service's own (a refreshing one
/// pulls when the copy here is `stale`).
pub fn pull_policy(svc: &ServicePlan, opts: &ImageOptions, stale: bool) -> PullPolicy {
    opts.pull.unwrap_or(match svc.pull_policy {
        ServicePull::Always => PullPolicy::Always,
        ServicePull::Never => PullPolicy::Never,
        ServicePull::Refresh(_) if stale => PullPolicy::Always,
        ServicePull::Refresh(_) | ServicePull::Missing | ServicePull::Build => PullPolicy::Missing,
    })
}

/// Decides, from the service, whether its image is `present` and the flags, what `ensure` does
/// (and `up --dry-run` says); an image that may be neither built nor pulled is an error.
pub fn image_step(svc: &ServicePlan, present: Present, opts: &ImageOptions) -> Result<ImageStep> {
    let policy = pull_policy(svc, opts, present == Present::Stale);
    let present = present != Present::Absent;
    if svc.build.is_some() {
        let must_build = opts.force_build || svc.pull_policy == ServicePull::Build || !present;
        if !must_build {
            return Ok(ImageStep::Keep);
        }
        if opts.no_build {
            bail!(
                "image {} for service {} is missing and --no-build was given; run `stackctl build {}`",
                svc.image,
                svc.name,
                svc.name
            );
        }
        return Ok(ImageStep::Build);
    }
    match (policy, present) {
        (PullPolicy::Always, _) | (PullPolicy::Missing, false) => Ok(ImageStep::Pull),
        (PullPolicy::Never, false) => bail!(
            "image {} for service {} is not present and the pull policy is `never`",
            svc.image,
            svc.name
        ),
        _ => Ok(ImageStep::Keep),
    }
}

/// Whether the daemon has a service's image, and for a refreshing pull policy (`daily`, …)
/// whether its copy is older than the policy allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Present {
    Absent,
    Fresh,
    Stale,
}

/// What the daemon has of `svc`'s image: its ID, and whether it is there and fresh enough.
pub async fn presence(engine: &Engine, svc: &ServicePlan) -> Result<(Option<String>, Present)> {
    let inspected = match engine.docker.inspect_image(&svc.image).await {
        Ok(i) => i,
        Err(e) if is_not_found(&e) => return Ok((None, Present::Absent)),
        Err(e) => {
            return Err(super::api_error(e))
                .with_context(|| format!("inspecting image {}", svc.image));
        }
    };
    let interval = match svc.pull_policy {
        ServicePull::Refresh(interval) => Some(interval),
        _ => None,
    };
    // The last time this daemon tagged it (a pull or a build), else when it was made.
    let stamp = inspected
        .metadata
        .as_ref()
        .and_then(|m| m.last_tag_time)
        .filter(|t| t.year() > 1)
        .or(inspected.created)
        .map(|t| t.unix_timestamp_nanos());
    let stale = match (interval, stamp) {
        (Some(interval), Some(at)) => {
            super::health::now_nanos() as i128 - at > interval.as_nanos() as i128
        }
        _ => false,
    };
    let state = if stale {
        Present::Stale
    } else {
        Present::Fresh
    };
    Ok((inspected.id, state))
}

/// Builds or pulls what `services` need and returns image reference → image ID.
pub async fn ensure(
    engine: &Engine,
    project: &str,
    services: &[&ServicePlan],
    opts: ImageOptions,
    report: &Reporter,
) -> Result<HashMap<String, String>> {
    let none = DeferredRefusals::default();
    ensure_refusing(engine, project, services, opts, &none, report).await
}

/// `ensure`, first raising the loader's refusals of building the services that turn out to need
/// a build: everything is inspected before anything is built or pulled.
pub async fn ensure_refusing<'a>(
    engine: &Engine,
    project: &str,
    services: &[&'a ServicePlan],
    opts: ImageOptions,
    refusals: &DeferredRefusals,
    report: &Reporter,
) -> Result<HashMap<String, String>> {
    // One job per distinct image; two services sharing an image must not build it twice.
    let mut jobs: BTreeMap<String, &ServicePlan> = BTreeMap::new();
    for s in services {
        let existing = jobs.get(&s.image);
        if existing.is_none() || (existing.is_some_and(|e| e.build.is_none()) && s.build.is_some())
        {
            jobs.insert(s.image.clone(), s);
        }
    }
    // An `image:` that one of these builds tags is that build's: decided once the build is done.
    let tagged: HashSet<String> = jobs
        .values()
        .filter_map(|s| s.build.as_ref())
        .flat_map(|b| b.tags.iter().cloned())
        .collect();
    let after_build = |svc: &ServicePlan| svc.build.is_none() && tagged.contains(&svc.image);
    // Read-only: what each image needs.
    let steps: Vec<(&ServicePlan, Option<String>, Option<ImageStep>)> =
        stream::iter(jobs.into_values().map(|svc| async move {
            if after_build(svc) {
                return Ok((svc, None, None));
            }
            let (id, present) = presence(engine, svc).await?;
            Ok::<_, anyhow::Error>((svc, id, Some(image_step(svc, present, &opts)?)))
        }))
        .buffer_unordered(16)
        .try_collect()
        .await?;
    // What cannot be built, here or by this daemon, is refused before any build or pull starts.
    let building: Vec<&ServicePlan> = steps
        .iter()
        .filter(|(_, _, step)| *step == Some(ImageStep::Build))
        .map(|(svc, _, _)| *svc)
        .collect();
    crate::manifest::problems_of(
        &refusals.unbuildable,
        building.iter().map(|s| s.name.as_str()),
    )?;
    for s in &building {
        if let Some(b) = &s.build {
            build::check_daemon(engine, &s.name, b)?;
        }
    }
    let mut results = HashMap::new();
    let mut work = Vec::new();
    for (svc, id, step) in steps {
        match (step, id) {
            (Some(ImageStep::Keep), Some(id)) => {
                results.insert(svc.image.clone(), id);
            }
            (step, _) => work.push((svc, step)),
        }
    }
    let step_of: HashMap<&str, Option<ImageStep>> = work
        .iter()
        .map(|(s, step)| (s.name.as_str(), *step))
        .collect();
    let one = |svc: &'a ServicePlan| {
        let decided = step_of[svc.name.as_str()];
        async move {
            let step = match decided {
                Some(step) => step,
                None => image_step(svc, presence(engine, svc).await?.1, &opts)?,
            };
            match step {
                ImageStep::Build => {
                    if let Some(b) = &svc.build {
                        let flags = build::BuildFlags {
                            no_cache: opts.no_cache,
                            pull: opts.build_pull,
                        };
                        build::build_image(
                            engine, project, &svc.name, &svc.image, b, flags, report,
                        )
                        .await?;
                    }
                }
                ImageStep::Pull => {
                    pull_image(engine, &svc.image, svc.platform.as_deref(), report).await?
                }
                ImageStep::Keep => {}
            }
            let id = image_id(engine, &svc.image).await?.with_context(|| {
                format!("image {} is still missing after build or pull", svc.image)
            })?;
            Ok::<_, anyhow::Error>((svc.image.clone(), id))
        }
    };
    // A build that reads another's image (`additional_contexts: service:`) waits for it.
    for level in build_order(work.iter().map(|(s, _)| *s).collect()) {
        let at_once = if opts.parallel == 0 {
            level.len().max(1)
        } else {
            opts.parallel
        };
        let done: Vec<(String, String)> = stream::iter(level.into_iter().map(&one))
            .buffer_unordered(at_once)
            .try_collect()
            .await?;
        results.extend(done);
    }
    Ok(results)
}

/// The jobs in levels: a job comes after the jobs whose images its build's named contexts read,
/// and a service that runs an image another service's build tags comes after that build.
fn build_order(jobs: Vec<&ServicePlan>) -> Vec<Vec<&ServicePlan>> {
    let mut left = jobs;
    let mut levels = Vec::new();
    while !left.is_empty() {
        let waits = |s: &ServicePlan| {
            let reads_built = s.build.as_ref().is_some_and(|b| {
                b.context_images()
                    .any(|img| img != s.image && left.iter().any(|o| o.image == img))
            });
            // An `image:` another service's build tags is that build's, not the registry's.
            let runs_built = s.build.is_none()
                && left
                    .iter()
                    .any(|o| o.build.as_ref().is_some_and(|b| b.tags.contains(&s.image)));
            reads_built || runs_built
        };
        let (ready, rest): (Vec<_>, Vec<_>) = left.iter().partition(|s| !waits(s));
        if ready.is_empty() {
            // A loop of contexts: the daemon will say which image is missing.
            levels.push(rest);
            break;
        }
        levels.push(ready);
        left = rest;
    }
    levels
}
/// Removes the project's images that a rebuild left without a tag (`watch --prune`, on by
/// default as in compose). One a container still uses stays; returns how many went.
pub async fn prune_dangling(engine: &Engine, project: &str) -> Result<usize> {
    let filters = std::collections::HashMap::from([
        ("dangling".to_owned(), vec!["true".to_owned()]),
        (
            "label".to_owned(),
            vec![format!("com.docker.compose.project={project}")],
        ),
    ]);
    let list = engine
        .docker
        .list_images(Some(bollard::query_parameters::ListImagesOptions {
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .api(|| "listing the project's untagged images".into())?;
    let mut removed = 0;
    for image in list {
        let gone = engine
            .docker
            .remove_image(
                &image.id,
                None::<bollard::query_parameters::RemoveImageOptions>,
                None,
            )
            .await;
        removed += usize::from(gone.is_ok());
    }
    Ok(removed)
}

#[cfg(test)]
mod tests;
