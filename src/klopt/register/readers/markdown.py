"""Markdown (CommonMark with tables), with an optional YAML front matter title."""

from __future__ import annotations

import re
from typing import Any

from klopt.register.reading import Block, BlockKind, ReadResult, decode_text

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def _read_markdown(data: bytes, name: str) -> ReadResult:
    from markdown_it import MarkdownIt

    text, notes = decode_text(data, name)
    title = None
    front = _FRONT_MATTER.match(text)
    if front:
        found = re.search(r"^title:\s*['\"]?(.+?)['\"]?\s*$", front.group(1), re.MULTILINE)
        title = found.group(1) if found else None
        text = text[front.end() :]
    blocks: list[Block] = []
    items = 0
    heading = False
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        if token.type in ("list_item_open", "list_item_close"):
            items += 1 if token.type == "list_item_open" else -1
        elif token.type in ("heading_open", "heading_close"):
            heading = token.type == "heading_open"
            if heading and token.tag == "h1" and title is None:
                title = ""  # filled from the heading's text just below
        elif token.type == "inline":
            content = _inline_text(token.children or [])
            kind: BlockKind = "heading" if heading else "bullet" if items else "paragraph"
            if heading and title == "":
                title = content
            blocks.append(Block(kind, content))
    return ReadResult(tuple(blocks), title=title or None, notes=notes)


def _inline_text(children: list[Any]) -> str:
    pieces: list[str] = []
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            pieces.append(" ")
        elif child.type in ("text", "code_inline"):
            pieces.append(child.content)
    return "".join(pieces)
