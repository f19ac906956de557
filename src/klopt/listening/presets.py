"""Import presets: how to read the exports people actually have, as data.

A preset is one YAML file in ``klopt/data/presets/`` (documented in ``docs/presets.md``)::

    id: brandwatch                 # what --preset takes
    name: Brandwatch               # how messages name the export
    description: {en: ..., nl: ...}
    reader: csv                    # a registered reader (csv, x-archive, ...)
    own: false                     # true: the organisation's own posts
    required: [Query Id, Date, Url]  # columns that recognise the export (and its header row)
    columns:                       # per role, the columns to use, first present first;
      text: [Full Text, Snippet]   # later ones fill a row where the first is empty
    platform: web                  # the platform where no column names one
    values: {platform: {twitter: x}}   # value maps per role ("*": every other value)
    time_formats: ["%d-%b-%Y"]     # strptime patterns tried after ISO 8601
    fixes: {ShareCommentary: linkedin-quotes}   # named repairs of a column's text

:func:`plan_import` turns a preset into what :func:`klopt.listening.mentions.import_mentions`
takes: a reader, a :class:`ColumnMapping` and a kind. It first reads the start of the
file: an export of another kind is refused with the columns it lacks and, where
another preset fits, that preset's name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from functools import cache, partial
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Any

import yaml

from klopt.errors import ConfigError, InputError, KloptError, MissingColumn
from klopt.listening.base import BadRow, ColumnMapping, RawRow, Reader, reader_for

__all__ = ["Preset", "ImportPlan", "ROLES", "FIXES", "load_presets", "preset", "plan_import"]

#: The roles a column can play, as in :class:`ColumnMapping` and the --*-column options.
ROLES = ("text", "time", "id", "author", "url", "platform", "reach", "lang")

_FIELDS = {"id", "name", "description", "reader", "own", "required", "columns", "platform"}
_FIELDS |= {"values", "time_formats", "fixes"}
_SAMPLE_ROWS = 100


def _linkedin_quotes(text: str) -> str:
    """LinkedIn's ShareCommentary: each line in its own quotes, quotes inside doubled."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    return text[1:-1].replace('"\n"', "\n").replace('""', '"')


#: Repairs a preset can name under ``fixes``, applied to one column's text in every row.
FIXES: dict[str, Callable[[str], str]] = {"linkedin-quotes": _linkedin_quotes}


