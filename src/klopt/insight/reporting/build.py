"""The management report as data: what it says, before any language or layout.

:func:`build_report` takes the per-promise figures from the scorecard (through
:func:`scorecard_figures` and :func:`from_scorecard`, the one place that reads it), adds
what only the report needs from the store (trend per week or month, own coverage,
quotes, data notes) and the state and recommended action of every promise. The same
store and period give the same report: nothing in it depends on the clock.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts.organizations import find_organization
from klopt.errors import InputError
from klopt.insight.reporting import queries
from klopt.insight.reporting.actions import ATTENTION, IMPROVING, WENT_WELL, Signals, classify
from klopt.insight.reporting.period import Bucket, Period, bucket_index
from klopt.insight.scorecard import Scorecard, Share, build_scorecard
from klopt.store import Store
from klopt.store.models import Promise

__all__ = [
    "PromiseFigures",
    "ScoreFigures",
    "Quote",
    "TrendPoint",
    "PromiseReport",
    "Evaluation",
    "DataNotes",
    "Report",
    "from_scorecard",
    "scorecard_figures",
    "build_report",
    "load_evaluation",
]

QUOTE_CHARS = 280
BROKEN_STATES = frozenset({"broken", "broken_promoted"})


@dataclass(frozen=True)
class PromiseFigures:
    """The scorecard's numbers for one promise in the period."""

    key: str
    statement: str
    theme: str | None
    mentions: int
    kept: Share
    broken: Share
    neutral: Share
    net: float | None
    change: float | None
    previous_mentions: int


@dataclass(frozen=True)
class ScoreFigures:
    """What the report takes from the scorecard."""

    organization: str
    mentions: int
    rows: tuple[PromiseFigures, ...]
    #: The organisation's say-do gap (``klopt.insight.scorecard``): the share of what it said
    #: about its promises in its own posts that customers' verdicts contradict.
    gap: float | None = None
    gap_low: float | None = None
    gap_high: float | None = None


@dataclass(frozen=True)
class Quote:
    """A post quoted as evidence; ``url`` only when it is a web address."""

    id: str
    platform: str
    author: str | None
    posted_at: datetime | None
    url: str | None
    reach: int | None
    text: str
    by_person: bool


@dataclass(frozen=True)
class TrendPoint:
    """Mentions about a promise in one bucket of the period, and how many said kept / broken."""

    label: str
    mentions: int
    kept: int
    broken: int


@dataclass(frozen=True)
class PromiseReport:
    """Everything the report says about one promise."""

    figures: PromiseFigures
    state: str
    own_posts: int
    own_reach: int
    broken_reach: int
    trend: tuple[TrendPoint, ...]
    quotes: tuple[Quote, ...]
    own_examples: tuple[Quote, ...]

    @property
    def key(self) -> str:
        return self.figures.key

    @property
    def attention(self) -> bool:
        """Whether the promise gets a section under "needs attention"."""
        return self.state in ATTENTION

    @property
    def broken(self) -> bool:
        """Whether customers say it is broken."""
        return self.state in BROKEN_STATES

    @property
    def went_well(self) -> bool:
        """Kept; or neither kept nor broken, but clearly better than in the previous period."""
        change = self.figures.change
        improving = change is not None and change >= IMPROVING
        return self.state in WENT_WELL or (self.state == "mixed" and improving)


@dataclass(frozen=True)
class Evaluation:
    """The numbers of a ``klopt eval --json`` file the report cites."""

    source: str
    cases: int
    linking_f1: float
    stance_accuracy: float
    stance_macro_f1: float
    stance_cases: int
    model_version: str


@dataclass(frozen=True)
class DataNotes:
    """Where the numbers come from: volumes, sources, models, corrections, evaluation."""

    mentions: int
    pairs: int
    own_posts: int
    platforms: tuple[tuple[str, int], ...]
    models: tuple[tuple[str, int], ...]
    corrected: int
    unjudged: int
    last_mention: datetime | None
    evaluation: Evaluation | None


