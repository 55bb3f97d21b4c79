"""What one serving process holds: settings, store, the served snapshot, the key ring and
live health, and the background loops that keep them fresh."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable

from routeyard.accounting.adapt import generation_of
from routeyard.accounting.service import AccountingService
from routeyard.accounting.shared import SharedSpend
from routeyard.config import Settings
from routeyard.errors import RouteyardError, StoreUnavailable
from routeyard.health.minute import MinuteKey, MinuteRecord
from routeyard.keys import KeyRecord, KeyRing, key_prefix
from routeyard.metrics import metrics
from routeyard.models import Catalog
from routeyard.monitor.health import HealthService
from routeyard.monitor.probes import run_round, summary
from routeyard.ratelimit import Limiter
from routeyard.router.preferences import ProviderPreferences, key_defaults
from routeyard.router.record import RoutedRequest, RouteSink
from routeyard.snapshot import Snapshot
from routeyard.store import Store
from routeyard.upstream.client import Timeouts, Upstream

log = logging.getLogger("routeyard")
PRUNE_INTERVAL = 600.0


def _shared_spend(settings: Settings) -> SharedSpend | None:
    if not settings.redis_url:
        return None
    return SharedSpend(settings.redis_url, prefix=settings.redis_key_prefix)


class Runtime:
    def __init__(self, settings: Settings, store: Store, *,
                 upstream: Upstream | None = None) -> None:
        self.settings = settings
        self.store = store
        # The one pooled client to providers, shared by the probes and the router; its
        # session is made on the serving loop at first use and closed by close().
        self.upstream = upstream or Upstream(Timeouts.from_settings(settings))
        self.snapshot = Snapshot(Catalog())  # replaced by load() before serving
        self.keyring = KeyRing([])
        self.versions: dict[str, int] = {}
        self.stale_since: float | None = None
        self._key_use: dict[int, int] = {}
        self.track_key_use = settings.key_last_used
        self._swap = threading.Lock()
        self._refreshing = threading.Lock()
        self.health = HealthService(
            store, settings.health(), retention_margin=settings.health_retention_margin_minutes,
            buffer_limit=settings.health_buffer_limit,
        )
        self.limiter = Limiter.from_settings(settings)  # rate limits (docs/security.md)
        # The router (docs/routing.md): when each endpoint last failed in this process (an
        # outage in the last 30 s sends it last), where each request's record goes (issue
        # 18 sets it; default nowhere), and a key's stored routing defaults (issue 15).
        self.outages: dict[tuple[str, str], float] = {}
        self.route_sink: RouteSink | None = None
        self.key_preferences: Callable[[KeyRecord], ProviderPreferences | None] | None = (
            key_defaults)
        self.accounting = AccountingService(  # generation records, usage, spend limits
            store, retention_days=settings.generation_retention_days,
            buffer_limit=settings.accounting_buffer_limit, shared=_shared_spend(settings))
        self.route_sink = self.record_route

    # -- loading (blocking: call from a thread while serving) ----------------------------

    def load(self) -> None:
        versions = self.store.versions()
        self._load_catalog(versions["catalog"])
        self._load_keys()
        self.accounting.refresh_usage()
        self.versions = versions
        self.refresh_health()

    def _load_catalog(self, version: int) -> None:
        started = time.perf_counter()
        catalog = self.store.read_catalog()
        with self._swap:
            self.snapshot = Snapshot(catalog, self.health.live, version=version)
        log.info("catalog v%d loaded: %d models, %d endpoints in %.0f ms", version,
                 len(catalog.models), self.snapshot.endpoint_count,
                 (time.perf_counter() - started) * 1000)

    def _load_keys(self) -> None:
        self.keyring = KeyRing(self.store.list_keys())

    def refresh(self) -> bool:
        """Reload whatever another process changed; True when something was reloaded.

        Serialized: the background poll and an admin write's own refresh must not both swap
        snapshots, or the slower one could put an older catalog back."""
        with self._refreshing:
            return self._refresh()

    def _refresh(self) -> bool:
        versions = self.store.versions()
        changed = False
        if versions["catalog"] != self.versions.get("catalog"):
            self._load_catalog(versions["catalog"])
            changed = True
        if versions["keys"] != self.versions.get("keys"):
            self._load_keys()
            changed = True
        if versions["usage"] != self.versions.get("usage") or self.accounting.usage_stale():
            self.accounting.refresh_usage()
        self.versions = versions
        if self._key_use:
            used, self._key_use = self._key_use, {}
            self.store.touch_keys(used)
        return changed

    def refresh_health(self) -> None:
        with self._swap:  # never swap in a snapshot built from an older catalog
            changed = self.health.refresh()
            if changed:
                self.snapshot = self.snapshot.with_live(self.health.live, changed)

    def write_health(self, items: Iterable[tuple[MinuteKey, MinuteRecord]]) -> None:
        """Store minute records (the ingest API's); this process serves them on return."""
        changed = self.health.write_live(items)
        if changed:
            with self._swap:  # built from the latest live fields, whoever swapped last
                self.snapshot = self.snapshot.with_live(self.health.live, changed)

    def update_gauges(self) -> None:
        m = metrics()
        m.catalog_models.set(len(self.snapshot.models))
        m.catalog_endpoints.set(self.snapshot.endpoint_count)
        m.catalog_version.set(self.snapshot.version)
        m.catalog_stale.set(0 if self.stale_since is None else time.time() - self.stale_since)
        pending = len(self.health.aggregator)
        m.outcomes_pending.set(pending)
        last = self.health.last_flush_ok
        m.flush_lag.set(0 if not pending or last is None else max(0.0, time.time() - last))
        m.outcomes_dropped.set(self.health.dropped)
        m.generations_pending.set(self.accounting.pending())
        m.generations_dropped.set(self.accounting.dropped)

    # -- request-path helpers ----------------------------------------------------------

    def note_outage(self, endpoint: tuple[str, str], at: float) -> None:
        """An attempt at ``endpoint`` failed at ``at`` (unix seconds)."""
        outages = self.outages
        outages[endpoint] = at
        if len(outages) > 10_000:  # bounded: forget what no longer counts
            for stale in [k for k, t in outages.items() if at - t > 60]:
                del outages[stale]

    def note_key_use(self, key_id: int) -> None:
        self._key_use[key_id] = int(time.time())

    def look_up_key(self, key: str) -> KeyRecord | None:
        """A key the key ring does not hold, looked up in the database before it is refused:
        a key made a moment ago (``routeyard keys create``) works at once, before the next
        refresh. Unknown keys are remembered by the ring (bounded), so guessing costs one
        lookup per guess, and the failed-authentication throttle bounds the guesses. Not
        while the database is unreachable."""
        ring = self.keyring
        if ring.missing(key) or self.stale_since is not None:
            return None
        try:
            record = self.store.key_by_prefix(key_prefix(key))
        except StoreUnavailable:
            return None
        return ring.learn(key, record)

    def stale_headers(self) -> dict[str, str] | None:
        if self.stale_since is None:
            return None
        return {"x-routeyard-stale": f"database unreachable for {time.time() - self.stale_since:.0f}s"}

    # -- background --------------------------------------------------------------------

    async def _every(self, interval: float, step: Callable[[], object], name: str) -> None:
        interval = max(0.05, interval)
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(step)
                if name == "refresh" and self.stale_since is not None:
                    log.warning("database reachable again after %.0fs; catalog is fresh",
                                time.time() - self.stale_since)
                    self.stale_since = None
            except StoreUnavailable as exc:
                if name == "refresh" and self.stale_since is None:
                    self.stale_since = time.time()
                    log.error("database unreachable, serving the last known catalog: %s", exc)
                else:
                    log.debug("%s: database unreachable: %s", name, exc)
            except RouteyardError as exc:
                log.error("%s failed: %s", name, exc)
            except Exception:  # a bug in one loop must not stop the others
                log.exception("%s failed", name)

    # -- probes (docs/health.md, "Probes") ------------------------------------------------

    def _take_probe_lease(self) -> bool:
        """Take or renew the "prober" lease, so that one process among every worker and
        replica probes. It outlives a few missed rounds, then another process takes over."""
        s = self.settings
        ttl = 3 * s.probe_interval + s.probe_jitter + s.probe_timeout
        return self.store.acquire_lease("prober", self.health.writer, time.time(), ttl)

    async def _probe_loop(self) -> None:
        """Every ``probe_interval`` seconds plus up to ``probe_jitter``, one probe round of the
        served catalog if this process holds the lease; outcomes go to ``self.health``."""
        s = self.settings
        while True:
            await asyncio.sleep(max(0.05, s.probe_interval)
                                + random.uniform(0.0, max(0.0, s.probe_jitter)))
            try:
                if not await asyncio.to_thread(self._take_probe_lease):
                    continue
                started = time.perf_counter()
                results = await run_round(
                    self.snapshot.catalog, self.health.record, timeout=s.probe_timeout,
                    concurrency=s.probe_concurrency, max_tokens=s.probe_max_tokens,
                    client=self.upstream)
                counts = ", ".join(f"{n} {label}" for label, n in sorted(summary(results).items()))
                log.info("probe round: %s in %.0f ms", counts or "nothing to probe",
                         (time.perf_counter() - started) * 1000)
            except StoreUnavailable as exc:
                log.debug("probe: database unreachable: %s", exc)
            except RouteyardError as exc:
                log.error("probe failed: %s", exc)
            except Exception:  # a bug in the prober must not stop it for good
                log.exception("probe failed")

    def tasks(self) -> list[asyncio.Task[None]]:
        s = self.settings
        return [
            asyncio.create_task(self._every(s.refresh_interval, self.refresh, "refresh")),
            asyncio.create_task(self._every(s.health_flush_interval, self.health.flush, "flush")),
            asyncio.create_task(
                self._every(s.health_refresh_interval, self.refresh_health, "health")),
            asyncio.create_task(self._every(PRUNE_INTERVAL, self.health.prune, "prune")),
            asyncio.create_task(self._every(s.accounting_flush_interval, self.flush_accounting,
                                            "accounting")),
            asyncio.create_task(self._every(PRUNE_INTERVAL, self.accounting.prune,
                                            "generation prune")),
            asyncio.create_task(self._every(s.refresh_interval, self.update_gauges, "gauges")),
            *([asyncio.create_task(self._probe_loop())] if s.probe_enabled else []),
        ]

    def record_route(self, routed: RoutedRequest) -> None:
        """The router's sink: its record of a request, as a generation record."""
        providers = self.snapshot.providers

        def name(slug: str) -> str | None:
            provider = providers.get(slug)
            return provider.name if provider is not None else None

        generation = generation_of(routed, name)
        if generation is not None:
            self.accounting.record(generation)

    def flush_accounting(self) -> None:
        """Write pending generation records, then serve the usage they added."""
        if self.accounting.flush():
            self.accounting.refresh_usage()

    async def close(self) -> None:
        """Flush what is buffered: generation records, outcome counts and key use."""
        try:
            await asyncio.to_thread(self.accounting.flush)
        except RouteyardError as exc:
            log.error("could not flush generation records on shutdown (%d lost): %s",
                      self.accounting.pending(), exc)
        try:
            await asyncio.to_thread(self.health.flush)
        except RouteyardError as exc:
            log.error("could not flush outcomes on shutdown (%d endpoint-minutes lost): %s",
                      len(self.health.aggregator), exc)
        if self._key_use:
            used, self._key_use = self._key_use, {}
            try:
                await asyncio.to_thread(self.store.touch_keys, used)
            except RouteyardError as exc:
                log.warning("could not record key use on shutdown: %s", exc)
        self.limiter.close()
        await self.upstream.close()
        if self.accounting.shared is not None:
            self.accounting.shared.close()
