"""The import path under random input (Hypothesis): CSV, JSON and NDJSON files with random
quoting (unclosed quotes, line breaks and delimiters inside fields), encodings (UTF-8 with
and without BOM, Windows-1252, UTF-16 with BOM, UTF-8 with Windows-1252 lines, NUL bytes)
and value lengths (ids, authors and platforms longer than their columns).

The property: an import either accounts for every record it was given (stored with its
text exactly, or reported as a bad row at its line; read = imported + duplicates +
skipped) and a second run stores nothing twice, or it raises a klopt error with a
message: never another exception, never a record that silently vanishes.

Deterministic (``derandomize``); the numbers of examples run are printed at the end.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from helpers import STORE_BACKENDS, database_url
from klopt.accounts.organizations import create_organization
from klopt.errors import KloptError
from klopt.listening import ColumnMapping
from klopt.listening.mentions import import_mentions
from klopt.store import Store, open_store
from klopt.store.models import Organization, Post

#: Examples per backend: PostgreSQL is slower per import.
EXAMPLES = {"sqlite": 1000, "postgresql": 300}
RAN: Counter[str] = Counter()
SECONDS: Counter[str] = Counter()
ERRORS: Counter[str] = Counter()  # imports that raised a klopt error, by its key
SEEN: Counter[str] = Counter()  # examples that had each kind of trouble in them
RECORDS: Counter[str] = Counter()  # what became of the records checked

COLUMNS = ("id", "created_at", "author", "platform", "body")
MAPPING = ColumnMapping(
    text="body", time="created_at", id="id", author="author", platform="platform"
)
NUL = "NULHIER"  # becomes a NUL byte in the file; the stored text has neither
#: Text of any line: delimiters, quotes, line breaks, letters beyond Windows-1252. (No
#: lone "\r": csv.writer leaves it unquoted where its line terminator is "\n".)
ANY_TEXT = [*"ab yz09,;|\t\"'\né€–…ßü😀ł", "\r\n"]
#: Text that is Windows-1252 and can never be read as UTF-8 (no byte of 0x80-0xBF).
CP1252_TEXT = [*"ab yz09,;|'éëüöàçß"]


@dataclass(frozen=True)
class Record:
    id: str
    time: str
    author: str
    platform: str
    text: str
    cp1252: bool = False  # its line is written in Windows-1252 (a "mixed" file)
    nul: bool = False  # its text holds a NUL byte
    unclosed: bool = False  # its text opens a quote that is never closed (CSV)

    def fields(self) -> dict[str, str]:
        return {
            "id": self.id,
            "created_at": self.time,
            "author": self.author,
            "platform": self.platform,
            "body": self.text,
        }

    def too_long(self) -> bool:
        return len(self.id) > 200 or len(self.author) > 200 or len(self.platform) > 40


@dataclass(frozen=True)
class Case:
    format: str  # csv, ndjson, json
    encoding: str  # utf-8, utf-8-sig, cp1252, utf-16, mixed
    delimiter: str
    order: tuple[str, ...]
    newline: str
    records: tuple[Record, ...]


@st.composite
def records(draw: st.DrawFn, encoding: str, format: str) -> tuple[Record, ...]:
    count = draw(st.integers(min_value=1, max_value=12))
    alphabet = CP1252_TEXT if encoding in ("cp1252", "mixed") else ANY_TEXT
    made = []
    for n in range(count):
        long_id = draw(st.integers(min_value=0, max_value=9)) == 0
        ident = f"r{n:03d}" + ("x" * draw(st.integers(197, 230)) if long_id else "")
        if draw(st.integers(0, 9)) == 0:  # around the limit: 200 fits, 201 does not
            author = "a" * draw(st.integers(195, 215))
        else:
            author = draw(st.text("abcdefgh_.0123456789", min_size=1, max_size=12))
        platform = draw(st.sampled_from(["x"] * 5 + ["mastodon"] * 2 + ["p" * 40, "p" * 41]))
        body = "".join(draw(st.lists(st.sampled_from(alphabet), max_size=30)))
        mixed = encoding == "mixed" and draw(st.booleans())
        record = Record(
            id=ident,
            time=f"2026-09-{1 + n % 28:02d}T10:{n % 60:02d}:00Z",
            author=author,
            platform=platform,
            text=f"{body} #{n}".strip(),
            cp1252=mixed,
            nul=draw(st.integers(0, 5)) == 0,
        )
        if record.nul:
            cut = draw(st.integers(0, len(record.text) - 1))
            record = replace(record, text=record.text[:cut] + NUL + record.text[cut:])
        if format == "csv" and draw(st.integers(0, 7)) == 0:
            plain = re.sub(r"[\"\r\n]", "", body).strip() or "x"
            record = replace(record, text=f'"{plain} #{n}', unclosed=True, nul=False)
        made.append(record)
    return tuple(made)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    format = draw(st.sampled_from(["csv", "ndjson", "json"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "mixed"]))
    order = tuple(draw(st.permutations(COLUMNS)))
    return Case(
        format=format,
        encoding=encoding,
        delimiter=draw(st.sampled_from([",", ";", "\t", "|"])),
        order=order,
        newline=draw(st.sampled_from(["\n", "\r\n"])),
        records=draw(records(encoding, format)),
    )


# --- writing the file ------------------------------------------------------------------


def _csv_row(case: Case, values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=case.delimiter, lineterminator=case.newline).writerow(values)
    return out.getvalue()


def _lines(case: Case) -> Iterator[tuple[Record | None, str]]:
    """The file's text record by record (None: the header, brackets), with its record."""
    if case.format == "csv":
        yield None, _csv_row(case, list(case.order))
        for record in case.records:
            fields = record.fields()
            if record.unclosed:
                # Written by hand: csv.writer would quote it properly.
                values = [
                    fields[c] if c == "body" else _csv_row(case, [fields[c]]).rstrip("\r\n")
                    for c in case.order
                ]
                yield record, case.delimiter.join(values) + case.newline
            else:
                yield record, _csv_row(case, [fields[c] for c in case.order])
    elif case.format == "ndjson":
        for record in case.records:
            fields = record.fields()
            yield (
                record,
                json.dumps({c: fields[c] for c in case.order}, ensure_ascii=False) + case.newline,
            )
    else:
        yield None, "[" + case.newline
        for n, record in enumerate(case.records):
            fields = record.fields()
            end = "," if n < len(case.records) - 1 else ""
            yield (
                record,
                json.dumps({c: fields[c] for c in case.order}, ensure_ascii=False)
                + end
                + case.newline,
            )
        yield None, "]" + case.newline


