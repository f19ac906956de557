"""Drafts: own posts weighed like a brochure before they go out, with a full record.

A draft belongs to one organisation and is numbered there (``D1``, ``D2``, ...). Every
edit is a new numbered version; nothing is overwritten or deleted. Its state moves::

    draft ──submit──▶ in_review ──approve──▶ approved ──publish──▶ published
                        │    ▲                  │
        request_changes │    │ submit           │ edit: back to in_review
                        ▼    │                  ▼
                   changes_requested        in_review

    any state but published ──withdraw──▶ withdrawn

Who may do what follows the user's role in the organisation (:mod:`klopt.accounts.users`):
editors and admins write and submit, approvers and admins review, editors, approvers
and admins comment, publish and withdraw, every member reads. Four eyes: nobody reviews
a draft they wrote a version of. An approval records the version approved and the
findings of its check at that moment; a version with error findings is approved only
with ``override`` and a note that says why. Every action is an audit event with the
actor, the draft and the version.

Refused actions raise before anything is written: the state stays what it was.

This module is the draft's life (the actions); what a draft looks like is
:mod:`klopt.editorial.views`, reading drafts and their diffs :mod:`klopt.editorial.history`.
Both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.accounts.users import find_user
from klopt.checking.check import CheckReport, checkable_text, normalize_platform, report_json
from klopt.checking.findings import Draft as DraftText
from klopt.checking.findings import Severity
from klopt.editorial.history import diff_versions, diff_words, list_drafts, show_draft
from klopt.editorial.images import NewImage, same_images, store_images
from klopt.editorial.views import (
    STATES,
    CommentInfo,
    DiffPart,
    DraftDetail,
    DraftInfo,
    ReviewInfo,
    VersionInfo,
    draft_info,
    draft_key,
    draft_number,
    find_draft,
    find_version,
    review_info,
)
from klopt.errors import InputError, NotAllowed
from klopt.i18n import Term
from klopt.store import Store
from klopt.store.models import (
    Draft,
    DraftComment,
    DraftReview,
    DraftVersion,
    Organization,
    Post,
    PublishingAccount,
    User,
    utcnow,
)

__all__ = [
    "STATES",
    "Checker",
    "DraftInfo",
    "VersionInfo",
    "CommentInfo",
    "ReviewInfo",
    "DraftDetail",
    "DiffPart",
    "draft_number",
    "parse_time",
    "REPLY_POLICIES",
    "create_draft",
    "new_draft",
    "let_through",
    "edit_draft",
    "submit_draft",
    "approve_draft",
    "request_changes",
    "publish_draft",
    "withdraw_draft",
    "comment_draft",
    "list_drafts",
    "show_draft",
    "diff_versions",
    "diff_words",
]

Checker = Callable[[DraftText], CheckReport]
"""Checks one text (``klopt.checking.check.check_draft`` with the organisation's rules and
promises); called for every new version and for every approval."""


# --- references and times ----------------------------------------------------------------


def parse_time(value: str) -> datetime:
    """A date and time as people write it (ISO 8601, ``T`` or a space between).

    A time without a time zone is the computer's local time; the result always has one.
    """
    raw = value.strip()
    try:
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InputError.keyed("drafts.bad_time", value=value) from None
    return stamp.astimezone() if stamp.tzinfo is None else stamp


# --- actions -----------------------------------------------------------------------------


def create_draft(
    store: Store,
    org_ref: str | None,
    text: str,
    *,
    actor: str,
    platform: str | None = None,
    planned_at: datetime | None = None,
    check: Checker | None = None,
    images: Sequence[NewImage] = (),
    visibility: str | None = None,
    account: str | None = None,
) -> DraftInfo:
    """Write a new draft: version 1, state ``draft``. Needs the role editor or admin.

    Args:
        text: the post; an empty text is refused (:class:`klopt.checking.check.EmptyDraft`),
            and so is one of more than :data:`klopt.checking.check.MAX_DRAFT_LENGTH`
            characters (:class:`klopt.checking.check.DraftTooLong`).
        platform: where it will go (``x``, ``linkedin``, ...), for the checks' limits.
        planned_at: when it should go out (an aware time).
        check: checks the text; its findings are stored with the version.
        images: at most four, each with alt text (:func:`klopt.editorial.images.new_image`).
        visibility: Mastodon's ``public`` (the default), ``unlisted``, ``private``, ``direct``.
        account: the publishing account it goes out with (one of its platform); by
            default the first active one.
    """
    text = _text(text)
    platform = normalize_platform(platform)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.write")
        user = find_user(session, actor)
        report = check(DraftText(text, platform)) if check is not None else None
        draft = new_draft(
            session, org, user, text, platform, planned_at, report, images=images,
            visibility=_visibility(visibility or "public"),
            account=_account(session, org, platform, account),
        )  # fmt: skip
        return draft_info(session, draft)


def new_draft(
    session: Session,
    org: Organization,
    user: User,
    text: str,
    platform: str | None,
    planned_at: datetime | None,
    report: CheckReport | None,
    *,
    reply_to: Post | None = None,
    images: Sequence[NewImage] = (),
    visibility: str = "public",
    account: str | None = None,
) -> Draft:
    """Store a new draft with its first version, in the caller's transaction (the
    caller has authorised ``user`` and checked ``text``)."""
    number = (
        session.scalar(select(func.max(Draft.number)).where(Draft.organization_id == org.id)) or 0
    ) + 1
    draft = Draft(
        organization_id=org.id,
        number=number,
        platform=platform,
        planned_at=planned_at,
        state="draft",
        author_id=user.id,
        version=1,
        reply_to_post_id=reply_to.id if reply_to is not None else None,
        visibility=visibility,
        account=account,
    )
    draft.author = user
    session.add(draft)
    session.flush()
    _add_version(session, draft, 1, text, user, report, images)
    details: dict[str, Any] = {"platform": platform, "planned_at": planned_at}
    if images:
        details["images"] = [image.alt for image in images]
    if visibility != "public":
        details["visibility"] = visibility
    if account is not None:
        details["account"] = account
    if reply_to is not None:
        details["reply_to"] = reply_to.id
    record(session, draft, user.name, "draft.create", **details)
    session.flush()
    return draft


def edit_draft(
    store: Store,
    org_ref: str | None,
    ref: str | int,
    text: str | None = None,
    *,
    actor: str,
    platform: str | None = None,
    planned_at: datetime | None = None,
    check: Checker | None = None,
    images: Sequence[NewImage] | None = None,
    visibility: str | None = None,
    account: str | None = None,
) -> DraftInfo:
    """Store a new version of the text or the images, or change the platform, planned
    time, visibility or account.

    A new text or other images (``images``: the new ones, ``()`` for none; ``None`` keeps
    them) is a new version. Editing an approved draft sends it back to review: the
    approval was of the version before. Published and withdrawn drafts are not edited
    (write a new draft). A text equal to the newest version is refused, and so is an
    edit that changes nothing. ``account=""`` goes back to the platform's first account.
    """
    platform = normalize_platform(platform)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.write")
        draft = find_draft(session, org, ref)
        _require_state(draft, "edit", "draft", "in_review", "changes_requested", "approved")
        changes: dict[str, Any] = {}
        new_text = None
        current = find_version(session, draft, draft.version).text
        new_images = images is not None and not same_images(session, draft, images)
        if text is not None:
            new_text = _text(text)
            if new_text == current and not new_images:
                raise InputError.keyed(
                    "drafts.unchanged", draft=draft_key(draft), version=draft.version
                )
        if new_images:
            new_text = new_text or current
            changes["images"] = [image.alt for image in images or ()]
        if platform is not None and platform != draft.platform:
            changes["platform"] = [draft.platform, platform]
        if planned_at is not None and planned_at != draft.planned_at:
            changes["planned_at"] = [draft.planned_at, planned_at]
        if visibility is not None and _visibility(visibility) != draft.visibility:
            changes["visibility"] = [draft.visibility, _visibility(visibility)]
        if account is not None:
            chosen = _account(session, org, platform or draft.platform, account or None)
            if chosen != draft.account:
                changes["account"] = [draft.account, chosen]
        elif "platform" in changes and draft.account is not None:
            changes["account"] = [draft.account, None]  # an account is of one platform
        if new_text is None and not changes:
            raise InputError.keyed("drafts.nothing_to_change", draft=draft_key(draft))
        if platform is not None:
            draft.platform = platform
        if planned_at is not None:
            draft.planned_at = planned_at
        if "visibility" in changes:
            draft.visibility = changes["visibility"][1]
        if "account" in changes:
            draft.account = changes["account"][1]
        if new_text is not None:
            user = find_user(session, actor)
            report = check(DraftText(new_text, draft.platform)) if check is not None else None
            draft.version += 1
            _add_version(
                session, draft, draft.version, new_text, user, report,
                images if new_images else None,
            )  # fmt: skip
            if draft.state == "approved":  # the approval was of the version before
                draft.state = "in_review"
                changes["state"] = ["approved", "in_review"]
        draft.updated_at = utcnow()
        record(session, draft, actor, "draft.edit", **changes)
        if new_text is not None:
            let_through(session, draft)
        session.flush()
        return draft_info(session, draft)


def submit_draft(store: Store, org_ref: str | None, ref: str | int, *, actor: str) -> DraftInfo:
    """Ask for review: ``draft`` or ``changes_requested`` becomes ``in_review`` (a reply
    the organisation's reply approval lets through is approved at once)."""
    return _move(
        store,
        org_ref,
        ref,
        actor,
        "draft.write",
        "submit",
        ("draft", "changes_requested"),
        "in_review",
    )


#: Mastodon's visibilities (Bluesky posts are public).
VISIBILITIES = ("public", "unlisted", "private", "direct")

#: Whether replies to mentions need a person's approval (``Organization.reply_approval``):
#: always; only when their check finds errors; never.
REPLY_POLICIES = ("always", "errors", "never")


def let_through(session: Session, draft: Draft) -> bool:
    """Approve a reply in review when the organisation's reply approval says no person
    needs to; returns whether it did.

    The decision reads the findings stored with the newest version (its check when it
    was written). A version that was not checked is let through only by ``never``.
    """
    if draft.reply_to_post_id is None or draft.state != "in_review":
        return False
    org = session.get(Organization, draft.organization_id)
    policy = org.reply_approval if org is not None else "always"
    if policy not in ("errors", "never"):
        return False
    version = find_version(session, draft, draft.version)
    findings = (version.findings or {}).get("findings") or []
    errors = sum(1 for f in findings if f.get("severity") == Severity.ERROR.label)
    if policy == "errors" and (errors or version.findings is None):
        return False
    session.add(
        DraftReview(
            draft_id=draft.id, version=draft.version, reviewer_id=version.author_id,
            decision="approved", note="", score=version.score, findings=version.findings,
            overridden=bool(errors), policy=policy, created_at=utcnow(),
        )
    )  # fmt: skip
    draft.state = "approved"
    draft.updated_at = utcnow()
    record(
        session, draft, OUTBOX_ACTOR, "draft.approve",
        state=["in_review", "approved"], policy=policy, errors=errors, score=version.score,
    )  # fmt: skip
    return True


def approve_draft(
    store: Store,
    org_ref: str | None,
    ref: str | int,
    *,
    actor: str,
    check: Checker,
    version: int | None = None,
    note: str = "",
    override: bool = False,
) -> ReviewInfo:
    """Approve the newest version of a draft in review. Needs approver or admin.

    The version is checked once more (the register may have changed since it was
    written) and the findings are stored with the approval.

    Args:
        version: the version the approver read; if the draft has a newer one since, the
            approval is refused (:class:`StaleVersion`) so nobody approves unread text.
        note: the approver's remark; required with ``override``.
        override: approve although the check finds errors (the note says why).

    Raises:
        NotAllowed: the actor is not approver or admin, or wrote a version of the draft.
        InputError: the draft is not in review, ``version`` is not the newest, or the
            check finds errors and ``override`` is not set (with a note).
    """
    note = note.strip()
    with store.session() as session:
        org = find_organization(session, org_ref)
        draft, user = _review_start(session, org, ref, actor, version, "approve")
        text = find_version(session, draft, draft.version).text
        report = check(DraftText(text, draft.platform))
        errors = [f for f in report.findings if f.severity >= Severity.ERROR]
        if errors and not override:
            raise InputError.keyed(
                "drafts.has_errors",
                draft=draft_key(draft),
                version=draft.version,
                count=len(errors),
                rules=", ".join(sorted({f.rule for f in errors})),
            )
        if override and not note:
            raise InputError.keyed("drafts.override_needs_note", draft=draft_key(draft))
        review = add_review(session, draft, user, "approved", note, report, overridden=bool(errors))
        draft.state = "approved"
        draft.updated_at = utcnow()
        record(
            session,
            draft,
            actor,
            "draft.approve",
            state=["in_review", "approved"],
            score=report.score,
            errors=len(errors),
            overridden=bool(errors),
            note=note,
        )
        return review_info(review)


def request_changes(
    store: Store,
    org_ref: str | None,
    ref: str | int,
    *,
    actor: str,
    note: str,
    check: Checker | None = None,
    version: int | None = None,
) -> ReviewInfo:
    """Send a draft in review back to its editors, with the reason (required)."""
    note = note.strip()
    with store.session() as session:
        org = find_organization(session, org_ref)
        draft, user = _review_start(session, org, ref, actor, version, "request_changes")
        if not note:
            raise InputError.keyed("drafts.reason_needed", draft=draft_key(draft))
        text = find_version(session, draft, draft.version).text
        report = check(DraftText(text, draft.platform)) if check is not None else None
        review = add_review(session, draft, user, "changes_requested", note, report)
        draft.state = "changes_requested"
        draft.updated_at = utcnow()
        record(
            session,
            draft,
            actor,
            "draft.request_changes",
            state=["in_review", "changes_requested"],
            note=note,
        )
        return review_info(review)


def publish_draft(
    store: Store,
    org_ref: str | None,
    ref: str | int,
    *,
    actor: str,
    url: str | None = None,
    published_at: datetime | None = None,
    platform: str | None = None,
) -> DraftInfo:
    """Mark an approved draft as published, and store it as an own post.

    The own post (``post.kind == "own"``) is what the scorecard counts as the
    organisation's coverage of a promise. A post already imported under the same URL is
    marked own and linked instead of stored twice.

    Raises:
        InputError: the draft is not approved, or has no platform and none is given.
    """
    platform = normalize_platform(platform)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.act")
        draft = find_draft(session, org, ref)
        _require_state(draft, "publish", "approved")
        platform = platform or draft.platform
        if platform is None:
            raise InputError.keyed("drafts.no_platform", draft=draft_key(draft))
        _published(session, org, draft, platform, url, published_at or utcnow(), actor)
        return draft_info(session, draft)


def _published(
    session: Session,
    org: Organization,
    draft: Draft,
    platform: str,
    url: str | None,
    when: datetime,
    actor: str,
) -> None:
    version = find_version(session, draft, draft.version)
    post = _own_post(session, org, draft, version, platform, url, when, actor)
    draft.platform = platform
    draft.state = "published"
    draft.published_at = when
    draft.url = url
    draft.post_id = post.id
    draft.updated_at = utcnow()
    record(
        session,
        draft,
        actor,
        "draft.publish",
        state=["approved", "published"],
        platform=platform,
        url=url,
        published_at=when,
        post=post.id,
    )
    session.flush()


#: Who the audit trail names for what the outbox publishes by itself.
OUTBOX_ACTOR = "klopt"


def mark_published(session: Session, draft_id: int, *, url: str | None, platform: str) -> None:
    """The outbox published ``draft_id``: the draft is published and an own post, as
    when a person records it (:func:`publish_draft`), in the caller's transaction."""
    draft = session.get(Draft, draft_id)
    if draft is None or draft.state != "approved":
        return
    org = session.get(Organization, draft.organization_id)
    assert org is not None
    _published(session, org, draft, platform, url, utcnow(), OUTBOX_ACTOR)


def withdraw_draft(
    store: Store, org_ref: str | None, ref: str | int, *, actor: str, note: str = ""
) -> DraftInfo:
    """Withdraw a draft that should not go out; it stays, with its history, as withdrawn."""
    return _move(
        store,
        org_ref,
        ref,
        actor,
        "draft.act",
        "withdraw",
        ("draft", "in_review", "changes_requested", "approved"),
        "withdrawn",
        note=note.strip(),
    )


def comment_draft(
    store: Store,
    org_ref: str | None,
    ref: str | int,
    text: str,
    *,
    actor: str,
    version: int | None = None,
) -> CommentInfo:
    """Add a remark to a version of a draft (the newest when ``version`` is not given)."""
    text = text.strip()
    if not text:
        raise InputError.keyed("drafts.empty_comment")
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "draft.act")
        draft = find_draft(session, org, ref)
        number = draft.version if version is None else find_version(session, draft, version).number
        user = find_user(session, actor)
        comment = DraftComment(draft_id=draft.id, version=number, author_id=user.id, text=text)
        session.add(comment)
        record(session, draft, actor, "draft.comment", version=number, text=text)
        session.flush()
        return CommentInfo(number, user.name, text, comment.created_at)


