"""The scorecard: per promise and period, whether the organisation keeps its word.

For every approved promise and one :class:`~klopt.periods.Period`:

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
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.errors import InputError, NotFound
from klopt.organizations import find_organization
from klopt.periods import Period, custom_period
from klopt.promises import register_order
from klopt.store import Store
from klopt.store.models import ImportBatch, ListeningSource, Post, Promise
from klopt.verdicts import STANCES, current_stances, in_period

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
    "scorecard_json",
    "parse_day",
    "AUDIENCES",
    "MIN_JUDGED",
    "HALF_LIFE_DAYS",
    "TREND_PERIODS",
]

Z95 = 1.959963984540054
#: Fewer customer verdicts with a stance (kept or broken) than this: the gap is flagged.
MIN_JUDGED = 10
#: A broken mention this many days old weighs half as much in the reputation risk.
HALF_LIFE_DAYS = 14.0
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


@dataclass
class _Side:
    """The posts of one kind in one period that pass the filters, and their stances."""

    posts: dict[int, PostRef]
    stances: dict[int, dict[str, tuple[int, ...]]]

    def of(self, promise_id: int, stance: str) -> tuple[int, ...]:
        return self.stances.get(promise_id, {}).get(stance, ())


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
) -> Scorecard:
    """The scorecard for posts in ``period`` (or in [since, until); until defaults to now).

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
    with store.session() as session:
        org = find_organization(session, org_ref)
        _check_sources(session, org.id, filters.sources)
        promises = sorted(
            session.scalars(
                select(Promise).where(
                    Promise.organization_id == org.id, Promise.status == "approved"
                )
            ),
            key=register_order,
        )
        sides = {k: _side(session, org.id, period, filters, k) for k in ("mention", "own")}
        history = [
            (earlier, _side(session, org.id, earlier, filters, kind))
            for earlier in period.previous_periods(trend)
        ]
    as_of = min(period.until, now)
    coverage = {p.id: _coverage(sides["own"], p.id) for p in promises}
    said_total = sum(c.count for c in coverage.values())
    rows = tuple(
        _row(
            promise,
            sides[kind],
            history,
            coverage[promise.id],
            _gap(coverage[promise.id], said_total, sides["mention"], promise.id),
            _risk(sides[kind], sides[kind].of(promise.id, "broken"), as_of, half_life_days),
        )
        for promise in promises
    )
    previous = period.previous()
    return Scorecard(
        organization=org.name,
        since=period.since,
        until=period.until,
        previous_since=previous.since if previous and trend else None,
        mentions=len(sides[kind].posts),
        rows=rows,
        period=period,
        filters=filters,
        as_of=as_of,
        half_life_days=half_life_days,
        own_support=said_total,
        gap=_headline(rows),
        posts=_referenced(rows, [sides["mention"], sides["own"], *(s for _, s in history)]),
    )


def _row(
    promise: Promise,
    side: _Side,
    history: list[tuple[Period, _Side]],
    coverage: Coverage,
    gap: Gap,
    risk: Risk,
) -> PromiseScore:
    kept, broken, neutral = (side.of(promise.id, stance) for stance in STANCES)
    posts = _newest_first(side.posts, (*kept, *broken, *neutral))
    n = len(posts)
    trend = tuple(_point(earlier, old, promise.id) for earlier, old in history)
    return PromiseScore(
        key=promise.key,
        statement=promise.statement,
        theme=promise.theme,
        mentions=n,
        kept=replace(wilson(len(kept), n), posts=kept),
        broken=replace(wilson(len(broken), n), posts=broken),
        neutral=replace(wilson(len(neutral), n), posts=neutral),
        net=_net(len(kept), len(broken), n),
        previous_mentions=trend[-1].mentions if trend else 0,
        previous_net=trend[-1].net if trend else None,
        trend=trend,
        coverage=coverage,
        gap=gap,
        risk=risk,
        posts=posts,
    )


