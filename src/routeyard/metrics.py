"""Prometheus metrics, correct with several worker processes.

With more than one worker, ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory before the workers start; prometheus-client then keeps each process's values in
memory-mapped files there (the request meter, :class:`RequestMeter`, files of its own) and
``/metrics`` adds them up. Metrics are created lazily on first
use (nothing is registered at import).
"""

from __future__ import annotations

import asyncio
import os
import time
from bisect import bisect_left
from collections.abc import Iterable
from functools import cache
from itertools import accumulate
from typing import Any

import msgspec
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Every label value comes from a closed set: a client must not be able to add series. Routes
# are the app's path templates ("unmatched" for the rest); other methods count as "other".
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        multi = bool(os.environ.get(MULTIPROC_ENV))
        if multi:
            _use_multiprocess_values()
        r = self.registry

        def gauge(name: str, doc: str, mode: str, labels: tuple[str, ...] = ()) -> Gauge:
            kwargs: dict[str, Any] = {"multiprocess_mode": mode} if multi else {}
            return Gauge(name, doc, labels, registry=r, **kwargs)

        self.meter = RequestMeter(os.environ[MULTIPROC_ENV] if multi else None)
        r.register(self.meter)
        self.catalog_models = gauge("routeyard_catalog_models", "Models in the served catalog", "max")
        self.catalog_endpoints = gauge("routeyard_catalog_endpoints",
                                       "Endpoints in the served catalog", "max")
        self.catalog_version = gauge("routeyard_catalog_version",
                                     "Version of the served catalog", "max")
        self.catalog_stale = gauge("routeyard_catalog_stale_seconds",
                                   "Seconds the database has been unreachable (0: fresh)", "max")
        self.outcomes = Counter("routeyard_outcomes", "Outcomes recorded, by source and result",
                                ("source", "result"), registry=r)
        self.outcomes_pending = gauge("routeyard_outcomes_pending",
                                      "Endpoint-minutes waiting to be flushed", "livesum")
        self.flush_lag = gauge("routeyard_outcomes_flush_lag_seconds",
                               "Seconds since the last successful flush while outcomes wait",
                               "max")
        self.outcomes_dropped = gauge("routeyard_outcomes_dropped",
                                      "Endpoint-minutes dropped because the buffer was full",
                                      "livesum")
        self.rate_limit_fallback = gauge(
            "routeyard_rate_limit_local_fallback",
            "1 while rate limits fall back to per-process counting (Redis unreachable)", "max")
        self.refused = Counter("routeyard_requests_refused",
                               "Requests refused by an abuse or spend limit, by reason "
                               "(rate_limit, spend_limit, auth_failures, path_length, "
                               "header_bytes)", ("reason",),
                               registry=r)

        # The router (docs/routing.md, "Metrics"). provider: a catalog provider slug;
        # result: an outcome result (health.outcomes.Result) or "cancelled".
        self.route_attempts = Counter("routeyard_route_attempts",
                                      "Routed attempts at an endpoint, by provider and result",
                                      ("provider", "result"), registry=r)
        self.route_fallbacks = Counter("routeyard_route_fallbacks",
                                       "Routed requests that moved past an endpoint, by the "
                                       "provider moved from", ("provider",), registry=r)
        self.route_ttft = Histogram("routeyard_route_ttft_seconds",
                                    "Time to the first token of a routed answer, by provider",
                                    ("provider",), buckets=TTFT_BUCKETS, registry=r)
        self.route_overhead = Histogram("routeyard_route_overhead_seconds",
                                        "routeyard's own time in a routed request (everything "
                                        "but waiting for the upstream)", buckets=OVERHEAD_BUCKETS,
                                        registry=r)
        # Accounting (docs/accounting.md): labels are catalog ids (model, provider slug), a
        # closed set; "none" when no endpoint answered.
        self.generations = Counter("routeyard_generations",
                                   "Routed requests recorded, by model and provider",
                                   ("model", "provider"), registry=r)
        self.generation_tokens = Counter(
            "routeyard_generation_tokens",
            "Tokens of routed requests by model, provider and kind (prompt, completion, "
            "reasoning, cached)", ("model", "provider", "kind"), registry=r)
        self.generation_cost = Counter("routeyard_generation_cost_usd",
                                       "Cost of routed requests in USD, by model and provider",
                                       ("model", "provider"), registry=r)
        self.generations_pending = gauge("routeyard_generations_pending",
                                         "Generation records waiting to be flushed", "livesum")
        self.generations_dropped = gauge(
            "routeyard_generations_dropped",
            "Generation records dropped because the buffer was full", "livesum")

        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        # Counter increments of the request path, added up here and handed to
        # prometheus-client by push(): its inc takes a lock (and with several workers writes
        # a shared file) each time, ~2 µs, five times a routed request.
        self._counts: dict[tuple[Any, tuple[str, ...]], float] = {}

    def count(self, metric: Counter, labels: tuple[str, ...], amount: float = 1.0) -> None:
        """``metric.labels(*labels).inc(amount)``, from the event loop's thread, counted at
        the next :meth:`push` (each second, and before /metrics is rendered)."""
        key = (metric, labels)
        counts = self._counts
        counts[key] = counts.get(key, 0.0) + amount

    def push(self) -> None:
        """Hand the counts since the last push to the counters (event loop's thread)."""
        counts, self._counts = self._counts, {}
        for (metric, labels), amount in counts.items():
            self.child(metric, *labels).inc(amount)

    async def push_loop(self, interval: float = 1.0) -> None:
        """Each ``interval`` seconds: :meth:`push`, and the request meter's file written."""
        while True:
            await asyncio.sleep(interval)
            self.push()
            self.meter.flush()

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, kept: prometheus-client checks and looks the labels
        up under a lock on every call (~2 µs), and the request path asks for the same few
        children thousands of times a second. Label values are catalog ids and fixed
        words, so the cache is as bounded as the metrics themselves."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def render(self) -> tuple[bytes, str]:
        self.push()
        self.meter.flush()
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            registry.register(self.meter)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _use_multiprocess_values() -> None:
    """Make prometheus-client keep values in the shared files. It chooses its storage once,
    when first imported, by whether ``PROMETHEUS_MULTIPROC_DIR`` is present then; if it was
    imported before the variable was set (in ``serve``'s process, whose workers are forked),
    every worker would count in memory only and /metrics would add up nothing."""
    if values.ValueClass.__name__ != "MmapedValue":
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


