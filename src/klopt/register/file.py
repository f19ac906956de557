"""The register as a YAML file: export it, review it in git, import it elsewhere.

The file is the eval promise format (``promises: [{id, text, paraphrases}]``) plus
``theme``, ``kind``, ``status``, ``original`` (the sentence a promise was proposed from,
when its statement was edited), ``merged_into``, ``flag``, ``score``, ``reasons`` and
``sources`` (document, version, section, page, sentence, offsets, language, state).
Exporting and importing into an empty store gives the same register; importing the same
file twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import InputError
from klopt.register.decisions import (
    KINDS,
    STATUSES,
    add_source,
    next_key,
    normal,
    promise_keys,
    register_promises,
)
from klopt.store import Store
from klopt.store.models import DocumentVersion, Promise, SourceDocument, utcnow

__all__ = ["import_register", "export_register", "entry"]

_SOURCE_FIELDS = ("section", "page", "char_start", "char_end", "language")


def export_register(store: Store, org_ref: str | None, *, status: str | None = None) -> str:
    """The register as YAML, optionally only the promises with one status."""
    import yaml

    with store.session() as session:
        org = find_organization(session, org_ref)
        promises, keys = register_promises(session, org.id, status)
        entries = [entry(p, keys) for p in promises]
        document = {"organization": org.name, "language": org.language, "promises": entries}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def entry(p: Promise, keys: Mapping[int, str]) -> dict[str, Any]:
    """One promise as a register-file entry."""
    out: dict[str, Any] = {"id": p.key, "text": p.statement}
    if p.paraphrases:
        out["paraphrases"] = list(p.paraphrases)
    out.update({"theme": p.theme, "kind": p.kind, "status": p.status})
    if p.original_sentence and p.original_sentence != p.statement:
        out["original"] = p.original_sentence
    if p.merged_into_id is not None:
        out["merged_into"] = keys.get(p.merged_into_id)
    if p.flag:
        out["flag"] = p.flag
    if p.score is not None:
        out["score"] = p.score
    if p.reasons:
        out["reasons"] = list(p.reasons)
    if p.sources:
        out["sources"] = [_source_entry(s) for s in p.sources]
    return out


def _source_entry(s: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"document": s.document, "version": s.version, "sentence": s.sentence}
    out.update({name: getattr(s, name) for name in _SOURCE_FIELDS})
    if s.state != "current":
        out["state"] = s.state
    if s.merged_from:
        out["merged_from"] = s.merged_from
    return out


def import_register(
    store: Store, org_ref: str | None, path: Path, *, actor: str, status: str = "approved"
) -> tuple[int, int]:
    """Import a register file; returns (new, updated) -- promises the file left as they
    were count as neither.

    A promise is matched by its sentence (statement, original or a source sentence),
    else by id; an undecided proposal holding a wanted id moves to a new id. The file's
    ``status`` wins, else imported promises are approved (a register file is a decision
    already made). All of it is one transaction: a bad entry stores nothing.

    Raises:
        InputError: unreadable file, duplicate ids, a bad status/kind/source, a merge
            into an unknown promise, or an id held by a decided promise.
    """
    from klopt.register.spec import read_promise_entries

    _, raw = read_promise_entries(path)
    entries = [{**e, "id": str(e["id"]).strip()} for e in raw]
    for item in entries:
        _check(item, status)
    new = updated = 0
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "register.decide")
        promises: dict[str, Promise] = {}
        before: dict[str, dict[str, Any] | None] = {}
        for item in entries:
            promise = _match(session, org.id, item, {p.id for p in promises.values()})
            if promise is None:
                _claim_key(session, org.id, item["id"])
                promise = Promise(
                    organization_id=org.id, key=item["id"], original_sentence="", paraphrases=[]
                )
                session.add(promise)
                before[item["id"]] = None
            else:
                before[item["id"]] = entry(promise, promise_keys(session, org.id))
                if promise.key != item["id"]:
                    _claim_key(session, org.id, item["id"])
                    promise.key = item["id"]
            _apply(session, org.id, promise, item, status)
            session.flush()
            promises[item["id"]] = promise
        for item in entries:
            _link_merge(session, org.id, promises[item["id"]], item)
        session.flush()
        keys = promise_keys(session, org.id)
        for item in entries:
            after = entry(promises[item["id"]], keys)
            if before[item["id"]] == after:
                continue
            new, updated = (new + 1, updated) if before[item["id"]] is None else (new, updated + 1)
            audit.record(
                session,
                organization_id=org.id,
                actor=actor,
                action="promise.import",
                subject_type="promise",
                subject_id=item["id"],
                file=str(path),
                new=before[item["id"]] is None,
            )
    return new, updated


def _check(item: Mapping[str, Any], default_status: str) -> None:
    key = item["id"]
    status = item.get("status") or default_status
    if status not in STATUSES:
        raise InputError.keyed("register.bad_status", id=key, status=status, choices=STATUSES)
    if (status == "merged") != bool(item.get("merged_into")):
        raise InputError.keyed("register.merged_without_target", id=key)
    if item.get("merged_into") == key:
        raise InputError.keyed("register.merged_into_itself", id=key)
    kind = item.get("kind")
    if kind is not None and kind not in KINDS:
        raise InputError.keyed("register.bad_kind", id=key, kind=kind, choices=KINDS)
    if not str(item["text"]).strip():
        raise InputError.keyed("register.empty_text", id=key)
    sources = item.get("sources")
    if sources is not None and (
        not isinstance(sources, list)
        or not all(isinstance(s, Mapping) and s.get("sentence") for s in sources)
    ):
        raise InputError.keyed("register.bad_sources", id=key)


def _match(
    session: Session, org_id: int, item: Mapping[str, Any], taken: set[int]
) -> Promise | None:
    """The promise an entry is about: same id and sentence, else the same statement, else
    the same source sentence, else the same id; ``taken`` were matched by earlier entries.

    Matching on the sentence lets a reviewed register file approve the proposals that
    ``extract`` made, keeping their provenance.
    """
    query = select(Promise).where(Promise.organization_id == org_id)
    promises = [p for p in session.scalars(query) if p.id not in taken]
    text = normal(str(item["text"]))
    holder = next((p for p in promises if p.key == item["id"]), None)

    def said(p: Promise) -> set[str]:
        return {normal(p.statement), normal(p.original_sentence)}

    def sourced(p: Promise) -> set[str]:
        return {normal(s.sentence) for s in p.sources}

    if holder is not None and text in said(holder) | sourced(holder):
        return holder
    for words in (said, sourced):
        for promise in promises:
            if promise.status != "merged" and text and text in words(promise):
                return promise
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
        raise InputError.keyed(
            "register.id_taken", id=key, statement=holder.statement, status=holder.status
        )
    holder.key = f"P{next_key(session, org_id)}"
    session.flush()


def _guess_kind(statement: str) -> str:
    import re

    return "measurable" if re.search(r"\d|%|€|\$", statement) else "aspirational"


def _apply(
    session: Session, org_id: int, promise: Promise, item: Mapping[str, Any], default: str
) -> None:
    promise.statement = str(item["text"]).strip()
    promise.original_sentence = str(item.get("original") or promise.original_sentence or "")
    paraphrases = [str(p) for p in item.get("paraphrases") or []]
    if paraphrases != list(promise.paraphrases or []):
        promise.paraphrases = paraphrases
    promise.theme = item.get("theme") or promise.theme
    promise.kind = item.get("kind") or promise.kind or _guess_kind(promise.statement)
    promise.status = item.get("status") or default
    promise.flag = item.get("flag") or None
    if promise.status != "merged":
        promise.merged_into_id = None
    if "score" in item:
        promise.score = None if item["score"] is None else float(item["score"])
    if "reasons" in item:
        reasons = [str(r) for r in item["reasons"] or []]
        if reasons != list(promise.reasons or []):
            promise.reasons = reasons
    if "sources" in item:
        _apply_sources(session, org_id, promise, item["sources"])
    promise.updated_at = utcnow()


def _apply_sources(
    session: Session, org_id: int, promise: Promise, sources: list[Mapping[str, Any]]
) -> None:
    if [_source_entry(s) for s in promise.sources] == [_normal_source(s) for s in sources]:
        return
    promise.sources.clear()
    for s in sources:
        version = _version(session, org_id, str(s.get("document") or ""), s.get("version"))
        add_source(
            promise,
            sentence=str(s["sentence"]),
            version=version,
            document=str(s.get("document") or ""),
            version_number=s.get("version"),
            state=str(s.get("state") or "current"),
            merged_from=s.get("merged_from"),
            **{name: s.get(name) for name in _SOURCE_FIELDS},
        )


def _normal_source(s: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "document": str(s.get("document") or ""),
        "version": s.get("version"),
        "sentence": str(s["sentence"]),
    }
    out.update({name: s.get(name) for name in _SOURCE_FIELDS})
    if (s.get("state") or "current") != "current":
        out["state"] = s["state"]
    if s.get("merged_from"):
        out["merged_from"] = s["merged_from"]
    return out


def _version(session: Session, org_id: int, name: str, number: Any) -> DocumentVersion | None:
    if not name or number is None:
        return None
    return session.scalar(
        select(DocumentVersion)
        .join(SourceDocument)
        .where(
            SourceDocument.organization_id == org_id,
            SourceDocument.name == name,
            DocumentVersion.version == int(number),
        )
    )


def _link_merge(session: Session, org_id: int, promise: Promise, item: Mapping[str, Any]) -> None:
    target_key = item.get("merged_into")
    if not target_key:
        return
    target = session.scalar(
        select(Promise).where(Promise.organization_id == org_id, Promise.key == str(target_key))
    )
    if target is None or target.status == "merged":
        raise InputError.keyed("register.merge_target_closed", id=item["id"], target=target_key)
    promise.merged_into_id = target.id
