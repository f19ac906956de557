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

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from klopt.errors import KloptError
from klopt.web.pages import admin_audit, admin_members, admin_rules, admin_sources, admin_tokens
from klopt.web.pages.admin_access import AdminViewer, render_admin

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def admin(request: Request, viewer: AdminViewer) -> Response:
    """The admin start page: the sections, and whether replies need approval."""
    return _index(request, viewer)


def _index(request: Request, viewer: AdminViewer, **context: Any) -> Response:
    from klopt.editorial.replies import REPLY_POLICIES, reply_policy

    policy = reply_policy(viewer.store, viewer.org.slug)
    return render_admin(
        request, viewer, "admin/index.html", policies=REPLY_POLICIES, policy=policy, **context
    )


@router.post("/admin/replies")
def replies(
    request: Request, viewer: AdminViewer, policy: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """Choose whether replies to mentions need a person's approval."""
    from klopt.editorial.replies import set_reply_policy

    try:
        chosen = set_reply_policy(viewer.store, viewer.org.slug, policy, actor=viewer.user)
    except KloptError as exc:
        return _index(request, viewer, error=exc)
    return _index(request, viewer, notice=viewer.t(f"reply.policy.{chosen}"))


for _section in (admin_members, admin_sources, admin_rules, admin_audit, admin_tokens):
    router.include_router(_section.router)
