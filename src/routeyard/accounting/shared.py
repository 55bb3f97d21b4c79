"""Spend shared through Redis at once, for the limit check of every replica.

With ``redis_url`` set, every recorded cost is also added to per-key counters in Redis (one
pipelined round trip: the current UTC day, week, month and all time), and the limit check of
any process reads the counter of the key's period. A replica then sees another's spend as soon
as that request ended instead of after a flush and a refresh, so a limit is overshot by at
most the requests in flight when it was crossed.

Redis is an accelerator, not the record: the database stays the truth, the check takes the
larger of the two, and any Redis error makes this process check against the database's
counters alone (one warning; Redis tried again after :data:`BACKOFF` seconds). Amounts are
integers of 10⁻¹² USD, rounded up (the check may only err towards refusing).
"""

from __future__ import annotations

import logging
import time
from decimal import ROUND_CEILING, Decimal

from routeyard.accounting.periods import day_start, month_start, next_reset, week_start
from routeyard.errors import ConfigError
from routeyard.ratelimit import safe_url

log = logging.getLogger("routeyard.accounting")
SCALE = Decimal(10) ** 12
BACKOFF = 5.0
TIMEOUT = 0.25
"""Seconds a Redis reply may take (the rate limiter's 0.1 s was missed under load, and a
missed reply costs the shared bound for :data:`BACKOFF` seconds)."""
PERIODS = ("daily", "weekly", "monthly")


def units(cost: Decimal) -> int:
    return int((cost * SCALE).to_integral_value(rounding=ROUND_CEILING))


class SharedSpend:
    def __init__(self, url: str, *, prefix: str = "routeyard:",
                 timeout: float = TIMEOUT) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        try:
            self._redis = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0), health_check_interval=0)
        except ValueError as exc:
            raise ConfigError(f"ROUTEYARD_REDIS_URL: {exc}") from None
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._prefix = prefix
        self._label = safe_url(url)
        self._retry_at = 0.0
        self.failing = False

    def _key(self, key_id: int, period: str, at: float) -> str:
        start = {"daily": day_start, "weekly": week_start, "monthly": month_start}
        if period in start:
            return f"{self._prefix}spend:{key_id}:{period}:{start[period](at)}"
        return f"{self._prefix}spend:{key_id}:total"

    def _usable(self) -> bool:
        return not self.failing or time.monotonic() >= self._retry_at

    def _failed(self, exc: Exception) -> None:
        self._retry_at = time.monotonic() + BACKOFF
        if not self.failing:
            self.failing = True
            log.warning("spend limits: Redis at %s failed (%s: %s); checking against the "
                        "database's counters, trying Redis again every %.0fs", self._label,
                        type(exc).__name__, str(exc)[:200], BACKOFF)

    def _ok(self) -> None:
        if self.failing:
            self.failing = False
            log.warning("spend limits: Redis at %s answers again", self._label)

    def add(self, key_id: int, cost: Decimal, at: float) -> None:
        if cost <= 0 or not self._usable():
            return
        amount = units(cost)
        try:
            pipe = self._redis.pipeline(transaction=False)
            for period in (*PERIODS, "never"):
                key = self._key(key_id, period, at)
                pipe.incrby(key, amount)
                ends = next_reset(period, at)
                if ends is not None:  # kept a day past its period, then gone
                    pipe.expireat(key, ends + 86_400)
            pipe.execute()
        except self._errors as exc:
            self._failed(exc)
        else:
            self._ok()

    def spent(self, key_id: int, reset: str | None, at: float) -> Decimal | None:
        """What Redis counted for the key's current period; None when Redis failed."""
        if not self._usable():
            return None
        try:
            raw = self._redis.get(self._key(key_id, reset or "never", at))
        except self._errors as exc:
            self._failed(exc)
            return None
        self._ok()
        return Decimal(int(raw or 0)) / SCALE  # type: ignore[arg-type]

    def close(self) -> None:
        self._redis.close()

