"""Compare a sentence's claim with a promise, part by part: does it give more, or less?

Both sides are read into :class:`~klopt.checking.claims.parts.Part` s. The comparison goes
part by part, and a take-back outranks an excess (a draft that suspends a promise *and*
names a faster deadline takes it back):

========================  ============================================  ==================
part                      less (``contradicts``)                        more (``exceeds``)
========================  ============================================  ==================
modality                  "niet meer" / "no longer"; a suspension        --
                          ("tijdelijk niet", "until further notice",
                          "closed") the promise does not have
never-promise             doing what it rules out ("we share your data") a wider "never"
                                                                         ("met niemand")
price                     a fee, a surcharge or "niet gratis" against     "free" or a lower
                          free / no hidden costs; a higher price          price
condition                 a new restriction ("alleen voor leden"); a      "geen minimum"; a
                          higher threshold ("vanaf € 50" vs € 20)         lower threshold
duration (same measure)   slower deadline; shorter window                 faster; longer
clock time (same role)    earlier cut-off or closing; later delivery      the other way
availability              fewer days or hours (weekdays vs every day)     more (24/7)
percentage                lower                                           higher
scope                     --                                              everything where
                                                                          the promise names
                                                                          what it covers
========================  ============================================  ==================

Each :class:`Difference` carries both parts compared, which the finding shows as evidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from klopt.checking.claims.cues import ClaimCues, stems
from klopt.checking.claims.parts import ClaimParts, Part, read_parts

__all__ = ["Difference", "PromiseParts", "compare"]

TOLERANCE = 0.02
"""Relative difference below which two amounts are the same ("60 minuten" = "een uur")."""
UNRELATED = 2.0
"""Durations more than this many orders of magnitude apart are about different things."""
UNRELATED_MONEY = 1.0
"""Amounts of money more than ten times apart are about different things."""
CLOCK_TOLERANCE = 1 / 60
"""Clock times less than a minute apart are the same."""


@dataclass(frozen=True)
class Difference:
    """What a sentence changes about a promise.

    Attributes:
        direction: ``less`` (takes back, a contradiction) or ``more`` (an excess).
        reason: which part differs (``duration``, ``clock``, ``suspension``, ...).
        draft: the sentence's part, or ``None`` when the promise's part is missing there.
        promise: the promise's part it was compared with, or ``None`` when the promise
            has no such part (a suspension, a new restriction).
    """

    direction: str
    reason: str
    draft: Part | None
    promise: Part | None

    def evidence(self) -> dict[str, object]:
        """The two parts compared, JSON-friendly."""
        out: dict[str, object] = {"reason": self.reason}
        if self.draft is not None:
            out["draft"] = self.draft.as_evidence()
        if self.promise is not None:
            out["promise"] = self.promise.as_evidence()
        return out


@dataclass(frozen=True)
class PromiseParts:
    """A promise's parts, read from its statement first and then its paraphrases."""

    parts: ClaimParts
    window: bool
    free: bool
    negated: bool
    polar: frozenset[str]
    absolutes: frozenset[str]
    scope_nouns: frozenset[str]
    parties: bool
    stems: frozenset[str]
    lowered: str

    @classmethod
    def of(cls, texts: Sequence[str], cues: ClaimCues) -> PromiseParts:
        """Read the parts of a promise's ``texts`` (statement, then paraphrases).

        Of each kind, the parts of the first text that has that kind are kept, so a
        paraphrase fills in what the statement leaves out but does not add a second
        deadline that is only its rounding.
        """
        kept: list[Part] = []
        seen: set[str] = set()
        measures: set[str] = set()
        for text in texts:
            read = read_parts(text, cues)
            kinds = {p.kind for p in read.parts} - seen
            kept += [p for p in read.parts if p.kind in kinds]
            seen |= kinds
            measures |= read.measures
        joined = " \n ".join(texts)
        nouns = {
            m.group(1).lower()[:5]
            for text in texts
            for m in re.finditer(
                rf"{cues.scope_determiners.pattern}\s+([^\W\d_]{{4,}})", text, re.IGNORECASE
            )
        }
        # "Geen opzegvergoeding", "no admin fee": free, as much as "gratis" is.
        no_charge = any(
            cues.negations.search(joined[max(0, m.start() - 18) : m.start()])
            for m in cues.charges.finditer(joined)
        )
        return cls(
            parts=ClaimParts(texts[0] if texts else "", tuple(kept), frozenset(measures)),
            window=_duration_kind(kept, texts, cues) in ("window", "opening"),
            free=bool(cues.free.search(joined)) or no_charge,
            negated=bool(cues.negations.search(joined)),
            polar=frozenset(name for name, p in cues.polar.items() if p.search(joined)),
            absolutes=frozenset(m.group().lower() for m in cues.absolutes.finditer(joined)),
            scope_nouns=frozenset(nouns),
            parties=bool(texts) and bool(cues.named_parties.search(texts[0])),
            stems=frozenset(stems(joined, cues, 4)),
            lowered=" ".join(joined.lower().split()),
        )

    @property
    def duration(self) -> Part | None:
        """The promise's own duration (not a threshold)."""
        return self.parts.first("duration")


