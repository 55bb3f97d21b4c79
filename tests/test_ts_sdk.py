"""OpenRouter's TypeScript SDK (the real npm package ``@openrouter/sdk``) under Node 20
against a real routeyard server on 127.0.0.1: its discovery calls parse our answers.

The package is installed with npm into a cache directory (``ROUTEYARD_TEST_NPM_CACHE``, by
default ``~/.cache/routeyard-tests/npm``) on first use; that install is this test's only
traffic off loopback. Without Node 20 the test is skipped, unless
``ROUTEYARD_TEST_REQUIRE_NODE=1`` (as in .ci/run), which makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from routeyard.catalog import declarative
from routeyard.catalog.declarative import read_starter
from routeyard.store import Store
from tests.conftest import Server
from tests.test_discovery_http import EMBEDDING_FILE
from tests.test_key_preferences import POLICY_FILE

SDK = "@openrouter/sdk"
SDK_VERSION = "1.3.19"
NODE_MAJOR = 20
REQUIRE_NODE = os.environ.get("ROUTEYARD_TEST_REQUIRE_NODE") == "1"
SCRIPT = Path(__file__).parent / "js" / "discovery.mjs"
QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


def _unavailable(reason: str) -> None:
    if REQUIRE_NODE:
        pytest.fail(reason)
    pytest.skip(reason)


def node() -> str:
    path = shutil.which("node")
    if path is None:
        _unavailable("node is not installed (ROUTEYARD_TEST_REQUIRE_NODE=1 makes this a failure)")
    assert path is not None
    version = subprocess.run([path, "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    if not version.startswith(f"v{NODE_MAJOR}."):
        _unavailable(f"node {version} is not Node {NODE_MAJOR}")
    return path


def sdk_entry() -> Path:
    """The SDK's entry file, installed with npm into the cache directory if needed."""
    cache = Path(os.environ.get("ROUTEYARD_TEST_NPM_CACHE")
                 or Path.home() / ".cache" / "routeyard-tests" / "npm")
    prefix = cache / f"openrouter-sdk-{SDK_VERSION}"
    package = prefix / "node_modules" / "@openrouter" / "sdk"
    manifest = package / "package.json"
    if not (manifest.exists() and json.loads(manifest.read_text())["version"] == SDK_VERSION):
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not installed")
        assert npm is not None
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
             "--no-save", "--loglevel=error", f"{SDK}@{SDK_VERSION}"],
            capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            _unavailable(f"npm could not install {SDK}@{SDK_VERSION}: {done.stderr[-2000:]}")
    main = json.loads(manifest.read_text())["main"]
    return package / main


def wait_for_count(server: Server, key: str, count: int, timeout: float = 30.0) -> None:
    """Until the server serves ``count`` models (it reloads a changed catalog within its
    refresh interval)."""
    deadline = time.monotonic() + timeout
    url = f"{server.base}/api/v1/models/count"
    while time.monotonic() < deadline:
        got = httpx.get(url, headers={"Authorization": f"Bearer {key}"}).json()["data"]["count"]
        if got == count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the server still serves {got} models, not {count}")


def test_typescript_sdk_discovery_calls_parse_our_answers(database_url: str,
                                                           tmp_path: Path) -> None:
    node_path = node()
    entry = sdk_entry()
    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("ts-sdk", "read")
    store.dispose()
    server = Server(database_url, tmp_path)
    try:
        # The starter catalog, plus models with data policies and an embedding model.
        store = Store(database_url)
        store.apply_catalog(declarative.parse_text(POLICY_FILE, "policy.toml"))
        store.apply_catalog(declarative.parse_text(EMBEDDING_FILE, "embed.toml"))
        store.dispose()
        wait_for_count(server, key, len(read_starter().models) + 4)
        done = subprocess.run([node_path, str(SCRIPT), str(entry), server.base, key, QWEN],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-4000:]
        out = json.loads(done.stdout)
    finally:
        server.stop()
    starter = read_starter()
    qwen = next(m for m in starter.models if m.id == QWEN)
    providers = starter.provider_map()
    listed = out["models"]
    assert len(listed) == len(starter.models) + 4 and QWEN in listed
    assert out["pagedModels"] == listed  # paging through links.next gives the same list
    assert out["count"] == len(listed)
    assert out["model"] == {"id": QWEN, "name": qwen.name,
                            "prompt": qwen.endpoints[0].pricing.prompt,
                            "contextLength": qwen.endpoints[0].context_length}
    assert out["forUser"] == listed  # no preferences: everything
    assert out["endpoints"] == [
        {"tag": e.tag, "provider": providers[e.provider].name, "prompt": e.pricing.prompt,
         "status": -10 if e.disabled else 0} for e in qwen.endpoints]
    assert out["zdr"] == ["policy/forgotten forgetful", "policy/kept keeper/zdr"]
    assert "vectors" in out["providers"] and "deepinfra" in out["providers"]
    assert out["embeddings"] == ["vectors/embed-small"]
    assert out["missing"]["status"] == 404
    assert "nobody/nothing" in out["missing"]["message"]
    assert out["badKey"]["status"] == 401
