"""The promise register itself: views, look-up, and the decisions people make.

Every decision (approve, reject, retire, edit, merge) is one transaction and one audit
event per promise. Nothing is rewritten silently: an edit keeps the original sentence,
a merge keeps the merged promise (status ``merged``, pointing at the one it joined) and
marks every source it handed over with ``merged_from``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import InputError, UnknownPromise
from klopt.store import Store
from klopt.store.models import DocumentVersion, Promise, PromiseSource, utcnow

__all__ = [
    "STATUSES",
    "DECISIONS",
    "KINDS",
    "PromiseView",
    "SourceView",
    "find_promise",
    "register_order",
    "list_promises",
    "register_promises",
    "promise_keys",
    "get_promise",
    "review_queue",
    "set_status",
    "edit_promise",
    "merge_promises",
    "approved_specs",
    "add_source",
    "view",
    "normal",
    "next_key",
]

STATUSES = ("proposed", "approved", "rejected", "retired", "merged")
DECISIONS = ("approved", "rejected", "retired")
"""The statuses a person sets directly; ``merged`` only comes from a merge."""
KINDS = ("measurable", "aspirational")
_KEY = re.compile(r"^P(\d+)$")


@dataclass(frozen=True)
class SourceView:
    """One sentence that states a promise, and where it stands."""

    document: str
    version: int | None
    sentence: str
    section: str | None
    page: int | None
    char_start: int | None
    char_end: int | None
    language: str | None
    state: str
    merged_from: str | None


@dataclass(frozen=True)
class PromiseView:
    """A promise as shown to a user, with where it came from.

    ``document``, ``version``, ``section`` and ``page`` describe the first current
    source; ``sources`` lists them all. ``edited`` is true when the statement differs from
    the original sentence it was proposed from.
    """

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
    sources: tuple[SourceView, ...] = ()
    merged_into: str | None = None
    flag: str | None = None
    edited: bool = False


def normal(text: str) -> str:
    """Text folded for comparison: lower case, punctuation and spacing ignored."""
    return re.sub(r"\W+", " ", text.casefold()).strip()


def register_order(p: Promise) -> tuple[int, str]:
    """Sort key that puts P2 before P10; ids that are not P<n> come last."""
    m = _KEY.match(p.key)
    return (int(m.group(1)) if m else 10**9, p.key)


def next_key(session: Session, org_id: int) -> int:
    """The number of the next free P<n> id."""
    keys = session.scalars(select(Promise.key).where(Promise.organization_id == org_id))
    numbers = [int(m.group(1)) for k in keys if (m := _KEY.match(k))]
    return max(numbers, default=0) + 1


def _source_view(s: PromiseSource) -> SourceView:
    return SourceView(
        document=s.document,
        version=s.version,
        sentence=s.sentence,
        section=s.section,
        page=s.page,
        char_start=s.char_start,
        char_end=s.char_end,
        language=s.language,
        state=s.state,
        merged_from=s.merged_from,
    )


def view(p: Promise, keys: dict[int, str] | None = None) -> PromiseView:
    """The user-facing view of a stored promise; ``keys`` maps ids to keys for merges."""
    sources = tuple(_source_view(s) for s in p.sources)
    first = next((s for s in sources if s.state == "current"), sources[0] if sources else None)
    merged_into = None
    if p.merged_into_id is not None:
        merged_into = (keys or {}).get(p.merged_into_id, str(p.merged_into_id))
    return PromiseView(
        key=p.key,
        statement=p.statement,
        status=p.status,
        kind=p.kind,
        theme=p.theme,
        score=p.score,
        reasons=tuple(p.reasons or ()),
        paraphrases=tuple(p.paraphrases or ()),
        document=first.document if first else None,
        version=first.version if first else None,
        section=first.section if first else None,
        page=first.page if first else None,
        original_sentence=p.original_sentence,
        sources=sources,
        merged_into=merged_into,
        flag=p.flag,
        edited=bool(p.original_sentence) and normal(p.original_sentence) != normal(p.statement),
    )


def promise_keys(session: Session, org_id: int) -> dict[int, str]:
    """The key of every promise of the organisation, by database id."""
    rows = session.execute(select(Promise.id, Promise.key).where(Promise.organization_id == org_id))
    return {pid: key for pid, key in rows.tuples()}


def find_promise(session: Session, org_id: int, key: str) -> Promise:
    """The promise with id ``key`` in the organisation's register, or UnknownPromise."""
    promise = session.scalar(
        select(Promise).where(Promise.organization_id == org_id, Promise.key == key)
    )
    if promise is None:
        raise UnknownPromise.keyed("promise.unknown", id=key)
    return promise


def list_promises(
    store: Store, org_ref: str | None, *, status: str | None = None
) -> list[PromiseView]:
    """The register, optionally only the promises with one status."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        promises, keys = register_promises(session, org.id, status)
        return [view(p, keys) for p in promises]


def register_promises(
    session: Session, org_id: int, status: str | None = None
) -> tuple[list[Promise], dict[int, str]]:
    """The organisation's promises in register order (optionally of one status), and the
    key of every promise by database id (a merged promise names the one it joined)."""
    query = select(Promise).where(Promise.organization_id == org_id)
    if status:
        query = query.where(Promise.status == status)
    return sorted(session.scalars(query), key=register_order), promise_keys(session, org_id)


def review_queue(store: Store, org_ref: str | None) -> list[PromiseView]:
    """The proposed promises, best-scored first (ties in register order)."""
    views = list_promises(store, org_ref, status="proposed")
    return sorted(views, key=lambda v: -(v.score or 0.0))


def get_promise(store: Store, org_ref: str | None, key: str) -> PromiseView:
    """One promise by its id."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        return view(find_promise(session, org.id, key), promise_keys(session, org.id))


