"""Users and their roles per organisation: the base of the editorial workflow.

Users live in the store with an argon2 password hash (never the password), so the web
app can log in the same accounts the CLI acts as. A user has at most one role in an
organisation: ``editor`` writes drafts, ``approver`` approves them or asks for changes,
``admin`` manages members, ``viewer`` only reads. Every change is an audit event.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import ROLES, authorize, require_role, role_of
from klopt.errors import (
    InputError,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    UnknownUser,
    UserExists,
)
from klopt.store import Store
from klopt.store.models import ApiToken, Membership, User, utcnow

__all__ = [
    "ROLES",
    "UserInfo",
    "MemberInfo",
    "add_user",
    "set_password",
    "verify_password",
    "grant",
    "revoke",
    "list_members",
    "role_of",
    "require_role",
    "find_user",
    "authenticate",
    "has_credentials",
    "create_token",
    "list_tokens",
    "revoke_token",
    "TokenInfo",
    "TOKEN_PREFIX",
]

_hasher = PasswordHasher()


@dataclass(frozen=True)
class UserInfo:
    """A user as shown to a person (without the hash)."""

    name: str
    display_name: str
    active: bool
    has_password: bool


@dataclass(frozen=True)
class MemberInfo:
    """A user's role in one organisation."""

    name: str
    display_name: str
    role: str


def _hash(password: str) -> str:
    if not password:
        raise InputError.keyed("users.empty_password")
    return _hasher.hash(password)


def find_user(session: Session, name: str) -> User:
    """The user called ``name``; :class:`UnknownUser` when there is none."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UnknownUser.keyed("users.unknown", name=name)
    return user


def add_user(
    store: Store,
    name: str,
    *,
    password: str | None = None,
    display_name: str = "",
    actor: str,
) -> UserInfo:
    """Add a user, with a password (hashed) or none; a name that exists is refused."""
    name = name.strip()
    if not name or any(c.isspace() for c in name) or len(name) > 100:
        raise InputError.keyed("users.bad_name", name=name)
    password_hash = _hash(password) if password is not None else None
    with store.session() as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise UserExists.keyed("users.exists", name=name)
        user = User(name=name, display_name=display_name.strip(), password_hash=password_hash)
        session.add(user)
        session.flush()
        audit.record(
            session,
            organization_id=None,
            actor=actor,
            action="user.add",
            subject_type="user",
            subject_id=user.id,
            name=name,
            password=password_hash is not None,
        )
        return UserInfo(user.name, user.display_name, user.active, password_hash is not None)


def set_password(store: Store, name: str, password: str, *, actor: str) -> None:
    """Give a user a new password (stored as an argon2 hash)."""
    password_hash = _hash(password)
    with store.session() as session:
        user = find_user(session, name)
        user.password_hash = password_hash
        audit.record(
            session,
            organization_id=None,
            actor=actor,
            action="user.password",
            subject_type="user",
            subject_id=user.id,
            name=name,
        )


def verify_password(store: Store, name: str, password: str) -> bool:
    """Whether ``password`` is the password of the active user ``name``.

    An unknown or inactive user, or one without a password, is simply ``False``: a login
    form should not tell which names exist.
    """
    with store.session() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None or not user.active or user.password_hash is None:
            return False
        return _verify(user, password)


def grant(store: Store, org_ref: str | None, name: str, role: str, *, actor: str) -> MemberInfo:
    """Give ``name`` the role ``role`` in the organisation (replacing the role it had).

    Once the organisation has an admin, only an admin may do this; the last admin cannot
    be made something else (:class:`NotAllowed`).
    """
    if role not in ROLES:
        raise InputError.keyed("users.bad_role", role=role, roles=", ".join(ROLES))
    with store.session() as session:
        org = find_organization(session, org_ref)
        _require_admin(session, org.id, actor)
        user = find_user(session, name)
        membership = _membership(session, user.id, org.id)
        previous = membership.role if membership is not None else None
        if previous == "admin" and role != "admin":
            _keep_an_admin(session, org.id, name)
        if membership is None:
            session.add(Membership(user_id=user.id, organization_id=org.id, role=role))
        else:
            membership.role = role
        audit.record(
            session,
            organization_id=org.id,
            actor=actor,
            action="membership.grant",
            subject_type="user",
            subject_id=user.id,
            name=name,
            role=role,
            previous=previous,
        )
        return MemberInfo(user.name, user.display_name, role)


def revoke(store: Store, org_ref: str | None, name: str, *, actor: str) -> None:
    """Take away ``name``'s role in the organisation; the audit trail keeps that it was."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        _require_admin(session, org.id, actor)  # first: a non-admin learns nothing of members
        user = find_user(session, name)
        membership = _membership(session, user.id, org.id)
        if membership is None:
            raise NotFound.keyed("users.not_member", name=name, org=org.name)
        if membership.role == "admin":
            _keep_an_admin(session, org.id, name)
        audit.record(
            session,
            organization_id=org.id,
            actor=actor,
            action="membership.revoke",
            subject_type="user",
            subject_id=user.id,
            name=name,
            role=membership.role,
        )
        session.delete(membership)