def _point(period: Period, side: _Side, promise_id: int) -> TrendPoint:
    kept, broken, neutral = (side.of(promise_id, stance) for stance in STANCES)
    posts = _newest_first(side.posts, (*kept, *broken, *neutral))
    return TrendPoint(period, len(posts), _net(len(kept), len(broken), len(posts)), posts)


def _net(kept: int, broken: int, n: int) -> float | None:
    """(kept - broken) / all mentions about the promise, in [-1, 1]; None without any."""
    return (kept - broken) / n if n else None


def _coverage(own: _Side, promise_id: int) -> Coverage:
    """Own posts whose (corrected) stance on the promise is kept: they support it."""
    posts = own.of(promise_id, "kept")
    reach = [r for r in (own.posts[p].reach for p in posts) if r is not None]
    return Coverage(len(posts), sum(reach), len(reach), posts)


def _gap(coverage: Coverage, said_total: int, customers: _Side, promise_id: int) -> Gap:
    kept, broken = customers.of(promise_id, "kept"), customers.of(promise_id, "broken")
    gap = say_do_gap(coverage.count, said_total, len(kept), len(broken))
    if gap.do is None:
        return gap
    return replace(gap, do=replace(gap.do, posts=_newest_first(customers.posts, kept + broken)))


def _risk(side: _Side, broken: tuple[int, ...], as_of: datetime, half_life: float) -> Risk:
    weights = []
    for post_id in broken:
        post = side.posts[post_id]
        age = (as_of - post.posted_at).total_seconds() / 86400 if post.posted_at else 0.0
        weights.append((post_id, risk_weight(post.reach, age, half_life)))
    weights.sort(key=lambda item: (-item[1], item[0]))
    return Risk(sum(w for _, w in weights), len(weights), tuple(weights))


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


def _side(session: Session, org_id: int, period: Period, filters: Filters, kind: str) -> _Side:
    """The posts of ``kind`` in the period that pass the filters, and their stances."""
    query = select(
        Post.id,
        Post.external_id,
        Post.platform,
        Post.kind,
        Post.posted_at,
        Post.reach,
        Post.language,
        Post.url,
    ).where(Post.organization_id == org_id, Post.kind == kind)
    query = _filtered(in_period(query, period.since, period.until), filters)
    posts = {row[0]: PostRef(*row) for row in session.execute(query).tuples()}
    found: dict[int, dict[str, list[int]]] = {}
    pairs = current_stances(session, org_id, period.since, period.until, kind=kind)
    for (post_id, promise_id), (stance, _) in pairs.items():
        if post_id in posts:
            found.setdefault(promise_id, {}).setdefault(stance, []).append(post_id)
    stances = {
        promise_id: {stance: _newest_first(posts, ids) for stance, ids in by_stance.items()}
        for promise_id, by_stance in found.items()
    }
    return _Side(posts, stances)


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


def _check_sources(session: Session, org_id: int, names: tuple[str, ...]) -> None:
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


def _newest_first(posts: Mapping[int, PostRef], ids: Iterable[int]) -> tuple[int, ...]:
    epoch = datetime.min.replace(tzinfo=UTC)
    return tuple(sorted(ids, key=lambda i: (posts[i].posted_at or epoch, i), reverse=True))


def _post_ids(row: PromiseScore, limit: int | None = None) -> set[int]:
    """The posts the numbers of a row link back to (the first ``limit`` of every list)."""
    lists = [row.posts, row.kept.posts, row.broken.posts, row.neutral.posts, row.coverage.posts]
    lists += [point.posts for point in row.trend] + [tuple(i for i, _ in row.risk.posts)]
    lists += [row.gap.do.posts] if row.gap.do else []
    return {i for ids in lists for i in ids[:limit]}


