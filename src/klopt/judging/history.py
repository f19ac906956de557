"""One promise over time: how many mentions kept or broke it per week or month, and the
organisation's own posts that carried it.

Both read the *current* stances (:func:`klopt.judging.verdicts.current_stances`): the
engine's newest judgement, overridden by a person's correction. Buckets run without gaps
from the first mention about the promise to the last, so a quiet month shows as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from klopt.accounts.organizations import find_organization
from klopt.errors import InputError
from klopt.judging.verdicts import STANCES, current_stances
from klopt.register.promises import find_promise
from klopt.store import Store
from klopt.store.models import Post

__all__ = ["GRAINS", "Bucket", "OwnPost", "PromiseHistory", "promise_history"]

GRAINS = ("month", "week")


@dataclass(frozen=True)
class Bucket:
    """The mentions about a promise in one week or month, by stance."""

    start: date
    label: str
    kept: int = 0
    broken: int = 0
    neutral: int = 0

    @property
    def total(self) -> int:
        """All mentions in the bucket."""
        return self.kept + self.broken + self.neutral


@dataclass(frozen=True)
class OwnPost:
    """An own post judged against the promise."""

    post: str
    platform: str
    posted_at: datetime | None
    url: str | None
    text: str
    stance: str
    by_person: bool


@dataclass(frozen=True)
class PromiseHistory:
    """A promise's mentions per bucket and its own posts (newest first).

    Attributes:
        undated: mentions about the promise without a time (in no bucket).
    """

    key: str
    grain: str
    buckets: tuple[Bucket, ...]
    own_posts: tuple[OwnPost, ...]
    undated: int = 0

    def total(self, stance: str) -> int:
        """The mentions of one stance over all buckets."""
        return sum(getattr(b, stance) for b in self.buckets)


def _start(moment: datetime, grain: str) -> date:
    day = moment.astimezone(UTC).date() if moment.tzinfo else moment.date()
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(start: date, grain: str) -> date:
    if grain == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def _label(start: date, grain: str) -> str:
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def _buckets(moments: list[tuple[datetime, str]], grain: str) -> tuple[Bucket, ...]:
    counts: dict[date, dict[str, int]] = {}
    for moment, stance in moments:
        tally = counts.setdefault(_start(moment, grain), dict.fromkeys(STANCES, 0))
        if stance in tally:
            tally[stance] += 1
    if not counts:
        return ()
    buckets: list[Bucket] = []
    start, last = min(counts), max(counts)
    while start <= last:
        tally = counts.get(start, {})
        buckets.append(Bucket(start, _label(start, grain), **{s: tally.get(s, 0) for s in STANCES}))
        start = _next(start, grain)
    return tuple(buckets)


def promise_history(
    store: Store, org_ref: str | None, key: str, *, grain: str = "month", limit: int = 50
) -> PromiseHistory:
    """The mentions about promise ``key`` per ``grain`` (month or week) by stance, and up
    to ``limit`` own posts judged against it, newest first.

    Raises:
        UnknownPromise: the organisation has no promise ``key``.
        InputError: ``grain`` is neither ``month`` nor ``week``.
    """
    if grain not in GRAINS:
        raise InputError.keyed("history.bad_grain", grain=grain, choices=", ".join(GRAINS))
    with store.session() as session:
        org = find_organization(session, org_ref)
        promise_id = find_promise(session, org.id, key).id
        mentions = {
            post: value[0]
            for (post, promise), value in current_stances(session, org.id).items()
            if promise == promise_id
        }
        rows = session.execute(select(Post.id, Post.posted_at).where(Post.id.in_(mentions)))
        times: dict[int, datetime | None] = dict(rows.tuples().all()) if mentions else {}
        dated = [(when, s) for p, s in mentions.items() if (when := times.get(p)) is not None]
        own = {
            post: value
            for (post, promise), value in current_stances(session, org.id, kind="own").items()
            if promise == promise_id
        }
        posts = list(session.scalars(select(Post).where(Post.id.in_(own)))) if own else []
        posts.sort(key=lambda p: (p.posted_at is not None, p.posted_at, p.id), reverse=True)
        return PromiseHistory(
            key=key,
            grain=grain,
            buckets=_buckets(dated, grain),
            own_posts=tuple(
                OwnPost(
                    post=p.external_id,
                    platform=p.platform,
                    posted_at=p.posted_at,
                    url=p.url,
                    text=p.text,
                    stance=own[p.id][0],
                    by_person=own[p.id][1],
                )
                for p in posts[:limit]
            ),
            undated=len(mentions) - len(dated),
        )
