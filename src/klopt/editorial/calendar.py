"""The content calendar: own posts by planned or published time, and per promise what the
organisation does online for it ("Wat doe jij voor deze belofte online?").

Two kinds of own content are on the calendar:

- **planned**: a draft with a planned time that is neither published nor withdrawn; it
  is *for* a promise when the check of its newest version found that it supports it
  (``promise.supports``);
- **published**: an own post (``post.kind == "own"``, imported or published from a
  draft) by its time; it is *for* a promise when its current verdict on that promise is
  ``kept`` (the engine's, or a person's correction), the rule by which the scorecard
  counts own coverage. A post published from a draft that is not judged yet counts by
  its draft's check.

Times are UTC, and so are the days and weeks they fall in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.editorial.views import as_utc
from klopt.judging.verdicts import current_stances
from klopt.register.decisions import register_order
from klopt.store import Store
from klopt.store.models import Draft, DraftVersion, Organization, Post, Promise, User

__all__ = ["CalendarEntry", "PromiseContent", "ContentCalendar", "content_calendar"]

#: Draft states that no longer plan anything: the post went out, or it will not.
_DONE = ("published", "withdrawn")


@dataclass(frozen=True)
class CalendarEntry:
    """One own post on the calendar.

    Attributes:
        kind: ``planned`` (a draft with a planned time) or ``published`` (an own post).
        when: the planned or published time, in UTC.
        state: the draft's state; ``published`` for an own post.
        draft: ``D3`` when the entry is (or came from) a draft, else ``None``.
        promises: the keys of the promises it supports, in register order.
    """

    kind: str
    when: datetime
    state: str
    platform: str | None
    text: str
    draft: str | None
    url: str | None
    author: str | None
    promises: tuple[str, ...]


@dataclass(frozen=True)
class PromiseContent:
    """What own content supports one approved promise in a period."""

    promise: str
    statement: str
    planned: tuple[CalendarEntry, ...]
    published: tuple[CalendarEntry, ...]

    @property
    def empty(self) -> bool:
        """Nothing planned and nothing published for the promise."""
        return not self.planned and not self.published


@dataclass(frozen=True)
class ContentCalendar:
    """The entries of one period, and per approved promise its content in another.

    Attributes:
        entries: planned and published own posts in ``[since, until)``, by time.
        promises: every approved promise in register order, with the entries in
            ``[coverage_since, coverage_until)`` that support it.
    """

    since: datetime
    until: datetime
    entries: tuple[CalendarEntry, ...]
    coverage_since: datetime
    coverage_until: datetime
    promises: tuple[PromiseContent, ...]

    @property
    def uncovered(self) -> tuple[PromiseContent, ...]:
        """The approved promises with no own content planned or published."""
        return tuple(p for p in self.promises if p.empty)


def content_calendar(
    store: Store,
    org_ref: str | None,
    *,
    actor: str,
    since: datetime,
    until: datetime,
    coverage_since: datetime | None = None,
    coverage_until: datetime | None = None,
) -> ContentCalendar:
    """The content calendar of ``[since, until)`` and the promises' content in the coverage
    period (by default the same), e.g. a week on the calendar and its month per promise.

    Every member may read it (``draft.read``). Times must be aware.
    """
    cover_since = coverage_since or since
    cover_until = coverage_until or until
    low, high = min(since, cover_since), max(until, cover_until)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.read")
        keys = {i: k for i, k in session.execute(select(Promise.id, Promise.key).where(
            Promise.organization_id == org.id))}  # fmt: skip
        found = sorted(
            _planned(session, org, low, high) + _published(session, org, low, high, keys),
            key=lambda e: (e.when, e.draft or "", e.text),
        )
        approved = sorted(
            session.scalars(
                select(Promise).where(
                    Promise.organization_id == org.id, Promise.status == "approved"
                )
            ),
            key=register_order,
        )
        covered = [e for e in found if cover_since <= e.when < cover_until]
        return ContentCalendar(
            since=since,
            until=until,
            entries=tuple(e for e in found if since <= e.when < until),
            coverage_since=cover_since,
            coverage_until=cover_until,
            promises=tuple(
                PromiseContent(
                    p.key,
                    p.statement,
                    tuple(e for e in covered if e.kind == "planned" and p.key in e.promises),
                    tuple(e for e in covered if e.kind == "published" and p.key in e.promises),
                )
                for p in approved
            ),
        )


def _supported(findings: dict[str, Any] | None) -> set[str]:
    """The promises a stored check report says the text supports."""
    if not findings:
        return set()
    return {
        str(f["promise"]["id"])
        for f in findings.get("findings", ())
        if f.get("rule") == "promise.supports" and f.get("promise")
    }


def _ordered(keys: set[str]) -> tuple[str, ...]:
    def order(key: str) -> tuple[int, str]:
        digits = key[1:] if key[:1] in "Pp" else ""
        return (int(digits) if digits.isdigit() else 10**9, key)

    return tuple(sorted(keys, key=order))


def _planned(
    session: Session, org: Organization, since: datetime, until: datetime
) -> list[CalendarEntry]:
    rows = session.execute(
        select(Draft, DraftVersion, User.name)
        .join(
            DraftVersion,
            and_(DraftVersion.draft_id == Draft.id, DraftVersion.number == Draft.version),
        )
        .join(User, User.id == Draft.author_id)
        .where(
            Draft.organization_id == org.id,
            Draft.planned_at >= since,
            Draft.planned_at < until,
            Draft.state.not_in(_DONE),
        )
    )
    return [
        CalendarEntry(
            kind="planned",
            when=as_utc(draft.planned_at) or since,
            state=draft.state,
            platform=draft.platform,
            text=version.text,
            draft=f"D{draft.number}",
            url=None,
            author=author,
            promises=_ordered(_supported(version.findings)),
        )
        for draft, version, author in rows
    ]


def _published(
    session: Session, org: Organization, since: datetime, until: datetime, keys: dict[int, str]
) -> list[CalendarEntry]:
    kept: dict[int, set[str]] = {}
    judged: set[int] = set()
    for (post_id, promise_id), (stance, _) in current_stances(
        session, org.id, since, until, kind="own"
    ).items():
        judged.add(post_id)
        if stance == "kept" and promise_id in keys:
            kept.setdefault(post_id, set()).add(keys[promise_id])
    rows = session.execute(
        select(Post, Draft, DraftVersion)
        .outerjoin(Draft, Draft.post_id == Post.id)
        .outerjoin(
            DraftVersion,
            and_(DraftVersion.draft_id == Draft.id, DraftVersion.number == Draft.version),
        )
        .where(
            Post.organization_id == org.id,
            Post.kind == "own",
            Post.posted_at >= since,
            Post.posted_at < until,
        )
    )
    entries = []
    for post, draft, version in rows:
        promises = kept.get(post.id, set())
        if post.id not in judged and version is not None:
            promises = _supported(version.findings)
        entries.append(
            CalendarEntry(
                kind="published",
                when=as_utc(post.posted_at) or since,
                state="published",
                platform=post.platform,
                text=post.text,
                draft=f"D{draft.number}" if draft is not None else None,
                url=post.url,
                author=post.author,
                promises=_ordered(promises),
            )
        )
    return entries
