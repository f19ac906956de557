"""alerts: significant rises of broken verdicts (per promise) and of volume

``alert`` holds each alert of an organisation: kind (broken / volume), the promise (none
for volume), state (open / closed) with its times, the windows of the newest check, the
baseline frozen at opening, counts, rate ratio, p-value and adjusted p-value, the top
evidence post ids, and the delivery attempts (webhook, e-mail) with their status.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _stamp(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        _stamp("opened_at"),
        _stamp("updated_at"),
        _stamp("closed_at", nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("settled", sa.Boolean(), nullable=False),
        _stamp("window_start"),
        _stamp("window_end"),
        _stamp("baseline_start"),
        _stamp("baseline_end"),
        sa.Column("recent_count", sa.Integer(), nullable=False),
        sa.Column("recent_exposure", sa.Float(), nullable=False),
        sa.Column("baseline_count", sa.Integer(), nullable=False),
        sa.Column("baseline_exposure", sa.Float(), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("q_value", sa.Float(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("notified_count", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("delivery_status", sa.String(length=20), nullable=False),
        sa.Column("deliveries", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["promise_id"], ["promise.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_org_state", "alert", ["organization_id", "state"])
    op.create_index("ix_alert_org_kind_promise", "alert", ["organization_id", "kind", "promise_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_org_kind_promise", table_name="alert")
    op.drop_index("ix_alert_org_state", table_name="alert")
    op.drop_table("alert")
