"""File readers for mentions: CSV, JSON (an array of objects) and NDJSON (one per line).

Readers stream: a CSV or NDJSON file of any size is read row by row.

Where UTF-8 is assumed (the user named no other encoding) a file is decoded line by line:
a line that is not UTF-8 is read as Windows-1252, so that one line pasted from Excel does
not garble the rest, and a file that is Windows-1252 throughout reads as such. NUL bytes
are removed. :func:`decoding` says which lines were read so (the import reports them).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from klopt.errors import BadEncoding, EmptyInput, InputError
from klopt.listening.base import BadRow, RawRow, RowProblem, register_reader

__all__ = [
    "read_csv",
    "read_json",
    "read_ndjson",
    "read_text",
    "load_json",
    "parse_json",
    "flatten",
    "lines",
    "decoding",
    "Decoding",
    "detect_encoding",
    "BadRow",
    "MAX_FIELD_LINES",
]

csv.field_size_limit(16 * 1024 * 1024)


def _check(path: Path) -> None:
    if not path.exists():
        raise InputError.keyed("file.missing", path=path)
    if path.stat().st_size == 0:
        raise EmptyInput.keyed("mentions.empty_file", name=path.name)


#: How much of a file is read at a time, and looked at to recognise UTF-16.
SAMPLE = 1 << 20
#: How many lines of a file :class:`Decoding` keeps a note of (it counts them all).
NOTES_KEPT = 1000


@dataclass
class Decoding:
    """How the lines of a file were decoded.

    Attributes:
        encoding: What klopt read the file as where that was not what was asked:
            ``cp1252`` (no line of a file assumed UTF-8 is UTF-8 beyond ASCII, and some
            are not), ``utf-16`` (-le, -be); None otherwise.
        notes: Lines read with a remark (``row.not_utf8``, ``row.nul_removed``), in
            order, the first :data:`NOTES_KEPT`; their rows are imported.
        counts: How many lines have each remark.
        utf8: Whether a line was UTF-8 beyond ASCII.
    """

    encoding: str | None = None
    notes: list[RowProblem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    utf8: bool = False

    @property
    def noted(self) -> int:
        """How many lines have a remark."""
        return sum(self.counts.values())

    def note(self, line: int, key: str, **values: Any) -> None:
        """Note the remark ``row.<key>`` about ``line``."""
        self.counts[key] = self.counts.get(key, 0) + 1
        if len(self.notes) < NOTES_KEPT:
            self.notes.append(RowProblem.of(line, BadRow(line, key, **values)))


def detect_encoding(path: Path, encoding: str = "utf-8-sig") -> str:
    """The encoding to open ``path`` in: ``encoding``, except where UTF-8 was assumed.

    There, UTF-16 where the file starts with its byte order mark (listening tools such
    as Meltwater export UTF-16; the mark can never start UTF-8 text) or where every
    other byte of its first megabyte is a NUL (UTF-16 without the mark). Else UTF-8,
    read line by line (see :func:`lines`).
    """
    if not _utf8(encoding):
        return encoding
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE)
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    return _utf16_without_bom(sample) or encoding


def _utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False  # opening the file says so


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` or ``-be`` where the sample's high bytes are NULs (text in Latin
    script), and it decodes as such."""
    pairs = len(sample) // 2
    if pairs < 2 or b"\x00" not in sample:
        return None
    for name, high, low in (("utf-16-le", 1, 0), ("utf-16-be", 0, 1)):
        if sample[high::2].count(0) >= 0.6 * pairs and sample[low::2].count(0) < 0.05 * pairs:
            try:
                codecs.getincrementaldecoder(name)().decode(sample[: pairs * 2])
            except UnicodeDecodeError:
                return None
            return name
    return None


def lines(path: Path, encoding: str, seen: Decoding | None = None) -> Iterator[tuple[int, str]]:
    """The lines of a text file with their numbers (from 1), decoded, line ends kept.

    Lines end at ``\\r\\n``, ``\\n`` or ``\\r``, as :mod:`csv` wants them. NUL bytes are
    removed. Where UTF-8 was assumed, a line that is not UTF-8 is read as Windows-1252.

    Args:
        path: The file.
        encoding: Its encoding (UTF-8 means: UTF-8 where a line is, see above).
        seen: Where to note what was done to which line.

    Raises:
        InputError: the file is not there; EmptyInput: it is empty.
        UnicodeDecodeError: it is not in ``encoding`` (when that is not UTF-8).
    """
    _check(path)
    seen = seen if seen is not None else Decoding()
    chosen = detect_encoding(path, encoding)
    if chosen != encoding:
        seen.encoding = chosen
    if _utf8(chosen):
        numbered: Iterable[tuple[int, str]] = _utf8_lines(path, seen)
    else:
        numbered = _decoded_lines(path, chosen)
    for number, text in numbered:
        if "\x00" in text:
            seen.note(number, "nul_removed")
            text = text.replace("\x00", "")
        yield number, text


