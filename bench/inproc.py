"""Per-request CPU cost of the ASGI app itself, without a server or a network.

Calls routeyard's ASGI app (and the constant-bytes baseline) directly in a loop with a fixed
scope, and reports CPU microseconds per request. Much less noisy than a load test on a shared
machine, and what a hot-path change should move; run it before and after a change:

    .venv/bin/python -m bench.inproc [--requests 20000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import catalog_gen
from bench.scenarios import BAD_KEY, UNKNOWN, endpoints_path

ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
        "root_path": "", "query_string": b"", "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1:8000"),
                    *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "state": {},
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def per_request(app: ASGI, sc: dict[str, Any], n: int) -> tuple[float, int]:
    """(microseconds per request, status of the last answer). CPU time of the whole
    process, the access log's writer thread included (its queue is written out before the
    clock stops)."""
    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    for _ in range(min(n, 500)):  # warm-up
        await app(dict(sc, headers=list(sc["headers"]), state={}), _receive, send)
    started = time.process_time()  # CPU time: robust to other processes sharing the CPU
    for _ in range(n):
        await app(dict(sc, headers=list(sc["headers"]), state={}), _receive, send)
    access_log = getattr(app, "access_log", None)
    if hasattr(access_log, "flush"):
        access_log.flush()
    return (time.process_time() - started) / n * 1e6, status


async def _lifespan(app: ASGI) -> Callable[[], Awaitable[None]]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await queue.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            if message["type"].endswith("failed"):
                raise RuntimeError(message.get("message"))
            started.set()

    lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

    async def run() -> None:
        await app(lifespan, receive, send)

    task = asyncio.create_task(run())
    await queue.put({"type": "lifespan.startup"})
    await started.wait()

    async def stop() -> None:
        await queue.put({"type": "lifespan.shutdown"})
        await task

    return stop


# The 8-endpoint route with each per-request cost that is on by default switched off.
PRICES: list[tuple[str, dict[str, Any]]] = [
    ("access log off", {"access_log": False}),
    ("metrics off", {"metrics": False}),
    ("rate-limit bookkeeping off", {"auth_failure_limit": 0}),
    ("key-use notes off", {"key_last_used": False}),
    ("all four off", {"access_log": False, "metrics": False, "auth_failure_limit": 0,
                      "key_last_used": False}),
]


async def measure(n: int, profile: bool, prices: bool) -> None:
    from routeyard.app import create_app
    from routeyard.config import Settings
    from routeyard.service import load_starter
    from routeyard.store import Store

    # Settings at their defaults (the access log on, at level info), as `routeyard serve`
    # has them, but no probes; the log lines go to /dev/null, not the terminal.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115, ASYNC230 (for the whole run)

    tmp = Path(tempfile.mkdtemp(prefix="routeyard-inproc-"))
    url = f"sqlite:///{tmp / 'inproc.db'}"
    store = Store(url)
    store.ensure_schema()
    load_starter(store)
    store.apply_catalog(catalog_gen.generate(0), source="bench")
    key, _ = store.create_key("bench", "read")
    settings = Settings.load(database_url=url, probe_enabled=False)
    app: ASGI = create_app(settings, store=store)
    stop = await _lifespan(app)
    auth = {"Authorization": f"Bearer {key}"}
    etag = app.runtime.snapshot.lookup(catalog_gen.EIGHT).full.etag  # type: ignore[attr-defined]
    cases = [
        ("endpoints, 8 endpoints", endpoints_path(catalog_gen.EIGHT), auth),
        ("endpoints, 60 endpoints", endpoints_path(catalog_gen.SIXTY), auth),
        ("304 revalidation (8)", endpoints_path(catalog_gen.EIGHT), {**auth, "If-None-Match": etag}),
        ("/models", "/api/v1/models", auth),
        ("404 unknown model", endpoints_path(UNKNOWN), auth),
    ]
    baseline = constant_app()
    base_us, _ = await per_request(baseline, scope("/", {}), n)
    out = sys.__stdout__
    print(f"{'baseline (constant bytes)':<28} {base_us:7.1f} us/request", file=out)
    profiler = None
    if profile:
        try:
            from pyinstrument import Profiler
        except ImportError:
            raise SystemExit("--profile needs pyinstrument: .venv/bin/pip install pyinstrument") from None

        profiler = Profiler(interval=0.0001)
        profiler.start()
    for name, path, headers in cases:
        us, status = await per_request(app, scope(path, headers), n)
        print(f"{name:<28} {us:7.1f} us/request  ({status}; {us - base_us:+.1f} over baseline)",
              file=out)
    await stop()
    # The bad key on an app without the failed-authentication throttle (else: 429s).
    app = create_app(settings.replace(auth_failure_limit=0), store=store)
    stop = await _lifespan(app)
    us, status = await per_request(app, scope(endpoints_path(catalog_gen.EIGHT),
                                              {"Authorization": f"Bearer {BAD_KEY}"}), n)
    print(f"{'401 bad key':<28} {us:7.1f} us/request  ({status}; {us - base_us:+.1f} over "
          "baseline; AUTH_FAILURE_LIMIT=0)", file=out)
    await stop()
    for name, changes in PRICES if prices else []:
        app = create_app(settings.replace(**changes), store=store)
        stop = await _lifespan(app)
        us, status = await per_request(app, scope(endpoints_path(catalog_gen.EIGHT), auth), n)
        print(f"{'endpoints (8), ' + name:<28} {us:7.1f} us/request  ({status}; "
              f"{us - base_us:+.1f} over baseline)", file=out)
        await stop()
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False), file=out)
    store.dispose()


def constant_app() -> ASGI:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true", help="pyinstrument over all cases")
    parser.add_argument("--no-prices", action="store_true",
                        help="skip the 8-endpoint route with each per-request cost off")
    args = parser.parse_args()
    asyncio.run(measure(args.requests, args.profile, not args.no_prices))


if __name__ == "__main__":
    main()