def write(case: Case, path: Path) -> dict[int, int]:
    """Write the case's file; the line (CSV, NDJSON) or number (JSON) of each record."""
    parts: list[bytes] = []
    where: dict[int, int] = {}
    line = 1
    for record, text in _lines(case):
        if record is not None:
            where[id(record)] = line if case.format != "json" else len(where) + 1
        text = text.replace(NUL, "\x00")
        line += len(re.findall(r"\r\n|\r|\n", text))
        if case.encoding == "utf-16":
            parts.append(text.encode("utf-16-le"))
        elif case.encoding == "cp1252" or (record is not None and record.cp1252):
            parts.append(text.encode("cp1252"))
        else:
            parts.append(text.encode("utf-8"))
    data = b"".join(parts)
    if case.encoding == "utf-16":
        data = b"\xff\xfe" + data
    elif case.encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)
    return where


# --- the property --------------------------------------------------------------------------


def _tally(case: Case) -> None:
    SEEN[case.format] += 1
    SEEN[f"encoding {case.encoding}"] += 1
    kinds = {
        "an unclosed quote": any(r.unclosed for r in case.records),
        "a line in Windows-1252 in UTF-8": any(r.cp1252 for r in case.records),
        "NUL bytes": any(r.nul for r in case.records),
        "an over-long id, author or platform": any(r.too_long() for r in case.records),
        "a line break in a text": any("\n" in r.text for r in case.records),
        "a delimiter in a text": any(case.delimiter in r.text for r in case.records),
    }
    SEEN.update(kind for kind, there in kinds.items() if there)


