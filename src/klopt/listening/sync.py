"""Sources of an organisation: add, list, remove, and sync them, one or all, once or on
their schedule.

A sync run reads a source page by page (:class:`klopt.listening.source.Page`). Each page is
one transaction: its new records, the import batch's counters and the source's cursor
are committed together, so the cursor never runs ahead of what is stored. A crash or a
kill half-way keeps the pages committed before it; the next run starts at their cursor
and skips anything stored twice (:func:`klopt.listening.mentions.store_records`).

Every run leaves a status on the source: when it last ran and last succeeded, the last
error in words (rate limited until when, refused credentials, a feed that is a web
page ...), the items it brought in. One failing source never stops the others.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import InputError, KloptError, RateLimited, SourceExists, UnknownSource
from klopt.listening.base import RowProblem
from klopt.listening.http import Http
from klopt.listening.mentions import (
    MAX_PROBLEMS_KEPT,
    ImportResult,
    batch_lock,
    mark_interrupted,
    store_records,
    update_batch,
)
from klopt.listening.source import SourceContext, source_kind
from klopt.store import Store
from klopt.store.locks import hold
from klopt.store.models import ImportBatch, ListeningSource, utcnow

__all__ = [
    "SourceInfo",
    "SyncResult",
    "add_source",
    "list_sources",
    "remove_source",
    "sync_source",
    "sync_sources",
    "watch",
]

HttpFactory = Callable[[], Http]


@dataclass(frozen=True)
class SourceInfo:
    """A source as ``klopt sources list`` shows it."""

    name: str
    kind: str
    own: bool
    config: Mapping[str, Any]
    interval: int
    status: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: KloptError | None
    next_run_at: datetime | None
    items_total: int
    last_run_items: int
    removed: bool


@dataclass
class SyncResult:
    """What one run of one source did."""

    source: str
    status: str = "ok"  # ok, error, rate_limited
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    pages: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    error: KloptError | None = None


_NAME = re.compile(r"[\w][\w.\-]{0,99}")


# --- managing sources --------------------------------------------------------------------


def add_source(
    store: Store,
    org_ref: str | None,
    name: str,
    kind: str,
    options: Mapping[str, Any],
    *,
    actor: str,
    own: bool = False,
    interval: int | None = None,
) -> SourceInfo:
    """Add a source to the organisation, its settings checked by its kind.

    Raises:
        InputError: a bad name, an unknown kind or a bad setting (the message says which).
        SourceExists: the organisation already has a source of this name.
    """
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise InputError.keyed("source.bad_name", name=name)
    cls = source_kind(kind)
    config = cls.configure(options)
    own = own or config.get("own") is True  # a kind may know its items are own posts
    seconds = interval if interval is not None else int(cls.default_interval)
    if seconds < 60:
        raise InputError.keyed("source.bad_interval", seconds=seconds)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "sources.manage")
        if _find(session, org.id, name, removed=True) is not None:
            raise SourceExists.keyed("source.exists", name=name)
        row = ListeningSource(
            organization_id=org.id,
            name=name,
            kind=kind,
            config=config,
            own=own,
            interval=seconds,
            status="new",
            items_total=0,
            last_run_items=0,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            organization_id=org.id,
            actor=actor,
            action="source.add",
            subject_type="source",
            subject_id=name,
            kind=kind,
            own=own,
            config=config,
        )
        return _info(row)


def list_sources(store: Store, org_ref: str | None, *, removed: bool = False) -> list[SourceInfo]:
    """The organisation's sources by name (removed ones only when asked)."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        query = select(ListeningSource).where(ListeningSource.organization_id == org.id)
        if not removed:
            query = query.where(ListeningSource.removed_at.is_(None))
        return [_info(row) for row in session.scalars(query.order_by(ListeningSource.name))]


