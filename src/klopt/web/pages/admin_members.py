"""/admin/members: the organisation's members, their roles and accounts.

An admin adds a user (with a password they give the person, or one klopt makes and shows
once), gives an existing user a role, changes a member's role and takes it away. The
library refuses to leave the organisation without an admin and records every change.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from klopt.accounts.members import member_accounts
from klopt.accounts.permissions import ROLES
from klopt.accounts.users import add_user, grant, revoke
from klopt.errors import InputError, KloptError, NotFound
from klopt.web.pages.admin_access import AdminViewer, render_admin

__all__ = ["router", "MIN_PASSWORD", "generated_password"]

router = APIRouter(include_in_schema=False)

#: The shortest password an admin may give a new user here.
MIN_PASSWORD = 10

_Name = Annotated[str, Form(max_length=100)]
_Role = Annotated[str, Form(max_length=20)]


def generated_password() -> str:
    """A password klopt makes for a new user: 16 characters, about 96 bits of chance."""
    return secrets.token_urlsafe(12)


def _page(
    request: Request,
    viewer: AdminViewer,
    *,
    error: KloptError | None = None,
    notice: str | None = None,
    new_password: tuple[str, str] | None = None,
) -> Response:
    return render_admin(
        request, viewer, "admin/members.html", error=error, notice=notice,
        members=member_accounts(viewer.store, viewer.org.slug), roles=ROLES,
        new_password=new_password, min_password=MIN_PASSWORD,
    )  # fmt: skip


@router.get("/admin/members")
def members(request: Request, viewer: AdminViewer) -> Response:
    """The members with their role, and whether their account is active."""
    return _page(request, viewer)


@router.post("/admin/members/add")
def add_member(
    request: Request,
    viewer: AdminViewer,
    name: _Name,
    role: _Role,
    display_name: Annotated[str, Form(max_length=200)] = "",
    password_choice: Annotated[str, Form(max_length=20)] = "generate",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Add a user and give them a role here; a made password is shown this once."""
    made = password_choice != "own"
    secret = generated_password() if made else password
    try:
        if role not in ROLES:  # before the user exists: all or nothing
            raise InputError.keyed("users.bad_role", role=role, roles=", ".join(ROLES))
        if not made and len(password) < MIN_PASSWORD:
            raise InputError.keyed("admin.short_password", count=MIN_PASSWORD)
        info = add_user(
            viewer.store, name, password=secret, display_name=display_name, actor=viewer.user
        )
        grant(viewer.store, viewer.org.slug, info.name, role, actor=viewer.user)
    except KloptError as exc:
        return _page(request, viewer, error=exc)
    notice = viewer.t("web.admin.members.added", name=info.name, role=viewer.t(f"web.role.{role}"))
    return _page(request, viewer, notice=notice, new_password=(info.name, secret) if made else None)


@router.post("/admin/members/grant")
def grant_role(request: Request, viewer: AdminViewer, name: _Name, role: _Role) -> Response:
    """Give an existing user a role here, or change a member's role."""
    try:
        info = grant(viewer.store, viewer.org.slug, name.strip(), role, actor=viewer.user)
    except KloptError as exc:
        return _page(request, viewer, error=exc)
    if info.name == viewer.user and role != "admin":
        return RedirectResponse("/account", status_code=303)  # no admin pages for them now
    notice = viewer.t(
        "web.admin.members.granted", name=info.name, role=viewer.t(f"web.role.{role}")
    )
    return _page(request, viewer, notice=notice)


@router.post("/admin/members/role")
def change_role(request: Request, viewer: AdminViewer, name: _Name, role: _Role) -> Response:
    """Change the role of a member (only of a member: a stranger's name is not found)."""
    if name not in {m.name for m in member_accounts(viewer.store, viewer.org.slug)}:
        error = NotFound.keyed("users.not_member", name=name, org=viewer.org.name)
        return _page(request, viewer, error=error)
    return grant_role(request, viewer, name, role)


@router.post("/admin/members/revoke")
def revoke_role(request: Request, viewer: AdminViewer, name: _Name) -> Response:
    """Take a member's role away; the account stays (it may be a member elsewhere)."""
    try:
        revoke(viewer.store, viewer.org.slug, name, actor=viewer.user)
    except KloptError as exc:
        return _page(request, viewer, error=exc)
    if name == viewer.user:
        return RedirectResponse("/account", status_code=303)  # no admin pages for them now
    return _page(request, viewer, notice=viewer.t("web.admin.members.revoked", name=name))
