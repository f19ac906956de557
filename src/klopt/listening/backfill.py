"""Back-filling years of exports on a Ray cluster (issue 17): ``klopt mentions import
--cluster ADDRESS`` of one large file or a folder of exports, into a PostgreSQL store.

The export is cut into **parts**, in the order a single process reads it: a file of a
folder up to :data:`WHOLE_FILE` bytes is one part, read and mapped by a worker; a larger
file is read here, with the same reader, and its rows go out in parts of :data:`ROWS`
to be mapped. Workers (Ray actors) read and map parts in parallel; the records come back
here and are stored **in the parts' order** through the same dedup and chunked
transactions as :func:`klopt.listening.mentions.import_mentions`. So the posts kept, the
duplicates and the row problems are the ones one process finds, a run that dies keeps
what it committed, and running it again adds nothing.

A worker killed mid-part loses nothing: Ray starts it again and the part is read again
(it only reads; storing happens here). The store writes are one stream; they, not the
reading, set the pace (see ``docs/scale.md``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from klopt.errors import InputError
from klopt.listening.base import (
    BadRow,
    ColumnMapping,
    MentionRecord,
    RawRow,
    Reader,
    reader_for,
)
from klopt.listening.mentions import (
    MAX_PROBLEMS_KEPT,
    ImportResult,
    failing,
    finish_import,
    map_rows,
    start_import,
    store_chunked,
)
from klopt.store import Store
from klopt.store.cluster import actor_class, cluster_ray, connect, spread

__all__ = [
    "ROWS",
    "WHOLE_FILE",
    "ExportReader",
    "Plan",
    "actor_name",
    "export_files",
    "import_on_cluster",
]

#: Rows of a large file per part.
ROWS = 20_000
#: The largest file a worker reads whole; a larger one is read here and mapped in parts.
WHOLE_FILE = 32 * 1024 * 1024

#: How a file is read: its format's name, the reader and the column mapping.
Plan = Callable[[Path], tuple[str, Reader, ColumnMapping]]


@dataclass(frozen=True)
class _Part:
    """A piece of the export: a whole file (``rows`` None) or rows read from one."""

    path: Path
    format: str
    reader: Reader
    mapping: ColumnMapping
    encoding: str
    rows: list[RawRow | BadRow] | None = None
    #: Whether the file's columns were checked already (a file's later parts).
    checked: bool = False
    #: Whether the export is a folder: its problems name their file.
    named: bool = False


def import_on_cluster(
    store: Store,
    org_ref: str | None,
    path: Path,
    mapping: ColumnMapping,
    *,
    address: str,
    actor: str,
    format: str | None = None,
    encoding: str = "utf-8-sig",
    kind: str = "mention",
    workers: int | None = None,
    plan: Plan | None = None,
    rows: int = ROWS,
    whole_file: int = WHOLE_FILE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import a file, or every file of a folder (in name order, hidden files left out),
    on the Ray cluster at ``address``; see the module's description.

    ``plan`` says per file how to read it (an import preset's plan); without it, files are
    read by ``format`` or their suffix, with ``mapping``.

    Raises:
        InputError: a SQLite store, Ray missing, an empty folder, a file klopt cannot
            read; a missing column (:class:`klopt.errors.MissingColumn`).
    """
    ray = cluster_ray(store)
    path = Path(path)
    files = export_files(path)
    planned = [_plan(file, plan, mapping, format) for file in files]  # unknown formats first
    with ExitStack() as running:
        name = planned[0][0] if len(planned) == 1 else "folder"
        org_id, result = start_import(store, org_ref, path, name, actor, running)
        with failing(store, result):
            count = connect(ray, address, workers)
            remote = actor_class(ray, ExportReader)
            readers = [
                remote.options(name=actor_name(org_id, number)).remote() for number in range(count)
            ]
            parts = _parts(files, planned, encoding, rows, whole_file, named=path.is_dir())
            records = _in_order(ray, readers, parts, result, window=4 * count)
            store_chunked(store, org_id, records, result, kind=kind, progress=progress)
            for reader in readers:
                ray.kill(reader)
        finish_import(store, result, actor, org_id, path, encoding)
    return result


def actor_name(org_id: int, number: int) -> str:
    """The name of a back-fill's worker on the cluster (``ray list actors`` shows it)."""
    return f"klopt-import-{org_id}-{number}"


class ExportReader:
    """One worker of a back-fill: reads and maps the parts it is given."""

    def read(self, part: _Part) -> tuple[list[MentionRecord], ImportResult]:
        """The records of ``part``, and its rows read and skipped with their problems."""
        counted = ImportResult(0, str(part.path), part.format)
        source = part.rows if part.rows is not None else part.reader(part.path, part.encoding)
        records = list(map_rows(source, part.mapping, counted, False, part.format, part.checked))
        if part.named:
            counted.problems = [
                replace(p, file=part.path.name, file_format=part.format) for p in counted.problems
            ]
        return records, counted

    def pid(self) -> int:
        """The worker process's id (the tests kill it)."""
        return os.getpid()


def export_files(path: Path) -> list[Path]:
    """The files an import of ``path`` reads: the file, or the folder's files in name
    order, hidden ones (``.DS_Store``) left out.

    Raises:
        InputError: a folder without files (``cluster.empty_folder``).
    """
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError.keyed("cluster.empty_folder", path=path)
    return files


def _plan(
    path: Path, plan: Plan | None, mapping: ColumnMapping, format: str | None
) -> tuple[str, Reader, ColumnMapping]:
    if plan is not None:
        return plan(path)
    name, reader = reader_for(path, format)
    return name, reader, mapping


def _parts(
    files: list[Path],
    planned: list[tuple[str, Reader, ColumnMapping]],
    encoding: str,
    rows: int,
    whole_file: int,
    *,
    named: bool,
) -> Iterator[_Part]:
    """The export's parts, in order; a large file's rows are read as the parts go out."""
    for path, (name, reader, mapping) in zip(files, planned, strict=True):
        part = _Part(path, name, reader, mapping, encoding, named=named)
        if path.stat().st_size <= whole_file:
            yield part
            continue
        block: list[RawRow | BadRow] = []
        first = True
        for row in reader(path, encoding):
            block.append(row)
            if len(block) >= rows:
                yield replace(part, rows=block, checked=not first)
                block, first = [], False
        if block or first:
            yield replace(part, rows=block, checked=not first)


def _in_order(
    ray: Any, readers: list[Any], parts: Iterator[_Part], result: ImportResult, *, window: int
) -> Iterator[MentionRecord]:
    """The parts' records in the parts' order, each part's counts added to ``result`` as
    its records are about to be stored."""
    held: dict[int, tuple[list[MentionRecord], ImportResult]] = {}
    following = 0
    for index, mapped in spread(ray, readers, lambda r, p: r.read.remote(p), parts, window=window):
        held[index] = mapped
        while following in held:
            records, part = held.pop(following)
            following += 1
            result.read += part.read
            result.skipped += part.skipped
            result.naive_times += part.naive_times
            room = MAX_PROBLEMS_KEPT - len(result.problems)
            result.problems.extend(part.problems[: max(0, room)])
            yield from records
