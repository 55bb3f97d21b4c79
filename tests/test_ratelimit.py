"""Abuse limits: per-key rate limits (local and shared through Redis, and the fall back when
Redis goes away), the throttle on repeated authentication failures, and the request size
limits (414, 431, 413), each answered in the error envelope.

Redis tests use the machine's Redis (ROUTEYARD_TEST_REDIS_URL, default 127.0.0.1:6379 database
15, with a key prefix of their own) or a redis-server of their own on a free port when they
stop it. Without Redis they are
skipped, unless ROUTEYARD_TEST_REQUIRE_REDIS=1 (as in .ci/run), which makes them fail.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from routeyard.metrics import metrics
from routeyard.ratelimit import Decision, Limiter, LocalLimiter, decide, safe_url
from routeyard.service import prepare
from routeyard.store import Store
from tests.conftest import Server, free_port, fresh_database_url, settings_for
from tests.schemas import validate_response
from tests.test_api import Api, assert_envelope, make_api

REQUIRE_REDIS = os.environ.get("ROUTEYARD_TEST_REQUIRE_REDIS") == "1"
SHARED_REDIS = os.environ.get("ROUTEYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
FALLBACK = re.compile(r"^routeyard_rate_limit_local_fallback (\S+)$", re.MULTILINE)


def no_redis(reason: str) -> None:
    if REQUIRE_REDIS:
        pytest.fail(reason + " (ROUTEYARD_TEST_REQUIRE_REDIS=1)")
    pytest.skip(reason)


def same_window(needed: float) -> None:
    """Wait until ``needed`` seconds are left in this minute, so that the requests a test
    counts all fall in one fixed window."""
    left = 60.0 - time.time() % 60.0
    if left < needed:
        time.sleep(left + 0.05)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RedisServer:
    """A redis-server of our own on a free port, which a test may stop and start again."""

    def __init__(self, tmp_path: Path, password: str | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            no_redis("redis-server is not installed")
        self.binary = str(binary)
        self.port = free_port()
        self.password = password
        self.dir = tmp_path
        auth = f":{password}@" if password else ""
        self.url = f"redis://{auth}127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir)]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path, password="s3cret-" + secrets.token_hex(4))
    yield server
    server.stop()


@pytest.fixture
def shared_redis() -> Iterator[str]:
    """A key prefix of this test's own in the machine's Redis (database 15); cleaned up."""
    client = redis.Redis.from_url(SHARED_REDIS, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        no_redis(f"Redis unreachable at {SHARED_REDIS}: {exc}")
    prefix = f"routeyard-test-{secrets.token_hex(4)}:"
    yield prefix
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    yield from make_api(database_url)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_rate_limited(response: Any, limit: int) -> int:
    body = assert_envelope(response, 429)
    assert body["error"]["message"] == (
        f"Rate limit exceeded: {limit} requests per minute for this key")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert body["error"]["metadata"] == {"retry_after": retry_after}
    return retry_after


# -- the counters ----------------------------------------------------------------------


def test_decision_allows_up_to_the_limit_and_rounds_retry_after_up() -> None:
    assert decide(3, 3, 10.0) == Decision(True, 0, 0)
    assert decide(1, 3, 10.0) == Decision(True, 0, 2)
    assert decide(4, 3, 10.2) == Decision(False, 11, 0)
    assert decide(4, 3, 0.01) == Decision(False, 1, 0)


def test_local_limiter_counts_in_fixed_windows_aligned_to_the_clock() -> None:
    clock = Clock(120.0)  # a window starts at 120
    limiter = LocalLimiter(clock)
    assert [limiter.hit("k", 2, 60).allowed for _ in range(3)] == [True, True, False]
    clock.now = 179.9  # same window: still refused, retry after the 0.1 s left (rounded up)
    assert limiter.hit("k", 2, 60) == Decision(False, 1, 0)
    clock.now = 180.0  # the next window starts at zero
    assert limiter.hit("k", 2, 60) == Decision(True, 0, 1)
    assert limiter.hit("other", 2, 60) == Decision(True, 0, 1)  # buckets are separate


def test_local_limiter_refusal_says_when_the_window_ends() -> None:
    clock = Clock(1_000_000.0 + 15.5)  # 1_000_000 is a multiple of 10
    limiter = LocalLimiter(clock)
    limiter.hit("k", 1, 10)
    assert limiter.hit("k", 1, 10).retry_after == 5  # 4.5 s left, rounded up


def test_local_limiter_memory_is_bounded() -> None:
    clock = Clock(0.0)
    limiter = LocalLimiter(clock, max_buckets=100)
    for i in range(1000):
        limiter.hit(f"b{i}", 5, 60)
    assert len(limiter) <= 100
    clock.now = 61.0  # every window above has ended: the next hit sweeps them out
    limiter.hit("fresh", 5, 60)
    assert len(limiter) == 1


def test_auth_failure_throttle_blocks_the_address_until_the_window_ends() -> None:
    clock = Clock(600.0)
    limiter = Limiter(auth_failure_limit=2, clock=clock)
    assert limiter.blocked("10.0.0.1") == 0
    assert limiter.failed("10.0.0.1") == Decision(True, 0, 1)
    assert limiter.failed("10.0.0.1") == Decision(True, 0, 0)
    assert limiter.failed("10.0.0.1") == Decision(False, 60, 0)
    clock.now = 630.0
    assert limiter.blocked("10.0.0.1") == 30
    assert limiter.blocked("10.0.0.2") == 0  # other addresses are not affected
    clock.now = 660.0
    assert limiter.blocked("10.0.0.1") == 0
    assert limiter.failed("10.0.0.1") == Decision(True, 0, 1)


def test_limits_of_zero_are_off() -> None:
    limiter = Limiter(read_limit=0, admin_limit=0, auth_failure_limit=0)
    assert limiter.check_key("read", 1) is None
    assert limiter.check_key("admin", 1) is None
    assert limiter.failed("10.0.0.1") is None


def test_safe_url_hides_the_password() -> None:
    assert safe_url("redis://:hunter2@cache:6380/1") == "redis://:***@cache:6380/1"
    assert safe_url("rediss://app:hunter2@cache/0") == "rediss://app:***@cache/0"
    assert safe_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_limiter_falls_back_to_local_counting_and_recovers_when_redis_returns(
        own_redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    limiter = Limiter(own_redis.url, redis_prefix="unit:", backoff=0.3)

    def gauge() -> float | None:
        return metrics().registry.get_sample_value("routeyard_rate_limit_local_fallback")

    try:
        same_window(3)
        assert [limiter.hit("b", 2, 60).allowed for _ in range(3)] == [True, True, False]
        assert limiter.shared and gauge() == 0

        own_redis.stop()
        with caplog.at_level(logging.WARNING, logger="routeyard"):
            started = time.perf_counter()
            first = limiter.hit("b", 2, 60)  # counted here from zero
            elapsed = time.perf_counter() - started
            assert first.allowed and not limiter.shared
            assert elapsed < 0.5
            assert [limiter.hit("b", 2, 60).allowed for _ in range(2)] == [True, False]
        assert gauge() == 1
        warnings = [r.getMessage() for r in caplog.records if "Redis" in r.getMessage()]
        assert len(warnings) == 1  # logged once per outage
        assert own_redis.password and own_redis.password not in warnings[0]
        assert f"127.0.0.1:{own_redis.port}" in warnings[0]

        own_redis.start()  # empty: no persistence
        time.sleep(0.35)  # the back-off
        same_window(3)
        assert limiter.hit("c", 1, 60).allowed
        assert limiter.shared and gauge() == 0
        assert not limiter.hit("c", 1, 60).allowed
    finally:
        limiter.close()


# -- per-key limits in the API -------------------------------------------------------


def admin_key(api: Api) -> dict[str, str]:
    key, _ = api.store.create_key("ops", "admin")
    api.client.app.runtime.refresh()  # type: ignore[attr-defined]
    return auth(key)


def test_admin_key_over_its_rate_limit_is_429_with_retry_after(database_url: str) -> None:
    for api in make_api(database_url, rate_limit_admin=3):
        admin = admin_key(api)
        same_window(2)
        for _ in range(3):
            assert api.client.get("/api/v1/admin/providers", headers=admin).status_code == 200
        r = api.client.get("/api/v1/admin/providers", headers=admin)
        assert_rate_limited(r, 3)
        assert r.headers["access-control-allow-origin"] == "*"
        assert "www-authenticate" not in r.headers
        # the read key is not limited by default, and admin keys are limited on every route
        assert all(api.get("/api/v1/models/count").status_code == 200 for _ in range(50))
        assert_rate_limited(api.client.get("/api/v1/models/count", headers=admin), 3)


def test_read_keys_get_429_once_rate_limit_read_is_set(database_url: str) -> None:
    for api in make_api(database_url, rate_limit_read=2):
        other, _ = api.store.create_key("other", "read")
        api.client.app.runtime.refresh()  # type: ignore[attr-defined]
        same_window(2)
        assert [api.get("/api/v1/models").status_code for _ in range(2)] == [200, 200]
        refused = api.get("/api/v1/models")
        assert_rate_limited(refused, 2)
        validate_response(refused.json(), "/models", 429, "routeyard")  # as documented
        assert_rate_limited(api.get("/api/v1/providers"), 2)
        # each key has its own count
        assert api.client.get("/api/v1/models", headers=auth(other)).status_code == 200
        text = api.client.get("/metrics").text
        assert 'routeyard_requests_refused_total{reason="rate_limit"}' in text


def test_repeated_auth_failures_from_one_address_are_throttled(database_url: str) -> None:
    for api in make_api(database_url, auth_failure_limit=3):
        url = "/api/v1/models/count"
        same_window(2)
        # an unknown prefix and a known prefix with a wrong secret both count
        wrong_secret = api.key[:-1] + ("1" if api.key.endswith("0") else "0")
        for key in ("sk-ry-v1-" + "f" * 64, wrong_secret, "nope"):
            assert_envelope(api.client.get(url, headers=auth(key)), 401)
        r = api.client.get(url, headers=auth("nope"))
        body = assert_envelope(r, 429)
        assert body["error"]["message"].startswith("Too many failed authentication attempts")
        assert body["error"]["metadata"] == {"retry_after": int(r.headers["retry-after"])}
        # blocked before any key is checked: a valid key from the address is refused too
        assert_envelope(api.get(url), 429)
        # requests without credentials are not guesses and are not counted
        assert_envelope(api.client.get(url), 401)


# -- request size limits -------------------------------------------------------------


def test_request_target_over_max_path_length_is_414_in_envelope(database_url: str) -> None:
    for api in make_api(database_url, max_path_length=100):
        assert api.get("/api/v1/models?limit=5").status_code == 200
        body = assert_envelope(api.get("/api/v1/models/" + "a" * 100 + "/b/endpoints"), 414)
        assert body["error"]["message"] == "URI Too Long: at most 100 bytes"
        r = api.get("/api/v1/models?supported_parameters=" + "x" * 100)  # the query counts
        assert_envelope(r, 414)
        assert r.headers["x-request-id"]


def test_headers_over_max_header_bytes_are_431_in_envelope(api: Api) -> None:
    assert api.get("/api/v1/models/count", **{"X-Padding": "a" * 8000}).status_code == 200
    r = api.get("/api/v1/models/count", **{"X-Padding": "a" * 17000})
    body = assert_envelope(r, 431)
    assert body["error"]["message"] == (
        "Request Header Fields Too Large: at most 16384 bytes in all")
    many = {f"X-H{i}": "v" * 200 for i in range(90)}  # the total counts, not one header
    assert_envelope(api.get("/api/v1/models/count", **many), 431)


def test_bodies_over_the_limits_are_413_in_envelope(api: Api) -> None:
    admin = admin_key(api)
    r = api.client.post("/api/v1/admin/providers", content=b"{" + b" " * (1 << 20) + b"}",
                        headers={**admin, "content-type": "application/json"})
    assert_envelope(r, 413)
    r = api.client.post("/api/v1/admin/outcomes", content=b" " * ((8 << 20) + 1),
                        headers={**admin, "content-type": "application/json"})
    assert_envelope(r, 413)


def test_real_server_answers_size_limits_in_envelope_up_to_granians_own(tmp_path: Path) -> None:
    """Granian (hyper) answers a bare 414 past 64 KiB of request target, a bare 431 past its
    HTTP/1 buffer (408 KiB) or 100 headers; below those, routeyard's limits apply."""
    url = fresh_database_url("sqlite", tmp_path)
    store = Store(url)
    store.ensure_schema()
    key, _ = store.create_key("t", "read")
    store.dispose()
    server = Server(url, tmp_path, env={"ROUTEYARD_PROBE_ENABLED": "false"})
    try:
        h = auth(key)
        assert_envelope(httpx.get(server.base + "/api/v1/models/" + "a" * 9000, headers=h), 414)
        r = httpx.get(server.base + "/api/v1/models/count", headers={**h, "X-Pad": "a" * 20000})
        assert_envelope(r, 431)
        r = httpx.get(server.base + "/api/v1/models/count", headers={**h, "X-Pad": "a" * 500_000})
        assert r.status_code == 431  # Granian's own, with an empty body
        r = httpx.get(server.base + "/api/v1/models/count",
                      headers={**h, **{f"X-H{i}": "v" for i in range(101)}})
        assert r.status_code == 431
        assert httpx.get(server.base + "/api/v1/models/count", headers=h).status_code == 200
    finally:
        server.stop()


