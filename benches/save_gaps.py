#!/usr/bin/env python3
"""How long one save takes to arrive as file events: the basis of `watch`'s batching windows.

`watch` acts on a batch once files have been quiet for a while. Too short a wait splits one save
(or one `git checkout`) into several batches; too long a wait is latency the developer feels. This
watches a scratch folder with inotify (the kernel interface the notify crate uses on Linux) while
files are saved the ways editors and tools save them, and reports, per way, the events one save
makes and the gaps between them. Only the events `watch` counts are kept: create, modify, delete,
moves.
Usage: python3 benches/save_gaps.py [--saves N] [--files N]
"""
import argparse
import ctypes
import os
import shutil
import statistics
import struct
import subprocess
import tempfile
import threading
import time

IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x2, 0x40, 0x80, 0x100, 0x200
MASK = IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
libc = ctypes.CDLL("libc.so.6", use_errno=True)


class Events:
    """inotify on one folder; the arrival time of every event, read by a thread."""

    def __init__(self, folder):
        self.fd = libc.inotify_init()
        if libc.inotify_add_watch(self.fd, folder.encode(), MASK) < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch")
        self.times, self.lock = [], threading.Lock()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        while True:
            buf = os.read(self.fd, 65536)
            now = time.perf_counter()
            n, off = 0, 0
            while off < len(buf):
                _, _, _, length = struct.unpack_from("iIII", buf, off)
                off += 16 + length
                n += 1
            with self.lock:
                self.times += [now] * n

    def take(self):
        time.sleep(0.3)  # late events of this save
        with self.lock:
            t, self.times = self.times, []
        return t


def in_place(path, text):
    with open(path, "w") as f:
        f.write(text)


def atomic_rename(path, text):  # vim's backupcopy=no, VS Code, JetBrains "safe write"
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def sed_i(path, text):
    subprocess.run(["sed", "-i", f"1s/.*/{text}/", path], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--saves", type=int, default=100)
    ap.add_argument("--files", type=int, default=200, help="files a git checkout changes")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stackctl-save-gaps-")
    try:
        ev = Events(work)
        path = os.path.join(work, "app.py")
        in_place(path, "start\n")
        ev.take()
        rows = []
        for name, save in [("write in place", in_place), ("write and rename", atomic_rename), ("sed -i", sed_i)]:
            counts, gaps, spans = [], [], []
            for i in range(a.saves):
                t0 = time.perf_counter()
                save(path, f"line{i}")
                t = ev.take()
                counts.append(len(t))
                gaps += [b - a_ for a_, b in zip(t, t[1:])]
                spans.append((t[-1] - t0) if t else 0)
            rows.append((name, counts, gaps, spans))
        # git checkout between two commits that differ in every one of N files.
        repo = os.path.join(work, "repo")
        os.makedirs(repo)
        git = lambda *args: subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True)
        git("init", "-q")
        for gen in ("a", "b"):
            for i in range(a.files):
                with open(os.path.join(repo, f"f{i}.py"), "w") as f:
                    f.write(f"{gen}{i}\n" * 20)
            git("add", "-A")
            git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", gen)
        ev2 = Events(repo)
        counts, gaps, spans = [], [], []
        for i in range(max(3, a.saves // 20)):
            t0 = time.perf_counter()
            git("checkout", "-q", "HEAD~1" if i % 2 == 0 else "master")
            t = ev2.take()
            counts.append(len(t))
            gaps += [b - a_ for a_, b in zip(t, t[1:])]
            spans.append((t[-1] - t0) if t else 0)
        rows.append((f"git checkout ({a.files} files)", counts, gaps, spans))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ms = lambda x: f"{x * 1000:.2f}"
    print("| save | events per save | gap between its events: median ms | p99 ms | max ms | last event after the save began: max ms |")
    print("|---|---|---|---|---|---|")
    for name, counts, gaps, spans in rows:
        g = sorted(gaps) or [0]
        print(f"| {name} | {statistics.median(counts):.0f} | {ms(statistics.median(g))} | {ms(g[int(0.99 * (len(g) - 1))])} | {ms(g[-1])} | {ms(max(spans))} |")


if __name__ == "__main__":
    main()
