"""Window maths with an injected clock: uptimes, percentiles and status from minute records."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeyard.health.histogram import PercentileStats, bucket_index, bucket_value
from routeyard.health.minute import Aggregator, MinuteRecord
from routeyard.health.outcomes import Outcome, Result
from routeyard.health.window import (
    DEFAULT_SETTINGS,
    UNMEASURED,
    HealthSettings,
    LiveStats,
    StatusRules,
    effective_status,
    latency,
    live_stats,
    retention_cutoff,
    status_from,
    throughput,
    uptime,
    window_start,
)
from routeyard.models import Endpoint, Pricing

M = 28_333_333  # the current minute
T0 = M * 60.0  # its start: 1_699_999_980
NOW = T0 + 30.0  # the injected clock: half-way through minute M

S, E, T, RL, CE = (
    Result.SUCCESS,
    Result.UPSTREAM_ERROR,
    Result.TIMEOUT,
    Result.RATE_LIMITED,
    Result.CALLER_ERROR,
)
Records = list[tuple[int, MinuteRecord]]


def records_of(*outcomes: tuple[float, Result] | Outcome) -> Records:
    """Minute records built through the aggregator from (at, result) pairs or outcomes."""
    agg = Aggregator()
    for item in outcomes:
        if isinstance(item, Outcome):
            agg.record(item)
        else:
            at, result = item
            agg.record(Outcome(model_id="acme/m", tag="acme", at=at, result=result))
    return [(key.minute, record) for key, record in agg.drain()]


def timed(at: float, ttft_ms: float, tps: float | None = None, result: Result = S) -> Outcome:
    tokens, gen_ms = (None, None) if tps is None else (100, 100_000.0 / tps)
    return Outcome(
        model_id="acme/m",
        tag="acme",
        at=at,
        result=result,
        ttft_ms=ttft_ms,
        output_tokens=tokens,
        generation_ms=gen_ms,
    )


def many(at: float, result: Result, n: int) -> list[tuple[float, Result]]:
    return [(at, result)] * n


def minute_at(k: int) -> float:
    """A time inside the minute ``k`` minutes before the current one."""
    return T0 - 60.0 * k + 10.0


# Uptime, ratio definition ---------------------------------------------------------------------


def test_ratio_uptime_leaves_out_rate_limited_and_caller_errors() -> None:
    recs = records_of(
        *many(minute_at(1), S, 7),
        *many(minute_at(2), E, 2),
        (minute_at(0), T),
        *many(minute_at(3), RL, 3),
        *many(minute_at(4), CE, 2),
    )
    assert uptime(recs, NOW, 5, min_attempts=1) == 70.0
    assert uptime(recs, NOW, 30, min_attempts=1) == 70.0


def test_windows_of_five_thirty_and_a_day_see_different_minutes() -> None:
    recs = records_of(
        *many(minute_at(0), S, 3),  # current minute
        *many(minute_at(10), E, 1),  # in 30m and 1d
        *many(minute_at(100), E, 4),  # in 1d only
        *many(minute_at(1440), E, 50),  # one day back exactly: outside every window
    )
    assert uptime(recs, NOW, 5, 1) == 100.0
    assert uptime(recs, NOW, 30, 1) == 75.0
    assert uptime(recs, NOW, 1440, 1) == 37.5


def test_an_outcome_exactly_thirty_minutes_ago_is_outside_the_window() -> None:
    recs = records_of(*many(NOW - 60, S, 3), (NOW - 1800.0, E))
    assert window_start(NOW, 30) == M - 29
    assert uptime(recs, NOW, 30, 1) == 100.0
    assert uptime(recs, NOW, 1440, 1) == 75.0


def test_the_first_second_of_the_oldest_minute_is_inside_the_window() -> None:
    recs = records_of(*many(NOW - 60, S, 3), ((M - 29) * 60.0, E), ((M - 29) * 60.0 - 0.001, E))
    assert uptime(recs, NOW, 30, 1) == 75.0


def test_the_current_partial_minute_counts_and_the_future_is_ignored() -> None:
    recs = records_of((NOW - 1.0, E), (NOW + 60.0, S))
    assert uptime(recs, NOW, 5, 1) == 0.0
    assert uptime(recs, NOW + 60.0, 5, 1) == 50.0


def test_the_window_moves_with_the_clock() -> None:
    recs = records_of((minute_at(0), E), *many(minute_at(0) + 60, S, 3))
    assert uptime(recs, NOW + 60, 5, 1) == 75.0
    assert uptime(recs, NOW + 60 * 5, 5, 1) == 100.0  # the failure's minute has left
    assert uptime(recs, NOW + 60 * 6, 5, 1) is None


def test_empty_window_is_null() -> None:
    assert uptime([], NOW, 30, 1) is None
    assert uptime(records_of(*many(minute_at(40), S, 9)), NOW, 30, 1) is None


def test_all_rate_limited_window_is_null() -> None:
    recs = records_of(*many(minute_at(1), RL, 50), *many(minute_at(2), CE, 50))
    assert uptime(recs, NOW, 30, min_attempts=1) is None
    assert uptime(recs, NOW, 30, min_attempts=1, definition="minutes") is None
    assert live_stats(recs, NOW).status == 0


def test_min_attempts_threshold() -> None:
    two = records_of((minute_at(1), S), (minute_at(2), E), *many(minute_at(1), RL, 10))
    three = two + records_of((minute_at(3), S))
    assert uptime(two, NOW, 30, min_attempts=3) is None
    assert uptime(three, NOW, 30, min_attempts=3) == pytest.approx(200 / 3)
    assert uptime(two, NOW, 30, min_attempts=2) == 50.0
    assert uptime(two, NOW, 30, min_attempts=0) == 50.0


def test_records_of_one_minute_from_several_replicas_add_up() -> None:
    recs = records_of(*many(minute_at(1), S, 2)) + records_of(*many(minute_at(1), E, 2))
    assert uptime(recs, NOW, 5, 1) == 50.0


# Uptime, minutes definition -------------------------------------------------------------------


def test_minutes_uptime_counts_good_minutes_among_judged_ones() -> None:
    recs = records_of(
        *many(minute_at(1), S, 8),
        *many(minute_at(1), E, 2),  # 80 %: good (boundary)
        *many(minute_at(2), S, 7),
        *many(minute_at(2), T, 3),  # 70 %: bad
        *many(minute_at(3), S, 9),  # 9 attempts: not judged
        *many(minute_at(4), S, 10),
        *many(minute_at(4), RL, 50),  # 100 %: good
        *many(minute_at(5), E, 1),
        *many(minute_at(5), CE, 20),  # 1 counted: not judged
    )
    assert uptime(recs, NOW, 30, definition="minutes") == 200 / 3
    assert uptime(recs, NOW, 30, definition="minutes", minute_success_percent=85.0) == 100 / 3
    assert uptime(recs, NOW, 30, definition="minutes", minute_min_attempts=9) == 75.0
    assert uptime(recs, NOW, 30, min_attempts=1) == pytest.approx(100 * 34 / 40)


def test_minutes_uptime_is_null_without_a_judged_minute() -> None:
    recs = records_of(*many(minute_at(1), S, 9), *many(minute_at(2), E, 9))
    assert uptime(recs, NOW, 30, definition="minutes") is None


def test_unknown_definition_is_an_error() -> None:
    with pytest.raises(ValueError):
        uptime([], NOW, 30, definition="nope")  # type: ignore[arg-type]


# Latency and throughput -----------------------------------------------------------------------


def mid(value: float) -> float:
    return bucket_value(bucket_index(value))


def test_latency_percentiles_of_successes_in_the_last_thirty_minutes() -> None:
    recs = records_of(
        *[timed(minute_at(1), 100.0) for _ in range(4)],
        timed(minute_at(29), 1000.0),
        timed(minute_at(2), 50_000.0, result=E),  # failures have no latency
        timed(NOW - 1800.0, 90_000.0),  # exactly 30 minutes ago: outside
    )
    assert latency(recs, NOW) == PercentileStats(
        p50=101.75253321856648,
        p75=101.75253321856648,
        p90=1002.2352512891156,
        p99=1002.2352512891156,
    )


def test_percentiles_of_a_hundred_hand_built_outcomes() -> None:
    recs = records_of(*[timed(minute_at(k % 30), 10.0 * k, tps=float(k)) for k in range(1, 101)])
    assert latency(recs, NOW) == PercentileStats(
        p50=mid(500.0), p75=mid(750.0), p90=mid(900.0), p99=mid(990.0)
    )
    assert throughput(recs, NOW) == PercentileStats(
        p50=mid(50.0), p75=mid(75.0), p90=mid(90.0), p99=mid(99.0)
    )


def test_latency_and_throughput_are_null_without_data() -> None:
    assert latency([], NOW) is None
    assert throughput([], NOW) is None
    recs = records_of(timed(minute_at(1), 100.0), *many(minute_at(1), E, 3))
    assert latency(recs, NOW) is not None
    assert throughput(recs, NOW) is None  # no token counts recorded
    assert latency(recs, NOW + 1800.0) is None


# Status ---------------------------------------------------------------------------------------


def status(records: Records, now: float, settings: HealthSettings = DEFAULT_SETTINGS) -> int:
    """The measured status of an endpoint with ``records``."""
    return live_stats(records, now, settings).status


def test_sustained_outage_is_the_last_three_active_minutes_all_failing() -> None:
    recs = records_of(
        *many(minute_at(20), S, 100),  # outside the 15-minute lookback
        (minute_at(9), E),
        (minute_at(5), T),
        (minute_at(0), E),
        (minute_at(0), RL),
    )
    assert status(recs, NOW) == -5
    recovered = recs + records_of((minute_at(5), S))
    # uptime_last_5m is null (one counted attempt), uptime_last_30m = 101 / 104 ≈ 97 %
    assert status(recovered, NOW) == 0


def test_two_failing_minutes_are_not_yet_an_outage() -> None:
    recs = records_of((minute_at(3), E), (minute_at(1), E), (minute_at(1), E))
    assert status(recs, NOW) == -3


def test_status_steps_with_uptime() -> None:
    def at(five: float | None, thirty: float | None) -> int:
        return status_from(uptime_last_5m=five, uptime_last_30m=thirty, outage=False)

    assert at(49.9, 100.0) == -3
    assert at(50.0, 79.9) == -2
    assert at(100.0, 80.0) == -1
    assert at(100.0, 94.99) == -1
    assert at(100.0, 95.0) == 0
    assert at(None, None) == 0
    assert status_from(uptime_last_5m=None, uptime_last_30m=None, outage=True) == -5


def test_status_from_records_in_each_band() -> None:
    degraded = records_of(
        *many(minute_at(1), S, 10), *many(minute_at(10), S, 5), *many(minute_at(12), E, 5)
    )
    assert uptime(degraded, NOW, 30) == 75.0
    assert status(degraded, NOW) == -2
    deranked = records_of(
        *many(minute_at(1), S, 10), *many(minute_at(10), S, 8), *many(minute_at(12), E, 2)
    )
    assert uptime(deranked, NOW, 30) == 90.0
    assert status(deranked, NOW) == -1


def test_thresholds_are_settings() -> None:
    recs = records_of(*many(minute_at(1), S, 9), (minute_at(2), E))  # 90 % everywhere
    assert status(recs, NOW) == -1
    lenient = HealthSettings(status_rules=StatusRules(uptime_30m_below=90.0))
    assert status(recs, NOW, lenient) == 0
    strict = HealthSettings(status_rules=StatusRules(uptime_5m_below=95.0))
    assert status(recs, NOW, strict) == -3
    no_outage = HealthSettings(status_rules=StatusRules(outage_minutes=0))
    failing = records_of(*[(minute_at(k), E) for k in range(4)])
    assert status(failing, NOW) == -5
    assert status(failing, NOW, no_outage) == -3


# Live stats -----------------------------------------------------------------------------------


def test_live_stats_bundles_every_field() -> None:
    recs = records_of(
        *[timed(minute_at(1), 100.0, tps=50.0) for _ in range(9)],
        (minute_at(3), E),
        *many(minute_at(100), E, 10),
    )
    assert live_stats(recs, NOW) == LiveStats(
        uptime_last_5m=90.0,
        uptime_last_30m=90.0,
        uptime_last_1d=45.0,
        latency_last_30m=PercentileStats(*[mid(100.0)] * 4),
        throughput_last_30m=PercentileStats(*[mid(50.0)] * 4),
        status=-1,
    )


def test_live_stats_of_nothing_is_all_null_and_normal() -> None:
    assert live_stats([], NOW) == LiveStats(
        uptime_last_5m=None,
        uptime_last_30m=None,
        uptime_last_1d=None,
        latency_last_30m=None,
        throughput_last_30m=None,
        status=0,
    )


def test_retention_cutoff_is_a_day_plus_the_margin() -> None:
    assert retention_cutoff(NOW) == M - 1439 - 60
    assert retention_cutoff(NOW, margin_minutes=0) == window_start(NOW, 1440)


# Properties -----------------------------------------------------------------------------------

minute_records = st.lists(
    st.tuples(
        st.integers(M - 1500, M + 2),
        st.builds(
            MinuteRecord,
            success=st.integers(0, 30),
            upstream_error=st.integers(0, 30),
            timeout=st.integers(0, 5),
            rate_limited=st.integers(0, 30),
            caller_error=st.integers(0, 5),
        ),
    ),
    max_size=40,
)


@given(minute_records, st.sampled_from([5, 30, 1440]), st.sampled_from(["ratio", "minutes"]))
def test_uptime_is_a_percentage_or_null(recs: Records, window: int, definition: str) -> None:
    value = uptime(recs, NOW, window, 1, definition)  # type: ignore[arg-type]
    assert value is None or 0.0 <= value <= 100.0


@given(minute_records, st.randoms(use_true_random=False))
def test_status_is_deterministic_whatever_the_order_or_split(
    recs: Records, rng: random.Random
) -> None:
    expected = live_stats(recs, NOW)
    shuffled = list(recs)
    rng.shuffle(shuffled)
    split: Records = []
    for minute, record in shuffled:  # the same totals written as two records per minute
        half = MinuteRecord(success=record.success // 2, upstream_error=record.upstream_error)
        rest = MinuteRecord(
            success=record.success - half.success,
            timeout=record.timeout,
            rate_limited=record.rate_limited,
            caller_error=record.caller_error,
        )
        split += [(minute, rest), (minute, half)]
    assert live_stats(shuffled, NOW) == expected
    assert live_stats(split, NOW) == expected
    assert live_stats(iter(split), NOW) == expected


def test_effective_status_is_disabled_first_then_the_live_one() -> None:
    def endpoint(disabled: bool) -> Endpoint:
        return Endpoint(provider="p", tag="p", context_length=1,
                        pricing=Pricing(prompt="0", completion="0"), disabled=disabled)

    degraded = msgspec.structs.replace(UNMEASURED, status=-2)
    assert effective_status(endpoint(False), None) == 0
    assert effective_status(endpoint(False), degraded) == -2
    assert effective_status(endpoint(True), degraded) == -10
    assert effective_status(endpoint(True), None) == -10
