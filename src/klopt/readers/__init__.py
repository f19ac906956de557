"""The built-in document readers: PDF, Word, Markdown, plain text and HTML.

:mod:`klopt.documents` registers :data:`BUILT_IN` through its registry the first time
a reader is needed, exactly as a plugin registers its own; it imports this package
lazily because every reader here imports the data model from :mod:`klopt.documents`.
"""

from __future__ import annotations

from klopt.documents import Reader
from klopt.readers.docx import _read_docx
from klopt.readers.html import _read_html
from klopt.readers.markdown import _read_markdown
from klopt.readers.pdf import _read_pdf
from klopt.readers.text import _read_text

__all__ = ["BUILT_IN"]

BUILT_IN: tuple[Reader, ...] = (
    Reader("pdf", (".pdf",), _read_pdf, paged=True),
    Reader("docx", (".docx",), _read_docx),
    Reader("markdown", (".md", ".markdown"), _read_markdown),
    Reader("text", (".txt", ".text"), _read_text),
    Reader("html", (".html", ".htm", ".xhtml"), _read_html),
)
