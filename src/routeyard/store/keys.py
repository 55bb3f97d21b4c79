"""API key SQL."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routeyard import preferences
from routeyard.errors import KeyNotFound
from routeyard.keys import KEY_PREFIX, KeyRecord, key_prefix
from routeyard.preferences import KeyPreferences
from routeyard.store.tables import api_keys

# Added by later migrations: a key made at an older schema (before an upgrade) has none.
_LATER_COLUMNS = frozenset({"spend_limit", "limit_reset", "preferences"})


def _record(row: sa.Row[tuple[object, ...]]) -> KeyRecord:
    m = row._mapping
    return KeyRecord(
        id=int(m["id"]), name=m["name"], prefix=m["prefix"], key_hash=m["key_hash"],
        scope=m["scope"], created_at=int(m["created_at"]), last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"], spend_limit=m.get("spend_limit"),
        limit_reset=m.get("limit_reset"), preferences=preferences.decode(m.get("preferences")),
    )


def insert_key(conn: Connection, *, name: str, prefix: str, key_hash: str, scope: str, now: int,
               prefs: KeyPreferences = preferences.NONE) -> KeyRecord:
    result = conn.execute(
        sa.insert(api_keys).values(
            name=name, prefix=prefix, key_hash=key_hash, scope=scope, created_at=now,
            # Only when there are some: a key made at an older schema has no such column.
            **({"preferences": preferences.encode(prefs)} if prefs != preferences.NONE else {}),
        ).returning(*(c for c in api_keys.c if c.name not in _LATER_COLUMNS))
    )
    return _record(result.one())


def list_keys(conn: Connection) -> list[KeyRecord]:
    return [_record(r) for r in conn.execute(sa.select(api_keys).order_by(api_keys.c.id))]


def find_key(conn: Connection, id_or_prefix: str, *, for_update: bool = False) -> KeyRecord:
    query = sa.select(api_keys)
    if for_update:  # a read-modify-write: PostgreSQL locks the row (SQLite: the database)
        query = query.with_for_update()
    if id_or_prefix.isdigit():
        query = query.where(api_keys.c.id == int(id_or_prefix))
    else:
        prefix = key_prefix(id_or_prefix) if id_or_prefix.startswith(KEY_PREFIX) else id_or_prefix
        query = query.where(api_keys.c.prefix == prefix)
    row = conn.execute(query).first()
    if row is None:
        raise KeyNotFound(f"no key with id or prefix {id_or_prefix!r}")
    return _record(row)


def key_by_prefix(conn: Connection, prefix: str) -> KeyRecord | None:
    row = conn.execute(sa.select(api_keys).where(api_keys.c.prefix == prefix)).first()
    return None if row is None else _record(row)


def set_preferences(conn: Connection, key_id: int, prefs: KeyPreferences) -> None:
    conn.execute(sa.update(api_keys).where(api_keys.c.id == key_id)
                 .values(preferences=preferences.encode(prefs)))


def revoke_key(conn: Connection, key_id: int, now: int) -> None:
    conn.execute(
        sa.update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def touch_keys(conn: Connection, last_used: Iterable[tuple[int, int]]) -> None:
    """Record last-used times, batched; never moves a time backwards."""
    for key_id, at in last_used:
        conn.execute(
            sa.update(api_keys)
            .where(api_keys.c.id == key_id)
            .where(sa.or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < at))
            .values(last_used_at=at)
        )
