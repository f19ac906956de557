"""Promise checks on the labelled drafts: precision and recall per finding type, latency.

    .venv/bin/python benchmarks/claims.py                # dev and test, with the baseline
    .venv/bin/python benchmarks/claims.py --errors dev   # also list the dev mistakes

The drafts (``benchmarks/drafts/drafts.csv``, see its README) are checked against the
demo register ``examples/voorbeeld-bv/promises.yaml``. A finding counts as the pair
(rule, promise); new claims and off-message findings count once per draft. The
baseline links by shared words, calls any differing number an excess and any negation
a contradiction.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from klopt.checking.claims import check_promises, parse_quantities, split_draft
from klopt.checking.findings import Draft
from klopt.judging.judge import PromiseSpec

ROOT = Path(__file__).resolve().parents[1]
DRAFTS = ROOT / "benchmarks" / "drafts" / "drafts.csv"
REGISTER = ROOT / "examples" / "voorbeeld-bv" / "promises.yaml"
TYPES = ("contradicts", "exceeds", "new_claim", "supports", "off_message")
PROMISE_TYPES = ("contradicts", "exceeds", "supports")

Label = tuple[str, str]  # (type, promise or "")


def load_register(path: Path = REGISTER) -> list[PromiseSpec]:
    data = yaml.safe_load(path.read_text("utf-8"))
    return [
        PromiseSpec(p["id"], p["text"], tuple(p.get("paraphrases", ())), p.get("theme"))
        for p in data["promises"]
    ]


def load_drafts(path: Path = DRAFTS) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def parse_expected(value: str) -> set[Label]:
    """``supports:P1;exceeds:P2`` -> labels.

    Off-message is implied by no promise label and no new claim: the two never go
    together (issue 15; the set's README says off-message for new-claim-only drafts).
    """
    labels: set[Label] = set()
    for item in filter(None, (v.strip() for v in value.split(";"))):
        kind, _, promise = item.partition(":")
        if kind != "off_message":
            labels.add((kind, promise if kind in PROMISE_TYPES else ""))
    if not any(kind in (*PROMISE_TYPES, "new_claim") for kind, _ in labels):
        labels.add(("off_message", ""))
    return labels


def predicted(draft: str, promises: list[PromiseSpec]) -> set[Label]:
    found = check_promises(Draft(draft), promises)
    return {
        (
            f.rule.removeprefix("promise."),
            (f.promise or "") if f.rule != "promise.new_claim" else "",
        )
        for f in found
    }


# ----- baseline -----------------------------------------------------------------------
_WORD = re.compile(r"[^\W\d_]{4,}")
_STOP = {"binnen", "within", "your", "jouw", "onze", "with", "voor", "elke", "every", "from"}
_NEGATION = re.compile(r"\b(niet|geen|nooit|no|not|never|longer|meer)\b", re.IGNORECASE)
_CUE = re.compile(r"\b(gratis|free|altijd|always|beloven|promise|garantie|guarantee)\b", re.I)


def _stems(text: str) -> set[str]:
    return {w.lower()[:5] for w in _WORD.findall(text) if w.lower() not in _STOP}


def baseline(draft: str, promises: list[PromiseSpec]) -> set[Label]:
    """Keyword overlap linking, "any number differs" excess, "any negation" contradiction."""
    lexicon = {p.id: _stems(" ".join([p.text, *p.paraphrases])) for p in promises}
    numbers = {
        p.id: {q.value for t in [p.text, *p.paraphrases] for q in parse_quantities(t)}
        for p in promises
    }
    out: set[Label] = set()
    for sentence in split_draft(draft):
        stems = _stems(sentence.text)
        linked = [pid for pid, words in lexicon.items() if len(stems & words) >= 1]
        values = {q.value for q in parse_quantities(sentence.text)}
        for pid in linked:
            if _NEGATION.search(sentence.text):
                out.add(("contradicts", pid))
            elif values and numbers[pid] and not values & numbers[pid]:
                out.add(("exceeds", pid))
            else:
                out.add(("supports", pid))
        if not linked and (values or _CUE.search(sentence.text)):
            out.add(("new_claim", ""))
    if not any(kind in PROMISE_TYPES for kind, _ in out):
        out.add(("off_message", ""))
    return out


# ----- scoring ------------------------------------------------------------------------
def score(
    rows: list[dict[str, str]], predict: Callable[[str], set[Label]]
) -> tuple[dict[str, tuple[int, int, int]], list[tuple[str, set[Label], set[Label]]]]:
    counts = {kind: [0, 0, 0] for kind in TYPES}  # tp, fp, fn
    mistakes = []
    for row in rows:
        gold = parse_expected(row["expected"])
        guess = predict(row["text"])
        for kind in TYPES:
            g = {x for x in gold if x[0] == kind}
            p = {x for x in guess if x[0] == kind}
            counts[kind][0] += len(g & p)
            counts[kind][1] += len(p - g)
            counts[kind][2] += len(g - p)
        if gold != guess:
            mistakes.append((row["id"], gold, guess))
    return {k: (v[0], v[1], v[2]) for k, v in counts.items()}, mistakes


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def report(name: str, counts: dict[str, tuple[int, int, int]], n: int) -> None:
    print(f"\n{name} ({n} drafts)")
    print(f"  {'type':<12} {'P':>5} {'R':>5} {'F1':>5}   tp  fp  fn")
    for kind in TYPES:
        tp, fp, fn = counts[kind]
        p, r = _pr(tp, fp, fn)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"  {kind:<12} {p:5.2f} {r:5.2f} {f1:5.2f}  {tp:3d} {fp:3d} {fn:3d}")


def _fmt(labels: Iterable[Label]) -> str:
    return ";".join(sorted(f"{k}:{p}" if p else k for k, p in labels))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=("dev", "test"), help="list that split's mistakes")
    parser.add_argument("--splits", default="dev,test", help="which splits to report")
    args = parser.parse_args(argv)
    promises = load_register()
    rows = load_drafts()
    texts = {r["id"]: r["text"] for r in rows}
    check_promises(Draft("warm-up: we deliver within 24 hours"), promises)  # load the model
    timings: list[float] = []

    def timed(text: str) -> set[Label]:
        start = time.perf_counter()
        out = predicted(text, promises)
        timings.append(time.perf_counter() - start)
        return out

    for split in args.splits.split(","):
        subset = [r for r in rows if r["split"] == split]
        counts, mistakes = score(subset, timed)
        report(f"klopt  {split}", counts, len(subset))
        base, _ = score(subset, lambda text: baseline(text, promises))
        report(f"baseline  {split}", base, len(subset))
        if args.errors == split:
            for draft_id, gold, guess in mistakes:
                print(f"  {draft_id}: expected {_fmt(gold)} | got {_fmt(guess)}")
                print(f"      {texts[draft_id]}")
    ms = sorted(t * 1000 for t in timings)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    print(
        f"\nlatency per draft after warm-up: p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
