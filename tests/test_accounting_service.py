"""AccountingService with a real database: the sink, the batch writer, a database outage,
usage as every process sees it, and the spend-limit pre-check (402, then the reset)."""

from __future__ import annotations

import calendar
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from routeyard.accounting.records import Generation
from routeyard.accounting.service import AccountingService
from routeyard.errors import PaymentRequired, StoreError
from routeyard.keys import KeyRecord
from routeyard.metrics import metrics
from routeyard.store import Store
from tests.tcpproxy import TcpProxy

T0 = float(calendar.timegm((2026, 12, 31, 23, 59, 0)))  # a minute before a new month


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def gen(i: int | str, key_id: int, cost: str, at: float = T0) -> Generation:
    return Generation(id=f"gen-{i}", key_id=key_id, model="fake/chat", provider="fake",
                      provider_name="Fake", tag="fake", prompt_tokens=10, completion_tokens=5,
                      cost=Decimal(cost), created_at=at)


def limited(store: Store, limit: str, reset: str | None) -> KeyRecord:
    _key, record = store.create_key("team", "read", limit=Decimal(limit), limit_reset=reset)
    return record


def test_records_are_found_before_and_after_the_flush(store: Store) -> None:
    acc = AccountingService(store, clock=Clock(T0))
    acc.record(gen(1, 1, "0.5"))
    assert acc.lookup("gen-1") == gen(1, 1, "0.5")  # answered as soon as recorded
    assert store.read_generation("gen-1") is None
    assert acc.flush() == 1 and acc.pending() == 0
    assert store.read_generation("gen-1") == gen(1, 1, "0.5")
    other = AccountingService(store)  # another replica
    assert other.lookup("gen-1") == gen(1, 1, "0.5")


def test_tokens_and_cost_are_counted_in_prometheus(store: Store) -> None:
    acc = AccountingService(store, clock=Clock(T0))
    m = metrics()

    def sample(name: str, **labels: str) -> float:
        m.push()  # the request path's counts reach the counters at the next push
        return m.registry.get_sample_value(name, {"model": "fake/chat", "provider": "fake",
                                                  **labels}) or 0.0

    before = sample("routeyard_generation_cost_usd_total")
    tokens = sample("routeyard_generation_tokens_total", kind="completion")
    acc.record(gen("m1", 1, "0.25"))
    assert sample("routeyard_generation_cost_usd_total") == before + 0.25
    assert sample("routeyard_generation_tokens_total", kind="completion") == tokens + 5


def test_the_limit_holds_across_processes_and_resets_with_its_period(store: Store) -> None:
    key = limited(store, "1", "monthly")
    clock = Clock(T0)
    a, b = AccountingService(store, clock=clock), AccountingService(store, clock=clock)
    a.refresh_usage()
    b.refresh_usage()
    a.check_limit(key)
    a.record(gen(1, key.id, "0.6"))
    a.check_limit(key)  # 0.6 < 1
    a.record(gen(2, key.id, "0.4"))
    with pytest.raises(PaymentRequired) as refused:  # this process knows at once
        a.check_limit(key)
    assert refused.value.status == 402 and refused.value.metadata == {
        "limit": "1", "usage": "1", "limit_reset": "monthly"}
    b.check_limit(key)  # the other has not seen it yet ...
    a.flush()  # flushed but not read back yet: still counted here
    with pytest.raises(PaymentRequired):
        a.check_limit(key)
    b.refresh_usage()  # ... and sees it after its next read (within the refresh interval)
    with pytest.raises(PaymentRequired):
        b.check_limit(key)
    clock.now = T0 + 120  # January: the monthly limit starts again
    assert b.usage_stale()
    b.refresh_usage()
    b.check_limit(key)
    assert b.usage_of(key.id).total == Decimal(1)


def test_a_key_without_limit_or_with_never_reset(store: Store) -> None:
    acc = AccountingService(store, clock=Clock(T0))
    free = KeyRecord(id=9, name="x", prefix="p", key_hash="h", scope="read", created_at=0)
    acc.record(gen(1, 9, "1000"))
    acc.check_limit(free)
    key = limited(store, "0.5", None)
    acc.record(gen(2, key.id, "0.5", at=T0 - 40 * 86_400))
    acc.flush()
    acc.refresh_usage()
    with pytest.raises(PaymentRequired):  # "never": all-time usage counts
        acc.check_limit(key)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_database_outage_buffers_records_and_they_arrive_after(database_url: str) -> None:
    url = sa.engine.make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = Store(url.set(port=proxy.port).render_as_string(hide_password=False))
    proxied.ensure_schema()
    try:
        acc = AccountingService(proxied, buffer_limit=3, clock=Clock(T0))
        acc.record(gen(1, 1, "0.1"))
        proxy.cut()
        for i in range(2, 6):
            acc.record(gen(i, 1, "0.1", at=T0 + i))
        with pytest.raises(StoreError):
            acc.flush()
        assert acc.pending() == 3 and acc.dropped == 2  # the oldest went first
        assert acc.lookup("gen-5") is not None
        proxy.restore()
        assert acc.flush() == 3
        direct = Store(database_url)
        assert direct.read_usage(T0)[1].total == Decimal("0.3")
        assert [direct.read_generation(f"gen-{i}") is not None for i in range(1, 6)] == [
            False, False, True, True, True]
        direct.dispose()
    finally:
        proxied.dispose()
        proxy.close()


def test_pruning_keeps_the_retention_window(store: Store) -> None:
    clock = Clock(T0)
    acc = AccountingService(store, retention_days=30, clock=clock)
    acc.record(gen("old", 1, "1", at=T0 - 31 * 86_400))
    acc.record(gen("new", 1, "1", at=T0 - 29 * 86_400))
    acc.flush()
    assert acc.prune() == 1
    assert acc.lookup("gen-old") is None and acc.lookup("gen-new") is not None


def test_with_redis_another_process_sees_the_spend_at_once(store: Store,
                                                           tmp_path: Path) -> None:
    from routeyard.accounting.shared import SharedSpend
    from tests.test_ratelimit import RedisServer

    server = RedisServer(tmp_path)
    try:
        key = limited(store, "1", "daily")
        clock = Clock(T0)
        a = AccountingService(store, shared=SharedSpend(server.url, prefix="t:"), clock=clock)
        b = AccountingService(store, shared=SharedSpend(server.url, prefix="t:"), clock=clock)
        a.record(gen(1, key.id, "0.999999999999"))
        b.check_limit(key)
        a.record(gen(2, key.id, "0.000000000001"))
        with pytest.raises(PaymentRequired):  # no flush, no refresh: Redis told b
            b.check_limit(key)
        clock.now = T0 + 86_400  # the next day: a new daily counter
        b.check_limit(key)
        server.stop()  # Redis gone: b checks against the database's counters alone
        clock.now = T0
        b.check_limit(key)
        assert b.shared is not None and b.shared.failing
        a.flush()
        b.refresh_usage()
        with pytest.raises(PaymentRequired):
            b.check_limit(key)
    finally:
        server.stop()
