"""Source documents and their readers: any file in, clean text and sentences out.

A reader turns the raw bytes of one kind of file into :class:`Block` s (headings,
paragraphs, bullets). Everything after that is shared: the text is assembled, split
into sentences with offsets, pages and section names, and its language detected.
Built-in readers (PDF, Markdown, plain text, HTML) live in :mod:`klopt.register.readers` and are
registered by name in the same registry a plugin uses, the first time a reader is needed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePath, PurePosixPath

from klopt.errors import EmptyInput, UnsupportedFileType
from klopt.register.reading import (
    Block,
    Note,
    Progress,
    Reader,
    ReadResult,
    decode_text,
    read_bytes,
)
from klopt.register.reading import clean as _clean

__all__ = [
    "Block",
    "Note",
    "DocumentText",
    "ReadResult",
    "Reader",
    "Progress",
    "Sentence",
    "URL_LIST_SUFFIXES",
    "decode_text",
    "document_sources",
    "read_bytes",
    "read_document",
    "read_document_data",
    "read_url_list",
    "reader_for",
    "readers",
    "register_reader",
    "sentence_spans",
    "supported_suffixes",
]

URL_LIST_SUFFIXES = (".urls",)
"""Suffixes of a URL list file: pages the user saved, one ``URL path`` a line."""


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
        language: ``nl``, ``en`` or ``other``, detected per paragraph, so a Dutch
            brochure with an English page has English sentences there; ``None`` for
            sentences stored before klopt detected it per sentence.
    """

    text: str
    index: int
    start: int
    end: int
    section: str | None
    page: int | None
    lead_in: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class DocumentText:
    """The readable content of one source document.

    Attributes:
        path: the path it was read from.
        title: the document's own title, else its first heading, else the file name.
        kind: the reader that read it: ``pdf``, ``docx``, ``markdown``, ``text`` or ``html``.
        text: the clean text; headings, paragraphs and bullets on their own lines.
        language: ``nl``, ``en`` or ``other``: the language of most of the text; each
            sentence has its own in :attr:`Sentence.language`.
        sentences: the sentences, in order; headings are not sentences.
        sha256: hex digest of the raw bytes, so a changed file is a new version.
        notes: things a user may want to know (e.g. the file was read as cp1252).
        name: the name it is known by: the file name, or the address of a page saved
            from a website (the ``name`` given to :func:`read_document`).
    """

    path: str
    title: str
    kind: str
    text: str
    language: str
    sentences: tuple[Sentence, ...]
    sha256: str
    notes: tuple[Note, ...] = ()
    name: str = ""


_READERS: dict[str, Reader] = {}


def _register_built_ins() -> None:
    """Add the built-in readers to the registry unless they are there already.

    Imported here rather than at the top, so that importing this module loads no reader.
    It runs on every registry access, not once, so a registry swapped out (as tests do)
    still gets its built-ins, and always ahead of plugins.
    """
    from klopt.register.readers import BUILT_IN

    for reader in BUILT_IN:
        if reader.name not in _READERS:
            _add_reader(reader, replace=False)


def register_reader(reader: Reader, *, replace: bool = False) -> None:
    """Make ``reader`` available to :func:`read_document`.

    Args:
        reader: the reader to add.
        replace: allow replacing a reader of the same name.

    Raises:
        ValueError: a reader of that name exists and ``replace`` is false.
    """
    _register_built_ins()
    _add_reader(reader, replace=replace)


def _add_reader(reader: Reader, *, replace: bool) -> None:
    if reader.name in _READERS and not replace:
        raise ValueError(f"a reader named {reader.name!r} is already registered")
    _READERS[reader.name] = reader


def readers() -> tuple[Reader, ...]:
    """All registered readers, built-ins first."""
    _register_built_ins()
    return tuple(_READERS.values())


def supported_suffixes() -> tuple[str, ...]:
    """The file suffixes some reader handles, sorted."""
    _register_built_ins()
    return tuple(sorted({s for r in _READERS.values() for s in r.suffixes}))


def reader_for(path: PurePath) -> Reader:
    """The reader for ``path``, chosen by its suffix (the last registered wins).

    Raises:
        UnsupportedFileType: no reader handles the suffix.
    """
    _register_built_ins()
    suffix = path.suffix.lower()
    for reader in reversed(_READERS.values()):
        if suffix in reader.suffixes:
            return reader
    choices = ", ".join(supported_suffixes())
    if not suffix:
        raise UnsupportedFileType.keyed("document.no_suffix", name=path.name, choices=choices)
    raise UnsupportedFileType.keyed(
        "document.no_reader", name=path.name, suffix=suffix, choices=choices
    )


