"""``GET /api/v1/scorecard``: what ``klopt scorecard --json`` prints, for the same period.

It asks the full scorecard (:func:`klopt.insight.scorecard.build_scorecard`, over the
verdict tables), not the dashboard's tallies: only the full one has the ids of the posts
behind every number, which the JSON lists, so the answer is the CLI's to the byte.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from klopt.insight.dashboard import check_period
from klopt.insight.periods import resolve_period
from klopt.insight.scorecard import Filters, build_scorecard
from klopt.insight.scorecard_json import scorecard_json
from klopt.web.context import Viewer, api_viewer

router = APIRouter(prefix="/api/v1")

_Names = Annotated[list[str] | None, Query(max_length=200)]


def scorecard_body(
    viewer: Viewer,
    period: str | None,
    since: str | None,
    until: str | None,
    filters: Filters,
    trend: int,
) -> dict[str, Any]:
    """The scorecard's JSON for the viewer's organisation."""
    chosen = resolve_period(period, since, until)
    check_period(chosen, trend)
    card = build_scorecard(
        viewer.store, viewer.org.slug, period=chosen, filters=filters, trend=trend
    )
    return scorecard_json(card)


@router.get(
    "/scorecard",
    summary="The scorecard of a period",
    response_class=JSONResponse,
    responses={
        401: {"description": "No token or session"},
        404: {"description": "An unknown source or organisation"},
        422: {"description": "A period, date or value that cannot be read"},
    },
)
async def scorecard(
    viewer: Annotated[Viewer, Depends(api_viewer)],
    period: Annotated[
        str | None, Query(max_length=40, description="2026, 2026-Q3, 2026-11 or 2026-W47")
    ] = None,
    since: Annotated[
        str | None, Query(max_length=40, description="A date or ISO time (instead of period)")
    ] = None,
    until: Annotated[
        str | None, Query(max_length=40, description="A date or ISO time, not included")
    ] = None,
    language: _Names = None,
    platform: _Names = None,
    source: _Names = None,
    own: Annotated[bool, Query(description="Count the organisation's own posts")] = False,
    trend: Annotated[int, Query(ge=0, le=52, description="Earlier periods in the trend")] = 4,
) -> JSONResponse:
    """Per approved promise: verdict shares with 95% intervals, net score and trend, own
    coverage, say-do gap and risk, each with the ids of the posts behind it; exactly the
    JSON of ``klopt scorecard --json`` with the same options."""
    filters = Filters(
        tuple(language or ()),
        tuple(platform or ()),
        tuple(source or ()),
        "own" if own else "customers",
    )
    body = await run_in_threadpool(scorecard_body, viewer, period, since, until, filters, trend)
    return JSONResponse(body)
