"""The one pooled, keep-alive HTTP client a serving process talks to providers with.

aiohttp, chosen by measurement over httpx (bench/http_clients.py, figures in
bench/RESULTS.md, "Upstream client"): under 64 concurrent streams it added several times
less latency and used several times less CPU per stream. The app's lifespan owns one
:class:`Upstream` (created on the running loop, closed at shutdown); probes and the router
share it, and tests may pass their own (``create_app(..., upstream=...)``).

Timeouts (settings, docs/settings.md): connecting, the first byte of the answer, the gap
between two chunks of a stream, and the whole attempt. aiohttp enforces the connect and
total ones; :func:`read_within` the other two, around each read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec

USER_AGENT = "routeyard"


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

    def client_timeout(self, total: float | None = None) -> aiohttp.ClientTimeout:
        whole = self.total if total is None else total
        return aiohttp.ClientTimeout(total=whole if whole > 0 else None,
                                     sock_connect=self.connect if self.connect > 0 else None)


class UpstreamTimeout(TimeoutError):
    """An upstream took longer than one of the :class:`Timeouts`; ``phase`` says which."""

    def __init__(self, phase: str, seconds: float) -> None:
        super().__init__(f"no {phase} within {seconds:g} s")
        self.phase = phase


async def _headers_sent(session: aiohttp.ClientSession, context: Any,
                        params: aiohttp.TraceRequestHeadersSentParams) -> None:
    # The clock of a probe's time to first token starts when the request goes out, after any
    # TCP handshake: a fresh connection's round trips are our distance to the provider, not
    # its latency. Requests that pass ``trace_request_ctx={"sent": []}`` get the time.
    ctx = context.trace_request_ctx
    if isinstance(ctx, dict) and "sent" in ctx and not ctx["sent"]:
        ctx["sent"].append(time.perf_counter())


def _trace() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(_headers_sent)
    return trace


class Upstream:
    """One aiohttp connection pool, the router's session on it and the probes' session on
    it (the probes' traces the time a request went out; the router's has no per-request
    trace or timer: its timeouts are its own asyncio ones), and the timeouts."""

    def __init__(self, timeouts: Timeouts | None = None, *, limit: int = 1024,
                 limit_per_host: int = 0) -> None:
        self.timeouts = timeouts or Timeouts()
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._connector: aiohttp.TCPConnector | None = None
        self._session: aiohttp.ClientSession | None = None
        self._traced: aiohttp.ClientSession | None = None

    def _pool(self) -> aiohttp.TCPConnector:
        if self._connector is None or self._connector.closed:
            self._connector = aiohttp.TCPConnector(
                limit=self._limit, limit_per_host=self._limit_per_host, keepalive_timeout=30)
        return self._connector

    @property
    def session(self) -> aiohttp.ClientSession:
        """The router's session, made on first use (it must be made on the running loop).
        Only the connect timeout is aiohttp's; callers bound the rest themselves."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=self._pool(), connector_owner=False,
                headers={"User-Agent": USER_AGENT}, auto_decompress=True,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeouts.connect
                                              if self.timeouts.connect > 0 else None),
            )
        return self._session

    @property
    def traced(self) -> aiohttp.ClientSession:
        """The probes' session (same pool): requests passing ``trace_request_ctx={"sent":
        []}`` get the time their headers went out."""
        if self._traced is None or self._traced.closed:
            self._traced = aiohttp.ClientSession(
                connector=self._pool(), connector_owner=False,
                headers={"User-Agent": USER_AGENT + "-probe"},
                timeout=self.timeouts.client_timeout(), trace_configs=[_trace()],
            )
        return self._traced

    async def close(self) -> None:
        for session in (self._session, self._traced):
            if session is not None and not session.closed:
                await session.close()
        if self._connector is not None and not self._connector.closed:
            await self._connector.close()


async def read_within(stream: aiohttp.StreamReader, first: float, between: float
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
