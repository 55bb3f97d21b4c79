"""Several processes over one database: freshness, revocation, summed health, faults."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from routeyard.store import Store
from tests.conftest import Server, run_cli
from tests.tcpproxy import TcpProxy

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


def wait_for(check: Any, timeout: float = 5.0, interval: float = 0.02) -> float:
    """Seconds until ``check()`` is true; fails after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout}s")
        time.sleep(interval)
    return time.monotonic() - started


@pytest.fixture
def keys(database_url: str) -> dict[str, str]:
    store = Store(database_url)
    store.ensure_schema()
    admin, _ = store.create_key("ops", "admin")
    read, _ = store.create_key("reader", "read")
    store.dispose()
    return {"admin": admin, "read": read}


@pytest.fixture
def pair(database_url: str, tmp_path: Path, keys: dict[str, str]) -> Iterator[tuple[Server, Server]]:
    env = {"ROUTEYARD_REFRESH_INTERVAL": "1.0", "ROUTEYARD_HEALTH_REFRESH_INTERVAL": "1.0"}
    a = Server(database_url, tmp_path, env=env)
    b = Server(database_url, tmp_path, env=env)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_catalog_change_through_one_is_served_by_the_other(pair: tuple[Server, Server],
                                                          keys: dict[str, str]) -> None:
    a, b = pair
    url = f"/api/v1/models/{QWEN}/endpoints/chutes/disable"
    r = httpx.post(a.base + "/api/v1/admin" + url.removeprefix("/api/v1"), headers=auth(keys["admin"]))
    assert r.status_code == 200, r.text
    changed_at = time.monotonic()

    def disabled_on(server: Server) -> bool:
        body = httpx.get(f"{server.base}/api/v1/models/{QWEN}/endpoints",
                         headers=auth(keys["read"])).json()
        return bool(body["data"]["endpoints"][0]["status"] == -10)

    assert disabled_on(a)  # at once on the process that made it
    wait_for(lambda: disabled_on(b), timeout=2.0)
    print(f"catalog propagation to the other replica: {time.monotonic() - changed_at:.2f}s")


def test_revoked_key_is_refused_by_every_replica(pair: tuple[Server, Server], keys: dict[str, str],
                                                 database_url: str) -> None:
    a, b = pair
    path = f"/api/v1/models/{QWEN}/endpoints"
    for s in pair:
        assert httpx.get(s.base + path, headers=auth(keys["read"])).status_code == 200
    run_cli(database_url, "keys", "revoke", keys["read"][:17])
    revoked_at = time.monotonic()
    for s in (a, b):
        wait_for(lambda s=s: httpx.get(s.base + path, headers=auth(keys["read"])).status_code == 401,
                 timeout=2.0 - (time.monotonic() - revoked_at))
    print(f"revocation seen by both replicas after {time.monotonic() - revoked_at:.2f}s")


def test_outcomes_recorded_through_both_add_up_on_both(pair: tuple[Server, Server],
                                                       keys: dict[str, str]) -> None:
    now = time.time()

    def post(server: Server, result: str, n: int) -> None:
        items = [{"model_id": QWEN, "tag": "novita/fp8", "at": now, "result": result}] * n
        r = httpx.post(server.base + "/api/v1/admin/outcomes", json={"outcomes": items},
                       headers=auth(keys["admin"]))
        assert r.status_code == 200, r.text

    a, b = pair
    post(a, "success", 30)
    post(b, "success", 15)
    post(b, "upstream_error", 5)

    def uptime(server: Server) -> Any:
        eps = httpx.get(f"{server.base}/api/v1/models/{QWEN}/endpoints",
                        headers=auth(keys["read"])).json()["data"]["endpoints"]
        return next(e for e in eps if e["tag"] == "novita/fp8")["uptime_last_5m"]

    wait_for(lambda: uptime(a) == 90.0 and uptime(b) == 90.0, timeout=4.0)  # 45 / 50


def test_sigterm_finishes_in_flight_requests_then_exits(database_url: str, tmp_path: Path,
                                                        keys: dict[str, str]) -> None:
    import json
    import socket

    server = Server(database_url, tmp_path)
    now = time.time()
    items = [{"model_id": QWEN, "tag": "chutes", "at": now, "result": "success",
              "ttft_ms": 100 + i % 50} for i in range(10_000)]
    body = json.dumps({"outcomes": items}).encode()
    head = (f"POST /api/v1/admin/outcomes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {keys['admin']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    # The whole request is on the wire before the signal: it is in flight for certain.
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + body)
        server.proc.send_signal(signal.SIGTERM)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    assert server.proc.wait(20) == 0
    server.stop()
    status_line, _, rest = response.partition(b"\r\n")
    assert b" 200 " in status_line, response[:300]
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["data"]["accepted"] == 10_000
    store = Store(database_url)
    with store.engine.connect() as conn:
        total = conn.execute(sa.text("SELECT SUM(success) FROM health_minutes")).scalar_one()
    store.dispose()
    assert total == 10_000