# -- several processes: Redis up, Redis stopped, no Redis ----------------------------


def servers(tmp_path: Path, env: dict[str, str], count: int = 2,
            keys: int = 1) -> tuple[list[Server], list[str]]:
    url = fresh_database_url("sqlite", tmp_path)
    store = Store(url)
    prepare(store, settings_for(url))  # before they start: they would race to load the starter
    made = [store.create_key(f"k{i}", "read")[0] for i in range(keys)]
    store.dispose()
    env = {"ROUTEYARD_PROBE_ENABLED": "false", "ROUTEYARD_REDIS_URL": "", **env}
    with ThreadPoolExecutor(count) as pool:  # start them side by side
        futures = [pool.submit(Server, url, tmp_path, env=env) for _ in range(count)]
    started = [f.result() for f in futures if f.exception() is None]
    if len(started) < count:
        for s in started:
            s.stop()
        raise next(exc for f in futures if (exc := f.exception()) is not None)
    return started, made


_http = httpx.Client(timeout=5)


def fallback_gauge(server: Server) -> float:
    match = FALLBACK.search(_http.get(server.base + "/metrics").text)
    assert match, "no routeyard_rate_limit_local_fallback in /metrics"
    return float(match.group(1))


def count(server: Server, key: str) -> int:
    return _http.get(server.base + "/api/v1/models/count", headers=auth(key)).status_code


