"""Window maths: the live fields of one endpoint from its minute records. Pure.

Every function takes the endpoint's records as ``(minute, MinuteRecord)`` pairs (several
records of one minute, e.g. from several replicas, add up; order does not matter) and ``now``
in unix seconds, injected so that tests control the clock.

**Windows.** A window of ``W`` minutes is the ``W`` minute records ending with the current one:
minutes ``m`` with ``minute_of(now) - W < m <= minute_of(now)``. The current, partial minute
counts, so the figures move within seconds of an outcome; the window therefore spans between
``W - 1`` and ``W`` minutes of wall time. An outcome exactly ``W`` minutes before ``now`` is
always outside; records of minutes after ``minute_of(now)`` (clock skew) are ignored.

The rules and their defaults are documented in ``docs/health.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec

from routeyard.health.histogram import Histogram, PercentileStats
from routeyard.health.minute import MinuteRecord, minute_of
from routeyard.models import STATUS_DISABLED, STATUS_NORMAL, Endpoint

UptimeDefinition = Literal["ratio", "minutes"]
Records = Iterable[tuple[int, MinuteRecord]]

WINDOW_5M = 5
WINDOW_30M = 30
WINDOW_1D = 1440
#: Fewest counted attempts (successes + failures) for a ratio uptime; fewer gives null.
DEFAULT_MIN_ATTEMPTS = 3
#: "minutes" definition: a minute is judged only with at least this many counted attempts …
DEFAULT_MINUTE_MIN_ATTEMPTS = 10
#: … and is a good minute when at least this percentage of them succeeded.
DEFAULT_MINUTE_SUCCESS_PERCENT = 80.0
#: Minute records are kept this long past the longest window before they may be pruned.
DEFAULT_RETENTION_MARGIN_MINUTES = 60



class StatusRules(msgspec.Struct, frozen=True, kw_only=True):
    """Thresholds of the status rules; the first rule that matches decides (docs/health.md).

    A percentage threshold of 0 or an ``outage_minutes`` of 0 turns its rule off.
    """

    outage_minutes: int = 3  # -5: the last this-many minutes with attempts all failed …
    outage_lookback_minutes: int = 15  # … looking this far back
    uptime_5m_below: float = 50.0  # -3: uptime_last_5m under this
    degraded_30m_below: float = 80.0  # -2: uptime_last_30m under this
    uptime_30m_below: float = 95.0  # -1: uptime_last_30m under this


class HealthSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the live fields depend on besides the records and the clock."""

    uptime_definition: UptimeDefinition = "ratio"
    uptime_min_attempts: int = DEFAULT_MIN_ATTEMPTS
    uptime_minute_min_attempts: int = DEFAULT_MINUTE_MIN_ATTEMPTS
    uptime_minute_success_percent: float = DEFAULT_MINUTE_SUCCESS_PERCENT
    status_rules: StatusRules = msgspec.field(default_factory=StatusRules)


DEFAULT_STATUS_RULES = StatusRules()
DEFAULT_SETTINGS = HealthSettings()


#: ``(model_id, tag)``: the endpoint live fields are kept for.
EndpointKey = tuple[str, str]


class LiveStats(msgspec.Struct, frozen=True, kw_only=True):
    """The live fields of one endpoint, named as on the wire."""

    uptime_last_5m: float | None
    uptime_last_30m: float | None
    uptime_last_1d: float | None
    latency_last_30m: PercentileStats | None
    throughput_last_30m: PercentileStats | None
    status: int


def window_start(now: float, window_minutes: int) -> int:
    """The first minute inside the window (the last one is ``minute_of(now)``)."""
    return minute_of(now) - window_minutes + 1


# minute -> (successes, counted attempts); cheaper than merging whole records.
_Counts = dict[int, tuple[int, int]]


def _counts(records: Records, now: float, window_minutes: int) -> _Counts:
    first, last = window_start(now, window_minutes), minute_of(now)
    out: _Counts = {}
    for minute, record in records:
        if first <= minute <= last:
            success, counted = out.get(minute, (0, 0))
            out[minute] = (success + record.success, counted + record.counted)
    return out


def _uptime_of(
    counts: _Counts,
    now: float,
    window_minutes: int,
    min_attempts: int,
    definition: UptimeDefinition,
    minute_min_attempts: int,
    minute_success_percent: float,
) -> float | None:
    first = window_start(now, window_minutes)
    window = [sc for minute, sc in counts.items() if minute >= first]
    if definition == "ratio":
        success = sum(s for s, _ in window)
        counted = sum(c for _, c in window)
        if counted < max(1, min_attempts):
            return None
        return success * 100.0 / counted
    if definition == "minutes":
        judged = good = 0
        for success, counted in window:
            if counted >= max(1, minute_min_attempts):
                judged += 1
                if success * 100.0 >= minute_success_percent * counted:
                    good += 1
        return None if judged == 0 else good * 100.0 / judged
    raise ValueError(f"unknown uptime definition {definition!r}")


