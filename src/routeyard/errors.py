"""One exception tree, and the one OpenRouter error envelope.

::

    RouteyardError
    ├── ConfigError            a setting has a bad value
    ├── StoreError             the database failed
    │   ├── StoreUnavailable   it cannot be reached (503 on the API)
    │   └── SchemaOutOfDate    it needs ``routeyard db upgrade``
    ├── CatalogError           a catalog file or payload is invalid (names file, path, problem)
    ├── KeyNotFound            no API key matches an id or prefix
    └── APIError               an HTTP error answered in the envelope
        ├── BadRequest (400), Unauthorized (401), PaymentRequired (402), Forbidden (403),
        ├── NotFound (404), RequestTimeout (408), Conflict (409), PreconditionFailed (412),
        ├── PayloadTooLarge (413)
        └── TooManyRequests (429, with Retry-After)
"""

from __future__ import annotations

from typing import Any

import msgspec


class RouteyardError(Exception):
    """Base of every error routeyard raises on purpose."""


class ConfigError(RouteyardError):
    pass


class StoreError(RouteyardError):
    pass


class StoreUnavailable(StoreError):
    pass


class SchemaOutOfDate(StoreError):
    pass


class KeyNotFound(RouteyardError):
    pass


class UpstreamError(RouteyardError):
    """Talking to a provider failed below HTTP: see the two below (timeouts are
    :class:`routeyard.upstream.client.UpstreamTimeout`, a :class:`TimeoutError`)."""


class ConnectError(UpstreamError):
    """No connection to the provider (refused, unresolvable, TLS, connect timeout)."""


class RemoteProtocolError(UpstreamError):
    """The provider broke the HTTP exchange: closed early, sent what is not HTTP."""


class CatalogError(RouteyardError):
    """Invalid catalog input. ``problems`` lists ``(where, what)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = [f"{where}: {what}" for where, what in problems[:20]]
        if len(problems) > 20:
            lines.append(f"... and {len(problems) - 20} more problems")
        super().__init__("\n".join(lines))


class APIError(RouteyardError):
    """Answered with ``status`` in the envelope; ``headers`` are added to the response."""

    status = 500
    default_message = "Internal Server Error"

    def __init__(self, message: str | None = None, metadata: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.metadata = metadata
        self.headers = headers
        super().__init__(self.message)


class BadRequest(APIError):
    status = 400
    default_message = "Bad Request"


class Unauthorized(APIError):
    status = 401
    default_message = "No auth credentials found"


class PaymentRequired(APIError):
    """402: OpenRouter's code for a key out of credit (here: past its spend limit)."""

    status = 402
    default_message = "Payment Required"


class Forbidden(APIError):
    status = 403
    default_message = "Forbidden"


class NotFound(APIError):
    status = 404
    default_message = "Not Found"


class RequestTimeout(APIError):
    """408: the request body did not arrive within ``body_read_timeout``."""

    status = 408
    default_message = "Request Timeout"


class Conflict(APIError):
    status = 409
    default_message = "Conflict"


class PreconditionFailed(APIError):
    """412: an ``If-Match`` that does not match the record's current ETag."""

    status = 412
    default_message = "Precondition Failed"


class PayloadTooLarge(APIError):
    status = 413
    default_message = "Request body too large"


class TooManyRequests(APIError):
    """429 with ``Retry-After`` and ``metadata.retry_after`` (whole seconds)."""

    status = 429
    default_message = "Too Many Requests"

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message, {"retry_after": retry_after},
                         {"retry-after": str(retry_after)})


_encoder = msgspec.json.Encoder()


def error_body(code: int, message: str, metadata: dict[str, Any] | None = None) -> bytes:
    """The OpenRouter error envelope; ``code`` equals the HTTP status. A string that UTF-8
    cannot encode (a lone surrogate quoted from the request) is sent escaped."""
    envelope = {"error": {"code": code, "message": message, "metadata": metadata}, "user_id": None}
    try:
        return _encoder.encode(envelope)
    except UnicodeEncodeError:
        return _encoder.encode(_encodable(envelope))


def _encodable(value: Any) -> Any:
    """``value`` with every string's unencodable characters as backslash escapes."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value
