"""Outcomes for the benchmark: seeding live health, a background stream while the endpoints
route is loaded, and ingest throughput (through the API, and in-process into the store)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import httpx
import msgspec

INGEST_PATH = "/api/v1/admin/outcomes"
Endpoint = tuple[str, str]  # (model id, tag)


def items(endpoints: Sequence[Endpoint], n: int, at: float, rng: random.Random) -> list[dict[str, Any]]:
    """``n`` plausible outcomes spread over ``endpoints``: mostly successes with timings."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        model_id, tag = endpoints[i % len(endpoints)]
        roll = rng.random()
        item: dict[str, Any] = {"model_id": model_id, "tag": tag, "at": at - rng.random() * 50}
        if roll < 0.90:
            item.update(result="success", http_status=200, ttft_ms=rng.lognormvariate(6, 0.5),
                        output_tokens=rng.randint(20, 800),
                        generation_ms=rng.uniform(500, 20_000))
        elif roll < 0.95:
            item.update(result="upstream_error", http_status=502)
        elif roll < 0.98:
            item.update(result="rate_limited", http_status=429)
        else:
            item.update(result="timeout")
        out.append(item)
    return out


def body(endpoints: Sequence[Endpoint], n: int, at: float, seed: int = 0) -> bytes:
    return msgspec.json.encode({"outcomes": items(endpoints, n, at, random.Random(seed))})


def post(base: str, admin_key: str, data: bytes, client: httpx.Client | None = None) -> int:
    """POST one encoded batch; returns the HTTP status."""
    headers = {"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"}
    if client is None:
        return httpx.post(base + INGEST_PATH, content=data, headers=headers, timeout=30).status_code
    return client.post(base + INGEST_PATH, content=data, headers=headers).status_code


class Stream:
    """Posts a batch of ``batch`` outcomes ``rate`` times a second until stopped, from a
    thread. Bodies are encoded up front so the stream costs the client little CPU."""

    def __init__(self, base: str, admin_key: str, endpoints: Sequence[Endpoint], *,
                 rate: float, batch: int) -> None:
        self.base, self.admin_key, self.rate = base, admin_key, rate
        now = time.time()
        self.bodies = [body(endpoints, batch, now, seed) for seed in range(8)]
        self.batch = batch
        self.sent = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outcome-stream", daemon=True)

    def _run(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.perf_counter()
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                status = post(self.base, self.admin_key, self.bodies[self.sent % len(self.bodies)],
                              client)
                if status == 200:
                    self.sent += 1
                else:
                    self.failed += 1
                next_at += interval
                self._stop.wait(max(0.0, next_at - time.perf_counter()))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


@dataclass(frozen=True)
class Throughput:
    outcomes: int
    seconds: float
    errors: int = 0
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.outcomes / self.seconds if self.seconds else 0.0


def api_throughput(base: str, admin_key: str, endpoints: Sequence[Endpoint], *,
                   seconds: float, batch: int = 1000, clients: int = 2) -> Throughput:
    """Outcomes/s accepted by ``POST /api/v1/admin/outcomes`` (each 200 means stored), from
    ``clients`` concurrent posters of pre-encoded batches, for about ``seconds``."""
    now = time.time()
    bodies = [body(endpoints, batch, now, seed) for seed in range(4)]
    accepted = [0] * clients
    errors = [0] * clients
    deadline = time.perf_counter() + seconds

    def poster(i: int) -> None:
        with httpx.Client(timeout=60) as client:
            n = 0
            while time.perf_counter() < deadline:
                if post(base, admin_key, bodies[n % len(bodies)], client) == 200:
                    accepted[i] += batch
                else:
                    errors[i] += 1
                n += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=poster, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Throughput(sum(accepted), time.perf_counter() - started, sum(errors),
                      f"batches of {batch}, {clients} clients")


def direct_throughput(url: str, endpoints: Sequence[Endpoint], *, rounds: int = 5,
                      per_round: int = 20_000) -> tuple[Throughput, Throughput]:
    """In one process, into the database at ``url``: ``HealthService.record`` of
    ``per_round`` outcomes then one ``flush`` (as the 1 s flush loop does), ``rounds``
    times. Returns (record + flush, record alone)."""
    from routeyard.config import Settings
    from routeyard.health.outcomes import Outcome
    from routeyard.monitor.health import HealthService
    from routeyard.store import Store

    store = Store(url)
    try:
        store.ensure_schema()
        health = HealthService(store, Settings.load(database_url=url).health())
        now = time.time()
        batches = [
            [msgspec.convert(i, Outcome) for i in items(endpoints, per_round, now, random.Random(r))]
            for r in range(rounds)
        ]
        recording = flushing = 0.0
        for outcomes in batches:
            t0 = time.perf_counter()
            for outcome in outcomes:
                health.record(outcome)
            t1 = time.perf_counter()
            health.flush()
            recording += t1 - t0
            flushing += time.perf_counter() - t1
    finally:
        store.dispose()
    total = rounds * per_round
    note = f"{rounds} rounds of {per_round} over {len(endpoints)} endpoints"
    return Throughput(total, recording + flushing, note=note), Throughput(total, recording)
