"""Small supervised building blocks: weighted training sets and classifiers.

Everything here works on embedding matrices; nothing loads a model.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["TrainingSet", "Classifier", "fit_classifier", "load_seed"]


@dataclass
class TrainingSet:
    """Rows of features with a label and a weight each, gathered from many sources."""

    dim: int
    parts: list[np.ndarray] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def add(self, features: np.ndarray, labels: Sequence[str], weight: float = 1.0) -> None:
        """Append ``features`` (one row per label) with the same ``weight`` each."""
        if len(labels) == 0:
            return
        self.parts.append(np.asarray(features, dtype=np.float32).reshape(len(labels), -1))
        self.labels.extend(labels)
        self.weights.extend([weight] * len(labels))

    def matrix(self) -> np.ndarray:
        """All rows stacked."""
        if not self.parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(self.parts)

    def copy(self) -> TrainingSet:
        """A shallow copy that can be extended without touching this one."""
        return TrainingSet(self.dim, list(self.parts), list(self.labels), list(self.weights))


class Classifier:
    """A multinomial logistic regression over string labels (or a constant answer)."""

    def __init__(self, classes: Sequence[str], model: object | None, priors: np.ndarray) -> None:
        self.classes = tuple(classes)
        self._model = model
        self.priors = priors

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, columns in the order of :attr:`classes`."""
        if self._model is None:
            return np.tile(self.priors, (len(features), 1))
        proba: np.ndarray = self._model.predict_proba(features)  # type: ignore[attr-defined]
        return proba.astype(np.float32)

    def index(self, label: str) -> int:
        """Column of ``label``."""
        return self.classes.index(label)


def fit_classifier(
    data: TrainingSet, *, c: float = 4.0, balance: bool = True, classes: Sequence[str] = ()
) -> Classifier:
    """Fit a weighted logistic regression on ``data``.

    Args:
        data: the training rows.
        c: inverse regularisation strength.
        balance: give every class the same total weight, so that a class with many
            rows does not swallow the rare ones.
        classes: labels that must appear as columns even without rows (probability 0).
    """
    labels = np.array(data.labels)
    present = sorted(set(data.labels))
    order = list(dict.fromkeys([*classes, *present]))
    weights = np.array(data.weights, dtype=np.float64)
    if balance and present:
        for label in present:
            mask = labels == label
            weights[mask] *= len(labels) / (len(present) * weights[mask].sum())
    priors = np.array([float(weights[labels == k].sum()) for k in order]) + 1e-9
    priors = (priors / priors.sum()).astype(np.float32)
    if len(present) < 2:
        return Classifier(order, None, priors)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=200, tol=1e-3)
    model.fit(data.matrix(), labels, sample_weight=weights)
    return _Reordered(order, model, priors)


class _Reordered(Classifier):
    """Maps sklearn's sorted class columns onto a chosen order (absent classes get 0)."""

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        model: Any = self._model
        raw: np.ndarray = model.predict_proba(features)
        out = np.zeros((len(features), len(self.classes)), dtype=np.float32)
        known = list(model.classes_)
        for column, label in enumerate(known):
            out[:, self.classes.index(str(label))] = raw[:, column]
        return out


def load_seed() -> list[tuple[str, str, str]]:
    """The shipped sentiment seed set as ``(text, sentiment, lang)`` rows (may be empty)."""
    entry = resources.files("klopt") / "data" / "sentiment_seed.csv"
    if not entry.is_file():
        return []
    rows = csv.DictReader(io.StringIO(entry.read_text(encoding="utf-8")))
    out = []
    for row in rows:
        text, sentiment = (row.get("text") or "").strip(), (row.get("sentiment") or "").strip()
        if text and sentiment in ("positive", "negative", "neutral"):
            out.append((text, sentiment, (row.get("lang") or "").strip()))
    return out
