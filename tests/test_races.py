"""Concurrent admin writes to real `routeyard serve` processes with four workers, on SQLite
and PostgreSQL: no acknowledged write is lost, no record is created twice (bench/races.py
runs the same trials, more of them)."""

from __future__ import annotations

from pathlib import Path

from bench.races import run_trials
from routeyard.store import Store
from tests.conftest import Server, user_env

TRIALS = 40


def test_concurrent_patches_of_one_endpoint_both_land_and_creates_are_not_doubled(
        database_url: str, tmp_path: Path) -> None:
    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("ops", "admin")
    store.dispose()
    server = Server(database_url, tmp_path, workers=4, env=user_env(), inherit=False)
    try:
        tally = run_trials(server.base, key, TRIALS)
    finally:
        server.stop()
    assert tally.lost_writes == 0, f"{tally}\n" + "\n".join(tally.notes[:10])
    assert tally.patch_statuses == {200: 2 * TRIALS}, str(tally)
    assert tally.double_creates == 0 and tally.create_statuses == {201: TRIALS, 409: TRIALS}, \
        str(tally)