def _referenced(rows: Iterable[PromiseScore], sides: list[_Side]) -> dict[int, PostRef]:
    """The posts any number of the scorecard links back to."""
    ids = set().union(*(_post_ids(row) for row in rows))
    found: dict[int, PostRef] = {}
    for side in sides:
        found |= {i: p for i, p in side.posts.items() if i in ids}
    return dict(sorted(found.items()))


def parse_day(value: str) -> datetime:
    """A date (or ISO time) from the command line, as an aware UTC time."""
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _share(s: Share, limit: int) -> dict[str, Any]:
    return {
        "count": s.count,
        "share": round(s.share, 4),
        "low": round(s.low, 4),
        "high": round(s.high, 4),
        "posts": list(s.posts[:limit]),
    }


def _period(period: Period) -> dict[str, Any]:
    return {
        "label": period.label,
        "unit": period.unit,
        "since": period.since.isoformat() if period.since else None,
        "until": period.until.isoformat(),
    }


def scorecard_json(card: Scorecard, *, limit: int = 50) -> dict[str, Any]:
    """The scorecard as plain data, for ``--json``.

    Every number comes with the ids of the posts behind it (``posts``, at most ``limit``
    per list; the count says how many there are); the top-level ``posts`` maps each id
    listed to the post's external id, platform, time, reach, language and address.
    """
    listed = set().union(*(_post_ids(row, limit) for row in card.rows))
    return {
        "organization": card.organization,
        "period": _period(card.period) if card.period else None,
        "since": card.since.isoformat() if card.since else None,
        "until": card.until.isoformat(),
        "previous_since": card.previous_since.isoformat() if card.previous_since else None,
        "as_of": card.as_of.isoformat() if card.as_of else None,
        "filters": {
            "languages": list(card.filters.languages),
            "platforms": list(card.filters.platforms),
            "sources": list(card.filters.sources),
            "audience": card.filters.audience,
        },
        "mentions": card.mentions,
        "own_support": card.own_support,
        "say_do_gap": {
            "value": _round(card.gap.value),
            "low": _round(card.gap.low),
            "high": _round(card.gap.high),
            "unjudged": round(card.gap.unjudged, 4),
        },
        "risk_half_life_days": card.half_life_days,
        "promises": [_promise_json(row, limit) for row in card.rows],
        "posts": {
            str(i): {
                "external_id": p.external_id,
                "platform": p.platform,
                "kind": p.kind,
                "posted_at": p.posted_at.isoformat() if p.posted_at else None,
                "reach": p.reach,
                "language": p.language,
                "url": p.url,
            }
            for i, p in card.posts.items()
            if i in listed
        },
    }


def _promise_json(r: PromiseScore, limit: int) -> dict[str, Any]:
    gap = r.gap
    return {
        "id": r.key,
        "statement": r.statement,
        "theme": r.theme,
        "mentions": r.mentions,
        "posts": list(r.posts[:limit]),
        "kept": _share(r.kept, limit),
        "broken": _share(r.broken, limit),
        "neutral": _share(r.neutral, limit),
        "net": r.net,
        "previous_mentions": r.previous_mentions,
        "previous_net": r.previous_net,
        "change": r.change,
        "trend": [
            {
                **_period(t.period),
                "mentions": t.mentions,
                "net": t.net,
                "posts": list(t.posts[:limit]),
            }
            for t in r.trend
        ],
        "own": {
            "count": r.coverage.count,
            "engagement": r.coverage.engagement,
            "reach_known": r.coverage.reach_known,
            "posts": list(r.coverage.posts[:limit]),
        },
        "gap": {
            "say": _round(gap.say),
            "do": _share(gap.do, limit) if gap.do else None,
            "judged": gap.judged,
            "value": _round(gap.value),
            "low": _round(gap.low),
            "high": _round(gap.high),
            "small": gap.small,
        },
        "risk": {
            "value": round(r.risk.value, 4),
            "count": r.risk.count,
            "posts": [{"post": i, "weight": round(w, 4)} for i, w in r.risk.posts[:limit]],
        },
    }
