"""The audit trail: every decision a person or a job makes, who, when, on what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from klopt.store.models import AuditEvent

if TYPE_CHECKING:
    from klopt.store import Store

__all__ = ["AuditEntry", "record", "trail"]


def record(
    session: Session,
    *,
    organization_id: int | None,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int,
    **details: Any,
) -> None:
    """Add one audit event to the session's transaction (times in ``details`` are kept
    as ISO 8601 text)."""
    session.add(
        AuditEvent(
            organization_id=organization_id,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            details={name: _plain(value) for name, value in details.items()},
        )
    )


def _plain(value: Any) -> Any:
    """A detail as JSON keeps it: times as ISO 8601 text, in lists and mappings too."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


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
    from sqlalchemy import select

    from klopt.organizations import find_organization
    from klopt.permissions import authorize

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
