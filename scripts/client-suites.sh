#!/usr/bin/env bash
# The compose test suites of client libraries, run as their users run them: once with docker
# compose v2 installed as the docker CLI's compose plugin, once with stackctl in its place, on the
# same daemon and images. Prints each run's counts and every test that passes with compose and
# fails with stackctl (the drop-in promise is that there are none).
#
#   scripts/client-suites.sh SOURCE...
#
# SOURCE: a source tree of python-on-whales or testcontainers-python (their tests are not in the
# packages on PyPI). STACKCTL_COMPOSE_PEER names docker compose v2's binary; stackctl is
# target/release/stackctl (STACKCTL_BIN to change). Work goes to ~/.cache/stackctl/client-suites.
#
# No registry is reachable here, so the images the suites pull are stand-ins: busybox:latest and
# alpine:latest from Debian's static busybox, nginx:alpine-slim from Debian's nginx, redis from the
# seeded registry (images/offline/seed.sh). Pulls still fail, alike for both tools.
set -euo pipefail
# pytest per test has no time limit; a run that hangs is bounded by `timeout 1800` as a whole.

root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/scripts/client-suites
work=${STACKCTL_SUITES_DIR:-$HOME/.cache/stackctl/client-suites}
peer=${STACKCTL_COMPOSE_PEER:?name docker compose v2 binary in STACKCTL_COMPOSE_PEER}
stackctl=${STACKCTL_BIN:-$root/target/release/stackctl}
[ -x "$stackctl" ] || { echo "no stackctl at $stackctl: cargo build --release" >&2; exit 2; }
mkdir -p "$work"

images="busybox:latest alpine:latest nginx:alpine-slim redis:7.0.8-alpine3.17"

stand_ins() {
  if ! docker image inspect busybox:latest >/dev/null 2>&1; then
    local ctx=$work/busybox-ctx
    rm -rf "$ctx" && mkdir -p "$ctx/deb"
    (cd "$ctx/deb" && apt-get download busybox-static >/dev/null)
    dpkg-deb -x "$ctx"/deb/busybox-static_*.deb "$ctx/root"
    cp "$ctx/root/bin/busybox" "$ctx/busybox"
    docker build -q -t busybox:latest -f "$here/busybox.Dockerfile" "$ctx" >/dev/null
  fi
  docker tag busybox:latest alpine:latest
  if ! docker image inspect nginx:alpine-slim >/dev/null 2>&1; then
    docker build -q -t nginx:alpine-slim -f "$here/nginx.Dockerfile" "$here" >/dev/null
  fi
  if ! docker image inspect redis:7.0.8-alpine3.17 >/dev/null 2>&1; then
    docker pull -q 127.0.0.1:5000/library/redis:7-alpine >/dev/null
    docker tag 127.0.0.1:5000/library/redis:7-alpine redis:7.0.8-alpine3.17
  fi
  # shellcheck disable=SC2086
  docker save -o "$work/stand-ins.tar" $images
}

# A docker CLI configuration whose compose plugin is $2.
config_with() {
  local dir=$work/config-$1
  mkdir -p "$dir/cli-plugins"
  ln -sfn "$2" "$dir/cli-plugins/docker-compose"
  echo "$dir"
}

venv_for() {
  local name=$1 src=$2 venv=$work/venv-$1
  if [ ! -x "$venv/bin/pytest" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q pytest pytest-mock pytz requests
    "$venv/bin/pip" install -q "$src"
  fi
  echo "$venv"
}

run_suite() {
  local src=$1 kind tests
  if [ -d "$src/python_on_whales" ]; then
    kind=python-on-whales tests=tests/python_on_whales/components/test_compose.py
  elif [ -d "$src/src/testcontainers" ]; then
    kind=testcontainers tests=tests/core/test_compose.py
  else
    echo "$src: neither python-on-whales nor testcontainers-python" >&2
    return 2
  fi
  local venv
  venv=$(venv_for "$kind" "$src")
  # STACKCTL_SUITES_TOOLS=stackctl reruns stackctl's side only, beside compose's last results.
  for tool in ${STACKCTL_SUITES_TOOLS:-compose stackctl}; do
    local bin=$peer
    [ "$tool" = stackctl ] && bin=$stackctl
    echo "== $kind with $tool" >&2
    (cd "$src" && DOCKER_CONFIG=$(config_with "$tool" "$bin") \
      STACKCTL_SUITE_IMAGES=$work/stand-ins.tar STACKCTL_SUITE_IMAGE_NAMES="$images" \
      PYTHONPATH=$here timeout 1800 "$venv/bin/pytest" "$tests" -p restore_images \
      -p no:cacheprovider -q --junitxml="$work/$kind-$tool.xml" >"$work/$kind-$tool.log" 2>&1) || true
  done
  python3 - "$work/$kind-compose.xml" "$work/$kind-stackctl.xml" "$kind" <<'PY'
import sys
import xml.etree.ElementTree as ET

def outcomes(path):
    out = {}
    for case in ET.parse(path).iter("testcase"):
        name = case.get("name")
        failed = any(c.tag in ("failure", "error") for c in case)
        skipped = any(c.tag == "skipped" for c in case)
        out[name] = "skipped" if skipped else ("failed" if failed else "passed")
    return out

compose, ours, kind = outcomes(sys.argv[1]), outcomes(sys.argv[2]), sys.argv[3]
passed = lambda o: {k for k, v in o.items() if v == "passed"}
both = passed(compose) & passed(ours)
lost = sorted(passed(compose) - passed(ours))
gained = sorted(passed(ours) - passed(compose))
print(f"{kind}: {len(compose)} tests; compose passes {len(passed(compose))}, stackctl {len(passed(ours))}, "
      f"both {len(both)}")
for t in lost:
    print(f"  passes with compose only: {t}")
for t in gained:
    print(f"  passes with stackctl only: {t}")
sys.exit(1 if lost else 0)
PY
}

stand_ins
status=0
for src in "$@"; do
  run_suite "$src" || status=1
done
exit $status
