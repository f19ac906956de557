"""An ActivityPub outbox: ``outbox.json`` from a Mastodon account export.

The outbox is an ``OrderedCollection`` whose ``orderedItems`` are activities. A post is
a ``Create`` whose ``object`` is a ``Note`` (or a poll, ``Question``) with its text as
HTML in ``content``. Boosts (``Announce``: someone else's post), deleted posts
(``Tombstone``), direct messages and other activities are skipped, each with its
reason. The plain text is added as ``klopt.text``, the language of ``contentMap`` as
``klopt.lang``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from klopt.errors import InputError
from klopt.listening.base import BadRow, RawRow, html_text, register_reader
from klopt.listening.files import flatten, load_json

__all__ = ["read_outbox"]

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
_POST_TYPES = ("Note", "Question", "Article", "Page")


@register_reader("activitypub-outbox")
def read_outbox(path: Path, encoding: str = "utf-8-sig") -> Iterator[RawRow | BadRow]:
    """The posts of an outbox, one per ``Create`` activity, with their plain text."""
    for number, activity in enumerate(_activities(path, encoding), start=1):
        skipped = _skipped(number, activity)
        if skipped:
            yield skipped
            continue
        post = activity["object"]
        fields = flatten(activity)
        fields["klopt.text"] = html_text(str(post.get("content") or ""))
        languages = post.get("contentMap")
        if isinstance(languages, dict) and languages:
            fields["klopt.lang"] = next(iter(languages))
        yield RawRow(number, fields)


def _activities(path: Path, encoding: str) -> list[Any]:
    data = load_json(path, encoding)
    items = data.get("orderedItems", data.get("items")) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise InputError.keyed("mentions.no_records", name=path.name)
    return items


def _skipped(number: int, activity: Any) -> BadRow | None:
    """Why an activity is not one of the account's posts, or None when it is one."""
    if not isinstance(activity, dict):
        return BadRow(number, "not_an_object")
    kind = str(activity.get("type") or "?")
    post = activity.get("object")
    if kind == "Announce":
        return BadRow(number, "boost")
    if kind != "Create" or not isinstance(post, dict):
        return BadRow(number, "activity", type=kind)
    if post.get("type") == "Tombstone":
        return BadRow(number, "tombstone")
    if post.get("type") not in _POST_TYPES:
        return BadRow(number, "activity", type=str(post.get("type") or "?"))
    if _direct(activity):
        return BadRow(number, "direct_message")
    return None


def _direct(activity: dict[str, Any]) -> bool:
    """Addressed to people only: neither public nor to the account's followers."""
    to = [*_addresses(activity.get("to")), *_addresses(activity.get("cc"))]
    if not to:
        return False  # no addressing in the export: take it as it comes
    return not any(a == PUBLIC or a == "as:Public" or a.endswith("/followers") for a in to)


def _addresses(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []
