#!/usr/bin/env python3
"""What the dashboard costs while a busy stack runs: 10 containers printing 1,000 lines a second in
all, `stackctl dashboard` drawing them in a 120×40 tmux terminal. CPU share of one core and peak
RSS, read from /proc for the dashboard's own process over WINDOW seconds; beside it, in the same
run and on the same stack, `stackctl logs -f` and docker compose v2's `logs -f` writing to
/dev/null (what a user watches instead today). Results go to stdout and the "Dashboard" part of
benches/RESULTS.md.
Usage: python3 benches/dashboard.py [--window S] [--no-write]
"""
import argparse
import datetime
import glob
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the shared helpers: sh, machine, write_section)

SERVICES = 10
LINES_PER_SECOND = 100  # per container

# perl-base is in every Debian image: ten lines every 0.1 s, unbuffered.
SERVICE = """  talk{n}:
    image: debian:bookworm-slim
    init: true
    command: [perl, -e, '$$|=1; my $$i=0; while (1) {{ for (1..10) {{ $$i++; print "GET /visit/$$i 200 in 3ms\\n" }} select(undef,undef,undef,0.1) }}']
"""


def ticks(pid):
    """utime + stime of pid and its threads, in clock ticks."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(pid, window):
    hz = os.sysconf("SC_CLK_TCK")
    start, t0 = ticks(pid), time.time()
    time.sleep(window)
    used, elapsed = ticks(pid) - start, time.time() - t0
    return 100.0 * used / hz / elapsed, peak_rss_mb(pid)


def child_of(shell_pid, name):
    """The process called `name` under the tmux pane's shell."""
    deadline = time.time() + 30
    while time.time() < deadline:
        out = subprocess.run(["pgrep", "-P", str(shell_pid), "-x", name], capture_output=True, text=True).stdout.split()
        if out:
            return int(out[0])
        time.sleep(0.2)
    raise SystemExit(f"no {name} process under the pane")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=int, default=30)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=run.ROOT, check=True)
    stackctl = os.path.join(run.ROOT, "target/release/stackctl")
    peer = (glob.glob(os.path.join(run.CACHE, "compose-venv/lib/python3*/site-packages/compose/docker-compose"))
            + [os.environ.get("STACKCTL_COMPOSE_PEER", "")])[0]
    work = tempfile.mkdtemp(prefix="stackctl-bench-dashboard-")
    manifest = os.path.join(work, "compose.yaml")
    with open(manifest, "w") as f:
        f.write("services:\n" + "".join(SERVICE.format(n=n) for n in range(SERVICES)))
    project = "benchdash"
    base = [stackctl, "-p", project, "-f", manifest]
    subprocess.run(base + ["up", "-d", "--progress", "quiet"], check=True)
    socket = f"stackctl-bench-{os.getpid()}"
    rows = []
    try:
        time.sleep(3)
        since = time.time()
        subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40",
                        " ".join(base + ["dashboard"])], check=True)
        shell = int(run.sh(["tmux", "-L", socket, "display", "-p", "#{pane_pid}"]))
        pid = shell if open(f"/proc/{shell}/comm").read().strip() == "stackctl" else child_of(shell, "stackctl")
        time.sleep(3)
        cpu, rss = measure(pid, args.window)
        rows.append(("stackctl dashboard (120×40 tmux)", cpu, rss))
        subprocess.run(["tmux", "-L", socket, "kill-server"])
        for label, argv in [("stackctl logs -f > /dev/null", base + ["logs", "-f"]),
                            ("compose-v2 logs -f > /dev/null", [peer, "-p", project, "-f", manifest, "logs", "-f"])]:
            if not os.path.exists(argv[0]):
                continue
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(3)
            cpu, rss = measure(proc.pid, args.window)
            proc.terminate()
            proc.wait()
            rows.append((label, cpu, rss))
        until = time.time()
        lines = sum(len(run.sh(["docker", "logs", "--since", f"{since:.3f}", "--until", f"{until:.3f}",
                                 f"{project}-talk{n}-1"]).splitlines()) for n in range(SERVICES))
        rate = lines / (until - since)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], stderr=subprocess.DEVNULL)
        subprocess.run(base + ["down", "-t", "0", "--progress", "quiet"])
    cpus, docker = run.machine()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join(f"| {label} | {cpu:.1f} % | {rss:.1f} |" for label, cpu, rss in rows)
    text = f"""## Dashboard

Measured {now} on {cpus}, Docker Engine {docker}, by `python3 benches/dashboard.py`: {SERVICES} containers
printing {rate:,.0f} lines/s in all (counted from the daemon's logs over the run), each process measured
for {args.window} s from /proc (CPU as a share of one core; peak RSS). Target for the dashboard: ≤ 5 % and ≤ 30 MB.

| process | CPU of one core | peak RSS MB |
|---|---|---|
{table}
"""
    print(text)
    if not args.no_write:
        run.write_section("Dashboard", text)


if __name__ == "__main__":
    main()
