#!/usr/bin/env python3
"""stackctl against docker compose v2 as the work grows: a generated project of N services (a
tenth of them hubs, the rest each depending on one hub), timed for up, no-op up, ps, config and
down in one run, tool after tool, round after round, and the engine's floor (benches/floor.rs:
the same calls with nothing around them) for up and down. Reports the median wall time, the
ratios to compose and to the floor, and each tool's peak RSS; results go to stdout and
benches/RESULTS.md.

Usage: python3 benches/scale.py [--sizes 50,200] [--rounds N] [--no-write]
"""
import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import CACHE, ROOT, machine, sh, timed, write_section  # noqa: E402

IMAGE = "debian:bookworm-slim"


def manifest(n):
    """N services: n // 10 hubs (at least one), every other service depending on one of them."""
    hubs = max(1, n // 10)
    lines = ["services:"]
    for i in range(n):
        name = f"hub{i}" if i < hubs else f"svc{i}"
        lines += [f"  {name}:", f"    image: {IMAGE}", "    command: [sleep, infinity]", "    init: true"]
        if i >= hubs:
            lines.append(f"    depends_on: [hub{i % hubs}]")
    return "\n".join(lines) + "\n"


def tools():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--benches"], cwd=ROOT, check=True)
    stackctl = os.path.join(ROOT, "target/release/stackctl")
    peer = os.environ.get("STACKCTL_COMPOSE_PEER") or next(
        iter(glob.glob(os.path.join(CACHE, "compose-venv/lib/python3*/site-packages/compose/docker-compose"))), None)
    if not peer:
        sys.exit("name docker compose v2's binary in STACKCTL_COMPOSE_PEER (or run benches/run.py once)")
    return {"stackctl": stackctl, "compose-v2": peer}


def floor_binary():
    """benches/floor.rs, built by `cargo build --benches`: the engine's own calls, nothing else."""
    built = (p for p in glob.glob(os.path.join(ROOT, "target/release/deps/floor-*"))
             if os.access(p, os.X_OK) and not p.endswith(".d"))
    return sorted(built, key=os.path.getmtime)[-1]


def clean(project):
    for cid in sh(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"]).split():
        subprocess.run(["docker", "rm", "-f", cid], stdout=subprocess.DEVNULL)
    subprocess.run(["docker", "network", "rm", f"{project}_default"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def clean_floor(project):
    for cid in sh(["docker", "ps", "-aq", "--filter", f"label=stackctl.floor={project}"]).split():
        subprocess.run(["docker", "rm", "-f", cid], stdout=subprocess.DEVNULL)
    subprocess.run(["docker", "network", "rm", f"{project}_default"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="50,200")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    bins = tools()
    floor = floor_binary()
    results = {}  # (size, scenario) -> tool -> [(wall, rss, cpu)]
    work = tempfile.mkdtemp(prefix="stackctl-scale-")
    for n in sizes:
        path = os.path.join(work, f"compose-{n}.yaml")
        with open(path, "w") as f:
            f.write(manifest(n))
        for r in range(a.rounds):
            for name, binary in bins.items():
                project = f"bench-scale-{name.replace('-', '')}-{n}"
                clean(project)
                print(f"{n} services, round {r + 1}/{a.rounds}: {name}", file=sys.stderr)
                run = lambda *args: timed([binary, "-p", project, "-f", path, *args])  # noqa: E731
                for scenario, args in [("up -d", ["up", "-d"]), ("no-op up -d", ["up", "-d"]),
                                       ("ps", ["ps"]), ("config", ["config"]), ("down", ["down"])]:
                    sample = run(*args)
                    if sample:
                        results.setdefault((n, scenario), {}).setdefault(name, []).append(sample)
                clean(project)
            # The floor: the same creates and starts, stops and removes, in the same two levels.
            project = f"bench-scale-floor-{n}"
            clean_floor(project)
            for scenario, verb in [("up -d", "up"), ("down", "down")]:
                sample = timed([floor, verb, project, str(n)])
                if sample:
                    results.setdefault((n, scenario), {}).setdefault("floor", []).append(sample)
            clean_floor(project)
    cpu, docker_version = machine()
    out = [f"Machine: {cpu}; Docker Engine {docker_version}. {a.rounds} round(s); median wall seconds, "
           "peak RSS in MB.", "",
           "| services | operation | stackctl | compose v2 | ratio | floor | stackctl / floor | RSS stackctl / compose |",
           "|---|---|---|---|---|---|---|---|"]
    for (n, scenario), by_tool in results.items():
        ours, theirs, base = by_tool.get("stackctl"), by_tool.get("compose-v2"), by_tool.get("floor")
        med = lambda xs, i: statistics.median(x[i] for x in xs) if xs else float("nan")  # noqa: E731
        ratio = med(ours, 0) / med(theirs, 0) if ours and theirs else float("nan")
        to_floor = f"{med(ours, 0) / med(base, 0):.2f}×" if ours and base else "—"
        floor_s = f"{med(base, 0):.3f}" if base else "—"
        out.append(f"| {n} | {scenario} | {med(ours, 0):.3f} | {med(theirs, 0):.3f} | {ratio:.2f}× | "
                   f"{floor_s} | {to_floor} | {med(ours, 1):.0f} / {med(theirs, 1):.0f} |")
    text = "\n".join(out)
    print(text)
    if not a.no_write:
        write_section("Scale: generated projects of N services", "## Scale: generated projects of N services\n\n"
                      "`python3 benches/scale.py --sizes " + a.sizes + "`: a tenth of the services are hubs, each "
                      "other service depends on one.\n\n" + text)


if __name__ == "__main__":
    main()
