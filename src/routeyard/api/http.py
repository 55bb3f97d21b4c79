"""Response helpers shared by the routes: conditional GET, gzip, CORS, errors."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from routeyard.api.snapshot import Body
from routeyard.errors import error_body

JSON = "application/json"
CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type, HTTP-Referer, X-Title, "
                                    "X-OpenRouter-Title, X-OpenRouter-Categories",
    "access-control-max-age": "86400",
}


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
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


def send_body(request: Request, body: Body, *, cache_control: str,
              extra: dict[str, str] | None = None) -> Response:
    """200 with ``body``, or 304 when the client's ETag matches; gzip when accepted."""
    headers = {
        "cache-control": cache_control,
        "etag": body.etag,
        "vary": "Accept-Encoding",
        "access-control-allow-origin": "*",
    }
    if extra:
        headers.update(extra)
    inm = request.headers.get("if-none-match")
    if inm is not None and _etag_matches(inm, body.etag):
        return Response(status_code=304, headers=headers)
    data = body.data
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        gz = body.gzipped
        if gz is not None:
            data = gz
            headers["content-encoding"] = "gzip"
    return Response(data, status_code=200, headers=headers, media_type=JSON)


def error_response(status: int, message: str, metadata: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    out = {"access-control-allow-origin": "*", "cache-control": "no-store"}
    if headers:
        out.update(headers)
    return Response(error_body(status, message, metadata), status_code=status, headers=out,
                    media_type=JSON)
