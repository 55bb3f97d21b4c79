"""Accounting SQL: generation records, per-key usage counters, daily usage, spend limits.

Counters change by read-modify-write in the transaction that inserts the records they count,
with their rows locked first: on PostgreSQL ``INSERT … ON CONFLICT DO NOTHING`` then ``SELECT …
FOR UPDATE``, in key order (no deadlock between replicas); on SQLite the first write takes the
database's write lock, which serializes every writer anyway. Amounts are exact decimal strings
added with :class:`~decimal.Decimal`. A batch already written (a flush retried after its commit
was in fact done) is recognised by its ids and counts once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from routeyard.accounting.periods import Usage, day_start, month_start, week_start
from routeyard.accounting.records import Attempt, DayUsage, Generation
from routeyard.prices import format_decimal
from routeyard.store.tables import api_keys, generations, key_usage, usage_days

ZERO = Decimal(0)
UNKNOWN_PROVIDER = ""  # usage_days key of a request that no endpoint answered


def _insert(conn: Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _money(value: Decimal) -> str:
    return format_decimal(value)


# -- generation records -------------------------------------------------------------------


_COLUMNS = tuple(generations.c.keys())
_encode_json = msgspec.json.Encoder().encode


def _insert_sql(conn: Connection) -> str:
    """The plain INSERT of generation rows, with named parameters in the driver's style:
    the rows go through the driver's executemany, without SQLAlchemy's per-row parameter
    processing (which cost about 60 µs a record, most of the accounting write)."""
    marks = [f":{c}" if conn.dialect.paramstyle in ("qmark", "named") else f"%({c})s"
             for c in _COLUMNS]
    return f"INSERT INTO generations ({', '.join(_COLUMNS)}) VALUES ({', '.join(marks)})"


def _row(g: Generation) -> dict[str, Any]:
    # attempts: the JSON column's text, as SQLAlchemy's JSON type would store it
    return {
        "id": g.id, "key_id": g.key_id, "model": g.model, "provider_slug": g.provider,
        "provider_name": g.provider_name, "tag": g.tag,
        "attempts": _encode_json(g.attempts).decode(),
        "tokens_prompt": g.prompt_tokens, "tokens_completion": g.completion_tokens,
        "tokens_reasoning": g.reasoning_tokens, "tokens_cached": g.cached_tokens,
        "cost": _money(g.cost), "ttft_ms": g.ttft_ms, "generation_ms": g.generation_ms,
        "latency_ms": g.latency_ms, "finish_reason": g.finish_reason,
        "upstream_id": g.upstream_id, "streamed": g.streamed, "cancelled": g.cancelled,
        "created_at": g.created_at,
    }


def _generation(row: Any) -> Generation:
    m = row._mapping
    return Generation(
        id=m["id"], key_id=int(m["key_id"]), model=m["model"], provider=m["provider_slug"],
        provider_name=m["provider_name"], tag=m["tag"],
        attempts=tuple(msgspec.convert(m["attempts"] or [], list[Attempt])),
        prompt_tokens=m["tokens_prompt"], completion_tokens=m["tokens_completion"],
        reasoning_tokens=m["tokens_reasoning"], cached_tokens=m["tokens_cached"],
        cost=Decimal(m["cost"]), ttft_ms=m["ttft_ms"], generation_ms=m["generation_ms"],
        latency_ms=m["latency_ms"], finish_reason=m["finish_reason"],
        upstream_id=m["upstream_id"], streamed=bool(m["streamed"]),
        cancelled=bool(m["cancelled"]), created_at=float(m["created_at"]),
    )


@dataclass
class _DayTotals:
    usage: Decimal = ZERO
    requests: int = 0
    prompt: int = 0
    completion: int = 0
    reasoning: int = 0
    cached: int = 0

    def add(self, g: Generation) -> None:
        self.usage += g.cost
        self.requests += 1
        self.prompt += g.prompt_tokens or 0
        self.completion += g.completion_tokens or 0
        self.reasoning += g.reasoning_tokens or 0
        self.cached += g.cached_tokens or 0


@dataclass
class _KeyTotals:
    # (day, week, month) start -> cost, so that a batch spanning midnight splits right
    by_day: dict[int, Decimal] = field(default_factory=dict)
    usage: Decimal = ZERO
    requests: int = 0


def write_generations(conn: Connection, batch: Sequence[Generation], now: float) -> int:
    """Insert ``batch`` and add it to the usage counters; returns how many were new."""
    if not batch:
        return 0
    ids = [g.id for g in batch]
    known = set(conn.execute(sa.select(generations.c.id).where(generations.c.id.in_(ids)))
                .scalars())
    seen: set[str] = set()
    fresh: list[Generation] = []
    for g in batch:
        if g.id not in known and g.id not in seen:
            seen.add(g.id)
            fresh.append(g)
    if not fresh:
        return 0
    conn.exec_driver_sql(_insert_sql(conn), [_row(g) for g in fresh])
    _add_days(conn, fresh)
    _add_keys(conn, fresh, now)
    return len(fresh)


def _add_days(conn: Connection, batch: Iterable[Generation]) -> None:
    totals: dict[tuple[int, int, str, str], _DayTotals] = {}
    for g in batch:
        key = (g.key_id, day_start(g.created_at), g.model, g.provider or UNKNOWN_PROVIDER)
        totals.setdefault(key, _DayTotals()).add(g)
    keys = sorted(totals)
    c = usage_days.c
    conn.execute(
        _insert(conn, usage_days).on_conflict_do_nothing(),
        [{"key_id": k, "day": d, "model": m, "provider_slug": p, "usage": "0", "requests": 0,
          "prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0,
          "cached_tokens": 0} for k, d, m, p in keys],
    )
    held: dict[tuple[int, int, str, str], Any] = {}
    for key_id in sorted({k[0] for k in keys}):
        days = sorted({k[1] for k in keys if k[0] == key_id})
        rows = conn.execute(
            sa.select(usage_days).where(c.key_id == key_id, c.day >= days[0], c.day <= days[-1])
            .order_by(c.day, c.model, c.provider_slug).with_for_update()
        )
        for r in rows:
            held[(int(r.key_id), int(r.day), r.model, r.provider_slug)] = r
    update = sa.update(usage_days).where(
        c.key_id == sa.bindparam("k_key_id"), c.day == sa.bindparam("k_day"),
        c.model == sa.bindparam("k_model"), c.provider_slug == sa.bindparam("k_provider"),
    )
    values = []
    for key in keys:
        old, add = held[key], totals[key]
        values.append({
            "k_key_id": key[0], "k_day": key[1], "k_model": key[2], "k_provider": key[3],
            "usage": _money(Decimal(old.usage) + add.usage),
            "requests": int(old.requests) + add.requests,
            "prompt_tokens": int(old.prompt_tokens) + add.prompt,
            "completion_tokens": int(old.completion_tokens) + add.completion,
            "reasoning_tokens": int(old.reasoning_tokens) + add.reasoning,
            "cached_tokens": int(old.cached_tokens) + add.cached,
        })
    conn.execute(update, values)


def _add_keys(conn: Connection, batch: Iterable[Generation], now: float) -> None:
    totals: dict[int, _KeyTotals] = {}
    for g in batch:
        t = totals.setdefault(g.key_id, _KeyTotals())
        day = day_start(g.created_at)
        t.by_day[day] = t.by_day.get(day, ZERO) + g.cost
        t.usage += g.cost
        t.requests += 1
    key_ids = sorted(totals)
    c = key_usage.c
    conn.execute(
        _insert(conn, key_usage).on_conflict_do_nothing(),
        [{"key_id": k, "usage": "0", "requests": 0, "day_start": 0, "usage_daily": "0",
          "week_start": 0, "usage_weekly": "0", "month_start": 0, "usage_monthly": "0",
          "updated_at": now} for k in key_ids],
    )
    rows = {int(r.key_id): r for r in conn.execute(
        sa.select(key_usage).where(c.key_id.in_(key_ids)).order_by(c.key_id).with_for_update()
    )}
    values = []
    for key_id in key_ids:
        r, t = rows[key_id], totals[key_id]
        # Periods as of the newest record of the batch; older records of an earlier period
        # (a batch across midnight) count in the all-time total and their own day only.
        latest = max(t.by_day)
        periods = {"day": day_start(latest), "week": week_start(latest),
                   "month": month_start(latest)}
        out: dict[str, Any] = {"k_key_id": key_id, "updated_at": now,
                               "usage": _money(Decimal(r.usage) + t.usage),
                               "requests": int(r.requests) + t.requests}
        for name, start in periods.items():
            column = {"day": "usage_daily", "week": "usage_weekly", "month": "usage_monthly"}[name]
            stored_start = int(getattr(r, f"{name}_start"))
            added = sum((cost for day, cost in t.by_day.items() if day >= start), ZERO)
            if stored_start == start:
                base = Decimal(getattr(r, column))
            elif stored_start > start:  # the row is already in a later period: keep it
                start, base, added = stored_start, Decimal(getattr(r, column)), ZERO
            else:
                base = ZERO
            out[f"{name}_start"] = start
            out[column] = _money(base + added)
        values.append(out)
    conn.execute(sa.update(key_usage).where(c.key_id == sa.bindparam("k_key_id")), values)


def read_generation(conn: Connection, gen_id: str) -> Generation | None:
    row = conn.execute(sa.select(generations).where(generations.c.id == gen_id)).first()
    return None if row is None else _generation(row)


def prune_generations(conn: Connection, before: float) -> int:
    return int(conn.execute(
        sa.delete(generations).where(generations.c.created_at < before)).rowcount)


# -- usage --------------------------------------------------------------------------------


def _usage_of(row: Any, now: float) -> Usage:
    def current(start_column: str, column: str, start: int) -> Decimal:
        return Decimal(getattr(row, column)) if int(getattr(row, start_column)) == start else ZERO

    return Usage(
        total=Decimal(row.usage),
        daily=current("day_start", "usage_daily", day_start(now)),
        weekly=current("week_start", "usage_weekly", week_start(now)),
        monthly=current("month_start", "usage_monthly", month_start(now)),
        requests=int(row.requests),
    )


def read_usage(conn: Connection, now: float, key_ids: Iterable[int] | None = None
               ) -> dict[int, Usage]:
    """Each key's usage as of ``now`` (keys that never spent are absent)."""
    query = sa.select(key_usage)
    if key_ids is not None:
        query = query.where(key_usage.c.key_id.in_(sorted(set(key_ids))))
    return {int(r.key_id): _usage_of(r, now) for r in conn.execute(query)}


def read_days(conn: Connection, *, since_day: int, until_day: int | None = None,
              key_id: int | None = None) -> list[DayUsage]:
    c = usage_days.c
    query = sa.select(usage_days).where(c.day >= since_day)
    if until_day is not None:
        query = query.where(c.day <= until_day)
    if key_id is not None:
        query = query.where(c.key_id == key_id)
    return [
        DayUsage(key_id=int(r.key_id), day=int(r.day), model=r.model, provider=r.provider_slug,
                 usage=Decimal(r.usage), requests=int(r.requests),
                 prompt_tokens=int(r.prompt_tokens), completion_tokens=int(r.completion_tokens),
                 reasoning_tokens=int(r.reasoning_tokens), cached_tokens=int(r.cached_tokens))
        for r in conn.execute(query.order_by(c.day, c.key_id, c.model, c.provider_slug))
    ]


# -- limits -------------------------------------------------------------------------------


def set_limit(conn: Connection, key_id: int, limit: Decimal | None, reset: str | None) -> None:
    conn.execute(sa.update(api_keys).where(api_keys.c.id == key_id).values(
        spend_limit=None if limit is None else _money(limit), limit_reset=reset))
