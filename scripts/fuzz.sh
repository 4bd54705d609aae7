#!/usr/bin/env bash
# Runs every cargo-fuzz target of tests/fuzz, one after the other, for a set time each, and prints
# a summary line per target: inputs executed, peak RSS, and the result (a crash leaves its input
# under tests/fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to $FUZZ_SECONDS, else 600. With no TARGET, all of them (as
# `cargo fuzz list` gives them). Other knobs, from the environment:
#   FUZZ_TIMEOUT  seconds one input may take before it counts as a hang (default 30: libFuzzer's own
#                 default, 1200, is longer than a run, so a hang would never be reported)
#   FUZZ_RSS_MB   memory limit of the fuzzing process (default 2048)
#   FUZZ_NICE     niceness of builds and runs (default 19)
#
# Corpora grow under tests/fuzz/corpus/<target> (ignored by git); the committed seeds are read from
# tests/fuzz/seeds/<target> (tests/fuzz/seeds for manifest_load) and never written to. Needs the
# nightly toolchain (`rustup toolchain install nightly`); cargo-fuzz is installed when missing.
#
# cp_untar unpacks hostile archives with cp's own code, so a finding writes before it is reported:
# run as root, this script runs that target in a private mount namespace where the filesystem is
# read-only except tests/fuzz, the cargo and rustup homes and a scratch tmpfs. Not as root, the
# target refuses to start unless STACKCTL_FUZZ_UNSANDBOXED=1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="$root/tests/fuzz"
seconds="${1:-${FUZZ_SECONDS:-600}}"
shift $(($# > 0 ? 1 : 0))
timeout_s="${FUZZ_TIMEOUT:-30}"
rss_mb="${FUZZ_RSS_MB:-2048}"
niceness="${FUZZ_NICE:-19}"

case "$seconds" in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
    ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

cd "$root"
if (($# > 0)); then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir "$fuzz_dir")
fi

echo "building ${#targets[@]} fuzz target(s)" >&2
for t in "${targets[@]}"; do
    nice -n "$niceness" cargo +nightly fuzz build --fuzz-dir "$fuzz_dir" "$t"
done

logs="$fuzz_dir/artifacts/logs"
mkdir -p "$logs"

# A private mount namespace with everything read-only but what fuzzing must write (root only).
sandboxed() {
    if [[ $(id -u) != 0 ]] || ! unshare --mount --propagation private true 2>/dev/null; then
        "$@"
        return
    fi
    local scratch
    scratch="$(mktemp -d /tmp/stackctl-fuzz-scratch.XXXXXX)"
    local cargo_home="${CARGO_HOME:-$HOME/.cargo}" rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
    local status=0
    STACKCTL_FUZZ_SCRATCH="$scratch" unshare --mount --propagation private bash -c '
        set -e
        scratch=$1 fuzz_dir=$2 cargo_home=$3 rustup_home=$4
        shift 4
        mount -t tmpfs -o size=1g tmpfs "$scratch"
        for d in "$fuzz_dir" "$cargo_home" "$rustup_home"; do
            [[ -d $d ]] && mount --bind "$d" "$d"
        done
        mount -o remount,bind,ro /
        STACKCTL_FUZZ_SANDBOXED=1 exec "$@"
    ' sandbox "$scratch" "$fuzz_dir" "$cargo_home" "$rustup_home" "$@" || status=$?
    rmdir "$scratch" 2>/dev/null || true
    return "$status"
}

summary=()
failed=0
for t in "${targets[@]}"; do
    corpus="$fuzz_dir/corpus/$t"
    seeds="$fuzz_dir/seeds/$t"
    [[ $t == manifest_load ]] && seeds="$fuzz_dir/seeds"
    mkdir -p "$corpus" "$seeds"
    log="$logs/$t.log"
    echo "fuzzing $t for ${seconds}s (log: $log)" >&2
    run=(nice -n "$niceness" cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" "$t" "$corpus" "$seeds" --
        -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout="$timeout_s" -print_final_stats=1)
    rc=0
    if [[ $t == cp_untar ]]; then
        sandboxed "${run[@]}" >"$log" 2>&1 || rc=$?
    else
        "${run[@]}" >"$log" 2>&1 || rc=$?
    fi
    execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
    [[ -z $execs ]] && execs="$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)"
    rss="$(grep -o 'stat::peak_rss_mb: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
    [[ -z $rss ]] && rss="$(grep -oE 'rss: [0-9]+Mb' "$log" | grep -oE '[0-9]+' | sort -n | tail -1 || true)"
    if ((rc == 0)); then
        result="ok"
    else
        failed=1
        kind="$(grep -oE 'ERROR: libFuzzer: [a-z-]+|deadly signal|panicked at' "$log" | head -1 || true)"
        artifact="$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //' || true)"
        result="FAILED rc=$rc ${kind:-see log}${artifact:+ -> $artifact}"
    fi
    line="$(printf '%-14s execs=%-10s peak_rss=%sMB  %s' "$t" "${execs:-?}" "${rss:-?}" "$result")"
    echo "$line" >&2
    summary+=("$line")
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit "$failed"
