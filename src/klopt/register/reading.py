"""What a document reader works with: its values, reading the bytes, decoding text.

A reader (:mod:`klopt.register.readers`) turns the bytes of one kind of file into
:class:`Block` s; :mod:`klopt.register.documents` does everything after that. Both use
what is here, and neither needs the other for it.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from klopt.errors import BadEncoding, UnreadableDocument

__all__ = [
    "Block",
    "BlockKind",
    "Note",
    "Progress",
    "ReadResult",
    "Reader",
    "clean",
    "decode_text",
    "read_bytes",
]

BlockKind = Literal["heading", "paragraph", "bullet"]
Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as a long read goes on (per page for a PDF)."""


@dataclass(frozen=True)
class Note:
    """Something a user may want to know about how a document was read, in their language.

    Attributes:
        key: the message key under ``note.`` in the locale files (``cp1252``, ...).
        values: the message's fields, as ``(name, value)`` pairs.
    """

    key: str
    values: tuple[tuple[str, Any], ...] = ()

    def text(self, lang: str = "en") -> str:
        """The note in ``lang`` (English for a language klopt does not speak)."""
        from klopt.i18n import t

        return t(f"note.{self.key}", lang, **dict(self.values))

    def __str__(self) -> str:
        return self.text()


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
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class Reader:
    """A named reader for files with the given suffixes.

    Attributes:
        name: the document kind it produces (``pdf``, ``markdown`` ...).
        suffixes: lower-case file suffixes with the dot (``.md``).
        read: ``read(data, file_name)``; raises :class:`~klopt.errors.InputError` s.
            When ``paged`` is true it is called as ``read(data, file_name, progress)``
            and calls ``progress(done, total)`` itself, e.g. once a page.
        paged: ``read`` reports its own progress.
    """

    name: str
    suffixes: tuple[str, ...]
    read: Callable[..., ReadResult]
    paged: bool = False


def read_bytes(path: Path) -> bytes:
    """The bytes of the file at ``path``, or an error that says why they cannot be read.

    Raises:
        UnreadableDocument: the file does not exist or cannot be read.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UnreadableDocument.keyed("file.not_found", path=path) from None
    except OSError as exc:
        raise UnreadableDocument.keyed(
            "file.unreadable", path=path, detail=exc.strerror or exc
        ) from None


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def clean(text: str) -> str:
    """Normalise Unicode and whitespace; drop soft hyphens and zero-width characters."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).translate(_INVISIBLE)).strip()


def decode_text(data: bytes, name: str) -> tuple[str, tuple[Note, ...]]:
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
            note = Note("cp1252", (("name", name),))
            return data.decode("cp1252"), (note,)
        except UnicodeDecodeError:
            pass
    raise BadEncoding.keyed("document.bad_encoding", name=name)
