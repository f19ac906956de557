"""A claim read into comparable parts: what is measured, how much, for whom, and how firmly.

A promise ("Onze klantenservice reageert binnen 2 uur, 7 dagen per week") and a sentence
of a draft ("We answer every DM within 30 minutes, 24/7") are both read into the same
:class:`Part` kinds, so that :mod:`klopt.checking.claims.compare` can set them side by
side:

* ``duration`` (hours), ``money`` (euro; ``role="threshold"`` after "vanaf"/"over"),
  ``percent`` -- from :func:`~klopt.checking.claims.quantities.parse_quantities`, each
  with the **measure** named closest to it (a response, a delivery, a repair, a refund, a
  window the customer has, a price, ...);
* ``clock`` (hour of the day) with its role: ``end`` ("tot 22:00", a closing time or an
  order cut-off: later is more), ``deadline`` ("voor 12:00 bezorgd": earlier is more) or
  ``start`` ("vanaf 8:00": earlier is more);
* ``availability``: 1 on weekdays, 2 every day, 3 around the clock;
* ``universal`` (a scope without limit: "op alles", "met niemand") and ``restriction`` (a
  narrower scope or a condition: "alleen voor leden", "only on weekdays");
* modality: ``stop`` ("niet meer", "no longer"), ``suspension`` ("tijdelijk niet",
  "until further notice", "closed"), ``absolute`` ("gegarandeerd", "24/7", "always");
* price words: ``free``, ``negated_free`` ("niet gratis"), ``charge`` ("toeslag", "fee"),
  ``no_minimum``.

Cue words are data (``klopt/data/claims.yaml``); reading them into parts is this module.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from klopt.checking.claims.cues import ClaimCues, alternatives, load_claim_cues, number_words
from klopt.checking.claims.quantities import Quantity, mask, parse_quantities

__all__ = ["ClaimParts", "Part", "read_parts"]

#: How far (in characters) a measure word may stand from the amount it names.
MEASURE_REACH = 60


@dataclass(frozen=True)
class Part:
    """One comparable part of a claim, with where it stands in the text it was read from.

    Attributes:
        kind: see the module doc (``duration``, ``clock``, ``availability``, ...).
        value: the amount (hours, euro, percent, hour of the day, availability level);
            ``1.0`` for parts that are only there or not (``restriction``, ``stop``, ...).
        text: the words as written.
        start: offset of ``text``.
        end: end offset.
        measure: what a duration, amount or clock time measures, when a word says so.
        role: ``threshold`` for money; ``end``/``deadline``/``start`` for clock times.
    """

    kind: str
    value: float
    text: str
    start: int
    end: int
    measure: str | None = None
    role: str = ""

    def as_evidence(self) -> dict[str, object]:
        """The part for a finding's evidence (JSON-friendly)."""
        value: object = "infinite" if math.isinf(self.value) else round(self.value, 4)
        out: dict[str, object] = {"kind": self.kind, "value": value, "text": self.text}
        if self.kind in _UNIT:
            out["unit"] = _UNIT[self.kind]
        if self.measure:
            out["measure"] = self.measure
        if self.role:
            out["role"] = self.role
        return out


_UNIT = {"duration": "hours", "money": "EUR", "percent": "%", "clock": "hour of day"}


@dataclass(frozen=True)
class ClaimParts:
    """The parts of one text, in text order."""

    text: str
    parts: tuple[Part, ...]
    measures: frozenset[str] = frozenset()

    def of(self, kind: str) -> list[Part]:
        """The parts of ``kind``."""
        return [p for p in self.parts if p.kind == kind]

    def first(self, kind: str) -> Part | None:
        """The first part of ``kind``, or ``None``."""
        return next((p for p in self.parts if p.kind == kind), None)

    def has(self, kind: str) -> bool:
        """Whether a part of ``kind`` is there."""
        return any(p.kind == kind for p in self.parts)


