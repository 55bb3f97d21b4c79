"""The spend limit under 64 concurrent requests of one key spread over two replicas (two
AccountingServices on one database, with their flush and refresh loops), with and without
Redis: every client is refused in the end, and with Redis the overshoot is at most the
requests in flight (without it the bound depends on time: printed, not asserted).

Each simulated request does what the chat route does: the pre-check, then the upstream time,
then the record with its cost. The figures are printed (`pytest -s`) for the closing note.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest

from routeyard.accounting.records import Generation
from routeyard.accounting.service import AccountingService
from routeyard.accounting.shared import SharedSpend
from routeyard.errors import PaymentRequired
from routeyard.store import Store

CONCURRENCY = 64
COST = Decimal("0.001")
LIMIT = Decimal("0.5")  # 500 requests' worth
UPSTREAM_S = 0.02
FLUSH_S = REFRESH_S = 0.2


async def run(replicas: list[AccountingService], key_id: int, store: Store) -> dict[str, float]:
    key = store.find_key(str(key_id))
    done = asyncio.Event()
    stats = {"requests": 0, "refused": 0}
    counter = iter(range(10**9))

    async def loops(acc: AccountingService) -> None:
        version = -1
        while not done.is_set():
            await asyncio.sleep(FLUSH_S)
            await asyncio.to_thread(acc.flush)
            current = (await asyncio.to_thread(store.versions))["usage"]
            if current != version:
                version = current
                await asyncio.to_thread(acc.refresh_usage)

    async def client(acc: AccountingService) -> None:
        while True:
            try:
                acc.check_limit(key)
            except PaymentRequired:
                stats["refused"] += 1
                return
            await asyncio.sleep(UPSTREAM_S)
            acc.record(Generation(id=f"gen-{next(counter)}", key_id=key_id, model="fake/chat",
                                  provider="fake", cost=COST, created_at=time.time()))
            stats["requests"] += 1

    background = [asyncio.create_task(loops(acc)) for acc in replicas]
    started = time.perf_counter()
    await asyncio.gather(*(client(replicas[i % len(replicas)]) for i in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    done.set()
    await asyncio.gather(*background)
    for acc in replicas:
        acc.flush()
    return {**stats, "elapsed": elapsed}


def overshoot(store: Store, key_id: int) -> tuple[Decimal, int]:
    spent = store.read_usage(time.time())[key_id].total
    return spent - LIMIT, int((spent - LIMIT) / COST)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_without_redis_every_client_is_refused_in_the_end(store: Store) -> None:
    _k, record = store.create_key("team", "read", limit=LIMIT, limit_reset="daily")
    replicas = [AccountingService(store), AccountingService(store)]
    for acc in replicas:
        acc.refresh_usage()
    stats = asyncio.run(run(replicas, record.id, store))
    over, requests_over = overshoot(store, record.id)
    rate = stats["requests"] / stats["elapsed"]  # requests per second of the whole run
    bound = CONCURRENCY + rate * (FLUSH_S + REFRESH_S)
    print(f"\nno Redis: {stats['requests']} requests in {stats['elapsed']:.2f}s "
          f"({rate:.0f}/s), limit {LIMIT} USD = {int(LIMIT / COST)} requests; overshoot "
          f"{over} USD = {requests_over} requests (bound: {CONCURRENCY} in flight + "
          f"{rate * (FLUSH_S + REFRESH_S):.0f} in one flush + refresh interval = {bound:.0f})")
    assert stats["refused"] == CONCURRENCY and requests_over >= 0
    # The bound depends on time (the intervals, the rate): printed, not asserted.


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_with_redis_the_overshoot_is_at_most_the_requests_in_flight(store: Store,
                                                                    tmp_path: Path) -> None:
    from tests.test_ratelimit import RedisServer

    server = RedisServer(tmp_path)
    try:
        _k, record = store.create_key("team", "read", limit=LIMIT, limit_reset="daily")
        replicas = [AccountingService(store, shared=SharedSpend(server.url, prefix="t:"))
                    for _ in range(2)]
        stats = asyncio.run(run(replicas, record.id, store))
        over, requests_over = overshoot(store, record.id)
        print(f"\nRedis: {stats['requests']} requests in {stats['elapsed']:.2f}s, limit "
              f"{LIMIT} USD; overshoot {over} USD = {requests_over} requests (bound: "
              f"{CONCURRENCY} in flight)")
        assert stats["refused"] == CONCURRENCY
        assert 0 <= requests_over <= CONCURRENCY
    finally:
        server.stop()
