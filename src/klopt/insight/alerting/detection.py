"""Detecting a significant rise: pure functions on counts, no store, no clock.

Two kinds of alert, one test (docs/alerts.md explains the choice):

- **broken**: for one promise, is the share of the organisation's judged mentions that say
  the promise was *broken* higher in the recent window (``window`` hours) than in the
  baseline window (the ``baseline_days`` days before it, or as many as there are, at
  least ``min_baseline_days``)? The exposure of each window is
  its number of judged mentions, so a busy evening or a viral campaign that brings more
  mentions of every kind is not a broken promise (that is the volume alert's business).
- **volume**: is the number of mentions in the last ``volume_window`` hours (a whole day,
  so the time of day does not matter) higher than the baseline days' rate per hour?

Both are the conditional test for two Poisson rates (Przyborowski and Wilenski, 1940):
given ``k = x_R + x_B`` events in the two windows with exposures ``e_R`` and ``e_B``, under
"same rate" ``x_R`` is Binomial(k, e_R / (e_R + e_B)); the one-sided p-value is its upper
tail. The promises of one organisation are tested together at each check and their
p-values adjusted with Benjamini-Hochberg. An alert opens when the adjusted p-value is at
most ``alpha``, the recent count is at least ``min_count`` and the rate ratio at least
``min_ratio``; it stays open, against the baseline frozen at its opening, while the rise
holds at the looser ``close_alpha`` and ``close_ratio`` (hysteresis), and closes when it
does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

__all__ = [
    "AlertParams",
    "Counts",
    "RateTest",
    "Watch",
    "Decision",
    "binomial_sf",
    "rate_test",
    "benjamini_hochberg",
    "broken_counts",
    "volume_counts",
    "decide",
    "opens",
    "still_raised",
    "Event",
    "replay",
]

K = TypeVar("K", bound=Hashable)
Action = Literal["open", "update", "close", "settle"]


@dataclass(frozen=True)
class AlertParams:
    """The detector's parameters; the defaults were tuned in ``benchmarks/alerts.py``.

    Attributes:
        window: hours in the recent window of the broken test.
        baseline_days: days in the baseline window, just before the recent window.
        min_baseline_days: the fewest days of history before the recent window that a
            test needs; with less (a new organisation, a new source) nothing is tested,
            with more but under ``baseline_days`` the baseline is what there is.
        volume_window: hours in the recent window of the volume test (whole days).
        alpha: the false discovery rate (Benjamini-Hochberg) over one organisation's
            promises at one check; the volume test uses it on its own.
        min_count: the fewest broken mentions (mentions, for volume) in the recent window
            that can open an alert.
        min_ratio: the smallest rise (recent rate / baseline rate) that opens an alert: with
            thousands of mentions a rise of 5% is significant, but not news.
        close_alpha: an open alert stays open while its rise over the frozen baseline has a
            p-value (not adjusted) of at most this ...
        close_ratio: ... and a rate ratio of at least this; else it closes.
        renotify: an open alert is delivered again (as "updated") when its recent count
            has grown to this many times the count last delivered.
        swing: how much a rate varies from day to day beyond chance (coefficient of
            variation); see :func:`rate_test`. 0.14 gives the dispersion measured on the
            airline tweets (about 2 at 50 broken mentions a day).
    """

    window: int = 24
    baseline_days: int = 7
    min_baseline_days: int = 2
    volume_window: int = 24
    alpha: float = 0.001
    min_count: int = 5
    min_ratio: float = 1.5
    close_alpha: float = 0.05
    close_ratio: float = 1.25
    renotify: float = 2.0
    swing: float = 0.14

    @property
    def baseline_hours(self) -> int:
        """Hours in the baseline window."""
        return 24 * self.baseline_days

    @property
    def min_baseline_hours(self) -> int:
        """The fewest hours of history before the recent window that a test needs."""
        return 24 * self.min_baseline_days


@dataclass(frozen=True)
class Counts:
    """Events and exposure in the recent and the baseline window.

    For a broken test the events are broken mentions of one promise and the exposure the
    organisation's judged mentions; for the volume test, mentions and hours.
    """

    recent: int
    recent_exposure: float
    baseline: int
    baseline_exposure: float


@dataclass(frozen=True)
class RateTest:
    """The outcome of the one-sided test "recent rate > baseline rate"."""

    counts: Counts
    ratio: float
    p_value: float


def _log_pmf(k: int, n: int, log_p: float, log_q: float, log_n: float) -> float:
    return log_n - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q


def binomial_sf(x: int, n: int, p: float) -> float:
    """P(X >= x) for X ~ Binomial(n, p), summed in log space from the side that is short.

    Terms fall away geometrically on either side of the mode, so the sum stops once they
    no longer change it; a few hundred terms even for n in the millions.
    """
    if x <= 0:
        return 1.0
    if x > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q, log_n = math.log(p), math.log1p(-p), math.lgamma(n + 1)
    mode = int((n + 1) * p)
    if x > mode:  # upper tail, terms decreasing from x upwards
        ks: range = range(x, n + 1)
    else:  # 1 - lower tail, terms decreasing from x - 1 downwards
        ks = range(x - 1, -1, -1)
    first = _log_pmf(ks[0], n, log_p, log_q, log_n)
    total = 0.0
    for k in ks:
        term = math.exp(_log_pmf(k, n, log_p, log_q, log_n) - first)
        total += term
        if term < 1e-17 * total:
            break
    tail = math.exp(first) * total
    return min(1.0, tail) if x > mode else max(0.0, 1.0 - tail)


def rate_test(counts: Counts, swing: float = 0.0) -> RateTest:
    """Is the recent rate higher than the baseline rate? The conditional binomial test.

    Args:
        counts: events and exposures of the two windows.
        swing: the coefficient of variation of the rate itself from day to day, beyond
            chance. Counts are then more variable than Poisson by the factor
            ``phi = 1 + swing**2 * m`` (``m`` the recent count expected under "same
            rate", as for a negative binomial), and the test is run on the counts divided
            by ``phi`` (rounded): exact for small counts, not fooled by ordinary swings of
            large ones.

    The rate ratio is estimated with half an event added to each window, so that a
    baseline without events gives a large, finite ratio instead of infinity.
    """
    e_r, e_b = counts.recent_exposure, counts.baseline_exposure
    if e_r <= 0 or e_b <= 0:
        return RateTest(counts, 1.0, 1.0)
    ratio = ((counts.recent + 0.5) / e_r) / ((counts.baseline + 0.5) / e_b)
    k, share = counts.recent + counts.baseline, e_r / (e_r + e_b)
    phi = 1.0 + swing * swing * k * share
    return RateTest(counts, ratio, binomial_sf(round(counts.recent / phi), round(k / phi), share))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def _window(series: Sequence[int], start: int, end: int) -> int:
    return sum(series[max(0, start) : max(0, end)])


def broken_counts(
    broken: Sequence[int], mentions: Sequence[int], end: int, params: AlertParams
) -> Counts:
    """The counts of a broken test over hourly series, for a check at hour ``end``.

    Args:
        broken: broken mentions of one promise per hour.
        mentions: the organisation's judged mentions per hour (the exposure).
        end: the hour the check runs at; the recent window is ``[end - window, end)``.
        params: the window lengths.
    """
    split, start = end - params.window, end - params.window - params.baseline_hours
    return Counts(
        _window(broken, split, end),
        float(_window(mentions, split, end)),
        _window(broken, start, split),
        float(_window(mentions, start, split)),
    )


def volume_counts(mentions: Sequence[int], end: int, params: AlertParams) -> Counts:
    """The counts of the volume test over an hourly series, for a check at hour ``end``."""
    split = end - params.volume_window
    start = split - params.baseline_hours
    hours = min(params.baseline_hours, max(0, split))
    return Counts(
        _window(mentions, split, end),
        float(params.volume_window),
        _window(mentions, start, split),
        float(hours),
    )


@dataclass(frozen=True)
class Watch:
    """What klopt remembers of an alert between checks.

    Attributes:
        baseline: baseline events at the alert's opening (frozen: a rise that lasts must
            not become its own baseline).
        baseline_exposure: the baseline's exposure at opening.
        notified: the recent count when the alert was last delivered.
        open: False for an alert a person closed while the rise still held: klopt waits
            for the rate to come back to baseline before it may open a new one.
    """

    baseline: int
    baseline_exposure: float
    notified: int
    open: bool = True


@dataclass(frozen=True)
class Decision:
    """What one check does about one promise (or the volume).

    ``test`` is the fresh test for an opening, else the test against the frozen baseline;
    ``q_value`` is the adjusted p-value of the fresh test.
    """

    action: Action
    test: RateTest
    q_value: float
    notify: bool


def opens(test: RateTest, q_value: float, params: AlertParams) -> bool:
    """Whether a fresh test opens an alert."""
    return (
        q_value <= params.alpha
        and test.counts.recent >= params.min_count
        and test.ratio >= params.min_ratio
    )


def still_raised(test: RateTest, params: AlertParams) -> bool:
    """Whether a test against the frozen baseline keeps an alert open."""
    return test.p_value <= params.close_alpha and test.ratio >= params.close_ratio


def decide(
    tests: Mapping[K, RateTest], watches: Mapping[K, Watch], params: AlertParams
) -> dict[K, Decision]:
    """One check of one family of tests (one organisation's promises, or its volume).

    Args:
        tests: the fresh test of every key (promise) at this check.
        watches: the keys with an open alert, or one closed by a person and not yet back
            at baseline.
        params: thresholds.

    Returns:
        The keys something happens to: opened, updated, closed, or settled (a person's
        closed alert whose rate is back at baseline).
    """
    keys = list(tests)
    q_values = dict(zip(keys, benjamini_hochberg([tests[k].p_value for k in keys]), strict=True))
    decisions: dict[K, Decision] = {}
    for key in keys:
        test, q_value, watch = tests[key], q_values[key], watches.get(key)
        if watch is None:
            if opens(test, q_value, params):
                decisions[key] = Decision("open", test, q_value, notify=True)
            continue
        if test.counts.recent_exposure <= 0:
            continue  # not one mention (a source that stopped?): no news either way
        frozen = rate_test(
            replace(
                test.counts, baseline=watch.baseline, baseline_exposure=watch.baseline_exposure
            ),
            params.swing,
        )
        raised = still_raised(frozen, params)
        if not watch.open:
            if not raised:
                decisions[key] = Decision("settle", frozen, q_value, notify=False)
        elif not raised:
            decisions[key] = Decision("close", frozen, q_value, notify=True)
        else:
            grown = frozen.counts.recent >= params.renotify * max(watch.notified, 1)
            decisions[key] = Decision("update", frozen, q_value, notify=grown)
    return decisions


@dataclass(frozen=True)
class Event:
    """Something a check did, in a replay: which key, at which hour, and why."""

    key: Hashable
    hour: int
    decision: Decision


def replay(
    series: Mapping[Hashable, Callable[[int], Counts]], hours: Iterable[int], params: AlertParams
) -> list[Event]:
    """Check one family hour by hour, remembering alerts as the store does.

    Args:
        series: per key, the counts of a check at a given hour (e.g. ``lambda end:
            broken_counts(broken, mentions, end, params)``).
        hours: the hours to check at, in order.
        params: thresholds.

    Returns:
        Every opening, update, closing (and settling) with its hour.
    """
    watches: dict[Hashable, Watch] = {}
    events: list[Event] = []
    for hour in hours:
        tests = {key: rate_test(counts(hour), params.swing) for key, counts in series.items()}
        for key, decision in decide(tests, watches, params).items():
            events.append(Event(key, hour, decision))
            counts = decision.test.counts
            if decision.action == "open":
                watches[key] = Watch(counts.baseline, counts.baseline_exposure, counts.recent)
            elif decision.action in ("close", "settle"):
                del watches[key]
            elif decision.notify:
                watches[key] = replace(watches[key], notified=counts.recent)
    return events
