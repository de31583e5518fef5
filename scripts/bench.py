#!/usr/bin/env python3
"""Load and memory benchmark for atoms-mock (results go in BENCHMARKS.md).

One command, bounded (about 4 minutes; `--quick` about 1.5), 127.0.0.1 only:

    python3 scripts/bench.py [--quick] [--before OTHER_BINARY] [--hello BASELINE] [--no-build] [--bin BINARY] [--lists] [--memory]

`--memory` measures only memory per agent and the reset (below; about 1
minute per binary, no `wrk` needed).

`--lists` measures only list latency against record count (about 3 minutes per
binary): `GET /campaign` and `GET /conversation`, first page in the default
order, at 1k, 10k and 100k campaigns and calls in one organization (see
`lists` below); it needs no `wrk` and builds only the mock.

Builds the release binary and the bare axum baseline (`examples/hello_axum.rs`,
same profile), then measures, for the mock and, with `--before`, a second mock
binary (e.g. one built from an older commit) in the same run:

  * throughput: `wrk -t2 -c32 -d5s --latency`, 3 rounds (1 with --quick), each
    round alternating the baseline and the binaries; medians of req/s and
    p99, their ratio to the baseline, and the server's CPU time per request
    (utime+stime from /proc/PID/stat over the run / requests served), which
    holds up better than req/s on a shared, loaded machine. Routes:
    GET /agent/{id}, POST /agent {name} (default config) and
    POST /agent {name, firstMessage}; each POST run gets a fresh server
    whose organization may hold 1,000,000 agents (the plan's 10,000 would
    turn the rest of the run into 403s); the `non-2xx` column counts the
    answers that were not 2xx (it should be 0);
  * memory per agent: VmRSS growth / N after creating N = 10k and 100k agents
    with `{name}` through 4 pipelined keep-alive sockets (and the growth of
    each step over the agents it added: 1k→10k, 10k→100k);
  * memory per agent with one config field: VmRSS growth / 10k after
    creating 10k `{name, firstMessage}` agents on a fresh server;
  * memory per agent after a restart: 20k `{name}` agents with
    `--state-file`, the peak RSS once a snapshot of them was written,
    SIGTERM, a start from the file (in a temporary folder);
  * list latency: GET /agent (first page, default sort) at 1k, 10k, 100k
    agents in one organization, median of 30 sequential requests;
  * reset: RSS 0.2 s and 3 s after `POST /_admin/reset`, against idle RSS;
  * idle RSS and readiness (exec to first 200 on /healthz, median of 20).

Needs `wrk` (Debian/Ubuntu: `apt-get install wrk`; the script says so and
stops if it is missing). Timing is printed, never asserted.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REL = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release")
KEY = "sk_bench"
QUICK = "--quick" in sys.argv
ROUNDS = 1 if QUICK else 3
DURATION = "5s"
TICKS = os.sysconf("SC_CLK_TCK")


def arg(name):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def hwm_kib(pid):
    """Peak resident set (VmHWM) of pid, KiB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class Server:
    """A child process serving on 127.0.0.1 with a port it picked itself."""

    def __init__(self, argv, env=None):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  env={**os.environ, **(env or {})}, text=True)
        line = self.p.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"{argv[0]} printed {line!r} instead of its address")
        threading.Thread(target=self.p.stdout.read, daemon=True).start()  # never let the pipe fill
        # The mock prints its API base (`http://127.0.0.1:PORT/atoms/v1`).
        self.host, rest = line[len("http://"):].split(":", 1)
        self.port = int(rest.split("/")[0])
        self.base = f"http://{self.host}:{self.port}"

    def get_ok(self, path, timeout=10.0):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                c = http.client.HTTPConnection(self.host, self.port, timeout=2)
                c.request("GET", path)
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.001)
        raise RuntimeError(f"{self.base}{path} not ready")

    def stop(self):
        self.p.kill()
        self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.stop()


def script_parser(doc):
    """The argument parser of a benchmark script (`bench_archived.py`,
    `bench_history.py`, `bench_memory_limit.py`): its docstring's first
    line as description, and `--bin` (default: the release build)."""
    import argparse
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(REL, "atoms-mock"))
    return ap


