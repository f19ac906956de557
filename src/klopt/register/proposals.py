"""From stored documents to proposed promises, one promise per thing promised.

Every document's newest version is scored by :mod:`klopt.register.extraction`. Proposals that
state the same promise (the Dutch and English brochure, the mission repeated in the
brochure) become one promise with a source per sentence; the other wordings become its
paraphrases. A proposal that states a promise already in the register (any status)
becomes one more source of it. See :mod:`klopt.register.duplicates` for when wordings are "the
same" and the pair scores behind the thresholds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.models.embeddings import Embedder
from klopt.register.decisions import PromiseView, add_source, next_key, normal, view
from klopt.register.duplicates import Wording
from klopt.register.versions import latest_versions, stored_document
from klopt.store import Store
from klopt.store.models import DocumentVersion, Promise, PromiseSource

__all__ = ["Candidate", "extract_promises"]


@dataclass(frozen=True)
class Candidate:
    """A proposal with the stored version it came from."""

    proposal: Any
    version: DocumentVersion
    language: str

    @property
    def document(self) -> str:
        """The name of the document."""
        return self.version.document.name


def extract_promises(
    store: Store,
    org_ref: str | None,
    *,
    actor: str,
    embedder: Embedder | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[PromiseView]:
    """Propose promises from the newest version of every document.

    A sentence already a source of a promise is not proposed again, so running this twice
    proposes nothing new. Returns the new promises; proposals that joined an existing
    promise are recorded as ``promise.source`` audit events. ``progress(done, total)``
    counts the sentences of all documents as they are scored.
    """
    from klopt.register.extraction import propose_promises

    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "register.propose")
        known = _known_sentences(session, org.id)
        versions = latest_versions(session, org.id)
        total = sum(len(v.sentences) for v in versions)
        base = 0
        candidates: list[Candidate] = []
        for version in versions:

            def report(done: int, _: int, base: int = base) -> None:
                if progress is not None:
                    progress(base + done, total)

            candidates += [
                Candidate(p, version, _language(p, version))
                for p in propose_promises(stored_document(version), progress=report)
                if (version.id, normal(p.sentence.text)) not in known
            ]
            base += len(version.sentences)
            if progress is not None:
                progress(base, total)
        promises = list(
            session.scalars(
                select(Promise).where(Promise.organization_id == org.id, Promise.status != "merged")
            )
        )
        candidates = _attach_exact(session, org.id, promises, candidates, actor)
        groups = _groups(candidates, embedder)
        groups = _attach_similar(session, org.id, promises, groups, actor, embedder)
        created = _create(session, org.id, org.language, groups)
        for promise in created:
            audit.record(
                session,
                organization_id=org.id,
                actor=actor,
                action="promise.propose",
                subject_type="promise",
                subject_id=promise.key,
                statement=promise.statement,
                sources=len(promise.sources),
            )
        return [view(p) for p in created]


def _language(proposal: Any, version: DocumentVersion) -> str:
    sentence_language = getattr(proposal.sentence, "language", None)
    for value in (getattr(proposal, "language", None), sentence_language, version.language):
        if value and value != "other":
            return str(value)
    return str(version.language or "other")


def _known_sentences(session: Session, org_id: int) -> set[tuple[int | None, str]]:
    rows = session.execute(
        select(PromiseSource.document_version_id, PromiseSource.sentence)
        .join(Promise)
        .where(Promise.organization_id == org_id)
    )
    return {(vid, normal(sentence)) for vid, sentence in rows.tuples()}


def _wordings(promise: Promise) -> list[str]:
    texts = [promise.statement, promise.original_sentence, *(promise.paraphrases or [])]
    texts += [s.sentence for s in promise.sources]
    return [t for t in dict.fromkeys(texts) if t]


def _register_wordings(promise: Promise) -> list[Wording]:
    """A promise's wordings for matching; source sentences carry their language."""
    from klopt.register.duplicates import Wording

    lead = next((s.language for s in promise.sources), None)
    out = [Wording(promise.statement, "register", language=lead)]
    out += [Wording(t, "register") for t in promise.paraphrases or []]
    out += [Wording(s.sentence, s.document, s.language) for s in promise.sources]
    return out


