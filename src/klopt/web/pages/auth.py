"""Signing in and out, choosing the organisation and the language.

The sign-in form is protected against login CSRF with a double-submit token: a random
value in a short-lived cookie and the same value in the form. After sign-in every form
carries the session's own token (see :mod:`klopt.web.context`).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from klopt.accounts.sessions import LIFETIME
from klopt.errors import KloptError
from klopt.web.context import SESSION_COOKIE, Viewer, browser_language, page_viewer
from klopt.web.render import render_plain

router = APIRouter(include_in_schema=False)

_SIGN_IN_COOKIE = "klopt_sign_in"


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dashboard"
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _sign_in_page(
    request: Request, *, error: str | None = None, name: str = "", status: int = 200
) -> Response:
    lang = browser_language(request)
    token = secrets.token_urlsafe(24)
    response = render_plain(
        request,
        lang,
        "sign_in.html",
        status=status,
        error=error,
        name=name,
        next=safe_next(request.query_params.get("next")),
        csrf=Markup('<input type="hidden" name="csrf" value="{}">').format(escape(token)),
    )
    response.set_cookie(
        _SIGN_IN_COOKIE, token, max_age=3600, httponly=True, samesite="lax",
        secure=_secure(request), path="/sign-in",
    )  # fmt: skip
    return response


@router.get("/")
def home() -> RedirectResponse:
    """The dashboard is the start page."""
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    """The sign-in form, in the browser's language."""
    return _sign_in_page(request)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",  # noqa: A002
) -> Response:
    """Check the password; on success a new session and its cookie, then ``next``."""
    from klopt.accounts.sessions import sign_in as open_session
    from klopt.i18n import t

    lang = browser_language(request)
    expected = request.cookies.get(_SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf.encode()):
        return _sign_in_page(request, error=t("error.web.csrf", lang), name=name, status=403)
    address = request.client.host if request.client else ""
    store = request.app.state.store
    try:
        session_id, _ = await run_in_threadpool(
            open_session, store, name, password, address=address
        )
    except KloptError as exc:
        from klopt.web.app import status_of

        return _sign_in_page(request, error=exc.localized(lang), name=name, status=status_of(exc))
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session_id, max_age=int(LIFETIME.total_seconds()), httponly=True,
        samesite="lax", secure=_secure(request), path="/",
    )  # fmt: skip
    response.delete_cookie(_SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """End the session and forget its cookie (also for a user without an organisation)."""
    from klopt.accounts.sessions import sign_out as end_session
    from klopt.web.context import check_csrf, form_csrf, signed_in_user

    signed = await run_in_threadpool(signed_in_user, request)
    if signed is not None:
        check_csrf(request, signed.csrf, await form_csrf(request))
        await run_in_threadpool(
            end_session, request.app.state.store, request.cookies.get(SESSION_COOKIE)
        )
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/organization")
def choose_organization(
    request: Request,
    viewer: Annotated[Viewer, Depends(page_viewer)],
    organization: Annotated[int, Form()],
) -> Response:
    """Work in another of the user's organisations."""
    from klopt.accounts.sessions import choose_organization as choose

    choose(viewer.store, request.cookies.get(SESSION_COOKIE, ""), organization)
    return RedirectResponse("/dashboard", status_code=303)


@router.post("/language")
def choose_language(
    request: Request,
    viewer: Annotated[Viewer, Depends(page_viewer)],
    lang: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",  # noqa: A002
) -> Response:
    """Speak ``lang`` to this user from now on (``browser``: the browser's choice)."""
    from klopt.accounts.sessions import set_language

    set_language(viewer.store, viewer.user, None if lang == "browser" else lang)
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/account")
def account(request: Request, viewer: Annotated[Viewer, Depends(page_viewer)]) -> Response:
    """The user's own page: their organisations and roles, and their language."""
    from klopt.web.render import render

    return render(request, viewer, "account.html")


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    """Browsers ask for it at the root; it is an SVG among the static files."""
    return RedirectResponse("/static/favicon.svg", status_code=301)
