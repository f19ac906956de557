"""Mentions import: mapping, formats, dedup, bad rows, strict mode, interrupted imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import write
from klopt.errors import (
    BadEncoding,
    EmptyInput,
    ImportInterrupted,
    MissingColumn,
    UnsupportedFileType,
)
from klopt.listening import ColumnMapping
from klopt.listening import mentions as mentions_module
from klopt.listening.mentions import import_mentions
from klopt.store import Store
from klopt.store.models import ImportBatch, Post

MAPPING = ColumnMapping(text="body", time="created_at", id="id", author="author")

CSV = """\
id,created_at,author,body
1,2026-07-01T10:00:00+02:00,@anna,"Pakket binnen 20 uur, top!"
2,2026-07-02T11:00:00+02:00,@bob,"Nog steeds niets ontvangen, 5 dagen later"
3,2026-07-03T12:00:00+02:00,@cor,
4,not a time,@dirk,Waar blijft mijn bestelling?
5,2026-07-05T12:00:00,@eva,"Return was free and easy, thanks"
"""


def _posts(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        return list(session.execute(select(Post.external_id, Post.text).order_by(Post.id)).tuples())


def test_csv_import_reports_bad_rows_with_line_numbers(store: Store, tmp_path: Path) -> None:
    result = import_mentions(store, None, write(tmp_path, "m.csv", CSV), MAPPING, actor="t")
    assert (result.read, result.imported, result.skipped) == (5, 3, 2)
    assert [(p.line, p.reason) for p in result.problems] == [
        (4, "the text column 'body' is empty"),
        (5, "'not a time' is not a time klopt understands (use ISO 8601)"),
    ]
    assert result.naive_times == 1
    assert [p[0] for p in _posts(store)] == ["1", "2", "5"]
    assert [p.text("nl") for p in result.problems] == [
        "de tekstkolom 'body' is leeg",
        "'not a time' is geen tijd die klopt begrijpt (gebruik ISO 8601)",
    ]


def test_running_an_import_twice_stores_nothing_twice(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", CSV)
    import_mentions(store, None, path, MAPPING, actor="t")
    again = import_mentions(store, None, path, MAPPING, actor="t")
    assert (again.imported, again.duplicates) == (0, 3)
    assert len(_posts(store)) == 3


def test_without_an_id_column_the_content_hash_dedups(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "text\nZelfde tekst\nzelfde   TEKST\nAndere tekst\n")
    result = import_mentions(store, None, path, ColumnMapping(text="text"), actor="t")
    assert (result.imported, result.duplicates) == (2, 1)


def test_strict_mode_stops_at_the_first_bad_row_and_stores_nothing(
    store: Store, tmp_path: Path
) -> None:
    path = write(tmp_path, "m.csv", CSV)
    with pytest.raises(ImportInterrupted, match="Line 4: the text column 'body' is empty"):
        import_mentions(store, None, path, MAPPING, actor="t", strict=True)
    assert _posts(store) == []
    with store.session() as session:
        assert session.scalar(select(ImportBatch.status)) == "failed"


def test_a_missing_column_names_the_columns_there_are(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", CSV)
    mapping = ColumnMapping(text="message", id="id")
    with pytest.raises(MissingColumn) as caught:
        import_mentions(store, None, path, mapping, actor="t")
    assert "'message' is not in the file (it has: id, created_at, author, body)" in str(
        caught.value
    )
    assert "--text-column" in str(caught.value)
    assert _posts(store) == []


def test_ndjson_skips_a_broken_line_and_reads_nested_fields(store: Store, tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "Snelle levering!", "user": {"name": "anna"}}),
        "{not json",
        json.dumps({"id": "b", "text": "Klantenservice neemt niet op", "user": {"name": "bob"}}),
    ]
    path = write(tmp_path, "m.ndjson", "\n".join(lines) + "\n")
    mapping = ColumnMapping(text="text", id="id", author="user.name")
    result = import_mentions(store, None, path, mapping, actor="t")
    assert (result.imported, result.skipped) == (2, 1)
    assert result.problems[0].line == 2
    with store.session() as session:
        assert session.scalars(select(Post.author).order_by(Post.id)).all() == ["anna", "bob"]


def test_json_array_import(store: Store, tmp_path: Path) -> None:
    data = [{"id": 1, "body": "Top service"}, {"id": 2, "body": "Weer te laat"}, "oops"]
    path = write(tmp_path, "m.json", json.dumps(data))
    result = import_mentions(store, None, path, ColumnMapping(text="body", id="id"), actor="t")
    assert (result.imported, result.skipped) == (2, 1)


def test_semicolon_separated_csv_is_read(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "id;tekst\n1;Geweldig, dank!\n2;Slecht\n")
    result = import_mentions(store, None, path, ColumnMapping(text="tekst", id="id"), actor="t")
    assert result.imported == 2
    assert _posts(store)[0] == ("1", "Geweldig, dank!")


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("m.xlsx", b"PK\x03\x04", UnsupportedFileType),
        ("m.csv", b"", EmptyInput),
    ],
)
def test_unusable_files_are_clear_errors_and_store_nothing(
    store: Store, tmp_path: Path, name: str, content: bytes, error: type[Exception]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error):
        import_mentions(store, None, path, ColumnMapping(text="body", id="id"), actor="t")
    assert _posts(store) == []


def test_a_cp1252_file_is_recognised_and_read_as_such(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes("id;body\n1;caf\u00e9 was top \u20ac 5\n".encode("cp1252"))
    result = import_mentions(store, None, path, ColumnMapping(text="body", id="id"), actor="t")
    assert result.encoding == "cp1252"
    assert _posts(store) == [("1", "caf\u00e9 was top \u20ac 5")]


def test_a_file_that_stops_being_utf8_late_keeps_every_row_and_says_where(
    store: Store, tmp_path: Path
) -> None:
    rows = "".join(f"{n},bericht {n} \u2013 {'x' * 40}\n" for n in range(30_000))  # > 1 MiB
    path = tmp_path / "m.csv"
    path.write_bytes(b"id,body\n" + rows.encode() + "30000,caf\u00e9\n".encode("cp1252"))
    result = import_mentions(store, None, path, ColumnMapping(text="body", id="id"), actor="t")
    # Decoded line by line: the one line that is not UTF-8 is read as Windows-1252.
    assert result.imported == 30_001 and result.encoding is None
    assert _posts(store)[0] == ("0", f"bericht 0 \u2013 {'x' * 40}")
    assert _posts(store)[-1] == ("30000", "caf\u00e9")
    assert [(n.line, n.key, dict(n.values)) for n in result.notes] == [
        (30_002, "not_utf8", {"byte": "0xE9", "column": 10})
    ]


def test_a_wrong_encoding_named_with_encoding_stops_with_the_byte(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"id,body\n1,caf\xc3\xa9\n")
    mapping = ColumnMapping(text="body", id="id")
    with pytest.raises(BadEncoding) as caught:
        import_mentions(store, None, path, mapping, actor="t", encoding="ascii")
    assert "is not ascii text (byte" in str(caught.value)
    assert "--encoding cp1252" in str(caught.value)
    assert _posts(store) == []


def test_the_right_encoding_reads_a_cp1252_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes("id,body\n1,caf\u00e9 was top\n".encode("cp1252"))
    mapping = ColumnMapping(text="body", id="id")
    import_mentions(store, None, path, mapping, actor="t", encoding="cp1252")
    assert _posts(store) == [("1", "caf\u00e9 was top")]


def test_an_interrupted_import_keeps_what_was_committed_and_resumes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mentions_module, "CHUNK", 10)
    rows = "\n".join(f"{i},Bericht nummer {i}" for i in range(35))
    path = write(tmp_path, "m.csv", "id,body\n" + rows + "\n")
    mapping = ColumnMapping(text="body", id="id")

    def crash_after_first_chunk(_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_mentions(store, None, path, mapping, actor="t", progress=crash_after_first_chunk)
    assert len(_posts(store)) == 10
    result = import_mentions(store, None, path, mapping, actor="t")
    assert (result.imported, result.duplicates) == (25, 10)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 35
