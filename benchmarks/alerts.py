"""Alert detection: measured on synthetic series with known change points, replayed on
real airline tweets.

    python benchmarks/alerts.py                      # synthetic only
    python benchmarks/alerts.py --airline ../shared/data/airline_tweets_en/tweets.csv
    python benchmarks/alerts.py --grid               # the tuning grid behind the defaults

**Synthetic.** Each organisation has ``--days`` days of hourly mentions (Poisson around a
level of 5, 20 or 80 an hour, with a day-night cycle and day-to-day swings of about 14%,
as real traffic has) and 8 promises whose broken share is drawn between 0.5% and 8% (it
too swings from day to day). In a third of the organisations one promise's broken share
steps up (x2, x3 or x5) at a known hour and stays up; in a third the mention volume steps
up (x1.5, x2 or x3) and the shares stay; a third has no change. Every detector sees the
same series and is checked every hour.

- *broken*: a detection is a true positive when it is the first alert on the changed
  promise in the 72 hours after the change; every other alert (another promise, before
  the change, a repeat on the same promise, on a series without change) is a false
  positive. Precision = TP / alerts, recall = detected changes / changes, delay = hours
  from the change to the detection. Volume-change organisations are reported on their own:
  the promises' shares did not change there, so any broken alert is about volume.
- *volume*: the same on the total of mentions, over the volume-change and flat series.

Baseline detectors, measured in the same run, raise an alert when their condition
becomes true (they get the same storm protection: one alert per rising edge):
*fixed*: more than N broken mentions in the last 24 hours (N = 10); *3-sigma*: the
recent window's count above the mean plus three standard deviations of the counts of the
same-length blocks in the baseline days (and at least ``min_count``).

**Airline replay.** ``tweets.csv`` (Twitter US Airline Sentiment, crowd labels; its path
is an argument and nothing from it is kept) is replayed hour by hour per airline: all
tweets to the airline are its judged mentions, and a negative tweet with a
``negativereason`` is a *broken* mention of the promise named by the reason ("Cancelled
Flight", "Late Flight", ...; "Can't Tell" is no promise). It prints every alert the
default detector raises, when, and its top evidence tweet (``text_fixed``, by retweets).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from klopt.insight.alerting.detection import (
    AlertParams,
    Counts,
    broken_counts,
    replay,
    volume_counts,
)

PROMISES = [f"P{i}" for i in range(1, 9)]
HORIZON = 72  # hours after a change in which its detection counts
#: Gamma shape of the day-to-day swings of volume and shares: 50 is a coefficient of
#: variation of 14%, which gives the extra-binomial dispersion (about 2 at 50 broken a
#: day) measured on the airline tweets.
SWING = 50.0


# --- synthetic series --------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One organisation's hourly mentions and broken mentions per promise."""

    kind: str  # "broken", "volume" or "flat"
    mentions: list[int]
    broken: dict[str, list[int]]
    change: int | None = None  # hour of the step
    changed: str | None = None  # the promise whose broken share stepped up
    factor: float = 1.0
    per_day: float = 0.0  # expected broken (or all) mentions a day of the changed series

    @property
    def stratum(self) -> str:
        """The change's size class: its factor and how many events a day it starts from."""
        low, high = (2, 10) if self.kind == "broken" else (200, 1000)
        size = "<" + str(low) if self.per_day < low else f"{low}-{high}"
        size = size if self.per_day < high else ">=" + str(high)
        return f"x{self.factor:g} from {size}/day"


