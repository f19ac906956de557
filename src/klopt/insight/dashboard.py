"""The dashboard: a period's scorecard in milliseconds, and what a manager needs beside it.

:func:`fast_scorecard` answers :func:`~klopt.insight.scorecard.build_scorecard`'s question
from the daily tallies (:mod:`klopt.judging.tallies`) instead of the verdict tables: the
same rows, counts, Wilson intervals, trend, coverage, say-do gap and risk, built with the
scorecard's own functions, only without the lists of post ids (the dashboard links each
number to the inbox, which finds them). It needs a period that starts and ends at midnight
UTC (every named period does); for any other, :func:`build_dashboard` uses the full
scorecard. The risk equals the scorecard's for every post dated before the period's end
(or now); a post dated later than now weighs a little more here than there (the
scorecard counts its age as zero).

:func:`build_dashboard` adds the periods there are data for, the platforms, the open
alerts and the headline facts: how big the say-do gap is, which promises customers say
are broken more often than kept, and which fell furthest since the previous period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from threading import Lock
from time import monotonic
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from klopt.accounts.organizations import find_organization
from klopt.errors import InputError
from klopt.insight.alerting import AlertView, list_alerts
from klopt.insight.periods import Period, parse_period
from klopt.insight.scorecard import (
    HALF_LIFE_DAYS,
    TREND_PERIODS,
    Coverage,
    Filters,
    PromiseScore,
    Risk,
    Scorecard,
    TrendPoint,
    _headline,
    build_scorecard,
    say_do_gap,
    wilson,
)
from klopt.judging.tallies import ALL_PLATFORMS, ensure_tallies
from klopt.judging.tallies import HALF_LIFE_DAYS as TALLY_HALF_LIFE
from klopt.judging.verdicts import STANCES
from klopt.register.promises import register_order
from klopt.store import Store
from klopt.store.models import Post, Promise, StanceDay

__all__ = [
    "Dashboard",
    "fast_scorecard",
    "build_dashboard",
    "check_period",
    "worst_first",
    "SORTS",
    "FIRST_YEAR",
    "LAST_YEAR",
]

#: How the promises can be ordered: ``risk`` (worst first), ``gap``, ``broken``, ``change``
#: (the steepest fall first) or ``register`` (P1, P2, ...).
SORTS = ("risk", "gap", "broken", "change", "register")
#: The years a period may fall in (a period in year 1 has no previous period to compare).
FIRST_YEAR, LAST_YEAR = 1900, 2999
#: A promise whose net score fell by at least this much since the previous period is news.
FALL = 0.05


def check_period(period: Period, trend: int = TREND_PERIODS) -> Period:
    """``period`` if it lies within :data:`FIRST_YEAR`..:data:`LAST_YEAR` and its ``trend``
    earlier periods exist on the calendar.

    Raises:
        InputError: it does not (``error.dashboard.period_range``).
    """
    problem = InputError.keyed(
        "dashboard.period_range", first=FIRST_YEAR, last=LAST_YEAR, period=period.label
    )
    for moment in (period.since, period.until):
        if moment is not None and not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise problem
    try:
        period.previous_periods(trend)
    except (OverflowError, ValueError):  # a custom span so long that its trend predates year 1
        raise problem from None
    return period


def _midnight(moment: datetime | None) -> bool:
    return moment is None or moment.astimezone(UTC).time() == time(0)


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


@dataclass
class _Tallies:
    """The questions the fast scorecard asks the tallies of one organisation."""

    session: Session
    org_id: int
    promise_ids: list[int]
    platforms: tuple[str, ...]

    def _where(self, query: Any, since: datetime | None, until: datetime) -> Any:
        query = query.where(
            StanceDay.organization_id == self.org_id,
            StanceDay.promise_id.in_(self.promise_ids),
            StanceDay.day < _day(until),
        )
        if since is not None:
            query = query.where(StanceDay.day >= _day(since))
        if self.platforms:
            return query.where(StanceDay.platform.in_(self.platforms))
        return query.where(StanceDay.platform == ALL_PLATFORMS)

    def sums(self, period: Period) -> dict[tuple[int, str, str], tuple[int, int, int]]:
        """(promise, kind, stance) -> pairs, summed known reach, pairs with a known reach."""
        query = select(
            StanceDay.promise_id,
            StanceDay.kind,
            StanceDay.stance,
            func.sum(StanceDay.count),
            func.sum(StanceDay.reach),
            func.sum(StanceDay.reach_known),
        ).group_by(StanceDay.promise_id, StanceDay.kind, StanceDay.stance)
        rows = self.session.execute(self._where(query, period.since, period.until))
        return {(p, k, s): (int(n), int(r), int(known)) for p, k, s, n, r, known in rows}

    def risk(self, period: Period, as_of: datetime) -> dict[int, float]:
        """Per promise, the summed weight of its broken mentions at ``as_of``."""
        query = (
            select(StanceDay.promise_id, StanceDay.day, func.sum(StanceDay.weight))
            .where(StanceDay.kind == "mention", StanceDay.stance == "broken")
            .group_by(StanceDay.promise_id, StanceDay.day)
        )
        found: dict[int, float] = {}
        decay: dict[date, float] = {}
        for promise_id, day, weight in self.session.execute(
            self._where(query, period.since, period.until)
        ):
            if day not in decay:
                midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
                decay[day] = 0.5 ** ((as_of - midnight).total_seconds() / 86400 / HALF_LIFE_DAYS)
            found[promise_id] = found.get(promise_id, 0.0) + float(weight) * decay[day]
        return found

    def history(self, periods: Sequence[Period]) -> list[dict[tuple[int, str], int]]:
        """Per earlier period (oldest first): (promise, stance) -> mentions."""
        if not periods:
            return []
        bucket = case(
            *[(StanceDay.day < _day(p.until), n) for n, p in enumerate(periods)], else_=-1
        ).label("bucket")
        query = (
            select(bucket, StanceDay.promise_id, StanceDay.stance, func.sum(StanceDay.count))
            .where(StanceDay.kind == "mention")
            .group_by(bucket, StanceDay.promise_id, StanceDay.stance)
        )
        found: list[dict[tuple[int, str], int]] = [{} for _ in periods]
        query = self._where(query, periods[0].since, periods[-1].until)
        for n, promise_id, stance, count in self.session.execute(query):
            if n >= 0:
                found[n][(promise_id, stance)] = int(count)
        return found

    def mentions(self, period: Period) -> int:
        """How many mentions were posted in the period (judged or not).

        Remembered per process until a post is added (a new highest post id) or for
        :data:`COUNT_SECONDS`: counting a quarter of a million index entries is the
        dashboard's slowest step, and posts are added, never moved in time.
        """
        newest = self.session.scalar(select(func.max(Post.id)))
        where = str(self.session.get_bind().engine.url)
        key = (where, self.org_id, period.since, period.until, self.platforms, newest)
        now = monotonic()
        with _COUNTS_LOCK:
            known = _COUNTS.get(key)
        if known is not None and now - known[1] < COUNT_SECONDS:
            return known[0]
        query = (
            select(func.count())
            .select_from(Post)
            .where(
                Post.organization_id == self.org_id,
                Post.kind == "mention",
                Post.posted_at < period.until,
            )
        )
        if period.since is not None:
            query = query.where(Post.posted_at >= period.since)
        if self.platforms:
            query = query.where(Post.platform.in_(self.platforms))
        count = int(self.session.scalar(query) or 0)
        with _COUNTS_LOCK:
            if len(_COUNTS) >= 512:
                _COUNTS.clear()
            _COUNTS[key] = (count, now)
        return count


#: How long a period's count of mentions is remembered at most (a post that becomes an
#: own post, when its draft is published, changes it without adding a post).
COUNT_SECONDS = 300.0
_COUNTS: dict[tuple[Any, ...], tuple[int, float]] = {}
_COUNTS_LOCK = Lock()


def fast_scorecard(
    store: Store,
    org_ref: str | None,
    *,
    period: Period,
    platforms: tuple[str, ...] = (),
    trend: int = TREND_PERIODS,
    now: datetime | None = None,
) -> Scorecard | None:
    """The customers' scorecard of ``period`` from the tallies; None when they cannot tell
    (a period that does not start and end at midnight UTC, or tallies that were never
    built in a store this process cannot write to). See the module docstring."""
    now = now or datetime.now(UTC)
    history = period.previous_periods(trend)
    if not all(_midnight(p.since) and _midnight(p.until) for p in (period, *history)):
        return None
    if TALLY_HALF_LIFE != HALF_LIFE_DAYS:  # the weights are kept for one half-life
        return None
    with store.session() as session:
        org = find_organization(session, org_ref)
    if not ensure_tallies(store, org.id):
        return None
    as_of = min(period.until, now)
    with store.session() as session:
        promises = sorted(
            session.scalars(
                select(Promise).where(
                    Promise.organization_id == org.id, Promise.status == "approved"
                )
            ),
            key=register_order,
        )
        tallies = _Tallies(session, org.id, [p.id for p in promises], platforms)
        sums = tallies.sums(period)
        risk = tallies.risk(period, as_of)
        earlier = list(zip(history, tallies.history(history), strict=True))
        mentions = tallies.mentions(period)
    coverage = {p.id: _coverage(sums, p.id) for p in promises}
    said_total = sum(c.count for c in coverage.values())
    rows = tuple(
        _row(p, sums, earlier, coverage[p.id], said_total, risk.get(p.id, 0.0)) for p in promises
    )
    previous = period.previous()
    return Scorecard(
        organization=org.name,
        since=period.since,
        until=period.until,
        previous_since=previous.since if previous and trend else None,
        mentions=mentions,
        rows=rows,
        period=period,
        filters=Filters(platforms=platforms),
        as_of=as_of,
        half_life_days=HALF_LIFE_DAYS,
        own_support=said_total,
        gap=_headline(rows),
    )


def _count(sums: dict[tuple[int, str, str], tuple[int, int, int]], *key: Any) -> int:
    return sums.get(key, (0, 0, 0))[0]


def _coverage(sums: dict[tuple[int, str, str], tuple[int, int, int]], promise_id: int) -> Coverage:
    count, reach, known = sums.get((promise_id, "own", "kept"), (0, 0, 0))
    return Coverage(count, reach, known)


def _net(kept: int, broken: int, n: int) -> float | None:
    return (kept - broken) / n if n else None


def _row(
    promise: Promise,
    sums: dict[tuple[int, str, str], tuple[int, int, int]],
    earlier: list[tuple[Period, dict[tuple[int, str], int]]],
    coverage: Coverage,
    said_total: int,
    risk: float,
) -> PromiseScore:
    kept, broken, neutral = (_count(sums, promise.id, "mention", s) for s in STANCES)
    n = kept + broken + neutral
    trend = tuple(_point(p, counts, promise.id) for p, counts in earlier)
    return PromiseScore(
        key=promise.key,
        statement=promise.statement,
        theme=promise.theme,
        mentions=n,
        kept=wilson(kept, n),
        broken=wilson(broken, n),
        neutral=wilson(neutral, n),
        net=_net(kept, broken, n),
        previous_mentions=trend[-1].mentions if trend else 0,
        previous_net=trend[-1].net if trend else None,
        trend=trend,
        coverage=coverage,
        gap=say_do_gap(coverage.count, said_total, kept, broken),
        risk=Risk(risk, broken),
    )


def _point(period: Period, counts: dict[tuple[int, str], int], promise_id: int) -> TrendPoint:
    kept, broken, neutral = (counts.get((promise_id, s), 0) for s in STANCES)
    n = kept + broken + neutral
    return TrendPoint(period, n, _net(kept, broken, n))


# --- the dashboard around the scorecard -----------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard page shows for one period.

    ``fast`` says whether the scorecard came from the tallies (else from the verdict
    tables); ``quarters`` and ``months`` are the periods with posts about a promise,
    newest first; ``broken_more`` the promises customers call broken more often than
    kept, worst first; ``fallen`` those whose net score fell by at least :data:`FALL`,
    steepest first; ``rows`` the scorecard's rows in the order asked for.
    """

    card: Scorecard
    fast: bool
    quarters: tuple[Period, ...]
    months: tuple[Period, ...]
    platforms: tuple[str, ...]
    alerts: tuple[AlertView, ...]
    first_day: date | None
    last_day: date | None
    broken_more: tuple[PromiseScore, ...] = ()
    fallen: tuple[PromiseScore, ...] = ()
    rows: tuple[PromiseScore, ...] = ()


