"""The register as a person reviews it: each promise with its sources in their context,
and every document with all its versions.

A source is shown as the sentence within its paragraph (:class:`Passage`), cut from the
stored text of the version it was read from, so a reviewer sees what the sentence says in
its place. The web pages (and anything else that shows the register) read from here;
the decisions themselves are in :mod:`klopt.register.decisions`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts.organizations import find_organization
from klopt.errors import InputError, NotFound
from klopt.register.decisions import (
    STATUSES,
    PromiseView,
    SourceView,
    find_promise,
    promise_keys,
    register_order,
    view,
)
from klopt.store import Store
from klopt.store.models import DocumentVersion, Promise, SourceDocument

__all__ = [
    "Passage",
    "SourceEntry",
    "PromiseEntry",
    "RegisterOverview",
    "VersionInfo",
    "DocumentHistory",
    "passage",
    "register_overview",
    "promise_entry",
    "merge_targets",
    "document_histories",
    "document_history",
]

#: The most characters shown on either side of a sentence within its paragraph.
CONTEXT = 320


@dataclass(frozen=True)
class Passage:
    """A sentence within its paragraph: the text before it, the sentence, the text after."""

    before: str
    sentence: str
    after: str


@dataclass(frozen=True)
class SourceEntry:
    """One source of a promise, with the stored document it is in and its passage.

    ``document_id`` and ``passage`` are ``None`` for a source without a stored version
    (a register imported from a file names its documents but does not hold them).
    """

    source: SourceView
    document_id: int | None
    passage: Passage | None


@dataclass(frozen=True)
class PromiseEntry:
    """A promise and its sources in context."""

    promise: PromiseView
    sources: tuple[SourceEntry, ...]


@dataclass(frozen=True)
class RegisterOverview:
    """What the register page shows.

    Attributes:
        proposals: the proposed promises, best-scored first (as ``klopt promises review``).
        promises: the register, in register order: the approved promises, or those of
            the status asked for; for ``"all"`` every promise that is not proposed (the
            proposals are listed apart).
        counts: how many promises have each status.
        targets: (key, statement) of every promise another can be merged into.
    """

    proposals: tuple[PromiseEntry, ...]
    promises: tuple[PromiseEntry, ...]
    counts: dict[str, int]
    targets: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class VersionInfo:
    """One stored version of a document."""

    version: int
    title: str
    language: str
    sentences: int
    sha256: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class DocumentHistory:
    """A source document and its versions, newest first."""

    id: int
    name: str
    kind: str
    versions: tuple[VersionInfo, ...]

    @property
    def latest(self) -> VersionInfo:
        """The newest version."""
        return self.versions[0]


def passage(text: str, start: int | None, end: int | None, limit: int = CONTEXT) -> Passage | None:
    """The sentence ``text[start:end]`` within its paragraph (a block of ``text``, which
    puts each heading, paragraph and list item on its own line); ``None`` if the offsets
    do not fit the text. Long paragraphs are cut to ``limit`` characters either side."""
    if start is None or end is None or not 0 <= start < end <= len(text):
        return None
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    last = len(text) if last == -1 else last
    before, after = text[first:start], text[end:last]
    if len(before) > limit:
        before = "…" + before[-limit:].lstrip()
    if len(after) > limit:
        after = after[:limit].rstrip() + "…"
    return Passage(before, text[start:end], after)


class _Texts:
    """The stored text of each version, read once per request."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[int, tuple[int, str]] = {}

    def get(self, version_id: int) -> tuple[int, str] | None:
        if version_id not in self.cache:
            row = self.session.execute(
                select(DocumentVersion.document_id, DocumentVersion.text).where(
                    DocumentVersion.id == version_id
                )
            ).first()
            if row is None:
                return None
            self.cache[version_id] = (row[0], row[1])
        return self.cache[version_id]


