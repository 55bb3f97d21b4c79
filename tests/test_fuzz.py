"""Fuzzing against our own contract: Schemathesis drives every operation of the served
``/api/v1/openapi.json`` on a real ``routeyard serve`` (the admin ones with an admin key).

Every response must be what the document promises: no 5xx, a declared status, the declared
content type, headers and body schema, authentication enforced where the document asks for
it, and every error in OpenRouter's envelope with ``code`` equal to the HTTP status (the
check :func:`error_envelope` below). Schemathesis runs all its phases: coverage cases
(boundary values and invalid input for every parameter and body field), random cases, and
stateful sequences following the links it infers (create a provider, then read, patch, delete
it).

The run is the ``schemathesis`` command in a subprocess, so that what CI runs is exactly what
``docs/testing.md`` tells a developer to run; this file is also its hooks module (it registers
the envelope check when Schemathesis loads it). ``ROUTEYARD_FUZZ_EXAMPLES`` (default 25) bounds
the random cases per operation and the stateful scenarios; ``ROUTEYARD_FUZZ_SEED`` fixes the
seed (default: a fixed one, so CI is repeatable; ``random`` for a new one). One SQLite database
is enough: the contract is the API's, and the store is tested on both databases elsewhere.
"""

from __future__ import annotations

import collections
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import tomli_w
from schemathesis import Case, CheckContext, Response

EXAMPLES = int(os.environ.get("ROUTEYARD_FUZZ_EXAMPLES", "25"))
SEED_SETTING = os.environ.get("ROUTEYARD_FUZZ_SEED", "20251125")
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "ignored_auth",
          "missing_required_header", "use_after_free", "ensure_resource_availability",
          "error_envelope")
SERVER_ENV = {
    "ROUTEYARD_RATE_LIMIT_ADMIN": "0",  # one admin key making thousands of calls
    "ROUTEYARD_RATE_LIMIT_READ": "0",
    "ROUTEYARD_AUTH_FAILURE_LIMIT": "0",  # bad keys are sent on purpose (ignored_auth)
    "ROUTEYARD_PROBE_ENABLED": "false",
    "ROUTEYARD_ACCESS_LOG": "false",
}