def build_dashboard(
    store: Store,
    org_ref: str | None,
    *,
    period: Period | None = None,
    platforms: tuple[str, ...] = (),
    sort: str = "risk",
    now: datetime | None = None,
) -> Dashboard:
    """The dashboard of ``period`` (default: the latest quarter with mentions).

    Raises:
        InputError: the period lies outside the years klopt compares, or ``sort`` is unknown.
    """
    if sort not in SORTS:
        raise InputError.keyed("dashboard.bad_sort", value=sort, sorts=", ".join(SORTS))
    now = now or datetime.now(UTC)
    with store.session() as session:
        org = find_organization(session, org_ref)
    built = ensure_tallies(store, org.id)
    with store.session() as session:
        first, last, known = _span(session, org.id, built)
    period = check_period(period or _quarter_of(last or now.date()))
    card = fast_scorecard(store, org_ref, period=period, platforms=platforms, now=now)
    fast = card is not None
    if card is None:
        card = build_scorecard(
            store, org_ref, period=period, filters=Filters(platforms=platforms), now=now
        )
    alerts = tuple(list_alerts(store, org.slug, open_only=True))
    quarters, months = _choices(first, last)
    fallen = sorted(
        (r for r in card.rows if r.change is not None and r.change <= -FALL),
        key=lambda r: (r.change, r.key),
    )
    return Dashboard(
        card=card,
        fast=fast,
        quarters=quarters,
        months=months,
        platforms=known,
        alerts=alerts,
        first_day=first,
        last_day=last,
        broken_more=tuple(worst_first([r for r in card.rows if r.broken.count > r.kept.count])),
        fallen=tuple(fallen),
        rows=tuple(worst_first(card.rows, sort)),
    )


