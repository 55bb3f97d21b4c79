"""Request rate limits: fixed-window counters, per process or shared through Redis.

A limit is *N hits per period* counted in **fixed windows**: windows start at multiples of the
period on the wall clock (so every process and replica agrees on them without talking), and a
bucket's count starts again at zero in each window. One counter per bucket and window keeps it
cheap; the price is that a burst straddling a window edge can get up to 2N hits through in
a little over one period.

::

    Limiter          the facade the request path calls; picks a backend per hit
    ├── RedisLimiter shared by every worker and replica: INCR, and EXPIRE on a new key, in
    │                one atomic script on ``{prefix}rl:{bucket}:{window}``
    │                (``routeyard:rl:admin:7:29043512``)
    └── LocalLimiter this process only; a dict with bounded memory

With ``redis_url`` set the limiter counts in Redis. Any Redis error (refused, timed out,
evicted, wrong password) makes it count in this process instead: requests are still served,
``routeyard_rate_limit_local_fallback`` is 1, one warning is logged, and Redis is tried again
on the first hit after :data:`REDIS_BACKOFF` seconds; when it answers the gauge goes back to 0.
Without ``redis_url`` every process counts on its own (a key may then make up to N requests
per minute *per process*).

Redis is called synchronously from the event loop (the key check in
:func:`routeyard.api.deps.authenticate` is synchronous); socket timeouts of
:data:`REDIS_TIMEOUT` seconds and no client-side retries bound what a slow or dead Redis can
cost a request, and the back-off bounds how often that cost is paid.

The policy (which bucket, which limit) lives here too: :meth:`Limiter.check_key` for the
per-key limits, :meth:`Limiter.blocked` and :meth:`Limiter.failed` for the throttle on
repeated authentication failures from one client address.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from routeyard.errors import ConfigError
from routeyard.metrics import metrics

if TYPE_CHECKING:
    from routeyard.config import Settings

log = logging.getLogger("routeyard")

KEY_PERIOD = 60.0
"""Seconds in a per-key window: the key limits are per minute."""
FAILURE_PERIOD = 60.0
"""Seconds in an authentication-failure window: ``auth_failure_limit`` is per minute."""
REDIS_TIMEOUT = 0.1
"""Seconds a Redis connect or reply may take before the hit counts locally."""
REDIS_BACKOFF = 5.0
"""Seconds between attempts to reach Redis again while counting locally."""
MAX_LOCAL_BUCKETS = 50_000
"""Most buckets a :class:`LocalLimiter` holds (about 10 MB); past it, windows that ended are
dropped, then arbitrary buckets (their counts restart: memory wins over exactness)."""
MAX_BLOCKED = 10_000
"""Most client addresses remembered as blocked for failing authentication."""

Clock = Callable[[], float]
# One round trip, atomic (a MULTI/EXEC pipeline of INCR + EXPIRE measured ~40% slower here).
_INCR = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class Decision(NamedTuple):
    """The outcome of one hit: ``retry_after`` is whole seconds until the window ends
    (0 when allowed), ``remaining`` the hits left in this window."""

    allowed: bool
    retry_after: int
    remaining: int


def decide(count: int, limit: int, left: float) -> Decision:
    """The decision for the ``count``-th hit of a window with ``left`` seconds to run."""
    if count <= limit:
        return Decision(True, 0, limit - count)
    return Decision(False, max(1, math.ceil(left)), 0)


class LocalLimiter:
    """Fixed-window counters in this process. Thread-safe."""

    def __init__(self, clock: Clock = time.time, max_buckets: int = MAX_LOCAL_BUCKETS) -> None:
        self._clock = clock
        self._max = max_buckets
        self._windows: dict[str, tuple[int, int, float]] = {}  # bucket -> (window, count, end)
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def __len__(self) -> int:
        return len(self._windows)

    def hit(self, bucket: str, limit: int, period: float) -> Decision:
        now = self._clock()
        window = int(now // period)
        end = (window + 1) * period
        with self._lock:
            if now >= self._next_sweep or len(self._windows) >= self._max:
                self._sweep(now)
                self._next_sweep = now + period
            current = self._windows.get(bucket)
            count = current[1] + 1 if current is not None and current[0] == window else 1
            self._windows[bucket] = (window, count, end)
        return decide(count, limit, end - now)

    def _sweep(self, now: float) -> None:
        """Drop windows that ended; if still full, drop the oldest-inserted tenth."""
        self._windows = {b: w for b, w in self._windows.items() if w[2] > now}
        excess = len(self._windows) - self._max
        if excess >= 0:
            for bucket in list(self._windows)[: excess + max(1, self._max // 10)]:
                del self._windows[bucket]


class RedisLimiter:
    """Fixed-window counters in Redis, shared by every process that uses the same Redis
    and key prefix. :meth:`hit` raises ``redis.RedisError`` or ``OSError`` on failure."""

    def __init__(self, url: str, *, prefix: str = "routeyard:", timeout: float = REDIS_TIMEOUT,
                 clock: Clock = time.time) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        try:
            self._redis = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0), health_check_interval=0,
            )
        except ValueError as exc:
            raise ConfigError(f"ROUTEYARD_REDIS_URL: {exc}") from None
        self.errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._incr = self._redis.register_script(_INCR)  # reloaded by redis-py after NOSCRIPT
        self._prefix = prefix
        self._clock = clock

    def hit(self, bucket: str, limit: int, period: float) -> Decision:
        now = self._clock()
        window = int(now // period)
        key = f"{self._prefix}rl:{bucket}:{window}"
        count = self._incr(keys=[key], args=[math.ceil(period) + 1])
        return decide(int(count), limit, (window + 1) * period - now)

    def close(self) -> None:
        self._redis.close()


def safe_url(url: str) -> str:
    """``url`` without its password, for logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparseable URL)"
    user = f"{parts.username or ''}:***@" if parts.password else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