def get_count(server: Server, key: str) -> httpx.Response:
    return _http.get(server.base + "/api/v1/models/count", headers=auth(key))


def test_two_servers_share_the_limit_through_redis(tmp_path: Path, shared_redis: str) -> None:
    (a, b), (key,) = servers(tmp_path, {"ROUTEYARD_REDIS_URL": SHARED_REDIS,
                                        "ROUTEYARD_REDIS_KEY_PREFIX": shared_redis,
                                        "ROUTEYARD_RATE_LIMIT_READ": "6"})
    try:
        same_window(3)
        assert [count(s, key) for s in (a, b) * 3] == [200] * 6
        assert_rate_limited(get_count(a, key), 6)
        assert_rate_limited(get_count(b, key), 6)
        assert fallback_gauge(a) == 0 and fallback_gauge(b) == 0
    finally:
        a.stop()
        b.stop()


def test_redis_stopped_mid_test_limits_fall_back_per_process_and_recover(
        tmp_path: Path, own_redis: RedisServer) -> None:
    (a, b), (k1, k2, k3) = servers(tmp_path, {"ROUTEYARD_REDIS_URL": own_redis.url,
                                              "ROUTEYARD_RATE_LIMIT_READ": "4"}, keys=3)
    try:
        same_window(3)  # Redis up: one limit for both servers
        assert [count(s, k1) for s in (a, b, a, b)] == [200] * 4
        assert count(a, k1) == 429 and count(b, k1) == 429

        own_redis.stop()  # Redis gone: still served, each process counts on its own
        same_window(3)
        for s in (a, b):
            assert [count(s, k1) for _ in range(5)] == [200, 200, 200, 200, 429]
            assert fallback_gauge(s) == 1
        assert all(count(s, k2) == 200 for s in (a, b))
        for s in (a, b):
            assert str(own_redis.password) not in s.log()
            assert "counting per process" in s.log()

        own_redis.start()  # back (and empty): each process returns to it after the back-off
        deadline = time.monotonic() + 20
        while fallback_gauge(a) or fallback_gauge(b):
            assert time.monotonic() < deadline, "limits did not return to Redis"
            count(a, k2), count(b, k2)
            time.sleep(0.3)
        same_window(3)
        assert [count(s, k3) for s in (a, b, a, b)] == [200] * 4
        assert count(a, k3) == 429 and count(b, k3) == 429
    finally:
        a.stop()
        b.stop()


def test_without_redis_each_process_counts_on_its_own(tmp_path: Path) -> None:
    (a, b), (key,) = servers(tmp_path, {"ROUTEYARD_RATE_LIMIT_READ": "3"})
    try:
        same_window(3)
        for s in (a, b):
            assert [count(s, key) for _ in range(4)] == [200, 200, 200, 429]
            assert fallback_gauge(s) == 0
    finally:
        a.stop()
        b.stop()


def test_unreachable_redis_at_start_still_serves(database_url: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    for api in make_api(database_url, redis_url=url, rate_limit_read=2):
        same_window(2)
        assert [api.get("/api/v1/models/count").status_code for _ in range(3)] == [200, 200, 429]
        assert FALLBACK.search(api.client.get("/metrics").text).group(1) == "1.0"  # type: ignore[union-attr]
