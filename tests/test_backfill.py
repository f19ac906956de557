"""Back-filling exports on a Ray cluster (issue 17): a large file and a folder of exports
import as one process imports them, a worker killed mid-run loses nothing, a second run
adds nothing; a folder without --cluster, --strict with it and a SQLite store are refused
with what to do."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from helpers import PG_URL, Klopt, database_url, needs_ray
from klopt.accounts.organizations import create_organization
from klopt.cli.app import cli
from klopt.errors import InputError, MissingColumn
from klopt.listening.base import ColumnMapping
from klopt.listening.mentions import ImportResult, import_mentions
from klopt.store import Store, open_store
from klopt.store.models import ImportBatch, Organization, Post

MAPPING = ColumnMapping(text="text", id="id", time="time", author="author", url="url")


def on_a_cluster(test: Any) -> Any:
    """A test on a real local Ray over the PostgreSQL that ``.ci/run`` starts."""
    without = pytest.mark.skipif(not PG_URL, reason="KLOPT_TEST_DATABASE_URL is not set")
    marks = (needs_ray, pytest.mark.slow, pytest.mark.postgres, without)
    for mark in marks:
        test = mark(test)
    return test


def _export(path: Path, rows: int, start: int = 0) -> Path:
    """A CSV export with what real ones hold: the same post twice (by id, by URL, by text
    and author), a post over two lines, rows with a field too many."""
    lines = ["id,time,author,url,text"]
    for number in range(start, start + rows):
        stamp = f"2026-10-{1 + number % 28:02d}T{number % 24:02d}:00:00+00:00"
        text = f"Bericht {number}: de levering kwam {'niet ' if number % 3 else ''}op tijd"
        if number % 10 == 9:  # the id of the row before: the same post again
            lines.append(f"m{number - 1},{stamp},klant{number - 1},,{text}")
        elif number % 17 == 0:  # the URL of an earlier post
            lines.append(f"m{number},{stamp},klant{number},https://x.test/{number - 2},{text}")
        elif number % 23 == 0:  # a field too many
            lines.append(f"m{number},{stamp},klant{number},,{text},extra")
        elif number % 29 == 0:  # a post with a line break
            lines.append(f'm{number},{stamp},klant{number},,"{text}\nen nog een regel"')
        else:
            lines.append(f"m{number},{stamp},klant{number},https://x.test/{number},{text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stored(store: Store) -> list[tuple[Any, ...]]:
    with store.session() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Post.external_id, Post.text, Post.author, Post.url).order_by(Post.id)
            )
        ]


def _counts(result: ImportResult) -> tuple[Any, ...]:
    problems = [(p.file, p.line, p.key) for p in result.problems]
    return result.read, result.imported, result.duplicates, result.skipped, problems


def _one_process(tmp_path: Path, files: list[Path]) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """Each file imported in order by one process on SQLite: counts and posts."""
    store = open_store(f"sqlite:///{tmp_path / 'alone.db'}")
    create_organization(store, "Voorbeeld BV", language="nl", actor="t")
    counts = [_counts(import_mentions(store, None, f, MAPPING, actor="t")) for f in files]
    stored = _stored(store)
    store.close()
    return counts, stored


def _pg_store(tmp_path: Path) -> Store:
    store = open_store(database_url("postgresql", tmp_path))
    create_organization(store, "Voorbeeld BV", language="nl", actor="t")
    return store


def test_a_folder_needs_the_cluster_and_a_cluster_needs_a_shared_store(tmp_path: Path) -> None:
    from klopt.listening.backfill import import_on_cluster

    folder = tmp_path / "exports"
    folder.mkdir()
    _export(folder / "a.csv", 5)
    klopt = Klopt(tmp_path)
    klopt("init", "Voorbeeld BV")
    out = klopt("--lang", "nl", "mentions", "import", str(folder), code=1).output
    assert "is een map" in out and "--cluster" in out and "Traceback" not in out
    out = klopt("mentions", "import", str(folder), "--cluster", "auto", code=1).output
    assert "SQLite" in out and "PostgreSQL" in out and "Traceback" not in out
    out = klopt("mentions", "import", str(folder), "--cluster", "auto", "--strict", code=1).output
    assert "--strict" in out and "Traceback" not in out
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}")
    with pytest.raises(InputError) as refused:
        import_on_cluster(store, None, folder, MAPPING, address="local", actor="t")
    assert refused.value.key == "cluster.sqlite"
    store.close()
    with store.session() as session:  # nothing was started
        assert session.scalar(select(ImportBatch.id)) is None


@on_a_cluster
def test_a_large_file_imports_as_one_process_does_though_a_worker_dies(
    tmp_path: Path, local_ray: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from klopt.listening import mentions
    from klopt.listening.backfill import actor_name, import_on_cluster

    export = _export(tmp_path / "export.csv", 3000)
    (expected,), posts = _one_process(tmp_path, [export])
    monkeypatch.setattr(mentions, "CHUNK", 100)  # many transactions: the kill lands mid-run
    store = _pg_store(tmp_path)
    with store.session() as session:
        org_id = session.scalars(select(Organization.id)).one()
    stored, pids = [0], []

    def kill_once(count: int) -> None:
        stored[0] += count
        if stored[0] >= 300 and not pids:
            worker = local_ray.get_actor(actor_name(org_id, 0))
            pids.append(local_ray.get(worker.pid.remote()))
            os.kill(pids[0], signal.SIGKILL)
            pids.append(local_ray.get(worker.pid.remote()))  # Ray started it again

    result = import_on_cluster(
        store, None, export, MAPPING, address="local", actor="t", workers=2,
        rows=100, whole_file=0, progress=kill_once,
    )  # fmt: skip
    assert len(pids) == 2 and pids[0] != pids[1], "the worker was not killed mid-run"
    assert _counts(result) == expected  # the same rows kept, doubled, skipped
    assert _stored(store) == posts  # the same posts, in the same order
    again = import_on_cluster(store, None, export, MAPPING, address="local", actor="t",
                              workers=2, rows=100, whole_file=0)  # fmt: skip
    assert (again.imported, again.duplicates) == (0, result.imported + result.duplicates)
    assert _stored(store) == posts
    with store.session() as session:
        batches = session.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
        assert [(b.status, b.rows_imported) for b in batches] == [
            ("done", result.imported), ("done", 0)
        ]  # fmt: skip
    store.close()


@on_a_cluster
def test_a_folder_of_exports_imports_as_its_files_do_one_by_one(
    tmp_path: Path, local_ray: Any
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    files = [
        _export(folder / "2024.csv", 400),
        _export(folder / "2025.csv", 400, start=390),  # overlaps the year before
        folder / "2026.ndjson",
    ]
    files[2].write_text(
        "\n".join(
            [
                json.dumps({"id": f"m{n}", "text": f"Bericht {n}", "author": "a"})
                for n in range(795, 820)
            ]
            + ["{not json"]
        )
        + "\n",
        encoding="utf-8",
    )
    (folder / ".DS_Store").write_bytes(b"\0")  # left out, as a hidden file
    expected, posts = _one_process(tmp_path, files)
    store = _pg_store(tmp_path)
    runner = CliRunner()
    args = ["--db", PG_URL, "mentions", "import", str(folder), "--text-column", "text",
            "--id-column", "id", "--time-column", "time", "--author-column", "author",
            "--url-column", "url", "--cluster", "local", "--workers", "2"]  # fmt: skip
    out = runner.invoke(cli, args, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    read = sum(c[0] for c in expected)
    imported = sum(c[1] for c in expected)
    assert f"Read {read} rows: {imported} imported" in out.output
    first = expected[0][4][0][1]  # the first problem's line in 2024.csv
    assert f"2024.csv, line {first}: 6 fields where the header has 5" in out.output
    with store.session() as session:  # each problem kept with its file
        (problems,) = session.scalars(select(ImportBatch.problems)).all()
    assert [(p["file"], p["line"]) for p in problems] == [
        (name, problem[1])
        for name, counts in zip(("2024.csv", "2025.csv", "2026.ndjson"), expected, strict=True)
        for problem in counts[4]
    ]
    assert problems[-1]["file"] == "2026.ndjson" and problems[-1]["line"] == 26
    assert _stored(store) == posts
    again = runner.invoke(cli, args, catch_exceptions=False)
    assert f"Read {read} rows: 0 imported" in again.output
    store.close()


@on_a_cluster
def test_a_missing_column_stops_the_back_fill_with_what_to_do(
    tmp_path: Path, local_ray: Any
) -> None:
    from klopt.listening.backfill import import_on_cluster

    export = _export(tmp_path / "export.csv", 50)
    store = _pg_store(tmp_path)
    wrong = ColumnMapping(text="body", id="id")
    with pytest.raises(MissingColumn) as missing:  # raised on a worker, shown here as itself
        import_on_cluster(store, None, export, wrong, address="local", actor="t", workers=1)
    assert missing.value.key == "mentions.missing_column"
    with store.session() as session:
        assert session.scalars(select(ImportBatch.status)).all() == ["failed"]
        assert session.scalar(select(Post.id)) is None
    store.close()


def test_a_bad_row_travels_to_a_worker_and_back_as_itself() -> None:
    import pickle

    from klopt.listening.base import BadRow, RowError

    errors = (BadRow(7, "field_count", found=6, expected=5), RowError("empty_text", column="t"))
    for error in errors:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)
        assert (again.key, again.values) == (error.key, error.values)
    assert pickle.loads(pickle.dumps(BadRow(7, "field_count", found=6, expected=5))).line == 7


@on_a_cluster
def test_a_folder_of_a_listening_tools_exports_imports_with_its_preset(
    tmp_path: Path, local_ray: Any
) -> None:
    from test_presets import BRANDWATCH, _import

    folder = tmp_path / "brandwatch"
    folder.mkdir()
    files = [folder / "2026-07.csv", folder / "2026-08.csv"]
    files[0].write_text(BRANDWATCH, encoding="utf-8")
    files[1].write_text(BRANDWATCH.replace('"1811"', '"1912"'), encoding="utf-8")
    alone = open_store(f"sqlite:///{tmp_path / 'alone.db'}")
    create_organization(alone, "Voorbeeld BV", language="nl", actor="t")
    expected = [_import(alone, file, "brandwatch") for file in files]
    posts = _stored(alone)
    alone.close()
    store = _pg_store(tmp_path)
    args = ["--db", PG_URL, "mentions", "import", str(folder), "--preset", "brandwatch",
            "--cluster", "local", "--workers", "2"]  # fmt: skip
    out = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    read, imported = sum(r.read for r in expected), sum(r.imported for r in expected)
    assert f"Read {read} rows: {imported} imported" in out.output
    assert "2026-07.csv, line 10: the text column 'Full Text' is empty" in out.output
    assert _stored(store) == posts  # the second month's copy of the news post is one post
    store.close()
