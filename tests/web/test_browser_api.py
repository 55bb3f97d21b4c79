"""The discovery API from a web page of another origin, in a real browser (headless Chromium
driven by Playwright) against a real ``routeyard serve``: CORS as the ``openai`` npm SDK
needs it, and the browser's own HTTP cache never handing out an answer meant for a key.

The page's origin is a page server of the test's own on 127.0.0.1 (another port);
every API request goes over the network to the server on 127.0.0.1, through the browser's
HTTP cache as ``fetch`` does by default. Skipped without Chromium, as test_browser.py is.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.conftest import Server, run_cli
from tests.web.test_browser import QWEN, browser  # noqa: F401 - the Chromium fixture

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PAGE = b"<!doctype html><title>app</title>"


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """Another origin: a page server of its own on 127.0.0.1 (another port than the API's).
    On loopback, so that Chromium's local-network rules let the page call 127.0.0.1."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
ENDPOINTS = f"/api/v1/models/{QWEN}/endpoints"
FETCH = """async ([url, key, extra]) => {
  const headers = {...extra};
  if (key) headers["Authorization"] = "Bearer " + key;
  try {
    const r = await fetch(url, {headers});
    const body = await r.text();
    return {status: r.status, body, etag: r.headers.get("etag"),
            requestId: r.headers.get("x-request-id"),
            cacheControl: r.headers.get("cache-control")};
  } catch (e) {
    return {status: 0, error: String(e)};
  }
}"""
STAINLESS = {"x-stainless-lang": "js", "x-stainless-os": "Linux", "x-stainless-arch": "x64",
             "x-stainless-package-version": "4.104.0", "x-stainless-runtime": "browser:chrome",
             "x-stainless-retry-count": "0"}


def start(tmp: Path, database_url: str, **env: str) -> tuple[Server, str]:
    server = Server(database_url, tmp, env={"ROUTEYARD_PROBE_ENABLED": "false",
                                            "ROUTEYARD_HEALTH_REFRESH_INTERVAL": "0.2", **env})
    return server, database_url


def new_key(database_url: str, *args: str) -> str:
    return run_cli(database_url, "keys", "create", "--name", "web", *args).stdout.strip(
        ).splitlines()[-1]


@pytest.fixture
def app_page(browser: Browser, origin: str) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.goto(origin + "/")
    yield page
    context.close()


def call(page: Page, server: Server, path: str, key: str | None,
         extra: dict[str, str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(FETCH, [server.base + path, key, extra or {}])
    return result


def wait_until_refused(server: Server, key: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.get(server.base + "/api/v1/models/count",
                      headers={"Authorization": f"Bearer {key}"})
        if r.status_code == 401:
            return
        time.sleep(0.05)
    raise AssertionError("the revoked key is still accepted")


def test_cors_lets_a_page_of_another_origin_call_with_sdk_headers_and_read_ours(
        app_page: Page, tmp_path: Path, database_url: str) -> None:
    server, database_url = start(tmp_path, database_url)
    try:
        key = new_key(database_url)
        for path in (ENDPOINTS, "/api/v1/models", "/api/v1/models/qwen%2Fqwen3-coder",
                     "/api/v1/models/"):
            got = call(app_page, server, path, key, STAINLESS)
            assert got["status"] == 200, (path, got)
            assert got["etag"] and got["etag"].startswith('"'), path  # exposed to scripts
            assert got["requestId"], path
        missing = call(app_page, server, "/api/v1/models/nobody/nothing/endpoints", key,
                       STAINLESS)
        assert missing["status"] == 404 and "nobody/nothing" in missing["body"]
        assert missing["requestId"]
    finally:
        server.stop()


def test_the_browser_cache_never_answers_for_a_key(app_page: Page, tmp_path: Path,
                                                   database_url: str) -> None:
    server, database_url = start(tmp_path, database_url)
    try:
        key = new_key(database_url)
        for path in (ENDPOINTS, "/api/v1/models", "/api/v1/providers"):
            keyed = call(app_page, server, path, key)
            assert keyed["status"] == 200
            assert call(app_page, server, path, None)["status"] == 401, path
            assert call(app_page, server, path, "sk-ry-v1-" + "3" * 64)["status"] == 401, path
            # Once more with the key: a revalidation, same answer.
            assert call(app_page, server, path, key)["body"] == keyed["body"]
            assert keyed["cacheControl"] == "private, no-cache"
        run_cli(database_url, "keys", "revoke", key[:17])
        wait_until_refused(server, key)
        for path in (ENDPOINTS, "/api/v1/models", "/api/v1/providers"):
            assert call(app_page, server, path, key)["status"] == 401, path
    finally:
        server.stop()


def test_with_public_discovery_an_anonymous_answer_is_not_served_to_a_key(
        app_page: Page, tmp_path: Path, database_url: str) -> None:
    server, database_url = start(tmp_path, database_url, ROUTEYARD_PUBLIC_DISCOVERY="true")
    try:
        admin = new_key(database_url, "--admin")
        key = new_key(database_url)
        now = time.time()
        outcomes = [{"model_id": QWEN, "tag": "chutes", "at": now, "result": "success",
                     "ttft_ms": 300, "output_tokens": 120, "generation_ms": 2000}] * 20
        r = httpx.post(server.base + "/api/v1/admin/outcomes", json={"outcomes": outcomes},
                       headers={"Authorization": f"Bearer {admin}"}, timeout=10)
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until live health serves the latency
            direct = httpx.get(server.base + ENDPOINTS,
                               headers={"Authorization": f"Bearer {key}"}).json()
            chutes = next(e for e in direct["data"]["endpoints"] if e["tag"] == "chutes")
            if chutes["latency_last_30m"] is not None:
                break
            time.sleep(0.1)
        anonymous = call(app_page, server, ENDPOINTS, None)
        assert anonymous["status"] == 200
        keyed = call(app_page, server, ENDPOINTS, key)
        assert keyed["status"] == 200 and keyed["body"] != anonymous["body"]
        endpoints = json.loads(keyed["body"])["data"]["endpoints"]
        assert next(e for e in endpoints if e["tag"] == "chutes")["latency_last_30m"] is not None
        hidden = json.loads(anonymous["body"])["data"]["endpoints"]
        assert all(e["latency_last_30m"] is None for e in hidden)
        # And back: the keyed answer is not handed to an anonymous request either.
        assert call(app_page, server, ENDPOINTS, None)["body"] == anonymous["body"]
    finally:
        server.stop()
