"""Live health for one serving process: record outcomes cheaply, flush them, and keep the
live fields of every endpoint computed from what every process wrote.

Recording only touches an in-memory :class:`Aggregator`. A background task flushes it into
this process's own rows (``writer`` is random per process), so a retried flush never races
another process. Another task reads the rows every process changed since its last read,
keeps the last day in memory, and recomputes the live fields of the endpoints whose rows
changed (all of them when the minute turns, since windows slide). The request path only
reads the precomputed result.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from routeyard.errors import StoreError
from routeyard.health.minute import Aggregator, MinuteKey, MinuteRecord, minute_of
from routeyard.health.outcomes import Outcome
from routeyard.health.window import (
    WINDOW_1D,
    EndpointKey,
    HealthSettings,
    LiveStats,
    live_stats,
    retention_cutoff,
)
from routeyard.metrics import metrics
from routeyard.store import Store

log = logging.getLogger("routeyard.health")
# Rows changed this close to the last read are read again: covers clock skew between writers.
READ_OVERLAP_SECONDS = 5.0


class HealthService:
    def __init__(self, store: Store, settings: HealthSettings, *, retention_margin: int = 60,
                 buffer_limit: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.settings = settings
        self.retention_margin = retention_margin
        self.buffer_limit = buffer_limit
        self.clock = clock
        self.writer = secrets.token_hex(8)
        self.aggregator = Aggregator()
        self.dropped = 0  # endpoint-minutes dropped because the buffer was full
        self.flushed = 0
        self.last_flush_ok: float | None = None
        # endpoint -> (minute, writer) -> record, for the last day plus the margin
        self._rows: dict[EndpointKey, dict[tuple[int, str], MinuteRecord]] = {}
        self._read_since = 0.0
        self._computed_minute: int | None = None
        self.live: dict[EndpointKey, LiveStats] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    # -- recording (any thread, cheap) ---------------------------------------------------

    def record(self, outcome: Outcome) -> None:
        self.aggregator.record(outcome)
        m = metrics()
        m.child(m.outcomes, outcome.source.value, outcome.result.value).inc()

    # -- flushing --------------------------------------------------------------------------

    def flush(self) -> int:
        """Write pending counts; on failure they go back to the buffer (bounded)."""
        items = self.aggregator.drain()
        if not items:
            return 0
        try:
            self.write(items)
        except StoreError:
            self.aggregator.restore(items)
            self._bound_buffer()
            raise
        self.flushed += len(items)
        self.last_flush_ok = self.clock()
        return len(items)

    def write(self, items: Iterable[tuple[MinuteKey, MinuteRecord]]) -> int:
        """Merge ``items`` into this process's rows; returns how many rows were written.
        Serialized: the flush loop and ingest requests share the writer id, and two
        read-merge-writes of one row must not race."""
        with self._write_lock:
            return len(self._merge(items))

    def _merge(self, items: Iterable[tuple[MinuteKey, MinuteRecord]]
               ) -> dict[MinuteKey, MinuteRecord]:
        return self.store.merge_health(self.writer, items, self.clock())

    def write_live(self, items: Iterable[tuple[MinuteKey, MinuteRecord]]) -> set[str]:
        """:meth:`write`, then serve ``items`` at once; returns the model ids whose live fields
        changed, as :meth:`refresh` does.

        No other process writes this process's rows, so once committed they hold exactly the
        records the merge computed: those are put in memory as they are and only their
        endpoints recomputed, instead of reading back every row changed lately. Other
        processes' rows come with the next :meth:`refresh`. Done under the write lock, so
        batches reach memory in the order they were written. When the minute has turned,
        windows slid: this is a full :meth:`refresh` instead."""
        with self._write_lock:
            written = self._merge(items)
            with self._lock:
                now = self.clock()
                if minute_of(now) != self._computed_minute:
                    return self._refresh(now)
                for key, record in written.items():
                    rows = self._rows.setdefault((key.model_id, key.tag), {})
                    rows[(key.minute, self.writer)] = record
                return self._recompute({(key.model_id, key.tag) for key in written}, now)

    def _bound_buffer(self) -> None:
        excess = len(self.aggregator) - self.buffer_limit
        if excess <= 0:
            return
        pending = self.aggregator.drain()
        keep = pending[:]
        keep.sort(key=lambda item: item[0].minute)
        dropped, keep = keep[:excess], keep[excess:]
        self.aggregator.restore(keep)
        self.dropped += len(dropped)
        log.warning("health buffer full: dropped %d endpoint-minutes (total %d)",
                    len(dropped), self.dropped)

    # -- reading and computing ------------------------------------------------------------

    def refresh(self) -> set[str]:
        """Read changed rows and recompute; returns the model ids whose live fields changed.
        Serialized with :meth:`write_live`, which changes the same rows in memory."""
        with self._lock:
            return self._refresh(self.clock())

    def _refresh(self, now: float) -> set[str]:
        cutoff = retention_cutoff(now, self.retention_margin)
        since = max(0.0, self._read_since - READ_OVERLAP_SECONDS)
        rows = self.store.read_health(updated_since=since, min_minute=cutoff)
        self._read_since = now
        touched: set[EndpointKey] = set()
        for key, writer, record, _updated in rows:
            endpoint = (key.model_id, key.tag)
            self._rows.setdefault(endpoint, {})[(key.minute, writer)] = record
            touched.add(endpoint)
        minute = minute_of(now)
        if minute != self._computed_minute:
            # Windows slid: drop what fell out of every window and recompute everything.
            for endpoint in list(self._rows):
                kept = {k: r for k, r in self._rows[endpoint].items() if k[0] >= cutoff}
                if kept:
                    self._rows[endpoint] = kept
                else:
                    del self._rows[endpoint]
            touched = set(self._rows) | set(self.live)
            self._computed_minute = minute
        return self._recompute(touched, now)

    def _recompute(self, touched: set[EndpointKey], now: float) -> set[str]:
        """Live fields of the ``touched`` endpoints from the rows held; a new :attr:`live`
        (the old one may be served still). Returns the model ids whose live fields changed."""
        changed: set[str] = set()
        live = dict(self.live)
        for endpoint in touched:
            rows_of = self._rows.get(endpoint)
            if not rows_of:
                if live.pop(endpoint, None) is not None:
                    changed.add(endpoint[0])
                continue
            stats = live_stats(((m, r) for (m, _w), r in rows_of.items()), now, self.settings)
            if live.get(endpoint) != stats:
                live[endpoint] = stats
                changed.add(endpoint[0])
        self.live = live
        return changed

    def records_for(self, endpoint: EndpointKey) -> Iterator[tuple[int, MinuteRecord]]:
        """The endpoint's minute records held for the last day, as ``(minute, record)``
        pairs (one per writer: several of one minute add up). Read-only, for display; read
        it once. It walks a copy (taken at once, under the GIL), so a concurrent refresh does
        not disturb it, and allocates nothing that outlives a step: a day of records of many
        endpoints would otherwise wake the garbage collector over the whole heap."""
        rows = self._rows.get(endpoint)
        if not rows:
            return iter(())
        held = dict(rows)
        return ((minute, record) for (minute, _writer), record in held.items())

    def prune(self) -> int:
        return self.store.prune_health(retention_cutoff(self.clock(), self.retention_margin))

    def window_minutes(self) -> int:
        return WINDOW_1D + self.retention_margin
