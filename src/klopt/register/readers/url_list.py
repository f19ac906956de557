"""URL list files: the pages a user saved from a website, with the address of each.

    # pages saved on 2026-03-01
    https://www.voorbeeld.nl/service   saved/service.html
    https://www.voorbeeld.nl/over-ons  saved/over ons.html

A line is an address, whitespace, and the saved file (relative to the list's folder;
the rest of the line, so names with spaces work). Blank lines and ``#`` comments are
skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from klopt.errors import EmptyInput, InvalidUrlList, UnreadableDocument
from klopt.register.reading import decode_text, read_bytes

_LINE = re.compile(r"^(?P<url>\S+)\s+(?P<file>\S.*?)\s*$")
_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+", re.IGNORECASE)


def read_url_list(path: Path) -> list[tuple[str, Path]]:
    """``(url, saved file)`` for each line of the URL list at ``path``, in order."""
    text, _ = decode_text(read_bytes(path), path.name)
    pages: list[tuple[str, Path]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            pages.append(_page(path, number, line))
    if not pages:
        raise EmptyInput.keyed("url_list.empty", name=path.name)
    return pages


def _page(path: Path, number: int, line: str) -> tuple[str, Path]:
    match = _LINE.match(line)
    if match is None or not _URL.match(match["url"]):
        raise InvalidUrlList.keyed("url_list.bad_line", name=path.name, line=number, text=line[:80])
    file = path.parent / match["file"]
    if not file.is_file():
        raise UnreadableDocument.keyed(
            "url_list.missing_file", name=path.name, line=number, file=match["file"]
        )
    return match["url"], file
