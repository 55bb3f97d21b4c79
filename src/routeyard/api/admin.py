"""The admin API: create, update and delete providers, models and endpoints.

Bodies use the shape of the declarative catalog file (docs/catalog-format.md) and are
validated by the same rules as imports (routeyard.catalog.schema). ``PUT`` replaces a record,
``PATCH`` is a JSON merge patch (RFC 7396: objects merge, ``null`` removes a key, arrays are
replaced). Identity fields (a provider's ``slug``, a model's ``id``, an endpoint's ``tag``)
cannot change. Every write is one transaction that bumps the catalog version; this process
reloads before answering, so a change is served at once here and by every other process
within the refresh interval. Only admin-scoped keys get past :func:`require_admin`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard.api.deps import (
    bad_body,
    json_body,
    no_content,
    ok,
    require_admin,
    runtime,
)
from routeyard.catalog import declarative
from routeyard.catalog.schema import Checker, check_endpoint, check_model, check_provider
from routeyard.errors import (
    BadRequest,
    NotFound,
    PreconditionFailed,
)
from routeyard.models import Catalog, Endpoint, Model, Provider

T = TypeVar("T")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, ``null`` removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# -- validation ----------------------------------------------------------------------


def _validated(build: Callable[[Checker], T | None]) -> T:
    """Run ``build`` with a Checker; 400 naming every problem (paths relative to the body)."""
    checker = Checker("body")
    value = build(checker)
    if checker.problems or value is None:
        problems = [(where.removeprefix("body: ").removeprefix("body").removeprefix("."), msg)
                    for where, msg in checker.problems] or [("", "invalid")]
        raise bad_body(problems)
    return value


def _keep_identity(merged: dict[str, Any], field: str, current: str, what: str) -> None:
    """Fill ``field`` from the stored record, or refuse a body that changes it."""
    value = merged.get(field)
    if value is None:
        merged[field] = current
    elif isinstance(value, str) and value != current:
        raise BadRequest(
            f"{what}'s {field} cannot be changed (it is {current!r}, the body says {value!r})",
            metadata={"problems": [
                {"path": field, "message": f"cannot be changed from {current!r}"}]},
        )
    # a value of the wrong type is left for validation to report


def _check_provider(body: dict[str, Any]) -> Provider:
    def build(c: Checker) -> Provider | None:
        return check_provider(c, body, "body")
    return _validated(build)


def _check_model(body: dict[str, Any], known: list[str]) -> Model:
    def build(c: Checker) -> Model | None:
        model = check_model(c, body, "body")
        if model is not None:
            for i, e in enumerate(model.endpoints):
                if e.provider not in known:
                    c.fail(f"body.endpoints[{i}].provider", f"unknown provider {e.provider!r}")
        return model
    return _validated(build)


def _check_endpoint(body: dict[str, Any], known: list[str]) -> Endpoint:
    def build(c: Checker) -> Endpoint | None:
        endpoint = check_endpoint(c, body, "body")
        if endpoint is not None and endpoint.provider not in known:
            c.fail("body.provider", f"unknown provider {endpoint.provider!r}")
        return endpoint
    return _validated(build)


# -- reading and writing -------------------------------------------------------------
# Each write is one Store method: it reads the record, runs the function given here (the
# If-Match check, the merge, validation) and writes, in one serialised transaction.


def etag(data: Any) -> str:
    """The strong entity tag of an admin answer's ``data``: a digest of its canonical JSON."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32] + '"'


