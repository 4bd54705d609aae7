//! Builds that need a BuildKit session of their own: secrets for `RUN --mount=type=secret`, the
//! user's ssh agent for `RUN --mount=type=ssh`, and named contexts. bollard solves these over the
//! daemon's `/grpc` endpoint and serves the secrets and the agent from this process; the
//! daemon's status stream is not reachable that way, so such a build reports only its start and
//! its end.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow};
use bollard::grpc::build::{
    ImageBuildFrontendOptions, ImageBuildHostIp, ImageBuildLoadInput, ImageBuildNetworkMode,
    ImageBuildPlatform, NamedContext as KitContext, SecretSource as KitSecret,
};
use bollard::grpc::driver::Build as _;
use bollard::grpc::driver::moby::Moby;
use bollard::query_parameters::BuildImageOptions;

use crate::engine::{Engine, Reporter};
use crate::plan::{BuildPlan, NamedContext, SecretSource, labels};

/// What the caller has already made of the build section.
pub struct Inputs {
    pub tar: Vec<u8>,
    pub labels: HashMap<String, String>,
    pub args: HashMap<String, String>,
    /// Name → `docker-image://REF`.
    pub contexts: HashMap<String, String>,
    pub no_cache: bool,
    pub pull: bool,
}

/// The build's named contexts as image references. A folder becomes a small image of its own
/// (`FROM scratch`, `COPY . /`), labelled as the project's, because the daemon's frontend reads
/// named contexts from images without a file-sync session.
pub async fn named_contexts(
    engine: &Engine,
    project: &str,
    service: &str,
    build: &BuildPlan,
    report: &Reporter,
) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for (name, ctx) in &build.contexts {
        let image = match ctx {
            NamedContext::Service { image, .. } | NamedContext::Image(image) => image.clone(),
            NamedContext::Folder(dir) => {
                let image = format!("{project}-{service}-context-{}", sanitize(name));
                let dir = dir.clone();
                let tar = tokio::task::spawn_blocking(move || {
                    super::pack_context(
                        &dir,
                        ".stackctl-context.Dockerfile",
                        Some("FROM scratch\nCOPY . /\n"),
                    )
                })
                .await??;
                let options = BuildImageOptions {
                    dockerfile: ".stackctl-context.Dockerfile".into(),
                    t: Some(image.clone()),
                    labels: Some(HashMap::from([
                        (labels::PROJECT.to_owned(), project.to_owned()),
                        (labels::SERVICE.to_owned(), service.to_owned()),
                    ])),
                    rm: true,
                    forcerm: true,
                    ..Default::default()
                };
                super::run_build(
                    engine,
                    &format!("Image {image}"),
                    &image,
                    options,
                    tar,
                    true,
                    report,
                )
                .await
                .with_context(|| format!("packing context `{name}` of service {service}"))?;
                image
            }
        };
        out.insert(name.clone(), format!("docker-image://{image}"));
    }
    Ok(out)
}

/// Image names are lowercase letters, digits and separators.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Solves the build and has the daemon store the result as `image`.
pub async fn solve(engine: &Engine, image: &str, build: &BuildPlan, inputs: Inputs) -> Result<()> {
    let mut opts = ImageBuildFrontendOptions::builder()
        .dockerfile(std::path::Path::new(&build.dockerfile))
        .nocache(inputs.no_cache)
        .pull(inputs.pull);
    if let Some(t) = &build.target {
        opts = opts.target(t);
    }
    for (k, v) in &inputs.args {
        opts = opts.buildarg(k, v);
    }
    for (k, v) in &inputs.labels {
        opts = opts.label(k, v);
    }
    if let Some(p) = &build.platform {
        opts = opts.platforms(&platform(p)?);
    }
    match build.network.as_deref() {
        Some("host") => opts = opts.force_network_mode(&ImageBuildNetworkMode::Host),
        Some("none") => opts = opts.force_network_mode(&ImageBuildNetworkMode::None),
        _ => {}
    }
    for h in &build.extra_hosts {
        let (host, ip) = h
            .split_once(':')
            .ok_or_else(|| anyhow!("extra host `{h}` is not HOST:IP"))?;
        let ip = ip
            .trim_matches(['[', ']'])
            .parse()
            .map_err(|_| anyhow!("extra host `{h}`: `{ip}` is not an IP address"))?;
        opts = opts.extrahost(&ImageBuildHostIp {
            host: host.to_owned(),
            ip,
        });
    }
    if let Some(s) = build.shm_size {
        opts = opts.shmsize(s);
    }
    for s in &build.secrets {
        let source = match &s.source {
            SecretSource::File(p) => KitSecret::File(p.clone()),
            SecretSource::Env(v) => {
                if std::env::var_os(v).is_none() {
                    anyhow::bail!(
                        "build secret `{}` comes from the environment variable {v}, which is not set\n  = help: export {v} before building",
                        s.id
                    );
                }
                KitSecret::Env(v.clone())
            }
        };
        opts = opts.set_secret(&s.id, &source);
    }
    if build.ssh_agent {
        opts = opts.enable_ssh(true);
    }
    for (name, path) in &inputs.contexts {
        opts = opts.named_context(name, KitContext { path: path.clone() });
    }
    let credentials = crate::engine::auth::all_credentials();
    let credentials = credentials
        .as_ref()
        .map(|c| c.iter().map(|(k, v)| (k.as_str(), v.clone())).collect());
    Moby::new(&engine.patient)
        .docker_build(
            image,
            opts.build(),
            ImageBuildLoadInput::Upload(inputs.tar.into()),
            credentials,
            None,
        )
        .await
        .map_err(|e| anyhow!("{e}"))
}

/// `os/arch[/variant]`.
fn platform(p: &str) -> Result<ImageBuildPlatform> {
    let mut parts = p.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(os), Some(arch), variant) if !os.is_empty() && !arch.is_empty() => {
            Ok(ImageBuildPlatform {
                os: os.to_owned(),
                architecture: arch.to_owned(),
                variant: variant.map(str::to_owned),
            })
        }
        _ => Err(anyhow!("platform `{p}` is not OS/ARCH[/VARIANT]")),
    }
}
