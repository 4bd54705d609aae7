//! A planned mount as the Engine API wants it, with its per-kind options (for containers and
//! Swarm tasks alike), and the anonymous volumes a replacement container takes over.

use anyhow::Result;
use bollard::models::{
    ContainerCreateBody, Mount, MountBindOptions, MountImageOptions, MountTmpfsOptions, MountType,
    MountVolumeOptions,
};

use super::observe::{ObservedContainer, SeenMount};
use super::{ApiContext, Engine};
use crate::manifest::MountKind;
use crate::plan::MountPlan;

pub fn to_mount(m: &MountPlan) -> Mount {
    Mount {
        target: Some(m.target.clone()),
        source: m.source.clone(),
        typ: Some(match m.kind {
            MountKind::Volume => MountType::VOLUME,
            MountKind::Bind => MountType::BIND,
            MountKind::Tmpfs => MountType::TMPFS,
            MountKind::Image => MountType::IMAGE,
        }),
        // The engine mounts an image read-only in any case; the request says so.
        read_only: Some(m.read_only || m.kind == MountKind::Image),
        volume_options: m.volume.as_ref().map(|v| MountVolumeOptions {
            no_copy: Some(v.nocopy),
            subpath: v.subpath.clone(),
            ..Default::default()
        }),
        bind_options: m.bind.as_ref().map(|b| MountBindOptions {
            propagation: b.propagation.as_deref().and_then(|p| p.parse().ok()),
            // Engines before 23 (API 1.42) ignore this and refuse a missing source instead.
            create_mountpoint: b.create_host_path,
            ..Default::default()
        }),
        tmpfs_options: m.tmpfs.as_ref().map(|t| MountTmpfsOptions {
            size_bytes: t.size.map(|s| s.min(i64::MAX as u64) as i64),
            mode: t.mode.map(i64::from),
            ..Default::default()
        }),
        image_options: m.image.as_ref().map(|i| MountImageOptions {
            subpath: i.subpath.clone(),
        }),
        ..Default::default()
    }
}

/// A bind mount as a `Binds` entry, `SOURCE:TARGET:OPTIONS`: the form that can ask the engine to
/// relabel the source for SELinux. The engine creates a missing source folder for this form.
pub fn to_bind(m: &MountPlan) -> String {
    let mut opts = vec![if m.read_only { "ro" } else { "rw" }.to_owned()];
    if let Some(b) = &m.bind {
        opts.extend(b.selinux.clone());
        opts.extend(b.propagation.clone());
    }
    format!(
        "{}:{}:{}",
        m.source.as_deref().unwrap_or_default(),
        m.target,
        opts.join(",")
    )
}

/// Points a replacement's anonymous volumes at the ones the container it replaces had, as compose
/// does: their data outlives a recreate, and only `up -V` or `down -v` starts them afresh. Both
/// kinds are taken over: the manifest's volumes without a source, and the image's own `VOLUME`s
/// that nothing else is mounted on (the image is inspected only when the old container had one).
pub async fn inherit_anonymous(
    engine: &Engine,
    body: &mut ContainerCreateBody,
    old: &ObservedContainer,
) -> Result<()> {
    let host = body.host_config.get_or_insert_with(Default::default);
    let mut left: Vec<&SeenMount> = Vec::new();
    for seen in old.mounts.iter().filter(|m| m.anonymous()) {
        let mounts = host.mounts.get_or_insert_with(Vec::new);
        let here = mounts.iter_mut().find(|m| {
            m.target
                .as_deref()
                .is_some_and(|t| same_path(t, &seen.destination))
        });
        match here {
            Some(m)
                if m.typ == Some(MountType::VOLUME)
                    && m.source.as_deref().unwrap_or("").is_empty() =>
            {
                m.source = Some(seen.name.clone());
            }
            // Something named is mounted there now: the manifest chose it over the old data.
            Some(_) => {}
            None => left.push(seen),
        }
    }
    let bound = |dest: &str| {
        let binds = host.binds.iter().flatten();
        binds
            .filter_map(|b| b.split(':').nth(1))
            .chain(host.tmpfs.iter().flat_map(|t| t.keys().map(String::as_str)))
            .any(|t| same_path(t, dest))
    };
    left.retain(|seen| !bound(&seen.destination));
    let Some(image) = body.image.as_deref().filter(|_| !left.is_empty()) else {
        return Ok(());
    };
    let declared = engine
        .docker
        .inspect_image(image)
        .await
        .api(|| format!("inspecting image {image}"))?
        .config
        .and_then(|c| c.volumes)
        .unwrap_or_default();
    let mounts = host.mounts.get_or_insert_with(Vec::new);
    for seen in left {
        if declared.iter().any(|d| same_path(d, &seen.destination)) {
            mounts.push(Mount {
                target: Some(seen.destination.clone()),
                source: Some(seen.name.clone()),
                typ: Some(MountType::VOLUME),
                ..Default::default()
            });
        }
    }
    Ok(())
}

/// Container paths as the engine compares them: `/data/` and `/data` are one place.
fn same_path(a: &str, b: &str) -> bool {
    let trim = |p: &str| p.trim_end_matches('/').to_owned();
    trim(a) == trim(b)
}
