#!/usr/bin/env bash
# The engine-facing tests again, against a current Docker Engine (28.x from Debian sid) running in
# a Docker-in-Docker node that this script starts and removes: the host daemon (Engine 20.10 here)
# is not the only engine stackctl is tested on. Tests that need this machine's files or its registry
# on 127.0.0.1 say so and skip there.
set -euo pipefail
cd "$(dirname "$0")/.."

# The host's daemon, as the caller reaches it: DOCKER_HOST is pointed at the node further down.
HOST_DOCKER=(docker -H "${DOCKER_HOST:-unix:///var/run/docker.sock}")

IMAGE=stackctl-test-node:sid
NAME="sct-current-engine-$$"
LABEL="io.stackctl.test-node=$NAME"

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  docker build -q -t "$IMAGE" tests/dind/sid >/dev/null
fi
cleanup() {
  "${HOST_DOCKER[@]}" rm -f -v "$NAME" >/dev/null 2>&1 || true
  "${HOST_DOCKER[@]}" network rm "$NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT
docker network create --label "$LABEL" "$NAME" >/dev/null
# Not --privileged (it fails here): every capability but CAP_SYS_RESOURCE; see tests/common/dind.rs.
docker run -d --name "$NAME" --label "$LABEL" --network "$NAME" \
  --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
  --security-opt apparmor=unconfined --security-opt systempaths=unconfined --cgroupns host \
  -v /sys/fs/cgroup:/sys/fs/cgroup:rw --device /dev/fuse --tmpfs /var/lib/docker:exec,size=4g \
  "$IMAGE" >/dev/null
ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$NAME")
export DOCKER_HOST="tcp://$ip:2375"
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && break
  sleep 1
done
echo "current-engine tests on $(docker version --format 'Docker Engine {{.Server.Version}} (API {{.Server.APIVersion}})') at $DOCKER_HOST" >&2
"${HOST_DOCKER[@]}" save debian:bookworm-slim | docker load -q >/dev/null
cargo test --locked --test it -- engine:: mounts:: everyday:: logs:: attached:: check:: build::
