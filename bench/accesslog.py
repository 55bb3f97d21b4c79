"""The access log's alternatives, per request, in process: CPU time on the event loop (what
every request waits for) and in all (what the worker's one core pays).

1. ``logging`` on the event loop: a record per request through the text handler (what
   routeyard did before the access log had a thread of its own).
2. Granian's own access log (``log_access=True``): its per-request dict, a ``strftime``
   and a ``logging`` call, on the event loop; it cannot carry our request id (only request
   headers) nor the key name.
3. Batched writes on the event loop: a tuple queued per request, formatted and written in
   batches by a task on the loop.
4. A queue and a writer thread (routeyard's): a tuple queued per request; the thread
   formats and writes batches.

The lines go to /dev/null. ``python -m bench.accesslog [--requests 100000]``
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import time
from collections.abc import Callable

from routeyard.accesslog import AccessLog, format_lines

PATH = "/api/v1/models/bench/eight/endpoints"


def _cpu(fn: Callable[[], None]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def _null_logger(name: str, fmt: str) -> logging.Logger:
    logger = logging.getLogger(name)
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
    handler.setFormatter(logging.Formatter(fmt))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def with_logging(n: int) -> tuple[float, float]:
    access = _null_logger("bench.access", "%(asctime)s %(levelname)s %(name)s: %(message)s")

    def run() -> None:
        for i in range(n):
            elapsed = 0.000312
            access.info("%s %s %d %.1fms", "GET", PATH, 200, elapsed * 1000,
                        extra={"request_id": f"ab12cd34{i:08x}", "method": "GET", "path": PATH,
                               "status": 200, "duration_ms": round(elapsed * 1000, 2)})

    loop = _cpu(run)
    return loop, loop


def with_granian(n: int) -> tuple[float, float]:
    from granian.log import log_request_builder

    _null_logger("granian.access", "%(message)s")
    log_request = log_request_builder('%(addr)s - "%(method)s %(path)s %(protocol)s" '
                                      "%(status)d %(dt_ms).3f")
    scope = {"client": ("127.0.0.1", 50000), "http_version": "1.1", "path": PATH,
             "query_string": b"", "method": "GET", "scheme": "http"}

    def run() -> None:
        for _ in range(n):
            rt, mt = time.time(), time.perf_counter()
            data = {"addr_remote": scope["client"][0],  # as granian.asgi._access_log
                    "protocol": "HTTP/" + str(scope["http_version"]), "path": scope["path"],
                    "qs": scope["query_string"].decode("latin-1"),  # type: ignore[attr-defined]
                    "method": scope.get("method", "-"), "scheme": scope["scheme"]}
            log_request(rt, mt, data, 200)

    loop = _cpu(run)
    return loop, loop


def _entries(n: int) -> list[tuple[float, str, str, int, float, str, str | None, None]]:
    now = time.perf_counter()
    return [(now, "GET", PATH, 200, 0.000312, f"ab12cd34{i:08x}", "bench", None)
            for i in range(n)]


def batched_on_loop(n: int, batch: int = 500) -> tuple[float, float]:
    out = open(os.devnull, "w")  # noqa: SIM115
    entries = _entries(n)
    queued: list[object] = []

    def run() -> None:
        append = queued.append
        for i, entry in enumerate(entries):
            append(entry)
            if i % batch == batch - 1:  # the periodic task's turn
                out.write(format_lines(queued, "text"))  # type: ignore[arg-type]
                out.flush()
                queued.clear()

    loop = _cpu(run)
    return loop, loop


def queue_and_thread(n: int) -> tuple[float, float]:
    log = AccessLog("text")
    stream = open(os.devnull, "w")  # noqa: SIM115
    handler_stream = io.TextIOWrapper(io.BufferedWriter(io.FileIO(stream.fileno(), "w",
                                                                  closefd=False)))
    entries = _entries(n)
    add = log.add

    def run() -> None:
        for entry in entries:
            add(entry)

    loop = _cpu(run)
    started = time.process_time()
    queue = list(log._queue)
    log._queue.clear()
    for i in range(0, len(queue), 256):
        handler_stream.write(format_lines(queue[i:i + 256], "text"))
        handler_stream.flush()
    return loop, loop + time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=100_000)
    n = parser.parse_args().requests
    print(f"{'alternative':<42} {'on the event loop':>18} {'in all':>10}  (CPU µs/request)")
    for name, fn in [("1. logging on the event loop", with_logging),
                     ("2. Granian's access log", with_granian),
                     ("3. batched writes on the event loop", batched_on_loop),
                     ("4. queue + writer thread (routeyard)", queue_and_thread)]:
        fn(min(n, 5000))  # warm-up
        loop, total = fn(n)
        print(f"{name:<42} {loop / n * 1e6:>18.2f} {total / n * 1e6:>10.2f}")


if __name__ == "__main__":
    main()
