"""The one pooled, keep-alive HTTP client a serving process talks to providers with.

routeyard's own HTTP/1.1 client (:mod:`routeyard.upstream.http1`, httptools for parsing),
chosen by measurement over aiohttp and httpx (bench/http_clients.py, figures in
bench/RESULTS.md, "Upstream client"): under 64 concurrent streams it adds the least latency
and uses the least CPU per stream, and it took routeyard's CPU per routed request from 650
to about 420 µs. The app's lifespan owns one :class:`Upstream` (created on the running loop,
closed at shutdown); probes and the router share it, and tests may pass their own
(``create_app(..., upstream=...)``).

Timeouts (settings, docs/settings.md): connecting, the first byte of the answer, the gap
between two chunks of a stream, and the whole attempt. The pool enforces the connect one;
callers the others, :func:`read_within` around each read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import msgspec

from routeyard.upstream.http1 import USER_AGENT, Pool, Response

__all__ = ["USER_AGENT", "Response", "Timeouts", "Upstream", "UpstreamTimeout", "read_within"]


class Timeouts(msgspec.Struct, frozen=True, kw_only=True):
    """Seconds; 0 or less: no limit."""

    connect: float = 10.0
    first_byte: float = 60.0
    between_chunks: float = 60.0
    total: float = 600.0

    @classmethod
    def from_settings(cls, settings: Any) -> Timeouts:
        return cls(connect=float(settings.upstream_connect_timeout),
                   first_byte=float(settings.upstream_first_byte_timeout),
                   between_chunks=float(settings.upstream_chunk_timeout),
                   total=float(settings.upstream_total_timeout))


class UpstreamTimeout(TimeoutError):
    """An upstream took longer than one of the :class:`Timeouts`; ``phase`` says which."""

    def __init__(self, phase: str, seconds: float) -> None:
        super().__init__(f"no {phase} within {seconds:g} s")
        self.phase = phase


class Upstream:
    """The process's connection pool to the providers, and the timeouts."""

    def __init__(self, timeouts: Timeouts | None = None, *, keepalive: float = 30.0) -> None:
        self.timeouts = timeouts or Timeouts()
        self.pool = Pool(connect_timeout=self.timeouts.connect, keepalive=keepalive)

    async def request(self, method: str, url: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> Response:
        """Send one request (no redirect is followed); the answer once its headers are in.
        Raises :class:`~routeyard.errors.ConnectError` or
        :class:`~routeyard.errors.RemoteProtocolError`."""
        return await self.pool.request(method, url, body, headers)

    async def close(self) -> None:
        await self.pool.close()


class _Readable(Protocol):
    async def readany(self) -> bytes: ...


async def read_within(stream: _Readable, first: float, between: float
                      ) -> AsyncIterator[bytes]:
    """The body's chunks as they come, the first within ``first`` seconds and each next one
    within ``between`` seconds of the previous (0: no limit); raises
    :class:`UpstreamTimeout` otherwise."""
    limit, phase = first, "first byte"
    while True:
        try:
            if limit > 0:
                async with asyncio.timeout(limit):
                    chunk = await stream.readany()
            else:
                chunk = await stream.readany()
        except TimeoutError:
            raise UpstreamTimeout(phase, limit) from None
        if not chunk:
            return
        yield chunk
        limit, phase = between, "next chunk"
