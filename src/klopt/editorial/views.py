"""What a draft looks like to the people who read it: values, and finding one.

Shared by the actions (:mod:`klopt.editorial.drafts`) and the reading
(:mod:`klopt.editorial.history`) of the editorial workflow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.errors import InputError, NotFound
from klopt.store.models import Draft, DraftReview, DraftVersion, Organization

__all__ = [
    "STATES",
    "DraftInfo",
    "ImageInfo",
    "VersionInfo",
    "CommentInfo",
    "ReviewInfo",
    "DraftDetail",
    "DiffPart",
    "draft_number",
    "draft_key",
    "find_draft",
    "find_version",
    "draft_info",
    "review_info",
    "as_utc",
]

#: Every state a draft can be in, in workflow order.
STATES = ("draft", "in_review", "changes_requested", "approved", "published", "withdrawn")


@dataclass(frozen=True)
class ImageInfo:
    """An image of a version, as people see it (without its bytes)."""

    position: int
    mime: str
    alt: str
    size: int


@dataclass(frozen=True)
class VersionInfo:
    """One version of a draft.

    Attributes:
        findings: the check report of this version when it was stored (the JSON of
            ``klopt check --format json``), or ``None`` when it was not checked.
    """

    number: int
    text: str
    author: str
    created_at: datetime
    language: str | None
    score: int | None
    findings: dict[str, Any] | None
    images: tuple[ImageInfo, ...] = ()


@dataclass(frozen=True)
class CommentInfo:
    """A remark on one version."""

    version: int
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class ReviewInfo:
    """A review decision (``approved`` or ``changes_requested``) on one version,
    with the findings of the check at that moment."""

    version: int
    reviewer: str
    decision: str
    note: str
    score: int | None
    findings: dict[str, Any] | None
    overridden: bool
    created_at: datetime
    #: Set when no person decided: the organisation's reply approval (``errors``,
    #: ``never``) let a reply through.
    policy: str | None = None


@dataclass(frozen=True)
class DraftInfo:
    """A draft as a list shows it: its newest version's text and its state."""

    number: int
    state: str
    platform: str | None
    planned_at: datetime | None
    author: str
    version: int
    text: str
    score: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    url: str | None
    #: The mention a reply answers (its post id), ``None`` for other drafts.
    reply_to: int | None = None
    #: Mastodon's visibility of the post.
    visibility: str = "public"
    #: The publishing account it goes out with; ``None``: the first of its platform.
    account: str | None = None

    @property
    def key(self) -> str:
        """How people name the draft: ``D`` and its number."""
        return f"D{self.number}"


@dataclass(frozen=True)
class DraftDetail:
    """A draft with all its versions, comments and reviews, oldest first."""

    draft: DraftInfo
    versions: tuple[VersionInfo, ...]
    comments: tuple[CommentInfo, ...]
    reviews: tuple[ReviewInfo, ...]


@dataclass(frozen=True)
class DiffPart:
    """A run of words that stayed (``=``), went (``-``) or came (``+``)."""

    op: str
    text: str


def draft_number(ref: str | int) -> int:
    """The number in a draft reference: ``3``, ``"3"``, ``"D3"`` or ``"d3"``."""
    if isinstance(ref, int):
        number = ref
    else:
        match = re.fullmatch(r"\s*[dD]?(\d{1,9})\s*", ref)
        if match is None:
            raise InputError.keyed("drafts.bad_ref", ref=ref)
        number = int(match.group(1))
    if number < 1:
        raise InputError.keyed("drafts.bad_ref", ref=ref)
    return number


def draft_key(draft: Draft) -> str:
    return f"D{draft.number}"


def find_draft(session: Session, org: Organization, ref: str | int) -> Draft:
    number = draft_number(ref)
    draft = session.scalar(
        select(Draft).where(Draft.organization_id == org.id, Draft.number == number)
    )
    if draft is None:
        raise NotFound.keyed("drafts.unknown", draft=f"D{number}", org=org.name)
    return draft


def find_version(session: Session, draft: Draft, number: int) -> DraftVersion:
    version = session.scalar(
        select(DraftVersion).where(DraftVersion.draft_id == draft.id, DraftVersion.number == number)
    )
    if version is None:
        raise NotFound.keyed(
            "drafts.no_version", draft=draft_key(draft), version=number, last=draft.version
        )
    return version


def draft_info(session: Session, draft: Draft) -> DraftInfo:
    newest = find_version(session, draft, draft.version)
    return DraftInfo(
        number=draft.number,
        state=draft.state,
        platform=draft.platform,
        planned_at=as_utc(draft.planned_at),
        author=draft.author.name,
        version=draft.version,
        text=newest.text,
        score=newest.score,
        created_at=draft.created_at,
        updated_at=draft.updated_at,
        published_at=as_utc(draft.published_at),
        url=draft.url,
        reply_to=draft.reply_to_post_id,
        visibility=draft.visibility,
        account=draft.account,
    )


def as_utc(stamp: datetime | None) -> datetime | None:
    """The time in UTC, as the store gives it back, also before it was stored."""
    return None if stamp is None else stamp.astimezone(UTC)


def review_info(review: DraftReview) -> ReviewInfo:
    return ReviewInfo(
        review.version,
        review.reviewer.name,
        review.decision,
        review.note,
        review.score,
        review.findings,
        review.overridden,
        review.created_at,
        review.policy,
    )
