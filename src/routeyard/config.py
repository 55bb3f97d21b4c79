"""Settings, declared once.

Each :class:`Setting` has a name, a type, a default and help text. That one list drives the
environment variables (``ROUTEYARD_<NAME>``), the CLI's ``--help-settings``, the docs
(``docs/settings.md``) and a test that checks every setting is documented. Precedence:
command-line flag > environment variable > default.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routeyard.errors import ConfigError

if TYPE_CHECKING:
    from routeyard.health.window import HealthSettings

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


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", str, "",
            "SQLAlchemy database URL (sqlite:///path or postgresql+psycopg://user@host/db). "
            "Empty: a SQLite file routeyard.db in the data directory."),
    Setting("data_dir", str, "data",
            "Directory for the default SQLite database; created by serve."),
    Setting("host", str, "127.0.0.1", "Address serve listens on."),
    Setting("port", int, 8000, "Port serve listens on."),
    Setting("workers", int, 1, "Worker processes serve runs."),
    Setting("public_discovery", bool, False,
            "Serve the discovery API (models, endpoints, providers) without a key. Callers "
            "without a key then get null latency and throughput, as on OpenRouter."),
    Setting("load_starter", bool, True,
            "Fill an empty catalog with the bundled starter catalog when serve starts."),
    Setting("cache_control", str, "s-maxage=300, stale-while-revalidate=600",
            "Cache-Control header of discovery responses (OpenRouter's own value by default)."),
    Setting("refresh_interval", float, 1.0,
            "Seconds between checks for catalog and key changes made by other processes."),
    # -- live health (docs/health.md) ---------------------------------------------------
    Setting("uptime_definition", str, "ratio",
            "How uptime is computed: ratio (successes / counted attempts, OpenRouter's API "
            "spec) or minutes (share of minutes with enough successes, OpenRouter's SDK docs).",
            choices=("ratio", "minutes")),
    Setting("uptime_min_attempts", int, 3,
            "ratio uptime: fewest counted attempts in a window for a non-null uptime."),
    Setting("uptime_minute_min_attempts", int, 10,
            "minutes uptime: fewest counted attempts for a minute to be judged."),
    Setting("uptime_minute_success_percent", float, 80.0,
            "minutes uptime: success percentage at or above which a judged minute is good."),
    Setting("status_outage_minutes", int, 3,
            "Status -5 when this many most recent active minutes all failed (0: rule off)."),
    Setting("status_outage_lookback_minutes", int, 15,
            "Status -5: how many minutes back to look for those active minutes."),
    Setting("status_uptime_5m_below", float, 50.0,
            "Status -3 when uptime_last_5m is below this (0: rule off)."),
    Setting("status_degraded_30m_below", float, 80.0,
            "Status -2 (degraded) when uptime_last_30m is below this (0: rule off)."),
    Setting("status_uptime_30m_below", float, 95.0,
            "Status -1 when uptime_last_30m is below this (0: rule off)."),
    Setting("health_retention_margin_minutes", int, 60,
            "Minute records are kept this long past the 1-day window, then pruned."),
    Setting("health_flush_interval", float, 1.0,
            "Seconds between flushes of in-memory outcome counts to the database."),
    Setting("health_refresh_interval", float, 2.0,
            "Seconds between reads of every process's outcome counts into the live fields."),
    Setting("health_buffer_limit", int, 100_000,
            "Most endpoint-minutes held in memory while the database is unreachable; "
            "beyond it the oldest are dropped and counted."),
    Setting("access_log", bool, True,
            "Log one line per request (method, path, status, duration, request id, key "
            "name), written by a background thread off the request path."),
    Setting("metrics", bool, True,
            "Count every request by route, method and status for /metrics "
            "(routeyard_requests_total, routeyard_request_duration_seconds). Off: those two "
            "stay empty; the other metrics are still served."),
    Setting("key_last_used", bool, True,
            "Record when each key was last used (routeyard keys list). Off: last-use times "
            "are no longer updated."),
    # -- accounting (docs/accounting.md) ------------------------------------------------------
    Setting("accounting_flush_interval", float, 1.0,
            "Seconds between writes of generation records and usage to the database (a "
            "crash loses at most this interval's records)."),
    Setting("accounting_buffer_limit", int, 100_000,
            "Most generation records held in memory while the database is unreachable; "
            "beyond it the oldest are dropped and counted."),
    Setting("generation_retention_days", int, 30,
            "Generation records older than this many days are pruned (usage totals are "
            "kept)."),
    # -- active probes (docs/health.md, "Probes") -------------------------------------------
    Setting("probe_enabled", bool, True,
            "Run probes in serve: every endpoint whose provider has a base_url, from one "
            "process among all workers and replicas."),
    Setting("probe_interval", float, 60.0, "Seconds between probe rounds."),
    Setting("probe_timeout", float, 20.0,
            "Seconds a probe may take before it counts as a timeout."),
    Setting("probe_jitter", float, 5.0,
            "Up to this many random seconds added to each wait between probe rounds."),
    Setting("probe_concurrency", int, 8, "Most probe requests in flight at once."),
    Setting("probe_max_tokens", int, 16, "max_tokens of a completion probe (its cost)."),
    # -- upstream calls: the router and the probes (docs/routing.md, "Timeouts") ------------
    Setting("upstream_connect_timeout", float, 10.0,
            "Seconds to connect to a provider (0: no limit)."),
    Setting("upstream_first_byte_timeout", float, 60.0,
            "Seconds from sending a request to a provider to the first byte of its answer "
            "(0: no limit). A routed request falls back to the next endpoint past it."),
    Setting("upstream_chunk_timeout", float, 60.0,
            "Seconds allowed between two chunks of a provider's streamed answer (0: no limit)."),
    Setting("upstream_total_timeout", float, 600.0,
            "Seconds one attempt at a provider may take in all (0: no limit)."),
    # -- the router (docs/routing.md) ----------------------------------------------------
    Setting("max_chat_body_bytes", int, 16 << 20,
            "Largest chat completions (or plan) request body, in bytes; larger gets 413."),
    Setting("router_processing_interval", float, 3.0,
            "Seconds between ': OPENROUTER PROCESSING' comments of a stream waiting for its "
            "first token; the stream (200) starts with the first one (0: no comments)."),
    # -- abuse limits (docs/security.md) ----------------------------------------------------
    Setting("rate_limit_read", int, 0,
            "Requests per minute allowed per read key (0: no limit)."),
    Setting("rate_limit_admin", int, 600,
            "Requests per minute allowed per admin key (0: no limit)."),
    Setting("auth_failure_limit", int, 30,
            "Failed key checks per minute from one client address before that address gets "
            "429 until the minute ends (0: no limit)."),
    Setting("redis_url", str, "",
            "Redis URL (redis://[:password@]host:6379/0) through which all workers and "
            "replicas share the rate limits and the spend checked against spend limits. Empty: "
            "each process counts on its own."),
    Setting("redis_key_prefix", str, "routeyard:",
            "Prefix of routeyard's keys in Redis (to share one Redis between deployments)."),
    Setting("max_path_length", int, 8192,
            "Longest request target (path and query string, in bytes); longer gets 414."),
    Setting("max_header_bytes", int, 16384,
            "Most request header bytes (names plus values); more gets 431."),
    Setting("max_admin_body_bytes", int, 1 << 20,
            "Largest admin API request body, in bytes; larger gets 413."),
    Setting("max_ingest_body_bytes", int, 8 << 20,
            "Largest outcome batch (POST /api/v1/admin/outcomes), in bytes; larger gets 413. "
            "A batch holds at most 10,000 outcomes either way."),
    # -- status pages (docs/status-page.md) -------------------------------------------------
    Setting("status_page_enabled", bool, True,
            "Serve the HTML status pages (/, /models/{author}/{slug}, /providers)."),
    Setting("status_page_public", bool, True,
            "Status pages readable without a key. Off: they need a valid key in the "
            "Authorization header (Bearer), like the API."),
    Setting("log_level", str, "info", "Log level.",
            choices=("debug", "info", "warning", "error")),
    Setting("log_format", str, "text", "Log line format.", choices=("text", "json")),
)
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


class Settings:
    """Resolved settings: attribute access by setting name."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)
        self.__dict__.update(self._values)  # plain attributes: read on every request

    def __getattr__(self, name: str) -> Any:
        # Only reached for a name that is no setting; declared so that type checkers take
        # setting names as attributes.
        raise AttributeError(name)

    def replace(self, **changes: Any) -> Settings:
        values = dict(self._values)
        for name, raw in changes.items():
            values[name] = _convert(SETTINGS_BY_NAME[name], raw)
        return Settings(values)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def health(self) -> HealthSettings:
        """The live-field rules as the pure health maths takes them."""
        from routeyard.health.window import HealthSettings, StatusRules

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
            return str(self.database_url)
        return "sqlite:///" + str(Path(self.data_dir).resolve() / "routeyard.db")

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            if overrides.get(setting.name) is not None:
                values[setting.name] = _convert(setting, overrides[setting.name])
            elif setting.env in env:
                values[setting.name] = _convert(setting, env[setting.env])
            else:
                values[setting.name] = setting.default
        unknown = set(overrides) - set(SETTINGS_BY_NAME)
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(values)
