"""Test helpers over the pure health maths: sums of records and histograms, bucket ranges,
and the status pages' bars of one window."""

from __future__ import annotations

from collections.abc import Iterable

from routeyard.health.histogram import RATIO, Histogram
from routeyard.health.minute import MinuteRecord
from routeyard.web.bars import Bar, Records, from_counts, minute_counts


def merge_records(records: Iterable[MinuteRecord]) -> MinuteRecord:
    """The sum of any number of records (a new one)."""
    out = MinuteRecord()
    for record in records:
        out.update(record)
    return out


def merge_all(histograms: Iterable[Histogram]) -> Histogram:
    """The sum of any number of histograms (a new one)."""
    out = Histogram()
    for histogram in histograms:
        out.update(histogram)
    return out


def bucket_bounds(index: int) -> tuple[float, float]:
    """The half-open range ``[low, high)`` of bucket ``index``."""
    return float(RATIO**index), float(RATIO ** (index + 1))


def last_30_minutes(records: Records, now: float) -> list[Bar]:
    """30 one-minute bars: the ``uptime_last_30m`` window."""
    return from_counts(minute_counts(records, now, 30), buckets=30, bucket_minutes=1)


def last_day(records: Records, now: float) -> list[Bar]:
    """24 one-hour bars: the ``uptime_last_1d`` window."""
    return from_counts(minute_counts(records, now, 24 * 60), buckets=24, bucket_minutes=60)