# --- internals ---------------------------------------------------------------------------


def _text(text: str) -> str:
    # The same limits as a check, with or without one: a draft too long to check is
    # not kept either (approving it would check it).
    return checkable_text(text.strip())


def _require_state(draft: Draft, action: str, *states: str) -> None:
    if draft.state not in states:
        raise InputError.keyed(
            "drafts.wrong_state",
            draft=draft_key(draft),
            state=Term(f"drafts.state.{draft.state}"),
            action=Term(f"drafts.action.{action}"),
            needs=_Terms([f"drafts.state.{s}" for s in states]),
        )


@dataclass(frozen=True)
class _Terms:
    """Several state names, joined with " / " in the user's language."""

    keys: list[str]

    def text(self, lang: str = "en") -> str:
        return " / ".join(Term(k).text(lang) for k in self.keys)


def _review_start(
    session: Session,
    org: Organization,
    ref: str | int,
    actor: str,
    version: int | None,
    action: str,
) -> tuple[Draft, User]:
    """The draft a reviewer may decide on now, and the reviewer; else the refusal."""
    authorize(session, org.id, actor, "draft.review")
    draft = find_draft(session, org, ref)
    _require_state(draft, action, "in_review")
    if version is not None and version != draft.version:
        raise InputError.keyed(
            "drafts.stale", draft=draft_key(draft), version=version, current=draft.version
        )
    user = find_user(session, actor)
    writers = set(
        session.scalars(select(DraftVersion.author_id).where(DraftVersion.draft_id == draft.id))
    )
    if user.id == draft.author_id or user.id in writers:
        raise NotAllowed.keyed(
            "drafts.own", user=actor, draft=draft_key(draft), action=Term(f"drafts.action.{action}")
        )
    return draft, user


