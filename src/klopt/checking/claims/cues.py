"""The claim cues (``klopt/data/claims.yaml``) and the sentences of a draft, with offsets.

Cues are data: absolute words, time units, number words, charge and stop phrases in
Dutch and English. This module loads them once and turns each list into one regular
expression that matches on word boundaries.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "ClaimCues",
    "Sentence",
    "alternatives",
    "load_claim_cues",
    "number_words",
    "pattern",
    "split_draft",
    "stems",
]


def pattern(entries: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive expression for a cue list, longest entries first.

    An entry with a backslash is a regular expression; any other is literal text in
    which a space also matches a hyphen or several spaces.
    """

    def one(entry: str) -> str:
        if "\\" in entry:
            return entry
        return r"[\s-]+".join(re.escape(part) for part in entry.split())

    ordered = sorted(dict.fromkeys(entries), key=len, reverse=True)
    body = "|".join(one(e) for e in ordered) or r"(?!x)x"
    return re.compile(rf"(?<![\w#-]){'(?:' + body + ')'}(?!\w)", re.IGNORECASE)


def alternatives(entries: Iterable[str], gap: str = r"\s+") -> str:
    """The regex body that matches any of ``entries`` (longest first), each entry's words
    joined by ``gap``: the cue phrases that expressions of their own are built from."""
    ordered = sorted(entries, key=len, reverse=True)
    return "|".join(gap.join(re.escape(part) for part in entry.split()) for entry in ordered)


def number_words(cues: ClaimCues) -> str:
    """The regex body of the number words ("twee", "three", "half")."""
    return alternatives(cues.numbers)


_STEM_WORD = {n: re.compile(rf"[^\W\d_]{{{n},}}", re.UNICODE) for n in (3, 4)}


def stems(text: str, cues: ClaimCues, shortest: int = 3) -> set[str]:
    """The first five letters of each word of ``shortest`` letters or more, stop words
    left out: how sentences and promises are told to share words."""
    words = (w.lower() for w in _STEM_WORD[shortest].findall(text))
    return {w[:5] for w in words if w not in cues.stopwords}


@dataclass(frozen=True, eq=False)
class ClaimCues:
    """The compiled cue lists; see ``klopt/data/claims.yaml`` for what each one is for."""

    numbers: Mapping[str, float]
    units: Mapping[str, float]
    phrases: Mapping[str, float]
    window: re.Pattern[str]
    absolutes: re.Pattern[str]
    idioms: re.Pattern[str]
    free: re.Pattern[str]
    superlatives: re.Pattern[str]
    stops: re.Pattern[str]
    stop_idioms: re.Pattern[str]
    shift_words: re.Pattern[str]
    charges: re.Pattern[str]
    thresholds: re.Pattern[str]
    polar: Mapping[str, re.Pattern[str]]
    negations: re.Pattern[str]
    commitments: re.Pattern[str]
    stopwords: frozenset[str]
    measures: Mapping[str, re.Pattern[str]]
    suspensions: re.Pattern[str]
    restrictions: Mapping[str, re.Pattern[str]]
    restriction_exceptions: re.Pattern[str]
    universals: re.Pattern[str]
    scope_determiners: re.Pattern[str]
    named_parties: re.Pattern[str]
    nobody: re.Pattern[str]
    availability: Mapping[int, re.Pattern[str]]
    clock_words: Mapping[str, float]
    clock_day_parts: Mapping[str, float]
    continuity: re.Pattern[str]
    clock_end: re.Pattern[str]
    clock_start: re.Pattern[str]
    order_words: re.Pattern[str]
    deadline_words: re.Pattern[str]
    negated_free: re.Pattern[str]
    no_minimum: re.Pattern[str]
    increases: re.Pattern[str]
    paying: re.Pattern[str]
    cap_words: re.Pattern[str]
    below_words: re.Pattern[str]
    threshold_after: re.Pattern[str]
    amount_units: Mapping[str, str]
    window_before: re.Pattern[str]
    window_after: re.Pattern[str]
    deadline_before: re.Pattern[str]
    advance_after: re.Pattern[str]
    advance_opening: re.Pattern[str]
    extensions: re.Pattern[str]
    closing_words: re.Pattern[str]
    share_words: tuple[str, ...]


def _floats(data: Mapping[str, Any]) -> dict[str, float]:
    return {str(k).lower(): (math.inf if v == ".inf" else float(v)) for k, v in data.items()}


def _words(data: Any) -> list[str]:
    return [str(w) for w in data or ()]


