#!/usr/bin/env python3
"""RSS of one organization that creates and archives N agents, under each
given `--max-archived-agents` bound (rules AR1-AR3; results go in
BENCHMARKS.md).

One command, bounded, 127.0.0.1 only (build the release binary first):

    python3 scripts/bench_archived.py [--agents 20000] [--step 5000] [--bin BINARY] BOUND...

For each BOUND, starts the release binary with a virtual clock, then on one
keep-alive connection creates an agent (`POST /agent {name}`) and archives
it (`DELETE /agent/{id}/archive`), N times, as a suite that archives its
agent after each test would. Prints the server's RSS every `--step` agents
and the archived count `GET /agent?archived=true` reports at the end. A
bound above N keeps every archived agent (the behaviour before AR1).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Server, KeepAlive, rss_kib, REL)



def run(binary, bound, agents, step):
    with bench.Server([binary, "--port", "0", "--clock", "virtual", "--max-archived-agents", str(bound)]) as s:
        api, points = bench.KeepAlive(s, "sk_archived_bench"), []
        for i in range(1, agents + 1):
            agent = api.call("POST", "/agent", {"name": f"agent {i}"})["data"]
            api.call("DELETE", f"/agent/{agent}/archive")
            if i % step == 0:
                points.append(round(bench.rss_kib(s.p.pid) / 1024, 1))
        kept = api.call("GET", "/agent?archived=true&limit=1")["data"]["totalCount"]
        return points, kept


def main():
    ap = bench.script_parser(__doc__)
    ap.add_argument("--agents", type=int, default=20_000)
    ap.add_argument("--step", type=int, default=5_000)
    ap.add_argument("bounds", type=int, nargs="+")
    a = ap.parse_args()
    steps = range(a.step, a.agents + 1, a.step)
    print("| `--max-archived-agents` | " + " | ".join(f"RSS after {n:,}" for n in steps) + " | archived kept |")
    for bound in a.bounds:
        points, kept = run(a.bin, bound, a.agents, a.step)
        print(f"| {bound:,} | " + " | ".join(f"{m} MiB" for m in points) + f" | {kept:,} |")


if __name__ == "__main__":
    main()
