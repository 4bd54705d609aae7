//! Image steps and registry messages, without a daemon.

use super::split_reference;
use super::{ImageOptions, ImageStep, Present, PullPolicy, ServicePull, image_step};

#[test]
fn the_services_pull_policy_decides_unless_a_flag_does() {
    let plan = crate::plan::of_text(
        "services:\n  r:\n    image: x\n    pull_policy: refresh\n    pull_refresh_after: 3d\n  n:\n    image: y\n    pull_policy: never\n",
    );
    let (r, n) = (&plan.services["r"], &plan.services["n"]);
    assert_eq!(
        r.pull_policy,
        ServicePull::Refresh(std::time::Duration::from_secs(3 * 24 * 3600))
    );
    let step = |svc, present, pull| {
        image_step(
            svc,
            present,
            &ImageOptions {
                pull,
                ..Default::default()
            },
        )
    };
    assert_eq!(step(r, Present::Stale, None).unwrap(), ImageStep::Pull);
    assert_eq!(step(r, Present::Fresh, None).unwrap(), ImageStep::Keep);
    assert_eq!(step(r, Present::Absent, None).unwrap(), ImageStep::Pull);
    assert!(step(n, Present::Absent, None).is_err());
    assert_eq!(
        step(n, Present::Absent, Some(PullPolicy::Missing)).unwrap(),
        ImageStep::Pull
    );
}

#[test]
fn an_unreachable_registry_is_said_in_words_with_the_way_out() {
    let e = super::registry_failure(
        "pulling",
        "redis:7-alpine",
        "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host",
    )
    .to_string();
    assert!(e.contains("cannot reach the registry"), "{e}");
    assert!(e.contains("images/offline/seed.sh"), "{e}");
    let other = super::registry_failure("pulling", "x", "manifest unknown").to_string();
    assert!(!other.contains("cannot reach"), "{other}");
}

#[test]
fn references_split_into_repo_and_tag() {
    assert_eq!(split_reference("redis"), ("redis".into(), "latest".into()));
    assert_eq!(
        split_reference("redis:7-alpine"),
        ("redis".into(), "7-alpine".into())
    );
    assert_eq!(
        split_reference("127.0.0.1:5000/lib/redis"),
        ("127.0.0.1:5000/lib/redis".into(), "latest".into())
    );
    assert_eq!(
        split_reference("127.0.0.1:5000/lib/redis:7"),
        ("127.0.0.1:5000/lib/redis".into(), "7".into())
    );
    assert_eq!(
        split_reference("x@sha256:abc"),
        ("x".into(), "sha256:abc".into())
    );
}
