"""Speed: `klopt report` over a year of 1,000,000 mentions, HTML and PDF, with peak memory.

Writes a SQLite store straight from SQL (bulk inserts of posts, judgements, verdicts and
a few corrections; no engine run): 12 approved promises, N mentions spread over 2026
with stances that drift per promise through the year, a few thousand own posts. Then it
times `klopt report` in a fresh process for a quarter and for the whole year, as HTML and
as PDF, and prints wall time and peak memory next to a baseline measured in the same run
(one plain SQL GROUP BY of promise x stance over the same period), so the ratio survives
a noisy, shared machine. It also times the scorecard alone (`build_scorecard`, called
as the report calls it), the part of the report's figures that comes from there.

    python benchmarks/report.py [--mentions 1000000] [--db PATH] [--keep] [--json out.json]

``--keep`` reuses a store at ``--db`` that holds the same number of mentions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

YEAR = 2026
PROMISES = [
    ("P1", "Wij leveren binnen 24 uur.", "delivery"),
    ("P2", "U retourneert gratis binnen 30 dagen.", "returns"),
    ("P3", "Onze klantenservice reageert binnen 2 uur.", "service"),
    ("P4", "Op elk onderdeel krijgt u 2 jaar garantie.", "warranty"),
    ("P5", "Uw reparatie is binnen 3 werkdagen klaar.", "repair"),
    ("P6", "Vindt u het elders goedkoper, dan betalen wij het verschil terug.", "price"),
    ("P7", "Wij verkopen uw gegevens nooit.", "privacy"),
    ("P8", "Bij ons helpen vriendelijke vakmensen u.", "staff"),
    ("P9", "Met onze app bestelt en volgt u alles.", "app"),
    ("P10", "Wij bezorgen uitstootvrij.", "sustainability"),
    ("P11", "Onze pechhulp is binnen 60 minuten bij u.", "roadside"),
    ("P12", "Geen verborgen kosten.", "price"),
]
PLATFORMS = ["x", "mastodon", "bluesky", "reddit", "facebook", "trustpilot"]
MODEL = "klopt-judge/1 bench register:0000000000 corrections:0"
TEXTS = [
    "Besteld op maandag, nog steeds niets binnen. Waar blijft mijn pakket?",
    "Netjes binnen een dag geleverd, top service!",
    "Retour was gratis en snel geregeld, dank jullie.",
    "Klantenservice reageert al drie dagen niet op mijn mail.",
    "Monteur was vriendelijk en wist precies wat er mis was.",
    "App crasht bij het afrekenen, al de hele week.",
]


def _epoch(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _stance(rng: random.Random, promise: int, day: int) -> str:
    """Stances that drift: some promises get worse through the year, some better."""
    drift = (day / 365) * (0.3 if promise % 3 == 0 else -0.2 if promise % 3 == 1 else 0.0)
    broken = min(0.9, max(0.05, 0.25 + 0.04 * promise + drift))
    roll = rng.random()
    return (
        "broken" if roll < broken else "kept" if roll < broken + 0.55 * (1 - broken) else "neutral"
    )


def generate(path: Path, mentions: int) -> None:
    """A migrated store at ``path`` with ``mentions`` judged mentions over the year."""
    from klopt.accounts.organizations import create_organization
    from klopt.store import open_store
    from klopt.store.models import Promise

    store = open_store(f"sqlite:///{path}")
    create_organization(store, "Benchmark BV", language="nl", actor="bench")
    with store.session() as session:
        for key, statement, theme in PROMISES:
            session.add(
                Promise(
                    organization_id=1, key=key, statement=statement, theme=theme, status="approved"
                )
            )
    store.close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    seconds = 365 * 86400
    own = max(12, mentions // 400)
    total = mentions + own
    rng = random.Random(20261)
    times = sorted(rng.randrange(seconds) for _ in range(total))
    own_at = set(rng.sample(range(total), own))
    now = _epoch(start + timedelta(days=400))

    def posts() -> Iterator[tuple[object, ...]]:
        for i, offset in enumerate(times, start=1):
            kind = "own" if i - 1 in own_at else "mention"
            platform_ = PLATFORMS[i % len(PLATFORMS)]
            yield (
                i,
                1,
                kind,
                platform_,
                f"b{i}",
                f"h{i}",
                f"user{i % 5000}",
                _epoch(start + timedelta(seconds=offset)),
                f"https://social.example/{platform_}/{i}",
                (i * 7919) % 5000,
                "nl",
                f"{TEXTS[i % len(TEXTS)]} #{i}",
                "{}",
                None,
                now,
            )

    db.executemany(
        "INSERT INTO post (id, organization_id, kind, platform, external_id, content_hash, author,"
        " posted_at, url, reach, language, text, raw, import_batch_id, created_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        posts(),
    )
    db.executemany(
        "INSERT INTO judgement (id, post_id, model_version, language, sentiment,"
        " sentiment_confidence, judged_at) VALUES (?,?,?,?,?,?,?)",
        ((i, i, MODEL, "nl", "neutral", 0.5, now) for i in range(1, total + 1)),
    )

    def verdicts() -> Iterator[tuple[object, ...]]:
        vid = 0
        for i, offset in enumerate(times, start=1):
            links = 0 if rng.random() < 0.05 else 2 if rng.random() < 0.1 else 1
            first = rng.randrange(len(PROMISES))
            for n in range(links):
                promise = (first + 5 * n) % len(PROMISES)
                vid += 1
                confidence = round(0.5 + rng.random() / 2, 3)
                stance = "kept" if i - 1 in own_at else _stance(rng, promise, offset // 86400)
                yield (vid, i, i, promise + 1, stance, confidence, confidence, "{}")

    db.executemany(
        "INSERT INTO verdict (id, judgement_id, post_id, promise_id, stance, confidence, score,"
        " evidence) VALUES (?,?,?,?,?,?,?,?)",
        verdicts(),
    )
    corrections = (
        (
            n,
            rng.randrange(1, total + 1),
            rng.randrange(1, 13),
            rng.choice(["kept", "broken", "none"]),
            "bench",
            "",
            now,
        )
        for n in range(1, mentions // 1000 + 1)
    )
    db.executemany(
        "INSERT INTO correction (id, post_id, promise_id, stance, author, note, created_at)"
        " VALUES (?,?,?,?,?,?,?)",
        corrections,
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def count_mentions(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM post WHERE kind = 'mention'").fetchone()[0])


def baseline(path: Path, since: datetime, until: datetime) -> float:
    """A plain GROUP BY of promise x stance over the verdicts of the period's mentions."""
    db = sqlite3.connect(path)
    started = time.perf_counter()
    db.execute(
        "SELECT v.promise_id, v.stance, count(*) FROM verdict v JOIN post p ON p.id = v.post_id"
        " WHERE p.organization_id = 1 AND p.kind = 'mention' AND p.posted_at >= ?"
        " AND p.posted_at < ? GROUP BY v.promise_id, v.stance",
        (_epoch(since), _epoch(until)),
    ).fetchall()
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def run_report(path: Path, period: str, format_: str, out: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB) of `klopt report` in a fresh process."""
    command = [
        sys.executable,
        "-m",
        "klopt",
        "--db",
        f"sqlite:///{path}",
        "report",
        "--period",
        period,
        "--format",
        format_,
        "--output",
        str(out),
        "--lang",
        "nl",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(
            f"klopt report failed: {process.stderr.read().decode() if process.stderr else ''}"
        )
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    return seconds, peak


def scorecard_seconds(path: Path, period: str) -> float:
    """The part of the report that comes from the scorecard, called as the report calls it."""
    from klopt.insight.reporting import parse_period
    from klopt.insight.reporting.build import scorecard_figures
    from klopt.store import open_store

    store = open_store(f"sqlite:///{path}")
    started = time.perf_counter()
    scorecard_figures(store, None, parse_period(period))
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="klopt-report-bench-"))
    path = args.db or folder / "bench.db"
    if not (args.keep and path.exists() and count_mentions(path) == args.mentions):
        path.unlink(missing_ok=True)
        started = time.perf_counter()
        generate(path, args.mentions)
        print(
            f"generated {args.mentions:,} mentions in {time.perf_counter() - started:.1f} s "
            f"({path.stat().st_size / 2**20:.0f} MiB store)"
        )
    periods = {
        f"{YEAR}-Q3": (datetime(YEAR, 7, 1, tzinfo=UTC), datetime(YEAR, 10, 1, tzinfo=UTC)),
        f"{YEAR}": (datetime(YEAR, 1, 1, tzinfo=UTC), datetime(YEAR + 1, 1, 1, tzinfo=UTC)),
    }
    results = []
    print(
        f"{'period':<8} {'format':<6} {'mentions':>10} {'report s':>9} {'peak MiB':>9} "
        f"{'baseline s':>11} {'ratio':>7} {'scorecard s':>12}"
    )
    for label, (since, until) in periods.items():
        base = min(baseline(path, since, until) for _ in range(3))
        card = scorecard_seconds(path, label)
        with sqlite3.connect(path) as db:
            n = db.execute(
                "SELECT count(*) FROM post WHERE kind = 'mention'"
                " AND posted_at >= ? AND posted_at < ?",
                (_epoch(since), _epoch(until)),
            ).fetchone()[0]
        for format_ in ("html", "pdf"):
            seconds, peak = run_report(path, label, format_, folder / f"report-{label}.{format_}")
            results.append(
                {
                    "period": label,
                    "format": format_,
                    "mentions": n,
                    "seconds": round(seconds, 2),
                    "peak_mib": round(peak),
                    "baseline_seconds": round(base, 3),
                    "ratio": round(seconds / base, 1),
                    "scorecard_seconds": round(card, 2),
                }
            )
            print(
                f"{label:<8} {format_:<6} {n:>10,} {seconds:>9.2f} {peak:>9.0f} {base:>11.3f} "
                f"{seconds / base:>7.1f} {card:>12.2f}"
            )
    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cores; store {path}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
