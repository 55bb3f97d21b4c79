"""Response helpers shared by the routes: conditional GET, gzip, CORS, errors."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from routeyard.errors import APIError, error_body
from routeyard.snapshot import Body

JSON = "application/json"
# What a browser script may read of our answers (docs/api.md, "CORS").
EXPOSE_HEADERS = ("ETag, Retry-After, X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, "
                  "X-RateLimit-Reset, X-Routeyard-Stale")
# Answers that depend on the caller's key: never stored by a shared cache, revalidated by a
# browser at every use (docs/api.md, "Caching").
PRIVATE_CACHE_CONTROL = "private, no-cache"
CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type, HTTP-Referer, X-Title, "
                                    "X-OpenRouter-Title, X-OpenRouter-Categories",
    "access-control-max-age": "86400",
}
# A header-name list as browsers send it in Access-Control-Request-Headers.
_HEADER_LIST = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:[ \t]*,[ \t]*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*")


def preflight_headers(requested: str | None) -> dict[str, str]:
    """The headers of a CORS preflight answer: every request header the browser asks for is
    allowed (discovery is read-only and keyed by Authorization alone), else our fixed list."""
    headers = dict(CORS_HEADERS)
    if requested is not None:
        requested = requested.strip()
        if requested and len(requested) <= 4096 and _HEADER_LIST.fullmatch(requested):
            headers["access-control-allow-headers"] = requested
    headers["vary"] = "Access-Control-Request-Headers"
    return headers


def _etag_matches(header: str, etag: str) -> bool:
    if header == etag:  # what a client that keeps our ETag sends
        return True
    if header.strip() == "*":
        return True
    for candidate in header.split(","):
        candidate = candidate.strip()
        candidate = candidate.removeprefix("W/")
        if candidate == etag:
            return True
    return False


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


Header = tuple[bytes, bytes]
# The answers a body is sent in: its two representations, and 304 for each.
PLAIN, GZIP, NOT_MODIFIED, NOT_MODIFIED_GZIP = "plain", "gzip", "304", "304-gzip"
_VARY_PUBLIC = "Accept-Encoding"
_VARY_PRIVATE = "Authorization, Accept-Encoding"
_ANY_ORIGIN = (b"access-control-allow-origin", b"*")
_EXPOSE = (b"access-control-expose-headers", EXPOSE_HEADERS.encode("latin-1"))
_CONTENT_TYPE = (b"content-type", JSON.encode())
_GZIPPED = (b"content-encoding", b"gzip")


def _body_headers(body: Body, data: bytes, variant: str, cache_control: str,
                  extra: dict[str, str] | None) -> list[Header]:
    """The response headers of ``body`` (in Starlette's form and order: lower-case names,
    latin-1), memoized on the body unless ``extra`` headers are added."""
    key = (cache_control, variant)
    if extra is None:
        cached = body.headers.get(key)
        if cached is not None:
            return cached
    gzipped = variant in (GZIP, NOT_MODIFIED_GZIP)
    named = {"cache-control": cache_control,
             "etag": body.gzip_etag if gzipped else body.etag,
             "vary": _VARY_PRIVATE if cache_control == PRIVATE_CACHE_CONTROL else _VARY_PUBLIC,
             "access-control-allow-origin": "*", **(extra or {})}
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in named.items()]
    headers.append(_EXPOSE)
    if variant == GZIP:
        headers.append(_GZIPPED)
    if variant in (PLAIN, GZIP):
        headers += [(b"content-length", str(len(data)).encode("latin-1")), _CONTENT_TYPE]
    if extra is None:
        body.headers[key] = headers
    return headers


def prepare(body: Body, *, if_none_match: str | None, accept_encoding: str | None,
            cache_control: str, extra: dict[str, str] | None = None
            ) -> tuple[int, list[Header], bytes]:
    """(status, headers, data) answering a GET of ``body``: the gzip form when
    ``accept_encoding`` takes gzip, else the body; 304 when ``if_none_match`` holds the
    ETag of the form chosen (each form has its own ETag: they are different bytes).

    The header list may be shared between answers: copy it before changing it.
    """
    if accept_encoding and _accepts_gzip(accept_encoding):
        gz = body.gzipped
        if gz is not None:
            if if_none_match is not None and _etag_matches(if_none_match, body.gzip_etag):
                return 304, _body_headers(body, b"", NOT_MODIFIED_GZIP, cache_control, extra), b""
            return 200, _body_headers(body, gz, GZIP, cache_control, extra), gz
    if if_none_match is not None and _etag_matches(if_none_match, body.etag):
        return 304, _body_headers(body, b"", NOT_MODIFIED, cache_control, extra), b""
    return 200, _body_headers(body, body.data, PLAIN, cache_control, extra), body.data


def send_body(request: Request, body: Body, *, cache_control: str,
              extra: dict[str, str] | None = None) -> Response:
    """200 with ``body``, or 304 when the client's ETag matches; gzip when accepted."""
    status, headers, data = prepare(
        body, if_none_match=request.headers.get("if-none-match"),
        accept_encoding=request.headers.get("accept-encoding"), cache_control=cache_control,
        extra=extra)
    response = Response(data, status_code=status)
    response.raw_headers = list(headers)
    return response


def error_parts(status: int, message: str, metadata: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, list[Header], bytes]:
    """(status, headers, body) of an error in the envelope: what :func:`error_response`
    sends, for the raw ASGI hot path."""
    body = error_body(status, message, metadata)
    out = {"access-control-allow-origin": "*", "access-control-expose-headers": EXPOSE_HEADERS,
           "cache-control": "no-store"}
    if headers:
        out.update(headers)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out.items()]
    raw += [(b"content-length", str(len(body)).encode("latin-1")), _CONTENT_TYPE]
    return status, raw, body


def api_error_parts(exc: APIError) -> tuple[int, list[Header], bytes]:
    """The answer to an :class:`APIError` (401 says how to authenticate)."""
    headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
    if exc.headers:
        headers = {**(headers or {}), **exc.headers}
    return error_parts(exc.status, exc.message, exc.metadata, headers)


def _response(parts: tuple[int, list[Header], bytes]) -> Response:
    status, headers, body = parts
    response = Response(body, status_code=status)
    response.raw_headers = headers
    return response


def error_response(status: int, message: str, metadata: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    return _response(error_parts(status, message, metadata, headers))


def api_error_response(exc: APIError) -> Response:
    return _response(api_error_parts(exc))
