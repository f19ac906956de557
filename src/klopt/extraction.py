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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from klopt.documents import DocumentText, Sentence
from klopt.errors import ConfigError

__all__ = [
    "Category",
    "Cue",
    "CueSet",
    "Kind",
    "Proposal",
    "Similarity",
    "load_cues",
    "propose_promises",
    "score_sentences",
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


# --- scoring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tally:
    points: float
    kind: Kind
    reasons: tuple[str, ...]


def _tally(hits: list[_Hit], cues: CueSet) -> _Tally:
    present = {h.category for h in hits if h.weight > 0}
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


def score_sentences(
    doc: DocumentText, *, cues: CueSet | None = None, similarity: Similarity | None = None
) -> list[Proposal]:
    """Score every eligible sentence of ``doc`` as a candidate promise, in document order.

    Args:
        doc: a document from :func:`klopt.documents.read_document`.
        cues: the cue set; the one shipped with klopt when not given.
        similarity: optional scorer of likeness to promise statements (0..1 per text);
            ``weight * (similarity - center)`` points are added (weights in the cue file).

    Returns:
        One :class:`Proposal` per eligible sentence, whatever its score.
    """
    cues = cues or load_cues()
    langs = _languages(doc.language)
    candidates = [s for s in doc.sentences if _eligible(s, cues)]
    tallies = [_tally(_hits(s, cues, langs, doc.title), cues) for s in candidates]
    if similarity is not None and candidates:
        tallies = _with_similarity(candidates, tallies, similarity, cues)
    return [
        Proposal(
            text=_statement(sentence),
            score=_logistic(tally.points, cues),
            kind=tally.kind,
            reasons=tally.reasons,
            sentence=sentence,
            document=doc.path,
        )
        for sentence, tally in zip(candidates, tallies, strict=True)
    ]


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


def _logistic(points: float, cues: CueSet) -> float:
    return round(1.0 / (1.0 + math.exp(-cues.steepness * (points - cues.bias))), 3)


def propose_promises(
    doc: DocumentText,
    *,
    threshold: float | None = None,
    cues: CueSet | None = None,
    similarity: Similarity | None = None,
) -> list[Proposal]:
    """Propose the sentences of ``doc`` that read as promises, in document order.

    Args:
        doc: a document from :func:`klopt.documents.read_document`.
        threshold: the lowest score proposed; the cue file's ``threshold`` (0.5) by default.
        cues: the cue set; the one shipped with klopt when not given.
        similarity: optional scorer of likeness to promise statements, see
            :func:`score_sentences`.

    Returns:
        The proposals at or above the threshold, each statement once.
    """
    cues = cues or load_cues()
    limit = cues.threshold if threshold is None else threshold
    seen: set[str] = set()
    proposals: list[Proposal] = []
    for proposal in score_sentences(doc, cues=cues, similarity=similarity):
        key = " ".join(t.text for t in _tokens(proposal.text))
        if proposal.score >= limit and key not in seen:
            seen.add(key)
            proposals.append(proposal)
    return proposals
