"""The measured scenarios, and capturing routeyard's answer to each for the baseline."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from bench.baseline_app import Header
from bench.catalog_gen import EIGHT, SIXTY

BAD_KEY = "sk-ry-v1-" + "0" * 64
UNKNOWN = "bench/no-such-model"
# Hop-by-hop or per-response headers Granian adds itself.
SERVER_HEADERS = frozenset({b"server", b"date"})


def endpoints_path(model_id: str) -> str:
    return f"/api/v1/models/{model_id}/endpoints"


@dataclass(frozen=True)
class Scenario:
    name: str
    slug: str  # the baseline serves this scenario's bytes at /<slug>
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    stream: bool = False  # outcomes are posted to the server while it is loaded
    revalidate: bool = False  # If-None-Match is the current ETag of ``path``
    # Settings changed from routeyard's defaults for this scenario (ROUTEYARD_* variables);
    # empty: routeyard exactly as the bench starts it. Printed beside the figure.
    settings: tuple[tuple[str, str], ...] = ()
    price: str = ""  # the per-request cost this run switches off, for the price table

    @property
    def settings_label(self) -> str:
        return ", ".join(f"{k.removeprefix('ROUTEYARD_')}={v}" for k, v in self.settings)


# The per-request costs that are on by default, each switched off in a run of the 8-endpoint
# route of its own, so that the price of each is visible (a read key has no rate limit by
# default; the failed-authentication throttle's check is the rate-limit bookkeeping left).
PRICES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("access log", (("ROUTEYARD_ACCESS_LOG", "false"),)),
    ("metrics", (("ROUTEYARD_METRICS", "false"),)),
    ("rate-limit bookkeeping", (("ROUTEYARD_AUTH_FAILURE_LIMIT", "0"),)),
    ("key-use notes", (("ROUTEYARD_KEY_LAST_USED", "false"),)),
)
ALL_OFF = "all four"


def scenarios(key: str, *, prices: bool = True) -> list[Scenario]:
    """In the order they run: those at the defaults first (the live-health one last of
    them, since its stream changes bodies), then each on a server of its own settings."""
    auth = {"Authorization": f"Bearer {key}"}
    eight = endpoints_path(EIGHT)
    off = [(name, changed) for name, changed in PRICES]
    off.append((ALL_OFF, tuple(kv for _, changed in PRICES for kv in changed)))
    variants = [Scenario("endpoints, 8 endpoints", f"endpoints-8-no-{i}", eight, 200, auth,
                         settings=changed, price=name)
                for i, (name, changed) in enumerate(off)] if prices else []
    return [
        Scenario("endpoints, 8 endpoints", "endpoints-8", endpoints_path(EIGHT), 200, auth),
        Scenario("endpoints, 60 endpoints", "endpoints-60", endpoints_path(SIXTY), 200, auth),
        Scenario("304 revalidation (8)", "revalidate-8", endpoints_path(EIGHT), 304, auth,
                 revalidate=True),
        Scenario("/models", "models", "/api/v1/models", 200, auth),
        Scenario("404 unknown model", "unknown", endpoints_path(UNKNOWN), 404, auth),
        Scenario("endpoints (8) + outcome stream", "live-8", endpoints_path(EIGHT), 200, auth,
                 stream=True),
        # Without the failed-authentication throttle: else this measures 429s after 30 tries.
        Scenario("401 bad key", "bad-key", endpoints_path(EIGHT), 401,
                 {"Authorization": f"Bearer {BAD_KEY}"},
                 settings=(("ROUTEYARD_AUTH_FAILURE_LIMIT", "0"),)),
        *variants,
    ]


Captured = tuple[int, list[Header], bytes]


def capture(client: httpx.Client, base: str, s: Scenario) -> tuple[dict[str, str], Captured]:
    """The headers wrk is to send, and routeyard's answer to them (status, headers, body).

    The client must send no Accept-Encoding, as wrk does not.
    """
    headers = dict(s.headers)
    if s.revalidate:
        etag = client.get(base + s.path, headers=headers).headers["etag"]
        headers["If-None-Match"] = etag
    r = client.get(base + s.path, headers=headers)
    if r.status_code != s.status:
        raise RuntimeError(f"{s.name}: expected {s.status}, got {r.status_code}: {r.text[:300]}")
    kept = [(k, v) for k, v in r.headers.raw if k.lower() not in SERVER_HEADERS]
    return headers, (r.status_code, kept, r.content)


def plain_client() -> httpx.Client:
    """An HTTP client that sends what wrk sends: no Accept-Encoding (so no gzip)."""
    client = httpx.Client(timeout=30)
    del client.headers["accept-encoding"]
    return client
