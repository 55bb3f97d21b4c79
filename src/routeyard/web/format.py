"""How the status pages write numbers for people. Pure.

Prices are per-token decimal strings (:mod:`routeyard.prices`); people read them per million
tokens, in dollars: ``"0.00000013"`` is ``$0.13 / 1M tokens``. Arithmetic is
:class:`~decimal.Decimal` throughout, never float.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

from routeyard.health.histogram import PercentileStats
from routeyard.models import STATUS_DISABLED, STATUS_NORMAL, Prices, field_titles
from routeyard.prices import per_token_to_per_million

NONE = "—"  # shown where there is no value
#: Finest dollar amount shown; smaller non-zero prices read "<$0.000001".
_QUANTUM = Decimal("0.000001")
#: Price keys that are not per token, with the unit they are per.
PRICE_UNITS: dict[str, str] = {"request": "request", "image": "image", "web_search": "search"}
#: Column titles of the price keys, declared with them (``Meta(title=...)``).
PRICE_LABELS: dict[str, str] = field_titles(Prices)


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def per_million(price: str | None) -> Decimal | None:
    """The exact price per million tokens of a per-token price string, or None."""
    if _decimal(price) is None:
        return None
    assert price is not None
    return per_token_to_per_million(price)


def dollars(amount: Decimal) -> str:
    """``$0.13``, ``$3.00``, ``$1,200.50``, ``$0.0375``: at least two decimals, at most six,
    no trailing zeros past the second; ``<$0.000001`` below that."""
    if amount < 0:
        return "-" + dollars(-amount)
    rounded = amount.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    if rounded == 0 and amount != 0:
        return "<$" + str(_QUANTUM)
    whole, _, frac = format(rounded, ",f").partition(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"${whole}.{frac}"


def token_price(price: str | None) -> str:
    """A per-token price as people read it: ``$0.13 / 1M tokens``, ``free`` for zero."""
    amount = per_million(price)
    if amount is None:
        return NONE
    if amount == 0:
        return "free"
    return f"{dollars(amount)} / 1M tokens"


def price(name: str, value: str | None) -> str:
    """Any price key of :class:`~routeyard.models.Pricing` with its unit: per million tokens,
    or per request / image / search for the keys that are not per token."""
    unit = PRICE_UNITS.get(name)
    if unit is None:
        return token_price(value)
    amount = _decimal(value)
    if amount is None:
        return NONE
    return "free" if amount == 0 else f"{dollars(amount)} / {unit}"


def _round_half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _strip(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def tokens(count: int | None) -> str:
    """A token count, short: ``262K`` for 262,144, ``8.2K``, ``1.05M``, ``512``."""
    if count is None:
        return NONE
    if count < 1000:
        return str(count)
    value = Decimal(count)
    if count < 10_000:
        thousands = _round_half_up(value / 1000, 1)
        return _strip(thousands) + "K"
    if count < 999_500:
        return _strip(_round_half_up(value / 1000, 0)) + "K"
    return _strip(_round_half_up(value / 1_000_000, 2)) + "M"


def integer(count: int) -> str:
    """``1,234``."""
    return f"{count:,}"


def percent(share: float | None) -> str:
    """A share in [0, 1] as a percentage, rounded down to one decimal so that anything short
    of every attempt never reads ``100%``: ``98%``, ``99.9%``, ``0%``; ``—`` for None."""
    if share is None:
        return NONE
    tenths = math.floor(share * 1000 + 1e-9)
    if share < 1 and tenths >= 1000:
        tenths = 999
    return f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths / 10:.1f}%"


def uptime(value: float | None) -> str:
    """An uptime field of the API (a percentage, 0–100)."""
    return NONE if value is None else percent(value / 100.0)


def milliseconds(value: float | None) -> str:
    """A latency: ``350 ms``, ``1.2 s``."""
    if value is None:
        return NONE
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.1f} s"


def per_second(value: float | None) -> str:
    """A throughput: ``45 tok/s``, ``7.5 tok/s``."""
    if value is None:
        return NONE
    return f"{value:.1f} tok/s" if value < 10 else f"{value:.0f} tok/s"


def percentiles(stats: PercentileStats | None, unit: str) -> tuple[str, str]:
    """``(p50, p90)`` of a live ``{p50, p75, p90, p99}`` object, formatted by ``unit``
    (``"ms"`` or ``"tps"``)."""
    fmt = milliseconds if unit == "ms" else per_second
    if stats is None:
        return NONE, NONE
    return fmt(stats.p50), fmt(stats.p90)


def modalities(inputs: Iterable[str], outputs: Iterable[str]) -> str:
    """``text+image → text``."""
    return f"{'+'.join(inputs) or NONE} → {'+'.join(outputs) or NONE}"


class StatusLabel(NamedTuple):
    word: str
    css: str  # the class that colours it (status-…)
    meaning: str  # one line for the title attribute


_STATUS: dict[int, StatusLabel] = {
    STATUS_NORMAL: StatusLabel("Normal", "status-ok", "Serving normally"),
    -1: StatusLabel("Minor issues", "status-minor",
                    "Uptime over the last 30 minutes below the normal threshold"),
    -2: StatusLabel("Degraded", "status-degraded", "Uptime over the last 30 minutes is low"),
    -3: StatusLabel("Major issues", "status-major", "Uptime over the last 5 minutes is low"),
    -5: StatusLabel("Outage", "status-down", "Every recent attempt failed"),
    STATUS_DISABLED: StatusLabel("Disabled", "status-disabled", "Disabled by the operator"),
}


def status(value: int) -> StatusLabel:
    """The word and colour of an endpoint status (docs/health.md, "Status")."""
    label = _STATUS.get(value)
    if label is not None:
        return label
    if value < 0:
        return StatusLabel("Deranked", "status-degraded", f"Status {value}")
    return _STATUS[STATUS_NORMAL]
