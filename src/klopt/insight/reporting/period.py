"""Report periods: the scorecard's named periods, cut into buckets for the trend lines.

A report covers a named period of :mod:`klopt.insight.periods`: ``2026`` (a year), ``2026-Q3``
(a quarter), ``2026-11`` (a month), ``2026-W47`` (an ISO week), from its first day 00:00
UTC up to, not including, the first day of the next one. Its trend lines have one point
per month for a year, per week (Monday to Sunday, cut at the period's edges) for a
quarter or month, and per day for a week.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from klopt.insight import periods

__all__ = ["Bucket", "Period", "parse_period", "bucket_index"]


@dataclass(frozen=True)
class Bucket:
    """One point of a trend line: the days [start, end)."""

    label: str
    start: date
    end: date


@dataclass(frozen=True)
class Period:
    """A period of a report: the days [start, end), in UTC.

    ``number`` is the quarter, month or ISO week (0 for a year); ``year`` is the ISO year
    for a week.
    """

    label: str
    kind: str
    year: int
    number: int
    start: date
    end: date

    @classmethod
    def of(cls, named: periods.Period) -> Period:
        """The report period of one of the scorecard's named periods."""
        if named.since is None or named.unit not in ("year", "quarter", "month", "week"):
            raise ValueError(f"a report needs a named period, not {named.label}")
        start, end = named.since.date(), named.until.date()
        if named.unit == "week":
            year, number = start.isocalendar().year, start.isocalendar().week
        else:
            year = start.year
            number = {"year": 0, "quarter": (start.month - 1) // 3 + 1}.get(named.unit, start.month)
        return cls(named.label, named.unit, year, number, start, end)

    @property
    def named(self) -> periods.Period:
        """The same period as the scorecard knows it."""
        return periods.Period(self.kind, self.since, self.until)

    @property
    def since(self) -> datetime:
        """The period's first moment."""
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the period."""
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)

    @property
    def last_day(self) -> date:
        """The period's last day."""
        return self.end - timedelta(days=1)

    @property
    def grain(self) -> str:
        """What one bucket of the trend line is: month, week or day."""
        return {"year": "month", "week": "day"}.get(self.kind, "week")

    def buckets(self) -> tuple[Bucket, ...]:
        """The trend line's points, in order, covering the whole period."""
        starts = sorted({self.start, *(_grain_start(self.kind, d) for d in self._days())})
        starts = [s for s in starts if s >= self.start]
        if self.kind in ("quarter", "month"):
            starts = _whole_weeks(starts, self.end)
        ends = [*starts[1:], self.end]
        return tuple(
            Bucket(_bucket_label(self.kind, s, e), s, e) for s, e in zip(starts, ends, strict=True)
        )

    def _days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]


def bucket_index(buckets: tuple[Bucket, ...], day: date) -> int | None:
    """The position of the bucket that holds ``day``, or None outside them all."""
    if not buckets or day < buckets[0].start or day >= buckets[-1].end:
        return None
    return bisect_right([b.start for b in buckets], day) - 1


def _whole_weeks(starts: list[date], end: date) -> list[date]:
    """Fold a first or last week of under four days into its neighbour: a point of one
    or two days would make the trend line jump on a handful of mentions."""
    if len(starts) > 2 and (starts[1] - starts[0]).days < 4:
        starts = [starts[0], *starts[2:]]
    if len(starts) > 2 and (end - starts[-1]).days < 4:
        starts = starts[:-1]
    return starts


def _grain_start(kind: str, day: date) -> date:
    if kind == "year":
        return day.replace(day=1)
    if kind == "week":
        return day
    return day - timedelta(days=day.weekday())


def _bucket_label(kind: str, start: date, end: date) -> str:
    if kind == "year":
        return f"{start:%Y-%m}"
    if kind == "week":
        return f"{start:%m-%d}"
    # The ISO week of the bucket's middle day: the week most of a cut or folded one is in.
    middle = start + timedelta(days=((end - start).days - 1) // 2)
    return f"W{middle.isocalendar().week:02d}"


def parse_period(value: str) -> Period:
    """The period named by ``value``: ``2026``, ``2026-Q3``, ``2026-11`` or ``2026-W47``.

    Raises:
        InputError: ``value`` names no period.
    """
    return Period.of(periods.parse_period(value))