def remove_source(store: Store, org_ref: str | None, name: str, *, actor: str) -> None:
    """Stop listening to a source. Its mentions stay, and so does its record: the name
    cannot be used again, so the audit trail keeps meaning one thing."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "sources.manage")
        row = _get(session, org.id, name)
        row.removed_at = utcnow()
        row.next_run_at = None
        audit.record(
            session,
            organization_id=org.id,
            actor=actor,
            action="source.remove",
            subject_type="source",
            subject_id=name,
            items_total=row.items_total,
        )


# --- syncing -----------------------------------------------------------------------------


def sync_source(
    store: Store,
    org_ref: str | None,
    name: str,
    *,
    actor: str,
    since: datetime | None = None,
    http: HttpFactory = Http,
    progress: Callable[[int], None] | None = None,
) -> SyncResult:
    """Bring in what is new at one source; the error (if any) is in the result, not raised.

    Args:
        since: fetch nothing older than this; on a source that has synced before, a
            ``since`` earlier than its cursor fetches the gap again (duplicates skipped).
        http: makes the HTTP client of this run (tests pass one with a fake clock).
        progress: called with the number of items of each stored page.

    Raises:
        UnknownSource: the organisation has no (active) source of this name.
    """
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "sources.sync")
        row = _get(session, org.id, name)
        org_id, source_id, kind, own = org.id, row.id, row.kind, row.own
        config, cursor = dict(row.config), dict(row.cursor) if row.cursor else None
        row.status = "running"
        row.last_run_at = utcnow()
        mark_interrupted(session, store, org_id)
        batch = ImportBatch(
            organization_id=org_id, source=f"source:{name}", format=kind, source_id=source_id
        )
        session.add(batch)
        session.flush()
        counts = ImportResult(batch.id, f"source:{name}", kind)
        running = ExitStack()  # the batch's lock while it runs, taken before it is committed
        running.enter_context(hold(store, batch_lock(batch.id)))
    if since is not None:
        cursor = None  # start over from `since`; what is stored already is skipped
    result = SyncResult(name)
    client = http()
    try:
        context = SourceContext(client, name=name, since=since, own=own)
        source = source_kind(kind)(config, context)
        for page in source.pages(cursor):
            with store.session() as session:
                added = store_records(
                    session, org_id, list(page.records), counts, "own" if own else "mention"
                )
                counts.read += len(page.records) + len(page.problems)
                counts.skipped += len(page.problems)
                room = MAX_PROBLEMS_KEPT - len(counts.problems)
                counts.problems += list(page.problems)[: max(0, room)]
                update_batch(session, counts, "running")
                row = session.get_one(ListeningSource, source_id)
                if page.cursor is not None:
                    row.cursor = dict(page.cursor)
                row.items_total += len(added)
            result.pages += 1
            if progress:
                progress(len(page.records))
    except KloptError as exc:
        result.error = exc
        result.status = "rate_limited" if isinstance(exc, RateLimited) else "error"
    finally:
        client.close()
        running.close()
    result.imported, result.duplicates = counts.imported, counts.duplicates
    result.skipped, result.problems = counts.skipped, counts.problems
    with store.session() as session:
        _finish(session, source_id, counts, result, actor, org_id, name)
    return result


def sync_sources(
    store: Store,
    org_ref: str | None,
    *,
    actor: str,
    due_only: bool = False,
    since: datetime | None = None,
    http: HttpFactory = Http,
    on_source: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[SyncResult]:
    """Sync every active source (or only those whose next run is due), one after the
    other; a source that fails is reported in its result and the others still run."""
    now = utcnow()
    with store.session() as session:  # before the first source: one refusal, not one each
        authorize(session, find_organization(session, org_ref).id, actor, "sources.sync")
    names = [
        s.name
        for s in list_sources(store, org_ref)
        if not due_only or s.next_run_at is None or s.next_run_at <= now
    ]
    results = []
    for name in names:
        if on_source:
            on_source(name)
        results.append(
            sync_source(
                store, org_ref, name, actor=actor, since=since, http=http, progress=progress
            )
        )
    return results


def watch(
    store: Store,
    org_ref: str | None,
    *,
    actor: str,
    stop: Callable[[], bool],
    on_results: Callable[[list[SyncResult]], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    http: HttpFactory = Http,
    tick: float = 5.0,
    each_tick: Callable[[], object] | None = None,
) -> None:
    """Run each source on its schedule until ``stop()`` says so (``klopt sync --watch``);
    ``each_tick`` runs first in every tick (the CLI publishes what is due there)."""
    while not stop():
        if each_tick is not None:
            each_tick()
        results = sync_sources(store, org_ref, actor=actor, due_only=True, http=http)
        if results and on_results:
            on_results(results)
        if stop():
            return
        sleep(tick)


# --- internals ---------------------------------------------------------------------------


def _find(session: Session, org_id: int, name: str, *, removed: bool) -> ListeningSource | None:
    query = select(ListeningSource).where(
        ListeningSource.organization_id == org_id, ListeningSource.name == name
    )
    if not removed:
        query = query.where(ListeningSource.removed_at.is_(None))
    return session.scalar(query)


def _get(session: Session, org_id: int, name: str) -> ListeningSource:
    row = _find(session, org_id, name, removed=False)
    if row is None:
        raise UnknownSource.keyed("source.unknown", name=name)
    return row


def _finish(
    session: Session,
    source_id: int,
    counts: ImportResult,
    result: SyncResult,
    actor: str,
    org_id: int,
    name: str,
) -> None:
    update_batch(session, counts, "done" if result.error is None else "failed")
    session.get_one(ImportBatch, counts.batch_id).finished_at = utcnow()
    row = session.get_one(ListeningSource, source_id)
    now = utcnow()
    row.last_run_items = counts.imported
    row.status = result.status
    row.next_run_at = now + timedelta(seconds=row.interval)
    if result.error is None:
        row.last_success_at = now
    else:
        row.last_error_at = now
        row.last_error = _error_json(result.error)
        until = getattr(result.error, "until", None)
        if isinstance(until, datetime) and until > row.next_run_at:
            row.next_run_at = until
    audit.record(
        session,
        organization_id=org_id,
        actor=actor,
        action="source.sync",
        subject_type="source",
        subject_id=name,
        status=result.status,
        imported=counts.imported,
        duplicates=counts.duplicates,
        skipped=counts.skipped,
        error=result.error.key if result.error is not None else None,
    )


def _error_json(error: KloptError) -> dict[str, Any]:
    """An error as the store keeps it: its key and values (shown later in any language)."""
    return {
        "key": error.key,
        "values": {k: str(v) for k, v in error.values.items()},
        "message": str(error),
    }


def _error_from_json(data: Mapping[str, Any] | None) -> KloptError | None:
    if not data:
        return None
    if data.get("key"):
        return KloptError.stored(str(data["key"]), dict(data.get("values") or {}))
    return KloptError(str(data.get("message", "")))


def _info(row: ListeningSource) -> SourceInfo:
    return SourceInfo(
        name=row.name,
        kind=row.kind,
        own=row.own,
        config=dict(row.config),
        interval=row.interval,
        status=row.status,
        last_run_at=row.last_run_at,
        last_success_at=row.last_success_at,
        last_error_at=row.last_error_at,
        last_error=_error_from_json(row.last_error),
        next_run_at=row.next_run_at,
        items_total=row.items_total,
        last_run_items=row.last_run_items,
        removed=row.removed_at is not None,
    )
