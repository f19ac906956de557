"""Source documents and their readers: any file in, clean text and sentences out.

A reader turns the raw bytes of one kind of file into :class:`Block` s (headings,
paragraphs, bullets). Everything after that is shared: the text is assembled, split
into sentences with offsets, pages and section names, and its language detected.
Built-in readers (PDF, Markdown, plain text, HTML) are registered by name exactly as a
plugin would be, through :func:`register_reader`.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

from klopt.errors import BadEncoding, EmptyInput, UnreadableDocument, UnsupportedFileType

__all__ = [
    "Block",
    "DocumentText",
    "ReadResult",
    "Reader",
    "Sentence",
    "decode_text",
    "read_document",
    "reader_for",
    "readers",
    "register_reader",
    "sentence_spans",
    "supported_suffixes",
]

BlockKind = Literal["heading", "paragraph", "bullet"]


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document, with where it stands.

    Attributes:
        text: the sentence, whitespace normalised; equal to ``doc.text[start:end]``.
        index: position among the document's sentences, from 0.
        start: character offset into :attr:`DocumentText.text`.
        end: character offset just after the sentence.
        section: the nearest heading above it, if any.
        page: the page it starts on (PDF only).
        lead_in: for a list item, the sentence that introduces the list
            (``"Wij beloven u:"``); the item alone is often no full sentence.
    """

    text: str
    index: int
    start: int
    end: int
    section: str | None
    page: int | None
    lead_in: str | None = None


@dataclass(frozen=True)
class DocumentText:
    """The readable content of one source document.

    Attributes:
        path: the path it was read from.
        title: the document's own title, else its first heading, else the file name.
        kind: the reader that read it: ``pdf``, ``markdown``, ``text`` or ``html``.
        text: the clean text; headings, paragraphs and bullets on their own lines.
        language: ``nl``, ``en`` or ``other``.
        sentences: the sentences, in order; headings are not sentences.
        sha256: hex digest of the raw bytes, so a changed file is a new version.
        notes: things a user may want to know (e.g. the file was read as cp1252).
    """

    path: str
    title: str
    kind: str
    text: str
    language: str
    sentences: tuple[Sentence, ...]
    sha256: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Block:
    """A unit of layout that a reader found: a heading, a paragraph or a list item.

    Attributes:
        kind: ``heading``, ``paragraph`` or ``bullet``.
        text: its text (whitespace is normalised later).
        page: the page it starts on, for paged formats.
        page_marks: ``(offset, page)`` pairs where the block continues on a new page.
    """

    kind: BlockKind
    text: str
    page: int | None = None
    page_marks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ReadResult:
    """What a reader returns: the blocks, plus a title and notes when it knows them."""

    blocks: tuple[Block, ...]
    title: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reader:
    """A named reader for files with the given suffixes.

    Attributes:
        name: the document kind it produces (``pdf``, ``markdown`` ...).
        suffixes: lower-case file suffixes with the dot (``.md``).
        read: ``read(data, file_name)``; raises :class:`~klopt.errors.InputError` s.
    """

    name: str
    suffixes: tuple[str, ...]
    read: Callable[[bytes, str], ReadResult]


_READERS: dict[str, Reader] = {}


def register_reader(reader: Reader, *, replace: bool = False) -> None:
    """Make ``reader`` available to :func:`read_document`.

    Args:
        reader: the reader to add.
        replace: allow replacing a reader of the same name.

    Raises:
        ValueError: a reader of that name exists and ``replace`` is false.
    """
    if reader.name in _READERS and not replace:
        raise ValueError(f"a reader named {reader.name!r} is already registered")
    _READERS[reader.name] = reader


def readers() -> tuple[Reader, ...]:
    """All registered readers, built-ins first."""
    return tuple(_READERS.values())


def supported_suffixes() -> tuple[str, ...]:
    """The file suffixes some reader handles, sorted."""
    return tuple(sorted({s for r in _READERS.values() for s in r.suffixes}))


def reader_for(path: Path) -> Reader:
    """The reader for ``path``, chosen by its suffix (the last registered wins).

    Raises:
        UnsupportedFileType: no reader handles the suffix.
    """
    suffix = path.suffix.lower()
    for reader in reversed(_READERS.values()):
        if suffix in reader.suffixes:
            return reader
    shown = f"'{suffix}'" if suffix else "files without a suffix"
    raise UnsupportedFileType(
        f"klopt cannot read {path.name}: there is no reader for {shown}.",
        hint=f"Save it as one of {', '.join(supported_suffixes())} and add it again.",
    )