def _duration_kind(parts: Sequence[Part], texts: Sequence[str], cues: ClaimCues) -> str:
    """What the promise's duration is: ``window`` or ``opening`` (longer is more),
    ``deadline`` or ``cutoff`` (shorter is more).

    The words around it decide first: "X uur voor vertrek" is an opening after "vanaf",
    else a cut-off; "tot 28 dagen na de reisdatum", "30 dagen om te retourneren" are
    windows; "binnen 14 dagen" is a deadline. Then what it measures ("refund within 14
    days" is a deadline even in a promise that also speaks of returns), then any window
    word in the promise.
    """
    duration = next((p for p in parts if p.kind == "duration"), None)
    if duration is None:
        return "window" if cues.window.search(" ".join(texts)) else "deadline"
    text = next((t for t in texts if t[duration.start : duration.end] == duration.text), "")
    before = text[max(0, duration.start - 12) : duration.start]
    after = text[duration.end : duration.end + 14].lstrip()
    if text and cues.advance_after.match(after):
        return "opening" if cues.advance_opening.search(before) else "cutoff"
    if text and (cues.window_before.search(before) or cues.window_after.match(after)):
        return "window"
    if text and cues.deadline_before.search(before) and duration.measure != "window":
        return "deadline"
    if duration.measure is not None:
        return "window" if duration.measure == "window" else "deadline"
    return "window" if cues.window.search(" ".join(texts)) else "deadline"


def _restates(sentence: str, part: Part, promise: PromiseParts, cues: ClaimCues) -> bool:
    """Whether the words after a restriction or extension are the promise's own.

    "alleen bij een variabel contract" against a promise about variable contracts restates
    its condition; "alleen als je binnen 24 uur aangifte doet" adds one.
    """
    after = " ".join(sentence[part.end :].split()[:6])
    before = sentence[: part.start].split()[-1:]
    if before and f"{before[0].lower()} {part.text.lower()}" in promise.lowered:
        return True  # "SIM Only" is the product's name, in the promise too
    if stems(after, cues, 4) & promise.stems:
        return True
    theirs = {(p.kind, round(p.value, 3)) for p in promise.parts.parts}
    return any((p.kind, round(p.value, 3)) in theirs for p in read_parts(after, cues).parts)


def _overlaps(part: Part, others: Sequence[Part]) -> bool:
    return any(o.start < part.end and part.start < o.end for o in others)


def _ratio(a: float, b: float) -> float:
    if math.isinf(a) or math.isinf(b):
        return 0.0 if a == b else math.inf
    if a <= 0 or b <= 0:
        return math.inf
    return abs(math.log10(a / b))


def _same_measure(a: Part, b: Part) -> bool:
    return a.measure is None or b.measure is None or a.measure == b.measure


