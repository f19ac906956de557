"""HTML pages saved from a website: the main content only, through trafilatura.

trafilatura finds the main text of a page and leaves out menus, footers, sidebars and
banners; its XML output keeps headings, paragraphs, lists and table cells, which become
klopt's blocks. Cookie notices are removed before it looks, so that a page saved before
accepting cookies is reported as such instead of read as an empty document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from klopt.errors import CookieWall, NoMainText
from klopt.register.reading import Block, ReadResult, decode_text
from klopt.register.reading import clean as _clean

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Elements whose id, class or aria-label say they hold a cookie or consent notice.
_CONSENT = re.compile(r"cookie|consent|gdpr|onetrust|cookiebot|didomi|privacy-?wall", re.I)
_COOKIE_WORDS = re.compile(r"\bcookies?\b|\bconsent\b|\btoestemming\b", re.I)
_WALL_SIZE = 1_000  # characters; a page about cookies (a cookie policy) is longer


def _read_html(data: bytes, name: str) -> ReadResult:
    from trafilatura import extract

    text, notes = decode_text(data, name)
    tree = _parse(_XML_DECLARATION.sub("", text, count=1), name)
    title = _clean(" ".join(tree.xpath("//head/title//text()"))) or None
    removed = _remove_consent(tree)
    xml = extract(
        tree,
        output_format="xml",
        favor_precision=True,  # menus and footers out, even on short pages
        fast=True,  # no fallback extractors: they flatten headings and lists into one text
        include_tables=True,
        include_comments=False,
        include_images=False,
        include_links=False,
        with_metadata=False,
    )
    blocks = tuple(_blocks(xml)) if xml else ()
    if not any(block.kind != "heading" for block in blocks):
        raise _no_main_text(name, removed)
    body = [block.text for block in blocks if block.kind != "heading"]
    if sum(map(len, body)) < _WALL_SIZE and all(_COOKIE_WORDS.search(text) for text in body):
        raise _no_main_text(name, removed or ["cookies"])  # a wall, not a cookie policy
    return ReadResult(blocks, title=title, notes=notes)


def _parse(text: str, name: str) -> Any:
    import lxml.html
    from lxml.etree import ParserError

    try:
        return lxml.html.document_fromstring(text)
    except (ParserError, ValueError):
        raise NoMainText.keyed("document.html_unreadable", name=name) from None


def _remove_consent(tree: Any) -> list[str]:
    """Remove cookie and consent notices; return their texts."""
    removed: list[str] = []
    for element in tree.xpath("//body//*[@id or @class or @aria-label]"):
        names = " ".join(element.get(a) or "" for a in ("id", "class", "aria-label"))
        parent = element.getparent()
        if parent is not None and _CONSENT.search(names):
            removed.append(_clean(element.text_content()))
            parent.remove(element)
    return [text for text in removed if text]


def _no_main_text(name: str, cookie_notices: list[str]) -> NoMainText:
    if cookie_notices:
        return CookieWall.keyed("document.cookie_wall", name=name)
    return NoMainText.keyed("document.no_main_text", name=name)


def _blocks(xml: str) -> Iterator[Block]:
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    yield from _children(main if main is not None else root)


def _children(element: Any) -> Iterator[Block]:
    for child in element:
        tag = child.tag
        if tag == "head":
            yield Block("heading", _text(child))
        elif tag == "list":
            yield from _list(child)
        elif tag == "table":
            for cell in child.iter("cell"):
                yield Block("paragraph", _text(cell))
        elif tag in ("p", "quote"):
            yield Block("paragraph", _text(child))
        elif tag != "code":
            yield from _children(child)


def _list(element: Any) -> Iterator[Block]:
    for item in element.iter("item"):
        own = _text(item, skip=("list",))
        if own.strip():
            yield Block("bullet", own)


def _text(element: Any, *, skip: tuple[str, ...] = ()) -> str:
    """The element's text with its inline children, leaving out nested ``skip`` elements."""
    pieces = [element.text or ""]
    for child in element:
        if child.tag not in skip:
            pieces.append(_text(child, skip=skip))
        pieces.append(child.tail or "")
    return "".join(pieces)