def _entry(promise: Promise, keys: dict[int, str], texts: _Texts) -> PromiseEntry:
    shown = view(promise, keys)
    entries = []
    for stored, source in zip(promise.sources, shown.sources, strict=True):
        found = texts.get(stored.document_version_id) if stored.document_version_id else None
        if found is None:
            entries.append(SourceEntry(source, None, None))
            continue
        document_id, text = found
        cut = passage(text, stored.char_start, stored.char_end)
        if cut is not None and cut.sentence != stored.sentence:
            cut = None  # offsets of another text: show the sentence alone
        entries.append(SourceEntry(source, document_id, cut))
    return PromiseEntry(shown, tuple(entries))


def register_overview(
    store: Store, org_ref: str | None, *, status: str | None = None
) -> RegisterOverview:
    """The proposals best-first and the register (approved, or ``status``; ``"all"``).

    Raises:
        InputError: ``status`` is not a status.
    """
    if status is not None and status != "all" and status not in STATUSES:
        raise InputError.keyed("promise.not_a_status", status=status, choices=", ".join(STATUSES))
    with store.session() as session:
        org = find_organization(session, org_ref)
        promises = sorted(
            session.scalars(select(Promise).where(Promise.organization_id == org.id)),
            key=register_order,
        )
        keys = promise_keys(session, org.id)
        texts = _Texts(session)
        counts = Counter(p.status for p in promises)
        proposed = [p for p in promises if p.status == "proposed"]
        proposed.sort(key=lambda p: -(p.score or 0.0))  # stable: ties in register order
        wanted = status or "approved"
        shown = [
            p
            for p in promises
            if p.status == wanted or (wanted == "all" and p.status != "proposed")
        ]
        return RegisterOverview(
            proposals=tuple(_entry(p, keys, texts) for p in proposed),
            promises=tuple(_entry(p, keys, texts) for p in shown),
            counts={s: counts.get(s, 0) for s in STATUSES},
            targets=_targets(promises),
        )


def _targets(promises: list[Promise]) -> tuple[tuple[str, str], ...]:
    return tuple((p.key, p.statement) for p in promises if p.status != "merged")


def merge_targets(store: Store, org_ref: str | None) -> tuple[tuple[str, str], ...]:
    """(key, statement) of every promise another can be merged into, in register order."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        promises = session.scalars(select(Promise).where(Promise.organization_id == org.id))
        return _targets(sorted(promises, key=register_order))


def promise_entry(store: Store, org_ref: str | None, key: str) -> PromiseEntry:
    """One promise with its sources in context.

    Raises:
        UnknownPromise: the organisation has no promise ``key``.
    """
    with store.session() as session:
        org = find_organization(session, org_ref)
        promise = find_promise(session, org.id, key)
        return _entry(promise, promise_keys(session, org.id), _Texts(session))


def _history(document: SourceDocument) -> DocumentHistory:
    versions = sorted(document.versions, key=lambda v: -v.version)
    return DocumentHistory(
        id=document.id,
        name=document.name,
        kind=document.kind,
        versions=tuple(
            VersionInfo(
                version=v.version,
                title=v.title,
                language=v.language,
                sentences=len(v.sentences or ()),
                sha256=v.sha256,
                added_by=v.added_by,
                added_at=v.added_at,
            )
            for v in versions
        ),
    )


def document_histories(store: Store, org_ref: str | None) -> list[DocumentHistory]:
    """Every document of the organisation with its versions, by name."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        documents = session.scalars(
            select(SourceDocument)
            .where(SourceDocument.organization_id == org.id)
            .order_by(SourceDocument.name)
        )
        return [_history(d) for d in documents if d.versions]


def document_history(store: Store, org_ref: str | None, document_id: int) -> DocumentHistory:
    """One document of the organisation by its id.

    Raises:
        NotFound: the organisation has no document with that id (another one's is not
            found either).
    """
    with store.session() as session:
        org = find_organization(session, org_ref)
        document = session.scalar(
            select(SourceDocument).where(
                SourceDocument.organization_id == org.id, SourceDocument.id == document_id
            )
        )
        if document is None or not document.versions:
            raise NotFound.keyed("document.unknown_id", id=document_id)
        return _history(document)
