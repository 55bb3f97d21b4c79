"""How long the event loop is held up while outcome batches are ingested, in process.

The outcome-stream scenario's p99 is set by the requests that wait while a batch holds the
worker (its Python on the event loop, or a thread holding the GIL): this measures exactly
that, without a server, so a shared machine blurs it less than a load test. A ticker
coroutine wakes every 0.2 ms; while ``POST /api/v1/admin/outcomes`` batches (as the bench's
stream: 100 outcomes over bench/eight's 8 endpoints) go through the ASGI app, each tick's
lateness is recorded. Printed: the ticks' lateness (median, p99, p99.9, max) with and
without the stream, and the batches' own time.

    .venv/bin/python -m bench.stalls [--batches 200] [--rate 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import catalog_gen, outcomes
from bench.inproc import ASGI, _lifespan, scope

TICK = 0.0002


async def _ticker(lateness: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(TICK)
        lateness.append(time.perf_counter() - before - TICK)


async def _post(app: ASGI, admin: str, body: bytes) -> int:
    sc = scope(outcomes.INGEST_PATH, {"Authorization": f"Bearer {admin}",
                                      "Content-Type": "application/json",
                                      "Content-Length": str(len(body))})
    sc["method"] = "POST"
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(sc, receive, send)
    return status


def _summary(label: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)

    def q(p: float) -> float:
        return ms[min(len(ms) - 1, int(p * len(ms)))]

    return (f"{label:<34} ticks {len(ms):>6}  lateness ms: median {statistics.median(ms):.3f}"
            f"  p99 {q(0.99):.3f}  p99.9 {q(0.999):.3f}  max {ms[-1]:.3f}")


async def measure(batches: int, rate: float) -> None:
    from routeyard.app import create_app
    from routeyard.config import Settings
    from routeyard.service import load_starter
    from routeyard.store import Store

    sys.stderr = open(os.devnull, "w")  # noqa: SIM115, ASYNC230 (the access log)
    out = sys.__stdout__
    tmp = Path(tempfile.mkdtemp(prefix="routeyard-stalls-"))
    url = f"sqlite:///{tmp / 'stalls.db'}"
    store = Store(url)
    store.ensure_schema()
    load_starter(store)
    store.apply_catalog(catalog_gen.generate(0), source="bench")
    admin, _ = store.create_key("bench-admin", "admin")
    app: ASGI = create_app(Settings.load(database_url=url, probe_enabled=False,
                                         rate_limit_admin=0), store=store)
    stop_app = await _lifespan(app)
    models = {m.id: m for m in catalog_gen.generate(0).models}
    endpoints = [(catalog_gen.EIGHT, e.tag) for e in models[catalog_gen.EIGHT].endpoints]
    bodies = [outcomes.body(endpoints, 100, time.time(), seed) for seed in range(8)]
    for body in bodies:  # warm-up
        assert await _post(app, admin, body) == 200

    quiet: list[float] = []
    stop = asyncio.Event()
    task = asyncio.create_task(_ticker(quiet, stop))
    await asyncio.sleep(batches / rate / 4)
    stop.set()
    await task

    loaded: list[float] = []
    took: list[float] = []
    stop = asyncio.Event()
    task = asyncio.create_task(_ticker(loaded, stop))
    for i in range(batches):
        started = time.perf_counter()
        assert await _post(app, admin, bodies[i % len(bodies)]) == 200
        took.append(time.perf_counter() - started)
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - started)))
    stop.set()
    await task
    await stop_app()
    store.dispose()
    print(_summary("no stream", quiet), file=out)
    print(_summary(f"{rate:g} batches/s of 100 outcomes", loaded), file=out)
    print(f"{'a batch, wall time':<34} median {statistics.median(took) * 1000:.2f} ms, "
          f"max {max(took) * 1000:.2f} ms", file=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(measure(args.batches, args.rate))


if __name__ == "__main__":
    main()
