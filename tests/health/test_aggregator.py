"""Outcomes, minute records and the in-memory aggregator."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeyard.health.histogram import LATENCY_SCALE, THROUGHPUT_SCALE, Histogram
from routeyard.health.minute import (
    Aggregator,
    MinuteKey,
    MinuteRecord,
    minute_of,
)
from routeyard.health.outcomes import Outcome, Result, Source, result_for_status, throughput_of
from tests.support.health import merge_records

T0 = 1_699_999_980.0  # the start of minute 28_333_333
M0 = 28_333_333


def outcome(
    result: Result = Result.SUCCESS,
    at: float = T0,
    model: str = "acme/model",
    tag: str = "acme",
    *,
    source: Source = Source.TRAFFIC,
    ttft_ms: float | None = None,
    output_tokens: int | None = None,
    generation_ms: float | None = None,
) -> Outcome:
    return Outcome(
        model_id=model,
        tag=tag,
        at=at,
        result=result,
        source=source,
        ttft_ms=ttft_ms,
        output_tokens=output_tokens,
        generation_ms=generation_ms,
    )


def test_minute_of_floors_to_whole_minutes() -> None:
    assert minute_of(T0) == M0
    assert minute_of(T0 + 59.999) == M0
    assert minute_of(T0 + 60) == M0 + 1
    assert minute_of(T0 - 0.001) == M0 - 1


def test_throughput_is_output_tokens_per_second_of_generation() -> None:
    assert throughput_of(100, 2000.0) == 50.0
    assert outcome(output_tokens=30, generation_ms=500.0).throughput == 60.0
    assert throughput_of(None, 100.0) is None
    assert throughput_of(10, None) is None
    assert throughput_of(10, 0.0) is None
    assert throughput_of(0, 100.0) is None


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (200, Result.SUCCESS),
        (429, Result.RATE_LIMITED),
        (408, Result.TIMEOUT),
        (504, Result.TIMEOUT),
        (400, Result.CALLER_ERROR),
        (422, Result.CALLER_ERROR),
        (401, Result.UPSTREAM_ERROR),
        (404, Result.UPSTREAM_ERROR),
        (500, Result.UPSTREAM_ERROR),
        (503, Result.UPSTREAM_ERROR),
    ],
)
def test_result_for_status(status: int, result: Result) -> None:
    assert result_for_status(status) is result


def test_only_successes_and_endpoint_failures_are_counted() -> None:
    assert outcome(Result.SUCCESS).counted
    assert outcome(Result.UPSTREAM_ERROR).counted
    assert outcome(Result.TIMEOUT).counted
    assert not outcome(Result.RATE_LIMITED).counted
    assert not outcome(Result.CALLER_ERROR).counted


def test_aggregator_counts_per_endpoint_per_minute() -> None:
    agg = Aggregator()
    agg.record(outcome(Result.SUCCESS, T0 + 1, source=Source.PROBE))
    agg.record(outcome(Result.SUCCESS, T0 + 59))
    agg.record(outcome(Result.TIMEOUT, T0 + 30))
    agg.record(outcome(Result.RATE_LIMITED, T0 + 30))
    agg.record(outcome(Result.UPSTREAM_ERROR, T0 + 60))
    agg.record(outcome(Result.CALLER_ERROR, T0 + 5, tag="acme/fp8"))
    assert len(agg) == 3
    drained = agg.drain()
    assert [key for key, _ in drained] == [
        MinuteKey("acme/model", "acme", M0),
        MinuteKey("acme/model", "acme", M0 + 1),
        MinuteKey("acme/model", "acme/fp8", M0),
    ]
    first, second, fp8 = (record for _, record in drained)
    assert (first.success, first.timeout, first.rate_limited) == (2, 1, 1)
    assert (first.counted, first.failed, first.attempts) == (3, 1, 4)
    assert (second.upstream_error, second.counted) == (1, 1)
    assert (fp8.caller_error, fp8.counted, fp8.attempts) == (1, 0, 1)
    assert len(agg) == 0
    assert agg.drain() == []


def test_latency_and_throughput_are_recorded_for_successes_only() -> None:
    agg = Aggregator()
    agg.record(outcome(ttft_ms=100.0, output_tokens=100, generation_ms=2000.0))
    agg.record(outcome(Result.UPSTREAM_ERROR, ttft_ms=5000.0, output_tokens=10, generation_ms=10.0))
    agg.record(outcome(ttft_ms=None, output_tokens=1, generation_ms=0.0))
    [(_, record)] = agg.drain()
    assert record.latency == Histogram.of([100.0], LATENCY_SCALE)
    assert record.throughput == Histogram.of([50.0], THROUGHPUT_SCALE)
    assert record.success == 2


def test_restore_after_a_failed_flush_merges_with_new_outcomes() -> None:
    agg = Aggregator()
    agg.record(outcome(Result.SUCCESS, ttft_ms=100.0))
    agg.record(outcome(Result.TIMEOUT))
    drained = agg.drain()
    agg.record(outcome(Result.SUCCESS, ttft_ms=1000.0))  # arrives while the flush fails
    agg.restore(drained)
    [(key, record)] = agg.drain()
    assert key.minute == M0
    assert (record.success, record.timeout) == (2, 1)
    assert record.latency == Histogram.of([100.0, 1000.0], LATENCY_SCALE)
    assert drained[0][1].success == 1  # the flusher's copy is untouched


def test_discard_before_drops_only_old_minutes() -> None:
    agg = Aggregator()
    for k in range(5):
        agg.record(outcome(at=T0 + 60 * k))
    assert agg.discard_before(M0 + 3) == 3
    assert [key.minute for key, _ in agg.drain()] == [M0 + 3, M0 + 4]


def test_recording_from_many_threads_loses_nothing() -> None:
    agg = Aggregator()

    def work() -> None:
        for i in range(2000):
            agg.record(outcome(at=T0 + (i % 3) * 60))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(record.success for _, record in agg.drain()) == 16_000


def test_record_encoding_round_trips_and_is_json_shaped() -> None:
    record = MinuteRecord(success=3, timeout=1, rate_limited=2)
    record.latency.add(100.0, LATENCY_SCALE)
    record.throughput.add(50.0, THROUGHPUT_SCALE, n=2)
    encoded = record.encode()
    assert encoded == {
        "success": 3,
        "upstream_error": 0,
        "timeout": 1,
        "rate_limited": 2,
        "caller_error": 0,
        "latency": [48, 1],
        "throughput": [41, 2],
    }
    assert MinuteRecord.decode(encoded) == record
    assert MinuteRecord.decode({}) == MinuteRecord()


records = st.builds(
    MinuteRecord,
    success=st.integers(0, 50),
    upstream_error=st.integers(0, 50),
    timeout=st.integers(0, 50),
    rate_limited=st.integers(0, 50),
    caller_error=st.integers(0, 50),
    latency=st.dictionaries(st.integers(0, 139), st.integers(1, 9), max_size=5).map(Histogram),
    throughput=st.dictionaries(st.integers(-25, 120), st.integers(1, 9), max_size=5).map(Histogram),
)


@given(records, records, records)
def test_record_merge_is_associative_and_commutative(
    a: MinuteRecord, b: MinuteRecord, c: MinuteRecord
) -> None:
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))
    assert merge_records([a, b, c]) == a.merge(b).merge(c)
    assert a.merge(b).counted == a.counted + b.counted


@given(records)
def test_record_encoding_round_trips_for_any_record(record: MinuteRecord) -> None:
    assert MinuteRecord.decode(record.encode()) == record