def free_port():
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def hello(binary):
    # A free port chosen here (rather than PORT=0) also suits builds of the
    # baseline that print the requested port instead of the bound one.
    return Server([binary], env={"PORT": str(free_port())})


def mock(binary):
    return Server([binary, "--port", "0"])


class KeepAlive:
    """One keep-alive connection to Server `s` with API key `key`, for
    loops of sequential requests (`scripts/bench_archived.py`,
    `scripts/bench_history.py`)."""

    def __init__(self, s, key):
        self.conn = http.client.HTTPConnection(s.host, s.port, timeout=30)
        self.key = key

    def call(self, method, path, body=None, ok=(200, 201, 202)):
        """`method` `/atoms/v1` + `path`; the parsed JSON answer. A status
        outside `ok` raises."""
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        self.conn.request(method, "/atoms/v1" + path, None if body is None else json.dumps(body), headers)
        r = self.conn.getresponse()
        raw = r.read()
        if r.status not in ok:
            raise RuntimeError(f"{method} {path}: {r.status} {raw[:200]!r}")
        return json.loads(raw) if raw else None


def call(s, method, path, body=None):
    c = http.client.HTTPConnection(s.host, s.port, timeout=30)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, r.read()


def pipelined(s, request, n, ok, sockets=4, batch=64):
    """Sends `request` (raw HTTP/1.1 bytes) n times through pipelined
    keep-alive sockets; every answer must start with the status line `ok`."""
    socks = [socket.create_connection((s.host, s.port)) for _ in range(sockets)]
    left = n
    try:
        while left > 0:
            sent = []
            for sk in socks:
                k = min(batch, left)
                if k == 0:
                    break
                sk.sendall(request * k)
                sent.append((sk, k))
                left -= k
            for sk, k in sent:
                buf = b""
                # Every reply is complete once k have started and the last JSON body closed.
                while buf.count(b"HTTP/1.1 ") < k or not buf.rstrip().endswith(b"}"):
                    chunk = sk.recv(1 << 20)
                    if not chunk:
                        raise RuntimeError("connection closed while pipelining")
                    buf += chunk
                if buf.count(ok) != k:
                    raise RuntimeError(f"an answer was not {ok!r}: {buf[:300]!r}")
    finally:
        for sk in socks:
            sk.close()


