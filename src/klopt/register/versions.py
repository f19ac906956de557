"""Source documents and their versions, and what a new version does to the register.

Re-adding a changed document stores a new version and compares the promises it proposes
with the promises sourced from the version before: the same sentence is *unchanged* (the
source moves on to the new version), a similar sentence with other wording is *changed*,
a sentence no longer there *went*, and a proposal nobody made before *came*. Promises
whose sentence changed or went are flagged, never deleted; the diff is an audit event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import InputError, NotFound
from klopt.register.decisions import normal
from klopt.store import Store
from klopt.store.models import AuditEvent, DocumentVersion, PromiseSource, SourceDocument

__all__ = [
    "DocumentAdded",
    "DocumentInfo",
    "PromiseChange",
    "VersionDiff",
    "Progress",
    "add_documents",
    "store_documents",
    "list_documents",
    "version_diff",
    "latest_versions",
    "stored_document",
]

Progress = Callable[[int, int], None]
"""``progress(done, total)`` while a long document is read."""


@dataclass(frozen=True)
class PromiseChange:
    """One line of a version diff: a promise (or a new proposal) and its sentences."""

    change: str  # unchanged, changed, went, came
    key: str | None
    before: str | None
    after: str | None


@dataclass(frozen=True)
class VersionDiff:
    """What a new version of a document did to the promises of the version before."""

    document: str
    old_version: int
    new_version: int
    changes: tuple[PromiseChange, ...] = ()

    def count(self, change: str) -> int:
        """How many lines of the diff are of kind ``change``."""
        return sum(1 for c in self.changes if c.change == change)


@dataclass(frozen=True)
class DocumentAdded:
    """What happened to one document given to ``klopt docs add``."""

    name: str
    version: int
    changed: bool
    sentences: int
    language: str
    diff: VersionDiff | None = field(default=None)
    notes: tuple[Any, ...] = ()
    """How the document was read (:class:`klopt.register.documents.Note`), e.g. pages
    without text."""


@dataclass(frozen=True)
class DocumentInfo:
    """The newest version of a stored document."""

    name: str
    version: int
    kind: str
    language: str
    added_at: Any


_NAME_LIMIT = 300  # SourceDocument.name


def add_documents(
    store: Store,
    org_ref: str | None,
    paths: Sequence[Path],
    *,
    actor: str,
    progress: Callable[[str], Progress | None] | None = None,
) -> list[DocumentAdded]:
    """Read and store documents; a changed document becomes a new version with a diff.

    All documents are read before anything is stored, so one unreadable file leaves the
    store unchanged. A URL list file (``.urls``) stands for the saved pages it lists;
    each is stored under its address. ``progress(name)`` may return a ``(done, total)``
    callback for the reading of that document.
    """
    from klopt.register.documents import document_sources, read_document

    with store.session() as session:  # before the reading, which may take a while
        authorize(session, find_organization(session, org_ref).id, actor, "register.propose")
    texts = [
        read_document(
            file,
            name=name,
            progress=progress(name or file.name) if progress else None,
        )
        for file, name in document_sources(Path(p) for p in paths)
    ]
    return store_documents(store, org_ref, texts, actor=actor)


def store_documents(
    store: Store, org_ref: str | None, texts: Sequence[Any], *, actor: str
) -> list[DocumentAdded]:
    """Store documents already read (:class:`klopt.register.documents.DocumentText`),
    each under its ``name``: a changed one becomes a new version with a diff.

    All of them in one transaction: a name that is too long stores none.
    """
    for doc in texts:
        if len(doc.name) > _NAME_LIMIT:
            raise InputError.keyed("document.name_too_long", name=doc.name[:80], limit=_NAME_LIMIT)
    added: list[DocumentAdded] = []
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "register.propose")
        for doc in texts:
            added.append(_store_version(session, org.id, doc, actor))
    return added


def _store_version(session: Session, org_id: int, doc: Any, actor: str) -> DocumentAdded:
    name = doc.name or Path(doc.path).name
    source = session.scalar(
        select(SourceDocument).where(
            SourceDocument.organization_id == org_id, SourceDocument.name == name
        )
    )
    if source is None:
        source = SourceDocument(organization_id=org_id, name=name, kind=doc.kind)
        session.add(source)
        session.flush()
    latest = source.versions[-1] if source.versions else None
    if latest is not None and latest.sha256 == doc.sha256:
        return DocumentAdded(name, latest.version, False, len(doc.sentences), latest.language)
    version = DocumentVersion(
        document_id=source.id,
        version=(latest.version + 1) if latest else 1,
        sha256=doc.sha256,
        path=str(doc.path),
        title=doc.title,
        language=doc.language,
        text=doc.text,
        sentences=[dataclasses.asdict(s) for s in doc.sentences],
        added_by=actor,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        organization_id=org_id,
        actor=actor,
        action="document.add",
        subject_type="document",
        subject_id=name,
        version=version.version,
        sha256=doc.sha256,
    )
    diff = _diff(session, org_id, latest, version, doc, actor) if latest is not None else None
    return DocumentAdded(
        name, version.version, True, len(doc.sentences), doc.language, diff, tuple(doc.notes)
    )


def _diff(
    session: Session,
    org_id: int,
    old: DocumentVersion,
    new: DocumentVersion,
    doc: Any,
    actor: str,
) -> VersionDiff:
    """Compare the new version's proposals with the promises sourced from ``old``."""
    from klopt.register.extraction import propose_promises

    proposals = list(propose_promises(doc))
    sources = list(
        session.scalars(
            select(PromiseSource)
            .where(PromiseSource.document_version_id == old.id, PromiseSource.state == "current")
            .order_by(PromiseSource.id)
        )
    )
    by_text = {normal(s.text): s for s in doc.sentences}
    changes: list[PromiseChange] = []
    left: list[PromiseSource] = []
    for source in sources:
        sentence = by_text.get(normal(source.sentence))
        if sentence is None:
            left.append(source)
            continue
        _move(source, new, sentence)
        changes.append(PromiseChange("unchanged", source.promise.key, source.sentence, None))
    used = {normal(s.sentence) for s in sources}
    fresh = [p for p in proposals if normal(p.sentence.text) not in used]
    matches = _reworded(left, fresh)
    taken: set[int] = set()
    for source, hit in zip(left, matches, strict=True):
        promise = source.promise
        if hit is None:
            source.state = "gone"
            promise.flag = "source_gone"
            changes.append(PromiseChange("went", promise.key, source.sentence, None))
            continue
        taken.add(hit)
        proposal = fresh[hit]
        source.state = "changed"
        promise.flag = "source_changed"
        _new_source(source, new, proposal)
        changes.append(
            PromiseChange("changed", promise.key, source.sentence, proposal.sentence.text)
        )
    for i, proposal in enumerate(fresh):
        if i not in taken:
            changes.append(PromiseChange("came", None, None, proposal.text))
    result = VersionDiff(new.document.name, old.version, new.version, tuple(changes))
    audit.record(
        session,
        organization_id=org_id,
        actor=actor,
        action="document.diff",
        subject_type="document",
        subject_id=new.document.name,
        old_version=old.version,
        new_version=new.version,
        changes=[dataclasses.asdict(c) for c in changes],
    )
    return result