REQUESTS = "routeyard_requests"
LATENCY = "routeyard_request_duration_seconds"
_REQUESTS_HELP = "HTTP requests by route, method and status"
_LATENCY_HELP = "Time to answer a request, by route"
_LE = (*(floatToGoString(b) for b in LATENCY_BUCKETS), "+Inf")  # type: ignore[no-untyped-call]
_Key = tuple[str, str, int]  # route, method, status
_Rows = dict[_Key, list[float]]  # a count per bucket (one per bound and +Inf), then the sum
_FILE_PREFIX = "routeyard_requests_"


class RequestMeter(Collector):
    """``routeyard_requests`` and ``routeyard_request_duration_seconds``, counted in plain
    Python per request (a few list operations: prometheus-client takes a lock, and with
    several workers writes a shared file, per value change) and rendered by this collector,
    exactly as a Counter and a Histogram with the same names, labels and buckets render.

    With several workers (``directory``, the ``PROMETHEUS_MULTIPROC_DIR``), :meth:`flush`
    writes this process's totals to a file of its own there when they changed (before this
    process renders /metrics, and each second from :meth:`Metrics.push_loop`), and :meth:`collect`
    adds up every process's file, so a scrape sees the other workers' requests within a
    second; a file outlives its worker, as prometheus-client's counters do. Used from the
    event loop's thread only."""

    def __init__(self, directory: str | None = None) -> None:
        self._dir = directory
        self._rows: _Rows = {}
        self._created: dict[_Key, float] = {}  # one process only (the files keep none)
        self._changed = False
        self._width = len(LATENCY_BUCKETS) + 2

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method if method in METHODS else "other", status)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = [0.0] * self._width
            self._created[key] = time.time()
        row[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # as Histogram: value <= bound
        row[-1] += seconds
        self._changed = True

    def flush(self) -> None:
        if self._dir is None or not self._changed:
            return
        self._changed = False
        path = os.path.join(self._dir, f"{_FILE_PREFIX}{os.getpid()}.json")
        with open(path + ".tmp", "wb") as f:
            f.write(msgspec.json.encode([[*k, row] for k, row in self._rows.items()]))
        os.replace(path + ".tmp", path)  # a reader sees the old totals or the new, whole

    def _totals(self) -> _Rows:
        if self._dir is None:
            return self._rows
        totals: _Rows = {}
        for name in sorted(os.listdir(self._dir)):
            if not (name.startswith(_FILE_PREFIX) and name.endswith(".json")):
                continue
            with open(os.path.join(self._dir, name), "rb") as f:
                rows = msgspec.json.decode(f.read(), type=list[tuple[str, str, int, list[float]]])
            for route, method, status, row in rows:
                total = totals.setdefault((route, method, status), [0.0] * self._width)
                for i, value in enumerate(row):
                    total[i] += value
        return totals

    def describe(self) -> Iterable[Metric]:
        return [CounterMetricFamily(REQUESTS, _REQUESTS_HELP, labels=("route", "method", "status")),
                HistogramMetricFamily(LATENCY, _LATENCY_HELP, labels=("route",))]

    def collect(self) -> Iterable[Metric]:
        totals = self._totals()
        created = self._created if self._dir is None else {}
        requests = CounterMetricFamily(REQUESTS, _REQUESTS_HELP,
                                       labels=("route", "method", "status"))
        by_route: dict[str, list[float]] = {}
        route_created: dict[str, float] = {}
        for (route, method, status), row in totals.items():
            requests.add_metric((route, method, str(status)), sum(row[:-1]),
                                created=created.get((route, method, status)))
            total = by_route.setdefault(route, [0.0] * self._width)
            for i, value in enumerate(row):
                total[i] += value
            if (route, method, status) in created:
                at = created[(route, method, status)]
                route_created[route] = min(at, route_created.get(route, at))
        latency = HistogramMetricFamily(LATENCY, _LATENCY_HELP, labels=("route",))
        for route, row in by_route.items():
            cumulative = list(accumulate(row[:-1]))
            latency.add_metric((route,), list(zip(_LE, cumulative, strict=True)), row[-1])
            if route in route_created:
                latency.add_sample(LATENCY + "_created", {"route": route}, route_created[route])
        return [requests, latency]


@cache
def metrics() -> Metrics:
    """The process's metrics, created on first use."""
    return Metrics()