def read_document(path: Path) -> DocumentText:
    """Read a source document into clean text and sentences.

    Args:
        path: a PDF, Markdown, plain text or HTML file (see :func:`supported_suffixes`).

    Returns:
        The document's text, sentences, language and hash.

    Raises:
        UnsupportedFileType: the suffix has no reader.
        UnreadableDocument: missing file, encrypted or corrupt PDF, PDF without text.
        EmptyInput: the file holds no sentences.
        BadEncoding: a text file that is neither UTF-8 nor Windows-1252.
    """
    path = Path(path)
    reader = reader_for(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableDocument(f"{path} does not exist.", hint="Check the path.") from None
    except OSError as exc:
        raise UnreadableDocument(
            f"{path} cannot be read ({exc.strerror or exc}).", hint="Give a readable file."
        ) from None
    if not data.strip():
        raise EmptyInput(f"{path.name} is empty.", hint="Give a document with text in it.")
    result = reader.read(data, path.name)
    return _build(path, reader.name, data, result)


def _build(path: Path, kind: str, data: bytes, result: ReadResult) -> DocumentText:
    text, sentences = _assemble(result.blocks)
    if not sentences:
        raise EmptyInput(
            f"{path.name} holds no sentences to read (only headings, menus or markup).",
            hint="Give the document that holds the text itself.",
        )
    headings = [b.text for b in result.blocks if b.kind == "heading" and _clean(b.text)]
    title = _clean(result.title or "") or (_clean(headings[0]) if headings else path.stem)
    return DocumentText(
        path=str(path),
        title=title,
        kind=kind,
        text=text,
        language=_language(sentences),
        sentences=sentences,
        sha256=hashlib.sha256(data).hexdigest(),
        notes=result.notes,
    )


def _language(sentences: Iterable[Sentence]) -> str:
    from klopt.language import detect_language

    sample = " ".join(s.text for s in sentences)[:20_000]
    return detect_language([sample])[0]


# --- text and sentences ----------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _clean(text: str) -> str:
    """Normalise Unicode and whitespace; drop soft hyphens and zero-width characters."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).translate(_INVISIBLE)).strip()


# Abbreviations after which a full stop never ends a sentence (lower case, with dots).
_NO_SPLIT = _words(
    "bijv. bv. b.v.d. o.a. d.w.z. m.a.w. m.b.t. t.a.v. t.o.v. i.v.m. i.p.v. a.s. ca. dhr. "
    "mevr. mr. drs. ir. ing. prof. dr. jl. vgl. resp. evt. incl. excl. e.g. i.e. mrs. ms. vs. "
    "st. jr. sr. approx. dept. ref."
)
# Abbreviations that stand before a number ("nr. 5", "art. 3"); elsewhere they are words.
_BEFORE_NUMBER = _words("nr. nrs. blz. art. no. nos. fig. vol. p. pp. hfst. par.")
# Abbreviations that often end a sentence: split when a capital follows.
_MAYBE_END = _words("etc. enz. e.d. z.s.m. b.v. n.v. inc. ltd. co. corp.")
_END_MARK = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)")
_DOTTED = re.compile(r"(?:\w\.){2,}")
_CAMEL = re.compile(r"[a-z]{1,3}[A-Z]")
_ACRONYM = re.compile(r"[A-Z]{2,}\.")
_OPENERS = "([\"'“‘"
_INLINE_BULLET = re.compile(r"(?:^|\s)[•▪►●◦‣✓✔■]\s*")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences and return their ``(start, end)`` offsets.

    Dutch and English rules: a full stop after an abbreviation (``bijv.``, ``o.a.``,
    ``e.g.``, ``Mr.``, ``nr.``), an initial or inside a number (``3.5``) ends nothing,
    and neither does a mark followed by a lower-case word.

    Args:
        text: one paragraph of clean text.

    Returns:
        Offsets of the non-empty sentences, stripped of surrounding spaces.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END_MARK.finditer(text):
        if _is_boundary(text, match.start(), match.end()):
            _add_span(text, start, match.end(), spans)
            start = match.end()
    _add_span(text, start, len(text), spans)
    return spans


def _is_boundary(text: str, mark: int, end: int) -> bool:
    rest = text[end:].lstrip()
    if not rest:
        return True
    if rest[0].islower() and not _CAMEL.match(rest):  # "iPhone", "eBay" do start sentences
        return False
    if text[mark] != ".":
        return True
    original = text[: mark + 1].rsplit(None, 1)[-1].lstrip(_OPENERS)
    word = original.lower()
    if word in _MAYBE_END or _ACRONYM.fullmatch(original):  # "... Voorbeeld BV. Wij ..."
        return True
    if word in _BEFORE_NUMBER:
        return not rest[0].isdigit()
    if word in _NO_SPLIT or _DOTTED.fullmatch(word):
        return False
    # An initial, as in "J. Jansen".
    return not (len(word) == 2 and text[mark - 1].isupper())


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if any(c.isalnum() for c in stripped):
        offset = start + len(piece) - len(piece.lstrip())
        spans.append((offset, offset + len(stripped)))


def _block_spans(text: str) -> list[tuple[int, int, bool]]:
    """Sentence spans of a block; ``True`` marks items of an inline list (``a • b • c``)."""
    bullets = list(_INLINE_BULLET.finditer(text))
    if not bullets:
        return [(s, e, False) for s, e in sentence_spans(text)]
    cuts = [0, *(m.start() for m in bullets), len(text)]
    result: list[tuple[int, int, bool]] = []
    for number, (a, b) in enumerate(zip(cuts, cuts[1:], strict=False)):
        begin = bullets[number - 1].end() if number else a
        for s, e in sentence_spans(text[begin:b]):
            result.append((begin + s, begin + e, number > 0))
    return result


@dataclass
class _Assembly:
    parts: list[str]
    sentences: list[Sentence]
    length: int = 0
    section: str | None = None
    lead_in: str | None = None
    last_kind: str = ""


def _assemble(blocks: Iterable[Block]) -> tuple[str, tuple[Sentence, ...]]:
    state = _Assembly(parts=[], sentences=[])
    for block in blocks:
        text = _clean(block.text)
        if text:
            _add_block(state, block, text)
    return "".join(state.parts), tuple(state.sentences)


def _add_block(state: _Assembly, block: Block, text: str) -> None:
    same_list = block.kind == "bullet" and state.last_kind == "bullet"
    separator = "" if not state.parts else "\n" if same_list else "\n\n"
    prefix = "• " if block.kind == "bullet" else ""
    base = state.length + len(separator) + len(prefix)
    state.parts.append(separator + prefix + text)
    state.length = base + len(text)
    state.last_kind = block.kind
    if block.kind == "heading":
        state.section, state.lead_in = text, None
        return
    if block.kind == "paragraph":
        state.lead_in = None
    intro: str | None = None
    for s, e, inline_item in _block_spans(text):
        sentence = text[s:e]
        lead_in = intro if inline_item else state.lead_in
        state.sentences.append(
            Sentence(
                text=sentence,
                index=len(state.sentences),
                start=base + s,
                end=base + e,
                section=state.section,
                page=_page_at(block, s),
                lead_in=lead_in,
            )
        )
        if not inline_item:
            intro = sentence
    if block.kind == "paragraph" and intro is not None and intro.endswith(":"):
        state.lead_in = intro


def _page_at(block: Block, offset: int) -> int | None:
    page = block.page
    for mark, number in block.page_marks:
        if mark <= offset:
            page = number
    return page


def decode_text(data: bytes, name: str) -> tuple[str, tuple[str, ...]]:
    """Decode the bytes of a text file: UTF-8 (with or without BOM), UTF-16 with BOM,
    else Windows-1252 with a note.

    Args:
        data: the raw bytes.
        name: the file name, for messages.

    Returns:
        The text and the notes about how it was read.

    Raises:
        BadEncoding: the bytes are binary or in no encoding klopt recognises.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), ()
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        try:
            return data.decode("utf-8-sig"), ()
        except UnicodeDecodeError:
            pass
        try:
            note = f"{name} is not UTF-8; it was read as Windows-1252 (cp1252)."
            return data.decode("cp1252"), (note,)
        except UnicodeDecodeError:
            pass
    raise BadEncoding(
        f"{name} is not text in UTF-8 or Windows-1252.",
        hint="Open it in an editor, save it as UTF-8 and add it again.",
    )


# --- lines to blocks (plain text and PDF) ----------------------------------------------

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


# --- Markdown --------------------------------------------------------------------------

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


# --- PDF -------------------------------------------------------------------------------

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
            line for line in edges(page)
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


# --- HTML ------------------------------------------------------------------------------

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


for _reader in (
    Reader("pdf", (".pdf",), _read_pdf),
    Reader("markdown", (".md", ".markdown"), _read_markdown),
    Reader("text", (".txt", ".text"), _read_text),
    Reader("html", (".html", ".htm"), _read_html),
):
    register_reader(_reader)
