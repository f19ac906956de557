"""Who asks: the signed-in person (a browser session) or a token (the API), in which
organisation, with which role, in which language.

Every page and API route takes a :class:`Viewer` from :func:`page_viewer` or
:func:`api_viewer` and passes ``viewer.org.slug`` and ``viewer.user`` to the library,
which checks the role for every write (:func:`klopt.accounts.permissions.authorize`).
Every read is scoped to ``viewer.org``: an object of another organisation is not found.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from klopt.accounts.organizations import OrganizationInfo
from klopt.accounts.permissions import ACTIONS
from klopt.accounts.sessions import Membership_, SignedIn
from klopt.errors import NotAllowed, NotAuthenticated, NotFound
from klopt.i18n import LANGUAGES, t
from klopt.store import Store

__all__ = [
    "SESSION_COOKIE",
    "Viewer",
    "SignInNeeded",
    "NoOrganization",
    "page_viewer",
    "api_viewer",
    "browser_language",
    "check_csrf",
    "store_of",
    "viewer_if_signed_in",
]

SESSION_COOKIE = "klopt_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
ORG_HEADER = "X-Klopt-Org"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SignInNeeded(Exception):
    """A page was asked for without a (live) session: the app answers with the sign-in page."""


class NoOrganization(Exception):
    """The signed-in user is a member of no organisation."""

    def __init__(self, signed: SignedIn, lang: str) -> None:
        super().__init__(signed.user)
        self.signed = signed
        self.lang = lang


@dataclass
class Viewer:
    """The person a request acts for, in one organisation."""

    store: Store
    user: str
    display_name: str
    lang: str
    org: OrganizationInfo
    role: str
    #: The session's CSRF token (``None`` for a request with a bearer token).
    csrf: str | None
    organizations: list[Membership_] = field(default_factory=list)

    def can(self, action: str) -> bool:
        """Whether the viewer's role allows ``action`` (to show or hide a button; the
        library checks again when the action is taken)."""
        return self.role in ACTIONS[action].roles

    def t(self, key: str, **values: Any) -> str:
        """A message in the viewer's language."""
        return t(key, self.lang, **values)


def store_of(request: Request) -> Store:
    """The store the app serves."""
    store: Store = request.app.state.store
    return store


def browser_language(request: Request) -> str:
    """The first language of ``Accept-Language`` that klopt speaks, else English."""
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES:
            ranked.append((-quality, i, base))
    return sorted(ranked)[0][2] if ranked else "en"


def _language(request: Request, signed: SignedIn | None) -> str:
    if signed is not None and signed.lang in LANGUAGES:
        return signed.lang
    return browser_language(request)


def check_csrf(request: Request, expected: str, sent: str | None) -> None:
    """Refuse an unsafe request whose CSRF token is missing or wrong."""
    token = sent or request.headers.get(CSRF_HEADER, "")
    if not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise NotAllowed.keyed("web.csrf")


async def form_csrf(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _viewer(request: Request, signed: SignedIn, lang: str, csrf: str | None) -> Viewer:
    from klopt.accounts.sessions import memberships

    store = store_of(request)
    request.state.lang = lang
    orgs = memberships(store, signed.user)
    if not orgs:
        raise NoOrganization(signed, lang)
    chosen = next((m for m in orgs if m.organization.id == signed.organization_id), orgs[0])
    return Viewer(
        store=store,
        user=signed.user,
        display_name=signed.display_name or signed.user,
        lang=lang,
        org=chosen.organization,
        role=chosen.role,
        csrf=csrf,
        organizations=orgs,
    )


def signed_in_user(request: Request) -> SignedIn | None:
    """Who the request's session cookie belongs to, if anyone."""
    from klopt.accounts.sessions import signed_in

    return signed_in(store_of(request), request.cookies.get(SESSION_COOKIE))


async def page_viewer(request: Request) -> Viewer:
    """The viewer of a page: the session's user (else the sign-in page); forms and htmx
    requests that change something must carry the session's CSRF token."""
    signed = await run_in_threadpool(signed_in_user, request)
    if signed is None:
        raise SignInNeeded()
    if request.method in _UNSAFE:
        check_csrf(request, signed.csrf, await form_csrf(request))
    return await run_in_threadpool(
        _viewer, request, signed, _language(request, signed), signed.csrf
    )


def _api_viewer(request: Request) -> Viewer:
    """The viewer of an API request: ``Authorization: Bearer <token>``, or the browser's
    session with its CSRF token in ``X-CSRF-Token`` for writes.

    The organisation is the one named in ``X-Klopt-Org`` (name or slug), else the user's
    only one (or, for a session, the one chosen in the app).

    Raises:
        NotAuthenticated: no token or session, or a token that does not work (401).
        NotFound: ``X-Klopt-Org`` names an organisation the user is no member of (404).
    """
    from klopt.accounts.sessions import SignedIn as Signed
    from klopt.accounts.users import authenticate

    store = store_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        name = authenticate(store, None, token=token.strip())
        lang = _api_language(request, store, name)
        signed = Signed(name, "", lang, None, "")
        csrf = None
    else:
        found = signed_in_user(request)
        if found is None:
            raise NotAuthenticated.keyed("web.no_token")
        if request.method in _UNSAFE:
            check_csrf(request, found.csrf, None)
        signed, lang, csrf = found, _language(request, found), found.csrf
    try:
        viewer = _viewer(request, signed, lang, csrf)
    except NoOrganization:
        raise NotFound.keyed("web.unknown_organization") from None
    wanted = request.headers.get(ORG_HEADER)
    if wanted:
        from klopt.accounts.organizations import slugify

        match = [
            m
            for m in viewer.organizations
            if wanted in (m.organization.slug, m.organization.name)
            or slugify(wanted) == m.organization.slug
        ]
        if not match:
            raise NotFound.keyed("web.unknown_organization")
        viewer.org, viewer.role = match[0].organization, match[0].role
    elif csrf is None and len(viewer.organizations) > 1:
        from klopt.errors import InputError

        raise InputError.keyed("web.which_organization")
    return viewer


async def api_viewer(request: Request) -> Viewer:
    """See :func:`_api_viewer`; it runs beside the event loop (it reads the store)."""
    return await run_in_threadpool(_api_viewer, request)


def _api_language(request: Request, store: Store, name: str) -> str:
    """``?lang=`` or ``Accept-Language`` for the API's messages; else the user's own."""
    wanted = request.query_params.get("lang")
    if wanted in LANGUAGES:
        return str(wanted)
    if request.headers.get("accept-language"):
        return browser_language(request)
    from sqlalchemy import select

    from klopt.store.models import User

    with store.session() as session:
        lang = session.scalar(select(User.lang).where(User.name == name))
    return lang if lang in LANGUAGES else "en"


def viewer_if_signed_in(request: Request) -> Viewer | None:
    """The viewer where the request has a working session (for an error page with the
    navigation); ``None`` when it has none, or when that cannot be found out now (the
    store does not answer: the error page is shown without it)."""
    try:
        signed = signed_in_user(request)
        if signed is None:
            return None
        return _viewer(request, signed, _language(request, signed), signed.csrf)
    except Exception:  # an error page must not fail on the way to saying what went wrong
        return None
