"""Users and their roles per organisation: the base of the editorial workflow.

Users live in the store with an argon2 password hash (never the password), so the web
app can log in the same accounts the CLI acts as. A user has at most one role in an
organisation: ``editor`` writes drafts, ``approver`` approves them or asks for changes,
``admin`` manages members, ``viewer`` only reads. Every change is an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt import audit
from klopt.errors import InputError, NotAllowed, NotFound, UnknownUser, UserExists
from klopt.organizations import find_organization
from klopt.store import Store
from klopt.store.models import Membership, User

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
]

#: The roles a user can have in an organisation.
ROLES = ("editor", "approver", "admin", "viewer")

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
        try:
            return _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


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
        require_role(session, org_id, actor, "admin")


def _keep_an_admin(session: Session, org_id: int, name: str) -> None:
    if _admins(session, org_id) == [name]:
        raise NotAllowed.keyed("users.last_admin", name=name)


def _membership(session: Session, user_id: int, org_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.organization_id == org_id
        )
    )


def role_of(session: Session, org_id: int, name: str) -> str | None:
    """The role of the active user ``name`` in the organisation, or ``None``."""
    return session.scalar(
        select(Membership.role)
        .join(User, Membership.user_id == User.id)
        .where(Membership.organization_id == org_id, User.name == name, User.active.is_(True))
    )


def require_role(session: Session, org_id: int, name: str, *roles: str) -> str:
    """The role of ``name`` in the organisation if it is one of ``roles``; else
    :class:`NotAllowed`, saying which role the user has and which one is needed."""
    role = role_of(session, org_id, name)
    if role is None:
        raise NotAllowed.keyed("users.no_role", user=name, needs=" / ".join(roles))
    if role not in roles:
        raise NotAllowed.keyed("users.not_allowed", user=name, role=role, needs=" / ".join(roles))
    return role
