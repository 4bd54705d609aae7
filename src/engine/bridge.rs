//! Transformation images, compose's `bridge`: finding them by their label, running one over a
//! project's model, and reading the templates one carries. The containers made here are this
//! command's own, found by the ID their creation returned, and removed before it returns.

use anyhow::Result;
use bollard::models::{ContainerCreateBody, HostConfig, ImageSummary};
use bollard::query_parameters::{
    CreateContainerOptions, ListImagesOptions, RemoveContainerOptions,
};
use futures::{StreamExt, TryStreamExt};

use super::ops::{self, Output};
use super::{ApiContext, Engine, Reporter, is_not_found};

/// The label (value `transformation`) that makes an image a transformation.
pub const LABEL: &str = "com.docker.compose.bridge";
/// What compose runs when no transformation is named: Kubernetes manifests and a Helm chart.
pub const DEFAULT_TRANSFORMATION: &str = "docker/compose-bridge-kubernetes";
/// Where a transformation image keeps the templates it renders.
const TEMPLATES: &str = "/templates";

/// A transformation image as the daemon's image list describes it.
#[derive(Debug, Clone, Default)]
pub struct TransformationImage {
    pub id: String,
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// Seconds since the epoch.
    pub created: i64,
    pub size: i64,
    pub shared_size: i64,
    pub labels: std::collections::HashMap<String, String>,
    pub containers: i64,
    /// Newer engines' descriptor and per-platform manifests, as they sent them.
    pub descriptor: Option<serde_json::Value>,
    pub manifests: Option<serde_json::Value>,
}

/// The transformation images this daemon has.
pub async fn list(engine: &Engine) -> Result<Vec<TransformationImage>> {
    let filters = [("label".to_owned(), vec![format!("{LABEL}=transformation")])];
    let images: Vec<ImageSummary> = engine
        .docker
        .list_images(Some(ListImagesOptions {
            filters: Some(filters.into_iter().collect()),
            ..Default::default()
        }))
        .await
        .api(|| "listing transformation images".into())?;
    Ok(images
        .into_iter()
        .map(|i| TransformationImage {
            descriptor: i.descriptor.and_then(|d| serde_json::to_value(d).ok()),
            manifests: i.manifests.and_then(|m| serde_json::to_value(m).ok()),
            id: i.id,
            parent_id: i.parent_id,
            repo_tags: i.repo_tags,
            repo_digests: i.repo_digests,
            created: i.created,
            size: i.size,
            shared_size: i.shared_size,
            labels: i.labels,
            containers: i.containers,
        })
        .collect())
}

/// The container ports image `reference` declares (`80/tcp`), or None when the daemon lacks it.
pub async fn exposed_ports(engine: &Engine, reference: &str) -> Result<Option<Vec<String>>> {
    match engine.docker.inspect_image(reference).await {
        Ok(image) => Ok(Some(
            image
                .config
                .and_then(|c| c.exposed_ports)
                .unwrap_or_default(),
        )),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e).api(|| format!("inspecting image {reference}")),
    }
}

/// Pulls `reference` unless the daemon has it.
pub async fn ensure_image(engine: &Engine, reference: &str, report: &Reporter) -> Result<()> {
    if super::images::image_id(engine, reference).await?.is_none() {
        super::images::pull_image(engine, reference, None, report).await?;
    }
    Ok(())
}

/// Runs transformation `image` as user `user` with `binds` (`HOST:CONTAINER`), handing what it
/// prints to `output` as it comes; returns its exit code.
pub async fn run(
    engine: &Engine,
    image: &str,
    binds: Vec<String>,
    user: String,
    output: &mut (dyn FnMut(Output) + Send),
) -> Result<i64> {
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        user: Some(user),
        env: Some(vec!["LICENSE_AGREEMENT=true".to_owned()]),
        host_config: Some(HostConfig {
            binds: Some(binds),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = create(engine, image, body).await?;
    let ran = async {
        let mut session = ops::attach(engine, &id, false, true, None).await?;
        engine
            .docker
            .start_container(&id, None)
            .await
            .api(|| format!("starting transformation {image}"))?;
        while let Some(chunk) = session.output.next().await {
            output(chunk?);
        }
        ops::wait_exit(engine, &id).await
    }
    .await;
    remove(engine, &id).await;
    ran
}

/// The templates folder of `image` as a tar stream's bytes (entries under `templates/`).
pub async fn templates(engine: &Engine, image: &str) -> Result<Vec<u8>> {
    let id = create(
        engine,
        image,
        ContainerCreateBody {
            image: Some(image.to_owned()),
            ..Default::default()
        },
    )
    .await?;
    let read = super::archive::download(engine, &id, TEMPLATES)
        .map_ok(|b| b.to_vec())
        .try_concat()
        .await
        .map_err(|e| anyhow::anyhow!("reading {TEMPLATES} from {image}: {e}"));
    remove(engine, &id).await;
    read
}

async fn create(engine: &Engine, image: &str, body: ContainerCreateBody) -> Result<String> {
    Ok(engine
        .docker
        .create_container(None::<CreateContainerOptions>, body)
        .await
        .api(|| format!("creating a container of {image}"))?
        .id)
}

/// Removes a container made here; a failure leaves it behind, which is not worth failing for.
async fn remove(engine: &Engine, id: &str) {
    let opts = RemoveContainerOptions {
        force: true,
        ..Default::default()
    };
    let _ = engine.docker.remove_container(id, Some(opts)).await;
}
