"""The report as a document: HTML from a Jinja2 template, PDF printed from that HTML.

Every text comes from the locale files (``report.*``), so a report is Dutch or English
as a whole. The HTML holds everything (style, inline SVG charts) in one file, and the
same data and period give the same bytes: the report names its period, the time of the
newest mention it covers, and the versions of klopt and of the model, never the moment
it was made. The PDF is WeasyPrint's print of that very HTML.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klopt.i18n import t
from klopt.insight.reporting.actions import BROKEN_NET, KEPT_NET, MIN_MENTIONS
from klopt.insight.reporting.build import Report
from klopt.insight.reporting.charts import say_do_map, stance_bars, trend_chart
from klopt.insight.reporting.period import Period

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["FORMATS", "render_html", "render_pdf", "headline", "period_name", "template_keys"]

FORMATS = ("html", "pdf")


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("klopt", "templates/report"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def period_name(period: Period, lang: str) -> str:
    """The period as a reader says it: "Q3 2026", "november 2026", "week 47 of 2026"."""
    if period.kind == "year":
        return str(period.year)
    if period.kind == "month":
        month = t("report.months", lang).split()[period.number - 1]
        return t("report.period.month", lang, month=month, year=period.year)
    return t(f"report.period.{period.kind}", lang, number=period.number, year=period.year)


def headline(report: Report, lang: str) -> str:
    """The say-do gap in one sentence."""
    judged = [p for p in report.promises if p.state != "too_few"]
    values: dict[str, Any] = {
        "org": report.organization,
        "period": period_name(report.period, lang),
        "total": len(judged),
        "kept": sum(p.state in ("kept", "kept_quiet") for p in judged),
        "broken": sum(p.broken for p in judged),
    }
    gap = report.widest_gap
    if not judged:
        return t("report.headline.too_few", lang, **values)
    if gap is None:
        return t("report.headline.none_broken", lang, **values)
    figures = gap.figures
    values |= {
        "id": gap.key,
        "statement": figures.statement,
        "share": _pct(figures.broken.share),
        "mentions": _number(figures.mentions, lang),
        "own": gap.own_posts,
    }
    key = "report.headline.gap_promoted" if gap.own_posts else "report.headline.gap_silent"
    return t(key, lang, **values) + _overall_gap(report, lang)


def _overall_gap(report: Report, lang: str) -> str:
    """The scorecard's say-do gap of the whole organisation, as a second sentence."""
    if report.gap is None:
        return ""
    band = ""
    if report.gap_low is not None and report.gap_high is not None:
        band = t("report.headline.band", lang, low=_pct(report.gap_low), high=_pct(report.gap_high))
    return " " + t("report.headline.overall", lang, gap=_pct(report.gap), band=band)


def _pct(share: float) -> str:
    return f"{100 * share:.0f}"


def _signed(value: float | None) -> str:
    if value is None:
        return "–"
    points = round(100 * value)
    return f"+{points}" if points > 0 else ("±0" if points == 0 else f"−{-points}")


def _number(value: int | None, lang: str) -> str:
    if value is None:
        return "–"
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "nl" else text


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "–"


def _moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "–"


def _trend_arrow(value: float | None) -> str:
    if value is None:
        return ""
    return "▲" if value >= 0.05 else ("▼" if value <= -0.05 else "►")


def render_html(report: Report, lang: str) -> str:
    """The report as one self-contained HTML document in ``lang``."""
    from markupsafe import Markup

    def say(key: str, **values: Any) -> str:
        return t(key, lang, **values)

    environment = _environment()
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report,
        lang=lang,
        t=say,
        headline=headline(report, lang),
        period=period_name(report.period, lang),
        charts={
            "trend": Markup(trend_chart(report, say)),
            "bars": Markup(stance_bars(report, say)),
            "map": Markup(say_do_map(report, say)),
        },
        pct=_pct,
        signed=_signed,
        number=lambda value: _number(value, lang),
        day=_day,
        moment=_moment,
        arrow=_trend_arrow,
        thresholds={
            "min": MIN_MENTIONS,
            "kept": _signed(KEPT_NET),
            "broken": _signed(BROKEN_NET),
        },
    )


def render_pdf(html: str) -> bytes:
    """The PDF of a report's HTML, printed by WeasyPrint."""
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except OSError as exc:  # Pango, which WeasyPrint lays text out with, is missing
        from klopt.errors import ConfigError

        raise ConfigError.keyed("report.no_pdf_engine", detail=str(exc)) from exc
    import logging

    # WeasyPrint's CSS parser reports every SVG presentation property in the charts'
    # style attributes as unknown, although its SVG renderer draws them: not news.
    css_log = logging.getLogger("weasyprint")
    level = css_log.level
    css_log.setLevel(logging.ERROR)
    try:
        pdf: bytes = HTML(string=html).write_pdf()
    finally:
        css_log.setLevel(level)
    return pdf


def template_keys() -> set[str]:
    """Every ``t("...")`` key the report's templates use (for a test)."""
    import re

    folder = Path(__file__).resolve().parents[2] / "templates" / "report"
    keys: set[str] = set()
    for path in folder.glob("*.j2"):
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", path.read_text("utf-8")))
    # A key built in the template (state, action, grain) shows up as its prefix: drop it.
    return {key for key in keys if not key.endswith(".")}
