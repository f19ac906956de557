"""The scorecard: per promise and period, whether the organisation keeps its word.

For every approved promise and one :class:`~klopt.insight.periods.Period`:

- the mentions about it, and how many of them say it was kept, broken or neither, as
  shares with a 95% Wilson interval, and a net score (kept minus broken, per mention);
- the trend: the net score in the previous periods, and the change against the last one;
- own coverage: the organisation's own posts that support the promise, and their reach;
- the say-do gap: the share of the organisation's own voice that goes to the promise
  *and* that customers contradict (:func:`say_do_gap`);
- reputation risk: broken verdicts weighted by reach and recency (:func:`risk_weight`).

Every number keeps the ids of the posts behind it. A person's correction overrides the
engine's verdict for that (post, promise) pair everywhere (:func:`current_stances`).
The definitions, with a worked example, are in ``docs/scorecard.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts.organizations import find_organization
from klopt.errors import InputError
from klopt.insight.counting import Filters, Scope, Side, check_sources
from klopt.insight.periods import Period, custom_period
from klopt.judging.verdicts import STANCES
from klopt.register.promises import register_order
from klopt.store import Store
from klopt.store.models import (
    Post,
    Promise,
)

__all__ = [
    "Share",
    "Filters",
    "PostRef",
    "TrendPoint",
    "Coverage",
    "Gap",
    "Risk",
    "Headline",
    "PromiseScore",
    "Scorecard",
    "wilson",
    "say_do_gap",
    "risk_weight",
    "build_scorecard",
    "AUDIENCES",
    "MIN_JUDGED",
    "HALF_LIFE_DAYS",
    "TREND_PERIODS",
    "POSTS_LIMIT",
    "post_ids",
]

Z95 = 1.959963984540054
#: Fewer customer verdicts with a stance (kept or broken) than this: the gap is flagged.
MIN_JUDGED = 10
#: A broken mention this many days old weighs half as much in the reputation risk.
HALF_LIFE_DAYS = 14.0
#: How many post ids every list of the scorecard keeps (the counts are always whole).
POSTS_LIMIT = 50
#: How many previous periods the trend shows by default.
TREND_PERIODS = 4
#: Whose verdicts the verdict columns count: customers' mentions, or own posts.
AUDIENCES = {"customers": "mention", "own": "own"}


@dataclass(frozen=True)
class Share:
    """A proportion with its 95% Wilson score interval, and the posts it counts."""

    count: int
    share: float
    low: float
    high: float
    posts: tuple[int, ...] = ()


def wilson(count: int, total: int, z: float = Z95) -> Share:
    """The Wilson score interval for ``count`` successes out of ``total``."""
    if total == 0:
        return Share(count, 0.0, 0.0, 0.0)
    p = count / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return Share(count, p, max(0.0, centre - margin), min(1.0, centre + margin))


@dataclass(frozen=True)
class PostRef:
    """A post a number links back to: enough to show it, or to look it up."""

    id: int
    external_id: str
    platform: str
    kind: str
    posted_at: datetime | None
    reach: int | None
    language: str | None
    url: str | None


@dataclass(frozen=True)
class TrendPoint:
    """The net score of one earlier period."""

    period: Period
    mentions: int
    net: float | None
    posts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Coverage:
    """Own posts that support the promise: how many, and their summed reach."""

    count: int
    engagement: int
    reach_known: int
    posts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Gap:
    """The say-do gap of one promise (see :func:`say_do_gap`)."""

    say: float | None
    do: Share | None
    judged: int
    value: float | None
    low: float | None
    high: float | None
    small: bool


@dataclass(frozen=True)
class Risk:
    """Reputation risk: the weights of the broken verdicts, heaviest first."""

    value: float
    count: int
    posts: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class Headline:
    """The organisation's say-do gap: the sum of the promises' gaps.

    ``low`` and ``high`` sum the promises' bounds (a conservative band, wider than 95%);
    ``unjudged`` is the share of the own voice on promises no customer judged.
    """

    value: float | None
    low: float | None
    high: float | None
    unjudged: float


_NO_GAP = Gap(None, None, 0, None, None, None, False)


@dataclass(frozen=True)
class PromiseScore:
    """One row of the scorecard."""

    key: str
    statement: str
    theme: str | None
    mentions: int
    kept: Share
    broken: Share
    neutral: Share
    net: float | None
    previous_mentions: int
    previous_net: float | None
    trend: tuple[TrendPoint, ...] = ()
    coverage: Coverage = Coverage(0, 0, 0)
    gap: Gap = _NO_GAP
    risk: Risk = Risk(0.0, 0)
    posts: tuple[int, ...] = ()

    @property
    def change(self) -> float | None:
        """Net score now minus net score in the previous period."""
        if self.net is None or self.previous_net is None:
            return None
        return self.net - self.previous_net


@dataclass(frozen=True)
class Scorecard:
    """The scorecard of one organisation for one period."""

    organization: str
    since: datetime | None
    until: datetime
    previous_since: datetime | None
    mentions: int
    rows: tuple[PromiseScore, ...]
    period: Period | None = None
    filters: Filters = Filters()
    as_of: datetime | None = None
    half_life_days: float = HALF_LIFE_DAYS
    own_support: int = 0
    gap: Headline = Headline(None, None, None, 0.0)
    posts: Mapping[int, PostRef] = field(default_factory=dict)


def say_do_gap(said: int, said_total: int, kept: int, broken: int) -> Gap:
    """The say-do gap of a promise: ``say × (1 − do)``, in [0, say].

    Args:
        said: Own posts in the period that support the promise.
        said_total: Own posts supporting a promise, summed over all approved promises.
        kept: Customers' mentions that say the promise was kept.
        broken: Customers' mentions that say it was broken.

    ``say`` is the promise's share of the organisation's own voice (a census of its own
    posts: no interval); ``do`` is the kept share among customers who judged (Wilson
    95%). The gap is the share of the own voice spent on this promise that customers
    contradict; it is None when the promise was said but nobody judged it.
    """
    judged = kept + broken
    do = wilson(kept, judged) if judged else None
    say = said / said_total if said_total else None
    small = bool(say) and judged < MIN_JUDGED
    if say is None:
        return Gap(None, do, judged, None, None, None, small)
    if say == 0:
        return Gap(0.0, do, judged, 0.0, 0.0, 0.0, small)
    if do is None:
        return Gap(say, None, judged, None, None, None, small)
    return Gap(
        say, do, judged, say * (1 - do.share), say * (1 - do.high), say * (1 - do.low), small
    )


def risk_weight(
    reach: int | None, age_days: float, half_life_days: float = HALF_LIFE_DAYS
) -> float:
    """What one broken verdict adds to the reputation risk.

    ``(1 + log10(1 + reach)) × 0.5 ** (age / half-life)``: a fresh mention of unknown
    reach weighs 1, one that reached 999 people weighs 4; every half-life halves it.
    """
    reach_weight = 1 + math.log10(1 + max(reach or 0, 0))
    decay: float = 0.5 ** (max(age_days, 0.0) / half_life_days)
    return reach_weight * decay


def build_scorecard(
    store: Store,
    org_ref: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    period: Period | None = None,
    filters: Filters | None = None,
    trend: int = TREND_PERIODS,
    now: datetime | None = None,
    half_life_days: float = HALF_LIFE_DAYS,
    limit: int | None = POSTS_LIMIT,
) -> Scorecard:
    """The scorecard for posts in ``period`` (or in [since, until); until defaults to now).

    The database counts; every list of post ids keeps the first ``limit`` (newest, or
    heaviest for the risk; None: all of them), while every count is the whole number.

    Raises:
        InputError: both a period and since/until were given, the period is empty, or
            the audience is unknown.
        NotFound: a source in the filters does not exist.
    """
    now = now or datetime.now(UTC)
    if period is None:
        period = custom_period(since, until or now)
    elif since is not None or until is not None:
        raise InputError.keyed("scorecard.period_and_dates")
    filters = filters or Filters()
    if filters.audience not in AUDIENCES:
        raise InputError.keyed("scorecard.bad_audience", value=filters.audience)
    kind = AUDIENCES[filters.audience]
    as_of = min(period.until, now)
    with store.session() as session:
        org = find_organization(session, org_ref)
        check_sources(session, org.id, filters.sources)
        promises = sorted(
            session.scalars(
                select(Promise).where(
                    Promise.organization_id == org.id, Promise.status == "approved"
                )
            ),
            key=register_order,
        )
        ids = [p.id for p in promises]
        scope = Scope(session, org.id, filters, ids, limit)
        sides = {k: scope.side(period, k) for k in ("mention", "own")}
        history = [
            (earlier, scope.side(earlier, kind)) for earlier in period.previous_periods(trend)
        ]
        broken = scope.broken(period, kind)
        mentions = scope.posts(period, kind)
        coverage = {p.id: _coverage(sides["own"], p.id) for p in promises}
        said_total = sum(c.count for c in coverage.values())
        rows = tuple(
            _row(
                promise,
                sides[kind],
                history,
                coverage[promise.id],
                _gap(coverage[promise.id], said_total, sides["mention"], promise.id, limit),
                _risk(broken.get(promise.id, []), as_of, half_life_days, limit),
                limit,
            )
            for promise in promises
        )
        posts = _referenced(session, rows)
    previous = period.previous()
    return Scorecard(
        organization=org.name,
        since=period.since,
        until=period.until,
        previous_since=previous.since if previous and trend else None,
        mentions=mentions,
        rows=rows,
        period=period,
        filters=filters,
        as_of=as_of,
        half_life_days=half_life_days,
        own_support=said_total,
        gap=_headline(rows),
        posts=posts,
    )


def _row(
    promise: Promise,
    side: Side,
    history: list[tuple[Period, Side]],
    coverage: Coverage,
    gap: Gap,
    risk: Risk,
    limit: int | None,
) -> PromiseScore:
    kept, broken, neutral = (side.count(promise.id, stance) for stance in STANCES)
    n = kept + broken + neutral
    trend = tuple(_point(earlier, old, promise.id, limit) for earlier, old in history)
    return PromiseScore(
        key=promise.key,
        statement=promise.statement,
        theme=promise.theme,
        mentions=n,
        kept=replace(wilson(kept, n), posts=side.of(promise.id, "kept")),
        broken=replace(wilson(broken, n), posts=side.of(promise.id, "broken")),
        neutral=replace(wilson(neutral, n), posts=side.of(promise.id, "neutral")),
        net=_net(kept, broken, n),
        previous_mentions=trend[-1].mentions if trend else 0,
        previous_net=trend[-1].net if trend else None,
        trend=trend,
        coverage=coverage,
        gap=gap,
        risk=risk,
        posts=side.merged(promise.id, STANCES, limit),
    )


def _point(period: Period, side: Side, promise_id: int, limit: int | None) -> TrendPoint:
    kept, broken, neutral = (side.count(promise_id, stance) for stance in STANCES)
    n = kept + broken + neutral
    return TrendPoint(period, n, _net(kept, broken, n), side.merged(promise_id, STANCES, limit))


def _net(kept: int, broken: int, n: int) -> float | None:
    """(kept - broken) / all mentions about the promise, in [-1, 1]; None without any."""
    return (kept - broken) / n if n else None


def _coverage(own: Side, promise_id: int) -> Coverage:
    """Own posts whose (corrected) stance on the promise is kept: they support it."""
    reach, known = own.reach(promise_id, "kept")
    return Coverage(own.count(promise_id, "kept"), reach, known, own.of(promise_id, "kept"))


def _gap(
    coverage: Coverage, said_total: int, customers: Side, promise_id: int, limit: int | None
) -> Gap:
    kept, broken = customers.count(promise_id, "kept"), customers.count(promise_id, "broken")
    gap = say_do_gap(coverage.count, said_total, kept, broken)
    if gap.do is None:
        return gap
    posts = customers.merged(promise_id, ("kept", "broken"), limit)
    return replace(gap, do=replace(gap.do, posts=posts))


def _risk(
    broken: list[tuple[int, int | None, datetime | None]],
    as_of: datetime,
    half_life: float,
    limit: int | None,
) -> Risk:
    weights = []
    for post_id, reach, posted_at in broken:
        age = (as_of - posted_at).total_seconds() / 86400 if posted_at else 0.0
        weights.append((post_id, risk_weight(reach, age, half_life)))
    weights.sort(key=lambda item: (-item[1], item[0]))
    return Risk(sum(w for _, w in weights), len(weights), tuple(weights[:limit]))


def _headline(rows: Iterable[PromiseScore]) -> Headline:
    gaps = [r.gap for r in rows if r.gap.say is not None]
    if not gaps:
        return Headline(None, None, None, 0.0)
    known = [g for g in gaps if g.value is not None]
    return Headline(
        value=sum(g.value or 0.0 for g in known),
        low=sum(g.low or 0.0 for g in known),
        high=sum(g.high or 0.0 for g in known),
        unjudged=sum((g.say or 0.0 for g in gaps if g.value is None), 0.0),
    )


def post_ids(row: PromiseScore, limit: int | None = None) -> set[int]:
    """The posts the numbers of a row link back to (the first ``limit`` of every list)."""
    lists = [row.posts, row.kept.posts, row.broken.posts, row.neutral.posts, row.coverage.posts]
    lists += [point.posts for point in row.trend] + [tuple(i for i, _ in row.risk.posts)]
    lists += [row.gap.do.posts] if row.gap.do else []
    return {i for ids in lists for i in ids[:limit]}


def _referenced(session: Session, rows: Iterable[PromiseScore]) -> dict[int, PostRef]:
    """The posts any number of the scorecard links back to."""
    ids = sorted(set().union(*(post_ids(row) for row in rows)))
    found: dict[int, PostRef] = {}
    for start in range(0, len(ids), 500):
        query = select(
            Post.id,
            Post.external_id,
            Post.platform,
            Post.kind,
            Post.posted_at,
            Post.reach,
            Post.language,
            Post.url,
        ).where(Post.id.in_(ids[start : start + 500]))
        found |= {row[0]: PostRef(*row) for row in session.execute(query).tuples()}
    return dict(sorted(found.items()))
