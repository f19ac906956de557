"""Bluesky rich text: links, mentions and hashtags as facets with UTF-8 byte ranges.

A Bluesky post is plain text; what is a link, a mention or a tag is said beside it, as
``app.bsky.richtext.facet`` entries whose ``index`` counts **bytes** of the UTF-8 text
(an emoji before a link moves it by four). Mentions name the account's DID, so handles
are resolved first; a handle that does not resolve stays plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["facets"]

# A URL as people type it in a post; trailing punctuation is not part of it.
_LINK = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’”]")
# @handle.domain (Bluesky handles are domain names).
_MENTION = re.compile(
    r"(?<![\w@])@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z][a-zA-Z0-9-]*)"
)
# #tag: letters, digits and underscores, not only digits, at most 64 characters.
_TAG = re.compile(r"(?<![\w#&])#(?!\d+\b)(\w{1,64})", re.UNICODE)


def _bytes(text: str, start: int, end: int) -> dict[str, int]:
    begin = len(text[:start].encode("utf-8"))
    return {"byteStart": begin, "byteEnd": begin + len(text[start:end].encode("utf-8"))}


def facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """The facets of ``text``, in text order.

    Args:
        text: the post.
        resolve: a handle's DID (``com.atproto.identity.resolveHandle``), or ``None``.
    """
    found: list[tuple[int, dict[str, Any]]] = []
    links = [(m.start(), m.end()) for m in _LINK.finditer(text)]
    for start, end in links:
        feature = {"$type": "app.bsky.richtext.facet#link", "uri": text[start:end]}
        found.append((start, {"index": _bytes(text, start, end), "features": [feature]}))

    def inside_link(position: int) -> bool:
        return any(a <= position < b for a, b in links)

    for match in _MENTION.finditer(text):
        if inside_link(match.start()):
            continue
        did = resolve(match.group(1).lower())
        if did:
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
            index = _bytes(text, match.start(), match.end())
            found.append((match.start(), {"index": index, "features": [feature]}))
    for match in _TAG.finditer(text):
        if inside_link(match.start()):
            continue
        feature = {"$type": "app.bsky.richtext.facet#tag", "tag": match.group(1)}
        index = _bytes(text, match.start(), match.end())
        found.append((match.start(), {"index": index, "features": [feature]}))
    return [facet for _, facet in sorted(found, key=lambda item: item[0])]
