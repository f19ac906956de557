"""Metric functions for the benchmarks: pure, typed, numpy only.

Promise linking is scored over (case, promise) pairs. A case's gold set is the promises in its
``labels`` (empty = about no promise); a prediction is a set of promise ids per case.

* micro P/R/F1: true/false positives and false negatives summed over all pairs.
* macro P/R/F1: per-promise precision, recall and F1, each averaged over the promises that
  occur in the gold labels or in the predictions of the evaluated file (a promise that is
  predicted but never gold scores 0; a promise that is neither is left out). Macro-F1 is the
  mean of per-promise F1, not the F1 of macro P and macro R.
* 0/0 counts as 0.

Classification (stance given the gold promise, sentiment) reports accuracy and macro-F1 over
the classes given (default: the classes present in gold or predictions).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

BoolMatrix = npt.NDArray[np.bool_]


def _div(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def f1(precision: float, recall: float) -> float:
    return _div(2.0 * precision * recall, precision + recall)


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    support: int  # gold positives


@dataclass(frozen=True)
class LinkingScores:
    micro: PRF
    macro: PRF  # macro.f1 = mean per-promise F1; support = all gold pairs
    per_promise: dict[str, PRF] = field(default_factory=dict)
    cases: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ClassScores:
    accuracy: float
    macro_f1: float
    macro_precision: float
    macro_recall: float
    per_class: dict[str, PRF] = field(default_factory=dict)
    n: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def linking_scores_matrix(
    gold: BoolMatrix, pred: BoolMatrix, promise_ids: Sequence[str]
) -> LinkingScores:
    """Linking scores from (cases x promises) boolean matrices, columns in promise_ids order."""
    if gold.shape != pred.shape or gold.shape[1] != len(promise_ids):
        raise ValueError(f"shape mismatch: gold {gold.shape}, pred {pred.shape}")
    tp = np.logical_and(gold, pred).sum(axis=0)
    n_pred = pred.sum(axis=0)
    n_gold = gold.sum(axis=0)
    micro_p = _div(tp.sum(), n_pred.sum())
    micro_r = _div(tp.sum(), n_gold.sum())
    micro = PRF(micro_p, micro_r, f1(micro_p, micro_r), int(n_gold.sum()))
    per: dict[str, PRF] = {}
    for j, pid in enumerate(promise_ids):
        if n_gold[j] == 0 and n_pred[j] == 0:
            continue
        p = _div(tp[j], n_pred[j])
        r = _div(tp[j], n_gold[j])
        per[pid] = PRF(p, r, f1(p, r), int(n_gold[j]))
    if per:
        macro = PRF(
            float(np.mean([s.precision for s in per.values()])),
            float(np.mean([s.recall for s in per.values()])),
            float(np.mean([s.f1 for s in per.values()])),
            int(n_gold.sum()),
        )
    else:
        macro = PRF(0.0, 0.0, 0.0, 0)
    return LinkingScores(micro, macro, per, int(gold.shape[0]))


def to_matrix(sets: Sequence[Collection[str]], promise_ids: Sequence[str]) -> BoolMatrix:
    index = {pid: j for j, pid in enumerate(promise_ids)}
    matrix = np.zeros((len(sets), len(promise_ids)), dtype=np.bool_)
    for i, ids in enumerate(sets):
        for pid in ids:
            if pid not in index:
                raise KeyError(f"unknown promise id {pid!r}")
            matrix[i, index[pid]] = True
    return matrix


def linking_scores(
    gold: Sequence[Collection[str]],
    pred: Sequence[Collection[str]],
    promise_ids: Sequence[str],
) -> LinkingScores:
    """Linking scores from per-case sets of promise ids."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold cases but {len(pred)} predictions")
    return linking_scores_matrix(
        to_matrix(gold, promise_ids), to_matrix(pred, promise_ids), promise_ids
    )


def classification_scores(
    gold: Sequence[str], pred: Sequence[str], classes: Sequence[str] | None = None
) -> ClassScores:
    """Accuracy and macro P/R/F1 (mean of per-class values) for single-label predictions."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    labels = list(classes) if classes is not None else sorted(set(gold) | set(pred))
    g = np.asarray(gold, dtype=object)
    p = np.asarray(pred, dtype=object)
    per: dict[str, PRF] = {}
    for label in labels:
        tp = int(np.sum((g == label) & (p == label)))
        prec = _div(tp, int(np.sum(p == label)))
        rec = _div(tp, int(np.sum(g == label)))
        per[label] = PRF(prec, rec, f1(prec, rec), int(np.sum(g == label)))
    n = len(gold)
    return ClassScores(
        accuracy=_div(int(np.sum(g == p)), n),
        macro_f1=float(np.mean([s.f1 for s in per.values()])) if per else 0.0,
        macro_precision=float(np.mean([s.precision for s in per.values()])) if per else 0.0,
        macro_recall=float(np.mean([s.recall for s in per.values()])) if per else 0.0,
        per_class=per,
        n=n,
    )
