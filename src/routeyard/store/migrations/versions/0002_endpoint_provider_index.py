"""Index endpoints by provider (provider pages, provider deletes).

Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.create_index("ix_endpoints_provider_slug", ["provider_slug"])


def downgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_index("ix_endpoints_provider_slug")
