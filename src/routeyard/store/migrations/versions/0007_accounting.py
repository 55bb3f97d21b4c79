"""Accounting: generation records, per-key usage counters and spend limits, daily usage.

Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("spend_limit", sa.String(64)))
        batch.add_column(sa.Column("limit_reset", sa.String(16)))
    op.create_table(
        "generations",
        sa.Column("id", sa.String(64), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
    )
    op.create_index("ix_generations_created_at", "generations", ["created_at"])
    op.create_index("ix_generations_key_id", "generations", ["key_id"])
    op.create_table(
        "key_usage",
        sa.Column("key_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("usage", sa.String(64), nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("day_start", sa.BigInteger, nullable=False),
        sa.Column("usage_daily", sa.String(64), nullable=False),
        sa.Column("week_start", sa.BigInteger, nullable=False),
        sa.Column("usage_weekly", sa.String(64), nullable=False),
        sa.Column("month_start", sa.BigInteger, nullable=False),
        sa.Column("usage_monthly", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_key_usage")),
    )
    op.create_table(
        "usage_days",
        sa.Column("key_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("day", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("provider_slug", sa.String(128), nullable=False),
        sa.Column("usage", sa.String(64), nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
        sa.Column("completion_tokens", sa.BigInteger, nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger, nullable=False),
        sa.Column("cached_tokens", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("key_id", "day", "model", "provider_slug",
                                name=op.f("pk_usage_days")),
    )
    op.create_index("ix_usage_days_day", "usage_days", ["day"])


def downgrade() -> None:
    op.drop_index("ix_usage_days_day", "usage_days")
    op.drop_table("usage_days")
    op.drop_table("key_usage")
    op.drop_index("ix_generations_key_id", "generations")
    op.drop_index("ix_generations_created_at", "generations")
    op.drop_table("generations")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("limit_reset")
        batch.drop_column("spend_limit")
