"""PDF, through pypdf: lines with font sizes, page numbers and running headers dropped."""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from klopt.documents import ReadResult, _clean
from klopt.errors import UnreadableDocument
from klopt.readers.text import _blocks_from_lines, _Line

_PAGE_NUMBER = re.compile(
    r"^(?:(?:pagina|page|blz\.?|p\.)\s*)?\d{1,4}(?:\s*(?:/|van|of)\s*\d{1,4})?$", re.IGNORECASE
)
_NO_TEXT = "no text layer — scanned? run OCR first"


@dataclass
class _PdfLine:
    text: str = ""
    size: float = 0.0
    y: float | None = None
    page: int = 0
    gap_before: bool = True


def _read_pdf(data: bytes, name: str) -> ReadResult:
    from pypdf import PdfReader

    try:
        pdf = PdfReader(io.BytesIO(data))
        if pdf.is_encrypted and not pdf.decrypt(""):
            raise UnreadableDocument(
                f"{name} is encrypted with a password.",
                hint="Save an unprotected copy (print it to PDF) and add that.",
            )
        pages = [_page_lines(page, number) for number, page in enumerate(pdf.pages, 1)]
        title = pdf.metadata.title if pdf.metadata else None
    except UnreadableDocument:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files; all mean the same
        raise UnreadableDocument(
            f"{name} is not a readable PDF ({type(exc).__name__}: {exc}).",
            hint="Open it in a PDF viewer, save or export it again, and add the new file.",
        ) from None
    lines = _without_furniture(pages)
    if not any(any(c.isalpha() for c in line.text) for line in lines):
        raise UnreadableDocument(f"{name} has {_NO_TEXT}.", hint="Add the OCR'd PDF instead.")
    return ReadResult(_blocks_from_lines(_to_lines(lines)), title=title or None)


def _page_lines(page: Any, number: int) -> list[_PdfLine]:
    """The lines of one page with their font size and height, from pypdf's visitor."""
    raw = [_PdfLine(page=number)]

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        for n, piece in enumerate(text.split("\n")):
            if n:
                raw.append(_PdfLine(page=number))
            if piece.strip():
                line = raw[-1]
                scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * (cm[2] ** 2 + cm[3] ** 2) ** 0.5
                line.size = max(line.size, float(size or 0) * (scale or 1.0))
                if line.y is None:
                    line.y = float(tm[5]) * float(cm[3]) + float(cm[5])
            line = raw[-1]
            line.text += piece

    plain = page.extract_text(visitor_text=visit) or ""
    kept = [line for line in raw if line.text.strip()]
    if not kept and plain.strip():  # the visitor saw nothing: fall back to plain lines
        kept = [_PdfLine(text=t, page=number) for t in plain.splitlines() if t.strip()]
    _mark_gaps(kept)
    return kept


def _mark_gaps(lines: list[_PdfLine]) -> None:
    """A vertical gap well above the usual line distance starts a new paragraph."""
    steps = [
        a.y - b.y
        for a, b in zip(lines, lines[1:], strict=False)
        if a.y is not None and b.y is not None and a.y > b.y
    ]
    usual = statistics.median(steps) if steps else 0.0
    for before, line in zip(lines, lines[1:], strict=False):
        if before.y is None or line.y is None or usual <= 0:
            line.gap_before = False
        else:
            line.gap_before = not 0 < before.y - line.y <= 1.4 * usual


def _without_furniture(pages: list[list[_PdfLine]]) -> list[_PdfLine]:
    """Drop page numbers and running headers or footers: lines at the top or bottom of
    a page that recur, digits aside, on most pages."""

    def shape(line: _PdfLine) -> tuple[str, int]:
        return re.sub(r"\d+", "#", _clean(line.text).lower()), round(line.y or 0)

    def edges(page: list[_PdfLine]) -> list[_PdfLine]:
        return page[:2] + page[2:][-2:]

    seen = Counter(s for page in pages for s in {shape(line) for line in edges(page)})
    repeated = {s for s, n in seen.items() if len(pages) >= 3 and n > len(pages) / 2}
    kept: list[_PdfLine] = []
    for page in pages:
        furniture = [
            line
            for line in edges(page)
            if _PAGE_NUMBER.match(_clean(line.text)) or shape(line) in repeated
        ]
        body = [line for line in page if not any(line is f for f in furniture)]
        if body and kept and _continues(kept[-1].text, _clean(body[0].text)):
            body[0].gap_before = False  # a paragraph running on from the previous page
        kept.extend(body)
    return kept


def _continues(previous: str, text: str) -> bool:
    return not previous.rstrip().endswith((".", "!", "?", ":")) and text[:1].islower()


def _to_lines(lines: list[_PdfLine]) -> list[_Line]:
    """Mark lines set clearly larger than the body text, which is most of the characters."""
    sizes = Counter[float]()
    for line in lines:
        sizes[round(line.size, 1)] += len(line.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    return [
        _Line(line.text, line.page, line.gap_before, large=body > 0 and line.size >= 1.15 * body)
        for line in lines
    ]
