"""The report's questions to the store, each answered by one aggregating query.

A report over a year may cover millions of mentions, so nothing here reads them one by
one: the database counts per promise, day and stance, and only the counts (a few
thousand rows for a year) come back to Python. The quotes are the few rows asked for.

Which stance counts for a (post, promise) pair is the rule of
:func:`klopt.judging.verdicts.current_stances`, written as SQL: the verdict of the post's newest
judgement, unless a person corrected the pair; then the newest correction (``none``:
the post is not about the promise).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    and_,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session, aliased

from klopt.store.models import Correction, Judgement, Post, Verdict

__all__ = [
    "DayCount",
    "Coverage",
    "PostRow",
    "stance_days",
    "own_coverage",
    "Volume",
    "broken_quotes",
    "latest_own_posts",
    "mention_volumes",
    "model_versions",
    "corrected_pairs",
]


@dataclass(frozen=True)
class DayCount:
    """How many mentions on one day took one stance towards one promise, and their reach."""

    promise_id: int
    day: date
    stance: str
    count: int
    reach: int


@dataclass(frozen=True)
class Coverage:
    """What own content did for one promise in the period."""

    posts: int
    reach: int


@dataclass(frozen=True)
class PostRow:
    """A post quoted in the report."""

    promise_id: int
    external_id: str
    platform: str
    author: str | None
    posted_at: datetime | None
    url: str | None
    reach: int | None
    text: str
    confidence: float
    by_person: bool


def _in_period(org_id: int, kind: str, since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(
        Post.organization_id == org_id,
        Post.kind == kind,
        Post.posted_at >= since,
        Post.posted_at < until,
    )


def _day(session: Session) -> ColumnElement[str]:
    """The UTC day a post was posted, as ``YYYY-MM-DD``."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Post.posted_at), "YYYY-MM-DD", type_=String)
    # SQLite keeps the UTC time as text, 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return func.substr(Post.posted_at, 1, 10, type_=String)


def _newest_judgement() -> ColumnElement[bool]:
    """The verdict comes from its post's newest judgement."""
    newer = aliased(Judgement)
    return ~exists().where(newer.post_id == Verdict.post_id, newer.id > Verdict.judgement_id)


def _pairs(
    session: Session,
    org_id: int,
    kind: str,
    since: datetime,
    until: datetime,
    *,
    promise_ids: Collection[int] | None = None,
    stance: str | None = None,
) -> Subquery:
    """(post_id, promise_id, stance, confidence, by_person, day, reach, posted_at) for
    every current pair of the posts of ``kind`` in [since, until)."""
    corrected = exists().where(
        Correction.post_id == Verdict.post_id, Correction.promise_id == Verdict.promise_id
    )
    machine = (
        select(
            Verdict.post_id,
            Verdict.promise_id,
            Verdict.stance,
            Verdict.confidence,
            literal(False).label("by_person"),
            _day(session).label("day"),
            Post.reach,
            Post.posted_at,
        )
        .join(Post, Post.id == Verdict.post_id)
        .where(_in_period(org_id, kind, since, until), _newest_judgement(), ~corrected)
    )
    if promise_ids is not None:
        machine = machine.where(Verdict.promise_id.in_(promise_ids))
    if stance is not None:
        machine = machine.where(Verdict.stance == stance)
    people = _people(session, org_id, kind, since, until, promise_ids=promise_ids, stance=stance)
    return machine.union_all(people).subquery("pairs")


def _people(
    session: Session,
    org_id: int,
    kind: str,
    since: datetime,
    until: datetime,
    *,
    promise_ids: Collection[int] | None = None,
    stance: str | None = None,
) -> Select[Any]:
    """The pairs a person set: each pair's newest correction, unless that says ``none``."""
    later = aliased(Correction)
    superseded = exists().where(
        later.post_id == Correction.post_id,
        later.promise_id == Correction.promise_id,
        later.id > Correction.id,
    )
    people = (
        select(
            Correction.post_id,
            Correction.promise_id,
            Correction.stance,
            literal(1.0).label("confidence"),
            literal(True).label("by_person"),
            _day(session).label("day"),
            Post.reach,
            Post.posted_at,
        )
        .join(Post, Post.id == Correction.post_id)
        .where(_in_period(org_id, kind, since, until), ~superseded, Correction.stance != "none")
    )
    if promise_ids is not None:
        people = people.where(Correction.promise_id.in_(promise_ids))
    if stance is not None:
        people = people.where(Correction.stance == stance)
    return people


def stance_days(session: Session, org_id: int, since: datetime, until: datetime) -> list[DayCount]:
    """Mentions per promise, day and stance in [since, until), with their summed reach."""
    pairs = _pairs(session, org_id, "mention", since, until)
    query = select(
        pairs.c.promise_id,
        pairs.c.day,
        pairs.c.stance,
        func.count(),
        func.coalesce(func.sum(pairs.c.reach), 0),
    ).group_by(pairs.c.promise_id, pairs.c.day, pairs.c.stance)
    return [
        DayCount(int(pid), date.fromisoformat(day), str(stance), int(n), int(reach))
        for pid, day, stance, n, reach in session.execute(query)
    ]


