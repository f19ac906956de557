"""Periods of the scorecard: a year, quarter, month or ISO week by name, or any [since, until).

A named period is written the way people write it: ``2026`` (a year), ``2026-Q3`` (a
quarter), ``2026-11`` (a month), ``2026-W47`` (an ISO week, Monday to Monday). Every
period starts and ends at midnight UTC and ends exclusively, so that periods of the same
unit tile the calendar. The previous period of a named one is the calendar unit before it
(October before November, whatever their lengths); the previous period of a custom one is
the span of the same length right before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from klopt.errors import InputError

__all__ = ["Period", "parse_period", "parse_time", "custom_period", "resolve_period", "UNITS"]

UNITS = ("year", "quarter", "month", "week", "custom")

_YEAR = re.compile(r"(\d{4})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_WEEK = re.compile(r"(\d{4})-[Ww](\d{2})")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A span of time [since, until) in UTC; ``since`` None means from the beginning."""

    unit: str
    since: datetime | None
    until: datetime

    @property
    def label(self) -> str:
        """How people write the period: ``2026-Q3``, ``2026-W47``, ``2026-09-01..2026-11-01``."""
        start = self.since
        if start is None or self.unit == "custom":
            return f"{_moment(start) if start else ''}..{_moment(self.until)}"
        if self.unit == "year":
            return f"{start.year}"
        if self.unit == "quarter":
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        if self.unit == "month":
            return f"{start.year}-{start.month:02d}"
        year, week, _ = start.date().isocalendar()
        return f"{year}-W{week:02d}"

    def previous(self) -> Period | None:
        """The period of the same unit (or length) right before this one; None if open."""
        if self.since is None:
            return None
        start = self.since.date()
        if self.unit == "year":
            return Period("year", _midnight(date(start.year - 1, 1, 1)), self.since)
        if self.unit in ("quarter", "month"):
            months = 3 if self.unit == "quarter" else 1
            return Period(self.unit, _midnight(_add_months(start, -months)), self.since)
        length = timedelta(days=7) if self.unit == "week" else self.until - self.since
        return Period(self.unit, self.since - length, self.since)

    def previous_periods(self, count: int) -> tuple[Period, ...]:
        """Up to ``count`` periods right before this one, oldest first."""
        found: list[Period] = []
        current: Period | None = self
        while len(found) < count and current is not None:
            current = current.previous()
            if current is not None:
                found.append(current)
        return tuple(reversed(found))


def _moment(stamp: datetime) -> str:
    """A date where the time is midnight UTC, else the whole ISO time."""
    stamp = stamp.astimezone(UTC)
    if (stamp.hour, stamp.minute, stamp.second, stamp.microsecond) == (0, 0, 0, 0):
        return stamp.date().isoformat()
    return stamp.isoformat()


def parse_period(text: str) -> Period:
    """A named period: ``2026``, ``2026-Q3``, ``2026-11`` or ``2026-W47``.

    Raises:
        InputError: the text names no period (``error.scorecard.bad_period``).
    """
    value = text.strip()
    try:
        if match := _YEAR.fullmatch(value):
            year = int(match[1])
            return Period("year", _midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1)))
        if match := _QUARTER.fullmatch(value):
            start = date(int(match[1]), 3 * int(match[2]) - 2, 1)
            return Period("quarter", _midnight(start), _midnight(_add_months(start, 3)))
        if match := _MONTH.fullmatch(value):
            start = date(int(match[1]), int(match[2]), 1)
            return Period("month", _midnight(start), _midnight(_add_months(start, 1)))
        if match := _WEEK.fullmatch(value):
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return Period("week", _midnight(monday), _midnight(monday + timedelta(days=7)))
    except ValueError:  # week 53 of a year that has 52, year 0
        pass
    raise InputError.keyed("scorecard.bad_period", value=text)


def parse_time(text: str) -> datetime:
    """A date or ISO time from the command line, as an aware time (UTC when none is given).

    Raises:
        InputError: the text is not a date (``error.scorecard.bad_date``).
    """
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError.keyed("scorecard.bad_date", value=text) from None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def custom_period(since: datetime | None, until: datetime | None = None) -> Period:
    """The period [since, until); ``until`` defaults to now, ``since`` to the beginning.

    Raises:
        InputError: ``until`` does not come after ``since`` (``error.scorecard.empty_period``).
    """
    until = until or datetime.now(UTC)
    if since is not None and since >= until:
        raise InputError.keyed("scorecard.empty_period", since=_moment(since), until=_moment(until))
    return Period("custom", since, until)


def resolve_period(
    period: str | None = None, since: str | None = None, until: str | None = None
) -> Period:
    """The period the user asked for: by name (``--period``) or by ``--since``/``--until``.

    Raises:
        InputError: both ways were used, or a name or date cannot be read.
    """
    if period is not None:
        if since is not None or until is not None:
            raise InputError.keyed("scorecard.period_and_dates")
        return parse_period(period)
    return custom_period(parse_time(since) if since else None, parse_time(until) if until else None)