def _record(
    session: Session, org_id: int, actor: str, action: str, key: str, **details: Any
) -> None:
    audit.record(
        session,
        organization_id=org_id,
        actor=actor,
        action=action,
        subject_type="promise",
        subject_id=key,
        **details,
    )


def set_status(
    store: Store, org_ref: str | None, keys: Sequence[str], status: str, *, actor: str
) -> list[PromiseView]:
    """Approve, reject or retire promises; all ids are checked before any changes.

    A decision clears a promise's flag (its source changed or went): a person looked.
    """
    if status not in DECISIONS:
        raise InputError.keyed("promise.not_a_decision", status=status, choices=DECISIONS)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "register.decide")
        promises = [find_promise(session, org.id, key) for key in keys]
        for promise in promises:
            if promise.status == "merged":
                raise InputError.keyed("promise.decide_merged", id=promise.key)
        for promise in promises:
            if promise.status == status:
                continue
            _record(session, org.id, actor, f"promise.{status}", promise.key, before=promise.status)
            promise.status = status
            promise.flag = None
            promise.updated_at = utcnow()
        keys_by_id = promise_keys(session, org.id)
        return [view(p, keys_by_id) for p in promises]


def edit_promise(
    store: Store,
    org_ref: str | None,
    key: str,
    *,
    actor: str,
    statement: str | None = None,
    theme: str | None = None,
    kind: str | None = None,
) -> PromiseView:
    """Change a promise's statement, theme or kind; the original sentence is kept.

    A promise without an original sentence (imported by hand) keeps its old statement as
    its original, so the first wording is never lost.

    Raises:
        InputError: an empty statement, an unknown kind, or nothing to change.
    """
    if statement is not None and not statement.strip():
        raise InputError.keyed("promise.empty_statement")
    if kind is not None and kind not in KINDS:
        raise InputError.keyed("promise.not_a_kind", kind=kind, choices=KINDS)
    if statement is None and theme is None and kind is None:
        raise InputError.keyed("promise.nothing_to_change")
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "register.decide")
        promise = find_promise(session, org.id, key)
        changes: dict[str, Any] = {}
        if statement is not None and statement.strip() != promise.statement:
            if not promise.original_sentence:
                promise.original_sentence = promise.statement
            changes["statement"] = [promise.statement, statement.strip()]
            promise.statement = statement.strip()
        if theme is not None and (theme.strip() or None) != promise.theme:
            changes["theme"] = [promise.theme, theme.strip() or None]
            promise.theme = theme.strip() or None
        if kind is not None and kind != promise.kind:
            changes["kind"] = [promise.kind, kind]
            promise.kind = kind
        if changes:
            promise.flag = None
            promise.updated_at = utcnow()
            _record(session, org.id, actor, "promise.edit", promise.key, **changes)
        return view(promise, promise_keys(session, org.id))


def merge_promises(
    store: Store, org_ref: str | None, target: str, others: Sequence[str], *, actor: str
) -> PromiseView:
    """Merge ``others`` into ``target``: it gains their sources and wordings.

    Each merged promise keeps its own statement and paraphrases (so the merge can be read
    back), gets status ``merged`` and points at ``target``; the sources it hands over are
    marked ``merged_from`` with its id. The judgement engine ignores merged promises.

    Raises:
        UnknownPromise: an id is not in the register.
        InputError: a promise merged into itself, or one that is already merged.
    """
    if not others:
        raise InputError.keyed("promise.merge_none")
    if target in others:
        raise InputError.keyed("promise.merge_self", id=target)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "register.decide")
        into = find_promise(session, org.id, target)
        merging = [find_promise(session, org.id, key) for key in dict.fromkeys(others)]
        for promise in (into, *merging):
            if promise.status == "merged":
                raise InputError.keyed("promise.already_merged", id=promise.key)
        wordings = list(into.paraphrases or [])
        for promise in merging:
            moved = list(promise.sources)
            for source in moved:
                source.promise = into
                source.merged_from = promise.key
            for text in (promise.statement, *(promise.paraphrases or [])):
                if normal(text) not in {normal(into.statement), *map(normal, wordings)}:
                    wordings.append(text)
            _record(
                session,
                org.id,
                actor,
                "promise.merge",
                promise.key,
                into=into.key,
                before=promise.status,
                sources=len(moved),
            )
            promise.status = "merged"
            promise.merged_into_id = into.id
            promise.updated_at = utcnow()
        into.paraphrases = wordings
        into.updated_at = utcnow()
        session.flush()
        session.refresh(into)
        return view(into, promise_keys(session, org.id))


def add_source(
    promise: Promise,
    *,
    sentence: str,
    version: DocumentVersion | None,
    document: str,
    version_number: int | None,
    section: str | None = None,
    page: int | None = None,
    char_start: int | None = None,
    char_end: int | None = None,
    language: str | None = None,
    state: str = "current",
    merged_from: str | None = None,
) -> PromiseSource:
    """Attach one more source sentence to ``promise`` (added to its session)."""
    source = PromiseSource(
        document_version=version,
        document=document,
        version=version_number,
        sentence=sentence,
        section=section,
        page=page,
        char_start=char_start,
        char_end=char_end,
        language=language,
        state=state,
        merged_from=merged_from,
    )
    promise.sources.append(source)
    return source


def approved_specs(session: Session, org_id: int) -> list[tuple[int, Any]]:
    """(database id, PromiseSpec) for every approved promise, for the judgement engine.

    Merged, proposed, rejected and retired promises are left out.
    """
    from klopt.register.spec import PromiseSpec

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
