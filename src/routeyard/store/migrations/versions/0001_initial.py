"""Initial schema: catalog, keys, state counters, health minutes.

Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

PRICE_COLUMNS = (
    "prompt", "completion", "request", "image", "image_output", "audio", "input_audio_cache",
    "web_search", "internal_reasoning", "input_cache_read", "input_cache_write", "discount",
)


def upgrade() -> None:
    op.create_table(
        "state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_state")),
    )
    op.create_table(
        "providers",
        sa.Column("slug", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("privacy_policy_url", sa.Text),
        sa.Column("terms_of_service_url", sa.Text),
        sa.Column("status_page_url", sa.Text),
        sa.Column("base_url", sa.Text),
        sa.Column("api_key_env", sa.String(128)),
        sa.Column("probe_completion", sa.Boolean, nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_providers")),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("id_lower", sa.String(255), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("id_lower", name=op.f("uq_models_id_lower")),
    )
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(255), nullable=False),
        sa.Column("provider_slug", sa.String(128), nullable=False),
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
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], ondelete="CASCADE", onupdate="CASCADE",
            name=op.f("fk_endpoints_model_id_models"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_slug"], ["providers.slug"], onupdate="CASCADE",
            name=op.f("fk_endpoints_provider_slug_providers"),
        ),
        sa.UniqueConstraint("model_id", "tag", name="uq_endpoints_model_id_tag"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_used_at", sa.BigInteger),
        sa.Column("revoked_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "health_minutes",
        sa.Column("model_id", sa.String(255), nullable=False),
        sa.Column("tag", sa.String(255), nullable=False),
        sa.Column("minute", sa.BigInteger, nullable=False),
        sa.Column("writer", sa.String(64), nullable=False),
        sa.Column("success", sa.Integer, nullable=False),
        sa.Column("upstream_error", sa.Integer, nullable=False),
        sa.Column("timeout", sa.Integer, nullable=False),
        sa.Column("rate_limited", sa.Integer, nullable=False),
        sa.Column("caller_error", sa.Integer, nullable=False),
        sa.Column("latency", sa.JSON, nullable=False),
        sa.Column("throughput", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "tag", "minute", "writer", name=op.f("pk_health_minutes")),
    )
    op.create_index("ix_health_minutes_minute", "health_minutes", ["minute"])


def downgrade() -> None:
    op.drop_index("ix_health_minutes_minute", table_name="health_minutes")
    for table in ("health_minutes", "api_keys", "endpoints", "models", "providers", "state"):
        op.drop_table(table)
