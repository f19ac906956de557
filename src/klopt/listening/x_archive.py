"""The X (Twitter) archive: ``data/tweets.js`` from "Download an archive of your data".

The file is JavaScript, not JSON: ``window.YTD.tweets.part0 = [ ... ]``, each item a
``{"tweet": {...}}`` (older archives: the tweet object itself). A large archive is split
into ``tweets-part1.js`` and so on, each with its own ``partN`` prefix; import each.
The archive holds the account's own posts, so a retweet (a repost of someone else's
post, ``RT @name: ...``) is skipped with that reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from klopt.errors import InputError
from klopt.listening.base import BadRow, RawRow, register_reader
from klopt.listening.files import flatten, parse_json, read_text

__all__ = ["read_x_archive", "STATUS_URL"]

#: Where a post can be seen without knowing the account's handle (tweets.js leaves it out).
STATUS_URL = "https://x.com/i/web/status/{id}"

_PREFIX = re.compile(r"\A\s*window\.YTD\.[\w.]+\s*=\s*")


@register_reader("x-archive", ".js")
def read_x_archive(path: Path, encoding: str = "utf-8-sig") -> Iterator[RawRow | BadRow]:
    """The posts of an X archive's ``tweets.js``, with ``klopt.url`` added to each."""
    for number, item in enumerate(_items(path, encoding), start=1):
        tweet = item.get("tweet", item) if isinstance(item, dict) else None
        if not isinstance(tweet, dict):
            yield BadRow(number, "not_an_object")
            continue
        text = str(tweet.get("full_text") or tweet.get("text") or "")
        if text.startswith("RT @"):
            yield BadRow(number, "repost")
            continue
        fields = flatten(tweet)
        post_id = str(tweet.get("id_str") or tweet.get("id") or "")
        if post_id:
            fields["klopt.url"] = STATUS_URL.format(id=post_id)
        yield RawRow(number, fields)


def _items(path: Path, encoding: str) -> list[Any]:
    """The array in the file, its ``window.YTD...`` prefix taken off."""
    data = parse_json(path, _PREFIX.sub("", read_text(path, encoding), count=1))
    if not isinstance(data, list):
        raise InputError.keyed("mentions.no_records", name=path.name)
    return data
