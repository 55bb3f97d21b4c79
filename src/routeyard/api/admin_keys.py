"""Admin API of key preferences: ``/api/v1/admin/keys/{key}/preferences`` (GET, PUT, PATCH),
``{key}`` being a key's id or prefix. Admin-scoped keys only, as the rest of the admin API."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from routeyard.api.admin import _route, merge_patch
from routeyard.api.deps import bad_body, json_body, ok, require_admin, runtime
from routeyard.errors import BadRequest, KeyNotFound, NotFound
from routeyard.keys import KeyRecord
from routeyard.preferences import KeyPreferences, normalized, problems, to_wire


def parse(body: dict[str, Any]) -> KeyPreferences:
    """Preferences from a JSON object, or a 400 naming each bad field."""
    try:
        prefs = msgspec.convert(body, KeyPreferences, strict=True)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"Invalid request body: {exc}",
                         metadata={"problems": [{"path": "", "message": str(exc)}]}) from None
    prefs = normalized(prefs)
    found = problems(prefs)
    if found:
        raise bad_body(found)
    return prefs


def _key_param(request: Request) -> str:
    """The ``{key}`` of the path: an id or a prefix; a 404 for what can be neither."""
    key: str = request.path_params["key"]
    if not (0 < len(key) <= 80 and key.isascii() and key.isprintable()) or (
            key.isdigit() and len(key) > 18):
        raise NotFound("No such key")
    return key


def _answer(record: KeyRecord) -> Response:
    return ok({"key": {"id": record.id, "name": record.name, "prefix": record.prefix},
               "preferences": to_wire(record.preferences)})


async def _change(request: Request, body: dict[str, Any], *, patch: bool) -> Response:
    rt = runtime(request)
    key = _key_param(request)

    def change(current: KeyPreferences) -> KeyPreferences:
        return parse(merge_patch(to_wire(current), body) if patch else body)

    if not patch:
        parse(body)  # a 400 before touching the database
    try:
        record = await asyncio.to_thread(rt.store.update_key_preferences, key, change)
    except KeyNotFound as exc:
        raise NotFound(str(exc)) from None
    await asyncio.to_thread(rt.refresh)  # this process serves them on return
    return _answer(record)


async def get_preferences(request: Request) -> Response:
    require_admin(request)
    rt = runtime(request)
    try:
        record = await asyncio.to_thread(rt.store.find_key, _key_param(request))
    except KeyNotFound as exc:
        raise NotFound(str(exc)) from None
    return _answer(record)


async def put_preferences(request: Request) -> Response:
    require_admin(request)
    return await _change(request, await json_body(request), patch=False)


async def patch_preferences(request: Request) -> Response:
    require_admin(request)
    return await _change(request, await json_body(request), patch=True)


routes = [
    _route("/api/v1/admin/keys/{key}/preferences", get=get_preferences, put=put_preferences,
           patch=patch_preferences),
]
