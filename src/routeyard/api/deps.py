"""Request plumbing every API module shares: who is calling (:func:`runtime`,
:func:`authenticate`, :func:`require_admin`), the JSON body reader with its limits
(:func:`json_body`), and the response helpers (:func:`ok`, :func:`no_content`).

Success answers are ``{"data": ...}``; errors are raised as :class:`routeyard.errors.APIError`
and rendered in OpenRouter's envelope (``{"error": {"code", "message", "metadata"?}}``) by
:func:`routeyard.api.http.api_error_response`, the app's exception handler.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from routeyard.accesslog import fields_of
from routeyard.api.auth import check_caller
from routeyard.api.http import JSON
from routeyard.errors import BadRequest, Forbidden, PayloadTooLarge, RequestTimeout
from routeyard.keys import KeyRecord
from routeyard.runtime import Runtime

MAX_PROBLEMS = 100  # listed in an error's metadata; the message names the first few
NO_STORE = {"cache-control": "no-store"}
# Quick pre-check of the raw body for the only JSON escapes that decode to strings no database
# can store (NUL; a lone UTF-16 surrogate). A body without them needs no walk.
_SUSPECT_ESCAPE = re.compile(rb"\\u(0000|[dD][89a-fA-F])")
MAX_DEPTH = 32  # levels of objects and arrays in an admin body (the catalog's shapes need 5)
log = logging.getLogger("routeyard")


# -- the caller ------------------------------------------------------------------------


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def authenticate(request: Request, *, allow_public: bool) -> KeyRecord | None:
    """The caller's key; None for an anonymous caller where discovery is public.

    A key that is presented must be valid even where discovery is public. An address that
    failed too often gets 429 before its key is checked; a key over its rate limit gets 429
    (docs/security.md).
    """
    key = check_caller(runtime(request), request.headers.get("authorization"),
                       request.scope.get("client"), allow_public=allow_public)
    if key is not None:
        fields_of(request.scope).key_name = key.name  # for the access log
    return key


def require_admin(request: Request) -> None:
    """401 without a valid key, 403 for a key that is not admin-scoped."""
    key = authenticate(request, allow_public=False)
    if key is None or key.scope != "admin":
        raise Forbidden("Only admin keys can perform this operation")


# -- request bodies ----------------------------------------------------------------------


def bad_body(problems: list[tuple[str, str]]) -> BadRequest:
    """A 400 naming each offending field: ``metadata.problems`` is ``[{path, message}]``."""
    shown = "; ".join(f"{path}: {msg}" if path else msg for path, msg in problems[:5])
    if len(problems) > 5:
        shown += f"; and {len(problems) - 5} more"
    return BadRequest(
        f"Invalid request body: {shown}",
        metadata={"problems": [{"path": p, "message": m} for p, m in problems[:MAX_PROBLEMS]]},
    )


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    # A key that cannot be encoded (a lone surrogate) is shown escaped: the path is sent back.
    key = key.encode("utf-8", "backslashreplace").decode("utf-8")
    return f"{path}.{key}" if path else key


def _unstorable(value: Any, path: str, out: list[tuple[str, str]]) -> None:
    """Collect strings (keys included) holding a NUL or a lone surrogate: PostgreSQL refuses
    the one, UTF-8 cannot encode the other. Iterative: ``value`` may be deeply nested."""
    def check(text: str, where: str) -> None:
        if "\x00" in text:
            out.append((where, "contains a NUL character"))
        elif any("\ud800" <= ch <= "\udfff" for ch in text):
            out.append((where, "contains an unpaired surrogate (invalid Unicode)"))

    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            check(item, where)
        elif isinstance(item, dict):
            for key, child in item.items():
                check(key, _join(where, key))
                stack.append((child, _join(where, key)))
        elif isinstance(item, list):
            stack.extend((child, _join(where, i)) for i, child in enumerate(item))


def _too_deep(value: Any, max_depth: int) -> bool:
    """Whether ``value`` nests objects and arrays more than ``max_depth`` levels (iterative)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, dict | list))
    return False


class ClientGone(BadRequest):
    """The client went away before its body was whole (disconnected, or broken chunked
    framing): nothing to answer, so no error is logged, only an info line."""


async def json_body(request: Request, limit: int | None = None) -> dict[str, Any]:
    """The request body as a JSON object: 413 past ``limit`` bytes (by default the setting
    ``max_admin_body_bytes``), 400 when it is not JSON, not an object, nested more than
    :data:`MAX_DEPTH` levels (the catalog's shapes need five; the checks that walk a body must
    never run out of stack), or holds strings no database can store."""
    if limit is None:
        limit = runtime(request).settings.max_admin_body_bytes
    return decode_object(await read_body(request, limit), max_depth=MAX_DEPTH)


async def read_body(request: Request, limit: int) -> bytearray:
    """The raw request body: 413 past ``limit`` bytes (checked on Content-Length first), 408
    when it takes longer than the setting ``body_read_timeout``, and a quiet 400
    (:class:`ClientGone`) when the client leaves before it is whole."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise BadRequest("Invalid Content-Length header")
        if int(length) > limit:
            raise PayloadTooLarge(f"Request body too large: at most {limit} bytes")
    data = bytearray()
    seconds = runtime(request).settings.body_read_timeout
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                data.extend(chunk)
                if len(data) > limit:
                    raise PayloadTooLarge(f"Request body too large: at most {limit} bytes")
    except TimeoutError:
        raise RequestTimeout(f"Request body not received within {seconds:g} s") from None
    except ClientDisconnect:
        log.info("client went away before sending its whole body (%d bytes received)",
                 len(data), extra={"request_id": request.scope.get("state", {}).get("request_id")})
        raise ClientGone("The request body is incomplete: the client disconnected or its "
                         "chunked framing is broken") from None
    return data


def decode_object(data: bytes | bytearray, max_depth: int | None = None) -> dict[str, Any]:
    """:func:`json_body`'s checks of a body read whole (pure: callable from a thread).
    ``max_depth``: refuse deeper nesting (outcome batches are read field by field, never
    walked recursively, and need no limit)."""
    body = _decode_json(data)
    if not isinstance(body, dict):
        raise BadRequest(f"Request body must be a JSON object, got {json_kind(body)}")
    if max_depth is not None and _too_deep(body, max_depth):
        raise BadRequest(f"Request body is nested too deeply: at most {max_depth} levels")
    if _SUSPECT_ESCAPE.search(data):
        problems: list[tuple[str, str]] = []
        _unstorable(body, "", problems)
        if problems:
            raise bad_body(problems)
    return body


def _decode_json(data: bytes | bytearray) -> Any:
    """``data`` parsed as :func:`json.loads` parses it, or a 400. msgspec decodes what it
    accepts to the same values several times faster; what it refuses (invalid JSON, but also
    ``NaN``, numbers out of float range, lone surrogates, UTF-16) is left to json.loads, so
    that the answer, and any error, is the one json.loads gives."""
    try:
        return msgspec.json.decode(data)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        pass
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Request body is not valid JSON") from None
    except RecursionError:
        raise BadRequest("Request body is not valid JSON: nested too deeply") from None


def json_kind(value: Any) -> str:
    """A JSON type name with its article, for messages: ``a string``, ``null``."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


# -- responses -----------------------------------------------------------------------------


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``{"data": data}``, not to be cached."""
    return Response(json.dumps({"data": data}), status_code=status, media_type=JSON,
                    headers={**NO_STORE, **(headers or {})})


def no_content() -> Response:
    return Response(status_code=204, headers=NO_STORE)
