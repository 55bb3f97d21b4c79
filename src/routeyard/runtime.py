"""What one serving process holds: settings, store, the served snapshot and key ring,
and the background loop that keeps them fresh."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cached_property

from routeyard.api.snapshot import Body, Snapshot
from routeyard.config import Settings
from routeyard.errors import RouteyardError, StoreUnavailable
from routeyard.keys import KeyRing
from routeyard.store import Store

log = logging.getLogger("routeyard")


class Runtime:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.snapshot = Snapshot.__new__(Snapshot)  # replaced by load() before serving
        self.keyring = KeyRing([])
        self.versions: dict[str, int] = {}
        self.stale_since: float | None = None
        self._key_use: dict[int, int] = {}

    @cached_property
    def openapi(self) -> Body:
        from routeyard.api.routes import openapi_body

        return openapi_body()

    # -- loading -----------------------------------------------------------------------

    def load(self) -> None:
        """Read versions, catalog and keys (blocking; call from a thread when serving)."""
        versions = self.store.versions()
        self._load_catalog(versions["catalog"])
        self._load_keys()
        self.versions = versions

    def _load_catalog(self, version: int) -> None:
        started = time.perf_counter()
        catalog = self.store.read_catalog()
        self.snapshot = Snapshot(catalog, version=version)
        log.info("catalog v%d loaded: %d models, %d endpoints in %.0f ms", version,
                 len(catalog.models), self.snapshot.endpoint_count,
                 (time.perf_counter() - started) * 1000)

    def _load_keys(self) -> None:
        self.keyring = KeyRing(self.store.list_keys())

    def refresh(self) -> bool:
        """Reload whatever another process changed; True when something was reloaded."""
        versions = self.store.versions()
        changed = False
        if versions["catalog"] != self.versions.get("catalog"):
            self._load_catalog(versions["catalog"])
            changed = True
        if versions["keys"] != self.versions.get("keys"):
            self._load_keys()
            changed = True
        self.versions = versions
        if self._key_use:
            used, self._key_use = self._key_use, {}
            self.store.touch_keys(used)
        return changed

    # -- request-path helpers ----------------------------------------------------------

    def note_key_use(self, key_id: int) -> None:
        self._key_use[key_id] = int(time.time())

    def stale_headers(self) -> dict[str, str] | None:
        if self.stale_since is None:
            return None
        return {"x-routeyard-stale": f"database unreachable for {time.time() - self.stale_since:.0f}s"}

    # -- background --------------------------------------------------------------------

    async def run(self) -> None:
        """Poll for changes every ``refresh_interval`` seconds until cancelled."""
        interval = max(0.05, float(self.settings.refresh_interval))
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.refresh)
                if self.stale_since is not None:
                    log.warning("database reachable again; catalog is fresh")
                self.stale_since = None
            except StoreUnavailable as exc:
                if self.stale_since is None:
                    self.stale_since = time.time()
                    log.error("database unreachable, serving the last known catalog: %s", exc)
            except RouteyardError as exc:  # pragma: no cover - logged, loop keeps going
                log.error("refresh failed: %s", exc)

    async def close(self) -> None:
        if self._key_use:
            used, self._key_use = self._key_use, {}
            try:
                await asyncio.to_thread(self.store.touch_keys, used)
            except RouteyardError as exc:
                log.warning("could not record key use on shutdown: %s", exc)
