"""Plain text, and the line-to-block rules that plain text and PDF share.

Lines become headings (``#`` marks, underlines, short isolated or large lines), list
items (``-``, ``•``, ``1.``, ``a)``) and paragraphs (lines joined until a gap).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from klopt.register.reading import Block, BlockKind, ReadResult, decode_text
from klopt.register.reading import clean as _clean

_BULLET = re.compile(r"^(?:[-*+•·▪►●◦‣✓✔■–]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_HEADING_MARK = re.compile(r"^#{1,6}\s+")
_UNDERLINE = re.compile(r"^\s*(?:={3,}|-{3,})\s*$")
_SENTENCE_END = (".", "!", "?", ":", ";", ",")


@dataclass(frozen=True)
class _Line:
    text: str
    page: int | None = None
    gap_before: bool = False
    large: bool = False


def _is_heading(lines: list[_Line], i: int, text: str) -> bool:
    line = lines[i]
    if _HEADING_MARK.match(text):
        return True
    if _BULLET.match(text) or text.endswith(_SENTENCE_END) or not text[0].isupper():
        return len(text.split()) <= 12 and line.large and not text.endswith((".", ","))
    words = len(text.split())
    if line.large:
        return words <= 12
    isolated = (i == 0 or line.gap_before) and i + 1 < len(lines) and lines[i + 1].gap_before
    return isolated and words <= 8


@dataclass
class _BlockBuilder:
    blocks: list[Block]
    kind: BlockKind = "paragraph"
    text: str = ""
    page: int | None = None
    marks: tuple[tuple[int, int], ...] = ()

    def flush(self) -> None:
        if self.text:
            self.blocks.append(Block(self.kind, self.text, self.page, self.marks))
        self.text, self.marks = "", ()

    def start(self, kind: BlockKind, text: str, page: int | None) -> None:
        self.flush()
        self.kind, self.text, self.page = kind, text, page

    def append(self, text: str, page: int | None) -> None:
        if self.text.endswith("-") and self.text[-2:-1].isalpha() and text[:1].islower():
            self.text = self.text[:-1]  # a word broken over two lines
        else:
            self.text += " "
        if page is not None and page != self.page and not any(p == page for _, p in self.marks):
            self.marks += ((len(self.text), page),)
        self.text += text


def _blocks_from_lines(lines: list[_Line]) -> tuple[Block, ...]:
    builder = _BlockBuilder(blocks=[])
    for i, line in enumerate(lines):
        text = _clean(line.text)
        if not text:
            continue
        bullet = _BULLET.match(text)
        if _is_heading(lines, i, text):
            builder.start("heading", _HEADING_MARK.sub("", text), line.page)
            builder.flush()
        elif bullet:
            builder.start("bullet", text[bullet.end() :], line.page)
        elif _starts_paragraph(builder, line, text):
            builder.start("paragraph", text, line.page)
        else:
            builder.append(text, line.page)
    builder.flush()
    return tuple(builder.blocks)


def _starts_paragraph(builder: _BlockBuilder, line: _Line, text: str) -> bool:
    if line.gap_before or not builder.text or builder.text.endswith(":"):
        return True
    # A capitalised line after a finished list item is text again, not the item's tail.
    return builder.kind == "bullet" and text[0].isupper() and builder.text.endswith(".")


def _text_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    gap = True
    for raw in text.splitlines():
        if not raw.strip():
            gap = True
        elif _UNDERLINE.match(raw) and lines and not gap:
            lines[-1] = _Line(lines[-1].text, gap_before=lines[-1].gap_before, large=True)
            gap = True
        else:
            lines.append(_Line(raw, gap_before=gap))
            gap = False
    return lines


def _read_text(data: bytes, name: str) -> ReadResult:
    text, notes = decode_text(data, name)
    return ReadResult(_blocks_from_lines(_text_lines(text)), notes=notes)
