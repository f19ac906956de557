"""PDF, through pdfminer.six's layout analysis: text boxes in reading order, so a
two-column brochure reads column by column; font sizes mark headings; page numbers and
running headers are dropped.

pdfminer was chosen over ordering pypdf's text runs by hand after measuring both on a
40-page two-column brochure (``benchmarks/documents.py``): slower than plain pypdf, but
well inside the 10-second budget for reading and proposing, and its reading order is
maintained upstream rather than guessed here.
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from klopt.errors import EncryptedDocument, NoTextLayer, UnreadableDocument
from klopt.register.readers.text import _blocks_from_lines, _Line
from klopt.register.reading import Note, Progress, ReadResult
from klopt.register.reading import clean as _clean

_PAGE_NUMBER = re.compile(
    r"^(?:(?:pagina|page|blz\.?|p\.)\s*)?\d{1,4}(?:\s*(?:/|van|of)\s*\d{1,4})?$", re.IGNORECASE
)


@dataclass
class _PdfLine:
    text: str = ""
    size: float = 0.0
    y: float | None = None
    page: int = 0
    gap_before: bool = True
    left: float = 0.0
    right: float = 0.0


def _read_pdf(data: bytes, name: str, progress: Progress | None = None) -> ReadResult:
    pages: list[list[_PdfLine]] = []
    try:
        document = _open(data, name)
        title = _title(document)
        for number, total, layout in _layouts(document):
            pages.append(_page_lines(layout, number))
            if progress is not None:
                progress(number, total)
    except UnreadableDocument:
        raise
    except Exception as exc:  # pdfminer raises many types on damaged files; all mean the same
        detail = f"{type(exc).__name__}: {exc}"
        raise UnreadableDocument.keyed("document.pdf_damaged", name=name, detail=detail) from None
    if not pages:
        raise UnreadableDocument.keyed("document.pdf_no_pages", name=name)
    blank = [number for number, lines in enumerate(pages, 1) if not _has_letters(lines)]
    if len(blank) == len(pages):
        raise NoTextLayer.keyed("document.pdf_no_text", name=name)
    notes = (_blank_note(name, blank),) if blank else ()
    lines = _without_furniture(pages)
    return ReadResult(_blocks_from_lines(_to_lines(lines)), title=title, notes=notes)


def _open(data: bytes, name: str) -> Any:
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser

    try:
        return PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFPasswordIncorrect:
        raise EncryptedDocument.keyed("document.encrypted", name=name) from None
    except PDFEncryptionError as exc:
        raise EncryptedDocument.keyed("document.encrypted_unknown", name=name, detail=exc) from None


def _title(document: Any) -> str | None:
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    for info in document.info:
        value = resolve1(info.get("Title"))
        if isinstance(value, bytes):
            value = decode_text(value)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _layouts(document: Any) -> Iterator[tuple[int, int, Any]]:
    """``(number, total, layout)`` per page; one page's layout in memory at a time."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    pages = list(PDFPage.create_pages(document))
    manager = PDFResourceManager(caching=True)
    # all_texts: text inside form XObjects (whole pages, in some exports) is read too;
    # line_margin: lines set with generous leading still make one box, so one column.
    laparams = LAParams(all_texts=True, line_margin=1.0)
    device = PDFPageAggregator(manager, laparams=laparams)
    interpreter = PDFPageInterpreter(manager, device)
    for number, page in enumerate(pages, 1):
        interpreter.process_page(page)
        yield number, len(pages), device.get_result()


def _text_boxes(container: Any) -> Iterator[Any]:
    """The text boxes of a page in pdfminer's reading order, also those inside figures."""
    from pdfminer.layout import LTFigure, LTTextBox

    for item in container:
        if isinstance(item, LTTextBox):
            yield item
        elif isinstance(item, LTFigure):
            yield from _text_boxes(item)


def _page_lines(layout: Any, number: int) -> list[_PdfLine]:
    """The lines of one page in reading order, with font size and position."""
    from pdfminer.layout import LTChar, LTTextLine

    lines: list[_PdfLine] = []
    for box in _text_boxes(layout):
        first = True
        for line in box:
            text = line.get_text().rstrip("\n") if isinstance(line, LTTextLine) else ""
            if not text.strip():
                continue
            sizes = [c.size for c in line if isinstance(c, LTChar) and c.get_text().strip()]
            size = max(sizes, default=0.0)
            lines.append(_PdfLine(text, size, line.y1, number, first, line.x0, line.x1))
            first = False
    _mark_gaps(lines)
    return lines


def _mark_gaps(lines: list[_PdfLine]) -> None:
    """A new paragraph starts after a vertical gap well above the usual line distance,
    a step up, or in a new box beside the previous line (the next column).

    Text boxes alone are no paragraphs: pdfminer keeps closely set paragraphs in one
    box and may cut a loosely set one in two."""
    steps = [
        a.y - b.y
        for a, b in zip(lines, lines[1:], strict=False)
        if a.y is not None and b.y is not None and a.y > b.y
    ]
    usual = statistics.median(steps) if steps else 0.0
    for before, line in zip(lines, lines[1:], strict=False):
        beside = line.left >= before.right or line.right <= before.left
        if line.gap_before and beside:
            continue  # the first line of a box in another column
        if before.y is not None and line.y is not None and usual > 0:
            line.gap_before = not 0 < before.y - line.y <= 1.4 * usual


def _has_letters(lines: list[_PdfLine]) -> bool:
    return any(any(c.isalpha() for c in line.text) for line in lines)


def _blank_note(name: str, blank: list[int]) -> Note:
    shown = ", ".join(map(str, blank[:10])) + (" ..." if len(blank) > 10 else "")
    key = "no_text_layer_page" if len(blank) == 1 else "no_text_layer_pages"
    return Note(key, (("name", name), ("pages", shown)))


def _edges(page: list[_PdfLine]) -> list[_PdfLine]:
    """The two highest and two lowest lines of a page, wherever the reading order put them."""
    placed = sorted((line for line in page if line.y is not None), key=lambda line: -(line.y or 0))
    return placed[:2] + placed[2:][-2:]


def _without_furniture(pages: list[list[_PdfLine]]) -> list[_PdfLine]:
    """Drop page numbers and running headers or footers: lines at the top or bottom of
    a page that recur, digits aside, on most pages."""

    def shape(line: _PdfLine) -> tuple[str, int]:
        return re.sub(r"\d+", "#", _clean(line.text).lower()), round(line.y or 0)

    seen = Counter(s for page in pages for s in {shape(line) for line in _edges(page)})
    repeated = {s for s, n in seen.items() if len(pages) >= 3 and n > len(pages) / 2}
    kept: list[_PdfLine] = []
    for page in pages:
        furniture = [
            line
            for line in _edges(page)
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
