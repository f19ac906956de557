"""Issue 11, import robustness: an unclosed CSV quote, mixed encodings and NUL bytes,
values longer than their column, an import killed with SIGKILL.

Every test runs on SQLite and, with KLOPT_TEST_DATABASE_URL set, on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import Klopt, write
from klopt.errors import ImportInterrupted
from klopt.listening import ColumnMapping
from klopt.listening.mentions import import_mentions
from klopt.listening.sync import add_source, sync_source
from klopt.store import Store
from klopt.store.locks import hold
from klopt.store.models import ImportBatch, Organization, Post

MAPPING = ColumnMapping(text="body", time="created_at", id="id", author="author")
ARGS = ("--text-column", "body", "--time-column", "created_at", "--id-column", "id")


def _posts(store: Store) -> dict[str, str]:
    with store.session() as session:
        return dict(session.execute(select(Post.external_id, Post.text)).tuples().all())


def _cli(db_url: str, tmp_path: Path) -> Klopt:
    """The command line on the test's database (the store fixture made 'Voorbeeld BV')."""
    klopt = Klopt(tmp_path)
    klopt.db = db_url
    return klopt


# --- 1. an unclosed quote ----------------------------------------------------------------

BAD_QUOTE = (
    "id,created_at,author,body\n"
    'a1,2026-09-02T10:00:00Z,u1,"Goede levering\n'
    "a2,2026-09-02T11:00:00Z,u2,Snel geleverd binnen 24 uur\n"
    'a3,2026-09-02T12:00:00Z,u3,Retour was gratis "echt waar\n'
    "a4,2026-09-02T13:00:00Z,u4,Laatste regel\n"
)


