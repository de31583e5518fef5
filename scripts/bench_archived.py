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
import argparse
import http.client
import json
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(binary, bound, agents, step):
    port = free_port()
    args = [binary, "--port", str(port), "--clock", "virtual", "--max-archived-agents", str(bound)]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": "Bearer sk_archived_bench", "Content-Type": "application/json"}
        points = []
        for i in range(1, agents + 1):
            conn.request("POST", "/atoms/v1/agent", json.dumps({"name": f"agent {i}"}), headers)
            agent = json.loads(conn.getresponse().read())["data"]
            conn.request("DELETE", f"/atoms/v1/agent/{agent}/archive", headers=headers)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit(f"archive {i}: HTTP {r.status}")
            if i % step == 0:
                points.append((i, round(rss_mib(server.pid), 1)))
        conn.request("GET", "/atoms/v1/agent?archived=true&limit=1", headers=headers)
        kept = json.loads(conn.getresponse().read())["data"]["totalCount"]
        return points, kept
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=20_000)
    ap.add_argument("--step", type=int, default=5_000)
    ap.add_argument("--bin", default=str(ROOT / "target/release/atoms-mock"))
    ap.add_argument("bounds", type=int, nargs="+")
    a = ap.parse_args()
    print("| `--max-archived-agents` | " + " | ".join(f"RSS after {n:,}" for n in range(a.step, a.agents + 1, a.step)) + " | archived kept |")
    for bound in a.bounds:
        points, kept = run(a.bin, bound, a.agents, a.step)
        print(f"| {bound:,} | " + " | ".join(f"{m} MiB" for _, m in points) + f" | {kept:,} |")


if __name__ == "__main__":
    main()
