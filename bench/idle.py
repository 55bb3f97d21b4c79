"""Idle connections against `routeyard serve` (one worker): the memory they cost and how long
a fresh request waits while they are held, with routeyard's connection settings and, as the
baseline in the same run, Granian's former default limit (1,024 connections per worker).

    .venv/bin/python bench/idle.py [--idle 2000] [--fresh 50]

Half the idle sockets send nothing, half a request head that never ends.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.procs import free_port


def _rss_kib(pid: int) -> int:
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def run(label: str, env: dict[str, str], idle: int, fresh: int) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**env, "ROUTEYARD_DATABASE_URL": f"sqlite:///{tmp}/r.db"}
        proc = subprocess.Popen([sys.executable, "-m", "routeyard.cli", "serve", "--port",
                                 str(port)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(base + "/healthz", timeout=0.5).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            time.sleep(0.5)
            before = _rss_kib(proc.pid)
            socks = []
            for i in range(idle):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                if i % 2:
                    s.sendall(b"GET /api/v1/models HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            time.sleep(1.0)
            held = _rss_kib(proc.pid)
            waits: list[float] = []
            timeouts = 0
            for _ in range(fresh):
                started = time.monotonic()
                try:
                    httpx.get(base + "/healthz", timeout=3, headers={"connection": "close"})
                    waits.append(time.monotonic() - started)
                except httpx.HTTPError:
                    timeouts += 1
            closed = 0
            time.sleep(float(env.get("ROUTEYARD_KEEP_ALIVE_TIMEOUT", "5")) + 1.5)
            for s in socks:
                s.setblocking(False)
                try:
                    closed += s.recv(1) == b""
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
                s.close()
            shown = (f"median {statistics.median(waits) * 1000:.1f} ms, max "
                     f"{max(waits) * 1000:.1f} ms" if waits else "none answered")
            print(f"{label}: {idle} idle, RSS {before / 1024:.1f} -> {held / 1024:.1f} MiB "
                  f"({(held - before) / idle:.1f} KiB each); {fresh} fresh requests: {shown}, "
                  f"{timeouts} timed out (3 s); closed by the server after the keep-alive "
                  f"timeout: {closed}/{idle}")
        finally:
            proc.terminate()
            proc.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--fresh", type=int, default=50)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    run("baseline (max 1024 connections, as Granian's default)",
        {**env, "ROUTEYARD_MAX_CONNECTIONS": "1024", "ROUTEYARD_KEEP_ALIVE_TIMEOUT": "30"},
        args.idle, min(args.fresh, 5))
    run("routeyard defaults (max 4096, keep-alive 5 s)", env, args.idle, args.fresh)


if __name__ == "__main__":
    main()
