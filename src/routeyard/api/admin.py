"""The admin API: create, update and delete providers, models and endpoints.

Bodies use the shape of the declarative catalog file (docs/catalog-format.md) and are
validated by the same rules as imports (routeyard.catalog.schema). Every write is one
transaction that bumps the catalog version; this process reloads before answering, so a
change is served at once here and by every other process within the refresh interval.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard.api.http import JSON
from routeyard.api.routes import authenticate, runtime
from routeyard.catalog import declarative
from routeyard.catalog.schema import Checker, check_endpoint, check_model, check_provider
from routeyard.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
)
from routeyard.models import Catalog, Endpoint, Model, Provider
from routeyard.store import catalog as sc

T = TypeVar("T")
MAX_BODY_BYTES = 1 << 20


def require_admin(request: Request) -> None:
    key = authenticate(request, allow_public=False)
    if key is None or key.scope != "admin":
        raise Forbidden("Only admin keys can perform this operation")


async def json_body(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise PayloadTooLarge(f"Request body too large: at most {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > limit:
            raise PayloadTooLarge(f"Request body too large: at most {limit} bytes")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    return body


def ok(data: Any, status: int = 200) -> Response:
    return Response(json.dumps({"data": data}), status_code=status, media_type=JSON,
                    headers={"cache-control": "no-store"})


def _validated(build: Callable[[Checker], T | None], what: str) -> T:
    checker = Checker(what)
    value = build(checker)
    if checker.problems or value is None:
        problems = checker.problems or [(what, "invalid")]
        raise BadRequest(
            "; ".join(f"{where.removeprefix(what + ': ')}: {msg}" for where, msg in problems),
            metadata={"problems": [{"path": w.removeprefix(what + ": "), "message": m}
                                   for w, m in problems]},
        )
    return value


async def _write(request: Request, change: Callable[[Connection], T]) -> T:
    rt = runtime(request)
    result = await asyncio.to_thread(rt.store.write_catalog, change)
    await asyncio.to_thread(rt.refresh)
    return result


async def _read(request: Request, fn: Callable[[Connection], T]) -> T:
    def run() -> T:
        with runtime(request).store.connect() as conn:
            return fn(conn)
    return await asyncio.to_thread(run)


def _model_id(request: Request) -> str:
    return f"{request.path_params['author']}/{request.path_params['slug']}"


# -- providers -----------------------------------------------------------------------


async def list_providers(request: Request) -> Response:
    require_admin(request)
    catalog: Catalog = await _read(request, sc.read_catalog)
    return ok([declarative.provider_dict(p) for p in catalog.providers])


async def create_provider(request: Request) -> Response:
    require_admin(request)
    body = await json_body(request)
    provider = _validated(lambda c: check_provider(c, body, "body"), "body")

    def change(conn: Connection) -> None:
        if sc.read_provider(conn, provider.slug) is not None:
            raise Conflict(f"Provider {provider.slug} already exists")
        sc.apply_catalog(conn, Catalog(providers=(provider,)), now=_now(), source="admin-api")

    await _write(request, change)
    return ok(declarative.provider_dict(provider), 201)


async def provider_detail(request: Request) -> Response:
    require_admin(request)
    slug = request.path_params["slug"]
    if request.method == "GET":
        found = await _read(request, lambda conn: sc.read_provider(conn, slug))
        if found is None:
            raise NotFound(f"Provider {slug} not found")
        return ok(declarative.provider_dict(found))
    if request.method == "DELETE":
        def delete(conn: Connection) -> None:
            if sc.provider_endpoint_count(conn, slug):
                raise Conflict(f"Provider {slug} still has endpoints; delete them first")
            if not sc.delete_provider(conn, slug):
                raise NotFound(f"Provider {slug} not found")
        await _write(request, delete)
        return Response(status_code=204)
    body = await json_body(request)

    def update(conn: Connection) -> Provider:
        current = sc.read_provider(conn, slug)
        if current is None:
            raise NotFound(f"Provider {slug} not found")
        merged = {**declarative.provider_dict(current), **body} if request.method == "PATCH" else body
        merged["slug"] = merged.get("slug", slug)
        if merged["slug"] != slug:
            raise BadRequest("A provider's slug cannot be changed")
        provider = _validated(lambda c: check_provider(c, merged, "body"), "body")
        sc.apply_catalog(conn, Catalog(providers=(provider,)), now=_now(), source="admin-api")
        return provider

    return ok(declarative.provider_dict(await _write(request, update)))


# -- models --------------------------------------------------------------------------


def _check_model(body: dict[str, Any], known: list[str]) -> Model:
    def build(c: Checker) -> Model | None:
        model = check_model(c, body, "body")
        if model is not None:
            for i, e in enumerate(model.endpoints):
                if e.provider not in known:
                    c.fail(f"body.endpoints[{i}].provider", f"unknown provider {e.provider!r}")
        return model
    return _validated(build, "body")


async def list_models(request: Request) -> Response:
    require_admin(request)
    catalog: Catalog = await _read(request, sc.read_catalog)
    return ok([declarative.model_dict(m) for m in catalog.models])


async def create_model(request: Request) -> Response:
    require_admin(request)
    body = await json_body(request)

    def change(conn: Connection) -> Model:
        model = _check_model(body, sc.provider_slugs(conn))
        if sc.read_model(conn, model.id) is not None:
            raise Conflict(f"Model {model.id} already exists")
        sc.apply_catalog(conn, Catalog(models=(model,)), now=_now(), overwrite=True,
                         source="admin-api")
        return model

    model = await _write(request, change)
    return ok(declarative.model_dict(model), 201)


async def model_detail(request: Request) -> Response:
    require_admin(request)
    model_id = _model_id(request)
    if request.method == "GET":
        found = await _read(request, lambda conn: sc.read_model(conn, model_id))
        if found is None:
            raise NotFound(f"Model {model_id} not found")
        return ok(declarative.model_dict(found))
    if request.method == "DELETE":
        def delete(conn: Connection) -> None:
            current = sc.read_model(conn, model_id)
            if current is None:
                raise NotFound(f"Model {model_id} not found")
            sc.delete_model(conn, current.id)
        await _write(request, delete)
        return Response(status_code=204)
    body = await json_body(request)

    def update(conn: Connection) -> Model:
        current = sc.read_model(conn, model_id)
        if current is None:
            raise NotFound(f"Model {model_id} not found")
        existing = declarative.model_dict(current)
        merged = {**existing, **body} if request.method == "PATCH" else dict(body)
        merged.setdefault("id", current.id)
        if str(merged["id"]).lower() != current.id.lower():
            raise BadRequest("A model's id cannot be changed")
        replace_endpoints = "endpoints" in body
        merged.setdefault("endpoints", existing["endpoints"])
        model = _check_model(merged, sc.provider_slugs(conn))
        sc.apply_catalog(conn, Catalog(models=(model,)), now=_now(), overwrite=True,
                         source="admin-api")
        if replace_endpoints:
            sc.delete_endpoints_except(conn, model.id, {e.tag for e in model.endpoints})
        return model

    return ok(declarative.model_dict(await _write(request, update)))


# -- endpoints -----------------------------------------------------------------------


def _with_endpoint(model: Model, endpoint: Endpoint) -> Model:
    eps = list(model.endpoints)
    for i, e in enumerate(eps):
        if e.tag == endpoint.tag:
            eps[i] = endpoint
            break
    else:
        eps.append(endpoint)
    return msgspec.structs.replace(model, endpoints=tuple(eps))


def _check_endpoint(body: dict[str, Any], known: list[str]) -> Endpoint:
    def build(c: Checker) -> Endpoint | None:
        endpoint = check_endpoint(c, body, "body")
        if endpoint is not None and endpoint.provider not in known:
            c.fail("body.provider", f"unknown provider {endpoint.provider!r}")
        return endpoint
    return _validated(build, "body")


async def create_endpoint(request: Request) -> Response:
    require_admin(request)
    model_id = _model_id(request)
    body = await json_body(request)

    def change(conn: Connection) -> Endpoint:
        model = sc.read_model(conn, model_id)
        if model is None:
            raise NotFound(f"Model {model_id} not found")
        endpoint = _check_endpoint(body, sc.provider_slugs(conn))
        if any(e.tag == endpoint.tag for e in model.endpoints):
            raise Conflict(f"Model {model.id} already has an endpoint tagged {endpoint.tag}")
        sc.apply_catalog(conn, Catalog(models=(_with_endpoint(model, endpoint),)), now=_now(),
                         overwrite=True, source="admin-api")
        return endpoint

    return ok(declarative.endpoint_dict(await _write(request, change)), 201)


def _find(model: Model | None, model_id: str, tag: str) -> tuple[Model, Endpoint]:
    if model is None:
        raise NotFound(f"Model {model_id} not found")
    for e in model.endpoints:
        if e.tag == tag:
            return model, e
    raise NotFound(f"Model {model.id} has no endpoint tagged {tag}")


async def endpoint_detail(request: Request) -> Response:
    require_admin(request)
    model_id, tag = _model_id(request), request.path_params["tag"]
    if request.method == "GET":
        _, found = _find(await _read(request, lambda c: sc.read_model(c, model_id)), model_id, tag)
        return ok(declarative.endpoint_dict(found))
    if request.method == "DELETE":
        def delete(conn: Connection) -> None:
            model, _ = _find(sc.read_model(conn, model_id), model_id, tag)
            sc.delete_endpoint(conn, model.id, tag)
        await _write(request, delete)
        return Response(status_code=204)
    body = await json_body(request)

    def update(conn: Connection) -> Endpoint:
        model, current = _find(sc.read_model(conn, model_id), model_id, tag)
        merged = ({**declarative.endpoint_dict(current), **body}
                  if request.method == "PATCH" else dict(body))
        merged.setdefault("tag", tag)
        if merged["tag"] != tag:
            raise BadRequest("An endpoint's tag cannot be changed; create a new endpoint")
        endpoint = _check_endpoint(merged, sc.provider_slugs(conn))
        sc.apply_catalog(conn, Catalog(models=(_with_endpoint(model, endpoint),)), now=_now(),
                         overwrite=True, source="admin-api")
        return endpoint

    return ok(declarative.endpoint_dict(await _write(request, update)))


async def set_disabled(request: Request) -> Response:
    require_admin(request)
    model_id, tag = _model_id(request), request.path_params["tag"]
    disabled = request.url.path.endswith("/disable")

    def change(conn: Connection) -> Endpoint:
        model, current = _find(sc.read_model(conn, model_id), model_id, tag)
        endpoint = msgspec.structs.replace(current, disabled=disabled)
        sc.apply_catalog(conn, Catalog(models=(_with_endpoint(model, endpoint),)), now=_now(),
                         overwrite=True, source="admin-api")
        return endpoint

    return ok(declarative.endpoint_dict(await _write(request, change)))


def _now() -> int:
    return int(time.time())


P = "/api/v1/admin"
EP = P + "/models/{author}/{slug}/endpoints"
routes = [
    Route(P + "/providers", list_providers, methods=["GET"]),
    Route(P + "/providers", create_provider, methods=["POST"]),
    Route(P + "/providers/{slug}", provider_detail, methods=["GET", "PUT", "PATCH", "DELETE"]),
    Route(P + "/models", list_models, methods=["GET"]),
    Route(P + "/models", create_model, methods=["POST"]),
    Route(P + "/models/{author}/{slug}", model_detail, methods=["GET", "PUT", "PATCH", "DELETE"]),
    Route(EP, create_endpoint, methods=["POST"]),
    Route(EP + "/{tag:path}/disable", set_disabled, methods=["POST"]),
    Route(EP + "/{tag:path}/enable", set_disabled, methods=["POST"]),
    Route(EP + "/{tag:path}", endpoint_detail, methods=["GET", "PUT", "PATCH", "DELETE"]),
]
