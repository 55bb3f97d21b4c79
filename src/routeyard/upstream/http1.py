"""A lean HTTP/1.1 client for the providers: keep-alive pools per origin, streamed bodies.

Why our own: the router's whole cost per call was dominated by the client library
(aiohttp's request machinery was a third of routeyard's CPU per routed request in the
profile, bench/RESULTS.md "Upstream client"). What a router needs of HTTP is small: one
POST with a JSON body, the status and headers, the body as it arrives (chunked, a length,
or until close; gzip or deflate), keep-alive. The parsing is httptools (llhttp, the parser
of Node and of uvicorn); this module is the connection handling around it:

- one :class:`Pool` per process; idle connections kept per origin (LIFO, closed after
  ``keepalive`` seconds idle or when the server closes them);
- a request on a *reused* connection that the server closed before any byte of the answer
  (the idle-close race every keep-alive client has) is sent again once on a new connection:
  the server never read it;
- back-pressure: a response reads from the socket only while its unread buffer is small;
- a response closed before its end closes its connection (nothing half-read goes back to
  the pool), so a caller that goes away frees the upstream at once.

Not supported, on purpose: HTTP proxies, HTTP/2, redirects (the router never follows one),
request bodies other than bytes. TLS is the standard library's (``ssl`` default context).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
import zlib
from collections.abc import Mapping
from urllib.parse import urlsplit

import httptools

from routeyard.errors import ConnectError, RemoteProtocolError

LINGER = 0.25  # seconds an answer read to what the caller needs may take to end its framing
HIGH_WATER = 256 << 10  # unread bytes at which a response stops reading its socket
USER_AGENT = "routeyard"


def _bad(text: str) -> bool:
    """A character that would end a header line early (header injection)."""
    return "\r" in text or "\n" in text or "\0" in text

_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    global _tls
    if _tls is None:
        _tls = ssl.create_default_context()
    return _tls


class Headers(dict[str, str]):
    """Response headers, names lower-cased (repeated ones joined with ``, ``)."""

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


class Origin:
    __slots__ = ("host", "host_header", "key", "port", "scheme")

    def __init__(self, scheme: str, host: str, port: int) -> None:
        self.scheme, self.host, self.port = scheme, host, port
        self.key = (scheme, host, port)
        default = 443 if scheme == "https" else 80
        name = f"[{host}]" if ":" in host else host
        self.host_header = name if port == default else f"{name}:{port}"


def _split(url: str) -> tuple[Origin, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectError(f"not an http(s) URL: {parts.scheme}://{parts.hostname or ''}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(parts.scheme, parts.hostname, port), target


class Connection(asyncio.Protocol):
    """One keep-alive connection; at most one response in flight."""

    def __init__(self, pool: Pool, origin: Origin) -> None:
        self.pool, self.origin = pool, origin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.response: Response | None = None
        self.lost = False
        self.reused = False
        self.idle_timer: asyncio.TimerHandle | None = None
        self._name = b""
        self._paused = False

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        response = self.response
        if response is None:  # bytes on an idle connection: nothing may come, drop it
            self.close()
            return
        response.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            response.fail(RemoteProtocolError("the provider switched protocols"))
            self.close()
        except httptools.HttpParserError as exc:
            response.fail(RemoteProtocolError(f"malformed HTTP answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        self.pool.forget(self)
        response = self.response
        if response is not None and not response.complete:
            if response.head_done and response.until_close:
                response.finish()
            else:
                response.fail(RemoteProtocolError(
                    "the provider closed the connection" + (f" ({exc})" if exc else "")))

    def pause_writing(self) -> None:  # the request bodies are small: nothing to pause
        pass

    def resume_writing(self) -> None:
        pass

    # -- httptools callbacks ---------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        response = self.response
        assert response is not None
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        old = response.headers.get(key)
        response.headers[key] = text if old is None else f"{old}, {text}"

    def on_headers_complete(self) -> None:
        response = self.response
        assert response is not None
        response.status = self.parser.get_status_code()
        headers = response.headers
        encoding = (headers.get("content-encoding") or "").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            response.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            response.decoder = zlib.decompressobj()  # zlib-wrapped, as the RFC says
        response.until_close = ("content-length" not in headers
                                and "chunked" not in (headers.get("transfer-encoding") or ""))
        response.head_done = True
        response.wake()

    def on_body(self, body: bytes) -> None:
        response = self.response
        assert response is not None
        response.feed(body)
        if response.buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        response = self.response
        assert response is not None
        response.keep_alive = self.parser.should_keep_alive()
        response.finish()

    # -- ours ----------------------------------------------------------------------------
    def drained(self) -> None:
        if self._paused and self.transport is not None and not self.lost:
            self._paused = False
            self.transport.resume_reading()

    def send(self, data: bytes, response: Response) -> None:
        assert self.transport is not None
        self.response = response
        self.parser = httptools.HttpResponseParser(self)
        response.sent_at = time.perf_counter()
        self.transport.write(data)

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()


class Response:
    """An answer as it arrives. Read it with :meth:`readany` or :meth:`read`; always
    :meth:`close` it (an unfinished one closes its connection)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.status = 0
        self.headers = Headers()
        self.sent_at = 0.0  # time.perf_counter() when the request went out (once connected)
        self.received = False
        self.head_done = False
        self.complete = False
        self.keep_alive = False
        self.until_close = False
        self.decoder: zlib._Decompress | None = None
        self.buffered = 0
        self._chunks: collections.deque[bytes] = collections.deque()
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._released = False
        self._discard = False  # done_reading(): the rest is dropped as it arrives
        self._linger: asyncio.TimerHandle | None = None

    # -- fed by the connection ---------------------------------------------------------
    def feed(self, body: bytes) -> None:
        if self._discard:
            return
        if self.decoder is not None:
            try:
                body = self.decoder.decompress(body)
            except zlib.error as exc:
                self.fail(RemoteProtocolError(f"undecodable body: {exc}"))
                self.connection.close()
                return
        if body:
            self._chunks.append(body)
            self.buffered += len(body)
            self.wake()

    def finish(self) -> None:
        if self._discard:
            if self._linger is not None:
                self._linger.cancel()
            self.complete = True
            self._release()
            return
        if self.decoder is not None:
            rest = self.decoder.flush()
            if rest:
                self._chunks.append(rest)
                self.buffered += len(rest)
        self.complete = True
        self.wake()

    def fail(self, exc: Exception) -> None:
        if self._discard:
            self._abandon()
            return
        if self._error is None and not self.complete:
            self._error = exc
        self.wake()

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    # -- read by the caller ------------------------------------------------------------
    async def start(self) -> None:
        """Wait for the status line and headers."""
        while not self.head_done:
            if self._error is not None:
                raise self._error
            await self._wait()

    async def readany(self) -> bytes:
        """The next piece of the body as it came; ``b""`` at its end."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                if len(self._chunks) > 0:  # several pieces waiting: hand them over at once
                    chunk += b"".join(self._chunks)
                    self._chunks.clear()
                self.buffered = 0
                self.connection.drained()
                return chunk
            if self._error is not None:
                raise self._error
            if self.complete:
                self._release()
                return b""
            await self._wait()

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body; :class:`RemoteProtocolError` when it is longer than ``limit``."""
        parts: list[bytes] = []
        size = 0
        while chunk := await self.readany():
            size += len(chunk)
            if limit is not None and size > limit:
                self.close()
                raise RemoteProtocolError(f"the answer is longer than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def _release(self) -> None:
        if not self._released:
            self._released = True
            conn = self.connection
            conn.response = None
            if self.keep_alive and not conn.lost:
                conn.pool.release(conn)
            else:
                conn.close()

    def done_reading(self) -> None:
        """The caller has all it needs (a stream's ``[DONE]``) but the answer's framing may
        not have ended yet (the last chunk's terminator usually follows at once): what
        still comes is dropped, and the connection goes back to the pool when the answer
        ends within :data:`LINGER` seconds, else it is closed."""
        if self._released or self._discard:
            return
        if self.complete or self._error is not None or not self.head_done:
            self.close()
            return
        self._discard = True
        self._chunks.clear()
        self.buffered = 0
        self.connection.drained()
        self._linger = asyncio.get_running_loop().call_later(LINGER, self._abandon)

    def _abandon(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if not self._released:
            self._released = True
            self.connection.response = None
            self.connection.close()

    def close(self) -> None:
        """Done with it: a finished answer gives its connection back to the pool, an
        unfinished one closes it (after :meth:`done_reading`: nothing more to do)."""
        if self._released or self._discard:
            return
        if self.complete and self._error is None:  # all of it arrived, read or not
            self._chunks.clear()
            self._release()
            return
        self._released = True
        self.connection.response = None
        self.connection.close()


class Pool:
    """Keep-alive connections per origin, for one event loop."""

    def __init__(self, *, connect_timeout: float = 10.0, keepalive: float = 30.0,
                 max_idle_per_origin: int = 512, user_agent: str = USER_AGENT) -> None:
        self.connect_timeout = connect_timeout
        self.keepalive = keepalive
        self.max_idle = max_idle_per_origin
        self.user_agent = user_agent
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        self._origins: dict[tuple[str, str], tuple[Origin, str]] = {}
        self._open: set[Connection] = set()
        self.connections_made = 0  # for tests and the bench

    def _target(self, method: str, url: str) -> tuple[Origin, str]:
        """The origin of ``url`` and the request's first lines (cached per method and URL)."""
        hit = self._origins.get((method, url))
        if hit is None:
            origin, target = _split(url)
            head = (f"{method} {target} HTTP/1.1\r\nHost: {origin.host_header}\r\n"
                    f"User-Agent: {self.user_agent}\r\nAccept-Encoding: gzip, deflate\r\n")
            hit = (origin, head)
            if len(self._origins) < 4096:
                self._origins[(method, url)] = hit
        return hit

    async def request(self, method: str, url: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> Response:
        """Send one request; return once the answer's status and headers are in."""
        origin, head = self._target(method, url)
        lines = [head, f"Content-Length: {len(body)}\r\n"]
        for name, value in (headers or {}).items():
            if _bad(name) or _bad(value) or ":" in name:
                raise ValueError(f"invalid character in header {name!r}")
            lines.append(f"{name}: {value}\r\n")
        lines.append("\r\n")
        data = "".join(lines).encode("latin-1") + body
        for retry in (True, False):
            conn = await self._acquire(origin)
            response = Response(conn)
            conn.send(data, response)
            try:
                await response.start()
            except RemoteProtocolError:
                response.close()
                if retry and conn.reused and not response.received:
                    continue  # the idle-close race: the server never read it
                raise
            except BaseException:
                response.close()
                raise
            return response
        raise AssertionError("unreachable")

    async def _acquire(self, origin: Origin) -> Connection:
        idle = self._idle.get(origin.key)
        while idle:
            conn = idle.pop()
            if conn.idle_timer is not None:
                conn.idle_timer.cancel()
                conn.idle_timer = None
            if not conn.lost and conn.transport is not None and not conn.transport.is_closing():
                conn.reused = True
                return conn
        return await self._connect(origin)

    async def _connect(self, origin: Origin) -> Connection:
        loop = asyncio.get_running_loop()
        tls = _tls_context() if origin.scheme == "https" else None
        try:
            async with asyncio.timeout(self.connect_timeout if self.connect_timeout > 0
                                       else None):
                _, conn = await loop.create_connection(
                    lambda: Connection(self, origin), origin.host, origin.port, ssl=tls,
                    server_hostname=origin.host if tls else None)
        except TimeoutError:
            raise ConnectError(f"could not connect to {origin.host_header} within "
                               f"{self.connect_timeout:g} s") from None
        except OSError as exc:
            raise ConnectError(f"could not connect to {origin.host_header}: "
                               f"{exc.strerror or exc}") from None
        self.connections_made += 1
        self._open.add(conn)
        return conn

    def release(self, conn: Connection) -> None:
        idle = self._idle.setdefault(conn.origin.key, [])
        if len(idle) >= self.max_idle:
            conn.close()
            return
        idle.append(conn)
        if self.keepalive > 0:
            conn.idle_timer = asyncio.get_running_loop().call_later(
                self.keepalive, self._expire, conn)

    def _expire(self, conn: Connection) -> None:
        conn.idle_timer = None
        idle = self._idle.get(conn.origin.key)
        if idle and conn in idle:
            idle.remove(conn)
        conn.close()

    def forget(self, conn: Connection) -> None:
        self._open.discard(conn)
        idle = self._idle.get(conn.origin.key)
        if idle and conn in idle:
            idle.remove(conn)

    def idle_count(self) -> int:
        return sum(len(v) for v in self._idle.values())

    async def close(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._idle.clear()
        self._open.clear()
        await asyncio.sleep(0)
