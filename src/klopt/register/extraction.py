"""Promise proposal: score every sentence of a document as a candidate promise.

A sentence is a likely promise when it uses commitment language (*wij beloven*,
*garanderen*, *we will*, *always*), speaks as "we" to the customer, and names something
checkable (*binnen 24 uur*, *gratis*, *100%*). It is an unlikely one when it tells
history, gives an address or asks a question. The cues and their weights are data,
in ``klopt/data/commitment.yaml`` (read and matched by :mod:`klopt.register.cues`); the likeness
to promise statements and the theme come from :mod:`klopt.register.likeness`. This module adds
them up, and every proposal carries the reasons it was proposed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from klopt.register.cues import Category, Cue, CueSet, Hit, find_hits, load_cues, tokens
from klopt.register.documents import DocumentText, Sentence
from klopt.register.likeness import PromiseLikeness, ThemeMatcher, promise_likeness, theme_matcher

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

Progress = Callable[[int, int], None]
"""``progress(done, total)``."""

CHUNK = 2_000
"""Candidate sentences scored at a time (the likeness embeds them in one go)."""

_DEFAULT_LIKENESS: Similarity = promise_likeness()
_DEFAULT_THEMES: ThemeMatcher = theme_matcher()


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


# --- scoring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tally:
    points: float
    kind: Kind
    reasons: tuple[str, ...]


def _tally(hits: list[Hit], cues: CueSet) -> _Tally:
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
    words = len(tokens(sentence.text))
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
    progress: Progress | None = None,
) -> list[Proposal]:
    """Score every eligible sentence of ``doc`` as a candidate promise, in document order.

    Args:
        doc: a document from :func:`klopt.register.documents.read_document`.
        cues: the cue set; the one shipped with klopt when not given.
        similarity: scorer of likeness to promise statements (0..1 per text), called
            once with all candidates; ``weight * (similarity - center)`` points are added
            (weights in the cue file). ``None`` scores on the cues alone.
        themes: assigns each proposal's theme; ``None`` leaves themes empty.
        progress: called as ``progress(done, total)`` over the candidate sentences, which
            are scored in chunks of :data:`CHUNK`.

    Returns:
        One :class:`Proposal` per eligible sentence, whatever its score; themes are
        assigned to those at or above the cue file's threshold only.
    """
    cues = cues or load_cues()
    candidates = [s for s in doc.sentences if _eligible(s, cues)]
    languages = [_sentence_language(s, doc) for s in candidates]
    tallies: list[_Tally] = []
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start : start + CHUNK]
        scored = [
            _tally(find_hits(s, cues, _languages(lang), doc.title), cues)
            for s, lang in zip(chunk, languages[start : start + CHUNK], strict=True)
        ]
        if similarity is not None:
            scored = _with_similarity(chunk, scored, similarity, cues)
        tallies += scored
        if progress is not None:
            progress(len(tallies), len(candidates))
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
    progress: Progress | None = None,
) -> list[Proposal]:
    """Propose the sentences of ``doc`` that read as promises, in document order.

    Args:
        doc: a document from :func:`klopt.register.documents.read_document`.
        threshold: the lowest score proposed; the cue file's ``threshold`` (0.5) by default.
        cues: the cue set; the one shipped with klopt when not given.
        similarity: scorer of likeness to promise statements, see :func:`score_sentences`;
            ``None`` proposes on the cues alone.
        themes: assigns each proposal's theme; ``None`` leaves themes empty.
        progress: ``progress(done, total)`` over the candidate sentences.

    Returns:
        The proposals at or above the threshold, each statement once.
    """
    cues = cues or load_cues()
    limit = cues.threshold if threshold is None else threshold
    seen: set[str] = set()
    proposals: list[Proposal] = []
    scored = score_sentences(doc, cues=cues, similarity=similarity, themes=None, progress=progress)
    for proposal in scored:
        key = " ".join(t.text for t in tokens(proposal.text))
        if proposal.score >= limit and key not in seen:
            seen.add(key)
            proposals.append(proposal)
    return _with_themes(proposals, themes, limit) if themes is not None else proposals