def read_document(
    path: Path, *, name: str | None = None, progress: Progress | None = None
) -> DocumentText:
    """Read a source document into clean text and sentences.

    Args:
        path: a PDF, DOCX, Markdown, plain text or HTML file (see
            :func:`supported_suffixes`).
        name: the name the document is known by, e.g. the address of a saved page;
            the file name when not given.
        progress: called as ``progress(done, total)`` while reading: once a page for
            a PDF, once at the end for other files.

    Returns:
        The document's text, sentences, language and hash.

    Raises:
        UnsupportedFileType: the suffix has no reader (a URL list is read with
            :func:`read_url_list`).
        UnreadableDocument: missing file, encrypted or corrupt PDF, PDF without text,
            a DOCX that is no Word document.
        EmptyInput: the file holds no sentences (a cookie wall, only headings).
        BadEncoding: a text file that is neither UTF-8 nor Windows-1252.
    """
    path = Path(path)
    if path.suffix.lower() in URL_LIST_SUFFIXES:
        raise UnsupportedFileType.keyed("document.is_url_list", name=path.name)
    reader = reader_for(path)
    return _read(path, reader, read_bytes(path), name or path.name, progress)


def read_document_data(data: bytes, name: str, *, progress: Progress | None = None) -> DocumentText:
    """Read a document given as bytes, e.g. a file uploaded in the web app.

    Args:
        data: the raw bytes of the file.
        name: the file's name; only a label: its suffix picks the reader and it names
            the document. It is never opened or written as a path.
        progress: as for :func:`read_document`.

    Raises:
        The errors of :func:`read_document`, except a missing file.
    """
    label = PurePosixPath(name)
    if label.suffix.lower() in URL_LIST_SUFFIXES:
        raise UnsupportedFileType.keyed("document.is_url_list", name=name)
    return _read(label, reader_for(label), data, name, progress)


def _read(
    path: PurePath, reader: Reader, data: bytes, name: str, progress: Progress | None
) -> DocumentText:
    if not data.strip():
        raise EmptyInput.keyed("document.empty", name=path.name)
    if reader.paged:
        result = reader.read(data, path.name, progress)
    else:
        result = reader.read(data, path.name)
        if progress is not None:
            progress(1, 1)
    return _build(path, reader.name, data, result, name)


def read_url_list(path: Path) -> list[tuple[str, Path]]:
    """Read a URL list: the pages a user saved from a website, one a line.

    Each line is ``URL<spaces>saved-file``, the file relative to the list's folder;
    blank lines and ``#`` comments are skipped. Read each page with
    ``read_document(file, name=url)`` so its provenance shows the page's address.

    Raises:
        UnreadableDocument: the list is missing, or a saved file it names is.
        InvalidUrlList: a line is not ``URL file`` (the message gives its number).
        EmptyInput: the list names no pages.
    """
    from klopt.register.readers.url_list import read_url_list as read

    return read(Path(path))


def document_sources(paths: Iterable[Path]) -> list[tuple[Path, str | None]]:
    """The documents to read for ``paths``: URL lists expanded to their saved pages.

    Returns:
        ``(file, name)`` pairs for :func:`read_document`; ``name`` is the page address
        for a page from a URL list, else ``None``.
    """
    sources: list[tuple[Path, str | None]] = []
    for path in map(Path, paths):
        if path.suffix.lower() in URL_LIST_SUFFIXES:
            sources.extend((file, url) for url, file in read_url_list(path))
        else:
            sources.append((path, None))
    return sources


def _build(path: PurePath, kind: str, data: bytes, result: ReadResult, name: str) -> DocumentText:
    text, sentences, blocks = _assemble(result.blocks)
    if not sentences:
        raise EmptyInput.keyed("document.no_sentences", name=path.name)
    headings = [b.text for b in result.blocks if b.kind == "heading" and _clean(b.text)]
    fallback = name if name != path.name else path.stem
    title = _clean(result.title or "") or (_clean(headings[0]) if headings else fallback)
    sentences, language = _with_languages(sentences, blocks)
    return DocumentText(
        path=str(path),
        title=title,
        kind=kind,
        text=text,
        language=language,
        sentences=sentences,
        sha256=hashlib.sha256(data).hexdigest(),
        notes=result.notes,
        name=name,
    )


