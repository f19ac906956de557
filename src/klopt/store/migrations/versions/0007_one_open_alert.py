"""one open alert per promise and kind, enforced by the database

Two ``klopt alerts check`` runs at the same moment could each see no open alert and
each open one. A partial unique index on ``alert (organization_id, kind,
coalesce(promise_id, 0)) WHERE state = 'open'`` makes the second one fail; the check
then runs again and updates the alert the first one opened.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 11:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    op.create_index(
        "ux_alert_open",
        "alert",
        ["organization_id", "kind", sa.text("coalesce(promise_id, 0)")],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ux_alert_open", table_name="alert")
