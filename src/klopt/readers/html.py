"""HTML: the readable blocks of a page, without menus, banners, cookie notices or scripts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from klopt.documents import Block, BlockKind, ReadResult, _clean, _words, decode_text

_SKIP_TAGS = _words(
    "script style nav header footer aside noscript form svg template iframe button select "
    "dialog address"
)
_SKIP_HINT = re.compile(
    r"(?<![a-z])(?:cookie|consent|gdpr|nav|menu|breadcrumb|footer|sidebar|banner|popup|modal"
    r"|newsletter|share|social|skip-link)"
)
_SKIP_ROLES = frozenset({"navigation", "banner", "contentinfo", "dialog", "alertdialog"})
_VOID = _words("area base br col embed hr img input link meta source track wbr")
_BREAKS = _words(
    "p div section article main li h1 h2 h3 h4 h5 h6 td th tr br blockquote dd dt figcaption "
    "pre table ul ol dl hr caption summary details"
)
_MAIN = frozenset({"main", "article"})


class _HtmlText(HTMLParser):
    """Collects the readable blocks of a page, leaving out menus, banners and scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[Block, bool]] = []  # (block, inside <main>/<article>)
        self.title = ""
        self._skip: list[str] = []
        self._main = 0
        self._in_title = False
        self._kind: BlockKind = "paragraph"
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag in _BREAKS:
                self._flush()
            return
        if self._skip:
            self._skip.append(tag)
            return
        if tag in _SKIP_TAGS or self._hidden(dict(attrs)):
            self._flush()
            self._skip.append(tag)
            return
        if tag == "title":
            self._in_title = True
        if tag in _MAIN or dict(attrs).get("role") == "main":
            self._main += 1
        if tag in _BREAKS:
            self._flush()
            self._kind = (
                "heading"
                if re.fullmatch(r"h[1-6]", tag)
                else ("bullet" if tag == "li" else "paragraph")
            )

    @staticmethod
    def _hidden(attrs: dict[str, str | None]) -> bool:
        if (attrs.get("role") or "") in _SKIP_ROLES or "hidden" in attrs:
            return True
        names = f"{attrs.get('id') or ''} {attrs.get('class') or ''}".lower()
        return bool(_SKIP_HINT.search(names))

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            self._skip.pop()  # tolerant of sloppy nesting: any end tag closes one level
            return
        if tag == "title":
            self._in_title = False
        if tag in _BREAKS:
            self._flush()
        if tag in _MAIN and self._main:
            self._main -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
        else:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = _clean("".join(self._text))
        if text:
            self.blocks.append((Block(self._kind, text), self._main > 0))
        self._text = []
        self._kind = "paragraph"


def _read_html(data: bytes, name: str) -> ReadResult:
    text, notes = decode_text(data, name)
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    main = [block for block, inside in parser.blocks if inside]
    chosen = main or [block for block, _ in parser.blocks]
    return ReadResult(tuple(chosen), title=_clean(parser.title) or None, notes=notes)
