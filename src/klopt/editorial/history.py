"""Reading the editorial workflow: the drafts, one draft's history, and word diffs."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from sqlalchemy import select

from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.checking.check import normalize_platform
from klopt.editorial.views import (
    STATES,
    CommentInfo,
    DiffPart,
    DraftDetail,
    DraftInfo,
    ImageInfo,
    VersionInfo,
    draft_info,
    find_draft,
    find_version,
    review_info,
)
from klopt.errors import InputError
from klopt.store import Store
from klopt.store.models import Draft, DraftComment, DraftImage, DraftReview, DraftVersion

__all__ = ["list_drafts", "show_draft", "diff_versions", "diff_words"]


def list_drafts(
    store: Store,
    org_ref: str | None,
    *,
    actor: str,
    states: Sequence[str] = (),
    platform: str | None = None,
) -> list[DraftInfo]:
    """The organisation's drafts by number, optionally only some states or a platform."""
    for state in states:
        if state not in STATES:
            raise InputError.keyed("drafts.bad_state", state=state, states=", ".join(STATES))
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.read")
        query = select(Draft).where(Draft.organization_id == org.id).order_by(Draft.number)
        if states:
            query = query.where(Draft.state.in_(states))
        if platform:
            query = query.where(Draft.platform == normalize_platform(platform))
        return [draft_info(session, d) for d in session.scalars(query)]


def show_draft(store: Store, org_ref: str | None, ref: str | int, *, actor: str) -> DraftDetail:
    """A draft with every version, comment and review."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.read")
        draft = find_draft(session, org, ref)
        versions = session.scalars(
            select(DraftVersion)
            .where(DraftVersion.draft_id == draft.id)
            .order_by(DraftVersion.number)
        )
        comments = session.scalars(
            select(DraftComment).where(DraftComment.draft_id == draft.id).order_by(DraftComment.id)
        )
        reviews = session.scalars(
            select(DraftReview).where(DraftReview.draft_id == draft.id).order_by(DraftReview.id)
        )
        pictures: dict[int, tuple[ImageInfo, ...]] = {}
        for image in session.scalars(
            select(DraftImage)
            .where(DraftImage.draft_id == draft.id)
            .order_by(DraftImage.version, DraftImage.position)
        ):
            info = ImageInfo(image.position, image.mime, image.alt, image.size)
            pictures[image.version] = (*pictures.get(image.version, ()), info)
        return DraftDetail(
            draft=draft_info(session, draft),
            versions=tuple(
                VersionInfo(
                    v.number,
                    v.text,
                    v.author.name,
                    v.created_at,
                    v.language,
                    v.score,
                    v.findings,
                    pictures.get(v.number, ()),
                )  # fmt: skip
                for v in versions
            ),
            comments=tuple(
                CommentInfo(c.version, c.author.name, c.text, c.created_at) for c in comments
            ),
            reviews=tuple(review_info(r) for r in reviews),
        )


def diff_versions(
    store: Store,
    org_ref: str | None,
    ref: str | int,
    *,
    actor: str,
    old: int | None = None,
    new: int | None = None,
) -> tuple[int, int, list[DiffPart]]:
    """The word diff between two versions (default: the one before the newest, and the
    newest); returns the two version numbers and the diff."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.read")
        draft = find_draft(session, org, ref)
        new_number = draft.version if new is None else new
        old_number = max(1, new_number - 1) if old is None else old
        before = find_version(session, draft, old_number).text
        after = find_version(session, draft, new_number).text
        return old_number, new_number, diff_words(before, after)


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def diff_words(before: str, after: str) -> list[DiffPart]:
    """Which words stayed, went and came between two texts, in order.

    Runs of the same kind are joined, so ``levering binnen 24 uur`` ->
    ``levering binnen 48 uur`` is ``=levering binnen `` ``-24`` ``+48`` ``= uur``.
    """
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    parts: list[DiffPart] = []

    def add(op: str, tokens: Sequence[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if parts and parts[-1].op == op:
            parts[-1] = DiffPart(op, parts[-1].text + text)
        else:
            parts.append(DiffPart(op, text))

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("=", a[i1:i2])
        else:
            add("-", a[i1:i2])
            add("+", b[j1:j2])
    return parts
