#!/usr/bin/env python3
"""Fan-out benchmark for atoms-mock (results go in BENCHMARKS.md).

One command, bounded (at most about 12 minutes at full size, usually 2-4;
`--quick` at most about 4), 127.0.0.1 only:

    python3 scripts/bench_fanout.py [--quick] [--no-build] [--sse N] [--ws N] [--conns N]

Builds the release binary and the driver (`examples/fanout.rs`, same
profile), then, each on a fresh server:

  * SSE: a server on a virtual clock (`--clock virtual`), one outbound call,
    N subscribers (default 10,000; `--quick` 1,000) of its `GET /events`
    stream. Once all are subscribed, the driver advances the clock 900 s so
    that the whole call happens, and counts the subscribers that received
    exactly the call log's events (the types the stream carries, R129) in
    order before `sse_close`. Reported: subscribers connected and complete,
    fan-out lag p50/p99 (a frame's arrival minus its first arrival at any
    subscriber), advance -> last `sse_close`, and the server's RSS idle
    (after the call was placed), with N subscribers open and idle, and peak
    (VmHWM), with KiB per subscriber = (with N - idle) / N.
  * WS: a server on the real clock with the realtime session limit and the
    organization's concurrency limit raised to N + 10 (`PATCH
    /_admin/realtime {"sessionLimit"}`, `PUT /_admin/concurrency`: a chat
    session is a call and waits for a slot like one), N chat sessions
    (default 1,000; `--quick` 200) that each wait for the greeting, then all
    send one `input_text.send` at once; reported: sessions open and
    completed, turn latency p50/p99 (send -> the assistant's transcript,
    including the scenario's thinking time), RSS idle / with N open / peak
    and KiB per session.
  * Idle connections: KiB per kept-alive HTTP connection (one `GET
    /healthz` answered, left open), `scripts/conn_memory.py`'s method, with
    N = 3,000 (`--quick` 1,000).

Raises its own RLIMIT_NOFILE (inherited by the server and the driver) as far
as the hard limit allows. The journal is off (`--journal-bytes 0`) so that
RSS figures are the connections' own. Timing is printed, never asserted; the
machine's load average is printed next to every figure.
"""
import json
import os
import re
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (helpers: Server, call, rss_kib, loadavg, REL, KEY)
import conn_memory  # noqa: E402

QUICK = "--quick" in sys.argv
SSE_N = int(bench.arg("--sse") or (1_000 if QUICK else 10_000))
WS_N = int(bench.arg("--ws") or (200 if QUICK else 1_000))
CONNS_N = int(bench.arg("--conns") or (1_000 if QUICK else 3_000))
DRIVER_TIMEOUT = 120 if QUICK else 300
FANOUT = os.path.join(bench.REL, "examples", "fanout")
MOCK = os.path.join(bench.REL, "atoms-mock")


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmHWM:\s+(\d+)", f.read(), re.M).group(1))


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def settle(pid):
    """Idle RSS once the server has nothing left to do."""
    time.sleep(0.5)
    return bench.rss_kib(pid)


def drive(server, args):
    """Runs the driver with `--hold`: returns (its open line, RSS with every
    connection open and idle, its done line, CPU seconds of the server and
    of the driver from the go signal to the end)."""
    cmd = [FANOUT, *args, "--hold", "--timeout-secs", str(DRIVER_TIMEOUT)]
    d = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        opened = json.loads(d.stdout.readline() or "null")
        if opened is None:
            raise RuntimeError(f"{FANOUT} ended before opening its connections")
        with_n = settle(server.p.pid)
        server_cpu = bench.cpu_ticks(server.p.pid)
        driver_cpu = driver_ticks(d.pid)
        d.stdin.write("go\n")
        d.stdin.flush()
        out, _ = d.communicate(timeout=DRIVER_TIMEOUT + 30)
        # The driver has been reaped: its whole CPU time is in RUSAGE_CHILDREN.
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = ((bench.cpu_ticks(server.p.pid) - server_cpu) / bench.TICKS,
               used.ru_utime + used.ru_stime - driver_cpu)
        return opened, with_n, json.loads(out.strip().splitlines()[-1]), cpu
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()


def run(flags, setup):
    """A fresh server (journal off, `flags` added); `setup(server)` prepares
    it and returns the driver's arguments. Returns the driver's open line,
    RSS (idle, with every connection open, peak), its done line and the CPU
    seconds from `drive`."""
    s = bench.Server([MOCK, "--port", "0", "--journal-bytes", "0", *flags])
    try:
        args = setup(s)
        idle = settle(s.p.pid)
        opened, with_n, done, cpu = drive(s, args)
        return opened, (idle, with_n, peak_kib(s.p.pid)), done, cpu
    finally:
        s.stop()