def post_request(path, body):
    """The raw bytes of an authorized JSON POST to `path`."""
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def admin(s, method, path, body):
    """A control-API request (no key); an answer of 300 or more raises."""
    c = http.client.HTTPConnection(s.host, s.port, timeout=900)  # an advance fires every due timer
    c.request(method, path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    status, raw = r.status, r.read()
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {raw[:200]!r}")
    return json.loads(raw)


def place_calls(s, agent_id, n):
    """Places n outbound calls to one number through pipelined keep-alive sockets."""
    body = json.dumps({"agentId": agent_id, "phoneNumber": "+14155550123"}).encode()
    pipelined(s, post_request("/atoms/v1/conversation/outbound", body), n, b"HTTP/1.1 200")


def create_agents(s, n, sockets=4, batch=64, body=b'{"name":"m"}'):
    """Creates n agents (default `{name}`) through pipelined keep-alive sockets."""
    pipelined(s, post_request("/atoms/v1/agent", body), n, b"HTTP/1.1 201", sockets, batch)

def wrk(url, script=None):
    cmd = ["wrk", "-t2", "-c32", f"-d{DURATION}", "--latency", "-H", f"Authorization: Bearer {KEY}"]
    if script:
        cmd += ["-s", os.path.join(ROOT, "scripts", script)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    rps = float(next(l for l in lines if l.startswith("Requests/sec")).split()[1])
    total = int(next(l for l in lines if "requests in" in l).split()[0])
    p99 = next(l.split()[1] for l in lines if l.strip().startswith("99%"))
    ms = float(p99[:-2]) if p99.endswith("ms") else float(p99[:-2]) / 1000 if p99.endswith("us") else float(p99[:-1]) * 1000
    errors = next((int(l.split()[-1]) for l in lines if "Non-2xx or 3xx responses" in l), 0)
    return rps, ms, total, errors


def measured(server, url, script=None):
    """wrk against url; adds the server's CPU µs per request served."""
    t0 = cpu_ticks(server.p.pid)
    rps, p99, total, errors = wrk(url, script)
    cpu_us = (cpu_ticks(server.p.pid) - t0) / TICKS * 1e6 / max(total, 1)
    return {"rps": rps, "p99": p99, "cpu": cpu_us, "load": float(loadavg()), "errors": errors}


def throughput(binaries, hello_bin):
    rows = {}
    for rnd in range(ROUNDS):
        h = hello(hello_bin)
        try:
            rows.setdefault(("baseline", "GET /"), []).append(measured(h, h.base + "/"))
        finally:
            h.stop()
        for label, binary in binaries:
            s = mock(binary)
            try:
                _, out = call(s, "POST", "/atoms/v1/agent", {"name": "bench"})
                agent = json.loads(out)["data"]
                for i in range(50):
                    call(s, "POST", "/atoms/v1/agent", {"name": f"filler {i}"})
                rows.setdefault((label, "GET /agent/{id}"), []).append(
                    measured(s, f"{s.base}/atoms/v1/agent/{agent}"))
            finally:
                s.stop()
            for route, script in (("POST /agent {name}", "post_agent_name.lua"),
                                  ("POST /agent {name, firstMessage}", "post_agent.lua")):
                s = mock(binary)
                try:
                    # Without this, the plan's agent limit (10,000 on plan_standard) turns
                    # every POST after the first 10,000 into a 403, and the run measures those.
                    raise_agent_limit(s)
                    rows.setdefault((label, route), []).append(measured(s, f"{s.base}/atoms/v1/agent", script))
                finally:
                    s.stop()
        print(f"  round {rnd + 1}/{ROUNDS} done (load {loadavg()})", file=sys.stderr)
    med = {k: {f: statistics.median(r[f] for r in v) for f in ("rps", "p99", "cpu", "load", "errors")}
           for k, v in rows.items()}
    base = med[("baseline", "GET /")]
    print(f"\n### Throughput: wrk -t2 -c32 -d{DURATION}, medians of {ROUNDS} alternating rounds\n")
    print("| server | route | req/s | × baseline | p99 ms | p99 × baseline | CPU µs/req | non-2xx | load |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for (label, route), m in med.items():
        print(f"| {label} | {route} | {m['rps']:,.0f} | {m['rps'] / base['rps']:.2f} | {m['p99']:.2f} | "
              f"{m['p99'] / base['p99']:.1f} | {m['cpu']:.1f} | {m['errors']:,.0f} | {m['load']:.1f} |")


def list_ms(s, n=30, path="/atoms/v1/agent?page=1&offset=10"):
    """Median ms of n sequential GETs of `path` on one connection."""
    c = http.client.HTTPConnection(s.host, s.port, timeout=120)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.request("GET", path, headers={"Authorization": f"Bearer {KEY}"})
        r = c.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise RuntimeError(f"GET {path}: {r.status} {body[:200]!r}")
    return statistics.median(times)


def audience(s):
    """Uploads a one-member audience; returns its id."""
    b = "----benchboundary"
    fields = (("name", "Bench"), ("phoneNumberColumnName", "phone"))
    body = "".join(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields)
    body += (f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
             f"Content-Type: text/csv\r\n\r\nphone\n+14155550100\n\r\n--{b}--\r\n")
    c = http.client.HTTPConnection(s.host, s.port, timeout=30)
    c.request("POST", "/atoms/v1/audience", body=body.encode(),
              headers={"Authorization": f"Bearer {KEY}", "Content-Type": f"multipart/form-data; boundary={b}"})
    r = c.getresponse()
    out = json.loads(r.read())
    if r.status != 200:
        raise RuntimeError(f"audience upload answered {r.status}: {out}")
    return out["data"]["_id"]


def lists(label, binary):
    """List latency against record count in one organization, with a
    virtual clock: at each step, campaigns (`{name, agentId, audienceId}`,
    a one-member audience) are created and outbound calls placed through
    pipelined POSTs up to N of each, then the clock advances 1 s (the new
    calls start ringing, so their `updatedAt` moves); then 30 sequential
    `GET /campaign?page=1&offset=10` and `GET /conversation?page=1&limit=10`
    (default filters and sort) give their medians."""
    steps = [1_000, 10_000] if QUICK else [1_000, 10_000, 100_000]
    s = Server([binary, "--port", "0", "--clock", "virtual", "--concurrency-limit", "100000"])
    try:
        admin(s, "POST", f"/_admin/credits?apiKey={KEY}", {"amount": 10_000_000})
        admin(s, "PUT", f"/_admin/plan?apiKey={KEY}", {"limits": {"campaigns": 1_000_000}})
        agent = json.loads(call(s, "POST", "/atoms/v1/agent", {"name": "bench"})[1])["data"]
        body = json.dumps({"name": "c", "agentId": agent, "audienceId": audience(s)}).encode()
        made, rows = 0, []
        for n in steps:
            pipelined(s, post_request("/atoms/v1/campaign", body), n - made, b"HTTP/1.1 201")
            place_calls(s, agent, n - made)
            made = n
            admin(s, "POST", "/_admin/clock/advance", {"seconds": 1})
            rows.append((n, list_ms(s, path="/atoms/v1/campaign?page=1&offset=10"),
                         list_ms(s, path="/atoms/v1/conversation?page=1&limit=10"), rss_kib(s.p.pid)))
    finally:
        s.stop()
    print(f"\n### Lists: {label} (load {loadavg()})\n")
    print("| campaigns and calls | GET /campaign first page p50 | GET /conversation first page p50 | RSS |")
    print("|---:|---:|---:|---:|")
    for n, campaigns, calls, rss in rows:
        print(f"| {n:,} | {campaigns:.2f} ms | {calls:.2f} ms | {rss / 1024:,.0f} MiB |")


def raise_agent_limit(s):
    """Lifts the bench organization's agent limit to 1,000,000."""
    try:
        admin(s, "PUT", f"/_admin/plan?apiKey={KEY}", {"limits": {"agents": 1_000_000}})
    except RuntimeError:
        pass  # a binary from before plan limits existed


def memory(label, binary):
    steps = [1_000, 10_000] if QUICK else [1_000, 10_000, 100_000]
    s = mock(binary)
    try:
        s.get_ok("/healthz")
        time.sleep(0.2)
        idle = rss_kib(s.p.pid)
        raise_agent_limit(s)  # the plan's limit (10,000 on plan_standard) would stop the run
        made, out, prev = 0, [], idle
        for n in steps:
            create_agents(s, n - made)
            rss = rss_kib(s.p.pid)
            # The step's own growth leaves out what the first requests
            # cost once (runtime buffers, first pages of each arena).
            out.append((n, (rss - idle) / n, (rss - prev) / (n - made), list_ms(s)))
            made, prev = n, rss
        call(s, "POST", "/_admin/reset")
        t_reset = time.perf_counter()
        time.sleep(0.2)
        r02 = rss_kib(s.p.pid)
        time.sleep(max(0.0, 3.0 - (time.perf_counter() - t_reset)))
        r3 = rss_kib(s.p.pid)
    finally:
        s.stop()
    print(f"\n### Memory and lists: {label} (load {loadavg()})\n")
    print("| agents | KiB/agent (RSS growth / N) | KiB/agent of this step | GET /agent first page p50 |")
    print("|---:|---:|---:|---:|")
    for n, kib, step, ms in out:
        print(f"| {n:,} | {kib:.2f} | {step:.2f} | {ms:.2f} ms |")
    print(f"\nidle RSS {idle / 1024:.1f} MiB; after {made:,} agents + `POST /_admin/reset`: "
          f"{r02 / 1024:.1f} MiB at +0.2 s ({r02 / idle:.1f}× idle), {r3 / 1024:.1f} MiB at +3 s ({r3 / idle:.1f}× idle)")


def memory_with_config(label, binary, n=10_000):
    """KiB per agent (RSS growth / n) created with one config field,
    `{name, firstMessage}`, on a fresh server: the field is laid over the
    shared defaults until something reads the whole config."""
    s = mock(binary)
    try:
        s.get_ok("/healthz")
        time.sleep(0.2)
        idle = rss_kib(s.p.pid)
        raise_agent_limit(s)
        body = b'{"name":"m","firstMessage":"Hello from the load test."}'
        create_agents(s, n, body=body)
        created = rss_kib(s.p.pid)
    finally:
        s.stop()
    print(f"\n{label}: {n:,} agents `{{name, firstMessage}}`: {(created - idle) / n:.2f} KiB/agent (load {loadavg()})")


def restart(label, binary, n=20_000):
    """KiB per agent after a restart from a state file: n `{name}` agents
    created with `--state-file` (snapshots every second), the peak RSS
    (VmHWM) once a snapshot of them has been written, a graceful stop
    (SIGTERM writes the snapshot), a start from the file; RSS growth over
    the first start's idle RSS / n, 0.5 s after the restarted server
    answers."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "state.json")
        s = Server([binary, "--port", "0", "--state-file", path, "--snapshot-interval-secs", "1"])
        s.get_ok("/healthz")
        time.sleep(0.2)
        idle = rss_kib(s.p.pid)
        raise_agent_limit(s)
        create_agents(s, n)
        made = rss_kib(s.p.pid)
        # A snapshot of all n agents is on disk when a write has started
        # after the last create and ended (no temporary file left).
        t_made, tmp = time.time(), os.path.join(d, ".state.json.tmp")
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and not (
                os.path.exists(path) and os.path.getmtime(path) > t_made + 0.05 and not os.path.exists(tmp)):
            time.sleep(0.05)
        peak = hwm_kib(s.p.pid)
        s.p.send_signal(signal.SIGTERM)
        s.p.wait()
        size = os.path.getsize(path)
        t0 = time.perf_counter()
        s = Server([binary, "--port", "0", "--state-file", path])
        try:
            s.get_ok("/healthz")
            ready = time.perf_counter() - t0
            time.sleep(0.5)
            back = rss_kib(s.p.pid)
        finally:
            s.stop()
    print(f"\n{label}: {n:,} agents `{{name}}` with --state-file: {(made - idle) / n:.2f} KiB/agent, "
          f"RSS {made / 1024:.0f} MiB, peak RSS once a snapshot was written {peak / 1024:.0f} MiB; "
          f"after a restart from the {size / 2**20:.0f} MiB file (ready in {ready:.1f} s): "
          f"{(back - idle) / n:.2f} KiB/agent (load {loadavg()})")


def readiness(binary):
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        s = mock(binary)
        try:
            s.get_ok("/healthz")
            times.append((time.perf_counter() - t0) * 1000)
        finally:
            s.stop()
    return statistics.median(times), max(times)


def main():
    def memory_both(label, binary):
        memory(label, binary)
        memory_with_config(label, binary)
        restart(label, binary)

    for flag, part in (("--lists", lists), ("--memory", memory_both)):
        if flag in sys.argv:
            if "--no-build" not in sys.argv:
                subprocess.run(["cargo", "build", "--release", "--bin", "atoms-mock"], cwd=ROOT, check=True)
            print(f"machine: {os.cpu_count()} CPUs, {os.uname().release}; load average at start {loadavg()}")
            for label, binary in binaries():
                part(label, binary)
            return
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: install it with `sudo apt-get install wrk` (Debian/Ubuntu)")
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "--bin", "atoms-mock", "--example", "hello_axum"],
                       cwd=ROOT, check=True)
    print(f"machine: {os.cpu_count()} CPUs, {os.uname().release}; load average at start {loadavg()}")
    for label, binary in binaries():
        med, worst = readiness(binary)
        print(f"readiness ({label}): median {med:.1f} ms, max {worst:.1f} ms (exec to first 200)")
    throughput(binaries(), arg("--hello") or os.path.join(REL, "examples", "hello_axum"))
    for label, binary in binaries():
        memory_both(label, binary)


def binaries():
    """`--before`'s binary (if given), then the mock: (label, path)."""
    out = [("mock", arg("--bin") or os.path.join(REL, "atoms-mock"))]
    if arg("--before"):
        out.insert(0, ("before", os.path.abspath(arg("--before"))))
    return out


if __name__ == "__main__":
    main()
