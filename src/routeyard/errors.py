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
    """Answered with ``status`` in the envelope; ``headers`` are added to the response.
    A subclass states its status and default message where it is declared:
    ``class NotFound(APIError, status=404, message="Not Found")``."""

    status = 500
    default_message = "Internal Server Error"

    def __init_subclass__(cls, *, status: int | None = None, message: str | None = None) -> None:
        super().__init_subclass__()
        if status is not None:
            cls.status = status
        if message is not None:
            cls.default_message = message

    def __init__(self, message: str | None = None, metadata: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.metadata = metadata
        self.headers = headers
        super().__init__(self.message)


class BadRequest(APIError, status=400, message="Bad Request"):
    pass


class Unauthorized(APIError, status=401, message="No auth credentials found"):
    pass


class PaymentRequired(APIError, status=402, message="Payment Required"):
    """402: OpenRouter's code for a key out of credit (here: past its spend limit)."""


class Forbidden(APIError, status=403, message="Forbidden"):
    pass


class NotFound(APIError, status=404, message="Not Found"):
    pass


class RequestTimeout(APIError, status=408, message="Request Timeout"):
    """408: the request body did not arrive within ``body_read_timeout``."""


class Conflict(APIError, status=409, message="Conflict"):
    pass


class PreconditionFailed(APIError, status=412, message="Precondition Failed"):
    """412: an ``If-Match`` that does not match the record's current ETag."""


class PayloadTooLarge(APIError, status=413, message="Request body too large"):
    pass


class TooManyRequests(APIError, status=429, message="Too Many Requests"):
    """429 with ``Retry-After`` and ``metadata.retry_after`` (whole seconds)."""

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
