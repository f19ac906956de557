"""draft images with alt text, visibility and the publishing account of a draft

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draft_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(length=40), nullable=False),
        sa.Column("alt", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["draft.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draft_id", "version", "position"),
    )
    op.create_index("ix_draft_image_draft_id", "draft_image", ["draft_id"])
    op.add_column(
        "draft",
        sa.Column("visibility", sa.String(10), nullable=False, server_default="public"),
    )
    op.add_column("draft", sa.Column("account", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draft") as batch:
        batch.drop_column("account")
        batch.drop_column("visibility")
    op.drop_index("ix_draft_image_draft_id", table_name="draft_image")
    op.drop_table("draft_image")
