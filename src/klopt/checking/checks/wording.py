"""Check types about wording: terms, patterns, required disclaimers and tone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Self

from klopt.checking.checks.base import Check, Hit, Params, lemma, literal_pattern, merge_hits, words
from klopt.checking.findings import Draft, Span

__all__ = ["Terms", "Pattern", "RequiredDisclaimer", "Tone"]


@dataclass(frozen=True)
class Terms(Check):
    """Banned terms, each with an optional preferred replacement (the suggestion).

    Whole words, case-insensitive; a one-word term written in its dictionary form also
    matches its inflections ("utilize" finds "utilized"), unless ``lemmas: false``.

    Parameters: ``terms`` (a list of banned terms, or a mapping term: replacement, the
    replacement empty for none), ``lemmas`` (default true).
    Message fields: ``{match}`` (the text found), ``{term}``, ``{use}`` (the replacement).
    """

    name = "terms"
    parameters = ("terms", "lemmas")
    fields = ("match", "term", "use")

    single: dict[str, str | None]
    phrases: tuple[tuple[re.Pattern[str], str, str | None], ...]
    lemmas: bool

    @classmethod
    def from_params(cls, params: Params) -> Self:
        if not params.has("terms"):
            raise params.missing("terms")
        single: dict[str, str | None] = {}
        phrases = []
        for term, use in params.terms("terms").items():
            if re.fullmatch(r"[^\W_]+(?:['’-][^\W_]+)*", term):
                single[term.lower()] = use
            else:
                pattern = re.compile(literal_pattern(term), re.IGNORECASE)
                phrases.append((pattern, term, use))
        return cls(single, tuple(phrases), bool(params.flag("lemmas", True)))

    def find(self, draft: Draft) -> Iterator[Hit]:
        found: list[tuple[int, int, str, str | None]] = []
        for match in words(draft.text):
            word = match.group().lower().replace("’", "'")
            term = word if word in self.single else None
            if term is None and self.lemmas and draft.language in ("nl", "en"):
                base = lemma(word, draft.language)
                term = base if base in self.single else None
            if term is not None:
                found.append((match.start(), match.end(), term, self.single[term]))
        for pattern, term, use in self.phrases:
            found += [(m.start(), m.end(), term, use) for m in pattern.finditer(draft.text)]
        taken_until = -1
        for start, end, term, use in sorted(found, key=lambda f: (f[0], -f[1])):
            if start < taken_until:
                continue  # inside a longer term already found
            taken_until = end
            values = {"match": draft.text[start:end], "term": term, "use": use or ""}
            yield Hit(Span(start, end), values, use)


@dataclass(frozen=True)
class Pattern(Check):
    """Regular expressions that must not appear (unverifiable superlatives, say).

    Parameters: ``patterns`` (one or a list), ``ignore_case`` (default true), ``unless``
    (patterns that, anywhere in the draft, excuse it: a source, a footnote).
    Message field: ``{match}``. Overlapping matches are marked as one.
    """

    name = "pattern"
    parameters = ("patterns", "ignore_case", "unless")
    fields = ("match",)

    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]

    @classmethod
    def from_params(cls, params: Params) -> Self:
        if not params.has("patterns"):
            raise params.missing("patterns")
        ignore_case = params.flag("ignore_case", True)
        return cls(
            params.regexes("patterns", ignore_case=ignore_case),
            params.regexes("unless", ignore_case=ignore_case),
        )

    def find(self, draft: Draft) -> Iterator[Hit]:
        if any(p.search(draft.text) for p in self.unless):
            return
        spans = [
            m.span() for p in self.patterns for m in p.finditer(draft.text) if m.end() > m.start()
        ]
        yield from merge_hits(draft.text, spans)


@dataclass(frozen=True)
class RequiredDisclaimer(Check):
    """When a topic comes up (prices, discounts, credit), a disclaimer must be there too.

    Parameters: ``topic`` and ``disclaimer`` (patterns, one or a list), ``ignore_case``
    (default true). One finding, marking where the topic first comes up.
    Message field: ``{match}`` (the topic text).
    """

    name = "required_disclaimer"
    parameters = ("topic", "disclaimer", "ignore_case")
    fields = ("match",)

    topic: tuple[re.Pattern[str], ...]
    disclaimer: tuple[re.Pattern[str], ...]

    @classmethod
    def from_params(cls, params: Params) -> Self:
        absent = [name for name in ("topic", "disclaimer") if not params.has(name)]
        if absent:
            raise params.missing(*absent)
        ignore_case = params.flag("ignore_case", True)
        return cls(
            params.regexes("topic", ignore_case=ignore_case),
            params.regexes("disclaimer", ignore_case=ignore_case),
        )

    def find(self, draft: Draft) -> Iterator[Hit]:
        matches = [m for p in self.topic for m in p.finditer(draft.text) if m.end() > m.start()]
        if not matches or any(p.search(draft.text) for p in self.disclaimer):
            return
        first = min(matches, key=lambda m: (m.start(), -m.end()))
        yield Hit(Span(first.start(), first.end()), {"match": first.group()})


# Dutch forms of address: the polite "u" and the familiar "je/jij".
_ADDRESS = {
    "u": re.compile(r"(?<!\w)(?:u|uw|uzelf)(?!\w)", re.IGNORECASE),
    "je": re.compile(r"(?<!\w)(?:je|jij|jou|jouw|jouwe|jezelf)(?!\w)", re.IGNORECASE),
}


@dataclass(frozen=True)
class Tone(Check):
    """Tone that does not suit the organisation: markers of the wrong register, or the
    wrong Dutch form of address.

    Parameters: ``markers`` (per language: ``nl``, ``en``, or ``all`` for any; whole words,
    case-insensitive), ``patterns`` (regular expressions, any language), and ``address``:
    the form the organisation uses with its readers in Dutch, ``u`` (then "je/jij/jouw"
    fire), ``je`` (then "u/uw" fire) or ``consistent`` (the first form used sets it).
    Message fields: ``{match}``, ``{expected}`` (the organisation's form of address).
    """

    name = "tone"
    parameters = ("markers", "patterns", "address")
    fields = ("match", "expected")

    markers: dict[str, re.Pattern[str]]
    patterns: tuple[re.Pattern[str], ...]
    address: str | None

    @classmethod
    def from_params(cls, params: Params) -> Self:
        if not any(params.has(name) for name in cls.parameters):
            raise params.missing(" | ".join(cls.parameters))
        markers = {
            lang: re.compile("|".join(literal_pattern(m) for m in texts), re.IGNORECASE)
            for lang, texts in params.per_language("markers").items()
            if texts
        }
        address = params.choice("address", ("u", "je", "consistent"))
        return cls(markers, params.regexes("patterns"), address)

    def find(self, draft: Draft) -> Iterator[Hit]:
        text = draft.text
        spans = [m.span() for m in self._marker_matches(draft) if m.end() > m.start()]
        for hit in merge_hits(text, spans):
            yield Hit(hit.span, {**hit.values, "expected": self.address or ""})
        if self.address is not None and draft.language == "nl":
            yield from self._address(text)

    def _marker_matches(self, draft: Draft) -> Iterator[re.Match[str]]:
        for lang in ("all", draft.language):
            if lang in self.markers:
                yield from self.markers[lang].finditer(draft.text)
        for pattern in self.patterns:
            yield from pattern.finditer(draft.text)

    def _address(self, text: str) -> Iterator[Hit]:
        found = {form: list(pattern.finditer(text)) for form, pattern in _ADDRESS.items()}
        expected = self.address
        if expected == "consistent":
            firsts = [(ms[0].start(), form) for form, ms in found.items() if ms]
            if len(firsts) < 2:
                return
            expected = min(firsts)[1]
        wrong = "je" if expected == "u" else "u"
        for match in found[wrong]:
            values = {"match": match.group(), "expected": str(expected)}
            yield Hit(Span(match.start(), match.end()), values)
