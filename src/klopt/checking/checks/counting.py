"""Check types that count: hashtags, mentions, emoji, exclamation marks, links, length."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Self

from klopt.checking.checks.base import Check, Hit, Params
from klopt.checking.findings import Draft, Span

__all__ = ["Count", "Length", "ITEMS"]

_LINK = r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]'’]"
# Emoji: a pictograph (or a flag of two regional letters) with its variation selector,
# skin tone and zero-width-joined parts, so that a family or a flag counts once.
_PICTOGRAPH = r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF]"
_EMOJI = (
    r"[\U0001F1E6-\U0001F1FF]{2}"
    rf"|{_PICTOGRAPH}[\uFE0F\U0001F3FB-\U0001F3FF]*(?:\u200D{_PICTOGRAPH}[\uFE0F\U0001F3FB-\U0001F3FF]*)*"
)

ITEMS: dict[str, re.Pattern[str]] = {
    # A hashtag has a letter in it: "#1" is a rank, not a hashtag.
    "hashtags": re.compile(r"(?<![\w&#/])#(?=\w*[^\W\d_])\w+"),
    # @name, or @name@server on Mastodon; an e-mail address is not a mention.
    "mentions": re.compile(r"(?<![\w@/.])@\w+(?:@[\w-]+(?:\.[\w-]+)+)?"),
    "emoji": re.compile(_EMOJI),
    "exclamations": re.compile(r"!"),
    "links": re.compile(_LINK, re.IGNORECASE),
}


def _limit(per_platform: dict[str, int], default: int | None, platform: str | None) -> int | None:
    if platform is not None and platform in per_platform:
        return per_platform[platform]
    return default


@dataclass(frozen=True)
class Count(Check):
    """At most so many hashtags, mentions, emoji, exclamation marks or links in a post.

    Parameters: ``what`` (``hashtags``, ``mentions``, ``emoji``, ``exclamations``,
    ``links``), ``max`` (for any platform) and/or ``max_per_platform`` (e.g. ``{x: 2}``).
    One finding, marking the first item over the limit up to the last item.
    Message fields: ``{count}``, ``{limit}``, ``{platform}``.
    """

    name = "count"
    parameters = ("what", "max", "max_per_platform")
    fields = ("count", "limit", "platform")

    what: str
    max: int | None
    max_per_platform: dict[str, int]

    @classmethod
    def from_params(cls, params: Params) -> Self:
        if not params.has("what"):
            raise params.missing("what")
        if not params.has("max") and not params.has("max_per_platform"):
            raise params.missing("max | max_per_platform")
        what = params.choice("what", tuple(ITEMS))
        return cls(str(what), params.integer("max"), params.per_platform("max_per_platform"))

    def find(self, draft: Draft) -> Iterator[Hit]:
        limit = _limit(self.max_per_platform, self.max, draft.platform)
        if limit is None:
            return
        items = list(ITEMS[self.what].finditer(draft.text))
        if len(items) <= limit:
            return
        span = Span(items[limit].start(), items[-1].end())
        values: dict[str, str | int] = {
            "count": len(items),
            "limit": limit,
            "platform": draft.platform or "",
        }
        yield Hit(span, values)


@dataclass(frozen=True)
class Length(Check):
    """At most so many characters per platform; a link may count as a fixed length (X: 23).

    Parameters: ``limits`` (per platform, e.g. ``{x: 280, bluesky: 300}``), ``max`` (when
    the platform is unknown or not listed; default none), ``link_length`` (per platform).
    One finding, marking the text past the limit.
    Message fields: ``{length}``, ``{limit}``, ``{over}``, ``{platform}``.
    """

    name = "length"
    parameters = ("limits", "max", "link_length")
    fields = ("length", "limit", "over", "platform")

    limits: dict[str, int]
    max: int | None
    link_length: dict[str, int]

    @classmethod
    def from_params(cls, params: Params) -> Self:
        if not params.has("limits") and not params.has("max"):
            raise params.missing("limits | max")
        return cls(
            params.per_platform("limits"), params.integer("max"), params.per_platform("link_length")
        )

    def find(self, draft: Draft) -> Iterator[Hit]:
        limit = _limit(self.limits, self.max, draft.platform)
        if limit is None:
            return
        link = self.link_length.get(draft.platform or "")
        # (start, end, counted length) of each piece of text, links counted as `link`.
        pieces: list[tuple[int, int, int]] = []
        position = 0
        if link is not None:
            for match in ITEMS["links"].finditer(draft.text):
                pieces.append((position, match.start(), match.start() - position))
                pieces.append((match.start(), match.end(), link))
                position = match.end()
        pieces.append((position, len(draft.text), len(draft.text) - position))
        length = sum(counted for _, _, counted in pieces)
        if length <= limit:
            return
        values = {"length": length, "limit": limit, "over": length - limit}
        yield Hit(
            Span(_offset(pieces, limit), len(draft.text)),
            {**values, "platform": draft.platform or ""},
        )


def _offset(pieces: list[tuple[int, int, int]], limit: int) -> int:
    """The text offset where the counted length passes ``limit``."""
    counted = 0
    for start, end, size in pieces:
        if counted + size > limit:
            # A link is counted whole: the part past the limit starts at the link.
            return start + (limit - counted) if size == end - start else start
        counted += size
    return pieces[-1][1]
