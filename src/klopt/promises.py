"""The promise register: documents in, proposals out, people decide, YAML round trip.

The register is what the organisation promises; everything klopt measures is measured
against its *approved* promises. Reading documents and scoring sentences live in
:mod:`klopt.documents` and :mod:`klopt.extraction`; this module keeps the results, with
their provenance, and records every decision in the audit trail.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klopt import audit
from klopt.errors import InputError, UnknownPromise
from klopt.organizations import find_organization
from klopt.store import Store
from klopt.store.models import DocumentVersion, Promise, SourceDocument, utcnow

__all__ = [
    "STATUSES",
    "DocumentAdded",
    "PromiseView",
    "add_documents",
    "extract_promises",
    "list_promises",
    "get_promise",
    "set_status",
    "import_register",
    "export_register",
    "approved_specs",
    "find_promise",
    "register_order",
    "DocumentInfo",
    "list_documents",
]

STATUSES = ("proposed", "approved", "rejected", "retired")
_KEY = re.compile(r"^P(\d+)$")


@dataclass(frozen=True)
class DocumentAdded:
    """What happened to one document given to ``klopt docs add``."""

    name: str
    version: int
    changed: bool
    sentences: int
    language: str


@dataclass(frozen=True)
class PromiseView:
    """A promise as shown to a user, with where it came from."""

    key: str
    statement: str
    status: str
    kind: str
    theme: str | None
    score: float | None
    reasons: tuple[str, ...]
    paraphrases: tuple[str, ...]
    document: str | None
    version: int | None
    section: str | None
    page: int | None
    original_sentence: str
    sources: tuple[dict[str, Any], ...] = field(default=())


def add_documents(
    store: Store, org_ref: str | None, paths: Sequence[Path], *, actor: str
) -> list[DocumentAdded]:
    """Read and store documents; a changed document becomes a new version.

    All documents are read before anything is stored, so one unreadable file leaves
    the store unchanged.
    """
    from klopt.documents import read_document

    texts = [read_document(Path(p)) for p in paths]
    added: list[DocumentAdded] = []
    with store.session() as session:
        org = find_organization(session, org_ref)
        for doc in texts:
            added.append(_store_version(session, org.id, doc, actor))
    return added


def _store_version(session: Session, org_id: int, doc: Any, actor: str) -> DocumentAdded:
    name = Path(doc.path).name
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
    return DocumentAdded(name, version.version, True, len(doc.sentences), doc.language)


def _next_key(session: Session, org_id: int) -> int:
    keys = session.scalars(select(Promise.key).where(Promise.organization_id == org_id))
    numbers = [int(m.group(1)) for k in keys if (m := _KEY.match(k))]
    return max(numbers, default=0) + 1


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def extract_promises(store: Store, org_ref: str | None, *, actor: str) -> list[PromiseView]:
    """Propose promises from the newest version of every document.

    A sentence already in the register (any status) is not proposed again, so running
    this twice proposes nothing new.
    """
    from klopt.extraction import propose_promises

    with store.session() as session:
        org = find_organization(session, org_ref)
        known = {
            _normal(s)
            for s in session.scalars(
                select(Promise.original_sentence).where(Promise.organization_id == org.id)
            )
        } | {
            _normal(s)
            for s in session.scalars(
                select(Promise.statement).where(Promise.organization_id == org.id)
            )
        }
        number = _next_key(session, org.id)
        created: list[Promise] = []
        for version in _latest_versions(session, org.id):
            doc = _stored_document(version)
            for proposal in propose_promises(doc):
                if _normal(proposal.text) in known:
                    continue
                known.add(_normal(proposal.text))
                promise = Promise(
                    organization_id=org.id,
                    key=f"P{number}",
                    statement=proposal.text,
                    original_sentence=proposal.sentence.text,
                    kind=proposal.kind,
                    status="proposed",
                    score=round(float(proposal.score), 3),
                    reasons=list(proposal.reasons),
                    document_version_id=version.id,
                    section=proposal.sentence.section,
                    page=proposal.sentence.page,
                    char_start=proposal.sentence.start,
                    char_end=proposal.sentence.end,
                )
                session.add(promise)
                created.append(promise)
                number += 1
        session.flush()
        for promise in created:
            audit.record(
                session,
                organization_id=org.id,
                actor=actor,
                action="promise.propose",
                subject_type="promise",
                subject_id=promise.key,
                statement=promise.statement,
            )
        return [_view(p) for p in created]


def _stored_document(version: DocumentVersion) -> Any:
    from klopt.documents import DocumentText, Sentence

    return DocumentText(
        path=version.path,
        title=version.title,
        kind=version.document.kind,
        text=version.text,
        language=version.language,
        sentences=tuple(Sentence(**s) for s in version.sentences),
        sha256=version.sha256,
    )


def _latest_versions(session: Session, org_id: int) -> list[DocumentVersion]:
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


def _view(p: Promise) -> PromiseView:
    version = p.document_version
    return PromiseView(
        key=p.key,
        statement=p.statement,
        status=p.status,
        kind=p.kind,
        theme=p.theme,
        score=p.score,
        reasons=tuple(p.reasons or ()),
        paraphrases=tuple(p.paraphrases or ()),
        document=version.document.name if version else None,
        version=version.version if version else None,
        section=p.section,
        page=p.page,
        original_sentence=p.original_sentence,
    )


def register_order(p: Promise) -> tuple[int, str]:
    """Sort key that puts P2 before P10; ids that are not P<n> come last."""
    m = _KEY.match(p.key)
    return (int(m.group(1)) if m else 10**9, p.key)


def list_promises(
    store: Store, org_ref: str | None, *, status: str | None = None
) -> list[PromiseView]:
    """The register, optionally only the promises with one status."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        query = select(Promise).where(Promise.organization_id == org.id)
        if status:
            query = query.where(Promise.status == status)
        return [_view(p) for p in sorted(session.scalars(query), key=register_order)]


