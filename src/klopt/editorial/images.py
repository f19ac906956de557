"""The images of a draft: checked when they are added, kept per version with alt text.

An image is part of what an approver approves: it belongs to a version of the draft. A new
version keeps the images of the one before unless it replaces them, and a change of
images alone is a new version (an approved draft goes back to review).

What is refused, before anything is stored: more than four images (Bluesky's and
Mastodon's limit), an image larger than 2,000,000 bytes (Bluesky's
``app.bsky.embed.images``), a file that is no PNG, JPEG, GIF or WebP (read from its first
bytes, not its name), and an image without alt text (people who cannot see it read the
alt text; Mastodon keeps at most 1,500 characters of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.editorial.views import DraftInfo, ImageInfo, find_draft
from klopt.errors import InputError, NotFound
from klopt.store import Store
from klopt.store.models import Draft, DraftImage

__all__ = [
    "MAX_ALT",
    "MAX_BYTES",
    "MAX_IMAGES",
    "ImageInfo",
    "NewImage",
    "change_images",
    "draft_image",
    "image_kind",
    "images_of",
    "new_image",
    "same_images",
    "store_images",
]

MAX_IMAGES = 4
MAX_BYTES = 2_000_000
MAX_ALT = 1500
#: The first bytes of the image kinds both platforms take.
_KINDS = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True)
class NewImage:
    """An image to add, checked (:func:`new_image`)."""

    data: bytes
    mime: str
    alt: str


def image_kind(data: bytes) -> str | None:
    """The image's media type from its first bytes; ``None`` for anything else."""
    for magic, mime in _KINDS:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def new_image(data: bytes, alt: str, *, name: str = "") -> NewImage:
    """Check one image with its alt text.

    Raises:
        InputError: not an image both platforms take, too large, or without alt text.
    """
    label = name or "image"
    mime = image_kind(data)
    if mime is None:
        raise InputError.keyed("images.not_an_image", name=label)
    if len(data) > MAX_BYTES:
        raise InputError.keyed(
            "images.too_big", name=label, kb=len(data) // 1000, most=MAX_BYTES // 1000
        )
    alt = " ".join(alt.split())
    if not alt:
        raise InputError.keyed("images.no_alt", name=label)
    if len(alt) > MAX_ALT:
        raise InputError.keyed("images.alt_too_long", name=label, most=MAX_ALT)
    return NewImage(data, mime, alt)


def store_images(
    session: Session, draft: Draft, version: int, images: Sequence[NewImage] | None
) -> None:
    """Give ``version`` its images: ``images``, or (``None``) those of the version before."""
    if images is None:
        kept = session.scalars(
            select(DraftImage)
            .where(DraftImage.draft_id == draft.id, DraftImage.version == version - 1)
            .order_by(DraftImage.position)
        ).all()
        images = [NewImage(i.data, i.mime, i.alt) for i in kept]
    if len(images) > MAX_IMAGES:
        raise InputError.keyed("images.too_many", count=len(images), most=MAX_IMAGES)
    for position, image in enumerate(images, start=1):
        session.add(
            DraftImage(
                draft_id=draft.id, version=version, position=position, mime=image.mime,
                alt=image.alt, size=len(image.data), data=image.data,
            )
        )  # fmt: skip


def images_of(session: Session, draft_id: int, version: int) -> list[DraftImage]:
    """The images of one version, in order."""
    return list(
        session.scalars(
            select(DraftImage)
            .where(DraftImage.draft_id == draft_id, DraftImage.version == version)
            .order_by(DraftImage.position)
        )
    )


def same_images(session: Session, draft: Draft, images: Sequence[NewImage]) -> bool:
    """Whether ``images`` are the newest version's, in order, with the same alt texts."""
    held = images_of(session, draft.id, draft.version)
    return [(i.data, i.alt) for i in held] == [(i.data, i.alt) for i in images]


def draft_image(
    store: Store, org_ref: str | None, ref: str | int, version: int, position: int, *, actor: str
) -> tuple[str, bytes]:
    """The media type and bytes of one image of a version (for the members who may read
    the draft).

    Raises:
        NotFound: no such draft, version or image in the organisation.
    """
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.read")
        draft = find_draft(session, org, ref)
        for image in images_of(session, draft.id, version):
            if image.position == position:
                return image.mime, image.data
        raise NotFound.keyed("images.unknown", draft=f"D{draft.number}", version=version,
                             position=position)  # fmt: skip


def change_images(
    store: Store,
    org_ref: str | None,
    ref: str | int,
    *,
    actor: str,
    add: NewImage | None = None,
    remove: int | None = None,
    check: Any = None,
) -> DraftInfo:
    """A new version with one image added to the newest version's, or one taken away
    (by position): what the web app's image buttons do."""
    from klopt.editorial.drafts import edit_draft

    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.read")
        draft = find_draft(session, org, ref)
        held = [
            NewImage(i.data, i.mime, i.alt) for i in images_of(session, draft.id, draft.version)
        ]
    if remove is not None:
        held = [image for number, image in enumerate(held, start=1) if number != remove]
    if add is not None:
        held.append(add)
    return edit_draft(store, org_ref, ref, actor=actor, images=held, check=check)