def _decoded_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        yield from enumerate(handle, start=1)


def _utf8_lines(path: Path, seen: Decoding) -> Iterator[tuple[int, str]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(_split(handle), start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if raw.isascii():
                yield number, raw.decode("ascii")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                seen.note(number, "not_utf8", byte=f"0x{raw[exc.start]:02X}", column=exc.start + 1)
                yield number, raw.decode("cp1252", errors=_C1)
                continue
            seen.utf8 = True
            yield number, text


def _split(handle: Any) -> Iterator[bytes]:
    """The lines of a binary file, split as ``open(newline="")`` splits text."""
    carry = b""
    while chunk := handle.read(SAMPLE):
        # The last piece may go on in the next chunk (a "\r" its "\n"): it waits for it.
        pieces = (carry + chunk).splitlines(keepends=True)
        carry = pieces.pop()
        yield from pieces
    if carry:
        yield carry


def _c1(error: UnicodeError) -> tuple[str, int]:
    """The five bytes Windows-1252 leaves undefined are C1 controls, as browsers read them."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


_C1 = "klopt-cp1252-c1"
codecs.register_error(_C1, _c1)


def decoding(path: Path, encoding: str = "utf-8-sig") -> Decoding:
    """How :func:`lines` decodes ``path``: the file's encoding where klopt chose one, and
    the lines read with a remark (in a file that is Windows-1252 throughout, the lines
    that are not UTF-8 are no news: the file's encoding says it)."""
    seen = Decoding()
    for _ in lines(path, encoding, seen):
        pass
    if seen.counts.get("not_utf8") and not seen.utf8:
        seen.encoding = "cp1252"
        seen.notes = [note for note in seen.notes if note.key != "not_utf8"]
        del seen.counts["not_utf8"]
    return seen


def _decoding(path: Path, encoding: str, exc: UnicodeDecodeError) -> BadEncoding:
    return BadEncoding.keyed(
        "mentions.bad_encoding", name=path.name, encoding=encoding, byte=exc.start
    )


@register_reader("csv", ".csv", ".tsv")
def read_csv(
    path: Path, encoding: str = "utf-8-sig", header: Sequence[str] = ()
) -> Iterator[RawRow | BadRow]:
    """Rows of a CSV (or TSV) file with a header line; a ragged row is a BadRow.

    A quote that is opened and not closed makes :mod:`csv` read on into the next lines
    as one field. Where such a field swallowed what looks like records (see
    :func:`_swallowed`), its row is a BadRow that says so and the lines it swallowed are
    read again as records of their own.

    Args:
        path: The file.
        encoding: Its encoding (a UTF-16 byte order mark is recognised).
        header: Columns that the header line holds. When given, the header is the first
            line (of the first 64 KiB) that has them all: report lines that listening
            tools write above it are passed over, and the delimiter is read from it.
    """
    try:
        source = _Lines(lines(path, encoding))
        dialect, skip = _layout(source.peek(64 * 1024), path, header)
        for _ in itertools.islice(source, skip):
            pass
        source.held = []
        try:
            names = _header(next(csv.reader(source, dialect), None), path)
        except _Swallowing as exc:
            raise InputError.keyed("mentions.header_quote", name=path.name) from exc
        yield RawRow(source.held[0][0] if source.held else 1, {"__header__": names})
        yield from _rows(source, names, dialect)
    except UnicodeDecodeError as exc:
        raise _decoding(path, encoding, exc) from exc
    except csv.Error as exc:
        raise InputError.keyed("mentions.bad_csv", name=path.name, detail=exc) from exc


def _header(row: list[str] | None, path: Path) -> list[str]:
    if not row or not any(h.strip() for h in row):
        raise EmptyInput.keyed("mentions.no_header", name=path.name)
    return [h.strip() for h in row]


#: The most lines one record may span; one that goes on longer is a quote left open.
MAX_FIELD_LINES = 1000

Dialect = type[csv.Dialect] | csv.Dialect


class _Swallowing(Exception):
    """A record went on for more than :data:`MAX_FIELD_LINES` lines."""


class _Lines:
    """The numbered lines of a file as :mod:`csv` reads them, keeping the lines of the
    record it is reading (``held``), with a way to give lines back to be read again."""

    def __init__(self, numbered: Iterator[tuple[int, str]]) -> None:
        self.numbered = numbered
        self.back: list[tuple[int, str]] = []  # a stack: the next line last
        self.held: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.back.pop() if self.back else next(self.numbered)
        self.held.append(line)
        if len(self.held) > MAX_FIELD_LINES:
            raise _Swallowing
        return line[1]

    def again(self, lines: Sequence[tuple[int, str]]) -> None:
        """Read ``lines`` again, before the lines that follow them."""
        self.back.extend(reversed(lines))

    def peek(self, size: int) -> str:
        """The text of the first lines, ``size`` characters or a little more."""
        taken: list[tuple[int, str]] = []
        for line in itertools.chain(reversed(self.back), self.numbered):
            taken.append(line)
            size -= len(line[1])
            if size <= 0:
                break
        self.back = []
        self.again(taken)
        return "".join(text for _, text in taken)


def _rows(source: _Lines, names: list[str], dialect: Dialect) -> Iterator[RawRow | BadRow]:
    previous: list[str] = []  # the last good row: what a record of this file looks like
    while True:
        reader = csv.reader(source, dialect)
        source.held = []
        try:
            for values in reader:
                held, source.held = source.held, []
                if len(held) > 1 and _swallowed(held, values, dialect, len(names), previous):
                    yield _unclosed(held)
                    source.again(held[1:])
                    break  # the lines again, with a reader that is not inside a quote
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(names):
                    yield BadRow(held[0][0], "field_count", found=len(values), expected=len(names))
                else:
                    previous = values
                    yield RawRow(held[0][0], dict(zip(names, values, strict=True)))
            else:
                return
        except (_Swallowing, csv.Error):  # csv.Error: a field past the field size limit
            held, source.held = source.held, []
            if len(held) < 2:
                raise
            yield _unclosed(held)
            source.again(held[1:])


def _unclosed(held: list[tuple[int, str]]) -> BadRow:
    first, last = held[1][0], held[-1][0]
    if first == last:
        return BadRow(held[0][0], "unclosed_quote_line", line=held[0][0], first=first)
    return BadRow(held[0][0], "unclosed_quote", line=held[0][0], first=first, last=last)


def _swallowed(
    held: list[tuple[int, str]],
    values: list[str],
    dialect: Dialect,
    width: int,
    previous: Sequence[str],
) -> bool:
    """Whether a record that spans lines is a quote left open, not a post with line breaks.

    It is where it does not have the header's number of fields; where, read strictly, the
    quote does not close (the file ends inside it) or closes where a quote cannot
    (``"echt waar``), after the record's first line; or where one of the lines it
    swallowed reads as a record of its own: the header's number of fields, with (at least
    half of) the fields that tell a record (an id, a time) shaped like this record's own,
    or like the previous row's.
    """
    if len(values) != width:
        return True
    strict = csv.reader((text for _, text in held), dialect, strict=True)
    try:
        for _ in strict:
            pass
    except csv.Error:
        if strict.line_num > 1:
            return True
    first, _ = _alone(held[0][1], dialect)
    last, _ = _alone(held[-1][1], dialect)
    opened = len(first) - 1  # the field the quote opened: the last one its line has
    own = dict(enumerate(first[:opened]))
    # The last line holds the rest of this record: read alone, it has the record's last
    # fields, or ends with them (the quoted text it closes may hold a delimiter itself:
    # "a<line break>, #5").
    rest = width - opened - 1
    closing = len(last) == width - opened or (
        0 < rest < len(last) and last[-rest:] == values[-rest:]
    )
    if closing:
        own.update((at, value) for at, value in enumerate(values) if at > opened)
    others = {at: value for at, value in enumerate(previous) if at != opened}
    looks = [shapes for shapes in (_telling(own), _telling(others)) if shapes]
    for _, text in held[1:-1] if closing else held[1:]:
        fields, open_ = _alone(text, dialect)
        if len(fields) == width or (open_ and len(fields) < width):
            known = len(fields) - 1 if open_ else width  # an open last field tells nothing
            if any(_alike(fields[:known], shapes) for shapes in looks):
                return True
    return False


def _alone(text: str, dialect: Dialect) -> tuple[list[str], bool]:
    """The fields of one line read on its own, and whether it ends inside a quote."""
    try:
        return next(csv.reader([text], dialect, strict=True), []), False
    except csv.Error as exc:
        fields = next(csv.reader([text], dialect), [])
        return fields, "unexpected end of data" in str(exc)


def _alike(fields: Sequence[str], shapes: dict[int, str]) -> bool:
    """Whether at least half the telling fields there are have their shape (ids vary, the
    form of a time does not)."""
    there = [at for at in shapes if at < len(fields)]
    alike = sum(_shape(fields[at]) == shapes[at] for at in there)
    return bool(there) and alike * 2 >= len(there)


def _telling(values: dict[int, str]) -> dict[int, str]:
    """The shapes of the values that tell one record from text, by their place in the row:
    ids, times (a digit and four characters at least)."""
    return {
        at: _shape(value)
        for at, value in values.items()
        if len(value.strip()) >= 4 and any(c.isdigit() for c in value)
    }


def _shape(value: str) -> str:
    """What a value looks like: ``a12`` and ``u7`` alike, ``2026-09-02T10:00:00Z`` and
    every other time in that form alike, a long number unlike a short one."""
    value = re.sub(r"[^\W\d_]+", "a", value.strip())
    return re.sub(r"\d+", lambda m: "9" if len(m.group()) <= 3 else "#", value)


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
        for number, text in lines(path, encoding):
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
        return "".join(text for _, text in lines(path, encoding))
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
