"""The audit trail's writer: every decision a person or a job makes, who, when, on what.

Reading it back, for the members of an organisation, is :mod:`klopt.accounts.trail`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from klopt.store.models import AuditEvent

if TYPE_CHECKING:
    pass

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
