"""``routeyard demo``: the whole system on loopback in one command.

Fake providers (:mod:`routeyard.fake_provider`, one per provider of the starter catalog,
each with a speed and a failure rate of its own) serve from one local server; a catalog of
the demo's own (a temporary SQLite database, unless one is named) holds the starter catalog
with every provider pointed at its fake; ``routeyard serve`` serves it, probing every
endpoint every few seconds (unless ``probes`` is off: then routed traffic alone feeds the
live fields); and a trickle of routed requests (``POST /api/v1/chat/completions``,
streamed and not) goes through it. Within a minute the status page's bars and the
endpoints API's live fields (uptime, latency, throughput) fill in.

The plan (which provider behaves how, which request goes where) is pure and seeded
(:func:`profiles`, :func:`demo_catalog`, :func:`traffic`); :func:`run` does the I/O.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
from starlette.applications import Starlette
from starlette.routing import Mount

from routeyard.fake_provider import (
    FakeProviderConfig,
    FakeProviderThread,
    _server,
    create_fake_provider,
)
from routeyard.models import Catalog, Model
from routeyard.service import load_starter
from routeyard.store import Store

ROUTE = "/api/v1/chat/completions"
PROBE_INTERVAL = 5.0  # seconds between the demo server's probe rounds
#: The model the banner's ``curl`` shows; every other routed request goes to it, so that
#: its live fields fill from routed traffic within seconds (the rest are spread over 41).
FEATURED = "qwen/qwen3-235b-a22b-thinking-2507"


@dataclass(frozen=True)
class Profile:
    """How one fake provider behaves."""

    label: str
    ttft_ms: float
    tokens_per_s: float
    fail_rate: float
    rate_limit_rate: float = 0.0


# Cycled over the providers in slug order: most are healthy, at different speeds; some fail
# often enough to show on the status page.
PROFILES = (
    Profile("fast", 60, 250, 0.0),
    Profile("steady", 250, 90, 0.02),
    Profile("slow", 900, 25, 0.05),
    Profile("flaky", 300, 70, 0.25, 0.10),
    Profile("fast", 120, 180, 0.01),
    Profile("degraded", 500, 40, 0.6),
)


def upstream_models(catalog: Catalog) -> dict[str, list[str]]:
    """Per provider slug, the model ids routeyard sends it (an endpoint's
    ``provider_model_id``, else the routeyard id), sorted."""
    out: dict[str, set[str]] = {p.slug: set() for p in catalog.providers}
    for model in catalog.models:
        for endpoint in model.endpoints:
            out.setdefault(endpoint.provider, set()).add(endpoint.provider_model_id or model.id)
    return {slug: sorted(ids) for slug, ids in out.items()}


def profiles(catalog: Catalog, seed: int = 0) -> dict[str, tuple[Profile, FakeProviderConfig]]:
    """Each provider with an endpoint: its profile and fake-provider configuration."""
    served = upstream_models(catalog)
    out = {}
    for i, slug in enumerate(sorted(s for s, ids in served.items() if ids)):
        p = PROFILES[i % len(PROFILES)]
        out[slug] = (p, FakeProviderConfig(
            models=served[slug], ttft_ms=p.ttft_ms, tokens_per_s=p.tokens_per_s,
            fail_rate=p.fail_rate, rate_limit_rate=p.rate_limit_rate, output_tokens=24,
            reasoning_tokens=8, reasoning_models=[], seed=seed + i))
    return out


def demo_catalog(catalog: Catalog, urls: dict[str, str]) -> Catalog:
    """``catalog`` with each provider in ``urls`` pointed at that base URL, needing no key
    and taking completion probes; the other providers lose their base URL (nothing leaves
    the machine)."""
    providers = tuple(
        msgspec.structs.replace(p, base_url=urls.get(p.slug), api_key_env=None,
                                probe_completion=p.slug in urls)
        for p in catalog.providers)
    return msgspec.structs.replace(catalog, providers=providers)


def traffic(catalog: Catalog, seed: int = 0) -> Iterator[dict[str, object]]:
    """Routed request bodies without end: every other one for :data:`FEATURED` (when the
    catalog has it with an endpoint), the others for a model of the catalog with an
    endpoint at random; streamed and not in turn (for the featured model too), a short
    prompt and a small ``max_tokens``."""
    rng = random.Random(seed)
    models: list[Model] = sorted((m for m in catalog.models if m.endpoints),
                                 key=lambda m: m.id)
    featured = next((m for m in models if m.id == FEATURED), None)
    n = 0
    while True:
        n += 1
        model = featured if featured is not None and n % 2 == 1 else rng.choice(models)
        yield {"model": model.id, "stream": (n // 2) % 2 == 0, "max_tokens": 24,
               "messages": [{"role": "user", "content": f"Demo request {n}: say hello."}]}


def fake_providers_app(configs: dict[str, FakeProviderConfig]) -> Starlette:
    """One ASGI app serving every fake provider under ``/<slug>`` (its base URL is
    ``<server>/<slug>/v1``, its control endpoint ``<server>/<slug>/_control``)."""
    return Starlette(routes=[Mount(f"/{slug}", app=create_fake_provider(config))
                             for slug, config in configs.items()])


class _Providers(FakeProviderThread):
    """:class:`FakeProviderThread` serving :func:`fake_providers_app`."""

    def __init__(self, configs: dict[str, FakeProviderConfig]) -> None:
        super().__init__(next(iter(configs.values())))
        self._server = _server(fake_providers_app(configs), self.host, self.port, log=False)
        self.first = next(iter(configs))

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(f"{self.url}/{self.first}/_control", timeout=1.0).raise_for_status()
                return self.url
            except httpx.HTTPError:
                if time.monotonic() > deadline or not self._thread.is_alive():
                    raise RuntimeError(f"fake providers did not start on {self.url}") from None
                time.sleep(0.05)


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"routeyard serve exited with status {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"routeyard serve did not answer on {base} within {timeout:.0f} s")


def run(*, host: str, port: int, database_url: str | None, duration: float | None,
        rate: float, seed: int, echo: Callable[[str], None],
        probes: bool = True) -> Counter[str]:
    """Run the demo until ``duration`` seconds have passed (None: until interrupted); the
    routed requests' outcomes (HTTP status, or the error) counted. Without ``probes`` the
    server runs no probes: only the routed requests move the live fields."""
    tmp = Path(tempfile.mkdtemp(prefix="routeyard-demo-"))
    url = database_url or f"sqlite:///{tmp / 'demo.db'}"
    outcomes: Counter[str] = Counter()
    with contextlib.ExitStack() as stack:
        # SIGTERM (kill, a supervisor, a test's terminate) stops the demo like Ctrl-C: what
        # it started is stopped, not left running (Python's default would exit at once).
        previous = signal.signal(signal.SIGTERM, _interrupt)
        stack.callback(signal.signal, signal.SIGTERM, previous)
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        store = Store(url)
        stack.callback(store.dispose)
        store.ensure_schema()
        if database_url is None or store.count_models() == 0:
            load_starter(store)
        catalog = store.read_catalog()
        planned = profiles(catalog, seed)
        fakes = _Providers({slug: config for slug, (_, config) in planned.items()})
        fakes_url = fakes.start()
        stack.callback(fakes.stop)
        store.apply_catalog(demo_catalog(catalog, {s: f"{fakes_url}/{s}/v1" for s in planned}),
                            source="demo")
        key, _ = store.create_key(f"demo-{int(time.time())}", "read")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTEYARD_")}
        env.update(ROUTEYARD_DATABASE_URL=url, ROUTEYARD_HOST=host, ROUTEYARD_PORT=str(port),
                   ROUTEYARD_DATA_DIR=str(tmp), ROUTEYARD_PROBE_INTERVAL=str(PROBE_INTERVAL),
                   ROUTEYARD_PROBE_JITTER="1", ROUTEYARD_PROBE_TIMEOUT="10",
                   ROUTEYARD_PROBE_CONCURRENCY="32",
                   ROUTEYARD_PROBE_ENABLED="true" if probes else "false",
                   ROUTEYARD_ACCESS_LOG="false", ROUTEYARD_LOG_LEVEL="warning")
        proc = subprocess.Popen([sys.executable, "-m", "routeyard.cli", "serve"], env=env)
        stack.callback(_stop, proc)
        base = f"http://{host}:{port}"
        _wait_ready(base, proc)
        echo(_banner(base, url, database_url is None, key, planned, fakes_url, probes))
        outcomes = _send(base, key, catalog, rate=rate, duration=duration, seed=seed,
                         echo=echo)
    return outcomes


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _banner(base: str, url: str, temporary: bool, key: str,
            planned: dict[str, tuple[Profile, FakeProviderConfig]], fakes_url: str,
            probes: bool = True) -> str:
    where = "a temporary database, removed at the end" if temporary else url
    lines = [
        f"routeyard demo: serving {base}/api/v1 from {where}",
        f"  status page:  {base}/",
        f"  a read key:   {key}",
        (f"  try:          curl -H 'Authorization: Bearer {key}' "
         f"{base}/api/v1/models/{FEATURED}/endpoints"),
        (f"  fake providers on {fakes_url}/<provider>/v1 "
         + (f"(probed every {PROBE_INTERVAL:.0f} s):" if probes
            else "(not probed: only routed requests feed the live fields):")),
    ]
    for slug, (p, _) in planned.items():
        limited = f", {p.rate_limit_rate:.0%} rate-limited" if p.rate_limit_rate else ""
        lines.append(f"    {slug:<20} {p.label:<9} first token {p.ttft_ms:>4.0f} ms, "
                     f"{p.tokens_per_s:>3.0f} tokens/s, {p.fail_rate:.0%} errors{limited}")
    lines.append("Ctrl-C stops the demo.")
    return "\n".join(lines)


def _no_router(r: httpx.Response) -> bool:
    """True when the answer says the route itself is missing (not the router's own 404,
    "No endpoints found for ...")."""
    if r.status_code not in (404, 405):
        return False
    try:
        message = str(r.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return True
    return not message.startswith("No endpoints found")


def _send(base: str, key: str, catalog: Catalog, *, rate: float, duration: float | None,
          seed: int, echo: Callable[[str], None]) -> Counter[str]:
    """The trickle of routed requests, ``rate`` a second, one at a time."""
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    last_report = started
    interval = 1.0 / rate if rate > 0 else None
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(timeout=30.0) as client, contextlib.suppress(KeyboardInterrupt):
        for body in traffic(catalog, seed):
            now = time.monotonic()
            if duration is not None and now - started >= duration:
                break
            if interval is None:
                time.sleep(min(1.0, duration - (now - started)) if duration else 1.0)
                continue
            try:
                r = client.post(base + ROUTE, json=body, headers=headers)
                outcomes[str(r.status_code)] += 1
            except httpx.HTTPError as exc:
                outcomes[type(exc).__name__] += 1
            else:
                if _no_router(r):
                    echo(f"routeyard demo: this routeyard does not serve POST {ROUTE} "
                         f"({r.status_code}); only the probes feed the live fields")
                    interval = None
                    continue
            if time.monotonic() - last_report >= 10:
                last_report = time.monotonic()
                echo("routed requests so far: " + ", ".join(
                    f"{n} x {what}" for what, n in sorted(outcomes.items())))
            time.sleep(max(0.0, interval - (time.monotonic() - now)))
    return outcomes
