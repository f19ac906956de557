"""Where a draft's findings fall: the text cut into pieces, each with the findings over it.

A page that shows the draft with its findings marked (the editor's preview) needs flat
pieces, not nested ones: spans may overlap ("!!!" and its last "!") or nest. The text is
cut at every span's start and end; each piece knows which findings cover it and the
worst severity among them. Offsets are in characters (Python string indices), the unit
of :class:`klopt.checking.findings.Span` and of ``start``/``end`` in the JSON report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Piece", "marked_pieces"]

_RANK = {"info": 1, "warning": 2, "error": 3}


@dataclass(frozen=True)
class Piece:
    """A run of the text and the findings over all of it.

    Attributes:
        text: the characters of the run.
        findings: the indices (into the spans given) of the findings that cover it.
        severity: the worst severity among them (``error``, ``warning``, ``info``), or
            ``None`` where no finding points.
    """

    text: str
    findings: tuple[int, ...]
    severity: str | None


def marked_pieces(text: str, spans: Sequence[tuple[int | None, int | None, str]]) -> list[Piece]:
    """``text`` in pieces, each with the findings that cover it.

    Args:
        text: the draft as checked.
        spans: per finding its ``(start, end, severity)``; a finding about the whole
            draft has ``None`` offsets and covers no piece. Offsets outside the text are
            clamped to it; an empty span covers nothing.

    Returns:
        Pieces in text order that together are exactly ``text``.
    """
    ranges: list[tuple[int, int, int]] = []
    for index, (start, end, _) in enumerate(spans):
        if start is None or end is None:
            continue
        low, high = max(0, min(start, len(text))), max(0, min(end, len(text)))
        if low < high:
            ranges.append((low, high, index))
    cuts = sorted({0, len(text), *(r[0] for r in ranges), *(r[1] for r in ranges)})
    pieces: list[Piece] = []
    for low, high in zip(cuts, cuts[1:], strict=False):
        over = tuple(i for start, end, i in ranges if start <= low and high <= end)
        if pieces and pieces[-1].findings == over:
            last = pieces[-1]
            pieces[-1] = Piece(last.text + text[low:high], over, last.severity)
            continue
        worst = max((spans[i][2] for i in over), key=lambda s: _RANK.get(s, 0), default=None)
        pieces.append(Piece(text[low:high], over, worst))
    return pieces