def list_members(store: Store, org_ref: str | None) -> list[MemberInfo]:
    """The organisation's members and their roles, by name."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        rows = session.execute(
            select(User.name, User.display_name, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == org.id)
            .order_by(User.name)
        ).tuples()
        return [MemberInfo(n, d, r) for n, d, r in rows]


def _admins(session: Session, org_id: int) -> list[str]:
    return list(
        session.scalars(
            select(User.name)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id == org_id,
                Membership.role == "admin",
                User.active.is_(True),  # an inactive admin cannot act, so does not count
            )
        )
    )


def _require_admin(session: Session, org_id: int, actor: str) -> None:
    """Once an organisation has an admin, only admins change its members.

    Before that anyone may: the first grant is how an organisation gets its admin.
    """
    if _admins(session, org_id):
        authorize(session, org_id, actor, "members.manage")


def _keep_an_admin(session: Session, org_id: int, name: str) -> None:
    if _admins(session, org_id) == [name]:
        raise NotAllowed.keyed("users.last_admin", name=name)


def _membership(session: Session, user_id: int, org_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.organization_id == org_id
        )
    )


# --- proving who acts: passwords and tokens ----------------------------------------------

#: What every token starts with, so that a leaked one is recognisable (secret scanners).
TOKEN_PREFIX = "klopt_"


@dataclass(frozen=True)
class TokenInfo:
    """A token as shown after it was made (never the token itself)."""

    id: int
    user: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def has_credentials(session: Session, user: User) -> bool:
    """Whether ``user`` can prove who they are: a password or a token that still works."""
    if user.password_hash is not None:
        return True
    found = session.scalar(
        select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    return found is not None


def authenticate(
    store: Store, name: str | None, *, password: str | None = None, token: str | None = None
) -> str:
    """The name of the user who acts, proven where the user has a password or token.

    - With a ``token``: its user, who must be active (and be ``name`` when a name is given).
    - Without one: ``name``, checked against the password when the user has credentials.
      A name that is no user, or a user without credentials, is taken as it is: such a
      name can act only in an organisation without members (see
      :func:`klopt.accounts.permissions.authorize`), where nobody else's name is at stake.

    Raises:
        NotAuthenticated: the token is unknown or revoked, belongs to someone else, or the
            user has a password and it was not given or is wrong. The message never says
            which of these it was for a password.
    """
    with store.session() as session:
        if token:
            return _token_user(session, name, token)
        if not name:
            raise NotAuthenticated.keyed("users.no_name")
        user = session.scalar(select(User).where(User.name == name))
        if user is None or not has_credentials(session, user):
            return name
        if password is None:
            raise NotAuthenticated.keyed("users.password_needed", name=name)
        if not user.active or user.password_hash is None or not _verify(user, password):
            raise NotAuthenticated.keyed("users.bad_password", name=name)
        return name


def _verify(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash or "", password)
    except (VerificationError, InvalidHashError):
        return False


def _token_user(session: Session, name: str | None, token: str) -> str:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        raise NotAuthenticated.keyed("users.bad_token")
    if name and name != row.user.name:
        raise NotAuthenticated.keyed("users.token_of_other", name=name, owner=row.user.name)
    row.last_used_at = utcnow()
    return row.user.name


def create_token(store: Store, name: str, *, label: str = "", actor: str) -> str:
    """Make a token for the user ``name``, who must be the (proven) ``actor``; returns the
    token, which is shown this once and kept only as a hash."""
    if name != actor:
        raise NotAllowed.keyed("users.token_for_other", actor=actor, name=name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.session() as session:
        user = find_user(session, name)
        row = ApiToken(user_id=user.id, name=label.strip(), token_hash=_token_hash(token))
        session.add(row)
        session.flush()
        audit.record(
            session,
            organization_id=None,
            actor=actor,
            action="token.create",
            subject_type="user",
            subject_id=user.id,
            token=row.id,
            label=row.name,
        )
    return token


def list_tokens(store: Store, name: str) -> list[TokenInfo]:
    """The user's tokens, newest first, revoked ones included."""
    with store.session() as session:
        user = find_user(session, name)
        rows = session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
        return [
            TokenInfo(r.id, name, r.name, r.created_at, r.last_used_at, r.revoked_at) for r in rows
        ]


def revoke_token(store: Store, token_id: int, *, actor: str) -> None:
    """Stop a token from working; only its own user may (it stays listed as revoked)."""
    with store.session() as session:
        row = session.get(ApiToken, token_id)
        if row is None or row.user.name != actor:
            raise NotFound.keyed("users.unknown_token", id=token_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(
                session,
                organization_id=None,
                actor=actor,
                action="token.revoke",
                subject_type="user",
                subject_id=row.user_id,
                token=row.id,
            )