def synthetic(
    rng: np.random.Generator,
    kind: str,
    *,
    days: int = 21,
    level: float | None = None,
    factor: float | None = None,
    warmup: int = 192,
) -> Series:
    """An organisation's series with (``broken``, ``volume``) or without (``flat``) a step."""
    hours = 24 * days
    level = float(level if level is not None else rng.choice([5.0, 20.0, 80.0]))
    clock = np.arange(hours) % 24
    cycle = 1.0 + 0.8 * np.sin(2 * np.pi * (clock - 9) / 24)  # quiet at night, busy at 15h
    daily = np.repeat(rng.gamma(SWING, 1 / SWING, size=days), 24)  # day-to-day swings
    rate = level * cycle * daily
    change = int(rng.integers(warmup + 24, hours - HORIZON)) if kind != "flat" else None
    if kind == "volume":
        factor = float(factor if factor is not None else rng.choice([1.5, 2.0, 3.0]))
        rate[change:] *= factor
    mentions = rng.poisson(rate)
    shares = np.exp(rng.uniform(np.log(0.005), np.log(0.08), size=len(PROMISES)))
    changed = str(rng.choice(PROMISES)) if kind == "broken" else None
    if kind == "broken":
        factor = float(factor if factor is not None else rng.choice([2.0, 3.0, 5.0]))
    broken: dict[str, list[int]] = {}
    per_day = 24 * level
    for key, share in zip(PROMISES, shares, strict=True):
        if key == changed:
            per_day = 24 * level * share
        swing = np.repeat(rng.gamma(SWING, 1 / SWING, size=days), 24)
        p = np.minimum(share * swing, 0.9)
        if key == changed:
            p[change:] = np.minimum(p[change:] * (factor or 1.0), 0.9)
        broken[key] = rng.binomial(mentions, p).tolist()
    return Series(kind, mentions.tolist(), broken, change, changed, factor or 1.0, per_day)


# --- detectors: each returns the (key, hour) of every alert it opens -----------------------


Opened = list[tuple[Hashable, int]]


def klopt_broken(series: Series, params: AlertParams, start: int) -> Opened:
    counters = {
        key: _broken_counter(broken, series.mentions, params)
        for key, broken in series.broken.items()
    }
    hours = range(start, len(series.mentions) + 1)
    return [(e.key, e.hour) for e in replay(counters, hours, params) if e.decision.action == "open"]


def _broken_counter(
    broken: Sequence[int], mentions: Sequence[int], params: AlertParams
) -> Callable[[int], Counts]:
    return lambda end: broken_counts(broken, mentions, end, params)


def _volume_counter(mentions: Sequence[int], params: AlertParams) -> Callable[[int], Counts]:
    return lambda end: volume_counts(mentions, end, params)


def klopt_volume(mentions: Sequence[int], params: AlertParams, start: int) -> Opened:
    counters: dict[Hashable, Callable[[int], Counts]] = {None: _volume_counter(mentions, params)}
    hours = range(start, len(mentions) + 1)
    return [(e.key, e.hour) for e in replay(counters, hours, params) if e.decision.action == "open"]


def _edges(
    keys: Iterable[Hashable], hours: range, fires: Callable[[Hashable, int], bool]
) -> Opened:
    """One alert per rising edge of ``fires``: the baselines' storm protection."""
    opened: Opened = []
    for key in keys:
        was = False
        for hour in hours:
            now = fires(key, hour)
            if now and not was:
                opened.append((key, hour))
            was = now
    return opened


def fixed_threshold(series: Series, start: int, limit: int = 10) -> Opened:
    hours = range(start, len(series.mentions) + 1)
    return _edges(
        series.broken, hours, lambda key, end: sum(series.broken[key][end - 24 : end]) > limit
    )


def three_sigma(
    counts: dict[Hashable, Sequence[int]], params: AlertParams, start: int, window: int
) -> Opened:
    hours = range(start, len(next(iter(counts.values()))) + 1)

    def fires(key: Hashable, end: int) -> bool:
        series = counts[key]
        recent = sum(series[end - window : end])
        first = max(0, end - window - params.baseline_hours)
        blocks = [
            sum(series[b : b + window]) for b in range(first, end - window - window + 1, window)
        ]
        mean, sd = statistics.fmean(blocks), statistics.pstdev(blocks)
        return recent >= params.min_count and recent > mean + 3 * sd

    return _edges(counts, hours, fires)


# --- scoring -------------------------------------------------------------------------------