def _answer(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return ok(data, status, {"etag": etag(data), **(headers or {})})


def _if_match(request: Request) -> Callable[[Any], None]:
    """A check of the stored record's data against the request's ``If-Match`` (RFC 9110:
    strong comparison, ``*`` matches any record): 412 on a mismatch."""
    header = request.headers.get("if-match")

    def check(current: Any) -> None:
        if header is None or header.strip() == "*":
            return
        tags = {t.strip() for t in header.split(",")}
        if etag(current) not in tags:
            raise PreconditionFailed(
                "The record changed since it was read (If-Match does not match its ETag); "
                "read it again", metadata={"etag": etag(current)})
    return check


async def _store_call(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a Store write in a thread, then reload this process's snapshot."""
    rt = runtime(request)
    result = await asyncio.to_thread(fn, *args, **kwargs)
    await asyncio.to_thread(rt.refresh)
    return result


async def _read(request: Request, fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(fn, *args)


def _model_id(request: Request) -> str:
    return f"{request.path_params['author']}/{request.path_params['slug']}"


# -- providers -----------------------------------------------------------------------


async def _listing(request: Request, items: Callable[[Catalog], list[dict[str, Any]]]) -> Response:
    """A list of the catalog's providers or models, read in one go."""
    require_admin(request)
    catalog: Catalog = await _read(request, runtime(request).store.read_catalog)
    return _answer(items(catalog))


async def list_providers(request: Request) -> Response:
    return await _listing(request, lambda c: [declarative.provider_dict(p) for p in c.providers])


async def create_provider(request: Request) -> Response:
    require_admin(request)
    body = await json_body(request)
    provider = _check_provider(body)
    await _store_call(request, runtime(request).store.create_provider, provider)
    return _answer(declarative.provider_dict(provider), 201,
                   {"location": f"{P}/providers/{provider.slug}"})


async def get_provider(request: Request) -> Response:
    require_admin(request)
    slug = request.path_params["slug"]
    found = await _read(request, runtime(request).store.read_provider, slug)
    if found is None:
        raise NotFound(f"Provider {slug} not found")
    return _answer(declarative.provider_dict(found))


async def update_provider(request: Request) -> Response:
    require_admin(request)
    slug = request.path_params["slug"]
    body = await json_body(request)
    patch = request.method == "PATCH"
    if_match = _if_match(request)

    def change(current: Provider) -> Provider:
        stored = declarative.provider_dict(current)
        if_match(stored)
        merged = merge_patch(stored, body) if patch else dict(body)
        _keep_identity(merged, "slug", current.slug, "A provider")
        return _check_provider(merged)

    provider = await _store_call(request, runtime(request).store.update_provider, slug, change)
    return _answer(declarative.provider_dict(provider))


async def delete_provider(request: Request) -> Response:
    require_admin(request)
    if_match = _if_match(request)
    await _store_call(request, runtime(request).store.delete_provider,
                      request.path_params["slug"],
                      lambda current: if_match(declarative.provider_dict(current)))
    return no_content()


# -- models --------------------------------------------------------------------------


async def list_models(request: Request) -> Response:
    return await _listing(request, lambda c: [declarative.model_dict(m) for m in c.models])


async def create_model(request: Request) -> Response:
    require_admin(request)
    body = await json_body(request)
    model = await _store_call(request, runtime(request).store.create_model,
                              lambda known: _check_model(body, known))
    return _answer(declarative.model_dict(model), 201, {"location": f"{P}/models/{model.id}"})


async def _find_model(request: Request) -> Model:
    model_id = _model_id(request)
    found = await _read(request, runtime(request).store.read_model, model_id)
    if found is None:
        raise NotFound(f"Model {model_id} not found")
    return found


async def get_model(request: Request) -> Response:
    require_admin(request)
    return _answer(declarative.model_dict(await _find_model(request)))


async def update_model(request: Request) -> Response:
    """PUT replaces the model's fields; its endpoints are replaced only when the body has
    ``endpoints`` (endpoints left out of the new list are deleted). PATCH merges."""
    require_admin(request)
    body = await json_body(request)
    patch = request.method == "PATCH"
    replace_endpoints = "endpoints" in body
    if_match = _if_match(request)

    def change(current: Model, known: list[str]) -> Model:
        existing = declarative.model_dict(current)
        if_match(existing)
        merged = merge_patch(existing, body) if patch else dict(body)
        _keep_identity(merged, "id", current.id, "A model")
        if not replace_endpoints:
            merged["endpoints"] = existing["endpoints"]
        return _check_model(merged, known)

    model = await _store_call(request, runtime(request).store.update_model, _model_id(request),
                              change, replace_endpoints=replace_endpoints)
    return _answer(declarative.model_dict(model))


async def delete_model(request: Request) -> Response:
    require_admin(request)
    if_match = _if_match(request)
    await _store_call(request, runtime(request).store.delete_model, _model_id(request),
                      lambda current: if_match(declarative.model_dict(current)))
    return no_content()


# -- endpoints -----------------------------------------------------------------------


def _find(model: Model | None, model_id: str, tag: str) -> tuple[Model, Endpoint]:
    if model is None:
        raise NotFound(f"Model {model_id} not found")
    for e in model.endpoints:
        if e.tag == tag:
            return model, e
    raise NotFound(f"Model {model.id} has no endpoint tagged {tag}")


async def list_endpoints(request: Request) -> Response:
    require_admin(request)
    model = await _find_model(request)
    return _answer([declarative.endpoint_dict(e) for e in model.endpoints])


async def create_endpoint(request: Request) -> Response:
    """Add an endpoint after the model's others (last in serving order)."""
    require_admin(request)
    body = await json_body(request)
    model, endpoint = await _store_call(
        request, runtime(request).store.create_endpoint, _model_id(request),
        lambda _model, known: _check_endpoint(body, known))
    return _answer(declarative.endpoint_dict(endpoint), 201,
                   {"location": f"{P}/models/{model.id}/endpoints/{endpoint.tag}"})


async def get_endpoint(request: Request) -> Response:
    require_admin(request)
    model_id, tag = _model_id(request), request.path_params["tag"]
    model = await _read(request, runtime(request).store.read_model, model_id)
    _, found = _find(model, model_id, tag)
    return _answer(declarative.endpoint_dict(found))


async def update_endpoint(request: Request) -> Response:
    require_admin(request)
    body = await json_body(request)
    patch = request.method == "PATCH"
    if_match = _if_match(request)

    def change(_model: Model, current: Endpoint, known: list[str]) -> Endpoint:
        stored = declarative.endpoint_dict(current)
        if_match(stored)
        merged = merge_patch(stored, body) if patch else dict(body)
        _keep_identity(merged, "tag", current.tag, "An endpoint")
        return _check_endpoint(merged, known)

    endpoint = await _store_call(request, runtime(request).store.update_endpoint,
                                 _model_id(request), request.path_params["tag"], change)
    return _answer(declarative.endpoint_dict(endpoint))


async def delete_endpoint(request: Request) -> Response:
    require_admin(request)
    if_match = _if_match(request)
    await _store_call(request, runtime(request).store.delete_endpoint, _model_id(request),
                      request.path_params["tag"],
                      lambda current: if_match(declarative.endpoint_dict(current)))
    return no_content()


async def _set_disabled(request: Request, disabled: bool) -> Response:
    require_admin(request)
    if_match = _if_match(request)

    def change(_model: Model, current: Endpoint, _known: list[str]) -> Endpoint:
        if_match(declarative.endpoint_dict(current))
        return msgspec.structs.replace(current, disabled=disabled)

    endpoint = await _store_call(request, runtime(request).store.update_endpoint,
                                 _model_id(request), request.path_params["tag"], change)
    return _answer(declarative.endpoint_dict(endpoint))


async def disable_endpoint(request: Request) -> Response:
    """Served with status -10 and left out of /models until enabled again."""
    return await _set_disabled(request, True)


async def enable_endpoint(request: Request) -> Response:
    return await _set_disabled(request, False)


Handler = Callable[[Request], Awaitable[Response]]


def _route(path: str, **handlers: Handler) -> Route:
    """One route per path, so that a wrong method is a 405 whose Allow header lists them all."""
    table = {method.upper(): handler for method, handler in handlers.items()}
    if "GET" in table:
        table["HEAD"] = table["GET"]

    async def endpoint(request: Request) -> Response:
        return await table[request.method](request)

    return Route(path, endpoint, methods=list(table), name=f"admin:{path}")


P = "/api/v1/admin"
EP = P + "/models/{author}/{slug}/endpoints"
routes = [
    _route(P + "/providers", get=list_providers, post=create_provider),
    _route(P + "/providers/{slug}", get=get_provider, put=update_provider,
           patch=update_provider, delete=delete_provider),
    _route(P + "/models", get=list_models, post=create_model),
    _route(P + "/models/{author}/{slug}", get=get_model, put=update_model, patch=update_model,
           delete=delete_model),
    _route(EP, get=list_endpoints, post=create_endpoint),
    _route(EP + "/{tag:path}/disable", post=disable_endpoint),
    _route(EP + "/{tag:path}/enable", post=enable_endpoint),
    _route(EP + "/{tag:path}", get=get_endpoint, put=update_endpoint, patch=update_endpoint,
           delete=delete_endpoint),
]
