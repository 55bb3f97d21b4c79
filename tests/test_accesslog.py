"""The access log: one complete, escaped line per request, written by a thread of its own."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import httpx
from starlette.testclient import TestClient

from routeyard.accesslog import AccessFields, format_lines, record_fields
from routeyard.app import create_app
from routeyard.logs import escape
from routeyard.store import Store
from tests.conftest import Server, settings_for

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"
TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO routeyard\.access: (?P<method>\S+) "
    r"(?P<path>\S+) (?P<status>\d{3}) (?P<duration>\d+µs|\d+\.\dms) "
    r"request_id=(?P<request_id>\S+)(?: key_name=(?P<key_name>\S+))?")


def _wait_for_lines(server: Server, ids: set[str]) -> list[str]:
    """The access-log lines of ``server`` with one of the request ``ids``, once there is
    one for each (the access log writes in batches, many times a second)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in server.log().splitlines() if "routeyard.access" in line
                 and line.rsplit("request_id=", 1)[-1].split(" ")[0] in ids]
        if len(lines) >= len(ids) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_escape_writes_control_characters_and_backslashes_as_escapes() -> None:
    assert escape("/api/v1/models") == "/api/v1/models"
    assert escape("naïve ✓") == "naïve ✓"  # printable text is kept as it is
    assert escape("a\nb\r\x1b[31m\x00") == "a\\x0ab\\x0d\\x1b[31m\\x00"
    assert escape("c:\\x0a") == "c:\\\\x0a"  # a literal backslash cannot pass for an escape
    assert escape("\u2028\x85\U000e0001") == "\\u2028\\x85\\U000e0001"


def test_every_request_logs_one_complete_escaped_line_from_a_real_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'routeyard.db'}"
    store = Store(url)
    store.ensure_schema()
    key, _ = store.create_key("ops\x1b[31m\nred", "read")
    store.dispose()
    server = Server(url, tmp_path, env={"ROUTEYARD_PROBE_ENABLED": "false"})
    try:
        auth = {"Authorization": f"Bearer {key}"}
        for i in range(5):  # the fast path, the first answer computed, the rest remembered
            r = httpx.get(f"{server.base}/api/v1/models/{QWEN}/endpoints",
                          headers={**auth, "X-Request-Id": f"fast-{i}"})
            assert r.status_code == 200 and r.headers["x-request-id"] == f"fast-{i}"
        r = httpx.get(f"{server.base}/api/v1/models?limit=1",  # Starlette's route
                      headers={**auth, "X-Request-Id": "slow-1"})
        assert r.status_code == 200
        r = httpx.get(f"{server.base}/api/v1/models/a%0Ab%1B/c/endpoints?secret=no",
                      headers={**auth, "X-Request-Id": "evil-1"})
        assert r.status_code == 400  # not a valid model id
        r = httpx.get(f"{server.base}/api/v1/models/{QWEN}/endpoints",
                      headers={"X-Request-Id": "anon-1"})
        assert r.status_code == 401

        ids = {*(f"fast-{i}" for i in range(5)), "slow-1", "evil-1", "anon-1"}
        lines = _wait_for_lines(server, ids)
        parsed = {m["request_id"]: m for m in map(TEXT_LINE.fullmatch, lines) if m}
        assert len(lines) == 8 and len(parsed) == 8, lines
        for i in range(5):
            line = parsed[f"fast-{i}"]
            assert (line["method"], line["path"], line["status"]) == (
                "GET", f"/api/v1/models/{QWEN}/endpoints", "200")
            assert line["key_name"] == "ops\\x1b[31m\\x0ared"
            assert line["duration"].endswith(("µs", "ms"))
        assert parsed["slow-1"]["path"] == "/api/v1/models"  # never the query string
        assert parsed["slow-1"]["key_name"] == "ops\\x1b[31m\\x0ared"
        assert parsed["evil-1"]["path"] == "/api/v1/models/a\\x0ab\\x1b/c/endpoints"
        assert parsed["evil-1"]["status"] == "400"
        assert parsed["anon-1"]["status"] == "401" and parsed["anon-1"]["key_name"] is None
        text = server.log()
        assert "\x1b" not in text and "secret=no" not in text and key not in text
    finally:
        server.stop()


def test_json_lines_carry_the_fields_a_route_adds() -> None:
    fields = AccessFields(key_name="team\tA", model="openai/gpt-4o", provider="openai/default",
                          attempts=2)
    entry = (time.perf_counter(), "POST", "/api/v1/chat/completions", 200, 0.0123, "rid-1",
             None, fields)
    (line,) = format_lines([entry], "json").splitlines()
    data = json.loads(line)
    assert data["logger"] == "routeyard.access" and data["level"] == "info"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["ts"])
    assert {k: data[k] for k in ("method", "path", "status", "duration_us", "duration_ms",
                                 "request_id", "key_name", "model", "provider", "attempts")} == {
        "method": "POST", "path": "/api/v1/chat/completions", "status": 200,
        "duration_us": 12300, "duration_ms": 12.3, "request_id": "rid-1",
        "key_name": "team\\x09A", "model": "openai/gpt-4o", "provider": "openai/default",
        "attempts": 2,
    }
    assert data["message"] == ("POST /api/v1/chat/completions 200 12.3ms request_id=rid-1 "
                               "key_name=team\\x09A model=openai/gpt-4o "
                               "provider=openai/default attempts=2")
    small = (time.perf_counter(), "GET", "/x", 304, 0.000412, "rid-2", "k", None)
    assert record_fields(small)["duration_us"] == 412
    (text,) = format_lines([small], "text").splitlines()
    assert text.endswith(" INFO routeyard.access: GET /x 304 412µs request_id=rid-2 key_name=k")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_lines_are_handed_to_other_handlers_from_the_writer_thread(tmp_path: Path) -> None:
    """A handler an operator adds still gets a record per request, with the fields as
    attributes, and it comes from the access log's thread, not the event loop's."""
    url = f"sqlite:///{tmp_path / 'routeyard.db'}"
    store = Store(url)
    store.ensure_schema()
    key, _ = store.create_key("collector", "read")
    collect = _Collect()
    logger = logging.getLogger("routeyard.access")
    try:
        with TestClient(create_app(settings_for(url, probe_enabled=False), store=store)) as c:
            logger.addHandler(collect)
            r = c.get(f"/api/v1/models/{QWEN}/endpoints",
                      headers={"Authorization": f"Bearer {key}", "X-Request-Id": "handed-1"})
            assert r.status_code == 200
            deadline = time.monotonic() + 10
            while not collect.records and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        logger.removeHandler(collect)
        store.dispose()
    (record,) = [r for r in collect.records if getattr(r, "request_id", None) == "handed-1"]
    assert record.threadName == "routeyard-access-log"
    assert record.getMessage().startswith(f"GET /api/v1/models/{QWEN}/endpoints 200 ")
    assert (record.status, record.key_name, record.method) == (  # type: ignore[attr-defined]
        200, "collector", "GET")
    assert isinstance(record.duration_us, int)  # type: ignore[attr-defined]