@cache
def load_claim_cues() -> ClaimCues:
    """The cue set shipped with klopt (loaded once per process)."""
    import yaml

    text = resources.files("klopt").joinpath("data", "claims.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return ClaimCues(
        numbers=_floats(data["numbers"]),
        units=_floats(data["units"]),
        phrases=_floats(data["phrases"]),
        window=pattern(_words(data["window_words"])),
        absolutes=pattern(_words(data["absolutes"])),
        idioms=pattern(_words(data["absolute_idioms"])),
        free=pattern(_words(data["free_words"])),
        superlatives=pattern(_words(data["superlatives"])),
        stops=pattern(_words(data["stop_phrases"])),
        stop_idioms=pattern(_words(data["stop_idioms"])),
        shift_words=pattern(_words(data["shift_words"])),
        charges=pattern(_words(data["charge_words"])),
        thresholds=pattern(_words(data["threshold_words"])),
        polar={str(k): pattern(_words(v)) for k, v in data["polar_groups"].items()},
        negations=pattern(_words(data["negations"])),
        commitments=pattern(_words(data["commitments"])),
        stopwords=frozenset(w.lower() for w in _words(data["stopwords"])),
        measures={str(k): pattern(_words(v)) for k, v in data["measures"].items()},
        suspensions=pattern(_words(data["suspensions"])),
        restrictions={str(k): pattern(_words(v)) for k, v in data["restrictions"].items()},
        restriction_exceptions=pattern(_words(data["restriction_exceptions"])),
        universals=pattern(_words(data["universals"])),
        scope_determiners=pattern(_words(data["scope_determiners"])),
        named_parties=pattern(_words(data["named_parties"])),
        nobody=pattern(_words(data["nobody"])),
        availability={int(k): pattern(_words(v)) for k, v in data["availability"].items()},
        clock_words=_floats(data["clock_words"]),
        clock_day_parts=_floats(data["clock_day_parts"]),
        continuity=pattern(_words(data["continuity"])),
        clock_end=pattern(_words(data["clock_end"])),
        clock_start=pattern(_words(data["clock_start"])),
        order_words=pattern(_words(data["order_words"])),
        deadline_words=pattern(_words(data["deadline_words"])),
        negated_free=pattern(_words(data["negated_free"])),
        no_minimum=pattern(_words(data["no_minimum"])),
        increases=pattern(_words(data["increases"])),
        paying=pattern(_words(data["paying"])),
        cap_words=pattern(_words(data["cap_words"])),
        below_words=pattern(_words(data["below_words"])),
        threshold_after=pattern(_words(data["threshold_after"])),
        amount_units={str(k).lower(): str(v) for k, v in data["amount_units"].items()},
        window_before=pattern(_words(data["window_before"])),
        window_after=pattern(_words(data["window_after"])),
        deadline_before=pattern(_words(data["deadline_before"])),
        advance_after=pattern(_words(data["advance_after"])),
        advance_opening=pattern(_words(data["advance_opening"])),
        extensions=pattern(_words(data["extensions"])),
        closing_words=pattern(_words(data["closing_words"])),
        share_words=tuple(_words(data["share_words"])),
    )


@dataclass(frozen=True)
class Sentence:
    """A sentence of a draft: its text and where it stands (``draft[start:end]``)."""

    text: str
    start: int
    end: int
    quoted: bool = False


# A sentence ends at an end mark (and any closing quote) before a space, at a line
# break, or after a run of emoji before a space: posts often end sentences with emoji.
# A run of emoji followed by a space ends a sentence in a post ("Top 🚲 Morgen ...").
# Each run of emoji is matched once, whole (a run tried from each of its emoji would
# take time quadratic in its length); whether a space follows is checked after.
_EMOJI_RUN = re.compile(r"[\U0001F000-\U0001FFFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]+")
_EDGE = re.compile(r"[\s\U0001F000-\U0001FFFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]")
_LEADING = re.compile(r"[\s\U0001F000-\U0001FFFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]+")
# An opening quote is not inside a quotation of its own kind, so that an unclosed one
# ends the search at the next opening quote instead of at the end of the draft.
_QUOTE = re.compile(r"\"[^\"]+\"|“[^“”]+”|„[^„”“]+[”“]|«[^«»]+»")
_WORDISH = re.compile(r"\w", re.UNICODE)


def quote_regions(text: str) -> list[tuple[int, int]]:
    """Character ranges of quoted speech ("..." and typographic quotes), in text order."""
    return [(m.start(), m.end()) for m in _QUOTE.finditer(text)]


def split_draft(text: str) -> list[Sentence]:
    """The sentences of ``text`` with exact offsets; emoji at either end are left out.

    Each line is split by klopt's own sentence rules
    (:func:`klopt.register.documents.sentence_spans`:
    abbreviations such as *ca.*, *bijv.*, *e.g.* end nothing); a run of emoji followed by a
    space ends a sentence too, as it does in posts.
    """
    from klopt.register.documents import sentence_spans

    quotes = quote_regions(text)
    out: list[Sentence] = []
    for line in re.finditer(r"[^\n]+", text):
        for s, e in sentence_spans(line.group()):
            start, end = line.start() + s, line.start() + e
            for emoji in _EMOJI_RUN.finditer(text, start, end):
                if emoji.end() < end and text[emoji.end()].isspace():
                    _add(text, start, emoji.end(), quotes, out)
                    start = emoji.end()
            _add(text, start, end, quotes, out)
    return out


def _add(
    text: str, start: int, end: int, quotes: list[tuple[int, int]], out: list[Sentence]
) -> None:
    lead = _LEADING.match(text, start, end)
    start = lead.end() if lead else start
    while end > start and _EDGE.match(text, end - 1):
        end -= 1
    if end <= start or not _WORDISH.search(text, start, end):
        return
    # The regions are in text order and do not overlap: only the last one that starts
    # at or before the sentence can hold it.
    index = bisect_right(quotes, (start, len(text) + 1)) - 1
    quoted = index >= 0 and end <= quotes[index][1]
    out.append(Sentence(text[start:end], start, end, quoted))
