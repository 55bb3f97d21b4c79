"""What routeyard keeps of one routed request (pure).

A :class:`Generation` holds ids, names, counts, durations and the cost: never a prompt, an
answer, a header or a provider key. The router builds one at the end of every routed request
and hands it to the app's sink (:meth:`routeyard.accounting.service.AccountingService.record`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

K = TypeVar("K", bound=Hashable)


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One try of one endpoint: ``reason`` is a short classification, secrets stripped."""

    provider: str
    tag: str
    status: int | None = None
    reason: str | None = None
    ttft_ms: float | None = None
    duration_ms: float | None = None


class Generation(msgspec.Struct, frozen=True, kw_only=True):
    """One routed request. ``provider``/``tag`` name the endpoint that answered (None when
    none did); ``cost`` is USD, exact, computed from the catalog's prices."""

    id: str
    key_id: int
    model: str
    provider: str | None = None
    provider_name: str | None = None
    tag: str | None = None
    attempts: tuple[Attempt, ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    cost: Decimal = Decimal(0)
    ttft_ms: float | None = None
    generation_ms: float | None = None
    latency_ms: float | None = None
    finish_reason: str | None = None
    upstream_id: str | None = None
    streamed: bool = False
    cancelled: bool = False
    created_at: float = 0.0


class DayUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Spend and tokens of one key on one UTC day (start, epoch seconds), model and provider
    (``""``: no endpoint answered)."""

    key_id: int
    day: int
    model: str
    provider: str
    usage: Decimal
    requests: int
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cached_tokens: int


# The amounts of a DayUsage that add up, in the order :func:`add_up` lists them.
AMOUNTS = ("usage", "requests", "prompt_tokens", "completion_tokens", "reasoning_tokens",
           "cached_tokens")


def add_up(days: Iterable[DayUsage], group: Callable[[DayUsage], K]) -> dict[K, list[Any]]:
    """The :data:`AMOUNTS` of ``days`` added up per ``group`` (USD as Decimal, counts as
    int), groups in the order first seen."""
    totals: dict[K, list[Any]] = {}
    for d in days:
        t = totals.setdefault(group(d), [Decimal(0), 0, 0, 0, 0, 0])
        for i, name in enumerate(AMOUNTS):
            t[i] += getattr(d, name)
    return totals
