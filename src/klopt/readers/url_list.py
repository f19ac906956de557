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

from klopt.documents import decode_text
from klopt.errors import EmptyInput, InvalidUrlList, UnreadableDocument

_LINE = re.compile(r"^(?P<url>\S+)\s+(?P<file>\S.*?)\s*$")
_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+", re.IGNORECASE)


def read_url_list(path: Path) -> list[tuple[str, Path]]:
    """``(url, saved file)`` for each line of the URL list at ``path``, in order."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableDocument(f"{path} does not exist.", hint="Check the path.") from None
    except OSError as exc:
        raise UnreadableDocument(
            f"{path} cannot be read ({exc.strerror or exc}).", hint="Give a readable file."
        ) from None
    text, _ = decode_text(data, path.name)
    pages: list[tuple[str, Path]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            pages.append(_page(path, number, line))
    if not pages:
        raise EmptyInput(
            f"{path.name} lists no pages.",
            hint="Write one page a line: the address, a space, and the saved file.",
        )
    return pages


def _page(path: Path, number: int, line: str) -> tuple[str, Path]:
    where = f"{path.name}, line {number}"
    match = _LINE.match(line)
    if match is None or not _URL.match(match["url"]):
        raise InvalidUrlList(
            f"{where} is not 'URL saved-file': {line[:80]!r}.",
            hint="Write the page's address (https://...), a space, and the saved file's path.",
        )
    file = path.parent / match["file"]
    if not file.is_file():
        raise UnreadableDocument(
            f"{where} names {match['file']}, which does not exist next to {path.name}.",
            hint="Give the saved file's path relative to the list, or save the page again.",
        )
    return match["url"], file
