#!/usr/bin/env python3
"""Load benchmark for atoms-mock (results go in BENCHMARKS.md).

Builds the release binary and the bare axum hello-world example, then on
127.0.0.1 only:
  * readiness: ms from process start until GET /healthz answers (median of 20);
  * idle memory: VmRSS of the started server before and after the load;
  * throughput: wrk (2 threads, 64 connections, 10 s) against the baseline
    hello-world and against mock routes (healthz, GET /agent/{id},
    GET /agent list, a POST /agent write, GET /conversation/{id}).
Needs `wrk` (Debian package `wrk`). Usage: python3 scripts/bench.py [--quick]
"""
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "atoms-mock")
HELLO = os.path.join(ROOT, "target", "release", "examples", "hello_axum")
KEY = "sk_bench"
QUICK = "--quick" in sys.argv
DURATION = "3s" if QUICK else "10s"


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def rss(pid):
    return (f"{rss_kib(pid) / 1024:.1f} MiB (anonymous {rss_kib(pid, 'RssAnon') / 1024:.1f} MiB, "
            f"file-backed {rss_kib(pid, 'RssFile') / 1024:.1f} MiB)")


def wait_ready(url, timeout=10.0):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return (time.perf_counter() - start) * 1000
        except OSError:
            time.sleep(0.0005)
    raise RuntimeError(f"{url} not ready")


def start_mock(port):
    p = subprocess.Popen([BIN, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p


def request(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def wrk(url, script=None, headers=True):
    cmd = ["wrk", "-t2", "-c64", f"-d{DURATION}", "--latency"]
    if headers:
        cmd += ["-H", f"Authorization: Bearer {KEY}"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(next(l for l in out.splitlines() if l.startswith("Requests/sec")).split()[1])
    p99 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")), "?")
    return rps, p99


def main():
    subprocess.run(["cargo", "build", "--release", "--bin", "atoms-mock", "--example", "hello_axum"], cwd=ROOT, check=True)
    readiness = []
    for i in range(20):
        t0 = time.perf_counter()
        p = start_mock(4200 + i)
        try:
            wait_ready(f"http://127.0.0.1:{4200 + i}/healthz")
            readiness.append((time.perf_counter() - t0) * 1000)
        finally:
            p.terminate()
            p.wait()
    print(f"readiness: median {statistics.median(readiness):.1f} ms, max {max(readiness):.1f} ms (process start to first 200)")

    hello = subprocess.Popen([HELLO], env={**os.environ, "PORT": "4099"}, stdout=subprocess.DEVNULL)
    mock = start_mock(4098)
    try:
        wait_ready("http://127.0.0.1:4099/")
        wait_ready("http://127.0.0.1:4098/healthz")
        time.sleep(0.2)
        print(f"idle RSS: mock {rss(mock.pid)}")
        print(f"idle RSS: hello-world {rss(hello.pid)}")
        base = "http://127.0.0.1:4098/atoms/v1"
        agent = request("POST", f"{base}/agent", {"name": "bench"})["data"]
        for i in range(50):
            request("POST", f"{base}/agent", {"name": f"filler {i}"})
        call = request("POST", f"{base}/conversation/outbound", {"agentId": agent, "phoneNumber": "+14155550123"})["data"]["conversationId"]
        post = os.path.join(ROOT, "scripts", "post_agent.lua")
        rows = [
            ("hello-world GET / (baseline)", wrk("http://127.0.0.1:4099/", headers=False)),
            ("mock GET /healthz", wrk("http://127.0.0.1:4098/healthz", headers=False)),
            ("mock GET /atoms/v1/agent/{id}", wrk(f"{base}/agent/{agent}")),
            ("mock GET /atoms/v1/agent (list, 51 agents)", wrk(f"{base}/agent")),
            ("mock POST /atoms/v1/agent", wrk(f"{base}/agent", script=post)),
            ("mock GET /atoms/v1/conversation/{callId}", wrk(f"{base}/conversation/{call}")),
        ]
        baseline = rows[0][1][0]
        print(f"{'route':48} {'req/s':>10} {'p99':>8} {'vs baseline':>12}")
        for name, (rps, p99) in rows:
            print(f"{name:48} {rps:>10.0f} {p99:>8} {rps / baseline:>11.0%}")
        print(f"RSS after load: mock {rss(mock.pid)}")
    finally:
        for p in (hello, mock):
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
