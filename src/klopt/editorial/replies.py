"""Replies: customer care answers a mention from klopt, weighed like any draft (issue 16).

A reply is a draft that answers a mention (``Draft.reply_to_post_id``), on the mention's
platform, planned for the moment it is written. It is checked against the register and
the house style like every draft: a care reply is where a company most easily promises
more than its register ("with you within the hour!"). The organisation chooses whether
replies need a person's approval (``Organization.reply_approval``):

- ``always``: the reply goes to review, four eyes, like a post;
- ``errors``: only a reply whose check finds errors goes to review; the others are
  approved by the policy (the review says so; no person is named as approver);
- ``never``: every reply is approved by the policy; its findings stay with it.

An approved reply goes out with the outbox (:mod:`klopt.editorial.outbox`) on the
organisation's account of the mention's platform, as an answer to it (Mastodon's
``in_reply_to_id``, Bluesky's reply refs). Where the organisation has no such account
(X, LinkedIn, a CSV export) a person posts it and records its URL, as for any draft.
The thread stays together: :func:`thread` gives the mention's replies with their state,
address and the reach their own post got.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.accounts.users import find_user
from klopt.checking.check import checkable_text, normalize_platform
from klopt.checking.findings import Draft as DraftText
from klopt.editorial.drafts import (
    REPLY_POLICIES,
    Checker,
    let_through,
    new_draft,
    record,
)
from klopt.editorial.outbox import publication_problem
from klopt.editorial.views import DraftInfo, as_utc, draft_info
from klopt.errors import InputError, KloptError
from klopt.judging.verdicts import find_post
from klopt.publishing import ReplyTo
from klopt.store import Store
from klopt.store.models import Draft, Post, Publication, utcnow

__all__ = [
    "REPLY_POLICIES",
    "ReplyEntry",
    "create_reply",
    "reply_policy",
    "reply_target",
    "set_reply_policy",
    "thread",
]


def reply_policy(store: Store, org_ref: str | None) -> str:
    """Whether the organisation's replies need approval: ``always``, ``errors``, ``never``."""
    with store.session() as session:
        return find_organization(session, org_ref).reply_approval


def set_reply_policy(store: Store, org_ref: str | None, policy: str, *, actor: str) -> str:
    """Choose whether replies need approval (admins). Replies already written keep the
    decision they had; the choice applies to the next one written, edited or submitted.

    Raises:
        InputError: ``policy`` is not one of :data:`REPLY_POLICIES`.
    """
    policy = policy.strip().lower()
    if policy not in REPLY_POLICIES:
        raise InputError.keyed(
            "replies.bad_policy", policy=policy, choices=", ".join(REPLY_POLICIES)
        )
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "members.manage")
        before = org.reply_approval
        org.reply_approval = policy
        audit.record(
            session, organization_id=org.id, actor=actor, action="replies.policy",
            subject_type="organization", subject_id=org.slug, policy=[before, policy],
        )  # fmt: skip
        return policy


def create_reply(
    store: Store,
    org_ref: str | None,
    mention: int | str,
    text: str,
    *,
    actor: str,
    check: Checker | None = None,
) -> DraftInfo:
    """Write a reply to ``mention``: its post id (the number, or ``#12`` as the inbox
    shows it), or its id on the platform.

    The reply is a draft on the mention's platform, planned for now, checked, and
    submitted: the organisation's reply approval decides whether it waits for a person
    (state ``in_review``) or is approved at once (``approved``, and the outbox sends it).
    On Mastodon the reply starts with the mention's author (``@name@server``) unless the
    text names them already: the platform only tells the people a post mentions.

    Raises:
        NotFound: no such mention in the organisation.
        InputError: the post is the organisation's own, or the text is empty or too long.
        NotAllowed: the actor may not write drafts.
    """
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.write")
        post = _mention(session, org.id, mention)
        platform = normalize_platform(post.platform)
        body = checkable_text(_addressed(checkable_text(text.strip()), post))
        user = find_user(session, actor)
        report = check(DraftText(body, platform)) if check is not None else None
        draft = new_draft(session, org, user, body, platform, utcnow(), report, reply_to=post)
        draft.state = "in_review"
        record(session, draft, actor, "draft.submit", state=["draft", "in_review"])
        let_through(session, draft)
        session.flush()
        return draft_info(session, draft)