_HOUR = r"(?:[01]?\d|2[0-4])"
_CLOCK_DIGITS = re.compile(
    rf"(?<![\w.,:/€$])(?P<h>{_HOUR})(?:[.:](?P<m>[0-5]\d))?\s?(?P<ap>a\.?m\.?|p\.?m\.?)(?!\w)"
    rf"|(?<![\w.,:/€$])(?<!€ )(?P<h2>{_HOUR})[.:](?P<m2>[0-5]\d)(?:\s?(?:uur|u|h)\b)?"
    r"(?![\d.,]\d)(?!\s?(?:%|euro\b|eur\b|procent\b|percent\b))",
    re.IGNORECASE,
)
# "voor 22 uur", "tot 17 uur", "vanaf 8 uur": a bare hour is a clock time only after such
# a word; "binnen 2 uur" stays a duration.
_CLOCK_HOUR = re.compile(
    rf"\b(?:voor|vóór|tot|vanaf|om|na|uiterlijk)\s+(?P<h>{_HOUR})\s?uur\b"
    # "tot 5 uur duren" is how long, not until when
    r"(?!\s+(?:duren|duurt|wachten|lang|langer|later|extra)\b)",
    re.IGNORECASE,
)
_RANGE = re.compile(r"^\s*(?:-|–|—|tot|to|until|till|t/m)\s*$", re.IGNORECASE)
_FROM_TO = re.compile(
    rf"\b(?:van|from)\s+(?P<a>{_HOUR})(?:[.:](?P<am>[0-5]\d))?\s*(?:uur\s+)?"
    rf"(?:tot|to|until|till|-|–)\s*(?P<b>{_HOUR})(?:[.:](?P<bm>[0-5]\d))?\s*(?:uur|u|h)\b",
    re.IGNORECASE,
)


@cache
def _clock_word_pattern(cues: ClaimCues) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{alternatives(cues.clock_words)})(?!\w)", re.IGNORECASE)


@cache
def _counted(cues: ClaimCues) -> re.Pattern[str]:
    return re.compile(rf"(?:\d|(?<!\w)(?:{number_words(cues)}))[\s-]*$", re.IGNORECASE)


@cache
def _day_part_pattern(cues: ClaimCues) -> re.Pattern[str]:
    words, parts = number_words(cues), alternatives(cues.clock_day_parts)
    return re.compile(
        rf"(?<![\w.,])(?P<h>\d{{1,2}}|{words})\s+(?:uur\s+)?(?P<part>{parts})(?!\w)", re.IGNORECASE
    )


def _hour(h: str, m: str | None, ampm: str | None) -> float:
    value = int(h) + (int(m) / 60 if m else 0.0)
    if ampm:
        pm = ampm.lower().startswith("p")
        if pm and value < 12:
            value += 12
        if not pm and value >= 12:
            value -= 12
    return value


