"""Shared fixtures: a fresh real database per test on SQLite and on PostgreSQL, and
real routeyard servers on 127.0.0.1.

PostgreSQL tests use ROUTEYARD_TEST_PG_URL (default: the local server's `test` database as
user postgres). Each test run creates its own database there and drops it at the end; each
test gets its own schema. Without a reachable server the PostgreSQL variants are skipped,
unless ROUTEYARD_TEST_REQUIRE_PG=1 (as in .ci/run), which turns that into a failure.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from routeyard.config import Settings
from routeyard.store import Store

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("ROUTEYARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("ROUTEYARD_TEST_REQUIRE_PG") == "1"
BACKENDS = [b for b in os.environ.get("ROUTEYARD_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
_schema_ids = itertools.count()


class PgServer:
    """One database for this test run, made on first use, dropped at exit."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.error: str | None = None
        self.database = f"routeyard_test_{os.getpid()}_{secrets.token_hex(3)}"

    def ensure(self) -> str:
        if self.url is None and self.error is None:
            admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{self.database}"'))
                self.url = str(sa.engine.make_url(PG_URL).set(database=self.database)
                               .render_as_string(hide_password=False))
            except sa.exc.OperationalError as exc:
                self.error = f"PostgreSQL unreachable at {PG_URL}: {exc.orig}"
            finally:
                admin.dispose()
        if self.url is None:
            if REQUIRE_PG:
                pytest.fail(self.error or "PostgreSQL unavailable")
            pytest.skip(self.error or "PostgreSQL unavailable")
        return self.url

    def drop(self) -> None:
        if self.url is None:
            return
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        admin.dispose()


_pg = PgServer()


# -- nothing leaks: no API key may appear in any log of the run -------------------------
# Every server's log is checked when it stops, and every test's captured output and log
# records (in-process apps log there) are checked as the test reports. Keys are random, so
# their shape is enough to find any of them.
KEY_PATTERN = re.compile(r"sk-ry-v1-[0-9a-f]{64}")
_leaks: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, content in report.sections:
        if "stdout" in name:
            continue  # a test may print what a CLI printed to its user (the new key)
        if KEY_PATTERN.search(content):
            _leaks.append(f"{report.nodeid} ({name})")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _pg.drop()
    if _leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\nAPI keys found in logs of:\n  " + "\n  ".join(sorted(set(_leaks))))


def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """A URL to an empty database of ``backend`` that no other test uses."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'routeyard.db'}"
    base = _pg.ensure()
    schema = f"t{next(_schema_ids)}_{secrets.token_hex(3)}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        request.applymarker(pytest.mark.pg)
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> str:
    return fresh_database_url(backend, tmp_path)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    s.ensure_schema()
    yield s
    s.dispose()


def settings_for(database_url: str, **overrides: Any) -> Settings:
    return Settings.load(env={}, database_url=database_url, **overrides)


# -- real servers --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def routeyard_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "routeyard.cli", *args]


class Server:
    """A `routeyard serve` process on 127.0.0.1."""

    def __init__(self, database_url: str, tmp_path: Path, env: dict[str, str] | None = None,
                 workers: int = 1, inherit: bool = True) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **(os.environ if inherit else {}),
            "ROUTEYARD_DATABASE_URL": database_url,
            "ROUTEYARD_REFRESH_INTERVAL": "0.2",
            **(env or {}),
        }
        self.log_path = tmp_path / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (the server's stdout until stop())
        self.proc = subprocess.Popen(
            routeyard_cmd("serve", "--port", str(self.port), "--workers", str(workers)),
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                if httpx.get(self.base + "/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"server not ready: {self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        leaked = KEY_PATTERN.findall(self.log_path.read_text(errors="replace"))
        assert not leaked, f"an API key reached the server log {self.log_path}"


# Variables a user's shell has; nothing a user would not set.
USER_ENV_NAMES = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER", "TMPDIR", "VIRTUAL_ENV")


def user_env() -> dict[str, str]:
    """The environment a user starts routeyard with: this one's ordinary variables only."""
    return {k: v for k, v in os.environ.items() if k in USER_ENV_NAMES}


def run_cli(database_url: str, *args: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        routeyard_cmd(*args),
        env={**os.environ, "ROUTEYARD_DATABASE_URL": database_url, **(env or {})},
        capture_output=True, text=True, timeout=120, check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"routeyard {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc
