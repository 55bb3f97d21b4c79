"""CPU cost of one routed chat completion inside routeyard's process, without Granian.

Drives routeyard's ASGI app (built by ``create_app`` from the environment a user has, on a
SQLite file) directly with in-process ASGI messages, ``--concurrency`` requests at a time, to
a real ``routeyard fake-provider`` on loopback (first token at once, 8 tokens). Next to it, in
the same process and the same run, the pass-through floor (bench/passthrough_app.py: the same
HTTP client, no routing). Reports CPU microseconds per request of this whole process (every
thread: the accounting and access-log writers included), medians over alternated rounds:

    .venv/bin/python -m bench.route_inproc [--requests 3000] [--rounds 5] [--stream]
                                          [--profile]

What it leaves out (Granian's own share, the sockets on the caller's side) the server-level
bench (bench/peers.py) has; this one is steadier on a busy machine and what a change to the
routed path should move. ``--profile`` prints cProfile's heaviest functions of one round.

On a machine too busy for CPU times, count instructions instead (valgrind's cachegrind counts
the same for the same code whatever else runs): the difference between two runs of different
lengths, over the difference in requests, is the instructions one routed request costs:

    for n in 500 2500; do valgrind --tool=cachegrind --cache-sim=no \
      --cachegrind-out-file=/dev/null .venv/bin/python -m bench.route_inproc --requests $n \
      --rounds 1 --only routeyard 2>&1 | grep 'I *refs'; done
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec

from bench.peers import (
    ROUTED_MODEL,
    ROUTEYARD_CATALOG,
    SETTINGS,
    UPSTREAM_MODEL,
    _base_env,
    fake_provider,
    routeyard_argv,
)
from bench.procs import free_port

ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
PATH = "/api/v1/chat/completions"


def _scope(key: str, length: int) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": "POST", "scheme": "http", "path": PATH,
        "raw_path": PATH.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {key}".encode()),
                    (b"content-type", b"application/json"),
                    (b"content-length", str(length).encode())],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def _one(app: ASGI, scope: dict[str, Any], body: bytes) -> int:
    sent = False
    never = asyncio.Event()
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope), receive, send)
    return status


async def _round(app: ASGI, scope: dict[str, Any], body: bytes, requests: int,
                 concurrency: int) -> tuple[float, float, int]:
    """CPU seconds and wall seconds for ``requests``; the count of non-200 answers."""
    bad = 0
    left = requests

    async def worker() -> None:
        nonlocal bad, left
        while left > 0:
            left -= 1
            if await _one(app, scope, body) != 200:
                bad += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await asyncio.sleep(0.3)  # the writers' threads finish this round's records
    return time.process_time() - cpu, time.perf_counter() - wall - 0.3, bad


async def _lifespan(app: ASGI) -> Callable[[], Awaitable[None]]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    done: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    task = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"},
                                      "state": {}}, queue.get, done.put))
    message = await done.get()
    if message["type"] != "lifespan.startup.complete":
        raise SystemExit(f"startup failed: {message}")

    async def stop() -> None:
        await queue.put({"type": "lifespan.shutdown"})
        await done.get()
        await task

    return stop


def _setup(tmp: Path, fake_base: str, extra: dict[str, str]) -> str:
    """The environment of a user's ``routeyard serve`` (ROUTEYARD_* set here and in
    os.environ), a key, and the bench catalog applied with the CLI."""
    data = tmp / "routeyard"
    data.mkdir()
    changed = {"ROUTEYARD_DATABASE_URL": f"sqlite:///{data / 'routeyard.db'}",
               "ROUTEYARD_DATA_DIR": str(data), "ROUTEYARD_LOG_LEVEL": "warning",
               "ROUTEYARD_PROBE_ENABLED": "false", **extra}
    env = {**_base_env(), **changed}
    catalog = tmp / "catalog.toml"
    catalog.write_text(ROUTEYARD_CATALOG.format(
        fake=fake_base, refused=free_port(), routed=ROUTED_MODEL, fallback="bench/unused",
        upstream=UPSTREAM_MODEL), encoding="utf-8")

    def cli(*args: str) -> str:
        return subprocess.run([*routeyard_argv(), *args], env=env, capture_output=True,
                              text=True, check=True, timeout=120).stdout

    key = cli("keys", "create", "--name", "bench").strip().splitlines()[-1]
    cli("catalog", "apply", str(catalog))
    for name in [k for k in os.environ if k.startswith("ROUTEYARD_")]:
        del os.environ[name]
    os.environ.update(changed)
    print("changed from the defaults: " + "; ".join(f"{k}={v}" for k, v in changed.items()))
    return key


async def _main(args: argparse.Namespace, key: str, fake_base: str) -> None:
    from bench import passthrough_app
    from routeyard.app import create_app

    os.environ[passthrough_app.UPSTREAM_ENV] = fake_base + "/v1/chat/completions"
    routed = create_app()
    floor = passthrough_app.create_app()
    stops = [await _lifespan(routed), await _lifespan(floor)]
    body = msgspec.json.encode({"model": ROUTED_MODEL, "stream": args.stream,
                                "messages": [{"role": "user", "content": "Say hello."}]})
    floor_body = msgspec.json.encode({"model": UPSTREAM_MODEL, "stream": args.stream,
                                      "messages": [{"role": "user", "content": "Say hello."}]})
    cases: dict[str, tuple[ASGI, dict[str, Any], bytes]] = {
        "routeyard": (routed, _scope(key, len(body)), body),
        "floor": (floor, _scope(key, len(floor_body)), floor_body),
    }
    if args.only:
        cases = {args.only: cases[args.only]}
    for name, (app, scope, b) in cases.items():  # warm-up
        _, _, bad = await _round(app, scope, b, min(500, args.requests), args.concurrency)
        if bad:
            raise SystemExit(f"{name}: {bad} requests not answered 200 in the warm-up")
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    rate: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (app, scope, b) in cases.items():
            seconds, wall, bad = await _round(app, scope, b, args.requests, args.concurrency)
            if bad:
                raise SystemExit(f"{name}: {bad} requests not answered 200")
            cpu[name].append(seconds / args.requests * 1e6)
            rate[name].append(args.requests / wall)
    print(f"{args.requests} requests x {args.rounds} rounds, {args.concurrency} at a time, "
          f"{'streaming' if args.stream else 'not streaming'}; medians:")
    for name in cases:
        print(f"  {name:9} CPU {statistics.median(cpu[name]):7.1f} us/request, "
              f"least {min(cpu[name]):.1f} "
              f"(rounds: {', '.join(f'{x:.0f}' for x in cpu[name])}); "
              f"{statistics.median(rate[name]):,.0f} req/s")
    if len(cases) == 2:
        own = statistics.median(cpu["routeyard"]) - statistics.median(cpu["floor"])
        least = min(cpu["routeyard"]) - min(cpu["floor"])
        print(f"  routing's own share: {own:.1f} us/request (medians), {least:.1f} (least)")
    if args.profile:
        app, scope, b = cases["routeyard"]
        prof = cProfile.Profile()
        prof.enable()
        await _round(app, scope, b, args.requests, args.concurrency)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(35)
    for stop in stops:
        await stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=3000, help="per round (default 3000)")
    p.add_argument("--rounds", type=int, default=5, help="alternated rounds (default 5)")
    p.add_argument("--concurrency", type=int, default=64, help="requests at a time (64)")
    p.add_argument("--stream", action="store_true", help="streamed requests")
    p.add_argument("--profile", action="store_true", help="cProfile one more round")
    p.add_argument("--set", action="append", default=[], metavar="ROUTEYARD_X=V",
                   help="a setting changed from its default (printed)")
    p.add_argument("--only", choices=("routeyard", "floor"), help="run one of the two")
    args = p.parse_args(argv)
    import uvloop

    with tempfile.TemporaryDirectory(prefix="routeyard-route-inproc-") as name:
        tmp = Path(name)
        fake = fake_provider(tmp, SETTINGS["instant"])
        try:
            key = _setup(tmp, fake.base, dict(x.split("=", 1) for x in args.set))
            uvloop.run(_main(args, key, fake.base))
        finally:
            fake.stop()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
