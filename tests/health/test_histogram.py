"""Fixed log-bucket histograms: bucketing, percentiles, merging, encoding."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeyard.health.histogram import (
    LATENCY_SCALE,
    QUANTILES,
    RATIO,
    RELATIVE_ERROR,
    THROUGHPUT_SCALE,
    Histogram,
    PercentileStats,
    bucket_index,
    bucket_value,
)
from tests.support.health import bucket_bounds, merge_all


def exact_percentile(values: list[float], q: float) -> float:
    """Nearest rank: the value of rank max(1, ceil(q * n)) in ascending order."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def test_error_bound_is_half_a_bucket_in_log_space() -> None:
    assert RATIO == 1.1
    assert RELATIVE_ERROR == pytest.approx(0.0488088, abs=1e-6)


@pytest.mark.parametrize(
    ("value", "index", "midpoint"),
    [
        (100.0, 48, 101.75253321856648),
        (1000.0, 72, 1002.2352512891156),
        (20.0, 31, 20.13119624437727),
    ],
)
def test_bucket_of_a_value_and_its_reported_midpoint(
    value: float, index: int, midpoint: float
) -> None:
    assert bucket_index(value) == index
    low, high = bucket_bounds(index)
    assert low <= value < high
    assert bucket_value(index) == pytest.approx(midpoint, rel=1e-12)
    assert bucket_value(index) == pytest.approx(math.sqrt(low * high), rel=1e-12)


def test_scales_cover_the_documented_ranges() -> None:
    assert (LATENCY_SCALE.min_index, LATENCY_SCALE.max_index) == (0, 139)
    assert (THROUGHPUT_SCALE.min_index, THROUGHPUT_SCALE.max_index) == (-25, 120)


def test_values_outside_the_scale_are_clamped_and_nan_is_ignored() -> None:
    h = Histogram()
    h.add(0.0, LATENCY_SCALE)
    h.add(-5.0, LATENCY_SCALE)
    h.add(1e12, LATENCY_SCALE)
    h.add(math.inf, LATENCY_SCALE)
    h.add(math.nan, LATENCY_SCALE)
    assert h.counts == {0: 2, 139: 2}


def test_empty_histogram_has_no_percentiles() -> None:
    assert Histogram().stats() is None
    assert Histogram().percentile(0.5) is None
    assert Histogram().total == 0


def test_percentiles_by_nearest_rank_reported_as_bucket_midpoints() -> None:
    # four answers at 100 ms and one at 1000 ms: ranks 3, 4, 5, 5 of 5
    h = Histogram.of([100.0, 100.0, 1000.0, 100.0, 100.0], LATENCY_SCALE)
    assert h.stats() == PercentileStats(
        p50=101.75253321856648,
        p75=101.75253321856648,
        p90=1002.2352512891156,
        p99=1002.2352512891156,
    )


def test_percentiles_of_one_to_a_hundred() -> None:
    h = Histogram.of([float(v) for v in range(1, 101)], LATENCY_SCALE)
    stats = h.stats()
    assert stats is not None
    for got, exact in zip(
        (stats.p50, stats.p75, stats.p90, stats.p99), (50.0, 75.0, 90.0, 99.0), strict=True
    ):
        assert got == bucket_value(bucket_index(exact))
        assert abs(got - exact) / exact <= RELATIVE_ERROR


def test_quantile_out_of_range_is_an_error() -> None:
    h = Histogram.of([1.0], LATENCY_SCALE)
    with pytest.raises(ValueError):
        h.percentile(0.0)
    with pytest.raises(ValueError):
        h.percentile(1.5)


def test_merge_adds_counts_and_leaves_operands_alone() -> None:
    a = Histogram({1: 2, 5: 1})
    b = Histogram({5: 3, 9: 4})
    assert a.merge(b) == Histogram({1: 2, 5: 4, 9: 4})
    assert a == Histogram({1: 2, 5: 1})
    assert b == Histogram({5: 3, 9: 4})
    assert merge_all([a, b, b]).counts == {1: 2, 5: 7, 9: 8}


def test_encoding_is_a_flat_sorted_list_of_pairs() -> None:
    h = Histogram({3: 2, -1: 5, 7: 0})
    assert h.encode() == [-1, 5, 3, 2]
    assert Histogram.decode([-1, 5, 3, 2]) == Histogram({-1: 5, 3: 2})
    assert Histogram.decode([]) == Histogram()


@pytest.mark.parametrize("bad", [[1], [1, -1], [1, 2, 3], [1.5, 2]])
def test_decoding_rejects_malformed_lists(bad: list[int]) -> None:
    with pytest.raises(ValueError):
        Histogram.decode(bad)


# Properties ---------------------------------------------------------------------------------

latencies = st.floats(min_value=1.0, max_value=600_000.0, allow_nan=False)
sparse = st.dictionaries(st.integers(-30, 150), st.integers(1, 1000), max_size=20).map(Histogram)


@given(st.lists(latencies, min_size=1, max_size=300), st.sampled_from(QUANTILES))
def test_percentile_is_within_the_error_bound_of_the_exact_one(
    values: list[float], q: float
) -> None:
    got = Histogram.of(values, LATENCY_SCALE).percentile(q)
    exact = exact_percentile(values, q)
    assert got is not None
    assert abs(got - exact) / exact <= RELATIVE_ERROR + 1e-9


@given(st.lists(latencies, min_size=1, max_size=300))
def test_percentiles_are_ordered(values: list[float]) -> None:
    stats = Histogram.of(values, LATENCY_SCALE).stats()
    assert stats is not None
    assert stats.p50 <= stats.p75 <= stats.p90 <= stats.p99


@given(sparse, sparse)
def test_merge_is_commutative(a: Histogram, b: Histogram) -> None:
    assert a.merge(b) == b.merge(a)


@given(sparse, sparse, sparse)
def test_merge_is_associative(a: Histogram, b: Histogram, c: Histogram) -> None:
    assert a.merge(b).merge(c) == a.merge(b.merge(c))


@given(st.lists(latencies, max_size=100), st.lists(latencies, max_size=100))
def test_merged_histograms_equal_the_histogram_of_all_values(
    xs: list[float], ys: list[float]
) -> None:
    merged = Histogram.of(xs, LATENCY_SCALE).merge(Histogram.of(ys, LATENCY_SCALE))
    assert merged == Histogram.of(xs + ys, LATENCY_SCALE)
    assert merged.stats() == Histogram.of(xs + ys, LATENCY_SCALE).stats()


@given(sparse)
def test_encoding_round_trips(h: Histogram) -> None:
    assert Histogram.decode(h.encode()) == h
