"""Catalog SQL: read the whole catalog, and make the database match a catalog."""

from __future__ import annotations

import functools
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routeyard.models import (
    Catalog,
    DataPolicy,
    Endpoint,
    Model,
    Pricing,
    Provider,
    ToolChoiceSupport,
)
from routeyard.store.tables import PRICE_COLUMNS, endpoints, models, providers

# Fields the operator owns: a re-import keeps the database's value unless told to overwrite.
OPERATOR_FIELDS = ("disabled",)


class Diff(msgspec.Struct, kw_only=True):
    """What a catalog write did (or, on a dry run, would do), by kind and natural key."""

    created: list[str] = msgspec.field(default_factory=list)
    updated: list[str] = msgspec.field(default_factory=list)
    unchanged: list[str] = msgspec.field(default_factory=list)
    pruned: list[str] = msgspec.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.pruned)


# -- rows <-> domain -------------------------------------------------------------------


def _policy_value(policy: DataPolicy | None) -> dict[str, Any] | None:
    if policy is None or policy.empty:
        return None
    out: dict[str, Any] = msgspec.to_builtins(policy)
    return out


def _policy(value: Any) -> DataPolicy | None:
    return msgspec.convert(value, DataPolicy) if value else None


def _columns(s: msgspec.Struct, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A domain struct's fields as column values, by field name: tuples as JSON lists, an
    empty data policy as NULL, other nested structs as JSON objects."""
    out: dict[str, Any] = {}
    for name in s.__struct_fields__:
        if name in skip:
            continue
        value = getattr(s, name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, DataPolicy):
            value = _policy_value(value)
        elif isinstance(value, msgspec.Struct):
            value = msgspec.to_builtins(value)
        out[name] = value
    return out


@functools.cache
def _names(kind: type[msgspec.Struct], skip: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in kind.__struct_fields__ if name not in skip)


def _fields(row: Any, kind: type[msgspec.Struct], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The columns of ``row`` named like the fields of ``kind`` (JSON lists as tuples)."""
    values = row._mapping
    return {name: tuple(v) if type(v) is list else v
            for name in _names(kind, skip) for v in (values[name],)}


def provider_row(p: Provider) -> dict[str, Any]:
    return _columns(p)


def model_row(m: Model) -> dict[str, Any]:
    return {**_columns(m, skip=("endpoints",)), "id_lower": m.id.lower()}


# Endpoint fields whose columns are not named like them.
_ENDPOINT_OWN = ("provider", "pricing")


def endpoint_row(model_id: str, position: int, e: Endpoint) -> dict[str, Any]:
    row = {"model_id": model_id, "provider_slug": e.provider, "position": position,
           **_columns(e, skip=_ENDPOINT_OWN)}
    for name in PRICE_COLUMNS:
        row[f"price_{name}"] = getattr(e.pricing, name)
    return row


def _provider(row: Any) -> Provider:
    return Provider(**_fields(row, Provider, skip=("data_policy",)),
                    data_policy=_policy(row.data_policy))


def _endpoint(row: Any) -> Endpoint:
    tool_choice = row.supports_tool_choice
    return Endpoint(
        **_fields(row, Endpoint, skip=(*_ENDPOINT_OWN, "supports_tool_choice", "data_policy")),
        provider=row.provider_slug,
        pricing=Pricing(**{name: getattr(row, f"price_{name}") for name in PRICE_COLUMNS}),
        supports_tool_choice=ToolChoiceSupport(**tool_choice) if tool_choice is not None else None,
        data_policy=_policy(row.data_policy),
    )


def _model(row: Any, eps: tuple[Endpoint, ...]) -> Model:
    return Model(**_fields(row, Model, skip=("endpoints",)), endpoints=eps)


# -- reading ---------------------------------------------------------------------------


def read_catalog(conn: Connection) -> Catalog:
    """The whole catalog, models by id, endpoints in serving order."""
    provs = tuple(_provider(r) for r in conn.execute(sa.select(providers).order_by(providers.c.slug)))
    by_model: dict[str, list[Endpoint]] = {}
    for row in conn.execute(
        sa.select(endpoints).order_by(endpoints.c.model_id, endpoints.c.position, endpoints.c.id)
    ):
        by_model.setdefault(row.model_id, []).append(_endpoint(row))
    mods = tuple(
        _model(r, tuple(by_model.get(r.id, ())))
        for r in conn.execute(sa.select(models).order_by(models.c.id))
    )
    return Catalog(providers=provs, models=mods)


# -- writing ---------------------------------------------------------------------------


def _same(row: Any, values: dict[str, Any]) -> bool:
    return all(getattr(row, key) == value for key, value in values.items())


def apply_catalog(
    conn: Connection,
    catalog: Catalog,
    *,
    now: int,
    prune: bool = False,
    overwrite: bool = False,
    source: str | None = None,
) -> Diff:
    """Make the database hold ``catalog`` (upsert by natural key) in the caller's transaction.

    Providers are keyed by slug, models by id, endpoints by (model id, tag). Rows not in
    ``catalog`` are kept unless ``prune``. Operator-owned fields (``disabled``) keep their
    database value unless ``overwrite``. Endpoint ``source``/``imported_at`` are set from
    ``source``/``now`` where the catalog leaves them empty.
    """
    diff = Diff()
    # New rows are inserted in batches (one executemany per table, parents first).
    new_providers: list[dict[str, Any]] = []
    new_models: list[dict[str, Any]] = []
    new_endpoints: list[dict[str, Any]] = []
    def upsert(table: sa.Table, key: sa.Column[Any], label: str, values: dict[str, Any],
               old: Any, new_rows: list[dict[str, Any]]) -> None:
        """A provider or model row: queued for insertion, left alone, or updated."""
        if old is None:
            new_rows.append({**values, "source": source, "updated_at": now})
            diff.created.append(label)
        elif _same(old, values):
            diff.unchanged.append(label)
        else:
            conn.execute(sa.update(table).where(key == values[key.name])
                         .values(**values, source=source or old.source, updated_at=now))
            diff.updated.append(label)

    existing_p = {r.slug: r for r in conn.execute(sa.select(providers))}
    for p in catalog.providers:
        upsert(providers, providers.c.slug, f"provider {p.slug}", provider_row(p),
               existing_p.get(p.slug), new_providers)

    if new_providers:
        conn.execute(sa.insert(providers), new_providers)
    existing_m = {r.id: r for r in conn.execute(sa.select(models))}
    existing_e: dict[tuple[str, str], Any] = {
        (r.model_id, r.tag): r for r in conn.execute(sa.select(endpoints))
    }
    declared_e: set[tuple[str, str]] = set()
    for m in catalog.models:
        upsert(models, models.c.id, f"model {m.id}", model_row(m), existing_m.get(m.id),
               new_models)
        for position, e in enumerate(m.endpoints):
            declared_e.add((m.id, e.tag))
            values = endpoint_row(m.id, position, e)
            key = f"endpoint {m.id} {e.tag}"
            old_e = existing_e.get((m.id, e.tag))
            if old_e is None:
                values["source"] = values["source"] or source
                values["imported_at"] = values["imported_at"] or now
                new_endpoints.append({**values, "updated_at": now})
                diff.created.append(key)
                continue
            if not overwrite:
                for name in OPERATOR_FIELDS:
                    values[name] = getattr(old_e, name)
            # Provenance changes alone do not make an endpoint "updated".
            values["source"] = values["source"] or old_e.source
            values["imported_at"] = values["imported_at"] or old_e.imported_at
            compared = {k: v for k, v in values.items() if k not in ("source", "imported_at")}
            if _same(old_e, compared):
                diff.unchanged.append(key)
                continue
            values["source"] = e.source or source or old_e.source
            values["imported_at"] = e.imported_at or now
            conn.execute(
                sa.update(endpoints).where(endpoints.c.id == old_e.id).values(**values, updated_at=now)
            )
            diff.updated.append(key)

    if new_models:
        conn.execute(sa.insert(models), new_models)
    if new_endpoints:
        conn.execute(sa.insert(endpoints), new_endpoints)

    if prune:
        declared_m = {m.id for m in catalog.models}
        for (model_id, tag), row in existing_e.items():
            if (model_id, tag) not in declared_e:
                conn.execute(sa.delete(endpoints).where(endpoints.c.id == row.id))
                diff.pruned.append(f"endpoint {model_id} {tag}")
        for model_id in existing_m:
            if model_id not in declared_m:
                conn.execute(sa.delete(models).where(models.c.id == model_id))
                diff.pruned.append(f"model {model_id}")
        declared_p = {p.slug for p in catalog.providers}
        declared_p |= {e.provider for m in catalog.models for e in m.endpoints}
        for slug in existing_p:
            if slug not in declared_p:
                conn.execute(sa.delete(providers).where(providers.c.slug == slug))
                diff.pruned.append(f"provider {slug}")
    return diff


def count_models(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(models)).scalar_one())


