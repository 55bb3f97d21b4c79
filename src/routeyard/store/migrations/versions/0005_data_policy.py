"""Data policy of providers and endpoints (training, retention, zero data retention).

Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("data_policy", sa.JSON, nullable=True))
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(sa.Column("data_policy", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("data_policy")
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("data_policy")
