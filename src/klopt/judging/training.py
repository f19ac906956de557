"""Small supervised building blocks: weighted training sets and classifiers.

Everything here works on embedding matrices; nothing loads a model.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
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
    matrix = data.matrix()
    key = _fit_key(matrix, labels, weights, c)
    model = _load_fitted(key)
    if model is None:
        from sklearn.linear_model import LogisticRegression

        fitted = LogisticRegression(C=c, max_iter=200, tol=1e-3)
        fitted.fit(matrix, labels, sample_weight=weights)
        model = LinearModel(fitted.coef_, fitted.intercept_, [str(k) for k in fitted.classes_])
        _save_fitted(key, model)
    return _Reordered(order, model, priors)


class LinearModel:
    """A fitted logistic regression's coefficients, predicting with numpy alone.

    The same code answers whether the fit is fresh or comes from the cache, and judging
    does not need to import scikit-learn once the fits are cached.
    """

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: Sequence[str]) -> None:
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.classes_ = list(classes)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        scores = np.asarray(features, dtype=np.float64) @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:  # two classes: one logistic
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            proba: np.ndarray = np.column_stack([1.0 - positive, positive])
            return proba
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        out: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return out


def _fit_key(matrix: np.ndarray, labels: np.ndarray, weights: np.ndarray, c: float) -> str:
    """A digest of everything a fit depends on, scikit-learn's version included."""
    from importlib.metadata import version

    sklearn_version = version("scikit-learn")  # without importing it (two seconds)
    digest = hashlib.sha1(f"{sklearn_version}|{c}|{matrix.shape}".encode())
    digest.update(np.ascontiguousarray(matrix, dtype=np.float32).tobytes())
    digest.update("\x1f".join(labels.tolist()).encode())
    digest.update(np.ascontiguousarray(weights, dtype=np.float64).tobytes())
    return digest.hexdigest()[:24]


def _fitted_path(key: str) -> Path:
    from klopt.models.embeddings import vector_cache_dir

    return vector_cache_dir().parent / "classifiers" / f"{key}.npz"


def _load_fitted(key: str) -> LinearModel | None:
    """A logistic regression fitted earlier on the same rows (its coefficients, no pickle).

    Every ``klopt judge`` builds its classifiers again; most of them are fitted on the same
    shipped rows every time. Cache trouble only costs the fit.
    """
    try:
        with np.load(_fitted_path(key), allow_pickle=False) as saved:
            return LinearModel(saved["coef"], saved["intercept"], saved["classes"].tolist())
    except (OSError, ValueError, KeyError):
        return None


def _save_fitted(key: str, model: LinearModel) -> None:
    path = _fitted_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        classes = np.array(model.classes_, dtype=str)
        np.savez(tmp, coef=model.coef, intercept=model.intercept, classes=classes)
        tmp.replace(path)
    except OSError:
        pass


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
