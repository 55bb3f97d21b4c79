"""Table definitions (SQLAlchemy Core). Migrations, not these, create the schema."""

from __future__ import annotations

import sqlalchemy as sa

from routeyard.models import Pricing

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# Counters bumped in the same transaction as every catalog or key change, so that every
# process (and replica) notices a change by polling one tiny table.
state = sa.Table(
    "state",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

providers = sa.Table(
    "providers",
    metadata,
    sa.Column("slug", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("privacy_policy_url", sa.Text),
    sa.Column("terms_of_service_url", sa.Text),
    sa.Column("status_page_url", sa.Text),
    sa.Column("base_url", sa.Text),
    sa.Column("api_key_env", sa.String(128)),
    sa.Column("probe_completion", sa.Boolean, nullable=False),
    sa.Column("data_policy", sa.JSON),
    sa.Column("source", sa.Text),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

models = sa.Table(
    "models",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("id_lower", sa.String(255), nullable=False, unique=True),
    sa.Column("canonical_slug", sa.String(255), nullable=False),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("created", sa.BigInteger, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("hugging_face_id", sa.String(255)),
    sa.Column("tokenizer", sa.String(64)),
    sa.Column("instruct_type", sa.String(64)),
    sa.Column("modality", sa.String(128)),
    sa.Column("input_modalities", sa.JSON, nullable=False),
    sa.Column("output_modalities", sa.JSON, nullable=False),
    sa.Column("knowledge_cutoff", sa.String(32)),
    sa.Column("expiration_date", sa.String(32)),
    sa.Column("default_parameters", sa.JSON),
    sa.Column("source", sa.Text),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# One ``price_<key>`` column per field of models.Pricing (a new key needs a migration, which
# the schema test asks for).
PRICE_COLUMNS: tuple[str, ...] = Pricing.__struct_fields__

endpoints = sa.Table(
    "endpoints",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.String(255),
              sa.ForeignKey("models.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False),
    sa.Column("provider_slug", sa.String(128),
              sa.ForeignKey("providers.slug", onupdate="CASCADE"), nullable=False),
    sa.Column("tag", sa.String(255), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("context_length", sa.BigInteger, nullable=False),
    sa.Column("max_completion_tokens", sa.BigInteger),
    sa.Column("max_prompt_tokens", sa.BigInteger),
    sa.Column("quantization", sa.String(16)),
    *(sa.Column(f"price_{name}", sa.String(64)) for name in PRICE_COLUMNS),
    sa.Column("supported_parameters", sa.JSON, nullable=False),
    sa.Column("supports_implicit_caching", sa.Boolean, nullable=False),
    sa.Column("service_tier", sa.String(16)),
    sa.Column("supports_tool_choice", sa.JSON),
    sa.Column("native_tools", sa.JSON, nullable=False),
    sa.Column("supports_diarization", sa.Boolean, nullable=False),
    sa.Column("is_moderated", sa.Boolean, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("provider_model_id", sa.String(255)),
    sa.Column("source", sa.Text),
    sa.Column("imported_at", sa.BigInteger),
    sa.Column("data_policy", sa.JSON),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("model_id", "tag", name="uq_endpoints_model_id_tag"),
)
sa.Index("ix_endpoints_provider_slug", endpoints.c.provider_slug)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("prefix", sa.String(32), nullable=False, unique=True),
    sa.Column("key_hash", sa.String(128), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("last_used_at", sa.BigInteger),
    sa.Column("revoked_at", sa.BigInteger),
    # Spend limit in USD (exact decimal string; null: none) and how it resets.
    sa.Column("spend_limit", sa.String(64)),
    sa.Column("limit_reset", sa.String(16)),
    sa.Column("preferences", sa.Text),  # JSON of preferences.KeyPreferences; NULL: none
)

# One row per endpoint, minute and writing process: a flush replaces its own row, so a
# retried flush never counts twice, and rows of several processes add up when read.
health_minutes = sa.Table(
    "health_minutes",
    metadata,
    sa.Column("model_id", sa.String(255), primary_key=True),
    sa.Column("tag", sa.String(255), primary_key=True),
    sa.Column("minute", sa.BigInteger, primary_key=True),
    sa.Column("writer", sa.String(64), primary_key=True),
    sa.Column("success", sa.Integer, nullable=False),
    sa.Column("upstream_error", sa.Integer, nullable=False),
    sa.Column("timeout", sa.Integer, nullable=False),
    sa.Column("rate_limited", sa.Integer, nullable=False),
    sa.Column("caller_error", sa.Integer, nullable=False),
    sa.Column("latency", sa.JSON, nullable=False),
    sa.Column("throughput", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)
sa.Index("ix_health_minutes_minute", health_minutes.c.minute)
sa.Index("ix_health_minutes_updated_at", health_minutes.c.updated_at)

# A named lease held by one process at a time (e.g. the prober), renewed before it expires.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

# -- accounting (docs/accounting.md) ----------------------------------------------------
# Money is an exact decimal string (USD) everywhere: SQLite has no exact decimal type, so
# sums are made in Python with Decimal, and counters change by read-modify-write in one
# transaction with the rows locked (store/accounting.py).

# One row per routed request: no prompt, no answer, no provider key.
generations = sa.Table(
    "generations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.Integer, nullable=False),
    sa.Column("model", sa.String(255), nullable=False),
    sa.Column("provider_slug", sa.String(128)),
    sa.Column("provider_name", sa.String(256)),
    sa.Column("tag", sa.String(255)),
    sa.Column("attempts", sa.JSON, nullable=False),
    sa.Column("tokens_prompt", sa.BigInteger),
    sa.Column("tokens_completion", sa.BigInteger),
    sa.Column("tokens_reasoning", sa.BigInteger),
    sa.Column("tokens_cached", sa.BigInteger),
    sa.Column("cost", sa.String(64), nullable=False),
    sa.Column("ttft_ms", sa.Float),
    sa.Column("generation_ms", sa.Float),
    sa.Column("latency_ms", sa.Float),
    sa.Column("finish_reason", sa.String(64)),
    sa.Column("upstream_id", sa.String(255)),
    sa.Column("streamed", sa.Boolean, nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
sa.Index("ix_generations_created_at", generations.c.created_at)
sa.Index("ix_generations_key_id", generations.c.key_id)

# Each key's spend: all time and the current UTC day, week (from Monday) and month; a period
# column holds the start (epoch seconds) of the period its usage belongs to.
key_usage = sa.Table(
    "key_usage",
    metadata,
    sa.Column("key_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("usage", sa.String(64), nullable=False),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("day_start", sa.BigInteger, nullable=False),
    sa.Column("usage_daily", sa.String(64), nullable=False),
    sa.Column("week_start", sa.BigInteger, nullable=False),
    sa.Column("usage_weekly", sa.String(64), nullable=False),
    sa.Column("month_start", sa.BigInteger, nullable=False),
    sa.Column("usage_monthly", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Spend and tokens per key, UTC day, model and provider: /activity and `routeyard usage`.
usage_days = sa.Table(
    "usage_days",
    metadata,
    sa.Column("key_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("day", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("model", sa.String(255), primary_key=True),
    sa.Column("provider_slug", sa.String(128), primary_key=True),
    sa.Column("usage", sa.String(64), nullable=False),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
    sa.Column("completion_tokens", sa.BigInteger, nullable=False),
    sa.Column("reasoning_tokens", sa.BigInteger, nullable=False),
    sa.Column("cached_tokens", sa.BigInteger, nullable=False),
)
sa.Index("ix_usage_days_day", usage_days.c.day)
