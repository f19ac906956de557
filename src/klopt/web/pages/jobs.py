"""The jobs page: what the background schedule ran for the viewer's organisation, when,
for how long, what it did and what failed; and which worker holds which job now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from klopt.jobs.leases import LeaseInfo
from klopt.jobs.runs import STATUSES, RunInfo
from klopt.web.context import Viewer, page_viewer

router = APIRouter(include_in_schema=False)

#: How many runs the page shows.
SHOWN = 200


@dataclass(frozen=True)
class RunRow:
    """A run as one row of the page, its texts in the viewer's language."""

    run: RunInfo
    job: str
    status: str
    duration: str
    did: str
    error: str


@router.get("/jobs")
def jobs_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(page_viewer)],
    status: str | None = None,
) -> Response:
    """The latest runs of the organisation's jobs, newest first, and the leases held now."""
    from klopt.jobs import list_leases, list_runs
    from klopt.web.render import render

    wanted = status if status in STATUSES else None
    runs = list_runs(viewer.store, viewer.org.slug, limit=SHOWN, status=wanted)
    leases: list[LeaseInfo] = list_leases(viewer.store, viewer.org.slug)
    return render(
        request, viewer, "jobs.html", runs=[_row(viewer, r) for r in runs], leases=leases,
        wanted=wanted or "", statuses=STATUSES, job_name=lambda kind: _job(viewer, kind),
    )  # fmt: skip


def _row(viewer: Viewer, run: RunInfo) -> RunRow:
    return RunRow(
        run=run,
        job=_job(viewer, run.job),
        status=viewer.t(f"jobs.status.{run.status}"),
        duration=_duration(viewer, run.duration),
        did=run.summary(viewer.lang),
        error=run.error.localized(viewer.lang) if run.error is not None else "",
    )


def _job(viewer: Viewer, kind: str) -> str:
    from klopt.i18n import messages

    key = f"jobs.job.{kind}"
    return viewer.t(key) if key in messages("en") else kind


def _duration(viewer: Viewer, duration: timedelta | None) -> str:
    if duration is None:
        return ""
    seconds = duration.total_seconds()
    if seconds < 60:
        return viewer.t("web.jobs.seconds", seconds=f"{seconds:.1f}")
    minutes, rest = divmod(int(seconds), 60)
    return viewer.t("web.jobs.minutes", minutes=minutes, seconds=rest)
