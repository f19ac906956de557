"""An organisation's own rule packs: stored, checked on the way in, and used by every check.

A pack is kept as the YAML that was uploaded (:class:`klopt.store.models.RulePack`), under
the name its ``pack:`` field gives it; uploading a pack of the same name again replaces
it. :func:`add_pack` reads it exactly as :func:`klopt.checking.rules.load_packs` would use
it beside the bundled packs and the organisation's other packs (YAML, fields, check types,
its own examples, ids already used), so a pack that is stored can be used; its errors name
the uploaded file and the line.

:func:`organization_rules` is what drafts are checked against: the bundled packs, then the
organisation's active packs by name (then any ``--rules`` files). ``klopt check`` reads it
once per command; the warm check of the web app (:func:`current_rules`) asks the store on
every check which packs are active (one small query) and reads them again only when that
answer changes, so a pack counts from the next keystroke after it is stored.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.checking.rules import RulePack, RulePackError, RuleSet, combine_packs, parse_pack
from klopt.checking.warm import bundled_rules
from klopt.errors import NotFound
from klopt.i18n import t
from klopt.store import Store
from klopt.store.models import Organization, utcnow
from klopt.store.models import RulePack as StoredPack

__all__ = [
    "PackInfo",
    "add_pack",
    "current_rules",
    "list_packs",
    "organization_rules",
    "remove_pack",
]

#: Rule sets kept by the warm check, by store, organisation and active packs.
_CACHE: OrderedDict[tuple[str, int, tuple[tuple[int, datetime], ...]], RuleSet] = OrderedDict()
_CACHE_SIZE = 32
_LOCK = threading.Lock()


@dataclass(frozen=True)
class PackInfo:
    """A stored pack as listed.

    Attributes:
        name: the pack's ``pack:`` id.
        file_name: the file it was uploaded as.
        uploaded_by: who stored it (last).
        uploaded_at: when.
        rules: the ids of its rules (given by :func:`add_pack` only).
        replaced: whether it replaced a pack of the same name (:func:`add_pack` only).
    """

    name: str
    file_name: str
    uploaded_by: str
    uploaded_at: datetime
    rules: tuple[str, ...] = ()
    replaced: bool = False


def _info(row: StoredPack, rules: tuple[str, ...] = (), replaced: bool = False) -> PackInfo:
    return PackInfo(row.name, row.file_name, row.uploaded_by, row.uploaded_at, rules, replaced)


def _file_name(label: str) -> str:
    """The last part of ``label``, so that an error never shows where a file lay."""
    return Path(label.replace("\\", "/")).name or "pack.yaml"


def _named(exc: RulePackError) -> RulePackError:
    """``exc`` with only file names in it (where the bundled packs lie is of no use)."""
    for key in ("path", "other"):
        if isinstance(exc.values.get(key), Path | str):
            exc.values[key] = Path(str(exc.values[key])).name
    if exc.key is not None:  # the English text too, as ``str(exc)`` and the CLI show it
        exc.message = t(f"error.{exc.key}", "en").format(**exc.values)
        if exc.hint is not None:
            exc.hint = t(f"error.{exc.key}.hint", "en").format(**exc.values)
        exc.args = (exc.message,)
    return exc


def _active(session: Session, org_id: int) -> list[StoredPack]:
    return list(
        session.scalars(
            select(StoredPack)
            .where(StoredPack.organization_id == org_id, StoredPack.active.is_(True))
            .order_by(StoredPack.name)
        )
    )


def _parse(row: StoredPack) -> RulePack:
    return parse_pack(row.source, Path(row.file_name))


def add_pack(
    store: Store, org_ref: str | None, name_label: str, text: str, *, actor: str
) -> PackInfo:
    """Check the rule pack ``text`` (uploaded as the file ``name_label``) and store it for
    the organisation; a stored pack of the same name is replaced.

    Raises:
        RulePackError: the pack cannot be used; the message names the file and line.
        NotAllowed: ``actor`` may not manage rule packs here (admins only).
    """
    file_name = _file_name(name_label)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "rules.manage")
        try:
            pack = parse_pack(text, Path(file_name))
            others = [_parse(row) for row in _active(session, org.id) if row.name != pack.id]
            combine_packs([*bundled_rules().packs, *others, pack])
        except RulePackError as exc:
            raise _named(exc) from exc
        row = session.scalar(
            select(StoredPack).where(
                StoredPack.organization_id == org.id, StoredPack.name == pack.id
            )
        )
        replaced = row is not None and row.active
        if row is None:
            row = StoredPack(organization_id=org.id, name=pack.id)
            session.add(row)
        row.source, row.file_name, row.active = text, file_name, True
        row.uploaded_by, row.uploaded_at = actor, utcnow()
        session.flush()
        rule_ids = tuple(rule.id for rule in pack.rules)
        audit.record(
            session,
            organization_id=org.id,
            actor=actor,
            action="rules.replace" if replaced else "rules.add",
            subject_type="rule_pack",
            subject_id=pack.id,
            file=file_name,
            rules=list(rule_ids),
        )
        return _info(row, rule_ids, replaced)


def list_packs(store: Store, org_ref: str | None) -> list[PackInfo]:
    """The organisation's active stored packs, by name."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        return [_info(row) for row in _active(session, org.id)]


