#!/usr/bin/env python3
"""Memory and time of one agent's growing history (rules AH1-AH5; results go
in BENCHMARKS.md).

One command, bounded, 127.0.0.1 only (build the release binary first):

    python3 scripts/bench_history.py [--cycles 5000] [--edits 20000] [--bin BINARY]

Starts the release binary (virtual clock, `--security-check-secs 0`), creates
one agent, then on one keep-alive connection:

- `publish`: N v1 cycles of `POST /agent/{id}/drafts` (from the active
  version), `PATCH …/drafts/{draftId}/config` (a new `firstMessage`) and
  `POST …/drafts/{draftId}/publish`, as a suite that publishes to one
  long-lived agent in every test would;
- `edit`: on a fresh server, M `PUT /agent/{id}/branches/{main}/draft`
  edits of a v2 branch draft.

Prints, every quarter, the server's RSS growth since the agent was created
and the mean milliseconds per cycle (or edit) of that quarter. The request
journal (at most 32 MiB) is part of the growth. Timing is printed, never
asserted.
"""
import argparse
import http.client
import json
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk_history_bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, binary):
        self.port = free_port()
        args = [binary, "--port", str(self.port), "--clock", "virtual", "--security-check-secs", "0"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port)).close()
                break
            except OSError:
                time.sleep(0.05)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def call(self, method, path, body=None, ok=(200, 201, 202)):
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        self.conn.request(method, "/atoms/v1" + path, None if body is None else json.dumps(body), headers)
        r = self.conn.getresponse()
        data = r.read()
        if r.status not in ok:
            raise SystemExit(f"{method} {path}: HTTP {r.status} {data[:200]!r}")
        return json.loads(data) if data else None

    def rss(self):
        return rss_mib(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def measure(label, n, step):
    """Runs `step(i)` n times; prints RSS growth and ms per step by quarter."""
    def run(server):
        base, quarter, t0 = server.rss(), max(n // 4, 1), time.perf_counter()
        for i in range(1, n + 1):
            step(server, i)
            if i % quarter == 0:
                ms = (time.perf_counter() - t0) * 1000 / quarter
                print(f"| {label} | {i:,} | {server.rss() - base:.1f} MiB | {ms:.2f} ms |")
                t0 = time.perf_counter()
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=5_000)
    ap.add_argument("--edits", type=int, default=20_000)
    ap.add_argument("--bin", default=str(ROOT / "target/release/atoms-mock"))
    a = ap.parse_args()
    print("| loop | done | RSS growth | per step, this quarter |")
    print("|---|---:|---:|---:|")

    s = Server(a.bin)
    agent = s.call("POST", "/agent", {"name": "history"})["data"]

    def publish(server, i):
        source = server.call("GET", f"/agent/{agent}")["data"]["activeVersionId"]
        draft = server.call("POST", f"/agent/{agent}/drafts", {"sourceVersionId": source})["data"]["draftId"]
        server.call("PATCH", f"/agent/{agent}/drafts/{draft}/config", {"firstMessage": f"hello number {i} " * 10})
        server.call("POST", f"/agent/{agent}/drafts/{draft}/publish", {"label": f"v{i}"})

    measure("v1 draft-edit-publish cycle", a.cycles, publish)(s)
    s.stop()

    s = Server(a.bin)
    s.conn.request("PUT", f"/_admin/versioning?apiKey={KEY}", json.dumps({"mode": "v2"}), {"Content-Type": "application/json"})
    s.conn.getresponse().read()
    agent = s.call("POST", "/agent", {"name": "history-v2"})["data"]
    branches = s.call("GET", f"/agent/{agent}/branches")["data"]["branches"]
    main_id = next(b["branch"]["_id"] for b in branches if b["branch"]["isDefault"])

    def edit(server, i):
        server.call("PUT", f"/agent/{agent}/branches/{main_id}/draft", {"firstMessage": f"edit {i}"})

    measure("v2 branch-draft edit", a.edits, edit)(s)
    s.stop()


if __name__ == "__main__":
    main()
