"""/admin/audit: the organisation's audit trail, filtered, a page at a time, and its
export as CSV or JSON (the same files as ``klopt audit --format csv|json``)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from klopt.accounts.trail_export import write_trail
from klopt.accounts.trail_search import TrailFilter, search_trail, trail_choices
from klopt.errors import InputError, KloptError
from klopt.web.pages.admin_access import AdminViewer, attachment, render_admin

__all__ = ["router", "PAGE_SIZE", "trail_filter", "details_text"]

router = APIRouter(include_in_schema=False)

#: Events on one page of the trail.
PAGE_SIZE = 50

_Text = Annotated[str, Query(max_length=100)]


def _day(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError.keyed("admin.bad_date", field=field, value=value[:40]) from None


def trail_filter(
    who: str = "", action: str = "", subject_type: str = "", subject: str = "",
    since: str = "", until: str = "",
) -> TrailFilter:  # fmt: skip
    """The filter of the form: names as given, ``since`` and ``until`` whole days (UTC),
    both included.

    Raises:
        InputError: a day that is no date (``YYYY-MM-DD``).
    """
    first, last = _day(since, "since"), _day(until, "until")
    return TrailFilter(
        who=who.strip() or None,
        action=action.strip() or None,
        subject_type=subject_type.strip() or None,
        subject_id=subject.strip() or None,
        since=datetime.combine(first, time(), UTC) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), UTC) if last else None,
    )


def details_text(details: dict[str, Any]) -> str:
    """An event's details on one line, as ``klopt audit`` prints them: ``name: value; ...``
    (empty values left out, a pair ``[old, new]`` as ``old → new``)."""
    parts = []
    for name, value in details.items():
        if value in (None, "", [], {}) or value is False:
            continue
        if isinstance(value, list) and len(value) == 2:
            value = f"{value[0]} → {value[1]}"
        elif isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


@router.get("/admin/audit")
def audit(
    request: Request,
    viewer: AdminViewer,
    who: _Text = "",
    action: _Text = "",
    subject_type: _Text = "",
    subject: _Text = "",
    since: _Text = "",
    until: _Text = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """The trail, newest first, filtered by who, action, subject and period."""
    asked = {
        "who": who, "action": action, "subject_type": subject_type, "subject": subject,
        "since": since, "until": until,
    }  # fmt: skip
    query = urlencode({k: v for k, v in asked.items() if v})
    choices = trail_choices(viewer.store, viewer.org.slug, actor=viewer.user)
    context: dict[str, Any] = {
        "asked": asked, "query": query, "choices": choices, "page": page, "details": details_text,
    }  # fmt: skip
    try:
        found = search_trail(
            viewer.store, viewer.org.slug, actor=viewer.user, where=trail_filter(**asked),
            offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, newest_first=True,
        )  # fmt: skip
    except KloptError as exc:
        return render_admin(request, viewer, "admin/audit.html", error=exc, found=None, **context)
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render_admin(request, viewer, "admin/audit.html", found=found, pages=pages, **context)


@router.get("/admin/audit/export.{format}")
def export(
    viewer: AdminViewer,
    format: str,  # noqa: A002
    who: _Text = "",
    action: _Text = "",
    subject_type: _Text = "",
    subject: _Text = "",
    since: _Text = "",
    until: _Text = "",
) -> Response:
    """The filtered trail, oldest first, as a CSV or JSON file."""
    if format not in ("csv", "json"):
        raise InputError.keyed("admin.bad_export_format", format=format[:10])
    where = trail_filter(who, action, subject_type, subject, since, until)
    found = search_trail(viewer.store, viewer.org.slug, actor=viewer.user, where=where)
    stream = io.StringIO()
    write_trail(found.entries, format, stream)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    media = "text/csv" if format == "csv" else "application/json"
    return Response(
        stream.getvalue().encode("utf-8"),
        media_type=f"{media}; charset=utf-8",
        headers={
            "Content-Disposition": attachment("klopt-audit", viewer.org.slug, stamp, ext=format)
        },
    )
