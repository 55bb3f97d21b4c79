"""Who is calling: the bearer key, its verification, and the throttles around it (pure of
Starlette: every entry point, the hot path included, passes the raw header)."""

from __future__ import annotations

from routeyard.errors import TooManyRequests, Unauthorized
from routeyard.keys import KeyRecord
from routeyard.runtime import Runtime


def bearer_token(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header value; None without one."""
    if header is None:
        return None
    if header.startswith("Bearer "):  # the usual spelling, without the general parse
        token = header[7:].strip()
        if token:
            return token
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Invalid authorization header: expected 'Bearer <key>'")
    return token


def check_caller(rt: Runtime, authorization: str | None, client: tuple[str, int] | None, *,
                 allow_public: bool) -> KeyRecord | None:
    """The caller's key from the raw ``Authorization`` header and the ASGI client; None for
    an anonymous caller where discovery is public.

    A key that is presented must be valid even where discovery is public. An address that
    failed too often gets 429 before its key is checked; a key over its rate limit gets 429
    (docs/security.md).
    """
    token = bearer_token(authorization)
    if token is None:
        if allow_public and rt.settings.public_discovery:
            return None
        raise Unauthorized("No auth credentials found")
    address = _address_not_blocked(rt, client)
    record = rt.keyring.verify(token)
    if record is None:
        record = rt.look_up_key(token)
    if record is None:
        failure = rt.limiter.failed(address)
        if failure is not None and not failure.allowed:
            raise _too_many_failures(failure.retry_after)
        raise Unauthorized("Invalid or revoked API key")
    admit(rt, record)
    return record


def check_known(rt: Runtime, record: KeyRecord, client: tuple[str, int] | None) -> None:
    """:func:`check_caller` for a key the current key ring verified before: the same checks
    but the key's hash (the hot path remembers which key an answer was for)."""
    _address_not_blocked(rt, client)
    admit(rt, record)


def _address_not_blocked(rt: Runtime, client: tuple[str, int] | None) -> str:
    """The client's address; 429 while it is blocked for failing authentication."""
    address = client[0] if client else "unknown"
    if wait := rt.limiter.blocked(address):
        raise _too_many_failures(wait)
    return address


def admit(rt: Runtime, record: KeyRecord) -> None:
    """Note the use of a verified key and count it against its rate limit (429 past it)."""
    if rt.track_key_use:
        rt.note_key_use(record.id)
    limiter = rt.limiter
    decision = limiter.check_key(record.scope, record.id)
    if decision is not None and not decision.allowed:
        raise TooManyRequests(f"Rate limit exceeded: {limiter.key_limits[record.scope]} "
                              "requests per minute for this key", retry_after=decision.retry_after)


def _too_many_failures(retry_after: int) -> TooManyRequests:
    return TooManyRequests("Too many failed authentication attempts from this address; "
                           f"retry after {retry_after} seconds", retry_after=retry_after)
