#!/usr/bin/env python3
"""RSS of one agent whose history fills with 1 MiB configs, with and without
`--max-memory-bytes` (results go in BENCHMARKS.md).

One command, bounded, 127.0.0.1 only (build the release binary first):

    python3 scripts/bench_memory_limit.py [--cycles 600] [--step 100] [--bin BINARY] LIMIT...

The per-kind bounds let one agent keep 1,000 published versions, and a
config may be as large as a 1 MiB body, so one agent alone can hold about
a GiB. For each LIMIT (`0`: off), starts the release binary with a virtual
clock, creates one agent, then repeats a v1 cycle on one keep-alive
connection: fork a draft from the active version, `PATCH` its config with
about 900 KB of `defaultVariables` (different each time), publish it (not
activated). Prints the server's RSS every `--step` cycles and where the
first 507 came, if one did; after a 507 the cycles stop.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Server, KeepAlive, rss_kib, REL)

BLOB = "x" * 900_000


def cycle(api, agent, version, i):
    """One draft-edit-publish cycle; the status of the first refused step,
    or None."""
    r = api.call("POST", f"/agent/{agent}/drafts", {"sourceVersionId": version}, ok=(201, 507))
    if r.get("status") is False:
        return 507
    draft = r["data"]["draftId"]
    body = {"defaultVariables": {"blob": f"{BLOB}{i}"}}
    r = api.call("PATCH", f"/agent/{agent}/drafts/{draft}/config", body, ok=(200, 507))
    if r.get("status") is False:
        return 507
    r = api.call("POST", f"/agent/{agent}/drafts/{draft}/publish", {"label": f"v{i}"}, ok=(201, 507))
    return 507 if r.get("status") is False else None


def run(binary, limit, cycles, step):
    argv = [binary, "--port", "0", "--clock", "virtual", "--max-memory-bytes", str(limit)]
    with bench.Server(argv) as s:
        api, points, refused = bench.KeepAlive(s, "sk_memory_limit_bench"), [], None
        agent = api.call("POST", "/agent", {"name": "history"})["data"]
        version = api.call("GET", f"/agent/{agent}")["data"]["activeVersionId"]
        for i in range(1, cycles + 1):
            if cycle(api, agent, version, i):
                refused = i
                points.append(round(bench.rss_kib(s.p.pid) / 1024, 1))
                break
            if i % step == 0:
                points.append(round(bench.rss_kib(s.p.pid) / 1024, 1))
        return points, refused


def main():
    ap = bench.script_parser(__doc__)
    ap.add_argument("--cycles", type=int, default=600)
    ap.add_argument("--step", type=int, default=100)
    ap.add_argument("limits", type=int, nargs="+")
    a = ap.parse_args()
    print("| `--max-memory-bytes` | RSS every " + f"{a.step} cycles (MiB) | first 507 |")
    for limit in a.limits:
        points, refused = run(a.bin, limit, a.cycles, a.step)
        label = "0 (off)" if limit == 0 else f"{limit:,} ({limit / 2**20:.0f} MiB)"
        where = f"cycle {refused}, RSS then {points[-1]} MiB" if refused else "none"
        print(f"| {label} | " + ", ".join(str(p) for p in points) + f" | {where} |")


if __name__ == "__main__":
    main()