def own_durations(
    found: Sequence[Part],
    promise: PromiseParts,
    rivals: Sequence[PromiseParts],
    measures: frozenset[str] = frozenset(),
) -> list[Part]:
    """The durations of the sentence that are about ``promise``.

    A duration that names another measure than the promise's is about something else; with
    several timed promises linked, each duration goes to the one of its measure whose own
    amount is closest; amounts wildly off the promise's are about something else.
    """
    mine = promise.duration
    if mine is None:
        return []
    # The closest measure word decides, or the promise's measure named in the sentence.
    named = mine.measure is not None and mine.measure in measures
    out = []
    for part in found:
        if part.kind != "duration" or not (_same_measure(part, mine) or named):
            continue
        distance = _ratio(part.value, mine.value) if not math.isinf(part.value) else 0.0
        if distance > UNRELATED:
            continue
        # A duration of exactly this promise's measure is contested by that measure only.
        exact = part.measure is not None and part.measure == mine.measure
        rival_durations = [
            r.duration
            for r in rivals
            if r.duration is not None
            and (r.duration.measure == part.measure if exact else _same_measure(part, r.duration))
        ]
        if any(_ratio(part.value, r.value) < distance for r in rival_durations):
            continue
        out.append(part)
    return out


def _durations(found: list[Part], promise: PromiseParts) -> Difference | None:
    promised = promise.duration
    if promised is None:
        return None
    for part in found:
        if promise.window:
            less = part.value < promised.value * (1 - TOLERANCE)
            more = part.value > promised.value * (1 + TOLERANCE)
        else:
            less = part.value > promised.value * (1 + TOLERANCE)
            more = part.value < promised.value * (1 - TOLERANCE)
        if less or more:
            return Difference("less" if less else "more", "duration", part, promised)
    return None


def _clocks(parts: ClaimParts, promise: PromiseParts) -> Difference | None:
    theirs = [p for p in promise.parts.of("clock") if p.role != "at"]
    for part in parts.of("clock"):
        if part.role == "at":
            continue
        ends = ("end", "deadline")
        same = [p for p in theirs if p.role == part.role or (p.role in ends and part.role in ends)]
        for promised in same:
            if (
                not _same_measure(part, promised)
                or abs(part.value - promised.value) < CLOCK_TOLERANCE
            ):
                continue
            later = part.value > promised.value
            more = later if promised.role == "end" else not later
            return Difference("more" if more else "less", "clock", part, promised)
    return None


def _money(parts: ClaimParts, promise: PromiseParts, cues: ClaimCues) -> Difference | None:
    theirs = promise.parts.of("money")
    by_role = {role: next((p for p in theirs if p.role == role), None) for role in ("", "cap")}
    threshold = next((p for p in theirs if p.role == "threshold"), None)
    for part in parts.of("money"):
        if part.role == "threshold":
            if threshold is not None and abs(part.value - threshold.value) > 0.005:
                direction = "less" if part.value > threshold.value else "more"
                return Difference(direction, "threshold", part, threshold)
            minimum = not cues.below_words.search(parts.text[max(0, part.start - 14) : part.start])
            if threshold is None and promise.free and by_role[""] is None and minimum:
                return Difference("less", "threshold", part, None)
            continue
        promised = by_role.get(part.role)
        if promised is None or not _same_measure(part, promised):
            continue
        if _ratio(part.value, promised.value) > UNRELATED_MONEY:
            continue
        if abs(part.value - promised.value) > 0.005:
            # A price: lower is more. A cap ("insured up to € 500"): higher is more.
            higher = part.value > promised.value
            more = higher if part.role == "cap" else not higher
            reason = "cap" if part.role == "cap" else "price"
            return Difference("more" if more else "less", reason, part, promised)
    no_minimum = parts.first("no_minimum")
    if no_minimum is not None and threshold is not None:
        return Difference("more", "threshold", no_minimum, threshold)
    return None


def _amounts(parts: ClaimParts, promise: PromiseParts) -> Difference | None:
    """Amounts in the same unit ("5 kg" against "8 kg"): more is more."""
    for part in parts.of("amount"):
        for promised in promise.parts.of("amount"):
            if part.measure == promised.measure and abs(part.value - promised.value) > 1e-9:
                direction = "more" if part.value > promised.value else "less"
                return Difference(direction, "amount", part, promised)
    return None


def _percent(parts: ClaimParts, promise: PromiseParts) -> Difference | None:
    promised = promise.parts.first("percent")
    if promised is None:
        return None
    for part in parts.of("percent"):
        # A discount is compared with a discount only ("10% korting" is not "100% groen").
        discount = (part.measure == "discount") != (promised.measure == "discount")
        if discount or abs(part.value - promised.value) < 1e-9:
            continue
        return Difference(
            "more" if part.value > promised.value else "less", "percent", part, promised
        )
    return None


