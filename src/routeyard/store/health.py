"""Health SQL: per-writer minute records, incremental reads, pruning, leases."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routeyard.health.minute import MinuteKey, MinuteRecord
from routeyard.store.tables import health_minutes, leases

COUNT_FIELDS = ("success", "upstream_error", "timeout", "rate_limited", "caller_error")
HealthRow = tuple[MinuteKey, str, MinuteRecord, float]
# A merge names its endpoints in the read (two bound parameters each) up to this many; past
# it, it reads all the writer's rows of the batch's minutes (SQLite's limit is 32,766).
MAX_ENDPOINTS_LISTED = 500


def _decode(row: Any) -> MinuteRecord:
    return MinuteRecord.decode({
        **{f: getattr(row, f) for f in COUNT_FIELDS},
        "latency": row.latency, "throughput": row.throughput,
    })


_UPDATE = sa.update(health_minutes).where(
    health_minutes.c.model_id == sa.bindparam("k_model_id"),
    health_minutes.c.tag == sa.bindparam("k_tag"),
    health_minutes.c.minute == sa.bindparam("k_minute"),
)


def merge_rows(conn: Connection, writer: str, items: Iterable[tuple[MinuteKey, MinuteRecord]],
               now: float, *, max_listed: int = MAX_ENDPOINTS_LISTED
               ) -> dict[MinuteKey, MinuteRecord]:
    """Add ``items`` into this writer's rows (read, merge, write back); returns the records
    now held by every row written: what reading them back would give once the transaction
    commits. Only this writer touches its rows, so there is no contention between
    processes."""
    batch = list(items)
    if not batch:
        return {}
    minutes = sorted({key.minute for key, _ in batch})
    endpoints = sorted({(key.model_id, key.tag) for key, _ in batch})
    query = sa.select(health_minutes).where(
        health_minutes.c.writer == writer,
        health_minutes.c.minute >= minutes[0], health_minutes.c.minute <= minutes[-1],
    )
    if len(endpoints) <= max_listed:
        # Only the batch's endpoints: the writer's other rows of those minutes (a seed or a
        # batch over many endpoints just before) would be read and decoded for nothing.
        query = query.where(
            sa.tuple_(health_minutes.c.model_id, health_minutes.c.tag).in_(endpoints))
    existing: dict[MinuteKey, MinuteRecord] = {}
    for row in conn.execute(query):
        existing[MinuteKey(row.model_id, row.tag, int(row.minute))] = _decode(row)
    inserts: dict[MinuteKey, dict[str, Any]] = {}
    updates: dict[MinuteKey, dict[str, Any]] = {}
    written: dict[MinuteKey, MinuteRecord] = {}
    for key, increment in batch:
        old = existing.get(key)
        merged = increment.copy() if old is None else old.merge(increment)
        existing[key] = written[key] = merged
        encoded = merged.encode()
        values = {**{f: encoded[f] for f in COUNT_FIELDS}, "latency": encoded["latency"],
                  "throughput": encoded["throughput"], "updated_at": now}
        if key in inserts or old is None:  # a key twice in one batch: insert the sum once
            inserts[key] = {"model_id": key.model_id, "tag": key.tag, "minute": key.minute,
                            "writer": writer, **values}
        else:
            updates[key] = {"k_model_id": key.model_id, "k_tag": key.tag,
                            "k_minute": key.minute, **values}
    # One executemany each (a multi-row INSERT; a pipelined UPDATE on psycopg): a statement
    # per row cost PostgreSQL two round trips per endpoint-minute.
    if inserts:
        conn.execute(sa.insert(health_minutes), list(inserts.values()))
    if updates:
        conn.execute(_UPDATE.where(health_minutes.c.writer == writer), list(updates.values()))
    return written


def read_minutes(conn: Connection, *, updated_since: float, min_minute: int) -> list[HealthRow]:
    """Rows of every writer changed since ``updated_since`` for minutes from ``min_minute``."""
    rows = conn.execute(
        sa.select(health_minutes).where(
            health_minutes.c.updated_at >= updated_since, health_minutes.c.minute >= min_minute,
        )
    )
    return [
        (MinuteKey(r.model_id, r.tag, int(r.minute)), r.writer, _decode(r), float(r.updated_at))
        for r in rows
    ]


def prune_minutes(conn: Connection, before_minute: int) -> int:
    return int(conn.execute(
        sa.delete(health_minutes).where(health_minutes.c.minute < before_minute)
    ).rowcount)


def acquire_lease(conn: Connection, name: str, holder: str, now: float, ttl: float) -> bool:
    """Take or renew lease ``name`` for ``holder``; False while another holder's is valid."""
    row = conn.execute(sa.select(leases).where(leases.c.name == name)).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(leases).values(name=name, holder=holder, expires_at=now + ttl))
            return True
        except sa.exc.IntegrityError:
            return False
    updated = conn.execute(
        sa.update(leases).where(
            leases.c.name == name,
            sa.or_(leases.c.holder == holder, leases.c.expires_at < now),
        ).values(holder=holder, expires_at=now + ttl)
    )
    return bool(updated.rowcount)
