"""Settings, declared once: each is a typed field of :class:`Settings` with its default and
help text (``name: int = setting(8000, "help")``).

:data:`SETTINGS`, derived from those fields, drives the environment variables
(``ROUTEYARD_<NAME>``), the CLI's ``--help-settings``, the docs (``docs/settings.md``) and a
test that checks every setting is documented. Precedence: command-line flag > environment
variable > default.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from routeyard.errors import ConfigError
from routeyard.health.window import HealthSettings, StatusRules

ENV_PREFIX = "ROUTEYARD_"


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


def setting(default: Any, help: str) -> Any:
    """A field of :class:`Settings` with its default and help text. A ``Literal[...]``
    field's values are its only allowed ones."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings, one typed attribute per setting (plain slots: read on every
    request). Make them with :meth:`load`; :meth:`replace` for a changed copy."""

    database_url: str = setting("",
            "SQLAlchemy database URL (sqlite:///path or postgresql+psycopg://user@host/db). "
            "Empty: a SQLite file routeyard.db in the data directory.")
    data_dir: str = setting("data",
            "Directory for the default SQLite database; created by serve.")
    host: str = setting("127.0.0.1", "Address serve listens on.")
    port: int = setting(8000, "Port serve listens on.")
    workers: int = setting(1, "Worker processes serve runs.")
    public_discovery: bool = setting(False,
            "Serve the discovery API (models, endpoints, providers) without a key. Callers "
            "without a key then get null latency and throughput, as on OpenRouter.")
    load_starter: bool = setting(True,
            "Fill an empty catalog with the bundled starter catalog when serve starts.")
    cache_control: str = setting("s-maxage=300, stale-while-revalidate=600",
            "Cache-Control header of discovery responses (OpenRouter's own value by default).")
    refresh_interval: float = setting(1.0,
            "Seconds between checks for catalog and key changes made by other processes.")
    # -- live health (docs/health.md) ---------------------------------------------------
    uptime_definition: Literal["ratio", "minutes"] = setting("ratio",
            "How uptime is computed: ratio (successes / counted attempts, OpenRouter's API "
            "spec) or minutes (share of minutes with enough successes, OpenRouter's SDK docs).")
    uptime_min_attempts: int = setting(3,
            "ratio uptime: fewest counted attempts in a window for a non-null uptime.")
    uptime_minute_min_attempts: int = setting(10,
            "minutes uptime: fewest counted attempts for a minute to be judged.")
    uptime_minute_success_percent: float = setting(80.0,
            "minutes uptime: success percentage at or above which a judged minute is good.")
    status_outage_minutes: int = setting(3,
            "Status -5 when this many most recent active minutes all failed (0: rule off).")
    status_outage_lookback_minutes: int = setting(15,
            "Status -5: how many minutes back to look for those active minutes.")
    status_uptime_5m_below: float = setting(50.0,
            "Status -3 when uptime_last_5m is below this (0: rule off).")
    status_degraded_30m_below: float = setting(80.0,
            "Status -2 (degraded) when uptime_last_30m is below this (0: rule off).")
    status_uptime_30m_below: float = setting(95.0,
            "Status -1 when uptime_last_30m is below this (0: rule off).")
    health_retention_margin_minutes: int = setting(60,
            "Minute records are kept this long past the 1-day window, then pruned.")
    health_flush_interval: float = setting(1.0,
            "Seconds between flushes of in-memory outcome counts to the database.")
    health_refresh_interval: float = setting(2.0,
            "Seconds between reads of every process's outcome counts into the live fields.")
    health_buffer_limit: int = setting(100_000,
            "Most endpoint-minutes held in memory while the database is unreachable; "
            "beyond it the oldest are dropped and counted.")
    access_log: bool = setting(True,
            "Log one line per request (method, path, status, duration, request id, key "
            "name), written by a background thread off the request path.")
    metrics: bool = setting(True,
            "Count every request by route, method and status for /metrics "
            "(routeyard_requests_total, routeyard_request_duration_seconds). Off: those two "
            "stay empty; the other metrics are still served.")
    key_last_used: bool = setting(True,
            "Record when each key was last used (routeyard keys list). Off: last-use times "
            "are no longer updated.")
    # -- accounting (docs/accounting.md) ------------------------------------------------------
    accounting_flush_interval: float = setting(1.0,
            "Seconds between writes of generation records and usage to the database (a "
            "crash loses at most this interval's records).")
    accounting_buffer_limit: int = setting(100_000,
            "Most generation records held in memory while the database is unreachable; "
            "beyond it the oldest are dropped and counted.")
    generation_retention_days: int = setting(30,
            "Generation records older than this many days are pruned (usage totals are "
            "kept).")
    # -- active probes (docs/health.md, "Probes") -------------------------------------------
    probe_enabled: bool = setting(True,
            "Run probes in serve: every endpoint whose provider has a base_url, from one "
            "process among all workers and replicas.")
    probe_interval: float = setting(60.0, "Seconds between probe rounds.")
    probe_timeout: float = setting(20.0,
            "Seconds a probe may take before it counts as a timeout.")
    probe_jitter: float = setting(5.0,
            "Up to this many random seconds added to each wait between probe rounds.")
    probe_concurrency: int = setting(8, "Most probe requests in flight at once.")
    probe_max_tokens: int = setting(16, "max_tokens of a completion probe (its cost).")
    # -- upstream calls: the router and the probes (docs/routing.md, "Timeouts") ------------
    upstream_connect_timeout: float = setting(10.0,
            "Seconds to connect to a provider (0: no limit).")
    upstream_first_byte_timeout: float = setting(60.0,
            "Seconds from sending a request to a provider to the first byte of its answer "
            "(0: no limit). A routed request falls back to the next endpoint past it.")
    upstream_chunk_timeout: float = setting(60.0,
            "Seconds allowed between two chunks of a provider's streamed answer (0: no limit).")
    upstream_total_timeout: float = setting(600.0,
            "Seconds one attempt at a provider may take in all (0: no limit).")
    # -- the router (docs/routing.md) ----------------------------------------------------
    max_chat_body_bytes: int = setting(16 << 20,
            "Largest chat completions (or plan) request body, in bytes; larger gets 413.")
    router_processing_interval: float = setting(3.0,
            "Seconds between ': OPENROUTER PROCESSING' comments of a stream waiting for its "
            "first token; the stream (200) starts with the first one (0: no comments).")
    # -- abuse limits (docs/security.md) ----------------------------------------------------
    rate_limit_read: int = setting(0,
            "Requests per minute allowed per read key (0: no limit).")
    rate_limit_admin: int = setting(600,
            "Requests per minute allowed per admin key (0: no limit).")
    auth_failure_limit: int = setting(30,
            "Failed key checks per minute from one client address before that address gets "
            "429 until the minute ends (0: no limit).")
    redis_url: str = setting("",
            "Redis URL (redis://[:password@]host:6379/0) through which all workers and "
            "replicas share the rate limits and the spend checked against spend limits. Empty: "
            "each process counts on its own.")
    redis_key_prefix: str = setting("routeyard:",
            "Prefix of routeyard's keys in Redis (to share one Redis between deployments).")
    max_path_length: int = setting(8192,
            "Longest request target (path and query string, in bytes); longer gets 414.")
    max_header_bytes: int = setting(16384,
            "Most request header bytes (names plus values); more gets 431.")
    max_admin_body_bytes: int = setting(1 << 20,
            "Largest admin API request body, in bytes; larger gets 413.")
    max_ingest_body_bytes: int = setting(8 << 20,
            "Largest outcome batch (POST /api/v1/admin/outcomes), in bytes; larger gets 413. "
            "A batch holds at most 10,000 outcomes either way.")
    # -- connections (docs/deploy.md, behind a reverse proxy) --------------------------------
    keep_alive_timeout: float = setting(5.0,
            "Seconds an HTTP/1 connection may sit idle between requests, or take to send a "
            "request's headers, before serve closes it (1 to 60).")
    body_read_timeout: float = setting(30.0,
            "Seconds a request body may take to arrive (admin API, outcome ingest); a slower "
            "one gets 408.")
    max_connections: int = setting(4096,
            "Connections each worker serves at once, idle keep-alive ones included; more wait "
            "in the listen backlog. Each costs about 3 KiB idle, 19 KiB with a request head "
            "pending.")
    # -- status pages (docs/status-page.md) -------------------------------------------------
    status_page_enabled: bool = setting(True,
            "Serve the HTML status pages (/, /models/{author}/{slug}, /providers).")
    status_page_public: bool = setting(True,
            "Status pages readable without a key. Off: they need a valid key in the "
            "Authorization header (Bearer), like the API.")
    log_level: Literal["debug", "info", "warning", "error"] = setting("info", "Log level.")
    log_format: Literal["text", "json"] = setting("text", "Log line format.")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(
            self, **{name: _convert(SETTINGS_BY_NAME[name], raw) for name, raw in changes.items()})

    def as_dict(self) -> dict[str, Any]:
        return {s.name: getattr(self, s.name) for s in SETTINGS}

    def health(self) -> HealthSettings:
        """The live-field rules as the pure health maths takes them."""
        return HealthSettings(
            uptime_definition=self.uptime_definition,
            uptime_min_attempts=self.uptime_min_attempts,
            uptime_minute_min_attempts=self.uptime_minute_min_attempts,
            uptime_minute_success_percent=self.uptime_minute_success_percent,
            status_rules=StatusRules(
                outage_minutes=self.status_outage_minutes,
                outage_lookback_minutes=self.status_outage_lookback_minutes,
                uptime_5m_below=self.status_uptime_5m_below,
                degraded_30m_below=self.status_degraded_30m_below,
                uptime_30m_below=self.status_uptime_30m_below,
            ),
        )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return "sqlite:///" + str(Path(self.data_dir).resolve() / "routeyard.db")

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for s in SETTINGS:
            if overrides.get(s.name) is not None:
                values[s.name] = _convert(s, overrides[s.name])
            elif s.env in env:
                values[s.name] = _convert(s, env[s.env])
        unknown = set(overrides) - set(SETTINGS_BY_NAME)
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**values)


def _declared(f: dataclasses.Field[Any], hint: Any) -> Setting:
    choices = get_args(hint) if get_origin(hint) is Literal else ()
    return Setting(f.name, type(choices[0]) if choices else hint, f.default, f.metadata["help"],
                   choices)


_HINTS = get_type_hints(Settings)
SETTINGS: tuple[Setting, ...] = tuple(_declared(f, _HINTS[f.name])
                                      for f in dataclasses.fields(Settings))
SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def _convert(setting: Setting, raw: Any) -> Any:
    if setting.type is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{setting.env}: expected true or false, got {raw!r}")
    try:
        value = setting.type(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{setting.env}: expected {setting.type.__name__}, got {raw!r}"
        ) from None
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{setting.env}: expected one of {', '.join(setting.choices)}, got {raw!r}")
    return value
