"""/api/v1/key, /generation, /activity and the admin limits API against a real server:
OpenRouter's spec and Python SDK parse the answers; usage written by another process (as
another replica's flush) is served within the refresh interval."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from openrouter import OpenRouter
from schemas import validate_response

from routeyard.accounting.records import Attempt, Generation
from routeyard.store import Store
from tests.conftest import Server, run_cli

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


class Live:
    def __init__(self, server: Server, store: Store, keys: dict[str, tuple[str, int]]) -> None:
        self.server, self.store, self.keys = server, store, keys

    def get(self, path: str, who: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.server.base}/api/v1{path}", params=params,
                         headers={"authorization": f"Bearer {self.keys[who][0]}"})


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Live]:
    store = Store(database_url)
    store.ensure_schema()
    keys = {}
    for name, scope, limit in (("alice", "read", Decimal(5)), ("bob", "read", None),
                               ("ops", "admin", None)):
        key, record = store.create_key(name, scope, limit=limit,
                                       limit_reset="monthly" if limit else None)
        keys[name] = (key, record.id)
    server = Server(database_url, tmp_path, env={"ROUTEYARD_PROBE_ENABLED": "0"})
    try:
        yield Live(server, store, keys)
    finally:
        server.stop()
        store.dispose()


def record(gen_id: str, key_id: int, cost: str, *, streamed: bool = False,
           model: str = QWEN, provider: str = "deepinfra") -> Generation:
    return Generation(
        id=gen_id, key_id=key_id, model=model, provider=provider, provider_name="DeepInfra",
        tag=provider, attempts=(
            Attempt(provider="chutes", tag="chutes", status=500, reason="upstream 500",
                    ttft_ms=None, duration_ms=12.0),
            Attempt(provider=provider, tag=provider, status=200, ttft_ms=150.0,
                    duration_ms=900.0)),
        prompt_tokens=1200, completion_tokens=300, reasoning_tokens=120, cached_tokens=200,
        cost=Decimal(cost), ttft_ms=150.0, generation_ms=750.0, latency_ms=912.0,
        finish_reason="stop", upstream_id="chatcmpl-1", streamed=streamed, cancelled=False,
        created_at=time.time(),
    )


def wait_for(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            assert callable(check)
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_key_answers_openrouters_shape_with_usage_from_any_process(live: Live) -> None:
    r = live.get("/key", "alice")
    assert r.status_code == 200, r.text
    validate_response(r.json(), "/key", spec="2025-10")
    validate_response(r.json(), "/key")  # and our own document
    data = r.json()["data"]
    assert (data["label"], data["limit"], data["limit_remaining"], data["limit_reset"]) == (
        "alice", 5, 5, "monthly")
    assert data["usage"] == 0 and data["is_free_tier"] is False
    alice = live.keys["alice"][1]
    live.store.write_generations([record("gen-a1", alice, "0.0004011"),
                                  record("gen-a2", alice, "1.25")])

    def served() -> None:
        data = live.get("/key", "alice").json()["data"]
        assert data["usage"] == 1.2504011 and data["usage_daily"] == 1.2504011
        assert data["usage_monthly"] == 1.2504011 and data["limit_remaining"] == 3.7495989

    wait_for(served)
    # The exact decimal digits on the wire, not a float's rounding.
    assert b'"usage":1.2504011,' in live.get("/key", "alice").content
    bob = live.get("/key", "bob").json()["data"]
    assert bob["usage"] == 0 and bob["limit"] is None and bob["limit_remaining"] is None
    with OpenRouter(api_key=live.keys["alice"][0],
                    server_url=f"{live.server.base}/api/v1") as client:
        parsed = client.api_keys.get_current_key_metadata().data
    assert parsed.label == "alice" and parsed.limit == 5 and parsed.limit_reset == "monthly"
    assert parsed.usage == pytest.approx(1.2504011)
    assert parsed.budgets[0].scope == "key_limit"


def test_generation_is_served_to_its_key_and_admins_only(live: Live) -> None:
    alice = live.keys["alice"][1]
    live.store.write_generations([record("gen-s1", alice, "0.000312", streamed=True)])
    r = live.get("/generation", "alice", id="gen-s1")
    assert r.status_code == 200, r.text
    validate_response(r.json(), "/generation", spec="2025-10")
    validate_response(r.json(), "/generation")
    data = r.json()["data"]
    assert data["id"] == "gen-s1" and data["total_cost"] == 0.000312
    assert data["usage"] == 0.000312 and data["streamed"] is True
    assert (data["tokens_prompt"], data["tokens_completion"], data["native_tokens_reasoning"],
            data["native_tokens_cached"]) == (1200, 300, 120, 200)
    assert (data["latency"], data["generation_time"], data["finish_reason"]) == (
        150.0, 750.0, "stop")
    assert data["provider_name"] == "DeepInfra" and data["model"] == QWEN
    assert data["created_at"].endswith("+00:00")
    assert [a["status"] for a in data["provider_responses"]] == [500, 200]
    assert live.get("/generation", "ops", id="gen-s1").status_code == 200
    other = live.get("/generation", "bob", id="gen-s1")
    missing = live.get("/generation", "bob", id="gen-none")
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"]["code"] == 404
    bad = live.get("/generation", "alice")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400
    with OpenRouter(api_key=live.keys["alice"][0],
                    server_url=f"{live.server.base}/api/v1") as client:
        parsed = client.generations.get_generation(id="gen-s1").data
    assert parsed.id == "gen-s1" and parsed.total_cost == pytest.approx(0.000312)
    assert parsed.streamed is True and parsed.native_tokens_cached == 200


def test_activity_groups_by_day_model_and_provider_for_admins(live: Live) -> None:
    alice, bob = live.keys["alice"][1], live.keys["bob"][1]
    live.store.write_generations([
        record("gen-1", alice, "0.5"), record("gen-2", bob, "0.25"),
        record("gen-3", alice, "1", provider="chutes"),
    ])
    assert live.get("/activity", "alice").status_code == 403
    r = live.get("/activity", "ops")
    assert r.status_code == 200, r.text
    validate_response(r.json(), "/activity", spec="2025-10")
    validate_response(r.json(), "/activity")
    items = {(i["model"], i["provider_name"]): i for i in r.json()["data"]}
    assert set(items) == {(QWEN, "DeepInfra"), (QWEN, "Chutes")}
    deepinfra = items[(QWEN, "DeepInfra")]
    assert deepinfra["usage"] == 0.75 and deepinfra["requests"] == 2
    assert (deepinfra["prompt_tokens"], deepinfra["completion_tokens"],
            deepinfra["reasoning_tokens"]) == (2400, 600, 240)
    assert deepinfra["date"] == time.strftime("%Y-%m-%d", time.gmtime())
    assert live.get("/activity", "ops", date="2001-01-01").status_code == 400
    assert live.get("/activity", "ops", date="yesterday").status_code == 400
    with OpenRouter(api_key=live.keys["ops"][0],
                    server_url=f"{live.server.base}/api/v1") as client:
        parsed = client.analytics.get_user_activity().data
    assert sorted(i.usage for i in parsed) == [0.75, 1]


def test_admin_api_changes_limits(live: Live) -> None:
    alice_id = live.keys["alice"][1]
    url = f"{live.server.base}/api/v1/admin/keys/{alice_id}"
    admin = {"authorization": f"Bearer {live.keys['ops'][0]}"}
    r = httpx.patch(url, json={"limit": "2.5", "limit_reset": "daily"}, headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["limit"], r.json()["data"]["limit_reset"]) == (2.5, "daily")
    validate_response(r.json(), "/admin/keys/{key}", method="patch")
    assert live.get("/key", "alice").json()["data"]["limit_reset"] == "daily"
    for bad in ({"limit": -1}, {"limit": "1e3"}, {"limit_reset": "hourly"}, {"name": "x"},
                {"limit": True}):
        r = httpx.patch(url, json=bad, headers=admin)
        assert r.status_code == 400 and r.json()["error"]["code"] == 400, bad
    reader = {"authorization": f"Bearer {live.keys['bob'][0]}"}
    assert httpx.patch(url, json={"limit": 1}, headers=reader).status_code == 403
    assert httpx.patch(url[:-len(str(alice_id))] + "999", json={"limit": 1},
                       headers=admin).status_code == 404
    r = httpx.patch(url, json={"limit": None}, headers=admin)
    assert r.json()["data"]["limit"] is None
    listing = httpx.get(f"{live.server.base}/api/v1/admin/keys", headers=admin).json()
    validate_response(listing, "/admin/keys")
    listed = listing["data"]
    assert {k["name"]: k["limit"] for k in listed} == {"alice": None, "bob": None, "ops": None}


def test_cli_sets_limits_and_shows_usage(database_url: str) -> None:
    out = run_cli(database_url, "keys", "create", "--name", "team", "--limit", "5",
                  "--limit-reset", "monthly").stdout
    assert "limit $5 monthly" in out
    store = Store(database_url)
    team = next(k for k in store.list_keys() if k.name == "team")
    assert (team.spend_limit, team.limit_reset) == ("5", "monthly")
    out = run_cli(database_url, "keys", "update", str(team.id), "--limit", "7.25").stdout
    assert "limit $7.25 monthly" in out
    out = run_cli(database_url, "keys", "update", team.prefix, "--limit-reset", "weekly").stdout
    assert "limit $7.25 weekly" in out
    assert "$7.25 weekly" in run_cli(database_url, "keys", "list").stdout
    bad = run_cli(database_url, "keys", "update", str(team.id), "--limit", "-3", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    store.write_generations([record("gen-c1", team.id, "0.1"),
                             record("gen-c2", team.id, "0.2", model="fake/small"),
                             record("gen-c3", team.id, "0.0000004", provider="chutes")])
    store.dispose()
    by_model = run_cli(database_url, "usage", "--key", "team", "--by", "model").stdout
    lines = [line.split() for line in by_model.splitlines()]
    assert [QWEN, "0.1000004", "2"] == next(x for x in lines if x and x[0] == QWEN)[:3]
    assert ["fake/small", "0.2", "1"] == next(x for x in lines if x and x[0] == "fake/small")[:3]
    assert ["total", "0.3000004", "3"] == next(x for x in lines if x and x[0] == "total")[:3]
    by_provider = run_cli(database_url, "usage", "--by", "provider").stdout
    assert any(line.split()[:2] == ["chutes", "0.0000004"] for line in by_provider.splitlines()
               if line.strip())
    out = run_cli(database_url, "keys", "update", str(team.id), "--no-limit").stdout
    assert "limit none" in out
