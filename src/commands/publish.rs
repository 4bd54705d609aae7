//! `publish REPOSITORY[:TAG]`: the project's Compose files pushed to a registry as an OCI artifact
//! (see `engine::registry`), refused first when they would not work anywhere but here.

use anyhow::Result;

use super::Ctx;
use crate::cli::PublishArgs;
use crate::engine::registry::{self, Layer, OciVersion, Reference};
use crate::exit::UsageError;
use crate::ui;

pub fn run(ctx: &Ctx, args: PublishArgs) -> Result<()> {
    super::note_unhonoured(&[(args.app, "--app")]);
    let to = Reference::parse(&args.repository)?;
    let oci = args
        .oci_version
        .as_deref()
        .map(OciVersion::parse)
        .transpose()?;
    let loaded = ctx.load()?;
    let project = &loaded.project;
    // What lives in files next to the manifest does not travel with it; environment values
    // (often secrets) travel only when asked for.
    for (name, svc) in &project.services {
        if !args.with_env && (!svc.environment.is_empty() || !svc.env_file.is_empty()) {
            return Err(UsageError::new(format!(
                "service \"{name}\" has environment variable(s) declared, which the artifact would carry to whoever pulls it"
            ))
            .hint("publish with --with-env to send them, or move sensitive values out of the Compose file")
            .into());
        }
        if svc.build.is_some() && svc.image.is_none() {
            return Err(UsageError::new(format!(
                "service {name} is built here and names no image: whoever deploys the artifact has nothing to run"
            ))
            .hint(format!("give {name} an `image:` that you push (`stackctl push`), then publish"))
            .into());
        }
        let bind = svc
            .volumes
            .iter()
            .find(|v| v.kind == crate::manifest::MountKind::Bind);
        if let Some(bind) = bind {
            return Err(UsageError::new(format!(
                "service {name} mounts {} from this machine, which the artifact cannot carry",
                bind.source.as_deref().unwrap_or_default()
            ))
            .hint("use a named volume, or a config with `content:`, and publish again")
            .into());
        }
    }
    let mut layers = Vec::new();
    for file in &project.config_files {
        let content =
            std::fs::read(file).map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "compose.yaml".into());
        layers.push(Layer { file_name, content });
    }
    // --resolve-image-digests: an override layer that pins each image, as compose adds one.
    if args.resolve_image_digests {
        layers.push(Layer {
            file_name: "image-digests.yaml".into(),
            content: super::config::digests_override(ctx, project)?.into_bytes(),
        });
    }
    if ctx.global.dry_run {
        ui::out(format!(
            "would publish {} file(s) to {}/{}:{}\n",
            layers.len(),
            to.registry,
            to.repository,
            to.tag
        ))?;
        return Ok(());
    }
    let digest = registry::push(&to, &layers, env!("CARGO_PKG_VERSION"), oci)?;
    ui::out(format!(
        "published {}/{}:{}@{digest}\n",
        to.registry, to.repository, to.tag
    ))?;
    Ok(())
}
