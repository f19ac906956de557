"""Promise linking: themes, prototypes and a self-trained classifier.

A promise is known to the engine through three kinds of text: its own statement and
paraphrases, the customer phrasings of the theme it belongs to (from the aspect
library), and -- after :meth:`klopt.judge.Judge.learn` -- labelled mentions. All three
become rows of one weighted training set for a multinomial classifier over the
promises plus a ``none`` class. On a batch of mentions the classifier then teaches
itself: the most confident mentions per promise join the training set, twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from klopt.aspects import AspectLibrary, Theme
from klopt.judging.training import Classifier, TrainingSet, fit_classifier

__all__ = ["NONE", "LinkerConfig", "assign_themes", "Linker"]

NONE = "__none__"

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class LinkerConfig:
    """Knobs of the linker, tuned on training splits only."""

    promise_weight: float = 4.0
    phrasing_weight: float = 1.0
    label_weight: float = 3.0
    none_weight: float = 1.0
    rounds: int = 2
    pseudo_share: float = 0.5
    pseudo_weight: float = 0.5
    min_batch: int = 40
    threshold: float = 0.35
    relative: float = 0.6
    c: float = 4.0
    theme_margin: float = 0.04


def _centroid(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else mean


def theme_vectors(library: AspectLibrary, embed: Embed) -> dict[str, np.ndarray]:
    """One vector per theme: the mean of its profile and its phrasings' centroid."""
    out: dict[str, np.ndarray] = {}
    for theme in library:
        profile = _centroid(embed(theme.profile_texts()))
        phrasings = [text for _, _, text in theme.all_phrasings()]
        vector = profile if not phrasings else profile + _centroid(embed(phrasings))
        out[theme.id] = _centroid(vector[None, :])
    return out


def assign_themes(
    promise_vectors: Mapping[str, np.ndarray],
    theme_vecs: Mapping[str, np.ndarray],
    margin: float,
) -> dict[str, tuple[str, ...]]:
    """Each promise's themes, best first: the best one and any within ``margin`` of it."""
    if not theme_vecs:
        return {pid: () for pid in promise_vectors}
    ids = list(theme_vecs)
    matrix = np.vstack([theme_vecs[t] for t in ids])
    out: dict[str, tuple[str, ...]] = {}
    for pid, vector in promise_vectors.items():
        sims = matrix @ vector
        order = np.argsort(-sims)
        best = float(sims[order[0]])
        out[pid] = tuple(ids[i] for i in order[:3] if float(sims[i]) >= best - margin)
    return out


class Linker:
    """Scores how much each text is about each promise."""

    def __init__(
        self,
        promise_ids: Sequence[str],
        promise_texts: Mapping[str, Sequence[str]],
        themes: Mapping[str, tuple[str, ...]],
        library: AspectLibrary,
        embed: Embed,
        config: LinkerConfig,
    ) -> None:
        self.promise_ids = list(promise_ids)
        self.config = config
        self._embed = embed
        self._base = self._base_training(promise_texts, themes, library)
        self.labelled = TrainingSet(self._base.matrix().shape[1])
        self._fitted: Classifier | None = None

    def _base_training(
        self,
        promise_texts: Mapping[str, Sequence[str]],
        themes: Mapping[str, tuple[str, ...]],
        library: AspectLibrary,
    ) -> TrainingSet:
        cfg = self.config
        rows = TrainingSet(0)
        used: set[str] = set()
        for pid in self.promise_ids:
            texts = list(promise_texts[pid])
            rows.add(self._embed(texts), [pid] * len(texts), cfg.promise_weight)
            for rank, theme_id in enumerate(themes.get(pid, ())):
                used.add(theme_id)
                phrasings = [t for _, _, t in library[theme_id].all_phrasings()]
                weight = cfg.phrasing_weight * (1.0 if rank == 0 else 0.5)
                rows.add(self._embed(phrasings), [pid] * len(phrasings), weight)
        rows.dim = rows.matrix().shape[1]
        self._add_none(rows, [t for t in library if t.id not in used])
        return rows

    def _add_none(self, rows: TrainingSet, themes: Sequence[Theme]) -> None:
        texts = [text for theme in themes for _, _, text in theme.all_phrasings()]
        texts += [label for theme in themes for label in theme.label.values()]
        if texts:
            rows.add(self._embed(texts), [NONE] * len(texts), self.config.none_weight)

    def learn(self, features: np.ndarray, labels: Sequence[Sequence[str]]) -> None:
        """Add labelled mentions (one row per linked promise; none when unlinked)."""
        for row, ids in zip(features, labels, strict=True):
            targets = [p for p in ids if p in self.promise_ids] or [NONE]
            self.labelled.add(np.repeat(row[None, :], len(targets), 0), targets, 1.0)
        self._fitted = None

    def _training(self) -> TrainingSet:
        rows = self._base.copy()
        if self.labelled.labels:
            scale = self.config.label_weight
            rows.add(self.labelled.matrix(), self.labelled.labels, scale)
        return rows

    def _fit(self, rows: TrainingSet) -> Classifier:
        return fit_classifier(rows, c=self.config.c, classes=[*self.promise_ids, NONE])

    def base_classifier(self) -> Classifier:
        """The classifier before self-training (cached)."""
        if self._fitted is None:
            self._fitted = self._fit(self._training())
        return self._fitted

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """``(n, promises + 1)`` probabilities, self-trained on ``features`` when large."""
        classifier = self.base_classifier()
        proba = classifier.predict_proba(features)
        if len(features) < self.config.min_batch:
            return proba
        for _ in range(self.config.rounds):
            rows = self._training()
            self._add_pseudo(rows, features, proba, classifier.classes)
            classifier = self._fit(rows)
            proba = classifier.predict_proba(features)
        return proba

    def _add_pseudo(
        self, rows: TrainingSet, features: np.ndarray, proba: np.ndarray, classes: Sequence[str]
    ) -> None:
        winners = proba.argmax(axis=1)
        for column, label in enumerate(classes):
            members = np.flatnonzero(winners == column)
            if len(members) == 0:
                continue
            take = max(1, int(len(members) * self.config.pseudo_share))
            best = members[np.argsort(-proba[members, column])[:take]]
            rows.add(features[best], [label] * len(best), self.config.pseudo_weight)

    def decide(self, proba: np.ndarray) -> list[list[int]]:
        """Promise columns linked per row: above the threshold and near the row's best."""
        cfg = self.config
        promise_part = proba[:, : len(self.promise_ids)]
        out: list[list[int]] = []
        for row in promise_part:
            top = float(row.max()) if len(row) else 0.0
            limit = max(cfg.threshold, cfg.relative * top)
            out.append([j for j in np.argsort(-row) if row[j] >= limit])
        return out
