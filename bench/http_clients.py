"""routeyard's own HTTP client vs httpx vs aiohttp as the upstream client, under streaming load.

Starts ``routeyard fake-provider`` on loopback (first token at once, tokens as fast as it can
send them), then runs each client in a fresh interpreter of its own: streamed chat
completions read line by line to ``data: [DONE]`` over one pooled keep-alive client, at 1 and
at 64 concurrent streams. The baseline, in the same run, is a raw asyncio socket client that
only scans the bytes for the end of the stream: the difference to it is what the client
library adds. Figures: time per stream p50/p99 (ms), the added p50/p99 over the baseline,
client CPU per stream (µs) and the client process's peak RSS (MiB).

    .venv/bin/python bench/http_clients.py [--requests 300] [--tokens 32]

aiohttp is not a dependency of routeyard: ``pip install '.[bench]'`` brings it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BODY = {"model": "fake/chat", "messages": [{"role": "user", "content": "hi"}],
        "stream": True}
CLIENTS = ("raw", "routeyard", "httpx", "httpx-bytes", "aiohttp", "aiohttp-bytes")
DONE = b"data: [DONE]"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the clients (run in a child process) ---------------------------------------------------


async def _raw(url: str, conc: int, per_worker: int) -> list[float]:
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(BODY).encode()
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: {host}:{port}\r\n"
               f"content-type: application/json\r\ncontent-length: {len(payload)}\r\n\r\n"
               ).encode() + payload
    times: list[float] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in range(per_worker):
            started = time.perf_counter()
            writer.write(request)
            buf = b""
            while not buf.endswith(b"0\r\n\r\n") or b"[DONE]" not in buf:
                chunk = await reader.read(65536)
                if not chunk:
                    raise RuntimeError("connection closed")
                buf += chunk
            times.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(worker() for _ in range(conc)))
    return times


async def _httpx(url: str, conc: int, per_worker: int, lines: bool = True) -> list[float]:
    import httpx

    times: list[float] = []
    limits = httpx.Limits(max_connections=1024, max_keepalive_connections=256)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            for _ in range(per_worker):
                started = time.perf_counter()
                async with client.stream("POST", url + "/v1/chat/completions",
                                         json=BODY) as response:
                    if lines:
                        async for line in response.aiter_lines():
                            if line == "data: [DONE]":
                                break
                    else:  # raw bytes, as routeyard's own SSE parser takes them
                        tail = b""
                        async for chunk in response.aiter_raw():
                            tail = (tail + chunk)[-64:]
                            if DONE in tail:
                                break
                times.append(time.perf_counter() - started)
        await asyncio.gather(*(worker() for _ in range(conc)))
    return times


async def _aiohttp(url: str, conc: int, per_worker: int, lines: bool = True) -> list[float]:
    import aiohttp

    times: list[float] = []
    connector = aiohttp.TCPConnector(limit=1024)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            for _ in range(per_worker):
                started = time.perf_counter()
                async with session.post(url + "/v1/chat/completions", json=BODY) as response:
                    if lines:
                        async for raw in response.content:
                            if raw.rstrip(b"\r\n") == DONE:
                                break
                    else:
                        tail = b""
                        async for chunk in response.content.iter_any():
                            tail = (tail + chunk)[-64:]
                            if DONE in tail:
                                break
                times.append(time.perf_counter() - started)
        await asyncio.gather(*(worker() for _ in range(conc)))
    return times


async def _routeyard(url: str, conc: int, per_worker: int) -> list[float]:
    """routeyard.upstream.http1, as the router uses it: bytes in, its own SSE parser's way."""
    from routeyard.upstream.http1 import Pool

    times: list[float] = []
    pool = Pool()
    body = json.dumps(BODY).encode()

    async def worker() -> None:
        for _ in range(per_worker):
            started = time.perf_counter()
            response = await pool.request("POST", url + "/v1/chat/completions", body,
                                          {"Content-Type": "application/json"})
            tail = b""
            while chunk := await response.readany():
                tail = (tail + chunk)[-64:]
                if DONE in tail:
                    break
            response.close()
            times.append(time.perf_counter() - started)
    await asyncio.gather(*(worker() for _ in range(conc)))
    await pool.close()
    return times


def child(name: str, url: str, conc: int, per_worker: int) -> None:
    import functools

    run = {"raw": _raw, "routeyard": _routeyard, "httpx": _httpx, "aiohttp": _aiohttp,
           "httpx-bytes": functools.partial(_httpx, lines=False),
           "aiohttp-bytes": functools.partial(_aiohttp, lines=False)}[name]
    asyncio.run(run(url, conc, max(1, per_worker // 10)))  # warm-up: imports, pool, JIT-free
    cpu0 = time.process_time()
    times = asyncio.run(run(url, conc, per_worker))
    cpu = time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"times": times, "cpu": cpu, "rss": rss}))


# -- the driver -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="streams per case")
    parser.add_argument("--tokens", type=int, default=32, help="content tokens per stream")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, url, conc, per = args.child
        child(name, url, int(conc), int(per))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.procs import free_port

    port = free_port()
    exe = Path(sys.executable).with_name("routeyard")
    fake = subprocess.Popen(
        [str(exe), "fake-provider", "--port", str(port), "--ttft-ms", "0",
         "--tokens-per-s", "1000000", "--output-tokens", str(args.tokens)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(200):
            try:
                httpx.get(url + "/_control", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        print(f"fake provider: {args.tokens} tokens per stream, first token at once; "
              f"{os.cpu_count()} CPUs (shared machine)")
        print(f"{'client':13} {'conc':>4} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} "
              f"{'+p99 ms':>8} {'CPU µs/stream':>14} {'RSS MiB':>8}")
        for conc in (1, 64):
            per = max(1, args.requests // conc)
            base: tuple[float, float] | None = None
            for name in CLIENTS:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", name, url, str(conc), str(per)],
                    capture_output=True, text=True, check=True)
                data = json.loads(out.stdout.strip().splitlines()[-1])
                times = [t * 1000 for t in data["times"]]
                p50, p99 = statistics.median(times), _pct(times, 0.99)
                if base is None:
                    base = (p50, p99)
                cpu_us = data["cpu"] / len(times) * 1e6
                print(f"{name:13} {conc:>4} {p50:>8.2f} {p99:>8.2f} {p50 - base[0]:>8.2f} "
                      f"{p99 - base[1]:>8.2f} {cpu_us:>14.0f} {data['rss']:>8.1f}")
    finally:
        fake.terminate()
        fake.wait(10)


if __name__ == "__main__":
    main()