@dataclass(frozen=True)
class Report:
    """The management report of one organisation for one period."""

    organization: str
    period: Period
    buckets: tuple[str, ...]
    promises: tuple[PromiseReport, ...]
    notes: DataNotes
    klopt_version: str
    #: The organisation's say-do gap from the scorecard, with its (conservative) band.
    gap: float | None = None
    gap_low: float | None = None
    gap_high: float | None = None

    @property
    def attention(self) -> tuple[PromiseReport, ...]:
        """The promises that need attention, the most broken first."""
        return tuple(sorted((p for p in self.promises if p.attention), key=_worst_first))

    @property
    def went_well(self) -> tuple[PromiseReport, ...]:
        """The promises that went well, the best first."""
        return tuple(sorted((p for p in self.promises if p.went_well), key=_best_first))

    @property
    def widest_gap(self) -> PromiseReport | None:
        """The broken promise the organisation says most about, if any is broken."""
        broken = [p for p in self.promises if p.broken]
        return min(broken, key=_gap_first) if broken else None


def _worst_first(p: PromiseReport) -> tuple[float, str]:
    return (p.figures.net if p.figures.net is not None else 0.0, p.key)


def _best_first(p: PromiseReport) -> tuple[float, str]:
    return (-(p.figures.net if p.figures.net is not None else 0.0), p.key)


def _gap_first(p: PromiseReport) -> tuple[bool, float, int, str]:
    # Promoted before silent; then the surest broken share (the low end of its interval,
    # so that 6 of 8 does not outrank 13 of 21).
    return (p.state != "broken_promoted", -p.figures.broken.low, -p.figures.mentions, p.key)


def scorecard_figures(store: Store, org_ref: str | None, period: Period) -> ScoreFigures:
    """The scorecard of the period, as the report uses it.

    The change is against the calendar period before (Q2 for Q3), as in ``klopt
    scorecard --period``; ``now`` is the end of the period, so that nothing the scorecard
    computes depends on the day the report is made.
    """
    card = build_scorecard(
        store, org_ref, period=period.named, trend=1, now=period.until, limit=0
    )  # the report quotes posts itself: no id lists needed
    return from_scorecard(card)


def from_scorecard(card: Scorecard) -> ScoreFigures:
    """The scorecard's figures as the report uses them.

    The one place that reads a :class:`~klopt.insight.scorecard.Scorecard`: when the scorecard
    gains fields (own coverage, say-do gap, risk), they are mapped here.
    """
    rows = tuple(
        PromiseFigures(
            key=row.key,
            statement=row.statement,
            theme=row.theme,
            mentions=row.mentions,
            kept=row.kept,
            broken=row.broken,
            neutral=row.neutral,
            net=row.net,
            change=row.change,
            previous_mentions=row.previous_mentions,
        )
        for row in card.rows
    )
    return ScoreFigures(
        card.organization, card.mentions, rows, card.gap.value, card.gap.low, card.gap.high
    )


def build_report(
    store: Store,
    org_ref: str | None,
    period: Period,
    *,
    evaluation: Evaluation | None = None,
    quotes: int = 3,
) -> Report:
    """The report of the organisation for ``period``.

    Args:
        store: The store to read.
        org_ref: The organisation's name or slug; None for the only one.
        period: The period, e.g. ``parse_period("2026-Q3")``.
        evaluation: Accuracy figures to cite (see :func:`load_evaluation`).
        quotes: How many broken mentions to quote per promise that needs attention.
    """
    from klopt import __version__

    scores = scorecard_figures(store, org_ref, period)
    since, until = period.since, period.until
    buckets = period.buckets()
    with store.session() as session:
        org = find_organization(session, org_ref)
        ids = dict(
            session.execute(
                select(Promise.key, Promise.id).where(Promise.organization_id == org.id)
            )
            .tuples()
            .all()
        )
        days = queries.stance_days(session, org.id, since, until)
        coverage, own_total = queries.own_coverage(session, org.id, since, until)
        states = {
            ids[f.key]: classify(_signals(f, coverage.get(ids[f.key]), own_total, scores))
            for f in scores.rows
        }
        quoted, own_examples = _evidence(session, org.id, period, states, quotes)
        notes = _notes(session, org.id, period, scores, days, own_total, evaluation)
    trends, broken_reach = _trends(days, buckets), _broken_reach(days)
    promises = []
    for figures in scores.rows:
        pid = ids[figures.key]
        own = coverage.get(pid, queries.Coverage(0, 0))
        promises.append(
            PromiseReport(
                figures=figures,
                state=states[pid],
                own_posts=own.posts,
                own_reach=own.reach,
                broken_reach=broken_reach.get(pid, 0),
                trend=trends.get(pid, _empty_trend(buckets)),
                quotes=tuple(_quote(row) for row in quoted.get(pid, [])),
                own_examples=tuple(_quote(row) for row in own_examples.get(pid, [])),
            )
        )
    return Report(
        organization=scores.organization,
        period=period,
        buckets=tuple(b.label for b in buckets),
        promises=tuple(promises),
        notes=notes,
        klopt_version=__version__,
        gap=scores.gap,
        gap_low=scores.gap_low,
        gap_high=scores.gap_high,
    )