def uptime(
    records: Records,
    now: float,
    window_minutes: int,
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
    definition: UptimeDefinition = "ratio",
    *,
    minute_min_attempts: int = DEFAULT_MINUTE_MIN_ATTEMPTS,
    minute_success_percent: float = DEFAULT_MINUTE_SUCCESS_PERCENT,
) -> float | None:
    """Uptime in percent over the window, or ``None`` when there is too little data.

    ``"ratio"`` (OpenRouter's spec): successes ÷ (successes + failures) × 100, rate-limited and
    caller-caused attempts left out; ``None`` below ``min_attempts`` counted attempts (at least 1).

    ``"minutes"`` (OpenRouter's SDK docs): the percentage of judged minutes that were good; a
    minute is judged when it holds at least ``minute_min_attempts`` counted attempts and is good
    when at least ``minute_success_percent`` of them succeeded; ``None`` when no minute is judged.
    """
    return _uptime_of(
        _counts(records, now, window_minutes),
        now,
        window_minutes,
        min_attempts,
        definition,
        minute_min_attempts,
        minute_success_percent,
    )


def _merged(records: Records, now: float, window_minutes: int, latency: bool) -> Histogram:
    first, last = window_start(now, window_minutes), minute_of(now)
    merged = Histogram()
    for minute, record in records:
        if first <= minute <= last:
            merged.update(record.latency if latency else record.throughput)
    return merged


def latency(
    records: Records, now: float, window_minutes: int = WINDOW_30M
) -> PercentileStats | None:
    """Time-to-first-token percentiles (ms) of the window's successes; ``None`` without data."""
    return _merged(records, now, window_minutes, latency=True).stats()


def throughput(
    records: Records, now: float, window_minutes: int = WINDOW_30M
) -> PercentileStats | None:
    """Output tokens/s percentiles of the window's successes; ``None`` without data."""
    return _merged(records, now, window_minutes, latency=False).stats()


def _outage_of(counts: _Counts, rules: StatusRules) -> bool:
    """Whether the last ``outage_minutes`` minutes that hold counted attempts (in ``counts``:
    the last ``outage_lookback_minutes``) all had zero successes, and there are that many."""
    if rules.outage_minutes <= 0:
        return False
    active = sorted((m for m, (_, counted) in counts.items() if counted > 0), reverse=True)
    recent = active[: rules.outage_minutes]
    return len(recent) == rules.outage_minutes and all(counts[m][0] == 0 for m in recent)


def status_from(
    *,
    uptime_last_5m: float | None,
    uptime_last_30m: float | None,
    outage: bool,
    rules: StatusRules = DEFAULT_STATUS_RULES,
) -> int:
    """The rule table of the measured status: -5 outage, -3 / -2 / -1 on low uptime, else 0
    (-10, disabled by the operator, is :func:`effective_status`'s).

    A null uptime never deranks: no data is not bad data.
    """
    if outage:
        return -5
    if uptime_last_5m is not None and uptime_last_5m < rules.uptime_5m_below:
        return -3
    if uptime_last_30m is not None:
        if uptime_last_30m < rules.degraded_30m_below:
            return -2
        if uptime_last_30m < rules.uptime_30m_below:
            return -1
    return STATUS_NORMAL


def _settings_uptime(
    counts: _Counts, now: float, window_minutes: int, settings: HealthSettings
) -> float | None:
    return _uptime_of(
        counts,
        now,
        window_minutes,
        settings.uptime_min_attempts,
        settings.uptime_definition,
        settings.uptime_minute_min_attempts,
        settings.uptime_minute_success_percent,
    )


def _status_of(counts: _Counts, now: float, settings: HealthSettings) -> int:
    rules = settings.status_rules
    first = window_start(now, max(1, rules.outage_lookback_minutes))
    return status_from(
        uptime_last_5m=_settings_uptime(counts, now, WINDOW_5M, settings),
        uptime_last_30m=_settings_uptime(counts, now, WINDOW_30M, settings),
        outage=_outage_of({m: sc for m, sc in counts.items() if m >= first}, rules),
        rules=rules,
    )


def _longest(settings: HealthSettings) -> int:
    return max(WINDOW_1D, settings.status_rules.outage_lookback_minutes)


def live_stats(records: Records, now: float, settings: HealthSettings = DEFAULT_SETTINGS
               ) -> LiveStats:
    """Every live field of one endpoint, for the API layer to precompute."""
    items = list(records)
    counts = _counts(items, now, _longest(settings))
    return LiveStats(
        uptime_last_5m=_settings_uptime(counts, now, WINDOW_5M, settings),
        uptime_last_30m=_settings_uptime(counts, now, WINDOW_30M, settings),
        uptime_last_1d=_settings_uptime(counts, now, WINDOW_1D, settings),
        latency_last_30m=latency(items, now, WINDOW_30M),
        throughput_last_30m=throughput(items, now, WINDOW_30M),
        status=_status_of(counts, now, settings),
    )


#: The live fields of an endpoint nothing was measured for.
UNMEASURED = LiveStats(uptime_last_5m=None, uptime_last_30m=None, uptime_last_1d=None,
                       latency_last_30m=None, throughput_last_30m=None, status=STATUS_NORMAL)


def effective_status(endpoint: Endpoint, live: LiveStats | None) -> int:
    """The status served for ``endpoint``: -10 while the operator disabled it, else the one
    its live fields computed (0 without any)."""
    if endpoint.disabled:
        return STATUS_DISABLED
    return STATUS_NORMAL if live is None else live.status


def retention_cutoff(now: float, margin_minutes: int = DEFAULT_RETENTION_MARGIN_MINUTES) -> int:
    """Records of minutes before this one are outside every window by the margin: prune them."""
    return window_start(now, WINDOW_1D) - max(0, margin_minutes)
