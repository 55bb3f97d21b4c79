"""Metric series against hostile requests: `routeyard serve` (one worker) gets N requests with
random method names and random paths; the /metrics series count, size and scrape time before
and after.

    .venv/bin/python bench/series.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import os
import random
import string
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


def scrape(client: httpx.Client) -> tuple[set[str], int, float]:
    time.sleep(1.2)  # the request meter hands its counts over each second
    started = time.monotonic()
    text = client.get("/metrics").text
    took = time.monotonic() - started
    return {line.rsplit(" ", 1)[0] for line in text.splitlines()
            if line and not line.startswith("#")}, len(text), took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        env.update(ROUTEYARD_DATABASE_URL=f"sqlite:///{tmp}/r.db", ROUTEYARD_ACCESS_LOG="false")
        proc = subprocess.Popen([sys.executable, "-m", "routeyard.cli", "serve", "--port",
                                 str(port)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                # Each kind once (and a scrape), so that "before" has every series they make.
                for method, path in (("FROB", "/api/v1/models"), ("FROB", "/nowhere"),
                                     ("GET", "/nowhere")):
                    client.request(method, path)
                scrape(client)
                before = scrape(client)
                rng = random.Random(14)
                started = time.monotonic()
                for i in range(args.requests):
                    method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
                    path = ("/api/v1/models" if i % 2 else
                            "/" + "".join(rng.choices(string.ascii_lowercase, k=8)))
                    client.request(method, path)
                sent = time.monotonic() - started
                after = scrape(client)
            print(f"{args.requests} requests with random methods and paths in {sent:.0f} s: "
                  f"series {len(before[0])} -> {len(after[0])}, /metrics {before[1] / 1024:.1f} -> "
                  f"{after[1] / 1024:.1f} KiB, scrape {before[2] * 1000:.1f} -> "
                  f"{after[2] * 1000:.1f} ms")
            for line in sorted(after[0] - before[0]):
                print("  new:", line)
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    main()
