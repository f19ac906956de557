"""Promise linking: themes, prototypes and one classifier per register and corrections.

A promise is known to the engine through three kinds of text: its own statement and
paraphrases, the customer phrasings of the theme it belongs to (from the aspect
library), and -- after :meth:`klopt.judging.judge.Judge.learn` -- labelled mentions. All three
become rows of one weighted training set for a multinomial classifier over the
promises plus a ``none`` class.

A text's links depend on the text alone, never on the other texts judged with it: the
classifier is fitted once per register and set of corrections, and there is no
self-training on a batch. Judging 10,000 posts in one run or in ten runs of 1,000 gives
the same links by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from klopt.judging.training import Classifier, TrainingSet, fit_classifier
from klopt.models.aspects import AspectLibrary, Theme

__all__ = ["NONE", "LinkerConfig", "assign_themes", "Linker"]

NONE = "__none__"

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class LinkerConfig:
    """Knobs of the linker, tuned on training splits only (airline train20, SemEval EN train,
    SemEval NL train70), with the team's promise wording and a second wording written by
    someone who had not seen it (``benchmarks/promises/alt``).

    Attributes:
        promise_weight: weight of a promise's own statement and paraphrases.
        phrasing_weight: weight of an inherited theme phrasing (times its allocation).
        label_weight: weight of a labelled mention from :meth:`Linker.learn`.
        none_weight: weight of the phrasings of themes no promise has (the ``none`` class).
        temperature: softness of the allocation of a shared theme's phrasings.
        statement_share: weight of the statements in a promise's prototype vector.
        threshold: a promise is linked at this probability ...
        relative: ... when it also has this share of the text's best probability.
        c: inverse regularisation of the logistic regression.
        theme_margin: also inherit themes this close to the best one (0: best only).
    """

    promise_weight: float = 4.0
    phrasing_weight: float = 1.0
    label_weight: float = 3.0
    none_weight: float = 1.0
    temperature: float = 0.06
    statement_share: float = 2.0
    threshold: float = 0.3
    relative: float = 0.5
    c: float = 0.7
    theme_margin: float = 0.03


def _centroid(vectors: np.ndarray) -> np.ndarray:
    mean: np.ndarray = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else mean


def theme_vectors(library: AspectLibrary, embed: Embed) -> dict[str, np.ndarray]:
    """One vector per theme a promise may be given: its profile plus its phrasings' centroid."""
    out: dict[str, np.ndarray] = {}
    for theme in library.promise_themes():
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
        statements = {pid: embed(list(promise_texts[pid])) for pid in self.promise_ids}
        self._base, self.prototypes = self._base_training(statements, themes, library)
        self.labelled = TrainingSet(self._base.dim)
        self._fitted: Classifier | None = None

    def _allocation(
        self,
        statements: Mapping[str, np.ndarray],
        themes: Mapping[str, tuple[str, ...]],
        library: AspectLibrary,
    ) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
        """Per promise: (phrasing vectors, weights) of each of its themes.

        When several promises share a theme, each phrasing goes mostly to the promise
        whose statement it is closest to (a soft arg-max), so that "my suitcase is
        broken" feeds *damaged* rather than *lost* luggage.
        """
        centre = {pid: _centroid(v) for pid, v in statements.items()}
        out: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {p: [] for p in self.promise_ids}
        for theme_id in dict.fromkeys(t for ts in themes.values() for t in ts):
            owners = [p for p in self.promise_ids if theme_id in themes.get(p, ())]
            vectors = self._embed([t for _, _, t in library[theme_id].all_phrasings()])
            if len(vectors) == 0:
                continue
            sims = np.vstack([vectors @ centre[p] for p in owners])
            alloc = np.exp((sims - sims.max(axis=0)) / self.config.temperature)
            alloc /= alloc.sum(axis=0)
            for row, pid in enumerate(owners):
                rank = themes[pid].index(theme_id)
                out[pid].append((vectors, alloc[row] * (1.0 if rank == 0 else 0.5)))
        return out

    def _base_training(
        self,
        statements: Mapping[str, np.ndarray],
        themes: Mapping[str, tuple[str, ...]],
        library: AspectLibrary,
    ) -> tuple[TrainingSet, np.ndarray]:
        cfg = self.config
        dim = next(iter(statements.values())).shape[1]
        rows, prototypes = TrainingSet(dim), []
        allocation = self._allocation(statements, themes, library)
        for pid in self.promise_ids:
            own = statements[pid]
            rows.add(own, [pid] * len(own), cfg.promise_weight)
            proto = cfg.statement_share * _centroid(own)
            for vectors, weights in allocation[pid]:
                keep = weights > 0.05
                for vector, weight in zip(vectors[keep], weights[keep], strict=True):
                    rows.add(vector[None, :], [pid], cfg.phrasing_weight * float(weight))
                if keep.any():
                    proto = proto + _centroid((vectors * weights[:, None])[keep])
            prototypes.append(_centroid(proto[None, :]))
        used = {t for ts in themes.values() for t in ts}
        self._add_none(rows, [t for t in library if t.id not in used])
        return rows, np.vstack(prototypes)

    def _add_none(self, rows: TrainingSet, themes: Sequence[Theme]) -> None:
        texts = [text for theme in themes for _, _, text in theme.all_phrasings()]
        if texts and self.config.none_weight > 0:
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
            rows.add(self.labelled.matrix(), self.labelled.labels, self.config.label_weight)
        return rows

    def _fit(self, rows: TrainingSet) -> Classifier:
        return fit_classifier(rows, c=self.config.c, classes=[*self.promise_ids, NONE])

    def base_classifier(self) -> Classifier:
        """The fitted classifier (cached until the next correction)."""
        if self._fitted is None:
            self._fitted = self._fit(self._training())
        return self._fitted

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """``(n, promises + 1)`` probabilities; each row depends on its own text alone."""
        classifier = self.base_classifier()
        if len(features) == 0:
            return np.zeros((0, len(classifier.classes)), dtype=np.float32)
        return classifier.predict_proba(features)

    def limits(self, proba: np.ndarray) -> np.ndarray:
        """The probability each promise needs to be linked, per row: ``(n, promises)``."""
        cfg = self.config
        promise_part = proba[:, : len(self.promise_ids)]
        if promise_part.shape[1] == 0:
            return np.zeros((len(proba), 0), dtype=np.float32)
        top = promise_part.max(axis=1, keepdims=True)
        floor = np.full(promise_part.shape[1], cfg.threshold, dtype=np.float32)
        limits: np.ndarray = np.maximum(floor[None, :], cfg.relative * top)
        return limits

    def decide(self, proba: np.ndarray) -> list[list[int]]:
        """Promise columns linked per row: above the threshold and near the row's best."""
        promise_part = proba[:, : len(self.promise_ids)]
        limits = self.limits(proba)
        return [
            [int(j) for j in np.argsort(-row) if row[j] >= limit[j]]
            for row, limit in zip(promise_part, limits, strict=True)
        ]
