"""/report: the board report of a period, as HTML or PDF, in Dutch or English.

Every member may read it. The page is a form; ``/report/download`` builds the report with
:func:`klopt.insight.reporting.make_report` and answers with the file (an attachment with a
safe name). A period that is no period, or a PDF without Pango on the server, is said on
the page, in the viewer's language.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from klopt.errors import InputError, KloptError
from klopt.i18n import LANGUAGES
from klopt.insight.reporting import FORMATS, make_report
from klopt.web.context import Viewer, page_viewer
from klopt.web.pages.admin_access import attachment
from klopt.web.render import render

__all__ = ["router", "current_quarter", "report_file"]

router = APIRouter(include_in_schema=False)

_Member = Annotated[Viewer, Depends(page_viewer)]
_MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def current_quarter(now: datetime | None = None) -> str:
    """The quarter of ``now`` (default: today, UTC) as a period, e.g. ``2026-Q3``."""
    now = now or datetime.now(UTC)
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def _page(
    request: Request,
    viewer: Viewer,
    *,
    period: str | None = None,
    lang: str | None = None,
    format: str = "html",  # noqa: A002
    error: KloptError | None = None,
) -> Response:
    from klopt.web.app import status_of

    return render(
        request, viewer, "report.html", status=status_of(error) if error else 200,
        error=error.localized(viewer.lang) if error else None,
        period=period or current_quarter(), report_lang=lang or viewer.lang, format=format,
        languages=LANGUAGES, formats=FORMATS,
    )  # fmt: skip


@router.get("/report")
def report(request: Request, viewer: _Member) -> Response:
    """The form: period, language, format."""
    return _page(request, viewer)


def report_file(viewer: Viewer, period: str, lang: str, format: str) -> tuple[bytes, str]:  # noqa: A002
    """The report of ``viewer``'s organisation as bytes, and the name to save it as.

    Raises:
        InputError: an unknown language or format, or ``period`` names no period.
        ConfigError: a PDF was asked for and the server cannot print one (no Pango).
    """
    if lang not in LANGUAGES:
        raise InputError.keyed("web.report.bad_language", lang=lang, choices=", ".join(LANGUAGES))
    if format not in FORMATS:
        raise InputError.keyed("web.report.bad_format", format=format, choices=", ".join(FORMATS))
    with tempfile.TemporaryDirectory(prefix="klopt-report-") as folder:
        path = make_report(
            viewer.store, viewer.org.slug, period.strip(), lang=lang, format=format,
            output=Path(folder) / f"report.{format}",
        )  # fmt: skip
        data = path.read_bytes()
    return data, attachment("klopt-report", viewer.org.slug, period.strip(), lang, ext=format)


@router.get("/report/download")
def download(
    request: Request,
    viewer: _Member,
    period: Annotated[str, Query(max_length=40)] = "",
    lang: Annotated[str, Query(max_length=8)] = "",
    format: Annotated[str, Query(max_length=8)] = "html",  # noqa: A002
) -> Response:
    """The report as a file; a problem is shown on the form instead."""
    lang = lang or viewer.lang
    try:
        data, disposition = report_file(viewer, period or current_quarter(), lang, format)
    except KloptError as exc:
        return _page(request, viewer, period=period, lang=lang, format=format, error=exc)
    return Response(data, media_type=_MEDIA[format], headers={"Content-Disposition": disposition})