def test_kill_9_during_an_import_leaves_the_database_consistent(database_url: str,
                                                                tmp_path: Path) -> None:
    from routeyard.catalog.declarative import dump
    from routeyard.models import Catalog, Endpoint, Model, Pricing, Provider

    providers = tuple(Provider(slug=f"p{i}", name=f"P{i}") for i in range(20))
    models = tuple(
        Model(id=f"gen/model-{m}", canonical_slug=f"gen/model-{m}", name=f"M{m}", created=m,
              endpoints=tuple(Endpoint(provider=f"p{e}", tag=f"p{e}", context_length=1000,
                                       pricing=Pricing(prompt="0.000001", completion="0.000002"))
                              for e in range(20)))
        for m in range(400)
    )
    path = tmp_path / "big.toml"
    path.write_text(dump(Catalog(providers=providers, models=models)))
    store = Store(database_url)
    store.ensure_schema()
    killed = 0
    for delay in (0.8, 1.2, 1.6):
        import subprocess
        import sys

        proc = subprocess.Popen([sys.executable, "-m", "routeyard.cli", "catalog", "apply", str(path)],
                                env={**os.environ, "ROUTEYARD_DATABASE_URL": database_url},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.kill()
            killed += 1
        proc.wait()
        catalog = store.read_catalog()
        endpoints = sum(len(m.endpoints) for m in catalog.models)
        assert (len(catalog.models), endpoints) in ((0, 0), (400, 8000)), "half-applied import"
        assert store.versions()["catalog"] in (0, 1)
        if catalog.models:
            break
    assert killed >= 1, "the import finished before it could be killed; make it bigger"
    run_cli(database_url, "catalog", "apply", str(path))
    assert sum(len(m.endpoints) for m in store.read_catalog().models) == 8000
    store.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_database_outage_serves_stale_refuses_writes_and_recovers(
        database_url: str, tmp_path: Path, keys: dict[str, str]) -> None:
    url = sa.engine.make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    server = Server(proxied, tmp_path, env={"ROUTEYARD_REFRESH_INTERVAL": "0.2"})
    read, admin = auth(keys["read"]), auth(keys["admin"])
    path = f"{server.base}/api/v1/models/{QWEN}/endpoints"
    disable = f"{server.base}/api/v1/admin/models/{QWEN}/endpoints/chutes/disable"
    try:
        assert "x-routeyard-stale" not in httpx.get(path, headers=read).headers
        proxy.cut()
        wait_for(lambda: "x-routeyard-stale" in httpx.get(path, headers=read).headers, 5)
        stale = httpx.get(path, headers=read)
        assert stale.status_code == 200 and len(stale.json()["data"]["endpoints"]) == 5
        r = httpx.post(disable, headers=admin, timeout=30)
        assert r.status_code == 503 and r.json()["error"]["code"] == 503
        assert httpx.get(server.base + "/readyz").status_code == 503
        proxy.restore()
        restored = time.monotonic()
        wait_for(lambda: "x-routeyard-stale" not in httpx.get(path, headers=read).headers, 10)
        recovery = time.monotonic() - restored
        assert httpx.post(disable, headers=admin).status_code == 200
        assert httpx.get(server.base + "/readyz").status_code == 200
        print(f"recovered {recovery:.2f}s after the database came back, without a restart")
    finally:
        server.stop()
        proxy.close()


def test_replicas_starting_together_on_an_empty_database_all_come_up(database_url: str,
                                                                     tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    env = {"ROUTEYARD_PUBLIC_DISCOVERY": "true"}
    with ThreadPoolExecutor(3) as pool:
        servers = list(pool.map(lambda _: Server(database_url, tmp_path, env=env), range(3)))
    try:
        for server in servers:
            r = httpx.get(f"{server.base}/api/v1/models/{QWEN}/endpoints")
            assert r.status_code == 200 and len(r.json()["data"]["endpoints"]) == 5
    finally:
        for server in servers:
            server.stop()
    store = Store(database_url)
    assert store.versions()["catalog"] == 1  # the starter was loaded once
    store.dispose()


def test_concurrent_ingest_batches_all_count(database_url: str, tmp_path: Path,
                                             keys: dict[str, str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server = Server(database_url, tmp_path)
    now = time.time()
    items = [{"model_id": QWEN, "tag": "parasail/fp8", "at": now, "result": "success"}] * 200

    def post(_: int) -> int:
        return httpx.post(server.base + "/api/v1/admin/outcomes", json={"outcomes": items},
                          headers=auth(keys["admin"]), timeout=30).status_code

    try:
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(post, range(16)))
        assert statuses == [200] * 16
    finally:
        server.stop()
    store = Store(database_url)
    with store.engine.connect() as conn:
        total = conn.execute(sa.text("SELECT SUM(success) FROM health_minutes")).scalar_one()
    store.dispose()
    assert total == 16 * 200
