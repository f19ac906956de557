"""Word (.docx), through python-docx: heading styles become headings, list paragraphs
bullets, table cells paragraphs; page headers and footers are left out."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from klopt.errors import EncryptedDocument, NotAWordDocument
from klopt.register.reading import Block, BlockKind, ReadResult

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc files, and password-protected .docx
_LIST_STYLES = ("list", "lijst")


def _read_docx(data: bytes, name: str) -> ReadResult:
    document = _open(data, name)
    blocks = tuple(_inner(document))
    title = document.core_properties.title or None
    return ReadResult(blocks, title=title)


def _open(data: bytes, name: str) -> Any:
    import docx

    _check_package(data, name)
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types on damaged files
        detail = f"{type(exc).__name__}: {exc}"
        raise NotAWordDocument.keyed("document.docx_damaged", name=name, detail=detail) from None


def _check_package(data: bytes, name: str) -> None:
    """Say clearly what the file is when it is no .docx: an old .doc, a protected file,
    no ZIP at all, or a ZIP of something else."""
    if data.startswith(_OLE):
        raise EncryptedDocument.keyed("document.docx_old_or_protected", name=name)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise NotAWordDocument.keyed("document.docx_not_zip", name=name)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    if "word/document.xml" not in names:
        shown = ", ".join(sorted(names)[:5]) + (" ..." if len(names) > 5 else "")
        if not shown:
            raise NotAWordDocument.keyed("document.docx_empty_zip", name=name)
        raise NotAWordDocument.keyed("document.docx_other_zip", name=name, files=shown)


def _inner(container: Any) -> Iterator[Block]:
    """Paragraphs and tables in document order; a table's cells row by row."""
    from docx.table import Table

    for item in container.iter_inner_content():
        if isinstance(item, Table):
            yield from _table(item)
        else:
            text = item.text
            if text.strip():
                yield Block(_kind(item), text)


def _table(table: Any) -> Iterator[Block]:
    seen: set[Any] = set()  # the cells' XML elements: held, so never mistaken by id
    for row in table.rows:
        for cell in row.cells:
            if cell._tc in seen:  # a merged cell is listed once per grid column
                continue
            seen.add(cell._tc)
            yield from _inner(cell)


def _kind(paragraph: Any) -> BlockKind:
    style = (paragraph.style.name if paragraph.style is not None else "").lower()
    if style.startswith(("heading", "kop", "title", "titel")):
        return "heading"
    properties = paragraph._p.pPr
    numbered = properties is not None and properties.numPr is not None
    if numbered or style.startswith(_LIST_STYLES):
        return "bullet"
    return "paragraph"
