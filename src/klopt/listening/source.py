"""The one protocol every source speaks, and the registry of source kinds.

A *source* is a place klopt listens to on behalf of one organisation: a feed, a search
on Mastodon, Bluesky or Reddit, an account's own posts, a folder of exports. Each kind
is a class registered by name (:func:`register_source`) that

- checks and normalises its settings once, when the source is added
  (:meth:`SourceKind.configure`; secrets are never settings, only the name of the
  environment variable that holds them), and
- yields :class:`Page` objects: a few records and the *cursor* after them.

The sync engine (:mod:`klopt.listening.sync`) stores a page's records and its cursor in
one transaction, so a crash loses nothing and duplicates nothing: the next run starts
from the last cursor that was committed with its records. A kind whose API pages from
newest to oldest yields ``cursor=None`` (unchanged) until its last page; a re-run after
a crash then fetches those pages again, and deduplication skips what was stored.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from klopt.errors import BadCredentials, InputError
from klopt.listening.base import MentionRecord, RowProblem

if TYPE_CHECKING:
    from klopt.listening.http import Http

__all__ = [
    "Setting",
    "Page",
    "SourceContext",
    "Source",
    "SourceKind",
    "SOURCE_KINDS",
    "register_source",
    "source_kind",
    "source_kinds",
]


@dataclass(frozen=True)
class Setting:
    """One setting of a source kind, as ``klopt sources add KIND`` asks for it.

    Attributes:
        name: the key in the stored settings, and the option ``--name`` (``_`` as ``-``).
        required: the source cannot work without it.
        multiple: it may be given several times (stored as a list).
        argument: asked as a positional argument after the source's name (e.g. a URL).
        secret_env: it names an environment variable holding a secret (the secret
            itself is never a setting and never stored).
    """

    name: str
    required: bool = False
    multiple: bool = False
    argument: bool = False
    secret_env: bool = False


@dataclass(frozen=True)
class Page:
    """Records from one request (or one file), and the cursor after them.

    Attributes:
        records: new items, in the source's order.
        cursor: the source's state once these records are stored; ``None`` leaves the
            stored cursor as it is (a page in the middle of a newest-first walk).
        problems: items that were skipped, and why (deleted, malformed).
    """

    records: Sequence[MentionRecord]
    cursor: Mapping[str, Any] | None = None
    problems: Sequence[RowProblem] = ()


@dataclass
class SourceContext:
    """What a source gets from the engine for one run.

    Attributes:
        http: the HTTP client (rate limits, retries, time-outs) of this run.
        name: the source's name, for messages.
        since: fetch nothing older than this (``--since``, or nothing).
        own: the records are the organisation's own posts.
        environ: where secrets are looked up (the process environment).
    """

    http: Http
    name: str = ""
    since: datetime | None = None
    own: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def secret(self, variable: str | None, *, source: str) -> str | None:
        """The secret in environment variable ``variable``; ``None`` when none is named.

        Raises:
            BadCredentials: the variable is named but not set (or empty).
        """
        if not variable:
            return None
        value = self.environ.get(variable, "").strip()
        if not value:
            raise BadCredentials.keyed("source.no_secret", source=source, variable=variable)
        return value


class Source(Protocol):
    """One configured source, for one run."""

    def pages(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        """The new items since ``cursor`` (the stored one; ``None`` on the first run)."""
        ...


class SourceKind(Protocol):
    """A source kind: a class with a name, a settings check and a constructor."""

    kind: ClassVar[str]
    #: Whether it reads the network (and so needs the HTTP client and may be rate limited).
    network: ClassVar[bool]
    #: Seconds between runs of ``klopt sync --watch`` unless the source sets its own.
    default_interval: ClassVar[int]
    #: What ``klopt sources add KIND`` asks for; help texts are in the locale files as
    #: ``help.sources.add.<kind>`` and ``help.sources.add.<kind>.option.<name>``.
    settings: ClassVar[tuple[Setting, ...]]

    @classmethod
    def configure(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """The settings to store for a new source, checked and normalised.

        Raises:
            InputError: a setting is missing or wrong (the message says which).
        """
        ...

    def __call__(self, config: Mapping[str, Any], context: SourceContext) -> Source: ...


SOURCE_KINDS: dict[str, Any] = {}


def register_source(cls: type[Any]) -> type[Any]:
    """Register a source kind under its ``kind`` name (a class decorator)."""
    SOURCE_KINDS[cls.kind] = cls
    return cls


#: The module of the built-in source kinds; named, not imported: it imports this module.
BUILT_IN_KINDS = "klopt.listening.kinds"


def source_kinds() -> dict[str, Any]:
    """Every registered source kind by name, the built-in ones included."""
    import_module(BUILT_IN_KINDS)  # registers them, as a plugin registers its own

    return dict(sorted(SOURCE_KINDS.items()))


def source_kind(name: str) -> Any:
    """The class of the source kind ``name``; the built-in kinds are loaded first."""
    import_module(BUILT_IN_KINDS)  # registers them, as a plugin registers its own

    try:
        return SOURCE_KINDS[name]
    except KeyError:
        raise InputError.keyed(
            "source.unknown_kind", kind=name, kinds=", ".join(sorted(SOURCE_KINDS))
        ) from None


def required(options: Mapping[str, Any], name: str, kind: str) -> str:
    """A setting that must be there, as a stripped text."""
    value = str(options.get(name) or "").strip()
    if not value:
        raise InputError.keyed("source.missing_setting", kind=kind, setting=name)
    return value


def texts(options: Mapping[str, Any], name: str) -> list[str]:
    """A setting that may be given several times (or not at all), as a list of texts."""
    value = options.get(name)
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    return [str(v).strip() for v in values if str(v).strip()]
