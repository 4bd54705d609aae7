//! A planned mount as the Engine API wants it, with its per-kind options (for containers and
//! Swarm tasks alike).

use bollard::models::{
    Mount, MountBindOptions, MountImageOptions, MountTmpfsOptions, MountType, MountVolumeOptions,
};

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