def worst_first(rows: Sequence[PromiseScore], sort: str = "risk") -> list[PromiseScore]:
    """The promises in the order of ``sort`` (see :data:`SORTS`); ties in register order."""
    order = {row.key: n for n, row in enumerate(rows)}
    keys: dict[str, Any] = {
        "risk": lambda r: (-r.risk.value, -r.broken.share),
        "gap": lambda r: (r.gap.value is None, -(r.gap.value or 0.0), -r.risk.value),
        "broken": lambda r: (-r.broken.share, -r.broken.count),
        "change": lambda r: (r.change is None, r.change or 0.0),
        "register": lambda r: (),
    }
    by = keys[sort]
    return sorted(rows, key=lambda r: (*by(r), order[r.key]))


def _span(
    session: Session, org_id: int, built: bool
) -> tuple[date | None, date | None, tuple[str, ...]]:
    """The first and last day with posts about a promise (or, without tallies, with any
    mention), and the platforms."""
    if built:
        mine = (StanceDay.organization_id == org_id, StanceDay.platform == ALL_PLATFORMS)
        # Two queries: each is one index lookup, a min and max together read every row.
        first = session.scalar(select(func.min(StanceDay.day)).where(*mine))
        last = session.scalar(select(func.max(StanceDay.day)).where(*mine))
        return first, last, _platforms(session, org_id)
    mentions = (Post.organization_id == org_id, Post.kind == "mention")
    low = session.scalar(select(func.min(Post.posted_at)).where(*mentions))
    high = session.scalar(select(func.max(Post.posted_at)).where(*mentions))
    platforms = session.scalars(
        select(Post.platform).where(Post.organization_id == org_id).distinct()
    )
    return (
        _day(low) if low else None,
        _day(high) if high else None,
        tuple(sorted(platforms)),
    )


def _platforms(session: Session, org_id: int) -> tuple[str, ...]:
    """The platforms in the tallies, one index lookup each (a DISTINCT reads every row)."""
    found: list[str] = []
    while True:
        after = found[-1] if found else ALL_PLATFORMS
        following = session.scalar(
            select(func.min(StanceDay.platform)).where(
                StanceDay.organization_id == org_id, StanceDay.platform > after
            )
        )
        if following is None or len(found) >= 100:
            return tuple(found)
        found.append(following)


def _quarter_of(day: date) -> Period:
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def _choices(
    first: date | None, last: date | None
) -> tuple[tuple[Period, ...], tuple[Period, ...]]:
    """The quarters and months from ``first`` to ``last``, newest first (at most 20 years)."""
    if first is None or last is None:
        return (), ()
    first = max(first, last - timedelta(days=366 * 20))
    months: list[Period] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(parse_period(f"{year}-{month:02d}"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    quarters = {_quarter_of(m.since.date()) for m in months if m.since is not None}
    return tuple(sorted(quarters, key=_until, reverse=True)), tuple(reversed(months))


def _until(period: Period) -> datetime:
    return period.until
