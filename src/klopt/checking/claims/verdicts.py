"""What a sentence does to a promise it is linked to: supports, contradicts or exceeds it.

The decisions are rules over cues (``klopt/data/claims.yaml``) and parsed quantities:

* **contradicts** -- the sentence says the promise no longer holds ("niet meer",
  "no longer"), does what a never-promise rules out ("we share your data" against
  "we never sell your data"), charges for what the promise gives free, or names a
  slower deadline / shorter window than the promise;
* **exceeds** -- a faster deadline or a longer window than the promise (``forever``
  included), a lower price, a higher percentage, "gratis" against a priced promise, or
  an absolute ("altijd", "guaranteed", "100%", "24/7") the promise does not say;
* **new claim** -- "free" where no linked promise speaks of price, or a superlative;
* otherwise the sentence **supports** the promise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from klopt.checking.claims.cues import ClaimCues, Sentence, quote_regions
from klopt.checking.claims.quantities import Quantity, parse_quantities
from klopt.judging.judge import PromiseSpec

__all__ = ["Link", "PromiseFacts", "Verdict", "judge_link", "new_claim_cue"]

TOLERANCE = 0.02
"""Relative difference below which two amounts are the same ("60 minuten" = "een uur")."""
UNRELATED = 2.0
"""Amounts more than this many orders of magnitude apart are about different things."""


@dataclass(frozen=True)
class Link:
    """A sentence's link to a promise (by index into the register) and its similarity."""

    promise: int
    similarity: float


@dataclass(frozen=True)
class PromiseFacts:
    """What the checks need to know about one promise, read from all its texts."""

    duration: Quantity | None
    money: Quantity | None
    percent: Quantity | None
    window: bool
    free: bool
    negated: bool
    polar: frozenset[str]
    absolutes: frozenset[str]

    @classmethod
    def of(cls, spec: PromiseSpec, cues: ClaimCues) -> PromiseFacts:
        """Read the facts of ``spec`` from its statement, then its paraphrases."""
        texts = [spec.text, *spec.paraphrases]
        joined = " \n ".join(texts)

        def first(kind: str) -> Quantity | None:
            for text in texts:
                for quantity in parse_quantities(text, cues):
                    if quantity.kind == kind and not quantity.threshold:
                        return quantity
            return None

        return cls(
            duration=first("duration"),
            money=first("money"),
            percent=first("percent"),
            window=bool(cues.window.search(joined)),
            free=bool(cues.free.search(joined)),
            negated=bool(cues.negations.search(joined)),
            polar=frozenset(name for name, p in cues.polar.items() if p.search(joined)),
            absolutes=frozenset(m.group().lower() for m in cues.absolutes.finditer(joined)),
        )


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


def _outside_quotes(sentence: Sentence, quantities: list[Quantity]) -> list[Quantity]:
    quotes = quote_regions(sentence.text)
    return [q for q in quantities if not any(a <= q.start < b for a, b in quotes)]


def _ratio(a: float, b: float) -> float:
    if math.isinf(a) or math.isinf(b):
        return 0.0 if a == b else math.inf
    if a <= 0 or b <= 0:
        return math.inf
    return abs(math.log10(a / b))


def _own_durations(
    link: Link, links: Sequence[Link], facts: Sequence[PromiseFacts], found: list[Quantity]
) -> list[Quantity]:
    """The durations of the sentence that belong to ``link``'s promise.

    With several timed promises linked, each duration goes to the one whose own amount
    is closest; amounts wildly off the promise's are about something else.
    """
    mine = facts[link.promise].duration
    if mine is None:
        return []
    out = []
    for quantity in found:
        if quantity.kind != "duration":
            continue
        distance = _ratio(quantity.value, mine.value) if not math.isinf(quantity.value) else 0.0
        if distance > UNRELATED:
            continue
        rivals = [facts[o.promise].duration for o in links if o.promise != link.promise]
        if any(r is not None and _ratio(quantity.value, r.value) < distance for r in rivals):
            continue
        out.append(quantity)
    return out


def _negated(text: str, cues: ClaimCues) -> bool:
    return bool(cues.negations.search(text))


def _contradiction(
    sentence: Sentence,
    fact: PromiseFacts,
    durations: list[Quantity],
    found: list[Quantity],
    cues: ClaimCues,
) -> tuple[tuple[int, int] | None, dict[str, Any]] | None:
    text = sentence.text
    stop = cues.stops.search(text)
    if stop:
        return None, {"reason": "no_longer", "cue": stop.group()}
    for name in sorted(fact.polar):
        hit = cues.polar[name].search(text)
        if hit and not _negated(text, cues):
            return None, {"reason": "does_what_promise_rules_out", "cue": hit.group()}
    if fact.free or "hidden costs" in fact.polar:
        charges = [q for q in found if q.kind == "money" and not q.threshold]
        charge = cues.charges.search(text)
        if (charges or charge) and not (fact.free and cues.free.search(text)):
            draft = (
                charges[0].as_evidence() if charges else {"text": charge.group() if charge else ""}
            )
            return None, {"reason": "charges", "draft": draft}
    promised = fact.duration
    for quantity in durations:
        if promised is None:
            break
        slower = quantity.value > promised.value * (1 + TOLERANCE)
        shorter = quantity.value < promised.value * (1 - TOLERANCE)
        if (slower and not fact.window) or (shorter and fact.window):
            return None, {
                "reason": "duration",
                "draft": quantity.as_evidence(),
                "promise": promised.as_evidence(),
            }
    return None