def error_envelope(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every 4xx and 5xx is OpenRouter's envelope, with ``error.code`` equal to the status."""
    status = response.status_code
    if status < 400:
        return None
    text = response.text[:300]
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error", "user_id"}, \
        f"A {status} answer is not the error envelope: {text}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message", "metadata"}, \
        f"A {status} answer's `error` has the wrong keys: {text}"
    assert error["code"] == status, f"error.code is {error['code']!r}, the status {status}"
    assert isinstance(error["message"], str) and error["message"], \
        f"A {status} answer's error.message is empty: {text}"
    assert error["metadata"] is None or isinstance(error["metadata"], dict), \
        f"A {status} answer's error.metadata is neither null nor an object: {text}"
    assert body["user_id"] is None, f"A {status} answer's user_id is not null: {text}"
    return True


if __name__ == "_schemathesis_hooks":  # loaded by Schemathesis through `hooks` in its config
    schemathesis.check(error_envelope)


# Records made before the run, so that generated requests also reach existing ones: random
# path parameters almost never name a model, and random endpoint bodies a provider. Every
# model has every tag, so any (model, tag) pair drawn from the dictionaries exists.
PROVIDER = {"slug": "fuzz", "name": "Fuzz"}
MODELS = ("fuzz/a", "fuzz/b", "fuzz/c")
TAGS = ("fuzz", "fuzz/v")
DICTIONARIES = {
    "authors": ["fuzz"],
    "slugs": [m.split("/")[1] for m in MODELS],
    "tags": list(TAGS),
    "model_ids": list(MODELS),
    "providers": ["fuzz", "groq", "deepinfra"],
    "parameters": ["temperature", "tools", "temperature,tools", "reasoning"],
    "outputs": ["text", "image", "text,image", "all"],
}


def seed_records(base: str, key: str) -> None:
    headers = {"authorization": f"Bearer {key}"}
    with httpx.Client(base_url=f"{base}/api/v1/admin", headers=headers) as client:
        client.post("/providers", json=PROVIDER).raise_for_status()
        for model_id in MODELS:
            endpoints = [{"provider": "fuzz", "tag": tag, "context_length": 8192,
                          "pricing": {"prompt": "0.000001", "completion": "0.000002"}}
                         for tag in TAGS]
            client.post("/models", json={"id": model_id, "name": model_id, "created": 1,
                                         "endpoints": endpoints}).raise_for_status()


def _bound(name: str, probability: float = 0.5) -> dict[str, Any]:
    return {"dictionary": name, "probability": probability}


def fuzz_config(path: Path, *, key: str, seed: int, examples: int) -> Path:
    """Write the Schemathesis config of a run against a server whose admin key is ``key``."""
    config: dict[str, Any] = {
        "color": False,
        "seed": seed,
        "hooks": str(Path(__file__).resolve()),  # registers error_envelope
        "request-timeout": 30,
        # Our bodies are deep (a model holds endpoints holding prices); generation is slow.
        "suppress-health-check": ["filter_too_much", "too_slow", "data_too_large",
                                  "large_base_example"],
        # No example database: a run does not depend on earlier runs, and Hypothesis's
        # Pareto-front shrinking (which needs one) raised IndexError inside Hypothesis
        # 6.170 on GET /models/{model_id} (an engine bug, not a finding about the API).
        "generation": {"max-examples": examples, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "auth": {"openapi": {"bearer": {"bearer": key}}},
        "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
        # Half the time a path names a record made by seed_records (never for DELETE: the
        # records would be gone early in the run).
        "operations": [{
            "include-path-regex": "/models/",
            "exclude-method": "DELETE",
            "parameters": {"path.author": _bound("authors"), "path.slug": _bound("slugs"),
                           "path.tag": _bound("tags")},
        }],
        "parameters": {
            "query.supported_parameters": _bound("parameters"),
            "query.output_modalities": _bound("outputs"),
            "body.provider": _bound("providers", 0.7),
            "body.endpoints[*].provider": _bound("providers", 0.7),
            "body.outcomes[*].model_id": _bound("model_ids", 0.7),
            "body.outcomes[*].tag": _bound("tags", 0.7),
        },
    }
    path.write_text(tomli_w.dumps(config))
    return path


def cases_per_operation(events: Path) -> dict[str, collections.Counter[str]]:
    """operation -> how many cases each phase sent it, and the statuses they got, read from
    Schemathesis' ndjson events report. Cases that probe a method the operation does not
    declare (``TRACE``, ``OPTIONS``...) count for the operation they probe."""
    out: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in events.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        stateful = finished["phase"] == "stateful"
        for case_id, case in recorder.get("cases", {}).items():
            value = case["value"]
            label = f"{value['method']} {value['path']}" if stateful else recorder["label"]
            interaction = recorder.get("interactions", {}).get(case_id)
            if interaction is None:  # generated but never sent (e.g. a skipped case)
                continue
            status = (interaction.get("response") or {}).get("status_code", "no response")
            out[label][finished["phase"]] += 1
            out[label][f"status {status}"] += 1
    return out


def test_every_operation_keeps_the_contract(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import ROOT, Server, fresh_database_url, run_cli

    url = fresh_database_url("sqlite", tmp_path)
    created = run_cli(url, "keys", "create", "--name", "fuzz", "--admin")
    key = created.stdout.strip().splitlines()[-1]
    seed = secrets.randbits(64) if SEED_SETTING == "random" else int(SEED_SETTING)
    config = fuzz_config(tmp_path / "schemathesis.toml", key=key, seed=seed, examples=EXAMPLES)
    events = tmp_path / "events.ndjson"
    server = Server(url, tmp_path, env=SERVER_ENV)
    seed_records(server.base, key)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
             f"{server.base}/api/v1/openapi.json", "--report", "ndjson",
             "--report-ndjson-path", str(events)],
            cwd=ROOT, capture_output=True, text=True, timeout=600 + 10 * EXAMPLES, check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    counts = cases_per_operation(events) if events.exists() else {}
    summary = [f"schemathesis (seed {seed}, {EXAMPLES} examples) in {elapsed:.0f}s:"]
    total = 0
    for label in sorted(counts, key=lambda lb: (lb.partition(" ")[2], lb)):
        counter = counts[label]
        phases = {k: n for k, n in counter.items() if not k.startswith("status ")}
        statuses = {k.removeprefix("status "): n for k, n in counter.items()
                    if k.startswith("status ")}
        total += sum(phases.values())
        summary.append(
            f"{sum(phases.values()):6d}  {label}  ("
            + ", ".join(f"{phase} {n}" for phase, n in sorted(phases.items())) + "; statuses "
            + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())) + ")")
    summary.append(f"{total:6d}  in all")
    with capsys.disabled():  # shown even when the test passes
        print("\n" + "\n".join(summary))
    assert proc.returncode == 0, (
        f"schemathesis failed ({proc.returncode}):\n{proc.stdout[-30000:]}\n{proc.stderr[-5000:]}"
        f"\nserver log:\n{server.log_path.read_text(errors='replace')[-5000:]}"
    )
