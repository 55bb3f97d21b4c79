"""Hostile bytes against a real `routeyard serve`: every one is answered in the envelope (or,
where the HTTP server refuses it before the app, with a bare 400), none is a 500, and the log
holds no traceback and no forged line (issue 14, items 5 and 7)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from routeyard.store import Store
from tests.conftest import Server

MODEL = "/api/v1/admin/models/meta-llama/llama-4-maverick"
QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


def exchange(port: int, data: bytes, *, read: bool = True) -> bytes:
    """Send raw bytes on a fresh connection; what came back until the server closed it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except TimeoutError:
            pass
        return out


def envelope(response: bytes, status: int) -> dict[str, object]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), response[:300]
    error = json.loads(body)["error"]
    assert error["code"] == status
    return dict(error)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> tuple[Server, str]:
    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("ops", "admin")
    store.dispose()
    s = Server(database_url, tmp_path)
    yield s, key
    s.stop()


def test_bad_bytes_are_400_in_the_envelope_and_log_no_traceback(
        server: tuple[Server, str]) -> None:
    srv, key = server
    auth = f"Authorization: Bearer {key}\r\n".encode()
    head = b"PATCH " + MODEL.encode() + b" HTTP/1.1\r\nHost: x\r\n" + auth
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    # A lone surrogate in an object key: named (escaped) in the answer.
    r = httpx.patch(srv.base + MODEL, headers=headers,
                    content=b'{"default_parameters": {"\\ud800": 1}}')
    assert r.status_code == 400, r.text
    assert r.json()["error"]["metadata"]["problems"] == [
        {"path": "default_parameters.\\ud800",
         "message": "contains an unpaired surrogate (invalid Unicode)"}]
    # A NUL nested 953 levels deep (within the decoder's limit), in objects and in arrays.
    for opening, closing in ((b'{"a":', b"}"), (b"[", b"]")):
        body = b'{"default_parameters": ' + opening * 953 + b'"\\u0000"' + closing * 953 + b"}"
        r = httpx.patch(srv.base + MODEL, headers=headers, content=body)
        assert r.status_code == 400, r.text[:300]
        assert "nested too deeply" in r.json()["error"]["message"]
    # Broken chunked framing.
    out = exchange(srv.port, head + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                   b'5\r\n{"a":\r\nZZ\r\n')
    assert not out.startswith(b"HTTP/1.1 500"), out[:300]
    if out:
        assert envelope(out, 400)["message"].startswith("The request body is incomplete")
    # Clients that go away mid-body.
    for _ in range(5):
        exchange(srv.port, head + b'Content-Length: 100\r\n\r\n{"a"', read=False)
    # Content-Length that is not a length: refused by the HTTP server before the app.
    for length in (b"1e3", b"-1", b"1180591620717411303424"):
        out = exchange(srv.port, head + b"Content-Length: " + length + b"\r\n"
                       b"Connection: close\r\n\r\n{}")
        assert out.startswith(b"HTTP/1.1 400 "), (length, out[:200])
    # The catalog is unchanged and the server still answers.
    r = httpx.get(srv.base + MODEL, headers=headers)
    assert r.status_code == 200 and "default_parameters" not in r.json()["data"]
    time.sleep(0.5)
    log = srv.log()
    assert "Traceback" not in log and " 500 " not in log, log[-3000:]
    assert log.count("client went away before sending its whole body") >= 5


def test_log_lines_cannot_be_forged_and_redirects_do_not_echo_the_host(
        server: tuple[Server, str]) -> None:
    srv, key = server
    forged = "2026-01-01 00:00:00,000 INFO routeyard.access: GET /forged 200 0.1ms"
    out = exchange(srv.port, b"GET /api/v1/models/a%0a" + forged.replace(" ", "%20").encode()
                   + b"/endpoints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 4"), out[:200]
    time.sleep(0.3)
    lines = srv.log().splitlines()
    assert not any(line.startswith(forged[:30]) for line in lines)
    assert any("a\\x0a2026-01-01" in line for line in lines)  # escaped by logs.escape
    # No Location built from the Host header, for a trailing slash or a CONNECT.
    for request in (b"GET /api/v1/models/ HTTP/1.1\r\n", b"CONNECT evil.example:443 HTTP/1.1\r\n"):
        out = exchange(srv.port, request + b"Host: evil.example\r\nConnection: close\r\n\r\n")
        assert b"evil.example" not in out, out[:300]
        assert not out.startswith(b"HTTP/1.1 3"), out[:300]
    # An encoded slash never matches a route (docs/api.md), on the fast path and off it.
    auth = {"Authorization": f"Bearer {key}"}
    for path in (f"/api/v1/models/{QWEN.replace('/', '%2F')}/endpoints",
                 f"/api/v1/models/{QWEN.replace('/', '%2f')}/endpoints",
                 f"{MODEL.replace('llama/llama', 'llama%2Fllama')}"):
        r = httpx.get(srv.base + path, headers=auth)
        assert r.status_code == 404 and r.json()["error"]["code"] == 404, (path, r.text)
    assert httpx.get(f"{srv.base}/api/v1/models/{QWEN}/endpoints",
                     headers=auth).status_code == 200
