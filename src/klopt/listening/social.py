"""What the social-platform connectors (Mastodon, Bluesky, Reddit) share: checked
settings, times, and the walk down a newest-first listing.

Most platform APIs list the newest items first and page towards older ones with an
opaque cursor. Such a listing cannot commit a cursor per page: a crash half-way would
leave a gap below the committed mark. :func:`newest_first` therefore walks down until it
reaches the *high-water mark* of the run before (the newest item it stored) or
``since``, yields its pages with ``cursor=None``, and puts the new mark in the cursor of
its last page only. A run that stops half-way (a rate limit, a crash) walks the same
pages again next time; deduplication skips what was stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from klopt.errors import InputError, MalformedResponse
from klopt.listening.base import MentionRecord, RowProblem
from klopt.listening.source import Page

__all__ = [
    "Entry",
    "newest_first",
    "committer",
    "https_address",
    "env_name",
    "iso_time",
    "iso_text",
    "bearer",
    "expect",
    "deleted",
    "not_a_post",
]

#: Pages a first run reads per stream when no ``since`` says how far back to go.
FIRST_RUN_PAGES = 5
#: Pages one run reads per stream at most (a long pause, or a listing that never ends).
MAX_PAGES = 100

_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def https_address(value: str, kind: str, setting: str) -> str:
    """``value`` as a base address (``https://host[:port][/path]``, no trailing slash).

    Plain http is only accepted for this machine (a local proxy, a test server): a
    token must not travel in the clear.

    Raises:
        InputError: not an https address (``source.not_https``).
    """
    address = value.strip().rstrip("/")
    if "://" not in address and address:
        address = f"https://{address}"
    parts = urlparse(address)
    local = parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    if not parts.netloc or not (parts.scheme == "https" or local) or parts.query:
        raise InputError.keyed("source.not_https", url=value.strip(), kind=kind, setting=setting)
    return address


def env_name(options: Mapping[str, Any], setting: str, kind: str) -> str | None:
    """The name of the environment variable that ``setting`` names, or ``None``.

    A value that is not a variable name (a pasted token, most likely) is refused
    without being repeated in the message.

    Raises:
        InputError: not a variable name (``source.env_name``).
    """
    value = str(options.get(setting) or "").strip()
    if not value:
        return None
    if not _ENV_NAME.fullmatch(value):
        example = f"{kind}_{setting.removesuffix('_env')}".upper()  # e.g. MASTODON_TOKEN
        option = setting.replace("_", "-")
        raise InputError.keyed(
            "source.env_name", kind=kind, setting=setting, option=option, example=example
        )
    return value


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time from an API (``Z`` or an offset, any fraction) as aware UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python takes at most six digits of a fraction; AT Protocol times may carry nine.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def iso_text(stamp: datetime) -> str:
    """A time as the platforms write it: UTC, milliseconds, ``Z``."""
    utc = stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def bearer(token: str | None) -> dict[str, str]:
    """The ``Authorization`` header for ``token`` (none without one)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def expect(value: Any, kind: type, url: str, what: str) -> Any:
    """``value`` when it is a ``kind``; else the answer is not what the API promises.

    Raises:
        MalformedResponse: ``source.unexpected_json``, naming ``what`` was missing.
    """
    if not isinstance(value, kind):
        raise MalformedResponse.keyed("source.unexpected_json", url=url.split("?", 1)[0], what=what)
    return value


def deleted(number: int) -> RowProblem:
    """Item ``number`` is deleted, removed or blocked at the source."""
    return RowProblem(number, "deleted at the source", "deleted")


def not_a_post(number: int, what: str) -> RowProblem:
    """Item ``number`` is not a post with text (``what`` says what it is)."""
    return RowProblem(number, f"not a post ({what})", "not_a_post", (("what", what),))


@dataclass(frozen=True)
class Entry:
    """One item of a listing, as a connector reads it.

    Attributes:
        order: where the item sits in the listing, comparable (newer is larger);
            ``None`` for an item without a place of its own (a deleted stub, a repost),
            which neither moves the mark nor ends the walk.
        mark: what the cursor keeps when this is the newest item (JSON).
        posted_at: its time, compared with ``since``.
        record: the post to store, or ``None`` (skipped, or a problem).
        problem: why it was skipped, when that is worth reporting.
    """

    order: Any = None
    mark: Any = None
    posted_at: datetime | None = None
    record: MentionRecord | None = None
    problem: RowProblem | None = None


def newest_first(
    fetch: Callable[[Any], tuple[Sequence[Any], Any]],
    read: Callable[[Any], Entry],
    *,
    floor: Any,
    since: datetime | None,
    commit: Callable[[Any], Mapping[str, Any]],
) -> Iterator[Page]:
    """Walk a newest-first listing down to ``floor`` (the last run's mark) or ``since``.

    Args:
        fetch: the page after ``position`` (``None``: the newest page), as its items and
            the position of the next page (``None`` at the end of the listing).
        read: one item as an :class:`Entry`.
        floor: the ``order`` of the newest item of the last run; ``None`` on a first run.
        since: nothing older is kept.
        commit: the cursor to store with the last page, given the new mark (``None``
            when nothing newer than ``floor`` came).
    """
    limit = MAX_PAGES if floor is not None or since is not None else FIRST_RUN_PAGES
    position: Any = None
    newest: Entry | None = None
    for number in range(1, limit + 1):
        items, position = fetch(position)
        records: list[MentionRecord] = []
        problems: list[RowProblem] = []
        reached = not items
        for item in items:
            entry = read(item)
            if entry.order is not None:
                if floor is not None and entry.order <= floor:
                    reached = True
                    continue
                if since is not None and entry.posted_at is not None and entry.posted_at < since:
                    reached = True
                    continue
                if newest is None or entry.order > newest.order:
                    newest = entry
            if entry.record is not None:
                records.append(entry.record)
            elif entry.problem is not None:
                problems.append(entry.problem)
        if reached or position is None or number == limit:
            yield Page(records, commit(newest.mark if newest is not None else None), problems)
            return
        yield Page(records, None, problems)


def committer(state: dict[str, Any], key: str) -> Callable[[Any], dict[str, Any]]:
    """The ``commit`` of a walk over stream ``key``: the whole cursor ``state``, with the
    stream's new mark when there is one."""

    def commit(mark: Any) -> dict[str, Any]:
        if mark is not None:
            state[key] = mark
        return dict(state)

    return commit
