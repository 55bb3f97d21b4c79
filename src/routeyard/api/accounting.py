"""Accounting routes: ``GET /api/v1/key``, ``/generation``, ``/activity`` (OpenRouter's shapes)
and the admin API of spend limits, ``GET /api/v1/admin/keys`` and ``PATCH
/api/v1/admin/keys/{key}`` (docs/accounting.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard.accounting import wire
from routeyard.accounting.periods import DAY, RESETS, day_start
from routeyard.api.deps import authenticate, json_body, require_admin, runtime
from routeyard.api.http import JSON
from routeyard.errors import BadRequest, Forbidden, KeyNotFound, NotFound
from routeyard.keys import KeyRecord

ACTIVITY_DAYS = 30
MAX_LIMIT = Decimal(1000000000)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LIMIT = re.compile(r"[0-9]{1,10}(\.[0-9]{1,18})?")
HEADERS = {"cache-control": "no-store", "access-control-allow-origin": "*"}


def _json(data: Any, status: int = 200) -> Response:
    return Response(wire.encoder.encode(data), status_code=status, media_type=JSON,
                    headers=HEADERS)


def _caller(request: Request) -> KeyRecord:
    key = authenticate(request, allow_public=False)
    assert key is not None  # allow_public=False: a missing key is 401
    return key


async def current_key(request: Request) -> Response:
    key = _caller(request)
    rt = runtime(request)
    usage = rt.accounting.usage_of(key.id)
    return _json(wire.CurrentKeyResponse(wire.key_data(key, usage, rt.accounting.clock())))


async def get_generation(request: Request) -> Response:
    key = _caller(request)
    gen_id = request.query_params.get("id", "")
    if not gen_id:
        raise BadRequest("Missing required query parameter: id")
    if len(gen_id) > 64:
        raise NotFound(f"Generation {gen_id[:64]}… not found")
    found = await asyncio.to_thread(runtime(request).accounting.lookup, gen_id)
    # Another key's generation is answered like a missing one: nothing tells them apart.
    if found is None or (found.key_id != key.id and key.scope != "admin"):
        raise NotFound(f"Generation {gen_id} not found")
    return _json(wire.GenerationResponse(wire.generation_data(found)))


async def activity(request: Request) -> Response:
    key = _caller(request)
    if key.scope != "admin":
        raise Forbidden("Only admin keys can fetch activity")
    rt = runtime(request)
    today = day_start(rt.accounting.clock())
    since, until = today - ACTIVITY_DAYS * DAY, today
    date = request.query_params.get("date")
    if date is not None:
        day = _parse_date(date)
        if not since <= day <= until:
            raise BadRequest(f"Invalid date: {date} is not within the last {ACTIVITY_DAYS} days")
        since = until = day
    days = await asyncio.to_thread(rt.store.usage_days, since_day=since, until_day=until)
    snapshot = rt.snapshot

    def permaslug(model_id: str) -> str:
        entry = snapshot.lookup(model_id)
        return entry.model.canonical_slug if entry is not None else model_id

    def provider_name(slug: str) -> str:
        provider = snapshot.providers.get(slug)
        return provider.name if provider is not None else slug

    return _json(wire.ActivityResponse(wire.activity_data(days, permaslug=permaslug,
                                                          provider_name=provider_name)))


def _parse_date(text: str) -> int:
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        parsed = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        raise BadRequest(f"Invalid date: expected YYYY-MM-DD, got {text[:40]!r}") from None
    return int(parsed.timestamp())


# -- admin: limits ----------------------------------------------------------------------


def parse_limit(value: object) -> Decimal | None:
    """A spend limit in USD: a non-negative decimal (string or JSON number) or null;
    TypeError or ValueError saying what is wrong otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError("expected a decimal number of USD or null")
    text = repr(value) if isinstance(value, float) else str(value)
    if not _LIMIT.fullmatch(text):
        raise ValueError(f"expected a non-negative decimal number of USD, got {text[:40]!r}")
    try:
        limit = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern guards it
        raise ValueError(f"not a number: {text[:40]!r}") from None
    if limit > MAX_LIMIT:
        raise ValueError(f"at most {MAX_LIMIT} USD")
    return limit


def key_view(key: KeyRecord, rt: Any) -> wire.AdminKey:
    return wire.admin_key(key, rt.accounting.usage_of(key.id))


async def list_keys(request: Request) -> Response:
    require_admin(request)
    rt = runtime(request)
    records = await asyncio.to_thread(rt.store.list_keys)
    return _json(wire.AdminKeyListResponse([key_view(k, rt) for k in records]))


async def update_key(request: Request) -> Response:
    """JSON merge patch of ``limit`` and ``limit_reset``; other fields are refused."""
    require_admin(request)
    rt = runtime(request)
    body = await json_body(request)
    unknown = sorted(set(body) - {"limit", "limit_reset"})
    problems = [(name, "unknown field") for name in unknown]
    ident = request.path_params["key"]
    try:
        current = await asyncio.to_thread(rt.store.find_key, ident)
    except KeyNotFound:
        raise NotFound(f"No key with id or prefix {ident[:40]!r}") from None
    limit = None if current.spend_limit is None else Decimal(current.spend_limit)
    reset = current.limit_reset
    if "limit" in body:
        try:
            limit = parse_limit(body["limit"])
        except (TypeError, ValueError) as exc:
            problems.append(("limit", str(exc)))
    if "limit_reset" in body:
        value = body["limit_reset"]
        if value is not None and value not in RESETS:
            problems.append(("limit_reset", f"expected one of {', '.join(RESETS)} or null"))
        else:
            reset = None if value in (None, "never") else value
    if problems:
        shown = "; ".join(f"{p}: {m}" for p, m in problems)
        raise BadRequest(f"Invalid request body: {shown}", metadata={
            "problems": [{"path": p, "message": m} for p, m in problems]})
    record = await asyncio.to_thread(rt.store.set_key_limit, str(current.id), limit, reset)
    await asyncio.to_thread(rt.refresh)
    return _json(wire.AdminKeyResponse(key_view(record, rt)))


routes = [
    Route("/api/v1/key", current_key, methods=["GET"]),
    Route("/api/v1/generation", get_generation, methods=["GET"]),
    Route("/api/v1/activity", activity, methods=["GET"]),
    Route("/api/v1/admin/keys", list_keys, methods=["GET"]),
    Route("/api/v1/admin/keys/{key}", update_key, methods=["PATCH"]),
]
