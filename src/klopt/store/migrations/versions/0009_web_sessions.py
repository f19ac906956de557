"""web sessions: signed-in browsers, failed sign-ins, and each user's language

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("lang", sa.String(8), nullable=True))
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_session_user_id", "web_session", ["user_id"])
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sign_in_failure_user_name", "sign_in_failure", ["user_name"])
    op.create_index("ix_sign_in_failure_address", "sign_in_failure", ["address"])
    op.create_index("ix_sign_in_failure_at", "sign_in_failure", ["at"])


def downgrade() -> None:
    op.drop_table("sign_in_failure")
    op.drop_table("web_session")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("lang")
