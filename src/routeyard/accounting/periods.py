"""UTC periods of usage and limits (pure): day, week (Monday to Sunday), month."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

RESETS = ("daily", "weekly", "monthly", "never")
DAY = 86_400


def day_start(ts: float) -> int:
    return int(ts // DAY) * DAY


def week_start(ts: float) -> int:
    day = day_start(ts)
    weekday = dt.datetime.fromtimestamp(day, dt.UTC).weekday()  # Monday is 0
    return day - weekday * DAY


def month_start(ts: float) -> int:
    d = dt.datetime.fromtimestamp(ts, dt.UTC)
    return calendar.timegm((d.year, d.month, 1, 0, 0, 0))


def next_reset(reset: str | None, ts: float) -> int | None:
    """When usage counted against a limit with ``reset`` next starts from zero."""
    if reset == "daily":
        return day_start(ts) + DAY
    if reset == "weekly":
        return week_start(ts) + 7 * DAY
    if reset == "monthly":
        d = dt.datetime.fromtimestamp(ts, dt.UTC)
        year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        return calendar.timegm((year, month, 1, 0, 0, 0))
    return None


def iso_day(day: int) -> str:
    return dt.datetime.fromtimestamp(day, dt.UTC).strftime("%Y-%m-%d")


class Usage:
    """A key's spend as of ``now``: counters of a period that has ended read as zero."""

    __slots__ = ("daily", "monthly", "requests", "total", "weekly")

    def __init__(self, total: Decimal = Decimal(0), daily: Decimal = Decimal(0),
                 weekly: Decimal = Decimal(0), monthly: Decimal = Decimal(0),
                 requests: int = 0) -> None:
        self.total = total
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.requests = requests

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Usage) and self.as_tuple() == other.as_tuple()

    def __repr__(self) -> str:
        return (f"Usage(total={self.total}, daily={self.daily}, weekly={self.weekly}, "
                f"monthly={self.monthly}, requests={self.requests})")

    def as_tuple(self) -> tuple[Decimal, Decimal, Decimal, Decimal, int]:
        return (self.total, self.daily, self.weekly, self.monthly, self.requests)

    def plus(self, cost: Decimal, requests: int = 1) -> Usage:
        return Usage(self.total + cost, self.daily + cost, self.weekly + cost,
                     self.monthly + cost, self.requests + requests)

    def counted(self, reset: str | None) -> Decimal:
        """The usage a limit with ``reset`` is checked against."""
        if reset == "daily":
            return self.daily
        if reset == "weekly":
            return self.weekly
        if reset == "monthly":
            return self.monthly
        return self.total


def remaining(limit: Decimal | None, reset: str | None, usage: Usage) -> Decimal | None:
    if limit is None:
        return None
    return max(Decimal(0), limit - usage.counted(reset))
