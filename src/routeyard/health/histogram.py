"""Fixed-bucket, mergeable histograms for latency and throughput.

Buckets are log-scale and the same everywhere: bucket ``i`` holds the values in
``[RATIO**i, RATIO**(i+1))`` with ``RATIO = 1.1``. Because the boundaries never depend on the
data, the histograms of several minutes, processes or replicas add up bucket by bucket, and a
percentile over any window comes from their sum.

A :class:`Scale` only clamps: values below its ``low`` land in its lowest bucket, values above
its ``high`` in its highest. Latency uses 1 ms .. 10 min, throughput 0.1 .. 100,000 tokens/s.

**Error bound.** A percentile is reported as the geometric midpoint ``RATIO**(i + 0.5)`` of the
bucket that holds the exact (nearest-rank) percentile, so for values inside the scale the
reported figure is within a factor ``sqrt(RATIO)`` of the exact one: relative error at most
``sqrt(1.1) - 1 ≈ 4.88 %`` (:data:`RELATIVE_ERROR`). Values clamped by the scale have no bound.

**Encoding.** :meth:`Histogram.encode` gives a flat list ``[index, count, index, count, …]``
sorted by index — small, JSON-able, deterministic — for a database column.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import msgspec

RATIO = 1.1
LOG_RATIO = math.log(RATIO)  # bucket_index(v) is floor(log(v) / LOG_RATIO)
#: The largest relative error of a reported percentile for values inside the scale.
RELATIVE_ERROR = math.sqrt(RATIO) - 1.0
#: The quantiles served on the wire, in order.
QUANTILES: tuple[float, float, float, float] = (0.50, 0.75, 0.90, 0.99)


def bucket_index(value: float) -> int:
    """The bucket holding ``value`` (> 0), without clamping."""
    return math.floor(math.log(value) / LOG_RATIO)


def bucket_value(index: int) -> float:
    """The value reported for bucket ``index``: its geometric midpoint."""
    return float(RATIO ** (index + 0.5))


class Scale(msgspec.Struct, frozen=True):
    """The range a kind of value is clamped to before bucketing."""

    low: float
    high: float

    @property
    def min_index(self) -> int:
        return bucket_index(self.low)

    @property
    def max_index(self) -> int:
        return bucket_index(self.high)

    def index(self, value: float) -> int | None:
        """The clamped bucket of ``value``; ``None`` for NaN (not recorded)."""
        if math.isnan(value):
            return None
        if value <= self.low:
            return self.min_index
        if value >= self.high:
            return self.max_index
        return bucket_index(value)  # within [min_index, max_index]: log is monotonic


#: Time to first token, in milliseconds: 1 ms .. 10 minutes.
LATENCY_SCALE = Scale(low=1.0, high=600_000.0)
#: Output tokens per second: 0.1 .. 100,000.
THROUGHPUT_SCALE = Scale(low=0.1, high=100_000.0)


class PercentileStats(msgspec.Struct, frozen=True):
    """``{p50, p75, p90, p99}``: the wire shape of ``latency_last_30m`` and friends."""

    p50: float
    p75: float
    p90: float
    p99: float


class Histogram(msgspec.Struct):
    """Counts by bucket index (sparse). Mutable; :meth:`merge` returns a new one."""

    counts: dict[int, int] = msgspec.field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return bool(self.counts)

    def add(self, value: float, scale: Scale, n: int = 1) -> None:
        """Count ``value`` ``n`` times, clamped to ``scale``. NaN is ignored."""
        index = scale.index(value)
        if index is not None and n > 0:
            self.counts[index] = self.counts.get(index, 0) + n

    def update(self, other: Histogram) -> None:
        """Add ``other``'s counts into this histogram, in place."""
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count

    def merge(self, other: Histogram) -> Histogram:
        """A new histogram holding both; neither operand changes."""
        out = self.copy()
        out.update(other)
        return out

    def copy(self) -> Histogram:
        return Histogram(dict(self.counts))

    def percentile(self, q: float) -> float | None:
        """The nearest-rank ``q``-quantile (0 < q ≤ 1) as a bucket midpoint; ``None`` if empty."""
        values = self.quantiles((q,))
        return None if values is None else values[0]

    def quantiles(self, qs: Sequence[float]) -> list[float] | None:
        """Several quantiles in one pass; ``None`` if empty.

        The ``q``-quantile of ``N`` values is the value of rank ``max(1, ceil(q × N))`` in
        ascending order (nearest rank), reported as its bucket's midpoint.
        """
        for q in qs:
            if not 0.0 < q <= 1.0:
                raise ValueError(f"quantile must be in (0, 1], got {q!r}")
        total = self.total
        if total <= 0:
            return None
        ranks = [max(1, math.ceil(q * total)) for q in qs]
        order = sorted(range(len(qs)), key=lambda k: ranks[k])
        out = [0.0] * len(qs)
        pending = iter(order)
        k = next(pending, None)
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            while k is not None and ranks[k] <= seen:
                out[k] = bucket_value(index)
                k = next(pending, None)
            if k is None:
                break
        return out

    def stats(self) -> PercentileStats | None:
        """p50, p75, p90 and p99, or ``None`` when the histogram is empty."""
        values = self.quantiles(QUANTILES)
        if values is None:
            return None
        return PercentileStats(p50=values[0], p75=values[1], p90=values[2], p99=values[3])

    def encode(self) -> list[int]:
        """``[index, count, …]`` sorted by index; empty buckets left out."""
        out: list[int] = []
        for index in sorted(self.counts):
            if self.counts[index]:
                out.extend((index, self.counts[index]))
        return out

    @classmethod
    def decode(cls, data: Sequence[int]) -> Histogram:
        """The inverse of :meth:`encode`; raises ``ValueError`` on a malformed list."""
        if len(data) % 2:
            raise ValueError("histogram encoding must hold index, count pairs")
        counts: dict[int, int] = {}
        for i in range(0, len(data), 2):
            index, count = data[i], data[i + 1]
            if not isinstance(index, int) or not isinstance(count, int) or count < 0:
                raise ValueError(f"bad histogram pair {index!r}, {count!r}")
            if count:
                counts[index] = counts.get(index, 0) + count
        return cls(counts)

    @classmethod
    def of(cls, values: Iterable[float], scale: Scale) -> Histogram:
        """A histogram of ``values`` clamped to ``scale``."""
        out = cls()
        for value in values:
            out.add(value, scale)
        return out
