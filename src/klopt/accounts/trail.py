"""Reading the audit trail back: an organisation's events, for its members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.store import Store
from klopt.store.models import AuditEvent

__all__ = ["AuditEntry", "trail"]


@dataclass(frozen=True)
class AuditEntry:
    """One event of the audit trail, as exported."""

    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON and CSV."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject": self.subject_id,
            "details": self.details,
        }


def trail(
    store: Store,
    org_ref: str | None,
    *,
    actor: str,
    subject_type: str | None = None,
    subject_id: str | None = None,
    since: datetime | None = None,
) -> list[AuditEntry]:
    """The organisation's audit events, oldest first, optionally of one subject.

    Any member of the organisation may read it; an organisation without members yet
    (one person working alone) is readable by whoever runs klopt.
    """
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "audit.read")
        query = (
            select(AuditEvent).where(AuditEvent.organization_id == org.id).order_by(AuditEvent.id)
        )
        if subject_type:
            query = query.where(AuditEvent.subject_type == subject_type)
        if subject_id:
            query = query.where(AuditEvent.subject_id == subject_id)
        if since is not None:
            query = query.where(AuditEvent.created_at >= since)
        return [
            AuditEntry(
                e.created_at, e.actor, e.action, e.subject_type, e.subject_id, dict(e.details)
            )
            for e in session.scalars(query)
        ]
