"""The audit trail: every decision a person or a job makes, who, when, on what."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from klopt.store.models import AuditEvent

__all__ = ["record"]


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
    """Add one audit event to the session's transaction."""
    session.add(
        AuditEvent(
            organization_id=organization_id,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            details=details,
        )
    )
