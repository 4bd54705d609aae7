//! The plan from small manifests: names, images, replicas, ordering, restart policies and the
//! config hash, without a daemon.

use std::collections::BTreeMap;

use super::*;
use crate::manifest::{Condition, LoadOptions, Restart, load};

fn plan_with(manifest: &str, scale: &[(&str, u32)]) -> Plan {
    let opts = LoadOptions {
        cwd: "/nonexistent-plan-test".into(),
        project_name: Some("proj".into()),
        inline: Some(manifest.as_bytes().to_vec()),
        ..Default::default()
    };
    let loaded = load(&opts).expect("manifest loads");
    let scale: BTreeMap<String, u32> = scale.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect();
    build(&loaded.project, &scale)
}

fn plan(manifest: &str) -> Plan {
    plan_with(manifest, &[])
}

const STACK: &str = "services:
  web:
    image: nginx
    ports: [\"8000-8002:80\"]
    deploy: {replicas: 3}
    depends_on: [app]
  app:
    build: https://git.example/app.git
    environment: {MODE: one}
    depends_on:
      migrate: {condition: service_completed_successfully}
      db: {condition: service_healthy}
  migrate:
    image: tool
  db:
    image: postgres
    healthcheck: {test: [CMD, pg_isready]}
    deploy:
      restart_policy: {condition: on-failure, max_attempts: 2}
";

#[test]
fn services_are_named_and_ordered_as_compose_would() {
    let p = plan(STACK);
    assert_eq!(p.project, "proj");
    assert_eq!(
        p.services["app"].image, "proj-app",
        "a built service's default tag"
    );
    assert_eq!(p.services["web"].image, "nginx");
    assert_eq!(p.services["web"].container_name("proj", 2), "proj-web-2");
    assert_eq!(
        p.levels,
        vec![vec!["db", "migrate"], vec!["app"], vec!["web"]]
    );
    assert!(p.networks.iter().any(|n| n.name == "proj_default"));
}

#[test]
fn replicas_come_from_deploy_and_scale_and_take_their_own_ports() {
    let p = plan(STACK);
    let web = &p.services["web"];
    assert_eq!(web.replicas, 3);
    let port = &web.ports[0];
    assert_eq!(web.port_for_replica(port, 1), Some(8000));
    assert_eq!(web.port_for_replica(port, 3), Some(8002));
    assert_eq!(web.port_for_replica(port, 4), None);
    assert_eq!(plan_with(STACK, &[("web", 1)]).services["web"].replicas, 1);
}

#[test]
fn the_hash_follows_the_configuration_not_the_replica_count() {
    let base = plan(STACK).services["app"].config_hash.clone();
    assert_eq!(plan(STACK).services["app"].config_hash, base, "stable");
    let scaled = plan_with(STACK, &[("app", 4)]);
    assert_eq!(
        scaled.services["app"].config_hash, base,
        "replicas do not count"
    );
    let edited = plan(&STACK.replace("MODE: one", "MODE: two"));
    assert_ne!(
        edited.services["app"].config_hash, base,
        "environment counts"
    );
}

#[test]
fn restart_health_and_one_shot_dependencies_are_typed() {
    let p = plan(STACK);
    assert_eq!(p.services["db"].restart, Some(Restart::OnFailure(Some(2))));
    assert_eq!(p.services["web"].restart, None);
    assert_eq!(p.services["app"].health, Health::Inherit);
    assert_eq!(
        p.services["app"].waits_for("db"),
        Some(Condition::ServiceHealthy)
    );
    assert!(p.is_awaited_to_complete("migrate"));
    assert!(!p.is_awaited_to_complete("db"));
}

#[test]
fn a_build_section_becomes_a_build_plan() {
    let p = plan(
        "services:
  base:
    build: ./base
  app:
    platform: linux/amd64
    build:
      context: ./app
      dockerfile_inline: \"FROM basectx\"
      secrets: [pw, {source: tok, target: api_token}]
      ssh: [default]
      additional_contexts: {basectx: 'service:base', extra: ./extra, img: 'docker-image://debian:bookworm-slim'}
      cache_from: [cacheimg, 'type=registry,ref=reg/cache']
      cache_to: ['type=inline']
      tags: [app:extra]
      no_cache: true
secrets:
  pw: {file: /etc/passwd}
  tok: {environment: TOKEN}
",
    );
    let b = &p.services["app"];
    let build = b.build.as_ref().unwrap();
    assert_eq!(build.dockerfile_inline.as_deref(), Some("FROM basectx"));
    assert_eq!(build.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(
        build.secrets,
        vec![
            BuildSecret {
                id: "pw".into(),
                source: SecretSource::File("/etc/passwd".into())
            },
            BuildSecret {
                id: "api_token".into(),
                source: SecretSource::Env("TOKEN".into())
            },
        ]
    );
    assert!(build.ssh_agent && build.inline_cache && build.no_cache && !build.pull);
    assert_eq!(build.cache_from, ["cacheimg", "reg/cache"]);
    assert_eq!(build.tags, ["app:extra"]);
    assert_eq!(
        build.contexts["basectx"],
        NamedContext::Service {
            service: "base".into(),
            image: "proj-base".into()
        }
    );
    assert_eq!(
        build.contexts["extra"],
        NamedContext::Folder("/nonexistent-plan-test/extra".into())
    );
    assert_eq!(
        build.contexts["img"],
        NamedContext::Image("debian:bookworm-slim".into())
    );
    assert_eq!(build.needs().collect::<Vec<_>>(), ["base"]);
    assert!(build.needs_session());
    let base = &p.services["base"];
    assert!(!base.build.as_ref().unwrap().needs_session());
}

#[test]
fn resources_no_service_uses_are_left_out_unless_asked_for() {
    let mut plan = plan(
        "services:\n  a:\n    image: x\n    networks: [front]\n    volumes: [data:/d]\nnetworks:\n  front: {}\n  spare: {}\nvolumes:\n  data: {}\n  unused: {}\n",
    );
    assert_eq!(plan.networks.len(), 2);
    assert_eq!(plan.volumes.len(), 2);
    plan.drop_unused_resources();
    let nets: Vec<&str> = plan.networks.iter().map(|n| n.key.as_str()).collect();
    let vols: Vec<&str> = plan.volumes.iter().map(|v| v.key.as_str()).collect();
    assert_eq!(nets, ["front"]);
    assert_eq!(vols, ["data"]);
}
