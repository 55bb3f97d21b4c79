"""One catalog record at a time: the admin API's writes, each a read-modify-write that runs
inside the caller's serialised catalog transaction (``Store.catalog_write``).

Creation is a plain ``INSERT``: a duplicate is found by the table's unique constraint (the
provider's slug, the model's lower-cased id, the endpoint's model and tag), never by a look
before the insert, so two concurrent creations cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routeyard.errors import Conflict, NotFound
from routeyard.models import Catalog, Endpoint, Model, Provider
from routeyard.store import catalog as sc
from routeyard.store.tables import endpoints, models, providers

SOURCE = "admin-api"


def _apply(conn: Connection, model_or_provider: Model | Provider, now: int) -> None:
    # overwrite=True: the admin's value of operator-owned fields (`disabled`) is the one kept.
    catalog = (Catalog(models=(model_or_provider,)) if isinstance(model_or_provider, Model)
               else Catalog(providers=(model_or_provider,)))
    sc.apply_catalog(conn, catalog, now=now, overwrite=True, source=SOURCE)


def _model(conn: Connection, model_id: str) -> Model:
    found = sc.read_model(conn, model_id)
    if found is None:
        raise NotFound(f"Model {model_id} not found")
    return found


def _endpoint(model: Model, tag: str) -> Endpoint:
    for e in model.endpoints:
        if e.tag == tag:
            return e
    raise NotFound(f"Model {model.id} has no endpoint tagged {tag}")


def _with_endpoint(model: Model, endpoint: Endpoint) -> Model:
    eps = list(model.endpoints)
    for i, e in enumerate(eps):
        if e.tag == endpoint.tag:
            eps[i] = endpoint
            break
    else:
        eps.append(endpoint)
    return msgspec.structs.replace(model, endpoints=tuple(eps))


# -- providers -------------------------------------------------------------------------


def create_provider(conn: Connection, provider: Provider, now: int) -> None:
    conn.execute(sa.insert(providers).values(**sc.provider_row(provider), source=SOURCE,
                                             updated_at=now))


def update_provider(conn: Connection, slug: str, change: Callable[[Provider], Provider],
                    now: int) -> Provider:
    current = sc.read_provider(conn, slug)
    if current is None:
        raise NotFound(f"Provider {slug} not found")
    provider = change(current)
    _apply(conn, provider, now)
    return provider


def delete_provider(conn: Connection, slug: str, check: Callable[[Provider], None]) -> None:
    current = sc.read_provider(conn, slug)
    if current is None:
        raise NotFound(f"Provider {slug} not found")
    check(current)
    count = sc.provider_endpoint_count(conn, slug)
    if count:
        raise Conflict(f"Provider {slug} still has {count} endpoint(s); delete them first",
                       metadata={"endpoints": count})
    sc.delete_provider(conn, slug)


# -- models ----------------------------------------------------------------------------


def create_model(conn: Connection, build: Callable[[list[str]], Model], now: int) -> Model:
    """Insert the model ``build`` makes from the known provider slugs, with its endpoints."""
    model = build(sc.provider_slugs(conn))
    conn.execute(sa.insert(models).values(**sc.model_row(model), source=SOURCE, updated_at=now))
    rows = [{**sc.endpoint_row(model.id, i, e), "updated_at": now} for i, e in
            enumerate(model.endpoints)]
    for row in rows:
        row["source"] = row["source"] or SOURCE
        row["imported_at"] = row["imported_at"] or now
    if rows:
        conn.execute(sa.insert(endpoints), rows)
    return model


def update_model(conn: Connection, model_id: str,
                 change: Callable[[Model, list[str]], Model], now: int, *,
                 replace_endpoints: bool) -> Model:
    """``change`` gets the stored model and the provider slugs; its endpoints replace the
    stored ones only with ``replace_endpoints`` (those left out are deleted)."""
    current = _model(conn, model_id)
    model = change(current, sc.provider_slugs(conn))
    _apply(conn, model, now)
    if replace_endpoints:
        sc.delete_endpoints_except(conn, model.id, {e.tag for e in model.endpoints})
    return model


def delete_model(conn: Connection, model_id: str, check: Callable[[Model], None]) -> None:
    current = _model(conn, model_id)
    check(current)
    sc.delete_model(conn, current.id)


# -- endpoints -------------------------------------------------------------------------


def create_endpoint(conn: Connection, model_id: str,
                    build: Callable[[Model, list[str]], Endpoint],
                    now: int) -> tuple[Model, Endpoint]:
    """Insert the endpoint ``build`` makes, after the model's others (last in serving order)."""
    model = _model(conn, model_id)
    endpoint = build(model, sc.provider_slugs(conn))
    position = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(endpoints.c.position), -1))
        .where(endpoints.c.model_id == model.id)).scalar_one()
    row = {**sc.endpoint_row(model.id, int(position) + 1, endpoint), "updated_at": now}
    row["source"] = row["source"] or SOURCE
    row["imported_at"] = row["imported_at"] or now
    conn.execute(sa.insert(endpoints).values(**row))
    return model, endpoint


def update_endpoint(conn: Connection, model_id: str, tag: str,
                    change: Callable[[Model, Endpoint, list[str]], Endpoint],
                    now: int) -> Endpoint:
    model = _model(conn, model_id)
    endpoint = change(model, _endpoint(model, tag), sc.provider_slugs(conn))
    _apply(conn, _with_endpoint(model, endpoint), now)
    return endpoint


def delete_endpoint(conn: Connection, model_id: str, tag: str,
                    check: Callable[[Endpoint], None]) -> None:
    model = _model(conn, model_id)
    check(_endpoint(model, tag))
    sc.delete_endpoint(conn, model.id, tag)