def delete_model(conn: Connection, model_id: str) -> bool:
    conn.execute(sa.delete(endpoints).where(endpoints.c.model_id == model_id))
    return bool(conn.execute(sa.delete(models).where(models.c.id == model_id)).rowcount)


def delete_endpoint(conn: Connection, model_id: str, tag: str) -> bool:
    result = conn.execute(
        sa.delete(endpoints).where(endpoints.c.model_id == model_id, endpoints.c.tag == tag)
    )
    return bool(result.rowcount)


def delete_endpoints_except(conn: Connection, model_id: str, keep: set[str]) -> list[str]:
    rows = conn.execute(
        sa.select(endpoints.c.id, endpoints.c.tag).where(endpoints.c.model_id == model_id)
    ).all()
    gone = [r.tag for r in rows if r.tag not in keep]
    for r in rows:
        if r.tag not in keep:
            conn.execute(sa.delete(endpoints).where(endpoints.c.id == r.id))
    return gone


def provider_endpoint_count(conn: Connection, slug: str) -> int:
    return int(conn.execute(
        sa.select(sa.func.count()).select_from(endpoints).where(endpoints.c.provider_slug == slug)
    ).scalar_one())


def delete_provider(conn: Connection, slug: str) -> bool:
    return bool(conn.execute(sa.delete(providers).where(providers.c.slug == slug)).rowcount)


def read_model(conn: Connection, model_id: str) -> Model | None:
    """One model with its endpoints; ``model_id`` matches regardless of case."""
    row = conn.execute(sa.select(models).where(models.c.id_lower == model_id.lower())).first()
    if row is None:
        return None
    eps = tuple(
        _endpoint(r) for r in conn.execute(
            sa.select(endpoints).where(endpoints.c.model_id == row.id)
            .order_by(endpoints.c.position, endpoints.c.id)
        )
    )
    return _model(row, eps)


def read_provider(conn: Connection, slug: str) -> Provider | None:
    row = conn.execute(sa.select(providers).where(providers.c.slug == slug)).first()
    return _provider(row) if row is not None else None


def provider_slugs(conn: Connection) -> list[str]:
    return list(conn.execute(sa.select(providers.c.slug)).scalars())
