#!/usr/bin/env python3
"""Readiness and idle RSS of one or more mock binaries, and nothing else.

    python3 scripts/startup.py [--starts N] [--evict] BINARY [BINARY ...]

For each binary, alternating between them, N starts (default 20) of
`BINARY --port 0` on its embedded fixtures: readiness is exec to the first
200 on `/healthz` (as `scripts/bench.py` measures it); idle RSS is read
0.2 s later from `/proc/PID/status` (VmRSS) and split with
`/proc/PID/smaps_rollup` into anonymous pages (heap, stacks, relocated
data) and file-backed ones (the binary's code and read-only data, shared
libraries).

The file-backed part depends on how the binary's pages sit in the page
cache (a file written by the linker and one written by `cp` fault in
differently sized chunks), so `--evict` writes each binary back and drops
it from the page cache (`fsync` + `POSIX_FADV_DONTNEED`, that file only)
before the first start: every binary then pages in from disk as after a
fresh boot. 127.0.0.1 only.
"""

import http.client
import os
import statistics
import subprocess
import sys
import time


def rss_split(pid):
    """(VmRSS, anonymous, file-backed) in KiB."""
    with open(f"/proc/{pid}/status") as f:
        vmrss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                fields[parts[0][:-1]] = int(parts[1])
    return vmrss, fields["Anonymous"], fields["Rss"] - fields["Anonymous"]


def start(binary):
    """Starts the mock, waits for 200 on /healthz; (process, readiness ms)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()  # http://127.0.0.1:PORT/atoms/v1
    if not line.startswith("http://"):
        p.kill()
        raise RuntimeError(f"{binary} printed {line!r} instead of its address")
    port = int(line.split(":")[2].split("/")[0])
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return p, (time.perf_counter() - t0) * 1000
        except OSError:
            time.sleep(0.001)


def evict(binary):
    fd = os.open(binary, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def main():
    args = sys.argv[1:]
    starts = 20
    if "--starts" in args:
        i = args.index("--starts")
        starts = int(args[i + 1])
        del args[i:i + 2]
    do_evict = "--evict" in args
    binaries = [a for a in args if a != "--evict"]
    if not binaries:
        sys.exit(__doc__)
    ready = {b: [] for b in binaries}
    rss = {b: [] for b in binaries}
    with open("/proc/loadavg") as f:
        load0 = f.read().split()[0]
    for b in binaries:
        if do_evict:
            evict(b)
    for _ in range(starts):
        for b in binaries:
            p, ms = start(b)
            try:
                ready[b].append(ms)
                time.sleep(0.2)
                rss[b].append(rss_split(p.pid))
            finally:
                p.kill()
                p.wait()
    with open("/proc/loadavg") as f:
        load1 = f.read().split()[0]
    print(f"{starts} starts each, alternating; load average {load0} → {load1}; evicted first: {do_evict}")
    print("| binary | readiness median (min–max) | idle VmRSS median | anonymous | file-backed |")
    print("|---|---:|---:|---:|---:|")
    for b in binaries:
        med = lambda i: statistics.median(r[i] for r in rss[b]) / 1024  # noqa: E731
        t = ready[b]
        print(f"| {b} | {statistics.median(t):.1f} ms ({min(t):.1f}–{max(t):.1f}) "
              f"| {med(0):.1f} MiB | {med(1):.1f} MiB | {med(2):.1f} MiB |")


if __name__ == "__main__":
    main()
