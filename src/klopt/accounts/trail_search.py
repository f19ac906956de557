"""Searching the audit trail: by who acted, what they did, on what, in which period,
a page at a time (the admin page); :func:`klopt.accounts.trail.trail` reads it all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.accounts.trail import AuditEntry
from klopt.store import Store
from klopt.store.models import AuditEvent

__all__ = ["TrailFilter", "TrailPage", "search_trail", "trail_choices"]


@dataclass(frozen=True)
class TrailFilter:
    """Which events to show; ``None`` (or empty) means any.

    Attributes:
        who: the name of the person (or job) who acted.
        action: the action, e.g. ``source.add``.
        subject_type: what it acted on, e.g. ``draft``.
        subject_id: which one, e.g. ``D3``.
        since: from this moment on (included).
        until: before this moment (excluded).
    """

    who: str | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class TrailPage:
    """Some events of the trail, and how many match in all."""

    entries: list[AuditEntry]
    total: int
    offset: int


def _filtered(query: Select[Any], where: TrailFilter) -> Select[Any]:
    for column, value in (
        (AuditEvent.actor, where.who),
        (AuditEvent.action, where.action),
        (AuditEvent.subject_type, where.subject_type),
        (AuditEvent.subject_id, where.subject_id),
    ):
        if value:
            query = query.where(column == value)
    if where.since is not None:
        query = query.where(AuditEvent.created_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.created_at < where.until)
    return query


def search_trail(
    store: Store,
    org_ref: str | None,
    *,
    actor: str,
    where: TrailFilter | None = None,
    offset: int = 0,
    limit: int | None = None,
    newest_first: bool = False,
) -> TrailPage:
    """The organisation's audit events that match ``where``, oldest first (or newest).

    Any member may read the trail (as :func:`klopt.accounts.trail.trail`).

    Args:
        actor: who reads it (checked: ``audit.read``).
        offset: how many matching events to skip.
        limit: the most events to return; ``None`` for all.
    """
    where = where or TrailFilter()
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "audit.read")
        base = _filtered(select(AuditEvent).where(AuditEvent.organization_id == org.id), where)
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        order = AuditEvent.id.desc() if newest_first else AuditEvent.id
        query = base.order_by(order).offset(max(0, offset))
        if limit is not None:
            query = query.limit(limit)
        entries = [
            AuditEntry(
                e.created_at, e.actor, e.action, e.subject_type, e.subject_id, dict(e.details)
            )
            for e in session.scalars(query)
        ]
        return TrailPage(entries, total, max(0, offset))


def trail_choices(store: Store, org_ref: str | None, *, actor: str) -> dict[str, list[str]]:
    """The names that occur in the organisation's trail, to filter by: ``who``,
    ``action`` and ``subject_type``, each sorted."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "audit.read")
        choices: dict[str, list[str]] = {}
        for key, column in (
            ("who", AuditEvent.actor),
            ("action", AuditEvent.action),
            ("subject_type", AuditEvent.subject_type),
        ):
            found = session.scalars(
                select(column).where(AuditEvent.organization_id == org.id).distinct()
            )
            choices[key] = sorted(found)
        return choices
