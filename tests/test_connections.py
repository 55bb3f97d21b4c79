"""Connections a client holds open cannot lock others out (issue 14, item 3): idle keep-alive
connections are closed after ROUTEYARD_KEEP_ALIVE_TIMEOUT, a body must arrive within
ROUTEYARD_BODY_READ_TIMEOUT, and 2,000 idle connections leave room for fresh requests."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx

from routeyard.store import Store
from tests.conftest import Server, fresh_database_url, user_env

IDLE = 2000


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``sock`` (None: still open after ``seconds``)."""
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return None
    return time.monotonic() - started


def test_two_thousand_idle_connections_leave_fresh_requests_answered(tmp_path: Path) -> None:
    server = Server(fresh_database_url("sqlite", tmp_path), tmp_path, env=user_env(),
                    inherit=False)
    idle: list[socket.socket] = []
    try:
        for i in range(IDLE):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            if i % 2:  # half send nothing, half a request head that never ends
                s.sendall(b"GET /api/v1/models HTTP/1.1\r\nHost: x\r\n")
            idle.append(s)
        time.sleep(0.5)
        took = []
        for _ in range(10):
            started = time.monotonic()
            r = httpx.get(server.base + "/healthz", timeout=10,
                          headers={"connection": "close"})
            took.append(time.monotonic() - started)
            assert r.status_code == 200
        # A correctness bound, not a benchmark: locked out, each of these waited 5 s or more.
        assert max(took) < 1.0, took
    finally:
        for s in idle:
            s.close()
        server.stop()


def test_idle_connections_are_closed_and_slow_bodies_are_408(tmp_path: Path) -> None:
    url = fresh_database_url("sqlite", tmp_path)
    store = Store(url)
    store.ensure_schema()
    key, _ = store.create_key("ops", "admin")
    store.dispose()
    env = {**user_env(), "ROUTEYARD_KEEP_ALIVE_TIMEOUT": "1", "ROUTEYARD_BODY_READ_TIMEOUT": "1"}
    server = Server(url, tmp_path, env=env, inherit=False)
    try:
        # Idle after a request (keep-alive), and idle from the start: closed after ~1 s.
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        closed = _closed_within(s, 10)
        assert closed is not None and closed < 5, closed
        s.close()
        s = socket.create_connection(("127.0.0.1", server.port))
        closed = _closed_within(s, 10)
        assert closed is not None and closed < 5, closed
        s.close()
        # A body that stops arriving: 408 in the envelope, and nothing written.
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(f"PATCH /api/v1/admin/providers/deepinfra HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: 100\r\n\r\n{{\"name\":".encode())
        s.settimeout(10)
        out = b""
        while b"}}" not in out:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        s.close()
        head, _, body = out.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 "), out[:300]
        assert json.loads(body)["error"] == {
            "code": 408, "message": "Request body not received within 1 s", "metadata": None}
        r = httpx.get(server.base + "/api/v1/admin/providers/deepinfra",
                      headers={"Authorization": f"Bearer {key}"})
        assert r.json()["data"]["name"] == "DeepInfra"
        assert "Traceback" not in server.log()
    finally:
        server.stop()
