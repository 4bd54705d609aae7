#!/usr/bin/env bash
# README's promise tried where it is hardest: a fresh machine whose Docker daemon has no image and
# reaches no registry. A Docker-in-Docker node (tests/dind/fresh) plays the machine; this script
# checks that its daemon has no image, clones this repository into it and runs the README's test
# command there with nothing run before it, then removes the node. Exits with cargo's status.
#
#   scripts/fresh-machine-trial.sh [CARGO TEST ARGS...]
#
# The host lends its Rust toolchain read-only (stable, from $RUSTUP_HOME) and its certificate
# authorities (a machine on this network trusts the same ones); crates come from crates.io. Takes a while: a full build and the whole suite, seeding included.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=stackctl-fresh-machine:bookworm
NAME="sct-fresh-machine-$$"
LABEL="io.stackctl.test-node=$NAME"
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
toolchain="$(ls -d "$rustup_home"/toolchains/stable-* | head -1)"

docker build -q -t "$IMAGE" tests/dind/fresh >/dev/null
cleanup() { docker rm -f -v "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
# Not --privileged (it fails here): every capability but CAP_SYS_RESOURCE; see tests/common/dind.rs.
# Device nodes may be made and used, as on a machine (the seed script's debootstrap makes
# /dev/null in its target, which must not be a nodev mount: hence /tmp as a tmpfs with dev).
docker run -d --init --name "$NAME" --label "$LABEL" \
  --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
  --security-opt apparmor=unconfined --security-opt systempaths=unconfined --cgroupns host \
  -v /sys/fs/cgroup:/sys/fs/cgroup:rw --device /dev/fuse --tmpfs /var/lib/docker:exec,size=16g \
  --device-cgroup-rule 'c *:* rwm' --device-cgroup-rule 'b *:* rwm' --tmpfs /tmp:exec,dev,size=6g \
  -v "$PWD:/src:ro" -v "$toolchain:/opt/rust:ro" \
  -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
  "$IMAGE" sleep infinity >/dev/null
docker exec -d "$NAME" sh -c 'dockerd >/var/log/dockerd.log 2>&1'
for _ in $(seq 60); do
  docker exec "$NAME" docker info >/dev/null 2>&1 && break
  sleep 1
done
images="$(docker exec "$NAME" docker images -q)"
if [[ -n $images ]]; then
  echo "the fresh machine's daemon has images already: $images" >&2
  exit 1
fi
echo "fresh machine: $(docker exec "$NAME" docker version --format 'Docker Engine {{.Server.Version}}'), no images; cloning and running cargo test" >&2
docker exec "$NAME" bash -c '
  set -e
  git clone -q /src /root/stackctl
  cd /root/stackctl
  export PATH=/opt/rust/bin:$PATH CARGO_HOME=/root/.cargo
  cargo test "$@"
' trial "$@"
