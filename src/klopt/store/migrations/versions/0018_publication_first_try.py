"""publication first try (since when a post may be on the platform under its key) and
its problem by error key, shown in each reader's language

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "publication", sa.Column("first_tried_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("publication", sa.Column("problem", sa.JSON(), nullable=True))
    # A publication tried before this column existed may have reached the platform.
    op.execute(
        "UPDATE publication SET first_tried_at = created_at WHERE attempts > 0 AND state <> 'sent'"
    )


def downgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.drop_column("problem")
        batch.drop_column("first_tried_at")
