#!/usr/bin/env python3
"""Memory and time of one agent's growing history (rules AH1-AH6; results go
in BENCHMARKS.md).

One command, bounded, 127.0.0.1 only (build the release binary first):

    python3 scripts/bench_history.py [--cycles 5000] [--edits 20000] [--bin BINARY]

Starts the release binary (virtual clock, `--security-check-secs 0`), creates
one agent, then on one keep-alive connection:

- N v1 cycles of `POST /agent/{id}/drafts` (from the active version),
  `PATCH …/drafts/{draftId}/config` (a new `firstMessage`) and
  `POST …/drafts/{draftId}/publish`, as a suite that publishes to one
  long-lived agent in every test would;
- on a fresh server, M `PUT /agent/{id}/branches/{main}/draft` edits of a
  v2 branch draft.

Prints, every quarter, the server's RSS growth since the agent was created
and the mean milliseconds per cycle (or edit) of that quarter. The request
journal (at most 32 MiB) is part of the growth. Timing is printed, never
asserted.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Server, KeepAlive, admin, rss_kib, REL)

KEY = "sk_history_bench"


def measure(s, label, n, step):
    """Runs `step(i)` n times; prints RSS growth and ms per step by quarter."""
    base, quarter, t0 = bench.rss_kib(s.p.pid), max(n // 4, 1), time.perf_counter()
    for i in range(1, n + 1):
        step(i)
        if i % quarter == 0:
            ms = (time.perf_counter() - t0) * 1000 / quarter
            print(f"| {label} | {i:,} | {(bench.rss_kib(s.p.pid) - base) / 1024:.1f} MiB | {ms:.2f} ms |")
            t0 = time.perf_counter()


def publishing(binary, cycles):
    with bench.Server([binary, "--port", "0", "--clock", "virtual", "--security-check-secs", "0"]) as s:
        api = bench.KeepAlive(s, KEY)
        agent = api.call("POST", "/agent", {"name": "history"})["data"]

        def cycle(i):
            source = api.call("GET", f"/agent/{agent}")["data"]["activeVersionId"]
            draft = api.call("POST", f"/agent/{agent}/drafts", {"sourceVersionId": source})["data"]["draftId"]
            api.call("PATCH", f"/agent/{agent}/drafts/{draft}/config", {"firstMessage": f"hello number {i} " * 10})
            api.call("POST", f"/agent/{agent}/drafts/{draft}/publish", {"label": f"v{i}"})

        measure(s, "v1 draft-edit-publish cycle", cycles, cycle)


def editing(binary, edits):
    with bench.Server([binary, "--port", "0", "--clock", "virtual", "--security-check-secs", "0"]) as s:
        bench.admin(s, "PUT", f"/_admin/versioning?apiKey={KEY}", {"mode": "v2"})
        api = bench.KeepAlive(s, KEY)
        agent = api.call("POST", "/agent", {"name": "history-v2"})["data"]
        branches = api.call("GET", f"/agent/{agent}/branches")["data"]["branches"]
        main = next(b["branch"]["_id"] for b in branches if b["branch"]["isDefault"])
        path = f"/agent/{agent}/branches/{main}/draft"
        measure(s, "v2 branch-draft edit", edits, lambda i: api.call("PUT", path, {"firstMessage": f"edit {i}"}))


def main():
    ap = bench.script_parser(__doc__)
    ap.add_argument("--cycles", type=int, default=5_000)
    ap.add_argument("--edits", type=int, default=20_000)
    a = ap.parse_args()
    print("| loop | done | RSS growth | per step, this quarter |")
    print("|---|---:|---:|---:|")
    publishing(a.bin, a.cycles)
    editing(a.bin, a.edits)


if __name__ == "__main__":
    main()
