"""Accounting for one serving process: the sink of generation records, the batch writer,
each key's usage as every replica sees it, and the spend-limit pre-check.

:meth:`AccountingService.record` only appends to memory (the request path). A background task
(:meth:`flush`, every ``accounting_flush_interval`` seconds) writes what is pending in one
transaction: the records and their addition to the usage counters. While the database is
unreachable the records stay in memory (at most ``accounting_buffer_limit``; past it the
oldest are dropped and counted); a crash or a kill loses what was not flushed yet: at most
the last interval's records. A record is found by :meth:`lookup` from the moment it is
recorded (here) and from the database once flushed (every replica).

The usage served by ``/api/v1/key`` and checked against limits is the database's (re-read
when any process flushed, see ``usage`` in :meth:`routeyard.store.Store.versions`) plus what
this process recorded and the database's copy does not hold yet. With Redis configured, the
limit check also reads the spend every process added there as it recorded it (see
:mod:`routeyard.accounting.shared`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal

from routeyard.accounting.periods import Usage, day_start
from routeyard.accounting.records import Generation
from routeyard.accounting.shared import SharedSpend
from routeyard.errors import PaymentRequired, StoreError
from routeyard.keys import KeyRecord
from routeyard.metrics import metrics
from routeyard.prices import format_decimal
from routeyard.store import Store

log = logging.getLogger("routeyard.accounting")
ZERO = Decimal(0)
DAY = 86_400


class AccountingService:
    def __init__(self, store: Store, *, retention_days: int = 30, buffer_limit: int = 100_000,
                 shared: SharedSpend | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.shared = shared  # Redis, when configured (accounting/shared.py)
        self.retention_days = retention_days
        self.buffer_limit = buffer_limit
        self.clock = clock
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: dict[str, Generation] = {}
        self._writing: dict[str, Generation] = {}
        # Spend written by this process that the usage read last does not hold yet: one
        # dict per flushed batch, dropped once a read that started after it completes.
        self._unseen: list[tuple[int, dict[int, Decimal]]] = []
        self._batches = 0
        self.usage: dict[int, Usage] = {}
        self._usage_day: int | None = None
        self.dropped = 0
        self.flushed = 0

    # -- the sink (request path: memory only) ---------------------------------------------

    def record(self, g: Generation) -> None:
        with self._lock:
            self._pending[g.id] = g
        if self.shared is not None:
            self.shared.add(g.key_id, g.cost, g.created_at)
        m = metrics()
        model, provider = g.model, g.provider or "none"
        for kind, count in (("prompt", g.prompt_tokens), ("completion", g.completion_tokens),
                            ("reasoning", g.reasoning_tokens), ("cached", g.cached_tokens)):
            if count:
                m.count(m.generation_tokens, (model, provider, kind), count)
        if g.cost:
            m.count(m.generation_cost, (model, provider), float(g.cost))
        m.count(m.generations, (model, provider))

    def lookup(self, gen_id: str) -> Generation | None:
        """The record of ``gen_id``: this process's unflushed ones, then the database's."""
        with self._lock:
            found = self._pending.get(gen_id) or self._writing.get(gen_id)
        if found is not None:
            return found
        return self.store.read_generation(gen_id)

    def pending(self) -> int:
        return len(self._pending) + len(self._writing)

    # -- the writer (background thread) ---------------------------------------------------

    def flush(self) -> int:
        """Write what is pending in one transaction; on failure it stays pending (bounded)."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
                self._writing = batch
            if not batch:
                return 0
            try:
                written = self.store.write_generations(list(batch.values()))
            except StoreError:
                with self._lock:
                    self._pending = {**batch, **self._pending}
                    self._writing = {}
                    self._bound()
                raise
            costs: dict[int, Decimal] = {}
            for g in batch.values():
                costs[g.key_id] = costs.get(g.key_id, ZERO) + g.cost
            with self._lock:
                self._batches += 1
                self._unseen.append((self._batches, costs))
                self._writing = {}
            self.flushed += written
            return written

    def _bound(self) -> None:
        excess = len(self._pending) - self.buffer_limit
        if excess <= 0:
            return
        oldest = sorted(self._pending.values(), key=lambda g: g.created_at)[:excess]
        for g in oldest:
            del self._pending[g.id]
        self.dropped += excess
        log.warning("generation buffer full: dropped %d records (total %d)", excess,
                    self.dropped)

    def prune(self) -> int:
        return self.store.prune_generations(self.clock() - self.retention_days * DAY)

    # -- usage and limits -----------------------------------------------------------------

    def refresh_usage(self) -> None:
        """Read every key's usage from the database (after any process flushed, and when the
        UTC day turns)."""
        with self._lock:
            seen_up_to = self._batches
        now = self.clock()
        usage = self.store.read_usage(now)
        with self._lock:
            self.usage = usage
            self._usage_day = day_start(now)
            self._unseen = [(n, c) for n, c in self._unseen if n > seen_up_to]

    def usage_stale(self) -> bool:
        return self._usage_day != day_start(self.clock())

    def usage_of(self, key_id: int) -> Usage:
        """The key's usage now: the database's as last read plus this process's since."""
        with self._lock:
            usage = self.usage.get(key_id) or Usage()
            extra = sum((c.get(key_id, ZERO) for _n, c in self._unseen), ZERO)
            extra += sum((g.cost for g in (*self._pending.values(), *self._writing.values())
                          if g.key_id == key_id), ZERO)
        return usage.plus(extra, 0) if extra else usage

    def check_limit(self, key: KeyRecord) -> None:
        """402 in the envelope when ``key`` has spent its limit in the current period: the
        pre-check the chat route calls before any upstream call."""
        if key.spend_limit is None:
            return
        limit = Decimal(key.spend_limit)
        counted = self.usage_of(key.id).counted(key.limit_reset)
        if self.shared is not None and counted < limit:
            in_redis = self.shared.spent(key.id, key.limit_reset, self.clock())
            if in_redis is not None:
                counted = max(counted, in_redis)
        if counted >= limit:
            metrics().refused.labels("spend_limit").inc()
            raise PaymentRequired(
                f"This key has reached its spend limit of ${key.spend_limit}"
                + (f" ({key.limit_reset})" if key.limit_reset else ""),
                metadata={"limit": key.spend_limit, "usage": format_decimal(counted),
                          "limit_reset": key.limit_reset},
            )
