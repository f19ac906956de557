"""File readers for mentions: CSV, JSON (an array of objects) and NDJSON (one per line).

Readers stream: a CSV or NDJSON file of any size is read row by row.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from klopt.errors import BadEncoding, EmptyInput, InputError
from klopt.sources.base import BadRow, RawRow, register_reader

__all__ = [
    "read_csv",
    "read_json",
    "read_ndjson",
    "read_text",
    "load_json",
    "parse_json",
    "flatten",
    "BadRow",
]

csv.field_size_limit(16 * 1024 * 1024)


def _open(path: Path, encoding: str) -> Any:
    if not path.exists():
        raise InputError.keyed("file.missing", path=path)
    if path.stat().st_size == 0:
        raise EmptyInput.keyed("mentions.empty_file", name=path.name)
    return path.open(encoding=_sniffed(path, encoding), newline="")


#: How much of a file is read to tell UTF-8 from Windows-1252.
SAMPLE = 1 << 20


def _sniffed(path: Path, encoding: str) -> str:
    """The encoding to read ``path`` in, where UTF-8 was assumed (not named by the user).

    - UTF-16 where the file starts with its byte order mark: listening tools (Meltwater)
      export UTF-16, and its mark can never start UTF-8 text.
    - Windows-1252 where the first megabyte is not UTF-8: what Excel writes on a Dutch
      or English Windows computer. A file that turns out not to be UTF-8 only after the
      first megabyte still stops with a clear error (the rows before it are kept).
    """
    return detect_encoding(path, encoding)


def detect_encoding(path: Path, encoding: str = "utf-8-sig") -> str:
    """``encoding``, or what the file really is when UTF-8 was assumed (see above)."""
    try:
        if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
            return encoding
    except LookupError:
        return encoding  # opening the file says so
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE)
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE)
    except UnicodeDecodeError:
        return "cp1252"
    return encoding


def _decoding(path: Path, encoding: str, exc: UnicodeDecodeError) -> BadEncoding:
    return BadEncoding.keyed(
        "mentions.bad_encoding", name=path.name, encoding=encoding, byte=exc.start
    )


@register_reader("csv", ".csv", ".tsv")
def read_csv(
    path: Path, encoding: str = "utf-8-sig", header: Sequence[str] = ()
) -> Iterator[RawRow | BadRow]:
    """Rows of a CSV (or TSV) file with a header line; a ragged row is a BadRow.

    Args:
        path: The file.
        encoding: Its encoding (a UTF-16 byte order mark is recognised).
        header: Columns that the header line holds. When given, the header is the first
            line (of the first 64 KiB) that has them all: report lines that listening
            tools write above it are passed over, and the delimiter is read from it.
    """
    try:
        with _open(path, encoding) as handle:
            sample = handle.read(64 * 1024)
            handle.seek(0)
            dialect, skip = _layout(sample, path, header)
            reader = csv.reader(handle, dialect)
            while reader.line_num < skip and next(reader, None) is not None:
                pass
            names = _header(next(reader, None), path)
            yield RawRow(reader.line_num, {"__header__": names})
            yield from _rows(reader, names)
    except UnicodeDecodeError as exc:
        raise _decoding(path, encoding, exc) from exc
    except csv.Error as exc:
        raise InputError.keyed("mentions.bad_csv", name=path.name, detail=exc) from exc


def _header(row: list[str] | None, path: Path) -> list[str]:
    if not row or not any(h.strip() for h in row):
        raise EmptyInput.keyed("mentions.no_header", name=path.name)
    return [h.strip() for h in row]


def _rows(reader: Any, names: list[str]) -> Iterator[RawRow | BadRow]:
    line = reader.line_num + 1
    for values in reader:
        if not any(v.strip() for v in values):
            line = reader.line_num + 1
            continue
        if len(values) != len(names):
            yield BadRow(line, "field_count", found=len(values), expected=len(names))
        else:
            yield RawRow(line, dict(zip(names, values, strict=True)))
        line = reader.line_num + 1


_DELIMITERS = (",", ";", "\t", "|")


def _layout(
    sample: str, path: Path, header: Sequence[str]
) -> tuple[type[csv.Dialect] | csv.Dialect, int]:
    """The dialect, and how many lines come before the header row.

    Where ``header`` is given but no line has it, the widest of the first lines is taken
    as the header, so that a message about missing columns shows the real ones.
    """
    if not header:
        return _dialect(sample, path), 0
    lines = list(itertools.islice(io.StringIO(sample, newline=""), 200))  # as csv splits
    widest = (0, ",", 0)
    for number, line in enumerate(lines):
        for delimiter in _DELIMITERS:
            fields = [f.strip() for f in next(csv.reader([line], delimiter=delimiter), [])]
            if set(header) <= set(fields):
                return _with_delimiter(delimiter), number
            if number < 20 and len(fields) > widest[0]:
                widest = (len(fields), delimiter, number)
    return _with_delimiter(widest[1]), widest[2]


def _dialect(sample: str, path: Path) -> type[csv.Dialect] | csv.Dialect:
    if path.suffix.lower() == ".tsv":
        return csv.excel_tab
    first = sample.splitlines()[0] if sample else ""
    counts = {d: first.count(d) for d in _DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        return csv.excel
    return _with_delimiter(delimiter)


def _with_delimiter(delimiter: str) -> type[csv.Dialect]:
    class Sniffed(csv.excel):
        pass

    Sniffed.delimiter = delimiter
    return Sniffed


@register_reader("ndjson", ".ndjson", ".jsonl")
def read_ndjson(path: Path, encoding: str = "utf-8-sig") -> Iterator[RawRow | BadRow]:
    """One JSON object per line; a line that is not an object is a BadRow."""
    try:
        with _open(path, encoding) as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield BadRow(number, "bad_json", detail=exc.msg)
                    continue
                if not isinstance(value, dict):
                    yield BadRow(number, "not_an_object")
                    continue
                yield RawRow(number, flatten(value))
    except UnicodeDecodeError as exc:
        raise _decoding(path, encoding, exc) from exc


@register_reader("json", ".json")
def read_json(path: Path, encoding: str = "utf-8-sig") -> Iterator[RawRow | BadRow]:
    """A JSON array of objects (or an object holding one under data/items/mentions)."""
    data = load_json(path, encoding)
    items = data
    if isinstance(data, dict):
        items = next((data[k] for k in ("data", "items", "mentions", "posts") if k in data), None)
    if not isinstance(items, list):
        raise InputError.keyed("mentions.no_records", name=path.name)
    for number, value in enumerate(items, start=1):
        if isinstance(value, dict):
            yield RawRow(number, flatten(value))
        else:
            yield BadRow(number, "not_an_object")


def read_text(path: Path, encoding: str) -> str:
    """A whole text file, with klopt's errors for a missing, empty or undecodable one."""
    try:
        with _open(path, encoding) as handle:
            return str(handle.read())
    except UnicodeDecodeError as exc:
        raise _decoding(path, encoding, exc) from exc


def load_json(path: Path, encoding: str) -> Any:
    """A whole JSON file (exports that are one JSON document cannot be streamed)."""
    return parse_json(path, read_text(path, encoding))


def parse_json(path: Path, text: str) -> Any:
    """``text`` (read from ``path``) as JSON, or a clear error naming the line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.keyed(
            "mentions.bad_json", name=path.name, line=exc.lineno, detail=exc.msg
        ) from exc


def flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys, so --author-column user.name works."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flat.update(flatten(item, f"{name}."))
        else:
            flat[name] = item
    return flat
