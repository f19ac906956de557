"""Durations, money and percentages in Dutch and English text, normalised.

``"binnen 3 werkdagen"`` is 72 hours, ``"morgen in huis"`` 24, ``"same-day"`` 12,
``"voor altijd"`` infinite; ``"€ 4,95"`` and ``"€4.95"`` are both 4.95 euro;
``"100 procent"`` is 100 percent. Clock times (``"vóór 22.00 uur"``, ``"10 pm"``) and
``24/7`` are not durations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from klopt.checking.claims.cues import ClaimCues, alternatives, load_claim_cues, number_words

__all__ = ["Quantity", "mask", "parse_quantities"]


@dataclass(frozen=True)
class Quantity:
    """One amount found in a text.

    Attributes:
        kind: ``duration`` (value in hours), ``money`` (euro) or ``percent``.
        value: the normalised amount; for a range ("3 tot 5 werkdagen") the upper end.
        text: the words as written.
        start: offset of ``text`` in the parsed string.
        end: end offset.
        threshold: money after "vanaf"/"over" etc. (a condition, not a charge).
    """

    kind: str
    value: float
    text: str
    start: int
    end: int
    threshold: bool = False

    def as_evidence(self) -> dict[str, object]:
        """The quantity for a finding's evidence (JSON-friendly)."""
        value: object = "infinite" if self.value == float("inf") else round(self.value, 4)
        return {"kind": self.kind, "value": value, "unit": _UNIT[self.kind], "text": self.text}


_UNIT = {"duration": "hours", "money": "EUR", "percent": "%"}
_NUM = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d+)?"
_THOUSANDS = re.compile(r"^(\d{1,3}(?:[.,]\d{3})+)(?:[.,](\d{1,2}))?$")


def _amount(text: str) -> float:
    """``"10.000"`` and ``"1,000"`` are thousands, ``"4,95"`` and ``"4.95"`` decimals."""
    grouped = _THOUSANDS.match(text)
    if grouped:
        whole = re.sub(r"[.,]", "", grouped.group(1))
        return float(f"{whole}.{grouped.group(2) or 0}")
    return float(text.replace(",", "."))


# A number that must come first starts where its digits start ((?<!\d)): tried from every
# digit of a long run of digits, the search would take quadratic time.
_MONEY = re.compile(
    rf"(?:€|£|\$|eur\b|euro\b|gbp\b)\s?(?P<a>{_NUM})(?:,-)?"
    rf"|(?<!\d)(?P<b>{_NUM})\s?(?:€|euro\b|eur\b|pond\b|pounds?\b|gbp\b)"
    r"|(?<![\w.,])(?P<p>\d{1,2})p\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(rf"(?<!\d)(?P<n>{_NUM})\s?(?:%|procent\b|percent\b)", re.IGNORECASE)
_CLOCK = re.compile(
    r"\b\d{1,2}[.:]\d{2}(?:\s?uur)?\b|\b\d{1,2}\s?(?:am|pm|a\.m\.|p\.m\.)(?!\w)|\b24/7\b",
    re.IGNORECASE,
)


@cache
def _duration_pattern(cues: ClaimCues) -> re.Pattern[str]:
    number = rf"(?:{_NUM}|{number_words(cues)})"
    unit = alternatives(cues.units, r"[\s-]+")
    return re.compile(
        rf"(?<![\w.,])(?P<n>{number})(?:\s*(?:tot|to|-|–|a|à)\s*(?P<m>{number}))?"
        # `\s*(?:-\s*)?`, not `\s*-?\s*`: two runs of spaces side by side split a long
        # run of spaces in quadratically many ways before the unit fails to match.
        rf"\s*(?:-\s*)?(?P<unit>{unit})(?!\w)",
        re.IGNORECASE,
    )


@cache
def _phrase_pattern(cues: ClaimCues) -> re.Pattern[str]:
    body = alternatives(cues.phrases, r"[\s-]+")
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def _number(word: str, cues: ClaimCues) -> float:
    lowered = word.lower()
    if lowered in cues.numbers:
        return cues.numbers[lowered]
    return _amount(lowered)


def mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with ``spans`` blanked out (same length, so offsets stay), in one pass.

    Once per kind of amount, not once per amount: a copy of the text per amount would
    make a text with many amounts take quadratic time. Spans may come in any order and
    overlap.
    """
    parts, position = [], 0
    for start, end in sorted(spans):
        start = max(start, position)
        if end <= start:
            continue
        parts += [text[position:start], " " * (end - start)]
        position = end
    if not parts:
        return text
    parts.append(text[position:])
    return "".join(parts)


def _unit_hours(unit: str, cues: ClaimCues) -> float:
    return cues.units[" ".join(re.split(r"[\s-]+", unit.lower()))]


def parse_quantities(text: str, cues: ClaimCues | None = None) -> list[Quantity]:
    """Every duration, amount of money and percentage in ``text``, in text order."""
    cues = cues or load_claim_cues()
    found: list[Quantity] = []
    for match in _MONEY.finditer(text):
        if match.group("p"):
            amount = int(match.group("p")) / 100  # pence
        else:
            amount = _amount(match.group("a") or match.group("b"))
        before = text[max(0, match.start() - 14) : match.start()]
        threshold = bool(cues.thresholds.search(before))
        found.append(
            Quantity("money", amount, match.group(), match.start(), match.end(), threshold)
        )
    work = mask(text, [(q.start, q.end) for q in found])
    percents = [
        Quantity("percent", float(m.group("n").replace(",", ".")), m.group(), m.start(), m.end())
        for m in _PERCENT.finditer(work)
    ]
    found += percents
    work = mask(work, [(q.start, q.end) for q in percents])
    work = mask(work, [m.span() for m in _CLOCK.finditer(work)])
    durations = []
    for match in _duration_pattern(cues).finditer(work):
        upper = match.group("m") or match.group("n")
        hours = _number(upper, cues) * _unit_hours(match.group("unit"), cues)
        durations.append(Quantity("duration", hours, match.group(), match.start(), match.end()))
    found += durations
    work = mask(work, [(q.start, q.end) for q in durations])
    for match in _phrase_pattern(cues).finditer(work):
        key = " ".join(re.split(r"[\s-]+", match.group().lower()))
        hours = cues.phrases.get(key, cues.phrases.get(match.group().lower(), 0.0))
        found.append(Quantity("duration", hours, match.group(), match.start(), match.end()))
    return sorted(found, key=lambda q: q.start)
