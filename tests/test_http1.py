"""routeyard's HTTP/1.1 client against real servers on 127.0.0.1 that answer in every way
HTTP allows (lengths, chunks, until close, gzip), close idle connections, break off or lie."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Awaitable, Callable

import pytest

from routeyard.errors import ConnectError, RemoteProtocolError, UpstreamError
from routeyard.fake_provider import free_port
from routeyard.upstream.http1 import HIGH_WATER, Pool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length) if length else b""


class Server:
    """A loopback server running ``handler`` per connection; counts connections and what
    each request looked like."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.heads: list[bytes] = []
        self.closed = asyncio.Event()

    async def __aenter__(self) -> str:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer, self.connections)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()
                self.closed.set()

        self.server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 20))  # type: ignore[arg-type]


def test_keep_alive_reuses_one_connection_and_sends_a_well_formed_request() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        while True:
            head, body = await read_request(r)
            server.heads.append(head + body)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await w.drain()

    server = Server(handler)

    async def main() -> None:
        async with server as base:
            pool = Pool()
            for i in range(3):
                resp = await pool.request("POST", base + "/v1/chat?x=1", b'{"n":%d}' % i,
                                          {"Authorization": "Bearer k"})
                assert (resp.status, await resp.read()) == (200, b'{"n":%d}' % i)
                resp.close()
            assert (server.connections, pool.connections_made, pool.idle_count()) == (1, 1, 1)
            first = server.heads[0].decode()
            assert first.startswith("POST /v1/chat?x=1 HTTP/1.1\r\n")
            assert f"\r\nHost: {base[7:]}\r\n" in first and "\r\nContent-Length: 7\r\n" in first
            assert "\r\nAuthorization: Bearer k\r\n" in first and first.endswith('{"n":0}')
            await pool.close()

    run(main())


def test_a_reused_connection_the_server_closed_while_idle_is_retried_once_on_a_new_one() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await read_request(r)
        # keep-alive promised, then the server drops the idle connection (its idle timeout)
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await w.drain()

    server = Server(handler)

    async def main() -> None:
        async with server as base:
            pool = Pool()
            for _ in range(2):
                resp = await pool.request("POST", base + "/", b"{}")
                assert await resp.read() == b"ok"
                resp.close()
                await server.closed.wait()
                server.closed.clear()
            # the second request's reused connection was closed by then: not an error
            assert server.connections == 2
            await pool.close()

    run(main())


def test_a_new_connection_that_breaks_off_is_an_error_not_a_retry() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await read_request(r)

    server = Server(handler)

    async def main() -> None:
        async with server as base:
            pool = Pool()
            with pytest.raises(RemoteProtocolError, match="closed the connection"):
                await pool.request("POST", base + "/", b"{}")
            assert server.connections == 1
            await pool.close()

    run(main())


@pytest.mark.parametrize("framing", ["length", "chunked", "until-close", "gzip", "deflate"])
def test_every_body_framing_reads_the_same(framing: str) -> None:
    body = b"data: " + b"x" * 5000 + b"\n\n"

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await read_request(r)
        if framing == "length":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        elif framing == "chunked":
            w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(body), 1000):
                part = body[i:i + 1000]
                w.write(b"%x\r\n%s\r\n" % (len(part), part))
                await w.drain()
            w.write(b"0\r\n\r\n")
        elif framing == "until-close":
            w.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
        else:
            packed = gzip.compress(body) if framing == "gzip" else zlib.compress(body)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n"
                    % (framing.encode(), len(packed)) + packed)
        await w.drain()
        if framing != "until-close":
            await r.read()  # wait for the client to go

    server = Server(handler)

    async def main() -> None:
        async with server as base:
            pool = Pool()
            resp = await pool.request("GET", base + "/")
            assert resp.headers.get("Content-Length") == resp.headers.get("content-length")
            assert await resp.read() == body
            resp.close()
            assert pool.idle_count() == (0 if framing == "until-close" else 1)
            await pool.close()

    run(main())


