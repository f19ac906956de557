"""Who may open the admin pages (admins of the viewer's organisation), and what every
admin page does with a library error: show it in the viewer's language with its status.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from klopt.errors import KloptError, NotAllowed
from klopt.i18n import Term
from klopt.web.context import Viewer, page_viewer
from klopt.web.render import render

__all__ = ["SECTIONS", "AdminViewer", "admin_viewer", "render_admin", "attachment"]

#: The admin sections: address and the message key of their name.
SECTIONS = (
    ("/admin/members", "web.admin.members.title"),
    ("/admin/sources", "web.admin.sources.title"),
    ("/admin/rules", "web.admin.rules.title"),
    ("/admin/audit", "web.admin.audit.title"),
)


async def admin_viewer(viewer: Annotated[Viewer, Depends(page_viewer)]) -> Viewer:
    """The viewer of an admin page, who must be an admin of their organisation.

    Raises:
        NotAllowed: the viewer has another role (403, before anything is read or changed).
    """
    if viewer.role != "admin":
        raise NotAllowed.keyed(
            "admin.admins_only",
            user=viewer.user,
            org=viewer.org.name,
            role=Term(f"web.role.{viewer.role}"),
        )
    return viewer


AdminViewer = Annotated[Viewer, Depends(admin_viewer)]


def render_admin(
    request: Request,
    viewer: Viewer,
    template: str,
    *,
    error: KloptError | None = None,
    status: int | None = None,
    **context: Any,
) -> HTMLResponse:
    """An admin page; with ``error``, its message in the viewer's language and the status
    that says what kind of error it is."""
    from klopt.web.app import status_of

    code = status if status is not None else status_of(error) if error is not None else 200
    message = error.localized(viewer.lang) if error is not None else None
    return render(
        request, viewer, template, status=code, error=message, sections=SECTIONS, **context
    )


def attachment(*parts: str, ext: str) -> str:
    """A ``Content-Disposition`` that saves the answer as ``part-part.ext``, with only
    letters, digits, ``_`` and ``-`` in the name (no quotes, slashes or newlines)."""
    stem = "-".join(re.sub(r"[^A-Za-z0-9_-]+", "_", p).strip("_-") for p in parts if p)
    name = f"{stem[:150] or 'klopt'}.{re.sub(r'[^a-z0-9]', '', ext.lower())}"
    return f'attachment; filename="{name}"'