def _move(source: PromiseSource, new: DocumentVersion, sentence: Any) -> None:
    source.document_version = new
    source.version = new.version
    source.section = sentence.section
    source.page = sentence.page
    source.char_start = sentence.start
    source.char_end = sentence.end


def _new_source(old: PromiseSource, new: DocumentVersion, proposal: Any) -> None:
    sentence = proposal.sentence
    old.promise.sources.append(
        PromiseSource(
            document_version=new,
            document=new.document.name,
            version=new.version,
            sentence=sentence.text,
            section=sentence.section,
            page=sentence.page,
            char_start=sentence.start,
            char_end=sentence.end,
            language=old.language,
            state="current",
        )
    )


def _reworded(left: Sequence[PromiseSource], fresh: Sequence[Any]) -> list[int | None]:
    """For each old source sentence, the index of the new proposal that rewords it."""
    if not left or not fresh:
        return [None] * len(left)
    from klopt.register.duplicates import CHANGED, Wording, best_matches

    hits = best_matches(
        [Wording(s.sentence, s.document) for s in left],
        [[Wording(p.sentence.text, "new")] for p in fresh],
        fixed=CHANGED,
        guard=lambda *_: True,  # "24 uur" becoming "48 uur" is exactly a change to show
    )
    return [hit[0] if hit else None for hit in hits]


def latest_versions(session: Session, org_id: int) -> list[DocumentVersion]:
    """The newest version of every document of the organisation."""
    newest = (
        select(DocumentVersion.document_id, func.max(DocumentVersion.version).label("v"))
        .join(SourceDocument)
        .where(SourceDocument.organization_id == org_id)
        .group_by(DocumentVersion.document_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(DocumentVersion)
            .join(
                newest,
                (DocumentVersion.document_id == newest.c.document_id)
                & (DocumentVersion.version == newest.c.v),
            )
            .order_by(DocumentVersion.document_id)
        )
    )


def stored_document(version: DocumentVersion) -> Any:
    """A stored version as the :class:`klopt.register.documents.DocumentText` it was read as."""
    from klopt.register.documents import DocumentText, Sentence

    names = {f.name for f in dataclasses.fields(Sentence)}
    return DocumentText(
        path=version.path,
        title=version.title,
        kind=version.document.kind,
        text=version.text,
        language=version.language,
        sentences=tuple(
            Sentence(**{k: v for k, v in s.items() if k in names}) for s in version.sentences
        ),
        sha256=version.sha256,
    )


def list_documents(store: Store, org_ref: str | None) -> list[DocumentInfo]:
    """Every document of the organisation, at its newest version."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        return [
            DocumentInfo(v.document.name, v.version, v.document.kind, v.language, v.added_at)
            for v in latest_versions(session, org.id)
        ]


def version_diff(
    store: Store, org_ref: str | None, name: str, version: int | None = None
) -> VersionDiff:
    """The diff recorded when ``version`` (default: the newest) of a document was added.

    Raises:
        NotFound: no such document, or that version had no version before it.
    """
    with store.session() as session:
        org = find_organization(session, org_ref)
        query = (
            select(AuditEvent)
            .where(
                AuditEvent.organization_id == org.id,
                AuditEvent.action == "document.diff",
                AuditEvent.subject_id == name,
            )
            .order_by(AuditEvent.id.desc())
        )
        for event in session.scalars(query):
            if version is None or event.details.get("new_version") == version:
                return VersionDiff(
                    name,
                    int(event.details["old_version"]),
                    int(event.details["new_version"]),
                    tuple(PromiseChange(**c) for c in event.details.get("changes", [])),
                )
    shown = f"{name} v{version}" if version else name
    raise NotFound.keyed("document.no_diff", name=shown)