def check(store: Store, case: Case, path: Path, org: str) -> None:
    _tally(case)
    where = write(case, path)
    try:
        result = import_mentions(store, org, path, MAPPING, actor="tester")
    except KloptError as exc:
        assert str(exc).strip()
        ERRORS[str(exc.key)] += 1
        return
    assert result.read == result.imported + result.duplicates + result.skipped
    assert result.duplicates == 0
    bad = {p.line for p in result.problems}
    with store.session() as session:
        stored = dict(
            session.execute(
                select(Post.external_id, Post.text)
                .join(Organization, Organization.id == Post.organization_id)
                .where(Organization.name == org)
            )
            .tuples()
            .all()
        )
    for record in case.records:
        line = where[id(record)]
        if record.unclosed and record is case.records[-1]:
            # Nothing after it to swallow: its row is read as it is, or is ragged.
            assert record.id in stored or line in bad, f"{record.id[:8]} vanished"
        elif record.too_long() or record.unclosed:
            assert record.id not in stored, f"{record.id[:8]} should not be stored"
            assert line in bad, f"{record.id[:8]} (line {line}) is not reported"
            RECORDS["reported as a bad row"] += 1
        else:
            assert record.id in stored, f"{record.id[:8]} (line {line}) vanished"
            # Stored exactly: never garbled, whatever the file's encoding.
            assert stored[record.id] == record.text.replace(NUL, "")
            RECORDS["stored exactly"] += 1
    assert len(stored) == result.imported
    again = import_mentions(store, org, path, MAPPING, actor="tester")
    assert (again.imported, again.duplicates) == (0, result.imported)


def _store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(database_url(backend, tmp_path_factory.mktemp("properties")))
    yield store
    store.close()


@pytest.fixture(scope="module", params=STORE_BACKENDS)
def prop_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store]]:
    backend = str(request.param)
    for store in _store(backend, tmp_path_factory):
        yield backend, store


def test_every_record_is_stored_or_reported_and_nothing_twice(
    prop_store: tuple[str, Store], tmp_path_factory: pytest.TempPathFactory
) -> None:
    backend, store = prop_store
    folder = tmp_path_factory.mktemp("files")

    @settings(
        max_examples=EXAMPLES[backend],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=cases())
    def run(case: Case) -> None:
        RAN[backend] += 1
        org = f"Org {backend} {RAN[backend]}"
        create_organization(store, org, language="nl", actor="tester")
        suffix = {"csv": ".csv", "ndjson": ".ndjson", "json": ".json"}[case.format]
        check(store, case, folder / f"m{RAN[backend]}{suffix}", org)

    started = time.perf_counter()
    run()
    SECONDS[backend] += time.perf_counter() - started


def test_how_many_examples_ran(capsys: pytest.CaptureFixture[str]) -> None:
    """Says how many examples each backend ran and how long it took (for the README)."""
    with capsys.disabled():
        for backend, count in sorted(RAN.items()):
            took = SECONDS[backend]
            print(f"\nimport properties: {count} examples on {backend} in {took:.1f} s")
        print(f"import properties: klopt errors raised: {dict(ERRORS) or 'none'}")
        print("import properties: examples with " + ", ".join(f"{k}: {n}" for k, n in SEEN.items()))
        print("import properties: records " + ", ".join(f"{k}: {n}" for k, n in RECORDS.items()))
    assert RAN["sqlite"] >= EXAMPLES["sqlite"] // 2
