"""The built-in document readers: PDF, Word, Markdown, plain text and HTML.

:mod:`klopt.register.documents` registers :data:`BUILT_IN` through its registry the first
time a reader is needed, exactly as a plugin registers its own. Readers take their values
from :mod:`klopt.register.reading`, never from the documents module that uses them.
"""

from __future__ import annotations

from klopt.register.readers.docx import _read_docx
from klopt.register.readers.html import _read_html
from klopt.register.readers.markdown import _read_markdown
from klopt.register.readers.pdf import _read_pdf
from klopt.register.readers.text import _read_text
from klopt.register.reading import Reader

__all__ = ["BUILT_IN"]

BUILT_IN: tuple[Reader, ...] = (
    Reader("pdf", (".pdf",), _read_pdf, paged=True),
    Reader("docx", (".docx",), _read_docx),
    Reader("markdown", (".md", ".markdown"), _read_markdown),
    Reader("text", (".txt", ".text"), _read_text),
    Reader("html", (".html", ".htm", ".xhtml"), _read_html),
)
