"""The admin pages (``/admin``, for the organisation's admins) and each user's own API
tokens (``/account/tokens``).

Each section is its own module: members and roles (:mod:`.admin_members`), sources
(:mod:`.admin_sources`), rule packs (:mod:`.admin_rules`), the audit trail
(:mod:`.admin_audit`) and tokens (:mod:`.admin_tokens`). A viewer who is no admin gets
403 with a message that says so, before anything is read or changed
(:func:`klopt.web.pages.admin_access.admin_viewer`); the library checks the role again
for every change.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from klopt.web.pages import admin_audit, admin_members, admin_rules, admin_sources, admin_tokens
from klopt.web.pages.admin_access import AdminViewer, render_admin

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def admin(request: Request, viewer: AdminViewer) -> Response:
    """The admin start page: the sections."""
    return render_admin(request, viewer, "admin/index.html")


for _section in (admin_members, admin_sources, admin_rules, admin_audit, admin_tokens):
    router.include_router(_section.router)