@dataclass
class Score:
    """Alerts against known changes, summed over series."""

    alerts: int = 0
    true: int = 0
    changes: int = 0
    delays: list[int] = field(default_factory=list)
    flat_alerts: int = 0
    flat_weeks: float = 0.0
    strata: dict[str, list[float | None]] = field(default_factory=lambda: defaultdict(list))

    def add(self, opened: Opened, series: Series, target: Hashable | None, weeks: float) -> None:
        self.alerts += len(opened)
        change = series.change
        if change is None:
            self.flat_alerts += len(opened)
            self.flat_weeks += weeks
            return
        self.changes += 1
        hits = sorted(h for k, h in opened if k == target and change <= h <= change + HORIZON)
        self.strata[series.stratum].append(hits[0] - change if hits else None)
        if hits:
            self.true += 1
            self.delays.append(hits[0] - change)

    def by_stratum(self) -> dict[str, str]:
        """Recall and median delay per change size: "found/changes, median delay"."""
        out = {}
        for name in sorted(self.strata, key=_stratum_order):
            found = [d for d in self.strata[name] if d is not None]
            delay = f"{statistics.median(found):.0f} h" if found else "–"
            out[name] = f"{len(found)}/{len(self.strata[name])}, {delay}"
        return out

    def row(self) -> dict[str, float | int | None]:
        return {
            "precision": self.true / self.alerts if self.alerts else None,
            "recall": self.true / self.changes if self.changes else None,
            "delay_median_h": statistics.median(self.delays) if self.delays else None,
            "delay_p90_h": _quantile(self.delays, 0.9),
            "alerts": self.alerts,
            "false_per_promise_week_flat": (
                self.flat_alerts / self.flat_weeks if self.flat_weeks else None
            ),
        }


def _stratum_order(name: str) -> tuple[float, int]:
    factor, _, size = name.partition(" from ")
    return float(factor[1:]), (0 if size.startswith("<") else 2 if size.startswith(">") else 1)


def _quantile(values: Sequence[int], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)])


def evaluate(
    params: AlertParams, orgs: int, days: int, seed: int, *, baselines: bool = True
) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """Precision, recall and delay of every detector on the same synthetic series."""
    rng = np.random.default_rng(seed)
    start = params.window + params.min_baseline_hours
    broken_scores: dict[str, Score] = defaultdict(Score)
    volume_scores: dict[str, Score] = defaultdict(Score)
    on_volume: dict[str, int] = defaultdict(int)  # broken alerts where only volume changed
    weeks = days / 7 * len(PROMISES)
    for i in range(orgs):
        series = synthetic(rng, ("broken", "volume", "flat")[i % 3], days=days)
        found = {"klopt": klopt_broken(series, params, start)}
        if baselines:
            found["fixed >10/24h"] = fixed_threshold(series, start)
            found["3-sigma"] = three_sigma(dict(series.broken), params, start, params.window)
        for name, opened in found.items():
            if series.kind == "volume":
                on_volume[name] += len(opened)
            else:
                broken_scores[name].add(opened, series, series.changed, weeks)
        if series.kind == "broken":
            continue
        vstart = params.volume_window + params.min_baseline_hours
        vfound = {"klopt": klopt_volume(series.mentions, params, vstart)}
        if baselines:
            vfound["3-sigma"] = three_sigma(
                {None: series.mentions}, params, vstart, params.volume_window
            )
        for name, opened in vfound.items():
            volume_scores[name].add(opened, series, None, days / 7)
    result: dict[str, dict[str, dict[str, float | int | None]]] = {
        "broken": {name: s.row() for name, s in broken_scores.items()},
        "volume": {name: s.row() for name, s in volume_scores.items()},
        "broken_by_change": {n: s.by_stratum() for n, s in broken_scores.items()},  # type: ignore[dict-item]
        "volume_by_change": {n: s.by_stratum() for n, s in volume_scores.items()},  # type: ignore[dict-item]
    }
    for name, count in on_volume.items():
        result["broken"][name]["alerts_on_volume_only_changes"] = count
    return result


# --- airline replay ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tweet:
    hour: int
    airline: str
    reason: str | None
    retweets: int
    text: str


