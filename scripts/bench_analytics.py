#!/usr/bin/env python3
"""`GET /analytics/dashboard` on an organization with N ended calls (issue 12;
results go in BENCHMARKS.md).

One command, bounded, 127.0.0.1 only:

    python3 scripts/bench_analytics.py [--calls 100000] [--no-build | --bin BINARY]
        [--call-store-bytes B] [--analytics-bytes A] [--expect K] [--waves W]

Starts the release binary with a virtual clock, tops the organization's
credits up through the control API, places N outbound calls to one number
through pipelined keep-alive sockets (`POST /conversation/outbound`), advances
the clock until every call has ended, checks that `/analytics/summary` counts
N calls, then times 30 sequential `GET /analytics/dashboard` requests (median
and p95, ms) and reads the server's RSS. Timing is printed, never asserted.

`--call-store-bytes` and `--analytics-bytes` are passed to the server; with
them the summary counts fewer calls than were placed (the stored ones plus
the evicted ones whose analytics rows are kept, rule CB5): `--expect K`
says how many. `--call-store-bytes 0 --analytics-bytes 3200000` keeps
10,000 rows whatever N is, so RSS should not grow with N. `--waves W`
places the calls in W rounds, each ended before the next, so that at most
N/W calls are live at once (live calls are never evicted, CB1).
"""
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Server, call, admin, place_calls, rss_kib, loadavg)

N = int(bench.arg("--calls") or 100_000)
EXPECT = int(bench.arg("--expect") or N)
WAVES = int(bench.arg("--waves") or 1)


def main():
    binary = bench.arg("--bin")
    if binary is None and "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "--bin", "atoms-mock"], cwd=bench.ROOT, check=True)
    binary = binary or os.path.join(bench.REL, "atoms-mock")
    budgets = [x for flag in ("--call-store-bytes", "--analytics-bytes") if bench.arg(flag) for x in (flag, bench.arg(flag))]
    s = bench.Server([binary, "--port", "0", "--clock", "virtual", "--concurrency-limit", "100000", *budgets])
    try:
        bench.admin(s, "POST", f"/_admin/credits?apiKey={bench.KEY}", {"amount": 10_000_000})
        status, raw = bench.call(s, "POST", "/atoms/v1/agent", {"name": "analytics bench"})
        agent_id = json.loads(raw)["data"]
        placed_s = settle_s = 0.0
        for _ in range(WAVES):
            t0 = time.perf_counter()
            bench.place_calls(s, agent_id, N // WAVES)
            placed_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            for _ in range(60):  # ten minutes of mock time: every scripted call has ended
                bench.admin(s, "POST", "/_admin/clock/advance", {"seconds": 10})
            settle_s += time.perf_counter() - t0
        summary = json.loads(bench.call(s, "GET", "/atoms/v1/analytics/summary")[1])["data"]
        if summary["totalCalls"]["current"] != EXPECT:
            raise RuntimeError(f"summary counts {summary['totalCalls']} calls, expected {EXPECT}")
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            status, raw = bench.call(s, "GET", "/atoms/v1/analytics/dashboard")
            times.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise RuntimeError(f"dashboard: {status} {raw[:200]!r}")
        times.sort()
        print(f"calls: {N} in {WAVES} waves, {EXPECT} counted {' '.join(budgets)} "
              f"(placed in {placed_s:.1f} s, ended by advancing the clock in {settle_s:.1f} s)")
        print(f"GET /analytics/dashboard: median {statistics.median(times):.2f} ms, "
              f"p95 {times[int(len(times) * 0.95) - 1]:.2f} ms, {len(raw)} bytes; "
              f"RSS {bench.rss_kib(s.p.pid) / 1024:.1f} MiB; load {bench.loadavg()}")
    finally:
        s.stop()


if __name__ == "__main__":
    main()