def _move(
    store: Store,
    org_ref: str | None,
    ref: str | int,
    actor: str,
    permission: str,
    action: str,
    sources: Sequence[str],
    target: str,
    **details: Any,
) -> DraftInfo:
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, permission)
        draft = find_draft(session, org, ref)
        _require_state(draft, action, *sources)
        before = draft.state
        draft.state = target
        draft.updated_at = utcnow()
        record(session, draft, actor, f"draft.{action}", state=[before, target], **details)
        let_through(session, draft)
        session.flush()
        return draft_info(session, draft)


def _visibility(value: str) -> str:
    value = value.strip().lower()
    if value not in VISIBILITIES:
        raise InputError.keyed(
            "drafts.bad_visibility", value=value, choices=", ".join(VISIBILITIES)
        )
    return value


def _account(
    session: Session, org: Organization, platform: str | None, name: str | None
) -> str | None:
    """The publishing account ``name`` of the organisation on ``platform``, checked."""
    if name is None:
        return None
    found = session.scalar(
        select(PublishingAccount).where(
            PublishingAccount.organization_id == org.id, PublishingAccount.name == name.strip()
        )
    )
    if found is None or found.platform != platform:
        raise InputError.keyed(
            "drafts.unknown_account", account=name.strip(), platform=platform or "–"
        )
    return found.name


