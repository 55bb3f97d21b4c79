"""Uptime bars: an endpoint's minute records cut into time buckets. Pure.

A bar's **share** is successes ÷ (successes + failures) over its bucket, failures being
upstream errors and timeouts; rate-limited and caller-caused attempts are left out, as in
uptime (docs/health.md). A bucket without a counted attempt has no share: an empty bar, never
a red one (no data is not bad data).

Buckets end with the current, partial minute, as the health windows do: the 30 one-minute bars
cover exactly the ``uptime_last_30m`` window and the 24 one-hour bars the ``uptime_last_1d``
window. Records after the current minute (clock skew between replicas) are ignored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from routeyard.health.minute import MinuteRecord, minute_of
from routeyard.health.window import WINDOW_1D
from routeyard.web.format import percent

Records = Iterable[tuple[int, MinuteRecord]]

#: Lowest share for each level, best first; a share below every bound is "down".
LEVELS: tuple[tuple[float, str], ...] = (
    (0.99, "ok"),
    (0.95, "minor"),
    (0.80, "degraded"),
    (0.50, "major"),
)
LEVEL_WORDS: dict[str, str] = {
    "ok": "99% or more", "minor": "95–99%", "degraded": "80–95%", "major": "50–80%",
    "down": "under 50%", "empty": "no data",
}


def level(share: float | None) -> str:
    """The colour class of a share: ``ok``, ``minor``, ``degraded``, ``major``, ``down``, or
    ``empty`` without data."""
    if share is None:
        return "empty"
    for bound, name in LEVELS:
        if share >= bound:
            return name
    return "down"


def _clock(minute: int) -> str:
    return time.strftime("%H:%M", time.gmtime(minute * 60))


@dataclass(frozen=True)
class Bar:
    """One bucket: minutes ``first`` to ``first + minutes - 1`` (unix minutes)."""

    first: int
    minutes: int
    success: int = 0
    counted: int = 0

    @property
    def share(self) -> float | None:
        return None if self.counted == 0 else self.success / self.counted

    @property
    def level(self) -> str:
        return level(self.share)

    @property
    def when(self) -> str:
        """``14:05 UTC``, or ``13:05–14:04 UTC`` for a bucket of several minutes."""
        if self.minutes == 1:
            return f"{_clock(self.first)} UTC"
        return f"{_clock(self.first)}–{_clock(self.first + self.minutes - 1)} UTC"

    @property
    def label(self) -> str:
        """What the bar says in words: ``14:05 UTC — 98% of 50 attempts``."""
        if self.counted == 0:
            return f"{self.when} — no data"
        noun = "attempt" if self.counted == 1 else "attempts"
        return f"{self.when} — {percent(self.share)} of {self.counted:,} {noun}"


@dataclass(frozen=True)
class Counts:
    """Successes and counted attempts per minute: index ``i`` is minute ``first + i``."""

    first: int
    success: list[int]
    counted: list[int]


def minute_counts(records: Records, now: float, minutes: int = WINDOW_1D) -> Counts:
    """Successes and counted attempts per minute over the last ``minutes`` minutes (records
    of one minute added up): one pass over the records, however many writers made them.
    Plain lists, not a dict of tuples: a day of records is read on every page view."""
    first = minute_of(now) - minutes + 1
    success = [0] * minutes
    counted = [0] * minutes
    for minute, r in records:
        i = minute - first
        if 0 <= i < minutes:
            ok = r.success
            success[i] += ok
            counted[i] += ok + r.upstream_error + r.timeout
    return Counts(first, success, counted)


def from_counts(counts: Counts, *, buckets: int, bucket_minutes: int) -> list[Bar]:
    """``buckets`` bars of ``bucket_minutes`` each, oldest first, the last one ending with the
    last minute of ``counts`` (which must hold at least that many minutes)."""
    span = buckets * bucket_minutes
    start = len(counts.success) - span
    if start < 0:
        raise ValueError(f"{span} minutes asked of counts holding {len(counts.success)}")
    out = []
    for b in range(buckets):
        lo = start + b * bucket_minutes
        hi = lo + bucket_minutes
        out.append(Bar(counts.first + lo, bucket_minutes,
                       sum(counts.success[lo:hi]), sum(counts.counted[lo:hi])))
    return out


def both(records: Records, now: float) -> tuple[list[Bar], list[Bar]]:
    """The 30-minute and the 1-day bars, reading the records once."""
    counts = minute_counts(records, now, WINDOW_1D)
    return (from_counts(counts, buckets=30, bucket_minutes=1),
            from_counts(counts, buckets=24, bucket_minutes=60))


def overall(values: Iterable[float | None]) -> float | None:
    """The mean of the uptimes that are not None (percent), or None when none is."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None
