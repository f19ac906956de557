"""publication reach: when a published post's likes, shares and replies were last read

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "publication", sa.Column("reach_checked_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.drop_column("reach_checked_at")
