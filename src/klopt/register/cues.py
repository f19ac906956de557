"""Commitment cues: the words and patterns that make a sentence read as a promise.

The cues live in ``klopt/data/commitment.yaml`` (or an organisation's own file in the
same format); this module reads them and finds them in a sentence, its list lead-in
and its section heading. Scoring the hits is :mod:`klopt.register.extraction`'s work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from klopt.errors import ConfigError
from klopt.register.documents import Sentence

__all__ = [
    "Category",
    "Cue",
    "CueSet",
    "Hit",
    "Text",
    "find_hits",
    "find_term",
    "load_cues",
    "tokens",
]


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
    past_plural_beside: frozenset[str] = frozenset()


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
        raise ConfigError.keyed("config.cues_unreadable", path=path, detail=exc) from None
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
        detail = f"{type(exc).__name__}: {exc}"
        raise ConfigError.keyed("config.cues_invalid", path=name, detail=detail) from None


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
        Cue(**common, words=tuple(t.text for t in tokens(str(term))))
        for term in entry.get("terms", ())
    ]
    cues += [
        Cue(**common, pattern=re.compile(str(p), re.IGNORECASE)) for p in entry.get("patterns", ())
    ]
    if entry.get("past_plural_beside"):
        beside = frozenset(str(w).lower() for w in entry["past_plural_beside"])
        cues.append(Cue(**common, past_plural_beside=beside))
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


def tokens(text: str) -> tuple[_Token, ...]:
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


class Text:
    """A text split into words, with each word's forms (itself, its lemma) per language."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokens(text)
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


def find_term(cue: Cue, text: Text) -> tuple[int, int] | None:
    """A cue word matches a sentence word that is that word or has it as its lemma."""
    forms, index = text.forms(cue.lang)
    size = len(cue.words)
    for i in index.get(cue.words[0], ()):
        if i + size <= len(forms) and all(w in forms[i + k] for k, w in enumerate(cue.words)):
            return text.tokens[i].start, text.tokens[i + size - 1].end
    return None


@dataclass(frozen=True)
class Hit:
    category: str
    weight: float
    surface: str
    source: Literal["sentence", "lead-in", "section"]
    start: int
    end: int


def _find_past_plural(cue: Cue, text: Text) -> tuple[int, int] | None:
    """A plural past tense right before or after "wij"/"we" ("In 2025 bezorgden wij").

    A Dutch plural present form is the infinitive itself, so a plural form ending in -en
    whose lemma is another infinitive ("bezorgden" -> "bezorgen", "wonnen" -> "winnen")
    is a past tense. Nouns the lemmatiser reads first ("zorgen" -> "zorg") do not count.
    """
    tokens = text.tokens
    for i, token in enumerate(tokens):
        if token.text not in cue.past_plural_beside:
            continue
        for j in (i - 1, i + 1):
            if not 0 <= j < len(tokens):
                continue
            word = tokens[j].text
            lemma = _lemma(word, cue.lang)
            if len(word) > 4 and word.endswith("en") and lemma != word and lemma.endswith("n"):
                return tokens[j].start, tokens[j].end
    return None


def _find(cue: Cue, text: Text) -> tuple[int, int] | None:
    if cue.past_plural_beside:
        return _find_past_plural(cue, text)
    if cue.pattern is not None:
        match = cue.pattern.search(text.text)
        return (match.start(), match.end()) if match and match.group().strip() else None
    return find_term(cue, text)


_Source = Literal["sentence", "lead-in", "section"]


_Plan = tuple[tuple[Cue, tuple[_Source, ...]], ...]
_PLANS: dict[int, tuple[CueSet, _Plan]] = {}


def _plan(cues: CueSet) -> _Plan:
    """Each cue with the texts it is looked for in: the sentence, its lead-in, its section.

    Kept per cue set (by identity; a cue set holds dicts, so it cannot be hashed).
    """
    known = _PLANS.get(id(cues))
    if known is not None and known[0] is cues:
        return known[1]
    plan = []
    for cue in cues.cues:
        category = cues.categories[cue.category]
        sources: tuple[_Source, ...] = (
            ("section",)
            if cue.where == "section"
            else ("sentence", "lead-in")
            if category.lead_in
            else ("sentence",)
        )
        plan.append((cue, sources))
    if len(_PLANS) > 16:
        _PLANS.clear()
    _PLANS[id(cues)] = (cues, tuple(plan))
    return _PLANS[id(cues)][1]


def find_hits(sentence: Sentence, cues: CueSet, langs: frozenset[str], title: str) -> list[Hit]:
    # The document's title heads every sentence, so it says nothing about one of them.
    section = sentence.section if sentence.section != title else None
    texts: dict[Literal["sentence", "lead-in", "section"], str] = {
        "sentence": sentence.text,
        "lead-in": sentence.lead_in or "",
        "section": section or "",
    }
    analysed = {source: Text(text) for source, text in texts.items()}
    hits: list[Hit] = []
    for cue, sources in _plan(cues):
        if cue.lang not in langs:
            continue
        for source in sources:
            if not texts[source]:
                continue
            text = analysed[source]
            if cue.words and cue.words[0] not in text.forms(cue.lang)[1]:
                continue  # the cheap test first: the cue's first word is not there
            span = _find(cue, text)
            if span is None or _overlaps(hits, cue.category, source, span):
                continue
            surface = texts[source] if source == "section" else texts[source][span[0] : span[1]]
            hits.append(Hit(cue.category, cue.weight, surface, source, *span))
    return hits


def _overlaps(hits: Iterable[Hit], category: str, source: str, span: tuple[int, int]) -> bool:
    return any(
        h.category == category and h.source == source and h.start < span[1] and span[0] < h.end
        for h in hits
    )
