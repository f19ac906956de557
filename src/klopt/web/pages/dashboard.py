"""The dashboard: one page per period for a manager — is the organisation keeping its word?

The route reads the period (a quarter or month by name, or since/until dates), the
platform and the order, calls :func:`klopt.insight.dashboard.build_dashboard` and renders
it. Every number links to the mentions behind it in the inbox
(``/inbox?promise=P1&stance=broken&since=...&until=...``). What is left here is layout: the
geometry of the small charts, which the template draws as SVG without inline styles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from klopt.errors import InputError
from klopt.insight.alerting import AlertView
from klopt.insight.dashboard import Dashboard, build_dashboard
from klopt.insight.periods import Period, custom_period, parse_period, parse_time
from klopt.insight.scorecard import PromiseScore
from klopt.web.context import Viewer, page_viewer
from klopt.web.render import render

router = APIRouter(include_in_schema=False)

Sort = Literal["risk", "gap", "broken", "change", "register"]


def _moment(stamp: datetime) -> str:
    """A date where the time is midnight UTC (what the inbox's date fields take)."""
    stamp = stamp.astimezone(UTC)
    return stamp.date().isoformat() if stamp.time() == time(0) else stamp.isoformat()


def inbox_link(period: Period, platforms: tuple[str, ...] = (), **wanted: str | None) -> str:
    """The inbox filtered to the mentions behind a number."""
    query: list[tuple[str, str]] = [(k, v) for k, v in wanted.items() if v]
    if period.since is not None:
        query.append(("since", _moment(period.since)))
    query.append(("until", _moment(period.until)))
    query += [("platform", p) for p in platforms]
    return "/inbox?" + urlencode(query)


def alert_query(alert: AlertView) -> str:
    """The inbox's query for the mentions of an alert's window."""
    query = [("promise", alert.promise)] if alert.promise else []
    query += [("stance", "broken")] if alert.kind == "broken" else []
    query += [("since", _moment(alert.window_start)), ("until", _moment(alert.window_end))]
    return urlencode(query)


def _period(
    period: str | None, since: str | None, until: str | None, now: datetime
) -> Period | None:
    """The period asked for; None: the default (the latest quarter with mentions)."""
    if period:
        return parse_period(period)
    if not since and not until:
        return None
    end = parse_time(until) if until else datetime.combine(now.date(), time(0), UTC) + timedelta(1)
    return custom_period(parse_time(since) if since else None, end)


@dataclass(frozen=True)
class MapPoint:
    """One promise on the say-do map: where it is drawn and what it says."""

    key: str
    x: float
    y: float
    kept: bool
    say: float
    do: float


@dataclass(frozen=True)
class SayDoMap:
    """The say-do map's geometry (an SVG of ``width`` × ``height``)."""

    points: tuple[MapPoint, ...]
    missing: tuple[str, ...]
    width: int = 560
    height: int = 340
    left: int = 60
    right: int = 20
    top: int = 20
    bottom: int = 50
    top_say: float = 1.0
    even_say: float | None = None

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    def x(self, say: float) -> float:
        return round(self.left + say / self.top_say * self.plot_width, 1)

    def y(self, do: float) -> float:
        return round(self.top + (1 - do) * self.plot_height, 1)


def say_do_map(rows: tuple[PromiseScore, ...]) -> SayDoMap:
    """Promises by their share of the organisation's own voice (x) and the share of
    customers who judged them that say they are kept (y)."""
    placed = [r for r in rows if r.gap.say and r.gap.do is not None]
    missing = tuple(r.key for r in rows if r not in placed)
    top = max((r.gap.say or 0.0 for r in placed), default=0.0)
    top_say = max(0.05, min(1.0, top * 1.15))
    said = [r for r in rows if r.gap.say]
    even = 1 / len(said) if said else None
    empty = SayDoMap((), missing, top_say=top_say, even_say=even)
    points = tuple(
        MapPoint(
            key=r.key,
            x=empty.x(r.gap.say or 0.0),
            y=empty.y(r.gap.do.share if r.gap.do else 0.0),
            kept=bool(r.gap.do and r.gap.do.share >= 0.5),
            say=r.gap.say or 0.0,
            do=r.gap.do.share if r.gap.do else 0.0,
        )
        for r in placed
    )
    return SayDoMap(points, missing, top_say=top_say, even_say=even)


def _number(lang: str) -> Any:
    """A number as people of ``lang`` write it: 12,345.6 or 12.345,6."""

    def number(value: int | float, digits: int = 0) -> str:
        text = f"{value:,.{digits}f}"
        return text.translate(str.maketrans(",.", ".,")) if lang == "nl" else text

    return number


def _signed(value: float | None) -> str:
    """A net score or change in points: +12, −3, –."""
    if value is None:
        return "–"
    points = round(value * 100)
    return f"+{points}" if points > 0 else f"−{-points}" if points < 0 else "0"


@router.get("/dashboard")
def dashboard(
    request: Request,
    viewer: Annotated[Viewer, Depends(page_viewer)],
    period: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    platform: Annotated[list[str] | None, Query(max_length=40)] = None,
    sort: Sort = "risk",
) -> Response:
    """The scorecard of a period with its headline, the say-do map and the open alerts."""
    now = datetime.now(UTC)
    platforms = tuple(p for p in platform or () if p)
    problem = None
    try:
        chosen = _period(period, since, until, now)
        board = build_dashboard(
            viewer.store, viewer.org.slug, period=chosen, platforms=platforms, sort=sort, now=now
        )
    except InputError as exc:
        problem = exc.localized(viewer.lang)
        board = build_dashboard(
            viewer.store, viewer.org.slug, platforms=platforms, sort=sort, now=now
        )
    return _page(request, viewer, board, platforms, sort, problem, custom=not period)


def _page(
    request: Request,
    viewer: Viewer,
    board: Dashboard,
    platforms: tuple[str, ...],
    sort: str,
    problem: str | None,
    *,
    custom: bool,
) -> Response:
    card = board.card
    assert card.period is not None
    shown = card.period
    previous = shown.previous()

    def link(period: Period | None = None, **wanted: str | None) -> str:
        return inbox_link(period or shown, platforms, **wanted)

    return render(
        request,
        viewer,
        "dashboard.html",
        status=422 if problem else 200,
        board=board,
        card=card,
        shown=shown,
        previous=previous,
        platforms=platforms,
        sort=sort,
        problem=problem,
        custom=custom and shown.unit == "custom",
        link=link,
        alert_query=alert_query,
        saydo=say_do_map(card.rows),
        number=_number(viewer.lang),
        signed=_signed,
        span_until=(shown.until - timedelta(days=1)).date()
        if shown.until.time() == time(0)
        else shown.until.date(),
    )
