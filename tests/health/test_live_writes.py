"""HealthService.write_live: a write this process serves at once, without reading back."""

from __future__ import annotations

import pytest

from routeyard.errors import StoreUnavailable
from routeyard.health.histogram import LATENCY_SCALE
from routeyard.health.minute import MinuteKey, MinuteRecord
from routeyard.health.window import DEFAULT_SETTINGS
from routeyard.monitor.health import HealthService
from routeyard.store import Store
from routeyard.store import health as sh

T0 = 1_699_999_980.0  # the start of minute 28_333_333
M0 = 28_333_333
A, B = ("acme/model", "a"), ("acme/model", "b")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def record(success: int, failed: int = 0, latency: float | None = None) -> MinuteRecord:
    r = MinuteRecord(success=success, upstream_error=failed)
    if latency is not None:
        r.latency.add(latency, LATENCY_SCALE, success)
    return r


def service(store: Store, clock: Clock) -> HealthService:
    return HealthService(store, DEFAULT_SETTINGS, clock=clock)


def items(*rows: tuple[tuple[str, str], int, MinuteRecord]) -> list[tuple[MinuteKey, MinuteRecord]]:
    return [(MinuteKey(ep[0], ep[1], minute), r) for ep, minute, r in rows]


def test_written_rows_are_served_as_a_read_back_would_serve_them(store: Store) -> None:
    clock = Clock(T0 + 30)
    mine, other = service(store, clock), service(store, clock)
    other.write(items((A, M0, record(5, 5, 300.0))))
    mine.write(items((A, M0, record(2, 0, 100.0)), (B, M0 - 3, record(4, 1))))
    mine.refresh()  # holds both writers' rows
    clock.now += 5
    changed = mine.write_live(items((A, M0, record(3, 0, 100.0)), (A, M0 - 1, record(1)),
                                    (B, M0 - 3, record(0, 4))))
    assert changed == {"acme/model"}
    # Another process reading everything from the database computes the same live fields.
    fresh = service(store, clock)
    fresh.refresh()
    assert mine.live == fresh.live
    assert mine.live[A].uptime_last_5m == 100 * 11 / 16  # both writers, every batch
    assert mine.live[B].uptime_last_5m == 100 * 4 / 9
    assert mine.refresh() == set()  # reading back changes nothing


def test_nothing_is_served_when_the_write_fails(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(T0 + 30)
    health = service(store, clock)
    health.refresh()

    def fail(*_: object) -> None:
        raise StoreUnavailable("database unavailable")

    monkeypatch.setattr(sh, "merge_rows", fail)
    with pytest.raises(StoreUnavailable):
        health.write_live(items((A, M0, record(2))))
    assert A not in health.live


def test_when_the_minute_has_turned_everything_is_read_and_recomputed(store: Store) -> None:
    clock = Clock(T0 + 30)
    mine, other = service(store, clock), service(store, clock)
    mine.write_live(items((A, M0, record(10))))
    assert mine.live[A].uptime_last_5m == 100.0
    other.write(items((B, M0, record(0, 10))))  # not read by mine yet
    clock.now += 60  # windows slid
    mine.write_live(items((A, M0 + 1, record(10))))
    assert mine.live[B].uptime_last_5m == 0.0
    fresh = service(store, clock)
    fresh.refresh()
    assert mine.live == fresh.live
