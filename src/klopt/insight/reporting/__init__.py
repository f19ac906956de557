"""The management report: one HTML or PDF document per period (``klopt report``).

Building (:mod:`.build`, :mod:`.queries`, :mod:`.actions`) is pure data; rendering
(:mod:`.render`, :mod:`.charts`) turns it into HTML with inline SVG charts, and the PDF
is printed from that same HTML. Jinja2, matplotlib and WeasyPrint are imported only
when a report is rendered.
"""

from __future__ import annotations

from pathlib import Path

from klopt.insight.reporting.build import Evaluation, Report, build_report, load_evaluation
from klopt.insight.reporting.period import Period, parse_period
from klopt.insight.reporting.render import FORMATS, headline, render_html, render_pdf
from klopt.store import Store

__all__ = [
    "FORMATS",
    "Evaluation",
    "Period",
    "Report",
    "build_report",
    "headline",
    "load_evaluation",
    "make_report",
    "parse_period",
    "render_html",
    "render_pdf",
    "write_report",
]


def write_report(report: Report, path: Path, *, lang: str, format: str = "html") -> Path:
    """Render ``report`` in ``lang`` as ``format`` (html or pdf) to ``path``."""
    from klopt.errors import InputError

    html = render_html(report, lang)
    data = render_pdf(html) if format == "pdf" else html.encode("utf-8")
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError.keyed("report.cannot_write", path=path, detail=exc.strerror) from exc
    return path


def make_report(
    store: Store,
    org_ref: str | None,
    period: str,
    *,
    lang: str,
    format: str = "html",
    output: Path | None = None,
    evaluation: Path | None = None,
) -> Path:
    """Build and write the report for the period named ``period`` (``2026-Q3`` ...);
    return where it was written (by default ``klopt-report-<period>.<format>``)."""
    parsed = parse_period(period)
    cited = load_evaluation(evaluation) if evaluation else None
    report = build_report(store, org_ref, parsed, evaluation=cited)
    path = output or Path(f"klopt-report-{parsed.label}.{format}")
    return write_report(report, path, lang=lang, format=format)
