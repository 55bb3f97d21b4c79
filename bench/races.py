"""Concurrent admin writes against a running server: are acknowledged writes ever lost?

Each trial sends, at the same instant from two threads on fresh connections (so that they
land on different workers):

- two PATCHes of *different* price fields of one endpoint; both must answer 200 and both
  values must be stored afterwards (a lost write is a 200 whose value is gone);
- two POSTs creating the same provider; exactly one may answer 201, the other 409.

``tests/test_races.py`` runs a few dozen trials against real ``routeyard serve`` processes;
run it standalone for more (the figures in the issue's closing note)::

    .venv/bin/python bench/races.py --db sqlite --trials 200 --workers 4
    .venv/bin/python bench/races.py --db postgresql --trials 200 --workers 4
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

A = "/api/v1/admin"
MODEL = "meta-llama/llama-4-maverick"
TAG = "deepinfra/fp8"
ENDPOINT = f"{A}/models/{MODEL}/endpoints/{TAG}"


@dataclass
class Tally:
    trials: int = 0
    lost_writes: int = 0  # a PATCH answered 200 whose value is not stored afterwards
    patch_statuses: dict[int, int] = field(default_factory=dict)
    double_creates: int = 0  # both POSTs of one provider answered 201
    create_statuses: dict[int, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.trials} trials: lost writes {self.lost_writes}, PATCH statuses "
                f"{dict(sorted(self.patch_statuses.items()))}; both POSTs 201: "
                f"{self.double_creates}, POST statuses "
                f"{dict(sorted(self.create_statuses.items()))}")


def _together(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run ``calls`` in threads released by one barrier; their responses in order."""
    barrier = threading.Barrier(len(calls))
    out: list[httpx.Response | BaseException] = [RuntimeError("not run")] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in out:
        if isinstance(r, BaseException):
            raise r
    return out  # type: ignore[return-value]


def run_trials(base: str, admin_key: str, trials: int, tally: Tally | None = None) -> Tally:
    tally = tally or Tally()
    headers = {"Authorization": f"Bearer {admin_key}", "Connection": "close"}

    def call(method: str, path: str, body: object) -> Callable[[], httpx.Response]:
        return lambda: httpx.request(method, base + path, json=body, headers=headers,
                                     timeout=30)

    for i in range(trials):
        tally.trials += 1
        prompt, completion = f"0.000001{i:04d}", f"0.000002{i:04d}"
        a, b = _together(call("PATCH", ENDPOINT, {"pricing": {"prompt": prompt}}),
                         call("PATCH", ENDPOINT, {"pricing": {"completion": completion}}))
        for r in (a, b):
            tally.patch_statuses[r.status_code] = tally.patch_statuses.get(r.status_code, 0) + 1
        stored = httpx.get(base + ENDPOINT, headers=headers, timeout=30).json()["data"]
        lost = ((a.status_code == 200 and stored["pricing"].get("prompt") != prompt)
                + (b.status_code == 200 and stored["pricing"].get("completion") != completion))
        if lost:
            tally.lost_writes += lost
            tally.notes.append(f"trial {i}: sent {prompt}/{completion}, stored "
                               f"{stored['pricing'].get('prompt')}/"
                               f"{stored['pricing'].get('completion')}")
        slug = f"race-{os.getpid()}-{i}"
        provider = {"slug": slug, "name": f"Race {i}"}
        c, d = _together(call("POST", f"{A}/providers", provider),
                         call("POST", f"{A}/providers", provider))
        codes = sorted((c.status_code, d.status_code))
        for code in codes:
            tally.create_statuses[code] = tally.create_statuses.get(code, 0) + 1
        if codes == [201, 201]:
            tally.double_creates += 1
            tally.notes.append(f"trial {i}: both POSTs of provider {slug} answered 201")
    return tally


# -- standalone ------------------------------------------------------------------------


def _routeyard(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "routeyard.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from bench.procs import free_port

    with tempfile.TemporaryDirectory(prefix="routeyard-races-") as tmp:
        schema = None
        if args.db == "sqlite":
            url = f"sqlite:///{tmp}/routeyard.db"
        else:
            import sqlalchemy as sa

            schema = f"races_{os.getpid()}"
            engine = sa.create_engine(args.pg_url)
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            engine.dispose()
            url = sa.engine.make_url(args.pg_url).update_query_dict(
                {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        env = {**os.environ, "ROUTEYARD_DATABASE_URL": url}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        _routeyard("db", "upgrade", env=env)
        _routeyard("catalog", "load-starter", env=env)
        out = _routeyard("keys", "create", "--name", "races", "--admin", env=env)
        key = out.strip().splitlines()[-1]
        port = free_port()
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-m", "routeyard.cli", "serve", "--port", str(port),
             "--workers", str(args.workers)], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=0.5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start")
                time.sleep(0.1)
            started = time.monotonic()
            tally = run_trials(base, key, args.trials)
            print(f"{args.db}, {args.workers} workers: {tally} "
                  f"({time.monotonic() - started:.0f} s)")
            for note in tally.notes[:10]:
                print("  " + note)
        finally:
            server.terminate()
            server.wait(20)
            log.close()
            if schema is not None:
                import sqlalchemy as sa

                engine = sa.create_engine(args.pg_url)
                with engine.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                engine.dispose()


if __name__ == "__main__":
    main()
