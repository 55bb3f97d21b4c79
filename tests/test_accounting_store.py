"""Accounting SQL on SQLite and PostgreSQL: records, exact usage counters, periods, limits."""

from __future__ import annotations

import calendar
import threading
from decimal import Decimal

import pytest

from routeyard.accounting.periods import Usage, month_start, next_reset, remaining, week_start
from routeyard.accounting.records import Attempt, Generation
from routeyard.errors import KeyNotFound
from routeyard.store import Store

# Wednesday 2026-12-02 10:00 UTC
T0 = calendar.timegm((2026, 12, 2, 10, 0, 0))
DAY = 86_400


def gen(i: int | str, key_id: int, cost: str, *, at: float = T0, model: str = "fake/chat",
        provider: str | None = "fake") -> Generation:
    return Generation(
        id=f"gen-{i}", key_id=key_id, model=model, provider=provider, provider_name="Fake",
        tag=provider, attempts=(Attempt(provider="fake", tag="fake", status=200, reason=None,
                                        ttft_ms=12.5, duration_ms=40.0),),
        prompt_tokens=10, completion_tokens=20, reasoning_tokens=3, cached_tokens=4,
        cost=Decimal(cost), ttft_ms=12.5, generation_ms=30.0, latency_ms=42.0,
        finish_reason="stop", streamed=False, cancelled=False, created_at=at,
    )


def test_periods_are_utc_day_monday_week_and_month() -> None:
    assert week_start(T0) == calendar.timegm((2026, 11, 30, 0, 0, 0))  # a Monday
    assert month_start(T0) == calendar.timegm((2026, 12, 1, 0, 0, 0))
    assert next_reset("monthly", T0) == calendar.timegm((2027, 1, 1, 0, 0, 0))
    assert next_reset("weekly", T0) == calendar.timegm((2026, 12, 7, 0, 0, 0))
    assert next_reset("daily", T0) == calendar.timegm((2026, 12, 3, 0, 0, 0))
    assert next_reset("never", T0) is None
    u = Usage(Decimal(9), Decimal(1), Decimal(2), Decimal(3))
    assert remaining(Decimal(5), "weekly", u) == Decimal(3)
    assert remaining(Decimal(5), None, u) == Decimal(0)
    assert remaining(None, "daily", u) is None


def test_a_record_round_trips_and_counts_once(store: Store) -> None:
    g = gen(1, 7, "0.0000001179")
    assert store.write_generations([g, g]) == 1
    assert store.write_generations([g]) == 0  # a retried batch counts once
    assert store.read_generation("gen-1") == g
    assert store.read_generation("gen-nope") is None
    usage = store.read_usage(T0)[7]
    assert usage == Usage(Decimal("0.0000001179"), Decimal("0.0000001179"),
                          Decimal("0.0000001179"), Decimal("0.0000001179"), 1)
    assert store.versions()["usage"] == 1


def test_usage_is_exact_and_rolls_over_by_period(store: Store) -> None:
    store.write_generations([gen(i, 1, "0.1") for i in range(3)])
    assert store.read_usage(T0)[1].total == Decimal("0.3")  # not 0.30000000000000004
    # Next day (Thursday): the day starts from zero, week and month go on.
    store.write_generations([gen("d2", 1, "0.05", at=T0 + DAY)])
    u = store.read_usage(T0 + DAY)[1]
    assert u == Usage(Decimal("0.35"), Decimal("0.05"), Decimal("0.35"), Decimal("0.35"), 4)
    # Read the next Monday without new spend: day and week read zero, month goes on.
    monday = calendar.timegm((2026, 12, 7, 9, 0, 0))
    assert store.read_usage(monday)[1] == Usage(Decimal("0.35"), Decimal(0), Decimal(0),
                                                Decimal("0.35"), 4)
    # A new month: only the total remains.
    january = calendar.timegm((2027, 1, 1, 0, 0, 1))
    store.write_generations([gen("jan", 1, "1", at=january)])
    assert store.read_usage(january)[1] == Usage(Decimal("1.35"), Decimal(1), Decimal(1),
                                                 Decimal(1), 5)


def test_daily_usage_by_model_and_provider(store: Store) -> None:
    store.write_generations([
        gen(1, 1, "0.5"), gen(2, 1, "0.25", model="fake/small"),
        gen(3, 2, "1", provider=None), gen(4, 1, "0.125", at=T0 + DAY),
    ])
    days = store.usage_days(since_day=T0 - DAY)
    got = {(d.key_id, d.day, d.model, d.provider): (d.usage, d.requests, d.prompt_tokens)
           for d in days}
    today = T0 - T0 % DAY
    assert got == {
        (1, today, "fake/chat", "fake"): (Decimal("0.5"), 1, 10),
        (1, today, "fake/small", "fake"): (Decimal("0.25"), 1, 10),
        (2, today, "fake/chat", ""): (Decimal(1), 1, 10),
        (1, today + DAY, "fake/chat", "fake"): (Decimal("0.125"), 1, 10),
    }
    assert [d.day for d in store.usage_days(since_day=today + DAY, key_id=1)] == [today + DAY]


def test_concurrent_writers_lose_nothing(store: Store, database_url: str) -> None:
    """Several processes' flushes (one Store each, as replicas) add to the same rows."""
    stores = [Store(database_url) for _ in range(4)]
    errors: list[BaseException] = []

    def writer(n: int, s: Store) -> None:
        try:
            for b in range(10):
                s.write_generations([gen(f"{n}-{b}-{i}", 1, "0.001") for i in range(5)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n, s)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.dispose()
    assert not errors
    u = store.read_usage(T0)[1]
    assert u.total == Decimal("0.2") and u.daily == Decimal("0.2") and u.requests == 200
    (day,) = store.usage_days(since_day=0)
    assert day.usage == Decimal("0.2") and day.requests == 200 and day.completion_tokens == 4000


def test_limits_are_set_and_removed(store: Store) -> None:
    _key, record = store.create_key("team", "read", limit=Decimal(5), limit_reset="monthly")
    assert (record.spend_limit, record.limit_reset) == ("5", "monthly")
    changed = store.set_key_limit(record.prefix, Decimal("2.50"), "daily")
    assert (changed.spend_limit, changed.limit_reset) == ("2.5", "daily")
    assert store.set_key_limit(str(record.id), None, None).spend_limit is None
    with pytest.raises(KeyNotFound):
        store.set_key_limit("999", Decimal(1), None)


def test_pruning_removes_old_records_only(store: Store) -> None:
    store.write_generations([gen("old", 1, "1", at=T0 - 40 * DAY), gen("new", 1, "1")])
    assert store.prune_generations(T0 - 30 * DAY) == 1
    assert store.read_generation("gen-old") is None and store.read_generation("gen-new")
    assert store.read_usage(T0)[1].total == Decimal(2)  # usage is kept