def _clocks(text: str, cues: ClaimCues) -> list[Part]:
    """Clock times with their role (end, deadline or start), ranges as start and end."""
    found: list[tuple[int, int, float, str]] = []  # start, end, hour, forced role
    taken: list[tuple[int, int]] = []
    for match in _FROM_TO.finditer(text):
        a, b = _hour(match["a"], match["am"], None), _hour(match["b"], match["bm"], None)
        found += [(match.start("a"), match.end("a"), a, "start")]
        found += [(match.start("b"), match.end(), b, "end")]
        taken.append(match.span())
    work = mask(text, taken)
    for match in _CLOCK_DIGITS.finditer(work):
        h, m = match["h"] or match["h2"], match["m"] if match["h"] else match["m2"]
        found.append((match.start(), match.end(), _hour(h, m, match["ap"]), ""))
    work = mask(work, [(s, e) for s, e, _, _ in found])
    for match in _CLOCK_HOUR.finditer(work):
        found.append((match.start("h"), match.end(), float(match["h"]), ""))
    for match in _clock_word_pattern(cues).finditer(work):
        key = " ".join(match.group().lower().split())
        found.append((match.start(), match.end(), cues.clock_words[key], ""))
    work = mask(work, [(s, e) for s, e, _, _ in found])
    for match in _day_part_pattern(cues).finditer(work):
        number = match["h"].lower()
        hour = cues.numbers.get(number) or (float(number) if number.isdigit() else None)
        if hour is None or hour > 12:
            continue
        offset = cues.clock_day_parts[" ".join(match["part"].lower().split())]
        found.append((match.start(), match.end(), hour + offset if hour < 12 else hour, ""))
    found.sort()
    parts: list[Part] = []
    for index, (start, end, hour, forced) in enumerate(found):
        role = forced
        # "8:00–22:00": a range is a start and an end.
        following = index + 1 < len(found) and not found[index + 1][3]
        if not role and following and _RANGE.match(text[end : found[index + 1][0]]):
            role = "start"
        after_start = index > 0 and bool(parts) and parts[-1].role == "start"
        if not role and after_start and _RANGE.match(text[found[index - 1][1] : start]):
            role = "end"
        if not role:
            before = text[max(0, start - 16) : start]
            closing = cues.closing_words.match(text, end + 1) or cues.closing_words.match(text, end)
            if closing or cues.closing_words.search(text[max(0, start - 24) : start]):
                role = "end"
            elif cues.clock_start.search(before):
                role = "start"
            elif cues.clock_end.search(before):
                role = "end"
            else:
                role = "at"
        if role == "end":
            if hour == 0:
                hour = 24.0
            around = text[max(0, start - 50) : end + 50]
            if not cues.order_words.search(around) and cues.deadline_words.search(around):
                role = "deadline"
        parts.append(Part("clock", hour, text[start:end], start, end, role=role))
    return parts


@cache
def _share_pattern(cues: ClaimCues) -> re.Pattern[str]:
    number = rf"(?:\d+|{number_words(cues)})"
    joins = alternatives(cues.share_words)
    return re.compile(
        rf"(?<![\w.,])(?P<n>{number})\s+(?:{joins})\s+(?P<m>{number})(?![\w.,]\d)(?!\s*(?:%|uur|hours?|min))",
        re.IGNORECASE,
    )


def _shares(text: str, cues: ClaimCues) -> list[Part]:
    """Shares written as "9 van de 10" or "nine in ten", as percentages."""
    out = []
    for match in _share_pattern(cues).finditer(text):
        try:
            n, m = (cues.numbers.get(g.lower()) or float(g) for g in (match["n"], match["m"]))
        except ValueError:
            continue
        if m in (0, None) or n is None or n > m or m > 1000:
            continue
        out.append(Part("percent", 100 * n / m, match.group(), match.start(), match.end()))
    return out


def _money_role(quantity: Quantity, text: str, cues: ClaimCues) -> str:
    """``threshold`` ("vanaf € 20", "€ 35 or more"), ``cap`` ("tot € 500") or ``""``."""
    if quantity.kind != "money":
        return ""
    after = text[quantity.end : quantity.end + 14].lstrip()
    if quantity.threshold or cues.threshold_after.match(after):
        return "threshold"
    if cues.cap_words.search(text[max(0, quantity.start - 12) : quantity.start]):
        return "cap"
    return ""


@cache
def _amount_pattern(cues: ClaimCues) -> re.Pattern[str]:
    units = alternatives(cues.amount_units)
    return re.compile(
        rf"(?<![\w.,])(?P<n>\d+(?:[.,]\d+)?)\s?(?P<unit>{units})(?![\w/])", re.IGNORECASE
    )


def _amounts(text: str, cues: ClaimCues) -> list[Part]:
    """Amounts in other units ("8 kg", "100 Mbit/s"); the unit is their measure."""
    return [
        Part(
            "amount",
            float(m["n"].replace(",", ".")),
            m.group(),
            m.start(),
            m.end(),
            measure=cues.amount_units[m["unit"].lower()],
        )
        for m in _amount_pattern(cues).finditer(text)
    ]


def _matches(kind: str, expression: re.Pattern[str], text: str, value: float = 1.0) -> list[Part]:
    return [Part(kind, value, m.group(), m.start(), m.end()) for m in expression.finditer(text)]


