"""Facebook and Instagram exports ("Download your information", JSON format).

Both write text as UTF-8 bytes escaped one by one as if they were Latin-1
(``"caf\\u00c3\\u00a9"`` for "café"): every string is repaired where that round-trips.
Times are epoch seconds. Neither export holds a post id or a link to the post, so
each post gets an id from its time and text (or its media file), stable between runs.

Facebook: ``your_posts_1.json`` (also ``profile_posts_1.json``; a Page's export has
the same shape): a list of ``{"timestamp", "data": [{"post": text}, ...],
"attachments", "title"}``.
Instagram: ``content/posts_1.json`` (newer exports: under ``your_instagram_activity``):
a list of ``{"media": [{"uri", "creation_timestamp", "title"}, ...], "title",
"creation_timestamp"}``; a post with one photo keeps its caption on the media item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from klopt.errors import InputError
from klopt.listening.base import BadRow, RawRow, register_reader
from klopt.listening.files import flatten, load_json

__all__ = ["read_facebook_posts", "read_instagram_posts", "repair_mojibake"]


def repair_mojibake(value: Any) -> Any:
    """``value`` with every string repaired: Latin-1-escaped UTF-8 back to its text.

    A string that does not round-trip (real Latin-1 text, an emoji written properly)
    is left as it is, so repairing twice changes nothing.
    """
    if isinstance(value, str):
        try:
            return value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return value
    if isinstance(value, list):
        return [repair_mojibake(item) for item in value]
    if isinstance(value, dict):
        return {key: repair_mojibake(item) for key, item in value.items()}
    return value


@register_reader("facebook-posts")
def read_facebook_posts(path: Path, encoding: str = "utf-8-sig") -> Iterator[RawRow | BadRow]:
    """Posts of a Facebook export, with ``klopt.text`` and ``klopt.id`` added.

    An item without Facebook's ``timestamp`` and ``data`` is passed on as it is, so
    that a file of another kind is recognised as such.
    """
    for number, post in enumerate(_posts(path, encoding), start=1):
        if not isinstance(post, dict):
            yield BadRow(number, "not_an_object")
            continue
        fields = flatten(post)
        if "timestamp" in post or "data" in post:
            parts = [d.get("post") for d in post.get("data") or [] if isinstance(d, dict)]
            text = "\n\n".join(str(p).strip() for p in parts if p and str(p).strip())
            if not text:
                yield BadRow(number, "no_text")
                continue
            fields["klopt.text"] = text
            fields["klopt.id"] = f"{post.get('timestamp', '')}-{_digest(text)}"
        yield RawRow(number, fields)


@register_reader("instagram-posts")
def read_instagram_posts(path: Path, encoding: str = "utf-8-sig") -> Iterator[RawRow | BadRow]:
    """Posts of an Instagram export, with ``klopt.text``, ``klopt.time``, ``klopt.id``.

    An item without Instagram's ``media`` is passed on as it is (see Facebook's).
    """
    for number, post in enumerate(_posts(path, encoding), start=1):
        if not isinstance(post, dict):
            yield BadRow(number, "not_an_object")
            continue
        fields = flatten(post)
        media = post.get("media")
        if isinstance(media, list):
            first = media[0] if media and isinstance(media[0], dict) else {}
            text = str(post.get("title") or first.get("title") or "").strip()
            if not text:
                yield BadRow(number, "no_text")
                continue
            fields["klopt.text"] = text
            fields["klopt.time"] = post.get("creation_timestamp") or first.get("creation_timestamp")
            fields["klopt.id"] = first.get("uri") or _digest(text)
        yield RawRow(number, fields)


def _posts(path: Path, encoding: str) -> list[Any]:
    """The list of posts: the file itself, or the one list in its top object."""
    data = repair_mojibake(load_json(path, encoding))
    if isinstance(data, dict):
        lists = [value for value in data.values() if isinstance(value, list)]
        data = lists[0] if len(lists) == 1 else None
    if not isinstance(data, list):
        raise InputError.keyed("mentions.no_records", name=path.name)
    return data


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
