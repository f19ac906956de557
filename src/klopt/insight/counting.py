"""The scorecard's counting, done by the database: per promise and stance, pairs and reach.

Which stance counts for a (post, promise) pair follows the rule of
:func:`klopt.judging.verdicts.current_stances`; :class:`Scope` asks it for one period and
one kind of posts, :class:`Side` is the answer. :mod:`klopt.insight.scorecard` turns the
answers into shares, gaps and risk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Subquery, exists, func, select, union_all
from sqlalchemy.orm import Session, aliased

from klopt.errors import NotFound
from klopt.insight.periods import Period
from klopt.judging.verdicts import in_period
from klopt.store.models import (
    Correction,
    ImportBatch,
    Judgement,
    ListeningSource,
    Post,
    Verdict,
)

__all__ = ["Filters", "Side", "Scope", "check_sources", "newest_key"]


@dataclass(frozen=True)
class Filters:
    """Which posts the scorecard counts; an empty tuple means all.

    ``languages``, ``platforms`` and ``sources`` (by source name) apply to every post
    counted, own posts and mentions alike. ``audience`` chooses whose verdicts fill the
    verdict columns (mentions, shares, net, trend, risk): ``customers`` (mentions) or
    ``own`` (the organisation's own posts). Coverage always counts own posts and the gap
    always weighs own posts against customers' mentions.
    """

    languages: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    audience: str = "customers"


@dataclass
class Side:
    """What the scorecard needs of one kind of posts in one period that pass the filters.

    Counted in the database: per promise and stance the number of pairs and their summed
    (known) reach; the ids, newest first, only up to the cap of the lists.
    """

    counts: dict[tuple[int, str], tuple[int, int, int]]
    newest: dict[tuple[int, str], tuple[tuple[int, datetime | None], ...]]

    def count(self, promise_id: int, stance: str) -> int:
        return self.counts.get((promise_id, stance), (0, 0, 0))[0]

    def reach(self, promise_id: int, stance: str) -> tuple[int, int]:
        """The summed reach of the pairs, and how many of them have a known reach."""
        _, reach, known = self.counts.get((promise_id, stance), (0, 0, 0))
        return reach, known

    def of(self, promise_id: int, stance: str) -> tuple[int, ...]:
        return tuple(i for i, _ in self.newest.get((promise_id, stance), ()))

    def merged(self, promise_id: int, stances: Iterable[str], limit: int | None) -> tuple[int, ...]:
        """The posts with any of the stances, newest first, the first ``limit`` of them."""
        found = [item for stance in stances for item in self.newest.get((promise_id, stance), ())]
        found.sort(key=newest_key, reverse=True)
        return tuple(i for i, _ in found[:limit])


@dataclass
class Scope:
    """The scorecard's questions to the store, each answered by an aggregating query.

    Which stance counts for a (post, promise) pair is the rule of
    :func:`klopt.judging.verdicts.current_stances`, written as SQL: the verdict of the post's
    newest judgement, unless a person corrected the pair; then the newest correction
    (``none``: the post is not about the promise).
    """

    session: Session
    org_id: int
    filters: Filters
    promise_ids: list[int]
    limit: int | None

    def _posts(self, query: Any, period: Period, kind: str) -> Any:
        query = query.where(Post.organization_id == self.org_id, Post.kind == kind)
        return _filtered(in_period(query, period.since, period.until), self.filters)

    def pairs(self, period: Period, kind: str, stance: str | None = None) -> Subquery:
        """(post_id, promise_id, stance, posted_at, reach) of every current pair."""
        newer = aliased(Judgement)
        later = aliased(Correction)
        corrected = exists().where(
            Correction.post_id == Verdict.post_id, Correction.promise_id == Verdict.promise_id
        )
        machine = (
            select(Verdict.post_id, Verdict.promise_id, Verdict.stance, Post.posted_at, Post.reach)
            .join(Post, Post.id == Verdict.post_id)
            .where(
                Verdict.promise_id.in_(self.promise_ids),
                ~exists().where(newer.post_id == Verdict.post_id, newer.id > Verdict.judgement_id),
                ~corrected,
            )
        )
        people = (
            select(
                Correction.post_id,
                Correction.promise_id,
                Correction.stance,
                Post.posted_at,
                Post.reach,
            )
            .join(Post, Post.id == Correction.post_id)
            .where(
                Correction.promise_id.in_(self.promise_ids),
                ~exists().where(
                    later.post_id == Correction.post_id,
                    later.promise_id == Correction.promise_id,
                    later.id > Correction.id,
                ),
                Correction.stance != "none",
            )
        )
        if stance is not None:
            machine = machine.where(Verdict.stance == stance)
            people = people.where(Correction.stance == stance)
        machine = self._posts(machine, period, kind)
        people = self._posts(people, period, kind)
        return union_all(machine, people).subquery("pairs")

    def side(self, period: Period, kind: str) -> Side:
        """Per promise and stance: the count, the summed known reach, the newest ids."""
        pairs = self.pairs(period, kind)
        counts = {
            (int(pid), str(stance)): (int(n), int(reach or 0), int(known))
            for pid, stance, n, reach, known in self.session.execute(
                select(
                    pairs.c.promise_id,
                    pairs.c.stance,
                    func.count(),
                    func.sum(pairs.c.reach),
                    func.count(pairs.c.reach),
                ).group_by(pairs.c.promise_id, pairs.c.stance)
            ).tuples()
        }
        newest: dict[tuple[int, str], list[tuple[int, datetime | None]]] = {}
        if counts and self.limit != 0:
            for pid, stance, post_id, posted_at in self.session.execute(self._newest(pairs)):
                newest.setdefault((pid, stance), []).append((post_id, posted_at))
        return Side(counts, {key: tuple(items) for key, items in newest.items()})

    def _newest(self, pairs: Subquery) -> Any:
        """(promise_id, stance, post_id, posted_at), newest first per promise and stance."""
        if self.limit is None:
            return select(
                pairs.c.promise_id, pairs.c.stance, pairs.c.post_id, pairs.c.posted_at
            ).order_by(
                pairs.c.promise_id,
                pairs.c.stance,
                pairs.c.posted_at.desc().nulls_last(),
                pairs.c.post_id.desc(),
            )
        rank = (
            func.row_number()
            .over(
                partition_by=(pairs.c.promise_id, pairs.c.stance),
                order_by=(pairs.c.posted_at.desc().nulls_last(), pairs.c.post_id.desc()),
            )
            .label("rank")
        )
        ranked = select(
            pairs.c.promise_id, pairs.c.stance, pairs.c.post_id, pairs.c.posted_at, rank
        ).subquery("ranked")
        return (
            select(ranked.c.promise_id, ranked.c.stance, ranked.c.post_id, ranked.c.posted_at)
            .where(ranked.c.rank <= self.limit)
            .order_by(ranked.c.promise_id, ranked.c.stance, ranked.c.rank)
        )

    def broken(
        self, period: Period, kind: str
    ) -> dict[int, list[tuple[int, int | None, datetime | None]]]:
        """Per promise, (post id, reach, posted_at) of the pairs whose stance is broken."""
        pairs = self.pairs(period, kind, "broken")
        found: dict[int, list[tuple[int, int | None, datetime | None]]] = {}
        query = select(pairs.c.promise_id, pairs.c.post_id, pairs.c.reach, pairs.c.posted_at)
        for pid, post_id, reach, posted_at in self.session.execute(query):
            found.setdefault(pid, []).append((post_id, reach, posted_at))
        return found

    def posts(self, period: Period, kind: str) -> int:
        """How many posts of ``kind`` in the period pass the filters."""
        query = self._posts(select(func.count()).select_from(Post), period, kind)
        return int(self.session.scalar(query) or 0)


def _filtered(query: Any, filters: Filters) -> Any:
    if filters.languages:
        query = query.where(Post.language.in_([lang.lower() for lang in filters.languages]))
    if filters.platforms:
        query = query.where(Post.platform.in_(filters.platforms))
    if filters.sources:
        query = (
            query.join(ImportBatch, ImportBatch.id == Post.import_batch_id)
            .join(ListeningSource, ListeningSource.id == ImportBatch.source_id)
            .where(ListeningSource.name.in_(filters.sources))
        )
    return query


def check_sources(session: Session, org_id: int, names: tuple[str, ...]) -> None:
    if not names:
        return
    known = set(
        session.scalars(
            select(ListeningSource.name).where(ListeningSource.organization_id == org_id)
        )
    )
    for name in names:
        if name not in known:
            raise NotFound.keyed(
                "scorecard.unknown_source", name=name, names=", ".join(sorted(known)) or "–"
            )


_EPOCH = datetime.min.replace(tzinfo=UTC)


def newest_key(item: tuple[int, datetime | None]) -> tuple[datetime, int]:
    post_id, posted_at = item
    return (posted_at or _EPOCH, post_id)