def _availability(parts: ClaimParts, promise: PromiseParts) -> Difference | None:
    mine = parts.of("availability")
    if not mine:
        return None
    draft = max(mine, key=lambda p: p.value)
    promised = promise.parts.of("availability")
    if promised:
        level = max(promised, key=lambda p: p.value)
        if draft.value != level.value:
            return Difference(
                "more" if draft.value > level.value else "less", "availability", draft, level
            )
        return None
    hours = [p for p in promise.parts.of("clock") if p.role in ("start", "end")]
    if hours and draft.value >= 3:
        return Difference("more", "availability", draft, hours[-1])
    return None


def compare(
    sentence: str,
    parts: ClaimParts,
    promise: PromiseParts,
    rivals: Sequence[PromiseParts],
    cues: ClaimCues,
) -> Difference | None:
    """What ``sentence`` (read into ``parts``) changes about ``promise``, or ``None``.

    ``rivals`` are the other promises the same sentence is linked to: an amount goes to
    the promise it fits best. Take-backs are looked for first, then excesses.
    """
    stop = parts.first("stop")
    if stop is not None:
        return Difference("less", "no_longer", stop, None)
    suspension = parts.first("suspension")
    if (
        suspension is not None
        and not promise.parts.has("suspension")
        and not cues.continuity.search(sentence, suspension.end)
    ):
        return Difference("less", "suspended", suspension, None)
    negated = bool(cues.negations.search(sentence))
    for name in sorted(promise.polar):
        hit = cues.polar[name].search(sentence)
        if hit and not negated:
            part = Part("rules_out", 1.0, hit.group(), hit.start(), hit.end())
            return Difference("less", "does_what_promise_rules_out", part, None)
    if promise.free or "hidden costs" in promise.polar:
        charge = parts.first("negated_free") if promise.free else None
        if charge is None:
            # Against "no hidden costs", an amount is a price, not a hidden cost.
            paying = promise.free and bool(cues.paying.search(sentence))
            charges = [p for p in parts.of("money") if p.role != "threshold" and paying]
            charge = charges[0] if charges else parts.first("charge")
            if charge is not None and promise.free and parts.has("free"):
                charge = None
        if charge is not None:
            return Difference("less", "charges", charge, promise.parts.first("free"))
    increase = parts.first("increase")
    priced = promise.parts.has("money") or "price" in promise.parts.measures
    if increase is not None and priced and not promise.parts.has("increase"):
        return Difference("less", "price", increase, promise.parts.first("money"))
    held = {p.role for p in promise.parts.of("restriction")}
    for restriction in parts.of("restriction"):
        # A condition may repeat the promise's own ("alleen bij een variabel contract");
        # "only", "except" and "for members" narrow it unless the promise says so too.
        restated = restriction.role == "condition" and _restates(
            sentence, restriction, promise, cues
        )
        if restriction.role not in held and not restated:
            return Difference("less", "restricted", restriction, None)
    for extension in parts.of("extension"):  # an addition: the amounts are about it
        if not promise.parts.has("extension") and not _overlaps(
            extension, parts.of("availability")
        ):
            return Difference("more", "scope", extension, None)
    durations = own_durations(parts.of("duration"), promise, rivals, parts.measures)
    difference = (
        _durations(durations, promise)
        or _clocks(parts, promise)
        or _money(parts, promise, cues)
        or _percent(parts, promise)
        or _amounts(parts, promise)
        or _availability(parts, promise)
    )
    if difference is not None:
        return difference
    free = parts.first("free")
    price = next((p for p in promise.parts.of("money") if p.role != "threshold"), None)
    if free is not None and price is not None and not promise.free:
        return Difference("more", "free", free, price)
    universal = parts.first("universal")
    if universal is not None and not promise.parts.has("universal"):
        words = {w.lower()[:5] for w in re.findall(r"[^\W\d_]{4,}", sentence)}
        nobody = cues.nobody.search(universal.text)
        if nobody and promise.parties and not cues.named_parties.search(sentence):
            return Difference("more", "scope", universal, None)
        limited = promise.scope_nouns and not promise.scope_nouns & words
        limited = (
            limited
            or promise.parts.has("restriction")
            or any(p.role == "threshold" for p in promise.parts.of("money"))
        )
        if not nobody and limited:
            return Difference("more", "scope", universal, None)
    return None
