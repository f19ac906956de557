"""Bringing mentions into the store: mapping, dedup, batches that can be re-run.

An import reads a file row by row, turns each row into a :class:`MentionRecord` and
stores new ones in chunks. Each chunk is one transaction that also updates the
import batch's counters, so a crash half-way keeps what was committed and a re-run
skips it as duplicates. With ``strict`` the whole file is one transaction and the
first bad row stops it with nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import ImportInterrupted, KloptError, MissingColumn
from klopt.listening.base import (
    BadRow,
    ColumnMapping,
    MentionRecord,
    RawRow,
    Reader,
    RowProblem,
    reader_for,
)
from klopt.listening.files import decoding
from klopt.store import Store
from klopt.store.locks import hold, is_held
from klopt.store.models import ImportBatch, Post, utcnow

__all__ = [
    "ImportResult",
    "import_mentions",
    "store_records",
    "update_batch",
    "check_columns",
    "batch_lock",
    "mark_interrupted",
    "map_rows",
    "store_chunked",
    "failing",
    "finish_import",
    "start_import",
    "SAME_TEXT_MIN",
]

CHUNK = 1000
#: Readers whose row numbers are line numbers; the others count records.
LINE_FORMATS = ("csv", "ndjson")
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
    #: The encoding the file was read in when it was not the one asked for (cp1252, utf-16).
    encoding: str | None = None
    #: Lines read with a remark (not UTF-8, NUL bytes removed): their rows were imported.
    notes: list[RowProblem] = field(default_factory=list)
    noted: int = 0
    #: Batches of earlier runs that had died half-way, now marked ``interrupted``.
    interrupted: list[int] = field(default_factory=list)


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
    reader: Reader | None = None,
) -> ImportResult:
    """Import mentions (or own posts, with ``kind="own"``) from a file.

    ``reader`` reads the file instead of the registered reader named ``format`` (an
    import preset's reader, see :func:`klopt.listening.presets.plan_import`).
    """
    path = Path(path)
    name, reader = (format or "csv", reader) if reader else reader_for(path, format)
    rows = reader(path, encoding)
    with ExitStack() as running:
        org_id, result = start_import(store, org_ref, path, name, actor, running)
        records = map_rows(rows, mapping, result, strict, name)
        with failing(store, result):
            store_chunked(
                store, org_id, records, result, kind=kind, strict=strict, progress=progress
            )
        finish_import(store, result, actor, org_id, path, encoding)
    return result


@contextmanager
def failing(store: Store, result: ImportResult) -> Iterator[None]:
    """Mark the batch ``failed`` when the block raises a :class:`KloptError` (what it
    committed stays), and raise it on."""
    try:
        yield
    except KloptError:
        with store.session() as session:
            update_batch(session, result, "failed")
        raise


def start_import(
    store: Store, org_ref: str | None, path: Path, format: str, actor: str, running: ExitStack
) -> tuple[int, ImportResult]:
    """Check that ``actor`` may import, mark the organisation's dead runs ``interrupted``,
    and open the import batch, locked in ``running`` while the import runs; returns the
    organisation's id and the (empty) result."""
    with store.session() as session:
        org_id = find_organization(session, org_ref).id
        authorize(session, org_id, actor, "mentions.import")
        interrupted = mark_interrupted(session, store, org_id)
        batch = ImportBatch(organization_id=org_id, source=str(path), format=format)
        session.add(batch)
        session.flush()
        # Locked before the batch is committed: no run ever sees it running unlocked.
        running.enter_context(hold(store, batch_lock(batch.id)))
        return org_id, ImportResult(batch.id, str(path), format, interrupted=interrupted)


def finish_import(
    store: Store, result: ImportResult, actor: str, org_id: int, path: Path, encoding: str
) -> None:
    """Close the batch as done, with the file's encoding remarks, and audit the import."""
    if path.is_file():
        read = decoding(path, encoding)
        result.encoding, result.notes, result.noted = read.encoding, read.notes, read.noted
    with store.session() as session:
        _finish(session, result, actor, org_id)


def batch_lock(batch_id: int) -> str:
    """The name of the lock that the run of an import batch holds while it runs."""
    return f"import-batch-{batch_id}"


def mark_interrupted(session: Session, store: Store, org_id: int) -> list[int]:
    """Mark the organisation's batches ``interrupted`` that are ``running`` but whose run
    is gone (killed, crashed: nobody holds their lock). What they stored stays.

    Returns:
        The ids of the batches marked.
    """
    marked = []
    query = select(ImportBatch).where(
        ImportBatch.organization_id == org_id, ImportBatch.status == "running"
    )
    for batch in session.scalars(query):
        if not is_held(store, batch_lock(batch.id)):
            batch.status = "interrupted"
            marked.append(batch.id)
    return marked


def store_chunked(
    store: Store,
    org_id: int,
    records: Iterable[MentionRecord],
    result: ImportResult,
    *,
    kind: str,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Store ``records`` in chunks of :data:`CHUNK`, each one transaction that also writes
    the batch's counters (with ``strict``: all in one transaction)."""
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
            update_batch(session, result, "running")
        if progress:
            progress(len(chunk))


def map_rows(
    rows: Iterable[RawRow | BadRow],
    mapping: ColumnMapping,
    result: ImportResult,
    strict: bool,
    format: str,
    checked: bool = False,
) -> Iterator[MentionRecord]:
    """The records of ``rows``, counting what was read and skipped in ``result``.

    The header (or else the first record) is checked for the mapping's columns, unless
    ``checked`` says it was already (rows that continue a file).
    """
    for row in rows:
        if isinstance(row, RawRow) and "__header__" in row.fields:
            check_columns(list(row.fields["__header__"]), mapping)
            checked = True
            continue
        result.read += 1
        try:
            if isinstance(row, BadRow):
                raise row
            if not checked:
                check_columns(list(row.fields), mapping, first_record=True)
                checked = True
            record = mapping.to_record(row)
        except ValueError as exc:
            line = row.line
            problem = RowProblem.of(line, exc)
            if strict:
                if format not in LINE_FORMATS:
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


def check_columns(columns: list[str], mapping: ColumnMapping, first_record: bool = False) -> None:
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
    store_records(session, org_id, chunk, result, kind)


def store_records(
    session: Session,
    org_id: int,
    records: Sequence[MentionRecord],
    result: ImportResult,
    kind: str,
) -> list[int]:
    """Store the records that are not in the store yet; count the rest.

    A record is already there (``result.duplicates``) when the organisation has a post

    - with the same platform and external id, or
    - with the same URL (the same post seen through two sources), or
    - with the same text (:func:`content_hash`) by the same author within a day, or, when
      an author is unknown, with the same text of at least :data:`SAME_TEXT_MIN` characters
      within a day: a listening tool's copy of a post that a connector also fetched.

    Returns:
        The ids of the posts added, in the records' order.
    """
    keys = {(r.platform, r.external_id) for r in records}
    # Two IN lists, not a tuple IN: SQLite searches the unique index on both columns
    # only this way (a tuple IN scans all of the organisation's posts, every chunk).
    existing = keys & set(
        session.execute(
            select(Post.platform, Post.external_id).where(
                Post.organization_id == org_id,
                Post.platform.in_({platform for platform, _ in keys}),
                Post.external_id.in_({external for _, external in keys}),
            )
        ).tuples()
    )
    urls = {variant for r in records if r.url for variant in _url_variants(r.url)}
    known_urls = set(
        session.scalars(select(Post.url).where(Post.organization_id == org_id, Post.url.in_(urls)))
        if urls
        else []
    )
    same_text: dict[str, list[tuple[str | None, datetime | None]]] = {}
    for digest, author, posted_at in session.execute(
        select(Post.content_hash, Post.author, Post.posted_at).where(
            Post.organization_id == org_id,
            Post.content_hash.in_({r.content_hash for r in records}),
        )
    ).tuples():
        same_text.setdefault(digest, []).append((author, posted_at))
    rows: list[dict[str, object]] = []
    for record in records:
        key = (record.platform, record.external_id)
        if (
            key in existing
            or (record.url and not known_urls.isdisjoint(_url_variants(record.url)))
            or _seen_text(record, same_text.get(record.content_hash, []))
        ):
            result.duplicates += 1
            continue
        existing.add(key)
        if record.url:
            known_urls.update(_url_variants(record.url))
        same_text.setdefault(record.content_hash, []).append((record.author, record.posted_at))
        rows.append(
            {
                "organization_id": org_id,
                "kind": kind,
                "platform": record.platform,
                "external_id": record.external_id,
                "content_hash": record.content_hash,
                "author": record.author,
                "posted_at": record.posted_at,
                "url": record.url,
                "reach": record.reach,
                "language": record.language,
                "text": record.text,
                "raw": dict(record.raw),  # readers give JSON values (CSV: strings)
                "import_batch_id": result.batch_id,
                "created_at": utcnow(),
            }
        )
    if not rows:
        return []
    # Core INSERT ... RETURNING in batches: several times faster than the ORM unit of work.
    ids = session.scalars(insert(Post).returning(Post.id, sort_by_parameter_order=True), rows).all()
    result.imported += len(rows)
    return list(ids)


#: The shortest text that is the same post by its text alone (when an author is unknown).
SAME_TEXT_MIN = 40
_SAME_TEXT_WINDOW = timedelta(days=1)


def _url_variants(url: str) -> set[str]:
    """The URL as given and with or without its trailing slash."""
    url = url.strip()
    bare = url.rstrip("/")
    return {url, bare, bare + "/"}


def _author(name: str | None) -> str | None:
    """``@Anna@mastodon.social``, ``anna`` and ``@anna`` are one author."""
    if not name or not name.strip():
        return None
    return name.strip().lstrip("@").split("@")[0].casefold()


def _seen_text(record: MentionRecord, seen: list[tuple[str | None, datetime | None]]) -> bool:
    author = _author(record.author)
    for other_author, other_time in seen:
        apart = (
            abs(_aware(record.posted_at) - _aware(other_time))
            if record.posted_at and other_time
            else None
        )
        if apart is not None and apart > _SAME_TEXT_WINDOW:
            continue
        other = _author(other_author)
        if author and other:
            if author == other:
                return True
        elif len(record.text) >= SAME_TEXT_MIN:
            return True
    return False


def _aware(stamp: datetime) -> datetime:
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def update_batch(session: Session, result: ImportResult, status: str) -> None:
    """Write the counters and kept problems of ``result`` to its import batch."""
    batch = session.get_one(ImportBatch, result.batch_id)
    batch.status = status
    batch.rows_read = result.read
    batch.rows_imported = result.imported
    batch.rows_duplicate = result.duplicates
    batch.rows_skipped = result.skipped
    batch.problems = [
        {"line": p.line, "reason": p.reason, "key": p.key, "values": dict(p.values)}
        | ({"file": p.file} if p.file else {})
        for p in result.problems
    ]


def _finish(session: Session, result: ImportResult, actor: str, org_id: int) -> None:
    update_batch(session, result, "done")
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
