"""The members of an organisation as an admin sees them: role, and whether the account
is active and can sign in (:func:`klopt.accounts.users.list_members` gives the roles only).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from klopt.accounts.organizations import find_organization
from klopt.store import Store
from klopt.store.models import Membership, User

__all__ = ["MemberAccount", "member_accounts"]


@dataclass(frozen=True)
class MemberAccount:
    """One member: their role here and the state of their account.

    Attributes:
        active: the account may act (an inactive one is refused everywhere).
        has_password: the user can sign in to the web app.
    """

    name: str
    display_name: str
    role: str
    active: bool
    has_password: bool


def member_accounts(store: Store, org_ref: str | None) -> list[MemberAccount]:
    """The organisation's members by name, with their role and account state."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        rows = session.execute(
            select(User.name, User.display_name, Membership.role, User.active, User.password_hash)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == org.id)
            .order_by(User.name)
        ).tuples()
        return [
            MemberAccount(name, display, role, bool(active), pw_hash is not None)
            for name, display, role, active, pw_hash in rows
        ]