def own_coverage(
    session: Session, org_id: int, since: datetime, until: datetime
) -> tuple[dict[int, Coverage], int]:
    """Own posts that support each promise (their current stance is *kept*, as the
    scorecard's own coverage), their reach, in [since, until); and all own posts."""
    pairs = _pairs(session, org_id, "own", since, until, stance="kept")
    query = select(
        pairs.c.promise_id, func.count(), func.coalesce(func.sum(pairs.c.reach), 0)
    ).group_by(pairs.c.promise_id)
    coverage = {int(pid): Coverage(int(n), int(r)) for pid, n, r in session.execute(query)}
    total = session.scalar(
        select(func.count()).select_from(Post).where(_in_period(org_id, "own", since, until))
    )
    return coverage, int(total or 0)


def _first_posts(
    session: Session, pairs: Subquery, order: Sequence[Any], limit: int
) -> dict[int, list[PostRow]]:
    """Per promise, the first ``limit`` posts of ``pairs`` in ``order``: one query, ranked
    by the database, however many promises."""
    rank = (
        func.row_number()
        .over(partition_by=pairs.c.promise_id, order_by=[*order, pairs.c.post_id])
        .label("rank")
    )
    ranked = select(
        pairs.c.post_id, pairs.c.promise_id, pairs.c.confidence, pairs.c.by_person, rank
    ).subquery("ranked")
    query = (
        select(
            ranked.c.promise_id,
            Post.external_id,
            Post.platform,
            Post.author,
            Post.posted_at,
            Post.url,
            Post.reach,
            Post.text,
            ranked.c.confidence,
            ranked.c.by_person,
        )
        .join(Post, Post.id == ranked.c.post_id)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.promise_id, ranked.c.rank)
    )
    found: dict[int, list[PostRow]] = {}
    for (
        pid,
        ext,
        platform,
        author,
        posted_at,
        url,
        reach,
        text,
        confidence,
        by_person,
    ) in session.execute(query).tuples():
        found.setdefault(int(pid), []).append(
            PostRow(
                int(pid),
                ext,
                platform,
                author,
                posted_at,
                url,
                reach,
                text,
                float(confidence),
                bool(by_person),
            )
        )
    return found


def broken_quotes(
    session: Session,
    org_id: int,
    since: datetime,
    until: datetime,
    promise_ids: Collection[int],
    limit: int,
) -> dict[int, list[PostRow]]:
    """Per promise, the mentions that say it was broken: the surest verdicts first (a
    person's before the engine's), and among equally sure ones the widest reach."""
    if not promise_ids:
        return {}
    pairs = _pairs(
        session, org_id, "mention", since, until, promise_ids=promise_ids, stance="broken"
    )
    order = [
        pairs.c.confidence.desc(),
        func.coalesce(pairs.c.reach, -1).desc(),
        pairs.c.posted_at.desc(),
    ]
    return _first_posts(session, pairs, order, limit)


def latest_own_posts(
    session: Session,
    org_id: int,
    since: datetime,
    until: datetime,
    promise_ids: Collection[int],
    limit: int,
) -> dict[int, list[PostRow]]:
    """Per promise, the newest own posts about it in the period."""
    if not promise_ids:
        return {}
    pairs = _pairs(session, org_id, "own", since, until, promise_ids=promise_ids)
    return _first_posts(session, pairs, [pairs.c.posted_at.desc()], limit)


@dataclass(frozen=True)
class Volume:
    """The mentions of one platform in the period: how many, and when the newest was posted."""

    platform: str
    mentions: int
    last: datetime | None


def mention_volumes(
    session: Session, org_id: int, since: datetime, until: datetime
) -> list[Volume]:
    """Mentions per platform in the period, most first (one pass over the period)."""
    count = func.count()
    query = (
        select(Post.platform, count, func.max(Post.posted_at))
        .where(_in_period(org_id, "mention", since, until))
        .group_by(Post.platform)
        .order_by(count.desc(), Post.platform)
    )
    return [Volume(str(platform), int(n), last) for platform, n, last in session.execute(query)]


def model_versions(
    session: Session, org_id: int, since: datetime, until: datetime
) -> list[tuple[str, int]]:
    """The model of each mention's newest judgement, and how many mentions it judged (the
    mentions of the period that are in none of these are not judged yet)."""
    newer = aliased(Judgement)
    count = func.count()
    query = (
        select(Judgement.model_version, count)
        .join(Post, Post.id == Judgement.post_id)
        .where(
            _in_period(org_id, "mention", since, until),
            ~exists().where(newer.post_id == Judgement.post_id, newer.id > Judgement.id),
        )
        .group_by(Judgement.model_version)
        .order_by(count.desc(), Judgement.model_version)
    )
    return [(str(version), int(n)) for version, n in session.execute(query)]


def corrected_pairs(session: Session, org_id: int, since: datetime, until: datetime) -> int:
    """(mention, promise) pairs in the period whose stance a person set."""
    people = _people(session, org_id, "mention", since, until).subquery()
    return int(session.scalar(select(func.count()).select_from(people)) or 0)
