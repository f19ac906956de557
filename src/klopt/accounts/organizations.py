"""Organisations: the workspaces everything else belongs to."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.errors import InputError, NotFound
from klopt.store import Store
from klopt.store.models import Organization, Post, Promise

__all__ = ["OrganizationInfo", "create_organization", "find_organization", "list_organizations"]


@dataclass(frozen=True)
class OrganizationInfo:
    """An organisation as shown to a user."""

    id: int
    name: str
    slug: str
    language: str
    promises: int = 0
    posts: int = 0


def slugify(name: str) -> str:
    """A lowercase ASCII slug: "Voorbeeld BV" -> "voorbeeld-bv"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


#: The longest organisation name (its slug must fit the store's 100 characters too).
NAME_MAX = 100


def create_organization(store: Store, name: str, *, language: str, actor: str) -> OrganizationInfo:
    """Create an organisation; creating one that exists returns it unchanged."""
    slug = slugify(name)
    if not slug:
        raise InputError.keyed("org.bad_name", name=name)
    if len(name.strip()) > NAME_MAX or len(slug) > NAME_MAX:
        raise InputError.keyed("org.name_too_long", length=len(name.strip()), limit=NAME_MAX)
    with store.session() as session:
        org = session.scalar(select(Organization).where(Organization.slug == slug))
        if org is None:
            org = Organization(name=name.strip(), slug=slug, language=language)
            session.add(org)
            session.flush()
            audit.record(
                session,
                organization_id=org.id,
                actor=actor,
                action="organization.create",
                subject_type="organization",
                subject_id=org.id,
                name=org.name,
            )
        return OrganizationInfo(org.id, org.name, org.slug, org.language)


def find_organization(session: Session, ref: str | None) -> Organization:
    """The organisation named ``ref`` (name or slug), or the only one when ``ref`` is empty."""
    if ref:
        org = session.scalar(
            select(Organization).where(
                (Organization.slug == slugify(ref)) | (Organization.name == ref)
            )
        )
        if org is None:
            raise NotFound.keyed("org.unknown", name=ref)
        return org
    orgs = list(session.scalars(select(Organization).order_by(Organization.id).limit(2)))
    if not orgs:
        raise NotFound.keyed("org.none")
    if len(orgs) > 1:
        raise InputError.keyed("org.several")
    return orgs[0]


def list_organizations(store: Store) -> list[OrganizationInfo]:
    """Every organisation with its number of promises and posts."""
    with store.session() as session:
        promises = dict(
            session.execute(
                select(Promise.organization_id, func.count()).group_by(Promise.organization_id)
            )
            .tuples()
            .all()
        )
        posts = dict(
            session.execute(
                select(Post.organization_id, func.count()).group_by(Post.organization_id)
            )
            .tuples()
            .all()
        )
        return [
            OrganizationInfo(
                o.id, o.name, o.slug, o.language, promises.get(o.id, 0), posts.get(o.id, 0)
            )
            for o in session.scalars(select(Organization).order_by(Organization.name))
        ]
