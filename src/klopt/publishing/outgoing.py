"""What goes out to a platform, and what comes back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Image", "Outgoing", "Reach", "ReplyTo", "Sent", "record_key"]


@dataclass(frozen=True)
class Image:
    """An image with its alt text (a description for people who cannot see it)."""

    data: bytes
    mime: str
    alt: str


@dataclass(frozen=True)
class ReplyTo:
    """The post a reply answers.

    Attributes:
        id: its id where it was read: Mastodon's status id on ``seen_on``, Bluesky's
            ``at://`` uri.
        uri: Mastodon: the status's ``uri``, the same on every server; an account on
            another server than ``seen_on`` finds the status by it.
        seen_on: Mastodon: the server the ``id`` belongs to.
        cid: Bluesky: the post's content id.
        root_id, root_cid: Bluesky: the thread's first post (the post itself when it
            starts the thread). ``None`` where not known: the client looks them up.
    """

    id: str
    uri: str | None = None
    seen_on: str | None = None
    cid: str | None = None
    root_id: str | None = None
    root_cid: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """One post to send.

    Attributes:
        text: the post as approved.
        key: the same for every try of the same draft version (``klopt:<org>:D3:v2``):
            the platform sees a repeat, not a second post.
        images: at most four, each with alt text.
        reply_to: the post it answers, for a reply.
        visibility: Mastodon's ``public``, ``unlisted``, ``private`` or ``direct``.
        language: ``nl`` or ``en`` where known.
        since: when the first try was made (an aware time); a platform that remembers
            keys for a while only (Mastodon: an hour) looks for the post itself first
            when a try comes later than that.
    """

    text: str
    key: str
    images: tuple[Image, ...] = field(default=())
    reply_to: ReplyTo | None = None
    visibility: str = "public"
    language: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class Sent:
    """A post the platform holds: its id (Mastodon's status id, Bluesky's ``at://`` uri),
    its web address and, on Bluesky, its ``cid``."""

    id: str
    url: str | None
    cid: str | None = None


@dataclass(frozen=True)
class Reach:
    """What a post got: favourites or likes, boosts or reposts, replies."""

    likes: int
    shares: int
    replies: int

    @property
    def total(self) -> int:
        """Everything together, as the scorecard counts an own post's reach."""
        return self.likes + self.shares + self.replies


_BASE32 = "234567abcdefghijklmnopqrstuvwxyz"  # the alphabet of AT Protocol record keys (TIDs)


def record_key(key: str) -> str:
    """A Bluesky record key for ``key``: 13 characters of ``base32-sortable``, like a TID,
    the same for the same key (so a repeat lands on the record already made)."""
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    number &= (1 << 63) - 1  # a TID's top bit is 0
    chars = []
    for _ in range(13):
        chars.append(_BASE32[number & 31])
        number >>= 5
    return "".join(reversed(chars))
