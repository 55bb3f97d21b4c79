"""``routeyard demo``: one command, and routed traffic moves the live fields within seconds."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from routeyard.catalog.declarative import read_starter
from routeyard.demo import PROFILES, demo_catalog, fake_providers_app, profiles, traffic
from tests.conftest import free_port, user_env

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


FIELDS = ("uptime_last_30m", "latency_last_30m", "throughput_last_30m")


def test_demo_fills_the_live_fields_from_routed_traffic_within_seconds(tmp_path: Path) -> None:
    """The installed ``routeyard demo`` as a user starts it (their shell's variables only),
    with ``--no-probes`` so that routed requests are the only thing that can move the live
    fields: the featured model's endpoints fill through the endpoints API, only those whose
    fake provider was called, and the status page shows bars."""
    command = Path(sys.executable).with_name("routeyard")
    assert command.exists(), f"{command}: the package's console script is not installed"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc = subprocess.Popen([str(command), "demo", "--port", str(port), "--duration", "25",
                             "--rate", "4", "--no-probes"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            text=True, env=user_env())
    try:
        assert proc.stdout is not None
        key = fakes = None
        lines: list[str] = []
        while (key is None or fakes is None) and time.monotonic() < started + 30:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "".join(lines) + (proc.stderr.read() if proc.stderr else "")
            lines.append(line)
            if found := re.search(r"fake providers on (http://\S+)/<provider>/v1 \(not probed", line):
                fakes = found.group(1)
            if found := re.search(r"a read key: +(sk-ry-v1-[0-9a-f]{64})", line):
                key = found.group(1)
        assert key is not None and fakes is not None, "".join(lines)
        before = _live(base, key)
        assert all(e[f] is None for e in before for f in FIELDS)  # a fresh catalog of its own
        filled: list[dict[str, Any]] = []
        endpoints = before
        while time.monotonic() < started + 25:
            endpoints = _live(base, key)
            filled = [e for e in endpoints if all(e[f] is not None for f in FIELDS)]
            if filled:
                break
            time.sleep(0.5)
        seen_after = time.monotonic() - started
        assert filled, f"no endpoint of {QWEN} got all three live fields: {endpoints}"
        for e in filled:
            assert 0 <= e["uptime_last_30m"] <= 100
            assert e["latency_last_30m"]["p50"] > 50, e  # the fastest fake waits 60 ms
            assert e["throughput_last_30m"]["p50"] > 0
        # Without probes, only the providers the router called can have live fields.
        called = {slug: sum(httpx.get(f"{fakes}/{slug}/_control").json()["requests"].values())
                  for slug in {e["tag"].split("/")[0] for e in endpoints}}
        for e in _live(base, key):
            if any(e[f] is not None for f in FIELDS):
                assert called[e["tag"].split("/")[0]] > 0, (e, called)
        page = httpx.get(f"{base}/models/{QWEN}", timeout=5)  # the status page's bars
        assert page.status_code == 200
        levels = re.findall(r'<li class="([a-z-]+)" role="img"', page.text)
        assert levels and set(levels) - {"empty"}, "no bar filled"
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        answered = re.search(r"^routed requests: .*?(\d+) x 200", out, re.MULTILINE)
        assert answered and int(answered.group(1)) > 0, out
        print(f"live fields of {len(filled)} endpoint(s) of {QWEN} from routed traffic "
              f"{seen_after:.1f}s after `routeyard demo` started; {answered.group(0)}")
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(15)


def test_sigterm_stops_the_demo_and_everything_it_started(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("routeyard")), "demo", "--port",
                             str(port), "--duration", "120", "--no-probes"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            text=True, env=user_env())
    try:
        assert proc.stdout is not None
        fakes = None
        deadline = time.monotonic() + 30
        while fakes is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            if found := re.search(r"fake providers on (http://\S+)/<provider>/v1", line):
                fakes = found.group(1)
        assert fakes is not None
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/healthz", timeout=5).status_code == 200
        proc.terminate()  # SIGTERM, as kill or a supervisor sends it
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert re.search(r"^routed requests: ", out, re.MULTILINE), out
        for url in (base + "/healthz", fakes + "/"):  # routeyard serve and the fakes are gone
            with pytest.raises(httpx.ConnectError):
                httpx.get(url, timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(15)