def _measure(part: Part, marks: list[tuple[int, int, str]]) -> str | None:
    """The measure whose word stands closest to ``part`` (within :data:`MEASURE_REACH`)."""
    best: tuple[int, str | None] = (MEASURE_REACH + 1, None)
    for start, end, name in marks:
        distance = start - part.end if start >= part.end else part.start - end
        distance = max(distance, 0)
        if distance < best[0]:
            best = (distance, name)
    return best[1]


def read_parts(text: str, cues: ClaimCues | None = None) -> ClaimParts:
    """Read ``text`` (a sentence of a draft, or a promise) into its comparable parts."""
    cues = cues or load_claim_cues()
    parts: list[Part] = []
    counted = _counted(cues)
    for level, expression in sorted(cues.availability.items()):
        parts += [
            p
            for p in _matches("availability", expression, text, float(level))
            # "binnen 3 werkdagen" is a duration; "op werkdagen" is when; "don't keep
            # office hours" says nothing about them.
            if not counted.search(text[max(0, p.start - 14) : p.start])
            and not cues.negations.search(text[max(0, p.start - 16) : p.start])
        ]
    shares = _shares(text, cues)
    parts += shares
    work = mask(text, [(p.start, p.end) for p in parts])
    clocks = _clocks(work, cues)
    work = mask(work, [(p.start, p.end) for p in clocks])
    quantities = [
        Part(q.kind, q.value, q.text, q.start, q.end, role=_money_role(q, text, cues))
        for q in parse_quantities(work, cues)
        # "een dag later", "22 minutes late": a shift in time, not a deadline
        if q.kind != "duration" or not cues.shift_words.match(text[q.end : q.end + 14].lstrip())
    ]
    quantities += _amounts(work, cues)
    marks = [
        (m.start(), m.end(), name)
        for name, expression in cues.measures.items()
        for m in expression.finditer(text)
    ]
    parts += [
        Part(p.kind, p.value, p.text, p.start, p.end, p.measure or _measure(p, marks), p.role)
        for p in [*clocks, *quantities]
    ]
    exceptions = [m.span() for m in cues.restriction_exceptions.finditer(text)]
    restrictions = sorted(
        (
            Part(p.kind, p.value, p.text, p.start, p.end, role=group)
            for group, expression in cues.restrictions.items()
            for p in _matches("restriction", expression, text)
            if not any(a <= p.start < b for a, b in exceptions)
        ),
        key=lambda p: (p.start, -(p.end - p.start)),
    )
    for part in restrictions:  # "alleen als" is a condition, not also "alleen"
        if not any(
            o is not part
            and o.start <= part.start
            and part.end <= o.end
            and (o.end - o.start) > (part.end - part.start)
            for o in restrictions
        ):
            parts.append(part)
    idioms = [m.span() for m in cues.idioms.finditer(text)]
    parts += [
        p
        for p in _matches("absolute", cues.absolutes, text)
        if not any(a <= p.start < b for a, b in idioms)
    ]
    negated_free = _matches("negated_free", cues.negated_free, text)
    parts += negated_free
    parts += [
        p
        for p in _matches("free", cues.free, text)
        if not any(n.start <= p.start < n.end for n in negated_free)
    ]
    idiomatic = [m.span() for m in cues.stop_idioms.finditer(text)]
    parts += [
        p
        for p in _matches("stop", cues.stops, text)
        if not any(a <= p.start < b for a, b in idiomatic)
    ]
    for kind, expression in (
        ("universal", cues.universals),
        ("suspension", cues.suspensions),
        ("no_minimum", cues.no_minimum),
        ("increase", cues.increases),
        ("extension", cues.extensions),
    ):
        parts += _matches(kind, expression, text)
    # "geen verzendkosten" is no charge: a negation just before the word takes it away.
    parts += [
        p
        for p in _matches("charge", cues.charges, text)
        if not cues.negations.search(text[max(0, p.start - 18) : p.start])
    ]
    ordered = tuple(sorted(parts, key=lambda p: (p.start, p.kind)))
    return ClaimParts(text, ordered, frozenset(name for _, _, name in marks))
