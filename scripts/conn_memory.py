#!/usr/bin/env python3
"""Memory per idle connection of atoms-mock (results go in BENCHMARKS.md).

For each state, starts a fresh server from the release binary on 127.0.0.1
(port 0) and measures its RSS (VmRSS, /proc) before and after opening N
sockets:
  * connected: accepted, nothing sent yet;
  * kept alive: one `GET /healthz` answered, the connection left open.
Prints KiB per connection for each state. Stops by itself (well within the
default idle timeout, so no connection is closed while it measures).

Usage: python3 scripts/conn_memory.py [BINARY] [N]
(defaults: target/release/atoms-mock, 3000; raises RLIMIT_NOFILE as needed).
"""
import os
import resource
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Set from the command line in `main` (scripts/bench_fanout.py sets them itself).
BIN = os.path.join(ROOT, "target", "release", "atoms-mock")
N = 3000
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def read_response(sock):
    """Reads one small response (headers and a Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(4096)
    return head.split(b"\r\n")[0]


def sync(port):
    """One request on a fresh connection: the server has accepted every
    earlier connection once this is answered (one accept loop, FIFO)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(REQUEST)
        read_response(s)


def measure(state):
    p = subprocess.Popen([BIN, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(p.stdout.readline().strip().rsplit(":", 1)[1].split("/")[0])
        count(p.pid, port, state)
    finally:
        p.terminate()
        p.wait(timeout=30)


def count(pid, port, state):
    sync(port)
    before = rss_kib(pid)
    socks = []
    for _ in range(N):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if state == "kept alive":
            s.sendall(REQUEST)
            read_response(s)
        socks.append(s)
    sync(port)
    after = rss_kib(pid)
    print(f"{state:>10}: {N} connections, RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB, "
          f"{(after - before) / N:.1f} KiB per connection")
    for s in socks:
        s.close()


def main():
    global BIN, N
    BIN = sys.argv[1] if len(sys.argv) > 1 else BIN
    N = int(sys.argv[2]) if len(sys.argv) > 2 else N
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 2 * N + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    print(f"{BIN}")
    measure("connected")
    measure("kept alive")


if __name__ == "__main__":
    main()