def _signals(
    figures: PromiseFigures, own: queries.Coverage | None, own_total: int, scores: ScoreFigures
) -> Signals:
    return Signals(
        mentions=figures.mentions,
        net=figures.net,
        change=figures.change,
        own_posts=own.posts if own else 0,
        own_total=own_total,
        promises=len(scores.rows),
    )


def _trends(
    days: list[queries.DayCount], buckets: tuple[Bucket, ...]
) -> dict[int, tuple[TrendPoint, ...]]:
    counts: dict[int, list[list[int]]] = defaultdict(lambda: [[0, 0, 0] for _ in buckets])
    for row in days:
        index = bucket_index(buckets, row.day)
        if index is None:
            continue
        cell = counts[row.promise_id][index]
        cell[0] += row.count
        cell[1] += row.count if row.stance == "kept" else 0
        cell[2] += row.count if row.stance == "broken" else 0
    return {
        pid: tuple(TrendPoint(b.label, *cell) for b, cell in zip(buckets, cells, strict=True))
        for pid, cells in counts.items()
    }


def _empty_trend(buckets: tuple[Bucket, ...]) -> tuple[TrendPoint, ...]:
    return tuple(TrendPoint(b.label, 0, 0, 0) for b in buckets)


def _broken_reach(days: list[queries.DayCount]) -> dict[int, int]:
    reach: dict[int, int] = defaultdict(int)
    for row in days:
        if row.stance == "broken":
            reach[row.promise_id] += row.reach
    return dict(reach)


def _evidence(
    session: Session, org_id: int, period: Period, states: dict[int, str], limit: int
) -> tuple[dict[int, list[queries.PostRow]], dict[int, list[queries.PostRow]]]:
    """Broken mentions to quote for the promises that need attention, and the newest own
    post for those and the ones that went well."""
    since, until = period.since, period.until
    attention = [pid for pid, state in states.items() if state in ATTENTION]
    discussed = [pid for pid, state in states.items() if state in ATTENTION | WENT_WELL]
    quoted = queries.broken_quotes(session, org_id, since, until, attention, limit)
    own = queries.latest_own_posts(session, org_id, since, until, discussed, 1)
    return quoted, own


def _quote(row: queries.PostRow) -> Quote:
    text = " ".join(row.text.split())
    if len(text) > QUOTE_CHARS:
        text = text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    url = row.url if row.url and row.url.lower().startswith(("https://", "http://")) else None
    return Quote(
        id=row.external_id,
        platform=row.platform,
        author=row.author,
        posted_at=row.posted_at,
        url=url,
        reach=row.reach,
        text=text,
        by_person=row.by_person,
    )


def _notes(
    session: Session,
    org_id: int,
    period: Period,
    scores: ScoreFigures,
    days: list[queries.DayCount],
    own_total: int,
    evaluation: Evaluation | None,
) -> DataNotes:
    since, until = period.since, period.until
    volumes = queries.mention_volumes(session, org_id, since, until)
    times = [v.last for v in volumes if v.last is not None]
    models = queries.model_versions(session, org_id, since, until)
    return DataNotes(
        mentions=scores.mentions,
        pairs=sum(row.count for row in days),
        own_posts=own_total,
        platforms=tuple((v.platform, v.mentions) for v in volumes),
        models=tuple(models),
        corrected=queries.corrected_pairs(session, org_id, since, until),
        unjudged=sum(v.mentions for v in volumes) - sum(n for _, n in models),
        last_mention=max(times) if times else None,
        evaluation=evaluation,
    )


def load_evaluation(path: str | Path) -> Evaluation:
    """The accuracy figures of a ``klopt eval --json`` file.

    Raises:
        InputError: the file is not JSON written by ``klopt eval --json``.
    """
    path = Path(path)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return Evaluation(
            source=path.name,
            cases=int(data["cases"]),
            linking_f1=float(data["linking"]["micro"]["f1"]),
            stance_accuracy=float(data["stance"]["accuracy"]),
            stance_macro_f1=float(data["stance"]["macro_f1"]),
            stance_cases=int(data["stance"]["n"]),
            model_version=str(data.get("model_version", "")),
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError.keyed("report.bad_eval", name=path.name) from exc