def remove_pack(store: Store, org_ref: str | None, name: str, *, actor: str) -> None:
    """Stop using the stored pack ``name``; drafts are no longer checked against it.

    Raises:
        NotFound: the organisation has no active pack of that name.
        NotAllowed: ``actor`` may not manage rule packs here (admins only).
    """
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "rules.manage")
        row = next((r for r in _active(session, org.id) if r.name == name), None)
        if row is None:
            names = ", ".join(r.name for r in _active(session, org.id)) or "-"
            raise NotFound.keyed("packs.unknown", name=name, names=names)
        row.active = False
        audit.record(
            session,
            organization_id=org.id,
            actor=actor,
            action="rules.remove",
            subject_type="rule_pack",
            subject_id=name,
            file=row.file_name,
        )


def _org_id(session: Session, org_ref: str | None) -> int | None:
    """The organisation's id; ``None`` for a store without any (check before ``init``)."""
    if org_ref is None and session.scalar(select(Organization.id).limit(1)) is None:
        return None
    return find_organization(session, org_ref).id


def organization_rules(
    store: Store, org_ref: str | None, *, extra: Sequence[RulePack] = ()
) -> RuleSet:
    """The bundled packs, the organisation's active stored packs (by name) and ``extra``
    (``klopt check --rules``), as one rule set.

    Raises:
        RulePackError: the packs do not go together (a rule id used twice ...).
        NotFound: ``org_ref`` names no organisation.
    """
    with store.session() as session:
        org_id = _org_id(session, org_ref)
        stored = [] if org_id is None else [_parse(row) for row in _active(session, org_id)]
    try:
        return combine_packs([*bundled_rules().packs, *stored, *extra])
    except RulePackError as exc:
        raise _named(exc) from exc


def current_rules(store: Store, org_ref: str | None) -> RuleSet:
    """:func:`organization_rules` for a long-running process: which packs are active is
    read on every call (one small query); the packs themselves only when that changed."""
    with store.session() as session:
        org_id = _org_id(session, org_ref)
        if org_id is None:
            return bundled_rules()
        stamp = tuple(
            (pack_id, at)
            for pack_id, at in session.execute(
                select(StoredPack.id, StoredPack.uploaded_at)
                .where(StoredPack.organization_id == org_id, StoredPack.active.is_(True))
                .order_by(StoredPack.name)
            )
        )
    if not stamp:
        return bundled_rules()
    key = (store.url, org_id, stamp)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    rules = organization_rules(store, org_ref)
    with _LOCK:
        _CACHE[key] = rules
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return rules
