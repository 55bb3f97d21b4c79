"""The CLI as a user runs it: a real process against a real database."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from routeyard.store import Store
from tests.conftest import Server, run_cli

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


def test_keys_create_list_revoke(database_url: str) -> None:
    out = run_cli(database_url, "keys", "create", "--name", "ci-reader").stdout
    key = out.strip().splitlines()[-1]
    assert key.startswith("sk-ry-v1-") and len(key) == 9 + 64
    admin = run_cli(database_url, "keys", "create", "--name", "ops", "--admin").stdout
    admin_key = admin.strip().splitlines()[-1]

    listing = run_cli(database_url, "keys", "list").stdout
    assert "ci-reader" in listing and "ops" in listing
    assert key[:17] in listing and admin_key[:17] in listing
    assert key not in listing and key[17:] not in listing  # the secret part never shows
    assert "admin" in listing and "read" in listing

    store = Store(database_url)
    records = {r.name: r for r in store.list_keys()}
    assert records["ci-reader"].scope == "read" and records["ops"].scope == "admin"
    assert all(key not in (r.key_hash, r.prefix) for r in records.values())

    revoked = run_cli(database_url, "keys", "revoke", key[:17]).stdout
    assert "revoked key" in revoked
    assert store.list_keys()[0].revoked_at is not None
    run_cli(database_url, "keys", "revoke", str(records["ops"].id))
    assert all(r.revoked_at is not None for r in store.list_keys())
    store.dispose()


def test_revoking_an_unknown_key_is_a_clean_error(database_url: str) -> None:
    proc = run_cli(database_url, "keys", "revoke", "sk-ry-v1-00000000", check=False)
    assert proc.returncode == 1
    assert "no key with id or prefix" in proc.stderr and "Traceback" not in proc.stderr


def test_revoked_key_is_refused_by_a_running_server(database_url: str, tmp_path: Path) -> None:
    key = run_cli(database_url, "keys", "create", "--name", "x").stdout.strip().splitlines()[-1]
    server = Server(database_url, tmp_path)
    try:
        url = f"{server.base}/api/v1/models/{QWEN}/endpoints"
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.get(url, headers=headers).status_code == 200
        run_cli(database_url, "keys", "revoke", key[:17])
        started = time.monotonic()
        while httpx.get(url, headers=headers).status_code == 200:
            assert time.monotonic() - started < 2.0, "revocation not seen within 2 s"
            time.sleep(0.02)
        r = httpx.get(url, headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == 401
        # last use was recorded (batched) for the key while it was valid
        time.sleep(0.5)
        store = Store(database_url)
        assert store.list_keys()[0].last_used_at is not None
        store.dispose()
    finally:
        server.stop()


def test_serve_on_an_empty_database_migrates_and_loads_the_starter(database_url: str,
                                                                   tmp_path: Path) -> None:
    server = Server(database_url, tmp_path, env={"ROUTEYARD_PUBLIC_DISCOVERY": "true"})
    try:
        r = httpx.get(f"{server.base}/api/v1/models/{QWEN}/endpoints")
        assert r.status_code == 200 and len(r.json()["data"]["endpoints"]) == 5
        log = server.log()
        assert "created the database schema" in log and "loaded the starter catalog" in log
        assert "keys create" not in log  # public: no key needed, so no hint
    finally:
        server.stop()


def _mapped(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


def test_serve_prepares_in_a_child_so_the_supervisor_loads_no_database_library(
        database_url: str, tmp_path: Path) -> None:
    """The supervising process forks the workers: the database drivers (and everything the
    migrations and the starter catalog bring) stay out of it, and so out of what each forked
    worker carries from it; the worker loads its own."""
    driver = "_sqlite3" if database_url.startswith("sqlite") else "psycopg"
    server = Server(database_url, tmp_path, env={"ROUTEYARD_PUBLIC_DISCOVERY": "true"})
    try:
        assert httpx.get(f"{server.base}/api/v1/models/{QWEN}/endpoints").status_code == 200
        assert "models in" in server.log() and "loaded the starter catalog" in server.log()
        supervisor = server.proc.pid
        workers = _children(supervisor)
        assert workers, "no worker process"
        assert driver not in _mapped(supervisor)
        assert any(driver in _mapped(w) for w in workers)  # the check sees a loaded driver
    finally:
        server.stop()


def test_catalog_export_apply_round_trip_and_load_starter(database_url: str, tmp_path: Path) -> None:
    run_cli(database_url, "catalog", "load-starter")
    exported = tmp_path / "catalog.toml"
    run_cli(database_url, "catalog", "export", "-o", str(exported))
    again = run_cli(database_url, "catalog", "apply", str(exported)).stdout
    assert "0 created, 0 updated" in again and "0 pruned" in again
    reload = run_cli(database_url, "catalog", "load-starter").stdout
    assert "0 created, 0 updated" in reload


def test_help_settings_lists_every_setting(database_url: str) -> None:
    from routeyard.config import SETTINGS

    out = run_cli(database_url, "--help-settings").stdout
    for s in SETTINGS:
        assert s.env in out


def test_in_child_hands_back_the_result_and_the_errors() -> None:
    import os

    import pytest

    from routeyard.cli import in_child
    from routeyard.errors import RouteyardError

    assert in_child(lambda: (os.getpid(), [1, "two"]))[1] == [1, "two"]
    assert in_child(os.getpid) != os.getpid()  # it ran elsewhere

    def refuse() -> None:
        raise RouteyardError("the database refused")

    with pytest.raises(RouteyardError, match="the database refused"):
        in_child(refuse)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        in_child(lambda: 1 // 0)
