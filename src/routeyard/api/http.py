"""Response helpers shared by the routes: conditional GET, gzip, CORS, errors."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from routeyard.errors import APIError, error_body
from routeyard.snapshot import Body

JSON = "application/json"
CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type, HTTP-Referer, X-Title, "
                                    "X-OpenRouter-Title, X-OpenRouter-Categories",
    "access-control-max-age": "86400",
}


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
PLAIN, GZIP, NOT_MODIFIED = "plain", "gzip", "304"  # the answers a body is sent in
_VARY = (b"vary", b"Accept-Encoding")
_ANY_ORIGIN = (b"access-control-allow-origin", b"*")
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
        headers = [(b"cache-control", cache_control.encode("latin-1")),
                   (b"etag", body.etag.encode("latin-1")), _VARY, _ANY_ORIGIN]
    else:
        named = {"cache-control": cache_control, "etag": body.etag, "vary": "Accept-Encoding",
                 "access-control-allow-origin": "*", **extra}
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in named.items()]
    if variant == GZIP:
        headers.append(_GZIPPED)
    if variant != NOT_MODIFIED:
        headers += [(b"content-length", str(len(data)).encode("latin-1")), _CONTENT_TYPE]
    if extra is None:
        body.headers[key] = headers
    return headers


def prepare(body: Body, *, if_none_match: str | None, accept_encoding: str | None,
            cache_control: str, extra: dict[str, str] | None = None
            ) -> tuple[int, list[Header], bytes]:
    """(status, headers, data) answering a GET of ``body``: 304 when ``if_none_match``
    holds its ETag, the gzip form when ``accept_encoding`` takes gzip, else the body.

    The header list may be shared between answers: copy it before changing it.
    """
    if if_none_match is not None and _etag_matches(if_none_match, body.etag):
        return 304, _body_headers(body, b"", NOT_MODIFIED, cache_control, extra), b""
    if accept_encoding and _accepts_gzip(accept_encoding):
        gz = body.gzipped
        if gz is not None:
            return 200, _body_headers(body, gz, GZIP, cache_control, extra), gz
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
    out = {"access-control-allow-origin": "*", "cache-control": "no-store"}
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