def driver_ticks(pid):
    """CPU seconds the driver has used so far, plus those of every child
    reaped before it (so that the difference after it is reaped is its own)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime + bench.cpu_ticks(pid) / bench.TICKS


def sse(n):
    def setup(s):
        _, out = bench.call(s, "POST", "/atoms/v1/agent", {"name": "fan-out"})
        agent = json.loads(out)["data"]
        status, out = bench.call(s, "POST", "/atoms/v1/conversation/outbound",
                                 {"agentId": agent, "phoneNumber": "+14155550123"})
        if status not in (200, 201):
            raise RuntimeError(f"outbound call: {status} {out[:200]!r}")
        return ["sse", f"{s.host}:{s.port}", bench.KEY, json.loads(out)["data"]["conversationId"], str(n)]

    opened, (idle, with_n, peak), done, cpu = run(["--clock", "virtual"], setup)
    lag = done["fanout_lag_ms"]
    print(f"\n### SSE: {n:,} subscribers of one call (load {bench.loadavg()})\n")
    print(f"- connected: {opened['subscribers']:,} of {n:,} in {opened['secs']:.1f} s")
    print(f"- complete (every event of the call log the stream carries, {done['expected_events']}, in order, "
          f"then sse_close): {done['complete']:,} of {n:,}; events per subscriber "
          f"{done['events_min']}–{done['events_max']}; failures {done['failures'] or 'none'}")
    print(f"- fan-out lag (arrival − first arrival of the same frame), {lag['samples']:,} deliveries: "
          f"p50 {lag['p50']} ms, p99 {lag['p99']} ms, max {lag['max']} ms; "
          f"advance → last sse_close {done['advance_to_last_close_ms']} ms; CPU from then to the end: "
          f"server {cpu[0]:.2f} s, driver {cpu[1]:.2f} s")
    print(f"- RSS idle {mib(idle)}, with {n:,} subscribers {mib(with_n)}, peak {mib(peak)}: "
          f"{(with_n - idle) / n:.1f} KiB per subscriber")


def ws(n):
    def setup(s):
        _, out = bench.call(s, "POST", "/atoms/v1/agent", {"name": "fan-out"})
        # A chat session is a call: it needs a concurrency slot (R108) as well as a session slot.
        for method, path, body in (("PATCH", "/_admin/realtime", {"sessionLimit": n + 10}),
                                   ("PUT", f"/_admin/concurrency?apiKey={bench.KEY}", {"limit": n + 10})):
            status, answer = bench.call(s, method, path, body)
            if status != 200:
                raise RuntimeError(f"{method} {path}: {status} {answer[:200]!r}")
        return ["ws", f"{s.host}:{s.port}", bench.KEY, json.loads(out)["data"], str(n)]

    opened, (idle, with_n, peak), done, cpu = run([], setup)
    t = done["turn_ms"]
    print(f"\n### WebSocket: {n:,} realtime chat sessions (load {bench.loadavg()})\n")
    print(f"- open (greeting received): {opened['sessions']:,} of {n:,} in {opened['secs']:.1f} s")
    print(f"- completed a turn: {done['completed']:,} of {n:,}; failures {done['failures'] or 'none'}")
    print(f"- turn latency (send → assistant transcript): p50 {t['p50']} ms, p99 {t['p99']} ms, max {t['max']} ms; "
          f"CPU from the sends to the end: server {cpu[0]:.2f} s, driver {cpu[1]:.2f} s")
    print(f"- RSS idle {mib(idle)}, with {n:,} open sessions {mib(with_n)}, peak {mib(peak)}: "
          f"{(with_n - idle) / n:.1f} KiB per session")


def idle_connections(n):
    print(f"\n### Idle HTTP connections (load {bench.loadavg()})\n")
    conn_memory.BIN, conn_memory.N = MOCK, n
    conn_memory.measure("kept alive")


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 2 * max(SSE_N, WS_N, CONNS_N) + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "--bin", "atoms-mock", "--example", "fanout"],
                       cwd=bench.ROOT, check=True)
    print(f"machine: {os.cpu_count()} CPUs, {os.uname().release}; load average at start {bench.loadavg()}")
    sse(SSE_N)
    ws(WS_N)
    idle_connections(CONNS_N)


if __name__ == "__main__":
    main()
