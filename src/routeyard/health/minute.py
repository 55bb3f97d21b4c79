"""Per-endpoint, per-minute records and the in-memory aggregator that builds them.

A :class:`MinuteRecord` is what is stored: counts by result plus a latency and a throughput
histogram (:mod:`routeyard.health.histogram`). Records of the same key add up
(:meth:`MinuteRecord.merge`), so several processes or replicas may each write their own and the
window maths sums them. Raw outcomes are never kept.

Latency and throughput are recorded for successful outcomes only: they describe how fast an
endpoint answers when it answers.

:class:`Aggregator` sits on the request path: :meth:`Aggregator.record` is a dict lookup and a
few additions. A background flusher calls :meth:`Aggregator.drain` and writes the records; if
the write fails it hands them back with :meth:`Aggregator.restore` (merged with whatever was
recorded meanwhile), so nothing is lost to a failed flush.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import msgspec

from routeyard.health.histogram import LATENCY_SCALE, LOG_RATIO, THROUGHPUT_SCALE, Histogram
from routeyard.health.outcomes import Outcome, Result, throughput_of


def minute_of(at: float) -> int:
    """The minute number of unix time ``at``: ``floor(at / 60)``."""
    return math.floor(at / 60.0)


class MinuteKey(NamedTuple):
    """Which endpoint and which minute a record belongs to."""

    model_id: str
    tag: str
    minute: int


# The record's counts: one field for each result, named by its value.
_COUNTS = tuple(result.value for result in Result)


class MinuteRecord(msgspec.Struct):
    """Counts by result and histograms for one endpoint over one minute. Mutable."""

    success: int = 0
    upstream_error: int = 0
    timeout: int = 0
    rate_limited: int = 0
    caller_error: int = 0
    latency: Histogram = msgspec.field(default_factory=Histogram)
    throughput: Histogram = msgspec.field(default_factory=Histogram)

    @property
    def failed(self) -> int:
        """Attempts that count as failures in uptime (upstream errors and timeouts)."""
        return self.upstream_error + self.timeout

    @property
    def counted(self) -> int:
        """Attempts that count in uptime: successes and failures."""
        return self.success + self.upstream_error + self.timeout

    @property
    def attempts(self) -> int:
        """All attempts, rate-limited and caller-caused included."""
        return self.counted + self.rate_limited + self.caller_error

    def count(self, result: Result) -> int:
        value: int = getattr(self, result.value)
        return value

    def add(self, outcome: Outcome) -> None:
        """Count one outcome into this record (its key is the caller's business)."""
        result = outcome.result
        setattr(self, result.value, getattr(self, result.value) + 1)
        if result is Result.SUCCESS:
            if outcome.ttft_ms is not None:
                self.latency.add(outcome.ttft_ms, LATENCY_SCALE)
            tps = throughput_of(outcome.output_tokens, outcome.generation_ms)
            if tps is not None:
                self.throughput.add(tps, THROUGHPUT_SCALE)

    def update(self, other: MinuteRecord) -> None:
        """Add ``other`` into this record, in place."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latency.update(other.latency)
        self.throughput.update(other.throughput)

    def merge(self, other: MinuteRecord) -> MinuteRecord:
        """A new record holding both; neither operand changes."""
        out = self.copy()
        out.update(other)
        return out

    def copy(self) -> MinuteRecord:
        return msgspec.structs.replace(self, latency=self.latency.copy(),
                                       throughput=self.throughput.copy())

    def encode(self) -> dict[str, Any]:
        """A JSON-able dict: the five counts plus ``latency``/``throughput`` as flat lists."""
        return {
            "success": self.success,
            "upstream_error": self.upstream_error,
            "timeout": self.timeout,
            "rate_limited": self.rate_limited,
            "caller_error": self.caller_error,
            "latency": self.latency.encode(),
            "throughput": self.throughput.encode(),
        }

    @classmethod
    def decode(cls, data: Mapping[str, Any]) -> MinuteRecord:
        """The inverse of :meth:`encode`; missing keys are zero or empty."""
        return cls(
            success=int(data.get("success", 0)),
            upstream_error=int(data.get("upstream_error", 0)),
            timeout=int(data.get("timeout", 0)),
            rate_limited=int(data.get("rate_limited", 0)),
            caller_error=int(data.get("caller_error", 0)),
            latency=Histogram.decode(data.get("latency") or []),
            throughput=Histogram.decode(data.get("throughput") or []),
        )


class Aggregator:
    """In-memory per-minute aggregation of outcomes, drained in batches by a flusher.

    Safe to share between threads (one short lock per call). Memory holds one record per
    endpoint per minute not yet flushed; :meth:`discard_before` bounds it if flushing keeps
    failing for longer than the records are useful.
    """

    def __init__(self) -> None:
        self._records: dict[MinuteKey, MinuteRecord] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many (endpoint, minute) records are waiting to be flushed."""
        return len(self._records)

    def record(self, outcome: Outcome) -> None:
        """Count one outcome into its endpoint's minute. O(1)."""
        key = MinuteKey(outcome.model_id, outcome.tag, minute_of(outcome.at))
        with self._lock:
            record = self._records.get(key)
            if record is None:
                record = self._records[key] = MinuteRecord()
            record.add(outcome)

    def record_all(self, outcomes: Iterable[Outcome]) -> None:
        """Count a batch of outcomes: the same records as :meth:`record` of each in turn, with
        the per-outcome overhead hoisted: the batch is counted into records of its own (one
        dict lookup per outcome, :meth:`MinuteRecord.add` inlined with the scales' bounds read
        once), which are then added into the pending ones under one lock."""
        lat_low, lat_high = LATENCY_SCALE.low, LATENCY_SCALE.high
        lat_min, lat_max = LATENCY_SCALE.min_index, LATENCY_SCALE.max_index
        tps_low, tps_high = THROUGHPUT_SCALE.low, THROUGHPUT_SCALE.high
        tps_min, tps_max = THROUGHPUT_SCALE.min_index, THROUGHPUT_SCALE.max_index
        log, floor, isnan = math.log, math.floor, math.isnan
        success, upstream_error, timeout = Result.SUCCESS, Result.UPSTREAM_ERROR, Result.TIMEOUT
        rate_limited = Result.RATE_LIMITED
        batch: dict[tuple[str, str, int], MinuteRecord] = {}
        for outcome in outcomes:
            key = (outcome.model_id, outcome.tag, floor(outcome.at / 60.0))
            record = batch.get(key)
            if record is None:
                record = batch[key] = MinuteRecord()
            result = outcome.result
            if result is not success:
                if result is upstream_error:
                    record.upstream_error += 1
                elif result is timeout:
                    record.timeout += 1
                elif result is rate_limited:
                    record.rate_limited += 1
                else:
                    record.caller_error += 1
                continue
            record.success += 1
            ttft = outcome.ttft_ms
            if ttft is not None and not isnan(ttft):  # as Scale.index: NaN is not counted
                i = (lat_min if ttft <= lat_low else lat_max if ttft >= lat_high
                     else floor(log(ttft) / LOG_RATIO))
                counts = record.latency.counts
                counts[i] = counts.get(i, 0) + 1
            tps = throughput_of(outcome.output_tokens, outcome.generation_ms)
            if tps is not None:
                i = (tps_min if tps <= tps_low else tps_max if tps >= tps_high
                     else floor(log(tps) / LOG_RATIO))
                counts = record.throughput.counts
                counts[i] = counts.get(i, 0) + 1
        with self._lock:
            for (model_id, tag, minute), record in batch.items():
                key = MinuteKey(model_id, tag, minute)
                pending = self._records.get(key)
                if pending is None:
                    self._records[key] = record
                else:
                    pending.update(record)

    def drain(self) -> list[tuple[MinuteKey, MinuteRecord]]:
        """Take every pending record (sorted by key); the aggregator is left empty."""
        with self._lock:
            records, self._records = self._records, {}
        return sorted(records.items(), key=lambda item: item[0])

    def restore(self, items: Iterable[tuple[MinuteKey, MinuteRecord]]) -> None:
        """Hand back drained records whose flush failed; merged with any recorded since."""
        with self._lock:
            for key, record in items:
                pending = self._records.get(key)
                if pending is None:
                    self._records[key] = record.copy()
                else:
                    pending.update(record)

    def discard_before(self, minute: int) -> int:
        """Drop pending records older than ``minute``; returns how many were dropped."""
        with self._lock:
            old = [key for key in self._records if key.minute < minute]
            for key in old:
                del self._records[key]
        return len(old)

