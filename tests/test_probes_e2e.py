"""End to end: `routeyard serve` probes the fake provider and serves what it measured.

The fake fails a known share of completions (seeded); the served uptime must be exactly the
share the fake itself counted, and near the configured rate; the served latency must reflect
the fake's time to first token. Then `routeyard probe --once` probes the same setup.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from routeyard.fake_provider import FakeProviderConfig, FakeProviderThread
from routeyard.models import Catalog, Endpoint, Model, Pricing, Provider
from routeyard.store import Store
from routeyard.store.tables import leases
from tests.conftest import Server, run_cli

KEY_ENV = "ROUTEYARD_TEST_FAKE_PROVIDER_KEY"
KEY = "sk-fake-e2e-5f1d0c9a7b3e-secret"
MODEL = "acme/probe-target"
FAIL_RATE, TTFT_MS, TOKENS_PER_S = 0.25, 150.0, 400.0
ENDPOINTS = 8  # one round probes all of them: 100 attempts take ~13 rounds, not 100
MIN_ATTEMPTS = 100


def probe_catalog(base_url: str) -> Catalog:
    providers = tuple(
        Provider(slug=f"fake-{i}", name=f"Fake {i}", base_url=base_url, api_key_env=KEY_ENV,
                 probe_completion=True)
        for i in range(ENDPOINTS)
    )
    endpoints = tuple(
        Endpoint(provider=p.slug, tag=p.slug, context_length=8192,
                 pricing=Pricing(prompt="0", completion="0"), provider_model_id="fake/chat")
        for p in providers
    )
    model = Model(id=MODEL, canonical_slug=MODEL, name="Probe target", created=0,
                  endpoints=endpoints)
    return Catalog(providers=providers, models=(model,))


def counted(fake_url: str) -> tuple[int, int]:
    """(successes, failures) of chat completions, as the fake counted them."""
    requests = httpx.get(fake_url + "/_control").json()["requests"]
    return requests.get("streamed", 0), requests.get("failed", 0)


class Setup:
    def __init__(self, fake_url: str, server: Server, store: Store, read_key: str) -> None:
        self.fake_url, self.server, self.store = fake_url, server, store
        self.headers = {"Authorization": f"Bearer {read_key}"}

    def endpoints(self) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.server.base}/api/v1/models/{MODEL}/endpoints",
                      headers=self.headers)
        r.raise_for_status()
        return list(r.json()["data"]["endpoints"])


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> Iterator[Setup]:
    config = FakeProviderConfig(fail_rate=FAIL_RATE, seed=20240601, ttft_ms=TTFT_MS,
                                tokens_per_s=TOKENS_PER_S, api_key=KEY, models=["fake/chat"])
    with FakeProviderThread(config) as fake_url:
        store = Store(database_url)
        store.ensure_schema()
        store.apply_catalog(probe_catalog(fake_url + "/v1"))
        read_key, _ = store.create_key("e2e", "read")
        server = Server(database_url, tmp_path, env={
            KEY_ENV: KEY,
            "ROUTEYARD_LOAD_STARTER": "false",
            "ROUTEYARD_PROBE_INTERVAL": "0.2",
            "ROUTEYARD_PROBE_JITTER": "0",
            "ROUTEYARD_HEALTH_FLUSH_INTERVAL": "0.2",
            "ROUTEYARD_HEALTH_REFRESH_INTERVAL": "0.2",
            "ROUTEYARD_LOG_LEVEL": "debug",
        })
        try:
            yield Setup(fake_url, server, store, read_key)
        finally:
            server.stop()
            store.dispose()


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_served_uptime_and_latency_converge_to_the_fakes_behaviour(setup: Setup) -> None:
    started = time.monotonic()
    wait_for(lambda: sum(counted(setup.fake_url)) >= MIN_ATTEMPTS, 60, "100 probe attempts")

    # Another holder takes the "prober" lease: the server finishes its round and stops probing,
    # so that what the fake counted and what was recorded can be compared exactly.
    with setup.store.transaction() as conn:
        conn.execute(sa.update(leases).where(leases.c.name == "prober")
                     .values(holder="e2e-test", expires_at=time.time() + 3600))
    last = counted(setup.fake_url)
    time.sleep(1.0)
    while (now := counted(setup.fake_url)) != last:  # a round was still running
        last = now
        time.sleep(1.0)
    successes, failures = last
    attempts = successes + failures
    assert attempts % ENDPOINTS == 0, "rounds are whole: every endpoint probed equally often"
    fake_share = 100.0 * successes / attempts

    def served() -> list[dict[str, Any]]:
        return setup.endpoints()

    # Every outcome is flushed and read within a few 0.2 s intervals.
    def caught_up() -> bool:
        uptimes = [e["uptime_last_5m"] for e in served()]
        return None not in uptimes and math.isclose(
            sum(uptimes) / len(uptimes), fake_share, abs_tol=1e-6)

    wait_for(caught_up, 10, f"served uptime to reach the fake's {fake_share:.2f} %")
    endpoints = served()
    uptimes = [e["uptime_last_5m"] for e in endpoints]
    served_uptime = sum(uptimes) / len(uptimes)  # equal attempts per endpoint: the pooled share
    # Binomial: with n >= 100 at p = 0.75 the standard deviation is <= 4.3 points.
    assert abs(served_uptime - 100 * (1 - FAIL_RATE)) <= 10
    for e in endpoints:
        assert e["uptime_last_30m"] == e["uptime_last_5m"] == e["uptime_last_1d"]
        # Reported p50 is a bucket midpoint: within sqrt(1.1) of the measured TTFT, which is
        # the fake's 150 ms plus local overhead.
        p50 = e["latency_last_30m"]["p50"]
        assert TTFT_MS / math.sqrt(1.1) <= p50 <= 250, e["tag"]
        throughput = e["throughput_last_30m"]["p50"]
        assert TOKENS_PER_S / 2 <= throughput <= TOKENS_PER_S * 2, e["tag"]
    print(f"\nattempts={attempts} fake share={fake_share:.2f}% served={served_uptime:.2f}% "
          f"p50={[round(e['latency_last_30m']['p50'], 1) for e in endpoints]} "
          f"tok/s p50={round(endpoints[0]['throughput_last_30m']['p50'])} "
          f"in {time.monotonic() - started:.1f}s")
    log = setup.server.log()
    assert re.search(r"INFO routeyard: probe round: (\d+ \w+, )*\d+ success(, \d+ \w+)* in \d+ ms",
                     log), log[-2000:]
    assert KEY not in log

    # `routeyard probe --once`: one round through the CLI, outcomes recorded, a table printed.
    before = counted(setup.fake_url)
    out = run_cli(setup.server.env["ROUTEYARD_DATABASE_URL"], "probe", "--once",
                  env={KEY_ENV: KEY}).stdout
    after = counted(setup.fake_url)
    assert sum(after) - sum(before) == ENDPOINTS
    assert KEY not in out
    lines = [line.split() for line in out.splitlines() if line.strip().startswith(MODEL)]
    assert sorted(line[1] for line in lines) == [f"fake-{i}" for i in range(ENDPOINTS)]
    for line in lines:
        kind, result, status, ttft, tps = line[2:7]
        assert kind == "completion"
        assert (result, status) in {("success", "200"), ("upstream_error", "500")}, line
        if result == "success":
            assert TTFT_MS <= float(ttft) <= 1000 and float(tps) > 0
        else:
            assert ttft == tps == "-"
    assert sum(line[3] == "success" for line in lines) == after[0] - before[0]
    assert f"{ENDPOINTS} endpoints, {ENDPOINTS} probed" in out

    models_out = run_cli(setup.server.env["ROUTEYARD_DATABASE_URL"], "probe", "--once",
                         "--kind", "models", env={KEY_ENV: KEY}).stdout
    rows = [line.split() for line in models_out.splitlines() if line.strip().startswith(MODEL)]
    assert len(rows) == ENDPOINTS
    assert all(r[2:7] == ["models", "success", "200", "-", "-"] for r in rows), models_out


def test_probe_without_once_is_a_usage_error(database_url: str) -> None:
    proc = run_cli(database_url, "probe", check=False)
    assert proc.returncode == 2 and "--once" in proc.stderr


def test_fake_provider_refuses_an_invalid_rate(database_url: str) -> None:
    proc = run_cli(database_url, "fake-provider", "--fail-rate", "2", check=False)
    assert proc.returncode == 1 and "fail_rate" in proc.stderr and "Traceback" not in proc.stderr