def _excess(
    sentence: Sentence,
    fact: PromiseFacts,
    durations: list[Quantity],
    found: list[Quantity],
    cues: ClaimCues,
) -> tuple[tuple[int, int] | None, dict[str, Any]] | None:
    promised = fact.duration
    for quantity in durations:
        if promised is None:
            break
        faster = quantity.value < promised.value * (1 - TOLERANCE)
        longer = quantity.value > promised.value * (1 + TOLERANCE)
        if (faster and not fact.window) or (longer and fact.window):
            evidence = {"draft": quantity.as_evidence(), "promise": promised.as_evidence()}
            return (quantity.start, quantity.end), evidence
    for kind, promised_q, more in (("money", fact.money, False), ("percent", fact.percent, True)):
        if promised_q is None:
            continue
        for quantity in found:
            if quantity.kind != kind or quantity.threshold:
                continue
            beyond = (
                quantity.value > promised_q.value if more else quantity.value < promised_q.value
            )
            if beyond:
                evidence = {"draft": quantity.as_evidence(), "promise": promised_q.as_evidence()}
                return (quantity.start, quantity.end), evidence
    free = cues.free.search(sentence.text)
    if free and fact.money is not None and not fact.free:
        return (free.start(), free.end()), {
            "draft": {"text": free.group()},
            "promise": fact.money.as_evidence(),
        }
    return None


def _absolute(
    sentence: Sentence, fact: PromiseFacts, cues: ClaimCues
) -> tuple[tuple[int, int] | None, dict[str, Any]] | None:
    text = sentence.text
    idioms = [(m.start(), m.end()) for m in cues.idioms.finditer(text)]
    for match in cues.absolutes.finditer(text):
        word = match.group().lower()
        if any(a <= match.start() < b for a, b in idioms) or word in fact.absolutes:
            continue
        if word in ("nooit", "never") and fact.negated:
            continue
        return (match.start(), match.end()), {"absolute": match.group()}
    return None


def judge_link(
    sentence: Sentence,
    link: Link,
    links: Sequence[tuple[int, float]],
    facts: Sequence[PromiseFacts],
    cues: ClaimCues,
) -> Verdict:
    """Decide what ``sentence`` does to the promise of ``link`` (see the module doc)."""
    fact = facts[link.promise]
    all_links = [Link(p, s) for p, s in links]
    found = _outside_quotes(sentence, parse_quantities(sentence.text, cues))
    durations = _own_durations(link, all_links, facts, found)
    contradiction = _contradiction(sentence, fact, durations, found, cues)
    if contradiction is not None:
        span, evidence = contradiction
        return Verdict("promise.contradicts", link.promise, link.similarity, span, evidence)
    excess = _excess(sentence, fact, durations, found, cues)
    if excess is not None:
        span, evidence = excess
        return Verdict("promise.exceeds", link.promise, link.similarity, span, evidence)
    beyond = _beyond(sentence, [facts[o.promise] for o in all_links], cues)
    if beyond is not None:
        return Verdict("promise.new_claim", link.promise, link.similarity, None, beyond)
    absolute = _absolute(sentence, fact, cues)
    if absolute is not None:
        span, evidence = absolute
        return Verdict("promise.exceeds", link.promise, link.similarity, span, evidence)
    return Verdict("promise.supports", link.promise, link.similarity)


def _beyond(
    sentence: Sentence, linked: Sequence[PromiseFacts], cues: ClaimCues
) -> dict[str, Any] | None:
    """A claim next to the linked promises: "free" none of them offers, a superlative."""
    free = cues.free.search(sentence.text)
    if free and not any(f.free or f.money is not None for f in linked):
        return {"cue": free.group()}
    superlative = cues.superlatives.search(sentence.text)
    if superlative:
        return {"cue": superlative.group()}
    return None


_QUESTION = re.compile(r"\?\s*$")


def new_claim_cue(sentence: Sentence, cues: ClaimCues) -> str | None:
    """The commitment cue in a sentence no promise covers, or ``None`` (questions aside)."""
    text = sentence.text
    if _QUESTION.search(text):
        return None
    for expression in (cues.free, cues.superlatives, cues.commitments, cues.absolutes):
        match = expression.search(text)
        if match:
            return match.group()
    for quantity in parse_quantities(text, cues):
        if not quantity.threshold:
            return quantity.text
    return None
