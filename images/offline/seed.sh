#!/usr/bin/env bash
# Seeds the images stackctl's stack and tests need on a machine that reaches no container registry.
#
# Idempotent; safe to run again. What it does, each step skipped when already done:
#   1. debian:bookworm-slim   made with debootstrap + docker import (rootfs cached under $CACHE)
#   2. a registry on 127.0.0.1:5000 (Debian's docker-registry) so that pulls are real pulls
#   3. stand-ins for redis:7-alpine and postgres:16-alpine built from Debian packages, pushed there
#   4. stack/.env pointing the shipped manifest at those stand-ins
# Only needed offline: with Docker Hub reachable, the manifest's defaults (official images) just work.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CACHE=${STACKCTL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stackctl}
REGISTRY=${STACKCTL_REGISTRY:-127.0.0.1:5000}
mkdir -p "$CACHE"

log() { printf '\033[1mseed:\033[0m %s\n' "$*" >&2; }

need() {
  command -v "$1" >/dev/null 2>&1 && return
  log "installing $2"
  # A machine whose package lists were never fetched (a fresh container) needs them first.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
  }
}

seed_base() {
  if docker image inspect debian:bookworm-slim >/dev/null 2>&1; then return; fi
  local tarball="$CACHE/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    need debootstrap debootstrap
    local dir; dir=$(mktemp -d)
    log "debootstrap bookworm (minbase) into $dir"
    if ! debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1; then
      log "debootstrap failed; the end of $CACHE/debootstrap.log:"
      tail -5 "$CACHE/debootstrap.log" >&2
      exit 1
    fi
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  log "importing debian:bookworm-slim"
  docker import -c 'CMD ["bash"]' "$tarball" debian:bookworm-slim >/dev/null
}

registry_up() { curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; }

seed_registry() {
  if registry_up; then return; fi
  need docker-registry docker-registry
  mkdir -p "$CACHE/registry"
  cat >"$CACHE/registry.yml" <<CONF
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $CACHE/registry }, delete: { enabled: true } }
http: { addr: $REGISTRY }
CONF
  log "starting docker-registry on $REGISTRY"
  nohup docker-registry serve "$CACHE/registry.yml" >"$CACHE/registry.log" 2>&1 &
  for _ in $(seq 50); do registry_up && return; sleep 0.2; done
  log "registry did not come up; see $CACHE/registry.log"; exit 1
}

# push_standin NAME TAG: build images/offline/NAME, push it as $REGISTRY/library/NAME:TAG
push_standin() {
  local name=$1 tag=$2 ref="$REGISTRY/library/$1:$2"
  if curl -fsS "http://$REGISTRY/v2/library/$name/manifests/$tag" \
      -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' >/dev/null 2>&1; then
    return
  fi
  log "building stand-in $ref"
  docker build -q -t "$ref" "$here/$name" >/dev/null
  docker push -q "$ref" >/dev/null
  # Drop the local tag so that `stackctl up` exercises a real pull from the registry.
  docker rmi "$ref" >/dev/null
}

seed_base
seed_registry
push_standin redis 7-alpine
push_standin postgres 16-alpine

mkdir -p "$root/stack"
env_file="$root/stack/.env"
if [ ! -f "$env_file" ] || ! grep -q '^REDIS_IMAGE=' "$env_file"; then
  log "writing $env_file"
  {
    echo "# Written by images/offline/seed.sh: this machine reaches no registry, so the stack"
    echo "# uses stand-ins served by the local registry. Delete this file to use the official images."
    echo "REDIS_IMAGE=$REGISTRY/library/redis:7-alpine"
    echo "POSTGRES_IMAGE=$REGISTRY/library/postgres:16-alpine"
  } >>"$env_file"
fi
log "ready: debian:bookworm-slim, $REGISTRY/library/{redis:7-alpine,postgres:16-alpine}"
