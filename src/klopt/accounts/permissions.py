"""Who may do what: one permission check for every decision, for the CLI and the web app.

Each action klopt records a decision for has the roles that may take it, in
:data:`ACTIONS`. :func:`authorize` is the only place that reads them.

Two kinds of organisation:

- **One person's workspace**: an organisation without members. Whoever runs klopt on
  the store may do everything except the editorial workflow, which needs two people
  with roles (four eyes). This is the analyst on their own laptop.
- **A team's**: once an organisation has a member, every action needs an *active
  member* whose role allows it. A name that is no user (``--user ghost``), a user
  without a role here, or an inactive user is refused, and the audit trail never
  records a name that was not allowed to act.

Whether the person is who they say they are is checked before this, where they come
in (:func:`klopt.accounts.users.authenticate`): the command line asks for the password or a
token of a user who has one; the web app logs them in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.errors import NotAllowed

__all__ = [
    "ROLES",
    "Action",
    "ACTIONS",
    "authorize",
    "has_members",
    "role_of",
    "require_role",
    "permissions_markdown",
]

#: The roles a user can have in an organisation.
ROLES = ("editor", "approver", "admin", "viewer")

_WORKERS = ("editor", "approver", "admin")
_DECIDERS = ("approver", "admin")


@dataclass(frozen=True)
class Action:
    """What a role may do.

    Attributes:
        roles: The roles that may do it.
        team_only: Only members may do it, even in one person's workspace (four eyes).
    """

    roles: tuple[str, ...]
    team_only: bool = False


#: Every action that needs a role, by name (the audit trail's action names, where the
#: action is recorded there).
ACTIONS: dict[str, Action] = {
    # the promise register
    "register.propose": Action(_WORKERS),  # docs add, promises extract
    "register.decide": Action(_DECIDERS),  # approve, reject, retire, edit, merge, import
    # listening and judging
    "mentions.import": Action(_WORKERS),
    "sources.manage": Action(("admin",)),  # add and remove a source
    "rules.manage": Action(("admin",)),  # add, replace and remove a rule pack
    "sources.sync": Action(_WORKERS),
    "judge.run": Action(_WORKERS),
    "verdict.correct": Action(_WORKERS),
    # insight
    "alerts.check": Action(_WORKERS),
    "alerts.close": Action(_DECIDERS),
    "audit.read": Action(ROLES),
    # the editorial workflow
    "draft.write": Action(("editor", "admin"), team_only=True),  # new, edit, submit
    "draft.review": Action(_DECIDERS, team_only=True),  # approve, request changes
    "draft.act": Action(_WORKERS, team_only=True),  # comment, publish, withdraw
    "draft.read": Action(ROLES, team_only=True),
    # the members themselves (until an organisation has an admin, anyone may grant:
    # that is how it gets its first one; see klopt.accounts.users.grant)
    "members.manage": Action(("admin",), team_only=True),
}


def has_members(session: Session, org_id: int) -> bool:
    """Whether the organisation has any member (else it is one person's workspace)."""
    from klopt.store.models import Membership

    found = session.scalar(
        select(Membership.id).where(Membership.organization_id == org_id).limit(1)
    )
    return found is not None


def role_of(session: Session, org_id: int, name: str) -> str | None:
    """The role of the active user ``name`` in the organisation, or ``None``."""
    from klopt.store.models import Membership, User

    return session.scalar(
        select(Membership.role)
        .join(User, Membership.user_id == User.id)
        .where(Membership.organization_id == org_id, User.name == name, User.active.is_(True))
    )


def authorize(session: Session, org_id: int, actor: str, action: str) -> str | None:
    """Allow ``actor`` to take ``action`` in the organisation, or raise :class:`NotAllowed`.

    Returns:
        The actor's role, or ``None`` in one person's workspace (no members).

    Raises:
        NotAllowed: the actor is no active member, or their role does not allow it
            (the message says which role they have and which one is needed).
        KeyError: ``action`` is not in :data:`ACTIONS` (a programming error).
    """
    rule = ACTIONS[action]
    if not rule.team_only and not has_members(session, org_id):
        return None
    return require_role(session, org_id, actor, *rule.roles)


def require_role(session: Session, org_id: int, name: str, *roles: str) -> str:
    """The role of ``name`` in the organisation if it is one of ``roles``; else
    :class:`NotAllowed`, saying which role the user has and which one is needed."""
    role = role_of(session, org_id, name)
    needs = " / ".join(roles)
    if role is None:
        raise NotAllowed.keyed("users.no_role", user=name, needs=needs)
    if role not in roles:
        raise NotAllowed.keyed("users.not_allowed", user=name, role=role, needs=needs)
    return role


def permissions_markdown() -> str:
    """The table of actions and roles, as docs/security.md shows it (a test compares)."""
    lines = [
        "| action | " + " | ".join(ROLES) + " | also alone |",
        "|---|" + "---|" * len(ROLES) + "---|",
    ]
    for name, rule in ACTIONS.items():
        marks = " | ".join("✓" if role in rule.roles else "" for role in ROLES)
        lines.append(f"| `{name}` | {marks} | {'' if rule.team_only else '✓'} |")
    return "\n".join(lines)
