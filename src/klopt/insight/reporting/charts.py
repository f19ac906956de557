"""The report's charts, drawn by matplotlib as SVG and put inline in the HTML.

The PDF is printed from the same HTML, so both show the very same charts. The SVG is
deterministic: a fixed hash salt for its ids, no date or creator in its metadata, and
text kept as text (searchable, and the same font as the page). matplotlib is used
without pyplot: no global figure state and no GUI backend.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from klopt.insight.reporting.actions import BROKEN_NET, KEPT_NET, LOW_COVERAGE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from klopt.insight.reporting.build import PromiseReport, Report

__all__ = ["trend_chart", "stance_bars", "say_do_map", "COLOURS"]

COLOURS = {"kept": "#2e7d32", "broken": "#c62828", "neutral": "#b0b0b0", "ink": "#333333"}
WIDTH = 7.0  # inches: the text width of an A4 page with 2 cm margins

_RC: dict[Any, Any] = {
    "svg.hashsalt": "klopt-report",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8.0,
    "axes.edgecolor": "#999999",
    "axes.labelcolor": COLOURS["ink"],
    "xtick.color": COLOURS["ink"],
    "ytick.color": COLOURS["ink"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,
}

Translate = Callable[[str], str]


@contextmanager
def _figure(height: float) -> Iterator[Figure]:
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(_RC):
        yield Figure(figsize=(WIDTH, height), layout="constrained")


def _svg(figure: Figure, name: str) -> str:
    """The figure as an SVG element, ready to put in HTML, its ids prefixed by ``name``."""
    buffer = io.StringIO()
    from matplotlib import rc_context

    with rc_context(_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # Several charts share one HTML page: ids must not clash between them.
    for found in sorted(set(re.findall(r'id="([^"]+)"', svg))):
        svg = re.sub(rf'(id="|#){re.escape(found)}(["\)])', rf"\g<1>{name}-{found}\g<2>", svg)
    svg = re.sub(r'<svg ([^>]*?)width="[^"]+" height="[^"]+"', r"<svg \1", svg, count=1)
    return svg.replace("<svg ", f'<svg class="chart" id="{name}" role="img" ', 1).strip()


def trend_chart(report: Report, t: Translate) -> str:
    """Small multiples: per promise, the mentions per bucket that say kept and broken.

    Counts, not shares: a week with two mentions would make a share jump between 0 and
    100%, while a count shows both the direction and how much there is behind it.
    """
    promises = report.promises
    columns = 3
    rows = max(1, math.ceil(len(promises) / columns))
    with _figure(1.45 * rows + 0.4) as figure:
        grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
        x = list(range(len(report.buckets)))
        for index, axes in enumerate(grid.flat):
            if index >= len(promises):
                axes.set_visible(False)
                continue
            trend = promises[index].trend
            axes.plot(x, [p.broken for p in trend], color=COLOURS["broken"], linewidth=1.4)
            axes.plot(x, [p.kept for p in trend], color=COLOURS["kept"], linewidth=1.4)
            axes.set_title(promises[index].key, loc="left", fontsize=8, fontweight="bold")
            _trend_axes(axes, report.buckets)
        figure.legend(
            [t("report.chart.broken"), t("report.chart.kept")],
            loc="outside upper right",
            ncols=2,
            frameon=False,
        )
        return _svg(figure, "chart-trend")


def _trend_axes(axes: Axes, labels: tuple[str, ...]) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.set_ylim(bottom=0, top=max(1.0, axes.get_ylim()[1]))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    step = max(1, math.ceil(len(labels) / 4))
    ticks = list(range(0, len(labels), step))
    axes.set_xticks(ticks, [labels[i] for i in ticks])
    axes.grid(axis="y", color="#e6e6e6", linewidth=0.6)


def stance_bars(report: Report, t: Translate) -> str:
    """Per promise one bar: the share of kept, neutral and broken mentions."""
    promises = list(reversed(report.promises))
    with _figure(0.28 * len(promises) + 0.9) as figure:
        axes = figure.subplots()
        y = list(range(len(promises)))
        kept = [100 * p.figures.kept.share for p in promises]
        neutral = [100 * p.figures.neutral.share for p in promises]
        broken = [100 * p.figures.broken.share for p in promises]
        axes.barh(y, kept, color=COLOURS["kept"], label=t("report.chart.kept"))
        axes.barh(y, neutral, left=kept, color=COLOURS["neutral"], label=t("report.chart.neutral"))
        left = [k + n for k, n in zip(kept, neutral, strict=True)]
        axes.barh(y, broken, left=left, color=COLOURS["broken"], label=t("report.chart.broken"))
        labels = [f"{p.key} (n={p.figures.mentions})" for p in promises]
        axes.set_yticks(y, labels)
        axes.set_xlim(0, 100)
        axes.set_xlabel(t("report.chart.share"))
        figure.legend(loc="outside upper right", ncols=3, frameon=False)
        return _svg(figure, "chart-bars")


def say_do_map(report: Report, t: Translate) -> str:
    """The say-do map: own coverage (x) against the customers' net verdict (y)."""
    shown = [p for p in report.promises if p.figures.net is not None]
    own_total = report.notes.own_posts
    with _figure(3.6) as figure:
        axes = figure.subplots()
        xs = [_coverage(p, own_total) for p in shown]
        ys = [100 * (p.figures.net or 0.0) for p in shown]
        sizes = [30 + 170 * math.sqrt(p.figures.mentions / _most(shown)) for p in shown]
        colours = [_colour(p.figures.net or 0.0) for p in shown]
        axes.scatter(xs, ys, s=sizes, c=colours, alpha=0.75, edgecolors="white")
        for p, x, y in zip(shown, xs, ys, strict=True):
            axes.annotate(p.key, (x, y), xytext=(5, 4), textcoords="offset points", fontsize=7)
        low = 100 * LOW_COVERAGE / max(1, len(report.promises))
        right = max([low * 2, *xs]) * 1.1 + 1
        axes.set_xlim(0, right)
        axes.set_ylim(-105, 105)
        axes.axhline(0, color="#999999", linewidth=0.6)
        axes.axvline(low, color="#999999", linewidth=0.6, linestyle="--")
        _quadrants(axes, t, right)
        axes.set_xlabel(t("report.chart.coverage"))
        axes.set_ylabel(t("report.chart.net"))
        return _svg(figure, "chart-map")


def _coverage(p: PromiseReport, own_total: int) -> float:
    return 100 * p.own_posts / own_total if own_total else 0.0


def _most(promises: list[PromiseReport]) -> int:
    return max([1, *(p.figures.mentions for p in promises)])


def _colour(net: float) -> str:
    if net >= KEPT_NET:
        return COLOURS["kept"]
    if net <= BROKEN_NET:
        return COLOURS["broken"]
    return "#8d8d8d"


def _quadrants(axes: Axes, t: Translate, right: float) -> None:
    # Left of the dashed line own content says little, right of it much; above the axis
    # customers say the promise is kept, below it broken.
    style: dict[str, Any] = {"fontsize": 7, "color": "#777777", "style": "italic"}
    axes.text(right * 0.01, 100, t("report.map.say_more"), ha="left", va="top", **style)
    axes.text(right * 0.99, 100, t("report.map.keep_up"), ha="right", va="top", **style)
    axes.text(right * 0.01, -100, t("report.map.fix_first"), ha="left", va="bottom", **style)
    axes.text(right * 0.99, -100, t("report.map.stop"), ha="right", va="bottom", **style)