def read_airline(path: Path) -> tuple[datetime, list[Tweet]]:
    """The tweets (first of each id), with the hour since the first tweet's hour (UTC)."""
    rows: list[tuple[datetime, dict[str, str]]] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["tweet_id"] in seen:
                continue
            seen.add(row["tweet_id"])
            when = datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z")
            rows.append((when.astimezone(UTC), row))
    first = min(when for when, _ in rows).replace(minute=0, second=0, microsecond=0)
    tweets = []
    for when, row in rows:
        reason = row["negativereason"] or None
        negative = row["airline_sentiment"] == "negative"
        tweets.append(
            Tweet(
                int((when - first).total_seconds() // 3600),
                row["airline"],
                reason if negative and reason != "Can't Tell" else None,
                int(row["retweet_count"] or 0),
                row.get("text_fixed") or row["text"],
            )
        )
    return first, tweets


def airline_replay(path: Path, params: AlertParams) -> list[dict[str, object]]:
    """Every alert the detector raises on the airline tweets, per airline, hour by hour."""
    first, tweets = read_airline(path)
    hours = max(t.hour for t in tweets) + 1
    airlines = sorted({t.airline for t in tweets})
    reasons = sorted({t.reason for t in tweets if t.reason})
    found: list[dict[str, object]] = []
    for airline in airlines:
        mine = [t for t in tweets if t.airline == airline]
        mentions = [0] * hours
        broken = {reason: [0] * hours for reason in reasons}
        for t in mine:
            mentions[t.hour] += 1
            if t.reason:
                broken[t.reason][t.hour] += 1
        families: list[tuple[str, dict[Hashable, Callable[[int], Counts]], int]] = [
            (
                "broken",
                {r: _broken_counter(b, mentions, params) for r, b in broken.items()},
                params.window + params.min_baseline_hours,
            ),
            (
                "volume",
                {"(all mentions)": _volume_counter(mentions, params)},
                params.volume_window + params.min_baseline_hours,
            ),
        ]
        for kind, counters, start in families:
            events = replay(counters, range(start, hours + 1), params)
            found += _alerts(events, kind, airline, first, mine, params)
    return found


def _alerts(
    events: list[object],
    kind: str,
    airline: str,
    first: datetime,
    tweets: list[Tweet],
    params: AlertParams,
) -> list[dict[str, object]]:
    """The alerts of one replay, each with when it opened, updates, when it closed."""
    alerts: list[dict[str, object]] = []
    open_: dict[Hashable, dict[str, object]] = {}
    for event in events:
        key, hour, decision = event.key, event.hour, event.decision  # type: ignore[attr-defined]
        when = (first + timedelta(hours=hour)).strftime("%m-%d %H:00")
        if decision.action == "open":
            c = decision.test.counts
            top = _top_tweet(tweets, key if kind == "broken" else None, hour, params, kind)
            alert = {
                "airline": airline,
                "kind": kind,
                "promise": key,
                "opened": when,
                "recent": f"{c.recent}/{c.recent_exposure:.0f}",
                "baseline": f"{c.baseline}/{c.baseline_exposure:.0f}",
                "ratio": round(decision.test.ratio, 2),
                "q": decision.q_value,
                "updates_sent": 0,
                "closed": None,
                "top_evidence": top,
            }
            alerts.append(alert)
            open_[key] = alert
        elif decision.action == "update" and decision.notify:
            open_[key]["updates_sent"] = int(open_[key]["updates_sent"]) + 1  # type: ignore[call-overload]
        elif decision.action == "close":
            open_.pop(key)["closed"] = when
    return alerts


def _top_tweet(
    tweets: list[Tweet], reason: Hashable | None, hour: int, params: AlertParams, kind: str
) -> str:
    window = params.window if kind == "broken" else params.volume_window
    pool = [
        t
        for t in tweets
        if hour - window <= t.hour < hour and (reason is None or t.reason == reason)
    ]
    if not pool:
        return ""
    best = max(pool, key=lambda t: (t.retweets, t.hour))
    text = " ".join(best.text.split())
    return text[:90] + ("…" if len(text) > 90 else "")


# --- output --------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def print_scores(title: str, rows: dict[str, dict[str, float | int | None]]) -> None:
    print(f"\n{title}")
    columns = list(next(iter(rows.values())))
    widths = [max(len(c), 8) + 2 for c in columns]
    print(
        f"  {'detector':<14}" + "".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))
    )
    for name, row in rows.items():
        cells = (f"{_fmt(row.get(c)):>{w}}" for c, w in zip(columns, widths, strict=True))
        print(f"  {name:<14}" + "".join(cells))