# A paragraph this short says little about its language ("gratis retour"): it takes
# the language of the text around it.
_SHORT = 4


def _with_languages(
    sentences: Sequence[Sentence], blocks: Sequence[int]
) -> tuple[tuple[Sentence, ...], str]:
    """Detect the language per block (in one batch) and give it to the block's sentences.

    Args:
        sentences: the document's sentences.
        blocks: for each sentence, the number of the block it came from.

    Returns:
        The sentences with their language, and the language of most of the text.
    """
    from klopt.models.language import detect_language

    groups: dict[int, list[Sentence]] = {}
    for sentence, block in zip(sentences, blocks, strict=True):
        groups.setdefault(block, []).append(sentence)
    paragraphs = list(groups.values())
    texts = [" ".join(s.text for s in group)[:2_000] for group in paragraphs]
    detected = detect_language(texts)
    weight: dict[str, int] = {}
    for text, language in zip(texts, detected, strict=True):
        weight[language] = weight.get(language, 0) + len(text)
    majority = max(weight, key=lambda code: (weight[code], code != "other"))
    languages: dict[int, str] = {}
    context: str | None = None
    for group, text, language in zip(paragraphs, texts, detected, strict=True):
        if len(text.split()) >= _SHORT:
            context = language
        elif context is not None:
            language = context
        elif language == "other":
            language = majority
        languages.update((s.index, language) for s in group)
    with_language = tuple(replace(s, language=languages[s.index]) for s in sentences)
    return with_language, majority


# --- text and sentences ----------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


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
# Not inside a run of marks: "!!!!" is tried once, not once per mark (linear time).
_END_MARK = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s|$)")
_NOT_SPACE = re.compile(r"\S")
_DOTTED = re.compile(r"(?:[^\W\d_]\.){2,}")  # "o.a.", "d.w.z.", "U.S."; not "2.0."
_CAMEL = re.compile(r"[a-z]{1,3}[A-Z]")
_ACRONYM = re.compile(r"[A-Z]{2,}\.")
_OPENERS = "([\"'“‘"
_ENUMERATION = re.compile(r"\(?\d{1,2}[.)]\s+(?=\S)")  # "1. Wij leveren ...", "2) ..."
_NUMBER_MARK = re.compile(r"\(?\d{1,2}[.)]")
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
    # Offsets into ``text``, no slices of the rest or the start of it: a long paragraph
    # has many marks, and each look must cost the words around the mark, not the text.
    following = _NOT_SPACE.search(text, end)
    if following is None:
        return True
    first = following.start()
    if text[first].islower() and not _CAMEL.match(text, first):  # "iPhone", "eBay" do
        return False
    if text[mark] != ".":
        return True
    word_start = mark
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    original = text[word_start : mark + 1].lstrip(_OPENERS)
    word = original.lower()
    if word in _MAYBE_END or _ACRONYM.fullmatch(original):  # "... Voorbeeld BV. Wij ..."
        return True
    if word in _BEFORE_NUMBER:
        return not text[first].isdigit()
    if _NUMBER_MARK.fullmatch(original) and _starts_sentence(text, mark + 1 - len(original)):
        return False  # "1. Wij leveren ...": the number of a list item
    if word in _NO_SPLIT or _DOTTED.fullmatch(word):
        return False
    # An initial, as in "J. Jansen".
    return not (len(word) == 2 and text[mark - 1].isupper())


def _starts_sentence(text: str, offset: int) -> bool:
    before = offset
    while before > 0 and text[before - 1].isspace():
        before -= 1
    return before == 0 or text[before - 1] in ".!?:…"


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    offset = start + len(piece) - len(piece.lstrip())
    number = _ENUMERATION.match(stripped)
    if number and stripped[number.end() :][:1].isupper():  # the item's text, not its number
        offset += number.end()
        stripped = stripped[number.end() :]
    if any(c.isalnum() for c in stripped):
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
    blocks: list[int]  # per sentence, the number of its block
    length: int = 0
    section: str | None = None
    lead_in: str | None = None
    last_kind: str = ""


def _assemble(blocks: Iterable[Block]) -> tuple[str, tuple[Sentence, ...], list[int]]:
    state = _Assembly(parts=[], sentences=[], blocks=[])
    for number, block in enumerate(blocks):
        text = _clean(block.text)
        if text:
            _add_block(state, block, text)
            state.blocks.extend([number] * (len(state.sentences) - len(state.blocks)))
    return "".join(state.parts), tuple(state.sentences), state.blocks


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
