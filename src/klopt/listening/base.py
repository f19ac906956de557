"""What every source produces, the column mapping, and the reader registry."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cache
from html.parser import HTMLParser
from importlib import import_module
from pathlib import Path
from typing import Any

from klopt.errors import InputError, UnsupportedFileType
from klopt.i18n import t

__all__ = [
    "RawRow",
    "RowProblem",
    "RowError",
    "BadRow",
    "ColumnMapping",
    "MentionRecord",
    "READERS",
    "Reader",
    "register_reader",
    "reader_for",
    "content_hash",
    "column_limits",
    "html_text",
    "time_zone",
]


@dataclass(frozen=True)
class RawRow:
    """One record as read from a source, with the line it started on."""

    line: int
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class RowProblem:
    """A row that could not be used: where, and why.

    Attributes:
        line: the line (or record number) it started on.
        reason: why, in English.
        key: the reason's message key under ``row.`` in the locale files, when it has one.
        values: the fields of that message.
        file: the file's name, where an import read several (a folder of exports).
        file_format: that file's format (its rows are counted in lines or in records).
    """

    line: int
    reason: str
    key: str | None = None
    values: tuple[tuple[str, Any], ...] = ()
    file: str | None = None
    file_format: str | None = None

    def text(self, lang: str = "en") -> str:
        """Why, in ``lang`` (as recorded where the reason has no message key)."""
        return t(f"row.{self.key}", lang, **dict(self.values)) if self.key else self.reason

    @classmethod
    def of(cls, line: int, error: ValueError) -> RowProblem:
        """The problem a reader or the column mapping raised for the row at ``line``."""
        if isinstance(error, RowError):
            return cls(line, str(error), error.key, tuple(error.values.items()))
        return cls(line, str(error))


@dataclass(frozen=True)
class MentionRecord:
    """A post ready to be stored."""

    platform: str
    external_id: str
    content_hash: str
    text: str
    author: str | None
    posted_at: datetime | None
    url: str | None
    reach: int | None
    language: str | None
    raw: Mapping[str, Any]
    naive_time: bool = False


class RowError(ValueError):
    """Why one row cannot be imported; its text is ``row.<key>`` in the locale files."""

    def __init__(self, key: str, /, **values: Any) -> None:
        super().__init__(t(f"row.{key}", "en", **values))
        self.key = key
        self.values = values

    def __reduce__(self) -> tuple[Any, ...]:
        # Rows travel pickled to a cluster's workers; the values are keywords.
        return (_row_error, (type(self), (self.key,), self.values))


class BadRow(RowError):
    """A row that could not be parsed at all; the reader goes on after it."""

    def __init__(self, line: int, key: str, /, **values: Any) -> None:
        super().__init__(key, **values)
        self.line = line

    def __reduce__(self) -> tuple[Any, ...]:
        return (_row_error, (type(self), (self.line, self.key), self.values))


def _row_error(cls: type[RowError], args: tuple[Any, ...], values: dict[str, Any]) -> RowError:
    return cls(*args, **values)


Reader = Callable[[Path, str], Iterator[RawRow | BadRow]]
READERS: dict[str, Reader] = {}


def register_reader(name: str, *suffixes: str) -> Callable[[Reader], Reader]:
    """Register a file reader under ``name`` and the suffixes it reads."""

    def decorate(reader: Reader) -> Reader:
        READERS[name] = reader
        for suffix in suffixes:
            _SUFFIXES[suffix] = name
        return reader

    return decorate


_SUFFIXES: dict[str, str] = {}


#: The modules that hold the built-in readers, imported the first time a reader is looked
#: up. Named, not imported, here: each of them imports this module for the registry.
BUILT_IN_READERS = (
    "klopt.listening.files",
    "klopt.listening.activitypub",
    "klopt.listening.meta_exports",
    "klopt.listening.x_archive",
)


def reader_for(path: Path, format: str | None = None) -> tuple[str, Reader]:
    """The reader for a file: by ``format`` when given, else by its suffix."""
    for module in BUILT_IN_READERS:  # they register their readers as a plugin does
        import_module(module)

    name = format or _SUFFIXES.get(path.suffix.lower())
    if name is None or name not in READERS:
        known = ", ".join(sorted(READERS))
        raise UnsupportedFileType.keyed("mentions.unknown_format", name=path.name, choices=known)
    return name, READERS[name]


def content_hash(text: str) -> str:
    """A hash of the text that ignores case, spacing and punctuation runs."""
    normal = re.sub(r"\s+", " ", text.casefold()).strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ColumnMapping:
    """Which field of a row holds what; only ``text`` is required.

    Attributes:
        fallbacks: per role, more columns to take the value from, in order, where the
            role's own column is empty in a row (a preset's alternatives).
        values: per role, a map of values (compared in lower case) to what klopt stores,
            e.g. ``{"platform": {"twitter": "x"}}``; the key ``*`` maps every other value.
        time_formats: ``strptime`` patterns tried after ISO 8601 and epoch seconds.
        timezone: the zone of times written without one (they are still counted).
    """

    text: str = "text"
    time: str | None = None
    id: str | None = None
    author: str | None = None
    url: str | None = None
    platform: str | None = None
    reach: str | None = None
    lang: str | None = None
    default_platform: str = "import"
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    time_formats: tuple[str, ...] = ()
    timezone: tzinfo = UTC

    def columns(self) -> dict[str, str]:
        """Mapped role -> column name, for the columns that were named."""
        roles = {
            "text": self.text,
            "time": self.time,
            "id": self.id,
            "author": self.author,
            "url": self.url,
            "platform": self.platform,
            "reach": self.reach,
            "lang": self.lang,
        }
        return {role: col for role, col in roles.items() if col}

    def to_record(self, row: RawRow) -> MentionRecord:
        """Turn a row into a record; raises ValueError with a reason for a bad row."""
        columns = self.columns()
        value = {role: self._value(row.fields, role, col) for role, col in columns.items()}
        text = value.get("text", "")
        if not text:
            raise RowError("empty_text", column=self.text)
        posted_at, naive = _time(value.get("time"), self.time_formats, self.timezone)
        value["platform"] = (value.get("platform") or self.default_platform).lower()
        columns.setdefault("platform", "--platform")
        self._fits(value, columns)
        digest = content_hash(text)
        return MentionRecord(
            platform=value["platform"],
            external_id=value.get("id") or f"sha256:{digest[:32]}",
            content_hash=digest,
            text=text,
            author=value.get("author") or None,
            posted_at=posted_at,
            url=value.get("url") or None,
            reach=_int(value.get("reach")),
            language=_language(value.get("lang")),
            raw=dict(row.fields),
            naive_time=naive,
        )

    @staticmethod
    def _fits(value: Mapping[str, str], columns: Mapping[str, str]) -> None:
        """Raise a RowError for a value longer than the store's column holds (PostgreSQL
        would refuse it, and with it the whole chunk; SQLite would keep it)."""
        limits = column_limits()
        for role in ("id", "author", "platform"):
            found, limit = value.get(role, ""), limits[role]
            if len(found) > limit:
                raise RowError("too_long", column=columns[role], length=len(found), limit=limit)

    def _value(self, fields: Mapping[str, Any], role: str, column: str) -> str:
        """The role's value in a row: its column, else the first fallback that has one."""
        found = ""
        for name in (column, *self.fallbacks.get(role, ())):
            found = _text(fields.get(name))
            if found:
                break
        values = self.values.get(role)
        if not found or not values:
            return found
        return values.get(found.lower(), values.get("*", found))