def grid(orgs: int, days: int, seed: int) -> None:
    """The tuning grid: the detector alone, over the parameters that matter most."""
    print(
        "window baseline_days alpha min_ratio swing | broken P R delay flat/wk | volume P R delay"
    )
    for window in (6, 12, 24):
        for baseline_days in (3, 7):
            for alpha in (0.01, 0.001):
                for swing in (0.0, 0.14):
                    params = AlertParams(
                        window=window, baseline_days=baseline_days, alpha=alpha, swing=swing
                    )
                    r = evaluate(params, orgs, days, seed, baselines=False)
                    b, v = r["broken"]["klopt"], r["volume"]["klopt"]
                    print(
                        f"{window:>6} {baseline_days:>13} {alpha:>6} {params.min_ratio:>9} "
                        f"{swing:>5} | {_fmt(b['precision'])} {_fmt(b['recall'])} "
                        f"{_fmt(b['delay_median_h'])} {_fmt(b['false_per_promise_week_flat'])} | "
                        f"{_fmt(v['precision'])} {_fmt(v['recall'])} {_fmt(v['delay_median_h'])}",
                        flush=True,
                    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--airline", type=Path, help="tweets.csv of the airline tweets")
    parser.add_argument("--orgs", type=int, default=300, help="synthetic organisations")
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--grid", action="store_true", help="run the tuning grid instead")
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    for name in ("window", "baseline_days", "min_count"):
        parser.add_argument("--" + name.replace("_", "-"), type=int)
    for name in ("alpha", "min_ratio", "swing"):
        parser.add_argument("--" + name.replace("_", "-"), type=float)
    args = parser.parse_args(argv)
    if args.grid:
        grid(args.orgs, args.days, args.seed)
        return 0
    chosen = {
        k: getattr(args, k)
        for k in ("window", "baseline_days", "min_count", "alpha", "min_ratio", "swing")
        if getattr(args, k) is not None
    }
    params = replace(AlertParams(), **chosen)
    print(f"parameters: {asdict(params)}")
    began = time.perf_counter()
    result: dict[str, object] = {"params": asdict(params)}
    synthetic_scores = evaluate(params, args.orgs, args.days, args.seed)
    result["synthetic"] = synthetic_scores
    print(
        f"\nsynthetic: {args.orgs} organisations x {args.days} days x {len(PROMISES)} promises, "
        f"checked hourly (seed {args.seed}, {time.perf_counter() - began:.0f} s)"
    )
    print_scores("broken alerts (step in one promise's broken share)", synthetic_scores["broken"])
    print_scores("volume alerts (step in mentions)", synthetic_scores["volume"])
    for kind in ("broken", "volume"):
        print(
            f"\n{kind}: changes found within {HORIZON} h / changes, median delay, per change size"
        )
        table = synthetic_scores[f"{kind}_by_change"]
        names = list(table)
        for stratum in table[names[0]]:
            cells = "".join(f"{str(table[n].get(stratum, '')):>22}" for n in names)
            print(f"  {stratum:<22}{cells}")
        print(f"  {'':<22}" + "".join(f"{n:>22}" for n in names))
    if args.airline:
        alerts = airline_replay(args.airline, params)
        result["airline"] = alerts
        print(f"\nairline replay ({args.airline.name}): {len(alerts)} alerts")
        for a in alerts:
            print(
                f"  {a['opened']} UTC  {a['airline']:<15} {a['kind']:<7} {str(a['promise']):<28}"
                f" recent {a['recent']:>9}  baseline {a['baseline']:>9}  x{a['ratio']:<5}"
                f" q={a['q']:.1e}  updates {a['updates_sent']}  closed {a['closed'] or 'open'}"
            )
            if a["top_evidence"]:
                print(f"      «{a['top_evidence']}»")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
