"""File readers for mentions: CSV, JSON (an array of objects) and NDJSON (one per line).

Readers stream: a CSV or NDJSON file of any size is read row by row.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from klopt.errors import BadEncoding, EmptyInput, InputError
from klopt.sources.base import BadRow, RawRow, register_reader

__all__ = ["read_csv", "read_json", "read_ndjson", "BadRow"]

csv.field_size_limit(16 * 1024 * 1024)


def _open(path: Path, encoding: str) -> Any:
    if not path.exists():
        raise InputError.keyed("file.missing", path=path)
    if path.stat().st_size == 0:
        raise EmptyInput.keyed("mentions.empty_file", name=path.name)
    return path.open(encoding=encoding, newline="")


def _decoding(path: Path, encoding: str, exc: UnicodeDecodeError) -> BadEncoding:
    return BadEncoding.keyed(
        "mentions.bad_encoding", name=path.name, encoding=encoding, byte=exc.start
    )


@register_reader("csv", ".csv", ".tsv")
def read_csv(path: Path, encoding: str = "utf-8-sig") -> Iterator[RawRow | BadRow]:
    """Rows of a CSV (or TSV) file with a header line; a ragged row is a BadRow."""
    try:
        with _open(path, encoding) as handle:
            sample = handle.read(64 * 1024)
            handle.seek(0)
            dialect = _dialect(sample, path)
            reader = csv.reader(handle, dialect)
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise EmptyInput.keyed("mentions.no_header", name=path.name)
            names = [h.strip() for h in header]
            yield RawRow(1, {"__header__": names})
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
    except UnicodeDecodeError as exc:
        raise _decoding(path, encoding, exc) from exc
    except csv.Error as exc:
        raise InputError.keyed("mentions.bad_csv", name=path.name, detail=exc) from exc


def _dialect(sample: str, path: Path) -> type[csv.Dialect] | csv.Dialect:
    if path.suffix.lower() == ".tsv":
        return csv.excel_tab
    first = sample.splitlines()[0] if sample else ""
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        return csv.excel

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
                yield RawRow(number, _flatten(value))
    except UnicodeDecodeError as exc:
        raise _decoding(path, encoding, exc) from exc


@register_reader("json", ".json")
def read_json(path: Path, encoding: str = "utf-8-sig") -> Iterator[RawRow | BadRow]:
    """A JSON array of objects (or an object holding one under data/items/mentions)."""
    try:
        with _open(path, encoding) as handle:
            data = json.load(handle)
    except UnicodeDecodeError as exc:
        raise _decoding(path, encoding, exc) from exc
    except json.JSONDecodeError as exc:
        raise InputError.keyed(
            "mentions.bad_json", name=path.name, line=exc.lineno, detail=exc.msg
        ) from exc
    items = data
    if isinstance(data, dict):
        items = next((data[k] for k in ("data", "items", "mentions", "posts") if k in data), None)
    if not isinstance(items, list):
        raise InputError.keyed("mentions.no_records", name=path.name)
    for number, value in enumerate(items, start=1):
        if isinstance(value, dict):
            yield RawRow(number, _flatten(value))
        else:
            yield BadRow(number, "not_an_object")


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys, so --author-column user.name works."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flat.update(_flatten(item, f"{name}."))
        else:
            flat[name] = item
    return flat
