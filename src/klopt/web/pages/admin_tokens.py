"""/account/tokens: each user's own API tokens (for ``Authorization: Bearer``).

A token is shown once, when it is made; klopt keeps only its hash. The library lets a
user make and revoke tokens for themselves only, so this page is every signed-in user's,
not the admins': an admin cannot see or revoke another member's tokens here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from klopt.accounts.users import create_token, list_tokens, revoke_token
from klopt.errors import KloptError
from klopt.web.context import Viewer, page_viewer
from klopt.web.pages.admin_access import render_admin

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_Signed = Annotated[Viewer, Depends(page_viewer)]


def _page(
    request: Request,
    viewer: Viewer,
    *,
    error: KloptError | None = None,
    notice: str | None = None,
    new_token: str | None = None,
) -> Response:
    return render_admin(
        request, viewer, "admin/tokens.html", error=error, notice=notice,
        tokens=list_tokens(viewer.store, viewer.user), new_token=new_token,
    )  # fmt: skip


@router.get("/account/tokens")
def tokens(request: Request, viewer: _Signed) -> Response:
    """The user's tokens: label, made, last used, revoked."""
    return _page(request, viewer)


@router.post("/account/tokens")
def new_token(
    request: Request, viewer: _Signed, label: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """Make a token for the user; it is on this answer only."""
    try:
        token = create_token(viewer.store, viewer.user, label=label, actor=viewer.user)
    except KloptError as exc:
        return _page(request, viewer, error=exc)
    return _page(request, viewer, new_token=token, notice=viewer.t("web.tokens.made"))


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, viewer: _Signed, token_id: int) -> Response:
    """Stop one of the user's tokens from working (another user's token is not found)."""
    try:
        revoke_token(viewer.store, token_id, actor=viewer.user)
    except KloptError as exc:
        return _page(request, viewer, error=exc)
    return _page(request, viewer, notice=viewer.t("web.tokens.revoked", id=token_id))
