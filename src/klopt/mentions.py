"""Bringing mentions into the store: mapping, dedup, batches that can be re-run.

An import reads a file row by row, turns each row into a :class:`MentionRecord` and
stores new ones in chunks. Each chunk is one transaction that also updates the
import batch's counters, so a crash half-way keeps what was committed and a re-run
skips it as duplicates. With ``strict`` the whole file is one transaction and the
first bad row stops it with nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from klopt import audit
from klopt.errors import ImportInterrupted, KloptError, MissingColumn
from klopt.organizations import find_organization
from klopt.sources.base import BadRow, ColumnMapping, MentionRecord, RawRow, RowProblem, reader_for
from klopt.store import Store
from klopt.store.models import ImportBatch, Post, utcnow

__all__ = ["ImportResult", "import_mentions"]

CHUNK = 1000
MAX_PROBLEMS_KEPT = 1000


@dataclass
class ImportResult:
    """What an import did, row by row."""

    batch_id: int
    source: str
    format: str
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    naive_times: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def import_mentions(
    store: Store,
    org_ref: str | None,
    path: Path,
    mapping: ColumnMapping,
    *,
    actor: str,
    format: str | None = None,
    encoding: str = "utf-8-sig",
    strict: bool = False,
    kind: str = "mention",
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import mentions (or own posts, with ``kind="own"``) from a file."""
    path = Path(path)
    name, reader = reader_for(path, format)
    rows = reader(path, encoding)
    with store.session() as session:
        org_id = find_organization(session, org_ref).id
        batch = ImportBatch(organization_id=org_id, source=str(path), format=name)
        session.add(batch)
        session.flush()
        result = ImportResult(batch.id, str(path), name)
    records = _records(rows, mapping, result, strict, name)
    try:
        _run(store, org_id, records, result, kind=kind, strict=strict, progress=progress)
    except KloptError:
        with store.session() as session:
            _update_batch(session, result, "failed")
        raise
    with store.session() as session:
        _finish(session, result, actor, org_id)
    return result


def _run(
    store: Store,
    org_id: int,
    records: Iterable[MentionRecord],
    result: ImportResult,
    *,
    kind: str,
    strict: bool,
    progress: Callable[[int], None] | None,
) -> None:
    if strict:
        with store.session() as session:
            for chunk in _chunks(records, CHUNK):
                _store_chunk(session, org_id, chunk, result, kind)
                if progress:
                    progress(len(chunk))
        return
    for chunk in _chunks(records, CHUNK):
        with store.session() as session:
            _store_chunk(session, org_id, chunk, result, kind)
            _update_batch(session, result, "running")
        if progress:
            progress(len(chunk))


def _records(
    rows: Iterable[RawRow | BadRow],
    mapping: ColumnMapping,
    result: ImportResult,
    strict: bool,
    format: str,
) -> Iterator[MentionRecord]:
    checked = False
    for row in rows:
        if isinstance(row, RawRow) and "__header__" in row.fields:
            _check_columns(list(row.fields["__header__"]), mapping)
            checked = True
            continue
        result.read += 1
        try:
            if isinstance(row, BadRow):
                raise row
            if not checked:
                _check_columns(list(row.fields), mapping, first_record=True)
                checked = True
            record = mapping.to_record(row)
        except ValueError as exc:
            line = row.line
            problem = RowProblem.of(line, exc)
            if strict:
                if format == "json":
                    raise ImportInterrupted.keyed(
                        "mentions.strict_record", line=line, reason=problem
                    ) from exc
                raise ImportInterrupted.keyed(
                    "mentions.strict_line", line=line, reason=problem
                ) from exc
            result.skipped += 1
            if len(result.problems) < MAX_PROBLEMS_KEPT:
                result.problems.append(problem)
            continue
        result.naive_times += record.naive_time
        yield record


def _check_columns(columns: list[str], mapping: ColumnMapping, first_record: bool = False) -> None:
    missing = {role: col for role, col in mapping.columns().items() if col not in columns}
    if first_record:
        # JSON records may leave optional fields out; only the text must be there.
        missing = {role: col for role, col in missing.items() if role == "text"}
    if missing:
        role, column = next(iter(missing.items()))
        shown = ", ".join(columns[:12]) + (" ..." if len(columns) > 12 else "")
        raise MissingColumn.keyed(
            "mentions.missing_column", role=role, column=column, columns=shown
        )


def _chunks(records: Iterable[MentionRecord], size: int) -> Iterator[list[MentionRecord]]:
    chunk: list[MentionRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _store_chunk(
    session: Session, org_id: int, chunk: list[MentionRecord], result: ImportResult, kind: str
) -> None:
    keys = {(r.platform, r.external_id) for r in chunk}
    existing = set(
        session.execute(
            select(Post.platform, Post.external_id).where(
                Post.organization_id == org_id,
                tuple_(Post.platform, Post.external_id).in_(list(keys)),
            )
        ).tuples()
    )
    for record in chunk:
        key = (record.platform, record.external_id)
        if key in existing:
            result.duplicates += 1
            continue
        existing.add(key)
        session.add(
            Post(
                organization_id=org_id,
                kind=kind,
                platform=record.platform,
                external_id=record.external_id,
                content_hash=record.content_hash,
                author=record.author,
                posted_at=record.posted_at,
                url=record.url,
                reach=record.reach,
                language=record.language,
                text=record.text,
                raw=dict(record.raw),  # readers give JSON values (CSV: strings)
                import_batch_id=result.batch_id,
            )
        )
        result.imported += 1
    session.flush()


def _update_batch(session: Session, result: ImportResult, status: str) -> None:
    batch = session.get_one(ImportBatch, result.batch_id)
    batch.status = status
    batch.rows_read = result.read
    batch.rows_imported = result.imported
    batch.rows_duplicate = result.duplicates
    batch.rows_skipped = result.skipped
    batch.problems = [
        {"line": p.line, "reason": p.reason, "key": p.key, "values": dict(p.values)}
        for p in result.problems
    ]


def _finish(session: Session, result: ImportResult, actor: str, org_id: int) -> None:
    _update_batch(session, result, "done")
    session.get_one(ImportBatch, result.batch_id).finished_at = utcnow()
    audit.record(
        session,
        organization_id=org_id,
        actor=actor,
        action="mentions.import",
        subject_type="import_batch",
        subject_id=result.batch_id,
        source=result.source,
        imported=result.imported,
        duplicates=result.duplicates,
        skipped=result.skipped,
    )