def _add_version(
    session: Session,
    draft: Draft,
    number: int,
    text: str,
    user: User,
    report: CheckReport | None,
    images: Sequence[NewImage] | None = None,
) -> None:
    session.add(
        DraftVersion(
            draft_id=draft.id,
            number=number,
            text=text,
            author_id=user.id,
            language=report.draft.language if report is not None else None,
            score=report.score if report is not None else None,
            findings=_findings(report, text),
        )
    )
    store_images(session, draft, number, images)


def add_review(
    session: Session,
    draft: Draft,
    user: User,
    decision: str,
    note: str,
    report: CheckReport | None,
    *,
    overridden: bool = False,
    policy: str | None = None,
) -> DraftReview:
    text = find_version(session, draft, draft.version).text
    review = DraftReview(
        draft_id=draft.id,
        version=draft.version,
        reviewer_id=user.id,
        decision=decision,
        note=note,
        score=report.score if report is not None else None,
        findings=_findings(report, text),
        overridden=overridden,
        policy=policy,
        created_at=utcnow(),
    )
    review.reviewer = user
    session.add(review)
    return review


def _findings(report: CheckReport | None, text: str) -> dict[str, Any] | None:
    if report is None:
        return None
    if report.draft.text != text:
        raise ValueError("the check report is of another text than the version")
    return report_json(report)


def _own_post(
    session: Session,
    org: Organization,
    draft: Draft,
    version: DraftVersion,
    platform: str,
    url: str | None,
    when: datetime,
    actor: str,
) -> Post:
    from klopt.listening.base import content_hash

    if url:
        known = session.scalar(
            select(Post).where(Post.organization_id == org.id, Post.url == url).limit(1)
        )
        if known is not None:
            if known.kind != "own":  # imported before it was known to be the organisation's
                from klopt.judging.tallies import record_kind

                record_kind(session, known.id, "own")
                known.kind = "own"
            return known
    post = Post(
        organization_id=org.id,
        kind="own",
        platform=platform,
        external_id=f"klopt-draft-{draft.number}",
        content_hash=content_hash(version.text),
        author=actor,
        posted_at=when,
        url=url,
        language=version.language,
        text=version.text,
        raw={"draft": draft_key(draft), "version": version.number},
    )
    session.add(post)
    session.flush()
    return post


def record(session: Session, draft: Draft, actor: str, action: str, **details: Any) -> None:
    details.setdefault("version", draft.version)
    audit.record(
        session,
        organization_id=draft.organization_id,
        actor=actor,
        action=action,
        subject_type="draft",
        subject_id=draft_key(draft),
        **details,
    )