def time_zone(name: str) -> tzinfo:
    """The time zone called ``name`` (``Europe/Amsterdam``, ``UTC``); a clear error if none."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError.keyed("mentions.unknown_timezone", name=name) from exc


@cache
def column_limits() -> dict[str, int]:
    """The most characters the store keeps of each role's value (``store.models.Post``)."""
    from klopt.store.models import Post

    columns = {"id": "external_id", "author": "author", "platform": "platform", "lang": "language"}
    limits = {
        role: getattr(Post.__table__.c[name].type, "length", None) for role, name in columns.items()
    }
    return {role: int(length) for role, length in limits.items() if length}


def _language(value: str | None) -> str | None:
    """A language code; a longer value (a name such as "Nederlands") is dropped, not the
    row: the judge detects the language, and the value stays in the row's raw fields."""
    return value if value and len(value) <= column_limits()["lang"] else None


def _text(value: Any) -> str:
    # NUL (JSON's \u0000) means nothing in a post, and PostgreSQL refuses it in text.
    return "" if value is None else str(value).replace("\x00", "").strip()


def _time(
    value: Any, formats: tuple[str, ...] = (), zone: tzinfo = UTC
) -> tuple[datetime | None, bool]:
    """A time from a field, and whether it had no zone (then it is taken in ``zone``)."""
    raw = _text(value)
    if not raw:
        return None, False
    if re.fullmatch(r"\d{9,13}(\.\d+)?", raw):
        seconds = float(raw) / (1000 if len(raw.split(".")[0]) == 13 else 1)
        return datetime.fromtimestamp(seconds, UTC), False
    try:
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        stamp = _twitter_time(raw, formats)
    stamp, naive = (stamp.replace(tzinfo=zone), True) if stamp.tzinfo is None else (stamp, False)
    try:
        stamp.astimezone(UTC)  # stored in UTC: a time that has none (year 0) is a bad row
    except OverflowError as exc:
        raise RowError("bad_time", value=raw) from exc
    return stamp, naive


def _twitter_time(raw: str, formats: tuple[str, ...] = ()) -> datetime:
    patterns = ("%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S %z", "%d-%m-%Y %H:%M", *formats)
    for pattern in patterns:
        try:
            return datetime.strptime(raw, pattern)
        except ValueError:
            continue
    raise RowError("bad_time", value=raw)


#: A reach the store holds (a 32-bit integer column on every backend).
REACH_LIMIT = 2**31


def _int(value: Any) -> int | None:
    raw = _text(value).replace(",", "").replace("_", "")
    if not raw:
        return None
    try:
        number = int(float(raw))
    except ValueError as exc:  # "abc", "nan"
        raise RowError("bad_reach", value=raw) from exc
    except OverflowError as exc:  # "1e400", "inf"
        raise RowError("reach_too_large", value=raw, limit=f"{REACH_LIMIT - 1:,}") from exc
    if not -REACH_LIMIT < number < REACH_LIMIT:  # the store holds a 32-bit reach
        raise RowError("reach_too_large", value=raw, limit=f"{REACH_LIMIT - 1:,}")
    return number


class _Text(HTMLParser):
    """Collects the text of an HTML fragment; paragraphs and line breaks become newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li", "blockquote", "pre"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    """The plain text of a post's HTML: tags gone, entities decoded, one line per
    paragraph or line break."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{2,}", "\n", text).strip()