def test_closing_an_unfinished_answer_closes_its_connection_at_once() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await read_request(r)
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await w.drain()
        assert await r.read() == b""  # EOF: the client hung up

    server = Server(handler)

    async def main() -> None:
        async with server as base:
            pool = Pool()
            resp = await pool.request("POST", base + "/", b"{}")
            assert await resp.readany() == b"hello"
            resp.close()
            await asyncio.wait_for(server.closed.wait(), 2)
            assert pool.idle_count() == 0
            await pool.close()

    run(main())


def test_a_slow_reader_stops_reading_the_socket() -> None:
    size = 8 * HIGH_WATER

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await read_request(r)
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        for _ in range(size // 65536):
            w.write(b"y" * 65536)
            await w.drain()
        await r.read()

    server = Server(handler)

    async def main() -> None:
        async with server as base:
            pool = Pool()
            resp = await pool.request("GET", base + "/")
            await asyncio.sleep(0.3)  # the server writes as fast as it can meanwhile
            assert HIGH_WATER <= resp.buffered < HIGH_WATER + 2 * 65536
            got = len(await resp.read())
            assert got == size
            resp.close()
            await pool.close()

    run(main())


def test_errors_are_one_tree_and_say_what_went_wrong() -> None:
    async def garbage(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await read_request(r)
        w.write(b"SMTP ready\r\n\r\n")
        await w.drain()
        await r.read()

    async def big(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await read_request(r)
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"z" * 100)
        await w.drain()
        await r.read()

    async def main() -> None:
        pool = Pool(connect_timeout=2)
        with pytest.raises(ConnectError, match="could not connect to 127.0.0.1"):
            await pool.request("GET", f"http://127.0.0.1:{free_port()}/")
        with pytest.raises(ConnectError, match="not an http"):
            await pool.request("GET", "ftp://example.test/")
        with pytest.raises(ValueError, match="invalid character"):
            await pool.request("GET", "http://127.0.0.1:1/", headers={"X": "a\r\nInjected: 1"})
        async with Server(garbage) as base:
            with pytest.raises(RemoteProtocolError, match="malformed HTTP answer"):
                await pool.request("GET", base + "/")
        async with Server(big) as base:
            resp = await pool.request("GET", base + "/")
            with pytest.raises(RemoteProtocolError, match="longer than 10 bytes"):
                await resp.read(10)
        assert issubclass(ConnectError, UpstreamError)
        assert issubclass(RemoteProtocolError, UpstreamError)
        await pool.close()

    run(main())


@pytest.mark.parametrize("terminator_after", [0.05, None])
def test_an_answer_read_to_what_matters_keeps_its_connection_if_its_framing_ends_soon(
        terminator_after: float | None) -> None:
    """A stream read to its ``[DONE]`` before the chunked body's end: when the end follows
    within LINGER the connection is reused, when it never comes the connection is closed."""
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        while True:
            await read_request(r)
            w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"e\r\ndata: [DONE]\n\n\r\n")
            await w.drain()
            if terminator_after is None:
                assert await r.read() == b""  # the client gave up on the answer
                return
            await asyncio.sleep(terminator_after)
            w.write(b"0\r\n\r\n")
            await w.drain()

    server = Server(handler)

    async def main() -> None:
        async with server as base:
            pool = Pool()
            for _ in range(2):
                resp = await pool.request("POST", base + "/", b"{}")
                assert b"[DONE]" in await resp.readany()
                resp.done_reading()
                resp.close()  # after done_reading: nothing more to do
                if terminator_after is None:
                    await asyncio.wait_for(server.closed.wait(), 2)
                    server.closed.clear()
                else:
                    await asyncio.sleep(terminator_after + 0.05)
            expected = 1 if terminator_after is not None else 2
            assert (server.connections, pool.connections_made) == (expected, expected)
            await pool.close()

    run(main())
