"""``routeyard demo``: one command, and the live fields move within a minute."""

from __future__ import annotations

import itertools
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from routeyard.catalog.declarative import read_starter
from routeyard.demo import PROFILES, demo_catalog, fake_providers_app, profiles, traffic
from tests.conftest import free_port, routeyard_cmd

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


def test_every_starter_provider_gets_a_fake_that_lists_what_routeyard_sends_it() -> None:
    catalog = read_starter()
    planned = profiles(catalog)
    assert set(planned) == {e.provider for m in catalog.models for e in m.endpoints}
    assert len({p.label for p, _ in planned.values()}) >= 3  # different speeds and failures
    urls = {slug: f"http://127.0.0.1:9/{slug}/v1" for slug in planned}
    demo = demo_catalog(catalog, urls)
    assert all(p.base_url == urls[p.slug] and p.api_key_env is None and p.probe_completion
               for p in demo.providers if p.slug in urls)
    assert [m.id for m in demo.models] == [m.id for m in catalog.models]
    client = TestClient(fake_providers_app({s: c for s, (_, c) in planned.items()}))
    for model in catalog.models:
        for e in model.endpoints:
            listed = client.get(f"/{e.provider}/v1/models").json()["data"]
            assert (e.provider_model_id or model.id) in {m["id"] for m in listed}
    first = list(itertools.islice(traffic(catalog, seed=3), 20))
    assert first == list(itertools.islice(traffic(catalog, seed=3), 20))  # seeded
    assert {b["stream"] for b in first} == {True, False}
    assert {b["model"] for b in first} <= {m.id for m in catalog.models if m.endpoints}
    assert len({b["model"] for b in first}) > 5
    labels = {planned[s][0].label for s in planned}
    assert labels == {p.label for p in PROFILES}


def _live(base: str, key: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/api/v1/models/{QWEN}/endpoints",
                  headers={"Authorization": f"Bearer {key}"}, timeout=5)
    assert r.status_code == 200, r.text
    endpoints: list[dict[str, Any]] = r.json()["data"]["endpoints"]
    return endpoints


def test_demo_fills_the_live_fields_within_a_minute(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(routeyard_cmd("demo", "--port", str(port), "--duration", "75",
                                          "--rate", "2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            text=True)
    try:
        assert proc.stdout is not None
        key = None
        deadline = time.monotonic() + 60
        lines = []
        while key is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "".join(lines) + (proc.stderr.read() if proc.stderr else "")
            lines.append(line)
            if found := re.search(r"a read key: +(sk-ry-v1-[0-9a-f]{64})", line):
                key = found.group(1)
        assert key is not None, "".join(lines)
        before = _live(base, key)
        assert all(e["uptime_last_30m"] is None for e in before)  # a fresh catalog of its own
        moved: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            moved = [e for e in _live(base, key) if e["uptime_last_30m"] is not None
                     and e["latency_last_30m"] is not None]
            if moved:
                break
            time.sleep(1)
        assert moved, "no live field moved within a minute"
        assert all(0 <= e["uptime_last_30m"] <= 100 for e in moved)
        assert all(e["latency_last_30m"]["p50"] > 0 for e in moved)
        page = httpx.get(f"{base}/models/{QWEN}", timeout=5)  # the status page's bars
        assert page.status_code == 200
        levels = re.findall(r'<li class="([a-z-]+)" role="img"', page.text)
        assert levels and set(levels) - {"empty"}, "no bar filled"
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert re.search(r"^routed requests: ", out, re.MULTILINE), out
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(15)
