"""Promise linking: themes, prototypes and a self-trained classifier.

A promise is known to the engine through three kinds of text: its own statement and
paraphrases, the customer phrasings of the theme it belongs to (from the aspect
library), and -- after :meth:`klopt.judging.judge.Judge.learn` -- labelled mentions. All three
become rows of one weighted training set for a multinomial classifier over the
promises plus a ``none`` class. On a batch of mentions the classifier then teaches
itself: the most confident mentions per promise join the training set, twice.
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
    """Knobs of the linker, tuned on training splits only (airline train20, SemEval EN train).

    Attributes:
        promise_weight: weight of a promise's own statement and paraphrases.
        phrasing_weight: weight of an inherited theme phrasing (times its allocation).
        label_weight: weight of a labelled mention from :meth:`Linker.learn`.
        none_weight: weight of the phrasings of themes no promise has (the ``none`` class).
        rounds: self-training rounds on a batch (0 switches self-training off).
        pseudo_min: a text becomes a pseudo-label when its (flattened) score is this high.
        pseudo_share: with ``pseudo_min`` 0, the share of each promise's texts taken instead.
        pseudo_weight: weight of a pseudo-labelled text.
        temperature: softness of the allocation of a shared theme's phrasings.
        statement_share: weight of the statements in a promise's prototype vector.
        trust_labels: from this many labelled mentions on, seeds come from the classifier.
        seeding: ``"flatten"`` (classifier scores divided by their batch mean),
            ``"classifier"`` or ``"zscore"`` (prototype cosines, z-scored per promise).
        flatten: exponent of the batch mean in ``"flatten"`` seeding.
        min_batch: smaller batches are judged without self-training.
        threshold: a promise is linked at this probability ...
        relative: ... when it also has this share of the text's best probability.
        c: inverse regularisation of the logistic regression.
        theme_margin: also inherit themes this close to the best one (0: best only).
    """

    promise_weight: float = 4.0
    phrasing_weight: float = 1.0
    label_weight: float = 3.0
    none_weight: float = 1.0
    rounds: int = 3
    pseudo_min: float = 0.7
    pseudo_share: float = 0.5
    pseudo_weight: float = 1.0
    temperature: float = 0.06
    statement_share: float = 2.0
    trust_labels: int = 50
    seeding: str = "flatten"
    flatten: float = 0.5
    min_batch: int = 40
    threshold: float = 0.3
    relative: float = 0.5
    c: float = 4.0
    theme_margin: float = 0.0


def _centroid(vectors: np.ndarray) -> np.ndarray:
    mean: np.ndarray = vectors.mean(axis=0)
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
        """The classifier before self-training (cached)."""
        if self._fitted is None:
            self._fitted = self._fit(self._training())
        return self._fitted

    def prototype_scores(self, features: np.ndarray) -> np.ndarray:
        """Cosine of each text to each promise's prototype, z-scored per promise."""
        sims: np.ndarray = features @ self.prototypes.T
        if len(features) < 2:
            return sims
        scores: np.ndarray = (sims - sims.mean(axis=0)) / (sims.std(axis=0) + 1e-6)
        return scores

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """``(n, promises + 1)`` probabilities, self-trained on ``features`` when large.

        The first seeds come from the classifier, flattened so that no promise wins
        most of the batch (or, once people have labelled enough examples, from the
        plain classifier); every round keeps the confident texts of each promise as
        pseudo-labels and refits.
        """
        classifier = self.base_classifier()
        if len(features) == 0:
            return np.zeros((0, len(classifier.classes)), dtype=np.float32)
        proba = classifier.predict_proba(features)
        if len(features) < self.config.min_batch or self.config.rounds == 0:
            return proba
        if self.config.seeding == "classifier" or (
            len(self.labelled.labels) >= self.config.trust_labels
        ):
            seeds = proba
        elif self.config.seeding == "flatten":
            seeds = self._flatten(proba)
        else:
            seeds = self.prototype_scores(features)
        for _ in range(self.config.rounds):
            rows = self._training()
            self._add_pseudo(rows, features, seeds, classifier.classes)
            classifier = self._fit(rows)
            proba = seeds = classifier.predict_proba(features)
            if self.config.seeding == "flatten":
                seeds = self._flatten(proba)
            if self.config.seeding == "zscore" and self.config.pseudo_min > 0:
                seeds = proba
        return proba

    def _flatten(self, proba: np.ndarray) -> np.ndarray:
        """Divide by the batch's mean probability per class (to the power ``flatten``).

        A promise whose phrasings happen to sit close to everything would otherwise
        win most texts of a batch and keep winning them round after round.
        """
        mean = proba.mean(axis=0) + 1e-6
        out: np.ndarray = proba / mean**self.config.flatten
        out /= out.sum(axis=1, keepdims=True)
        return out

    def _add_pseudo(
        self, rows: TrainingSet, features: np.ndarray, scores: np.ndarray, classes: Sequence[str]
    ) -> None:
        winners = scores.argmax(axis=1)
        for column in range(scores.shape[1]):
            members = np.flatnonzero(winners == column)
            if len(members) == 0:
                continue
            if self.config.pseudo_min > 0:
                best = members[scores[members, column] >= self.config.pseudo_min]
            else:
                take = max(1, int(len(members) * self.config.pseudo_share))
                best = members[np.argsort(-scores[members, column])[:take]]
            rows.add(features[best], [classes[column]] * len(best), self.config.pseudo_weight)

    def decide(self, proba: np.ndarray) -> list[list[int]]:
        """Promise columns linked per row: above the threshold and near the row's best."""
        cfg = self.config
        promise_part = proba[:, : len(self.promise_ids)]
        out: list[list[int]] = []
        for row in promise_part:
            top = float(row.max()) if len(row) else 0.0
            limit = max(cfg.threshold, cfg.relative * top)
            out.append([int(j) for j in np.argsort(-row) if row[j] >= limit])
        return out