@dataclass(frozen=True)
class Preset:
    """How to read one kind of export (see the module docstring for the fields)."""

    id: str
    name: str
    description: Mapping[str, str]
    reader: str
    own: bool
    required: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]
    platform: str = "import"
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    time_formats: tuple[str, ...] = ()
    fixes: Mapping[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``own`` for the organisation's own posts, else ``mention``."""
        return "own" if self.own else "mention"

    def describe(self, lang: str) -> str:
        """The description in ``lang`` (English where there is none)."""
        return self.description.get(lang) or self.description["en"]

    def missing(self, columns: Iterable[str]) -> list[str]:
        """The required columns (and the text column) that ``columns`` lack."""
        present = set(columns)
        lacking = [c for c in self.required if c not in present]
        text = self.columns.get("text", ())
        if text and not present & set(text) and text[0] not in lacking:
            lacking.append(text[0])
        return lacking


@dataclass(frozen=True)
class ImportPlan:
    """A preset applied to one file: what to hand to ``import_mentions``."""

    preset: Preset
    format: str
    reader: Reader
    mapping: ColumnMapping
    kind: str


@cache
def load_presets() -> dict[str, Preset]:
    """The shipped presets by id, in order of id."""
    folder = resources.files("klopt").joinpath("data", "presets")
    found = [_parse(item.name, item.read_text("utf-8")) for item in folder.iterdir()]
    return {p.id: p for p in sorted((p for p in found if p), key=lambda p: p.id)}


def preset(name: str) -> Preset:
    """The preset called ``name``; an error listing the presets if there is none."""
    presets = load_presets()
    if name not in presets:
        raise InputError.keyed("presets.unknown", name=name, choices=", ".join(presets))
    return presets[name]


def plan_import(
    name: str,
    path: Path,
    *,
    encoding: str = "utf-8-sig",
    columns: Mapping[str, str] | None = None,
    platform: str | None = None,
    format: str | None = None,
    own: bool = False,
    timezone: tzinfo = UTC,
) -> ImportPlan:
    """How to import ``path`` with the preset ``name``.

    Args:
        name: The preset's id.
        path: The export.
        encoding: Its encoding.
        columns: Role -> column given by the user; they replace the preset's columns.
        platform: The platform where the file names none, instead of the preset's.
        format: A reader to use instead of the preset's.
        own: Import as the organisation's own posts even where the preset says mentions.
        timezone: The zone of times written without one.

    Raises:
        MissingColumn: the file lacks the preset's required columns (another kind of
            export); the error names them, the columns found and a preset that fits.
    """
    chosen = preset(name)
    reader_name = format or chosen.reader
    reader = _reader(chosen, reader_name, path)
    try:
        found, from_header = _sample(reader, path, encoding)
    except InputError as exc:
        error = _not_readable(chosen, path, encoding, exc)
        if error is exc:
            raise
        raise error from exc
    if found is not None and chosen.missing(found):
        raise _wrong_kind(chosen, path, encoding, found)
    mapping = ColumnMapping(
        **_mapping(chosen, found if from_header else None, columns or {}),
        default_platform=platform or chosen.platform,
        values=chosen.values,
        time_formats=chosen.time_formats,
        timezone=timezone,
    )
    kind = "own" if own or chosen.own else "mention"
    return ImportPlan(chosen, reader_name, reader, mapping, kind)


def _reader(chosen: Preset, name: str, path: Path) -> Reader:
    """The preset's reader: told the header's columns where it looks for them (CSV)."""
    _, reader = reader_for(path, name)
    if "header" in inspect.signature(reader).parameters:
        reader = partial(reader, header=chosen.required)  # type: ignore[call-arg]
    return _fixed(reader, chosen.fixes) if chosen.fixes else reader


def _fixed(reader: Reader, fixes: Mapping[str, str]) -> Reader:
    def read(path: Path, encoding: str) -> Iterator[RawRow | BadRow]:
        for row in reader(path, encoding):
            if isinstance(row, RawRow) and "__header__" not in row.fields:
                fields = dict(row.fields)
                for column, fix in fixes.items():
                    if isinstance(fields.get(column), str):
                        fields[column] = FIXES[fix](fields[column])
                row = RawRow(row.line, fields)
            yield row

    return read


def _sample(reader: Reader, path: Path, encoding: str) -> tuple[list[str] | None, bool]:
    """The file's columns (its header, or its first usable record's fields), and whether
    they are a header; None where the first rows are all unusable (it cannot tell)."""
    rows = reader(path, encoding)
    try:
        for row in islice(rows, _SAMPLE_ROWS):
            if isinstance(row, RawRow):
                header = row.fields.get("__header__")
                return (list(header), True) if header is not None else (list(row.fields), False)
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
    return None, False


def _mapping(chosen: Preset, present: list[str] | None, given: Mapping[str, str]) -> dict[str, Any]:
    """ColumnMapping fields: per role the first column that is there, the rest fallbacks.

    From a header (``present``) only columns it has are used; records may leave a field
    out, so there every column of the preset is kept.
    """
    mapping: dict[str, Any] = {}
    fallbacks: dict[str, tuple[str, ...]] = {}
    for role in ROLES:
        if role in given:
            mapping[role] = given[role]
            continue
        candidates = chosen.columns.get(role, ())
        if present is not None:
            candidates = tuple(c for c in candidates if c in present)
        if candidates:
            mapping[role], fallbacks[role] = candidates[0], candidates[1:]
    return {**mapping, "fallbacks": fallbacks}


def _not_readable(chosen: Preset, path: Path, encoding: str, error: InputError) -> InputError:
    """The error for a file the preset's reader cannot read as its kind of export.

    JSON of another shape is the wrong kind of export. Text that is not JSON at all
    is too where another preset reads it (``tweets.js``); else its own error says where
    the JSON breaks.
    """
    if error.key not in ("mentions.no_records", "mentions.bad_json"):
        return error
    wrong = _wrong_kind(chosen, path, encoding, [])
    if error.key == "mentions.bad_json" and wrong.key != "presets.wrong_kind_other":
        return error
    return wrong


def _wrong_kind(chosen: Preset, path: Path, encoding: str, found: list[str]) -> MissingColumn:
    shown = ", ".join(found[:12]) + (" ..." if len(found) > 12 else "")
    missing = chosen.missing(found)
    # Fields klopt adds itself (klopt.text) mean nothing to the user when others are missing.
    missing = [c for c in missing if not c.startswith("klopt.")] or missing
    values = {
        "name": path.name,
        "preset": chosen.name,
        "missing": ", ".join(missing),
        "columns": shown or "-",
    }
    other = _looks_like(path, encoding, exclude=chosen.id)
    if other:
        return MissingColumn.keyed(
            "presets.wrong_kind_other", **values, other=other.name, other_id=other.id
        )
    return MissingColumn.keyed("presets.wrong_kind", **values)


def _looks_like(path: Path, encoding: str, exclude: str) -> Preset | None:
    """The first other preset whose columns the file has, if any."""
    for candidate in load_presets().values():
        if candidate.id == exclude:
            continue
        try:
            found, _ = _sample(_reader(candidate, candidate.reader, path), path, encoding)
        except KloptError:
            continue
        if found and not candidate.missing(found):
            return candidate
    return None


def _parse(filename: str, text: str) -> Preset | None:
    """A preset file's preset (None for a file that is not YAML); strict about fields."""
    if not filename.endswith((".yaml", ".yml")):
        return None
    data = yaml.safe_load(text)
    _check(filename, data)
    return Preset(
        id=str(data["id"]),
        name=str(data["name"]),
        description={str(k): str(v) for k, v in data["description"].items()},
        reader=str(data["reader"]),
        own=bool(data.get("own", False)),
        required=tuple(str(c) for c in data["required"]),
        columns={role: _names(cols) for role, cols in data["columns"].items()},
        platform=str(data.get("platform") or "import"),
        values={
            role: {str(k).lower(): str(v) for k, v in mapping.items()}
            for role, mapping in (data.get("values") or {}).items()
        },
        time_formats=tuple(str(f) for f in data.get("time_formats") or ()),
        fixes={str(k): str(v) for k, v in (data.get("fixes") or {}).items()},
    )


def _check(filename: str, data: Any) -> None:
    """Refuse a preset file with unknown or missing fields, roles or fixes."""
    if not isinstance(data, dict):
        raise ConfigError.keyed("presets.invalid", file=filename, detail="not a mapping")
    problems = {
        "unknown field": set(data) - _FIELDS,
        "missing field": {"id", "name", "description", "reader", "required", "columns"} - set(data),
        "unknown role": set(data.get("columns") or {}) - set(ROLES),
        "unknown fix": set((data.get("fixes") or {}).values()) - set(FIXES),
    }
    for what, names in problems.items():
        if names:
            detail = f"{what} {', '.join(sorted(names))}"
            raise ConfigError.keyed("presets.invalid", file=filename, detail=detail)


def _names(value: Any) -> tuple[str, ...]:
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)
