"""Signing in to the web app: sessions kept in the store, throttled password guessing.

A browser that signs in gets a long random id in a cookie; the store keeps only its
SHA-256, so a copy of the database holds no live session. Every sign-in makes a new id
(no session fixation), signing out deletes it, and a session ends after
:data:`IDLE_LIMIT` without use or :data:`LIFETIME` in all.

Guessing is slowed per user name and per address: after :data:`MAX_FAILURES_PER_USER`
failed tries for one name (or :data:`MAX_FAILURES_PER_ADDRESS` from one address) within
:data:`FAILURE_WINDOW`, sign-in is refused for that name or address until the window
has passed, even with the right password. Unknown names count too, and the message never
says whether a name exists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from klopt.accounts.organizations import OrganizationInfo
from klopt.errors import NotAuthenticated, NotFound, Throttled
from klopt.store import Store
from klopt.store.models import (
    Membership,
    Organization,
    SignInFailure,
    User,
    WebSession,
    utcnow,
)

__all__ = [
    "IDLE_LIMIT",
    "LIFETIME",
    "FAILURE_WINDOW",
    "MAX_FAILURES_PER_USER",
    "MAX_FAILURES_PER_ADDRESS",
    "SignedIn",
    "Membership_",
    "sign_in",
    "signed_in",
    "sign_out",
    "choose_organization",
    "memberships",
    "set_language",
]

IDLE_LIMIT = timedelta(hours=12)
LIFETIME = timedelta(days=14)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 30
#: How often ``last_seen_at`` is written (not at every request).
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """Who a browser session belongs to, and where they work now."""

    user: str
    display_name: str
    lang: str | None
    organization_id: int | None
    csrf: str


@dataclass(frozen=True)
class Membership_:  # noqa: N801 - the row type is Membership
    """An organisation a user works in, with their role there."""

    organization: OrganizationInfo
    role: str


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _throttled(session: Session, name: str, address: str, now: datetime) -> bool:
    since = now - FAILURE_WINDOW
    per_user = session.scalar(
        select(func.count(SignInFailure.id)).where(
            SignInFailure.user_name == name, SignInFailure.at >= since
        )
    )
    per_address = session.scalar(
        select(func.count(SignInFailure.id)).where(
            SignInFailure.address == address, SignInFailure.at >= since
        )
    )
    return (per_user or 0) >= MAX_FAILURES_PER_USER or (
        per_address or 0
    ) >= MAX_FAILURES_PER_ADDRESS


def sign_in(store: Store, name: str, password: str, *, address: str = "") -> tuple[str, SignedIn]:
    """Check the password and open a session; returns the new session id (for the cookie)
    and who signed in.

    Raises:
        Throttled: too many failed tries for this name or from this address lately.
        NotAuthenticated: the name, password or account does not work (one message for
            all three).
    """
    name, address = name.strip()[:100], address[:64]
    from klopt.accounts.users import verify_password

    now = utcnow()
    with store.session() as session:
        session.execute(delete(SignInFailure).where(SignInFailure.at < now - FAILURE_WINDOW))
        if _throttled(session, name, address, now):
            minutes = int(FAILURE_WINDOW.total_seconds() // 60)
            raise Throttled.keyed("web.throttled", minutes=minutes)
    # The password is checked outside the transaction above: argon2 takes a while.
    user_ok = verify_password(store, name, password)
    if not user_ok:
        with store.session() as session:
            session.add(SignInFailure(user_name=name, address=address, at=now))
        raise NotAuthenticated.keyed("web.bad_sign_in")
    with store.session() as session:
        user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
        if user is None:  # deactivated in the meantime
            raise NotAuthenticated.keyed("web.bad_sign_in")
        session.execute(
            delete(SignInFailure).where(
                SignInFailure.user_name == name, SignInFailure.address == address
            )
        )
        first_org = session.scalar(
            select(Membership.organization_id)
            .join(Organization, Organization.id == Membership.organization_id)
            .where(Membership.user_id == user.id)
            .order_by(Organization.name)
            .limit(1)
        )
        session_id = secrets.token_urlsafe(32)
        row = WebSession(
            id=_digest(session_id),
            user_id=user.id,
            organization_id=first_org,
            csrf=secrets.token_urlsafe(32),
            address=address,
            created_at=now,
            last_seen_at=now,
            expires_at=now + LIFETIME,
        )
        session.add(row)
        return session_id, SignedIn(user.name, user.display_name, user.lang, first_org, row.csrf)


def signed_in(store: Store, session_id: str | None) -> SignedIn | None:
    """Who the session ``session_id`` belongs to, or ``None`` when it is unknown, ended,
    or its user was deactivated."""
    if not session_id or len(session_id) > 200:
        return None
    now = utcnow()
    with store.session() as session:
        row = session.get(WebSession, _digest(session_id))
        if row is None:
            return None
        if row.expires_at <= now or row.last_seen_at + IDLE_LIMIT <= now or not row.user.active:
            session.delete(row)
            return None
        if now - row.last_seen_at >= _TOUCH_EVERY and store.read_only is None:
            row.last_seen_at = now
        user = row.user
        return SignedIn(user.name, user.display_name, user.lang, row.organization_id, row.csrf)


def sign_out(store: Store, session_id: str | None) -> None:
    """End the session (nothing happens for an unknown one)."""
    if not session_id:
        return
    with store.session() as session:
        session.execute(delete(WebSession).where(WebSession.id == _digest(session_id)))


def memberships(store: Store, name: str) -> list[Membership_]:
    """The organisations ``name`` is a member of, by name, with their role."""
    with store.session() as session:
        rows = session.execute(
            select(Organization, Membership.role)
            .join(Membership, Membership.organization_id == Organization.id)
            .join(User, User.id == Membership.user_id)
            .where(User.name == name)
            .order_by(Organization.name)
        ).all()
        return [
            Membership_(OrganizationInfo(o.id, o.name, o.slug, o.language), role)
            for o, role in rows
        ]


def choose_organization(store: Store, session_id: str, organization_id: int) -> None:
    """Make ``organization_id`` the session's organisation; the user must be a member.

    Raises:
        NotFound: the organisation does not exist or the user is no member of it (the
            same answer, so that ids cannot be probed).
    """
    with store.session() as session:
        row = session.get(WebSession, _digest(session_id))
        if row is None:
            raise NotAuthenticated.keyed("web.signed_out")
        member = session.scalar(
            select(Membership.id).where(
                Membership.user_id == row.user_id,
                Membership.organization_id == organization_id,
            )
        )
        if member is None:
            raise NotFound.keyed("web.unknown_organization")
        row.organization_id = organization_id


def set_language(store: Store, name: str, lang: str | None) -> None:
    """The language the web app speaks to ``name`` (``None``: the browser's choice)."""
    from klopt.config import check_language

    with store.session() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound.keyed("users.unknown", name=name)
        user.lang = check_language(lang) if lang else None