def test_an_unclosed_quote_is_a_bad_row_and_the_rows_it_swallowed_come_back(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "badquote.csv"
    path.write_text(BAD_QUOTE, encoding="utf-8")
    result = import_mentions(store, None, path, MAPPING, actor="tester")
    assert (result.read, result.imported, result.skipped) == (4, 3, 1)
    assert [(p.line, p.reason) for p in result.problems] == [
        (2, "a quote opened on line 2 is not closed; it swallowed lines 3..4")
    ]
    assert result.problems[0].text("nl").startswith("een aanhalingsteken op regel 2")
    assert _posts(store) == {
        "a2": "Snel geleverd binnen 24 uur",
        "a3": 'Retour was gratis "echt waar',
        "a4": "Laatste regel",
    }


@pytest.mark.parametrize(
    ("name", "content", "swallowed"),
    [
        # another delimiter, and CRLF line ends
        ("semicolon.csv", BAD_QUOTE.replace(",", ";").replace("\n", "\r\n"), "3..4"),
        ("tabs.tsv", BAD_QUOTE.replace(",", "\t"), "3..4"),
        # a quote left open to the end of the file
        ("open.csv", BAD_QUOTE.replace('"echt waar', "echt waar"), "3..5"),
        # a quote that "closes" cleanly on a later line: only the look of the lines tells
        ("closes.csv", BAD_QUOTE.replace('"echt waar', 'echt waar"'), "3..4"),
    ],
)
def test_an_unclosed_quote_is_found_in_any_layout(
    store: Store, tmp_path: Path, name: str, content: str, swallowed: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    result = import_mentions(store, None, path, MAPPING, actor="tester")
    assert [(p.line, p.reason) for p in result.problems] == [
        (2, f"a quote opened on line 2 is not closed; it swallowed lines {swallowed}")
    ]
    assert set(_posts(store)) == {"a2", "a3", "a4"}
    assert all("\n" not in text for text in _posts(store).values())


def test_an_unclosed_quote_in_the_first_column_is_told_by_the_row_before(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "first.csv"
    path.write_text(
        "body,id,created_at\n"
        "Eerste,a0,2026-09-02T09:00:00Z\n"
        '"Goede levering,a1,2026-09-02T10:00:00Z\n'
        "Snel geleverd,a2,2026-09-02T11:00:00Z\n"
        'Retour echt waar",a3,2026-09-02T12:00:00Z\n'
        "Laatste,a4,2026-09-02T13:00:00Z\n",
        encoding="utf-8",
    )
    mapping = ColumnMapping(text="body", time="created_at", id="id")
    result = import_mentions(store, None, path, mapping, actor="tester")
    assert [(p.line, p.reason) for p in result.problems] == [
        (3, "a quote opened on line 3 is not closed; it swallowed lines 4..5")
    ]
    assert set(_posts(store)) == {"a0", "a2", "a3", "a4"}


def test_strict_refuses_an_unclosed_quote_and_stores_nothing(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "badquote.csv"
    path.write_text(BAD_QUOTE, encoding="utf-8")
    with pytest.raises(ImportInterrupted, match="Line 2: a quote opened on line 2 is not closed"):
        import_mentions(store, None, path, MAPPING, actor="tester", strict=True)
    assert _posts(store) == {}


def test_a_quote_open_over_thousands_of_lines_gives_every_row_back(
    store: Store, tmp_path: Path
) -> None:
    rows = "".join(f"b{n},2026-09-02T10:00:00Z,u{n},Bericht {n}\n" for n in range(20_000))
    path = tmp_path / "big.csv"
    path.write_text(
        'id,created_at,author,body\na0,2026-09-02T10:00:00Z,u0,"Nooit gesloten\n' + rows,
        encoding="utf-8",
    )
    result = import_mentions(store, None, path, MAPPING, actor="tester")
    assert (result.imported, result.skipped) == (20_000, 1)
    assert result.problems[0].line == 2


def test_legitimate_multi_line_posts_still_import_normally(store: Store, tmp_path: Path) -> None:
    long_post = "\n".join(f"regel {n}, met komma's; en meer" for n in range(300))
    content = (
        "id,created_at,author,body\n"
        'm1,2026-09-02T10:00:00Z,u1,"Eerste regel\nTweede, met komma\n\nNa een lege regel"\n'
        'm2,2026-09-02T11:00:00Z,u2,"Hij zei ""top""\nen ging weg"\n'
        f'm3,2026-09-02T12:00:00Z,u3,"{long_post}"\n'
        "m4,2026-09-02T13:00:00Z,u4,Gewoon\n"
    )
    path = tmp_path / "multi.csv"
    path.write_bytes(content.replace("\n", "\r\n").encode("utf-8"))
    result = import_mentions(store, None, path, MAPPING, actor="tester", strict=True)
    assert (result.imported, result.skipped) == (4, 0)
    posts = _posts(store)
    assert posts["m1"] == "Eerste regel\r\nTweede, met komma\r\n\r\nNa een lege regel"
    assert posts["m2"] == 'Hij zei "top"\r\nen ging weg'
    assert posts["m3"] == long_post.replace("\n", "\r\n")


def test_a_post_whose_next_line_starts_with_the_delimiter_is_one_record(
    store: Store, tmp_path: Path
) -> None:
    # Found by the import property test: the line that closes the quote, read alone, has
    # the header's number of fields (", #5" adds one) and a time like the row before it.
    content = (
        "id,body,author,created_at\n"
        "r1,eerste,u1,2026-09-02T10:00:00Z\n"
        'r2,"a\n, #5",u2,2026-09-02T11:00:00Z\n'
        "r3,derde,u3,2026-09-02T12:00:00Z\n"
    )
    path = tmp_path / "comma.csv"
    path.write_text(content, encoding="utf-8")
    mapping = ColumnMapping(text="body", time="created_at", id="id", author="author")
    result = import_mentions(store, None, path, mapping, actor="tester")
    assert (result.imported, result.skipped, result.problems) == (3, 0, [])
    assert _posts(store) == {"r1": "eerste", "r2": "a\n, #5", "r3": "derde"}


def test_the_command_line_names_the_line_of_an_unclosed_quote(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "badquote.csv"
    path.write_text(BAD_QUOTE, encoding="utf-8")
    klopt = _cli(db_url, tmp_path)
    out = klopt("mentions", "import", str(path), *ARGS, "--strict", code=1).output
    assert "Line 2: a quote opened on line 2 is not closed" in out
    assert "Traceback" not in out
    out = klopt("mentions", "import", str(path), *ARGS).output
    assert "Read 4 rows: 3 imported, 0 already there, 1 skipped." in out
    assert "line 2: a quote opened on line 2 is not closed; it swallowed lines 3..4" in out
    out = klopt("--lang", "nl", "mentions", "import", str(path), *ARGS).output
    assert "regel 2: een aanhalingsteken op regel 2" in out


# --- 2. encodings and NUL bytes ----------------------------------------------------------


def test_a_mixed_utf8_and_cp1252_file_keeps_the_utf8_rows_intact(
    store: Store, tmp_path: Path
) -> None:
    good = "Café … – prima"
    lines = [f"{n},{good} {n}\n".encode() for n in range(5000)]
    lines.append("5000,Caf\u00e9 uit Excel \u2013 5 \u20ac\n".encode("cp1252"))
    lines += [f"{n},{good} {n}\n".encode() for n in range(5001, 5101)]
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,body\n" + b"".join(lines))
    result = import_mentions(store, None, path, ColumnMapping(text="body", id="id"), actor="t")
    assert (result.imported, result.skipped) == (5101, 0)
    posts = _posts(store)
    assert all(posts[str(n)] == f"{good} {n}" for n in range(5000) if n != 5000)
    assert posts["5100"] == f"{good} 5100"
    assert posts["5000"] == "Caf\u00e9 uit Excel \u2013 5 \u20ac"
    assert result.encoding is None  # the file is UTF-8; one line is not
    assert [(n.line, n.reason) for n in result.notes] == [
        (5002, "not UTF-8 (byte 0xE9 at position 9); read as Windows-1252: check its text")
    ]


def test_the_command_line_names_a_line_in_another_encoding(tmp_path: Path) -> None:
    klopt = Klopt(tmp_path)
    klopt("init", "Voorbeeld BV")
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,body\n1,Caf\xc3\xa9\n2,Caf\xe9\n")
    out = klopt("mentions", "import", str(path), "--id-column", "id", "--text-column", "body")
    assert "Read 2 rows: 2 imported" in out.output
    assert "line 3: not UTF-8 (byte 0xE9 at position 6); read as Windows-1252" in out.output
    assert "is not UTF-8; it was read as Windows-1252" not in out.output


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("nul.csv", b"id,body\n1,hallo\x00 wereld\n2,goed\n"),
        ("nul.ndjson", b'{"id": "1", "body": "hallo\x00 wereld"}\n{"id": "2", "body": "goed"}\n'),
        ("nul.json", b'[{"id": "1", "body": "hallo\x00 wereld"},\n {"id": "2", "body": "goed"}]'),
        (
            "escaped.ndjson",
            b'{"id": "1", "body": "hallo\\u0000 wereld"}\n{"id": "2", "body": "goed"}\n',
        ),
    ],
)
def test_nul_bytes_are_removed_and_their_line_is_named(
    store: Store, tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = import_mentions(store, None, path, ColumnMapping(text="body", id="id"), actor="t")
    assert (result.imported, result.skipped) == (2, 0)
    assert _posts(store) == {"1": "hallo wereld", "2": "goed"}
    if name != "escaped.ndjson":
        line = 1 if name.endswith("json") else 2
        assert [(n.line, n.reason) for n in result.notes] == [(line, "NUL bytes removed")]


def test_utf16_without_a_byte_order_mark_is_read_as_such(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes("id,body\n1,Café open\n".encode("utf-16-le"))
    result = import_mentions(store, None, path, ColumnMapping(text="body", id="id"), actor="t")
    assert _posts(store) == {"1": "Café open"}
    assert result.notes == []


# --- 3. values longer than their column ---------------------------------------------------


def test_over_long_values_are_bad_rows_on_every_backend(store: Store, tmp_path: Path) -> None:
    rows = [
        {"id": "ok1", "author": "anna", "platform": "x", "lang": "nl", "body": "Prima"},
        {"id": "i" * 201, "author": "bob", "platform": "x", "lang": "nl", "body": "Lang id"},
        {"id": "a2", "author": "b" * 201, "platform": "x", "lang": "nl", "body": "Lange naam"},
        {"id": "p3", "author": "cor", "platform": "p" * 41, "lang": "nl", "body": "Platform"},
        {"id": "l4", "author": "dirk", "platform": "x", "lang": "Nederlands", "body": "Taal"},
        {"id": "i" * 200, "author": "b" * 200, "platform": "p" * 40, "body": "Net goed"},
    ]
    path = tmp_path / "long.ndjson"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    mapping = ColumnMapping(text="body", id="id", author="author", platform="platform", lang="lang")
    result = import_mentions(store, None, path, mapping, actor="t")
    assert (result.read, result.imported, result.skipped) == (6, 3, 3)
    assert [(p.line, p.reason) for p in result.problems] == [
        (2, "the value in column 'id' is 201 characters long; at most 200 fit"),
        (3, "the value in column 'author' is 201 characters long; at most 200 fit"),
        (4, "the value in column 'platform' is 41 characters long; at most 40 fit"),
    ]
    with store.session() as session:
        stored = session.execute(select(Post.external_id, Post.language).order_by(Post.id))
        assert [(i[:3], lang) for i, lang in stored] == [
            ("ok1", "nl"),
            ("l4", None),  # a language name, not a code: the judge detects it
            ("iii", None),
        ]


def test_the_command_line_reports_an_over_long_id_without_a_traceback(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "long.csv"
    path.write_text(f"id,body\n{'9' * 250},Te lang\n2,Goed\n", encoding="utf-8")
    out = _cli(db_url, tmp_path)(
        "mentions", "import", str(path), "--id-column", "id", "--text-column", "body"
    ).output
    assert "Read 2 rows: 1 imported, 0 already there, 1 skipped." in out
    assert "line 2: the value in column 'id' is 250 characters long; at most 200 fit" in out


# --- 4. an import killed half-way ----------------------------------------------------------


def _count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Post)) or 0


def _batches(store: Store) -> list[tuple[int, str]]:
    with store.session() as session:
        return list(
            session.execute(
                select(ImportBatch.id, ImportBatch.status).order_by(ImportBatch.id)
            ).tuples()
        )


def _left_running(store: Store, source_id: int | None = None) -> int:
    """A batch as a killed import leaves it: running, and no process holds its lock."""
    with store.session() as session:
        org_id = session.scalar(select(func.min(Organization.id)))
        assert org_id is not None
        batch = ImportBatch(
            organization_id=org_id, source="old.csv", format="csv", source_id=source_id
        )
        session.add(batch)
        session.flush()
        return batch.id


def test_a_batch_whose_import_died_is_interrupted_on_the_next_run(
    store: Store, tmp_path: Path
) -> None:
    dead = _left_running(store)
    path = tmp_path / "m.csv"
    path.write_text("id,body\n1,Hallo\n", encoding="utf-8")
    result = import_mentions(store, None, path, ColumnMapping(text="body", id="id"), actor="t")
    assert result.interrupted == [dead]
    assert _batches(store) == [(dead, "interrupted"), (dead + 1, "done")]


def test_a_batch_that_is_still_importing_is_left_alone(store: Store, tmp_path: Path) -> None:
    alive = _left_running(store)
    path = tmp_path / "m.csv"
    path.write_text("id,body\n1,Hallo\n", encoding="utf-8")
    with hold(store, f"import-batch-{alive}"):  # its import still runs
        import_mentions(store, None, path, ColumnMapping(text="body", id="id"), actor="t")
    assert _batches(store) == [(alive, "running"), (alive + 1, "done")]


def test_a_sync_marks_the_batch_of_a_killed_sync_interrupted(store: Store, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("id,text\n1,Hallo\n", encoding="utf-8")
    add_source(store, None, "export", "file", {"path": str(export), "id_column": "id"}, actor="t")
    first = sync_source(store, None, "export", actor="t")
    assert first.imported == 1
    dead = _left_running(store, source_id=1)
    sync_source(store, None, "export", actor="t")
    assert _batches(store) == [(1, "done"), (dead, "interrupted"), (dead + 1, "done")]


def test_an_import_killed_with_sigkill_is_interrupted_and_resumed_without_doubles(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    rows = 40_000
    path = tmp_path / "groot.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("id,body\n")
        for n in range(rows):
            out.write(f"{n},Bericht nummer {n} over de levering\n")
    env = {**os.environ, "KLOPT_DB": db_url, "KLOPT_USER": "tester"}
    errors = (tmp_path / "stderr.txt").open("wb")
    running = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "klopt",
            "mentions",
            "import",
            str(path),
            "--id-column",
            "id",
            "--text-column",
            "body",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    deadline = time.monotonic() + 120
    while _count(store) < 3_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    running.send_signal(signal.SIGKILL)
    running.wait()
    errors.close()
    half = _count(store)
    assert 3_000 <= half < rows, (tmp_path / "stderr.txt").read_text(errors="replace")
    assert _batches(store) == [(1, "running")]
    out = _cli(db_url, tmp_path)(
        "mentions", "import", str(path), "--id-column", "id", "--text-column", "body"
    ).output
    assert f"Read {rows} rows: {rows - half} imported, {half} already there, 0 skipped." in out
    assert (
        "Import batch 1 stopped half-way (killed or crashed) and is now marked interrupted" in out
    )
    assert _batches(store) == [(1, "interrupted"), (2, "done")]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == rows
        assert session.scalar(select(func.count(func.distinct(Post.external_id)))) == rows


def test_a_reach_or_time_the_store_cannot_hold_is_a_bad_row(klopt: Klopt, tmp_path: Path) -> None:
    """1e400, inf and 2**31 as reach, and a time before year 1 in UTC, are bad rows with
    their line, never a traceback or a refused chunk (found by the API's fuzzing)."""
    rows = [
        "id,created_at,body,reach",
        "a,2026-09-01T10:00:00Z,Te laat geleverd,1e400",
        "b,2026-09-01T10:00:00Z,Te laat geleverd weer,inf",
        "c,2026-09-01T10:00:00Z,Nog steeds te laat,2147483648",
        "d,0001-01-01T00:00:00+05:00,Heel oud bericht,5",
        "e,2026-09-02T10:00:00Z,Prima geholpen,2147483647",
    ]
    path = write(tmp_path, "edge.csv", "\n".join(rows) + "\n")
    klopt("init", "Voorbeeld BV")
    out = klopt(
        "mentions", "import", str(path), "--text-column", "body", "--time-column",
        "created_at", "--id-column", "id", "--reach-column", "reach",
    ).output  # fmt: skip
    assert "Read 5 rows: 1 imported, 0 already there, 4 skipped." in out
    for line in ("line 2", "line 3", "line 4", "line 5"):
        assert line in out
