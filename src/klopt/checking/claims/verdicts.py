"""What a sentence does to a promise it is linked to: supports, contradicts or exceeds it.

The sentence and the promise are read into comparable parts and compared part by part
(:mod:`klopt.checking.claims.compare`): a take-back or a worse condition is a
**contradiction**, a faster deadline, a wider scope or a better price an **excess**. What
is left:

* **new claim** -- "free" where no linked promise speaks of price;
* **exceeds** (a warning) -- an absolute ("altijd", "guaranteed", "100%") the promise
  does not say itself;
* otherwise the sentence **supports** the promise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from klopt.checking.claims.compare import Difference, PromiseParts, compare, own_durations
from klopt.checking.claims.cues import ClaimCues, Sentence, quote_regions
from klopt.checking.claims.parts import ClaimParts, Part, read_parts
from klopt.checking.claims.quantities import mask
from klopt.judging.judge import PromiseSpec

__all__ = [
    "Link",
    "PromiseFacts",
    "Verdict",
    "judge_link",
    "new_claim_cue",
    "promise_facts",
    "sentence_parts",
]


@dataclass(frozen=True)
class Link:
    """A sentence's link to a promise (by index into the register) and its similarity."""

    promise: int
    similarity: float


PromiseFacts = PromiseParts
"""What the checks need to know about one promise (its parts, read from all its texts)."""


def promise_facts(spec: PromiseSpec, cues: ClaimCues) -> PromiseFacts:
    """Read the parts of ``spec`` from its statement, then its paraphrases."""
    return PromiseParts.of([spec.text, *spec.paraphrases], cues)


@dataclass(frozen=True)
class Verdict:
    """The outcome for one (sentence, promise) link.

    ``span`` is relative to the sentence, ``None`` for the whole sentence.
    """

    rule: str
    promise: int
    similarity: float
    span: tuple[int, int] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


def sentence_parts(sentence: Sentence, cues: ClaimCues) -> ClaimParts:
    """The parts of ``sentence`` outside quotations (a quoted customer promises nothing)."""
    parts = read_parts(sentence.text, cues)
    quotes = quote_regions(sentence.text)
    if not quotes:
        return parts
    kept = tuple(p for p in parts.parts if not any(a <= p.start < b for a, b in quotes))
    return ClaimParts(parts.text, kept, parts.measures)


# Parts that stand for the whole sentence (a take-back is what the sentence says).
_WHOLE = frozenset(["no_longer", "suspended", "does_what_promise_rules_out", "charges"])


def _verdict(difference: Difference, link: Link) -> Verdict:
    rule = "promise.contradicts" if difference.direction == "less" else "promise.exceeds"
    span: tuple[int, int] | None = None
    if difference.draft is not None and difference.reason not in _WHOLE:
        span = (difference.draft.start, difference.draft.end)
    return Verdict(rule, link.promise, link.similarity, span, difference.evidence())


def _absolute(parts: ClaimParts, fact: PromiseFacts) -> Part | None:
    for part in parts.of("absolute"):
        word = part.text.lower()
        if word in fact.absolutes or (word in ("nooit", "never") and fact.negated):
            continue
        return part
    return None


def _amounts_elsewhere(
    parts: ClaimParts, fact: PromiseFacts, rivals: Sequence[PromiseFacts]
) -> bool:
    """The sentence's durations all belong to another linked promise, none to this one.

    "Door drukte duurt je reparatie twee weken" is about the repair deadline, not about
    the warranty it is also linked to by its words.
    """
    found = parts.of("duration")
    if fact.duration is None or not found or own_durations(found, fact, rivals):
        return False
    return any(own_durations(found, r, [fact, *(o for o in rivals if o is not r)]) for r in rivals)


def judge_link(
    sentence: Sentence,
    link: Link,
    links: Sequence[tuple[int, float]],
    facts: Sequence[PromiseFacts],
    cues: ClaimCues,
    parts: ClaimParts | None = None,
    support: float = 0.0,
) -> Verdict:
    """Decide what ``sentence`` does to the promise of ``link`` (see the module doc).

    ``promise.none`` means the link does not hold after all (the sentence's amounts are
    another linked promise's, or it only touches the promise's topic: a support needs a
    similarity of ``support`` or the promise's own amount); the caller drops it.
    """
    fact = facts[link.promise]
    parts = parts if parts is not None else sentence_parts(sentence, cues)
    rivals = [facts[p] for p, _ in links if p != link.promise]
    if _amounts_elsewhere(parts, fact, rivals):
        return Verdict("promise.none", link.promise, link.similarity)
    difference = compare(sentence.text, parts, fact, rivals, cues)
    if difference is not None:
        return _verdict(difference, link)
    linked = [fact, *rivals]
    free = parts.first("free")
    if free is not None and not any(f.free or f.parts.has("money") for f in linked):
        return Verdict("promise.new_claim", link.promise, link.similarity, None, {"cue": free.text})
    about = link.similarity >= support or _same_amount(parts, fact)
    absolute = _absolute(parts, fact)
    if absolute is not None and about:  # "altijd 10% korting" near a price promise is no excess
        return Verdict(
            "promise.exceeds",
            link.promise,
            link.similarity,
            (absolute.start, absolute.end),
            {"reason": "absolute", "absolute": absolute.text},
        )
    if not about:
        return Verdict("promise.none", link.promise, link.similarity)
    return Verdict("promise.supports", link.promise, link.similarity)


def _same_amount(parts: ClaimParts, fact: PromiseFacts) -> bool:
    """Whether the sentence names one of the promise's own amounts (its deadline, price, ...)."""
    for kind in ("duration", "money", "percent", "clock", "availability"):
        theirs = [p.value for p in fact.parts.of(kind)]
        if any(
            abs(p.value - v) <= 0.02 * max(abs(v), 1e-9) for p in parts.of(kind) for v in theirs
        ):
            return True
    return False


_QUESTION = re.compile(r"\?\s*$")


def new_claim_cue(sentence: Sentence, cues: ClaimCues) -> str | None:
    """The commitment cue in a sentence no promise covers, or ``None`` (questions aside).

    A duration is a claim when it is a deadline or a window ("binnen 4 uur", "up to 60
    days") or says what it measures; "10 years together" promises nothing.
    """
    text = sentence.text
    if _QUESTION.search(text):
        return None
    text = mask(text, quote_regions(text))  # a quoted customer promises nothing
    for expression in (cues.free, cues.commitments):
        match = expression.search(text)
        if match:
            return match.group()
    for part in read_parts(text, cues).parts:
        if part.kind in ("money", "percent", "amount") and part.role != "threshold":
            return part.text
        if part.kind == "duration":
            before = text[max(0, part.start - 12) : part.start]
            timed = cues.deadline_before.search(before) or cues.window_before.search(before)
            if timed or part.measure is not None:
                return part.text
    return None
