"""Mentions sent over HTTP (``POST /api/v1/mentions``): the body read as rows, then imported
the way ``klopt mentions import`` imports a file.

The body is JSON (an array of objects, or an object holding one under ``mentions``,
``data``, ``items`` or ``posts``) or NDJSON (one object per line). Its rows go through
:func:`klopt.listening.mentions.import_mentions` as a file's would: the same column
mapping, the same dedup (sending the same body twice stores nothing the second time),
the same row problems, one import batch with its audit record.

A body is untrusted input, so rows the store could not hold are row problems here, not
errors of the database: a reach beyond its integer column, a time out of range, text
with lone UTF-16 surrogates (replaced), ``NaN`` or ``Infinity`` (not JSON).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import Busy, EmptyInput, InputError
from klopt.listening.base import BadRow, ColumnMapping, RawRow
from klopt.listening.files import flatten
from klopt.listening.mentions import ImportResult, import_mentions
from klopt.store import Store

__all__ = [
    "API_MAPPING",
    "MEDIA_TYPES",
    "SOURCE",
    "BodyFormat",
    "body_format",
    "body_rows",
    "import_body",
]

#: The fields of a mention sent to the API (each can be renamed, like the CLI's columns).
API_MAPPING = ColumnMapping(
    text="text", time="time", id="id", author="author", url="url", platform="platform",
    reach="reach", lang="lang", default_platform="api",
)  # fmt: skip
#: Media type -> the reader's format name.
MEDIA_TYPES = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/json-lines": "ndjson",
}
#: What an import batch from the API names as its source.
SOURCE = "api:/api/v1/mentions"
_HOLDERS = ("mentions", "data", "items", "posts")


@dataclass(frozen=True)
class BodyFormat:
    """How to read a body: ``json`` or ``ndjson``."""

    name: str


def body_format(content_type: str | None) -> BodyFormat:
    """The format of a body by its ``Content-Type``.

    Raises:
        InputError: a media type that is neither JSON nor NDJSON (``inbox.media_type``).
    """
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise InputError.keyed(
            "inbox.media_type", media=media[:60] or "–", choices=", ".join(sorted(MEDIA_TYPES))
        )
    return BodyFormat(MEDIA_TYPES[media])


def _loads(text: str) -> Any:
    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    def finite(number: str) -> float:
        value = float(number)
        if value in (float("inf"), float("-inf")):
            raise ValueError(f"{number[:20]} is too large")
        return value

    return _clean(json.loads(text, parse_constant=no_constant, parse_float=finite))


def _clean(value: Any) -> Any:
    """Lone surrogates (``"\\ud800"`` is valid JSON) become U+FFFD: no store can keep them."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def body_rows(body: bytes, form: BodyFormat) -> list[RawRow | BadRow]:
    """The rows of a body, numbered by line (NDJSON) or record (JSON).

    Raises:
        EmptyInput: the body is empty.
        InputError: the body is not UTF-8, or (JSON) not valid JSON or holds no records.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.keyed("inbox.not_utf8", byte=exc.start) from None
    if not text.strip():
        raise EmptyInput.keyed("inbox.empty_body")
    if form.name == "ndjson":
        return list(_ndjson(text))
    return list(_json(text))


def _ndjson(text: str) -> Iterator[RawRow | BadRow]:
    # Lines end at "\n" only: a JSON string may hold U+2028, which splitlines() splits at.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except (ValueError, RecursionError) as exc:
            yield BadRow(number, "bad_json", detail=_detail(exc))
            continue
        yield _row(number, value)


def _json(text: str) -> Iterator[RawRow | BadRow]:
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.keyed("inbox.bad_json", line=exc.lineno, detail=exc.msg) from None
    except (ValueError, RecursionError) as exc:
        raise InputError.keyed("inbox.bad_json", line=1, detail=_detail(exc)) from None
    items = data
    if isinstance(data, dict):
        items = next((data[k] for k in _HOLDERS if k in data), None)
    if not isinstance(items, list):
        raise InputError.keyed("inbox.no_records")
    for number, value in enumerate(items, start=1):
        yield _row(number, value)


def _detail(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)[:80]


def _row(number: int, value: Any) -> RawRow | BadRow:
    if not isinstance(value, dict):
        return BadRow(number, "not_an_object")
    try:
        return RawRow(number, flatten(value))
    except RecursionError:
        return BadRow(number, "bad_json", detail="nested too deeply")


def _storable(rows: list[RawRow | BadRow], mapping: ColumnMapping) -> Iterator[RawRow | BadRow]:
    """The rows, with those the store could not hold turned into row problems.

    A row the mapping refuses (empty text, a bad time) goes on as it is: the import
    reports it exactly as ``klopt mentions import`` does.
    """
    for row in rows:
        if isinstance(row, BadRow):
            yield row
            continue
        try:
            mapping.to_record(row)  # a time before year 1 in UTC is a RowError (ValueError)
        except ValueError:
            yield row
            continue
        except (OverflowError, OSError):
            yield BadRow(row.line, "api_out_of_range")
            continue
        yield row


def import_body(
    store: Store,
    org_ref: str | None,
    body: bytes,
    form: BodyFormat,
    *,
    actor: str,
    mapping: ColumnMapping = API_MAPPING,
) -> ImportResult:
    """Import the mentions in a request body (see the module docstring).

    Raises:
        NotAllowed: the actor may not import mentions (checked before the body is read).
        InputError: the body cannot be read as a whole (see :func:`body_rows`), or its
            first record has no text field.
        Busy: the same mentions were stored by another request at the same moment.
    """
    with store.session() as session:
        authorize(session, find_organization(session, org_ref).id, actor, "mentions.import")
    rows = list(_storable(body_rows(body, form), mapping))

    def reader(path: Path, encoding: str) -> Iterator[RawRow | BadRow]:
        return iter(rows)

    try:
        return import_mentions(
            store, org_ref, Path(SOURCE), mapping, actor=actor, format=form.name, reader=reader
        )
    except IntegrityError as exc:  # two requests stored the same mention at once
        raise Busy.keyed("inbox.import_race") from exc
