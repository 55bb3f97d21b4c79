"""Key preferences: the provider preferences a key's requests default to (docs/api.md).

Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        # JSON of routeyard.preferences.KeyPreferences; NULL: no preference (the defaults).
        batch.add_column(sa.Column("preferences", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("preferences")
