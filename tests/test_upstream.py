"""The upstream module: SSE parsing whatever the chunking, key scrubbing, timeouts."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from routeyard.models import Endpoint, Pricing, Provider
from routeyard.upstream import sse
from routeyard.upstream.client import Timeouts, Upstream, UpstreamTimeout, read_within
from routeyard.upstream.provider import MissingKey, api_key, scrub, upstream_id, url, why

STREAM = (b'data: {"choices":[{"delta":{"content":"a"}}]}\r\n\r\n'
          b": OPENROUTER PROCESSING\n\n"
          b'event: x\ndata: {"choices":[{"delta":{"reasoning":"b"},\n'
          b'data: "finish_reason":"stop"}]}\n\n'
          b"data: [DONE]\n\n")


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
def test_sse_parser_gives_the_same_events_whatever_the_chunking(size: int) -> None:
    parser = sse.Parser()
    events: list[bytes] = []
    for i in range(0, len(STREAM), size):
        events += parser.feed(STREAM[i:i + size])
    events += parser.close()
    assert events == [b'{"choices":[{"delta":{"content":"a"}}]}',
                      b'{"choices":[{"delta":{"reasoning":"b"},\n"finish_reason":"stop"}]}',
                      b"[DONE]"]
    stats = sse.StreamStats()
    for n, event in enumerate(events):
        stats.feed(event, float(n))
    assert (stats.deltas, stats.first, stats.last) == (2, 0.0, 1.0)
    assert stats.finish_reason == "stop" and stats.done and stats.error is None


def test_a_stream_cut_mid_event_still_yields_it_on_close() -> None:
    parser = sse.Parser()
    assert parser.feed(b'data: {"a":1}') == []
    assert parser.close() == [b'{"a":1}']


def test_key_handling_never_leaks_the_key() -> None:
    p = Provider(slug="acme", name="Acme", base_url="http://x.test/v1/", api_key_env="ACME_KEY")
    assert api_key(p, {"ACME_KEY": "sk-secret"}) == "sk-secret"
    with pytest.raises(MissingKey, match="ACME_KEY"):
        api_key(p, {})
    assert api_key(Provider(slug="o", name="O"), {}) is None
    assert url(p, "/chat/completions") == "http://x.test/v1/chat/completions"
    assert scrub("bad key sk-secret here", "sk-secret") == "bad key *** here"
    assert "sk-secret" not in why(ValueError("sk-secret refused"), "sk-secret")
    e = Endpoint(provider="acme", tag="acme", context_length=1,
                 pricing=Pricing(prompt="0", completion="0"))
    assert upstream_id(e, "acme/m") == "acme/m"


def test_timeouts_come_from_the_settings() -> None:
    from routeyard.config import Settings

    t = Timeouts.from_settings(Settings.load({}, upstream_chunk_timeout=2.5))
    assert (t.connect, t.first_byte, t.between_chunks, t.total) == (10.0, 60.0, 2.5, 600.0)


def test_read_within_times_out_on_a_silent_server() -> None:
    """A server that sends headers and one chunk, then nothing: the gap timeout fires."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]

        async def main() -> tuple[list[bytes], str, float]:
            up = Upstream(Timeouts(between_chunks=0.2))
            loop = asyncio.get_running_loop()

            def serve() -> socket.socket:
                conn, _ = srv.accept()
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                             b"transfer-encoding: chunked\r\n\r\n"
                             + b"%x\r\n" % 11 + b"data: {}\n\n\n\r\n")
                return conn

            accepted = loop.run_in_executor(None, serve)
            got: list[bytes] = []
            started = time.monotonic()
            try:
                r = await up.request("POST", f"http://127.0.0.1:{port}/", b"{}")
                try:
                    async for chunk in read_within(r, 5.0, 0.2):
                        got.append(chunk)
                finally:
                    r.close()
                phase = "none"
            except UpstreamTimeout as exc:
                phase = exc.phase
            (await accepted).close()
            await up.close()
            return got, phase, time.monotonic() - started

        got, phase, elapsed = asyncio.run(main())
    assert b"".join(got) == b"data: {}\n\n\n" and phase == "next chunk"
    assert elapsed < 3
    assert json.loads(b"".join(got)[6:].strip()) == {}
