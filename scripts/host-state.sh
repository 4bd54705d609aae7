#!/usr/bin/env bash
# Prints what the tests must leave as they found it on the host daemon: its swarm state, the docker
# CLI's contexts, and every container (with its state), network and volume. CI takes it before
# and after the whole suite and fails on any difference: a test may only touch objects it made,
# and must remove them. Images are left out (builds make images by design).
set -euo pipefail
export DOCKER_HOST=unix:///var/run/docker.sock
echo "swarm: $(docker info --format '{{.Swarm.LocalNodeState}}')"
echo "current context: $(docker context show 2>/dev/null || echo default)"
docker context ls --format '{{.Name}}' 2>/dev/null | sort | sed 's/^/context: /'
docker ps -a --format '{{.ID}} {{.Names}} {{.State}}' | sort | sed 's/^/container: /'
docker network ls --format '{{.ID}} {{.Name}}' | sort | sed 's/^/network: /'
docker volume ls --format '{{.Name}}' | sort | sed 's/^/volume: /'