def find_promise(session: Session, org_id: int, key: str) -> Promise:
    """The promise with id ``key`` in the organisation's register, or UnknownPromise."""
    promise = session.scalar(
        select(Promise).where(Promise.organization_id == org_id, Promise.key == key)
    )
    if promise is None:
        raise UnknownPromise(
            f"There is no promise '{key}' in the register.",
            hint="See `klopt promises list` for the ids.",
        )
    return promise


def get_promise(store: Store, org_ref: str | None, key: str) -> PromiseView:
    """One promise by its id."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        return _view(find_promise(session, org.id, key))


def set_status(
    store: Store, org_ref: str | None, keys: Sequence[str], status: str, *, actor: str
) -> list[PromiseView]:
    """Approve, reject or retire promises; all ids are checked before any changes."""
    if status not in STATUSES:
        raise InputError(f"'{status}' is not a promise status.", hint=f"Use one of {STATUSES}.")
    with store.session() as session:
        org = find_organization(session, org_ref)
        promises = [find_promise(session, org.id, key) for key in keys]
        for promise in promises:
            if promise.status == status:
                continue
            audit.record(
                session,
                organization_id=org.id,
                actor=actor,
                action=f"promise.{status}",
                subject_type="promise",
                subject_id=promise.key,
                before=promise.status,
            )
            promise.status = status
            promise.updated_at = utcnow()
        return [_view(p) for p in promises]


def import_register(
    store: Store, org_ref: str | None, path: Path, *, actor: str, status: str = "approved"
) -> tuple[int, int]:
    """Import a promise file (the eval format, plus theme/kind/status); returns (new, updated).

    A promise whose id exists is updated in place; the file's ``status`` wins, else
    imported promises are approved (a register file is a decision already made).
    """
    from klopt.evaluation import read_promise_entries

    _, raw = read_promise_entries(path)
    entries = [{**e, "id": str(e["id"]).strip()} for e in raw]
    new = updated = 0
    with store.session() as session:
        org = find_organization(session, org_ref)
        for entry in entries:
            promise = _match(session, org.id, entry)
            if promise is None:
                _claim_key(session, org.id, entry["id"])
                promise = Promise(organization_id=org.id, key=entry["id"], original_sentence="")
                session.add(promise)
                new += 1
            else:
                if promise.key != entry["id"]:
                    _claim_key(session, org.id, entry["id"])
                    promise.key = entry["id"]
                updated += 1
            _apply_entry(promise, entry, status)
            session.flush()
            audit.record(
                session,
                organization_id=org.id,
                actor=actor,
                action="promise.import",
                subject_type="promise",
                subject_id=entry["id"],
                file=str(path),
            )
    return new, updated


def _match(session: Session, org_id: int, entry: Mapping[str, Any]) -> Promise | None:
    """The promise an entry is about: same id, else a proposal with the same sentence.

    Matching on the sentence lets a reviewed register file approve the proposals that
    ``extract`` made, keeping their provenance.
    """
    promises = list(session.scalars(select(Promise).where(Promise.organization_id == org_id)))
    text = _normal(str(entry["text"]))
    for promise in promises:
        if text and text in (_normal(promise.statement), _normal(promise.original_sentence)):
            return promise
    holder = next((p for p in promises if p.key == entry["id"]), None)
    if holder is not None and holder.status == "proposed":
        return None  # an undecided proposal about something else: it moves aside
    return holder


def _claim_key(session: Session, org_id: int, key: str) -> None:
    """Free ``key`` for an imported promise by moving an undecided proposal to a new key."""
    holder = session.scalar(
        select(Promise).where(Promise.organization_id == org_id, Promise.key == key)
    )
    if holder is None:
        return
    if holder.status != "proposed":
        raise InputError(
            f"The id {key} belongs to '{holder.statement}' ({holder.status}) in the register.",
            hint="Give the promise in the file another id, or retire and rename the old one.",
        )
    holder.key = f"P{_next_key(session, org_id)}"
    session.flush()


def _apply_entry(promise: Promise, entry: Mapping[str, Any], default_status: str) -> None:
    promise.statement = str(entry["text"]).strip()
    promise.original_sentence = str(entry.get("original") or promise.original_sentence or "")
    promise.paraphrases = [str(p) for p in entry.get("paraphrases") or []]
    promise.theme = entry.get("theme") or promise.theme
    promise.kind = entry.get("kind") or promise.kind or _guess_kind(promise.statement)
    status = entry.get("status") or default_status
    if status not in STATUSES:
        raise InputError(
            f"Promise {entry['id']} has status '{status}'.", hint=f"Use one of {STATUSES}."
        )
    promise.status = status
    promise.updated_at = utcnow()


def _guess_kind(statement: str) -> str:
    return "measurable" if re.search(r"\d|%|€|\$", statement) else "aspirational"


def export_register(store: Store, org_ref: str | None, *, status: str | None = None) -> str:
    """The register as YAML: the eval promise format plus theme, kind, status and sources."""
    import yaml

    with store.session() as session:
        org = find_organization(session, org_ref)
        query = select(Promise).where(Promise.organization_id == org.id)
        if status:
            query = query.where(Promise.status == status)
        promises = sorted(session.scalars(query), key=register_order)
        entries = [_entry(p) for p in promises]
        document = {"organization": org.name, "language": org.language, "promises": entries}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def _entry(p: Promise) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": p.key, "text": p.statement}
    if p.paraphrases:
        entry["paraphrases"] = list(p.paraphrases)
    entry.update({"theme": p.theme, "kind": p.kind, "status": p.status})
    if p.original_sentence and p.original_sentence != p.statement:
        entry["original"] = p.original_sentence
    if p.document_version is not None:
        entry["sources"] = [
            {
                "document": p.document_version.document.name,
                "version": p.document_version.version,
                "section": p.section,
                "page": p.page,
                "sentence": p.original_sentence,
            }
        ]
    return entry


def approved_specs(session: Session, org_id: int) -> list[tuple[int, Any]]:
    """(database id, PromiseSpec) for every approved promise, for the judgement engine."""
    from klopt.judge import PromiseSpec

    promises = session.scalars(
        select(Promise).where(Promise.organization_id == org_id, Promise.status == "approved")
    )
    return [
        (
            p.id,
            PromiseSpec(
                id=p.key, text=p.statement, paraphrases=tuple(p.paraphrases or ()), theme=p.theme
            ),
        )
        for p in sorted(promises, key=register_order)
    ]


@dataclass(frozen=True)
class DocumentInfo:
    """The newest version of a stored document."""

    name: str
    version: int
    kind: str
    language: str
    added_at: Any


def list_documents(store: Store, org_ref: str | None) -> list[DocumentInfo]:
    """Every document of the organisation, at its newest version."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        return [
            DocumentInfo(v.document.name, v.version, v.document.kind, v.language, v.added_at)
            for v in _latest_versions(session, org.id)
        ]