class Limiter:
    """Rate limits for one serving process: Redis when configured and reachable, this
    process's counters otherwise (see the module docstring)."""

    def __init__(self, redis_url: str = "", *, redis_prefix: str = "routeyard:",
                 read_limit: int = 0, admin_limit: int = 0, auth_failure_limit: int = 0,
                 clock: Clock = time.time, backoff: float = REDIS_BACKOFF,
                 redis_timeout: float = REDIS_TIMEOUT) -> None:
        self.local = LocalLimiter(clock)
        self.redis = (RedisLimiter(redis_url, prefix=redis_prefix, timeout=redis_timeout,
                                   clock=clock) if redis_url else None)
        self.key_limits = {"read": max(0, read_limit), "admin": max(0, admin_limit)}
        self.auth_failure_limit = max(0, auth_failure_limit)
        self._clock = clock
        self._backoff = backoff
        self._redis_label = safe_url(redis_url)
        self._fallen_back = False
        self._retry_at = 0.0
        self._blocked: dict[str, float] = {}  # client address -> blocked until (clock time)
        if self.redis is not None:
            metrics().rate_limit_fallback.set(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limiter:
        return cls(
            settings.redis_url, redis_prefix=settings.redis_key_prefix,
            read_limit=settings.rate_limit_read, admin_limit=settings.rate_limit_admin,
            auth_failure_limit=settings.auth_failure_limit,
        )

    @property
    def shared(self) -> bool:
        """True while hits are counted in Redis."""
        return self.redis is not None and not self._fallen_back

    def hit(self, bucket: str, limit: int, period: float) -> Decision:
        """Count one hit on ``bucket``: allowed while at most ``limit`` per ``period``."""
        redis = self.redis
        if redis is not None and (not self._fallen_back or time.monotonic() >= self._retry_at):
            try:
                decision = redis.hit(bucket, limit, period)
            except redis.errors as exc:  # count locally; never fail the request for Redis
                self._fall_back(exc)
            else:
                if self._fallen_back:
                    self._recover()
                return decision
        return self.local.hit(bucket, limit, period)

    def _fall_back(self, exc: Exception) -> None:
        self._retry_at = time.monotonic() + self._backoff
        if not self._fallen_back:
            self._fallen_back = True
            metrics().rate_limit_fallback.set(1)
            log.warning("rate limits: Redis at %s failed (%s: %s); counting per process, "
                        "trying Redis again every %.0fs", self._redis_label,
                        type(exc).__name__, str(exc)[:200], self._backoff)

    def _recover(self) -> None:
        self._fallen_back = False
        metrics().rate_limit_fallback.set(0)
        log.warning("rate limits: Redis at %s answers again; limits are shared", self._redis_label)

    # -- policy ------------------------------------------------------------------------

    def check_key(self, scope: str, key_id: int) -> Decision | None:
        """Count a request by a verified key; None when its scope has no limit."""
        limit = self.key_limits.get(scope, 0)
        if not limit:
            return None
        decision = self.hit(f"{scope}:{key_id}", limit, KEY_PERIOD)
        if not decision.allowed:
            metrics().refused.labels("rate_limit").inc()
        return decision

    def blocked(self, address: str) -> int:
        """Seconds ``address`` stays blocked for failing authentication (0: not blocked).
        Checked before a key is verified, from this process's memory (no Redis call)."""
        if not self._blocked:
            return 0
        until = self._blocked.get(address)
        if until is None:
            return 0
        left = until - self._clock()
        if left <= 0:
            self._blocked.pop(address, None)
            return 0
        metrics().refused.labels("auth_failures").inc()
        return max(1, math.ceil(left))

    def failed(self, address: str) -> Decision | None:
        """Count a failed authentication from ``address``; once over the limit the address is
        blocked here until the window ends. None when the throttle is off."""
        if not self.auth_failure_limit:
            return None
        decision = self.hit(f"authfail:{address}", self.auth_failure_limit, FAILURE_PERIOD)
        if not decision.allowed:
            now = self._clock()
            if len(self._blocked) >= MAX_BLOCKED:
                self._blocked = {a: t for a, t in self._blocked.items() if t > now}
                if len(self._blocked) >= MAX_BLOCKED:
                    self._blocked.clear()
            self._blocked[address] = now + decision.retry_after
            metrics().refused.labels("auth_failures").inc()
        return decision

    def close(self) -> None:
        if self.redis is not None:
            self.redis.close()
