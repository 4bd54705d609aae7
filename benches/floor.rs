//! The engine's floor: the same create/start and stop/remove calls stackctl makes for the benchmark
//! stack, straight through bollard with no manifest, planning or progress, in dependency order with
//! full parallelism inside a level. `benches/run.py` times it beside stackctl and the compose peers;
//! `benches/scale.py` gives it N, for its generated projects (a tenth of the services hubs, each
//! other service depending on one), whose down stops each hub once its own dependents are gone.
//!
//! Usage: floor up|down PROJECT [N] | scale-up|scale-down PROJECT N

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, NetworkCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptions, RemoveContainerOptions, StopContainerOptions,
};
use futures::future::try_join_all;

const IMAGE: &str = "debian:bookworm-slim";
/// The benchmark stack: (service, replicas), level by level.
const LEVELS: &[&[(&str, u32)]] = &[&[("db", 3), ("cache", 3)], &[("app", 3)], &[("proxy", 3)]];

/// The stack to bring up or down, level by level: the benchmark stack, or with `n` the generated
/// project of `n` services.
fn levels(n: Option<u32>) -> Vec<Vec<(String, u32)>> {
    let Some(n) = n else {
        return LEVELS
            .iter()
            .map(|l| l.iter().map(|(s, r)| ((*s).to_owned(), *r)).collect())
            .collect();
    };
    let hubs = (n / 10).max(1);
    let name = |i: u32| {
        if i < hubs {
            format!("hub{i}")
        } else {
            format!("svc{i}")
        }
    };
    vec![
        (0..hubs.min(n)).map(|i| (name(i), 1)).collect(),
        (hubs..n).map(|i| (name(i), 1)).collect(),
    ]
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

async fn create_start(docker: &Docker, project: &str, service: &str, n: u32) -> Result<()> {
    let name = format!("{project}-{service}-{n}");
    let body = ContainerCreateBody {
        image: Some(IMAGE.into()),
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        labels: Some(HashMap::from([(
            "stackctl.floor".to_owned(),
            project.to_owned(),
        )])),
        host_config: Some(HostConfig {
            init: Some(true),
            network_mode: Some(format!("{project}_default")),
            ..Default::default()
        }),
        ..Default::default()
    };
    let c = docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name),
                ..Default::default()
            }),
            body,
        )
        .await?;
    docker.start_container(&c.id, None).await?;
    Ok(())
}

async fn stop_remove(docker: &Docker, name: String) -> Result<()> {
    docker
        .stop_container(
            &name,
            Some(StopContainerOptions {
                t: Some(10),
                signal: None,
            }),
        )
        .await?;
    docker
        .remove_container(
            &name,
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let docker_owned = Docker::connect_with_defaults()?;
    let project_owned = args.get(1).cloned().unwrap_or_else(|| "floor".into());
    // References are Copy, so the per-replica closures below can each capture them.
    let (docker, project) = (&docker_owned, project_owned.as_str());
    let size: Option<u32> = args.get(2).and_then(|n| n.parse().ok());
    match args.first().map(String::as_str) {
        Some("up") => {
            docker
                .create_network(NetworkCreateRequest {
                    name: format!("{project}_default"),
                    ..Default::default()
                })
                .await?;
            for level in levels(size) {
                try_join_all(level.iter().flat_map(|(svc, n)| {
                    (1..=*n).map(move |i| create_start(docker, project, svc, i))
                }))
                .await?;
            }
        }
        Some("down") if size.is_some() => {
            // As compose and stackctl stop: each hub once its own dependents are stopped and
            // removed, not once every dependent of every hub is.
            let n = size.unwrap_or_default();
            let hubs = (n / 10).max(1);
            try_join_all((0..hubs.min(n)).map(|h| async move {
                try_join_all(
                    (hubs..n)
                        .filter(|i| i % hubs == h)
                        .map(|i| stop_remove(docker, format!("{project}-svc{i}-1"))),
                )
                .await?;
                stop_remove(docker, format!("{project}-hub{h}-1")).await
            }))
            .await?;
            docker.remove_network(&format!("{project}_default")).await?;
        }
        Some("down") => {
            for level in levels(size).iter().rev() {
                try_join_all(level.iter().flat_map(|(svc, n)| {
                    (1..=*n).map(move |i| stop_remove(docker, format!("{project}-{svc}-{i}")))
                }))
                .await?;
            }
            docker.remove_network(&format!("{project}_default")).await?;
        }
        Some("scale-up") => {
            let to: u32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(20);
            try_join_all((2..=to).map(|i| create_start(docker, project, "db", i))).await?;
        }
        Some("scale-down") => {
            let from: u32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(20);
            try_join_all((2..=from).map(|i| stop_remove(docker, format!("{project}-db-{i}"))))
                .await?;
        }
        _ => eprintln!("usage: floor up|down|scale-up|scale-down PROJECT [N]"),
    }
    Ok(())
}
