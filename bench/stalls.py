"""How long the event loop is held up while outcome batches are ingested, in process.

The outcome-stream scenario's p99 is set by the requests that wait while a batch holds the
worker (its Python on the event loop, or a thread holding the GIL): this measures exactly
that, without a server, so a shared machine blurs it less than a load test. A ticker
coroutine takes turn after turn of the event loop, as a loaded server's requests do, while
``POST /api/v1/admin/outcomes`` batches (as the bench's stream: 100 outcomes over
bench/eight's 8 endpoints) go through the ASGI app; a gap between two turns is time the loop
was held. Printed, with and without the stream: stalls per second, time stalled per second,
the longest; and the batches' own time.

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

# Gaps between the ticker's turns longer than this count as stalls (a turn takes ~10 µs).
STALL = 0.0005


class Ticks:
    """The ticker's record: turns, seconds, and each gap longer than :data:`STALL`."""

    def __init__(self) -> None:
        self.turns = 0
        self.seconds = 0.0
        self.stalls: list[float] = []


async def _ticker(ticks: Ticks, stop: asyncio.Event) -> None:
    """Takes a turn of the loop again and again, as a loaded server's requests do: a gap
    between two turns is time the loop was held by something else (a batch's Python on the
    loop, or another thread holding the GIL; on a shared machine, also the OS)."""
    started = last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0)
        now = time.perf_counter()
        if now - last > STALL:
            ticks.stalls.append(now - last)
        last = now
        ticks.turns += 1
    ticks.seconds = time.perf_counter() - started


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


def _summary(label: str, ticks: Ticks) -> str:
    stalls = sorted(ticks.stalls)
    per_s = 1 / ticks.seconds if ticks.seconds else 0.0
    over_1 = sum(1 for g in stalls if g > 0.001)
    return (f"{label:<30} stalls > {STALL * 1000:.1f} ms: {len(stalls) * per_s:6.1f}/s, "
            f"{sum(stalls) * per_s * 1000:5.1f} ms/s in all; > 1 ms: {over_1 * per_s:5.1f}/s; "
            f"longest {stalls[-1] * 1000 if stalls else 0:.2f} ms")


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

    quiet = Ticks()
    stop = asyncio.Event()
    task = asyncio.create_task(_ticker(quiet, stop))
    await asyncio.sleep(batches / rate / 2)
    stop.set()
    await task

    loaded = Ticks()
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