def _mention(session: Session, org_id: int, ref: int | str) -> Post:
    """A customer's post: ``#12`` (or the number 12) is klopt's id, text the platform's."""
    post = find_post(session, org_id, f"#{ref}" if isinstance(ref, int) else ref.strip())
    if post.kind == "own":
        raise InputError.keyed("replies.own_post", id=post.id)
    return post


def _addressed(text: str, mention: Post) -> str:
    """On Mastodon, the reply names the mention's author (unless it does already)."""
    author = (mention.author or "").lstrip("@")
    if mention.platform != "mastodon" or not author:
        return text
    name = re.escape(author.split("@")[0])
    if re.search(rf"(?<![\w@])@{name}(?![\w])", text, re.IGNORECASE):
        return text
    return f"@{author} {text}"


def reply_target(mention: Post) -> ReplyTo:
    """Where a reply to ``mention`` goes, from what listening kept of it."""
    raw: dict[str, Any] = dict(mention.raw or {})
    if mention.platform == "mastodon":
        # ``id`` is the status's id on the server it was read from (``instance``); on
        # any other server the status is found by its ``uri``.
        status_id, seen_on = str(raw.get("id") or ""), raw.get("instance")
        return ReplyTo(
            status_id or mention.external_id,
            uri=str(raw.get("uri") or mention.external_id),
            seen_on=str(seen_on) if status_id and seen_on else None,
        )
    uri = str(raw.get("uri") or mention.external_id)
    cid = str(raw["cid"]) if raw.get("cid") else None
    if "reply" not in raw:  # imported before klopt kept the thread: the client looks
        return ReplyTo(uri, cid=cid)
    root = (raw.get("reply") or {}).get("root") or {"uri": uri, "cid": cid}
    return ReplyTo(uri, cid=cid, root_id=root.get("uri"), root_cid=root.get("cid"))


@dataclass(frozen=True)
class ReplyEntry:
    """One reply in a mention's thread: the draft, how it went out, what it got.

    Attributes:
        publication: the outbox's state (``intent``, ``sent``, ``failed``, ``refused``),
            ``None`` when the outbox has not taken it (waiting for approval, or a manual
            channel).
        problem: what went wrong last, with what to do (``problem.localized(lang)``).
        reach: likes + shares + replies of the reply's own post, as last read back.
        reach_parts: those three apart, where the platform was read.
    """

    draft: DraftInfo
    publication: str | None
    problem: KloptError | None
    reach: int | None
    reach_parts: dict[str, int] | None
    sent_at: datetime | None


def thread(store: Store, org_ref: str | None, mention_id: int | str) -> list[ReplyEntry]:
    """The replies to a mention, oldest first, with how each went out and its reach."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        mention = _mention(session, org.id, mention_id)
        drafts = session.scalars(
            select(Draft).where(Draft.reply_to_post_id == mention.id).order_by(Draft.number)
        ).all()
        entries = []
        for draft in drafts:
            publication = session.scalar(
                select(Publication)
                .where(Publication.draft_id == draft.id)
                .order_by(Publication.id.desc())
                .limit(1)
            )
            own = session.get(Post, draft.post_id) if draft.post_id is not None else None
            parts = (own.raw or {}).get("reach") if own is not None else None
            entries.append(
                ReplyEntry(
                    draft_info(session, draft),
                    publication.state if publication is not None else None,
                    publication_problem(publication) if publication is not None else None,
                    own.reach if own is not None else None,
                    dict(parts) if isinstance(parts, dict) else None,
                    as_utc(publication.sent_at) if publication is not None else None,
                )
            )
        return entries
