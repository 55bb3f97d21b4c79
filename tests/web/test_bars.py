"""Uptime bars from minute records: buckets, shares, colours and labels."""

from __future__ import annotations

from routeyard.health.minute import MinuteRecord, minute_of
from routeyard.health.window import WINDOW_1D, WINDOW_30M, uptime
from routeyard.web import bars
from tests.support import health as support

NOW = 1_750_000_000.0 + 25.0  # 25 seconds into a minute
M = minute_of(NOW)


def rec(success: int = 0, failed: int = 0, timeout: int = 0, rate_limited: int = 0,
        caller_error: int = 0) -> MinuteRecord:
    return MinuteRecord(success=success, upstream_error=failed, timeout=timeout,
                        rate_limited=rate_limited, caller_error=caller_error)


def test_thirty_one_minute_bars_end_with_the_current_minute() -> None:
    out = support.last_30_minutes([], NOW)
    assert len(out) == 30
    assert out[-1].first == M and out[0].first == M - 29
    assert all(b.minutes == 1 for b in out)
    assert all(b.share is None and b.level == "empty" for b in out)


def test_a_day_is_24_one_hour_bars_covering_the_1d_window() -> None:
    out = support.last_day([], NOW)
    assert len(out) == 24
    assert out[0].first == M - WINDOW_1D + 1
    assert out[-1].first + out[-1].minutes - 1 == M


def test_share_is_successes_over_counted_attempts() -> None:
    records = [(M, rec(success=49, failed=1, rate_limited=7, caller_error=3))]
    last = support.last_30_minutes(records, NOW)[-1]
    assert (last.success, last.counted) == (49, 50)
    assert last.share == 0.98
    assert last.level == "minor"


def test_only_rate_limited_and_caller_errors_leave_the_bar_empty() -> None:
    last = support.last_30_minutes([(M, rec(rate_limited=5, caller_error=2))], NOW)[-1]
    assert last.share is None and last.level == "empty"
    assert last.label.endswith("— no data")


def test_records_of_one_minute_add_up_and_land_in_their_bucket() -> None:
    records = [(M - 3, rec(success=1)), (M - 3, rec(failed=1)), (M - 4, rec(timeout=2))]
    out = support.last_30_minutes(records, NOW)
    assert out[-4].share == 0.5 and out[-4].counted == 2
    assert out[-5].share == 0.0 and out[-5].level == "down"
    assert [b.counted for b in out].count(0) == 28


def test_hour_buckets_sum_their_minutes() -> None:
    records = [(M, rec(success=3)), (M - 59, rec(failed=1)), (M - 60, rec(success=5))]
    out = support.last_day(records, NOW)
    assert (out[-1].success, out[-1].counted) == (3, 4)
    assert (out[-2].success, out[-2].counted) == (5, 5)


def test_outside_the_window_and_future_minutes_are_ignored() -> None:
    future = [(M + 1, rec(failed=9))]
    assert all(b.counted == 0 for b in support.last_30_minutes([*future, (M - 30, rec(failed=9))], NOW))
    assert all(b.counted == 0 for b in support.last_day([*future, (M - WINDOW_1D, rec(failed=9))], NOW))


def test_bars_agree_with_the_window_uptime() -> None:
    records = [(M - i, rec(success=i % 4, failed=i % 3)) for i in range(0, 1500, 7)]
    for window, cut in ((WINDOW_30M, support.last_30_minutes), (WINDOW_1D, support.last_day)):
        out = cut(records, NOW)
        success = sum(b.success for b in out)
        counted = sum(b.counted for b in out)
        assert uptime(records, NOW, window, min_attempts=1) == success * 100.0 / counted


def test_levels_follow_the_share() -> None:
    assert [bars.level(s) for s in (1.0, 0.99, 0.97, 0.85, 0.6, 0.49, 0.0, None)] == [
        "ok", "ok", "minor", "degraded", "major", "down", "down", "empty"]


def test_labels_say_when_and_how_many() -> None:
    minute = minute_of(1_750_000_000.0)  # 2025-06-15 15:06 UTC
    bar = bars.Bar(first=minute, minutes=1, success=49, counted=50)
    assert bar.label == "15:06 UTC — 98% of 50 attempts"
    assert bars.Bar(first=minute, minutes=1, success=1, counted=1).label == (
        "15:06 UTC — 100% of 1 attempt")
    hour = bars.Bar(first=minute, minutes=60, success=1999, counted=2000)
    assert hour.label == "15:06–16:05 UTC — 99.9% of 2,000 attempts"


def test_overall_is_the_mean_of_known_uptimes() -> None:
    assert bars.overall([100.0, None, 50.0]) == 75.0
    assert bars.overall([None, None]) is None


def test_both_reads_the_records_once_and_agrees_with_each_cut() -> None:
    records = [(M - i, rec(success=i % 5, timeout=i % 2)) for i in range(0, 1500, 3)]
    once = iter(records)  # an iterator: it can be read only once
    assert bars.both(once, NOW) == (support.last_30_minutes(records, NOW),
                                    support.last_day(records, NOW))
