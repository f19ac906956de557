"""Draft checks on drafts written by others: P/R per finding, micro-F1, latency (issue 15).

    .venv/bin/python benchmarks/checkset.py                  # dev and test splits
    .venv/bin/python benchmarks/checkset.py --splits dev --errors dev
    .venv/bin/python benchmarks/checkset.py --data OTHER_DIR  # another set, same layout

The set (``benchmarks/checkset``, see its README) holds registers of other sectors and
labelled drafts against them, split by register: the test registers' drafts were written
by someone who never saw the checker's code or the dev drafts, and are never tuned on.
Each draft goes through :func:`klopt.checking.check.check_draft` as ``klopt check`` runs
it: the shipped house style (for ``superlative``) and the promise checks against the
draft's register, the draft's language detected. A finding counts as the pair (kind,
promise); new claims, off-message and superlatives count once per draft.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import yaml

from klopt.checking.check import check_draft
from klopt.checking.claims import check_promises
from klopt.checking.findings import Draft, Finding
from klopt.checking.rules import load_packs
from klopt.judging.judge import PromiseSpec

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "checkset"
KINDS = ("contradicts", "exceeds", "new_claim", "off_message", "supports", "superlative")
PROMISE_KINDS = ("contradicts", "exceeds", "supports")

Label = tuple[str, str]  # (kind, promise or "")


def load_register(path: Path) -> list[PromiseSpec]:
    data = yaml.safe_load(path.read_text("utf-8"))
    return [
        PromiseSpec(p["id"], p["text"], tuple(p.get("paraphrases") or ()), p.get("theme"))
        for p in data["promises"]
    ]


def load_set(
    data: Path,
) -> tuple[dict[str, list[PromiseSpec]], list[dict[str, str]], dict[str, list[str]]]:
    splits = yaml.safe_load((data / "splits.yaml").read_text("utf-8"))
    registers = {p.stem: load_register(p) for p in sorted((data / "registers").glob("*.yaml"))}
    rows: list[dict[str, str]] = []
    for path in sorted((data / "drafts").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    return registers, rows, splits


def parse_expected(value: str) -> set[Label]:
    labels: set[Label] = set()
    for item in filter(None, (v.strip() for v in value.split(";"))):
        kind, _, promise = item.partition(":")
        labels.add((kind, promise if kind in PROMISE_KINDS else ""))
    return labels


def finding_labels(findings: Iterable[Finding]) -> set[Label]:
    out: set[Label] = set()
    for f in findings:
        if f.rule.startswith("basis.superlative"):
            out.add(("superlative", ""))
        elif f.rule in ("promise.new_claim", "promise.off_message"):
            out.add((f.rule.removeprefix("promise."), ""))
        elif f.rule.startswith("promise."):
            out.add((f.rule.removeprefix("promise."), f.promise or ""))
    return out


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def report(name: str, counts: dict[str, list[int]], n: int) -> None:
    print(f"\n{name} ({n} drafts)")
    print(f"  {'kind':<12} {'P':>5} {'R':>5} {'F1':>5}   tp  fp  fn")
    for kind in KINDS:
        tp, fp, fn = counts[kind]
        p, r, f1 = _pr(tp, fp, fn)
        print(f"  {kind:<12} {p:5.2f} {r:5.2f} {f1:5.2f}  {tp:3d} {fp:3d} {fn:3d}")
    tp, fp, fn = (sum(counts[k][i] for k in KINDS) for i in range(3))
    print(
        f"  {'micro':<12} {_pr(tp, fp, fn)[0]:5.2f} {_pr(tp, fp, fn)[1]:5.2f} "
        f"{_pr(tp, fp, fn)[2]:5.2f}  {tp:3d} {fp:3d} {fn:3d}"
    )


def _fmt(labels: set[Label]) -> str:
    return ";".join(sorted(f"{k}:{p}" if p else k for k, p in labels))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder with the set")
    parser.add_argument("--splits", default="dev,test", help="which splits to report")
    parser.add_argument("--errors", help="list this split's mistakes")
    parser.add_argument("--register", help="only this register")
    args = parser.parse_args(argv)
    registers, rows, splits = load_set(args.data)
    rules = load_packs()
    check_promises(Draft("warm-up: we deliver within 24 hours"), next(iter(registers.values())))
    timings: list[float] = []
    promise_timings: list[float] = []
    for split in args.splits.split(","):
        names = set(splits[split]) & set(registers)
        if args.register:
            names &= {args.register}
        subset = [r for r in rows if r["register"] in names]
        for name in names:  # embed each register's promises before timing
            check_promises(Draft("warm-up"), registers[name])
        counts = {k: [0, 0, 0] for k in KINDS}
        by_lang = {lang: {k: [0, 0, 0] for k in KINDS} for lang in ("nl", "en")}
        mistakes = []
        for row in subset:
            promises = registers[row["register"]]
            start = time.perf_counter()
            report_ = check_draft(Draft(row["text"]), rules=rules, promises=promises)
            timings.append(time.perf_counter() - start)
            start = time.perf_counter()
            check_promises(Draft(row["text"]), promises)
            promise_timings.append(time.perf_counter() - start)
            gold, guess = parse_expected(row["expected"]), finding_labels(report_.findings)
            for kind in KINDS:
                g = {x for x in gold if x[0] == kind}
                p = {x for x in guess if x[0] == kind}
                for table in (counts, by_lang[row["lang"]]):
                    table[kind][0] += len(g & p)
                    table[kind][1] += len(p - g)
                    table[kind][2] += len(g - p)
            if gold != guess:
                mistakes.append((row, gold, guess))
        report(f"klopt  {split}", counts, len(subset))
        for lang, table in by_lang.items():
            tp, fp, fn = (sum(table[k][i] for k in KINDS) for i in range(3))
            ce = [table[k] for k in ("contradicts", "exceeds")]
            print(
                f"  {lang}: micro-F1 {_pr(tp, fp, fn)[2]:.2f}; "
                + ", ".join(
                    f"{k} P/R {_pr(*c)[0]:.2f}/{_pr(*c)[1]:.2f}"
                    for k, c in zip(("contradicts", "exceeds"), ce, strict=True)
                )
            )
        if args.errors == split:
            kinds: Counter[str] = Counter()
            for row, gold, guess in mistakes:
                print(f"  {row['id']} [{row['lang']}]: expected {_fmt(gold)} | got {_fmt(guess)}")
                print(f"      {row['text'][:400]!r}")
                kinds.update(k for k, _ in gold ^ guess)
            print(f"  mistakes by kind: {dict(kinds)}")
    for name, values in (("whole check", timings), ("promise checks", promise_timings)):
        ms = sorted(t * 1000 for t in values)
        if ms:
            p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
            print(
                f"latency per draft, {name}, warm: p50 {statistics.median(ms):.1f} ms, "
                f"p95 {p95:.1f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