def _attach_exact(
    session: Session,
    org_id: int,
    promises: Sequence[Promise],
    candidates: Sequence[Candidate],
    actor: str,
) -> list[Candidate]:
    """Attach proposals whose sentence a promise already words; return the others."""
    owner = {normal(t): p for p in promises for t in _wordings(p)}
    left: list[Candidate] = []
    for candidate in candidates:
        promise = owner.get(normal(candidate.proposal.sentence.text)) or owner.get(
            normal(candidate.proposal.text)
        )
        if promise is None:
            left.append(candidate)
        else:
            _add(session, org_id, promise, candidate, actor, similarity=1.0)
    return left


def _groups(candidates: Sequence[Candidate], embedder: Embedder | None) -> list[list[Candidate]]:
    if len(candidates) < 2:
        return [[c] for c in candidates]
    from klopt.register.duplicates import group_wordings

    wordings = [Wording(c.proposal.text, c.document, language=c.language) for c in candidates]
    return [[candidates[i] for i in g] for g in group_wordings(wordings, embedder=embedder)]


def _attach_similar(
    session: Session,
    org_id: int,
    promises: Sequence[Promise],
    groups: Sequence[list[Candidate]],
    actor: str,
    embedder: Embedder | None,
) -> list[list[Candidate]]:
    """Attach groups that state a promise of the register; return the others."""
    if not promises or not groups:
        return list(groups)
    from klopt.register.duplicates import best_matches

    queries = [Wording(g[0].proposal.text, g[0].document, language=g[0].language) for g in groups]
    candidates = [_register_wordings(p) for p in promises]
    left: list[list[Candidate]] = []
    for group, hit in zip(
        groups, best_matches(queries, candidates, embedder=embedder), strict=True
    ):
        if hit is None:
            left.append(group)
            continue
        for candidate in group:
            _add(session, org_id, promises[hit[0]], candidate, actor, similarity=round(hit[1], 3))
    return left


def _add(
    session: Session,
    org_id: int,
    promise: Promise,
    candidate: Candidate,
    actor: str,
    *,
    similarity: float,
) -> None:
    proposal = candidate.proposal
    _source(promise, candidate)
    kept = {normal(promise.statement), normal(promise.original_sentence)}
    kept |= {normal(t) for t in promise.paraphrases or []}
    if normal(proposal.text) not in kept:  # a new wording is kept, never dropped
        promise.paraphrases = [*(promise.paraphrases or []), proposal.text]
    audit.record(
        session,
        organization_id=org_id,
        actor=actor,
        action="promise.source",
        subject_type="promise",
        subject_id=promise.key,
        document=candidate.document,
        version=candidate.version.version,
        sentence=proposal.sentence.text,
        similarity=similarity,
    )


def _source(promise: Promise, candidate: Candidate) -> None:
    sentence = candidate.proposal.sentence
    add_source(
        promise,
        sentence=sentence.text,
        version=candidate.version,
        document=candidate.document,
        version_number=candidate.version.version,
        section=sentence.section,
        page=sentence.page,
        char_start=sentence.start,
        char_end=sentence.end,
        language=candidate.language,
    )


def _lead(group: Sequence[Candidate], org_language: str) -> Candidate:
    """The wording that becomes the statement: the organisation's language, best score."""
    return max(
        enumerate(group),
        key=lambda ic: (ic[1].language == org_language, ic[1].proposal.score, -ic[0]),
    )[1]


def _create(
    session: Session, org_id: int, org_language: str, groups: Sequence[list[Candidate]]
) -> list[Promise]:
    number = next_key(session, org_id)
    created: list[Promise] = []
    for group in groups:
        lead = _lead(group, org_language)
        proposal = lead.proposal
        others = [c.proposal.text for c in group if c is not lead]
        promise = Promise(
            organization_id=org_id,
            key=f"P{number}",
            statement=proposal.text,
            original_sentence=proposal.sentence.text,
            kind=proposal.kind,
            theme=getattr(proposal, "theme", None) or _first_theme(group),
            status="proposed",
            score=round(max(float(c.proposal.score) for c in group), 3),
            reasons=list(proposal.reasons),
            paraphrases=[t for t in dict.fromkeys(others) if normal(t) != normal(proposal.text)],
        )
        for candidate in [lead, *(c for c in group if c is not lead)]:
            _source(promise, candidate)
        session.add(promise)
        created.append(promise)
        number += 1
    session.flush()
    return created


def _first_theme(group: Sequence[Candidate]) -> str | None:
    return next((t for c in group if (t := getattr(c.proposal, "theme", None))), None)
